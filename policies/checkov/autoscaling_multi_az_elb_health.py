"""CKV_HADR_5: an Auto Scaling group spans at least two subnets and replaces instances its load balancer finds
unhealthy (health_check_type ELB)."""

from hadr_common import HadrCheck, attr, result


class AutoscalingMultiAzElbHealth(HadrCheck):
    check_id = "CKV_HADR_5"
    description = "Ensure Auto Scaling groups span at least 2 subnets and use ELB health checks"
    resource_types = ("aws_autoscaling_group",)

    def scan_resource_conf(self, conf):
        subnets = attr(conf, "vpc_zone_identifier")
        spread = isinstance(subnets, list) and len(set(subnets)) >= 2
        return result(spread and attr(conf, "health_check_type") == "ELB")


check = AutoscalingMultiAzElbHealth()
