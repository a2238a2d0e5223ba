"""moto server with the fix-ups that make it behave like AWS where the failover depends on it.

    python -m tools.moto_server -H 127.0.0.1 -p PORT      (tools.emulator starts it this way)

moto 5.2.5 keeps ReadReplicaSourceDBInstanceIdentifier after PromoteReadReplica; RDS removes it, and the failover
function waits for exactly that. moto 5.2.5 has no Secrets Manager StopReplicationToReplica, which the failover
calls to make the master secret's replica standalone. With IAM enforced, moto authorizes most services' requests
with the resource "*" (it cannot name the resource), which no ARN-scoped statement matches: every least-privilege
role would be denied. moto 5.2.5 ignores UpdateTable's ReplicaUpdates, which the DynamoDB runbooks use to delete and
re-create global-table replicas. `apply()` makes moto do what AWS does (the handler tests use
it in-process). Three fix-ups fail loudly once moto does it by itself; the other three (resources, trust
statements, the CloudWatch prefix) are asked of the pinned moto by tests/test_moto_fixups.py, which also says what
the resource fix-up leaves unproven.
"""

from __future__ import annotations

import copy
import inspect
import json
import sys
from typing import Any

from moto.dynamodb.exceptions import MockValidationException
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler
from moto.iam.access_control import IAMPolicyStatement, PermissionResult
from moto.rds.models import RDSBackend
from moto.secretsmanager.exceptions import InvalidParameterException
from moto.secretsmanager.models import ReplicaSecret, SecretsManagerBackend
from moto.secretsmanager.responses import SecretsManagerResponse
from moto.server import main as serve


def promotion_clears_the_source() -> None:
    original = RDSBackend.promote_read_replica
    if getattr(original, "clears_source", False):
        return

    def promote(self: Any, db_kwargs: dict[str, Any]) -> Any:
        database = original(self, db_kwargs)
        if database.source_db_instance_identifier is None:
            raise RuntimeError("moto now clears the source of a promoted replica itself: remove this fix-up")
        database.source_db_instance_identifier = None
        return database

    promote.clears_source = True  # type: ignore[attr-defined]
    RDSBackend.promote_read_replica = promote


def secret_replicas_can_be_promoted() -> None:
    """StopReplicationToReplica: the replica in this region becomes a standalone secret with the same ARN and
    versions, and its primary stops replicating to this region
    (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_StopReplicationToReplica.html)."""
    existing = getattr(SecretsManagerBackend, "stop_replication_to_replica", None)
    if existing is not None:
        if getattr(existing, "fix_up", False):
            return
        raise RuntimeError("moto now implements StopReplicationToReplica itself: remove this fix-up")

    def stop(self: Any, secret_id: str) -> str:
        replica = self.describe_secret(secret_id)
        if not isinstance(replica, ReplicaSecret):
            raise InvalidParameterException(f"{secret_id} in {self.region_name} is not a replica secret")
        source = replica.source
        standalone = copy.copy(source)
        standalone.versions = copy.deepcopy(source.versions)
        standalone.replicas = []
        standalone.region = self.region_name
        standalone.arn = replica.arn
        source.replicas = [other for other in source.replicas if other is not replica]
        self.secrets[replica.arn] = standalone
        return replica.arn

    def respond(self: Any) -> str:
        return json.dumps({"ARN": self.backend.stop_replication_to_replica(self._get_param("SecretId"))})

    stop.fix_up = True  # type: ignore[attr-defined]
    SecretsManagerBackend.stop_replication_to_replica = stop  # type: ignore[attr-defined]
    SecretsManagerResponse.stop_replication_to_replica = respond  # type: ignore[attr-defined]


def actions_are_enforced_where_resources_are_unknown() -> None:
    """A request resource of "*" (moto could not name it) matches any Allow statement's Resource, and a Deny's only
    when the Deny covers every resource: moto then enforces the actions a role may call, and denies of everything,
    but not resource scoping, conditions or ARN-scoped denies (a Deny of one table no longer refuses every table).
    moto names resources only for IAM, STS AssumeRole, SQS and S3; there it still checks them."""
    original = IAMPolicyStatement._check_element_matches
    if getattr(original, "fix_up", False):
        return

    def check(self: Any, statement_element: Any, value: str) -> bool:
        if statement_element == "Resource" and value == "*" and self._statement.get("Effect") == "Allow":
            return True
        return original(self, statement_element, value)  # a Deny's "*" (or "arn:*") still matches "*"

    check.fix_up = True  # type: ignore[attr-defined]
    IAMPolicyStatement._check_element_matches = check  # type: ignore[method-assign]


