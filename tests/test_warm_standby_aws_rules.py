"""AWS rules the emulator does not enforce, checked on the synthesized warm standby (issue: deploys and works on
real AWS). Each test names the AWS page that states the rule."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import Synthesized

PRIMARY, STANDBY, STORAGE = "warm-standby-us-east-1", "warm-standby-us-west-1", "warm-standby-storage"
SECRET_NAME = "hadr-prod/warm-standby/db-master"  # noqa: S105 - a secret's name


def ref(kind: str, body: dict[str, Any], attribute: str) -> str:
    return f"${{{kind}.{body['//']['metadata']['uniqueId']}.{attribute}}}"


def statements_of(policy: str) -> dict[str, dict[str, Any]]:
    return {statement["Sid"]: statement for statement in json.loads(policy)["Statement"]}


def test_the_global_databases_primary_does_not_let_rds_manage_its_password(synthesized: Synthesized) -> None:
    """RDS-managed master passwords are not offered for the clusters of an Aurora global database:
    https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/rds-secrets-manager.html"""
    (primary,) = synthesized.resources(PRIMARY, "aws_rds_cluster").values()
    assert "manage_master_user_password" not in primary and "master_password" not in primary
    assert primary["master_password_wo_version"] == 1
    assert primary["master_password_wo"].startswith("${jsondecode(ephemeral.aws_secretsmanager_secret_version.")
    (reader,) = synthesized.stacks[PRIMARY]["ephemeral"]["aws_secretsmanager_secret_version"].values()
    assert reader["secret_id"] == SECRET_NAME


def test_the_replica_source_does_not_let_rds_manage_its_password(postgres_synthesized: Synthesized) -> None:
    """RDS refuses a read replica of a source whose master password RDS manages in Secrets Manager (all engines but
    SQL Server): https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html#rds-secrets-manager-limitations
    """
    synthesized = postgres_synthesized
    (primary,) = synthesized.resources(PRIMARY, "aws_db_instance").values()
    assert "manage_master_user_password" not in primary and "password" not in primary
    assert primary["password_wo_version"] == 1
    assert primary["password_wo"].startswith("${jsondecode(ephemeral.aws_secretsmanager_secret_version.")
    ephemeral = synthesized.stacks[PRIMARY]["ephemeral"]["aws_secretsmanager_secret_version"]
    (reader,) = ephemeral.values()
    assert reader["secret_id"] == SECRET_NAME


def test_the_master_secret_is_ours_encrypted_and_replicated_to_the_standby(synthesized: Synthesized) -> None:
    """The stack keeps the password in a secret it creates, replicated to the standby region with Secrets Manager's
    own replication (https://docs.aws.amazon.com/secretsmanager/latest/userguide/replicate-secrets.html)."""
    (secret,) = synthesized.resources(STORAGE, "aws_secretsmanager_secret").values()
    assert secret["name"] == SECRET_NAME
    assert secret["kms_key_id"].startswith("${aws_kms_key.")
    (replica,) = secret["replica"]
    assert replica["region"] == "us-west-1" and replica["kms_key_id"].startswith("${aws_kms_key.")
    (version,) = synthesized.resources(STORAGE, "aws_secretsmanager_secret_version").values()
    assert version["secret_string_wo_version"] == 1 and "secret_string" not in version
    assert "ephemeral.aws_secretsmanager_random_password." in version["secret_string_wo"]
    (password,) = synthesized.stacks[STORAGE]["ephemeral"]["aws_secretsmanager_random_password"].values()
    assert password["password_length"] >= 32 and password["exclude_characters"] == "/@\" '\\"


def test_the_master_password_rotates_through_the_rds_api(synthesized: Synthesized) -> None:
    (rotation,) = synthesized.resources(PRIMARY, "aws_secretsmanager_secret_rotation").values()
    assert rotation["secret_id"] == SECRET_NAME
    assert rotation["rotation_rules"] == {"automatically_after_days": 30}
    assert synthesized.resources(STANDBY, "aws_secretsmanager_secret_rotation") == {}, "a replica secret cannot rotate"
    for stack in (PRIMARY, STANDBY):
        functions = {body["function_name"]: body for body in synthesized.resources(stack, "aws_lambda_function").values()}
        rotate = functions[f"hadr-prod-{stack}-rotate-db"]
        assert rotate["timeout"] <= 900
        (permission,) = [
            p for p in synthesized.resources(stack, "aws_lambda_permission").values() if p["principal"] == "secretsmanager.amazonaws.com"
        ]
        assert permission["function_name"] == ref("aws_lambda_function", rotate, "function_name")


def test_auto_scaling_may_use_the_key_that_encrypts_its_volumes(synthesized: Synthesized) -> None:
    """EC2 Auto Scaling launches with a customer managed key only if its service-linked role may use the key and create
    grants for AWS resources: https://docs.aws.amazon.com/autoscaling/ec2/userguide/key-policy-requirements-EBS-encryption.html
    """
    for stack in (PRIMARY, STANDBY):
        (role,) = synthesized.resources(stack, "aws_iam_service_linked_role").values()
        assert role["aws_service_name"] == "autoscaling.amazonaws.com" and role["custom_suffix"].startswith("hadr-prod")
        role_arn = ref("aws_iam_service_linked_role", role, "arn")
        for group in synthesized.resources(stack, "aws_autoscaling_group").values():
            assert group["service_linked_role_arn"] == role_arn
        volume_keys = {
            mapping["ebs"]["kms_key_id"]
            for template in synthesized.resources(stack, "aws_launch_template").values()
            for mapping in template["block_device_mappings"]
        }
        (volume_key,) = volume_keys
        key = next(body for body in synthesized.resources(stack, "aws_kms_key").values() if ref("aws_kms_key", body, "arn") == volume_key)
        statements = statements_of(key["policy"])
        use, grant = statements["AutoScalingUsesTheKeyForVolumes"], statements["AutoScalingAttachesVolumes"]
        assert use["Principal"] == {"AWS": [role_arn]} and grant["Principal"] == {"AWS": [role_arn]}
        assert sorted(use["Action"]) == sorted(["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"])
        assert grant["Action"] == ["kms:CreateGrant"] and grant["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": True}}


