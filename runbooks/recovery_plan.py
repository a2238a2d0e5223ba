"""The warm standby's recovery plan, its steps: the region switch (pre-checks, scale, fence, promote, credentials,
repoint, move the writes, route storage, verify) and the rebuild of a replica (inspect, retire the old writer,
create the replica, point at it, wait in sync). stacks/failover_plan.py composes the two documents from them.

Every step is idempotent: it reads the state first and changes only what differs, so a second run is a no-op and a
run that stopped resumes where it stopped. Calls to the source region use short timeouts (client_in(quick=True)):
during a regional outage that region may not answer, and the plan goes on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from runbooks.common import still_pending


def plan_of(events: dict[str, Any], key: str = "TargetRegion") -> tuple[dict[str, Any], str, str]:
    """The plan, the region `key` names and the other region; a region not in the plan is refused by name."""
    import json

    plan = json.loads(events["Plan"])
    target = events[key]
    if target not in plan["regions"]:
        raise ValueError(f"{key}: got {target!r}; expected one of {', '.join(sorted(plan['regions']))}")
    return plan, target, next(region for region in plan["regions"] if region != target)


def client_in(service: str, region: str, *, quick: bool = False) -> Any:
    """A client in `region`; `quick` for the region that may be down: 5 s to connect, 15 s to answer, 2 attempts."""
    import boto3
    from botocore.config import Config

    limits = {"connect_timeout": 5, "read_timeout": 15, "retries": {"total_max_attempts": 2, "mode": "standard"}} if quick else {}
    return boto3.client(service, region_name=region, config=Config(**limits))


def database(rds: Any, identifier: str) -> dict[str, Any] | None:
    """The instance's description, or None when it does not exist."""
    try:
        return rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]
    except rds.exceptions.DBInstanceNotFoundFault:
        return None


def writer_endpoint(db: dict[str, Any], secret: str) -> dict[str, Any]:
    """The writer parameter's value for a standalone `db`, or for an Aurora cluster (its cluster endpoint)."""
    if "DBClusterArn" in db:
        return {"host": db["Endpoint"], "port": db["Port"], "writable": True, "secret_id": secret}
    return {"host": db["Endpoint"]["Address"], "port": db["Endpoint"]["Port"], "writable": True, "secret_id": secret}


def cluster(plan: dict[str, Any], region: str, *, quick: bool = False) -> tuple[dict[str, Any] | None, str]:
    """Aurora: `region`'s cluster of the plan's global database, or None when it does not exist, and its role there
    as that region's RDS endpoint sees it: "writer", "secondary" or "detached" (not a member)."""
    rds = client_in("rds", region, quick=quick)
    try:
        found = rds.describe_db_clusters(DBClusterIdentifier=plan["regions"][region]["database"])["DBClusters"][0]
    except rds.exceptions.DBClusterNotFoundFault:
        return None, "absent"
    members = rds.describe_global_clusters(GlobalClusterIdentifier=plan["global_cluster"])["GlobalClusters"]
    roles = {m["DBClusterArn"]: "writer" if m["IsWriter"] else "secondary" for m in members[0]["GlobalClusterMembers"]} if members else {}
    return found, roles.get(found["DBClusterArn"], "detached")


def put_secure(ssm: Any, name: str, value: dict[str, Any]) -> bool:
    """Set a SecureString parameter to `value` (JSON) with the key it already has; False when it already holds it."""
    import json

    current = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
    try:
        if json.loads(current) == value:
            return False
    except ValueError:
        pass
    described = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name]}])["Parameters"]
    key = {"KeyId": described[0]["KeyId"]} if described and described[0].get("KeyId") else {}
    ssm.put_parameter(Name=name, Value=json.dumps(value, sort_keys=True), Type="SecureString", Overwrite=True, **key)
    return True


def unreachable(error: Exception) -> bool:
    """A region that does not answer (connection, timeout, throttling or a 5xx), as opposed to a refusal."""
    from botocore.exceptions import ClientError, ConnectionError, ReadTimeoutError

    if isinstance(error, ClientError):
        code = error.response["Error"]["Code"]
        return error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400) >= 500 or code in (
            "Throttling",
            "ServiceUnavailable",
            "RequestLimitExceeded",
        )
    return isinstance(error, (ConnectionError, ReadTimeoutError))


def lag_points(cloudwatch: Any, identifier: str, minutes: int, *, aurora: bool = False) -> list[tuple[Any, float]]:
    """The replica's ReplicaLag, or with `aurora` the secondary cluster's AuroraGlobalDBRPOLag (reported in
    milliseconds, in the secondary's region), in seconds, each minute's Maximum over the last `minutes`, oldest first."""
    import datetime

    metric, dimension, unit = ("AuroraGlobalDBRPOLag", "DBClusterIdentifier", 1000) if aurora else ("ReplicaLag", "DBInstanceIdentifier", 1)
    now = datetime.datetime.now(datetime.UTC)
    points = cloudwatch.get_metric_statistics(
        Namespace="AWS/RDS",
        MetricName=metric,
        Dimensions=[{"Name": dimension, "Value": identifier}],
        StartTime=now - datetime.timedelta(minutes=minutes),
        EndTime=now + datetime.timedelta(minutes=1),  # the current minute's bucket too
        Period=60,
        Statistics=["Maximum"],
    )["Datapoints"]
    return sorted((point["Timestamp"], point["Maximum"] / unit) for point in points)


def latest_lag(cloudwatch: Any, identifier: str, *, aurora: bool = False) -> float | None:
    """The newest minute's highest lag (seconds) of the last 10 minutes, or None without data."""
    points = lag_points(cloudwatch, identifier, 10, aurora=aurora)
    return points[-1][1] if points else None


