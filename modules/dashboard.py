"""A CloudWatch dashboard drawn from the alarms the stacks actually hold, so it cannot drift from what is deployed.

Where it lives: "All dashboards in your account are global, not region-specific"
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-cloudwatch-dashboard.html), and each
widget names the region whose CloudWatch it reads (dashboard body structure:
https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html). So the
page itself does not go down with a region: losing a serving region blanks that region's widgets (which is itself
the signal) while the survivor's keep drawing from the survivor's CloudWatch.

Limits checked at synth (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_limits.html,
CloudWatch quotas: "Dashboards"): at most 500 widgets per dashboard, 500 metrics per graph and 2,500 across the
dashboard; an alarm status widget shows at most 100 alarms; a dashboard name is at most 255 characters of
A-Z, a-z, 0-9, `-` and `_` (PutDashboard).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from cdktf import Token
from cdktf_cdktf_provider_aws.cloudwatch_dashboard import CloudwatchDashboard
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from constructs import Construct

from modules.base import AwsEnv, RegionalStack
from modules.errors import InputError

MAX_WIDGETS = 500
MAX_METRICS_PER_GRAPH = 500
MAX_METRICS = 2500
MAX_ALARMS_PER_WIDGET = 100
DASHBOARD_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
GRID_WIDTH = 24


@dataclass(frozen=True)
class AlarmRef:
    """An alarm by name in a region: what an alarm widget and an alarm graph need."""

    name: str
    region: str

    def arn(self, env: AwsEnv) -> str:
        return env.arn("cloudwatch", f"alarm:{self.name}", region=self.region)


def alarms_of(stacks: Iterable[Construct]) -> list[AlarmRef]:
    """Every metric alarm the `stacks` hold, in the region its provider deploys it to, in construct order."""
    found = []
    for stack in stacks:
        regional = RegionalStack.of(stack)
        for node in stack.node.find_all():
            if isinstance(node, CloudwatchMetricAlarm):
                name = node.alarm_name_input
                if not isinstance(name, str) or Token.is_unresolved(name):
                    raise InputError.single(
                        f"{node.node.path}.alarm_name", str(name), "expected a name known at synth (the dashboard lists it)"
                    )
                found.append(AlarmRef(name, regional.env_for(node.provider).region))  # type: ignore[arg-type]
    return found


@dataclass(frozen=True)
class Graph:
    """A time series of `metrics` (CloudWatch metric arrays) read in `region`; `annotations` are (label, value)
    horizontal lines, e.g. the policy's RPO."""

    title: str
    region: str
    metrics: Sequence[Sequence[Any]]
    stat: str = "Average"
    period_seconds: int = 60
    annotations: Sequence[tuple[str, float]] = ()


@dataclass(frozen=True)
class Section:
    """A heading and what goes under it: alarm status lists, alarm graphs (the alarm's metric with its threshold),
    and graphs."""

    heading: str
    alarm_lists: Sequence[tuple[str, Sequence[AlarmRef]]] = ()
    alarm_graphs: Sequence[AlarmRef] = ()
    graphs: Sequence[Graph] = ()


@dataclass
class _Layout:
    widgets: list[dict[str, Any]] = field(default_factory=list)
    y: int = 0
    x: int = 0

    def row_break(self) -> None:
        if self.x:
            self.y, self.x = self.y + 6, 0

    def add(self, widget: dict[str, Any], width: int, height: int) -> None:
        if self.x + width > GRID_WIDTH:
            self.row_break()
        self.widgets.append({**widget, "x": self.x, "y": self.y, "width": width, "height": height})
        self.x += width
        if self.x >= GRID_WIDTH:
            self.y, self.x = self.y + height, 0

    def full_row(self, widget: dict[str, Any], height: int) -> None:
        self.row_break()
        self.add(widget, GRID_WIDTH, height)


def dashboard_body(env: AwsEnv, header: str, sections: Sequence[Section]) -> dict[str, Any]:
    """The dashboard body: the header, then each section's heading, alarm lists, alarm graphs and graphs."""
    layout = _Layout()
    layout.full_row({"type": "text", "properties": {"markdown": header}}, 4)
    for section in sections:
        layout.full_row({"type": "text", "properties": {"markdown": f"## {section.heading}"}}, 2)
        for title, alarms in section.alarm_lists:
            for start in range(0, len(alarms), MAX_ALARMS_PER_WIDGET):
                chunk = alarms[start : start + MAX_ALARMS_PER_WIDGET]
                suffix = f" ({start // MAX_ALARMS_PER_WIDGET + 1})" if len(alarms) > MAX_ALARMS_PER_WIDGET else ""
                layout.full_row(
                    {
                        "type": "alarm",
                        "properties": {
                            "title": title + suffix,
                            "alarms": [alarm.arn(env) for alarm in chunk],
                            "sortBy": "stateUpdatedTimestamp",
                        },
                    },
                    2 + (len(chunk) + 3) // 4,
                )
        layout.row_break()
        for alarm in section.alarm_graphs:
            layout.add(
                {
                    "type": "metric",
                    "properties": {
                        "title": alarm.name,
                        "region": alarm.region,
                        "annotations": {"alarms": [alarm.arn(env)]},
                        "view": "timeSeries",
                    },
                },
                8,
                6,
            )
        layout.row_break()
        for graph in section.graphs:
            properties: dict[str, Any] = {
                "title": graph.title,
                "region": graph.region,
                "metrics": [list(metric) for metric in graph.metrics],
                "stat": graph.stat,
                "period": graph.period_seconds,
                "view": "timeSeries",
            }
            if graph.annotations:
                properties["annotations"] = {"horizontal": [{"label": label, "value": value} for label, value in graph.annotations]}
            layout.add({"type": "metric", "properties": properties}, 12, 6)
    return {"widgets": layout.widgets}


def check_body(name: str, body: dict[str, Any]) -> None:
    """Raise InputError when the body breaks a dashboard quota (module docstring)."""
    widgets = body["widgets"]
    for widget in widgets:
        graphed = widget["properties"].get("metrics", [])
        if len(graphed) > MAX_METRICS_PER_GRAPH:
            title = widget["properties"]["title"]
            raise InputError.single(
                f"dashboard {name}.{title}.metrics", len(graphed), f"expected at most {MAX_METRICS_PER_GRAPH} per graph"
            )
    if len(widgets) > MAX_WIDGETS:
        raise InputError.single(f"dashboard {name}.widgets", len(widgets), f"expected at most {MAX_WIDGETS} widgets per dashboard")
    metrics = sum(len(w["properties"].get("metrics", [])) + len(w["properties"].get("annotations", {}).get("alarms", [])) for w in widgets)
    if metrics > MAX_METRICS:
        raise InputError.single(f"dashboard {name}.metrics", metrics, f"expected at most {MAX_METRICS} metrics per dashboard")


class Dashboard(Construct):
    """A CloudWatch dashboard named `name`: a Markdown `header`, then `sections` (module docstring: where it lives
    and the quotas it is checked against)."""

    def __init__(self, scope: Construct, id: str, *, name: str, header: str, sections: Sequence[Section]) -> None:
        super().__init__(scope, id)
        if not DASHBOARD_NAME_RE.match(name):
            raise InputError.single(f"{self.node.path}.name", name, "expected 1 to 255 characters of A-Z, a-z, 0-9, - and _")
        env = RegionalStack.of(self).env
        self.body = dashboard_body(env, header, sections)
        check_body(name, self.body)
        self.dashboard = CloudwatchDashboard(
            self, "dashboard", dashboard_name=name, dashboard_body=json.dumps(self.body, separators=(",", ":"))
        )
        self.name = name