def test_the_recovery_plan_stays_inside_ssm_automation_limits(synthesized: Synthesized) -> None:
    """An aws:executeScript step runs for at most 600 s
    (https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-action-executeScript.html) and an
    aws:loop at most 100 iterations (https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-action-loop.html):
    every wait of both documents is a bounded loop, no script waits by itself."""
    for key in ("switch", "rebuild"):
        document = json.loads(synthesized.one(STANDBY, "aws_ssm_document", f"recovery-plan/{key}")["content"])
        for step in document["mainSteps"]:
            for inner in [step, *step.get("inputs", {}).get("Steps", [])]:
                if inner["action"] == "aws:executeScript":
                    assert 1 <= inner["timeoutSeconds"] <= 600, inner["name"]
                    assert "time.sleep" not in inner["inputs"]["Script"], inner["name"]
            if step["action"] == "aws:loop":
                assert 1 <= step["inputs"]["MaxIterations"] <= 100, step["name"]


def test_every_automation_document_leaves_room_under_ssms_64_kb(synthesized: Synthesized) -> None:
    """A document's content, with the parameters given at run time, may not exceed 64 KB
    (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_CreateDocument.html): the construct
    refuses a document that leaves less than 4 KB (test_an_oversized_document_is_refused_naming_its_size), and the
    embedded scripts are compacted to stay well inside: every document keeps a quarter of the quota free."""
    quota = 64 * 1024
    sizes = {
        f"{stack}/{body['name']}": len(body["content"].encode())
        for stack in synthesized.stacks
        for body in synthesized.resources(stack, "aws_ssm_document").values()
    }
    assert len(sizes) >= 12 and f"{STANDBY}/hadr-prod-ws-region-switch" in sizes, sizes
    assert max(sizes.values()) < quota * 3 // 4, sizes


def test_an_oversized_document_is_refused_naming_its_size(scratch_stack: Any) -> None:
    from modules.drills import runbook_document
    from modules.errors import InputError

    stack = scratch_stack()
    step = {"name": "big", "action": "aws:sleep", "inputs": {"Duration": "PT1S"}, "description": "x" * 70000}
    with pytest.raises(InputError) as refused:
        runbook_document(stack, "doc", name="big", description="too big", parameters={}, steps=[step])
    assert "doc.content: got '70" in str(refused.value) and "at most 61440 bytes: SSM refuses a document over 65536 bytes" in str(
        refused.value
    )


def test_automation_schedules_and_owned_parameters_stay_inside_their_limits(scratch_stack: Any) -> None:
    """EventBridge takes a target Input of at most 8192 characters
    (https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_Target.html); a Standard-tier parameter holds
    at most 4 KB (https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html)."""
    from modules.errors import InputError
    from modules.recovery import ScheduledAutomation, owned_parameter

    stack = scratch_stack()
    with pytest.raises(InputError, match=r"schedule.parameters: got '\d+ characters'; expected at most 8192 as JSON"):
        ScheduledAutomation(
            stack, "schedule", name="s", description="d", schedule="rate(1 hour)", document_name="doc",
            automation_role_arn="arn:aws:iam::123456789012:role/r", parameters={"Reason": ["x" * 9000]},
        )  # fmt: skip
    with pytest.raises(InputError, match=r"big.value: got '5000 bytes'; expected at most 4096 bytes"):
        owned_parameter(stack, "big", name="/x", value="x" * 5000, description="d", key_arn="arn:aws:kms:us-east-1:123456789012:key/k")


