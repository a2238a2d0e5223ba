"""Configuration rules: each bad file gets its exact message, exit code 2, and an untouched output directory."""

from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import pytest
import yaml

from modules.config import COMMERCIAL_REGIONS, load_config, parse_config
from modules.errors import InputError
from tests.conftest import EXAMPLE_CONFIG, ROOT


def tree_digest(path: Path) -> str:
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(str(file.relative_to(path)).encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()


def run_main(*args: str, env: dict[str, str] | None = None, process: bool = False) -> subprocess.CompletedProcess[str]:
    """main.py with `args`: in this process (its `main`, as `python main.py` calls it: a configuration error never
    loads the bindings), or with `process`, as a new process, for what only the process shows (the exit status)."""
    if process:
        return subprocess.run(
            [sys.executable, "main.py", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, **(env or {})},
            check=False,
        )
    import main

    out, err = io.StringIO(), io.StringIO()
    with mock.patch.dict(os.environ, env or {}), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main.main(list(args))
        except SystemExit as exit_:  # argparse
            code = int(exit_.code or 0)
    return subprocess.CompletedProcess(["main.py", *args], code, out.getvalue(), err.getvalue())


@pytest.fixture
def previous_output(tmp_path: Path) -> Path:
    """An output directory holding an earlier synth, which a failed run must leave byte for byte."""
    outdir = tmp_path / "cdktf.out"
    (outdir / "stacks" / "old").mkdir(parents=True)
    (outdir / "manifest.json").write_text('{"version": "earlier"}')
    (outdir / "stacks" / "old" / "cdk.tf.json").write_text('{"resource": {}}')
    return outdir


def edit(data: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    for key in parents:
        data = data[key]
    if value is DELETE:
        del data[last]
    else:
        data[last] = value


DELETE = object()

# (rule, edits applied to the example, the exact line main.py must print)
RULES: list[tuple[str, list[tuple[str, Any]], str]] = [
    (
        "unknown key",
        [("warm_standby.database.storage_type", "gp3")],
        "warm_standby.database.storage_type: got 'gp3'; unknown key; allowed keys here: "
        "engine, engine_version, instance_class, allocated_storage_gb, backup_retention_days, global_rpo_seconds",
    ),
    (
        "misspelled key",
        [("active_active.lambda_function.reserved_concurency", 50)],
        "active_active.lambda_function.reserved_concurency: got 50; unknown key (did you mean reserved_concurrency?); "
        "allowed keys here: memory_mb, timeout_seconds, reserved_concurrency",
    ),
    (
        "unknown top-level key",
        [("regions", ["eu-west-1"])],
        "regions: got ['eu-west-1']; unknown key; allowed keys here: "
        "project, environment, account_id, tags, state, active_active, warm_standby, account_security, budget,"
        " lambda_concurrency_quota, emulator",
    ),
    (
        "region not commercial",
        [("active_active.secondary.region", "us-gov-west-1")],
        "active_active.secondary.region: got 'us-gov-west-1'; expected an AWS commercial region (GovCloud, China and ISO partitions "
        f"are not supported), one of: {', '.join(COMMERCIAL_REGIONS)}",
    ),
    (
        "region typo",
        [("active_active.secondary.region", "eu-centrl-1")],
        "active_active.secondary.region: got 'eu-centrl-1'; expected an AWS commercial region (closest: eu-central-1), one of: "
        f"{', '.join(COMMERCIAL_REGIONS)}",
    ),
    (
        "bucket with a prefix S3 reserves",
        [("state.bucket", "sthree-tfstate")],
        "state.bucket: got 'sthree-tfstate'; expected an S3 bucket name: 3-63 characters of a-z, 0-9, '.' and '-', "
        "starting and ending with a letter or digit, not an IP address, "
        "not starting with xn--, sthree-, amzn-s3-demo- nor ending with -s3alias, --ol-s3, .mrap, --x-s3, --table-s3",
    ),
    (
        "bucket with a suffix S3 reserves",
        [("state.replica_bucket", "tfstate-replica--ol-s3")],
        "state.replica_bucket: got 'tfstate-replica--ol-s3'; expected an S3 bucket name: 3-63 characters of a-z, 0-9, '.' and '-', "
        "starting and ending with a letter or digit, not an IP address, "
        "not starting with xn--, sthree-, amzn-s3-demo- nor ending with -s3alias, --ol-s3, .mrap, --x-s3, --table-s3",
    ),
    (
        "number quoted",
        [("active_active.primary.az_count", "3")],
        "active_active.primary.az_count: got '3'; expected 2 or 3 (YAML read text: write the number without quotes)",
    ),
    (
        "primary equals secondary",
        [("warm_standby.standby.region", "us-east-1")],
        "warm_standby.standby.region: got 'us-east-1'; expected a region other than warm_standby.primary.region (us-east-1)",
    ),
    (
        "failover mode",
        [("warm_standby.failover.mode", "auto")],
        "warm_standby.failover.mode: got 'auto'; expected 'manual' or 'automatic'",
    ),
    (
        "approver not an IAM principal",
        [("warm_standby.failover.approvers", ["arn:aws:iam::123:role/x"])],
        "warm_standby.failover.approvers[0]: got 'arn:aws:iam::123:role/x'; expected an IAM user or role ARN such as "
        "arn:aws:iam::123456789012:role/oncall",
    ),
    (
        "signal duration",
        [("warm_standby.failover.signal_seconds", 90)],
        "warm_standby.failover.signal_seconds: got 90; expected a multiple of 60",
    ),
    (
        "state replica equals state region",
        [("state.replica_region", "us-east-2")],
        "state.replica_region: got 'us-east-2'; expected a region other than state.region (us-east-2)",
    ),
    (
        "CIDR not a network",
        [("active_active.primary.vpc_cidr", "10.1.0.300/16")],
        "active_active.primary.vpc_cidr: got '10.1.0.300/16'; expected an IPv4 network in CIDR notation such as 10.1.0.0/16 "
        "(Octet 300 (> 255) not permitted in '10.1.0.300')",
    ),
    (
        "CIDR larger than /16",
        [("active_active.primary.vpc_cidr", "10.0.0.0/8")],
        "active_active.primary.vpc_cidr: got '10.0.0.0/8'; expected a prefix length from /16 to /24",
    ),
    (
        "CIDR smaller than /24",
        [("warm_standby.standby.vpc_cidr", "10.20.0.0/25")],
        "warm_standby.standby.vpc_cidr: got '10.20.0.0/25'; expected a prefix length from /16 to /24",
    ),
    (
        "CIDR public range",
        [("warm_standby.standby.vpc_cidr", "52.20.0.0/16")],
        "warm_standby.standby.vpc_cidr: got '52.20.0.0/16'; "
        "expected a range inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16 (RFC 1918), or 100.64.0.0/10 (shared address space)",
    ),
    (
        "CIDR loopback (Python calls it private)",
        [("active_active.primary.vpc_cidr", "127.0.0.0/16")],
        "active_active.primary.vpc_cidr: got '127.0.0.0/16'; "
        "expected a range inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16 (RFC 1918), or 100.64.0.0/10 (shared address space)",
    ),
    (
        "CIDR link-local",
        [("active_active.secondary.vpc_cidr", "169.254.0.0/16")],
        "active_active.secondary.vpc_cidr: got '169.254.0.0/16'; "
        "expected a range inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16 (RFC 1918), or 100.64.0.0/10 (shared address space)",
    ),
    (
        "load balancer subnets too small",
        [("warm_standby.standby.vpc_cidr", "10.20.0.0/24")],
        "warm_standby.standby.vpc_cidr: got '10.20.0.0/24'; expected /23 or shorter: its load balancers need /27 subnets"
        " (a sixteenth of the VPC)",
    ),
    (
        "more zones than the region gives an account",
        [("warm_standby.standby.az_count", 3)],
        "warm_standby.standby.az_count: got 3; expected at most 2: us-west-1 gives most accounts 2 zones"
        " (name warm_standby.standby.availability_zones to use more)",
    ),
    (
        "primary tier that serves nothing",
        [("warm_standby.primary.web.min_size", 0), ("warm_standby.standby.web.min_size", 0)],
        "warm_standby.primary.web.min_size: got 0; expected at least 1: the primary serves traffic",
    ),
    (
        "standby starts more instances than the primary",
        [("warm_standby.standby.web.desired_capacity", 4), ("warm_standby.standby.web.max_size", 4)],
        "warm_standby.standby.web.desired_capacity: got 4; expected at most warm_standby.primary.web.desired_capacity (2):"
        " the standby is scaled down",
    ),
    (
        "one domain for both architectures",
        [("warm_standby.domain_name", "api.example.com")],
        "warm_standby.domain_name: got 'api.example.com'; expected a name other than active_active.domain_name:"
        " each architecture owns its records",
    ),
    (
        "PostgreSQL major out of standard support",
        [("warm_standby.database.engine_version", "12.19")],
        "warm_standby.database.engine_version: got '12.19'; expected a PostgreSQL version of a major in RDS standard support:"
        " 14, 15, 16, 17 (such as 16.4)",
    ),
    (
        "instance class RDS for PostgreSQL does not offer",
        [("warm_standby.database.instance_class", "db.c5.large")],
        "warm_standby.database.instance_class: got 'db.c5.large'; expected a class RDS for PostgreSQL offers, db.<family>.<size>"
        " with family one of: t3, t4g, m5, m5d, m6g, m6gd, m6i, m6id, m6in, m6idn, m7g, m7i, m8g, r5, r5b, r5d, r6g, r6gd, r6i,"
        " r6id, r6in, r6idn, r7g, r7i, r8g, x2g, x2iedn",
    ),
    (
        "EC2 instance type that does not exist",
        [("warm_standby.primary.web.instance_type", "t3.gigantic")],
        "warm_standby.primary.web.instance_type: got 't3.gigantic'; expected an EC2 instance type such as t3.small"
        " (botocore's EC2 model lists them)",
    ),
    (
        "more concurrency than an account can reserve",
        [("active_active.lambda_function.reserved_concurrency", 900)],
        "active_active.lambda_function.reserved_concurrency: got 900; expected at most 895: the account has 1000 concurrent"
        " executions per region (lambda_concurrency_quota), keeps 100 unreserved, and the health function reserves 5",
    ),
    (
        "more concurrency than the account's stated quota leaves",
        [("lambda_concurrency_quota", 400), ("active_active.lambda_function.reserved_concurrency", 300)],
        "active_active.lambda_function.reserved_concurrency: got 300; expected at most 295: the account has 400 concurrent"
        " executions per region (lambda_concurrency_quota), keeps 100 unreserved, and the health function reserves 5",
    ),
    (
        "a new account's quota, too small to reserve any concurrency",
        [("lambda_concurrency_quota", 10)],
        "lambda_concurrency_quota: got 10; expected at least 125: the API function needs 20 reserved for the peak, the health"
        " function 5, and Lambda keeps 100 unreserved; ask AWS for an increase (Service Quotas, L-B99A9384)",
    ),
    (
        "RPO longer than RTO",
        [("active_active.resilience_policy.software.rpo_seconds", 6000)],
        "active_active.resilience_policy.software.rpo_seconds: got 6000; expected at most rto_seconds (5400):"
        " more data lost than the outage lasts cannot be meant",
    ),
    (
        "CIDRs overlap across architectures",
        [("warm_standby.primary.vpc_cidr", "10.1.128.0/20")],
        "warm_standby.primary.vpc_cidr: got '10.1.128.0/20'; expected a range that does not overlap "
        "active_active.primary.vpc_cidr (10.1.0.0/16)",
    ),
    (
        "AZ count outside 2..3",
        [("active_active.primary.az_count", 4)],
        "active_active.primary.az_count: got 4; expected 2 or 3",
    ),
    (
        "domain malformed",
        [("active_active.domain_name", "api..example.com")],
        "active_active.domain_name: got 'api..example.com'; expected a lower-case fully qualified domain name such as "
        "api.example.com (labels of a-z, 0-9 and '-', at most 63 characters, no trailing dot)",
    ),
    (
        "RTO zero",
        [("active_active.resilience_policy.region.rto_seconds", 0)],
        "active_active.resilience_policy.region.rto_seconds: got 0; expected a positive whole number of seconds",
    ),
    (
        "RPO not an integer",
        [("warm_standby.resilience_policy.software.rpo_seconds", 1.5)],
        "warm_standby.resilience_policy.software.rpo_seconds: got 1.5; expected a valid integer",
    ),
    (
        "RPO given as text",
        [("active_active.resilience_policy.az.rpo_seconds", "1")],
        "active_active.resilience_policy.az.rpo_seconds: got '1'; expected a valid integer "
        "(YAML read text: write the number without quotes)",
    ),
    (
        "required key missing",
        [("state.lock_table", DELETE)],
        "state.lock_table: got <missing>; this key is required",
    ),
    (
        "standby larger than primary",
        [("warm_standby.standby.app.max_size", 12)],
        "warm_standby.standby.app.max_size: got 12; expected at most warm_standby.primary.app.max_size (6): the standby is scaled down",
    ),
    (
        "account id unquoted",
        [("account_id", 123456789012)],
        "account_id: got 123456789012; expected a valid string "
        '(YAML read a number: quote it, "123456789012", to give text such as an account ID)',
    ),
]


@pytest.mark.parametrize(("rule", "edits", "expected"), RULES, ids=[rule for rule, _, _ in RULES])
def test_bad_config_is_rejected_with_exact_message_exit_2_and_output_untouched(
    rule: str, edits: list[tuple[str, Any]], expected: str, example_data: dict[str, Any], tmp_path: Path, previous_output: Path
) -> None:
    # GIVEN the example with one rule broken, and an earlier synth in the output directory
    data = copy.deepcopy(example_data)
    for dotted, value in edits:
        edit(data, dotted, value)
    config_file = tmp_path / "bad.yaml"
    config_file.write_text(yaml.safe_dump(data))
    before = tree_digest(previous_output)
    # WHEN main.py runs on it
    result = run_main("--config", str(config_file), "--outdir", str(previous_output))
    # THEN it exits 2, prints exactly that problem, and writes nothing
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert f"{config_file}: {expected}" in lines, result.stderr
    assert lines[-1] == "[synth] 1 problem(s) in the configuration; nothing was written"
    assert tree_digest(previous_output) == before
    assert sorted(p.name for p in previous_output.parent.iterdir()) == ["bad.yaml", "cdktf.out"]


def test_every_problem_is_reported_one_line_each(example_data: dict[str, Any]) -> None:
    data = copy.deepcopy(example_data)
    edit(data, "active_active.primary.az_count", 5)
    edit(data, "active_active.alarm_email", "not-an-address")
    edit(data, "state.bucket", "Bad_Bucket")
    with pytest.raises(InputError) as caught:
        parse_config(data, source="x.yaml")
    assert [problem.path for problem in caught.value.problems] == [
        "state.bucket",
        "active_active.alarm_email",
        "active_active.primary.az_count",
    ]
    assert len(str(caught.value).splitlines()) == 3


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            "project: [unclosed\n",
            "<root>: got \"<YAML syntax error at line 2, column 1: while parsing a flow sequence, expected ',' or ']', "
            "but got '<stream end>'>\"; expected valid YAML",
        ),
        ("- just\n- a list\n", "<root>: got ['just', 'a list']; expected a mapping of settings at the top level"),
    ],
    ids=["yaml syntax", "not a mapping"],
)
def test_unreadable_yaml_is_rejected(content: str, expected: str, tmp_path: Path, previous_output: Path) -> None:
    config_file = tmp_path / "bad.yaml"
    config_file.write_text(content)
    before = tree_digest(previous_output)
    result = run_main("--config", str(config_file), "--outdir", str(previous_output))
    assert result.returncode == 2
    assert f"{config_file}: {expected}" in result.stderr.splitlines()
    assert tree_digest(previous_output) == before


