"""CKV_HADR_12: a CloudFront distribution fails over between origins: an origin group of two or more members
with failover status codes, used by the default or an ordered cache behavior."""

from hadr_common import HadrCheck, attr, block, blocks, result


class CloudfrontOriginFailover(HadrCheck):
    check_id = "CKV_HADR_12"
    description = "Ensure CloudFront distributions route through an origin group that fails over"
    resource_types = ("aws_cloudfront_distribution",)

    def scan_resource_conf(self, conf):
        groups = {
            attr(group, "origin_id")
            for group in blocks(conf, "origin_group")
            if len(blocks(group, "member")) >= 2 and attr(block(group, "failover_criteria"), "status_codes")
        }
        behaviors = [*blocks(conf, "default_cache_behavior"), *blocks(conf, "ordered_cache_behavior")]
        return result(any(attr(behavior, "target_origin_id") in groups for behavior in behaviors))


check = CloudfrontOriginFailover()
