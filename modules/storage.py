"""S3 bucket with the safeguards on: versioned, KMS-encrypted, private, TLS only, replicable to another region."""

from __future__ import annotations

from collections.abc import Sequence

from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
)
from cdktf_cdktf_provider_aws.s3_bucket_logging import S3BucketLoggingA
from cdktf_cdktf_provider_aws.s3_bucket_notification import S3BucketNotification
from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import S3BucketOwnershipControls
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktf_cdktf_provider_aws.s3_bucket_replication_configuration import (
    S3BucketReplicationConfigurationA,
    S3BucketReplicationConfigurationRule,
)
from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
)
from cdktf_cdktf_provider_aws.s3_bucket_versioning import S3BucketVersioningA
from constructs import Construct

from modules.base import ANY_PRINCIPAL, RegionalStack, policy_json
from modules.config import BUCKET_NAME_RE
from modules.errors import InputError
from modules.iam import ServiceRole
from modules.kms import EncryptionKey
from modules.suppressions import suppress


def replication_rule_id(destination_region: str) -> str:
    """The replication rule's ID: the RuleId dimension of its replication metrics (ReplicationLatency)."""
    return f"replicate-all-to-{destination_region}"


class _Bucket(Construct):
    """What every bucket construct here exposes for composition: its name and ARN."""

    bucket: S3Bucket

    @property
    def bucket_name(self) -> str:
        return self.bucket.bucket

    @property
    def bucket_arn(self) -> str:
        return self.bucket.arn


