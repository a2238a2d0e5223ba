"""DynamoDB global table: on-demand, PITR, streams, a customer-managed key per region, deletion protection everywhere."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.dynamodb_table import DynamodbTable, DynamodbTableAttribute
from cdktf_cdktf_provider_aws.dynamodb_table_replica import DynamodbTableReplicaA as DynamodbTableReplica
from constructs import Construct

from modules.base import AwsEnv, RegionalStack
from modules.errors import InputError
from modules.kms import EncryptionKey


@dataclass(frozen=True)
class Replica:
    """A replica region and the key (of that region) that encrypts it."""

    region: str
    key: EncryptionKey


def table_arn(env: AwsEnv, region: str, table_name: str) -> str:
    """Deterministic ARN of the table's replica in `region` (the same name in every region)."""
    return env.arn("dynamodb", f"table/{table_name}", region=region)


class GlobalTable(Construct):
    """A table in the stack's region with `replicas` in other regions (version 2019.11.21 global table).

    Default: partition key `id` (string), PAY_PER_REQUEST, point-in-time recovery everywhere, stream of new and
    old images, deletion protection on; each replica encrypted with its own region's key.
    Each replica is an `aws_dynamodb_table_replica`, not a `replica` block of the table: only the resource can turn
    on a replica's deletion protection, and deletion protection is per replica
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/WorkingWithTables.Basics.html#WorkingWithTables.Basics.DeletionProtection).
    The table then ignores its `replica` attribute, as the provider's documentation of that resource requires.
    In emulator mode (no global-table replicas there) each region gets a table of its own with the same settings.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        table_name: str,
        key: EncryptionKey,
        replicas: Sequence[Replica],
        partition_key: str = "id",
        deletion_protection: bool = True,
    ) -> None:
        super().__init__(scope, id)
        env = RegionalStack.of(self).env
        regions = [replica.region for replica in replicas]
        if not replicas or env.region in regions or len(set(regions)) != len(regions):
            raise InputError.single(f"{self.node.path}.replicas", regions, f"expected one or more distinct regions other than {env.region}")
        self.table_name = table_name
        self.regions = [env.region, *regions]
        emulated = RegionalStack.of(self).emulated
        settings = {
            "name": table_name,
            "billing_mode": "PAY_PER_REQUEST",
            "hash_key": partition_key,
            "attribute": [DynamodbTableAttribute(name=partition_key, type="S")],
            "point_in_time_recovery": {"enabled": True},
            "stream_enabled": True,
            "stream_view_type": "NEW_AND_OLD_IMAGES",
            "deletion_protection_enabled": deletion_protection,
            "tags": {"Name": table_name},
        }
        self.table = DynamodbTable(
            self,
            "table",
            server_side_encryption={"enabled": True, "kms_key_arn": key.key_arn},
            lifecycle=None if emulated else {"ignore_changes": ["replica"]},
            **settings,
        )
        self.replicas = [
            DynamodbTableReplica(
                self,
                f"replica-{replica.region}",
                global_table_arn=self.table.arn,
                kms_key_arn=replica.key.key_arn,
                point_in_time_recovery=True,
                deletion_protection_enabled=deletion_protection,
                tags={"Name": table_name},
                provider=replica.key.provider,
            )
            for replica in (() if emulated else replicas)
        ]
        self.regional_tables = [
            DynamodbTable(
                self,
                f"table-{replica.region}",
                server_side_encryption={"enabled": True, "kms_key_arn": replica.key.key_arn},
                provider=replica.key.provider,
                **settings,
            )
            for replica in (replicas if emulated else ())
        ]

    def arn_in(self, region: str) -> str:
        """The replica's ARN in `region`; raises naming the regions the table lives in."""
        if region not in self.regions:
            raise InputError.single(f"{self.node.path}.arn_in", region, f"expected one of: {', '.join(self.regions)}")
        return table_arn(RegionalStack.of(self).env, region, self.table_name)