def test_a_key_set_twice_is_refused_naming_both_lines(tmp_path: Path, previous_output: Path) -> None:
    """YAML keeps the last of two equal keys silently: a second `failover:` would flip the DR switch unseen."""
    text = EXAMPLE_CONFIG.read_text()
    lines = text.splitlines()
    first, block = next((number, line) for number, line in enumerate(lines, 1) if line.startswith("  failover:") and "seed 001" in line)
    config_file = tmp_path / "twice.yaml"
    config_file.write_text(text.replace(block, f"  failover:\n    mode: automatic\n{block}", 1))
    before = tree_digest(previous_output)
    result = run_main("--config", str(config_file), "--outdir", str(previous_output))
    assert result.returncode == 2
    assert f"{config_file}: warm_standby.failover: got 'failover'; expected each key once: lines {first} and {first + 2} both set it" in (
        result.stderr.splitlines()
    )
    assert tree_digest(previous_output) == before


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ({"owner": "team#1"}, "the value 'team#1' has '#'"),
        ({"cost center!": "1"}, "the key 'cost center!' has '!'"),
        ({"owner": "tab\there"}, "the value 'tab\\there' has '\\t'"),
    ],
    ids=["hash in a value", "bang in a key", "tab in a value"],
)
def test_tags_outside_iams_tag_characters_are_refused(tags: dict[str, str], expected: str, example_data: dict[str, Any]) -> None:
    with pytest.raises(InputError) as caught:
        parse_config({**copy.deepcopy(example_data), "tags": tags}, source="x.yaml")
    (problem,) = caught.value.problems
    assert problem.path == "tags" and "IAM's tag pattern [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+, botocore iam.TagRole" in problem.allowed
    assert problem.allowed.endswith(expected)