class SecureBucket(_Bucket):
    """A versioned bucket encrypted with `key` (bucket key on), all public access blocked, ACLs disabled, its
    server access logs written to `access_logs` and its object events published to EventBridge.

    Default: requests without TLS 1.2+ are denied; old versions expire after 90 days and incomplete uploads after 7;
    `force_destroy=False`, so Terraform never deletes a bucket that still holds objects.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        bucket_name: str,
        key: EncryptionKey,
        access_logs: LogDeliveryBucket,
        noncurrent_version_expiration_days: int = 90,
        force_destroy: bool = False,
        provider: AwsProvider | None = None,
    ) -> None:
        super().__init__(scope, id)
        if noncurrent_version_expiration_days < 1:
            raise InputError.single(
                f"{self.node.path}.noncurrent_version_expiration_days", noncurrent_version_expiration_days, "expected at least 1 day"
            )
        self.env = RegionalStack.of(self).env_for(provider)
        check_bucket_name(self, bucket_name)
        if access_logs.env.region != self.env.region or not access_logs.server_access_logs:
            raise InputError.single(
                f"{self.node.path}.access_logs",
                access_logs.node.path,
                f"expected a LogDeliveryBucket in {self.env.region} created with server_access_logs=True",
            )
        self.key = key
        self.provider = provider
        self.bucket = S3Bucket(
            self, "bucket", bucket=bucket_name, force_destroy=force_destroy, tags={"Name": bucket_name}, provider=provider
        )
        self.versioning = S3BucketVersioningA(
            self, "versioning", bucket=self.bucket.id, versioning_configuration={"status": "Enabled"}, provider=provider
        )
        encrypt(self, self.bucket, key, provider)
        block_public_access(self, self.bucket, provider)
        publish_events(self, self.bucket, provider)
        S3BucketLoggingA(
            self,
            "access-logs",
            bucket=self.bucket.id,
            target_bucket=access_logs.bucket.id,
            target_prefix=f"{SERVER_ACCESS_LOG_PREFIX}{bucket_name}/",
            provider=provider,
            depends_on=[access_logs.policy] if access_logs.policy else None,  # S3 checks the target grants log delivery
        )
        S3BucketOwnershipControls(
            self, "ownership", bucket=self.bucket.id, rule={"object_ownership": "BucketOwnerEnforced"}, provider=provider
        )
        self.policy = bucket_policy(self, self.bucket, tls_only_statements(self.bucket.arn), provider)
        expire_with_lifecycle(
            self,
            self.bucket,
            rule_id="expire-old-versions-and-abandoned-uploads",
            noncurrent_days=noncurrent_version_expiration_days,
            after=self.versioning,
            provider=provider,
        )

    def replicate_to(self, id: str, destination: SecureBucket, *, role_name: str, replication_time_minutes: int | None = 15) -> None:
        """Replicate every object (and delete markers) to `destination`, re-encrypted with its key.

        Default: Replication Time Control on, 15 minutes, with replication metrics; None turns RTC off.
        """
        if destination.env.region == self.env.region:
            raise InputError.single(
                f"{self.node.path}.replicate_to", destination.env.region, f"expected a bucket outside {self.env.region}"
            )
        if replication_time_minutes not in (None, 15):
            raise InputError.single(f"{self.node.path}.replication_time_minutes", replication_time_minutes, "expected 15 or None")
        role = ServiceRole(
            self,
            f"{id}-role",
            name=role_name,
            service="s3.amazonaws.com",
            statements=[
                {
                    "Sid": "ReadSourceConfiguration",
                    "Effect": "Allow",
                    "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
                    "Resource": [self.bucket.arn],
                },
                {
                    "Sid": "ReadSourceVersions",
                    "Effect": "Allow",
                    "Action": ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"],
                    "Resource": [f"{self.bucket.arn}/*"],
                },
                {
                    "Sid": "WriteReplicas",
                    "Effect": "Allow",
                    "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
                    "Resource": [f"{destination.bucket.arn}/*"],
                },
                {
                    "Sid": "DecryptWithSourceKey",
                    "Effect": "Allow",
                    "Action": ["kms:Decrypt"],
                    "Resource": [self.key.key_arn],
                },
                {
                    "Sid": "EncryptWithDestinationKey",
                    "Effect": "Allow",
                    "Action": ["kms:Encrypt", "kms:GenerateDataKey"],
                    "Resource": [destination.key.key_arn],
                },
            ],
        )
        destination_config: dict[str, object] = {
            "bucket": destination.bucket.arn,
            "storage_class": "STANDARD",
            "encryption_configuration": {"replica_kms_key_id": destination.key.key_arn},
        }
        if replication_time_minutes is not None:
            destination_config["replication_time"] = {"status": "Enabled", "time": {"minutes": replication_time_minutes}}
            destination_config["metrics"] = {"status": "Enabled", "event_threshold": {"minutes": replication_time_minutes}}
        S3BucketReplicationConfigurationA(
            self,
            id,
            bucket=self.bucket.id,
            role=role.role_arn,
            rule=[
                S3BucketReplicationConfigurationRule(
                    id=replication_rule_id(destination.env.region),
                    status="Enabled",
                    priority=1,
                    filter={},
                    delete_marker_replication={"status": "Enabled"},
                    source_selection_criteria={"sse_kms_encrypted_objects": {"status": "Enabled"}},
                    destination=destination_config,
                )
            ],
            depends_on=[self.versioning, destination.versioning],
            provider=self.provider,
        )


#: Elastic Load Balancing's log-delivery accounts in regions older than August 2022; newer regions use the
#: service principal logdelivery.elasticloadbalancing.amazonaws.com.
ELB_LOG_ACCOUNTS = {
    "us-east-1": "127311923021",
    "us-east-2": "033677994240",
    "us-west-1": "027434742980",
    "us-west-2": "797873946194",
    "af-south-1": "098369216593",
    "ap-east-1": "754344448648",
    "ap-northeast-1": "582318560864",
    "ap-northeast-2": "600734575887",
    "ap-northeast-3": "383597477331",
    "ap-south-1": "718504428378",
    "ap-southeast-1": "114774131450",
    "ap-southeast-2": "783225319266",
    "ca-central-1": "985666609251",
    "eu-central-1": "054676820928",
    "eu-north-1": "897822967062",
    "eu-south-1": "635631232127",
    "eu-west-1": "156460612806",
    "eu-west-2": "652711504416",
    "eu-west-3": "009996457667",
    "me-south-1": "076674570225",
    "sa-east-1": "507241528517",
}


def load_balancer_log_statement(bucket_arn: str, region: str, account_id: str) -> dict[str, object]:
    """Let Elastic Load Balancing of `region` write this account's access logs under AWSLogs/."""
    principal = (
        {"AWS": f"arn:aws:iam::{ELB_LOG_ACCOUNTS[region]}:root"}
        if region in ELB_LOG_ACCOUNTS
        else {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}
    )
    return {
        "Sid": "LoadBalancerAccessLogs",
        "Effect": "Allow",
        "Principal": principal,
        "Action": "s3:PutObject",
        "Resource": f"{bucket_arn}/AWSLogs/{account_id}/*",
    }


#: ELB access logs: "The only server-side encryption option that's supported is Amazon S3-managed keys (SSE-S3)"
#: (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html).
ELB_LOGS_PAGE = "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html"


