"""Active/active API: health and item CRUD on the regional replica of a DynamoDB global table.

API Gateway REST API, Lambda proxy integration (payload v1). Routes:

    GET    /health        the table answers in this region -> 200, else 503
    POST   /items         create {"id": "...", "data": {...}}; a retry with the same body is a no-op (200)
    GET    /items/{id}    read
    PUT    /items/{id}    replace data {"data": {...}, "expected_version": n?}
    DELETE /items/{id}    delete (204 whether or not it existed, so retries are safe)

Bad input gets 400 with a message naming the field; unknown routes 404; known routes with another method 405.
Every request writes one JSON log line. Conditional writes are checked in this region; across regions the
global table resolves concurrent writes last-writer-wins.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
#: The WAF's AWSManagedRulesCommonRuleSet blocks request bodies over 8 KB (rule SizeRestrictions_BODY,
#: https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-baseline.html); the handler allows
#: the same, so a body is either refused at the edge or fully inspected there, never half-inspected.
MAX_BODY_BYTES = 8 * 1024
ITEM_ROUTE = re.compile(r"^/items/(?P<id>[^/]+)$")
ALLOWED_METHODS = {"/health": ("GET",), "/items": ("POST",), "/items/{id}": ("GET", "PUT", "DELETE")}
HEALTH_KEY = "__health__"

logger = logging.getLogger("api")
logger.setLevel(os.environ.get("LOG_LEVEL", "INFO"))

_table = None


class BadRequest(Exception):
    """Input the API rejects with 400; the message names the field."""


def table():
    """The regional table; created once per execution environment, with short timeouts and few retries."""
    global _table  # noqa: PLW0603 - reused across invocations of a warm Lambda
    if _table is None:
        config = Config(connect_timeout=2, read_timeout=3, retries={"max_attempts": 3, "mode": "standard"})
        _table = boto3.resource("dynamodb", config=config).Table(os.environ["TABLE_NAME"])
    return _table


def region() -> str:
    return os.environ.get("AWS_REGION", "unknown")


def response(status: int, body: Any = None, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", "X-Served-By-Region": region(), **(headers or {})},
        "body": "" if body is None else json.dumps(body, default=_json_default, separators=(",", ":")),
    }


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def error(status: int, message: str, *, headers: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
    return response(status, {"error": message, **extra}, headers)


def parse_body(event: dict[str, Any]) -> dict[str, Any]:
    raw = event.get("body")
    if raw is None or raw == "":
        raise BadRequest("body: required, a JSON object")
    if event.get("isBase64Encoded"):
        try:
            raw = base64.b64decode(raw).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            raise BadRequest("body: not valid base64-encoded UTF-8") from None
    if len(raw.encode("utf-8")) > MAX_BODY_BYTES:
        raise BadRequest(f"body: larger than {MAX_BODY_BYTES} bytes")
    try:
        body = json.loads(raw, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise BadRequest(f"body: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    if not isinstance(body, dict):
        raise BadRequest(f"body: expected a JSON object, got {type(body).__name__}")
    return body


def check_fields(body: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise BadRequest(f"{unknown[0]}: unknown field; allowed: {', '.join(sorted(allowed))}")


def item_id(value: Any, field: str = "id") -> str:
    if not isinstance(value, str) or not ID_PATTERN.match(value):
        raise BadRequest(f"{field}: expected 1-64 characters of A-Z, a-z, 0-9, '_' and '-', got {value!r}")
    if value == HEALTH_KEY:
        raise BadRequest(f"{field}: {HEALTH_KEY!r} is reserved")
    return value


def item_data(body: dict[str, Any]) -> dict[str, Any]:
    if "data" not in body:
        raise BadRequest("data: required, a JSON object")
    if not isinstance(body["data"], dict):
        raise BadRequest(f"data: expected a JSON object, got {type(body['data']).__name__}")
    return body["data"]


def error_code(exc: Exception) -> str:
    """The AWS error code of a failed call (e.g. ResourceNotFoundException), else the exception's type."""
    if isinstance(exc, ClientError):
        return exc.response.get("Error", {}).get("Code", "ClientError")
    return type(exc).__name__


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def public(item: dict[str, Any]) -> dict[str, Any]:
    return {key: item[key] for key in ("id", "data", "version", "created_at", "updated_at", "written_in") if key in item}


# --- routes ---


