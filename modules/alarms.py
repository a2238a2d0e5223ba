"""Encrypted SNS topic that CloudWatch alarms publish to, with an e-mail subscription, and alarms on metrics."""

from __future__ import annotations

from collections.abc import Sequence

from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_policy import SnsTopicPolicy
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription
from constructs import Construct

from modules.base import ANY_PRINCIPAL, AwsEnv, RegionalStack, policy_json
from modules.kms import EncryptionKey


def _source_arn(service: str, env: AwsEnv) -> str | None:
    """The aws:SourceArn pattern a publisher's documented topic policy adds: AWS Budgets publishes as any budget of
    the account (https://docs.aws.amazon.com/cost-management/latest/userguide/budgets-sns-policy.html)."""
    return f"arn:{env.partition}:budgets::{env.account_id}:*" if service == "budgets.amazonaws.com" else None


class AlarmTopic(Construct):
    """An SNS topic encrypted with `key` that only this account's `publishers` may publish to.

    Default: CloudWatch alarms and EventBridge rules of this account publish (the key must list the same service
    principals; AWS Budgets may be added, as its budgets only); no subscription unless `email` is given (the address
    must confirm it).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        key: EncryptionKey,
        email: str | None = None,
        publishers: Sequence[str] = ("cloudwatch.amazonaws.com", "events.amazonaws.com"),
    ) -> None:
        super().__init__(scope, id)
        env = RegionalStack.of(self).env
        self.topic = SnsTopic(self, "topic", name=name, kms_master_key_id=key.key_arn, tags={"Name": name})
        SnsTopicPolicy(
            self,
            "policy",
            arn=self.topic.arn,
            policy=policy_json(
                [
                    *(
                        {
                            "Sid": "CloudWatchAlarmsOfThisAccount"
                            if service.startswith("cloudwatch.")
                            else f"{service.split('.')[0].capitalize()}OfThisAccount",
                            "Effect": "Allow",
                            "Principal": {"Service": service},
                            "Action": "sns:Publish",
                            "Resource": self.topic.arn,
                            "Condition": {
                                "StringEquals": {"aws:SourceAccount": env.account_id},
                                **({"ArnLike": {"aws:SourceArn": source}} if (source := _source_arn(service, env)) else {}),
                            },
                        }
                        for service in publishers
                    ),
                    {
                        "Sid": "DenyInsecureTransport",
                        "Effect": "Deny",
                        "Principal": ANY_PRINCIPAL,
                        "Action": "sns:Publish",
                        "Resource": self.topic.arn,
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    },
                ]
            ),
        )
        if email:
            SnsTopicSubscription(self, "email", topic_arn=self.topic.arn, protocol="email", endpoint=email)

    @property
    def topic_arn(self) -> str:
        return self.topic.arn


def metric_alarm(
    scope: Construct,
    id: str,
    *,
    name: str,
    description: str,
    namespace: str,
    metric_name: str,
    dimensions: dict[str, str],
    threshold: float,
    topic_arn: str,
    statistic: str | None = "Sum",
    extended_statistic: str | None = None,
    comparison_operator: str = "GreaterThanThreshold",
    period_seconds: int = 60,
    evaluation_periods: int = 5,
    datapoints_to_alarm: int | None = None,
    treat_missing_data: str = "notBreaching",
) -> CloudwatchMetricAlarm:
    """A CloudWatch alarm that notifies `topic_arn` on ALARM and on OK.

    Default: Sum over 1-minute periods, 5 periods evaluated, missing data counts as fine.
    """
    return CloudwatchMetricAlarm(
        scope,
        id,
        alarm_name=name,
        alarm_description=description,
        namespace=namespace,
        metric_name=metric_name,
        dimensions=dimensions,
        statistic=None if extended_statistic else statistic,
        extended_statistic=extended_statistic,
        threshold=threshold,
        comparison_operator=comparison_operator,
        period=period_seconds,
        evaluation_periods=evaluation_periods,
        datapoints_to_alarm=datapoints_to_alarm,
        treat_missing_data=treat_missing_data,
        alarm_actions=[topic_arn],
        ok_actions=[topic_arn],
        tags={"Name": name},
    )
