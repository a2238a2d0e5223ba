"""Run an SSM Automation document (schema 0.3) of ours here, step by step, against whatever boto3 reaches.

    python -m tools.automation DOCUMENT.json --parameters Name=Value ... [--endpoint http://127.0.0.1:PORT]

The emulator (moto) stores Automation documents but does not execute their steps, so the drills run our runbooks
with this: the same document text, the same step semantics, against the emulator, and in tests in-process with
IAM enforced. It implements the actions our documents use, with the rules AWS documents for them, and refuses
anything else rather than guess:

- `aws:executeScript`: the embedded Python handler with its InputPayload; timeoutSeconds at most 600
  (https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-action-executeScript.html).
- `aws:executeAwsApi`: boto3 `Service`.`Api` in the automation's region
  (https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-action-executeAwsApi.html).
- `aws:sleep`: recorded, not slept (a drill in the emulator has nothing to wait for).
- `aws:branch`: Choices with Variable and StringEquals/BooleanEquals/NumericEquals/NumericGreater/NumericLesser,
  And/Or/Not, Default (https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-action-branch.html).
- `aws:loop`: do-while with LoopCondition, at most MaxIterations (100 at most), `{{ loop.CurrentIteration }}`
  (https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-action-loop.html).
- `aws:approve`: approved by the caller's `approve` function (a drill records who approved).
- `{{ automation:EXECUTION_ID }}`: a new ID per run.
- onFailure `Abort` (the default), `Continue` or `step:<name>`; `nextStep`; `isEnd`.
"""

from __future__ import annotations

import argparse
import datetime
import json
import re
import sys
import time
import uuid
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError, EndpointConnectionError

#: The longest an aws:executeScript step may run, in seconds (SSM's cap).
MAX_SCRIPT_SECONDS = 600
MAX_LOOP_ITERATIONS = 100
#: The account the emulator (moto) answers as: `{{ global:ACCOUNT_ID }}` unless a run names another.
EMULATOR_ACCOUNT = "123456789012"
_REFERENCE = re.compile(r"\{\{\s*([A-Za-z0-9_.:]+)\s*\}\}")
ClientFactory = Callable[..., Any]


class _LeaveLoop(BaseException):
    """A step inside a loop goes to a step outside it (its onFailure): the loop ends there, as SSM's loop inherits
    the onFailure of the steps inside it."""

    def __init__(self, target: str) -> None:
        super().__init__(target)
        self.target = target


class AutomationFailed(RuntimeError):
    """The automation ended Failed: the step and its error."""

    def __init__(self, step: str, message: str, record: list[StepRecord]) -> None:
        super().__init__(f"step {step} failed: {message}")
        self.step, self.record = step, record


@dataclass
class StepRecord:
    """One step as it ran: name, action, outcome (Success/Failed/Skipped), outputs, wall seconds."""

    name: str
    action: str
    outcome: str
    outputs: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    error: str = ""


@dataclass
class Execution:
    """A finished automation: status and every step in the order it ran."""

    status: str
    steps: list[StepRecord]
    outputs: dict[str, Any]

    def ran(self) -> list[str]:
        return [step.name for step in self.steps]


def _select(payload: Any, selector: str) -> Any:
    """A `$.a.b` JSONPath selector on a step's result."""
    value = payload
    for part in selector.removeprefix("$").strip(".").split("."):
        if part:
            value = value[part] if isinstance(value, Mapping) and part in value else None
    return value


def _typed(value: Any, kind: str, name: str) -> Any:
    expected = {"String": str, "Integer": int, "Boolean": bool, "StringList": list, "StringMap": dict, "MapList": list}
    if kind not in expected:
        raise ValueError(f"output {name}: type {kind!r} is not one of {', '.join(expected)}")
    if value is None or (kind == "Integer" and isinstance(value, bool)) or not isinstance(value, expected[kind]):
        raise ValueError(f"output {name}: expected {kind}, got {value!r}")
    return value


