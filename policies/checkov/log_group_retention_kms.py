"""CKV_HADR_10: a CloudWatch log group has a retention period and a KMS key."""

from hadr_common import HadrCheck, as_int, attr, result


class LogGroupRetentionKms(HadrCheck):
    check_id = "CKV_HADR_10"
    description = "Ensure CloudWatch log groups have a retention period and a KMS key"
    resource_types = ("aws_cloudwatch_log_group",)

    def scan_resource_conf(self, conf):
        retention = as_int(attr(conf, "retention_in_days")) or 0
        return result(retention > 0 and bool(attr(conf, "kms_key_id")))


check = LogGroupRetentionKms()
