"""CKV_HADR_12: a CloudFront distribution's reads fail over between origins.

An origin group of two or more members with failover status codes takes the reads: the default cache behavior
targets it, or an ordered behavior with path "*" that catches everything the default would. CloudFront fails over
only GET, HEAD and OPTIONS requests
(https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/high_availability_origin_failover.html), so
behaviors that allow writes may target a single origin; a read-only behavior that targets a member of the group
directly bypasses the failover and fails the check.
"""

from hadr_common import HadrCheck, attr, block, blocks, result

READ_ONLY = {"GET", "HEAD", "OPTIONS"}


def methods(behavior):
    value = behavior.get("allowed_methods") or []
    found = value[0] if len(value) == 1 and isinstance(value[0], list) else value
    return {str(method).upper() for method in found}


class CloudfrontOriginFailover(HadrCheck):
    check_id = "CKV_HADR_12"
    description = "Ensure CloudFront distributions send reads through an origin group that fails over"
    resource_types = ("aws_cloudfront_distribution",)

    def scan_resource_conf(self, conf):
        groups = [
            group
            for group in blocks(conf, "origin_group")
            if len(blocks(group, "member")) >= 2 and attr(block(group, "failover_criteria"), "status_codes")
        ]
        group_ids = {attr(group, "origin_id") for group in groups}
        members = {attr(member, "origin_id") for group in groups for member in blocks(group, "member")}
        default = block(conf, "default_cache_behavior")
        ordered = blocks(conf, "ordered_cache_behavior")
        catch_all = [behavior for behavior in ordered if attr(behavior, "path_pattern") == "*"]
        reads = catch_all[0] if catch_all else default
        bypasses = [
            behavior
            for behavior in [*ordered, *([] if catch_all else [default])]
            if attr(behavior, "target_origin_id") in members and methods(behavior) <= READ_ONLY
        ]
        return result(attr(reads, "target_origin_id") in group_ids and not bypasses)


check = CloudfrontOriginFailover()
