"""Stack base class: one region, one explicit AWS provider, default tags, and the remote state backend."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from cdktf import S3Backend, S3BackendEndpointConfig, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags, AwsProviderEndpoints
from constructs import Construct

from modules.config import DeploymentConfig, StateSettings
from modules.moves import logical_id


@dataclass(frozen=True)
class AwsEnv:
    """Where a stack deploys: account, region and partition, known at synth time (no lookups)."""

    account_id: str
    region: str
    partition: str = "aws"

    def arn(self, service: str, resource: str, *, region: str | None = None, account: bool = True) -> str:
        """A deterministic ARN in this account; `region=""` for global services such as IAM."""
        in_region = self.region if region is None else region
        return f"arn:{self.partition}:{service}:{in_region}:{self.account_id if account else ''}:{resource}"

    @property
    def root_principal(self) -> str:
        return f"arn:{self.partition}:iam::{self.account_id}:root"


#: Provider endpoints sent to the emulator in emulator mode: every service the stacks call (binding argument names).
EMULATED_SERVICES = (
    "acm", "apigateway", "autoscaling", "backup", "budgets", "cloudfront", "cloudtrail", "cloudwatch", "configservice",
    "dynamodb", "ec2", "elbv2", "events", "fis", "guardduty", "iam", "kms", "lambda_", "logs", "rds", "resiliencehub",
    "route53", "route53_resolver", "s3", "s3_control", "secretsmanager", "securityhub", "sns", "sqs", "ssm", "sts",
    "synthetics", "wafv2",
)  # fmt: skip
#: Attempts per call against an emulator: enough to ride out an answer a loaded emulator loses, few enough that a
#: call it does not implement (500) fails in seconds, where the default (25) would look like a hang.
EMULATOR_MAX_RETRIES = 4


def emulator_provider_settings(endpoint: str) -> dict[str, Any]:
    """AwsProvider arguments that send every call to the emulator at `endpoint`."""
    return {
        "endpoints": [AwsProviderEndpoints(**dict.fromkeys(EMULATED_SERVICES, endpoint))],
        "s3_use_path_style": True,
        "skip_credentials_validation": True,
        "skip_metadata_api_check": "true",
        "max_retries": EMULATOR_MAX_RETRIES,
    }


def common_tags(config: DeploymentConfig, stack_name: str) -> dict[str, str]:
    """Tags every resource gets through the provider's default_tags; the config's own tags win."""
    return {
        "Project": config.project,
        "Environment": config.environment,
        "ManagedBy": "cdktf",
        "Deployment": config.name_prefix,  # the budget's cost filter (modules.budget)
        "Stack": stack_name,
        **config.tags,
    }


def state_kms_alias_arn(config: DeploymentConfig, region: str) -> str:
    """The state key's alias in a region; the bootstrap stack creates it under this name in both regions."""
    return AwsEnv(config.account_id, region).arn("kms", f"alias/{config.name_prefix}-tfstate")


def configure_s3_backend(stack: TerraformStack, config: DeploymentConfig, stack_name: str) -> S3Backend:
    """Point a stack at the shared remote state (the replica bucket when state.failover is true)."""
    state: StateSettings = config.state
    emulator: dict[str, Any] = {}
    if config.emulator is not None:
        url = config.emulator.endpoint
        emulator = {
            "endpoints": S3BackendEndpointConfig(s3=url, dynamodb=url, sts=url, iam=url),
            "use_path_style": True,
            "skip_credentials_validation": True,
            "skip_metadata_api_check": True,
            "max_retries": EMULATOR_MAX_RETRIES,
        }
    return S3Backend(
        stack,
        bucket=state.active_bucket,
        key=config.state_key(stack_name),
        region=state.active_region,
        dynamodb_table=state.lock_table,
        encrypt=True,
        kms_key_id=state_kms_alias_arn(config, state.active_region),
        **emulator,
    )


