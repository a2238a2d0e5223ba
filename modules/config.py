"""Typed deployment configuration: one YAML file describes both architectures.

Loading never imports cdktf or the provider bindings, so a bad file fails in well under a second.
Every problem is reported as one line naming the field path, the value given and what is allowed.
"""

from __future__ import annotations

import difflib
import functools
import ipaddress
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)

from modules.errors import MISSING, InputError, Problem

#: AWS commercial-partition regions (partition "aws"); GovCloud, China and ISO regions are not supported.
COMMERCIAL_REGIONS: tuple[str, ...] = (
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
)

MIN_VPC_PREFIX, MAX_VPC_PREFIX = 16, 24
#: Ranges a VPC may use here: RFC 1918's three and the shared address space 100.64.0.0/10, which AWS accepts for
#: VPCs; never loopback, link-local, multicast or "this network"
#: (https://docs.aws.amazon.com/vpc/latest/userguide/vpc-cidr-blocks.html).
VPC_RANGES = tuple(ipaddress.IPv4Network(r) for r in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"))
#: Availability Zones every account gets in each region. us-west-1 has three zones, but accounts created since 2013
#: get two of them; every other commercial region offers at least three to every account
#: (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/using-regions-availability-zones.html). Naming the zones
#: (`availability_zones`) lifts the limit; a real plan checks the region's zones again (a postcondition).
ACCOUNT_AZ_COUNT = {region: 3 for region in COMMERCIAL_REGIONS} | {"us-west-1": 2}
#: Lambda's documented default concurrency quota per account and region (new accounts often start lower: the
#: configuration states the account's real one, lambda_concurrency_quota), of which 100 always stay unreserved
#: (https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html), and what the health twin reserves. A live
#: plan or deploy reads the real figures first (tools.quotas).
ACCOUNT_CONCURRENCY, UNRESERVED_CONCURRENCY, HEALTH_CONCURRENCY = 1000, 100, 5
#: An Application Load Balancer needs subnets of at least /27 with 8 free addresses
#: (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html#subnets-load-balancer);
#: subnets are the VPC cut into 16 blocks (four bits longer), so a VPC with load balancers is at most /23.
ALB_MAX_VPC_PREFIX = 23
ALB_FREE_ADDRESSES = 8
#: AWS reserves the first four and the last address of every subnet
#: (https://docs.aws.amazon.com/vpc/latest/userguide/subnet-sizing.html).
SUBNET_RESERVED_ADDRESSES = 5
#: Interface endpoints of the three-tier app, in its app subnets (a network interface in each): Session Manager and
#: Secrets Manager (seed 001), the CloudWatch agent's logs and metrics, and the S3 Multi-Region Access Points (which
#: a gateway endpoint does not serve).
THREE_TIER_ENDPOINTS = ("ssm", "ssmmessages", "ec2messages", "secretsmanager", "logs", "monitoring")
ACCESS_POINT_ENDPOINT = "s3-global.accesspoint"

_DNS_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_DOMAIN_RE = re.compile(rf"^(?:{_DNS_LABEL}\.)+[a-z]{{2,63}}$")
BUCKET_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{1,19}$")
_ENV_RE = re.compile(r"^[a-z][a-z0-9-]{0,11}$")
_TABLE_RE = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
_EMAIL_RE = re.compile(r"^[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,63}$")
_ZONE_ID_RE = re.compile(r"^[A-Z0-9]{5,32}$")  # AWS's start with Z; an emulator's need not
_LOOPBACK_URL_RE = re.compile(r"^http://(127\.0\.0\.1|localhost):([1-9][0-9]{0,4})$")


# --- single-value rules (each raises ValueError("expected ...") naming what is allowed) ---


def _region(value: str) -> str:
    if value not in COMMERCIAL_REGIONS:
        close = difflib.get_close_matches(value, COMMERCIAL_REGIONS, n=1, cutoff=0.6)
        if re.match(r"(us-gov|cn|us-iso[a-z]?|eu-iso[a-z]?)-", value):
            hint = " (GovCloud, China and ISO partitions are not supported)"
        else:
            hint = f" (closest: {close[0]})" if close else ""
        raise ValueError(f"expected an AWS commercial region{hint}, one of: {', '.join(COMMERCIAL_REGIONS)}")
    return value


def _vpc_cidr(value: str) -> str:
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"expected an IPv4 network in CIDR notation such as 10.1.0.0/16 ({exc})") from None
    if not MIN_VPC_PREFIX <= network.prefixlen <= MAX_VPC_PREFIX:
        raise ValueError(f"expected a prefix length from /{MIN_VPC_PREFIX} to /{MAX_VPC_PREFIX}")
    if not any(network.subnet_of(allowed) for allowed in VPC_RANGES):
        raise ValueError(
            "expected a range inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16 (RFC 1918), or 100.64.0.0/10 (shared address space)"
        )
    return str(network)


def _domain(value: str) -> str:
    if len(value) > 253 or not _DOMAIN_RE.match(value):
        raise ValueError(
            "expected a lower-case fully qualified domain name such as api.example.com "
            "(labels of a-z, 0-9 and '-', at most 63 characters, no trailing dot)"
        )
    return value


#: Prefixes and suffixes S3 reserves for its own names (access point aliases, Object Lambda, directory and table
#: buckets, MRAP): https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
RESERVED_BUCKET_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
RESERVED_BUCKET_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def _bucket(value: str) -> str:
    if (
        not BUCKET_NAME_RE.match(value)
        or ".." in value
        or value.startswith(RESERVED_BUCKET_PREFIXES)
        or value.endswith(RESERVED_BUCKET_SUFFIXES)
        or re.match(r"^\d+\.\d+\.\d+\.\d+$", value)
    ):
        raise ValueError(
            "expected an S3 bucket name: 3-63 characters of a-z, 0-9, '.' and '-', "
            "starting and ending with a letter or digit, not an IP address, "
            f"not starting with {', '.join(RESERVED_BUCKET_PREFIXES)} nor ending with {', '.join(RESERVED_BUCKET_SUFFIXES)}"
        )
    return value


