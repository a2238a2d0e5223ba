"""moto server with the fix-ups that make it behave like AWS where the failover depends on it.

    python -m tools.moto_server -H 127.0.0.1 -p PORT      (tools.emulator starts it this way)

moto 5.2.5 keeps ReadReplicaSourceDBInstanceIdentifier after PromoteReadReplica; RDS removes it, and the failover
function waits for exactly that. moto 5.2.5 has no Secrets Manager StopReplicationToReplica, which the failover
calls to make the master secret's replica standalone. With IAM enforced, moto authorizes most services' requests
with the resource "*" (it cannot name the resource), which no ARN-scoped statement matches: every least-privilege
role would be denied. moto 5.2.5 ignores UpdateTable's ReplicaUpdates, which the DynamoDB runbooks use to delete and
re-create global-table replicas. moto 5.2.5 has no Multi-Region Access Point routes (the failover's storage step),
and with IAM enforced it checks S3 Control's signatures the way other services sign, refusing every call whose path
holds an ARN. moto 5.2.5 has no SimulatePrincipalPolicy, which the readiness permission evaluation calls, and no
FailoverGlobalCluster or SwitchoverGlobalCluster, which the Aurora engine's failover and failback call. `apply()`
makes moto do what AWS does (the handler tests use it in-process). Seven fix-ups fail loudly
once moto does it by itself; the other three (resources, trust statements, the CloudWatch prefix) are asked of the
pinned moto by tests/test_moto_fixups.py, which also says what the resource fix-up leaves unproven.
"""

from __future__ import annotations

import copy
import inspect
import json
import re
import sys
import time
import uuid
from typing import Any
from urllib.parse import unquote

from botocore.auth import S3SigV4Auth
from moto.backup import urls as backup_urls
from moto.backup.exceptions import InvalidParameterValueException, ResourceNotFoundException
from moto.backup.responses import BackupResponse
from moto.core.responses import ActionResult, EmptyResult
from moto.dynamodb.exceptions import MockValidationException
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler
from moto.iam.access_control import IAMPolicyStatement, IAMRequest, PermissionResult
from moto.iam.responses import IamResponse
from moto.rds.exceptions import InvalidParameterCombination, InvalidParameterValue, RDSClientError
from moto.rds.models import RDSBackend, rds_backends
from moto.rds.responses import RDSResponse
from moto.s3.models import s3_backends
from moto.s3control.exceptions import InvalidRequestException, MultiRegionAccessPointNotFound
from moto.s3control.models import MultiRegionAccessPoint
from moto.s3control.responses import S3ControlResponse
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


def global_database_failover() -> None:
    """FailoverGlobalCluster and SwitchoverGlobalCluster: the target secondary cluster becomes the global database's
    writer and the old writer one of its secondaries, keeping every member
    (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_FailoverGlobalCluster.html: AllowDataLoss for a
    failover, which does not wait for the old writer; API_SwitchoverGlobalCluster.html: the old writer is demoted to
    a read-only secondary). A target that is not a secondary of that global database is refused, as RDS does."""
    if applied_or_needless(RDSBackend, "failover_global_cluster", "FailoverGlobalCluster"):
        return

    def turn(self: Any, params: dict[str, Any], *, switchover: bool) -> Any:
        identifier = params["GlobalClusterIdentifier"]
        found = self.global_backend.global_clusters.get(identifier)
        if found is None:
            raise InvalidParameterValue(f"global cluster {identifier} not found")
        target = params["TargetDbClusterIdentifier"]
        member = next((m for m in found.members if target in (m.db_cluster_arn, m.db_cluster_identifier)), None)
        if member is None or member.is_writer:
            raise RDSClientError(
                "InvalidGlobalClusterStateFault", f"{target} is not a secondary cluster of the global database {identifier}"
            )
        if not switchover and str(params.get("AllowDataLoss")).lower() != "true" and str(params.get("Switchover")).lower() != "true":
            raise InvalidParameterCombination("Specify AllowDataLoss (a failover) or Switchover")
        for other in found.members:
            other.is_writer = other is member
        return found

    def failover(self: Any) -> ActionResult:
        return ActionResult({"GlobalCluster": turn(self, self.params, switchover=False)})

    def switchover(self: Any) -> ActionResult:
        return ActionResult({"GlobalCluster": turn(self, self.params, switchover=True)})

    failover.fix_up = switchover.fix_up = True  # type: ignore[attr-defined]
    RDSBackend.failover_global_cluster = failover  # type: ignore[attr-defined]  # marks the fix-up as applied
    RDSResponse.failover_global_cluster = failover  # type: ignore[attr-defined]
    RDSResponse.switchover_global_cluster = switchover  # type: ignore[attr-defined]


