"""The DynamoDB runbooks' steps: replicas, restores (point in time, AWS Backup, on-demand), the data-loss
recovery's cut-over, and the operations runbooks (verify the global table, set a function's concurrency).

Every script makes a few API calls and returns: one starts an operation, another checks it once, and the document
waits in a bounded `aws:loop` (modules/automation_steps.py). The scripts, not `aws:executeAwsApi`, make the calls
because that action calls only the automation's own region, and these runbooks act on the table's regions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from runbooks.common import still_pending


def replica_state(client: Any, table_name: str, region: str) -> str:
    """The replica's ReplicaStatus in `region` as the table (described through `client`) lists it, or ABSENT."""
    try:
        replicas = client.describe_table(TableName=table_name)["Table"].get("Replicas", [])
    except client.exceptions.ResourceNotFoundException:
        return "ABSENT"
    return next((r.get("ReplicaStatus", "ACTIVE") for r in replicas if r["RegionName"] == region), "ABSENT")


def settle(client: Any, table_name: str) -> None:
    """Wait (at most 100 s, inside the script's 300 s) until the table is ACTIVE again after an UpdateTable: no other
    UpdateTable or DeleteTable is accepted while it is UPDATING
    (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateTable.html)."""
    client.get_waiter("table_exists").wait(TableName=table_name, WaiterConfig={"Delay": 5, "MaxAttempts": 20})


def table_state(client: Any, table_name: str) -> str:
    """TableStatus, or ABSENT."""
    try:
        return client.describe_table(TableName=table_name)["Table"]["TableStatus"]
    except client.exceptions.ResourceNotFoundException:
        return "ABSENT"