class LogDeliveryBucket(_Bucket):
    """A private bucket that AWS services deliver logs to.

    Encryption: with `key`, SSE-KMS with that customer-managed key and an S3 Bucket Key; the key must let
    logging.s3.amazonaws.com use it (`EncryptionKey(service_principals=[SERVER_ACCESS_LOGGING])`). S3 server access
    logging writes to such a bucket (aws-cdk #25350 proved it and lifted its guard). Without `key`, SSE-S3: the only
    encryption ELB access logs take (ELB_LOGS_PAGE), and what CloudFront standard logging is kept on here.

    Default: ACLs disabled; `acl_delivery=True` enables object ACLs (BucketOwnerPreferred), which CloudFront
    standard logging needs. `load_balancer_logs_from` (region, account) lets that region's load balancers write.
    `server_access_logs=True` accepts S3 server access logs of this account's buckets under `s3/`;
    `delivery_statements` let other services deliver (e.g. `trail_delivery_statements`).
    Everything else is locked down: public access blocked, TLS 1.2+ only, versioned, objects expire after
    `retention_days` (Default: 365), object events go to EventBridge. The checks a log bucket cannot meet
    (its own access log, replication, SSE-KMS) are suppressed here with their reasons.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        bucket_name: str,
        retention_days: int = 365,
        acl_delivery: bool = False,
        load_balancer_logs_from: tuple[str, str] | None = None,
        server_access_logs: bool = False,
        key: EncryptionKey | None = None,
        delivery_statements: Sequence[dict[str, object]] = (),
        provider: AwsProvider | None = None,
    ) -> None:
        super().__init__(scope, id)
        if key is not None and (load_balancer_logs_from is not None or acl_delivery):
            raise InputError.single(
                f"{self.node.path}.key",
                key.alias_name,
                f"expected no key with ELB or CloudFront log delivery (ELB access logs take SSE-S3 only, {ELB_LOGS_PAGE})",
            )
        self.env = RegionalStack.of(self).env_for(provider)
        self.server_access_logs = server_access_logs
        check_bucket_name(self, bucket_name)
        self.bucket = S3Bucket(self, "bucket", bucket=bucket_name, tags={"Name": bucket_name}, provider=provider)
        if not server_access_logs:  # checkov counts a bucket that receives server access logs as logged
            suppress(self.bucket, "CKV_AWS_18", "this bucket is a log destination; logging it elsewhere only moves the question")
        suppress(self.bucket, "CKV_AWS_144", "logs stay in the region that wrote them: each region has its own log bucket")
        writers = [
            "S3 server access logging" if server_access_logs else "",
            "ELB access logging" if load_balancer_logs_from else "",
            "CloudFront standard logging (cross-account, through the ACL)" if acl_delivery else "",
        ]
        if key is None:
            suppress(
                self.bucket,
                "CKV_AWS_145",
                f"written by {', '.join(filter(None, writers)) or 'AWS log delivery'}: SSE-S3 (ELB takes nothing else, {ELB_LOGS_PAGE})",
            )
        versioning = S3BucketVersioningA(
            self, "versioning", bucket=self.bucket.id, versioning_configuration={"status": "Enabled"}, provider=provider
        )
        encrypt(self, self.bucket, key, provider)
        block_public_access(self, self.bucket, provider)
        publish_events(self, self.bucket, provider)
        ownership = S3BucketOwnershipControls(
            self,
            "ownership",
            bucket=self.bucket.id,
            rule={"object_ownership": "BucketOwnerPreferred" if acl_delivery else "BucketOwnerEnforced"},
            provider=provider,
        )
        if acl_delivery:
            suppress(ownership, "CKV2_AWS_65", "CloudFront standard logging delivers through object ACLs, so ACLs stay enabled")
        statements = tls_only_statements(self.bucket.arn)
        if server_access_logs:
            statements.append(server_access_log_statement(self.bucket.arn, self.env.account_id))
        if load_balancer_logs_from is not None:
            statements.append(load_balancer_log_statement(self.bucket.arn, *load_balancer_logs_from))
        statements += delivery_statements
        self.policy = bucket_policy(self, self.bucket, statements, provider)
        expire_with_lifecycle(
            self,
            self.bucket,
            rule_id="expire-logs",
            noncurrent_days=30,
            current_days=retention_days,
            after=versioning,
            provider=provider,
        )

    @property
    def regional_domain_name(self) -> str:
        return self.bucket.bucket_regional_domain_name


#: The service principal that writes S3 server access logs; a key that encrypts their bucket lets it use the key.
SERVER_ACCESS_LOGGING = "logging.s3.amazonaws.com"
#: Key prefix under which a LogDeliveryBucket receives S3 server access logs (then the source bucket's name).
SERVER_ACCESS_LOG_PREFIX = "s3/"


def server_access_log_statement(bucket_arn: str, account_id: str) -> dict[str, object]:
    """Let the S3 logging service write server access logs of `account_id`'s buckets (they write under s3/)."""
    return {
        "Sid": "S3ServerAccessLogs",
        "Effect": "Allow",
        "Principal": {"Service": SERVER_ACCESS_LOGGING},
        "Action": "s3:PutObject",
        "Resource": f"{bucket_arn}/*",  # a log bucket holds only logs; prefixes are set by each source bucket
        "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
    }


