"""CKV_HADR_6: every rule of a backup plan copies its recovery points to another vault (another region)."""

from hadr_common import HadrCheck, attr, blocks, result


class BackupPlanCopy(HadrCheck):
    check_id = "CKV_HADR_6"
    description = "Ensure every backup plan rule copies recovery points to a vault in another region"
    resource_types = ("aws_backup_plan",)

    def scan_resource_conf(self, conf):
        rules = blocks(conf, "rule")
        copied = [rule for rule in rules if any(attr(copy, "destination_vault_arn") for copy in blocks(rule, "copy_action"))]
        return result(bool(rules) and len(copied) == len(rules))


check = BackupPlanCopy()
