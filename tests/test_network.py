"""Network module: subnets, routing, NACLs, endpoints, flow logs and DNS Firewall as synthesized."""

from __future__ import annotations

import json

import pytest

from modules.errors import InputError
from modules.kms import EncryptionKey
from modules.network import THREE_TIER, Network, SubnetTier, nacl_entries, subnet_cidr
from tests.conftest import Synthesized

AA = "active-active-eu-west-1"
WS_PRIMARY = "warm-standby-us-east-1"
WS_STANDBY = "warm-standby-us-west-1"


def nacl_rules(synthesized: Synthesized, stack: str, tier: str) -> list[tuple]:
    rules = [
        body
        for body in synthesized.resources(stack, "aws_network_acl_rule").values()
        if f"/network/{tier}-nacl-" in body["//"]["metadata"]["path"]
    ]
    return sorted(
        (r["egress"], r["rule_number"], r["rule_action"], r["protocol"], r["cidr_block"], r["from_port"], r["to_port"]) for r in rules
    )


def test_private_only_vpc_has_three_isolated_subnets_and_no_way_out(synthesized: Synthesized) -> None:
    subnets = synthesized.resources(AA, "aws_subnet")
    assert sorted(s["cidr_block"] for s in subnets.values()) == ["10.1.0.0/20", "10.1.16.0/20", "10.1.32.0/20"]
    assert all(s["map_public_ip_on_launch"] is False for s in subnets.values())
    ((zones_key, zones),) = synthesized.stacks[AA]["data"]["aws_availability_zones"].items()
    assert zones["state"] == "available"
    assert {"name": "zone-name", "values": [f"eu-west-1{letter}" for letter in "abcdef"]} in zones["filter"]
    assert sorted(s["availability_zone"] for s in subnets.values()) == [
        f"${{element(data.aws_availability_zones.{zones_key}.names, {index})}}" for index in range(3)
    ]
    for absent in ("aws_internet_gateway", "aws_nat_gateway", "aws_eip", "aws_route"):
        assert synthesized.resources(AA, absent) == {}, absent
    vpc = next(iter(synthesized.resources(AA, "aws_vpc").values()))
    assert (vpc["cidr_block"], vpc["enable_dns_support"], vpc["enable_dns_hostnames"]) == ("10.1.0.0/16", True, True)


def test_isolated_tier_nacl_denies_rdp_and_allows_only_https_out(synthesized: Synthesized) -> None:
    anywhere, vpc = "0.0.0.0/0", "10.1.0.0/16"
    assert nacl_rules(synthesized, AA, "private") == [
        (False, 100, "deny", "tcp", anywhere, 3389, 3389),
        (False, 200, "allow", "tcp", vpc, 443, 443),
        (False, 300, "allow", "tcp", anywhere, 1024, 3388),
        (False, 310, "allow", "tcp", anywhere, 3390, 65535),
        (True, 100, "deny", "tcp", anywhere, 3389, 3389),
        (True, 200, "allow", "tcp", anywhere, 443, 443),
        (True, 300, "allow", "tcp", vpc, 1024, 65535),
    ]


def test_no_nacl_allow_rule_admits_rdp_or_every_port(synthesized: Synthesized) -> None:
    for stack in (AA, WS_PRIMARY, WS_STANDBY):
        for rule in synthesized.resources(stack, "aws_network_acl_rule").values():
            if rule["egress"] or rule["rule_action"] != "allow":
                continue
            assert rule["protocol"] == "tcp" and rule["from_port"] > 0, rule
            assert not rule["from_port"] <= 3389 <= rule["to_port"], rule


def test_three_tier_nacls_per_tier(synthesized: Synthesized) -> None:
    anywhere, vpc = "0.0.0.0/0", "10.10.0.0/16"
    public_in = [rule for rule in nacl_rules(synthesized, WS_PRIMARY, "public") if rule[0] is False]
    assert public_in == [
        (False, 100, "deny", "tcp", anywhere, 3389, 3389),
        (False, 110, "deny", "tcp", anywhere, 22, 22),
        (False, 200, "allow", "tcp", anywhere, 443, 443),
        (False, 210, "allow", "tcp", anywhere, 80, 80),
        (False, 300, "allow", "tcp", anywhere, 1024, 3388),
        (False, 310, "allow", "tcp", anywhere, 3390, 65535),
    ]
    app = nacl_rules(synthesized, WS_PRIMARY, "app")
    assert [rule for rule in app if rule[0] is False and rule[1] < 300] == [
        (False, 100, "deny", "tcp", anywhere, 3389, 3389),
        (False, 200, "allow", "tcp", vpc, 443, 443),
        (False, 210, "allow", "tcp", vpc, 80, 80),
        (False, 220, "allow", "tcp", vpc, 8080, 8080),
    ]
    assert [rule for rule in app if rule[0] is True] == [
        (True, 100, "deny", "tcp", anywhere, 3389, 3389),
        (True, 200, "allow", "-1", vpc, 0, 0),
        (True, 300, "allow", "tcp", anywhere, 443, 443),
    ]
    data_in = [rule for rule in nacl_rules(synthesized, WS_PRIMARY, "data") if rule[0] is False and rule[1] < 300]
    assert data_in == [(False, 100, "deny", "tcp", anywhere, 3389, 3389), (False, 200, "allow", "tcp", vpc, 5432, 5432)]


