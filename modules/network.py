"""Multi-AZ VPC with named subnet tiers, flow logs, NACLs, VPC endpoints and an optional DNS Firewall."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from cdktf import Fn, Postcondition, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_availability_zones import (
    DataAwsAvailabilityZones,
    DataAwsAvailabilityZonesFilter,
)
from cdktf_cdktf_provider_aws.default_security_group import DefaultSecurityGroup
from cdktf_cdktf_provider_aws.eip import Eip
from cdktf_cdktf_provider_aws.flow_log import FlowLog
from cdktf_cdktf_provider_aws.internet_gateway import InternetGateway
from cdktf_cdktf_provider_aws.nat_gateway import NatGateway
from cdktf_cdktf_provider_aws.network_acl import NetworkAcl
from cdktf_cdktf_provider_aws.network_acl_rule import NetworkAclRule
from cdktf_cdktf_provider_aws.route import Route
from cdktf_cdktf_provider_aws.route53_resolver_firewall_config import Route53ResolverFirewallConfig
from cdktf_cdktf_provider_aws.route53_resolver_firewall_domain_list import Route53ResolverFirewallDomainList
from cdktf_cdktf_provider_aws.route53_resolver_firewall_rule import Route53ResolverFirewallRule
from cdktf_cdktf_provider_aws.route53_resolver_firewall_rule_group import Route53ResolverFirewallRuleGroup
from cdktf_cdktf_provider_aws.route53_resolver_firewall_rule_group_association import (
    Route53ResolverFirewallRuleGroupAssociation,
)
from cdktf_cdktf_provider_aws.route_table import RouteTable
from cdktf_cdktf_provider_aws.route_table_association import RouteTableAssociation
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.subnet import Subnet
from cdktf_cdktf_provider_aws.vpc import Vpc
from cdktf_cdktf_provider_aws.vpc_endpoint import VpcEndpoint
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from modules.base import ANY_PRINCIPAL, RegionalStack, policy_json
from modules.errors import InputError, Problem
from modules.iam import ServiceRole
from modules.kms import EncryptionKey, encrypted_log_group

TierKind = Literal["public", "private", "isolated"]
ANYWHERE = "0.0.0.0/0"
EPHEMERAL = (1024, 65535)
RDP = 3389
#: Each tier gets a block of 4 subnet slots (one per AZ, one spare), so adding an AZ never renumbers a subnet.
_SLOTS_PER_TIER = 4
_SUBNET_PREFIX_DELTA = 4


@dataclass(frozen=True)
class SubnetTier:
    """A row of subnets, one per AZ.

    kind "public": routes to an internet gateway (load balancers, NAT gateways); `ingress_ports` open to anywhere.
    kind "private": reaches the internet only through NAT gateways, when the network has any.
    kind "isolated": no route out of the VPC.
    Private and isolated tiers admit `ingress_ports` from the VPC only. Default: ingress_ports (443,).
    """

    name: str
    kind: TierKind
    ingress_ports: tuple[int, ...] = (443,)


@dataclass(frozen=True)
class DnsFirewall:
    """Route 53 Resolver DNS Firewall: answer only the allowed domains, block everything else.

    Default: allow amazonaws.com and its subdomains; blocked names get NODATA; fail closed; mutation protection on
    (switch it off before `terraform destroy` of the VPC).
    """

    allowed_domains: tuple[str, ...] = ("amazonaws.com", "*.amazonaws.com")
    block_response: Literal["NODATA", "NXDOMAIN"] = "NODATA"
    fail_open: bool = False
    mutation_protection: bool = True


@dataclass(frozen=True)
class NaclEntry:
    """One stateless NACL rule; protocol "-1" means all."""

    rule_number: int
    egress: bool
    action: Literal["allow", "deny"]
    cidr_block: str
    protocol: str = "tcp"
    from_port: int = 0
    to_port: int = 0


PRIVATE_ONLY = (SubnetTier("private", "isolated"),)
#: Seed 001's tiers: ALB listeners and web instances in public subnets, the internal ALB (80/443) and app
#: instances (8080) in private subnets, PostgreSQL in isolated subnets.
THREE_TIER = (
    SubnetTier("public", "public", (443, 80)),
    SubnetTier("app", "private", (443, 80, 8080)),
    SubnetTier("data", "isolated", (5432,)),
)


def nacl_entries(kind: TierKind, vpc_cidr: str, ingress_ports: Sequence[int] = (443,)) -> list[NaclEntry]:
    """The NACL rules of a tier kind: RDP denied everywhere, traffic to the internet limited to HTTPS.

    Ingress is explicit per port: `ingress_ports` from the VPC (from anywhere for a public tier) and replies on
    the ephemeral range, which skips 3389 so no allow rule ever covers RDP, whatever the rule order. Isolated
    tiers have no route out, but S3 and DynamoDB gateway endpoints answer from public addresses, so HTTPS out and
    replies in are allowed from anywhere; routing, not the NACL, keeps that traffic on the endpoints.
    """
    source = ANYWHERE if kind == "public" else vpc_cidr
    rules = [NaclEntry(100, False, "deny", ANYWHERE, "tcp", 3389, 3389), NaclEntry(100, True, "deny", ANYWHERE, "tcp", 3389, 3389)]
    if kind == "public":
        rules.append(NaclEntry(110, False, "deny", ANYWHERE, "tcp", 22, 22))
    for offset, port in enumerate(dict.fromkeys(ingress_ports)):
        rules.append(NaclEntry(200 + 10 * offset, False, "allow", source, "tcp", port, port))
    rules.append(NaclEntry(300, False, "allow", ANYWHERE, "tcp", EPHEMERAL[0], RDP - 1))
    rules.append(NaclEntry(310, False, "allow", ANYWHERE, "tcp", RDP + 1, EPHEMERAL[1]))
    if kind == "isolated":
        rules.append(NaclEntry(200, True, "allow", ANYWHERE, "tcp", 443, 443))
        rules.append(NaclEntry(300, True, "allow", vpc_cidr, "tcp", *EPHEMERAL))
        return rules
    rules.append(NaclEntry(200, True, "allow", vpc_cidr, "-1"))
    rules.append(NaclEntry(300, True, "allow", ANYWHERE, "tcp", 443, 443))
    if kind == "public":
        rules.append(NaclEntry(310, True, "allow", ANYWHERE, "tcp", 80, 80))
        rules.append(NaclEntry(400, True, "allow", ANYWHERE, "tcp", *EPHEMERAL))
    return rules


#: Interface endpoint services that are not regional: their name has no region in it.
GLOBAL_INTERFACE_SERVICES = ("s3-global.accesspoint",)


def interface_service_name(region: str, service: str) -> str:
    """`com.amazonaws.<region>.<service>`, or `com.amazonaws.<service>` for a global one such as the S3
    Multi-Region Access Points' (https://docs.aws.amazon.com/AmazonS3/latest/userguide/MultiRegionAccessPointsPrivateLink.html)."""
    return f"com.amazonaws.{service}" if service in GLOBAL_INTERFACE_SERVICES else f"com.amazonaws.{region}.{service}"


