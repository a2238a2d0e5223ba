"""CKV_HADR_1: a DynamoDB table has point-in-time recovery and replicas in other regions.

The replicas are either `replica` blocks or `aws_dynamodb_table_replica` resources; a table whose replicas are such
resources ignores its `replica` attribute (`lifecycle.ignore_changes`), as the provider requires, and that is what
this check reads. CKV_HADR_14 then requires those resources, with deletion protection.
"""

from hadr_common import HadrCheck, attr, block, blocks, result


def replicas_managed_apart(conf):
    """True when the table leaves its replicas to aws_dynamodb_table_replica resources."""
    ignored = attr(block(conf, "lifecycle"), "ignore_changes") or []
    ignored = ignored if isinstance(ignored, list) else [ignored]
    return any(str(name).strip("${}").strip() == "replica" for name in ignored)


class DynamodbGlobalTable(HadrCheck):
    check_id = "CKV_HADR_1"
    description = "Ensure DynamoDB tables have point-in-time recovery and a replica in another region"
    resource_types = ("aws_dynamodb_table",)

    def scan_resource_conf(self, conf):
        pitr = attr(block(conf, "point_in_time_recovery"), "enabled") is True
        replicas = [replica for replica in blocks(conf, "replica") if attr(replica, "region_name")]
        return result(pitr and (bool(replicas) or replicas_managed_apart(conf)))


check = DynamodbGlobalTable()
