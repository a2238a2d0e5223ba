"""Customer-managed KMS key with rotation, an alias, and a key policy that names who may use it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct

from modules.base import RegionalStack, policy_json
from modules.errors import InputError

_USE_KEY = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]


class EncryptionKey(Construct):
    """A symmetric KMS key in the stack's region, rotated yearly.

    Default: only the account's IAM policies may use it; `allow_cloudwatch_logs` lets this region's log groups
    encrypt with it; `service_principals` (e.g. "sns.amazonaws.com") may use it from this account only.
    Default: 30-day deletion window; `multi_region=False`; the stack's own region unless `provider` says otherwise.
    `volume_launch_roles` (service-linked role ARNs, e.g. EC2 Auto Scaling's) may use the key for EBS volumes and
    create grants for AWS resources, as EC2 Auto Scaling requires to launch from a template that encrypts with it
    (https://docs.aws.amazon.com/autoscaling/ec2/userguide/key-policy-requirements-EBS-encryption.html).
    `extra_statements` grant a service what the generic statement cannot (e.g. `trail_key_statements`).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        alias: str,
        description: str,
        allow_cloudwatch_logs: bool = False,
        service_principals: Sequence[str] = (),
        deletion_window_in_days: int = 30,
        multi_region: bool = False,
        volume_launch_roles: Sequence[str] = (),
        extra_statements: Sequence[dict[str, Any]] = (),
        provider: AwsProvider | None = None,
    ) -> None:
        super().__init__(scope, id)
        if not 7 <= deletion_window_in_days <= 30:
            raise InputError.single(f"{self.node.path}.deletion_window_in_days", deletion_window_in_days, "expected 7 to 30 days")
        env = RegionalStack.of(self).env_for(provider)
        self.provider = provider
        statements: list[dict[str, Any]] = [
            {
                "Sid": "AccountAdministersKeyThroughIam",
                "Effect": "Allow",
                "Principal": {"AWS": env.root_principal},
                "Action": "kms:*",
                "Resource": "*",
            }
        ]
        if allow_cloudwatch_logs:
            statements.append(
                {
                    "Sid": "CloudWatchLogsOfThisRegion",
                    "Effect": "Allow",
                    "Principal": {"Service": f"logs.{env.region}.amazonaws.com"},
                    "Action": _USE_KEY,
                    "Resource": "*",
                    "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": env.arn("logs", "log-group:*")}},
                }
            )
        for service in service_principals:
            statements.append(
                {
                    "Sid": "Service" + "".join(part.capitalize() for part in service.split(".")[0].split("-")),
                    "Effect": "Allow",
                    "Principal": {"Service": service},
                    "Action": _USE_KEY,
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:SourceAccount": env.account_id}},
                }
            )
        if volume_launch_roles:
            statements += volume_launch_statements(list(volume_launch_roles))
        statements += extra_statements
        self.alias_name = f"alias/{alias}"
        self.key = KmsKey(
            self,
            "key",
            description=description,
            enable_key_rotation=True,
            deletion_window_in_days=deletion_window_in_days,
            multi_region=multi_region,
            policy=policy_json(statements),
            tags={"Name": alias},
            provider=provider,
        )
        KmsAlias(self, "alias", name=self.alias_name, target_key_id=self.key.key_id, provider=provider)
        self.alias_arn = env.arn("kms", self.alias_name)

    @property
    def key_arn(self) -> str:
        return self.key.arn

    @property
    def key_id(self) -> str:
        return self.key.key_id


def volume_launch_statements(role_arns: list[str]) -> list[dict[str, Any]]:
    """Key policy statements that let `role_arns` launch instances whose EBS volumes this key encrypts."""
    return [
        {
            "Sid": "AutoScalingUsesTheKeyForVolumes",
            "Effect": "Allow",
            "Principal": {"AWS": role_arns},
            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
            "Resource": "*",
        },
        {
            "Sid": "AutoScalingAttachesVolumes",
            "Effect": "Allow",
            "Principal": {"AWS": role_arns},
            "Action": ["kms:CreateGrant"],
            "Resource": "*",
            "Condition": {"Bool": {"kms:GrantIsForAWSResource": True}},
        },
    ]


def encrypted_log_group(scope: Construct, id: str, *, name: str, key: EncryptionKey, retention_days: int) -> CloudwatchLogGroup:
    """A CloudWatch log group encrypted with `key` (which must allow CloudWatch Logs) and kept `retention_days`."""
    return CloudwatchLogGroup(scope, id, name=name, retention_in_days=retention_days, kms_key_id=key.key_arn, tags={"Name": name})