def trust_statements_for_others_do_not_deny() -> None:
    """moto 5.2.5 treats an Allow statement of a trust policy that names another principal as an explicit deny, and
    crashes (HTTP 500) on one that names only a service ({"Service": ...}), as every role of ours has. In AWS such a
    statement simply does not apply to the caller. Here it is neutral, and the statements that name the caller
    decide."""
    original = IAMPolicyStatement.is_action_permitted
    if getattr(original, "fix_up", False):
        return

    def permitted(self: Any, action: str, resource: str = "*", principal: str | None = None, incoming: Any = None) -> Any:
        expected = self._statement.get("Principal")
        if principal and isinstance(expected, dict) and self._statement.get("Effect") == "Allow":
            named = expected.get("AWS")
            if not (named in ("*", principal) or (isinstance(named, list) and principal in named)):
                return PermissionResult.NEUTRAL
        return original(self, action, resource, principal, incoming)

    permitted.fix_up = True  # type: ignore[attr-defined]
    IAMPolicyStatement.is_action_permitted = permitted  # type: ignore[method-assign]


def cloudwatch_actions_have_their_iam_prefix() -> None:
    """moto 5.2.5 names CloudWatch's actions after its endpoint, `monitoring:PutMetricData`, while IAM policies
    (and AWS) use `cloudwatch:`
    (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html); here a
    statement is matched with the prefix AWS uses."""
    original = IAMPolicyStatement.is_action_permitted
    if getattr(original, "cloudwatch_prefix", False):
        return

    def permitted(self: Any, action: str, *args: Any, **kwargs: Any) -> Any:
        if action.startswith("monitoring:"):
            action = "cloudwatch:" + action.removeprefix("monitoring:")
        return original(self, action, *args, **kwargs)

    permitted.cloudwatch_prefix = True  # type: ignore[attr-defined]
    permitted.fix_up = getattr(original, "fix_up", False)  # type: ignore[attr-defined]
    IAMPolicyStatement.is_action_permitted = permitted  # type: ignore[method-assign]


#: (account, table name) -> the regions that hold a replica of that global table (set by ReplicaUpdates).
_REPLICA_REGIONS: dict[tuple[str, str], set[str]] = {}


def global_table_replicas() -> None:
    """UpdateTable's ReplicaUpdates for version 2019.11.21 global tables
    (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateTable.html): Create copies the
    table's schema, settings and items into a table of the same name in the other region, encrypted with the given
    key; Delete removes that region's copy, refused while its deletion protection is on; DescribeTable lists the
    other regions' replicas as ACTIVE. Replication of later writes is not emulated."""
    original_update, original_describe = DynamoHandler.update_table, Table.describe
    if getattr(original_update, "fix_up", False):
        return
    if "ReplicaUpdates" in inspect.getsource(original_update):
        raise RuntimeError("moto now reads ReplicaUpdates itself: remove this fix-up")

    def update(self: Any) -> Any:
        backend = self.dynamodb_backend
        for change in self.body.get("ReplicaUpdates") or []:
            table = backend.get_table(self.body["TableName"])
            regions = _REPLICA_REGIONS.setdefault((backend.account_id, table.name), {backend.region_name})
            if "Create" in change:
                region = change["Create"]["RegionName"]
                target = dynamodb_backends[backend.account_id][region]
                if table.name in target.tables:
                    raise MockValidationException(
                        f"Failed to create the new replica of {table.name}: a table of that name exists in {region}"
                    )
                copy_ = target.create_table(
                    table.name, schema=table.schema, throughput=None, attr=table.attr, global_indexes=None, indexes=None,
                    streams=table.stream_specification, billing_mode=table.billing_mode,
                    sse_specification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": change["Create"].get("KMSMasterKeyId")},
                    tags=[], deletion_protection_enabled=False, warm_throughput=None,
                )  # fmt: skip
                copy_.items = copy.deepcopy(table.items)
                regions.add(region)
                _REPLICA_REGIONS[(backend.account_id, table.name)] = regions
            if "Delete" in change:
                region = change["Delete"]["RegionName"]
                target = dynamodb_backends[backend.account_id][region]
                if region not in regions or table.name not in target.tables:
                    raise MockValidationException(f"Update global table operation failed because the replica in {region} does not exist.")
                target.delete_table(table.name)  # raises while the replica's deletion protection is on
                regions.discard(region)
        return original_update(self)

    def describe(self: Any, base_key: str = "TableDescription") -> dict[str, Any]:
        found = original_describe(self, base_key=base_key)
        regions = _REPLICA_REGIONS.get((self.account_id, self.name), set())
        others = sorted(r for r in regions if r != self.region_name and self.name in dynamodb_backends[self.account_id][r].tables)
        if others:
            found[base_key]["Replicas"] = [{"RegionName": region, "ReplicaStatus": "ACTIVE"} for region in others]
            found[base_key]["GlobalTableVersion"] = "2019.11.21"
        return found

    update.fix_up = True  # type: ignore[attr-defined]
    DynamoHandler.update_table = update  # type: ignore[method-assign]
    Table.describe = describe  # type: ignore[method-assign]


def apply() -> None:
    """Every fix-up, in this process."""
    promotion_clears_the_source()
    secret_replicas_can_be_promoted()
    actions_are_enforced_where_resources_are_unknown()
    trust_statements_for_others_do_not_deny()
    cloudwatch_actions_have_their_iam_prefix()
    global_table_replicas()


def main(argv: list[str]) -> None:
    apply()
    serve(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