def data_loss_estimate(points: list[tuple[Any, float]]) -> tuple[float | None, str]:
    """Seconds of writes a failover loses, and how that was estimated. For RDS PostgreSQL, ReplicaLag is the time
    since the last replayed transaction (now() - pg_last_xact_replay_timestamp(),
    https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PostgreSQL.Replication.ReadReplicas.Monitor.html): once
    the source is gone it grows by a second a second and says nothing about the loss. Replay stopped at the newest
    point's time minus its lag; the lag measured in the 15 minutes before that is what the replica was behind when
    the source went quiet: the writes of that window never arrived."""
    import datetime

    if not points:
        return None, "no ReplicaLag data in the last 3 hours"
    newest_time, newest_lag = points[-1]
    stopped = newest_time - datetime.timedelta(seconds=newest_lag)
    before = [lag for time, lag in points if stopped - datetime.timedelta(minutes=15) <= time <= stopped]
    if not before:
        return None, f"replay stopped at {stopped:%H:%M:%S} UTC and no ReplicaLag was recorded in the 15 minutes before"
    return max(before), f"ReplicaLag before replay stopped at {stopped:%H:%M:%S} UTC, highest of {len(before)} minute(s)"


def source_database(plan: dict[str, Any], source: str) -> str:
    """The source region's database status, or why there is none: "did not answer (...)" or "absent"."""
    try:
        db = database(client_in("rds", source, quick=True), plan["regions"][source]["database"])
    except Exception as error:
        if not unreachable(error):
            raise
        return f"did not answer ({type(error).__name__})"
    return db["DBInstanceStatus"] if db else "absent"


def replica_problems(plan: dict[str, Any], target: str, source: str, accept_loss: bool) -> tuple[list[str], list[str], str, str]:
    """A *switchover* (the source's database is available) needs the replica within the RPO now; a *failover* (it is
    not, or its region does not answer) loses what the replica had not replayed when the source went away: it goes
    ahead when the estimate is within the RPO, or when the operator accepts the loss (AcceptDataLoss=true).
    Returns problems, warnings, the mode and the data-loss statement."""
    identifier, rpo = plan["regions"][target]["database"], plan["rpo_seconds"]
    points = lag_points(client_in("cloudwatch", target), identifier, 180)  # 3 hours: the lag before replay stopped
    status = source_database(plan, source)
    if status == "available":
        import datetime

        recent = [lag for time, lag in points if time >= datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=10)]
        newest = recent[-1] if recent else None
        if newest is None:
            return [f"no ReplicaLag data for {identifier} in the last 10 minutes: the RPO cannot be confirmed"], [], "switchover", "unknown"
        problems = [f"replica {identifier} is {newest:.0f} s behind, over the RPO of {rpo} s"] if newest > rpo else []
        return problems, [], "switchover", f"up to {newest:.0f} s (the replica's lag now; the source is fenced before promotion)"
    estimate, basis = data_loss_estimate(points)
    loss = f"about {estimate:.0f} s of writes ({basis})" if estimate is not None else f"unknown ({basis})"
    mode = f"failover (source database {status})"
    if estimate is not None and estimate <= rpo:
        return [], [], mode, loss
    if accept_loss:
        return [], [f"data loss {loss} accepted by the operator (AcceptDataLoss=true)"], mode, loss
    over = "cannot be estimated" if estimate is None else f"is over the RPO of {rpo} s"
    return [f"the data loss {over}: {loss}; start again with AcceptDataLoss=true to accept it"], [], mode, loss


def source_cluster(plan: dict[str, Any], source: str) -> str:
    """Aurora: the source region's cluster status, or why there is none: "did not answer (...)" or "absent"."""
    try:
        found, _ = cluster(plan, source, quick=True)
    except Exception as error:
        if not unreachable(error):
            raise
        return f"did not answer ({type(error).__name__})"
    return found["Status"] if found else "absent"


def global_problems(
    plan: dict[str, Any], target: str, source: str, accept_loss: bool, *, active: bool
) -> tuple[list[str], list[str], str, str, bool]:
    """Aurora: could TargetRegion's secondary cluster take the global database's writes? A *switchover* (the source's
    cluster answers, available) loses nothing: Aurora synchronizes the secondary first
    (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database-disaster-recovery.html). A
    *failover* (FailoverGlobalCluster with AllowDataLoss; also when the operator accepts the loss, for a source that
    answers but cannot complete a switchover) loses what had not replicated: at most rds.global_db_rpo
    when the primary's cluster sets it (commits wait past it), else the highest AuroraGlobalDBRPOLag of the last 15
    minutes of data; over the RPO or unknown, it waits for AcceptDataLoss=true. A secondary without an instance
    cannot take over (same page). Returns problems, warnings, the mode, the data-loss statement and whether the
    target already writes."""
    found, role = cluster(plan, target)
    identifier = plan["regions"][target]["database"]
    if found is None:
        return [f"cluster {identifier} does not exist in {target}"], [], "none", "unknown", False
    problems = [f"{identifier} is {found['Status']}"] if found["Status"] not in ("available", "backing-up", "modifying") else []
    if not found.get("DBClusterMembers"):
        problems.append(f"{identifier} has no instance: add one before it can take over")
    if role == "writer":
        return problems, [], "none: already the writer", "none", True
    if role == "detached":
        return (
            [*problems, f"{identifier} is not in the global database {plan['global_cluster']}: rebuild it first"],
            [],
            "none",
            "unknown",
            False,
        )
    status = source_cluster(plan, source)
    if status == "available" and not accept_loss:
        return problems, [], "switchover (SwitchoverGlobalCluster)", "none: Aurora synchronizes the secondary before it switches", False
    mode = f"failover (source cluster {status}; FailoverGlobalCluster with AllowDataLoss)"
    refused, warnings, loss = global_loss(plan, target, accept_loss)
    return problems + refused, warnings, mode, loss, False


