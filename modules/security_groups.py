"""A declarative chain of security groups: each link opens one TCP port from one member (or an AWS-managed
prefix list) to the next member, with the matching egress rule on the source, and nothing else.

Rules follow the VPC user guide's "Security group rules" page (https://docs.aws.amazon.com/vpc/latest/userguide/
security-group-rules.html): a group referenced as a source must be in the same VPC, and a managed prefix list
counts as its max entries (its weight) against the group's rule quota (60 inbound rules per group by default,
https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html#vpc-limits-security-groups).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.data_aws_ec2_managed_prefix_list import DataAwsEc2ManagedPrefixList
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from modules.errors import InputError, Problem
from modules.suppressions import suppress

#: checkov reads an aws_vpc_security_group_ingress_rule without cidr_ipv4 as open to 0.0.0.0/0.
SSH_FROM_GROUP_REASON = "false positive: the source is the break-glass security group (referenced_security_group_id), no CIDR"


@dataclass(frozen=True)
class PrefixListSource:
    """An AWS-managed prefix list as a chain source, looked up by `name`; `label` names the rule."""

    name: str
    label: str


@dataclass(frozen=True)
class Link:
    """`port`/tcp from `source` (a member, or a managed prefix list) to the member `destination`."""

    source: str | PrefixListSource
    destination: str
    port: int


@dataclass(frozen=True)
class Egress:
    """HTTPS (or `port`) from `member` to something outside the chain: a security group or a prefix list by ID."""

    member: str
    target: str
    security_group_id: str | None = None
    prefix_list_id: str | None = None
    port: int = 443


class SecurityGroupChain(Construct):
    """One security group per member and one ingress/egress pair per link; no other rule.

    Default: groups have no rules of their own, so everything not linked is denied (egress included).
    A link on port 22 from a member is suppressed for CKV_AWS_24 with the reason (its source is a group, no CIDR).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        vpc_id: str,
        members: Sequence[str],
        links: Sequence[Link],
        egress: Sequence[Egress] = (),
    ) -> None:
        super().__init__(scope, id)
        self._validate(members, links, egress)
        self.name = name
        self.groups: Mapping[str, SecurityGroup] = {
            member: SecurityGroup(
                self,
                f"sg-{member}",
                name=f"{name}-{member}",
                description=f"{name}: {member} (chain member)",
                vpc_id=vpc_id,
                tags={"Name": f"{name}-{member}"},
            )
            for member in members
        }
        prefix_lists: dict[str, DataAwsEc2ManagedPrefixList] = {}
        for link in links:
            if isinstance(link.source, PrefixListSource):
                lookup = prefix_lists.get(link.source.name) or DataAwsEc2ManagedPrefixList(
                    self, f"{link.source.label}-prefix-list", name=link.source.name
                )
                prefix_lists[link.source.name] = lookup
                self._from_prefix_list(link, lookup.id)
            else:
                self._between_members(link)
        for rule in egress:
            self._egress(rule)

    def group_id(self, member: str) -> str:
        """The security group ID of `member`; raises naming the members when there is none."""
        if member not in self.groups:
            raise InputError.single(f"{self.node.path}.member", member, f"expected one of {sorted(self.groups)}")
        return self.groups[member].id

    def _from_prefix_list(self, link: Link, prefix_list_id: str) -> None:
        label = link.source.label  # type: ignore[union-attr]
        VpcSecurityGroupIngressRule(
            self, f"in-{link.destination}-from-{label}", security_group_id=self.groups[link.destination].id,
            description=f"HTTPS from {label} addresses", ip_protocol="tcp", from_port=link.port, to_port=link.port,
            prefix_list_id=prefix_list_id, tags={"Name": f"{self.name}-{link.destination}-from-{label}"},
        )  # fmt: skip

    def _between_members(self, link: Link) -> None:
        source, destination, port = link.source, link.destination, link.port
        ingress = VpcSecurityGroupIngressRule(
            self, f"in-{destination}-from-{source}", security_group_id=self.groups[destination].id,
            description=f"{port}/tcp from {source}", ip_protocol="tcp", from_port=port, to_port=port,
            referenced_security_group_id=self.groups[source].id, tags={"Name": f"{self.name}-{destination}-from-{source}"},
        )  # fmt: skip
        if port == 22:
            suppress(ingress, "CKV_AWS_24", SSH_FROM_GROUP_REASON)
        VpcSecurityGroupEgressRule(
            self, f"out-{source}-to-{destination}", security_group_id=self.groups[source].id,  # type: ignore[index]
            description=f"{port}/tcp to {destination}", ip_protocol="tcp", from_port=port, to_port=port,
            referenced_security_group_id=self.groups[destination].id, tags={"Name": f"{self.name}-{source}-to-{destination}"},
        )  # fmt: skip

    def _egress(self, rule: Egress) -> None:
        target = (
            {"referenced_security_group_id": rule.security_group_id} if rule.security_group_id else {"prefix_list_id": rule.prefix_list_id}
        )
        VpcSecurityGroupEgressRule(
            self, f"out-{rule.member}-to-{rule.target}", security_group_id=self.groups[rule.member].id,
            description=f"HTTPS to the {rule.target} endpoints", ip_protocol="tcp", from_port=rule.port, to_port=rule.port,
            tags={"Name": f"{self.name}-{rule.member}-to-{rule.target}"}, **target,
        )  # fmt: skip

    def _validate(self, members: Sequence[str], links: Sequence[Link], egress: Sequence[Egress]) -> None:
        path = self.node.path
        known = set(members)
        problems: list[Problem] = []
        if len(known) != len(members):
            problems.append(Problem(f"{path}.members", list(members), "expected each member once"))
        for index, link in enumerate(links):
            ends = [link.destination] + ([] if isinstance(link.source, PrefixListSource) else [link.source])
            for end in ends:
                if end not in known:
                    problems.append(Problem(f"{path}.links[{index}]", end, f"expected a member: one of {sorted(known)}"))
            if not 1 <= link.port <= 65535:
                problems.append(Problem(f"{path}.links[{index}].port", link.port, "expected a TCP port from 1 to 65535"))
        for index, rule in enumerate(egress):
            if rule.member not in known:
                problems.append(Problem(f"{path}.egress[{index}].member", rule.member, f"expected one of {sorted(known)}"))
            if (rule.security_group_id is None) == (rule.prefix_list_id is None):
                problems.append(
                    Problem(f"{path}.egress[{index}]", rule.target, "expected exactly one of security_group_id, prefix_list_id")
                )
        if problems:
            raise InputError(problems)
