"""Regional API Gateway REST API in front of one Lambda function, with custom domains and access logs."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Literal

from cdktf import Fn
from cdktf_cdktf_provider_aws.api_gateway_account import ApiGatewayAccount
from cdktf_cdktf_provider_aws.api_gateway_base_path_mapping import ApiGatewayBasePathMapping
from cdktf_cdktf_provider_aws.api_gateway_deployment import ApiGatewayDeployment
from cdktf_cdktf_provider_aws.api_gateway_domain_name import ApiGatewayDomainName
from cdktf_cdktf_provider_aws.api_gateway_integration import ApiGatewayIntegration
from cdktf_cdktf_provider_aws.api_gateway_method import ApiGatewayMethod
from cdktf_cdktf_provider_aws.api_gateway_method_settings import ApiGatewayMethodSettings
from cdktf_cdktf_provider_aws.api_gateway_resource import ApiGatewayResource
from cdktf_cdktf_provider_aws.api_gateway_rest_api import ApiGatewayRestApi
from cdktf_cdktf_provider_aws.api_gateway_stage import ApiGatewayStage
from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission
from cdktf_cdktf_provider_aws.route53_record import Route53Record
from constructs import Construct

from modules.base import RegionalStack
from modules.certificate import DnsValidatedCertificate
from modules.errors import InputError, Problem
from modules.function import PrivateFunction
from modules.iam import ServiceRole
from modules.kms import EncryptionKey, encrypted_log_group

#: One JSON line per request in the access log.
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "method": "$context.httpMethod",
        "path": "$context.path",
        "status": "$context.status",
        "latencyMs": "$context.responseLatency",
        "integrationStatus": "$context.integrationStatus",
        "wafStatus": "$context.wafResponseCode",
        "userAgent": "$context.identity.userAgent",
    },
    separators=(",", ":"),
)


class ApiGatewayLogging(Construct):
    """The region's API Gateway account setting: the role that lets API Gateway write execution logs.

    One per account and region: create it in exactly one stack of each region that has REST APIs.
    """

    def __init__(self, scope: Construct, id: str, *, role_name: str) -> None:
        super().__init__(scope, id)
        env = RegionalStack.of(self).env
        self.role = ServiceRole(
            self,
            "role",
            name=role_name,
            service="apigateway.amazonaws.com",
            managed_policy_arns=[f"arn:{env.partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"],
        )
        self.account = ApiGatewayAccount(self, "account", cloudwatch_role_arn=self.role.role_arn)


class RegionalRestApi(Construct):
    """A REGIONAL REST API proxying every path to `function`, served on `domain_names` over TLS 1.2.

    Default: stage "live" with X-Ray tracing, JSON access logs to a KMS log group (365 days), metrics, execution
    logs of errors (written once `logging`, the region's `ApiGatewayLogging`, exists), and throttling of 100 requests/s with bursts of 200.
    One ACM certificate covers all domain names and is validated with DNS records in `hosted_zone_id`; each name
    gets a base path mapping to the stage.
    `alias_records` (a subset of the domain names) get A records aliasing the first domain's regional endpoint.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        function: PrivateFunction,
        domain_names: Sequence[str],
        hosted_zone_id: str,
        log_key: EncryptionKey,
        alias_records: Sequence[str] = (),
        stage_name: str = "live",
        throttling_rate_limit: float = 100,
        throttling_burst_limit: int = 200,
        log_retention_days: int = 365,
        execution_logging_level: Literal["OFF", "ERROR", "INFO"] = "ERROR",
        logging: ApiGatewayLogging | None = None,
    ) -> None:
        super().__init__(scope, id)
        problems: list[Problem] = []
        if not domain_names:
            problems.append(Problem(f"{self.node.path}.domain_names", [], "expected at least one domain name"))
        for record in alias_records:
            if record not in domain_names:
                problems.append(
                    Problem(f"{self.node.path}.alias_records", record, f"expected one of domain_names: {', '.join(domain_names)}")
                )
        if throttling_rate_limit <= 0 or throttling_burst_limit <= 0:
            problems.append(
                Problem(
                    f"{self.node.path}.throttling",
                    [throttling_rate_limit, throttling_burst_limit],
                    "expected positive rate and burst limits",
                )
            )
        if problems:
            raise InputError(problems)

        self.rest_api = ApiGatewayRestApi(
            self,
            "api",
            name=name,
            description=f"{name}: proxy to {function.function_name}",
            endpoint_configuration={"types": ["REGIONAL"]},
            disable_execute_api_endpoint=True,  # only the custom domains (TLS 1.2, WAF) reach the API
            lifecycle={"create_before_destroy": True},
            tags={"Name": name},
        )
        proxy = ApiGatewayResource(
            self, "proxy", rest_api_id=self.rest_api.id, parent_id=self.rest_api.root_resource_id, path_part="{proxy+}"
        )
        methods = []
        for label, resource_id in (("root", self.rest_api.root_resource_id), ("proxy", proxy.id)):
            method = ApiGatewayMethod(
                self, f"{label}-any", rest_api_id=self.rest_api.id, resource_id=resource_id, http_method="ANY", authorization="NONE"
            )
            integration = ApiGatewayIntegration(
                self,
                f"{label}-lambda",
                rest_api_id=self.rest_api.id,
                resource_id=resource_id,
                http_method=method.http_method,
                type="AWS_PROXY",
                integration_http_method="POST",
                uri=function.invoke_arn,
                timeout_milliseconds=29000,
            )
            methods += [method, integration]
        LambdaPermission(
            self,
            "invoke",
            statement_id="AllowApiGatewayInvoke",
            action="lambda:InvokeFunction",
            function_name=function.function.function_name,
            principal="apigateway.amazonaws.com",
            source_arn=f"{self.rest_api.execution_arn}/*/*",
        )
        deployment = ApiGatewayDeployment(
            self,
            "deployment",
            rest_api_id=self.rest_api.id,
            triggers={"redeployment": Fn.sha1(Fn.jsonencode([m.id for m in methods]))},
            lifecycle={"create_before_destroy": True},
            depends_on=methods,
        )
        self.access_logs = encrypted_log_group(
            self, "access-logs", name=f"/aws/apigateway/{name}/access", key=log_key, retention_days=log_retention_days
        )
        self.stage = ApiGatewayStage(
            self,
            "stage",
            rest_api_id=self.rest_api.id,
            deployment_id=deployment.id,
            stage_name=stage_name,
            xray_tracing_enabled=True,
            access_log_settings={"destination_arn": self.access_logs.arn, "format": ACCESS_LOG_FORMAT},
            tags={"Name": f"{name}-{stage_name}"},
            depends_on=[logging.account] if logging else None,
        )
        ApiGatewayMethodSettings(
            self,
            "settings",
            rest_api_id=self.rest_api.id,
            stage_name=self.stage.stage_name,
            method_path="*/*",
            settings={
                "metrics_enabled": True,
                "logging_level": execution_logging_level,
                "data_trace_enabled": False,  # never log request or response bodies
                "throttling_rate_limit": throttling_rate_limit,
                "throttling_burst_limit": throttling_burst_limit,
            },
        )

        self.certificate = DnsValidatedCertificate(self, "certificate", domain_names=domain_names, hosted_zone_id=hosted_zone_id)
        self.domains: dict[str, ApiGatewayDomainName] = {}
        for index, domain in enumerate(domain_names):
            self.domains[domain] = ApiGatewayDomainName(
                self,
                f"domain-{index}",
                domain_name=domain,
                regional_certificate_arn=self.certificate.certificate_arn,
                endpoint_configuration={"types": ["REGIONAL"]},
                security_policy="TLS_1_2",
                tags={"Name": domain},
            )
            ApiGatewayBasePathMapping(
                self,
                f"mapping-{index}",
                api_id=self.rest_api.id,
                stage_name=self.stage.stage_name,
                domain_name=self.domains[domain].domain_name,
            )
        entry = self.domains[domain_names[0]]
        for index, record in enumerate(alias_records):
            Route53Record(
                self,
                f"alias-{index}",
                zone_id=hosted_zone_id,
                name=record,
                type="A",
                alias={"name": entry.regional_domain_name, "zone_id": entry.regional_zone_id, "evaluate_target_health": True},
            )

    @property
    def stage_arn(self) -> str:
        return self.stage.arn

    @property
    def api_name(self) -> str:
        return self.rest_api.name
