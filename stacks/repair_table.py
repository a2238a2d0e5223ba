"""The repair in place (`repair-table`), the default recovery from data loss in the active/active table (seed
000's software failure: RTO 5400 s, RPO 300 s). Its scripts are runbooks/repair.py, which says how it decides
item by item.

Why not the delete-and-restore (`recover-table`): replacing the table discards every write acknowledged between
the restore point and the cut-over, deletes the table's point-in-time history with it, stops writes in both
regions for two restores and a replica rebuild, and cannot be re-run while its copy exists. The repair writes back
only what the damage changed, through the live global table, with no outage and the history kept; the
delete-and-restore stays for a table that is gone or wholly lost.

Order: check the window; discard copies a stopped run left for another window (and wait); restore the two copies
(or reuse this window's); plan (count, write nothing); approval, naming what will change and what is kept; repair;
delete the copies. A failure or a rejection keeps the copies and the progress: the same parameters run again
resume; a repair is undone by running it over its own window (the message says how).
"""

from __future__ import annotations

from typing import Any

from modules.automation_steps import script_step, wait_step
from modules.drills import parameter
from runbooks import common, repair

#: A repair pass's counts, as outputs.
COUNTS = {"Restored": "Integer", "Removed": "Integer", "Kept": "Integer", "Already": "Integer", "KeptIds": "String"}


def parameters(table_name: str, key_alias: str, backup_role: str) -> dict[str, dict[str, Any]]:
    return {
        "TableName": parameter("The live global table", table_name),
        "Region": parameter("Region the repair writes in (the global table carries it to the other)"),
        "RestoreDateTime": parameter("ISO 8601 time before the damage (or BeforeBackupArn)", ""),
        "BeforeBackupArn": parameter("A backup or recovery point from before the damage (or RestoreDateTime)", ""),
        "DamageEndDateTime": parameter("ISO 8601 time after the damage stopped (or AfterBackupArn)", ""),
        "AfterBackupArn": parameter("A backup taken after the damage stopped (or DamageEndDateTime): faster than waiting", ""),
        "KmsKeyAlias": parameter("Key alias of the table", f"alias/{key_alias}"),
        "IamRoleArn": parameter("Role AWS Backup restores a recovery point with", backup_role),
        "Approvers": parameter("IAM users or roles, one of whom approves the repair", kind="StringList"),
    }


def steps() -> list[dict[str, Any]]:
    """The runbook's mainSteps."""
    window = {
        name: f"{{{{ {name} }}}}"
        for name in ("TableName", "Region", "RestoreDateTime", "BeforeBackupArn", "DamageEndDateTime", "AfterBackupArn")
    }
    restore = {**window, "KmsKeyAlias": "{{ KmsKeyAlias }}", "IamRoleArn": "{{ IamRoleArn }}"}
    failed = "step:failRepair"
    return [
        script_step("checkWindow", repair.check_window, window, {"Before": "String", "After": "String"}, timeout_seconds=60),
        script_step("discardStaleCopies", repair.discard_stale_copies, window, {"Discarded": "String"}),
        wait_step("waitStaleGone", repair.check_stale_gone, window, what="deletion of a stale copy", interval="PT20S"),
        script_step("restoreCopies", repair.restore_copies, restore, {"RestoreJobs": "String"}),
        wait_step(
            "waitCopies", repair.check_copies, {**restore, "RestoreJobs": "{{ restoreCopies.RestoreJobs }}"}, what="restore of the copies"
        ),
        wait_step("planRepair", repair.repair_pass, {**window, "Mode": "plan"}, what="plan of the repair", interval="PT1S", outputs=COUNTS),
        {
            "name": "approveRepair",
            "action": "aws:approve",
            "timeoutSeconds": 3600,
            "inputs": {
                "Approvers": "{{ Approvers }}",
                "MinRequiredApprovals": 1,
                "Message": "Repair {{ TableName }} through {{ Region }}: put back {{ planRepairCheck.Restored }} items and remove"
                " {{ planRepairCheck.Removed }} as they were before the damage ({{ checkWindow.Before }} to {{ checkWindow.After }});"
                " {{ planRepairCheck.Kept }} written since the damage stay as they are ({{ planRepairCheck.KeptIds }})."
                " Nothing else changes, and the table stays available.",
            },
        },
        wait_step(
            "applyRepair",
            repair.repair_pass,
            {**window, "Mode": "apply"},
            what="repair",
            interval="PT1S",
            outputs=COUNTS,
            on_failure=failed,
        ),
        {**script_step("deleteCopies", repair.delete_copies, window, {"Deleted": "String"}), "isEnd": True},
        {
            **script_step(
                "failRepair",
                common.fail,
                {
                    "Message": "the repair stopped part-way; run this runbook again with the same parameters to continue where it"
                    " stopped (the copies and the progress are kept); to undo what it wrote, run it over its own window"
                    " (RestoreDateTime before this run, DamageEndDateTime after it stopped)"
                },
                {},
                timeout_seconds=60,
            ),
            "isEnd": True,
        },
    ]
