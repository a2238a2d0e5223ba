"""CKV_APPLY_2: a Lambda function's configured waits end before its timeout.

Lambda stops an invocation at its timeout (https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html):
a wait configured through the environment (a variable named like WAIT_TIMEOUT_SECONDS or POLL_DEADLINE_SECONDS) that
reaches the timeout ends in a killed invocation, with no report of what was done.
"""

import re

from hadr_common import HadrCheck, as_int, attr, block, result

WAIT = re.compile(r"(WAIT|TIMEOUT|DEADLINE)[A-Z0-9_]*_SECONDS$")
#: Lambda's default timeout when none is set.
DEFAULT_TIMEOUT = 3


class LambdaWaitsWithinTimeout(HadrCheck):
    check_id = "CKV_APPLY_2"
    description = "Ensure Lambda waits configured in the environment end before the function's timeout"
    resource_types = ("aws_lambda_function",)

    def scan_resource_conf(self, conf):
        timeout = as_int(attr(conf, "timeout")) or DEFAULT_TIMEOUT
        variables = attr(block(conf, "environment"), "variables") or {}
        found = variables.items() if isinstance(variables, dict) else []
        waits = [as_int(value[0] if isinstance(value, list) and value else value) for name, value in found if WAIT.search(str(name))]
        return result(all(wait is None or wait < timeout for wait in waits))


check = LambdaWaitsWithinTimeout()
