"""tools.diagram: each architecture drawn from the synthesized stacks, and really drawn by Mermaid in Chromium."""

from __future__ import annotations

import html
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
    writer = "Aurora: hadr-prod-warm-standby-db (global database writer)"
    replica = "Aurora: hadr-prod-warm-standby-db-replica (global database secondary)"
    assert edge(diagram, "Auto Scaling group: hadr-prod-ws-us-east-1-app", writer) == [("tcp 5432", False)]
    assert edge(diagram, writer, replica) == [("global database replication", True)]
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
        table = "DynamoDB: hadr-prod-items" if region == "eu-west-1" else "DynamoDB replica: hadr-prod-items"
        assert diagram.nodes[labels(diagram)[table]].region == region
        for function in (f"Lambda: hadr-prod-active-active-{region}-api", f"Lambda: hadr-prod-active-active-{region}-api-health"):
            assert edge(diagram, function, table) == [("TABLE_NAME", False)], "each function uses the table in its own region"
        check = next(label for label in labels(diagram) if label == f"health check: {region}.api.example.com")
        assert edge(diagram, check, f"custom domain: {region}.api.example.com") == [("checks", True)], "the domain the checker asks for"
    table = labels(diagram)["DynamoDB: hadr-prod-items"]
    replicas = [t for s, t, label, _ in diagram.edges if s == table and label == "global table replication"]
    assert [diagram.nodes[t].region for t in replicas] == ["eu-central-1"]


def test_the_committed_diagrams_are_the_examples(drawn: dict[str, Diagram]) -> None:
    """docs/diagrams is what `make diagram` draws from the example: regenerate it after changing the stacks."""
    for name, diagram in drawn.items():
        assert (DOCS / f"{name}.mmd").read_text() == diagram.mermaid(), f"docs/diagrams/{name}.mmd is stale: run `make diagram`"
        assert f"```mermaid\n{diagram.mermaid()}```" in (DOCS / f"{name}.md").read_text()


def drawn_text(svg: str, kind: str = "nodeLabel") -> list[str]:
    """The text of each label of `kind` (nodeLabel, edgeLabel) Mermaid drew in an SVG, as a reader sees it."""
    return [
        html.unescape(" ".join(re.sub(r"<[^>]+>", " ", span).split()))
        for span in re.findall(rf'<span class="{kind}"[^>]*>(.*?)</span>', svg)
    ]


@pytest.mark.slow
def test_mermaid_draws_each_diagram_in_chromium_with_every_node(drawn: dict[str, Diagram]) -> None:
    for name, diagram in drawn.items():
        svg = render_svg(diagram.mermaid())
        assert svg.startswith("<svg") and 'aria-roledescription="flowchart-v2"' in svg, name
        labels_drawn = drawn_text(svg)
        regions = {node.region for node in diagram.nodes.values()}
        assert sorted(labels_drawn) == sorted([*(node.label for node in diagram.nodes.values()), *regions]), name
        assert sorted(drawn_text((DOCS / f"{name}.svg").read_text())) == sorted(labels_drawn), f"docs/diagrams/{name}.svg is stale"


@pytest.mark.slow
def test_names_with_mermaid_syntax_are_drawn_as_written() -> None:
    tricky = ['a "quoted" name', "it's | piped", "#hash; & <angle>", "two\nlines", "end"]
    diagram = Diagram("test")
    for number, text in enumerate(tricky):
        diagram.node(f"s/aws_lb.x{number}", "aws_lb", text, "us-east-1")
    diagram.edge("s/aws_lb.x0", "s/aws_lb.x1", 'tcp 443 "quoted" | #1;')
    svg = render_svg(diagram.mermaid())
    assert sorted(drawn_text(svg)) == sorted([*(f"ALB: {' '.join(text.split())}" for text in tricky), "us-east-1"])
    assert 'tcp 443 "quoted" | #1;' in drawn_text(svg, "edgeLabel")


@pytest.mark.slow
def test_a_diagram_mermaid_cannot_draw_is_an_error_with_its_reason() -> None:
    with pytest.raises(ToolError, match=r"Mermaid could not draw the diagram: .*(Parse error|Syntax error)"):
        render_svg("flowchart LR\n  a -->|unclosed b\n")


