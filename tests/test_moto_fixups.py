"""The moto fix-ups that cannot retire themselves (tools.moto_server) are asked of the pinned moto: each test runs a
probe in a new interpreter, once as moto is and once with the fix-ups, so a moto upgrade that does the thing itself
fails here, and the fix-up can go.

What the resource fix-up leaves of the least-privilege proof: moto names the requested resource only for IAM, STS
AssumeRole, SQS and S3. For every other service it authorizes with the resource "*", which no ARN-scoped statement
matches, so the fix-up lets "*" match any Allow statement's Resource, and a Deny's only when the Deny covers every
resource ("*"). IAM-enforced tests therefore prove, for those services, which actions a role may call and that
denies of everything hold, but not that a statement's Resource or Condition is narrow enough, nor a Deny scoped to
an ARN: that part rests on the tests that read the synthesized policies, and for the decision's start of the plan
on tools.moto_server's policy evaluator with real ARNs and conditions (tests/test_failover_handler.py).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

PROBE = """
import json
import boto3
from moto import mock_aws
from moto.core import set_initial_no_auth_action_count

def outcome(call):
    try:
        call(); return "allowed"
    except Exception as error:
        text = str(error)
        return "denied" if "AccessDenied" in text or "not authorized" in text else f"{type(error).__name__}: {text[:120]}"

with mock_aws():
    iam = boto3.client("iam", region_name="us-east-1")
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    table = dynamodb.create_table(TableName="t", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")["TableDescription"]["TableArn"]
    user = iam.create_user(UserName="u")["User"]
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "dynamodb:DescribeTable", "Resource": table},
        {"Effect": "Allow", "Action": "cloudwatch:PutMetricData", "Resource": "*"},
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}
    iam.put_user_policy(UserName="u", PolicyName="p", PolicyDocument=json.dumps(policy))
    keys = iam.create_access_key(UserName="u")["AccessKey"]
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"},
        {"Effect": "Allow", "Principal": {"AWS": user["Arn"]}, "Action": "sts:AssumeRole"}]}
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    creds = {"aws_access_key_id": keys["AccessKeyId"], "aws_secret_access_key": keys["SecretAccessKey"]}

    def denied_on(resource):  # a user allowed the table, and denied DescribeTable on `resource`
        name = f"deny-{len(iam.list_users()['Users'])}"
        iam.create_user(UserName=name)
        deny = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "dynamodb:DescribeTable", "Resource": table},
            {"Effect": "Deny", "Action": "dynamodb:DescribeTable", "Resource": resource}]}
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(deny))
        made = iam.create_access_key(UserName=name)["AccessKey"]
        return {"aws_access_key_id": made["AccessKeyId"], "aws_secret_access_key": made["SecretAccessKey"]}

    other_table, every_table = denied_on(table.replace(":table/t", ":table/other")), denied_on("*")

    @set_initial_no_auth_action_count(0)
    def enforced():
        found = {}
        client = boto3.client("dynamodb", region_name="us-east-1", **creds)
        found["ARN-scoped statement"] = outcome(lambda: client.describe_table(TableName="t"))
        found["cloudwatch: prefix"] = outcome(lambda: boto3.client("cloudwatch", region_name="us-east-1", **creds).put_metric_data(
            Namespace="n", MetricData=[{"MetricName": "m", "Value": 1}]))
        found["trust with a service statement"] = outcome(lambda: boto3.client("sts", region_name="us-east-1", **creds).assume_role(
            RoleArn=role["Arn"], RoleSessionName="probe"))
        for case, keys_of in (("a Deny of another table", other_table), ("a Deny of every resource", every_table)):
            found[case] = outcome(lambda: boto3.client("dynamodb", region_name="us-east-1", **keys_of).describe_table(TableName="t"))
        return found
    print(json.dumps(enforced()))
