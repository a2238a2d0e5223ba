"""A break-glass instance: the one way to reach the tiers' instances by SSH, created stopped."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.ec2_instance_state import Ec2InstanceState
from cdktf_cdktf_provider_aws.iam_instance_profile import IamInstanceProfile
from cdktf_cdktf_provider_aws.instance import Instance
from constructs import Construct

from modules.base import RegionalStack
from modules.compute import hardened_launch_template
from modules.iam import ServiceRole
from modules.kms import EncryptionKey
from modules.suppressions import suppress


class BreakGlassInstance(Construct):
    """An instance from the hardened launch template (IMDSv2, encrypted root with `key`, no SSH key pair), in a
    private subnet without a public address, reached through Session Manager; kept stopped until an incident.

    Default: `instance_type` t3.micro; detailed monitoring (not in the emulator, which has no MonitorInstances).
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

    @property
    def instance_id(self) -> str:
        return self.instance.id