def test_instances_can_patch_and_run_their_agents_through_the_restricted_endpoints(synthesized: Synthesized) -> None:
    """dnf on Amazon Linux 2023 reads its repositories from S3 without signing, and the SSM agent reads AWS-owned
    buckets (https://docs.aws.amazon.com/systems-manager/latest/userguide/ssm-agent-minimum-s3-permissions.html): the
    S3 gateway endpoint policy must let those reads through. The CloudWatch agent needs the logs and monitoring
    endpoints in a subnet without a route to the internet."""
    for stack, region in ((PRIMARY, "us-east-1"), (STANDBY, "us-west-1")):
        endpoints = {body["service_name"]: body for body in synthesized.resources(stack, "aws_vpc_endpoint").values()}
        policy = statements_of(endpoints[f"com.amazonaws.{region}.s3"]["policy"])
        reads = policy["AwsOwnedPackageAndAgentBuckets"]
        assert reads["Action"] == ["s3:GetObject"] and reads["Principal"] == {"AWS": "*"}
        assert f"arn:aws:s3:::al2023-repos-{region}-de612dc2/*" in reads["Resource"]
        assert (
            f"arn:aws:s3:::amazon-ssm-{region}/*" in reads["Resource"]
            and f"arn:aws:s3:::patch-baseline-snapshot-{region}/*" in reads["Resource"]
        )
        for service in ("ssm", "ssmmessages", "ec2messages", "logs", "monitoring"):
            assert f"com.amazonaws.{region}.{service}" in endpoints, service


def test_the_app_reaches_the_assets_through_the_multi_region_access_point(synthesized: Synthesized) -> None:
    """Requests through a Multi-Region Access Point need the permission on the access point and on the bucket they
    are routed to, and cannot use a gateway endpoint, only the com.amazonaws.s3-global.accesspoint interface
    endpoint (https://docs.aws.amazon.com/AmazonS3/latest/userguide/MultiRegionAccessPointRestrictions.html,
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/MultiRegionAccessPointPermissions.html)."""
    for stack in (PRIMARY, STANDBY):
        endpoints = {body["service_name"]: body for body in synthesized.resources(stack, "aws_vpc_endpoint").values()}
        global_endpoint = endpoints["com.amazonaws.s3-global.accesspoint"]
        assert global_endpoint["vpc_endpoint_type"] == "Interface" and global_endpoint["private_dns_enabled"] is True
        role_policy = next(
            body for body in synthesized.resources(stack, "aws_iam_role_policy").values() if body["name"].endswith("-instance-inline")
        )
        statements = statements_of(role_policy["policy"])
        assets = statements["AssetsThroughTheAccessPoint"]
        assert sorted(assets["Action"]) == ["s3:GetObject", "s3:PutObject"]
        assert sorted(assets["Resource"]) == [
            "arn:aws:s3::123456789012:accesspoint/*/object/*",
            "arn:aws:s3:::hadr-prod-ws-assets-us-east-1-123456789012/*",
            "arn:aws:s3:::hadr-prod-ws-assets-us-west-1-123456789012/*",
        ]
        keys = statements["AssetsKeysThroughS3"]
        assert keys["Condition"]["ForAnyValue:StringEquals"] == {"kms:ResourceAliases": "alias/hadr-prod-ws-assets"}
        assert sorted(keys["Condition"]["StringEquals"]["kms:ViaService"]) == ["s3.us-east-1.amazonaws.com", "s3.us-west-1.amazonaws.com"]
    outputs = synthesized.stacks[STORAGE]["output"]
    assert outputs["access_point_host"]["value"].endswith("}.accesspoint.s3-global.amazonaws.com")


