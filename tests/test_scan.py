"""Per-resource checkov suppressions: recorded at the resource, applied by tools.scan, misuse rejected."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from modules.errors import InputError
from tests.conftest import EXAMPLE_CONFIG, ROOT, Synthesized
from tools.scan import apply, recorded_suppressions, sarif


def failed(stack: str, resource: str, check_id: str) -> dict[str, Any]:
    return {
        "check_id": check_id,
        "check_name": f"name of {check_id}",
        "resource": resource,
        "file_path": f"/stacks/{stack}/cdk.tf.json",
        "file_line_range": [12, 20],
        "guideline": "https://docs.example/guide",
    }


def stack_with(tmp_path: Path, stack: str, skips: list[dict[str, str]]) -> Path:
    body = {"resource": {"aws_s3_bucket": {"logs": {"//": {"checkov": {"skip": skips}}, "bucket": "b"}}}}
    (tmp_path / "stacks" / stack).mkdir(parents=True)
    (tmp_path / "stacks" / stack / "cdk.tf.json").write_text(json.dumps(body))
    return tmp_path


def test_suppression_is_written_to_the_resources_metadata(tmp_path: Path) -> None:
    from cdktf import App
    from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket

    from modules.base import RegionalStack
    from modules.config import load_config
    from modules.suppressions import suppress

    app = App(outdir=str(tmp_path))
    stack = RegionalStack(app, "scan-test", config=load_config(EXAMPLE_CONFIG), region="us-east-1", remote_state=False)
    bucket = S3Bucket(stack, "logs", bucket="logs-bucket")
    suppress(bucket, "CKV_AWS_18", "this bucket receives the access logs itself")
    suppress(bucket, "CKV2_AWS_62", "nothing consumes events of a log bucket")
    app.synth()
    assert recorded_suppressions(tmp_path / "stacks" / "scan-test" / "cdk.tf.json") == {
        ("aws_s3_bucket.logs", "CKV_AWS_18"): "this bucket receives the access logs itself",
        ("aws_s3_bucket.logs", "CKV2_AWS_62"): "nothing consumes events of a log bucket",
    }
    with pytest.raises(InputError) as caught:
        suppress(bucket, "AWS18", "short")
    assert str(caught.value).splitlines() == [
        "scan-test/logs.suppress.check_id: got 'AWS18'; expected a checkov check ID such as CKV_AWS_18 or CKV2_AWS_62",
        "scan-test/logs.suppress.reason: got 'short'; expected a reason of at least 10 characters",
    ]
    with pytest.raises(InputError, match="expected each check to be suppressed once per resource"):
        suppress(bucket, "CKV_AWS_18", "a second reason for the same check")


def test_scan_moves_suppressed_failures_to_skipped_and_keeps_the_rest(tmp_path: Path) -> None:
    outdir = stack_with(tmp_path, "s", [{"id": "CKV_AWS_18", "reason": "receives the access logs itself"}])
    results = [
        {
            "results": {
                "passed_checks": [failed("s", "aws_s3_bucket.logs", "CKV_AWS_21")],
                "failed_checks": [failed("s", "aws_s3_bucket.logs", "CKV_AWS_18"), failed("s", "aws_s3_bucket.logs", "CKV_AWS_145")],
            }
        }
    ]
    reports, errors = apply(results, outdir)
    assert errors == []
    report = reports["s"]
    assert report.passed == 1
    assert [c["check_id"] for c in report.failed] == ["CKV_AWS_145"]
    assert [(c["check_id"], c["suppress_reason"]) for c in report.skipped] == [("CKV_AWS_18", "receives the access logs itself")]
    document = sarif(reports)
    (result,) = document["runs"][0]["results"]
    assert (result["ruleId"], result["locations"][0]["physicalLocation"]["region"]["startLine"]) == ("CKV_AWS_145", 12)
    assert document["version"] == "2.1.0"


def test_scan_rejects_stale_and_unexplained_suppressions(tmp_path: Path) -> None:
    outdir = stack_with(
        tmp_path, "s", [{"id": "CKV_AWS_18", "reason": "too short"}, {"id": "CKV_AWS_144", "reason": "no failure matches this one"}]
    )
    _, errors = apply([{"results": {"failed_checks": [failed("s", "aws_s3_bucket.logs", "CKV_AWS_18")]}}], outdir)
    assert errors == [
        "s: aws_s3_bucket.logs: suppression of CKV_AWS_18 has a reason shorter than 10 characters",
        "s: aws_s3_bucket.logs: suppression of CKV_AWS_144 matches no failed check; remove it",
    ]


def test_checkovs_bare_resource_names_match_the_recorded_type(tmp_path: Path) -> None:
    outdir = stack_with(tmp_path, "s", [{"id": "CKV_AWS_59", "reason": "public API guarded by WAF and throttling"}])
    reports, errors = apply([{"results": {"failed_checks": [failed("s", "resource.logs", "CKV_AWS_59")]}}], outdir)
    assert errors == [] and [c["check_id"] for c in reports["s"].skipped] == ["CKV_AWS_59"]


def test_a_project_check_that_produced_no_result_fails_the_scan(tmp_path: Path) -> None:
    outdir = stack_with(tmp_path, "s", [])
    passed = [failed("s", "aws_s3_bucket.logs", "CKV_HADR_8")]
    _, errors = apply([{"results": {"passed_checks": passed}}], outdir, ["CKV_HADR_8", "CKV_HADR_9"])
    assert errors == ["CKV_HADR_9 produced no result on any stack: it did not load or matches no resource"]


def test_the_example_scans_clean_with_every_skip_explained(
    synthesized: Synthesized, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`make test` runs the scan: any failed check, stale suppression or silent CKV_HADR check fails here."""
    from tools.scan import main, project_check_ids

    step_summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step_summary))
    sarif_file = tmp_path / "checkov.sarif"
    code = main(["--outdir", str(synthesized.outdir), "--sarif", str(sarif_file)])
    output = capsys.readouterr()
    assert code == 0, output.out + output.err
    rows = {line.split()[0]: line.split()[1:] for line in output.out.splitlines() if line and not line.startswith((" ", "stack"))}
    assert set(rows) == set(synthesized.stack_names)
    assert all(int(passed) > 0 and failed == "0" for passed, failed, _ in rows.values())
    totals = [sum(int(row[column]) for row in rows.values()) for column in range(3)]
    readme = (ROOT / "README.md").read_text()
    stated = f"scans clean: {totals[0]:,} checks passed, {totals[1]} failed, {totals[2]} skipped at the resource"
    assert stated in readme, f"the README's scan figures are not the scan's: {stated}"
    skips = [line for line in output.out.splitlines() if line.startswith("  skipped")]
    assert skips and all(len(line.split(": ", 1)[1]) >= 10 for line in skips)
    document = json.loads(sarif_file.read_text())
    assert document["runs"][0]["results"] == []
    summary = step_summary.read_text()
    assert "| stack | passed | failed | skipped |" in summary and "Suppressed at the resource, with reasons" in summary
    assert len(project_check_ids()) == 20  # 14 CKV_HADR, 5 CKV_APPLY, 1 CKV2_APPLY


