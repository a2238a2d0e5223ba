"""The repair in place (`repair-table`): put back what a damage window changed in the live table, item by item,
through the live global table, so both regions converge, with no outage and the table's history kept.

Two copies bound the damage: `<table>-before-recovery`, the table before the damage (RestoreDateTime or
BeforeBackupArn), and `<table>-after-recovery`, the table once the damage stopped (DamageEndDateTime or
AfterBackupArn). What differs between them is what the damage did. For each such item, the live table decides:

- live equals the copy after the damage: nobody wrote it since, so it is put back as it was before (or deleted,
  if the damage created it), conditionally on still being that (a write in between wins);
- live equals the copy before the damage: already repaired (a re-run);
- anything else: written since the damage by someone else; kept, and reported.

Every item the damage did not touch, and every item written only after it, stays as it is. The progress of each
pass (plan, then apply) is kept in an item of the after-copy (items read back consistently; tags do not), so a
stopped run resumes where it stopped; the copies are kept until the run succeeds. The conditional checks hold in
the home region; a write to the same item in the other region during the repair is settled by the global table
(last writer wins); and the condition compares the attributes the damage left, so an attribute another writer adds
between the read and the write is not caught.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from runbooks.common import still_pending
from runbooks.tables import restore_job_state, restore_target, start_backup_restore, table_state

# Each script runs on its own in SSM (only the functions HELPERS names are embedded), so the limits are literals:
# a tag value holds at most 256 characters of letters, digits, spaces and _ . : / = + -
# (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TaggingRestrictions.html); a condition expression is at
# most 4 KB (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html).


def copy_name(events: dict[str, Any], side: str) -> str:
    return f"{events['TableName']}-{side}-recovery"


def wanted_source(events: dict[str, Any], side: str) -> str:
    """What the copy on `side` is restored from: a backup ARN, or `pitr/<time>` of the live table."""
    backup, moment = ("BeforeBackupArn", "RestoreDateTime") if side == "before" else ("AfterBackupArn", "DamageEndDateTime")
    return events.get(backup) or f"pitr/{events.get(moment, '')}"


def check_window(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """Refuse a damage window that cannot be restored: each side needs a time or a backup (not both), the times in
    ISO 8601 with a zone, the start before the end, and a point-in-time side within the live table's restorable
    period (LatestRestorableDateTime runs about five minutes behind now:
    https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PointInTimeRecoveryDescription.html)."""
    import datetime

    import boto3

    problems, moments = [], {}
    for side, backup, moment in (("before", "BeforeBackupArn", "RestoreDateTime"), ("after", "AfterBackupArn", "DamageEndDateTime")):
        if bool(events.get(backup)) == bool(events.get(moment)):
            problems.append(f"{moment}/{backup}: expected exactly one of them (the table {side} the damage)")
        elif events.get(moment):
            try:
                moments[moment] = datetime.datetime.fromisoformat(events[moment])
            except ValueError:
                problems.append(f"{moment}: got {events[moment]!r}; expected an ISO 8601 time such as 2026-11-23T09:55:00+00:00")
                continue
            if moments[moment].tzinfo is None:
                problems.append(f"{moment}: got {events[moment]!r}; expected a time with its zone (+00:00)")
    start, end = moments.get("RestoreDateTime"), moments.get("DamageEndDateTime")
    if start and end and start.tzinfo and end.tzinfo and start >= end:
        problems.append(
            f"RestoreDateTime: got {events['RestoreDateTime']}; expected a time before DamageEndDateTime ({events['DamageEndDateTime']})"
        )
    aware = {name: value for name, value in moments.items() if value.tzinfo}
    if aware and not problems:
        client = boto3.client("dynamodb", region_name=events["Region"])
        recovery = client.describe_continuous_backups(TableName=events["TableName"])["ContinuousBackupsDescription"]
        period = recovery.get("PointInTimeRecoveryDescription", {})
        if period.get("PointInTimeRecoveryStatus") != "ENABLED":
            status = period.get("PointInTimeRecoveryStatus", "DISABLED")
            raise ValueError(
                f"{', '.join(aware)}: {events['TableName']} has point-in-time recovery {status}; give BeforeBackupArn and"
                " AfterBackupArn instead"
            )
        earliest, latest = period.get("EarliestRestorableDateTime"), period.get("LatestRestorableDateTime")
        for name, value in aware.items():
            if earliest and latest and not earliest <= value <= latest:
                problems.append(
                    f"{name}: got {events[name]}; expected a time from {earliest.isoformat()} to {latest.isoformat()} (the latest"
                    " restorable time runs about 5 minutes behind now: wait, or pass an on-demand backup taken now as AfterBackupArn)"
                )
    if problems:
        raise ValueError("; ".join(problems))
    return {"Before": wanted_source(events, "before"), "After": wanted_source(events, "after")}


def source_tag(client: Any, table_arn: str) -> str:
    """The copy's RepairSource tag (every page of its tags), or ""."""
    request, found = {"ResourceArn": table_arn}, ""
    while True:
        page = client.list_tags_of_resource(**request)
        found = next((tag["Value"] for tag in page.get("Tags", []) if tag["Key"] == "RepairSource"), found)
        if not page.get("NextToken"):
            return found
        request["NextToken"] = page["NextToken"]


