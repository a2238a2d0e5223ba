"""CKV_HADR_13: an asynchronously invoked Lambda function keeps its failed events in a dead-letter queue.

Lambda sends only asynchronous invocations to a dead-letter queue
(https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html); a function only ever invoked
synchronously (an API Gateway proxy) skips this check at the resource, saying so.
"""

from hadr_common import HadrCheck, attr, block, result


class LambdaDeadLetters(HadrCheck):
    check_id = "CKV_HADR_13"
    description = "Ensure asynchronously invoked Lambda functions send failed events to a dead-letter queue"
    resource_types = ("aws_lambda_function",)

    def scan_resource_conf(self, conf):
        return result(bool(attr(block(conf, "dead_letter_config"), "target_arn")))


check = LambdaDeadLetters()
