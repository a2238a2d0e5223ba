"""Public ACM certificate validated with DNS records in a Route 53 hosted zone."""

from __future__ import annotations

from collections.abc import Sequence

from cdktf_cdktf_provider_aws.acm_certificate import AcmCertificate
from cdktf_cdktf_provider_aws.acm_certificate_validation import AcmCertificateValidation
from cdktf_cdktf_provider_aws.route53_record import Route53Record
from constructs import Construct

from modules.errors import InputError
from modules.suppressions import suppress


class DnsValidatedCertificate(Construct):
    """One certificate for `domain_names` (the first is the subject), issued once its DNS records exist.

    Default: ECDSA P-256 key; one validation record per name, owned by this construct. ACM asks every certificate
    of the same name in an account for the very same CNAME, in every region
    (https://docs.aws.amazon.com/acm/latest/userguide/dns-validation.html), so a name several stacks certify
    (the shared API name, one certificate per region) must have its record in exactly one place: list it in
    `validated_elsewhere` and publish it with `ValidationRecords` in a stack that outlives these; this certificate
    then waits for that record like any other. Destroying a
    region then cannot delete the record another region's certificate needs to renew.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        domain_names: Sequence[str],
        hosted_zone_id: str,
        validated_elsewhere: Sequence[str] = (),
        take_over_records: bool = False,
    ) -> None:
        super().__init__(scope, id)
        if not domain_names or len(set(domain_names)) != len(domain_names):
            raise InputError.single(f"{self.node.path}.domain_names", list(domain_names), "expected one or more distinct names")
        strangers = [name for name in validated_elsewhere if name not in domain_names]
        if strangers:
            raise InputError.single(
                f"{self.node.path}.validated_elsewhere", strangers, f"expected names of domain_names: {', '.join(domain_names)}"
            )
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
            if domain in validated_elsewhere:
                continue

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
                    allow_overwrite=take_over_records or None,
                )
            )
        self.records = records
        self.validation = AcmCertificateValidation(self, "validation", certificate_arn=self.certificate.arn, depends_on=records)

    @property
    def certificate_arn(self) -> str:
        """The ARN, available once the certificate is issued (use it, not the raw certificate's)."""
        return self.validation.certificate_arn


class ValidationRecords(Construct):
    """The DNS validation records of names that certificates in several stacks share, published once, here.

    ACM has no call that returns a name's validation record without a certificate, so this requests one
    certificate for `domain_names` (never attached to anything) and publishes its records; every other
    certificate of these names in the account validates and renews against them. Put it in the stack that is
    deployed first and destroyed last. Its records take over an identical existing record (`allow_overwrite`), as
    left by releases before 0.3, where every regional stack declared it; those stacks now forget it (`removed`).
    """

    def __init__(self, scope: Construct, id: str, *, domain_names: Sequence[str], hosted_zone_id: str) -> None:
        super().__init__(scope, id)
        self.owner = DnsValidatedCertificate(
            self, "records", domain_names=domain_names, hosted_zone_id=hosted_zone_id, take_over_records=True
        )
        for record in self.owner.records:
            suppress(
                record, "CKV_APPLY_4", "the one owner of this record: it takes over the identical record that 0.2's regional stacks shared"
            )
        self.domain_names = list(domain_names)
