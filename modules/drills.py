"""Drill building blocks: SSM Automation runbook documents and FIS experiments that run them.

Rules these builders encode:
- An Automation document has schemaVersion 0.3 and runs as the role passed in `AutomationAssumeRole`
  (https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-authoring-runbooks.html).
- FIS runs a document through `aws:ssm:start-automation-execution`, whose `maxDuration` is at most 12 hours
  (https://docs.aws.amazon.com/fis/latest/userguide/fis-actions-reference.html#ssm-actions-reference); an
  experiment needs at least one stop condition to stop itself (ours: a CloudWatch alarm).
- An Availability Zone outage is `aws:network:disrupt-connectivity` on that zone's subnets (FIS swaps in a
  deny-all network ACL for `duration`, at most 12 hours) together with `aws:rds:reboot-db-instances` with
  `forceFailover` (a Multi-AZ instance fails over to its standby; the role needs rds:RebootDBInstance,
  rds:DescribeDBInstances and tag:GetResources)
  (https://docs.aws.amazon.com/fis/latest/userguide/fis-actions-reference.html#network-actions-reference,
  https://docs.aws.amazon.com/fis/latest/userguide/fis-actions-reference.html#rds-actions-reference).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cdktf_cdktf_provider_aws.fis_experiment_template import (
    FisExperimentTemplate,
    FisExperimentTemplateAction,
    FisExperimentTemplateActionParameter,
    FisExperimentTemplateActionTarget,
    FisExperimentTemplateStopCondition,
    FisExperimentTemplateTarget,
)
from cdktf_cdktf_provider_aws.ssm_document import SsmDocument
from constructs import Construct

from modules.errors import InputError

Parameters = Mapping[str, Mapping[str, Any]]
#: SSM's cap on a document's content, runtime parameters included
#: (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_CreateDocument.html), and what we keep free
#: for the values passed at run time (region names, flags, a reason of at most 200 characters) and for the
#: Terraform references that resolve to longer ARNs after synth.
MAX_DOCUMENT_BYTES = 64 * 1024
PARAMETER_RESERVE_BYTES = 4 * 1024
Step = Mapping[str, Any]
#: What the builders return, for callers that keep them (attributes: `arn`, `name`; `id`).
RunbookDocument = SsmDocument
Experiment = FisExperimentTemplate


def parameter(description: str, default: str | bool | None = None, *, kind: str = "String") -> dict[str, Any]:
    """A document parameter (String unless `kind` says StringList or Boolean); without a default it is required."""
    found: dict[str, Any] = {"type": kind, "description": description}
    if default is not None:
        found["default"] = default
    return found


def payload(*names: str) -> dict[str, str]:
    """Script input that passes the named document parameters through ({{ Name }})."""
    return {name: f"{{{{ {name} }}}}" for name in names}


def runbook_content(description: str, parameters: Parameters, steps: Sequence[Step]) -> str:
    """An Automation document (schema 0.3) that runs as {{ AutomationAssumeRole }}."""
    return json.dumps(
        {
            "schemaVersion": "0.3",
            "description": description,
            "assumeRole": "{{ AutomationAssumeRole }}",
            "parameters": {"AutomationAssumeRole": parameter("Role the automation runs as"), **parameters},
            "mainSteps": list(steps),
        },
        separators=(",", ":"),
    )


def fault_then_revert(name: str, fault: Step, revert: Step) -> list[dict[str, Any]]:
    """Inject, hold for {{ Duration }}, revert; a cancelled or failed hold still reverts."""
    return [
        {**fault, "name": f"inject{name}", "onFailure": f"step:revert{name}", "onCancel": f"step:revert{name}"},
        {
            "name": "hold",
            "action": "aws:sleep",
            "inputs": {"Duration": "{{ Duration }}"},
            "onFailure": f"step:revert{name}",
            "onCancel": f"step:revert{name}",
        },
        {**revert, "name": f"revert{name}", "isEnd": True},
    ]


def runbook_document(
    scope: Construct,
    id: str,
    *,
    name: str,
    description: str,
    parameters: Parameters,
    steps: Sequence[Step],
    provider: Any = None,
) -> RunbookDocument:
    """An Automation document named `name` in the scope's region (or `provider`'s), refused when its content leaves less than
    PARAMETER_RESERVE_BYTES of SSM's 64 KB for the parameters given at run time."""
    if not steps:
        raise InputError.single(f"{scope.node.path}/{id}.steps", [], "expected at least one step")
    content = runbook_content(description, parameters, steps)
    size = len(content.encode())
    if size > MAX_DOCUMENT_BYTES - PARAMETER_RESERVE_BYTES:
        raise InputError.single(
            f"{scope.node.path}/{id}.content",
            f"{size} bytes",
            f"expected at most {MAX_DOCUMENT_BYTES - PARAMETER_RESERVE_BYTES} bytes: SSM refuses a document over "
            f"{MAX_DOCUMENT_BYTES} bytes with its runtime parameters, and {PARAMETER_RESERVE_BYTES} are kept for them",
        )
    return SsmDocument(
        scope,
        id,
        name=name,
        document_type="Automation",
        document_format="JSON",
        content=content,
        tags={"Name": name},
        provider=provider,
    )


@dataclass(frozen=True)
class AutomationRun:
    """One experiment action: run `document` with `parameters` (the automation role is added)."""

    name: str
    document: RunbookDocument
    parameters: Mapping[str, str] = field(default_factory=dict)


