"""tools.diagram: each architecture drawn from the synthesized stacks, and really drawn by Mermaid in Chromium."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import pytest

from tests.conftest import Synthesized
from tools.cli import ToolError
from tools.diagram import COMPONENTS, ROOT, Diagram, diagrams, render_svg

DOCS = ROOT / "docs" / "diagrams"


@pytest.fixture(scope="module")
def drawn(synthesized: Synthesized) -> dict[str, Diagram]:
    return diagrams(synthesized.outdir)


def labels(diagram: Diagram) -> dict[str, str]:
    """Node label -> node address."""
    return {node.label: address for address, node in diagram.nodes.items()}


def edge(diagram: Diagram, source: str, target: str) -> list[tuple[str, bool]]:
    """(label, dashed) of the edges from the node labelled `source` to the one labelled `target`."""
    by_label = labels(diagram)
    return [(label, dashed) for s, t, label, dashed in diagram.edges if s == by_label[source] and t == by_label[target]]


def test_every_serving_component_of_the_stacks_is_a_node_in_its_region(synthesized: Synthesized, drawn: dict[str, Diagram]) -> None:
    assert set(drawn) == {"active_active", "warm_standby"}
    for name, body in synthesized.stacks.items():
        prefix = name.split("-")[0]
        if prefix not in ("active", "warm"):
            continue
        architecture = "active_active" if prefix == "active" else "warm_standby"
        regions = {("aws." + p["alias"]) if "alias" in p else "aws": p["region"] for p in body["provider"]["aws"]}
        for kind, attribute in (
            ("aws_lb", "name"),
            ("aws_autoscaling_group", "name"),
            ("aws_db_instance", "identifier"),
            ("aws_lambda_function", "function_name"),
            ("aws_api_gateway_rest_api", "name"),
            ("aws_dynamodb_table", "name"),
        ):
            for resource in body.get("resource", {}).get(kind, {}).values():
                label = f"{COMPONENTS[kind][0]}: {resource[attribute]}"
                found = [n for n in drawn[architecture].nodes.values() if n.label.split(" (")[0] == label]
                assert found, f"{name}: {kind} {resource[attribute]} is not drawn"
                assert {n.region for n in found} == {regions[resource.get("provider", "aws")]}, (name, resource[attribute])


def test_the_warm_standby_shows_origin_failover_the_tiers_and_replication(drawn: dict[str, Diagram]) -> None:
    diagram = drawn["warm_standby"]
    cdn = next(label for label in labels(diagram) if label.startswith("CloudFront: "))
    web = {region: f"ALB: hadr-prod-ws-{region}-web (internet-facing)" for region in ("us-east-1", "us-west-1")}
    assert edge(diagram, cdn, web["us-east-1"]) == [("primary origin", False)]
    assert edge(diagram, cdn, web["us-west-1"]) == [("failover origin", True)]
    for region in ("us-east-1", "us-west-1"):
        chain = [
            web[region],
            f"Auto Scaling group: hadr-prod-ws-{region}-web",
            f"ALB: hadr-prod-ws-{region}-app (internal)",
            f"Auto Scaling group: hadr-prod-ws-{region}-app",
        ]
        ports = [edge(diagram, a, b) for a, b in itertools.pairwise(chain)]
        assert ports == [[("tcp 8080", False)], [("tcp 443", False)], [("tcp 8080", False)]], region
    writer = "RDS: hadr-prod-warm-standby-db (Multi-AZ writer)"
    replica = "RDS: hadr-prod-warm-standby-db-replica (read replica)"
    assert edge(diagram, "Auto Scaling group: hadr-prod-ws-us-east-1-app", writer) == [("tcp 5432", False)]
    assert edge(diagram, writer, replica) == [("asynchronous replication", True)]
    assert diagram.nodes[labels(diagram)[replica]].region == "us-west-1"
    buckets = [label for label in labels(diagram) if label.startswith("S3: ")]
    assert len(buckets) == 2
    assert edge(diagram, buckets[0], buckets[1]) == edge(diagram, buckets[1], buckets[0]) == [("S3 replication", True)]


def test_active_active_shows_weighted_routing_health_checks_and_the_global_table(drawn: dict[str, Diagram]) -> None:
    diagram = drawn["active_active"]
    for region in ("eu-west-1", "eu-central-1"):
        weighted = [s for s, t, label, _ in diagram.edges if label == "weight 100" and diagram.nodes[t].region == region]
        checked = [s for s, t, label, _ in diagram.edges if label == "checks" and diagram.nodes[t].region == region]
        assert len(weighted) == 1 and len(checked) == 1, region
        function = f"Lambda: hadr-prod-active-active-{region}-api"
        assert edge(diagram, function, "DynamoDB: hadr-prod-items") == [("reads and writes", False)]
    table = labels(diagram)["DynamoDB: hadr-prod-items"]
    replicas = [t for s, t, label, _ in diagram.edges if s == table and label == "global table replication"]
    assert [diagram.nodes[t].region for t in replicas] == ["eu-central-1"]


def test_the_committed_diagrams_are_the_examples(drawn: dict[str, Diagram]) -> None:
    """docs/diagrams is what `make diagram` draws from the example: regenerate it after changing the stacks."""
    for name, diagram in drawn.items():
        assert (DOCS / f"{name}.mmd").read_text() == diagram.mermaid(), f"docs/diagrams/{name}.mmd is stale: run `make diagram`"
        assert f"```mermaid\n{diagram.mermaid()}```" in (DOCS / f"{name}.md").read_text()


@pytest.mark.slow
def test_mermaid_draws_each_diagram_in_chromium_with_every_node(drawn: dict[str, Diagram]) -> None:
    for name, diagram in drawn.items():
        svg = render_svg(diagram.mermaid())
        assert svg.startswith("<svg") and 'aria-roledescription="flowchart-v2"' in svg, name
        text = re.sub(r"<[^>]+>", " ", svg)
        for node in diagram.nodes.values():
            assert node.label.split(": ", 1)[1] in text.replace("&amp;", "&"), (name, node.label)
        assert (DOCS / f"{name}.svg").is_file()


@pytest.mark.slow
def test_a_diagram_mermaid_cannot_draw_is_an_error_with_its_reason() -> None:
    with pytest.raises(ToolError, match=r"Mermaid could not draw the diagram: .*(Parse error|Syntax error)"):
        render_svg("flowchart LR\n  a -->|unclosed b\n")


def test_a_folder_without_stacks_is_refused_by_name(tmp_path: Path) -> None:
    from tools.diagram import main

    assert main(["--outdir", str(tmp_path), "--output", str(tmp_path / "out")]) == 1
    (tmp_path / "deploy-order.json").write_text(json.dumps({"order": [], "needs": {}}))
    assert main(["--outdir", str(tmp_path), "--output", str(tmp_path / "out")]) == 1


def test_the_plan_report_ends_with_each_architecture_folded(synthesized: Synthesized, drawn: dict[str, Diagram], tmp_path: Path) -> None:
    from tools.diagram import fenced
    from tools.plan_report import main as report_main

    (tmp_path / "small.json").write_text(json.dumps({"resource_changes": []}))
    (tmp_path / "summary.json").write_text(json.dumps({"stacks": [{"stack": "small", "status": "planned", "plan_file": "small.json"}]}))
    report = tmp_path / "report.md"
    assert report_main(["--plans", str(tmp_path), "--output", str(report), "--diagrams", str(synthesized.outdir)]) == 0
    text = report.read_text()
    section = text[text.index("### Architecture, drawn from the synthesized stacks") :]
    assert text.index("| stack |") < text.index(section)
    for name, diagram in drawn.items():
        assert f"<details><summary>{name}</summary>\n\n{fenced(diagram.mermaid())}\n\n</details>" in section