def encrypt(scope: Construct, bucket: S3Bucket, key: EncryptionKey | None, provider: AwsProvider | None) -> None:
    """Default encryption of `bucket`: SSE-KMS with `key` and an S3 Bucket Key, or SSE-S3 when there is no key."""
    by_default = {"sse_algorithm": "aws:kms", "kms_master_key_id": key.key_arn} if key is not None else {"sse_algorithm": "AES256"}
    rule = S3BucketServerSideEncryptionConfigurationRuleA(
        apply_server_side_encryption_by_default=by_default, bucket_key_enabled=True if key is not None else None
    )
    S3BucketServerSideEncryptionConfigurationA(scope, "encryption", bucket=bucket.id, rule=[rule], provider=provider)


def check_bucket_name(scope: Construct, bucket_name: str) -> None:
    """Refuse a name S3 would refuse at apply time (derived names can outgrow 63 characters)."""
    if not BUCKET_NAME_RE.match(bucket_name):
        raise InputError.single(
            f"{scope.node.path}.bucket_name",
            bucket_name,
            "expected 3-63 characters of a-z, 0-9, '.' and '-' (shorten project or environment)",
        )


def publish_events(scope: Construct, bucket: S3Bucket, provider: AwsProvider | None = None) -> S3BucketNotification:
    """Send the bucket's object events to EventBridge, where rules can alert on deletes or replication failures."""
    return S3BucketNotification(scope, "events", bucket=bucket.id, eventbridge=True, provider=provider)


def expire_with_lifecycle(
    scope: Construct,
    bucket: S3Bucket,
    *,
    rule_id: str,
    noncurrent_days: int,
    after: S3BucketVersioningA,
    current_days: int | None = None,
    provider: AwsProvider | None = None,
) -> S3BucketLifecycleConfiguration:
    """One lifecycle rule for the whole bucket: old versions expire, incomplete uploads are aborted after 7 days,
    and current objects expire too when `current_days` is given. Created after versioning is on."""
    return S3BucketLifecycleConfiguration(
        scope,
        "lifecycle",
        bucket=bucket.id,
        rule=[
            S3BucketLifecycleConfigurationRule(
                id=rule_id,
                status="Enabled",
                filter=[S3BucketLifecycleConfigurationRuleFilter()],
                expiration=[S3BucketLifecycleConfigurationRuleExpiration(days=current_days)] if current_days else None,
                noncurrent_version_expiration=[
                    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(noncurrent_days=noncurrent_days)
                ],
                abort_incomplete_multipart_upload=[
                    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(days_after_initiation=7)
                ],
            )
        ],
        depends_on=[after],
        provider=provider,
    )


def block_public_access(scope: Construct, bucket: S3Bucket, provider: AwsProvider | None = None) -> S3BucketPublicAccessBlock:
    """All four public-access blocks on."""
    return S3BucketPublicAccessBlock(
        scope,
        "public-access-block",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        provider=provider,
    )


def bucket_policy(
    scope: Construct, bucket: S3Bucket, statements: list[dict[str, object]], provider: AwsProvider | None = None
) -> S3BucketPolicy | None:
    """The bucket's policy. In emulator mode the conditional denies are left out (moto ignores conditions, so
    they would deny every request), and a policy left empty is not created."""
    if RegionalStack.of(scope).emulated:
        statements = [statement for statement in statements if not statement["Sid"].startswith("Deny")]
    if not statements:
        return None
    return S3BucketPolicy(scope, "policy", bucket=bucket.id, policy=policy_json(statements), provider=provider)


def tls_only_statements(bucket_arn: str) -> list[dict[str, object]]:
    """Bucket policy statements that refuse plain HTTP and TLS below 1.2."""
    resources = [bucket_arn, f"{bucket_arn}/*"]
    return [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": ANY_PRINCIPAL,
            "Action": "s3:*",
            "Resource": resources,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        {
            "Sid": "DenyTlsBelow12",
            "Effect": "Deny",
            "Principal": ANY_PRINCIPAL,
            "Action": "s3:*",
            "Resource": resources,
            "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}},
        },
    ]
