"""The delete-and-restore runbook (`recover-table`) of the active/active table, for a table that is gone or wholly
lost (the default recovery from data loss is the repair in place, stacks/repair_table.py) (seed 000's software failure: RTO
5400 s, RPO 300 s), and the steps that rebuild a replica, which it shares with the replica drill. Its scripts are
runbooks/tables.py.

Design: restore into the original name after a controlled delete, not a configuration indirection. Everything
that names the table keeps working unchanged: the function's TABLE_NAME and its IAM (one ARN), the backup
selection, the alarms' dimensions, the Terraform state and the Resilience Hub import. A name read at run time
would put a parameter read on every cold start and leave Terraform managing a table nobody uses. The price is a
window in which the table does not exist (writes fail in both regions), from the delete to the restored table,
plus rebuilding the replica; both grow with the table's size, so the restore rate is what RTO depends on.

Order, and why it is safe:
0. Discard a copy a stopped or rejected run left (a restore cannot overwrite a table), and wait until it is gone.
1. Restore a copy (`<table>-recovery`): point in time, or a backup when the live table is gone (a DynamoDB backup,
   or an AWS Backup recovery point, which AWS Backup restores as IamRoleArn with the table's key).
2. Verify the copy: item count (paginated), required items. On failure: discard the copy and stop; the live
   table was never touched (the rollback).
3. Approval (`aws:approve`): an operator confirms before anything destructive happens; the message says what is
   lost (writes since the copy's point in time, the table's point-in-time history).
4. Stop the API's writes in both regions (reserved concurrency 0), so nothing is acknowledged and then lost; back
   up the live table (to roll back to) and the copy (to restore from).
5. Remove the replica, then delete the live table; restore the copy's backup into the live name; restore the
   stream, point-in-time recovery, deletion protection and tags, which a restore does not carry.
6. Re-create the replica and protect it; verify the live table; resume writes (the configured concurrency); delete
   the copy.
A failure from step 5 on stops with the ARN of the live table's backup: running this runbook again with
SourceBackupArn set to it puts the table back as it was.
"""

from __future__ import annotations

from typing import Any

from modules.automation_steps import branch_step, script_step, wait_step
from modules.drills import parameter
from runbooks import common, tables

#: What verify_table returns, as output types.
VERIFIED = {"Verified": "Boolean", "Count": "Integer", "Complete": "Boolean", "Reason": "String"}
#: Every step that changes the live table goes here when it fails.
ON_CUT_OVER_FAILURE = "step:failCutOver"


def parameters(table_name: str, key_alias: str, backup_role: str, functions: list[str], concurrency: int) -> dict[str, dict[str, Any]]:
    return {
        "Functions": parameter("The API functions whose writes stop during the cut-over (comma-separated ARNs)", ",".join(functions)),
        "FunctionConcurrency": parameter("Their reserved concurrency once the table is back (the configured value)", str(concurrency)),
        "TableName": parameter("The live global table", table_name),
        "HomeRegion": parameter("Region the table is restored in (its replica's peer is ReplicaRegion)"),
        "ReplicaRegion": parameter("Region of the replica to rebuild"),
        "StagingTableName": parameter("The verified copy", f"{table_name}-recovery"),
        "RestoreDateTime": parameter("ISO 8601 time before the damage; empty for the latest restorable time", ""),
        "SourceBackupArn": parameter(
            "Restore from this DynamoDB backup or AWS Backup recovery point instead of point-in-time recovery", ""
        ),
        "IamRoleArn": parameter("Role AWS Backup restores a recovery point with", backup_role),
        "KmsKeyAlias": parameter("Key alias of the table in both regions", f"alias/{key_alias}"),
        "MinimumItems": parameter("Fewest items a verified table holds", "1"),
        "RequiredItemIds": parameter("Comma-separated ids a verified table must hold", ""),
        "Approvers": parameter("IAM users or roles, one of whom approves the cut-over", kind="StringList"),
    }


def _verify(name: str, table: str) -> dict[str, Any]:
    payload = {
        "Region": "{{ HomeRegion }}",
        "TableName": table,
        "MinimumItems": "{{ MinimumItems }}",
        "RequiredItemIds": "{{ RequiredItemIds }}",
    }
    return script_step(name, tables.verify_table, payload, VERIFIED)