def test_the_rds_engine_scans_clean_too(postgres_synthesized: Synthesized, capsys: pytest.CaptureFixture[str]) -> None:
    """The example with `warm_standby.database.engine: postgres`: no failed check, stale suppression or silent
    project check either (CKV_HADR_2, CKV_HADR_3 and CKV_APPLY_5 read its RDS instances)."""
    from tools.scan import main

    code = main(["--outdir", str(postgres_synthesized.outdir)])
    output = capsys.readouterr()
    assert code == 0, output.out + output.err
    assert "0 failed, 0 errors" in output.err


def test_a_file_checkov_cannot_parse_is_an_error_not_a_clean_scan(tmp_path: Path) -> None:
    outdir = stack_with(tmp_path, "s", [])
    _, errors = apply([{"results": {}, "summary": {"parsing_errors": 1}}], outdir)
    assert errors == ["checkov could not parse 1 file(s): nothing in them was checked (run checkov on the stack for the reason)"]


def test_moved_and_removed_blocks_are_hidden_from_checkov_and_line_numbers_map_back(tmp_path: Path) -> None:
    """GIVEN a stack with moved and removed blocks (which checkov 3.3 cannot parse) WHEN the stacks are scanned
    THEN the bucket is checked, and its failure points at its line in the synthesized file."""
    from tools.scan import run_checkov_on_stacks

    document = {
        "moved": [{"from": "aws_s3_bucket.old", "to": "aws_s3_bucket.logs"}],
        "resource": {"aws_s3_bucket": {"logs": {"bucket": "b"}}},
        "removed": [{"from": "aws_route53_record.gone", "lifecycle": {"destroy": False}}],
    }
    (tmp_path / "stacks" / "s").mkdir(parents=True)
    text = json.dumps(document, indent=2)
    (tmp_path / "stacks" / "s" / "cdk.tf.json").write_text(text)
    results = run_checkov_on_stacks(tmp_path)
    assert all(report.get("summary", {}).get("parsing_errors", 0) == 0 for report in results)
    failed = [check for report in results for check in report["results"]["failed_checks"] if check["check_id"] == "CKV_AWS_18"]
    (check,) = failed
    assert check["file_line_range"][0] == text.splitlines().index('    "aws_s3_bucket": {') + 2  # the "logs" line


def test_a_check_that_raises_fails_the_scan_instead_of_dropping_the_resource(tmp_path: Path) -> None:
    """checkov logs "Failed to run check" and leaves the resource out of every result: the scan must not say clean."""
    from tools.cli import ToolError
    from tools.scan import run_checkov

    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "__init__.py").write_text("")
    (policies / "broken.py").write_text(
        "from checkov.common.models.enums import CheckCategories\n"
        "from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck\n\n\n"
        "class Broken(BaseResourceCheck):\n"
        "    def __init__(self):\n"
        "        super().__init__(name='raises', id='CKV_HADR_99', categories=[CheckCategories.GENERAL_SECURITY],"
        " supported_resources=['aws_sqs_queue'])\n\n"
        "    def scan_resource_conf(self, conf):\n"
        "        return int('{{ Timeout }}')\n\n\n"
        "check = Broken()\n"
    )
    stack = tmp_path / "stacks" / "s"
    stack.mkdir(parents=True)
    (stack / "cdk.tf.json").write_text(json.dumps({"resource": {"aws_sqs_queue": {"q": {"name": "q"}}}}))
    with pytest.raises(ToolError, match=r"checkov could not run 1 check\(s\), so the scan proves nothing about them: CKV_HADR_99 on "):
        run_checkov(tmp_path / "stacks", policies)
