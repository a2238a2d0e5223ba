"""A CloudWatch Synthetics canary (seed 003: "canary testing for endpoints") that requests the paths users take,
from outside the VPC, with an alarm on its success rate.

AWS rules encoded here:
- Name: lowercase letters, digits, `-` and `_`, at most 255 characters (CreateCanary's Name; modules.names checks
  it); schedule between rate(1 minute) and rate(1 hour)
  (https://docs.aws.amazon.com/AmazonSynthetics/latest/APIReference/API_CanaryScheduleInput.html).
- Python code lives under `python/` in the zip and the handler is `<file>.<function>`
  (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Synthetics_Canaries_WritingCanary_Python.html).
- The execution role's permissions
  (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Synthetics_Canaries_CanaryPermissions.html),
  and for artifacts encrypted with a customer managed key, kms:GenerateDataKey and kms:Decrypt through S3
  (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Synthetics_artifact_encryption.html).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cdktf import AssetType, TerraformAsset
from cdktf_cdktf_provider_aws.synthetics_canary import SyntheticsCanary
from constructs import Construct

from modules.alarms import metric_alarm
from modules.base import AwsEnv, RegionalStack
from modules.config import CanarySettings
from modules.errors import InputError
from modules.function import package_source
from modules.iam import ServiceRole
from modules.kms import EncryptionKey
from modules.storage import LogDeliveryBucket

CANARY_SOURCE = Path(__file__).resolve().parent.parent / "lambda" / "canary"
CANARY_HANDLER = "canary.handler"
#: A run's timeout: every check has 10 s (lambda/canary/canary.py), and a canary runs at most once a minute.
RUN_TIMEOUT_SECONDS = 60
#: How much of a canary's name Synthetics keeps in the names of the function and log group it creates.
SYNTHETICS_NAME_PREFIX = 21
#: The alarm pages when fewer than this percentage of the runs in its window passed.
SUCCESS_PERCENT_THRESHOLD = 100


@dataclass(frozen=True)
class CanaryCheck:
    """One request the canary makes: `url` (https), the statuses that count as working, and for an IAM-authorized
    API the region to sign for (SigV4, execute-api); `invoke_arn` is what the canary's role may then invoke."""

    name: str
    url: str
    expect: tuple[int, ...] = (200,)
    sign: str | None = None
    invoke_arn: str | None = None


def schedule_expression(minutes: int) -> str:
    return "rate(1 minute)" if minutes == 1 else f"rate({minutes} minutes)"


