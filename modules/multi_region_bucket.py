"""Two buckets in two regions that replicate to each other, behind one S3 Multi-Region Access Point.

Rules from the S3 User Guide: a Multi-Region Access Point's name is 3-50 lowercase letters, digits and hyphens,
and its buckets cannot change after creation
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/multi-region-access-point-naming.html,
https://docs.aws.amazon.com/AmazonS3/latest/userguide/MultiRegionAccessPointRestrictions.html); two-way
replication needs versioning on both buckets and a rule in each direction
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication.html).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_aws.s3_control_multi_region_access_point import (
    S3ControlMultiRegionAccessPoint,
    S3ControlMultiRegionAccessPointDetails,
    S3ControlMultiRegionAccessPointDetailsRegion,
)
from cdktf_cdktf_provider_aws.ssm_parameter import SsmParameter
from constructs import Construct

from modules.base import RegionalStack
from modules.errors import InputError
from modules.kms import EncryptionKey
from modules.storage import SERVER_ACCESS_LOGGING, LogDeliveryBucket, SecureBucket
from modules.suppressions import suppress

ACCESS_POINT_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,48})[a-z0-9]$")


@dataclass(frozen=True)
class BucketSite:
    """One side of the pair: a label for construct IDs ("primary"), its region's bucket and log bucket names, and
    the provider of that region (None: the stack's own)."""

    label: str
    bucket_name: str
    log_bucket_name: str
    provider: AwsProvider | None = None


class MultiRegionBucket(Construct):
    """A SecureBucket per site, each with its own key (alias `name`) and server-access-log bucket, replicating every
    object to the other within 15 minutes (RTC), and a Multi-Region Access Point named `name` over both.

    Default: the access point blocks all public access. In the emulator there is no access point (S3 Control
    prefixes the account ID to the endpoint host, which would resolve through DNS off the machine).
    `arn_parameter`: an SSM parameter of that name in each site's region holds the access point's ARN (its alias is
    generated), so a failover finds it there; the access point's own control plane answers in us-west-2 only
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/MrapOperations.html).

    Attributes: `buckets` (by region), `access_point` (None in the emulator), `arn_parameters` (by region).
    """

    def __init__(self, scope: Construct, id: str, *, name: str, sites: Sequence[BucketSite], arn_parameter: str | None = None) -> None:
        super().__init__(scope, id)
        if len(sites) != 2 or sites[0].label == sites[1].label:
            raise InputError.single(f"{self.node.path}.sites", [site.label for site in sites], "expected two sites with distinct labels")
        if not ACCESS_POINT_NAME.match(name):
            raise InputError.single(f"{self.node.path}.name", name, "expected 3 to 50 lowercase letters, digits or hyphens")
        stack = RegionalStack.of(self)
        self.buckets: dict[str, SecureBucket] = {}
        for site in sites:
            region = stack.env_for(site.provider).region
            key = EncryptionKey(
                self,
                f"key-{site.label}",
                alias=name,
                description=f"assets in {region}",
                service_principals=[SERVER_ACCESS_LOGGING],  # the access logs are encrypted with it too
                provider=site.provider,
            )
            logs = LogDeliveryBucket(
                self, f"logs-{site.label}", bucket_name=site.log_bucket_name, server_access_logs=True, key=key, provider=site.provider
            )
            self.buckets[region] = SecureBucket(
                self, f"bucket-{site.label}", bucket_name=site.bucket_name, key=key, access_logs=logs, provider=site.provider
            )
        (first_region, first), (second_region, second) = self.buckets.items()
        first.replicate_to(f"to-{sites[1].label}", second, role_name=f"{name}-to-{second_region}")
        second.replicate_to(f"to-{sites[0].label}", first, role_name=f"{name}-to-{first_region}")
        self.access_point: S3ControlMultiRegionAccessPoint | None = None
        if not stack.emulated:
            self.access_point = S3ControlMultiRegionAccessPoint(
                self,
                "access-point",
                details=S3ControlMultiRegionAccessPointDetails(
                    name=name,
                    region=[S3ControlMultiRegionAccessPointDetailsRegion(bucket=bucket.bucket.bucket) for bucket in self.buckets.values()],
                    public_access_block={
                        "block_public_acls": True,
                        "block_public_policy": True,
                        "ignore_public_acls": True,
                        "restrict_public_buckets": True,
                    },
                ),
            )


class ArnParameters(Construct):
    """A String SSM parameter named `name` holding `arn` in the region of each of `providers` (None: the stack's),
    for code that must find a resource whose name AWS generates without calling its control plane: the recovery
    plan reads the Multi-Region Access Point's ARN this way, since that control plane answers in us-west-2 only
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/MrapOperations.html).

    Attributes: `parameters` (by region)."""

    def __init__(
        self, scope: Construct, id: str, *, name: str, arn: str, description: str, providers: Sequence[AwsProvider | None]
    ) -> None:
        super().__init__(scope, id)
        stack = RegionalStack.of(self)
        self.parameters: dict[str, SsmParameter] = {}
        for provider in providers:
            region = stack.env_for(provider).region
            found = SsmParameter(
                self, region, name=name, type="String", value=arn, description=description, tags={"Name": name}, provider=provider
            )
            suppress(found, "CKV2_AWS_34", "an ARN, not a secret: a String, so that a failover reads it without a KMS call")
            self.parameters[region] = found
