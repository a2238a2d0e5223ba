"""Encrypted SNS topic that CloudWatch alarms publish to, with an e-mail subscription."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_policy import SnsTopicPolicy
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription
from constructs import Construct

from modules.base import RegionalStack, policy_json
from modules.kms import EncryptionKey


class AlarmTopic(Construct):
    """An SNS topic encrypted with `key` that only this account's CloudWatch alarms may publish to.

    The key must list "cloudwatch.amazonaws.com" in its service principals. Default: no subscription unless
    `email` is given (the address must confirm it).
    """

    def __init__(self, scope: Construct, id: str, *, name: str, key: EncryptionKey, email: str | None = None) -> None:
        super().__init__(scope, id)
        env = RegionalStack.of(self).env
        self.topic = SnsTopic(self, "topic", name=name, kms_master_key_id=key.key_arn, tags={"Name": name})
        SnsTopicPolicy(
            self,
            "policy",
            arn=self.topic.arn,
            policy=policy_json(
                [
                    {
                        "Sid": "CloudWatchAlarmsOfThisAccount",
                        "Effect": "Allow",
                        "Principal": {"Service": "cloudwatch.amazonaws.com"},
                        "Action": "sns:Publish",
                        "Resource": self.topic.arn,
                        "Condition": {"StringEquals": {"aws:SourceAccount": env.account_id}},
                    },
                    {
                        "Sid": "DenyInsecureTransport",
                        "Effect": "Deny",
                        "Principal": "*",
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
