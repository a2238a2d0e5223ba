"""CKV_HADR_4: a Route 53 record with failover, weighted or latency routing carries a health check."""

from hadr_common import HadrCheck, attr, blocks, result

from checkov.common.models.enums import CheckResult

ROUTING_POLICIES = ("failover_routing_policy", "weighted_routing_policy", "latency_routing_policy")


class RoutedRecordHealthCheck(HadrCheck):
    check_id = "CKV_HADR_4"
    description = "Ensure Route 53 failover, weighted and latency records carry a health check"
    resource_types = ("aws_route53_record",)

    def scan_resource_conf(self, conf):
        if not any(blocks(conf, policy) for policy in ROUTING_POLICIES):
            return CheckResult.UNKNOWN  # simple routing: nothing to fail over
        return result(bool(attr(conf, "health_check_id")))


check = RoutedRecordHealthCheck()