def test_three_tier_routing_public_via_igw_app_via_nat_per_az_data_isolated(synthesized: Synthesized) -> None:
    subnets = {s["tags"]["Name"]: s["cidr_block"] for s in synthesized.resources(WS_PRIMARY, "aws_subnet").values()}
    prefix = "hadr-prod-warm-standby-us-east-1"
    assert subnets == {
        f"{prefix}-public-0": "10.10.0.0/20",
        f"{prefix}-public-1": "10.10.16.0/20",
        f"{prefix}-app-0": "10.10.64.0/20",
        f"{prefix}-app-1": "10.10.80.0/20",
        f"{prefix}-data-0": "10.10.128.0/20",
        f"{prefix}-data-1": "10.10.144.0/20",
    }
    routes = synthesized.resources(WS_PRIMARY, "aws_route")
    gateway_routes = [r for r in routes.values() if "gateway_id" in r]
    nat_routes = sorted(
        (r["//"]["metadata"]["path"].rsplit("/", 1)[1], r["nat_gateway_id"]) for r in routes.values() if "nat_gateway_id" in r
    )
    assert len(gateway_routes) == 1 and gateway_routes[0]["gateway_id"].startswith("${aws_internet_gateway.")
    assert [path for path, _ in nat_routes] == ["app-nat-route-0", "app-nat-route-1"]
    assert nat_routes[0][1] != nat_routes[1][1], "each AZ routes through its own NAT gateway"
    assert len(synthesized.resources(WS_PRIMARY, "aws_nat_gateway")) == 2
    # standby: one NAT gateway shared by both AZs (config nat_gateways: 1)
    standby_nat = [r["nat_gateway_id"] for r in synthesized.resources(WS_STANDBY, "aws_route").values() if "nat_gateway_id" in r]
    assert len(synthesized.resources(WS_STANDBY, "aws_nat_gateway")) == 1 and len(set(standby_nat)) == 1 and len(standby_nat) == 2


def test_default_security_group_is_emptied(synthesized: Synthesized) -> None:
    for stack in (AA, WS_PRIMARY):
        (default_sg,) = synthesized.resources(stack, "aws_default_security_group").values()
        assert "ingress" not in default_sg and "egress" not in default_sg