def restore_target(events: dict[str, Any], target: str) -> dict[str, Any]:
    """What every restore here asks for: the target table, on demand, encrypted with KmsKeyAlias."""
    encryption = {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": events["KmsKeyAlias"]}
    return {"TargetTableName": target, "BillingModeOverride": "PAY_PER_REQUEST", "SSESpecificationOverride": encryption}


def restore_time(events: dict[str, Any]) -> dict[str, Any]:
    """RestoreDateTime (ISO 8601), or the latest restorable time when it is empty."""
    import datetime

    if events.get("RestoreDateTime"):
        return {"RestoreDateTime": datetime.datetime.fromisoformat(events["RestoreDateTime"])}
    return {"UseLatestRestorableTime": True}


def delete_replica(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """Start removing the table's replica in ReplicaRegion: lift its deletion protection, then delete it (issued
    from SourceRegion). A replica that is already gone is no change."""
    import boto3

    source = boto3.client("dynamodb", region_name=events["SourceRegion"])
    if replica_state(source, events["TableName"], events["ReplicaRegion"]) == "ABSENT":
        return {"Changed": False}
    replica = boto3.client("dynamodb", region_name=events["ReplicaRegion"])
    replica.update_table(TableName=events["TableName"], DeletionProtectionEnabled=False)
    settle(replica, events["TableName"])
    settle(source, events["TableName"])
    source.update_table(TableName=events["TableName"], ReplicaUpdates=[{"Delete": {"RegionName": events["ReplicaRegion"]}}])
    return {"Changed": True}


def create_replica(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """Start adding the replica in ReplicaRegion (encrypted with KmsKeyAlias there); no change if it exists."""
    import boto3

    source = boto3.client("dynamodb", region_name=events["SourceRegion"])
    if replica_state(source, events["TableName"], events["ReplicaRegion"]) != "ABSENT":
        return {"Changed": False}
    settle(source, events["TableName"])
    source.update_table(
        TableName=events["TableName"],
        ReplicaUpdates=[{"Create": {"RegionName": events["ReplicaRegion"], "KMSMasterKeyId": events["KmsKeyAlias"]}}],
    )
    return {"Changed": True}


def check_replica(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """One look at the replica in ReplicaRegion: pending until it is Desired (ACTIVE or ABSENT) and the table it
    belongs to is ACTIVE again (a replica change keeps the table UPDATING)."""
    import boto3

    source = boto3.client("dynamodb", region_name=events["SourceRegion"])
    state, table = replica_state(source, events["TableName"], events["ReplicaRegion"]), table_state(source, events["TableName"])
    return still_pending(events, state != events["Desired"] or table not in ("ACTIVE", "ABSENT"), f"replica {state}, table {table}")


def protect_replica(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """Turn on the replica's deletion protection and point-in-time recovery (both are per replica), give it the
    source table's tags (a new replica has none, and Terraform gives a replica the table's: without them the next
    plan finds drift), and read the settings back."""
    import boto3

    client = boto3.client("dynamodb", region_name=events["ReplicaRegion"])
    source = boto3.client("dynamodb", region_name=events["SourceRegion"])
    source_arn = source.describe_table(TableName=events["TableName"])["Table"]["TableArn"]
    tags = source.list_tags_of_resource(ResourceArn=source_arn).get("Tags", [])
    if tags:
        client.tag_resource(ResourceArn=client.describe_table(TableName=events["TableName"])["Table"]["TableArn"], Tags=tags)
    client.update_table(TableName=events["TableName"], DeletionProtectionEnabled=True)
    settle(client, events["TableName"])
    client.update_continuous_backups(TableName=events["TableName"], PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    protected = client.describe_table(TableName=events["TableName"])["Table"].get("DeletionProtectionEnabled", False)
    backups = client.describe_continuous_backups(TableName=events["TableName"])["ContinuousBackupsDescription"]
    recovery = backups.get("PointInTimeRecoveryDescription", {}).get("PointInTimeRecoveryStatus", "DISABLED")
    if not protected or recovery != "ENABLED":
        raise RuntimeError(f"replica in {events['ReplicaRegion']}: deletion protection {protected}, point-in-time recovery {recovery}")
    return {"DeletionProtection": protected, "PointInTimeRecovery": recovery, "Tags": len(tags)}


def restore_point_in_time(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """Start restoring SourceTableName to TargetTableName (latest restorable time unless RestoreDateTime is set)."""
    import boto3

    client = boto3.client("dynamodb", region_name=events["Region"])
    description = client.restore_table_to_point_in_time(
        SourceTableName=events["SourceTableName"], **restore_target(events, events["TargetTableName"]), **restore_time(events)
    )["TableDescription"]
    return {"TargetTableArn": description["TableArn"]}


def latest_recovery_point(backup: Any, table_arn: str) -> tuple[str, Any]:
    """The table's newest completed AWS Backup recovery point and its creation time, or ("", None). The table may
    be gone: its recovery points stay listed under its ARN."""
    points = backup.list_recovery_points_by_resource(ResourceArn=table_arn)["RecoveryPoints"]
    completed = sorted((p for p in points if p.get("Status") == "COMPLETED"), key=lambda p: p["CreationDate"])
    return (completed[-1]["RecoveryPointArn"], completed[-1]["CreationDate"]) if completed else ("", None)


def start_backup_restore(events: dict[str, Any], recovery_point: str, target: str) -> str:
    """Start an AWS Backup restore of `recovery_point` into `target`, encrypted with the table's key (KmsKeyAlias,
    resolved to its ARN in Region): without encryptionType KMS and the key's ARN the restored table gets a
    DynamoDB-owned key (https://docs.aws.amazon.com/aws-backup/latest/devguide/restoring-dynamodb.html). AWS Backup
    restores as IamRoleArn. Returns the job's ID."""
    import boto3

    key_arn = boto3.client("kms", region_name=events["Region"]).describe_key(KeyId=events["KmsKeyAlias"])["KeyMetadata"]["Arn"]
    return boto3.client("backup", region_name=events["Region"]).start_restore_job(
        RecoveryPointArn=recovery_point,
        IamRoleArn=events["IamRoleArn"],
        ResourceType="DynamoDB",
        Metadata={"targetTableName": target, "encryptionType": "KMS", "kmsMasterKeyArn": key_arn},
    )["RestoreJobId"]


def restore_backup(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """Start restoring an AWS Backup recovery point (the table's latest when RecoveryPointArn is empty) into
    TargetTableName, encrypted with the table's key."""
    import boto3

    recovery_point = events.get("RecoveryPointArn") or ""
    if not recovery_point:
        recovery_point, _ = latest_recovery_point(boto3.client("backup", region_name=events["Region"]), events["TableArn"])
        if not recovery_point:
            raise RuntimeError(f"no completed recovery point for {events['TableArn']}")
    job = start_backup_restore(events, recovery_point, events["TargetTableName"])
    return {"RestoreJobId": job, "RecoveryPointArn": recovery_point}


def restore_job_state(events: dict[str, Any]) -> str:
    """The AWS Backup restore job's status; ABORTED or FAILED raise with AWS Backup's message."""
    import boto3

    job = boto3.client("backup", region_name=events["Region"]).describe_restore_job(RestoreJobId=events["RestoreJobId"])
    if job["Status"] in ("ABORTED", "FAILED"):
        raise RuntimeError(f"restore job {events['RestoreJobId']} ended {job['Status']}: {job.get('StatusMessage', '')}")
    return job["Status"]


def check_restore_job(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """One look at an AWS Backup restore job: pending until COMPLETED; ABORTED or FAILED raise."""
    state = restore_job_state(events)
    return still_pending(events, state != "COMPLETED", state)


def check_copy(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """One look at a restored copy: pending until TableName is ACTIVE in Region; when an AWS Backup job restores it
    (RestoreJobId not empty), a failed job raises instead of waiting for a table that will never come."""
    import boto3

    job = restore_job_state(events) if events.get("RestoreJobId") else ""
    state = table_state(boto3.client("dynamodb", region_name=events["Region"]), events["TableName"])
    return still_pending(events, state != "ACTIVE", f"{state} (job {job})" if job else state)


def check_table(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """One look at TableName in Region: pending until it is Desired (ACTIVE, or ABSENT once deleted)."""
    import boto3

    state = table_state(boto3.client("dynamodb", region_name=events["Region"]), events["TableName"])
    return still_pending(events, state != events["Desired"], state)


def verify_table(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """Verify a restored table: ACTIVE, at least MinimumItems items (a paginated COUNT scan; a single Scan stops at
    1 MB), and every id in RequiredItemIds (comma-separated) readable. The count stops at BudgetSeconds and is then a
    lower bound (Complete false), which still verifies once it reaches MinimumItems. Never raises on a failed
    verification: a branch decides."""
    import time

    import boto3

    client = boto3.client("dynamodb", region_name=events["Region"])
    name, minimum = events["TableName"], int(events["MinimumItems"])
    deadline = time.monotonic() + int(events.get("BudgetSeconds", 240))
    status = table_state(client, name)
    if status != "ACTIVE":
        return {"Verified": False, "Count": 0, "Complete": False, "Reason": f"{name} is {status}"}
    count, request, complete = 0, {"TableName": name, "Select": "COUNT"}, False
    while time.monotonic() < deadline:
        page = client.scan(**request)
        count += page["Count"]
        if "LastEvaluatedKey" not in page:
            complete = True
            break
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    key = client.describe_table(TableName=name)["Table"]["KeySchema"][0]["AttributeName"]
    required = [item for item in str(events.get("RequiredItemIds", "")).split(",") if item.strip()]
    missing = [
        item for item in required if "Item" not in client.get_item(TableName=name, Key={key: {"S": item.strip()}}, ConsistentRead=True)
    ]
    reasons = [f"{count}{'' if complete else '+'} items, expected at least {minimum}"] if count < minimum else []
    reasons += [f"missing items {', '.join(missing)}"] if missing else []
    return {"Verified": not reasons, "Count": count, "Complete": complete, "Reason": "; ".join(reasons) or "verified"}


def delete_scratch_table(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """Delete a restored copy; refuses any name that does not end in a scratch suffix (never the live table)."""
    import boto3

    name = events["TableName"]
    suffixes = ("-drill", "-recovery")
    if not name.endswith(suffixes):
        raise ValueError(f"TableName: {name!r} is not a restored copy (expected a name ending in {' or '.join(suffixes)})")
    client = boto3.client("dynamodb", region_name=events["Region"])
    if table_state(client, name) == "ABSENT":
        return {"Deleted": False}
    try:
        client.delete_table(TableName=name)
    except client.exceptions.ResourceNotFoundException:
        return {"Deleted": False}
    return {"Deleted": True}


def check_deletable(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """One look before a drill table is deleted: pending while it is being created or changed (DynamoDB refuses to
    delete it then), and while it is absent for the first AbsentChecks looks (a restore job may still create it)."""
    import boto3

    state = table_state(boto3.client("dynamodb", region_name=events["Region"]), events["TableName"])
    waiting = state in ("CREATING", "UPDATING") or (state == "ABSENT" and int(events["Iteration"]) < int(events.get("AbsentChecks", 1)))
    return still_pending(events, waiting, state)


def restore_copy(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """Start restoring a copy of TableName into StagingTableName, from the first source that applies:
    SourceBackupArn (a DynamoDB backup, or an AWS Backup recovery point, `arn:aws:backup:...`, which only AWS Backup
    restores); else point-in-time recovery of the live table (RestoreDateTime, or the latest restorable time);
    else, when the live table is gone, the newest of its DynamoDB backups (such as the system backup DynamoDB keeps
    of a deleted table with point-in-time recovery on,
    https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/PointInTimeRecovery.html) and its AWS Backup
    recovery points (with AWS Backup's advanced DynamoDB features, the default, these are not DynamoDB backups,
    https://docs.aws.amazon.com/aws-backup/latest/devguide/advanced-ddb-backup.html). RestoreJobId is the AWS
    Backup job, empty for a DynamoDB restore."""
    import boto3

    client = boto3.client("dynamodb", region_name=events["Region"])
    common = restore_target(events, events["StagingTableName"])
    backup = events.get("SourceBackupArn") or ""
    if not backup and table_state(client, events["TableName"]) != "ABSENT":
        client.restore_table_to_point_in_time(SourceTableName=events["TableName"], **common, **restore_time(events))
        return {"Method": "point-in-time", "Source": events["TableName"], "RestoreJobId": ""}
    if not backup:
        found = client.list_backups(TableName=events["TableName"], BackupType="ALL")["BackupSummaries"]
        newest = sorted((b["BackupCreationDateTime"], b["BackupArn"]) for b in found if b.get("BackupStatus") == "AVAILABLE")
        point, created = latest_recovery_point(boto3.client("backup", region_name=events["Region"]), events["TableArn"])
        candidates = newest[-1:] + ([(created, point)] if point else [])
        if not candidates:
            raise RuntimeError(f"{events['TableName']} does not exist and has no available backup or recovery point to restore from")
        backup = max(candidates, key=lambda candidate: candidate[0].timestamp())[1]
    if ":backup:" in backup.split("/")[0]:
        job = start_backup_restore(events, backup, events["StagingTableName"])
        return {"Method": "AWS Backup", "Source": backup, "RestoreJobId": job}
    client.restore_table_from_backup(BackupArn=backup, **common)
    return {"Method": "backup", "Source": backup, "RestoreJobId": ""}


def snapshot_tables(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """On-demand backups of the live table (to roll back to; none when it no longer exists) and of the verified
    copy (to restore the live name from), and the live table's tags."""
    import json
    import time

    import boto3

    client = boto3.client("dynamodb", region_name=events["Region"])
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    live_backup, tags = "", {}
    if table_state(client, events["TableName"]) != "ABSENT":
        arn = client.describe_table(TableName=events["TableName"])["Table"]["TableArn"]
        tags = {tag["Key"]: tag["Value"] for tag in client.list_tags_of_resource(ResourceArn=arn).get("Tags", [])}
        live_backup = client.create_backup(TableName=events["TableName"], BackupName=f"{events['TableName']}-before-recovery-{stamp}")[
            "BackupDetails"
        ]["BackupArn"]
    copy = client.create_backup(TableName=events["StagingTableName"], BackupName=f"{events['StagingTableName']}-{stamp}")
    return {"LiveBackupArn": live_backup, "StagingBackupArn": copy["BackupDetails"]["BackupArn"], "TagsJson": json.dumps(tags)}


def check_backups(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """One look at the backups: pending until each is AVAILABLE."""
    import boto3

    client = boto3.client("dynamodb", region_name=events["Region"])
    arns = [arn for arn in (events["LiveBackupArn"], events["StagingBackupArn"]) if arn]
    states = [client.describe_backup(BackupArn=arn)["BackupDescription"]["BackupDetails"]["BackupStatus"] for arn in arns]
    return still_pending(events, any(state != "AVAILABLE" for state in states), ",".join(states))


def delete_live_table(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """Start deleting the live table in Region (its replicas are gone by now): lift deletion protection, delete."""
    import boto3

    client = boto3.client("dynamodb", region_name=events["Region"])
    if table_state(client, events["TableName"]) == "ABSENT":
        return {"Changed": False}
    client.update_table(TableName=events["TableName"], DeletionProtectionEnabled=False)
    settle(client, events["TableName"])
    client.delete_table(TableName=events["TableName"])
    return {"Changed": True}


def restore_live_table(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """Start restoring the verified copy's backup into the live name, encrypted with KmsKeyAlias, on demand."""
    import boto3

    client = boto3.client("dynamodb", region_name=events["Region"])
    description = client.restore_table_from_backup(
        TargetTableName=events["TableName"],
        BackupArn=events["StagingBackupArn"],
        BillingModeOverride="PAY_PER_REQUEST",
        SSESpecificationOverride={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": events["KmsKeyAlias"]},
    )["TableDescription"]
    return {"TableArn": description["TableArn"]}


def configure_live_table(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """Give the restored live table what a restore does not carry over: the stream a global table needs (new and
    old images), point-in-time recovery, deletion protection and its tags
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CreateBackup.html#CreateBackup.Restore)."""
    import json

    import boto3

    client = boto3.client("dynamodb", region_name=events["Region"])
    name = events["TableName"]
    table = client.describe_table(TableName=name)["Table"]
    if not table.get("StreamSpecification", {}).get("StreamEnabled"):
        client.update_table(TableName=name, StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
        settle(client, name)
    client.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    client.update_table(TableName=name, DeletionProtectionEnabled=True)
    settle(client, name)
    tags = json.loads(events.get("TagsJson") or "{}")
    if tags:
        client.tag_resource(ResourceArn=table["TableArn"], Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
    return {"Configured": True}


def verify_global_table(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """Read-only: every region in Regions (comma-separated) holds an ACTIVE replica of TableName with deletion
    protection and point-in-time recovery on, encrypted with a KMS key, streaming new and old images. Raises naming
    every problem; returns the per-region item-count estimates (DescribeTable refreshes them about every six hours)."""
    import boto3

    problems, counts = [], {}
    for region in [r.strip() for r in events["Regions"].split(",") if r.strip()]:
        client = boto3.client("dynamodb", region_name=region)
        try:
            table = client.describe_table(TableName=events["TableName"])["Table"]
        except client.exceptions.ResourceNotFoundException:
            problems.append(f"{region}: no replica")
            continue
        backups = client.describe_continuous_backups(TableName=events["TableName"])["ContinuousBackupsDescription"]
        checks = {
            "ACTIVE": table["TableStatus"] == "ACTIVE",
            "deletion protection": table.get("DeletionProtectionEnabled", False),
            "point-in-time recovery": backups.get("PointInTimeRecoveryDescription", {}).get("PointInTimeRecoveryStatus") == "ENABLED",
            "KMS encryption": table.get("SSEDescription", {}).get("SSEType") == "KMS",
            "stream of new and old images": table.get("StreamSpecification", {}).get("StreamViewType") == "NEW_AND_OLD_IMAGES",
        }
        problems += [f"{region}: not {name}" for name, ok in checks.items() if not ok]
        counts[region] = table.get("ItemCount", 0)
    if problems:
        raise RuntimeError(f"{events['TableName']}: " + "; ".join(problems))
    return {"Verified": True, "ItemCountEstimates": ", ".join(f"{region}={count}" for region, count in counts.items())}


def set_function_concurrency(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """Set the API function's reserved concurrency in Region to Concurrency, refusing less than MinimumConcurrency
    (what one region needs for the whole configured peak). Lambda itself refuses a value that leaves the account
    fewer than 100 unreserved executions (https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html).
    Terraform sets it back to the configured value on the next apply: make a lasting change in the configuration."""
    import boto3

    wanted, minimum = int(events["Concurrency"]), int(events["MinimumConcurrency"])
    if wanted < minimum:
        raise ValueError(f"Concurrency: got {wanted}; expected at least {minimum} (the configured peak needs it)")
    client = boto3.client("lambda", region_name=events["Region"])
    current = client.get_function_concurrency(FunctionName=events["FunctionName"]).get("ReservedConcurrentExecutions", 0)
    client.put_function_concurrency(FunctionName=events["FunctionName"], ReservedConcurrentExecutions=wanted)
    return {"Previous": current, "Current": wanted}


def set_writes(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """Stop (Concurrency 0: every invocation throttled) or resume the API functions (Functions: comma-separated
    ARNs, each in its own region) by their reserved concurrency: what the delete-and-restore needs while the table
    is replaced, so no write is acknowledged and then lost."""
    import boto3

    wanted, done = int(events["Concurrency"]), []
    for arn in [arn.strip() for arn in events["Functions"].split(",") if arn.strip()]:
        region = arn.split(":")[3]
        boto3.client("lambda", region_name=region).put_function_concurrency(FunctionName=arn, ReservedConcurrentExecutions=wanted)
        done.append(f"{arn.rsplit(':', 1)[-1]}={wanted}")
    return {"Set": ", ".join(done)}


#: Helpers each handler's script needs besides itself.
HELPERS: dict[Callable[..., Any], tuple[Callable[..., Any], ...]] = {
    delete_replica: (replica_state, settle),
    create_replica: (replica_state, settle),
    check_replica: (replica_state, table_state, still_pending),
    protect_replica: (settle,),
    configure_live_table: (settle,),
    check_restore_job: (restore_job_state, still_pending),
    check_copy: (restore_job_state, table_state, still_pending),
    restore_backup: (latest_recovery_point, start_backup_restore),
    check_table: (table_state, still_pending),
    check_deletable: (table_state, still_pending),
    verify_table: (table_state,),
    restore_copy: (table_state, restore_target, restore_time, latest_recovery_point, start_backup_restore),
    restore_point_in_time: (restore_target, restore_time),
    snapshot_tables: (table_state,),
    check_backups: (still_pending,),
    delete_live_table: (table_state, settle),
    delete_scratch_table: (table_state,),
}