def global_cluster_members_leave_from_their_region() -> None:
    """A cluster leaves its global database (RemoveFromGlobalCluster, or DeleteDBCluster of a member) in the region
    it lives in, as in AWS. moto 5.2.5 keeps a global cluster in the region that created it but looks it up in the
    caller's region when a member leaves: a secondary in another region stays a member for ever, and the global
    cluster can never be deleted (tests/test_moto_fixups.py asks the pinned moto)."""
    if getattr(RDSBackend.delete_db_cluster, "fix_up", False):
        return
    delete, remove = RDSBackend.delete_db_cluster, RDSBackend.remove_from_global_cluster

    def holding(self: Any, cluster: Any) -> list[Any]:
        return [g for backend in rds_backends[self.account_id].values() for g in backend.global_clusters.values() if cluster in g.members]

    def deleted(self: Any, cluster_identifier: str, snapshot_name: str | None = None) -> Any:
        cluster = self.clusters.get(cluster_identifier)
        result = delete(self, cluster_identifier, snapshot_name)
        for found in holding(self, cluster):
            found.members.remove(cluster)
        return result

    def removed(self: Any, global_cluster_identifier: str, db_cluster_identifier: str) -> Any:
        cluster = self.describe_db_clusters(db_cluster_identifier=db_cluster_identifier)[0]
        for found in holding(self, cluster):
            if global_cluster_identifier in (found.global_cluster_identifier, found.global_cluster_arn):
                found.members.remove(cluster)
                return found
        return remove(self, global_cluster_identifier, db_cluster_identifier)

    deleted.fix_up = removed.fix_up = True  # type: ignore[attr-defined]
    RDSBackend.delete_db_cluster = deleted  # type: ignore[method-assign]
    RDSBackend.remove_from_global_cluster = removed  # type: ignore[method-assign]


def applied_or_needless(cls: type, method: str, operation: str) -> bool:
    """True when the fix-up adding `method` to `cls` is already applied; raises once moto implements `operation`
    itself (the fix-up must go)."""
    existing = getattr(cls, method, None)
    if existing is not None and not getattr(existing, "fix_up", False):
        raise RuntimeError(f"moto now implements {operation} itself: remove this fix-up")
    return existing is not None


def secret_replicas_can_be_promoted() -> None:
    """StopReplicationToReplica: the replica in this region becomes a standalone secret with the same ARN and
    versions, and its primary stops replicating to this region
    (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_StopReplicationToReplica.html)."""
    if applied_or_needless(SecretsManagerBackend, "stop_replication_to_replica", "StopReplicationToReplica"):
        return

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


def _replicating(handler: Any) -> Any:
    """`handler` (an item write), then the written tables' items copied to their other replicas."""

    def write(self: Any) -> Any:
        result = handler(self)
        backend = self.dynamodb_backend
        names = [self.body["TableName"]] if "TableName" in self.body else list(self.body.get("RequestItems", {}))
        for name in names:
            for region in _REPLICA_REGIONS.get((backend.account_id, name), set()) - {backend.region_name}:
                target = dynamodb_backends[backend.account_id][region]
                if name in target.tables and name in backend.tables:
                    target.tables[name].items = copy.deepcopy(backend.tables[name].items)
        return result

    return write


