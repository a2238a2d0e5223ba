"""The resilience assessment: estimates read from the synthesized JSON against the policy. The example's verdicts
(every objective met, the warm standby's region objectives with 20 % margin on Aurora), the RDS engine's region RTO
it cannot meet, a configuration that breaches every domain for a known reason, missing pieces as verdicts rather
than numbers, the comparison with a base branch, a drill's measurement, and the plan report."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from modules.config import load_config, parse_config
from tests.conftest import EXAMPLE_CONFIG, Synthesized
from tools import assess
from tools.assess import Stacks


def verdicts(result: assess.Assessment) -> dict[tuple[str, str, str], str]:
    return {(e.architecture, e.domain, e.objective): e.verdict for e in result.estimates}


def estimate(result: assess.Assessment, architecture: str, domain: str, objective: str) -> assess.Estimate:
    return next(e for e in result.estimates if (e.architecture, e.domain, e.objective) == (architecture, domain, objective))


@pytest.fixture(scope="module")
def example(synthesized: Synthesized) -> assess.Assessment:
    return assess.assess(load_config(EXAMPLE_CONFIG), Stacks(copy.deepcopy(synthesized.stacks)))


def test_the_example_meets_every_policy_and_the_warm_standbys_region_objectives_with_a_fifth_to_spare(
    example: assess.Assessment,
) -> None:
    assert {key: verdict for key, verdict in verdicts(example).items() if verdict != "met"} == {}
    rpo = estimate(example, "warm_standby", "region", "RPO")
    # rds.global_db_rpo bounds the database; the assets' replication latency is watched by an alarm at half the
    # region RPO, and RTC's 15 minutes stays as its caveat
    assert [(t.seconds, t.source) for t in rpo.terms] == [(60, assess.AURORA_GLOBAL_DR), (150, assess.S3_REPLICATION_METRICS)]
    assert rpo.terms[0].what == "rds.global_db_rpo = 60 s: commits wait while the secondary is further behind"
    assert rpo.terms[0].resource.startswith("aws_rds_cluster_parameter_group.")
    assert rpo.terms[1].what == (
        "assets replication latency below its alarm's threshold of 150 s pages nobody (caveat: RTC is designed for"
        " 99.99% of objects within 15 minutes, so a backlog past 150 s is paged, not prevented)"
    )
    rto = estimate(example, "warm_standby", "region", "RTO")
    assert rto.blockers == [], "the decision runs in the standby and the writes follow a DNS failover record"
    # detection, the alarm's one minute, then in parallel: the approval, the global database's failover and the
    # writes' move (300 + 180 + 65 s), beside the scale-out the plan starts before its approval (420 s)
    assert [t.seconds for t in rto.terms] == [90, 60, 545]
    assert rto.terms[2].what.startswith(
        "in parallel, the longest of: operator approval of the recovery plan (assumption approval_seconds), then fail over the global"
        " database (assumption global_failover_seconds), then move the writes (/api/*): latch alarm 60 s +"
        " origin-writer.www.example.com TTL 5 s 545 s; scale hadr-prod-ws-us-west-1-app from 1 to 2"
    )
    assert (rto.seconds, rpo.seconds) == (695, 150)
    assert rto.seconds <= 0.8 * rto.target and rpo.seconds <= 0.8 * rpo.target, "at least 20 % margin (issue 27)"
    assert any("the Route 53 signal needs us-east-1" in note for note in example.stability)
    region = estimate(example, "active_active", "region", "RTO")
    assert [(t.seconds, t.resource.split(".")[0]) for t in region.terms] == [(90, "aws_route53_health_check"), (60, "aws_route53_record")]
    assert region.margin == 3600 - 150


@pytest.fixture(scope="module")
def on_rds(postgres_synthesized: Synthesized) -> assess.Assessment:
    """The example with the warm standby on the RDS engine."""
    return assess.assess(load_config(postgres_synthesized.config), Stacks(copy.deepcopy(postgres_synthesized.stacks)))


def test_on_the_rds_engine_the_region_rto_is_breached_by_the_replicas_promotion_and_says_why(on_rds: assess.Assessment) -> None:
    assert {key: verdict for key, verdict in verdicts(on_rds).items() if verdict != "met"} == {
        ("warm_standby", "region", "RTO"): "breached"
    }
    rto = estimate(on_rds, "warm_standby", "region", "RTO")
    assert [t.seconds for t in rto.terms] == [90, 60, 965], "the promotion (600 s) after the approval, then the writes"
    assert "then promote the cross-region replica (assumption replica_promotion_seconds), then move the writes" in rto.terms[2].what
    rpo = estimate(on_rds, "warm_standby", "region", "RPO")
    assert [(t.seconds, t.source) for t in rpo.terms] == [(150, assess.RDS_LAG), (150, assess.S3_REPLICATION_METRICS)]
    zone = estimate(on_rds, "warm_standby", "az", "RTO")
    assert [t.what for t in zone.terms] == ["RDS Multi-AZ failover: typically 60-120 s"]


def test_every_term_has_a_source_and_the_assumptions_are_labelled(example: assess.Assessment) -> None:
    for item in example.estimates:
        for term in item.terms:
            assert term.source.startswith("https://") or term.source == "assumption", term
            if "assumption" in term.what:
                assert any(name in term.what for name in assess.ASSUMPTIONS), term


@pytest.fixture(scope="module")
def breaching(tmp_path_factory: pytest.TempPathFactory, example_data: dict[str, Any]) -> assess.Assessment:
    """One synthesized configuration that breaches a domain of each kind for a known reason."""
    from stacks.app import synthesize

    data = copy.deepcopy(example_data)
    data["active_active"]["health_check"] = {"request_interval_seconds": 30, "failure_threshold": 10}
    data["active_active"]["resilience_policy"]["region"]["rto_seconds"] = 240  # detection alone is 300 s
    data["active_active"]["resilience_policy"]["software"]["rpo_seconds"] = 60  # PITR lags 5 minutes
    data["warm_standby"]["resilience_policy"]["az"]["rto_seconds"] = 60  # Aurora's failover to a reader takes up to 120 s
    data["warm_standby"]["resilience_policy"]["hardware"]["rto_seconds"] = 60
    data["warm_standby"]["resilience_policy"]["software"]["rto_seconds"] = 600  # a restore takes longer
    config = parse_config(data)
    result = synthesize(config, tmp_path_factory.mktemp("breach") / "cdktf.out")
    return assess.assess(config, Stacks.read(result.outdir))


@pytest.mark.parametrize(
    ("key", "cause"),
    [
        (("active_active", "region", "RTO"), "Route 53 detection of eu-west-1.api.example.com: 30 s interval x 10 failures"),
        (("active_active", "software", "RPO"), "PITR latest restorable time: typically 5 minutes before now"),
        (("warm_standby", "az", "RTO"), "Aurora fails over to a reader in another zone: typically under 120 s"),
        (("warm_standby", "hardware", "RTO"), "Aurora fails over to a reader in another zone: typically under 120 s"),
        (("warm_standby", "software", "RTO"), "point-in-time restore into a new cluster (assumption db_restore_seconds)"),
    ],
    ids=lambda value: ".".join(value) if isinstance(value, tuple) else "",
)
def test_a_configuration_breaching_each_domain_is_reported_with_its_cause(
    breaching: assess.Assessment, key: tuple[str, str, str], cause: str
) -> None:
    found = estimate(breaching, *key)
    assert found.verdict == "breached" and found.margin < 0
    assert any(term.what.startswith(cause) for term in found.terms), found.terms
    if key == ("active_active", "region", "RTO"):
        detection = next(term for term in found.terms if term.what.startswith(cause))
        assert detection.seconds == 300 > found.target, "detection alone exceeds the region RTO"
    assert f"| {key[0]} | {key[1]} | {key[2]} |" in assess.markdown(breaching)


def edited(synthesized: Synthesized, stack: str, edit: Any) -> Stacks:
    stacks = copy.deepcopy(synthesized.stacks)
    edit(stacks[stack]["resource"])
    return Stacks(stacks)


def first(resources: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(iter(resources[kind].values()))


@pytest.mark.parametrize(
    ("stack", "edit", "key", "verdict", "blocker"),
    [
        (
            "active-active-global",
            lambda r: [body.pop("health_check_id") for body in r["aws_route53_record"].values() if "weighted_routing_policy" in body],
            ("active_active", "region", "RTO"),
            "unrecoverable",
            "has no health check: DNS keeps answering with a failed region",
        ),
        (
            "active-active-data",
            lambda r: r.pop("aws_dynamodb_table_replica"),
            ("active_active", "region", "RPO"),
            "breached",  # the backup plans still copy to the other region: the RPO becomes their daily schedule
            "",
        ),
        (
            "warm-standby-us-east-1",
            lambda r: r["aws_rds_cluster_instance"].pop(next(iter(r["aws_rds_cluster_instance"]))),
            ("warm_standby", "az", "RTO"),
            "unrecoverable",
            "the writer's cluster has no reader in another zone",
        ),
        (
            "active-active-eu-central-1",
            lambda r: [body.update(reserved_concurrent_executions=10) for body in r["aws_lambda_function"].values()],
            ("active_active", "region", "RTO"),
            "depends",
            "eu-central-1 has 10 reserved executions for a peak needing 20",
        ),
        (
            "active-active-global",
            lambda r: r.pop("aws_ssm_document"),
            ("active_active", "software", "RTO"),
            "depends",
            "no recover-table runbook",
        ),
    ],
    ids=["record without health check", "table without replica", "writer without a reader", "survivor too small", "no runbook"],
)
def test_missing_pieces_are_verdicts_not_numbers(
    synthesized: Synthesized, stack: str, edit: Any, key: tuple[str, str, str], verdict: str, blocker: str
) -> None:
    found = estimate(assess.assess(load_config(EXAMPLE_CONFIG), edited(synthesized, stack, edit)), *key)
    assert found.verdict == verdict
    if blocker:
        assert any(blocker in text for text in found.blockers), found.blockers
    else:
        assert found.seconds == 86400 and not found.blockers, "without the replica, the daily backup copy is the RPO"


def test_a_store_with_no_copy_anywhere_is_unrecoverable(synthesized: Synthesized) -> None:
    def strip(resources: dict[str, Any]) -> None:
        resources.pop("aws_dynamodb_table_replica")

    stacks = edited(synthesized, "active-active-data", strip)
    for name in ("active-active-eu-west-1", "active-active-eu-central-1"):
        for plan in stacks.stacks[name]["resource"]["aws_backup_plan"].values():
            for rule in plan["rule"]:
                rule.pop("copy_action", None)
    found = estimate(assess.assess(load_config(EXAMPLE_CONFIG), stacks), "active_active", "region", "RPO")
    assert found.verdict == "unrecoverable"
    assert found.blockers == ["the table has no replica and no backup copy in another region"]


def test_the_markdown_compares_with_the_base_and_shows_a_measured_drill(example: assess.Assessment, breaching: assess.Assessment) -> None:
    base = json.loads(json.dumps(example.as_dict()))
    text = assess.markdown(breaching, base=base, measured=None)
    assert "| active_active | region | RTO | 240 s | 360 s | **breached** (-120 s) | was 150 s, met |" in text
    assert "| active_active | az | RTO | 1 s | 0 s | met (+1 s) | unchanged |" in text
    from tools.local import drill_report

    steps = [("decision_and_recovery_plan", "page", 2.5), ("verify_failover_writer", "ok", 0.5), ("failback_switch_us-east-1", "ok", 9.0)]
    text = assess.markdown(example, measured=drill_report(steps, str(EXAMPLE_CONFIG)))
    assert (
        "- warm_standby.region RTO: measured 3 s (emulator drill on aurora-postgresql, make drill-local), estimated 11.6 min"
        " **(large difference)**"
    ) in text


def test_make_assess_writes_markdown_and_json_and_exits_5_unless_warned(
    synthesized: Synthesized, postgres_synthesized: Synthesized, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert assess.main(["--outdir", str(synthesized.outdir), "--config", str(EXAMPLE_CONFIG)]) == 0
    assert "[assess] 16 of 16 objectives met" in capsys.readouterr().err
    args = ["--outdir", str(postgres_synthesized.outdir), "--config", str(postgres_synthesized.config)]
    output, machine = tmp_path / "assessment.md", tmp_path / "assessment.json"
    assert assess.main([*args, "--output", str(output), "--json", str(machine)]) == assess.EXIT_BREACH
    err = capsys.readouterr().err
    assert "[assess] warm_standby region RTO: breached: 18.6 min > 15.0 min" in err and "[assess] 15 of 16 objectives met" in err
    assert output.read_text().startswith("## Resilience assessment\n\n> [!WARNING]\n> **1 objective(s) not met.**")
    document = json.loads(machine.read_text())
    assert {(e["architecture"], e["domain"], e["objective"], e["verdict"]) for e in document["estimates"] if e["verdict"] != "met"} == {
        ("warm_standby", "region", "RTO", "breached"),
    }
    assert assess.main([*args, "--warn-only"]) == 0
    assert assess.main([*args, "--assume", "nonsense=3"]) == 2
    assert "--assume: got 'nonsense=3'; expected NAME=SECONDS with NAME one of: instance_launch_seconds" in capsys.readouterr().err
    assert assess.main([*args, "--warn-only", "--assume", "replica_promotion_seconds=60"]) == 0
    out = capsys.readouterr().out
    assert "then promote the cross-region replica (assumption replica_promotion_seconds), then move the writes" in out
    assert "latch alarm 60 s + origin-writer.www.example.com TTL 5 s 425 s; scale" in out, "300 s approval + 60 s promotion + 65 s"


def test_the_plan_report_carries_the_assessment_after_the_summary(example: assess.Assessment, tmp_path: Path) -> None:
    from tools.plan_report import FOLDED_SUMMARY
    from tools.plan_report import main as report_main

    (tmp_path / "summary.json").write_text(json.dumps({"mode": "live", "stacks": []}))
    section = tmp_path / "assessment.md"
    section.write_text(assess.markdown(example))
    report = tmp_path / "report.md"
    assert report_main(["--plans", str(tmp_path), "--output", str(report), "--assessment", str(section)]) == 0
    text = report.read_text()
    assert text.index("| stack |") < text.index("### Resilience assessment") < text.index("#### Timelines")
    # The verdicts come first; how each estimate adds up (its sources, the assumptions) is folded below them.
    verdicts, folded = text.split(f"<details><summary>{FOLDED_SUMMARY}</summary>", 1)
    assert "| warm_standby | region | RTO |" in verdicts and "#### " not in verdicts
    assert folded.index("#### Timelines") < folded.index("#### Assumptions") < folded.rindex("</details>")
    assert "Sources of every term" in folded


@pytest.mark.parametrize(
    ("expression", "seconds"),
    [
        ("cron(0 5 ? * * *)", 86400),
        ("cron(0 5 ? * SUN *)", 7 * 86400),
        ("cron(0 * ? * * *)", 3600),
        ("cron(0 0/4 ? * * *)", 4 * 3600),
        ("cron(0 5 1 * ? *)", 31 * 86400),
        ("rate(1 day)", 31 * 86400),
    ],
)
def test_backup_schedules_are_read_or_assumed_at_their_longest(expression: str, seconds: int) -> None:
    assert assess.schedule_seconds(expression) == seconds


def test_a_pull_request_is_blocked_by_its_regressions_not_by_the_breaches_its_base_already_had(
    on_rds: assess.Assessment, breaching: assess.Assessment
) -> None:
    example = on_rds  # a base with a breach: the RDS engine's region RTO
    base = json.loads(json.dumps(example.as_dict()))
    found = {(e.architecture, e.domain, e.objective) for e in breaching.regressions(base)}
    assert found == {
        ("active_active", "region", "RTO"),
        ("active_active", "software", "RPO"),
        ("warm_standby", "az", "RTO"),
        ("warm_standby", "hardware", "RTO"),
        ("warm_standby", "software", "RTO"),
    }, "met on Aurora, and the RDS base's region RTO breach is no regression either"
    assert example.regressions(base) == []
    # The same breach, a minute longer than on the base, is a regression; so is one the base had not assessed.
    shorter = json.loads(json.dumps(base))
    key = ("warm_standby", "region", "RTO")
    rto = next(e for e in shorter["estimates"] if (e["architecture"], e["domain"], e["objective"]) == key)
    rto["seconds"] -= 60
    assert [(e.architecture, e.domain, e.objective) for e in example.regressions(shorter)] == [key]
    unassessed = json.loads(json.dumps(base))
    unassessed["estimates"] = [e for e in unassessed["estimates"] if (e["architecture"], e["domain"], e["objective"]) != key]
    assert [(e.architecture, e.domain, e.objective) for e in example.regressions(unassessed)] == [key]
    assert example.regressions(None) == example.failing


def test_block_on_regression_exits_5_only_for_a_regression(
    postgres_synthesized: Synthesized, on_rds: assess.Assessment, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    example = on_rds
    args = ["--outdir", str(postgres_synthesized.outdir), "--config", str(postgres_synthesized.config), "--block-on", "regression"]
    base = tmp_path / "base.json"
    base.write_text(json.dumps(example.as_dict()))
    assert assess.main([*args, "--base", str(base)]) == 0
    assert "[assess] 0 regression(s) against the base; 1 breach(es) the base already had" in capsys.readouterr().err
    met = example.as_dict()
    for estimate in met["estimates"]:
        estimate["verdict"] = "met"
    base.write_text(json.dumps(met))
    assert assess.main([*args, "--base", str(base)]) == assess.EXIT_BREACH
    assert "[assess] 1 regression(s) against the base; 0 breach(es) the base already had" in capsys.readouterr().err
    assert assess.main([*args, "--base", str(tmp_path / "absent.json")]) == assess.EXIT_BREACH
    assert "no base assessment to compare with; every failing objective blocks" in capsys.readouterr().err
    with pytest.raises(SystemExit) as refused:
        assess.main([*args, "--warn-only"])
    assert refused.value.code == 2 and "not allowed with argument --block-on" in capsys.readouterr().err


def test_assets_without_a_latency_alarm_count_rtcs_15_minutes(example: assess.Assessment, synthesized: Synthesized) -> None:
    """The same stacks with the assets' ReplicationLatency alarms removed: the assets' loss window is RTC's."""
    stacks = copy.deepcopy(synthesized.stacks)
    for name in ("warm-standby-us-east-1", "warm-standby-us-west-1"):
        alarms = stacks[name]["resource"]["aws_cloudwatch_metric_alarm"]
        for key in [k for k, body in alarms.items() if body["metric_name"] == "ReplicationLatency"]:
            del alarms[key]
    rpo = estimate(assess.assess(load_config(EXAMPLE_CONFIG), Stacks(stacks)), "warm_standby", "region", "RPO")
    assert rpo.seconds == 900 and rpo.verdict == "breached" and rpo.terms[1].source == assess.S3_RTC


def test_every_assets_replication_rule_has_its_latency_alarm_at_half_the_rpo(synthesized: Synthesized) -> None:
    rules = {
        (synthesized.stacks["warm-standby-storage"]["resource"]["aws_s3_bucket"][c["bucket"].split(".")[1]]["bucket"], rule["id"])
        for c in synthesized.resources("warm-standby-storage", "aws_s3_bucket_replication_configuration").values()
        for rule in c["rule"]
    }
    alarms = {}
    for name in ("warm-standby-us-east-1", "warm-standby-us-west-1"):
        for body in synthesized.resources(name, "aws_cloudwatch_metric_alarm").values():
            if body["metric_name"] == "ReplicationLatency":
                alarms[(body["dimensions"]["SourceBucket"], body["dimensions"]["RuleId"])] = (name, body)
    assert set(alarms) == rules and len(rules) == 2
    for (source, _), (name, body) in alarms.items():
        assert source.startswith(f"hadr-prod-ws-assets-{name.removeprefix('warm-standby-')}"), "each region watches what it sends"
        assert (body["namespace"], body["statistic"], body["threshold"], body["evaluation_periods"]) == ("AWS/S3", "Maximum", 150, 1)