def test_tags_of_letters_numbers_spaces_and_the_allowed_signs_pass(example_data: dict[str, Any]) -> None:
    tags = {"Cost Center": "4711", "owner": "platform-team@example.com", "path/key": "a:b=c+d_e.f", "Café": "Zürich 1"}
    assert parse_config({**copy.deepcopy(example_data), "tags": tags}).tags == tags


def test_missing_file_is_rejected(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    result = run_main("--config", str(missing), "--check")
    assert result.returncode == 2
    assert f"{missing}: <root>: got '{missing}'; expected a readable YAML file (No such file or directory)" in result.stderr


def test_config_path_comes_from_env_and_the_flag_wins(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("project: x\n")
    from_env = run_main("--check", env={"HADR_CONFIG": str(broken)}, process=True)
    assert from_env.returncode == 2 and str(broken) in from_env.stderr
    flag_wins = run_main("--check", "--config", str(EXAMPLE_CONFIG), env={"HADR_CONFIG": str(broken)})
    assert flag_wins.returncode == 0, flag_wins.stderr
    assert "is valid: hadr-prod" in flag_wins.stderr


def test_bad_cli_flag_exits_2() -> None:
    result = run_main("--no-such-flag", process=True)
    assert result.returncode == 2
    assert "unrecognized arguments: --no-such-flag" in result.stderr


def test_example_reproduces_the_seeds() -> None:
    cfg = load_config(EXAMPLE_CONFIG)
    aa, ws = cfg.active_active, cfg.warm_standby
    assert aa is not None and ws is not None
    assert [(r.region, r.vpc_cidr, r.az_count) for r in aa.regions] == [("eu-west-1", "10.1.0.0/16", 3), ("eu-central-1", "10.5.0.0/16", 3)]
    policy = aa.resilience_policy
    assert policy.tier == "MissionCritical"
    assert (policy.region.rto_seconds, policy.region.rpo_seconds) == (3600, 5)
    assert (policy.az.rto_seconds, policy.az.rpo_seconds) == (1, 1)
    assert (policy.hardware.rto_seconds, policy.hardware.rpo_seconds) == (1, 1)
    assert (policy.software.rto_seconds, policy.software.rpo_seconds) == (5400, 300)
    assert (ws.primary.region, ws.standby.region) == ("us-east-1", "us-west-1")
    assert ws.standby.web.desired_capacity < ws.primary.web.desired_capacity


def test_state_failover_switches_bucket_and_region(example_data: dict[str, Any]) -> None:
    data = copy.deepcopy(example_data)
    assert (parse_config(data).state.active_bucket, parse_config(data).state.active_region) == (
        "hadr-prod-tfstate-123456789012",
        "us-east-2",
    )
    edit(data, "state.failover", True)
    state = parse_config(data).state
    assert (state.active_bucket, state.active_region) == ("hadr-prod-tfstate-123456789012-replica", "us-west-2")


def test_disabling_both_architectures_is_rejected(example_data: dict[str, Any]) -> None:
    data = copy.deepcopy(example_data)
    edit(data, "active_active.enabled", False)
    edit(data, "warm_standby.enabled", False)
    with pytest.raises(InputError, match="expected at least one architecture"):
        parse_config(data)


def test_disabled_architecture_is_not_synthesized(example_data: dict[str, Any]) -> None:
    data = copy.deepcopy(example_data)
    edit(data, "warm_standby.enabled", False)
    edit(data, "warm_standby.primary.vpc_cidr", "10.1.0.0/16")  # would overlap, but it is not deployed
    assert [key for key, _ in parse_config(data).enabled_architectures()] == ["active_active"]


EditFn = Callable[[dict[str, Any]], None]


def test_limits_lift_where_the_user_says_so(example_data: dict[str, Any]) -> None:
    """Named zones lift the per-account AZ count; the shared address space is a range AWS accepts for a VPC."""
    from modules.config import ACCOUNT_AZ_COUNT

    data = copy.deepcopy(example_data)
    edit(data, "warm_standby.standby.az_count", 3)
    edit(data, "warm_standby.standby.availability_zones", ["us-west-1a", "us-west-1b", "us-west-1c"])
    edit(data, "active_active.secondary.vpc_cidr", "100.64.0.0/16")
    config = parse_config(data)
    assert config.warm_standby.standby.az_count == 3 and config.active_active.secondary.vpc_cidr == "100.64.0.0/16"
    # Every region the pinned botocore knows in the aws partition is a region the configuration accepts, with a count.
    known = set(boto3.session.Session().get_available_regions("ec2"))
    assert "eu-west-1" in known and known <= set(COMMERCIAL_REGIONS) and known <= set(ACCOUNT_AZ_COUNT)
    edit(data, "warm_standby.primary.az_count", 3)  # three zones in us-east-1 without naming them: every account has them
    assert parse_config(data).warm_standby.primary.az_count == 3


def test_a_real_plan_fails_when_the_region_has_fewer_zones_than_asked(synthesized: Any) -> None:
    """element() wraps around, so too few zones would put two subnets in one zone: the lookup's postcondition fails the
    plan instead."""
    for name in ("active-active-eu-west-1", "warm-standby-us-west-1"):
        (lookup,) = synthesized.stacks[name]["data"]["aws_availability_zones"].values()
        (check,) = lookup["lifecycle"]["postcondition"]
        count = 3 if name.startswith("active") else 2
        assert check["condition"] == f"${{length(self.names) >= {count}}}"
        assert f"fewer than az_count ({count}) zones" in check["error_message"]


@pytest.mark.parametrize(
    ("app_max", "fits"),
    [(24, True), (25, False), (30, False)],
)
def test_the_standby_subnets_must_hold_the_failover_size(app_max: int, fits: bool, example_data: dict[str, Any]) -> None:
    """A /23 VPC cuts /27 app subnets: 32 addresses, 5 reserved by AWS, 8 kept free for the internal load balancer,
    7 for the interface endpoints: 12 instances a zone, 24 over the standby's 2 zones. The failover scales the
    standby's app tier to the primary's max_size."""
    data = copy.deepcopy(example_data)
    edit(data, "warm_standby.standby.vpc_cidr", "10.20.0.0/23")
    edit(data, "warm_standby.primary.app.max_size", app_max)
    if fits:
        assert parse_config(data).warm_standby.primary.app.max_size == app_max
        return
    with pytest.raises(InputError) as caught:
        parse_config(data, source="x.yaml")
    (problem,) = caught.value.problems
    assert (problem.path, problem.value) == ("warm_standby.standby.vpc_cidr", "10.20.0.0/23")
    assert problem.allowed == (
        f"expected app subnets with room for warm_standby.primary.app.max_size ({app_max}) over 2 zones: 32 addresses each,"
        " 20 taken by AWS, the load balancer and endpoints, leave 12"
    )