def global_table_replicas() -> None:
    """UpdateTable's ReplicaUpdates for version 2019.11.21 global tables
    (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateTable.html): Create copies the
    table's schema, settings and items into a table of the same name in the other region, encrypted with the given
    key; Delete removes that region's copy, refused while its deletion protection is on; DescribeTable lists the
    other regions' replicas as ACTIVE. An item write to a replica reaches the others at once (AWS: typically within
    a second; concurrent writes to one item settle last-writer-wins, which this does not emulate)."""
    original_update, original_describe = DynamoHandler.update_table, Table.describe
    if getattr(original_update, "fix_up", False):
        return
    for write in ("put_item", "delete_item", "update_item", "batch_write_item"):
        setattr(DynamoHandler, write, _replicating(getattr(DynamoHandler, write)))
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


#: Where S3 serves Multi-Region Access Point routes: its failover control endpoints
#: (https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_SubmitMultiRegionAccessPointRoutes.html).
ROUTE_REGIONS = ("us-east-1", "us-west-2", "ap-southeast-2", "ap-northeast-1", "eu-west-1")


def access_point_routes() -> None:
    """GetMultiRegionAccessPointRoutes and SubmitMultiRegionAccessPointRoutes, which moto 5.2.5 lacks, with S3's
    documented rules (API_control_SubmitMultiRegionAccessPointRoutes, API_control_MultiRegionAccessPointRoute):
    served in ROUTE_REGIONS only (elsewhere InvalidRequest: what AWS answers there is not documented); `Mrap` is the
    access point's ARN; a route names the bucket, its region or both, and both must agree; TrafficDialPercentage
    is 0 to 100; a change that would leave every route passive is refused (InvalidRequest); routes not named keep
    their state; a new access point's routes are all active, each in its bucket's region (moto records us-east-1
    for all). A change applies at once (AWS: within 2 minutes)."""
    existing = getattr(S3ControlResponse, "get_multi_region_access_point_routes", None)
    if existing is not None:
        if getattr(existing, "fix_up", False):
            return
        raise RuntimeError("moto now implements Multi-Region Access Point routes itself: remove this fix-up")

    def routes_of(response: Any) -> tuple[MultiRegionAccessPoint, dict[str, int]]:
        if response.region not in ROUTE_REGIONS:
            raise InvalidRequestException(
                f"Multi-Region Access Point routes are served in {', '.join(ROUTE_REGIONS)}, not {response.region}"
            )
        arn = response._get_param("Mrap")
        alias = arn.rsplit("/", 1)[-1] if arn.startswith("arn:") and ":accesspoint/" in arn else None
        found = [m for m in response.backend.multi_region_access_points[response._get_param("AccountId")].values() if m.alias == alias]
        if not found:
            raise MultiRegionAccessPointNotFound(arn)
        mrap = found[0]
        if not hasattr(mrap, "routes"):
            # moto 5.2.5 records every bucket in us-east-1; each is in its own region.
            buckets = s3_backends[response.current_account][response.partition].buckets
            mrap.regions = [{"Bucket": r["Bucket"], "Region": buckets[r["Bucket"]].region_name} for r in mrap.regions]
            mrap.routes = {region["Bucket"]: 100 for region in mrap.regions}
        return mrap, mrap.routes

    def get_routes(self: Any) -> Any:
        mrap, routes = routes_of(self)
        listed = [{"Bucket": r["Bucket"], "Region": r["Region"], "TrafficDialPercentage": routes[r["Bucket"]]} for r in mrap.regions]
        return ActionResult({"Mrap": self._get_param("Mrap"), "Routes": listed})

    def submit_routes(self: Any) -> Any:
        mrap, routes = routes_of(self)
        regions = {r["Bucket"]: r["Region"] for r in mrap.regions}
        wanted = dict(routes)
        for update in self._get_param("RouteUpdates", []):
            bucket, region, percent = update.get("Bucket"), update.get("Region"), update["TrafficDialPercentage"]
            named = [b for b, r in regions.items() if (bucket is None or b == bucket) and (region is None or r == region)]
            if (bucket is None and region is None) or len(named) != 1:
                raise InvalidRequestException(f"no route of this access point for bucket {bucket!r} in region {region!r}")
            if not 0 <= percent <= 100:
                raise InvalidRequestException(f"TrafficDialPercentage {percent} is not between 0 and 100")
            wanted[named[0]] = percent
        if not any(wanted.values()):
            raise InvalidRequestException("at least one route must stay active")
        routes.update(wanted)
        return EmptyResult()

    get_routes.fix_up = True  # type: ignore[attr-defined]
    S3ControlResponse.get_multi_region_access_point_routes = get_routes  # type: ignore[attr-defined]
    S3ControlResponse.submit_multi_region_access_point_routes = submit_routes  # type: ignore[attr-defined]