def tag_safe(text: str) -> str:
    """`text` in the characters a tag value allows, at most 256 of them."""
    import re

    return re.sub(r"[^\w .:/=+\-]", "_", text)[:256]


def discard_stale(client: Any, events: dict[str, Any]) -> list[str]:
    """Delete each ACTIVE copy that is not of this run's window (its RepairSource tag says what it was restored
    from; a copy without the tag never finished, so it is not trusted); returns the names deleted."""
    discarded = []
    for side in ("before", "after"):
        name = copy_name(events, side)
        if table_state(client, name) != "ACTIVE":
            continue
        arn = client.describe_table(TableName=name)["Table"]["TableArn"]
        if source_tag(client, arn) != tag_safe(wanted_source(events, side)):
            client.delete_table(TableName=name)
            discarded.append(name)
    return discarded


def discard_stale_copies(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """Delete the copies a stopped run left that are not of this run's window; a copy of the same window is kept
    and reused."""
    import boto3

    return {"Discarded": ", ".join(discard_stale(boto3.client("dynamodb", region_name=events["Region"]), events)) or "none"}


def check_stale_gone(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """Pending while a copy is being deleted, or still being restored by a stopped run (which is then judged, and
    discarded if stale, once ACTIVE): no copy of another window survives into this run."""
    import boto3

    client = boto3.client("dynamodb", region_name=events["Region"])
    discarded = discard_stale(client, events)
    states = {copy_name(events, side): table_state(client, copy_name(events, side)) for side in ("before", "after")}
    busy = [f"{name} {state}" for name, state in states.items() if state in ("DELETING", "CREATING")]
    return still_pending(events, bool(busy or discarded), "; ".join(busy) or "no stale copy")


def restore_copies(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """Start restoring each copy that does not exist, from its side of the window; an existing one is this window's
    (the stale ones are gone) and is reused. Returns the AWS Backup jobs, comma-separated, empty for none."""
    import boto3

    client = boto3.client("dynamodb", region_name=events["Region"])
    jobs = []
    for side in ("before", "after"):
        name = copy_name(events, side)
        if table_state(client, name) != "ABSENT":
            continue
        source = wanted_source(events, side)
        if source.startswith("pitr/"):
            moment = {"RestoreDateTime": source.removeprefix("pitr/")}
            client.restore_table_to_point_in_time(SourceTableName=events["TableName"], **restore_target(events, name), **moment_of(moment))
        elif ":backup:" in source.split("/")[0]:
            jobs.append(start_backup_restore(events, source, name))
        else:
            client.restore_table_from_backup(BackupArn=source, **restore_target(events, name))
    return {"RestoreJobs": ",".join(jobs)}


def moment_of(events: dict[str, Any]) -> dict[str, Any]:
    import datetime

    return {"RestoreDateTime": datetime.datetime.fromisoformat(events["RestoreDateTime"])}


def check_copies(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """Pending until both copies are ACTIVE; a failed AWS Backup job raises. Each ACTIVE copy is tagged with what it
    was restored from, which is how a re-run knows it."""
    import boto3

    client = boto3.client("dynamodb", region_name=events["Region"])
    for job in [job for job in str(events.get("RestoreJobs", "")).split(",") if job]:
        restore_job_state({**events, "RestoreJobId": job})
    states = []
    for side in ("before", "after"):
        name = copy_name(events, side)
        state = table_state(client, name)
        if state == "ACTIVE":
            arn = client.describe_table(TableName=name)["Table"]["TableArn"]
            client.tag_resource(ResourceArn=arn, Tags=[{"Key": "RepairSource", "Value": tag_safe(wanted_source(events, side))}])
        states.append(f"{name} {state}")
    return still_pending(events, any(not state.endswith(" ACTIVE") for state in states), "; ".join(states))


def same(first: dict[str, Any] | None, second: dict[str, Any] | None) -> bool:
    """Two items (attribute name -> low-level attribute value) are equal: sets compare as sets, numbers as
    numbers, maps and lists member by member. Decoded by position, never by guessing from a key's name."""
    from decimal import Decimal

    def value(attribute: dict[str, Any]) -> Any:
        ((kind, inner),) = attribute.items()
        if kind == "M":
            return kind, {name: value(member) for name, member in inner.items()}
        if kind == "L":
            return kind, [value(member) for member in inner]
        if kind == "N":
            return kind, Decimal(inner)
        if kind == "NS":
            return kind, frozenset(Decimal(number) for number in inner)
        return kind, frozenset(inner) if kind in ("SS", "BS") else inner

    if first is None or second is None:
        return first is second
    return first.keys() == second.keys() and all(value(first[name]) == value(second[name]) for name in first)


def condition_on(item: dict[str, Any] | None, key_names: list[str]) -> dict[str, Any]:
    """A condition that the live item is still exactly `item` (absent when None), for a conditional write."""
    if item is None:
        return {"ConditionExpression": " AND ".join(f"attribute_not_exists(#k{i})" for i in range(len(key_names))),
                "ExpressionAttributeNames": {f"#k{i}": name for i, name in enumerate(key_names)}}  # fmt: skip
    names = {f"#a{i}": name for i, name in enumerate(item)}
    values = {f":v{i}": value for i, value in enumerate(item.values())}
    expression = " AND ".join(f"#a{i} = :v{i}" for i in range(len(item)))
    return {"ConditionExpression": expression, "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}


def progress_key(client: Any, copy: str) -> dict[str, Any]:
    """The key of the progress item kept in the after-copy (a scratch table of this run): every key attribute the
    string `__repair_progress__`. Items, unlike tags, read back consistently; a table whose key is not made of
    strings is refused by name."""
    table = client.describe_table(TableName=copy)["Table"]
    kinds = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
    names = [part["AttributeName"] for part in table["KeySchema"]]
    if any(kinds[name] != "S" for name in names):
        raise ValueError(f"TableName: the repair keeps its place in an item keyed by strings; this table's key is {kinds}")
    return {name: {"S": "__repair_progress__"} for name in names}


def read_progress(client: Any, copy: str, key: dict[str, Any], mode: str) -> dict[str, Any]:
    """This pass's progress (phase before, after or done; cursor; counts; the first kept ids), from the after-copy."""
    import json

    item = client.get_item(TableName=copy, Key=key, ConsistentRead=True).get("Item", {})
    saved = json.loads(item[mode]["S"]) if mode in item else {}
    counts = {name: 0 for name in ("restored", "removed", "kept", "already")} | saved.get("counts", {})
    return {"phase": saved.get("phase", "before"), "cursor": saved.get("cursor"), "counts": counts, "kept": saved.get("kept", [])}


def write_progress(client: Any, copy: str, key: dict[str, Any], mode: str, progress: dict[str, Any]) -> None:
    import json

    saved = {**progress, "kept": progress["kept"][:20]}
    client.update_item(TableName=copy, Key=key, UpdateExpression="SET #m = :p", ExpressionAttributeNames={"#m": mode},
                       ExpressionAttributeValues={":p": {"S": json.dumps(saved)}})  # fmt: skip


def repair_item(client: Any, events: dict[str, Any], key: dict[str, Any], before: Any, after: Any, *, apply: bool) -> str:
    """Decide (and with `apply`, do) one damaged item: restored, removed, kept or already."""
    live = client.get_item(TableName=events["TableName"], Key=key, ConsistentRead=True).get("Item")
    if same(live, before):
        return "already"
    if not same(live, after):
        return "kept"
    verdict = "restored" if before is not None else "removed"
    if not apply:
        return verdict
    guard = condition_on(after, list(key))
    if len(guard["ConditionExpression"]) > 4096:
        return "kept"  # more attributes than one condition expression can compare: left for a person, and reported
    try:
        if before is not None:
            client.put_item(TableName=events["TableName"], Item=before, **guard)
        else:
            client.delete_item(TableName=events["TableName"], Key=key, **guard)
    except client.exceptions.ConditionalCheckFailedException:
        return "kept"  # written between the read and the write: the newer write wins
    return verdict


def repair_pass(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """One bounded pass (BudgetSeconds) of the plan (Mode plan: count, write nothing) or the repair (Mode apply).
    Phase before: scan the before-copy, compare each page with the after-copy (BatchGetItem); phase after: scan the
    after-copy for items the before-copy lacks (created by the damage). Pending until both phases are done."""
    import time

    import boto3

    client = boto3.client("dynamodb", region_name=events["Region"])
    mode, deadline = events["Mode"], time.monotonic() + int(events.get("BudgetSeconds", 90))
    names = {side: copy_name(events, side) for side in ("before", "after")}
    key_names = [part["AttributeName"] for part in client.describe_table(TableName=events["TableName"])["Table"]["KeySchema"]]
    marker = progress_key(client, names["after"])
    progress = read_progress(client, names["after"], marker, mode)
    while progress["phase"] != "done" and time.monotonic() < deadline:
        scanned, other = (names["before"], names["after"]) if progress["phase"] == "before" else (names["after"], names["before"])
        page = client.scan(TableName=scanned, Limit=100, ConsistentRead=True,
                           **({"ExclusiveStartKey": progress["cursor"]} if progress["cursor"] else {}))  # fmt: skip
        keys = [{name: item[name] for name in key_names} for item in page["Items"]]
        found = client.batch_get_item(RequestItems={other: {"Keys": keys, "ConsistentRead": True}})["Responses"][other] if keys else []
        # a page of at most 100 keys of items under 400 KB each can exceed BatchGetItem's 16 MB: unprocessed keys are read one by one
        counterpart = {tuple(sorted((n, str(i[n])) for n in key_names)): i for i in found}
        for item, key in zip(page["Items"], keys, strict=True):
            if key == marker:
                continue  # the progress item itself
            match = counterpart.get(tuple(sorted((n, str(item[n])) for n in key_names)))
            if match is None and len(found) < len(keys):
                match = client.get_item(TableName=other, Key=key, ConsistentRead=True).get("Item")
            if progress["phase"] == "after" and match is not None:
                continue  # in both copies: the before phase has seen it
            before, after = (item, match) if progress["phase"] == "before" else (None, item)
            if same(before, after):
                continue
            verdict = repair_item(client, events, key, before, after, apply=mode == "apply")
            progress["counts"][verdict] += 1
            if verdict == "kept":
                progress["kept"].append("/".join(str(next(iter(key[n].values()))) for n in key_names))
        progress["cursor"] = page.get("LastEvaluatedKey")
        if progress["cursor"] is None:
            progress["phase"] = "after" if progress["phase"] == "before" else "done"
        write_progress(client, names["after"], marker, mode, progress)
    counts = progress["counts"]
    status = ", ".join(f"{count} {name}" for name, count in counts.items()) + (
        f" (kept: {' '.join(progress['kept'][:20])})" if progress["kept"] else ""
    )
    return {**still_pending(events, progress["phase"] != "done", status), **{name.title(): count for name, count in counts.items()},
            "KeptIds": " ".join(progress["kept"][:20])}  # fmt: skip


def delete_copies(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """Delete both copies once the repair succeeded (their names end in -recovery; never the live table)."""
    import boto3

    client = boto3.client("dynamodb", region_name=events["Region"])
    deleted = []
    for side in ("before", "after"):
        name = copy_name(events, side)
        if not name.endswith("-recovery") or name == events["TableName"]:
            raise ValueError(f"TableName: {name!r} is not a repair copy")
        if table_state(client, name) == "ACTIVE":
            client.delete_table(TableName=name)
            deleted.append(name)
    return {"Deleted": ", ".join(deleted) or "none"}


#: Helpers each handler's script needs besides itself.
HELPERS: dict[Callable[..., Any], tuple[Callable[..., Any], ...]] = {
    check_window: (wanted_source,),
    discard_stale_copies: (copy_name, wanted_source, table_state, source_tag, tag_safe, discard_stale),
    check_stale_gone: (copy_name, wanted_source, table_state, source_tag, tag_safe, discard_stale, still_pending),
    restore_copies: (copy_name, wanted_source, table_state, restore_target, moment_of, start_backup_restore),
    check_copies: (copy_name, wanted_source, table_state, restore_job_state, tag_safe, still_pending),
    repair_pass: (copy_name, same, condition_on, progress_key, read_progress, write_progress, repair_item, still_pending),
    delete_copies: (copy_name, table_state),
}
