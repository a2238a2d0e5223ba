"""WAFv2 web ACL from AWS managed rule groups, an optional rate-based rule, metrics and KMS-encrypted logging."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from cdktf_cdktf_provider_aws.wafv2_web_acl import Wafv2WebAcl, Wafv2WebAclRule
from cdktf_cdktf_provider_aws.wafv2_web_acl_association import Wafv2WebAclAssociation
from cdktf_cdktf_provider_aws.wafv2_web_acl_logging_configuration import Wafv2WebAclLoggingConfiguration
from constructs import Construct

from modules.base import RegionalStack
from modules.errors import InputError, Problem
from modules.kms import EncryptionKey, encrypted_log_group

WafScope = Literal["REGIONAL", "CLOUDFRONT"]

#: The six groups of seed 000, in evaluation order.
SERVERLESS_API_RULE_GROUPS = (
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesAnonymousIpList",
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesLinuxRuleSet",
    "AWSManagedRulesUnixRuleSet",
)
#: AWSManagedRulesCommonRuleSet's SizeRestrictions_BODY blocks request bodies larger than this
#: (https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-baseline.html). No ACL here
#: overrides that rule: the API handler's own limit (lambda/api/handler.py MAX_BODY_BYTES) equals it.
COMMON_RULE_SET_MAX_BODY_BYTES = 8 * 1024
#: The groups of seed 001's CloudFront ACL, plus anonymous IPs and known bad inputs (which covers Log4Shell).
WEB_APP_RULE_GROUPS = (
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesAnonymousIpList",
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesSQLiRuleSet",
)


#: AWSManagedRulesAnonymousIpList's rule for hosting and cloud providers' addresses, AWS's among them, where Route 53's
#: health checkers send from; the label it adds to what it matches
#: (https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-ip-rep.html).
ANONYMOUS_IP_GROUP = "AWSManagedRulesAnonymousIpList"
HOSTING_PROVIDER_RULE = "HostingProviderIPList"
HOSTING_PROVIDER_LABEL = f"awswaf:managed:aws:anonymous-ip-list:{HOSTING_PROVIDER_RULE}"


def _visibility(metric_name: str) -> dict[str, object]:
    return {"cloudwatch_metrics_enabled": True, "sampled_requests_enabled": True, "metric_name": metric_name}


def _hosting_providers_but_health_checks(acl: str, priority: int, health_path: str) -> Wafv2WebAclRule:
    """Block what HostingProviderIPList labelled, except GET of exactly `health_path`."""
    health = {
        "byte_match_statement": {
            "positional_constraint": "EXACTLY",
            "search_string": health_path,
            "field_to_match": {"uri_path": {}},
            "text_transformation": [{"priority": 0, "type": "NONE"}],
        }
    }
    labelled = {"label_match_statement": {"scope": "LABEL", "key": HOSTING_PROVIDER_LABEL}}
    return Wafv2WebAclRule(
        name="hosting-providers-except-health-checks",
        priority=priority,
        action={"block": {}},
        statement={"and_statement": {"statement": [labelled, {"not_statement": {"statement": [health]}}]}},
        visibility_config=_visibility(f"{acl}-hosting-providers"),
    )


class WebAcl(Construct):
    """A web ACL that allows by default and blocks what its rules match.

    Default: REGIONAL scope; managed groups evaluated in the given order (priority 10, 20, ...); a rate-based rule
    blocking an IP above 2000 requests per 5 minutes, evaluated first; full logs to a KMS-encrypted log group
    kept 365 days. CLOUDFRONT scope must be created in a us-east-1 stack.

    `health_path`: the path Route 53's health checkers request. Their addresses are AWS's, which the anonymous-IP
    group's HostingProviderIPList rule blocks; with a health path that rule only counts (labels), and a rule right
    after the group blocks what it labelled on every other path. The health path stays rate-limited.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        log_key: EncryptionKey,
        managed_rule_groups: Sequence[str],
        waf_scope: WafScope = "REGIONAL",
        rate_limit_per_5_minutes: int | None = 2000,
        log_retention_days: int = 365,
        health_path: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        env = RegionalStack.of(self).env
        problems: list[Problem] = []
        if waf_scope not in ("REGIONAL", "CLOUDFRONT"):
            problems.append(Problem(f"{self.node.path}.waf_scope", waf_scope, "expected REGIONAL or CLOUDFRONT"))
        if waf_scope == "CLOUDFRONT" and env.region != "us-east-1":
            problems.append(
                Problem(f"{self.node.path}.waf_scope", waf_scope, f"expected a us-east-1 stack for CLOUDFRONT, not {env.region}")
            )
        if not managed_rule_groups or len(set(managed_rule_groups)) != len(managed_rule_groups):
            problems.append(
                Problem(f"{self.node.path}.managed_rule_groups", list(managed_rule_groups), "expected at least one group, no repeats")
            )
        if health_path is not None and (not health_path.startswith("/") or ANONYMOUS_IP_GROUP not in managed_rule_groups):
            problems.append(
                Problem(f"{self.node.path}.health_path", health_path, f"expected a path starting with / and the {ANONYMOUS_IP_GROUP} group")
            )
        if rate_limit_per_5_minutes is not None and not 10 <= rate_limit_per_5_minutes <= 2_000_000_000:
            problems.append(
                Problem(f"{self.node.path}.rate_limit_per_5_minutes", rate_limit_per_5_minutes, "expected 10 to 2000000000, or None")
            )
        if problems:
            raise InputError(problems)
        self.waf_scope = waf_scope
        self.rule_names: list[str] = []

        rules: list[Wafv2WebAclRule] = []
        if rate_limit_per_5_minutes is not None:
            rules.append(
                Wafv2WebAclRule(
                    name="rate-limit-per-ip",
                    priority=1,
                    action={"block": {}},
                    statement={"rate_based_statement": {"limit": rate_limit_per_5_minutes, "aggregate_key_type": "IP"}},
                    visibility_config=_visibility(f"{name}-rate-limit"),
                )
            )
        for index, group in enumerate(managed_rule_groups, start=1):
            statement: dict[str, object] = {"name": group, "vendor_name": "AWS"}
            if group == ANONYMOUS_IP_GROUP and health_path is not None:
                statement["rule_action_override"] = [{"name": HOSTING_PROVIDER_RULE, "action_to_use": {"count": {}}}]
            rules.append(
                Wafv2WebAclRule(
                    name=group,
                    priority=10 * index,
                    override_action={"none": {}},
                    statement={"managed_rule_group_statement": statement},
                    visibility_config=_visibility(f"{name}-{group}"),
                )
            )
            if group == ANONYMOUS_IP_GROUP and health_path is not None:
                rules.append(_hosting_providers_but_health_checks(name, 10 * index + 1, health_path))
        self.rule_names = [rule.name for rule in rules]
        self.web_acl = Wafv2WebAcl(
            self,
            "acl",
            name=name,
            description=f"{name}: AWS managed rules" + (", rate limit per IP" if rate_limit_per_5_minutes else ""),
            scope=waf_scope,
            default_action={"allow": {}},
            rule=rules,
            visibility_config=_visibility(name),
            tags={"Name": name},
        )
        # WAF only delivers logs to log groups whose names start with 'aws-waf-logs-'.
        self.log_group = encrypted_log_group(self, "log-group", name=f"aws-waf-logs-{name}", key=log_key, retention_days=log_retention_days)
        Wafv2WebAclLoggingConfiguration(self, "logging", resource_arn=self.web_acl.arn, log_destination_configs=[self.log_group.arn])

    @property
    def web_acl_arn(self) -> str:
        return self.web_acl.arn

    @property
    def web_acl_id(self) -> str:
        return self.web_acl.id

    def associate(self, id: str, resource_arn: str) -> Wafv2WebAclAssociation:
        """Protect a regional resource (ALB, API Gateway stage); CloudFront takes the ACL ARN on the distribution."""
        if self.waf_scope != "REGIONAL":
            raise InputError.single(
                f"{self.node.path}.associate",
                resource_arn,
                "expected a REGIONAL web ACL; set web_acl_id on the CloudFront distribution instead",
            )
        return Wafv2WebAclAssociation(self, id, resource_arn=resource_arn, web_acl_arn=self.web_acl.arn)
