"""The local pipeline's parts: IAM enforcement, recovery from a retried create or lock request, and drift
classification. The deploy, drill and destroy themselves run once, in tests/test_emulator_deployment.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools import local
from tools.emulator import Emulator


def test_iam_enforcement_switches_on_and_off(tmp_path: Path) -> None:
    """With enforcement on, the fake credentials that deploy everything are refused; off again, they work."""
    from botocore.exceptions import ClientError

    with Emulator(log_file=tmp_path / "moto.log") as emulator:
        emulator.enforce_iam(True)
        with pytest.raises(ClientError, match="InvalidAccessKeyId"):
            emulator.client("s3", "us-east-1").list_buckets()
        emulator.enforce_iam(False)
        assert emulator.client("s3", "us-east-1").list_buckets()["Buckets"] == []


@pytest.mark.slow
@pytest.mark.terraform
def test_a_create_the_emulator_completed_before_the_provider_retried_is_imported_not_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a loaded machine the provider's client can give up on a create that moto then completes; the retry
    finds the name taken (WAFDuplicateItemException). deploy-local imports that resource and applies again."""
    from tools.terraform import terraform_env

    monkeypatch.setattr(local, "LOCAL_OUTDIR", tmp_path / "out")
    visibility = {"cloudwatch_metrics_enabled": False, "metric_name": "acl", "sampled_requests_enabled": False}
    with Emulator(log_file=tmp_path / "moto.log") as emulator:
        stack = {
            "terraform": {
                "backend": {"local": {"path": str(tmp_path / "acl.tfstate")}},
                "required_providers": {"aws": {"source": "hashicorp/aws", "version": "5.100.0"}},
            },
            "provider": {
                "aws": [
                    {
                        "region": "eu-west-1",
                        "endpoints": [{"wafv2": emulator.endpoint, "sts": emulator.endpoint}],
                        "skip_credentials_validation": True,
                        "skip_requesting_account_id": True,
                        "skip_metadata_api_check": "true",
                        "max_retries": 2,
                    }
                ]
            },
            "resource": {
                "aws_wafv2_web_acl": {
                    "acl": {"name": "retried-acl", "scope": "REGIONAL", "default_action": {"allow": {}}, "visibility_config": visibility}
                }
            },
        }
        stack_dir = tmp_path / "out" / "stacks" / "waf"
        stack_dir.mkdir(parents=True)
        (stack_dir / "cdk.tf.json").write_text(json.dumps(stack))
        wafv2 = emulator.client("wafv2", "eu-west-1")
        created = wafv2.create_web_acl(
            Name="retried-acl",
            Scope="REGIONAL",
            DefaultAction={"Allow": {}},
            VisibilityConfig={"CloudWatchMetricsEnabled": False, "MetricName": "acl", "SampledRequestsEnabled": False},
        )["Summary"]
        result = local.plan_and_apply(stack_dir, {**terraform_env(), **emulator.environment()}, emulator)
        assert result.ok, result.output[-3000:]
        assert result.summary == "0 added, 0 changed, 0 destroyed (after importing 1 resource(s) created by a retried call)"
        assert [acl["Id"] for acl in wafv2.list_web_acls(Scope="REGIONAL")["WebACLs"]] == [created["Id"]]
        state = json.loads((tmp_path / "acl.tfstate").read_text())
        assert state["resources"][0]["instances"][0]["attributes"]["id"] == created["Id"]
        assert local.adopt_duplicates(emulator, stack_dir, "Error: something else\n\n  with aws_wafv2_web_acl.acl,\n", {}) == []


