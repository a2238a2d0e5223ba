"""Account security services of one region (seed 003): GuardDuty, and Security Hub with the AWS Foundational
Security Best Practices standard, with their findings routed to an SNS topic.

Limits: one GuardDuty detector per account and region (a second CreateDetector fails;
https://docs.aws.amazon.com/guardduty/latest/APIReference/API_CreateDetector.html), and Security Hub is enabled
once per account and region (https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-settingup.html).
So one stack per region holds them (stacks.app picks it), and an account whose delegated administrator already
manages them turns them off with `account_security` in the configuration; the finding rules stay, because
findings of a member account still arrive on its own event bus.
Finding events: https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_findings_eventbridge.html and
https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-cwe-event-formats.html
"""

from __future__ import annotations

from typing import Any

from cdktf_cdktf_provider_aws.cloudwatch_event_target import CloudwatchEventTarget
from cdktf_cdktf_provider_aws.guardduty_detector import GuarddutyDetector
from cdktf_cdktf_provider_aws.securityhub_account import SecurityhubAccount
from cdktf_cdktf_provider_aws.securityhub_standards_subscription import SecurityhubStandardsSubscription
from constructs import Construct

from modules.base import RegionalStack
from modules.config import AccountSecuritySettings
from modules.events import event_rule
from modules.suppressions import suppress

#: GuardDuty severities: 1-3.9 low, 4-6.9 medium, 7-8.9 high; medium and above page.
GUARDDUTY_MIN_SEVERITY = 4
SECURITY_HUB_LABELS = ["HIGH", "CRITICAL"]


def foundational_standard_arn(partition: str, region: str) -> str:
    return f"arn:{partition}:securityhub:{region}::standards/aws-foundational-security-best-practices/v/1.0.0"


class AccountSecurity(Construct):
    """GuardDuty (findings every 15 minutes) and Security Hub (consolidated control findings, FSBP only, no default
    standards), with medium-or-worse GuardDuty findings and new, active high or critical Security Hub findings sent
    to `topic_arn` (whose policy and key must let events.amazonaws.com publish).

    Default: both services on; Security Hub is left out in the emulator (moto enables a hub but cannot set its
    control findings, UpdateSecurityHubConfiguration, nor enable standards).
    """

    def __init__(self, scope: Construct, id: str, *, name: str, topic_arn: str, settings: AccountSecuritySettings) -> None:
        super().__init__(scope, id)
        stack = RegionalStack.of(self)
        env = stack.env
        if settings.guardduty:
            self.detector = GuarddutyDetector(
                self, "guardduty", enable=True, finding_publishing_frequency="FIFTEEN_MINUTES", tags={"Name": f"{name}-guardduty"}
            )
            suppress(
                self.detector,
                "CKV2_AWS_3",
                "this account's own detector; organization-wide auto-enable belongs to the organization's delegated administrator account",
            )
        if settings.security_hub and not stack.emulated:
            hub = SecurityhubAccount(
                self,
                "security-hub",
                enable_default_standards=False,
                control_finding_generator="SECURITY_CONTROL",
                auto_enable_controls=True,
            )
            SecurityhubStandardsSubscription(
                self, "foundational-standard", standards_arn=foundational_standard_arn(env.partition, env.region), depends_on=[hub]
            )
        patterns: dict[str, dict[str, Any]] = {
            "guardduty-findings": {
                "source": ["aws.guardduty"],
                "detail-type": ["GuardDuty Finding"],
                "detail": {"severity": [{"numeric": [">=", GUARDDUTY_MIN_SEVERITY]}]},
            },
            "security-hub-findings": {
                "source": ["aws.securityhub"],
                "detail-type": ["Security Hub Findings - Imported"],
                "detail": {
                    "findings": {
                        "Severity": {"Label": SECURITY_HUB_LABELS},
                        "Workflow": {"Status": ["NEW"]},
                        "RecordState": ["ACTIVE"],
                    }
                },
            },
        }
        for key, pattern in patterns.items():
            rule = event_rule(self, key, name=f"{name}-{key}", description=f"{key.replace('-', ' ')} to the alarm topic", pattern=pattern)
            CloudwatchEventTarget(self, f"{key}-target", rule=rule.name, arn=topic_arn, target_id="alarm-topic")
