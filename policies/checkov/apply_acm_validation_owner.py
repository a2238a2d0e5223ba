"""CKV_APPLY_4: an ACM validation record has one owner: it does not overwrite a record another stack declared.

ACM asks every certificate of a name in an account for the same CNAME in every region
(https://docs.aws.amazon.com/acm/latest/userguide/dns-validation.html). `allow_overwrite` on a validation record is
how several stacks share one: destroying any of them deletes the record the others renew with. The one owner that
takes over a record left by an older release skips this check at the resource, saying so.
"""

from hadr_common import HadrCheck, as_bool, attr, result


class AcmValidationRecordOwner(HadrCheck):
    check_id = "CKV_APPLY_4"
    description = "Ensure ACM DNS validation records are not shared between stacks through allow_overwrite"
    resource_types = ("aws_route53_record",)

    def scan_resource_conf(self, conf):
        # The name reads the certificate's options directly, or through for_each (each.value.resource_record_name).
        validation = any("domain_validation_options" in str(attr(conf, field) or "") for field in ("name", "for_each"))
        return result(not (validation and as_bool(attr(conf, "allow_overwrite"))))


check = AcmValidationRecordOwner()