def global_loss(plan: dict[str, Any], target: str, accept_loss: bool) -> tuple[list[str], list[str], str]:
    """Aurora, a failover: what it loses, bounded by rds.global_db_rpo when the primary's cluster sets it, else the
    highest AuroraGlobalDBRPOLag of the last 15 minutes; over the RPO or unknown, a problem unless accepted."""
    if plan.get("global_rpo_seconds"):
        return [], [], f"at most {plan['global_rpo_seconds']} s of writes (rds.global_db_rpo: commits wait past it)"
    identifier, rpo = plan["regions"][target]["database"], plan["rpo_seconds"]
    points = lag_points(client_in("cloudwatch", target), identifier, 15, aurora=True)
    estimate = max((lag for _, lag in points), default=None)
    loss = f"about {estimate:.0f} s of writes (highest AuroraGlobalDBRPOLag of the last 15 minutes)" if estimate is not None else "unknown"
    if estimate is not None and estimate <= rpo:
        return [], [], loss
    if accept_loss:
        return [], [f"data loss {loss} accepted by the operator (AcceptDataLoss=true)"], loss
    over = "cannot be estimated (no AuroraGlobalDBRPOLag in 15 minutes)" if estimate is None else f"is over the RPO of {rpo} s"
    return [f"the data loss {over}: {loss}; start again with AcceptDataLoss=true to accept it"], [], loss


def writer_region(ssm: Any, plan: dict[str, Any]) -> str:
    """Which region takes the writes now (the latch's parameter)."""
    return ssm.get_parameter(Name=plan["writer_parameter"], WithDecryption=True)["Parameter"]["Value"]


def set_sizes(region: str, sizes: dict[str, dict[str, int]], *, raise_only: bool) -> list[str]:
    """Set each group's min, desired and max in `region` (with `raise_only`, never below what it has); the changes."""
    autoscaling = client_in("autoscaling", region)
    groups = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=list(sizes))["AutoScalingGroups"]
    found = {g["AutoScalingGroupName"]: g for g in groups}
    missing = sorted(set(sizes) - set(found))
    if missing:
        raise RuntimeError(f"Auto Scaling groups not found in {region}: {', '.join(missing)}")
    changes = []
    for name, size in sizes.items():
        current = {"min": found[name]["MinSize"], "desired": found[name]["DesiredCapacity"], "max": found[name]["MaxSize"]}
        wanted = {key: max(current[key], size[key]) for key in current} if raise_only else dict(size)
        if wanted != current:
            autoscaling.update_auto_scaling_group(
                AutoScalingGroupName=name, MinSize=wanted["min"], DesiredCapacity=wanted["desired"], MaxSize=wanted["max"]
            )
            changes.append(
                f"{name} {current['min']}/{current['desired']}/{current['max']} -> {wanted['min']}/{wanted['desired']}/{wanted['max']}"
            )
    return changes


def database_problems(plan: dict[str, Any], target: str, active: bool) -> tuple[list[str], dict[str, Any] | None]:
    """The target's database: a replica (replica_problems judges its lag), or already the writer; and available."""
    identifier = plan["regions"][target]["database"]
    db = database(client_in("rds", target), identifier)
    if db is None:
        return [f"database {identifier} does not exist in {target}"], None
    problems = []
    if not db.get("ReadReplicaSourceDBInstanceIdentifier") and not active:
        problems.append(f"{identifier} is a standalone instance, not a replica of the writer: rebuild it first (failback)")
    if db["DBInstanceStatus"] not in ("available", "backing-up", "modifying"):
        problems.append(f"{identifier} is {db['DBInstanceStatus']}")
    return problems, db


def instance_problems(
    plan: dict[str, Any], target: str, source: str, accept_loss: bool, *, active: bool
) -> tuple[list[str], list[str], str, str, bool]:
    """RDS: the target's instance (database_problems) and, while it is a replica, its lag (replica_problems).
    Returns problems, warnings, the mode, the data-loss statement and whether the target already writes."""
    problems, db = database_problems(plan, target, active)
    if db is None or not db.get("ReadReplicaSourceDBInstanceIdentifier"):
        return problems, [], "none: already the writer", "none", db is not None
    lagging, warnings, mode, loss = replica_problems(plan, target, source, accept_loss)
    return problems + lagging, warnings, mode, loss, False


def launched_types(target: str, groups: list[dict[str, Any]]) -> dict[str, str]:
    """What each group launches: the instance type of its launch template's version (none without a template)."""
    ec2, types = client_in("ec2", target), {}
    for group in groups:
        spec = group.get("LaunchTemplate") or {}
        if spec:
            found = ec2.describe_launch_template_versions(
                LaunchTemplateId=spec["LaunchTemplateId"], Versions=[spec.get("Version") or "$Default"]
            )
            types[group["AutoScalingGroupName"]] = found["LaunchTemplateVersions"][0]["LaunchTemplateData"].get("InstanceType", "")
    return types


def capacity_problems(plan: dict[str, Any], target: str) -> tuple[list[str], list[str]]:
    """The target's groups exist, the instance types they launch are offered there, and the EC2 vCPU quota covers
    the scale-out to the writer's sizes."""
    region = plan["regions"][target]
    groups = client_in("autoscaling", target).describe_auto_scaling_groups(AutoScalingGroupNames=list(region["active"]))
    desired = {g["AutoScalingGroupName"]: g["DesiredCapacity"] for g in groups["AutoScalingGroups"]}
    types = launched_types(target, groups["AutoScalingGroups"])
    ec2, named, offered = client_in("ec2", target), sorted({t for t in types.values() if t}), []
    if named:
        found = ec2.describe_instance_type_offerings(LocationType="region", Filters=[{"Name": "instance-type", "Values": named}])
        offered = sorted({o["InstanceType"] for o in found["InstanceTypeOfferings"]})
    described = ec2.describe_instance_types(InstanceTypes=offered)["InstanceTypes"] if offered else []
    vcpus = {t["InstanceType"]: t["VCpuInfo"]["DefaultVCpus"] for t in described}
    problems, needed = [], 0
    for name, size in region["active"].items():
        if name not in desired:
            problems.append(f"Auto Scaling group {name} does not exist in {target}")
        elif types.get(name) not in vcpus:
            problems.append(f"{name} launches instance type {types.get(name) or 'none'}, not offered in {target}")
        else:
            needed += max(size["desired"] - desired[name], 0) * vcpus[types[name]]
    try:
        quota = client_in("service-quotas", target).get_service_quota(ServiceCode="ec2", QuotaCode=plan["vcpu_quota_code"])["Quota"]
    except Exception as error:  # the quota API may not answer; the launch itself would then tell
        return problems, [f"EC2 vCPU quota not read ({type(error).__name__}); {needed} more vCPUs needed"]
    if quota["Value"] < needed:
        problems.append(f"EC2 quota {quota['QuotaName']} is {quota['Value']:.0f} vCPUs; scaling out needs {needed} more")
    return problems, []


