"""Remote Terraform state: the bootstrap stack that creates the state buckets and lock tables.

Every other stack's backend comes from `modules.base.configure_s3_backend`. The bootstrap keeps its own state in
a local file (it creates the bucket the others need), outside `cdktf.out` so a new synth never deletes it.
"""

from __future__ import annotations

from cdktf import LocalBackend, TerraformOutput
from cdktf_cdktf_provider_aws.dynamodb_table import DynamodbTable, DynamodbTableAttribute
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct

from modules.base import RegionalStack
from modules.config import DeploymentConfig
from modules.kms import EncryptionKey
from modules.storage import SERVER_ACCESS_LOGGING, LogDeliveryBucket, SecureBucket
from modules.suppressions import suppress

STATE_BOOTSTRAP_STACK = "state-bootstrap"


class LockTable(Construct):
    """DynamoDB table for Terraform state locks: on-demand, PITR on, KMS-encrypted, deletion protection on."""

    def __init__(self, scope: Construct, id: str, *, name: str, key: EncryptionKey, provider: AwsProvider | None = None) -> None:
        super().__init__(scope, id)
        self.table = DynamodbTable(
            self,
            "table",
            name=name,
            billing_mode="PAY_PER_REQUEST",
            hash_key="LockID",
            attribute=[DynamodbTableAttribute(name="LockID", type="S")],
            point_in_time_recovery={"enabled": True},
            server_side_encryption={"enabled": True, "kms_key_arn": key.key_arn},
            deletion_protection_enabled=True,
            tags={"Name": name},
            provider=provider,
        )
        suppress(
            self.table,
            "CKV_HADR_1",
            "Terraform locks belong to one region: state.failover switches every backend to the replica region's own table",
        )


class StateBootstrapStack(RegionalStack):
    """State bucket and lock table in `state.region`, their twins in `state.replica_region`.

    Its own state is a local file at `local_state_path` until `state.bootstrap_state` is s3 (after migrating it
    into the bucket it created); in emulator mode it is always local.

    The buckets replicate to each other, so state written during a failover (state.failover: true) flows back
    once the primary region returns. Each region has its own lock table: locks are not replicated.
    """

    def __init__(self, scope: Construct, *, config: DeploymentConfig, local_state_path: str) -> None:
        state = config.state
        remote = state.bootstrap_state == "s3" and not config.emulated
        super().__init__(scope, STATE_BOOTSTRAP_STACK, config=config, region=state.region, remote_state=remote)
        if not remote:
            LocalBackend(self, path=local_state_path)
        prefix = config.name_prefix
        replica_provider = self.aws_provider(state.replica_region, alias="replica")

        def key(id: str, provider: AwsProvider | None) -> EncryptionKey:
            return EncryptionKey(
                self,
                id,
                alias=f"{prefix}-tfstate",
                description=f"{prefix}: Terraform state and locks",
                service_principals=[SERVER_ACCESS_LOGGING],  # the state buckets' access logs
                provider=provider,
            )

        primary_key, replica_key = key("primary-key", None), key("replica-key", replica_provider)

        def logs(id: str, region: str, key: EncryptionKey, provider: AwsProvider | None) -> LogDeliveryBucket:
            return LogDeliveryBucket(
                self,
                id,
                bucket_name=f"{prefix}-tfstate-logs-{region}-{config.account_id}",
                server_access_logs=True,
                key=key,
                provider=provider,
            )

        self.primary_logs, self.replica_logs = (
            logs("primary-logs", state.region, primary_key, None),
            logs("replica-logs", state.replica_region, replica_key, replica_provider),
        )
        self.primary_bucket = SecureBucket(self, "primary-bucket", bucket_name=state.bucket, key=primary_key, access_logs=self.primary_logs)
        self.replica_bucket = SecureBucket(
            self,
            "replica-bucket",
            bucket_name=state.replica_bucket_name,
            key=replica_key,
            access_logs=self.replica_logs,
            provider=replica_provider,
        )
        self.primary_bucket.replicate_to("to-replica", self.replica_bucket, role_name=f"{prefix}-tfstate-to-{state.replica_region}")
        self.replica_bucket.replicate_to("to-primary", self.primary_bucket, role_name=f"{prefix}-tfstate-to-{state.region}")
        self.primary_lock = LockTable(self, "primary-lock", name=state.lock_table, key=primary_key)
        self.replica_lock = LockTable(self, "replica-lock", name=state.lock_table, key=replica_key, provider=replica_provider)

        TerraformOutput(self, "state_bucket", value=self.primary_bucket.bucket_name, description="Primary state bucket")
        TerraformOutput(self, "state_replica_bucket", value=self.replica_bucket.bucket_name, description="Replica state bucket")
        TerraformOutput(self, "lock_table", value=state.lock_table, description="Lock table name (one per region)")
        TerraformOutput(self, "state_key_arns", value=[primary_key.key_arn, replica_key.key_arn], description="State KMS keys")
