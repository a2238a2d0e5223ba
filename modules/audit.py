"""The account's audit record (seed 003): one multi-region CloudTrail trail, and per region an AWS Config recorder
with managed rules that watch this project's resilience promises.

Limits and placement:
- Five trails per region, a multi-region trail counting in every region
  (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/WhatIsCloudTrail-Limits.html): this project creates
  one, in the first region the deployment uses (stacks.app), and none when `account_security.cloudtrail` is false
  because an organization trail already records the account.
- One configuration recorder and one delivery channel per region and account
  (https://docs.aws.amazon.com/config/latest/developerguide/configlimits.html, "Configuration recorders" and
  "Delivery channels"): one stack per region holds them, the same one that holds GuardDuty.
- The trail's bucket policy: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html;
  its key policy: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html.
- Config's role and delivery permissions: https://docs.aws.amazon.com/config/latest/developerguide/iamrole-permissions.html
  and https://docs.aws.amazon.com/config/latest/developerguide/s3-bucket-policy.html.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cdktf_cdktf_provider_aws.cloudtrail import Cloudtrail
from cdktf_cdktf_provider_aws.config_config_rule import ConfigConfigRule
from cdktf_cdktf_provider_aws.config_configuration_recorder import ConfigConfigurationRecorder
from cdktf_cdktf_provider_aws.config_configuration_recorder_status import ConfigConfigurationRecorderStatus
from cdktf_cdktf_provider_aws.config_delivery_channel import ConfigDeliveryChannel
from constructs import Construct

from modules.base import AwsEnv, RegionalStack
from modules.iam import ServiceRole
from modules.kms import EncryptionKey, encrypted_log_group
from modules.storage import LogDeliveryBucket
from modules.suppressions import suppress

CLOUDTRAIL = "cloudtrail.amazonaws.com"
CONFIG = "config.amazonaws.com"
#: Where CloudTrail and Config write inside the audit bucket.
TRAIL_PREFIX, CONFIG_PREFIX = "cloudtrail", "config"


def trail_arn(env: AwsEnv, name: str) -> str:
    return env.arn("cloudtrail", f"trail/{name}")


def trail_delivery_statements(bucket_arn: str, env: AwsEnv, name: str) -> list[dict[str, Any]]:
    """Bucket policy statements that let the trail `name` (and only it) check the ACL and write its log files."""
    source = {"StringEquals": {"aws:SourceArn": trail_arn(env, name)}}
    return [
        {
            "Sid": "CloudTrailAclCheck",
            "Effect": "Allow",
            "Principal": {"Service": CLOUDTRAIL},
            "Action": "s3:GetBucketAcl",
            "Resource": bucket_arn,
            "Condition": source,
        },
        {
            "Sid": "CloudTrailWrite",
            "Effect": "Allow",
            "Principal": {"Service": CLOUDTRAIL},
            "Action": "s3:PutObject",
            "Resource": f"{bucket_arn}/{TRAIL_PREFIX}/AWSLogs/{env.account_id}/*",
            "Condition": {"StringEquals": {**source["StringEquals"], "s3:x-amz-acl": "bucket-owner-full-control"}},
        },
    ]


def trail_key_statements(env: AwsEnv, name: str) -> list[dict[str, Any]]:
    """Key policy statements for the trail `name`: encrypt log files (with the trail's encryption context), decrypt
    (the bucket's S3 Bucket Key) and describe the key, which CloudTrail checks when the trail is created."""
    return [
        {
            "Sid": "CloudTrailEncryptsLogs",
            "Effect": "Allow",
            "Principal": {"Service": CLOUDTRAIL},
            "Action": "kms:GenerateDataKey*",
            "Resource": "*",
            "Condition": {
                "StringEquals": {"aws:SourceArn": trail_arn(env, name)},
                "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": env.arn("cloudtrail", "trail/*", region="*")},
            },
        },
        {
            # With an S3 Bucket Key on the bucket, creating or updating an SSE-KMS trail needs kms:Decrypt too
            # (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html)
            "Sid": "CloudTrailUsesTheBucketKey",
            "Effect": "Allow",
            "Principal": {"Service": CLOUDTRAIL},
            "Action": "kms:Decrypt",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceArn": trail_arn(env, name)}},
        },
        {
            "Sid": "CloudTrailDescribesKey",
            "Effect": "Allow",
            "Principal": {"Service": CLOUDTRAIL},
            "Action": "kms:DescribeKey",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceArn": trail_arn(env, name)}},
        },
    ]


class AuditTrail(Construct):
    """One multi-region trail of management events (global services included) with log file validation, encrypted
    with `key` (whose policy holds `trail_key_statements`), written to `bucket` (whose policy holds
    `trail_delivery_statements`) and to a CloudWatch log group kept `log_retention_days`.

    Default: no data events (their volume is billed per event); no SNS notification per log file.
    """

    def __init__(
        self, scope: Construct, id: str, *, name: str, key: EncryptionKey, bucket: LogDeliveryBucket, log_retention_days: int
    ) -> None:
        super().__init__(scope, id)
        env = RegionalStack.of(self).env
        log_group = encrypted_log_group(self, "log-group", name=f"/aws/cloudtrail/{name}", key=key, retention_days=log_retention_days)
        role = ServiceRole(
            self,
            "logs-role",
            name=f"{name}-trail-logs",
            service=CLOUDTRAIL,
            statements=[
                {
                    "Sid": "WriteTheTrailsLogStream",
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                    "Resource": f"{log_group.arn}:log-stream:*",
                }
            ],
        )
        self.trail = Cloudtrail(
            self,
            "trail",
            name=name,
            s3_bucket_name=bucket.bucket_name,
            s3_key_prefix=TRAIL_PREFIX,
            is_multi_region_trail=True,
            include_global_service_events=True,
            enable_log_file_validation=True,
            enable_logging=True,
            kms_key_id=key.key_arn,
            cloud_watch_logs_group_arn=f"{log_group.arn}:*",
            cloud_watch_logs_role_arn=role.role_arn,
            tags={"Name": name},
            depends_on=[bucket.policy],  # CreateTrail checks the bucket policy lets CloudTrail write
        )
        suppress(
            self.trail,
            "CKV_AWS_252",
            "no SNS message per delivered log file: the alarm topic pages people, and the log group already holds every event",
        )
        self.arn = trail_arn(env, name)


@dataclass(frozen=True)
class ManagedRule:
    """An AWS Config managed rule (https://docs.aws.amazon.com/config/latest/developerguide/managed-rules-by-aws-config.html)."""

    identifier: str
    promise: str
    resource_types: tuple[str, ...] = ()


#: The promises this project makes about resilience, each as the managed rule that checks it in every region.
RESILIENCE_RULES = (
    ManagedRule("DYNAMODB_PITR_ENABLED", "tables can be restored to any second of the last 35 days", ("AWS::DynamoDB::Table",)),
    ManagedRule("DYNAMODB_IN_BACKUP_PLAN", "tables are in an AWS Backup plan"),
    ManagedRule("DB_INSTANCE_BACKUP_ENABLED", "databases keep automated backups", ("AWS::RDS::DBInstance",)),
    ManagedRule("RDS_INSTANCE_DELETION_PROTECTION_ENABLED", "databases cannot be deleted by accident", ("AWS::RDS::DBInstance",)),
    ManagedRule("S3_BUCKET_VERSIONING_ENABLED", "buckets keep every version of an object", ("AWS::S3::Bucket",)),
    ManagedRule(
        "ELB_DELETION_PROTECTION_ENABLED",
        "load balancers cannot be deleted by accident",
        ("AWS::ElasticLoadBalancingV2::LoadBalancer",),
    ),
    ManagedRule("MULTI_REGION_CLOUD_TRAIL_ENABLED", "a multi-region trail records the account"),
)
#: Global resource types (IAM users, roles, policies) are the same in every region; recording them in more than
#: one region records each item, and bills it, once per region
#: (https://docs.aws.amazon.com/config/latest/developerguide/select-resources.html).
GLOBAL_TYPES_PAGE = "https://docs.aws.amazon.com/config/latest/developerguide/select-resources.html"


class ConfigRecorder(Construct):
    """This region's AWS Config recorder (every supported resource type, continuously; the global types such as
    IAM only with `global_resources`, which one region per account should set), its delivery channel to `bucket`
    (encrypted with `key`, a snapshot a day) and the `rules`.

    The recorder runs as a role of its own (AWS_ConfigRole plus delivery to the bucket's prefix and the key through
    S3) rather than the service-linked role, which exists once per account and which a stack per region could not
    own.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        key: EncryptionKey,
        bucket: LogDeliveryBucket,
        global_resources: bool,
        rules: Sequence[ManagedRule] = RESILIENCE_RULES,
    ) -> None:
        super().__init__(scope, id)
        env = RegionalStack.of(self).env
        self.role = ServiceRole(
            self,
            "role",
            name=f"{name}-config",
            service=CONFIG,
            managed_policy_arns=[f"arn:{env.partition}:iam::aws:policy/service-role/AWS_ConfigRole"],
            statements=[
                {"Sid": "CheckTheBucket", "Effect": "Allow", "Action": "s3:GetBucketAcl", "Resource": bucket.bucket_arn},
                {
                    "Sid": "DeliverToThePrefix",
                    "Effect": "Allow",
                    "Action": "s3:PutObject",
                    "Resource": f"{bucket.bucket_arn}/{CONFIG_PREFIX}/AWSLogs/{env.account_id}/*",
                    "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}},
                },
                {
                    "Sid": "EncryptThroughS3",
                    "Effect": "Allow",
                    "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                    "Resource": key.key_arn,
                    "Condition": {"StringEquals": {"kms:ViaService": f"s3.{env.region}.amazonaws.com"}},
                },
            ],
        )
        self.recorder = ConfigConfigurationRecorder(
            self,
            "recorder",
            name=name,
            role_arn=self.role.role_arn,
            recording_group={"all_supported": True, "include_global_resource_types": global_resources},
        )  # recording frequency: CONTINUOUS, the API's default (RecordingMode)
        if not global_resources:
            suppress(
                self.recorder,
                "CKV2_AWS_48",
                "records every supported type of this region; IAM's global types are recorded once per account, in the trail's"
                f" region ({GLOBAL_TYPES_PAGE})",
            )
        channel = ConfigDeliveryChannel(
            self,
            "delivery-channel",
            name=name,
            s3_bucket_name=bucket.bucket_name,
            s3_key_prefix=CONFIG_PREFIX,
            s3_kms_key_arn=key.key_arn,
            snapshot_delivery_properties={"delivery_frequency": "TwentyFour_Hours"},
            depends_on=[self.recorder],  # a delivery channel needs the recorder
        )
        ConfigConfigurationRecorderStatus(self, "recording", name=self.recorder.name, is_enabled=True, depends_on=[channel])
        self.rules = [
            ConfigConfigRule(
                self,
                f"rule-{rule.identifier.lower().replace('_', '-')}",
                name=f"{name}-{rule.identifier.lower().replace('_', '-')}",
                description=f"Resilience promise: {rule.promise}",
                source={"owner": "AWS", "source_identifier": rule.identifier},
                scope={"compliance_resource_types": list(rule.resource_types)} if rule.resource_types else None,
                tags={"Name": rule.identifier},
                depends_on=[self.recorder],  # a rule needs the recorder
            )
            for rule in rules
        ]