def secret_problems(plan: dict[str, Any], target: str) -> tuple[list[str], list[str]]:
    """The master secret has a copy in the target, in sync with its primary (when that region answers)."""
    secrets = client_in("secretsmanager", target)
    try:
        home = secrets.describe_secret(SecretId=plan["secret"]).get("PrimaryRegion") or target
    except secrets.exceptions.ResourceNotFoundException:
        return [f"secret {plan['secret']} has no copy in {target}"], []
    if home == target:
        return [], []
    try:
        replicas = client_in("secretsmanager", home, quick=True).describe_secret(SecretId=plan["secret"]).get("ReplicationStatus", [])
    except Exception as error:
        return [], [f"secret replication status not read in {home} ({type(error).__name__})"]
    status = next((r["Status"] for r in replicas if r["Region"] == target), "ABSENT")
    return ([] if status == "InSync" else [f"secret {plan['secret']} replica in {target} is {status}"]), []


def certificate_problems(plan: dict[str, Any], target: str) -> list[str]:
    """An issued certificate for the target's origin host, valid for certificate_margin_days more days. ListCertificates
    returns only RSA_2048 certificates unless asked for other key types
    (https://docs.aws.amazon.com/acm/latest/APIReference/API_ListCertificates.html); ours are ECDSA P-256."""
    key_types = ["RSA_1024", "RSA_2048", "RSA_3072", "RSA_4096", "EC_prime256v1", "EC_secp384r1", "EC_secp521r1"]
    import datetime

    host = plan["regions"][target]["origin_host"]
    acm = client_in("acm", target)
    margin = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=plan["certificate_margin_days"])
    pages = acm.get_paginator("list_certificates").paginate(Includes={"keyTypes": key_types})
    found = [
        acm.describe_certificate(CertificateArn=c["CertificateArn"])["Certificate"]
        for page in pages
        for c in page["CertificateSummaryList"]
        if c["DomainName"] == host
    ]
    if any(c["Status"] == "ISSUED" and c.get("NotAfter") and c["NotAfter"] > margin for c in found):
        return []
    statuses = ", ".join(c["Status"] for c in found) or "none"
    return [f"no issued certificate for {host} valid {plan['certificate_margin_days']} more days ({statuses})"]