def s3_control_signatures() -> None:
    """S3 Control signs its requests as S3 does (botocore's s3v4: the path encoded once); moto 5.2.5 checks them as
    SigV4 of other services, which encodes the path again, so with IAM enforced every S3 Control call whose path
    holds an ARN (the access point routes) is refused with SignatureDoesNotMatch."""
    original = IAMRequest._create_auth
    if getattr(original, "fix_up", False):
        return
    if "S3SigV4Auth" in inspect.getsource(original):
        raise RuntimeError("moto now checks S3 Control signatures as s3v4 itself: remove this fix-up")

    def create_auth(self: Any, credentials: Any) -> Any:
        return S3SigV4Auth(credentials, self._service, self._region) if self._service == "s3" else original(self, credentials)

    create_auth.fix_up = True  # type: ignore[attr-defined]
    IAMRequest._create_auth = create_auth  # type: ignore[method-assign]


def bodiless_requests_sign_no_body() -> None:
    """moto 5.2.5 recomputes the signature of a request without a body (a REST GET, such as AWS Backup's
    ListRecoveryPointsByResource) over a body it makes from the request's headers, so with IAM enforced every such
    call is refused with SignatureDoesNotMatch; the client signed the empty payload, as SigV4 says."""
    original = IAMRequest._create_aws_request
    if getattr(original, "fix_up", False):
        return

    def create_aws_request(self: Any) -> Any:
        request = original(self)
        if self._method in ("GET", "HEAD", "DELETE") and not self._body:
            request.data = b""
        return request

    create_aws_request.fix_up = True  # type: ignore[attr-defined]
    IAMRequest._create_aws_request = create_aws_request  # type: ignore[method-assign]