def test_flow_logs_all_traffic_to_kms_encrypted_group_with_scoped_role(synthesized: Synthesized) -> None:
    (flow,) = synthesized.resources(AA, "aws_flow_log").values()
    assert (flow["traffic_type"], flow["log_destination_type"], flow["max_aggregation_interval"]) == ("ALL", "cloud-watch-logs", 60)
    group = synthesized.one(AA, "aws_cloudwatch_log_group", "network/flow-log-group")
    assert group["name"] == "/vpc/flow-logs/hadr-prod-active-active-eu-west-1"
    assert group["retention_in_days"] == 365 and group["kms_key_id"].startswith("${aws_kms_key.")
    policy = json.loads(synthesized.one(AA, "aws_iam_role_policy", "network/flow-log-role/policy")["policy"])
    (statement,) = policy["Statement"]
    assert statement["Resource"] == [
        "arn:aws:logs:eu-west-1:123456789012:log-group:/vpc/flow-logs/hadr-prod-active-active-eu-west-1",
        "arn:aws:logs:eu-west-1:123456789012:log-group:/vpc/flow-logs/hadr-prod-active-active-eu-west-1:*",
    ]
    trust = json.loads(synthesized.one(AA, "aws_iam_role", "network/flow-log-role/role")["assume_role_policy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert trust["Statement"][0]["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}


def test_endpoints_gateway_on_every_route_table_and_interface_with_private_dns(synthesized: Synthesized) -> None:
    endpoints = synthesized.resources(AA, "aws_vpc_endpoint")
    gateways = {e["service_name"]: e for e in endpoints.values() if e["vpc_endpoint_type"] == "Gateway"}
    assert set(gateways) == {"com.amazonaws.eu-west-1.s3", "com.amazonaws.eu-west-1.dynamodb"}
    route_tables = len(synthesized.resources(AA, "aws_route_table"))
    assert route_tables == 3
    assert all(len(g["route_table_ids"]) == route_tables for g in gateways.values())
    s3_policy = json.loads(gateways["com.amazonaws.eu-west-1.s3"]["policy"])["Statement"][0]
    assert s3_policy["Action"] == "s3:*"
    for policy in (json.loads(g["policy"])["Statement"][0] for g in gateways.values()):  # the principal's and the resource's side
        assert policy["Condition"] == {"StringEquals": {"aws:PrincipalAccount": "123456789012", "aws:ResourceAccount": "123456789012"}}
    interfaces = sorted(e["service_name"].rsplit(".", 1)[1] for e in endpoints.values() if e["vpc_endpoint_type"] == "Interface")
    assert interfaces == ["ec2", "kms", "logs", "monitoring", "sns", "sqs", "ssm", "xray"]
    assert all(e["private_dns_enabled"] for e in endpoints.values() if e["vpc_endpoint_type"] == "Interface")
    (https_in,) = synthesized.resources(AA, "aws_vpc_security_group_ingress_rule").values()
    assert (https_in["from_port"], https_in["to_port"], https_in["ip_protocol"], https_in["cidr_ipv4"]) == (443, 443, "tcp", "10.1.0.0/16")
    ws_interfaces = sorted(
        e["service_name"].rsplit(".", 1)[1]
        for e in synthesized.resources(WS_PRIMARY, "aws_vpc_endpoint").values()
        if e["vpc_endpoint_type"] == "Interface"
    )
    assert ws_interfaces == ["accesspoint", "ec2messages", "logs", "monitoring", "secretsmanager", "ssm", "ssmmessages"]


def test_dns_firewall_allows_aws_domains_then_blocks_everything(synthesized: Synthesized) -> None:
    lists = {d["name"]: d["domains"] for d in synthesized.resources(AA, "aws_route53_resolver_firewall_domain_list").values()}
    prefix = "hadr-prod-active-active-eu-west-1"
    assert lists == {f"{prefix}-allowed": ["amazonaws.com", "*.amazonaws.com"], f"{prefix}-all-domains": ["*"]}
    rules = sorted(
        (r["priority"], r["action"], r.get("block_response"), r["firewall_domain_list_id"].split(".")[1])
        for r in synthesized.resources(AA, "aws_route53_resolver_firewall_rule").values()
    )
    assert rules == [
        (100, "ALLOW", None, "network_dns-allow-list_" + rules[0][3].rsplit("_", 1)[1]),
        (200, "BLOCK", "NODATA", "network_dns-block-list_" + rules[1][3].rsplit("_", 1)[1]),
    ]
    (association,) = synthesized.resources(AA, "aws_route53_resolver_firewall_rule_group_association").values()
    assert (association["priority"], association["mutation_protection"]) == (101, "ENABLED")
    (config,) = synthesized.resources(AA, "aws_route53_resolver_firewall_config").values()
    assert config["firewall_fail_open"] == "DISABLED"
    assert synthesized.resources(WS_PRIMARY, "aws_route53_resolver_firewall_rule") == {}


def test_subnet_numbering_is_stable_and_fits_a_slash_24() -> None:
    assert subnet_cidr("10.1.0.0/16", 0, 0) == "10.1.0.0/20"
    assert subnet_cidr("10.1.0.0/16", 2, 1) == "10.1.144.0/20"
    assert subnet_cidr("192.168.7.0/24", 3, 2) == "192.168.7.224/28"


def test_nacl_rule_numbers_are_unique_per_direction() -> None:
    for kind in ("public", "private", "isolated"):
        for egress in (False, True):
            numbers = [e.rule_number for e in nacl_entries(kind, "10.0.0.0/16", (443, 5432)) if e.egress is egress]
            assert len(numbers) == len(set(numbers)), (kind, egress)


def test_network_rejects_bad_props_naming_each(scratch_stack) -> None:
    stack = scratch_stack()
    key = EncryptionKey(stack, "key", alias="k", description="k", allow_cloudwatch_logs=True)
    with pytest.raises(InputError) as caught:
        Network(
            stack,
            "net",
            name="n",
            cidr="10.0.0.0/12",
            log_key=key,
            az_count=4,
            tiers=(SubnetTier("a", "isolated"), SubnetTier("a", "isolated")),
            nat_gateways=1,
            endpoint_tier="nope",
        )
    path = f"{stack.node.id}/net"
    assert str(caught.value).splitlines() == [
        f"{path}.cidr: got '10.0.0.0/12'; expected a prefix length from /16 to /24",
        f"{path}.az_count: got 4; expected 2 or 3",
        f"{path}.tiers: got ['a', 'a']; expected 1 to 4 tiers with distinct names",
        f"{path}.nat_gateways: got 1; expected 0: NAT gateways need a public tier",
        f"{path}.endpoint_tier: got 'nope'; expected one of the tiers: a, a",
    ]


def test_subnet_ids_of_unknown_tier_names_the_tiers(scratch_stack) -> None:
    stack = scratch_stack()
    key = EncryptionKey(stack, "key", alias="k", description="k", allow_cloudwatch_logs=True)
    network = Network(
        stack,
        "net",
        name="n",
        cidr="10.9.0.0/16",
        log_key=key,
        az_count=2,
        tiers=THREE_TIER,
        nat_gateways=1,
        availability_zones=("us-east-1a", "us-east-1b"),
    )
    assert len(network.subnet_ids("app")) == 2
    with pytest.raises(InputError, match=r"subnet_ids: got 'web'; expected one of the tiers: public, app, data"):
        network.subnet_ids("web")
