"""CloudFront in front of two regional origins with origin failover, security headers and DNS aliases.

CloudFront fails over only GET, HEAD and OPTIONS through an origin group, on the configured status codes or a
connection failure (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/high_availability_origin_failover.html);
writes therefore go to one origin through their own cache behavior. An alternate domain name needs a
certificate in us-east-1 (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cnames-and-https-requirements.html).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cdktf_cdktf_provider_aws.cloudfront_distribution import (
    CloudfrontDistribution,
    CloudfrontDistributionOrderedCacheBehavior,
    CloudfrontDistributionOrigin,
    CloudfrontDistributionOriginCustomHeader,
    CloudfrontDistributionOriginGroup,
    CloudfrontDistributionOriginGroupMember,
)
from cdktf_cdktf_provider_aws.cloudfront_response_headers_policy import CloudfrontResponseHeadersPolicy
from cdktf_cdktf_provider_aws.route53_record import Route53Record
from constructs import Construct

from modules.base import RegionalStack
from modules.compute import OriginVerification
from modules.config import CloudFrontOrigin
from modules.errors import InputError
from modules.storage import LogDeliveryBucket
from modules.suppressions import suppress

#: AWS managed CloudFront policies (IDs are global constants).
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
MANAGED_SECURITY_HEADERS = "67f7725c-6f97-4210-82d7-5512b31e9d03"
FAILOVER_STATUS_CODES = [500, 502, 503, 504]
READ_METHODS = ["GET", "HEAD", "OPTIONS"]
ALL_METHODS = ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"]
FAILOVER_GROUP = "failover"


@dataclass(frozen=True)
class Origin:
    """A regional origin: its ID in the distribution (the region) and the HTTPS host name CloudFront connects to."""

    origin_id: str
    domain_name: str


def security_headers_policy(scope: Construct, id: str, *, name: str) -> CloudfrontResponseHeadersPolicy:
    """Security headers on every response: HSTS for two years with subdomains and preload, nosniff, frames denied,
    a strict referrer policy; origin values are overridden."""
    return CloudfrontResponseHeadersPolicy(
        scope,
        id,
        name=name,
        comment="HSTS, nosniff, no framing, strict referrer",
        security_headers_config={
            "strict_transport_security": {
                "access_control_max_age_sec": 63072000,
                "include_subdomains": True,
                "preload": True,
                "override": True,
            },
            "content_type_options": {"override": True},
            "frame_options": {"frame_option": "DENY", "override": True},
            "referrer_policy": {"referrer_policy": "strict-origin-when-cross-origin", "override": True},
        },
    )


class OriginFailoverDistribution(Construct):
    """A distribution whose reads go to an origin group (`primary`, then `standby` on 5xx or no connection) and
    whose `write_path` goes to `writer` (Default: `primary`; CloudFront's origin groups fail over only GET, HEAD
    and OPTIONS, so writes need an origin that moves by itself, such as a DNS failover record), with A and AAAA aliases for `domain_name` in
    `hosted_zone_id`.

    Default: HTTPS only (TLS 1.2 2021 to viewers, TLS 1.2 to origins), caching disabled (a dynamic app), every
    viewer header but Host forwarded, `origin_verification`'s header added to origin requests, HTTP/2 and 3, IPv6,
    standard logs to `logs`, all edge locations, no geo restriction unless `settings.geo_restriction` says so.
    In the emulator, AWS's managed security headers policy stands in for our own, an ordered "*" behavior
    sends reads to the group (the emulator refuses an origin group as the default target), and Terraform does not
    wait for the distribution to deploy (moto deploys it at once).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        domain_name: str,
        hosted_zone_id: str,
        primary: Origin,
        standby: Origin,
        certificate_arn: str,
        web_acl_arn: str,
        logs: LogDeliveryBucket,
        origin_verification: OriginVerification,
        settings: CloudFrontOrigin,
        write_path: str = "/api/*",
        writer: Origin | None = None,
    ) -> None:
        super().__init__(scope, id)
        origins = [primary, standby, *([writer] if writer else [])]
        ids = [origin.origin_id for origin in origins]
        if len(set(ids)) != len(ids) or FAILOVER_GROUP in ids:
            raise InputError.single(f"{self.node.path}.origins", ids, f"expected IDs distinct from each other and from {FAILOVER_GROUP!r}")
        emulated = RegionalStack.of(self).emulated
        self.security_headers = None if emulated else security_headers_policy(self, "security-headers", name=f"{name}-security-headers")
        behavior, ordered = self._behaviors(write_path, (writer or primary).origin_id, emulated=emulated)
        reads = primary.origin_id if emulated else FAILOVER_GROUP
        geo = settings.geo_restriction
        self.distribution = CloudfrontDistribution(
            self,
            "distribution",
            enabled=True,
            comment=f"{name}: {primary.origin_id} with failover to {standby.origin_id}",
            aliases=[domain_name],
            origin=[_origin(origin, settings, origin_verification) for origin in origins],
            origin_group=[
                CloudfrontDistributionOriginGroup(
                    origin_id=FAILOVER_GROUP,
                    failover_criteria={"status_codes": FAILOVER_STATUS_CODES},
                    member=[CloudfrontDistributionOriginGroupMember(origin_id=o.origin_id) for o in (primary, standby)],
                )
            ],
            default_cache_behavior={"target_origin_id": reads, "allowed_methods": READ_METHODS, **behavior},
            ordered_cache_behavior=ordered,
            viewer_certificate={
                "acm_certificate_arn": certificate_arn,
                "ssl_support_method": "sni-only",
                "minimum_protocol_version": "TLSv1.2_2021",
            },
            web_acl_id=web_acl_arn,
            logging_config={"bucket": logs.bucket.bucket_domain_name, "include_cookies": False, "prefix": "cloudfront/"},
            restrictions={
                "geo_restriction": (
                    {"restriction_type": geo.restriction_type, "locations": list(geo.locations)} if geo else {"restriction_type": "none"}
                )
            },
            http_version="http2and3",
            is_ipv6_enabled=True,
            price_class="PriceClass_All",
            # The provider waits a fixed minute before it polls for Deployed, on create and on delete; the emulator
            # deploys at once, so there the wait only costs time. In AWS it is kept: apply ends when edges serve.
            wait_for_deployment=None if not emulated else False,
            tags={"Name": name},
        )
        self._suppressions(geo_restricted=geo is not None)
        self._aliases(domain_name, hosted_zone_id)

    def _behaviors(
        self, write_path: str, writer_id: str, *, emulated: bool
    ) -> tuple[dict[str, Any], list[CloudfrontDistributionOrderedCacheBehavior]]:
        """The settings every behavior shares, and the ordered behaviors: `write_path` to the writer (and, in the
        emulator, "*" to the origin group, which it refuses as the default target)."""
        behavior = {
            "viewer_protocol_policy": "https-only",
            "cached_methods": ["GET", "HEAD"],
            "cache_policy_id": CACHING_DISABLED,
            "origin_request_policy_id": ALL_VIEWER_EXCEPT_HOST_HEADER,
            "response_headers_policy_id": MANAGED_SECURITY_HEADERS if self.security_headers is None else self.security_headers.id,
            "compress": True,
        }
        ordered = [
            CloudfrontDistributionOrderedCacheBehavior(
                path_pattern=write_path, target_origin_id=writer_id, allowed_methods=ALL_METHODS, **behavior
            )
        ]
        if emulated:
            ordered.append(
                CloudfrontDistributionOrderedCacheBehavior(
                    path_pattern="*", target_origin_id=FAILOVER_GROUP, allowed_methods=READ_METHODS, **behavior
                )
            )
        return behavior, ordered

    def _suppressions(self, *, geo_restricted: bool) -> None:
        suppress(self.distribution, "CKV2_AWS_46", "no S3 origin (both origins are ALBs); checkov counts the log bucket as one")
        suppress(self.distribution, "CKV_AWS_305", "the origins are the application, which serves '/' itself; no index object")
        if not geo_restricted:
            suppress(self.distribution, "CKV_AWS_374", "worldwide audience: warm_standby.cloudfront.geo_restriction is not set")

    def _aliases(self, domain_name: str, hosted_zone_id: str) -> None:
        """A and AAAA records for `domain_name` aliasing the distribution."""
        for record_type in ("A", "AAAA"):
            Route53Record(
                self,
                f"alias-{record_type.lower()}",
                zone_id=hosted_zone_id,
                name=domain_name,
                type=record_type,
                alias={"name": self.distribution.domain_name, "zone_id": self.distribution.hosted_zone_id, "evaluate_target_health": False},
            )

    @property
    def domain_name(self) -> str:
        return self.distribution.domain_name


def _origin(origin: Origin, settings: CloudFrontOrigin, verification: OriginVerification) -> CloudfrontDistributionOrigin:
    return CloudfrontDistributionOrigin(
        origin_id=origin.origin_id,
        domain_name=origin.domain_name,
        connection_attempts=settings.connection_attempts,
        connection_timeout=settings.connection_timeout_seconds,
        custom_header=[CloudfrontDistributionOriginCustomHeader(name=verification.header_name, value=verification.header_value)],
        custom_origin_config={
            "http_port": 80,
            "https_port": 443,
            "origin_protocol_policy": "https-only",
            "origin_ssl_protocols": ["TLSv1.2"],
            "origin_read_timeout": settings.read_timeout_seconds,
            "origin_keepalive_timeout": 5,
        },
    )
