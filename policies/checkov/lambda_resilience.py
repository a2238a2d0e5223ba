"""CKV_HADR_11: a Lambda function has a dead-letter queue, active tracing and reserved concurrency."""

from hadr_common import HadrCheck, as_int, attr, block, result


class LambdaResilience(HadrCheck):
    check_id = "CKV_HADR_11"
    description = "Ensure Lambda functions have a dead-letter queue, active tracing and reserved concurrency"
    resource_types = ("aws_lambda_function",)

    def scan_resource_conf(self, conf):
        dead_letters = bool(attr(block(conf, "dead_letter_config"), "target_arn"))
        traced = attr(block(conf, "tracing_config"), "mode") == "Active"
        reserved = (as_int(attr(conf, "reserved_concurrent_executions")) or -1) >= 1
        return result(dead_letters and traced and reserved)


check = LambdaResilience()