def precheck(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """Could TargetRegion take over now? Its database (a switchover or a failover, with the data it would lose),
    capacity, credentials and certificate (the helpers above). Publishes the verdict as StandbyReady (1 or 0) for the
    readiness alarm."""
    plan, target, source = plan_of(events)
    active = writer_region(client_in("ssm", plan["home"]), plan) == target
    judge = global_problems if plan.get("engine") == "aurora-postgresql" else instance_problems
    problems, warnings, mode, loss, writes = judge(plan, target, source, events.get("AcceptDataLoss") == "true", active=active)
    capacity, unsure = capacity_problems(plan, target)
    credentials, unread = secret_problems(plan, target)
    problems += capacity + credentials + certificate_problems(plan, target)
    warnings += unsure + unread
    dimensions = [{"Name": "Deployment", "Value": plan["deployment"]}, {"Name": "TargetRegion", "Value": target}]
    client_in("cloudwatch", plan["home"]).put_metric_data(
        Namespace=plan["namespace"], MetricData=[{"MetricName": plan["ready_metric"], "Dimensions": dimensions, "Value": int(not problems)}]
    )
    return {
        "Ready": not problems,
        "AlreadyActive": active and writes,
        "Problems": "; ".join(problems) or "none",
        "Warnings": "; ".join(warnings) or "none",
        "Source": source,
        "Mode": mode,
        "DataLoss": loss,
    }


def scale_target(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """Raise TargetRegion's groups to the writer's sizes (never lowers min, desired or max); the instances launch
    while the database is promoted, which is why this is the first step that changes anything."""
    plan, target, _ = plan_of(events)
    changes = set_sizes(target, plan["regions"][target]["active"], raise_only=True)
    return {"Changed": bool(changes), "Detail": "; ".join(changes) or "already at the writer's sizes"}


def fence_source(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """Stop the source region from taking writes: its app tier scaled to 0 and its writer parameter pointing nowhere
    writable. The source may be down: a region that does not answer is reported (Fenced false) and the plan goes
    on, since the write latch keeps writes away from it; a refusal (AccessDenied) fails the step."""
    plan, target, source = plan_of(events)
    region = plan["regions"][source]
    done = []
    try:
        autoscaling = client_in("autoscaling", source, quick=True)
        group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[region["app_group"]])["AutoScalingGroups"]
        if group and (group[0]["MinSize"], group[0]["DesiredCapacity"]) != (0, 0):
            autoscaling.update_auto_scaling_group(AutoScalingGroupName=region["app_group"], MinSize=0, DesiredCapacity=0)
            done.append(f"{region['app_group']} scaled to 0")
        fenced = {"host": "", "port": 0, "writable": False, "secret_id": plan["secret"], "writer_region": target}
        if put_secure(client_in("ssm", source, quick=True), region["parameter"], fenced):
            done.append(f"{region['parameter']} points nowhere writable")
    except Exception as error:
        if not unreachable(error):
            raise
        return {
            "Fenced": False,
            "Changed": bool(done),
            "Detail": "; ".join([*done, f"{source} did not answer ({type(error).__name__}): the rest is fenced by the write latch only"]),
        }
    return {"Fenced": True, "Changed": bool(done), "Detail": "; ".join(done) or f"{source} already fenced"}


def promote_target(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """Make TargetRegion's database the writer (no change when it is already): promote_replica or promote_global."""
    plan, target, source = plan_of(events)
    promote = promote_global if plan.get("engine") == "aurora-postgresql" else promote_replica
    return {"Changed": promote(plan, target, source, events.get("AcceptDataLoss") == "true")}


def promote_replica(plan: dict[str, Any], target: str, source: str, accept_loss: bool) -> bool:
    """RDS: promote TargetRegion's replica; False when it is standalone already."""
    identifier = plan["regions"][target]["database"]
    rds = client_in("rds", target)
    db = database(rds, identifier)
    if db is None:
        raise RuntimeError(f"database {identifier} does not exist in {target}")
    if not db.get("ReadReplicaSourceDBInstanceIdentifier"):
        return False
    rds.promote_read_replica(DBInstanceIdentifier=identifier, BackupRetentionPeriod=plan["backup_retention_days"])
    return True


def promote_global(plan: dict[str, Any], target: str, source: str, accept_loss: bool) -> bool:
    """Aurora: make TargetRegion's secondary cluster the global database's writer, by a switchover when the source's
    cluster answers available (nothing lost), else, or when the operator accepted the loss, by a failover that
    allows data loss (the pre-checks bounded it); False when it writes already."""
    found, role = cluster(plan, target)
    if found is None or role == "detached":
        raise RuntimeError(f"{plan['regions'][target]['database']} in {target} is not in the global database {plan['global_cluster']}")
    if role == "writer":
        return False
    turn = {"GlobalClusterIdentifier": plan["global_cluster"], "TargetDbClusterIdentifier": found["DBClusterArn"]}
    rds = client_in("rds", target)
    if source_cluster(plan, source) == "available" and not accept_loss:
        rds.switchover_global_cluster(**turn)
    else:
        rds.failover_global_cluster(**turn, AllowDataLoss=True)
    return True


def check_promoted(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """One look: pending until TargetRegion's database is an available writer (instance_writer, global_writer)."""
    plan, target, _ = plan_of(events)
    _, writes, status = (global_writer if plan.get("engine") == "aurora-postgresql" else instance_writer)(plan, target)
    return still_pending(events, not writes, status)


def instance_writer(plan: dict[str, Any], region: str) -> tuple[dict[str, Any] | None, bool, str]:
    """RDS: `region`'s instance, whether it is an available standalone writer, and its status."""
    db = database(client_in("rds", region), plan["regions"][region]["database"])
    if db is None:
        return None, False, "absent"
    return db, not db.get("ReadReplicaSourceDBInstanceIdentifier") and db["DBInstanceStatus"] == "available", db["DBInstanceStatus"]


def global_writer(plan: dict[str, Any], region: str) -> tuple[dict[str, Any] | None, bool, str]:
    """Aurora: `region`'s cluster, whether it is the global database's available writer, and its status."""
    found, role = cluster(plan, region)
    if found is None:
        return None, False, "absent"
    return found, role == "writer" and found["Status"] == "available", f"{found['Status']}, {role}"


def take_over_credentials(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """The master secret follows the writer. On a failover, TargetRegion's copy becomes standalone
    (StopReplicationToReplica) when it is a replica, so it can be read, rotated and changed while the other region is
    down. On a failback (TargetRegion is the primary), the standby's copy became standalone at the failover and holds
    the password the databases now use (rotated or not): the primary's secret takes that value and replicates to the
    standby again, overwriting the standalone copy (ForceOverwriteReplicaSecret), which is what Terraform deployed.
    No change when the secret is already where it belongs."""
    plan, target, source = plan_of(events)
    secrets = client_in("secretsmanager", target)
    if target != plan["primary"]:
        if (secrets.describe_secret(SecretId=plan["secret"]).get("PrimaryRegion") or target) == target:
            return {"Changed": False}
        secrets.stop_replication_to_replica(SecretId=plan["secret"])
        return {"Changed": True}
    copy = client_in("secretsmanager", source)
    if (copy.describe_secret(SecretId=plan["secret"]).get("PrimaryRegion") or source) == target:
        return {"Changed": False}
    current = copy.get_secret_value(SecretId=plan["secret"])["SecretString"]
    if secrets.get_secret_value(SecretId=plan["secret"])["SecretString"] != current:
        secrets.put_secret_value(SecretId=plan["secret"], SecretString=current)
    secrets.replicate_secret_to_regions(
        SecretId=plan["secret"],
        AddReplicaRegions=[{"Region": source, "KmsKeyId": plan["secret_key_alias"]}],
        ForceOverwriteReplicaSecret=True,
    )
    return {"Changed": True}


def repoint_app(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """TargetRegion's writer parameter names its (standalone) database, writable."""
    plan, target, _ = plan_of(events)
    region = plan["regions"][target]
    db, writes, status = (global_writer if plan.get("engine") == "aurora-postgresql" else instance_writer)(plan, target)
    if db is None or not writes:
        raise RuntimeError(f"{region['database']} in {target} is not an available writer ({status})")
    value = writer_endpoint(db, plan["secret"])
    return {"Changed": put_secure(client_in("ssm", target), region["parameter"], value), "Host": value["host"]}


def move_writes(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """The writer-region latch: the parameter says TargetRegion, and PrimaryIsWriter (what the write record's health
    checks follow) is published at once; the readiness run publishes it again on its schedule."""
    plan, target, _ = plan_of(events)
    ssm = client_in("ssm", plan["home"])
    changed = writer_region(ssm, plan) != target
    if changed:
        ssm.put_parameter(Name=plan["writer_parameter"], Value=target, Type="SecureString", KeyId=plan["state_key"], Overwrite=True)
    publish_writer(plan, target)
    return {"Changed": changed}


def publish_writer(plan: dict[str, Any], writer: str) -> None:
    """PrimaryIsWriter: 1 when `writer` is the primary region, else 0."""
    client_in("cloudwatch", plan["home"]).put_metric_data(
        Namespace=plan["namespace"],
        MetricData=[
            {
                "MetricName": plan["writer_metric"],
                "Dimensions": [{"Name": "Deployment", "Value": plan["deployment"]}],
                "Value": int(writer == plan["primary"]),
            }
        ],
    )


def route_storage(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Multi-Region Access Point sends all traffic to TargetRegion's bucket; on a failback (TargetRegion is the
    primary) both buckets take traffic again, as the access point was created. No access point: no change.

    The access point's ARN comes from the parameter the storage stack wrote in the plan's region: its own control
    plane (GetMultiRegionAccessPoint) answers in us-west-2 only and is not on this path. The routes are read and
    changed through the failover control endpoints of five regions, the first that answers; a refusal is the same
    everywhere and fails the step. The routes are read back; they take effect within about 2 minutes
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_SubmitMultiRegionAccessPointRoutes.html)."""
    plan, target, source = plan_of(events)
    mrap = plan.get("mrap")
    if not mrap:
        return {"Changed": False, "Detail": "no Multi-Region Access Point"}
    arn = client_in("ssm", plan["home"]).get_parameter(Name=mrap["arn_parameter"])["Parameter"]["Value"]
    failback = target == plan["primary"]
    wanted = {plan["regions"][target]["bucket"]: 100, plan["regions"][source]["bucket"]: 100 if failback else 0}
    errors = []
    for region in mrap["control_regions"]:
        try:
            control = client_in("s3control", region, quick=True)
            routes = control.get_multi_region_access_point_routes(AccountId=mrap["account"], Mrap=arn)["Routes"]
            updates = [
                {"Bucket": route["Bucket"], "Region": route["Region"], "TrafficDialPercentage": wanted[route["Bucket"]]}
                for route in routes
                if route["Bucket"] in wanted and route.get("TrafficDialPercentage") != wanted[route["Bucket"]]
            ]
            if updates:
                control.submit_multi_region_access_point_routes(AccountId=mrap["account"], Mrap=arn, RouteUpdates=updates)
                routes = control.get_multi_region_access_point_routes(AccountId=mrap["account"], Mrap=arn)["Routes"]
        except Exception as error:
            if not unreachable(error):
                raise
            errors.append(f"{region}: {type(error).__name__}")
            continue
        now = {route["Bucket"]: route.get("TrafficDialPercentage") for route in routes}
        if {bucket: now.get(bucket) for bucket in wanted} != wanted:
            raise RuntimeError(f"routes of {arn} read back from {region} as {now}; expected {wanted}")
        skipped = f" ({'; '.join(errors)} did not answer)" if errors else ""
        detail = ", ".join(f"{bucket} {percent}%" for bucket, percent in wanted.items())
        return {"Changed": bool(updates), "Detail": f"{detail} through {region}{skipped}; in effect within about 2 minutes"}
    raise RuntimeError(f"no S3 failover control endpoint answered: {', '.join(errors)}")


def check_capacity(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """One look: pending until every TargetRegion group has its desired count of InService instances."""
    plan, target, _ = plan_of(events)
    sizes = plan["regions"][target]["active"]
    groups = client_in("autoscaling", target).describe_auto_scaling_groups(AutoScalingGroupNames=list(sizes))["AutoScalingGroups"]
    in_service = {g["AutoScalingGroupName"]: sum(i["LifecycleState"] == "InService" for i in g["Instances"]) for g in groups}
    short = [f"{name} {count}/{sizes[name]['desired']}" for name, count in in_service.items() if count < sizes[name]["desired"]]
    return still_pending(events, bool(short), "; ".join(short) or "in service")


def verify_switch(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """End to end, from the APIs: the target's database is a standalone writer, its app reads that writer from its
    parameter, its tiers have the writer's sizes, the latch names it, and the source is fenced unless it did not
    answer. Raises naming every difference."""
    import json

    plan, target, source = plan_of(events)
    region = plan["regions"][target]
    problems = []
    db, writes, _ = (global_writer if plan.get("engine") == "aurora-postgresql" else instance_writer)(plan, target)
    if not writes or db is None:
        problems.append(f"{region['database']} is not an available standalone writer")
    else:
        pointed = json.loads(client_in("ssm", target).get_parameter(Name=region["parameter"], WithDecryption=True)["Parameter"]["Value"])
        if pointed != writer_endpoint(db, plan["secret"]):
            problems.append(f"{region['parameter']} is {pointed}")
    groups = client_in("autoscaling", target).describe_auto_scaling_groups(AutoScalingGroupNames=list(region["active"]))
    for group in groups["AutoScalingGroups"]:
        if group["DesiredCapacity"] < region["active"][group["AutoScalingGroupName"]]["desired"]:
            problems.append(f"{group['AutoScalingGroupName']} has desired {group['DesiredCapacity']}")
    if writer_region(client_in("ssm", plan["home"]), plan) != target:
        problems.append(f"the writer latch {plan['writer_parameter']} does not name {target}")
    fenced = "source did not answer: not checked"
    try:
        value = client_in("ssm", source, quick=True).get_parameter(Name=plan["regions"][source]["parameter"], WithDecryption=True)
        if json.loads(value["Parameter"]["Value"]).get("writable"):
            problems.append(f"{source}'s parameter still points at a writable database")
        fenced = f"{source} fenced"
    except Exception as error:
        if not unreachable(error):
            raise
    if problems:
        raise RuntimeError("; ".join(problems))
    return {"Verified": True, "Detail": f"{target} writes to {region['database']}; {fenced}"}


def inspect_rebuild(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """Is Region's database a replica of the writer in the other region? If not, what a new replica must keep of the
    old instance, as Terraform manages it: at creation (class, network, parameter group, key, Multi-AZ, storage and
    its autoscaling ceiling, monitoring, Performance Insights, IAM authentication, log exports, tags) and after it
    (backup retention and windows, which CreateDBInstanceReadReplica does not take). The writer must be standalone."""
    import json

    plan, region, other = plan_of(events, "Region")
    if plan.get("engine") == "aurora-postgresql":
        return inspect_global(plan, region, other)
    writer = database(client_in("rds", other), plan["regions"][other]["database"])
    if writer is None or writer.get("ReadReplicaSourceDBInstanceIdentifier") or writer["DBInstanceStatus"] != "available":
        raise RuntimeError(f"{plan['regions'][other]['database']} in {other} is not an available standalone writer to replicate from")
    rds = client_in("rds", region)
    db = database(rds, plan["regions"][region]["database"])
    if db is not None and db.get("ReadReplicaSourceDBInstanceIdentifier") == writer["DBInstanceArn"]:
        return {"AlreadyReplica": True, "Settings": "{}", "Later": "{}", "WriterArn": writer["DBInstanceArn"], "Exists": True}
    settings: dict[str, Any] = {}
    later: dict[str, Any] = {}
    if db is not None:
        settings = {
            "DBInstanceClass": db["DBInstanceClass"],
            "DBSubnetGroupName": db.get("DBSubnetGroup", {}).get("DBSubnetGroupName"),
            "VpcSecurityGroupIds": [g["VpcSecurityGroupId"] for g in db.get("VpcSecurityGroups", [])] or None,
            "DBParameterGroupName": db["DBParameterGroups"][0]["DBParameterGroupName"] if db.get("DBParameterGroups") else None,
            "MultiAZ": db.get("MultiAZ", False),
            "StorageType": db.get("StorageType"),
            "KmsKeyId": db.get("KmsKeyId"),
            "MonitoringInterval": db.get("MonitoringInterval"),
            "MonitoringRoleArn": db.get("MonitoringRoleArn"),
            "EnablePerformanceInsights": db.get("PerformanceInsightsEnabled"),
            "PerformanceInsightsKMSKeyId": db.get("PerformanceInsightsKMSKeyId"),
            "CopyTagsToSnapshot": db.get("CopyTagsToSnapshot"),
            "AutoMinorVersionUpgrade": db.get("AutoMinorVersionUpgrade"),
            "PerformanceInsightsRetentionPeriod": db.get("PerformanceInsightsRetentionPeriod"),
            "EnableIAMDatabaseAuthentication": db.get("IAMDatabaseAuthenticationEnabled"),
            "EnableCloudwatchLogsExports": db.get("EnabledCloudwatchLogsExports"),
            "MaxAllocatedStorage": db.get("MaxAllocatedStorage"),
            "PubliclyAccessible": db.get("PubliclyAccessible"),
            "Tags": rds.list_tags_for_resource(ResourceName=db["DBInstanceArn"]).get("TagList", []),
        }
        settings = {key: value for key, value in settings.items() if value is not None}
        later = {
            key: db.get(key) for key in ("BackupRetentionPeriod", "PreferredBackupWindow", "PreferredMaintenanceWindow") if db.get(key)
        }
    found = {"Settings": json.dumps(settings), "Later": json.dumps(later)}
    return {"AlreadyReplica": False, **found, "WriterArn": writer["DBInstanceArn"], "Exists": db is not None}


def inspect_global(plan: dict[str, Any], region: str, other: str) -> dict[str, Any]:
    """Aurora: the other region's cluster must be the global database's available writer. Region's cluster is
    "already a replica" when it is a secondary of the global database, which Aurora makes the old primary by itself
    once its region is healthy again after a failover (and a switchover keeps it one). A cluster outside the global
    database is not recreated here: the operator deletes it (after a snapshot) and applies the region's stack, which
    joins a new secondary (the page: aurora-global-database-disaster-recovery.html)."""
    writer, role = cluster(plan, other)
    if writer is None or role != "writer" or writer["Status"] != "available":
        raise RuntimeError(f"{plan['regions'][other]['database']} in {other} is not the global database's available writer")
    found, role = cluster(plan, region)
    if found is None or role != "secondary":
        state = "does not exist" if found is None else f"is {role}"
        raise RuntimeError(
            f"{plan['regions'][region]['database']} in {region} {state}, not a secondary of {plan['global_cluster']}: Aurora adds the old"
            " primary back once its region is healthy; if it stays outside, snapshot and delete it, then apply the region's stack"
        )
    return {"AlreadyReplica": True, "Settings": "{}", "Later": "{}", "WriterArn": writer["DBClusterArn"], "Exists": True}


def retire_old_writer(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """Delete Region's old database after a final snapshot (writes the other region may never have seen are kept
    there); deletion protection is lifted first. No change when it is gone."""
    import time

    plan, region, _ = plan_of(events, "Region")
    identifier = plan["regions"][region]["database"]
    rds = client_in("rds", region)
    db = database(rds, identifier)
    if db is None or db["DBInstanceStatus"] == "deleting":
        return {"Changed": False, "Snapshot": ""}
    if db.get("DeletionProtection"):
        rds.modify_db_instance(DBInstanceIdentifier=identifier, DeletionProtection=False, ApplyImmediately=True)
    snapshot = f"{identifier}-before-rebuild-{time.strftime('%Y%m%d%H%M%S', time.gmtime())}"
    rds.delete_db_instance(DBInstanceIdentifier=identifier, FinalDBSnapshotIdentifier=snapshot, DeleteAutomatedBackups=False)
    return {"Changed": True, "Snapshot": snapshot}


def check_gone(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """One look: pending until Region's database no longer exists."""
    plan, region, _ = plan_of(events, "Region")
    db = database(client_in("rds", region), plan["regions"][region]["database"])
    return still_pending(events, db is not None, db["DBInstanceStatus"] if db else "deleted")


def create_replica(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """Create Region's database again, as a cross-region replica of WriterArn with the old instance's Settings
    (the replica's key is Region's own; SourceRegion lets boto3 presign the request)."""
    import json

    plan, region, other = plan_of(events, "Region")
    identifier = plan["regions"][region]["database"]
    rds = client_in("rds", region)
    if database(rds, identifier) is not None:
        return {"Changed": False}
    settings = json.loads(events["Settings"] or "{}")
    settings.setdefault("KmsKeyId", plan["regions"][region]["database_key"])
    rds.create_db_instance_read_replica(
        DBInstanceIdentifier=identifier,
        SourceDBInstanceIdentifier=events["WriterArn"],
        SourceRegion=other,
        DeletionProtection=True,
        **settings,
    )
    return {"Changed": True}


def restore_settings(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """The new replica takes the old instance's backup retention and windows (Later), which a read replica is not
    created with; without an old instance, the plan's backup retention (what Terraform sets)."""
    import json

    plan, region, _ = plan_of(events, "Region")
    if plan.get("engine") == "aurora-postgresql":
        return {"Changed": False, "Detail": "as before (an Aurora secondary keeps its cluster's settings)"}
    identifier = plan["regions"][region]["database"]
    rds = client_in("rds", region)
    db = database(rds, identifier)
    wanted = json.loads(events["Later"] or "{}") or {"BackupRetentionPeriod": plan["backup_retention_days"]}
    changes = {key: value for key, value in wanted.items() if db is not None and db.get(key) != value}
    if changes:
        rds.modify_db_instance(DBInstanceIdentifier=identifier, ApplyImmediately=True, **changes)
    return {"Changed": bool(changes), "Detail": ", ".join(f"{key} {value}" for key, value in changes.items()) or "as before"}


def point_at_replica(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """Region's writer parameter names its replica (Aurora: its secondary cluster's endpoint), read-only: what
    Terraform wrote for a replica's region."""
    plan, region, _ = plan_of(events, "Region")
    if plan.get("engine") == "aurora-postgresql":
        db, _ = cluster(plan, region)
    else:
        db = database(client_in("rds", region), plan["regions"][region]["database"])
    if db is None:
        raise RuntimeError(f"{plan['regions'][region]['database']} does not exist in {region}")
    value = {**writer_endpoint(db, plan["secret"]), "writable": False}
    return {"Changed": put_secure(client_in("ssm", region), plan["regions"][region]["parameter"], value)}


def check_in_sync(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """One look: pending until Region's database is an available replica whose ReplicaLag is within the RPO (Aurora:
    an available secondary whose AuroraGlobalDBRPOLag is)."""
    plan, region, _ = plan_of(events, "Region")
    identifier = plan["regions"][region]["database"]
    if plan.get("engine") == "aurora-postgresql":
        found, role = cluster(plan, region)
        if found is None or found["Status"] != "available" or role != "secondary":
            return still_pending(events, True, f"{found['Status'] if found else 'absent'}, {role}")
        lag = latest_lag(client_in("cloudwatch", region), identifier, aurora=True)
        behind = "no AuroraGlobalDBRPOLag yet" if lag is None else f"{lag:.0f} s behind"
        return still_pending(events, lag is None or lag > plan["rpo_seconds"], behind)
    db = database(client_in("rds", region), identifier)
    if db is None or db["DBInstanceStatus"] != "available" or not db.get("ReadReplicaSourceDBInstanceIdentifier"):
        return still_pending(events, True, db["DBInstanceStatus"] if db else "absent")
    lag = latest_lag(client_in("cloudwatch", region), identifier)
    return still_pending(events, lag is None or lag > plan["rpo_seconds"], "no ReplicaLag yet" if lag is None else f"{lag:.0f} s behind")


#: The helpers each handler's script embeds.
HELPERS: dict[Callable[..., Any], tuple[Callable[..., Any], ...]] = {
    precheck: (
        plan_of,
        client_in,
        database,
        unreachable,
        lag_points,
        data_loss_estimate,
        source_database,
        replica_problems,
        cluster,
        source_cluster,
        global_problems,
        global_loss,
        writer_region,
        database_problems,
        instance_problems,
        launched_types,
        capacity_problems,
        secret_problems,
        certificate_problems,
    ),
    scale_target: (plan_of, client_in, set_sizes),
    fence_source: (plan_of, client_in, put_secure, unreachable),
    promote_target: (plan_of, client_in, database, cluster, unreachable, source_cluster, promote_replica, promote_global),
    check_promoted: (plan_of, client_in, database, cluster, instance_writer, global_writer, still_pending),
    take_over_credentials: (plan_of, client_in),
    repoint_app: (plan_of, client_in, database, cluster, instance_writer, global_writer, writer_endpoint, put_secure),
    move_writes: (plan_of, client_in, writer_region, publish_writer),
    route_storage: (plan_of, client_in, unreachable),
    check_capacity: (plan_of, client_in, still_pending),
    verify_switch: (plan_of, client_in, database, cluster, instance_writer, global_writer, writer_endpoint, writer_region, unreachable),
    inspect_rebuild: (plan_of, client_in, database, cluster, inspect_global),
    retire_old_writer: (plan_of, client_in, database),
    check_gone: (plan_of, client_in, database, still_pending),
    create_replica: (plan_of, client_in, database),
    restore_settings: (plan_of, client_in, database),
    point_at_replica: (plan_of, client_in, database, cluster, writer_endpoint, put_secure),
    check_in_sync: (plan_of, client_in, database, cluster, lag_points, latest_lag, still_pending),
}

#: Helpers only one engine's plan runs: a document embeds its own engine's (the other's branch never runs there).
ENGINE_ONLY: dict[str, tuple[Callable[..., Any], ...]] = {
    "postgres": (
        database,
        source_database,
        replica_problems,
        database_problems,
        instance_problems,
        data_loss_estimate,
        promote_replica,
        instance_writer,
    ),
    "aurora-postgresql": (cluster, source_cluster, global_problems, global_loss, inspect_global, promote_global, global_writer),
}


def helpers_for(handler: Callable[..., Any], engine: str) -> tuple[Callable[..., Any], ...]:
    """What `handler`'s script embeds in `engine`'s plan: its HELPERS without the other engine's."""
    other = {helper for name, helpers in ENGINE_ONLY.items() if name != engine for helper in helpers}
    return tuple(helper for helper in HELPERS.get(handler, ()) if helper not in other)
