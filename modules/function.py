"""Lambda function (in private subnets by default): traced, with a KMS-encrypted dead-letter queue and log group."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from cdktf import AssetType, Fn, TerraformAsset
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.lambda_function import LambdaFunction
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from constructs import Construct

from modules.base import RegionalStack, policy_json
from modules.errors import InputError, Problem
from modules.iam import ServiceRole
from modules.kms import EncryptionKey, encrypted_log_group
from modules.network import Network
from modules.suppressions import suppress

#: Packaged files get this modification time (2020-01-01), so the archive's hash depends on content only.
FIXED_MTIME = 1_577_836_800
#: What goes into a deployment package: sources and their requirements, never caches or tests.
PACKAGE_SUFFIXES = (".py", ".txt", ".json")


def package_source(source_dir: Path, *, under: str = "") -> Path:
    """Copy the deployable files of `source_dir` to a scratch folder (removed at exit) for a stable asset hash;
    `under` puts them in a subfolder of the package (a Python canary's code lives under `python/`)."""
    if not source_dir.is_dir():
        raise InputError.single("source_dir", str(source_dir), "expected a folder holding the function's handler")
    staging = Path(tempfile.mkdtemp(prefix=f"lambda-{source_dir.name}-"))
    atexit.register(shutil.rmtree, staging, True)
    for file in sorted(source_dir.rglob("*")):
        relative = file.relative_to(source_dir)
        if (
            file.is_file()
            and file.suffix in PACKAGE_SUFFIXES
            and "__pycache__" not in relative.parts
            and not relative.name.startswith("test")
        ):
            target = staging / under / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(file, target)
            os.utime(target, (FIXED_MTIME, FIXED_MTIME))  # same bytes -> same zip -> no redeploy
    for folder in staging.rglob("*"):
        if folder.is_dir():
            os.utime(folder, (FIXED_MTIME, FIXED_MTIME))
    return staging


#: Why a package built here may go unsigned: its hash pins it, and signing needs an artifact pipeline.
UNSIGNED_REASON = (
    "package built from this repository and pinned by source_code_hash; AWS Signer needs a signed S3 artifact "
    "from a release pipeline: pass code_signing_config_arn to enforce it"
)

SYNCHRONOUS_REASON = "invoked synchronously only: Lambda sends only asynchronous invocations to a dead-letter queue"
Invocation = Literal["asynchronous", "synchronous"]


class PrivateFunction(Construct):
    """A Python Lambda function attached to a network's private subnets.

    Without a `network` the function runs outside any VPC (for control-plane work that must not depend on the
    network it repairs). Default: python3.12, X-Ray active tracing, failed async events to an SQS dead-letter queue (14 days, KMS),
    logs to a KMS log group kept 365 days, environment encrypted with `key`. Its security group allows no ingress
    and egress only on HTTPS to the network's interface endpoints and S3/DynamoDB gateway endpoints. The role
    may write its own logs and traces, manage its ENIs, use the queue, and do what `statements` grant.
    `code_signing_config_arn` enforces AWS Signer profiles; without it the scan records why signing is off.
    `outside_vpc_reason` must say why a function without a `network` needs no VPC.
    `invocation="synchronous"` (a function only API Gateway or another caller invokes and waits for) gets no
    dead-letter queue: Lambda sends only asynchronous invocations to one, and a synchronous caller receives the
    error itself (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        function_name: str,
        source_dir: Path,
        handler: str,
        network: Network | None,
        key: EncryptionKey,
        subnet_tier: str | None = None,
        memory_mb: int = 256,
        timeout_seconds: int = 10,
        reserved_concurrency: int = 10,
        environment: Mapping[str, str] | None = None,
        statements: Sequence[Mapping[str, Any]] = (),
        log_retention_days: int = 365,
        runtime: str = "python3.12",
        code_signing_config_arn: str | None = None,
        outside_vpc_reason: str | None = None,
        invocation: Invocation = "asynchronous",
    ) -> None:
        super().__init__(scope, id)
        self._validate(
            network=network,
            subnet_tier=subnet_tier,
            memory_mb=memory_mb,
            timeout_seconds=timeout_seconds,
            reserved_concurrency=reserved_concurrency,
            outside_vpc_reason=outside_vpc_reason,
        )
        self.function_name = function_name
        self.log_group = encrypted_log_group(self, "logs", name=f"/aws/lambda/{function_name}", key=key, retention_days=log_retention_days)
        self.dead_letter_queue = None if invocation == "synchronous" else self._dead_letter_queue(function_name, key)
        self.security_group = None if network is None else self._security_group(function_name, network)
        self.role = self._role(function_name, network, key, statements)
        asset = TerraformAsset(self, "code", path=str(package_source(source_dir)), type=AssetType.ARCHIVE)
        vpc_config = None if network is None or self.security_group is None else {
            "subnet_ids": network.subnet_ids(subnet_tier or ""), "security_group_ids": [self.security_group.id]
        }  # fmt: skip
        self._code: dict[str, Any] = {  # what the function and its twins share
            "role": self.role.role_arn,
            "runtime": runtime,
            "filename": asset.path,
            "source_code_hash": Fn.filebase64sha256(asset.path),
            "memory_size": memory_mb,
            "kms_key_arn": key.key_arn,
            "environment": {"variables": dict(environment or {})},
            "tracing_config": {"mode": "Active"},
            "vpc_config": vpc_config,
            "code_signing_config_arn": code_signing_config_arn,
        }
        self._key, self._log_retention_days = key, log_retention_days
        self.function = LambdaFunction(
            self,
            "function",
            function_name=function_name,
            handler=handler,
            timeout=timeout_seconds,
            reserved_concurrent_executions=reserved_concurrency,
            dead_letter_config=None if self.dead_letter_queue is None else {"target_arn": self.dead_letter_queue.arn},
            logging_config={"log_format": "JSON", "log_group": self.log_group.name},
            tags={"Name": function_name},
            depends_on=[self.log_group],
            **self._code,
        )
        self._outside_vpc_reason = outside_vpc_reason or ""
        for check, reason in self._suppressions(code_signing_config_arn, network is None, synchronous=self.dead_letter_queue is None):
            suppress(self.function, check, reason)

    def _dead_letter_queue(self, function_name: str, key: EncryptionKey) -> SqsQueue:
        """Where failed asynchronous invocations go: kept 14 days, encrypted with `key`."""
        return SqsQueue(
            self,
            "dlq",
            name=f"{function_name}-dlq",
            message_retention_seconds=14 * 24 * 3600,
            kms_master_key_id=key.key_arn,
            kms_data_key_reuse_period_seconds=300,
            tags={"Name": f"{function_name}-dlq"},
        )

    def _suppressions(self, code_signing_config_arn: str | None, outside_vpc: bool, *, synchronous: bool) -> list[tuple[str, str]]:
        """The checks that do not apply to a function of this kind, with the reason."""
        found = []
        if code_signing_config_arn is None:
            found.append(("CKV_AWS_272", UNSIGNED_REASON))
        if outside_vpc:
            found.append(("CKV_AWS_117", self._outside_vpc_reason))
        if synchronous:
            found += [("CKV_AWS_116", SYNCHRONOUS_REASON), ("CKV_HADR_13", SYNCHRONOUS_REASON)]
        return found

    def _validate(
        self,
        *,
        network: Network | None,
        subnet_tier: str | None,
        memory_mb: int,
        timeout_seconds: int,
        reserved_concurrency: int,
        outside_vpc_reason: str | None,
    ) -> None:
        problems: list[Problem] = []
        path = self.node.path
        if not 128 <= memory_mb <= 10240:
            problems.append(Problem(f"{path}.memory_mb", memory_mb, "expected 128 to 10240"))
        if not 1 <= timeout_seconds <= 900:
            problems.append(Problem(f"{path}.timeout_seconds", timeout_seconds, "expected 1 to 900"))
        if reserved_concurrency < 1:
            problems.append(Problem(f"{path}.reserved_concurrency", reserved_concurrency, "expected at least 1"))
        if network is not None and subnet_tier is None:
            problems.append(
                Problem(f"{path}.subnet_tier", None, f"expected one of the tiers of {network.name}: {', '.join(network.subnets)}")
            )
        if network is not None and network.endpoint_security_group is None:
            problems.append(
                Problem(f"{path}.network", network.name, "expected a network with interface endpoints (the function has no other way out)")
            )
        if network is None and not outside_vpc_reason:
            problems.append(
                Problem(f"{path}.outside_vpc_reason", outside_vpc_reason, "expected why a function without a network needs no VPC")
            )
        if problems:
            raise InputError(problems)

    def _role(
        self, function_name: str, network: Network | None, key: EncryptionKey, statements: Sequence[Mapping[str, Any]]
    ) -> ServiceRole:
        """Its own logs and traces, its ENIs (in a VPC), its dead letters and key, and `statements`."""
        env = RegionalStack.of(self).env
        log_arn = env.arn("logs", f"log-group:/aws/lambda/{function_name}")
        network_statements = (
            []
            if network is None
            else [
                {
                    "Sid": "NetworkInterfacesInThisVpc",
                    "Effect": "Allow",
                    "Action": [
                        "ec2:CreateNetworkInterface",
                        "ec2:DeleteNetworkInterface",
                        "ec2:AssignPrivateIpAddresses",
                        "ec2:UnassignPrivateIpAddresses",
                    ],
                    "Resource": "*",  # ENI ARNs are unknown until created; restricted to this VPC below
                    "Condition": {"ArnEqualsIfExists": {"ec2:Vpc": env.arn("ec2", f"vpc/{network.vpc_id}")}},
                },
                {"Sid": "DescribeNetworkInterfaces", "Effect": "Allow", "Action": ["ec2:DescribeNetworkInterfaces"], "Resource": "*"},
            ]
        )
        return ServiceRole(
            self,
            "role",
            name=f"{function_name}-function",
            service="lambda.amazonaws.com",
            statements=[
                {
                    "Sid": "OwnLogs",
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                    "Resource": [f"{log_arn}:*"],
                },
                {
                    "Sid": "Traces",
                    "Effect": "Allow",
                    "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                    "Resource": "*",  # X-Ray has no resource-level permissions for these actions
                },
                *network_statements,
                *(
                    []
                    if self.dead_letter_queue is None
                    else [
                        {"Sid": "DeadLetters", "Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": [self.dead_letter_queue.arn]}
                    ]
                ),
                {
                    "Sid": "EncryptDeadLettersAndLogs",
                    "Effect": "Allow",
                    "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                    "Resource": [key.key_arn],
                },
                *statements,
            ],
        )

    def _security_group(self, function_name: str, network: Network) -> SecurityGroup:
        """No ingress; HTTPS out to the interface endpoints and the gateway endpoints only."""
        group = SecurityGroup(
            self,
            "sg",
            name=f"{function_name}-function",
            description=f"{function_name}: HTTPS to the VPC endpoints only",
            vpc_id=network.vpc_id,
            tags={"Name": f"{function_name}-function"},
        )
        VpcSecurityGroupEgressRule(
            self,
            "egress-endpoints",
            security_group_id=group.id,
            description="HTTPS to the interface endpoints",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            referenced_security_group_id=network.endpoint_security_group_id,
            tags={"Name": f"{function_name}-to-endpoints"},
        )
        for service in network.gateway_endpoints:
            VpcSecurityGroupEgressRule(
                self,
                f"egress-{service}",
                security_group_id=group.id,
                description=f"HTTPS to the {service} gateway endpoint",
                ip_protocol="tcp",
                from_port=443,
                to_port=443,
                prefix_list_id=network.gateway_prefix_list_id(service),
                tags={"Name": f"{function_name}-to-{service}"},
            )

        return group

    def twin(self, id: str, *, function_name: str, handler: str, reserved_concurrency: int, timeout_seconds: int) -> LambdaFunction:
        """A second function with this one's code, role, network, key and environment but its own concurrency and
        log group: capacity of its own that fails on the same faults (role, network, dependencies, code).

        Invoked synchronously (no dead-letter queue); the shared role gains writing to the twin's log group.
        """
        if reserved_concurrency < 1:
            raise InputError.single(f"{self.node.path}/{id}.reserved_concurrency", reserved_concurrency, "expected at least 1")
        log_group = encrypted_log_group(
            self, f"{id}-logs", name=f"/aws/lambda/{function_name}", key=self._key, retention_days=self._log_retention_days
        )
        IamRolePolicy(
            self,
            f"{id}-logs-policy",
            name=f"{function_name}-logs",
            role=self.role.role_name,
            policy=policy_json(
                [
                    {
                        "Sid": "TwinLogs",
                        "Effect": "Allow",
                        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                        "Resource": [f"{log_group.arn}:*"],
                    }
                ]
            ),
        )
        twin = LambdaFunction(
            self,
            id,
            function_name=function_name,
            handler=handler,
            timeout=timeout_seconds,
            reserved_concurrent_executions=reserved_concurrency,
            logging_config={"log_format": "JSON", "log_group": log_group.name},
            tags={"Name": function_name},
            depends_on=[log_group],
            **self._code,
        )
        for check, reason in self._suppressions(self._code["code_signing_config_arn"], self._code["vpc_config"] is None, synchronous=True):
            suppress(twin, check, reason)
        return twin

    @property
    def function_arn(self) -> str:
        return self.function.arn

    @property
    def invoke_arn(self) -> str:
        return self.function.invoke_arn

    @property
    def role_name(self) -> str:
        return self.role.role_name
