"""EventBridge wiring: forward matching events to another region's default bus, or invoke a function on them.

Cross-region targets must be an event bus ARN and need a role that may `events:PutEvents` on it
(https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cross-region.html). A rule name is at most 64
characters of [.-_A-Za-z0-9] (https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutRule.html).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktf_cdktf_provider_aws.cloudwatch_event_target import CloudwatchEventTarget
from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission
from constructs import Construct

from modules.base import RegionalStack
from modules.function import PrivateFunction
from modules.iam import ServiceRole


def event_rule(
    scope: Construct, id: str, *, name: str, description: str, pattern: Mapping[str, Any] | None = None, schedule: str | None = None
) -> CloudwatchEventRule:
    """A rule on the default bus matching `pattern`, or run on `schedule` (`rate(...)`/`cron(...)`); its name is
    checked with every other name at synth (modules.names)."""
    if (pattern is None) == (schedule is None):
        raise ValueError(f"{scope.node.path}/{id}: expected a pattern or a schedule, not {'both' if pattern else 'neither'}")
    matching = {"event_pattern": json.dumps(pattern)} if pattern is not None else {"schedule_expression": schedule}
    return CloudwatchEventRule(scope, id, name=name, description=description, **matching, tags={"Name": name})


class EventForwarding(Construct):
    """Send the events matching `pattern` on this region's default bus to the default bus of `target_region`.

    Default: the forwarding role may put events on that one bus only; it has the rule's name (both at most 64).
    """

    def __init__(self, scope: Construct, id: str, *, name: str, pattern: Mapping[str, Any], target_region: str) -> None:
        super().__init__(scope, id)
        bus = RegionalStack.of(self).env.arn("events", "event-bus/default", region=target_region)
        self.role = ServiceRole(
            self,
            "role",
            name=name,
            service="events.amazonaws.com",
            statements=[{"Sid": "PutOnTheTargetBus", "Effect": "Allow", "Action": ["events:PutEvents"], "Resource": [bus]}],
        )
        self.rule = event_rule(self, "rule", name=name, description=f"Forward to {target_region}", pattern=pattern)
        CloudwatchEventTarget(self, "target", rule=self.rule.name, arn=bus, role_arn=self.role.role_arn, target_id="target-bus")


class FunctionTrigger(Construct):
    """Invoke `function` on the events matching `pattern` (or on `schedule`) on this region's default bus; only this rule may invoke it.

    Default: the target's ID (unique per rule) is "function". The invoke permission's statement ID names the rule,
    since Lambda refuses a second statement with the same ID on one function
    (https://docs.aws.amazon.com/lambda/latest/api/API_AddPermission.html).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        description: str,
        function: PrivateFunction,
        pattern: Mapping[str, Any] | None = None,
        schedule: str | None = None,
        target_id: str = "function",
    ) -> None:
        super().__init__(scope, id)
        self.rule = event_rule(self, "rule", name=name, description=description, pattern=pattern, schedule=schedule)
        CloudwatchEventTarget(self, "target", rule=self.rule.name, arn=function.function_arn, target_id=target_id)
        LambdaPermission(
            self,
            "permission",
            statement_id=f"AllowRule-{name}".replace(".", "-"),  # one per rule: a function may have several triggers
            action="lambda:InvokeFunction",
            function_name=function.function.function_name,
            principal="events.amazonaws.com",
            source_arn=self.rule.arn,
        )
