"""Public ACM certificate validated with DNS records in a Route 53 hosted zone."""

from __future__ import annotations

from collections.abc import Sequence

from cdktf_cdktf_provider_aws.acm_certificate import AcmCertificate
from cdktf_cdktf_provider_aws.acm_certificate_validation import AcmCertificateValidation
from cdktf_cdktf_provider_aws.route53_record import Route53Record
from constructs import Construct

from modules.errors import InputError


class DnsValidatedCertificate(Construct):
    """One certificate for `domain_names` (the first is the subject), issued once its DNS records exist.

    Default: ECDSA P-256 key; validation records may overwrite an identical record, because a certificate for
    the same name in another region validates with the very same record.
    """

    def __init__(self, scope: Construct, id: str, *, domain_names: Sequence[str], hosted_zone_id: str) -> None:
        super().__init__(scope, id)
        if not domain_names or len(set(domain_names)) != len(domain_names):
            raise InputError.single(f"{self.node.path}.domain_names", list(domain_names), "expected one or more distinct names")
        self.certificate = AcmCertificate(
            self,
            "certificate",
            domain_name=domain_names[0],
            subject_alternative_names=list(domain_names[1:]) or None,
            validation_method="DNS",
            key_algorithm="EC_prime256v1",
            lifecycle={"create_before_destroy": True},
            tags={"Name": domain_names[0]},
        )
        # One record per name, keyed statically: for_each over the options would have keys unknown at plan time.
        records = []
        for index, domain in enumerate(domain_names):

            def option(attribute: str, domain: str = domain) -> str:
                options = f"{self.certificate.fqn}.domain_validation_options"
                return f'${{[for o in {options} : o.{attribute} if o.domain_name == "{domain}"][0]}}'

            records.append(
                Route53Record(
                    self,
                    f"validation-{index}",
                    zone_id=hosted_zone_id,
                    name=option("resource_record_name"),
                    type=option("resource_record_type"),
                    records=[option("resource_record_value")],
                    ttl=60,
                    allow_overwrite=True,
                )
            )
        self.validation = AcmCertificateValidation(self, "validation", certificate_arn=self.certificate.arn, depends_on=records)

    @property
    def certificate_arn(self) -> str:
        """The ARN, available once the certificate is issued (use it, not the raw certificate's)."""
        return self.validation.certificate_arn