def _fail(name: str, message: str) -> dict[str, Any]:
    return {**script_step(name, common.fail, {"Message": message}, {}, timeout_seconds=60), "isEnd": True}


HOME = {"Region": "{{ HomeRegion }}"}
LIVE, STAGING = {**HOME, "TableName": "{{ TableName }}"}, {**HOME, "TableName": "{{ StagingTableName }}"}


def steps() -> list[dict[str, Any]]:
    """The runbook's mainSteps: the verified copy, then the approved cut-over."""
    live, staging = LIVE, STAGING
    restore_payload = {**live, "StagingTableName": "{{ StagingTableName }}", "RestoreDateTime": "{{ RestoreDateTime }}"}
    restore_payload |= {"SourceBackupArn": "{{ SourceBackupArn }}", "KmsKeyAlias": "{{ KmsKeyAlias }}", "IamRoleArn": "{{ IamRoleArn }}"}
    restore_payload |= {
        "TableArn": "arn:{{ global:AWS_PARTITION }}:dynamodb:{{ HomeRegion }}:{{ global:ACCOUNT_ID }}:table/{{ TableName }}"
    }
    writes = {"Functions": "{{ Functions }}"}
    return [
        script_step("discardLeftoverCopy", tables.delete_scratch_table, staging, {"Deleted": "Boolean"}),
        wait_step(
            "waitLeftoverGone", tables.check_table, {**staging, "Desired": "ABSENT"}, what="deletion of a leftover copy", interval="PT20S"
        ),
        script_step(
            "restoreCopy", tables.restore_copy, restore_payload, {"Method": "String", "Source": "String", "RestoreJobId": "String"}
        ),
        wait_step("waitCopy", tables.check_copy, {**staging, "RestoreJobId": "{{ restoreCopy.RestoreJobId }}"}, what="restore of the copy"),
        _verify("verifyCopy", "{{ StagingTableName }}"),
        branch_step("decideOnCopy", "verifyCopy.Verified", when_true="approveCutOver", otherwise="discardCopy"),
        script_step("discardCopy", tables.delete_scratch_table, staging, {"Deleted": "Boolean"}),
        _fail(
            "failVerification", "the copy failed verification ({{ verifyCopy.Reason }}); it was deleted and the live table was not touched"
        ),
        {
            "name": "approveCutOver",
            "action": "aws:approve",
            "timeoutSeconds": 3600,
            "inputs": {
                "Approvers": "{{ Approvers }}",
                "MinRequiredApprovals": 1,
                "Message": "Replace {{ TableName }} in {{ HomeRegion }} with the verified copy ({{ verifyCopy.Count }} items,"
                " {{ restoreCopy.Method }} from {{ restoreCopy.Source }})? The API stops taking requests in both regions until"
                " the restore completes. Lost: every write since the copy's point in time (repair-table keeps them), and the"
                " table's point-in-time history (an on-demand backup of it is taken first).",
            },
        },
        *_cut_over(writes),
    ]