def test_a_folder_without_stacks_is_refused_by_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tools.diagram import main

    assert main(["--outdir", str(tmp_path), "--output", str(tmp_path / "out")]) == 1
    assert capsys.readouterr().err == f"[diagram] {tmp_path / 'deploy-order.json'} is missing: run `make synth` first\n"
    (tmp_path / "deploy-order.json").write_text(json.dumps({"order": [], "needs": {}}))
    assert main(["--outdir", str(tmp_path), "--output", str(tmp_path / "out")]) == 1
    assert capsys.readouterr().err == f"[diagram] {tmp_path} holds no architecture's stacks\n"
    assert not (tmp_path / "out").exists()


def test_replication_and_traffic_are_read_however_the_stack_writes_them() -> None:
    """One-way S3 replication to a bucket named by ARN, a replica whose source is a reference, inline DynamoDB
    replicas, a provider without a region, a WAF on a load balancer, classic security-group rules with a port range,
    and a data source named like a resource (never a component)."""
    from tools.diagram import build

    lb, app = "${aws_security_group.lb.id}", "${aws_security_group.app.id}"
    acl = "${aws_wafv2_web_acl.acl.arn}"
    stack = {
        "provider": {"aws": [{"region": "us-east-1"}, {"alias": "other"}]},
        "resource": {
            "aws_s3_bucket": {
                "src": {"bucket": "src-bucket"},
                "dst": {"bucket": "dst-bucket", "provider": "aws.other"},
                "lone": {"bucket": "x"},
            },
            "aws_s3_bucket_replication_configuration": {
                "r": {"bucket": "${aws_s3_bucket.src.id}", "rule": [{"destination": [{"bucket": "arn:aws:s3:::dst-bucket"}]}]}
            },
            "aws_db_instance": {
                "w": {"identifier": "w", "multi_az": True},
                "r": {"identifier": "r", "replicate_source_db": "${aws_db_instance.w.arn}"},
            },
            "aws_dynamodb_table": {"t": {"name": "t", "replica": [{"region_name": "eu-west-1"}]}},
            "aws_lb": {"alb": {"name": "alb", "security_groups": [lb]}},
            "aws_autoscaling_group": {"asg": {"name": "asg", "launch_template": {"id": "${aws_launch_template.lt.id}"}}},
            "aws_launch_template": {"lt": {"vpc_security_group_ids": [app]}},
            "aws_security_group_rule": {
                "in": {
                    "type": "ingress",
                    "security_group_id": app,
                    "source_security_group_id": lb,
                    "protocol": "tcp",
                    "from_port": 8000,
                    "to_port": 8080,
                },
                "out": {"type": "egress", "security_group_id": lb, "source_security_group_id": app},
            },
            "aws_wafv2_web_acl": {"acl": {"name": "acl", "scope": "REGIONAL"}},
            "aws_wafv2_web_acl_association": {
                "a": {"web_acl_arn": acl, "resource_arn": "${data.aws_lb.alb.arn}"},
                "b": {"web_acl_arn": acl, "resource_arn": "${aws_lb.alb.arn}"},
            },
        },
    }
    diagram = build("warm_standby", [("warm-standby-x", stack)])
    by_label = labels(diagram)
    assert "S3: x" not in by_label, "a bucket that does not replicate is not drawn"
    assert diagram.nodes[by_label["S3: dst-bucket"]].region == "region unknown"
    found = {(diagram.nodes[s].label, diagram.nodes[t].label, label) for s, t, label, _ in diagram.edges}
    assert found == {
        ("S3: src-bucket", "S3: dst-bucket", "S3 replication"),
        ("RDS: w (Multi-AZ writer)", "RDS: r (read replica)", "asynchronous replication"),
        ("DynamoDB: t", "DynamoDB replica: t", "global table replication"),
        ("DynamoDB replica: t", "DynamoDB: t", "global table replication"),
        ("ALB: alb (internet-facing)", "Auto Scaling group: asg", "tcp 8000-8080"),
        ("WAF: acl", "ALB: alb (internet-facing)", "protects"),
    }
    assert diagram.nodes[by_label["DynamoDB replica: t"]].region == "eu-west-1"


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
