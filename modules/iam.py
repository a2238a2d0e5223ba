"""IAM role for an AWS service with inline least-privilege statements, and customer-managed policies."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cdktf_cdktf_provider_aws.iam_policy import IamPolicy
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from constructs import Construct

from modules.base import RegionalStack, assume_role_policy, policy_json
from modules.errors import InputError
from modules.suppressions import suppress


class _Role(Construct):
    """What a role construct exposes: `role` and its ARN and name."""

    role: IamRole

    @property
    def role_arn(self) -> str:
        return self.role.arn

    @property
    def role_name(self) -> str:
        return self.role.name


class ServiceRole(_Role):
    """A role that one AWS service assumes, only from our account.

    Default: no permissions beyond `statements`; AWS managed policies only when named in `managed_policy_arns`.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        service: str,
        statements: Sequence[Mapping[str, Any]] = (),
        managed_policy_arns: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, id)
        require_named_actions(self.node.path, statements)
        env = RegionalStack.of(self).env
        self.role = IamRole(
            self,
            "role",
            name=name,
            assume_role_policy=assume_role_policy(service, source_account=env.account_id),
            tags={"Name": name},
        )
        if statements:
            IamRolePolicy(self, "policy", name=f"{name}-inline", role=self.role.id, policy=policy_json(statements))
        for index, arn in enumerate(managed_policy_arns):
            IamRolePolicyAttachment(self, f"managed-{index}", role=self.role.name, policy_arn=arn)


def require_named_actions(path: str, statements: Sequence[Mapping[str, Any]]) -> None:
    """Refuse a statement with a wildcard action on all resources (not least privilege)."""
    for index, statement in enumerate(statements):
        actions = statement.get("Action", [])
        actions = [actions] if isinstance(actions, str) else list(actions)
        resources = statement.get("Resource", [])
        resources = [resources] if isinstance(resources, str) else list(resources)
        if "*" in actions or (any(a.endswith(":*") for a in actions) and "*" in resources):
            raise InputError.single(
                f"{path}.statements[{index}]",
                {"Action": actions, "Resource": resources},
                "expected named actions; a wildcard action on all resources is not least privilege",
            )


class OperatorRole(_Role):
    """A role that people of this account assume with MFA (who may is up to their own IAM policies), with
    `statements`. checkov's CKV_AWS_61 flags any trust in the account; for a role people assume that is the point.

    Attributes: `role_arn`, `role_name`.
    """

    def __init__(self, scope: Construct, id: str, *, name: str, statements: Sequence[Mapping[str, Any]]) -> None:
        super().__init__(scope, id)
        require_named_actions(self.node.path, statements)
        env = RegionalStack.of(self).env
        trust = {
            "Effect": "Allow",
            "Principal": {"AWS": env.root_principal},
            "Action": "sts:AssumeRole",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
        }
        self.role = IamRole(self, "role", name=name, assume_role_policy=policy_json([trust]), tags={"Name": name})
        suppress(self.role, "CKV_AWS_61", "people of this account assume it, with MFA; their own IAM policies say who may")
        IamRolePolicy(self, "policy", name=f"{name}-inline", role=self.role.id, policy=policy_json(statements))


def managed_policy(scope: Construct, id: str, *, name: str, description: str, statements: Sequence[Mapping[str, Any]]) -> IamPolicy:
    """A customer-managed policy (attach it by ARN; its `arn` attribute is known once created)."""
    if not statements:
        raise InputError.single(f"{scope.node.path}/{id}.statements", [], "expected at least one statement")
    return IamPolicy(scope, id, name=name, description=description, policy=policy_json(statements), tags={"Name": name})