def dynamodb_backup_restores() -> None:
    """AWS Backup for DynamoDB with the advanced features (what new accounts and cross-region copies have), which
    moto 5.2.5 lacks: StartBackupJob of a table makes a recovery point `arn:aws:backup:<region>:<account>:recovery-point:<id>`
    (not a DynamoDB backup ARN) at once; ListRecoveryPointsByResource lists a table's, also after the table is
    deleted; StartRestoreJob restores one into Metadata's targetTableName, encrypted as Metadata says
    (encryptionType KMS with kmsMasterKeyArn; anything else, a DynamoDB-owned key), needs IamRoleArn, and refuses a
    target that exists; DescribeRestoreJob reports it COMPLETED with the table's ARN
    (https://docs.aws.amazon.com/aws-backup/latest/devguide/advanced-ddb-backup.html,
    https://docs.aws.amazon.com/aws-backup/latest/devguide/restoring-dynamodb.html). Jobs finish at once; the
    backup role's own permissions are not evaluated (AWS Backup, not the caller, restores with them)."""
    if applied_or_needless(BackupResponse, "start_restore_job", "StartRestoreJob"):
        return
    for path in (
        "{0}/backup-jobs/?$",
        "{0}/restore-jobs/?$",
        "{0}/restore-jobs/(?P<job>[^/]+)$",
        "{0}/resources/(?P<arn>.+)/recovery-points/?$",
    ):
        backup_urls.url_paths[path] = BackupResponse.dispatch

    def store(response: Any) -> dict[str, Any]:
        backend = response.backup_backend
        if not hasattr(backend, "dynamodb_points"):
            backend.dynamodb_points, backend.restore_jobs = {}, {}
        return {"points": backend.dynamodb_points, "jobs": backend.restore_jobs}

    def table_name_of(arn: str) -> str:
        if ":dynamodb:" not in arn or ":table/" not in arn:
            raise InvalidParameterValueException(f"Invalid resource ARN {arn}: this emulation backs up DynamoDB tables only")
        return arn.split(":table/", 1)[1].split("/", 1)[0]

    def start_backup_job(self: Any) -> Any:
        params = json.loads(self.body)
        resource = params["ResourceArn"]
        native = dynamodb_backends[self.current_account][self.region].create_backup(table_name_of(resource), f"awsbackup-{uuid.uuid4()}")
        point = f"arn:aws:backup:{self.region}:{self.current_account}:recovery-point:{uuid.uuid4()}"
        store(self)["points"][point] = {
            "RecoveryPointArn": point,
            "ResourceArn": resource,
            "Status": "COMPLETED",
            "CreationDate": time.time(),
            "BackupVaultName": params["BackupVaultName"],
            "native": native.arn,
        }
        return json.dumps({"BackupJobId": str(uuid.uuid4()), "RecoveryPointArn": point, "CreationDate": time.time()})

    def list_recovery_points_by_resource(self: Any) -> Any:
        resource = unquote(self.path.split("/resources/", 1)[1].rsplit("/recovery-points", 1)[0])
        points = [{k: v for k, v in p.items() if k != "native"} for p in store(self)["points"].values() if p["ResourceArn"] == resource]
        return json.dumps({"RecoveryPoints": points})

    def start_restore_job(self: Any) -> Any:
        params = json.loads(self.body)
        point = store(self)["points"].get(params["RecoveryPointArn"])
        if point is None:
            raise ResourceNotFoundException(f"Recovery point {params['RecoveryPointArn']} not found")
        if not params.get("IamRoleArn"):
            raise InvalidParameterValueException("IamRoleArn is required to restore a DynamoDB recovery point")
        metadata = {key.lower(): value for key, value in params.get("Metadata", {}).items()}  # the keys are case-insensitive
        backend = dynamodb_backends[self.current_account][self.region]
        table = backend.restore_table_from_backup(metadata["targettablename"], point["native"])
        key = metadata.get("kmsmasterkeyarn") if metadata.get("encryptiontype") == "KMS" else None
        table.sse_specification = {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key} if key else None
        job = str(uuid.uuid4())
        store(self)["jobs"][job] = {
            "RestoreJobId": job,
            "Status": "COMPLETED",
            "RecoveryPointArn": point["RecoveryPointArn"],
            "CreatedResourceArn": table.table_arn,
            "ResourceType": "DynamoDB",
            "IamRoleArn": params["IamRoleArn"],
        }
        return json.dumps({"RestoreJobId": job})

    def describe_restore_job(self: Any) -> Any:
        job = store(self)["jobs"].get(self.path.rstrip("/").rsplit("/", 1)[1])
        if job is None:
            raise ResourceNotFoundException("Restore job not found")
        return json.dumps(job)

    start_restore_job.fix_up = True  # type: ignore[attr-defined]
    for handler in (start_backup_job, list_recovery_points_by_resource, start_restore_job, describe_restore_job):
        setattr(BackupResponse, handler.__name__, handler)


def _like(pattern: str, value: str, *, case: bool = True) -> bool:
    """IAM's wildcard match: * any run of characters, ? one character, nothing else special."""
    expression = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(expression, value, 0 if case else re.IGNORECASE) is not None


#: The condition operators principal_policies_can_be_simulated evaluates (the ones this project's policies use, and
#: their negations); any other operator is refused by name rather than ignored.
SIMULATED_OPERATORS = {
    "StringEquals": lambda wanted, value: value in wanted,
    "StringNotEquals": lambda wanted, value: value not in wanted,
    "StringLike": lambda wanted, value: any(_like(w, value) for w in wanted),
    "StringNotLike": lambda wanted, value: not any(_like(w, value) for w in wanted),
    "ArnEquals": lambda wanted, value: value in wanted,
    "ArnLike": lambda wanted, value: any(_like(w, value) for w in wanted),
    "Bool": lambda wanted, value: value.lower() in [w.lower() for w in wanted],
}


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _conditions_hold(conditions: dict[str, Any], context: dict[str, str]) -> bool:
    """Every condition of a statement, on the request's `context` (keys lower-cased): values match case-sensitively;
    a condition on an absent key fails unless ...IfExists
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html)."""
    for operator, tests in conditions.items():
        base = operator.removesuffix("IfExists")
        if base not in SIMULATED_OPERATORS:
            raise NotImplementedError(f"the simulation does not evaluate the condition operator {operator}")
        for key, wanted in tests.items():
            value = context.get(key.lower())
            if value is None and not operator.endswith("IfExists"):
                return False
            if value is not None and not SIMULATED_OPERATORS[base](_listed(wanted), value):
                return False
    return True


