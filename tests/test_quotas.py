"""The account's Lambda concurrency, read before a live plan or apply (tools.quotas): what the synthesized stacks
reserve per region, against GetAccountSettings and each function's current reservation. The Lambda answers are
botocore Stubbers (moto does not implement GetAccountSettings): the requests and answers are checked against the
Lambda API model."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from tests.conftest import Synthesized
from tools import quotas
from tools.cli import ToolError

API_FUNCTION, HEALTH_FUNCTION = "hadr-prod-active-active-eu-west-1-api", "hadr-prod-active-active-eu-west-1-api-health"


def stack_files(synthesized: Synthesized) -> list[Any]:
    return [synthesized.outdir / "stacks" / name / "cdk.tf.json" for name in synthesized.stack_names]


def lambda_answering(wanted: dict[str, dict[str, int]], quota: int, unreserved: int, current: dict[str, int]) -> Any:
    """A Lambda client (per region) whose account has `quota` and `unreserved` executions, asked about the functions
    `wanted` lists there, which hold `current` reservations (a function not listed does not exist yet)."""

    def make(region: str) -> Any:
        client = boto3.session.Session().client("lambda", region_name=region, aws_access_key_id="x", aws_secret_access_key="x")  # noqa: S106 - stubbed, never sent
        stubber = Stubber(client)
        limit = {"TotalCodeSize": 1, "CodeSizeUnzipped": 1, "CodeSizeZipped": 1, "ConcurrentExecutions": quota,
                 "UnreservedConcurrentExecutions": unreserved}  # fmt: skip
        stubber.add_response("get_account_settings", {"AccountLimit": limit, "AccountUsage": {"TotalCodeSize": 0, "FunctionCount": 0}})
        for name in wanted[region]:
            if name in current:
                stubber.add_response("get_function_concurrency", {"ReservedConcurrentExecutions": current[name]}, {"FunctionName": name})
            else:
                stubber.add_client_error("get_function_concurrency", "ResourceNotFoundException", expected_params={"FunctionName": name})
        stubber.activate()
        return client

    return make


@pytest.fixture(scope="module")
def wanted(synthesized: Synthesized) -> dict[str, dict[str, int]]:
    return quotas.reservations(stack_files(synthesized))


def test_the_stacks_reservations_are_read_per_region_from_the_synthesized_functions(wanted: dict[str, dict[str, int]]) -> None:
    assert wanted["eu-west-1"][API_FUNCTION] == 50 and wanted["eu-west-1"][HEALTH_FUNCTION] == 5
    assert wanted["eu-central-1"]["hadr-prod-active-active-eu-central-1-api"] == 50
    assert all(region for region in wanted), "every function's provider region is known"


def test_a_default_account_has_room_and_a_new_accounts_quota_is_refused_naming_the_fields(wanted: dict[str, dict[str, int]]) -> None:
    assert quotas.concurrency_problems(wanted, lambda_answering(wanted, 1000, 1000, {})) == []
    problems = quotas.concurrency_problems(wanted, lambda_answering(wanted, 10, 10, {}))
    eu_west = next(problem for problem in problems if problem.startswith("eu-west-1:"))
    assert eu_west == (
        f"eu-west-1: reserving 55 more concurrent executions ({API_FUNCTION}=50, {HEALTH_FUNCTION}=5) would leave -45 unreserved of"
        " the account's 10; Lambda keeps at least 100 (PutFunctionConcurrency refuses less): state lambda_concurrency_quota: 10 and"
        " lower active_active.lambda_function.reserved_concurrency, or ask AWS for an increase (Service Quotas, L-B99A9384)"
    )
    assert len(problems) == len(wanted), "every region with a reservation is refused"


def test_what_a_function_reserves_already_is_not_counted_twice(wanted: dict[str, dict[str, int]]) -> None:
    """A redeploy: the functions hold their reservations already, so an account with exactly 100 unreserved passes."""
    everything = {name: reserved for functions in wanted.values() for name, reserved in functions.items()}
    assert quotas.concurrency_problems(wanted, lambda_answering(wanted, 1000, 100, everything)) == []
    assert quotas.concurrency_problems(wanted, lambda_answering(wanted, 1000, 99, everything)) != []


def test_a_live_plan_stops_before_terraform_when_the_account_cannot_give_the_reservations(
    synthesized: Synthesized, wanted: dict[str, dict[str, int]], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tools import plan

    monkeypatch.setattr(plan, "require_credentials", lambda: None)
    monkeypatch.setattr(boto3, "client", lambda service, region_name: lambda_answering(wanted, 10, 10, {})(region_name))
    monkeypatch.setattr(plan, "plan_all", lambda *a, **k: pytest.fail("Terraform must not start"))
    assert plan.main(["--outdir", str(synthesized.outdir)]) == 1
    assert "[plan] Lambda concurrency: " in capsys.readouterr().err
    with pytest.raises(ToolError, match="state lambda_concurrency_quota: 10"):
        quotas.check_lambda_concurrency(stack_files(synthesized))


def test_the_stacks_once_per_region_services_are_read_from_the_synthesized_stacks(synthesized: Synthesized) -> None:
    wanted = quotas.planned_singletons(stack_files(synthesized))
    regions = ["eu-central-1", "eu-west-1", "us-east-1", "us-west-1"]
    assert sorted(wanted["aws_config_configuration_recorder"]) == regions == sorted(wanted["aws_config_delivery_channel"])
    assert wanted["aws_config_configuration_recorder"]["us-west-1"] == {"hadr-prod-us-west-1"}
    # the multi-region trail counts in every region the stacks use (the state's and the global stacks' too)
    regions = ["eu-central-1", "eu-west-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2"]
    assert wanted["aws_cloudtrail"] == {region: {"hadr-prod-account-trail"} for region in regions}


def test_an_account_an_organization_already_records_is_refused_naming_the_switch(synthesized: Synthesized, fake_aws: None) -> None:
    """Against moto (in-process): another recorder or delivery channel in a region, or five trails already there."""
    from moto import mock_aws

    wanted = quotas.planned_singletons(stack_files(synthesized))
    role = "arn:aws:iam::123456789012:role/config"
    with mock_aws():
        client = lambda service, region: boto3.client(service, region_name=region)  # noqa: E731
        assert quotas.singleton_problems(wanted, client) == [], "an empty account takes everything"
        config = boto3.client("config", region_name="us-east-1")
        config.put_configuration_recorder(ConfigurationRecorder={"name": "hadr-prod-us-east-1", "roleARN": role})
        assert quotas.singleton_problems(wanted, client) == [], "our own recorder, deployed before, is ours"
        boto3.client("config", region_name="us-west-1").put_configuration_recorder(
            ConfigurationRecorder={"name": "org-recorder", "roleARN": role}
        )
        s3 = boto3.client("s3", region_name="eu-west-1")
        s3.create_bucket(Bucket="org-trails", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        trails = boto3.client("cloudtrail", region_name="eu-west-1")
        for index in range(5):
            trails.create_trail(Name=f"org-{index}", S3BucketName="org-trails")
        assert quotas.singleton_problems(wanted, client) == [
            "eu-west-1: 5 trails already record this region (org-0, org-1, org-2, org-3, org-4) and CloudTrail allows 5 per"
            " region: set account_security.cloudtrail: false when one of them is an organization trail, or remove one",
            "us-west-1: the account already has AWS Config recorder 'org-recorder' and AWS Config allows one per region:"
            " set account_security.config_recorder: false when an organization records the account, or remove it",
        ]
        trails.delete_trail(Name="org-4")
        with pytest.raises(ToolError, match=r"^Account services: us-west-1: the account already has AWS Config recorder 'org-recorder'"):
            quotas.check_account_singletons(stack_files(synthesized))


def rds_offering(region: str, *, global_ready: bool, classes: set[str]) -> Any:
    """An RDS client of `region` answering DescribeDBEngineVersions and DescribeOrderableDBInstanceOptions as RDS
    does (botocore's Stubber checks the shapes against the service model; moto 5.2.5 has neither for Aurora)."""
    client = boto3.client("rds", region_name=region, aws_access_key_id="testing", aws_secret_access_key="testing")  # noqa: S106 - fake keys
    stub = Stubber(client)
    version = {"Engine": "aurora-postgresql", "EngineVersion": "16.4", "SupportsGlobalDatabases": global_ready}
    stub.add_response(
        "describe_db_engine_versions", {"DBEngineVersions": [version]}, {"Engine": "aurora-postgresql", "EngineVersion": "16.4"}
    )
    if global_ready:
        wanted = {"Engine": "aurora-postgresql", "EngineVersion": "16.4", "DBInstanceClass": "db.r6g.large"}
        offered = [{"Engine": "aurora-postgresql", "DBInstanceClass": name} for name in classes if name == "db.r6g.large"]
        stub.add_response("describe_orderable_db_instance_options", {"OrderableDBInstanceOptions": offered}, wanted)
    stub.activate()
    return client


def test_a_live_plan_refuses_a_global_database_a_region_does_not_offer(synthesized: Synthesized) -> None:
    """The example's clusters (aurora-postgresql 16.4, db.r6g.large, in us-east-1 and us-west-1), asked of each region."""
    wanted = quotas.planned_global_database(stack_files(synthesized))
    assert wanted == {region: {("aurora-postgresql", "16.4", "db.r6g.large")} for region in ("us-east-1", "us-west-1")}

    def problems(west_ready: bool, west_classes: set[str]) -> list[str]:
        offering = {
            "us-east-1": rds_offering("us-east-1", global_ready=True, classes={"db.r6g.large"}),
            "us-west-1": rds_offering("us-west-1", global_ready=west_ready, classes=west_classes),
        }
        return quotas.global_database_problems(wanted, offering.__getitem__)

    assert problems(True, {"db.r6g.large"}) == []
    assert problems(False, {"db.r6g.large"}) == [
        "us-west-1: aurora-postgresql 16.4 does not support global databases there: choose another engine_version"
    ]
    assert problems(True, {"db.r7g.large"}) == [
        "us-west-1: db.r6g.large is not offered for aurora-postgresql 16.4 there: choose another instance_class"
    ]
