"""CKV_APPLY_2: a Lambda function's configured waits end before its timeout.

Lambda stops an invocation at its timeout (https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html):
a wait configured through the environment that reaches the timeout ends in a killed invocation, with no report of
what was done. A wait is a variable whose name has a WAIT, TIMEOUT, DEADLINE or POLL word (WAIT_TIMEOUT_SECONDS,
POLL_DEADLINE_MS, DB_TIMEOUT); its unit is its last word (SECONDS, SECS, SEC, S, MILLISECONDS, MS, MINUTES, MINS,
MIN, M), seconds when it names none. A value that is not a number (an expression known at apply) is not judged.
"""

import re

from hadr_common import HadrCheck, as_int, attr, block, result

WAIT_WORDS = {"WAIT", "TIMEOUT", "DEADLINE", "POLL"}
#: A name's last word -> seconds per unit.
UNITS = {"SECONDS": 1, "SECS": 1, "SEC": 1, "S": 1, "MILLISECONDS": 0.001, "MS": 0.001, "MINUTES": 60, "MINS": 60, "MIN": 60, "M": 60}
#: Lambda's default timeout when none is set.
DEFAULT_TIMEOUT = 3


def wait_seconds(name, value):
    """The wait a variable configures, in seconds; None when it configures none (or not as a number)."""
    words = re.split(r"[^A-Z0-9]+", str(name).upper())
    if not WAIT_WORDS & set(words):
        return None
    amount = as_int(value[0] if isinstance(value, list) and value else value)
    return None if amount is None else amount * UNITS.get(words[-1], 1)


class LambdaWaitsWithinTimeout(HadrCheck):
    check_id = "CKV_APPLY_2"
    description = "Ensure Lambda waits configured in the environment end before the function's timeout"
    resource_types = ("aws_lambda_function",)

    def scan_resource_conf(self, conf):
        timeout = as_int(attr(conf, "timeout")) or DEFAULT_TIMEOUT
        variables = attr(block(conf, "environment"), "variables") or {}
        waits = [wait_seconds(name, value) for name, value in (variables.items() if isinstance(variables, dict) else [])]
        return result(all(wait is None or wait < timeout for wait in waits))


check = LambdaWaitsWithinTimeout()