class RegionalStack(TerraformStack):
    """A stack pinned to one region with its own provider; everything it creates is tagged.

    Default: remote S3 state from the config; pass `remote_state=False` for the bootstrap stack only. With
    `config.emulator`, the providers and the backend call the emulator instead of AWS.
    """

    def __init__(
        self,
        scope: Construct,
        stack_name: str,
        *,
        config: DeploymentConfig,
        region: str,
        remote_state: bool = True,
        extra_tags: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(scope, stack_name)
        self.config = config
        self.stack_name = stack_name
        self.env = AwsEnv(config.account_id, region)
        self.tags = {**common_tags(config, stack_name), **(extra_tags or {})}
        self._provider_regions: dict[str, str] = {}
        self.provider = self.aws_provider(region)
        if remote_state:
            configure_s3_backend(self, config, stack_name)

    @property
    def emulated(self) -> bool:
        """Deploying into a local emulator: constructs leave out what it cannot create (see EmulatorSettings)."""
        return self.config.emulated

    def aws_provider(self, region: str, *, alias: str | None = None) -> AwsProvider:
        """The stack's provider for `region`; an alias is needed only for a second region in one stack."""
        emulator = self.config.emulator
        provider = AwsProvider(
            self,
            f"aws-{alias}" if alias else "aws",
            region=region,
            alias=alias,
            allowed_account_ids=[self.config.account_id],
            default_tags=[AwsProviderDefaultTags(tags=self.tags)],
            **(emulator_provider_settings(emulator.endpoint) if emulator else {}),
        )
        self._provider_regions[provider.node.id] = region
        return provider

    def env_for(self, provider: AwsProvider | None) -> AwsEnv:
        """The AwsEnv of resources created with `provider` (None: the stack's own region)."""
        if provider is None:
            return self.env
        return replace(self.env, region=self._provider_regions[provider.node.id])

    @staticmethod
    def env_of(config: DeploymentConfig, region: str) -> AwsEnv:
        """The AwsEnv a stack for `region` will have, before the stack exists."""
        return AwsEnv(config.account_id, region)

    @staticmethod
    def of(construct: Construct) -> RegionalStack:
        """The RegionalStack a construct belongs to; raises if it was built outside one."""
        stack = TerraformStack.of(construct)
        if not isinstance(stack, RegionalStack):
            raise TypeError(f"{construct.node.path} must be created inside a RegionalStack, not {type(stack).__name__}")
        return stack


#: Every principal, written as IAM documents it equivalently to "*" (some IAM parsers, moto's among them, expect a map).
ANY_PRINCIPAL = {"AWS": "*"}


def policy_json(statements: Sequence[Mapping[str, Any]]) -> str:
    """An IAM policy document as JSON; tokens inside strings resolve at synth time."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, separators=(",", ":"))


#: What a service's request to assume a role comes from, where AWS documents it: SSM Automation assumes a role for
#: an automation execution (https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-setup-iam.html).
SOURCE_ARNS = {"ssm.amazonaws.com": "arn:aws:ssm:*:{account}:automation-execution/*"}


def assume_role_policy(service: str, *, source_account: str | None = None) -> str:
    """Trust policy for an AWS service, scoped to our account when given (confused-deputy guard), and for SSM to
    its automation executions."""
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }
    if source_account:
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": source_account}}
        if service in SOURCE_ARNS:
            statement["Condition"]["ArnLike"] = {"aws:SourceArn": SOURCE_ARNS[service].format(account=source_account)}
    return policy_json([statement])


def ephemeral_resource(scope: Construct, id: str, kind: str, arguments: Mapping[str, Any]) -> str:
    """Declare a Terraform ephemeral resource (never stored in state or plan) in `scope`'s stack; returns its address
    (`ephemeral.<kind>.<name>`) for use in write-only arguments. cdktf 0.21 has no classes for ephemeral resources,
    so the block is written as a stack override; Terraform 1.10+ reads it.
    """
    stack = TerraformStack.of(scope)
    depth = len(stack.node.scopes)
    name = logical_id([*(part.node.id for part in scope.node.scopes[depth:]), id])
    stack.add_override(f"ephemeral.{kind}.{name}", dict(arguments))
    return f"ephemeral.{kind}.{name}"
