"""A break-glass instance: the one way to reach the tiers' instances by SSH, created stopped, with the operator
policy that makes the path usable and auditable.

The path: start the instance, push a short-lived key with EC2 Instance Connect (valid 60 s; AL2023 ships its
sshd hook), and SSH through Session Manager port forwarding (document AWS-StartSSHSession), then jump to a tier
instance the same way. No key pair, no inbound rule, no public address; CloudTrail records StartInstances,
StartSession and every SendSSHPublicKey with its OS user.
Session Manager SSH: https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-getting-started-enable-ssh-connections.html
EC2 Instance Connect: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-instance-connect-methods.html
Starting an instance with volumes under a customer managed key needs kms:CreateGrant for AWS resources:
https://docs.aws.amazon.com/ebs/latest/userguide/ebs-encryption-requirements.html
"""

from __future__ import annotations

from collections.abc import Sequence

from cdktf_cdktf_provider_aws.ec2_instance_state import Ec2InstanceState
from cdktf_cdktf_provider_aws.iam_instance_profile import IamInstanceProfile
from cdktf_cdktf_provider_aws.instance import Instance
from constructs import Construct

from modules.base import RegionalStack
from modules.compute import hardened_launch_template
from modules.iam import ServiceRole, managed_policy
from modules.kms import EncryptionKey
from modules.suppressions import suppress


class BreakGlassInstance(Construct):
    """An instance from the hardened launch template (IMDSv2, encrypted root with `key`, no SSH key pair), in a
    private subnet without a public address, reached through Session Manager; kept stopped until an incident.

    Default: `instance_type` t3.micro; detailed monitoring (not in the emulator, which has no MonitorInstances).
    `operator_policy` (attach it to the on-call role) may start and stop this instance, open SSH sessions to it, and
    push keys for `ec2-user` to it and to the instances named `ssh_target_names`.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        subnet_id: str,
        security_group_id: str,
        role: ServiceRole,
        key: EncryptionKey,
        ssh_target_names: Sequence[str] = (),
        instance_type: str = "t3.micro",
    ) -> None:
        super().__init__(scope, id)
        emulated = RegionalStack.of(self).emulated
        self.profile = IamInstanceProfile(self, "profile", name=name, role=role.role_name, tags={"Name": name})
        self.launch_template = hardened_launch_template(
            self,
            "template",
            name=name,
            instance_type=instance_type,
            instance_profile_arn=self.profile.arn,
            security_group_id=security_group_id,
            key=key,
        )
        # From the template, not an `ami` argument: EC2 resolves the SSM parameter, and Terraform would otherwise
        # see the resolved AMI as drift and replace the instance on every apply.
        self.instance = Instance(
            self,
            "instance",
            launch_template={"id": self.launch_template.id, "version": "$Latest"},
            subnet_id=subnet_id,
            associate_public_ip_address=False,
            # Repeated from the template so the hardening is visible on the instance itself (and to scanners).
            iam_instance_profile=self.profile.name,
            monitoring=None if emulated else True,
            ebs_optimized=True,
            metadata_options={"http_endpoint": "enabled", "http_tokens": "required", "http_put_response_hop_limit": 1},
            # No root_block_device here: with an SSM-resolved AMI the provider then calls DescribeImages with the
            # "resolve:ssm:" string and fails (terraform-provider-aws issue 43488); the template encrypts the volume.
            tags={"Name": name},
        )
        suppress(
            self.instance,
            "CKV_AWS_8",
            "the launch template encrypts the root volume with the stack's KMS key; checkov does not follow the template",
        )
        Ec2InstanceState(self, "stopped", instance_id=self.instance.id, state="stopped")
        self.operator_policy = managed_policy(
            self,
            "operator",
            name=f"{name}-operator",
            description=f"Break-glass SSH through {name}: start it, Session Manager SSH, 60-second keys",
            statements=self._operator_statements(name, key, [name, *ssh_target_names]),
        )

    def _operator_statements(self, name: str, key: EncryptionKey, ssh_targets: list[str]) -> list[dict[str, object]]:
        env = RegionalStack.of(self).env
        return [
            {
                "Sid": "StartAndStopTheBreakGlassInstance",
                "Effect": "Allow",
                "Action": ["ec2:StartInstances", "ec2:StopInstances"],
                "Resource": [self.instance.arn],
            },
            {
                "Sid": "VolumesOfTheBreakGlassInstance",
                "Effect": "Allow",
                "Action": ["kms:CreateGrant"],
                "Resource": [key.key_arn],
                "Condition": {
                    "Bool": {"kms:GrantIsForAWSResource": "true"},
                    "StringEquals": {"kms:ViaService": f"ec2.{env.region}.amazonaws.com"},
                },
            },
            {
                "Sid": "SessionToTheBreakGlassInstance",
                "Effect": "Allow",
                "Action": ["ssm:StartSession"],
                "Resource": [self.instance.arn, f"arn:{env.partition}:ssm:{env.region}::document/AWS-StartSSHSession"],
                "Condition": {"BoolIfExists": {"ssm:SessionDocumentAccessCheck": "true"}},
            },
            {
                "Sid": "OwnSessionsOnly",
                "Effect": "Allow",
                "Action": ["ssm:TerminateSession", "ssm:ResumeSession"],
                "Resource": [env.arn("ssm", "session/$${aws:userid}-*")],  # "$$": a literal "${" for Terraform
            },
            {
                "Sid": "ShortLivedSshKeys",
                "Effect": "Allow",
                "Action": ["ec2-instance-connect:SendSSHPublicKey"],
                "Resource": [env.arn("ec2", "instance/*")],
                "Condition": {"StringEquals": {"ec2:osuser": "ec2-user", "aws:ResourceTag/Name": ssh_targets}},
            },
            {
                "Sid": "FindTheInstances",
                "Effect": "Allow",
                "Action": ["ec2:DescribeInstances"],
                "Resource": "*",  # DescribeInstances has no resource-level permissions
            },
        ]

    @property
    def operator_policy_arn(self) -> str:
        return self.operator_policy.arn

    @property
    def instance_id(self) -> str:
        return self.instance.id
