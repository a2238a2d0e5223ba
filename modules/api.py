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
from cdktf_cdktf_provider_aws.api_gateway_request_validator import ApiGatewayRequestValidator
from cdktf_cdktf_provider_aws.api_gateway_resource import ApiGatewayResource
from cdktf_cdktf_provider_aws.api_gateway_rest_api import ApiGatewayRestApi
from cdktf_cdktf_provider_aws.api_gateway_stage import ApiGatewayStage
from cdktf_cdktf_provider_aws.lambda_function import LambdaFunction
from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission
from cdktf_cdktf_provider_aws.route53_record import Route53Record
from constructs import Construct

from modules.base import RegionalStack
from modules.certificate import DnsValidatedCertificate
from modules.errors import InputError, Problem
from modules.function import PrivateFunction
from modules.iam import ServiceRole
from modules.kms import EncryptionKey, encrypted_log_group
from modules.suppressions import suppress

Authorization = Literal["AWS_IAM", "NONE"]

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


#: Why the stage has no response cache: every response reads or writes the regional DynamoDB replica.
NO_CACHE_REASON = "dynamic read/write API; a stage cache would serve items stale after writes in the other region"


#: The stage every REST API deploys to unless told otherwise (metric dimension Stage).
API_STAGE = "live"


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

    Default: every method requires SigV4-signed requests (`authorization="AWS_IAM"`) except GET on `public_paths`
    (the health check path, which Route 53 health checkers call unsigned); request parameters are validated.
    Stage "live" with X-Ray tracing, JSON access logs to a KMS log group (365 days), metrics, execution
    logs of errors (written once `logging`, the region's `ApiGatewayLogging`, exists), and throttling of 100 requests/s with bursts of 200.
    One ACM certificate covers all domain names and is validated with DNS records in `hosted_zone_id`; each name
    gets a base path mapping to the stage.
    `alias_records` (a subset of the domain names) get A records aliasing the first domain's regional endpoint.
    `health_function` (a twin of `function`, see `PrivateFunction.twin`) serves the public paths instead, and each
    public path gets a method throttle of its own (`health_throttling`): health checks then fail on the faults they
    are there to see (role, network, table, code), not because customer load used up the shared stage throttle or
    the function's concurrency. Method throttles apply per method
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html).
    `validated_elsewhere`: domain names whose certificate validation record another stack owns.
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
        authorization: Authorization = "AWS_IAM",
        public_paths: Sequence[str] = ("/health",),
        stage_name: str = API_STAGE,
        throttling_rate_limit: float = 100,
        throttling_burst_limit: int = 200,
        log_retention_days: int = 365,
        execution_logging_level: Literal["OFF", "ERROR", "INFO"] = "ERROR",
        logging: ApiGatewayLogging | None = None,
        health_function: LambdaFunction | None = None,
        health_throttling: tuple[float, int] = (20, 40),
        validated_elsewhere: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, id)
        self._validate(domain_names, alias_records, public_paths, throttling_rate_limit, throttling_burst_limit)
        self._validate(domain_names, (), public_paths, *health_throttling)
        methods = self._methods(name, function, authorization, public_paths, health_function)
        self._stage(
            name=name, methods=methods, stage_name=stage_name, log_key=log_key, log_retention_days=log_retention_days, logging=logging
        )
        self._settings(execution_logging_level, throttling_rate_limit, throttling_burst_limit)
        for index, public_path in enumerate(public_paths):
            self._settings(
                execution_logging_level, *health_throttling, method_path=f"{public_path.strip('/')}/GET", id=f"settings-public-{index}"
            )
        self._domains(domain_names, alias_records, hosted_zone_id, validated_elsewhere)

    def _validate(
        self,
        domain_names: Sequence[str],
        alias_records: Sequence[str],
        public_paths: Sequence[str],
        throttling_rate_limit: float,
        throttling_burst_limit: int,
    ) -> None:
        problems: list[Problem] = []
        if not domain_names:
            problems.append(Problem(f"{self.node.path}.domain_names", [], "expected at least one domain name"))
        for record in alias_records:
            if record not in domain_names:
                problems.append(
                    Problem(f"{self.node.path}.alias_records", record, f"expected one of domain_names: {', '.join(domain_names)}")
                )
        for public_path in public_paths:
            if not public_path.startswith("/") or public_path == "/" or "{" in public_path or "//" in public_path:
                problems.append(
                    Problem(f"{self.node.path}.public_paths", public_path, "expected a literal path below the root, such as /health")
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

    def _methods(
        self,
        name: str,
        function: PrivateFunction,
        authorization: Authorization,
        public_paths: Sequence[str],
        health_function: LambdaFunction | None,
    ) -> list[ApiGatewayMethod | ApiGatewayIntegration]:
        """The API, its proxy routes (and the public GET paths), each with a Lambda proxy integration."""
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
        validator = ApiGatewayRequestValidator(
            self, "validator", rest_api_id=self.rest_api.id, name=f"{name}-parameters", validate_request_parameters=True
        )
        proxy = ApiGatewayResource(
            self, "proxy", rest_api_id=self.rest_api.id, parent_id=self.rest_api.root_resource_id, path_part="{proxy+}"
        )
        routes = [("root", self.rest_api.root_resource_id, "ANY", authorization), ("proxy", proxy.id, "ANY", authorization)]
        routes += [(label, resource_id, "GET", "NONE") for label, resource_id in self._public_resources(public_paths)]
        methods: list[ApiGatewayMethod | ApiGatewayIntegration] = []
        for label, resource_id, http_method, method_authorization in routes:
            method = ApiGatewayMethod(
                self,
                f"{label}-{http_method.lower()}",
                rest_api_id=self.rest_api.id,
                resource_id=resource_id,
                http_method=http_method,
                authorization=method_authorization,
                request_validator_id=validator.id,
            )
            if method_authorization == "NONE":
                reason = (
                    "Route 53 health checkers call this path unsigned; it answers only status and region"
                    if http_method == "GET"
                    else "public API by choice: the configuration sets authorization NONE (WAF and throttling still apply)"
                )
                suppress(method, "CKV_AWS_59", reason)
            integration = ApiGatewayIntegration(
                self,
                f"{label}-lambda",
                rest_api_id=self.rest_api.id,
                resource_id=resource_id,
                http_method=method.http_method,
                type="AWS_PROXY",
                integration_http_method="POST",
                uri=health_function.invoke_arn if health_function and label.startswith("path-") else function.invoke_arn,
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
        if health_function is not None:
            LambdaPermission(
                self,
                "invoke-health",
                statement_id="AllowApiGatewayInvokePublicPaths",
                action="lambda:InvokeFunction",
                function_name=health_function.function_name,
                principal="apigateway.amazonaws.com",
                source_arn=f"{self.rest_api.execution_arn}/*/GET/*",
            )
        return methods

    def _stage(
        self,
        *,
        name: str,
        methods: list[ApiGatewayMethod | ApiGatewayIntegration],
        stage_name: str,
        log_key: EncryptionKey,
        log_retention_days: int,
        logging: ApiGatewayLogging | None,
    ) -> None:
        """A deployment redeployed when the routes change, and the stage with X-Ray and KMS-encrypted access logs."""
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
        suppress(self.stage, "CKV_AWS_120", NO_CACHE_REASON)
        suppress(
            self.stage,
            "CKV2_AWS_51",
            "a stage client certificate authenticates API Gateway to HTTP backends; the only backend is Lambda, invoked via IAM",
        )

    def _settings(
        self,
        execution_logging_level: str,
        throttling_rate_limit: float,
        throttling_burst_limit: int,
        *,
        method_path: str = "*/*",
        id: str = "settings",
    ) -> None:
        settings = ApiGatewayMethodSettings(
            self,
            id,
            rest_api_id=self.rest_api.id,
            stage_name=self.stage.stage_name,
            method_path=method_path,
            settings={
                "metrics_enabled": True,
                "logging_level": execution_logging_level,
                "data_trace_enabled": False,  # never log request or response bodies
                "throttling_rate_limit": throttling_rate_limit,
                "throttling_burst_limit": throttling_burst_limit,
            },
        )
        suppress(settings, "CKV_AWS_225", NO_CACHE_REASON)

    def _domains(
        self, domain_names: Sequence[str], alias_records: Sequence[str], hosted_zone_id: str, validated_elsewhere: Sequence[str]
    ) -> None:
        """One certificate for every custom domain, a base path mapping per domain, and the alias records."""
        self.certificate = DnsValidatedCertificate(
            self, "certificate", domain_names=domain_names, hosted_zone_id=hosted_zone_id, validated_elsewhere=validated_elsewhere
        )
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

    def _public_resources(self, public_paths: Sequence[str]) -> list[tuple[str, str]]:
        """(label, resource id) of the last segment of each public path; shared parents are created once."""
        created: dict[str, ApiGatewayResource] = {}
        leaves = []
        for public_path in public_paths:
            parent_id, so_far = self.rest_api.root_resource_id, ""
            for segment in public_path.strip("/").split("/"):
                so_far += f"/{segment}"
                if so_far not in created:
                    label = "path" + so_far.replace("/", "-")
                    created[so_far] = ApiGatewayResource(self, label, rest_api_id=self.rest_api.id, parent_id=parent_id, path_part=segment)
                parent_id = created[so_far].id
            leaves.append(("path" + so_far.replace("/", "-"), parent_id))
        return leaves

    @property
    def stage_arn(self) -> str:
        return self.stage.arn

    @property
    def api_name(self) -> str:
        return self.rest_api.name