class Automation:
    """One document, its parameters, and the boto3 client factory its steps use (`clients(service, region_name=)`)."""

    def __init__(
        self,
        document: Mapping[str, Any],
        parameters: Mapping[str, Any],
        *,
        region: str,
        clients: ClientFactory,
        approve: Callable[[Mapping[str, Any]], bool] | None = None,
        account_id: str = EMULATOR_ACCOUNT,
        cancel_at: str | None = None,
    ) -> None:
        if document.get("schemaVersion") != "0.3":
            raise ValueError(f"schemaVersion: expected '0.3' (an Automation document), got {document.get('schemaVersion')!r}")
        declared = document.get("parameters", {})
        unknown = sorted(set(parameters) - set(declared))
        missing = sorted(name for name, spec in declared.items() if "default" not in spec and name not in parameters)
        if unknown or missing:
            raise ValueError(f"parameters: unknown {unknown}, missing {missing}; the document declares {sorted(declared)}")
        self.document, self.region, self.clients, self.approve = document, region, clients, approve
        self.values: dict[str, Any] = {name: parameters.get(name, spec.get("default")) for name, spec in declared.items()}
        self.execution_id = str(uuid.uuid4())
        self.values["automation:EXECUTION_ID"] = self.execution_id  # SSM's automation variable
        # SSM's global variables (https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-variables.html)
        self.values |= {"global:ACCOUNT_ID": account_id, "global:REGION": region, "global:AWS_PARTITION": "aws"}
        self.records: list[StepRecord] = []
        # Cancelled as step `cancel_at` is about to start (StopAutomationExecution, as FIS does when it stops):
        # that step's onCancel runs, for at most two minutes, so no waiting there
        # (https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-actions.html#canCancel).
        self.cancel_at, self.cancelled = cancel_at, False

    # --- values ---

    def resolve(self, value: Any) -> Any:
        """`value` with every {{ reference }} replaced; a string that is one whole reference keeps the value's type."""
        if isinstance(value, str):
            whole = _REFERENCE.fullmatch(value.strip())
            if whole:
                return self._lookup(whole.group(1))
            return _REFERENCE.sub(lambda m: str(self._lookup(m.group(1))), value)
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if isinstance(value, dict):
            return {key: self.resolve(item) for key, item in value.items()}
        return value

    def _lookup(self, name: str) -> Any:
        if name not in self.values:
            raise KeyError(f"{{{{ {name} }}}} is neither a parameter nor an output of a step that has run")
        return self.values[name]

    # --- steps ---

    def run(self) -> Execution:
        """Run mainSteps from the first; raises AutomationFailed when the automation ends Failed."""
        steps = self.document["mainSteps"]
        self._run_steps(steps)
        return Execution("Cancelled" if self.cancelled else "Success", self.records, {k: v for k, v in self.values.items() if "." in k})

    def _run_steps(self, steps: list[Mapping[str, Any]], *, inside_loop: bool = False) -> None:
        by_name = {step["name"]: index for index, step in enumerate(steps)}
        index = 0
        while index < len(steps):
            step = steps[index]
            try:
                outcome_next = self._run_step(step)
            except _LeaveLoop as leave:
                if inside_loop or leave.target not in by_name:
                    raise
                outcome_next = leave.target
            if outcome_next == "__end__" or (step.get("isEnd") and outcome_next is None):
                return
            if outcome_next is not None:
                if outcome_next not in by_name:
                    if inside_loop:
                        raise _LeaveLoop(outcome_next)
                    raise ValueError(f"step {step['name']}: next step {outcome_next!r} is not in this document")
                index = by_name[outcome_next]
                continue
            index += 1

    def _run_step(self, step: Mapping[str, Any]) -> str | None:
        """Run one step; returns the name of the step to go to, "__end__", or None for the next one."""
        name, action = step["name"], step["action"]
        if self.cancelled and action in ("aws:loop", "aws:sleep", "aws:approve"):
            raise ValueError(f"step {name}: {action} in a cancellation workflow, which SSM runs for at most two minutes")
        if name == self.cancel_at and not self.cancelled:
            self.cancelled = True
            self.records.append(StepRecord(name, action, "Cancelled"))
            on_cancel = step.get("onCancel", "Abort")
            return on_cancel.removeprefix("step:") if on_cancel.startswith("step:") else "__end__"
        started = time.monotonic()
        record = StepRecord(name, action, "Success")
        try:
            outputs, jump = self._act(step)
        except Exception as error:
            record.outcome, record.error, record.seconds = "Failed", f"{type(error).__name__}: {error}", time.monotonic() - started
            self.records.append(record)
            on_failure = step.get("onFailure", "Abort")
            if on_failure == "Continue":
                return None
            if on_failure.startswith("step:"):
                return on_failure.removeprefix("step:")
            raise AutomationFailed(name, record.error, self.records) from error
        record.outputs, record.seconds = outputs, time.monotonic() - started
        self.records.append(record)
        for key, value in outputs.items():
            self.values[f"{name}.{key}"] = value
        return jump or step.get("nextStep")

    def _act(self, step: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
        action, inputs = step["action"], step.get("inputs", {})
        if action == "aws:executeScript":
            return self._script(step, inputs), None
        if action == "aws:executeAwsApi":
            return self._api(step, inputs), None
        if action == "aws:sleep":
            return {}, None
        if action == "aws:branch":
            return {}, self._branch(inputs)
        if action == "aws:loop":
            return self._loop(step, inputs), None
        if action == "aws:approve":
            if self.approve is None or not self.approve(self.resolve(inputs)):
                raise PermissionError(f"approval refused: {self.resolve(inputs.get('Message', ''))}")
            return {"ApprovalStatus": "Approved"}, None
        raise ValueError(f"step {step['name']}: action {action} is not one this runner implements")

    def _script(self, step: Mapping[str, Any], inputs: Mapping[str, Any]) -> dict[str, Any]:
        timeout = int(step.get("timeoutSeconds", MAX_SCRIPT_SECONDS))
        if timeout > MAX_SCRIPT_SECONDS:
            raise ValueError(f"timeoutSeconds: {timeout} is over the {MAX_SCRIPT_SECONDS} s an aws:executeScript step may run")
        if inputs.get("Runtime") not in ("python3.11", "python3.10", "python3.9", "python3.8"):
            raise ValueError(f"Runtime: {inputs.get('Runtime')!r} is not a Python runtime SSM offers")
        namespace: dict[str, Any] = {}
        exec(compile(inputs["Script"], f"<{step['name']}>", "exec"), namespace)  # noqa: S102 - the document's own script
        payload = self.resolve(dict(inputs.get("InputPayload", {})))
        real = boto3.client
        boto3.client = self.clients  # the script's `boto3.client(...)` calls get our clients
        try:
            result = namespace[inputs["Handler"]](payload, None)
        finally:
            boto3.client = real
        return self._outputs(step, {"Payload": result})

    def _api(self, step: Mapping[str, Any], inputs: Mapping[str, Any]) -> dict[str, Any]:
        arguments = self.resolve({k: v for k, v in inputs.items() if k not in ("Service", "Api")})
        operation = re.sub(r"(?<!^)(?=[A-Z])", "_", inputs["Api"]).lower()
        client = self.clients(inputs["Service"], region_name=self.region)
        return self._outputs(step, getattr(client, operation)(**arguments))

    def _outputs(self, step: Mapping[str, Any], result: Any) -> dict[str, Any]:
        return {
            output["Name"]: _typed(_select(result, output["Selector"]), output["Type"], f"{step['name']}.{output['Name']}")
            for output in step.get("outputs", [])
        }

    def _choice(self, choice: Mapping[str, Any]) -> bool:
        if "And" in choice:
            return all(self._choice(item) for item in choice["And"])
        if "Or" in choice:
            return any(self._choice(item) for item in choice["Or"])
        if "Not" in choice:
            return not self._choice(choice["Not"])
        value = self.resolve(choice["Variable"])
        for operator, compare in (
            ("StringEquals", lambda v, e: str(v) == e),
            ("BooleanEquals", lambda v, e: (v if isinstance(v, bool) else str(v).lower() == "true") == e),
            ("NumericEquals", lambda v, e: float(v) == e),
            ("NumericGreater", lambda v, e: float(v) > e),
            ("NumericLesser", lambda v, e: float(v) < e),
        ):
            if operator in choice:
                return compare(value, choice[operator])
        raise ValueError(f"choice {dict(choice)}: no operator this runner implements")

    def _branch(self, inputs: Mapping[str, Any]) -> str:
        for choice in inputs["Choices"]:
            if self._choice(choice):
                return choice["NextStep"]
        if "Default" not in inputs:
            raise ValueError("aws:branch: no choice matched and there is no Default")
        return inputs["Default"]

    def _loop(self, step: Mapping[str, Any], inputs: Mapping[str, Any]) -> dict[str, Any]:
        bound = int(inputs.get("MaxIterations", MAX_LOOP_ITERATIONS))
        if not 1 <= bound <= MAX_LOOP_ITERATIONS:
            raise ValueError(f"MaxIterations: {bound} is outside 1 to {MAX_LOOP_ITERATIONS}")
        if "LoopCondition" not in inputs:
            raise ValueError(f"step {step['name']}: only do-while loops (LoopCondition) are implemented")
        for iteration in range(1, bound + 1):
            self.values[f"{step['name']}.CurrentIteration"] = iteration
            self._run_steps(list(inputs["Steps"]), inside_loop=True)
            if not self._choice(inputs["LoopCondition"]):
                break
        return {"CurrentIteration": self.values[f"{step['name']}.CurrentIteration"]}


def run_document(
    document: Mapping[str, Any],
    parameters: Mapping[str, Any],
    *,
    region: str,
    clients: ClientFactory,
    approve: Callable[[Mapping[str, Any]], bool] | None = None,
    cancel_at: str | None = None,
) -> Execution:
    """Run `document` with `parameters`, cancelled as step `cancel_at` starts if given; raises AutomationFailed
    (with the steps that ran) when it fails."""
    return Automation(document, parameters, region=region, clients=clients, approve=approve, cancel_at=cancel_at).run()


def in_outage(clients: ClientFactory, regions: Collection[str], *, services: Collection[str] | None = None) -> ClientFactory:
    """`clients` seen through a failure. Without `services`, a regional outage: every call to `regions` fails to
    connect (botocore's EndpointConnectionError, after its retries), whatever the service. With `services`, a partial
    outage: those services in `regions` answer 503 ServiceUnavailable, everything else goes through."""

    def refuse(request: Any, event_name: str = "", **_: Any) -> None:
        if services is None:
            raise EndpointConnectionError(endpoint_url=request.url)
        error = {"Code": "ServiceUnavailable", "Message": "the service does not answer in this region (drill)"}
        raise ClientError({"Error": error, "ResponseMetadata": {"HTTPStatusCode": 503}}, event_name.rsplit(".", 1)[-1])

    def make(service: str, **kwargs: Any) -> Any:
        client = clients(service, **kwargs)
        meta = getattr(client, "meta", None)  # a stand-in such as LocalAutomations has none
        if meta is not None and meta.region_name in regions and (services is None or service in services):
            meta.events.register_first("before-send", refuse)
        return client

    return make


class LocalAutomations:
    """SSM's automation calls of one client, served here (moto stores documents but does not run them):
    `start_automation_execution` runs `documents[name]` (as SSM would read it) at once with `run_as(service, **kw)`
    clients (the document's role) and `approve`, and `describe_automation_executions` lists what ran; everything
    else goes to `ssm`."""

    def __init__(
        self,
        ssm: Any,
        *,
        region: str,
        documents: Mapping[str, Mapping[str, Any]],
        run_as: ClientFactory,
        approve: Callable[[Mapping[str, Any]], bool],
    ) -> None:
        self.ssm, self.region, self.documents, self.run_as, self.approve = ssm, region, documents, run_as, approve
        self.executions: list[dict[str, Any]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.ssm, name)

    def start_automation_execution(self, DocumentName: str, Parameters: Mapping[str, list[str]] | None = None) -> dict[str, Any]:
        if DocumentName not in self.documents:
            raise ValueError(f"DocumentName: got {DocumentName!r}; expected one of {', '.join(sorted(self.documents))}")
        document = self.documents[DocumentName]
        declared = document.get("parameters", {})
        values = {
            name: (list(value) if declared.get(name, {}).get("type") == "StringList" else value[0])
            for name, value in (Parameters or {}).items()
        }
        automation = Automation(document, values, region=self.region, clients=self.run_as, approve=self.approve)
        record: dict[str, Any] = {
            "DocumentName": DocumentName,
            "Parameters": values,
            "AutomationExecutionId": automation.execution_id,
            "ExecutionStartTime": datetime.datetime.now(datetime.UTC),
        }
        self.executions.append(record)
        try:
            execution = automation.run()
            record.update(AutomationExecutionStatus="Success", Steps=execution.steps, Outputs=execution.outputs)
        except AutomationFailed as failure:
            record.update(AutomationExecutionStatus="Failed", Steps=failure.record, FailureMessage=str(failure))
        return {"AutomationExecutionId": automation.execution_id}

    def describe_automation_executions(self, Filters: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        wanted = {f["Key"]: f["Values"] for f in Filters or []}
        found = [
            {
                "AutomationExecutionId": e["AutomationExecutionId"],
                "DocumentName": e["DocumentName"],
                "AutomationExecutionStatus": e["AutomationExecutionStatus"],
                "ExecutionStartTime": e["ExecutionStartTime"],
            }
            for e in self.executions
            if any(e["DocumentName"].startswith(p) for p in wanted.get("DocumentNamePrefix", [e["DocumentName"]]))
            and e["AutomationExecutionStatus"] in wanted.get("ExecutionStatus", [e["AutomationExecutionStatus"]])
        ]
        return {"AutomationExecutionMetadataList": found}

    def get_automation_execution(self, AutomationExecutionId: str) -> dict[str, Any]:
        (found,) = [e for e in self.executions if e["AutomationExecutionId"] == AutomationExecutionId]
        parameters = {name: value if isinstance(value, list) else [value] for name, value in found["Parameters"].items()}
        return {"AutomationExecution": {**{k: v for k, v in found.items() if k != "Steps"}, "Parameters": parameters}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.automation", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("document", type=Path, help="the document's JSON content (as in the synthesized aws_ssm_document)")
    parser.add_argument("--parameters", nargs="*", default=[], metavar="NAME=VALUE")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--endpoint", default=None, help="send every call here (the emulator), e.g. http://127.0.0.1:4566")
    args = parser.parse_args(argv)
    try:
        document = json.loads(args.document.read_text())
        parameters = dict(item.split("=", 1) for item in args.parameters)
    except (OSError, ValueError) as error:
        print(f"[automation] {args.document}: {error}", file=sys.stderr)
        return 2

    def clients(service: str, **kwargs: Any) -> Any:
        return boto3.session.Session().client(service, endpoint_url=args.endpoint, **kwargs)

    try:
        execution = run_document(document, parameters, region=args.region, clients=clients, approve=lambda _: True)
    except AutomationFailed as failure:
        for record in failure.record:
            print(f"[automation] {record.name}: {record.outcome} in {record.seconds:.1f} s {record.error}", file=sys.stderr)
        print(f"[automation] Failed: {failure}", file=sys.stderr)
        return 1
    except (KeyError, ValueError) as error:
        print(f"[automation] {error}", file=sys.stderr)
        return 2
    for record in execution.steps:
        print(f"[automation] {record.name}: {record.outcome} in {record.seconds:.1f} s", file=sys.stderr)
    print(json.dumps(execution.outputs, default=str, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