@pytest.mark.slow
@pytest.mark.terraform
def test_a_security_group_rule_the_emulator_created_before_the_retry_is_imported_not_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same for a rule: the retried AuthorizeSecurityGroupEgress finds it there (InvalidPermission.Duplicate), as
    a CI run of the shared deployment did; the rule is found by its group, direction, description and ports."""
    from tools.terraform import terraform_env

    monkeypatch.setattr(local, "LOCAL_OUTDIR", tmp_path / "out")
    with Emulator(log_file=tmp_path / "moto.log") as emulator:
        ec2 = emulator.client("ec2", "eu-west-1")
        vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
        group = {"name": "retried-group", "description": "retried", "vpc_id": vpc}
        rule = {
            "security_group_id": "${aws_security_group.group.id}",
            "description": "HTTPS to the endpoints",
            "ip_protocol": "tcp",
            "from_port": 443,
            "to_port": 443,
            "cidr_ipv4": "10.9.0.0/16",
        }
        stack_dir = tmp_path / "out" / "stacks" / "rules"
        stack_dir.mkdir(parents=True)
        env = {**terraform_env(), **emulator.environment()}

        def write(resources: dict) -> None:
            provider = {
                "region": "eu-west-1",
                "endpoints": [{"ec2": emulator.endpoint, "sts": emulator.endpoint}],
                "skip_credentials_validation": True,
                "skip_requesting_account_id": True,
                "skip_metadata_api_check": "true",
                "max_retries": 2,
            }
            backend = {"local": {"path": str(tmp_path / "rules.tfstate")}}
            required = {"aws": {"source": "hashicorp/aws", "version": "5.100.0"}}
            stack = {"terraform": {"backend": backend, "required_providers": required}, "provider": {"aws": [provider]}}
            (stack_dir / "cdk.tf.json").write_text(json.dumps({**stack, "resource": resources}))

        write({"aws_security_group": {"group": group}})
        assert local.plan_and_apply(stack_dir, env, emulator).ok
        (group_id,) = [g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"] if g["GroupName"] == "retried-group"]
        permission = {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443}
        ip_range = {"CidrIp": "10.9.0.0/16", "Description": "HTTPS to the endpoints"}
        ec2.authorize_security_group_egress(GroupId=group_id, IpPermissions=[{**permission, "IpRanges": [ip_range]}])
        write({"aws_security_group": {"group": group}, "aws_vpc_security_group_egress_rule": {"https": rule}})
        result = local.plan_and_apply(stack_dir, env, emulator)
        assert result.ok, result.output[-3000:]
        assert result.summary.endswith("(after importing 1 resource(s) created by a retried call)"), result.summary
        rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [group_id]}])["SecurityGroupRules"]
        assert [(r["IsEgress"], r.get("Description")) for r in rules if r.get("CidrIpv4") == "10.9.0.0/16"] == [
            (True, "HTTPS to the endpoints")
        ]


def test_drift_is_known_only_when_the_emulator_explains_every_cause() -> None:
    def change(address: str, before: dict, after: dict, unknown: dict | None = None, actions: tuple = ("update",)) -> dict:
        body = {"actions": list(actions), "before": before, "after": after, "after_unknown": unknown or {}}
        return {"address": address, "type": address.split(".", maxsplit=1)[0], "mode": "managed", "change": body}

    described = change("aws_vpc_security_group_egress_rule.out", {"description": None}, {"description": "HTTPS out"})
    certificate = change(
        "aws_acm_certificate.c",
        {"key_algorithm": "RSA_2048", "early_renewal_duration": ""},
        {"key_algorithm": "EC_prime256v1", "early_renewal_duration": None},
        actions=("delete", "create"),
    )
    certificate["change"]["replace_paths"] = [["key_algorithm"]]  # what forces it; the rest is recreated with it
    follower = change("aws_lb_listener.l", {"certificate_arn": "arn:old", "port": 443}, {"port": 443}, {"certificate_arn": True})
    tagged = change("aws_s3_bucket.b", {"tags": {}}, {"tags": {"owner": "me"}})
    known = local.classify_drift("s", [described, certificate, follower])
    assert [(d.address, d.causes, d.known) for d in known] == [
        ("aws_vpc_security_group_egress_rule.out", ("description",), True),
        ("aws_acm_certificate.c", ("key_algorithm",), True),
        ("aws_lb_listener.l", (), True),
    ]
    mixed = local.classify_drift("s", [tagged, follower])
    assert [(d.address, d.known) for d in mixed] == [("aws_s3_bucket.b", False), ("aws_lb_listener.l", False)]
    assert [d.known for d in local.classify_drift("s", [follower])] == [False], "a change with no cause anywhere is not explained"
    assert local.known_drift("aws_cloudfront_distribution", "ordered_cache_behavior[1].forwarded_values[0].headers")
    assert not local.known_drift("aws_cloudfront_distribution", "ordered_cache_behavior[1].target_origin_id")


@pytest.mark.terraform
def test_a_state_lock_left_by_a_retried_lock_request_is_released_and_the_stack_applied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under load a lock request can be retried after the emulator took it; the retry then finds the lock taken
    (ConditionalCheckFailedException) and the plan fails. deploy-local releases that lock and plans again."""
    from tools.terraform import terraform_env

    monkeypatch.setattr(local, "LOCAL_OUTDIR", tmp_path / "out")
    with Emulator(log_file=tmp_path / "moto.log") as emulator:
        emulator.client("s3", "us-east-2").create_bucket(Bucket="state", CreateBucketConfiguration={"LocationConstraint": "us-east-2"})
        dynamodb = emulator.client("dynamodb", "us-east-2")
        dynamodb.create_table(
            TableName="locks",
            KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        info = {"ID": "5d0c8f4e-0000-4000-8000-000000000001", "Operation": "OperationTypePlan", "Who": "root@vm", "Version": "1.11.4",
                "Created": "2026-11-23T18:47:25Z", "Path": "state/app.tfstate", "Info": ""}  # fmt: skip
        dynamodb.put_item(TableName="locks", Item={"LockID": {"S": "state/app.tfstate"}, "Info": {"S": json.dumps(info)}})
        endpoints = {"s3": emulator.endpoint, "dynamodb": emulator.endpoint, "sts": emulator.endpoint, "iam": emulator.endpoint}
        stack = {
            "terraform": {
                "backend": {
                    "s3": {
                        "bucket": "state",
                        "key": "app.tfstate",
                        "region": "us-east-2",
                        "dynamodb_table": "locks",
                        "endpoints": endpoints,
                        "use_path_style": True,
                        "skip_credentials_validation": True,
                        "skip_metadata_api_check": True,
                    }
                }
            },
            "resource": {"terraform_data": {"release": {"input": "v1"}}},
        }
        stack_dir = tmp_path / "out" / "stacks" / "app"
        stack_dir.mkdir(parents=True)
        (stack_dir / "cdk.tf.json").write_text(json.dumps(stack))
        result = local.plan_and_apply(stack_dir, {**terraform_env(), **emulator.environment()}, emulator)
        assert result.ok, result.output[-3000:]
        assert result.summary == "1 added, 0 changed, 0 destroyed (after releasing a state lock left by a retried lock request)"
        assert "Item" not in dynamodb.get_item(TableName="locks", Key={"LockID": {"S": "state/app.tfstate"}})


def test_destroy_disables_distributions_first_as_the_provider_would(fake_aws: None) -> None:
    """The provider's delete disables a distribution and then waits a fixed minute; disabled beforehand, it does not."""
    import boto3
    from moto import mock_aws

    origin = {
        "Id": "o",
        "DomainName": "o.example.com",
        "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only"},
    }
    behavior = {"TargetOriginId": "o", "ViewerProtocolPolicy": "https-only", "CachePolicyId": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"}
    with mock_aws():
        cloudfront = boto3.client("cloudfront", region_name="us-east-1")
        config = {"CallerReference": "r", "Comment": "c", "Enabled": True, "Origins": {"Quantity": 1, "Items": [origin]}}
        created = cloudfront.create_distribution(DistributionConfig={**config, "DefaultCacheBehavior": behavior})["Distribution"]
        assert local.disable_distributions(cloudfront) == [created["Id"]]
        assert cloudfront.get_distribution_config(Id=created["Id"])["DistributionConfig"]["Enabled"] is False
        assert local.disable_distributions(cloudfront) == [], "a disabled one is left as it is"