class Canary(Construct):
    """A canary in the stack's region running `checks` every `settings.interval_minutes`, outside any VPC (it is a
    client on the internet), its artifacts in `bucket` encrypted with `key`, and an alarm to `topic_arn` when a run
    fails in two consecutive periods.

    Default: tracing off (the checks are single requests); runs kept `settings.artifact_retention_days`.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        checks: Sequence[CanaryCheck],
        settings: CanarySettings,
        bucket: LogDeliveryBucket,
        key: EncryptionKey,
        topic_arn: str,
    ) -> None:
        super().__init__(scope, id)
        if not checks:
            raise InputError.single(f"{self.node.path}.checks", "[]", "expected at least one path to request")
        for check in checks:
            if not check.url.startswith("https://"):
                raise InputError.single(f"{self.node.path}.checks.{check.name}.url", check.url, "expected an https:// URL")
        env = RegionalStack.of(self).env
        prefix = f"canary/{name}"
        statements = canary_statements(env, name=name, prefix=prefix, bucket=bucket, key=key, checks=checks)
        self.role = ServiceRole(self, "role", name=f"{name}-canary", service="lambda.amazonaws.com", statements=statements)
        code = TerraformAsset(self, "code", path=str(package_source(CANARY_SOURCE, under="python")), type=AssetType.ARCHIVE)
        # The emulator has no StartCanary or DeleteCanary: it gets the role, the bucket and the alarm, not the canary.
        self.canary = (
            None
            if RegionalStack.of(self).emulated
            else SyntheticsCanary(
                self,
                "canary",
                name=name,
                artifact_s3_location=f"s3://{bucket.bucket_name}/{prefix}/",
                artifact_config={"s3_encryption": {"encryption_mode": "SSE_KMS", "kms_key_arn": key.key_arn}},
                execution_role_arn=self.role.role_arn,
                handler=CANARY_HANDLER,
                runtime_version=settings.runtime_version,
                zip_file=code.path,
                schedule={"expression": schedule_expression(settings.interval_minutes)},
                run_config={
                    "timeout_in_seconds": RUN_TIMEOUT_SECONDS,
                    "environment_variables": {"CHECKS": checks_json(checks)},
                    "active_tracing": False,
                },
                success_retention_period=settings.artifact_retention_days,
                failure_retention_period=settings.artifact_retention_days,
                start_canary=True,
                delete_lambda=True,  # destroy removes the function and layer Synthetics created
                tags={"Name": name},
            )
        )
        self.alarm = metric_alarm(
            self,
            "alarm",
            name=f"{name}-canary-failed",
            description=f"Canary {name}: a path users take failed in two consecutive runs",
            namespace="CloudWatchSynthetics",
            metric_name="SuccessPercent",
            dimensions={"CanaryName": name},
            statistic="Average",
            threshold=SUCCESS_PERCENT_THRESHOLD,
            comparison_operator="LessThanThreshold",
            period_seconds=settings.interval_minutes * 60,
            evaluation_periods=2,
            treat_missing_data="breaching",  # a canary that stopped running is not a healthy one
            topic_arn=topic_arn,
        )
        self.name = name


def canary_statements(
    env: AwsEnv, *, name: str, prefix: str, bucket: LogDeliveryBucket, key: EncryptionKey, checks: Sequence[CanaryCheck]
) -> list[dict[str, Any]]:
    """The execution role's policy: AWS's documented canary permissions, narrowed to this canary's artifacts prefix,
    log groups and metric namespace, plus invoking exactly the API paths the checks sign for."""
    # The function Synthetics creates is cwsyn-<the name's first 21 characters>-<id>, and so is its log group
    # (https://docs.aws.amazon.com/AmazonSynthetics/latest/APIReference/API_DeleteCanary.html).
    log_groups = env.arn("logs", f"log-group:/aws/lambda/cwsyn-{name[:SYNTHETICS_NAME_PREFIX]}-*")
    statements: list[dict[str, Any]] = [
        {
            "Sid": "WriteArtifacts",
            "Effect": "Allow",
            "Action": ["s3:PutObject", "s3:GetObject"],
            "Resource": f"{bucket.bucket_arn}/{prefix}/*",
        },
        {"Sid": "LocateTheBucket", "Effect": "Allow", "Action": "s3:GetBucketLocation", "Resource": bucket.bucket_arn},
        # ListAllMyBuckets has no resource type: it is granted on "*" or not at all
        {"Sid": "ListBucketsAsTheRuntimeDoes", "Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"},
        {
            "Sid": "EncryptArtifactsThroughS3",
            "Effect": "Allow",
            "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
            "Resource": key.key_arn,
            "Condition": {"StringEquals": {"kms:ViaService": f"s3.{env.region}.amazonaws.com"}},
        },
        {
            "Sid": "WriteOwnLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [log_groups, f"{log_groups}:log-stream:*"],
        },
        {
            "Sid": "PublishSyntheticsMetrics",
            "Effect": "Allow",
            "Action": "cloudwatch:PutMetricData",
            "Resource": "*",  # PutMetricData has no resource type; the namespace condition bounds it
            "Condition": {"StringEquals": {"cloudwatch:namespace": "CloudWatchSynthetics"}},
        },
    ]
    invoke = sorted({check.invoke_arn for check in checks if check.invoke_arn})
    if invoke:
        statements.append({"Sid": "CallTheApiAsAUser", "Effect": "Allow", "Action": "execute-api:Invoke", "Resource": invoke})
    return statements


def checks_json(checks: Sequence[CanaryCheck]) -> str:
    """The CHECKS the canary script reads (lambda/canary/canary.py)."""
    return json.dumps(
        [{k: (list(v) if k == "expect" else v) for k, v in asdict(check).items() if k != "invoke_arn"} for check in checks],
        separators=(",", ":"),
    )