def _experiment(
    scope: Construct,
    id: str,
    *,
    name: str,
    description: str,
    role_arn: str,
    actions: Sequence[FisExperimentTemplateAction],
    stop_alarm_arn: str,
    targets: Sequence[FisExperimentTemplateTarget] = (),
) -> Experiment:
    """An experiment template of `actions` (and `targets`) that stops when `stop_alarm_arn` fires."""
    return FisExperimentTemplate(
        scope,
        id,
        description=description,
        role_arn=role_arn,
        action=list(actions),
        target=list(targets) or None,
        stop_condition=[FisExperimentTemplateStopCondition(source="aws:cloudwatch:alarm", value=stop_alarm_arn)],
        tags={"Name": name},
    )


#: FIS allows an SSM automation action at most PT12H; our runbooks finish well inside two hours.
MAX_AUTOMATION_DURATION = "PT2H"


def automation_experiment(
    scope: Construct,
    id: str,
    *,
    name: str,
    description: str,
    role_arn: str,
    automation_role_arn: str,
    runs: Sequence[AutomationRun],
    stop_alarm_arn: str,
) -> Experiment:
    """An FIS experiment that runs `runs` one after another as `automation_role_arn`, stopping on `stop_alarm_arn`."""
    if not runs:
        raise InputError.single(f"{scope.node.path}/{id}.runs", [], "expected at least one automation run")
    actions = [
        FisExperimentTemplateAction(
            name=run.name,
            action_id="aws:ssm:start-automation-execution",
            parameter=[
                FisExperimentTemplateActionParameter(key="documentArn", value=run.document.arn),
                FisExperimentTemplateActionParameter(
                    key="documentParameters", value=json.dumps({"AutomationAssumeRole": automation_role_arn, **run.parameters})
                ),
                FisExperimentTemplateActionParameter(key="maxDuration", value=MAX_AUTOMATION_DURATION),
            ],
            start_after=[runs[index - 1].name] if index else None,
        )
        for index, run in enumerate(runs)
    ]
    return _experiment(scope, id, name=name, description=description, role_arn=role_arn, actions=actions, stop_alarm_arn=stop_alarm_arn)


#: FIS's default quota of target subnets for aws:network:disrupt-connectivity (L-1F59732D)
#: (https://docs.aws.amazon.com/fis/latest/userguide/fis-quotas.html).
MAX_DISRUPTED_SUBNETS = 5
#: The longest a zone outage may be held here (FIS allows PT12H; a drill needs minutes).
MAX_ZONE_OUTAGE_MINUTES = 60


def zone_outage_experiment(
    scope: Construct,
    id: str,
    *,
    name: str,
    description: str,
    role_arn: str,
    subnet_arns: Sequence[str],
    database_arns: Sequence[str],
    stop_alarm_arn: str,
    minutes: int = 10,
    cluster_arns: Sequence[str] = (),
) -> Experiment:
    """An FIS experiment that cuts one Availability Zone's subnets off for `minutes` and fails the Multi-AZ
    databases (`database_arns`, rebooted with failover) and Aurora clusters (`cluster_arns`, failed over to a reader)
    over at the same time, stopping on `stop_alarm_arn`
    (https://docs.aws.amazon.com/fis/latest/userguide/fis-actions-reference.html#rds-actions-reference)."""
    if not 1 <= len(subnet_arns) <= MAX_DISRUPTED_SUBNETS:
        raise InputError.single(
            f"{scope.node.path}/{id}.subnet_arns", len(subnet_arns), f"expected 1 to {MAX_DISRUPTED_SUBNETS} subnets (FIS's default quota)"
        )
    if not 1 <= minutes <= MAX_ZONE_OUTAGE_MINUTES:
        raise InputError.single(f"{scope.node.path}/{id}.minutes", minutes, f"expected 1 to {MAX_ZONE_OUTAGE_MINUTES}")
    targets = [
        FisExperimentTemplateTarget(
            name="zone-subnets", resource_type="aws:ec2:subnet", selection_mode="ALL", resource_arns=list(subnet_arns)
        )
    ]
    actions = [
        FisExperimentTemplateAction(
            name="disrupt-zone",
            action_id="aws:network:disrupt-connectivity",
            parameter=[
                FisExperimentTemplateActionParameter(key="duration", value=f"PT{minutes}M"),
                FisExperimentTemplateActionParameter(key="scope", value="all"),
            ],
            target=FisExperimentTemplateActionTarget(key="Subnets", value="zone-subnets"),
        )
    ]
    if database_arns:
        targets.append(
            FisExperimentTemplateTarget(
                name="databases", resource_type="aws:rds:db", selection_mode="ALL", resource_arns=list(database_arns)
            )
        )
        actions.append(
            FisExperimentTemplateAction(
                name="fail-over-databases",
                action_id="aws:rds:reboot-db-instances",
                parameter=[FisExperimentTemplateActionParameter(key="forceFailover", value="true")],
                target=FisExperimentTemplateActionTarget(key="DBInstances", value="databases"),
            )
        )
    if cluster_arns:
        targets.append(
            FisExperimentTemplateTarget(
                name="clusters", resource_type="aws:rds:cluster", selection_mode="ALL", resource_arns=list(cluster_arns)
            )
        )
        actions.append(
            FisExperimentTemplateAction(
                name="fail-over-clusters",
                action_id="aws:rds:failover-db-cluster",
                target=FisExperimentTemplateActionTarget(key="Clusters", value="clusters"),
            )
        )
    return _experiment(
        scope, id, name=name, description=description, role_arn=role_arn, actions=actions, stop_alarm_arn=stop_alarm_arn, targets=targets
    )
