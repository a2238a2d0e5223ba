"""CKV_HADR_1: a DynamoDB table has point-in-time recovery and at least one replica in another region."""

from hadr_common import HadrCheck, attr, block, blocks, result


class DynamodbGlobalTable(HadrCheck):
    check_id = "CKV_HADR_1"
    description = "Ensure DynamoDB tables have point-in-time recovery and a replica in another region"
    resource_types = ("aws_dynamodb_table",)

    def scan_resource_conf(self, conf):
        pitr = attr(block(conf, "point_in_time_recovery"), "enabled") is True
        replicas = [replica for replica in blocks(conf, "replica") if attr(replica, "region_name")]
        return result(pitr and bool(replicas))


check = DynamodbGlobalTable()
