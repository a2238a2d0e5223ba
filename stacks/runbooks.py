"""Python steps of the DynamoDB recovery runbooks (SSM Automation `aws:executeScript`, runtime python3.11).

Each handler is a plain function of (events, context) so it can be tested with boto3 against moto; its source is
embedded verbatim in the SSM document. Handlers import what they need inside the function body because SSM runs
each script on its own.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

#: Each script runs alone: it needs the names its annotations use.
SCRIPT_PRELUDE = "from typing import Any\n\n\n"


def delete_replica(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """Chaos: remove the table's replica in ReplicaRegion (issued from SourceRegion)."""
    import boto3

    client = boto3.client("dynamodb", region_name=events["SourceRegion"])
    table = client.describe_table(TableName=events["TableName"])["Table"]
    regions = [replica["RegionName"] for replica in table.get("Replicas", [])]
    if events["ReplicaRegion"] not in regions:
        return {"Changed": False, "Replicas": regions}
    client.update_table(TableName=events["TableName"], ReplicaUpdates=[{"Delete": {"RegionName": events["ReplicaRegion"]}}])
    return {"Changed": True, "Replicas": regions}


def recreate_replica(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """Runbook: add the replica in ReplicaRegion back (encrypted with KmsKeyAlias there) and wait until ACTIVE."""
    import time

    import boto3

    client = boto3.client("dynamodb", region_name=events["SourceRegion"])
    deadline = time.monotonic() + int(events.get("TimeoutSeconds", 3600))
    table = client.describe_table(TableName=events["TableName"])["Table"]
    if not any(replica["RegionName"] == events["ReplicaRegion"] for replica in table.get("Replicas", [])):
        client.update_table(
            TableName=events["TableName"],
            ReplicaUpdates=[{"Create": {"RegionName": events["ReplicaRegion"], "KMSMasterKeyId": events["KmsKeyAlias"]}}],
        )
    while True:
        replicas = client.describe_table(TableName=events["TableName"])["Table"].get("Replicas", [])
        status = next((r.get("ReplicaStatus", "ACTIVE") for r in replicas if r["RegionName"] == events["ReplicaRegion"]), "MISSING")
        if status == "ACTIVE":
            return {"ReplicaStatus": status}
        if time.monotonic() > deadline:
            raise TimeoutError(f"replica in {events['ReplicaRegion']} is {status} after {events.get('TimeoutSeconds', 3600)} s")
        time.sleep(int(events.get("PollSeconds", 20)))


def restore_point_in_time(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """Runbook: restore SourceTableName to TargetTableName (latest restorable time unless RestoreDateTime is set)."""
    import datetime

    import boto3

    client = boto3.client("dynamodb", region_name=events["Region"])
    request: dict[str, Any] = {
        "SourceTableName": events["SourceTableName"],
        "TargetTableName": events["TargetTableName"],
        "BillingModeOverride": "PAY_PER_REQUEST",
        "SSESpecificationOverride": {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": events["KmsKeyAlias"]},
    }
    if events.get("RestoreDateTime"):
        request["RestoreDateTime"] = datetime.datetime.fromisoformat(events["RestoreDateTime"])
    else:
        request["UseLatestRestorableTime"] = True
    description = client.restore_table_to_point_in_time(**request)["TableDescription"]
    client.get_waiter("table_exists").wait(TableName=events["TargetTableName"], WaiterConfig={"Delay": 20, "MaxAttempts": 180})
    count = client.scan(TableName=events["TargetTableName"], Select="COUNT")["Count"]
    return {"TargetTableArn": description["TableArn"], "ItemCount": count}


def restore_backup(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """Runbook: restore a recovery point (the table's latest when RecoveryPointArn is empty) to TargetTableName."""
    import time

    import boto3

    backup = boto3.client("backup", region_name=events["Region"])
    recovery_point = events.get("RecoveryPointArn") or ""
    if not recovery_point:
        points = backup.list_recovery_points_by_resource(ResourceArn=events["TableArn"])["RecoveryPoints"]
        completed = sorted((p for p in points if p.get("Status") == "COMPLETED"), key=lambda p: p["CreationDate"])
        if not completed:
            raise RuntimeError(f"no completed recovery point for {events['TableArn']}")
        recovery_point = completed[-1]["RecoveryPointArn"]
    job = backup.start_restore_job(
        RecoveryPointArn=recovery_point,
        IamRoleArn=events["IamRoleArn"],
        ResourceType="DynamoDB",
        Metadata={"targetTableName": events["TargetTableName"]},
    )["RestoreJobId"]
    deadline = time.monotonic() + int(events.get("TimeoutSeconds", 7200))
    while True:
        status = backup.describe_restore_job(RestoreJobId=job)["Status"]
        if status == "COMPLETED":
            return {"RestoreJobId": job, "RecoveryPointArn": recovery_point, "Status": status}
        if status in ("ABORTED", "FAILED") or time.monotonic() > deadline:
            raise RuntimeError(f"restore job {job} ended {status}")
        time.sleep(int(events.get("PollSeconds", 30)))


def delete_drill_table(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """Drill clean-up: delete a restored table; refuses any name that does not end in '-drill'."""
    import boto3

    name = events["TableName"]
    if not name.endswith("-drill"):
        raise ValueError(f"TableName: {name!r} is not a drill table (expected a name ending in '-drill')")
    client = boto3.client("dynamodb", region_name=events["Region"])
    try:
        client.delete_table(TableName=name)
    except client.exceptions.ResourceNotFoundException:
        return {"Deleted": False}
    return {"Deleted": True}


def script_step(name: str, handler: Callable[..., dict[str, Any]], payload: dict[str, str], outputs: dict[str, str]) -> dict[str, Any]:
    """An `aws:executeScript` step running `handler` with `payload` (document parameters as {{ Name }})."""
    return {
        "name": name,
        "action": "aws:executeScript",
        "timeoutSeconds": 7200,
        "inputs": {
            "Runtime": "python3.11",
            "Handler": handler.__name__,
            "Script": SCRIPT_PRELUDE + inspect.getsource(handler),
            "InputPayload": payload,
        },
        "outputs": [{"Name": output, "Selector": f"$.Payload.{output}", "Type": kind} for output, kind in outputs.items()],
    }
