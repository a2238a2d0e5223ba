"""Per-resource checkov suppressions: recorded at the resource, applied by tools.scan, misuse rejected."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from modules.errors import InputError
from tests.conftest import EXAMPLE_CONFIG
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
