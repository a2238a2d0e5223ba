"""Failover building blocks: state that an automation owns, a DNS record that follows a metric latch, and an SSM
Automation document started on a schedule.

Rules these encode:
- A Route 53 health check of type CLOUDWATCH_METRIC follows the alarm's metric data stream, not the alarm state,
  and with `insufficient_data_health_status = LastKnownStatus` keeps its last status while the metric has no data
  (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/health-checks-creating-values.html#health-checks-creating-values-cloudwatch).
  A health check reads the alarm's settings when it is created: after a change of the alarm it must be updated
  (same page), so the health checks are replaced whenever their alarm is (`replace_triggered_by`). An account
  holds 200 health checks by default (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/DNSLimitations.html);
  a latched record uses two.
- Route 53 failover routing answers the PRIMARY record while its health check is healthy, else the SECONDARY
  (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-types.html).
- A Standard-tier parameter value is at most 4 KB
  (https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html).
- A target's constant Input is at most 8192 characters, and a rule has at most five targets
  (https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_Target.html,
  https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutTargets.html).
- An EventBridge rule may start an Automation document (target `automation-definition/<name>:$DEFAULT`) with a
  role that may `ssm:StartAutomationExecution` it and pass its automation role
  (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-targets.html).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from cdktf_cdktf_provider_aws.cloudwatch_event_target import CloudwatchEventTarget
from cdktf_cdktf_provider_aws.route53_health_check import Route53HealthCheck
from cdktf_cdktf_provider_aws.ssm_parameter import SsmParameter
from constructs import Construct

from modules.alarms import metric_alarm
from modules.base import RegionalStack
from modules.errors import InputError
from modules.events import event_rule
from modules.health_check import RecordEndpoint, RoutedRecords
from modules.iam import ServiceRole

MAX_STANDARD_VALUE_BYTES = 4096
MAX_TARGET_INPUT_CHARACTERS = 8192


def owned_parameter(scope: Construct, id: str, *, name: str, value: str, description: str, key_arn: str) -> SsmParameter:
    """A SecureString parameter (encrypted with `key_arn`) Terraform creates with `value` and then leaves to whoever
    owns it (ignore_changes); Standard tier, so `value` is at most 4 KB."""
    if len(value.encode()) > MAX_STANDARD_VALUE_BYTES:
        raise InputError.single(
            f"{scope.node.path}/{id}.value", f"{len(value.encode())} bytes", f"expected at most {MAX_STANDARD_VALUE_BYTES} bytes"
        )
    return SsmParameter(
        scope,
        id,
        name=name,
        type="SecureString",
        key_id=key_arn,
        value=value,
        description=description,
        lifecycle={"ignore_changes": ["value"]},
        tags={"Name": name},
    )


class LatchedRecord(Construct):
    """`record_name` answers `primary_cname` while the latch metric (`namespace`/`metric_name` with `dimensions`)
    is at least 1, and `standby_cname` once it is 0: an alarm on the metric (ALARM = moved to the standby; its
    state is kept while nobody publishes), a health check following it per answer (the standby's inverted) and a
    failover record.

    Default: the record's TTL is 5 s (`ttl_seconds`): resolvers, CloudFront among them, follow the move within
    seconds, as AWS advises for a global database's writer name
    (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database-disaster-recovery.html).

    Attributes: `alarm` (notifies `topic_arn`), `health_checks` ({"primary", "standby"}).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        namespace: str,
        metric_name: str,
        dimensions: Mapping[str, str],
        zone_id: str,
        record_name: str,
        primary_cname: str,
        standby_cname: str,
        topic_arn: str,
        ttl_seconds: int = 5,
    ) -> None:
        super().__init__(scope, id)
        self.alarm = metric_alarm(
            self,
            "alarm",
            name=name,
            description=f"{record_name} answers the standby: {metric_name} is 0",
            namespace=namespace,
            metric_name=metric_name,
            dimensions=dict(dimensions),
            statistic="Minimum",
            threshold=1,
            comparison_operator="LessThanThreshold",
            evaluation_periods=1,
            treat_missing_data="ignore",
            topic_arn=topic_arn,
        )
        region = RegionalStack.of(self).env.region
        self.health_checks = {
            role: Route53HealthCheck(
                self,
                f"check-{role}",
                type="CLOUDWATCH_METRIC",
                cloudwatch_alarm_name=self.alarm.alarm_name,
                cloudwatch_alarm_region=region,
                insufficient_data_health_status="LastKnownStatus",
                invert_healthcheck=role == "standby",
                # A health check keeps the alarm settings it was made with; a plain reference (no "${...}": Terraform
                # refuses an interpolation here).
                lifecycle={"replace_triggered_by": [f"{self.alarm.terraform_resource_type}.{self.alarm.friendly_unique_id}"]},
                tags={"Name": f"{name}-{role}"},
            )
            for role in ("primary", "standby")
        }
        RoutedRecords(
            self,
            "record",
            zone_id=zone_id,
            name=record_name,
            routing="failover",
            endpoints=[
                RecordEndpoint(set_identifier=role, health_check_id=self.health_checks[role].id, cname=cname)
                for role, cname in (("primary", primary_cname), ("standby", standby_cname))
            ],
            cname_ttl_seconds=ttl_seconds,
        )


class ScheduledAutomation(Construct):
    """Start the Automation document `document_name` with `parameters` on `schedule`, as a role that may start that
    document only and pass it `automation_role_arn` only.

    Attributes: `rule`, `role`.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        description: str,
        schedule: str,
        document_name: str,
        automation_role_arn: str,
        parameters: Mapping[str, Sequence[str]],
    ) -> None:
        super().__init__(scope, id)
        env = RegionalStack.of(self).env
        self.rule = event_rule(self, "rule", name=name, description=description, schedule=schedule)
        statements: list[dict[str, Any]] = [
            {
                "Sid": "StartTheDocument",
                "Effect": "Allow",
                "Action": ["ssm:StartAutomationExecution"],
                "Resource": [env.arn("ssm", f"automation-definition/{document_name}:*")],
            },
            {
                "Sid": "PassItsRole",
                "Effect": "Allow",
                "Action": ["iam:PassRole"],
                "Resource": [automation_role_arn],
                "Condition": {"StringEquals": {"iam:PassedToService": "ssm.amazonaws.com"}},
            },
        ]
        self.role = ServiceRole(self, "role", name=name, service="events.amazonaws.com", statements=statements)
        payload = json.dumps({key: list(values) for key, values in parameters.items()})
        if len(payload) > MAX_TARGET_INPUT_CHARACTERS:
            raise InputError.single(
                f"{self.node.path}.parameters", f"{len(payload)} characters", f"expected at most {MAX_TARGET_INPUT_CHARACTERS} as JSON"
            )
        CloudwatchEventTarget(
            self,
            "target",
            rule=self.rule.name,
            target_id="automation",
            arn=env.arn("ssm", f"automation-definition/{document_name}:$DEFAULT"),
            role_arn=self.role.role_arn,
            input=payload,
        )
