"""The AWS Resilience Hub policy that states an application's RTO and RPO per failure domain.

Resilience Hub takes objectives for AZ, hardware, software and region, in seconds; a policy name is 2-60
characters of letters, digits, '-' and '_' (https://docs.aws.amazon.com/resilience-hub/latest/APIReference/API_CreateResiliencyPolicy.html).
"""

from __future__ import annotations

import re

from cdktf_cdktf_provider_aws.resiliencehub_resiliency_policy import ResiliencehubResiliencyPolicy
from constructs import Construct

from modules.config import RecoveryObjective, ResiliencePolicy
from modules.errors import InputError

POLICY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{1,59}$")


def _objective(objective: RecoveryObjective) -> dict[str, str]:
    return {"rto": f"{objective.rto_seconds}s", "rpo": f"{objective.rpo_seconds}s"}


def resiliency_policy(scope: Construct, id: str, *, name: str, description: str, policy: ResiliencePolicy) -> ResiliencehubResiliencyPolicy:
    """A Resilience Hub policy with `policy`'s tier and objectives; data may live in any location."""
    if not POLICY_NAME.match(name):
        raise InputError.single(f"{scope.node.path}/{id}.name", name, "expected 2 to 60 letters, digits, '-' or '_', starting alphanumeric")
    return ResiliencehubResiliencyPolicy(
        scope,
        id,
        name=name,
        description=description,
        tier=policy.tier,
        data_location_constraint="AnyLocation",
        policy={
            "region": _objective(policy.region),
            "az": _objective(policy.az),
            "hardware": _objective(policy.hardware),
            "software_attribute": _objective(policy.software),
        },
        tags={"Name": name},
    )