"""
WITH_FIXUPS = "from tools import moto_server\nmoto_server.apply()\n"


def outcomes(prelude: str = "") -> dict[str, str]:
    probe = subprocess.run([sys.executable, "-c", prelude + PROBE], capture_output=True, text=True, timeout=120, check=True)
    return json.loads(probe.stdout)


@pytest.mark.parametrize(
    ("case", "as_moto_is"),
    [
        ("ARN-scoped statement", "denied"),
        ("cloudwatch: prefix", "denied"),
        ("trust with a service statement", "TypeError: argument of type 'NoneType' is not iterable"),
    ],
)
def test_each_fix_up_is_still_needed_and_does_its_job(case: str, as_moto_is: str, moto_outcomes: dict[str, dict[str, str]]) -> None:
    assert moto_outcomes["as moto is"][case] == as_moto_is, "moto does this itself now: remove the fix-up"
    assert moto_outcomes["with the fix-ups"][case] == "allowed"


def test_an_unnamed_resource_matches_an_allow_and_a_deny_of_everything_but_not_a_deny_scoped_to_another_arn(
    moto_outcomes: dict[str, dict[str, str]],
) -> None:
    """Narrowed: "*" (moto could not name the resource) matches any Allow's Resource, so actions are enforced, but a
    Deny only when the Deny itself covers every resource. A Deny of another table no longer refuses this one."""
    fixed = moto_outcomes["with the fix-ups"]
    assert (fixed["a Deny of another table"], fixed["a Deny of every resource"]) == ("allowed", "denied")


@pytest.fixture(scope="module")
def moto_outcomes() -> dict[str, dict[str, str]]:
    return {"as moto is": outcomes(), "with the fix-ups": outcomes(WITH_FIXUPS)}


def test_the_simulation_evaluates_conditions_denies_and_wildcards_as_iam_does() -> None:
    from tools.moto_server import decision

    key = "arn:aws:kms:us-east-1:123456789012:key/k"
    via_ssm = {
        "Effect": "Allow",
        "Action": "kms:Encrypt",
        "Resource": "arn:aws:kms:us-east-1:123456789012:key/*",
        "Condition": {"StringEquals": {"kms:ViaService": ["ssm.us-east-1.amazonaws.com"]}},
    }
    policies = [{"Statement": [via_ssm]}]
    assert decision(policies, "KMS:encrypt", key, {"kms:viaservice": "ssm.us-east-1.amazonaws.com"}) == "allowed"
    assert decision(policies, "kms:Encrypt", key, {"kms:viaservice": "rds.us-east-1.amazonaws.com"}) == "implicitDeny"
    assert decision(policies, "kms:Encrypt", key, {}) == "implicitDeny"  # the key is absent: StringEquals fails
    assert (
        decision(policies, "kms:Encrypt", "arn:aws:kms:us-west-1:123456789012:key/k", {"kms:viaservice": "ssm.us-east-1.amazonaws.com"})
        == "implicitDeny"
    )
    if_exists = {**via_ssm, "Condition": {"StringEqualsIfExists": via_ssm["Condition"]["StringEquals"]}}
    assert decision([{"Statement": if_exists}], "kms:Encrypt", key, {}) == "allowed"
    deny = {"Effect": "Deny", "Action": "kms:*", "Resource": "*"}
    assert (
        decision([*policies, {"Statement": [deny]}], "kms:Encrypt", key, {"kms:viaservice": "ssm.us-east-1.amazonaws.com"})
        == "explicitDeny"
    )
    brackets = {"Effect": "Allow", "Action": "s3:Get?bject", "Resource": "arn:aws:s3:::[b]"}  # ? is a wildcard, [ is not
    assert decision([{"Statement": [brackets]}], "s3:GetObject", "arn:aws:s3:::b", {}) == "implicitDeny"
    assert decision([{"Statement": [brackets]}], "s3:GetObject", "arn:aws:s3:::[b]", {}) == "allowed"
    with pytest.raises(NotImplementedError, match="NumericLessThan"):
        decision([{"Statement": [{**via_ssm, "Condition": {"NumericLessThan": {"aws:x": "1"}}}]}], "kms:Encrypt", key, {"aws:x": "0"})


GLOBAL_CLUSTER_PROBE = """
import boto3
from moto import mock_aws

with mock_aws():
    east, west = (boto3.client("rds", region_name=region) for region in ("us-east-1", "us-west-1"))
    east.create_global_cluster(GlobalClusterIdentifier="g", Engine="aurora-postgresql", EngineVersion="16.4")
    east.create_db_cluster(DBClusterIdentifier="p", Engine="aurora-postgresql", GlobalClusterIdentifier="g",
                           MasterUsername="u", MasterUserPassword="x" * 20)
    west.create_db_cluster(DBClusterIdentifier="s", Engine="aurora-postgresql", GlobalClusterIdentifier="g")
    west.delete_db_cluster(DBClusterIdentifier="s", SkipFinalSnapshot=True)
    east.delete_db_cluster(DBClusterIdentifier="p", SkipFinalSnapshot=True)
    try:
        east.delete_global_cluster(GlobalClusterIdentifier="g")
        print("deleted")
    except Exception as error:
        print(type(error).__name__)
"""


@pytest.mark.parametrize(("prelude", "outcome"), [("", "InvalidGlobalClusterStateFault"), (WITH_FIXUPS, "deleted")])
def test_a_secondary_cluster_deleted_in_its_region_leaves_the_global_database(prelude: str, outcome: str) -> None:
    """As moto is, a secondary deleted in its own region stays a member, so the global cluster can never be deleted
    (what a destroy of the warm standby does); with the fix-up it leaves, as in AWS."""
    probe = subprocess.run([sys.executable, "-c", prelude + GLOBAL_CLUSTER_PROBE], capture_output=True, text=True, timeout=120, check=True)
    assert probe.stdout.strip() == outcome