def test_break_glass_ssh_has_a_real_least_privilege_path(synthesized: Synthesized) -> None:
    """SSH through Session Manager port forwarding (AWS-StartSSHSession) with keys that EC2 Instance Connect holds
    for 60 seconds: no key pair, no inbound rule, every step in CloudTrail. Starting an instance whose volumes a
    customer managed key encrypts needs CreateGrant for AWS resources on that key
    (https://docs.aws.amazon.com/ebs/latest/userguide/ebs-encryption-requirements.html); StartSession needs the
    instance and the document (https://docs.aws.amazon.com/systems-manager/latest/userguide/getting-started-restrict-access-examples.html)."""
    for stack, region in ((PRIMARY, "us-east-1"), (STANDBY, "us-west-1")):
        (instance,) = synthesized.resources(stack, "aws_instance").values()
        (policy,) = synthesized.resources(stack, "aws_iam_policy").values()
        assert policy["name"] == f"hadr-prod-{stack}-break-glass-operator"
        statements = statements_of(policy["policy"])
        instance_arn = ref("aws_instance", instance, "arn")
        assert statements["StartAndStopTheBreakGlassInstance"]["Resource"] == [instance_arn]
        session = statements["SessionToTheBreakGlassInstance"]
        assert session["Action"] == ["ssm:StartSession"]
        assert session["Resource"] == [instance_arn, f"arn:aws:ssm:{region}::document/AWS-StartSSHSession"]
        keys = statements["ShortLivedSshKeys"]
        assert keys["Action"] == ["ec2-instance-connect:SendSSHPublicKey"]
        assert keys["Condition"]["StringEquals"]["ec2:osuser"] == "ec2-user"
        assert sorted(keys["Condition"]["StringEquals"]["aws:ResourceTag/Name"]) == sorted(
            [f"hadr-prod-{stack}-break-glass", f"hadr-prod-ws-{region}-web", f"hadr-prod-ws-{region}-app"]
        )
        volumes = statements["VolumesOfTheBreakGlassInstance"]
        assert volumes["Condition"]["Bool"] == {"kms:GrantIsForAWSResource": "true"} and volumes["Action"] == ["kms:CreateGrant"]
        for body in synthesized.resources(stack, "aws_iam_policy").values():
            for statement in json.loads(body["policy"])["Statement"]:
                assert statement["Resource"] != "*" or statement["Action"] == ["ec2:DescribeInstances"], statement["Sid"]
        ingress = [
            r
            for r in synthesized.resources(stack, "aws_vpc_security_group_ingress_rule").values()
            if "-break-glass-from-" in r["tags"]["Name"]
        ]
        assert ingress == [], "nothing connects to the break-glass instance: the SSM agent connects out"
    assert "key_name" not in instance


def test_policy_variables_reach_iam_unresolved_by_terraform(synthesized: Synthesized) -> None:
    """An IAM policy variable such as ${aws:userid} must be written $${...} in Terraform, or Terraform tries to
    resolve it as a reference and the plan fails."""
    for stack in (PRIMARY, STANDBY):
        (policy,) = synthesized.resources(stack, "aws_iam_policy").values()
        assert "session/$${aws:userid}-*" in policy["policy"]


@pytest.mark.parametrize(
    ("instance_type", "architecture"),
    [
        ("t3.small", "x86_64"),
        ("m7i-flex.large", "x86_64"),
        ("m6a.large", "x86_64"),
        ("i4i.large", "x86_64"),
        ("g4dn.xlarge", "x86_64"),
        ("inf2.xlarge", "x86_64"),
        ("t4g.small", "arm64"),
        ("m7g.large", "arm64"),
        ("c7gn.large", "arm64"),
        ("x2gd.large", "arm64"),
        ("im4gn.large", "arm64"),
        ("is4gen.large", "arm64"),
        ("g5g.xlarge", "arm64"),
        ("a1.large", "arm64"),
    ],
)
def test_the_ami_follows_the_instance_types_architecture(instance_type: str, architecture: str) -> None:
    """An x86_64 AMI on a Graviton type (or the reverse) launches nothing, at deploy or at failover: the image is
    chosen by the processor letter of the type's family (g: Graviton)."""
    from modules.compute import AL2023_AMI, architecture_of
    from modules.config import _ec2_instance_types

    assert instance_type in _ec2_instance_types(), "a type EC2 really offers"
    assert architecture_of(instance_type) == architecture
    assert AL2023_AMI.format(architecture=architecture).endswith(f"al2023-ami-kernel-default-{architecture}")


def test_a_graviton_tier_launches_the_arm64_image(scratch_stack: Any, synthesized: Synthesized) -> None:
    from modules.compute import hardened_launch_template
    from modules.kms import EncryptionKey
    from tests.conftest import synth_json

    stack = scratch_stack()
    key = EncryptionKey(stack, "key", alias="k", description="volumes")
    hardened_launch_template(
        stack, "lt", name="arm", instance_type="m7g.large", instance_profile_arn="arn:aws:iam::123456789012:instance-profile/p",
        security_group_id="sg-1", key=key,
    )  # fmt: skip
    (template,) = synth_json(stack)["resource"]["aws_launch_template"].values()
    assert template["image_id"] == "resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"
    example = [t["image_id"] for s in synthesized.stacks.values() for t in s.get("resource", {}).get("aws_launch_template", {}).values()]
    assert example and set(example) == {"resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"}