def subnet_cidr(vpc_cidr: str, tier_index: int, az_index: int) -> str:
    """Deterministic subnet range: /N+4 blocks, `_SLOTS_PER_TIER` per tier in tier order."""
    network = ipaddress.IPv4Network(vpc_cidr)
    blocks = network.subnets(prefixlen_diff=_SUBNET_PREFIX_DELTA)
    index = tier_index * _SLOTS_PER_TIER + az_index
    for position, block in enumerate(blocks):
        if position == index:
            return str(block)
    raise IndexError(index)


class Network(Construct):
    """A VPC across `az_count` AZs with one subnet per tier and AZ.

    Default: one isolated tier ("private"), no NAT gateways, gateway endpoints for S3 and DynamoDB, no interface
    endpoints, no DNS Firewall, flow logs of all traffic kept 365 days, default security group emptied.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        cidr: str,
        log_key: EncryptionKey,
        az_count: int = 3,
        availability_zones: Sequence[str] | None = None,
        tiers: Sequence[SubnetTier] = PRIVATE_ONLY,
        nat_gateways: int = 0,
        flow_log_retention_days: int = 365,
        gateway_endpoints: Sequence[str] = ("s3", "dynamodb"),
        interface_endpoints: Sequence[str] = (),
        endpoint_tier: str | None = None,
        dns_firewall: DnsFirewall | None = None,
        aws_owned_buckets: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, id)
        self._validate(
            cidr=cidr,
            az_count=az_count,
            availability_zones=availability_zones,
            tiers=tiers,
            nat_gateways=nat_gateways,
            interface_endpoints=interface_endpoints,
            endpoint_tier=endpoint_tier,
        )
        self.name = name
        self.cidr = cidr
        self.tiers = tuple(tiers)

        self.vpc = Vpc(
            self,
            "vpc",
            cidr_block=cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags={"Name": name},
        )
        DefaultSecurityGroup(self, "default-sg", vpc_id=self.vpc.id, tags={"Name": f"{name}-default-deny-all"})

        self.availability_zones = self._zones(availability_zones, az_count)
        self._subnets()
        self._public_routes(nat_gateways)
        self._private_routes()
        self._network_acls()
        self.flow_log_group = self._flow_logs(log_key, flow_log_retention_days)

        self._gateway_endpoints(gateway_endpoints, aws_owned_buckets)
        self._interface_endpoints(interface_endpoints, endpoint_tier)
        self.firewall_rule_group: Route53ResolverFirewallRuleGroup | None = None
        if dns_firewall is not None:
            self._dns_firewall(dns_firewall)

    def _zones(self, availability_zones: Sequence[str] | None, az_count: int) -> list[str]:
        """The zones given, else the first `az_count` of the region's a-f zones (looked up at plan time)."""
        env = RegionalStack.of(self).env
        if availability_zones is None:
            # element() wraps around: with fewer zones than az_count two subnets would share a zone, so the plan
            # fails instead (a postcondition on the lookup).
            zones_lookup = DataAwsAvailabilityZones(
                self,
                "zones",
                state="available",
                lifecycle=TerraformResourceLifecycle(
                    postcondition=[
                        Postcondition(
                            condition=f"${{length(self.names) >= {az_count}}}",
                            error_message=f"{env.region} offers this account fewer than az_count ({az_count}) zones among"
                            f" {env.region}a-f: lower az_count or name availability_zones",
                        )
                    ]
                ),
                filter=[
                    DataAwsAvailabilityZonesFilter(name="opt-in-status", values=["opt-in-not-required"]),
                    # A closed set of names: a zone AWS adds later never shifts which zones the subnets use.
                    DataAwsAvailabilityZonesFilter(name="zone-name", values=[f"{env.region}{letter}" for letter in "abcdef"]),
                ],
            )
            return [Fn.element(zones_lookup.names, index) for index in range(az_count)]
        return list(availability_zones)

    def _subnets(self) -> None:
        """One subnet per tier and zone, each /{tier size} from subnet_cidr; never a public IP on launch."""
        name, cidr = self.name, self.cidr
        self.subnets: dict[str, list[Subnet]] = {}
        for tier_index, tier in enumerate(self.tiers):
            self.subnets[tier.name] = [
                Subnet(
                    self,
                    f"{tier.name}-{az_index}",
                    vpc_id=self.vpc.id,
                    cidr_block=subnet_cidr(cidr, tier_index, az_index),
                    availability_zone=zone,
                    map_public_ip_on_launch=False,
                    tags={"Name": f"{name}-{tier.name}-{az_index}", "Tier": tier.name},
                )
                for az_index, zone in enumerate(self.availability_zones)
            ]

    def _public_routes(self, nat_gateways: int) -> None:
        """Internet gateway, the public tier's route table, and NAT gateways in the first `nat_gateways` zones."""
        name = self.name
        self.internet_gateway: InternetGateway | None = None
        self.nat_gateways: list[NatGateway] = []
        self.route_tables: list[RouteTable] = []
        public_tier = next((tier for tier in self.tiers if tier.kind == "public"), None)
        if public_tier is not None:
            self.internet_gateway = InternetGateway(self, "igw", vpc_id=self.vpc.id, tags={"Name": name})
            public_routes = self._route_table(f"{public_tier.name}-rt", f"{name}-{public_tier.name}")
            Route(
                self,
                "public-default-route",
                route_table_id=public_routes.id,
                destination_cidr_block=ANYWHERE,
                gateway_id=self.internet_gateway.id,
            )
            for az_index, subnet in enumerate(self.subnets[public_tier.name]):
                RouteTableAssociation(self, f"{public_tier.name}-rta-{az_index}", subnet_id=subnet.id, route_table_id=public_routes.id)
            for az_index in range(nat_gateways):
                address = Eip(self, f"nat-eip-{az_index}", domain="vpc", tags={"Name": f"{name}-nat-{az_index}"})
                self.nat_gateways.append(
                    NatGateway(
                        self,
                        f"nat-{az_index}",
                        allocation_id=address.id,
                        subnet_id=self.subnets[public_tier.name][az_index].id,
                        tags={"Name": f"{name}-nat-{az_index}"},
                        depends_on=[self.internet_gateway],
                    )
                )

    def _private_routes(self) -> None:
        """Route tables per tier and AZ; private tiers reach the internet through their zone's NAT gateway."""
        name = self.name
        # Route tables per tier and AZ, so one AZ's routing never depends on another AZ's NAT gateway by accident.
        for tier in self.tiers:
            if tier.kind == "public":
                continue
            for az_index, subnet in enumerate(self.subnets[tier.name]):
                table = self._route_table(f"{tier.name}-rt-{az_index}", f"{name}-{tier.name}-{az_index}")
                RouteTableAssociation(self, f"{tier.name}-rta-{az_index}", subnet_id=subnet.id, route_table_id=table.id)
                if tier.kind == "private" and self.nat_gateways:
                    Route(
                        self,
                        f"{tier.name}-nat-route-{az_index}",
                        route_table_id=table.id,
                        destination_cidr_block=ANYWHERE,
                        nat_gateway_id=self.nat_gateways[az_index % len(self.nat_gateways)].id,
                    )

    def _gateway_endpoints(self, gateway_endpoints: Sequence[str], aws_owned_buckets: Sequence[str]) -> None:
        """Gateway endpoints on every route table, for this account's principals on this account's resources only;
        through the S3 one, anyone in the VPC may also read `aws_owned_buckets` (package repositories and agent
        downloads, read unsigned): the only AWS-owned resources the workloads reach through them."""
        name, env = self.name, RegionalStack.of(self).env
        self.gateway_endpoints: dict[str, VpcEndpoint] = {}
        for service in gateway_endpoints:
            statements: list[dict[str, Any]] = [
                {
                    # Both sides of the data perimeter: this account's principals, to this account's buckets and tables
                    # (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-resourceaccount)
                    "Sid": "OnlyThisAccountsPrincipalsAndResources",
                    "Effect": "Allow",
                    "Principal": ANY_PRINCIPAL,
                    "Action": f"{service}:*",
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:PrincipalAccount": env.account_id, "aws:ResourceAccount": env.account_id}},
                }
            ]
            if service == "s3" and aws_owned_buckets:
                statements.append(
                    {
                        "Sid": "AwsOwnedPackageAndAgentBuckets",
                        "Effect": "Allow",
                        "Principal": ANY_PRINCIPAL,
                        "Action": ["s3:GetObject"],
                        "Resource": [f"arn:{env.partition}:s3:::{bucket}/*" for bucket in aws_owned_buckets],
                    }
                )
            self.gateway_endpoints[service] = VpcEndpoint(
                self,
                f"gateway-endpoint-{service}",
                vpc_id=self.vpc.id,
                service_name=f"com.amazonaws.{env.region}.{service}",
                vpc_endpoint_type="Gateway",
                route_table_ids=[table.id for table in self.route_tables],
                policy=policy_json(statements),
                tags={"Name": f"{name}-{service}"},
            )

    def _interface_endpoints(self, interface_endpoints: Sequence[str], endpoint_tier: str | None) -> None:
        """Interface endpoints with private DNS in `endpoint_tier`, reached on HTTPS from inside the VPC only."""
        name, cidr, env = self.name, self.cidr, RegionalStack.of(self).env
        self.endpoint_security_group: SecurityGroup | None = None
        self.interface_endpoints: dict[str, VpcEndpoint] = {}
        self.endpoint_tier = endpoint_tier or next((t.name for t in self.tiers if t.kind != "public"), None)
        if interface_endpoints:
            endpoint_subnets = self.subnets[self.endpoint_tier or ""]
            self.endpoint_security_group = SecurityGroup(
                self,
                "endpoint-sg",
                name=f"{name}-endpoints",
                description="Interface VPC endpoints: HTTPS from inside the VPC only",
                vpc_id=self.vpc.id,
                tags={"Name": f"{name}-endpoints"},
            )
            VpcSecurityGroupIngressRule(
                self,
                "endpoint-sg-https",
                security_group_id=self.endpoint_security_group.id,
                description="HTTPS from the VPC to the endpoints",
                ip_protocol="tcp",
                from_port=443,
                to_port=443,
                cidr_ipv4=cidr,
                tags={"Name": f"{name}-endpoints-https-from-vpc"},
            )
            for service in interface_endpoints:
                self.interface_endpoints[service] = VpcEndpoint(
                    self,
                    f"interface-endpoint-{service}",
                    vpc_id=self.vpc.id,
                    service_name=interface_service_name(env.region, service),
                    vpc_endpoint_type="Interface",
                    private_dns_enabled=True,
                    subnet_ids=[subnet.id for subnet in endpoint_subnets],
                    security_group_ids=[self.endpoint_security_group.id],
                    tags={"Name": f"{name}-{service}"},
                )

    # --- attributes for composition ---

    @property
    def vpc_id(self) -> str:
        return self.vpc.id

    def free_addresses(self, tier: str) -> int:
        """Addresses left in each subnet of `tier` for instances and load balancers: the subnet (a sixteenth of the
        VPC) less the 5 AWS reserves (https://docs.aws.amazon.com/vpc/latest/userguide/subnet-sizing.html), the
        interface endpoints it holds, and a NAT gateway in a public subnet."""
        size = ipaddress.IPv4Network(self.cidr).num_addresses // (2**_SUBNET_PREFIX_DELTA)
        endpoints = len(self.interface_endpoints) if tier == self.endpoint_tier else 0
        nat = 1 if self.nat_gateways and any(t.name == tier and t.kind == "public" for t in self.tiers) else 0
        return size - 5 - endpoints - nat

    def subnet_ids(self, tier: str) -> list[str]:
        """IDs of one tier's subnets in AZ order; raises naming the tiers that exist."""
        if tier not in self.subnets:
            raise InputError.single(f"{self.node.path}.subnet_ids", tier, f"expected one of the tiers: {', '.join(self.subnets)}")
        return [subnet.id for subnet in self.subnets[tier]]

    @property
    def endpoint_security_group_id(self) -> str | None:
        return self.endpoint_security_group.id if self.endpoint_security_group else None

    def gateway_prefix_list_id(self, service: str) -> str:
        """Managed prefix list of a gateway endpoint (for security group egress rules)."""
        if service not in self.gateway_endpoints:
            raise InputError.single(f"{self.node.path}.gateway_endpoints", service, f"expected one of: {', '.join(self.gateway_endpoints)}")
        return self.gateway_endpoints[service].prefix_list_id

    # --- parts ---

    def _validate(
        self,
        *,
        cidr: str,
        az_count: int,
        availability_zones: Sequence[str] | None,
        tiers: Sequence[SubnetTier],
        nat_gateways: int,
        interface_endpoints: Sequence[str],
        endpoint_tier: str | None,
    ) -> None:
        path = self.node.path
        problems: list[Problem] = []
        try:
            prefix = ipaddress.IPv4Network(cidr).prefixlen
            if not 16 <= prefix <= 24:
                problems.append(Problem(f"{path}.cidr", cidr, "expected a prefix length from /16 to /24"))
        except ValueError:
            problems.append(Problem(f"{path}.cidr", cidr, "expected an IPv4 network such as 10.1.0.0/16"))
        if az_count not in (2, 3):
            problems.append(Problem(f"{path}.az_count", az_count, "expected 2 or 3"))
        if availability_zones is not None and len(availability_zones) != az_count:
            problems.append(Problem(f"{path}.availability_zones", list(availability_zones), f"expected {az_count} zones"))
        names = [tier.name for tier in tiers]
        if not tiers or len(tiers) > _SLOTS_PER_TIER or len(set(names)) != len(names):
            problems.append(Problem(f"{path}.tiers", names, f"expected 1 to {_SLOTS_PER_TIER} tiers with distinct names"))
        for tier in tiers:
            if tier.kind not in ("public", "private", "isolated"):
                problems.append(Problem(f"{path}.tiers[{tier.name}].kind", tier.kind, "expected public, private or isolated"))
        has_public = any(tier.kind == "public" for tier in tiers)
        if [tier.kind for tier in tiers].count("public") > 1:
            problems.append(Problem(f"{path}.tiers", names, "expected at most one public tier"))
        if not 0 <= nat_gateways <= az_count:
            problems.append(Problem(f"{path}.nat_gateways", nat_gateways, f"expected 0 to az_count ({az_count})"))
        elif nat_gateways and not has_public:
            problems.append(Problem(f"{path}.nat_gateways", nat_gateways, "expected 0: NAT gateways need a public tier"))
        if endpoint_tier is not None and endpoint_tier not in names:
            problems.append(Problem(f"{path}.endpoint_tier", endpoint_tier, f"expected one of the tiers: {', '.join(names)}"))
        if interface_endpoints and all(tier.kind == "public" for tier in tiers):
            problems.append(Problem(f"{path}.interface_endpoints", list(interface_endpoints), "expected a non-public tier to hold them"))
        if problems:
            raise InputError(problems)

    def _route_table(self, id: str, name: str) -> RouteTable:
        table = RouteTable(self, id, vpc_id=self.vpc.id, tags={"Name": name})
        self.route_tables.append(table)
        return table

    def _network_acls(self) -> None:
        for tier in self.tiers:
            acl = NetworkAcl(
                self,
                f"{tier.name}-nacl",
                vpc_id=self.vpc.id,
                subnet_ids=[subnet.id for subnet in self.subnets[tier.name]],
                tags={"Name": f"{self.name}-{tier.name}"},
            )
            for entry in nacl_entries(tier.kind, self.cidr, tier.ingress_ports):
                direction = "out" if entry.egress else "in"
                NetworkAclRule(
                    self,
                    f"{tier.name}-nacl-{direction}-{entry.rule_number}",
                    network_acl_id=acl.id,
                    rule_number=entry.rule_number,
                    egress=entry.egress,
                    protocol=entry.protocol,
                    rule_action=entry.action,
                    cidr_block=entry.cidr_block,
                    from_port=entry.from_port,
                    to_port=entry.to_port,
                )

    def _flow_logs(self, log_key: EncryptionKey, retention_days: int) -> CloudwatchLogGroup:
        env = RegionalStack.of(self).env
        group_name = f"/vpc/flow-logs/{self.name}"
        group = encrypted_log_group(self, "flow-log-group", name=group_name, key=log_key, retention_days=retention_days)
        role = ServiceRole(
            self,
            "flow-log-role",
            name=f"{self.name}-flow-logs",
            service="vpc-flow-logs.amazonaws.com",
            statements=[
                {
                    "Sid": "WriteThisVpcsFlowLogs",
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                    "Resource": [env.arn("logs", f"log-group:{group_name}"), env.arn("logs", f"log-group:{group_name}:*")],
                }
            ],
        )
        FlowLog(
            self,
            "flow-log",
            vpc_id=self.vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=group.arn,
            iam_role_arn=role.role_arn,
            max_aggregation_interval=60,
            tags={"Name": self.name},
        )
        return group

    def _dns_firewall(self, firewall: DnsFirewall) -> None:
        allowed = Route53ResolverFirewallDomainList(
            self,
            "dns-allow-list",
            name=f"{self.name}-allowed",
            domains=list(firewall.allowed_domains),
            tags={"Name": f"{self.name}-allowed"},
        )
        everything = Route53ResolverFirewallDomainList(
            self, "dns-block-list", name=f"{self.name}-all-domains", domains=["*"], tags={"Name": f"{self.name}-all-domains"}
        )
        self.firewall_rule_group = Route53ResolverFirewallRuleGroup(
            self, "dns-firewall", name=f"{self.name}-dns-firewall", tags={"Name": f"{self.name}-dns-firewall"}
        )
        Route53ResolverFirewallRule(
            self,
            "dns-allow",
            name="allow-listed-domains",
            firewall_rule_group_id=self.firewall_rule_group.id,
            firewall_domain_list_id=allowed.id,
            priority=100,
            action="ALLOW",
        )
        Route53ResolverFirewallRule(
            self,
            "dns-block",
            name="block-everything-else",
            firewall_rule_group_id=self.firewall_rule_group.id,
            firewall_domain_list_id=everything.id,
            priority=200,
            action="BLOCK",
            block_response=firewall.block_response,
        )
        Route53ResolverFirewallRuleGroupAssociation(
            self,
            "dns-firewall-association",
            name=f"{self.name}-dns-firewall",
            firewall_rule_group_id=self.firewall_rule_group.id,
            vpc_id=self.vpc.id,
            priority=101,
            mutation_protection="ENABLED" if firewall.mutation_protection else "DISABLED",
            tags={"Name": f"{self.name}-dns-firewall"},
        )
        Route53ResolverFirewallConfig(
            self,
            "dns-firewall-config",
            resource_id=self.vpc.id,
            firewall_fail_open="ENABLED" if firewall.fail_open else "DISABLED",
        )
