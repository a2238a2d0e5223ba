"""CKV_HADR_4: a Route 53 record with a routing policy that chooses between endpoints (failover, weighted, latency,
geolocation, geoproximity, IP-based or multivalue answer) knows each endpoint's health: a `health_check_id`, or an
alias that evaluates its target's health. Otherwise Route 53 keeps answering with an endpoint that is down
(https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-complex-configs.html).
"""

from hadr_common import HadrCheck, as_bool, attr, block, blocks, result

from checkov.common.models.enums import CheckResult

ROUTING_POLICIES = (
    "failover_routing_policy",
    "weighted_routing_policy",
    "latency_routing_policy",
    "geolocation_routing_policy",
    "geoproximity_routing_policy",
    "cidr_routing_policy",
)


class RoutedRecordHealthCheck(HadrCheck):
    check_id = "CKV_HADR_4"
    description = "Ensure Route 53 records with a routing policy know their endpoint's health"
    resource_types = ("aws_route53_record",)

    def scan_resource_conf(self, conf):
        routed = any(blocks(conf, policy) for policy in ROUTING_POLICIES) or as_bool(attr(conf, "multivalue_answer_routing_policy"))
        if not routed:
            return CheckResult.UNKNOWN  # simple routing: nothing to choose between
        evaluated = as_bool(attr(block(conf, "alias"), "evaluate_target_health"))
        return result(bool(attr(conf, "health_check_id")) or evaluated)


check = RoutedRecordHealthCheck()
