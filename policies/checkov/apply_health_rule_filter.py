"""CKV_APPLY_3: an EventBridge rule on AWS Health events names the services it reacts to and only open events.

AWS Health sends every event category, service and status to the bus
(https://docs.aws.amazon.com/health/latest/ug/cloudwatch-events-health.html): a rule on `aws.health` without a
`detail.service` list of service names and `detail.statusCode: ["open"]` fires on any service's issue, and again
when it closes, which is no ground for a failover. A content filter in the service list (`{"prefix": ""}`,
`{"exists": true}`, `{"anything-but": ...}`) matches services nobody named, so it fails too.
"""

from hadr_common import HadrCheck, json_attr, result


def health_patterns(pattern):
    """Every sub-pattern (through $or) that matches aws.health events."""
    if not isinstance(pattern, dict):
        return []
    found = [pattern] if "aws.health" in (pattern.get("source") or []) else []
    for alternative in pattern.get("$or") or []:
        found += health_patterns(alternative)
    return found


class HealthRuleFiltered(HadrCheck):
    check_id = "CKV_APPLY_3"
    description = "Ensure EventBridge rules on AWS Health events filter by service and open status"
    resource_types = ("aws_cloudwatch_event_rule",)

    def scan_resource_conf(self, conf):
        pattern = json_attr(conf, "event_pattern")
        for health in health_patterns(pattern):
            detail = health.get("detail") or {}
            services = detail.get("service")
            named = isinstance(services, list) and bool(services) and all(isinstance(service, str) for service in services)
            if not named or detail.get("statusCode") != ["open"]:
                return result(False)
        return result(True)


check = HealthRuleFiltered()