def _statement_applies(statement: dict[str, Any], action: str, resource: str, context: dict[str, str]) -> bool:
    """Does `statement` cover `action` on `resource` in `context`? Actions match case-insensitively, resources
    case-sensitively."""
    actions = [_like(a, action, case=False) for a in _listed(statement.get("Action", statement.get("NotAction", [])))]
    resources = [_like(r, resource) for r in _listed(statement.get("Resource", statement.get("NotResource", [])))]
    return (
        (any(actions) if "Action" in statement else not any(actions))
        and (any(resources) if "Resource" in statement else not any(resources))
        and _conditions_hold(statement.get("Condition", {}), context)
    )


def decision(policies: list[dict[str, Any]], action: str, resource: str, context: dict[str, str]) -> str:
    """IAM's evaluation of identity policies: an explicit deny wins, then an allow; else an implicit deny."""
    applying = [s for p in policies for s in _listed_statements(p) if _statement_applies(s, action, resource, context)]
    if any(s["Effect"] == "Deny" for s in applying):
        return "explicitDeny"
    return "allowed" if any(s["Effect"] == "Allow" for s in applying) else "implicitDeny"


def _listed_statements(policy: dict[str, Any]) -> list[dict[str, Any]]:
    statements = policy["Statement"]
    return [statements] if isinstance(statements, dict) else statements


def principal_policies_can_be_simulated() -> None:
    """SimulatePrincipalPolicy of a role: its inline and attached policies (and its permissions boundary, which must
    allow too) for each action on each resource, with the context entries given; one result per action and resource.
    moto 5.2.5 does not implement it; the readiness permission evaluation calls it
    (https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html)."""
    if applied_or_needless(IamResponse, "simulate_principal_policy", "SimulatePrincipalPolicy"):
        return

    def document(text: str) -> dict[str, Any]:
        return json.loads(unquote(text) if text.lstrip().startswith("%7B") else text)

    def simulate(self: Any) -> Any:
        role = self.backend.get_role_by_arn(self._get_param("PolicySourceArn"))
        policies = [document(text) for text in role.policies.values()]
        policies += [document(next(v.document for v in p.versions if v.is_default)) for p in role.managed_policies.values()]
        boundary = None
        if role.permissions_boundary_arn:
            managed = self.backend.get_policy(role.permissions_boundary_arn)
            boundary = [document(next(v.document for v in managed.versions if v.is_default))]
        context = {e["ContextKeyName"].lower(): e["ContextKeyValues"][0] for e in self._get_param("ContextEntries", [])}
        results = []
        for action in self._get_param("ActionNames", []):
            for resource in self._get_param("ResourceArns", []) or ["*"]:
                found = decision(policies, action, resource, context)
                if found == "allowed" and boundary is not None and decision(boundary, action, resource, context) != "allowed":
                    found = "implicitDeny"
                results.append({"EvalActionName": action, "EvalResourceName": resource, "EvalDecision": found})
        return ActionResult({"EvaluationResults": results, "IsTruncated": False})

    simulate.fix_up = True  # type: ignore[attr-defined]
    IamResponse.simulate_principal_policy = simulate  # type: ignore[attr-defined]


def apply() -> None:
    """Every fix-up, in this process."""
    principal_policies_can_be_simulated()
    promotion_clears_the_source()
    global_database_failover()
    global_cluster_members_leave_from_their_region()
    secret_replicas_can_be_promoted()
    actions_are_enforced_where_resources_are_unknown()
    trust_statements_for_others_do_not_deny()
    cloudwatch_actions_have_their_iam_prefix()
    global_table_replicas()
    access_point_routes()
    s3_control_signatures()
    bodiless_requests_sign_no_body()
    dynamodb_backup_restores()


def main(argv: list[str]) -> None:
    apply()
    serve(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
