"""CKV_HADR_11: a Lambda function has active tracing and reserved concurrency (dead letters: CKV_HADR_13)."""

from hadr_common import HadrCheck, as_int, attr, block, result


class LambdaResilience(HadrCheck):
    check_id = "CKV_HADR_11"
    description = "Ensure Lambda functions have active tracing and reserved concurrency"
    resource_types = ("aws_lambda_function",)

    def scan_resource_conf(self, conf):
        traced = attr(block(conf, "tracing_config"), "mode") == "Active"
        reserved = (as_int(attr(conf, "reserved_concurrent_executions")) or -1) >= 1
        return result(traced and reserved)


check = LambdaResilience()
