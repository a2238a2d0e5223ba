"""CKV_HADR_14: every replica of a DynamoDB global table is deletion-protected and keeps point-in-time recovery.

Deletion protection is a per-replica setting
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/WorkingWithTables.Basics.html#WorkingWithTables.Basics.DeletionProtection),
and the provider's `replica` block of `aws_dynamodb_table` cannot set it: a table with replica blocks fails, and an
`aws_dynamodb_table_replica` passes only with `deletion_protection_enabled` and `point_in_time_recovery` true.
"""

from hadr_common import HadrCheck, as_bool, attr, blocks, result


class DynamodbReplicaProtection(HadrCheck):
    check_id = "CKV_HADR_14"
    description = "Ensure every DynamoDB global table replica has deletion protection and point-in-time recovery"
    resource_types = ("aws_dynamodb_table", "aws_dynamodb_table_replica")

    def scan_resource_conf(self, conf):
        if "global_table_arn" in conf:
            return result(as_bool(attr(conf, "deletion_protection_enabled")) and as_bool(attr(conf, "point_in_time_recovery")))
        return result(not [replica for replica in blocks(conf, "replica") if attr(replica, "region_name")])


check = DynamodbReplicaProtection()