def _cut_over(writes: dict[str, str]) -> list[dict[str, Any]]:
    """Writes stopped, both tables backed up, the live table replaced and rebuilt, writes resumed."""
    home, live, staging, cut = HOME, LIVE, STAGING, ON_CUT_OVER_FAILURE
    replica = {"TableName": "{{ TableName }}", "SourceRegion": "{{ HomeRegion }}", "ReplicaRegion": "{{ ReplicaRegion }}"}
    before = "step:failBeforeCutOver"  # writes may be stopped, the live table untouched
    return [
        script_step("stopWrites", tables.set_writes, {**writes, "Concurrency": "0"}, {"Set": "String"}, on_failure=before),
        # concurrency 0 stops new invocations, not those running: wait out the longest (the function timeout, at
        # most 29 s) so no write is acknowledged after the backup below
        {"name": "drainWrites", "action": "aws:sleep", "inputs": {"Duration": "PT30S"}, "onFailure": before},
        script_step(
            "snapshot",
            tables.snapshot_tables,
            {**live, "StagingTableName": "{{ StagingTableName }}"},
            {"LiveBackupArn": "String", "StagingBackupArn": "String", "TagsJson": "String"},
            on_failure=before,
        ),
        wait_step(
            "waitSnapshots",
            tables.check_backups,
            {**home, "LiveBackupArn": "{{ snapshot.LiveBackupArn }}", "StagingBackupArn": "{{ snapshot.StagingBackupArn }}"},
            what="on-demand backups",
            on_failure=before,
        ),
        script_step("dropReplica", tables.delete_replica, replica, {"Changed": "Boolean"}, on_failure=cut),
        wait_step("waitReplicaGone", tables.check_replica, {**replica, "Desired": "ABSENT"}, what="replica deletion", on_failure=cut),
        script_step("deleteLive", tables.delete_live_table, live, {"Changed": "Boolean"}, on_failure=cut),
        wait_step("waitLiveGone", tables.check_table, {**live, "Desired": "ABSENT"}, what="live table deletion", on_failure=cut),
        script_step(
            "restoreLive",
            tables.restore_live_table,
            {**live, "StagingBackupArn": "{{ snapshot.StagingBackupArn }}", "KmsKeyAlias": "{{ KmsKeyAlias }}"},
            {"TableArn": "String"},
            on_failure=cut,
        ),
        wait_step("waitLive", tables.check_table, {**live, "Desired": "ACTIVE"}, what="restore of the live table", on_failure=cut),
        script_step(
            "configureLive",
            tables.configure_live_table,
            {**live, "TagsJson": "{{ snapshot.TagsJson }}"},
            {"Configured": "Boolean"},
            on_failure=cut,
        ),
        *replica_steps(replica, on_failure=cut),
        _verify("verifyLive", "{{ TableName }}"),
        branch_step("decideOnLive", "verifyLive.Verified", when_true="resumeWrites", otherwise="failLiveVerification"),
        _fail(
            "failLiveVerification",
            "the restored {{ TableName }} failed verification ({{ verifyLive.Reason }}), with the API's writes stopped; roll back by"
            " running this runbook with SourceBackupArn={{ snapshot.LiveBackupArn }}; resume writes with set-function-concurrency",
        ),
        _fail(
            "failBeforeCutOver",
            "stopped before the cut-over: the live table was not touched; the API's writes may be stopped: resume them with"
            " set-function-concurrency (Concurrency={{ FunctionConcurrency }} in each region)",
        ),
        _fail(
            "failCutOver",
            "the cut-over stopped part-way, with the API's writes stopped; roll back by running this runbook with"
            " SourceBackupArn={{ snapshot.LiveBackupArn }} (the live table as it was), or forward with"
            " SourceBackupArn={{ snapshot.StagingBackupArn }} (the verified copy); resume writes with set-function-concurrency",
        ),
        script_step("resumeWrites", tables.set_writes, {**writes, "Concurrency": "{{ FunctionConcurrency }}"}, {"Set": "String"}),
        {**script_step("cleanUp", tables.delete_scratch_table, staging, {"Deleted": "Boolean"}), "isEnd": True},
    ]


def replica_steps(replica: dict[str, str], *, on_failure: str | None = None, max_iterations: int = 100) -> list[dict[str, Any]]:
    """Add the replica (`replica`: TableName, SourceRegion, ReplicaRegion payload; the document has KmsKeyAlias),
    wait until it is ACTIVE, then protect it and tag it: deletion protection, point-in-time recovery and tags are per
    replica."""
    return [
        script_step(
            "createReplica",
            tables.create_replica,
            {**replica, "KmsKeyAlias": "{{ KmsKeyAlias }}"},
            {"Changed": "Boolean"},
            on_failure=on_failure,
        ),
        wait_step(
            "waitReplicaActive",
            tables.check_replica,
            {**replica, "Desired": "ACTIVE"},
            what="replica creation",
            on_failure=on_failure,
            max_iterations=max_iterations,
        ),
        script_step(
            "protectReplica",
            tables.protect_replica,
            replica,
            {"DeletionProtection": "Boolean", "PointInTimeRecovery": "String", "Tags": "Integer"},
            on_failure=on_failure,
        ),
    ]