def _pattern(regex: re.Pattern[str], allowed: str):
    def check(value: str) -> str:
        if not regex.match(value):
            raise ValueError(f"expected {allowed}")
        return value

    return check


@functools.cache
def _tag_characters() -> tuple[str, frozenset[str], frozenset[str]]:
    """IAM's tag pattern from botocore (the strictest of the services tagged here: default_tags reach every IAM
    role), as (pattern, Unicode general categories, other characters) allowed in a tag key or value."""
    import botocore.session  # noqa: PLC0415 - only a configuration with tags reads the IAM model

    shape = botocore.session.get_session().get_service_model("iam").operation_model("TagRole").input_shape.members["Tags"]
    pattern = shape.member.members["Key"].metadata["pattern"]
    body = re.fullmatch(r"\[(.*)\]\+", pattern)
    if body is None:
        raise LookupError(f"botocore iam.TagRole Tags.Key: the pattern {pattern!r} is not the one this check reads")
    categories = frozenset(re.findall(r"\\p\{(\w)\}", body.group(1)))
    others = frozenset(re.sub(r"\\p\{\w\}", "", body.group(1)).replace("\\", ""))
    return pattern, categories, others


def _tag_problem(text: str) -> str | None:
    """The first character of `text` outside IAM's tag pattern, or None."""
    _, categories, others = _tag_characters()
    return next((char for char in text if char not in others and unicodedata.category(char)[0] not in categories), None)


def _tag_map(value: dict[str, str]) -> dict[str, str]:
    for key, tag_value in value.items():
        if not 1 <= len(key) <= 128 or key.lower().startswith("aws:"):
            raise ValueError(f"expected tag keys of 1-128 characters not starting with 'aws:' (key {key!r})")
        if len(tag_value) > 256:
            raise ValueError(f"expected tag values of at most 256 characters (key {key!r})")
        for what, text in (("key", key), ("value", tag_value)):
            bad = _tag_problem(text)
            if bad is not None:
                raise ValueError(
                    f"expected tag keys and values of letters, numbers, spaces and _ . : / = + - @ only (IAM's tag pattern "
                    f"{_tag_characters()[0]}, botocore iam.TagRole; default_tags reach every resource): the {what} {text!r} has {bad!r}"
                )
    return value


Region = Annotated[StrictStr, AfterValidator(_region)]
VpcCidr = Annotated[StrictStr, AfterValidator(_vpc_cidr)]
DomainName = Annotated[StrictStr, AfterValidator(_domain)]
BucketName = Annotated[StrictStr, AfterValidator(_bucket)]
ProjectName = Annotated[StrictStr, AfterValidator(_pattern(_NAME_RE, "2-20 characters of a-z, 0-9 and '-', starting with a letter"))]
EnvironmentName = Annotated[StrictStr, AfterValidator(_pattern(_ENV_RE, "1-12 characters of a-z, 0-9 and '-', starting with a letter"))]
TableName = Annotated[
    StrictStr, AfterValidator(_pattern(_TABLE_RE, "a DynamoDB table name: 3-255 characters of A-Z, a-z, 0-9, '_', '.', '-'"))
]
Email = Annotated[StrictStr, AfterValidator(_pattern(_EMAIL_RE, "an e-mail address such as oncall@example.com"))]
_PRINCIPAL_RE = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:(user|role)/[\w+=,.@/-]{1,512}$")
PrincipalArn = Annotated[
    StrictStr, AfterValidator(_pattern(_PRINCIPAL_RE, "an IAM user or role ARN such as arn:aws:iam::123456789012:role/oncall"))
]
HostedZoneId = Annotated[StrictStr, AfterValidator(_pattern(_ZONE_ID_RE, "a Route 53 hosted zone ID such as Z0123456789ABCDEFGHIJ"))]
LoopbackUrl = Annotated[
    StrictStr, AfterValidator(_pattern(_LOOPBACK_URL_RE, "http://127.0.0.1:<port> or http://localhost:<port> (loopback only)"))
]
AccountId = Annotated[StrictStr, AfterValidator(_pattern(re.compile(r"^\d{12}$"), "a 12-digit AWS account ID, quoted as a string"))]


def _positive_seconds(value: int) -> int:
    if value <= 0:
        raise ValueError("expected a positive whole number of seconds")
    return value


