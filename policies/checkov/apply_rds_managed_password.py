"""CKV_APPLY_5: no RDS instance has an RDS-managed master password, which rules out read replicas.

RDS does not create a read replica of a source whose master password it manages in Secrets Manager (all engines
but SQL Server, https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html#rds-secrets-manager-limitations),
so such a primary can never get the cross-region replica a warm standby needs, and the replica's create fails at
apply. The source usually lives in another stack than its replica, so the check is on every instance: keep the
master password in a secret of your own (`modules.database.MasterSecret`) and rotate it through the RDS API.
Aurora clusters too: RDS-managed master passwords are not offered for a global database's clusters (same page).
"""

from hadr_common import HadrCheck, as_bool, attr, result


class RdsNoManagedMasterPassword(HadrCheck):
    check_id = "CKV_APPLY_5"
    description = "Ensure RDS instances and clusters do not use an RDS-managed master password (it rules out read replicas)"
    resource_types = ("aws_db_instance", "aws_rds_cluster")

    def scan_resource_conf(self, conf):
        managed = as_bool(attr(conf, "manage_master_user_password")) or bool(attr(conf, "master_user_secret_kms_key_id"))
        return result(not managed)


check = RdsNoManagedMasterPassword()
