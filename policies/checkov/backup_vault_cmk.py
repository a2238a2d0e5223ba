"""CKV_HADR_7: a backup vault encrypts recovery points with a customer-managed KMS key."""

from hadr_common import HadrCheck, attr, result


class BackupVaultCmk(HadrCheck):
    check_id = "CKV_HADR_7"
    description = "Ensure every backup vault uses a customer-managed KMS key"
    resource_types = ("aws_backup_vault",)

    def scan_resource_conf(self, conf):
        key = str(attr(conf, "kms_key_arn") or "")
        return result(bool(key) and "alias/aws/" not in key)


check = BackupVaultCmk()