Seconds = Annotated[StrictInt, AfterValidator(_positive_seconds)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RecoveryObjective(_Model):
    """Recovery time and point objectives for one failure domain, in seconds."""

    rto_seconds: Seconds
    rpo_seconds: Seconds


class ResiliencePolicy(_Model):
    """An AWS Resilience Hub policy: RTO/RPO per failure domain.

    Default: seed 000's mission-critical numbers are in the example file, not here; every objective is required.
    """

    tier: Literal["MissionCritical", "Critical", "Important", "CoreServices", "NonCritical", "NotApplicable"] = "MissionCritical"
    region: RecoveryObjective
    az: RecoveryObjective
    hardware: RecoveryObjective
    software: RecoveryObjective


class HealthCheckSettings(_Model):
    """Route 53 health check of a regional endpoint. Default: HTTPS /health every 30 s, 3 failures."""

    path: Annotated[StrictStr, Field(pattern=r"^/[A-Za-z0-9._~/-]{0,254}$")] = "/health"
    request_interval_seconds: Literal[10, 30] = 30
    failure_threshold: Annotated[StrictInt, Field(ge=1, le=10)] = 3


class RegionSettings(_Model):
    """One region of an architecture: where it runs and its network."""

    region: Region
    vpc_cidr: VpcCidr
    az_count: Literal[2, 3] = 3
    availability_zones: tuple[StrictStr, ...] | None = Field(
        default=None,
        description="Default: the first az_count available zones named <region>a to <region>f, looked up at plan time.",
    )


class LambdaSettings(_Model):
    """Size of the API function in each region."""

    memory_mb: Annotated[StrictInt, Field(ge=128, le=10240)] = 256
    timeout_seconds: Annotated[StrictInt, Field(ge=1, le=29)] = 10
    reserved_concurrency: Annotated[StrictInt, Field(ge=1, le=1_000_000)] = 50


class TrafficSettings(_Model):
    """The application's expected peak, both regions together; each region is sized to carry all of it alone.

    Static stability: when one region drops out of DNS, the other must already have the capacity for the whole
    load, with no scaling and no control-plane call
    (https://docs.aws.amazon.com/whitepapers/latest/disaster-recovery-workloads-on-aws/disaster-recovery-options-in-the-cloud.html).
    From these two figures: each stage's throttle rate is the peak (burst twice that), and each function's reserved
    concurrency must be at least peak x average duration (Lambda's concurrency formula,
    https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html).
    """

    peak_requests_per_second: Annotated[StrictInt, Field(ge=1, le=10_000)] = 100
    average_duration_ms: Annotated[StrictInt, Field(ge=1, le=29_000)] = 200

    @property
    def required_concurrency(self) -> int:
        """Concurrent executions one region needs to serve the whole peak."""
        return -(-self.peak_requests_per_second * self.average_duration_ms // 1000)


class ApiSettings(_Model):
    """Who may call the REST API. Default: AWS_IAM (signed requests: SigV4A, for either region; examples/call_api.py);
    NONE makes it public, and the scan reports that choice as a suppression. The health check path is always public:
    Route 53 cannot sign."""

    authorization: Literal["AWS_IAM", "NONE"] = "AWS_IAM"


#: CloudWatch Synthetics runtimes for Python canaries that AWS lists and has not deprecated, newest first
#: (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Synthetics_Library_python_selenium.html).
#: Deprecated, so refused: syn-python-selenium-5.1 and older (4.0 to 5.1 on 3 February 2026, 2.1 and 3.0 on
#: 22 January 2026; https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Synthetics_Runtime_Support_Policy.html):
#: CreateCanary refuses a deprecated runtime, and a canary on one keeps running but can no longer be updated.
SYNTHETICS_PYTHON_RUNTIMES = (
    "syn-python-selenium-14.0",
    "syn-python-selenium-13.0",
    "syn-python-selenium-11.1",
    "syn-python-selenium-8.0",
    "syn-python-selenium-7.0",
)


def _canary_runtime(value: str) -> str:
    if value not in SYNTHETICS_PYTHON_RUNTIMES:
        raise ValueError(f"expected a supported Python Synthetics runtime, one of: {', '.join(SYNTHETICS_PYTHON_RUNTIMES)}")
    return value


class CanarySettings(_Model):
    """CloudWatch Synthetics canaries in every serving region, walking the path users take.

    Default: on, every 5 minutes, the newest supported Python runtime, artifacts kept 31 days. A canary runs at most
    once a minute and at least once an hour (rate(1 minute) to rate(1 hour) or cron; CreateCanary's Schedule).
    """

    enabled: StrictBool = True
    runtime_version: Annotated[StrictStr, AfterValidator(_canary_runtime)] = SYNTHETICS_PYTHON_RUNTIMES[0]
    interval_minutes: Annotated[StrictInt, Field(ge=1, le=60)] = 5
    artifact_retention_days: Annotated[StrictInt, Field(ge=1, le=455)] = 31  # SuccessRetentionPeriodInDays: 1 to 455


#: AWS Budgets: at most 5 notifications per budget (https://docs.aws.amazon.com/cost-management/latest/userguide/budgets-limits.html).
BUDGET_NOTIFICATIONS = 5


class BudgetSettings(_Model):
    """A monthly cost budget for the deployment's resources (every one is tagged Deployment=<project>-<environment>),
    alerting the alarm topic when actual cost passes each percentage. Default: 50, 80 and 100 % (seed 003).
    The Deployment tag must be activated as a cost allocation tag (Billing console) before the budget sees costs."""

    monthly_limit_usd: Annotated[StrictInt, Field(ge=1, le=10_000_000)]
    alert_percentages: Annotated[list[Annotated[StrictInt, Field(ge=1, le=1000)]], Field(min_length=1, max_length=BUDGET_NOTIFICATIONS)] = [
        50,
        80,
        100,
    ]

    @field_validator("alert_percentages")
    @classmethod
    def _distinct(cls, value: list[int]) -> list[int]:
        if len(set(value)) != len(value):
            raise ValueError("expected distinct percentages (each is one notification)")
        return sorted(value)


class OperationsSettings(_Model):
    """The operations layer of an architecture (seed 003): a CloudWatch dashboard and Synthetics canaries.
    Default: both on."""

    dashboard: StrictBool = True
    canaries: CanarySettings = CanarySettings()


LogRetentionDays = Literal[90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]


class _Architecture(_Model):
    """Settings every architecture has: switch, DNS, alarms, log retention, health check, resilience policy."""

    enabled: StrictBool = True
    domain_name: DomainName
    hosted_zone_id: HostedZoneId
    alarm_email: Email
    log_retention_days: LogRetentionDays = 365
    health_check: HealthCheckSettings = HealthCheckSettings()
    resilience_policy: ResiliencePolicy
    operations: OperationsSettings = OperationsSettings()


class ActiveActive(_Architecture):
    """Active/active serverless architecture (seed 000)."""

    primary: RegionSettings
    secondary: RegionSettings
    lambda_function: LambdaSettings = LambdaSettings()
    api: ApiSettings = ApiSettings()
    traffic: TrafficSettings = TrafficSettings()

    @property
    def regions(self) -> tuple[RegionSettings, RegionSettings]:
        return (self.primary, self.secondary)


class ScalingSize(_Model):
    """Auto Scaling group size and instance type of one tier."""

    instance_type: Annotated[StrictStr, Field(pattern=r"^[a-z][a-z0-9-]*\.[a-z0-9]+$"), AfterValidator(_instance_type)] = "t3.small"
    min_size: Annotated[StrictInt, Field(ge=0, le=100)]
    desired_capacity: Annotated[StrictInt, Field(ge=0, le=100)]
    max_size: Annotated[StrictInt, Field(ge=1, le=100)]

    @model_validator(mode="after")
    def _ordered(self) -> ScalingSize:
        if not self.min_size <= self.desired_capacity <= self.max_size:
            raise ValueError("expected min_size <= desired_capacity <= max_size")
        return self


class WarmStandbyRegion(RegionSettings):
    """One region of the warm standby: network plus tier sizes."""

    az_count: Literal[2, 3] = 2
    nat_gateways: Annotated[StrictInt, Field(ge=1, le=3)] = 2
    web: ScalingSize
    app: ScalingSize


#: PostgreSQL majors in RDS standard support (13 and older are extended support only, at extra cost), so the
#: parameter-group family `postgres<major>` exists (https://docs.aws.amazon.com/AmazonRDS/latest/PostgreSQLReleaseNotes/postgresql-release-calendar.html).
POSTGRES_MAJORS = ("14", "15", "16", "17")
#: Instance class families RDS for PostgreSQL offers
#: (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.DBInstanceClass.Support.html).
POSTGRES_CLASS_FAMILIES = (
    "t3", "t4g", "m5", "m5d", "m6g", "m6gd", "m6i", "m6id", "m6in", "m6idn", "m7g", "m7i", "m8g",
    "r5", "r5b", "r5d", "r6g", "r6gd", "r6i", "r6id", "r6in", "r6idn", "r7g", "r7i", "r8g", "x2g", "x2iedn",
)  # fmt: skip


def _postgres_version(value: str) -> str:
    if value.split(".", 1)[0] not in POSTGRES_MAJORS:
        raise ValueError(f"expected a PostgreSQL version of a major in RDS standard support: {', '.join(POSTGRES_MAJORS)} (such as 16.4)")
    return value


def _postgres_class(value: str) -> str:
    if value.split(".")[1] not in POSTGRES_CLASS_FAMILIES:
        raise ValueError(
            f"expected a class RDS for PostgreSQL offers, db.<family>.<size> with family one of: {', '.join(POSTGRES_CLASS_FAMILIES)}"
        )
    return value


@functools.cache
def _ec2_instance_types() -> frozenset[str]:
    """The instance types botocore's EC2 model lists, read once per process (the model is 2 MB)."""
    import botocore.session  # noqa: PLC0415 - only warm-standby sizes need EC2's model; --check stays fast otherwise

    return frozenset(botocore.session.get_session().get_service_model("ec2").shape_for("InstanceType").enum)


def _instance_type(value: str) -> str:
    """An EC2 instance type botocore's EC2 model lists (AWS maintains that enum)."""
    if value not in _ec2_instance_types():
        raise ValueError("expected an EC2 instance type such as t3.small (botocore's EC2 model lists them)")
    return value


#: Aurora PostgreSQL versions a global database takes: the lowest minor of each major in standard support
#: (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Concepts.Aurora_Fea_Regions_DB-eng.Feature.GlobalDatabase.html;
#: a live plan asks DescribeDBEngineVersions for SupportsGlobalDatabases, tools.quotas).
AURORA_GLOBAL_MINIMUMS = {"14": (14, 3), "15": (15, 2), "16": (16, 1), "17": (17, 4)}
#: A global database needs memory-optimized classes, db.r5 or later
#: (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database.configuration.requirements.html).
AURORA_GLOBAL_CLASS_FAMILIES = ("r5", "r6g", "r6i", "r7g", "r7i", "r8g", "x2g")
#: rds.global_db_rpo takes 20 seconds or more
#: (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database-disaster-recovery.html).
AURORA_GLOBAL_RPO_MINIMUM = 20


class DatabaseSettings(_Model):
    """The warm standby's database, by `engine`:

    - `postgres` (default): an RDS for PostgreSQL instance, Multi-AZ, and its cross-region read replica; the
      failover promotes the replica (minutes or longer), the failback rebuilds a replica.
    - `aurora-postgresql`: an Aurora PostgreSQL global database: a writer and a reader in two zones of the primary,
      a secondary cluster with one instance in the standby; the failover is the global database's managed failover
      (a few minutes), the failback its switchover (no data loss). `global_rpo_seconds` sets rds.global_db_rpo on
      the primary's cluster: commits wait while every secondary is further behind. `allocated_storage_gb` does not
      apply (Aurora storage grows by itself).
    """

    engine: Literal["postgres", "aurora-postgresql"] = "postgres"
    engine_version: Annotated[StrictStr, Field(pattern=r"^\d+(\.\d+)?$"), AfterValidator(_postgres_version)] = "16.4"
    instance_class: Annotated[StrictStr, Field(pattern=r"^db\.[a-z0-9]+\.[a-z0-9]+$"), AfterValidator(_postgres_class)] = "db.t3.medium"
    allocated_storage_gb: Annotated[StrictInt, Field(ge=20, le=65536)] = 50
    backup_retention_days: Annotated[StrictInt, Field(ge=7, le=35)] = 7
    global_rpo_seconds: Annotated[StrictInt, Field(ge=AURORA_GLOBAL_RPO_MINIMUM, le=3600)] | None = None

    @model_validator(mode="after")
    def _aurora_global(self) -> DatabaseSettings:
        if self.engine != "aurora-postgresql":
            if self.global_rpo_seconds is not None:
                raise ValueError("global_rpo_seconds applies to engine aurora-postgresql only (rds.global_db_rpo)")
            return self
        family = self.instance_class.split(".")[1]
        if family not in AURORA_GLOBAL_CLASS_FAMILIES:
            raise ValueError(
                f"instance_class {self.instance_class!r}: an Aurora global database needs a memory-optimized class, db.<family>.<size>"
                f" with family one of: {', '.join(AURORA_GLOBAL_CLASS_FAMILIES)}"
            )
        parts = self.engine_version.split(".")
        lowest = AURORA_GLOBAL_MINIMUMS[parts[0]]
        if len(parts) != 2 or (int(parts[0]), int(parts[1])) < lowest:
            allowed = ", ".join(f"{major}.{minor} or later" for major, minor in AURORA_GLOBAL_MINIMUMS.values())
            raise ValueError(f"engine_version {self.engine_version!r}: an Aurora global database takes major.minor, {allowed}")
        return self

    @property
    def aurora(self) -> bool:
        return self.engine == "aurora-postgresql"


class GeoRestriction(_Model):
    """Countries (ISO 3166-1 alpha-2 codes) CloudFront serves (whitelist) or refuses (blacklist)."""

    restriction_type: Literal["whitelist", "blacklist"]
    locations: Annotated[tuple[Annotated[StrictStr, Field(pattern=r"^[A-Z]{2}$")], ...], Field(min_length=1)]


class CloudFrontOrigin(_Model):
    """CloudFront: how it talks to each regional origin before failing over, and where it serves.

    Default: no geo restriction (a worldwide audience); the scan records that as a suppression of CKV_AWS_374.
    """

    connection_attempts: Annotated[StrictInt, Field(ge=1, le=3)] = 3
    connection_timeout_seconds: Annotated[StrictInt, Field(ge=1, le=10)] = 10
    read_timeout_seconds: Annotated[StrictInt, Field(ge=1, le=60)] = 30
    geo_restriction: GeoRestriction | None = None


class FailoverSettings(_Model):
    """How the warm standby decides to fail over, and who approves.

    Default: `manual` (seed 001): the primary's trouble starts the recovery plan, which runs its pre-checks and
    waits for an approval; the approvers get a page with the one command that approves. `automatic` skips the
    approval only when every independent signal agrees for `signal_seconds`: the Route 53 health check's alarm,
    the probe from the standby region, and an open AWS Health issue of the primary's services. Anything less
    still pages for an approval. `approvers` (IAM user or role ARNs) default to the approver role the standby
    stack creates. The readiness evaluation (a practice run) runs every `readiness_interval_minutes`.
    """

    mode: Literal["manual", "automatic"] = "manual"
    signal_seconds: Annotated[StrictInt, Field(ge=60, le=3600, multiple_of=60)] = 300
    approvers: Annotated[list[PrincipalArn], Field(max_length=10)] = []  # aws:approve takes at most 10
    approval_timeout_seconds: Annotated[StrictInt, Field(ge=300, le=604800)] = 3600
    readiness_interval_minutes: Annotated[StrictInt, Field(ge=15, le=1440)] = 60


class WarmStandby(_Architecture):
    """Warm-standby three-tier architecture (seeds 001, 002, 003)."""

    primary: WarmStandbyRegion
    standby: WarmStandbyRegion
    database: DatabaseSettings = DatabaseSettings()
    cloudfront: CloudFrontOrigin = CloudFrontOrigin()
    failover: FailoverSettings = FailoverSettings()

    @property
    def regions(self) -> tuple[WarmStandbyRegion, WarmStandbyRegion]:
        return (self.primary, self.standby)


class StateSettings(_Model):
    """Remote Terraform state: an S3 bucket replicated to a second region and a lock table in each.

    Default: failover is false, every backend uses the bucket and lock table in `region`; set it to true when
    that region is down to switch every backend to `replica_bucket` and the lock table in `replica_region`.
    `bootstrap_state: s3` keeps the bootstrap stack's own state in the bucket too (after `-migrate-state`).
    """

    bucket: BucketName
    region: Region
    replica_region: Region
    replica_bucket: BucketName | None = Field(default=None, description="Default: '<bucket>-replica'.")
    lock_table: TableName
    failover: StrictBool = False
    bootstrap_state: Literal["local", "s3"] = Field(
        default="local",
        description="Where state-bootstrap keeps its own state. Default: a local file (the bucket does not exist yet); "
        "s3 once it has been migrated into the bucket, so CI can deploy it like the other stacks.",
    )

    @property
    def replica_bucket_name(self) -> str:
        return self.replica_bucket or f"{self.bucket}-replica"

    @property
    def active_bucket(self) -> str:
        return self.replica_bucket_name if self.failover else self.bucket

    @property
    def active_region(self) -> str:
        return self.replica_region if self.failover else self.region


class EmulatorSettings(_Model):
    """Deploy into a local AWS emulator (moto server) instead of AWS.

    Every provider and the S3 backend call `endpoint`, and what the emulator cannot create is left out: Route 53
    Resolver DNS Firewall, DynamoDB global-table replicas (one table per region instead), backup selections, the
    Resilience Hub policy, the S3 Multi-Region Access Point, and the TLS-only Deny statements of bucket policies
    (moto ignores policy conditions, so they would deny everything), and the break-glass instance's own
    `monitoring` flag (no MonitorInstances; its launch template still asks for it), and CloudFront's own response
    headers policy (AWS's managed SecurityHeadersPolicy instead), the master secret's rotation schedule (moto would
    run the function in a container), the Multi-Region Access Points' VPC endpoint, and Security Hub (moto enables a
    hub but has no UpdateSecurityHubConfiguration or BatchEnableStandards), and AWS Backup's region settings (no
    UpdateRegionSettings), the Synthetics canaries (no StartCanary or DeleteCanary; their roles, buckets and alarms
    deploy) and the budget (no DescribeSubscribersForNotification). CloudFront reads reach the origin group
    through an ordered "*" behavior instead of the default one. Nothing else changes, so the stacks, their order
    and the state backend are exercised as in AWS. tests/test_emulator_mode.py asks the pinned moto for each
    missing call.
    """

    endpoint: LoopbackUrl


class AccountSecuritySettings(_Model):
    """The account's own security and audit services: GuardDuty and Security Hub (with the AWS Foundational Security
    Best Practices standard) and an AWS Config recorder in every region used, and one multi-region CloudTrail trail.

    Default: all on, created by this project. Set one to false when an organization's delegated administrator
    already enables it in the account: a second GuardDuty detector, Security Hub enablement or Config recorder in a
    region fails, and a second trail only doubles the bill.
    """

    guardduty: StrictBool = True
    security_hub: StrictBool = True
    cloudtrail: StrictBool = Field(
        default=True,
        description="One multi-region trail for the account (in the first region the deployment uses); false when an"
        " organization trail already records the account.",
    )
    config_recorder: StrictBool = Field(
        default=True,
        description="An AWS Config recorder and delivery channel per region, with the resilience rules; false when the"
        " organization already records the account (one recorder per region and account).",
    )


class DeploymentConfig(_Model):
    """The whole deployment: shared settings, the state backend and both architectures."""

    project: ProjectName
    environment: EnvironmentName
    account_id: AccountId
    tags: Annotated[dict[StrictStr, StrictStr], AfterValidator(_tag_map)] = Field(default_factory=dict)
    state: StateSettings
    active_active: ActiveActive | None = None
    warm_standby: WarmStandby | None = None
    account_security: AccountSecuritySettings = AccountSecuritySettings()
    budget: BudgetSettings | None = Field(
        default=None,
        description="Monthly cost budget of the whole deployment, alerting the first architecture's global alarm topic. Default: none.",
    )
    lambda_concurrency_quota: Annotated[StrictInt, Field(ge=1, le=1_000_000)] = Field(
        default=ACCOUNT_CONCURRENCY,
        description="The account's Lambda concurrent executions quota per region (Service Quotas L-B99A9384): GetAccountSettings"
        " shows it as AccountLimit.ConcurrentExecutions. New accounts often have less than the default 1000.",
    )
    emulator: EmulatorSettings | None = Field(default=None, description="Default: deploy to AWS. Usually set by --emulator-endpoint.")

    @property
    def emulated(self) -> bool:
        """True when stacks target a local emulator and leave out what it cannot create."""
        return self.emulator is not None

    @property
    def name_prefix(self) -> str:
        return f"{self.project}-{self.environment}"

    def state_key(self, stack_name: str) -> str:
        """One state object per stack: '<project>/<environment>/<stack>.tfstate'."""
        return f"{self.project}/{self.environment}/{stack_name}.tfstate"

    def enabled_architectures(self) -> Iterator[tuple[str, ActiveActive | WarmStandby]]:
        for key in ("active_active", "warm_standby"):
            arch = getattr(self, key)
            if arch is not None and arch.enabled:
                yield key, arch


# --- whole-file rules that span fields ---


def _subnet_room_problems(arch: WarmStandby, tier: str) -> list[Problem]:
    """Each region's `tier` subnets hold the failover size (the primary's max_size, spread over the zones) beside the
    load balancer's free addresses and, in the app tier, the interface endpoints' network interfaces."""
    problems = []
    most = getattr(arch.primary, tier).max_size
    for role, settings in (("primary", arch.primary), ("standby", arch.standby)):
        prefix = ipaddress.IPv4Network(settings.vpc_cidr).prefixlen
        if prefix > ALB_MAX_VPC_PREFIX:
            continue  # refused already: too small for a load balancer
        zones = len(settings.availability_zones) if settings.availability_zones else settings.az_count
        subnet = 2 ** (32 - prefix - 4)
        taken = SUBNET_RESERVED_ADDRESSES + ALB_FREE_ADDRESSES + (len(THREE_TIER_ENDPOINTS) + 1 if tier == "app" else 0)
        if -(-most // zones) > subnet - taken:
            problems.append(
                Problem(
                    f"warm_standby.{role}.vpc_cidr",
                    settings.vpc_cidr,
                    f"expected {tier} subnets with room for warm_standby.primary.{tier}.max_size ({most}) over {zones} zones:"
                    f" {subnet} addresses each, {taken} taken by AWS, the load balancer and endpoints, leave {subnet - taken}",
                )
            )
    return problems


def _concurrency_problems(cfg: DeploymentConfig) -> list[Problem]:
    """The active/active functions' reserved concurrency against the peak and the account's stated quota."""
    if cfg.active_active is None or not cfg.active_active.enabled:
        return []
    problems: list[Problem] = []
    traffic, function = cfg.active_active.traffic, cfg.active_active.lambda_function
    quota = cfg.lambda_concurrency_quota
    reservable = quota - UNRESERVED_CONCURRENCY - HEALTH_CONCURRENCY
    if reservable < traffic.required_concurrency:
        problems.append(
            Problem(
                "lambda_concurrency_quota",
                quota,
                f"expected at least {traffic.required_concurrency + UNRESERVED_CONCURRENCY + HEALTH_CONCURRENCY}: the API"
                f" function needs {traffic.required_concurrency} reserved for the peak, the health function"
                f" {HEALTH_CONCURRENCY}, and Lambda keeps {UNRESERVED_CONCURRENCY} unreserved; ask AWS for an increase"
                " (Service Quotas, L-B99A9384)",
            )
        )
    elif function.reserved_concurrency > reservable:
        problems.append(
            Problem(
                "active_active.lambda_function.reserved_concurrency",
                function.reserved_concurrency,
                f"expected at most {reservable}: the account has {quota} concurrent executions per region"
                f" (lambda_concurrency_quota), keeps {UNRESERVED_CONCURRENCY} unreserved, and the health function reserves"
                f" {HEALTH_CONCURRENCY}",
            )
        )
    if function.reserved_concurrency < traffic.required_concurrency:
        problems.append(
            Problem(
                "active_active.lambda_function.reserved_concurrency",
                function.reserved_concurrency,
                f"expected at least {traffic.required_concurrency}: one region must serve the whole peak"
                f" (active_active.traffic: {traffic.peak_requests_per_second} requests/s x {traffic.average_duration_ms} ms)",
            )
        )
    return problems


def _sizing_problems(cfg: DeploymentConfig) -> list[Problem]:
    """Zones the account has, subnet sizes for load balancers, tiers that can serve, and policies that mean something."""
    problems: list[Problem] = []
    archs = list(cfg.enabled_architectures())
    for key, arch in archs:
        second = "secondary" if key == "active_active" else "standby"
        for role, settings in (("primary", arch.regions[0]), (second, arch.regions[1])):
            offered = ACCOUNT_AZ_COUNT.get(settings.region, 3)
            if settings.availability_zones is None and settings.az_count > offered:
                problems.append(
                    Problem(
                        f"{key}.{role}.az_count",
                        settings.az_count,
                        f"expected at most {offered}: {settings.region} gives most accounts {offered} zones"
                        f" (name {key}.{role}.availability_zones to use more)",
                    )
                )
            prefix = ipaddress.IPv4Network(settings.vpc_cidr).prefixlen
            if key == "warm_standby" and prefix > ALB_MAX_VPC_PREFIX:
                problems.append(
                    Problem(
                        f"{key}.{role}.vpc_cidr",
                        settings.vpc_cidr,
                        f"expected /{ALB_MAX_VPC_PREFIX} or shorter: its load balancers need /27 subnets (a sixteenth of the VPC)",
                    )
                )
        for domain, objective in arch.resilience_policy.model_dump().items():
            if isinstance(objective, dict) and objective["rpo_seconds"] > objective["rto_seconds"]:
                problems.append(
                    Problem(
                        f"{key}.resilience_policy.{domain}.rpo_seconds",
                        objective["rpo_seconds"],
                        f"expected at most rto_seconds ({objective['rto_seconds']}): more data lost than the outage lasts cannot be meant",
                    )
                )
    if cfg.warm_standby is not None and cfg.warm_standby.enabled:
        database, region_rpo = cfg.warm_standby.database, cfg.warm_standby.resilience_policy.region.rpo_seconds
        if database.global_rpo_seconds is not None and database.global_rpo_seconds > region_rpo:
            problems.append(
                Problem(
                    "warm_standby.database.global_rpo_seconds",
                    database.global_rpo_seconds,
                    f"expected at most warm_standby.resilience_policy.region.rpo_seconds ({region_rpo}): commits should wait before"
                    " the objective is lost, not after",
                )
            )
        for tier in ("web", "app"):
            primary, standby = getattr(cfg.warm_standby.primary, tier), getattr(cfg.warm_standby.standby, tier)
            if primary.min_size < 1:
                problems.append(
                    Problem(f"warm_standby.primary.{tier}.min_size", primary.min_size, "expected at least 1: the primary serves traffic")
                )
            problems += _subnet_room_problems(cfg.warm_standby, tier)
            for field in ("min_size", "desired_capacity", "max_size"):
                if getattr(standby, field) > getattr(primary, field):
                    problems.append(
                        Problem(
                            f"warm_standby.standby.{tier}.{field}",
                            getattr(standby, field),
                            f"expected at most warm_standby.primary.{tier}.{field} ({getattr(primary, field)}): the standby is scaled down",
                        )
                    )
    domains = [(key, arch.domain_name) for key, arch in archs]
    if len(domains) == 2 and domains[0][1] == domains[1][1]:
        problems.append(
            Problem(
                "warm_standby.domain_name",
                domains[1][1],
                "expected a name other than active_active.domain_name: each architecture owns its records",
            )
        )
    return problems


def _cross_field_problems(cfg: DeploymentConfig) -> list[Problem]:
    problems: list[Problem] = []
    if cfg.state.region == cfg.state.replica_region:
        problems.append(
            Problem("state.replica_region", cfg.state.replica_region, f"expected a region other than state.region ({cfg.state.region})")
        )
    if cfg.state.replica_bucket == cfg.state.bucket:
        problems.append(Problem("state.replica_bucket", cfg.state.replica_bucket, "expected a name other than state.bucket"))

    archs = list(cfg.enabled_architectures())
    if not archs:
        problems.append(
            Problem("active_active.enabled", MISSING, "expected at least one architecture (active_active or warm_standby) to be enabled")
        )

    vpcs: list[tuple[str, ipaddress.IPv4Network]] = []
    for key, arch in archs:
        first, second = arch.regions
        second_name = "secondary" if key == "active_active" else "standby"
        if first.region == second.region:
            problems.append(
                Problem(f"{key}.{second_name}.region", second.region, f"expected a region other than {key}.primary.region ({first.region})")
            )
        for role, settings in (("primary", first), (second_name, second)):
            path = f"{key}.{role}"
            vpcs.append((f"{path}.vpc_cidr", ipaddress.IPv4Network(settings.vpc_cidr)))
            zones = settings.availability_zones
            if zones is not None:
                if len(zones) != settings.az_count or len(set(zones)) != len(zones):
                    problems.append(
                        Problem(f"{path}.availability_zones", list(zones), f"expected {settings.az_count} distinct zones (az_count)")
                    )
                for zone in zones:
                    if not re.fullmatch(rf"{re.escape(settings.region)}[a-z]", zone):
                        problems.append(
                            Problem(f"{path}.availability_zones", zone, f"expected a zone of {settings.region}, such as {settings.region}a")
                        )
        if key == "warm_standby":
            for role, settings in (("primary", arch.primary), ("standby", arch.standby)):
                if settings.nat_gateways > settings.az_count:
                    problems.append(
                        Problem(
                            f"warm_standby.{role}.nat_gateways",
                            settings.nat_gateways,
                            f"expected at most az_count ({settings.az_count}) NAT gateways",
                        )
                    )

    problems += _concurrency_problems(cfg)
    problems += _sizing_problems(cfg)

    for index, (path, network) in enumerate(vpcs):
        for other_path, other in vpcs[:index]:
            if network.overlaps(other):
                problems.append(Problem(path, str(network), f"expected a range that does not overlap {other_path} ({other})"))
    return problems


# --- loading ---


def _loc_path(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif isinstance(item, str) and not item.startswith("function-after"):
            parts.append(("." if parts else "") + item)
    return "".join(parts)


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The field names allowed at the parent of loc, walking the model tree."""
    current: Any = model
    for item in loc[:-1]:
        if not (isinstance(current, type) and issubclass(current, BaseModel)) or not isinstance(item, str):
            return []
        field = current.model_fields.get(item)
        if field is None:
            return []
        current = _model_in(field.annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_in(arg)
        if found is not None:
            return found
    return None


#: Pydantic error types where a quoted number ("3") was given for a number.
NUMBER_ERRORS = frozenset({"int_type", "int_parsing", "float_type", "float_parsing", "literal_error"})


def _problem_from(error: dict[str, Any]) -> Problem:
    path = _loc_path(error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        allowed = _allowed_keys(DeploymentConfig, error["loc"])
        given = error["loc"][-1]
        close = difflib.get_close_matches(str(given), allowed, n=1, cutoff=0.8)
        hint = f" (did you mean {close[0]}?)" if close else ""
        return Problem(path, error["input"], f"unknown key{hint}; allowed keys here: {', '.join(allowed)}")
    if kind == "missing":
        return Problem(path, MISSING, "this key is required")
    message = error["msg"]
    for prefix in ("Value error, ", "Input should be "):
        if message.startswith(prefix):
            message = message[len(prefix) :]
            message = message if prefix == "Value error, " else f"expected {message}"
    if not message.startswith("expected"):
        message = f"expected a valid value: {message[0].lower()}{message[1:]}"
    given = error.get("input", MISSING)
    if kind == "string_type" and isinstance(given, int | float) and not isinstance(given, bool):
        message += f' (YAML read a number: quote it, "{given}", to give text such as an account ID)'
    elif kind in NUMBER_ERRORS and isinstance(given, str) and re.fullmatch(r"\s*-?\d+(\.\d+)?\s*", given):
        message += " (YAML read text: write the number without quotes)"
    return Problem(path, given, message)


def parse_config(data: Any, *, source: str | None = None) -> DeploymentConfig:
    """Validate already-parsed YAML data; raises InputError listing every problem."""
    if not isinstance(data, dict):
        raise InputError(Problem("", data, "expected a mapping of settings at the top level"), source=source)
    try:
        cfg = DeploymentConfig.model_validate(data)
    except ValidationError as exc:
        problems = [_problem_from(error) for error in exc.errors(include_url=False)]
        raise InputError(problems, source=source) from None
    problems = _cross_field_problems(cfg)
    if problems:
        raise InputError(problems, source=source)
    return cfg


def load_config(path: str | Path, *, emulator_endpoint: str | None = None) -> DeploymentConfig:
    """Read and validate one deployment file; raises InputError naming the file on any problem.

    `emulator_endpoint` sets `emulator.endpoint` (validated like the file's own settings)."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(Problem("", source, f"expected a readable YAML file ({exc.strerror})"), source=source) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        reason = ", ".join(part for part in (getattr(exc, "context", None), getattr(exc, "problem", None)) if part) or str(exc)
        raise InputError(Problem("", f"<YAML syntax error at {where}: {reason}>", "expected valid YAML"), source=source) from None
    duplicates = _duplicate_keys(yaml.compose(text))
    if duplicates:
        raise InputError(duplicates, source=source)
    if emulator_endpoint is not None and isinstance(data, dict):
        data = {**data, "emulator": {"endpoint": emulator_endpoint}}
    return parse_config(data, source=source)


def _duplicate_keys(node: yaml.Node | None, path: str = "") -> list[Problem]:
    """Every key a mapping sets twice (YAML keeps the last one silently: a second `failover:` would flip a switch)."""
    problems: list[Problem] = []
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            name = str(key.value)
            where = f"{path}.{name}" if path else name
            line = key.start_mark.line + 1
            if name in seen:
                problems.append(Problem(where, name, f"expected each key once: lines {seen[name]} and {line} both set it"))
            seen.setdefault(name, line)
            problems += _duplicate_keys(value, where)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            problems += _duplicate_keys(item, f"{path}[{index}]")
    return problems