def health() -> dict[str, Any]:
    started = time.monotonic()
    try:
        table().get_item(Key={"id": HEALTH_KEY})
    except (ClientError, BotoCoreError) as exc:
        return response(503, {"status": "unhealthy", "region": region(), "reason": error_code(exc)})
    latency_ms = round((time.monotonic() - started) * 1000, 1)
    return response(200, {"status": "healthy", "region": region(), "table": os.environ["TABLE_NAME"], "latency_ms": latency_ms})


def create_item(event: dict[str, Any]) -> dict[str, Any]:
    body = parse_body(event)
    check_fields(body, {"id", "data"})
    key = item_id(body.get("id"))
    data = item_data(body)
    stamp = now()
    item = {"id": key, "data": data, "version": 1, "created_at": stamp, "updated_at": stamp, "written_in": region()}
    try:
        table().put_item(Item=item, ConditionExpression="attribute_not_exists(id)")
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        existing = table().get_item(Key={"id": key}, ConsistentRead=True).get("Item")
        if existing is not None and existing.get("data") == data:
            return response(200, public(existing))  # a retried create: same body, nothing changes
        return error(409, f"id: {key!r} already exists with other data")
    return response(201, public(item), {"Location": f"/items/{key}"})


def read_item(key: str, _event: dict[str, Any]) -> dict[str, Any]:
    item = table().get_item(Key={"id": key}).get("Item")
    return response(200, public(item)) if item else error(404, f"id: no item {key!r}")


def update_item(key: str, event: dict[str, Any]) -> dict[str, Any]:
    body = parse_body(event)
    check_fields(body, {"data", "expected_version"})
    data = item_data(body)
    expected = body.get("expected_version")
    if expected is not None and (isinstance(expected, bool) or not isinstance(expected, int) or expected < 1):
        raise BadRequest(f"expected_version: expected a positive integer, got {expected!r}")
    condition = "attribute_exists(id)" + (" AND version = :expected" if expected is not None else "")
    values: dict[str, Any] = {":data": data, ":one": 1, ":now": now(), ":region": region()}
    if expected is not None:
        values[":expected"] = expected
    try:
        result = table().update_item(
            Key={"id": key},
            UpdateExpression="SET #data = :data, version = version + :one, updated_at = :now, written_in = :region",
            ConditionExpression=condition,
            ExpressionAttributeNames={"#data": "data"},
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        current = table().get_item(Key={"id": key}, ConsistentRead=True).get("Item")
        if current is None:
            return error(404, f"id: no item {key!r}")
        return error(409, f"expected_version: item is at version {current['version']}, not {expected}")
    return response(200, public(result["Attributes"]))


def delete_item(key: str, _event: dict[str, Any]) -> dict[str, Any]:
    table().delete_item(Key={"id": key})
    return response(204)


ITEM_METHODS = {"GET": read_item, "PUT": update_item, "DELETE": delete_item}


def route(event: dict[str, Any]) -> dict[str, Any]:
    method = str(event.get("httpMethod", "")).upper()
    path = str(event.get("path") or "/")
    if len(path) > 1:
        path = path.rstrip("/")
    match = ITEM_ROUTE.match(path)
    template = "/items/{id}" if match else path
    if template not in ALLOWED_METHODS:
        return error(404, f"path: no route {path!r}; routes: {', '.join(ALLOWED_METHODS)}")
    if method not in ALLOWED_METHODS[template]:
        allowed = ", ".join(ALLOWED_METHODS[template])
        return error(405, f"method: {method or '<none>'} not allowed on {template}; allowed: {allowed}", headers={"Allow": allowed})
    if template == "/health":
        return health()
    if template == "/items":
        return create_item(event)
    key = item_id((event.get("pathParameters") or {}).get("id") or match.group("id"), "path id")
    return ITEM_METHODS[method](key, event)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point: route, answer, and log one JSON line."""
    started = time.monotonic()
    request_id = getattr(context, "aws_request_id", None) or "-"
    if not isinstance(event, dict):
        result = error(400, f"event: expected an API Gateway proxy event object, got {type(event).__name__}")
        event = {}
    else:
        try:
            result = route(event)
        except BadRequest as exc:
            result = error(400, str(exc))
        except (ClientError, BotoCoreError) as exc:
            logger.exception(json.dumps({"level": "ERROR", "message": "dynamodb call failed", "request_id": request_id}))
            result = error(503, f"table unavailable in {region()}: {error_code(exc)}", retryable=True)
    logger.info(
        json.dumps(
            {
                "level": "INFO",
                "message": "request",
                "request_id": request_id,
                "method": event.get("httpMethod"),
                "path": event.get("path"),
                "status": result["statusCode"],
                "duration_ms": round((time.monotonic() - started) * 1000, 1),
                "region": region(),
            }
        )
    )
    return result
