"""Route 53 health checks with alarms, and DNS records whose routing follows them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from cdktf_cdktf_provider_aws.route53_health_check import Route53HealthCheck
from cdktf_cdktf_provider_aws.route53_record import Route53Record
from constructs import Construct

from modules.alarms import metric_alarm
from modules.base import RegionalStack
from modules.errors import InputError, Problem

RoutingPolicy = Literal["failover", "weighted", "latency"]


class HealthCheck(Construct):
    """An HTTPS health check of `fqdn` and an alarm that fires when it fails.

    Default: HTTPS on 443, `/health`, every 30 s, 3 failures to turn unhealthy, latency measured, SNI on; the alarm
    fires after `alarm_periods` failing minutes and counts missing data as `missing_data` (breaching: a page when
    the metric stops; a failover signal passes notBreaching, so that us-east-1's metrics going missing is no signal).
    The alarm uses Route 53's metrics, which exist only in us-east-1, so the stack must be a us-east-1 stack.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        fqdn: str,
        alarm_topic_arn: str,
        resource_path: str = "/health",
        port: int = 443,
        request_interval_seconds: int = 30,
        failure_threshold: int = 3,
        alarm_periods: int = 1,
        missing_data: str = "breaching",
    ) -> None:
        super().__init__(scope, id)
        env = RegionalStack.of(self).env
        path = self.node.path
        problems: list[Problem] = []
        if env.region != "us-east-1":
            problems.append(Problem(f"{path}.region", env.region, "expected a us-east-1 stack: Route 53 health check metrics live there"))
        if request_interval_seconds not in (10, 30):
            problems.append(Problem(f"{path}.request_interval_seconds", request_interval_seconds, "expected 10 or 30"))
        if not 1 <= failure_threshold <= 10:
            problems.append(Problem(f"{path}.failure_threshold", failure_threshold, "expected 1 to 10"))
        if not resource_path.startswith("/"):
            problems.append(Problem(f"{path}.resource_path", resource_path, "expected a path starting with '/'"))
        if problems:
            raise InputError(problems)
        self.fqdn = fqdn
        self.health_check = Route53HealthCheck(
            self,
            "check",
            fqdn=fqdn,
            port=port,
            type="HTTPS",
            resource_path=resource_path,
            request_interval=request_interval_seconds,
            failure_threshold=failure_threshold,
            measure_latency=True,
            enable_sni=True,
            tags={"Name": name},
        )
        self.alarm = metric_alarm(
            self,
            "alarm",
            name=f"{name}-unhealthy",
            description=f"Route 53 health check of https://{fqdn}{resource_path} is failing",
            namespace="AWS/Route53",
            metric_name="HealthCheckStatus",
            dimensions={"HealthCheckId": self.health_check.id},
            statistic="Minimum",
            threshold=1,
            comparison_operator="LessThanThreshold",
            evaluation_periods=alarm_periods,
            treat_missing_data=missing_data,
            topic_arn=alarm_topic_arn,
        )

    @property
    def health_check_id(self) -> str:
        return self.health_check.id

    @property
    def alarm_arn(self) -> str:
        return self.alarm.arn


@dataclass(frozen=True)
class RecordEndpoint:
    """One answer of a routed record: an alias (ALB, API Gateway, CloudFront) or a CNAME, and its health check.

    `weight` is used by weighted routing (Default: 1), `region` by latency routing; failover routing takes the
    first endpoint as PRIMARY and the second as SECONDARY.
    """

    set_identifier: str
    health_check_id: str
    alias_dns_name: str | None = None
    alias_zone_id: str | None = None
    cname: str | None = None
    weight: int = 1
    region: str | None = None


class RoutedRecords(Construct):
    """One record set per endpoint under `name`, routed by `routing` and tied to each endpoint's health check.

    Default: alias records evaluate target health; CNAME records have a 60 s TTL (`cname_ttl_seconds`).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        zone_id: str,
        name: str,
        routing: RoutingPolicy,
        endpoints: Sequence[RecordEndpoint],
        record_type: Literal["A", "AAAA"] = "A",
        cname_ttl_seconds: int = 60,
    ) -> None:
        super().__init__(scope, id)
        self._validate(routing, endpoints)
        if not 0 <= cname_ttl_seconds <= 2147483647:
            raise InputError.single(f"{self.node.path}.cname_ttl_seconds", cname_ttl_seconds, "expected 0 to 2147483647 seconds (Route 53)")
        self.records: list[Route53Record] = []
        for index, endpoint in enumerate(endpoints):
            policy: dict[str, object] = {}
            if routing == "failover":
                policy["failover_routing_policy"] = {"type": "PRIMARY" if index == 0 else "SECONDARY"}
            elif routing == "weighted":
                policy["weighted_routing_policy"] = {"weight": endpoint.weight}
            else:
                policy["latency_routing_policy"] = {"region": endpoint.region}
            if endpoint.cname is not None:
                target: dict[str, object] = {"type": "CNAME", "ttl": cname_ttl_seconds, "records": [endpoint.cname]}
            else:
                target = {
                    "type": record_type,
                    "alias": {"name": endpoint.alias_dns_name, "zone_id": endpoint.alias_zone_id, "evaluate_target_health": True},
                }
            self.records.append(
                Route53Record(
                    self,
                    f"record-{endpoint.set_identifier}",
                    zone_id=zone_id,
                    name=name,
                    set_identifier=endpoint.set_identifier,
                    health_check_id=endpoint.health_check_id,
                    **policy,
                    **target,
                )
            )

    def _validate(self, routing: str, endpoints: Sequence[RecordEndpoint]) -> None:
        path = self.node.path
        problems: list[Problem] = []
        if routing not in ("failover", "weighted", "latency"):
            problems.append(Problem(f"{path}.routing", routing, "expected failover, weighted or latency"))
        if routing == "failover" and len(endpoints) != 2:
            problems.append(Problem(f"{path}.endpoints", len(endpoints), "expected exactly 2 endpoints (primary, secondary) for failover"))
        if len(endpoints) < 2:
            problems.append(Problem(f"{path}.endpoints", len(endpoints), "expected at least 2 endpoints: one region cannot fail over"))
        identifiers = [endpoint.set_identifier for endpoint in endpoints]
        if len(set(identifiers)) != len(identifiers):
            problems.append(Problem(f"{path}.endpoints", identifiers, "expected distinct set identifiers"))
        for endpoint in endpoints:
            where = f"{path}.endpoints[{endpoint.set_identifier}]"
            if not endpoint.health_check_id:
                problems.append(
                    Problem(f"{where}.health_check_id", endpoint.health_check_id, "expected a health check: routing must follow health")
                )
            is_alias = endpoint.alias_dns_name is not None and endpoint.alias_zone_id is not None
            if is_alias == (endpoint.cname is not None):
                problems.append(Problem(where, endpoint.set_identifier, "expected either alias_dns_name with alias_zone_id, or cname"))
            if routing == "weighted" and not 0 <= endpoint.weight <= 255:
                problems.append(Problem(f"{where}.weight", endpoint.weight, "expected 0 to 255"))
            if routing == "latency" and not endpoint.region:
                problems.append(Problem(f"{where}.region", endpoint.region, "expected the endpoint's AWS region for latency routing"))
        if routing == "weighted" and endpoints and all(endpoint.weight == 0 for endpoint in endpoints):
            problems.append(Problem(f"{path}.endpoints", [0] * len(endpoints), "expected at least one weight above 0"))
        if problems:
            raise InputError(problems)
