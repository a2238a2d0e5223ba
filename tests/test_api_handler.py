"""The active/active API handler against DynamoDB in moto: real boto3 calls, no hand-made mocks."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from types import ModuleType, SimpleNamespace
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.conftest import load_lambda

REGION = "eu-west-1"
TABLE = "hadr-prod-items"


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch, fake_aws: None) -> Iterator[ModuleType]:
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("TABLE_NAME", TABLE)
    with mock_aws():
        boto3.client("dynamodb", region_name=REGION).create_table(
            TableName=TABLE,
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield load_lambda("api")


def call(api: ModuleType, method: str, path: str, body: Any = None, *, raw: str | None = None, **extra: Any) -> tuple[int, Any, dict]:
    event = {"httpMethod": method, "path": path, "body": raw if raw is not None else (None if body is None else json.dumps(body))}
    event.update(extra)
    result = api.handler(event, SimpleNamespace(aws_request_id="req-1"))
    payload = json.loads(result["body"]) if result["body"] else None
    return result["statusCode"], payload, result["headers"]


def stored(item_id: str) -> dict[str, Any] | None:
    return boto3.resource("dynamodb", region_name=REGION).Table(TABLE).get_item(Key={"id": item_id}).get("Item")


def test_health_reads_the_table_in_its_own_region(api: ModuleType) -> None:
    status, body, headers = call(api, "GET", "/health")
    assert status == 200
    assert (body["status"], body["region"], body["table"]) == ("healthy", REGION, TABLE)
    assert headers["X-Served-By-Region"] == REGION


def test_health_is_503_when_the_table_is_gone(api: ModuleType) -> None:
    boto3.client("dynamodb", region_name=REGION).delete_table(TableName=TABLE)
    status, body, _ = call(api, "GET", "/health")
    assert status == 503
    assert (body["status"], body["reason"]) == ("unhealthy", "ResourceNotFoundException")


def test_create_read_update_delete_round_trip(api: ModuleType) -> None:
    status, created, headers = call(api, "POST", "/items", {"id": "order-1", "data": {"qty": 2, "price": 9.5}})
    assert status == 201 and headers["Location"] == "/items/order-1"
    assert (created["version"], created["written_in"], created["data"]) == (1, REGION, {"qty": 2, "price": 9.5})
    assert stored("order-1")["data"] == {"qty": 2, "price": api.Decimal("9.5")}

    status, read, _ = call(api, "GET", "/items/order-1")
    assert status == 200 and read == created

    status, updated, _ = call(api, "PUT", "/items/order-1", {"data": {"qty": 3}, "expected_version": 1})
    assert status == 200 and (updated["version"], updated["data"]) == (2, {"qty": 3})
    assert stored("order-1")["version"] == 2

    status, body, _ = call(api, "DELETE", "/items/order-1")
    assert (status, body) == (204, None) and stored("order-1") is None
    assert call(api, "DELETE", "/items/order-1")[0] == 204, "a retried delete is safe"
    assert call(api, "GET", "/items/order-1")[:2] == (404, {"error": "id: no item 'order-1'"})


def test_retried_create_is_idempotent_and_a_conflicting_one_is_409(api: ModuleType) -> None:
    first = call(api, "POST", "/items", {"id": "a", "data": {"v": 1}})
    retry = call(api, "POST", "/items", {"id": "a", "data": {"v": 1}})
    assert (first[0], retry[0]) == (201, 200)
    assert retry[1]["created_at"] == first[1]["created_at"] and retry[1]["version"] == 1
    status, body, _ = call(api, "POST", "/items", {"id": "a", "data": {"v": 2}})
    assert (status, body) == (409, {"error": "id: 'a' already exists with other data"})
    assert stored("a")["data"] == {"v": 1}


def test_update_checks_existence_and_expected_version(api: ModuleType) -> None:
    assert call(api, "PUT", "/items/missing", {"data": {}})[:2] == (404, {"error": "id: no item 'missing'"})
    assert stored("missing") is None
    call(api, "POST", "/items", {"id": "b", "data": {"v": 1}})
    status, body, _ = call(api, "PUT", "/items/b", {"data": {"v": 9}, "expected_version": 7})
    assert (status, body) == (409, {"error": "expected_version: item is at version 1, not 7"})
    assert stored("b")["data"] == {"v": 1}


@pytest.mark.parametrize(
    ("method", "path", "raw", "message"),
    [
        ("POST", "/items", "{not json", "body: not valid JSON (Expecting property name enclosed in double quotes at line 1 column 2)"),
        ("POST", "/items", None, "body: required, a JSON object"),
        ("POST", "/items", "[1, 2]", "body: expected a JSON object, got list"),
        ("POST", "/items", '{"data": {}}', "id: expected 1-64 characters of A-Z, a-z, 0-9, '_' and '-', got None"),
        (
            "POST",
            "/items",
            '{"id": "has space", "data": {}}',
            "id: expected 1-64 characters of A-Z, a-z, 0-9, '_' and '-', got 'has space'",
        ),
        ("POST", "/items", '{"id": "x"}', "data: required, a JSON object"),
        ("POST", "/items", '{"id": "x", "data": 5}', "data: expected a JSON object, got int"),
        ("POST", "/items", '{"id": "x", "data": {}, "owner": "me"}', "owner: unknown field; allowed: data, id"),
        ("POST", "/items", '{"id": "__health__", "data": {}}', "id: '__health__' is reserved"),
        ("PUT", "/items/x", '{"data": {}, "expected_version": "1"}', "expected_version: expected a positive integer, got '1'"),
        ("PUT", "/items/x", '{"data": {}, "expected_version": true}', "expected_version: expected a positive integer, got True"),
        ("GET", "/items/" + "x" * 65, None, f"path id: expected 1-64 characters of A-Z, a-z, 0-9, '_' and '-', got {'x' * 65!r}"),
    ],
)
def test_bad_input_is_400_naming_the_field(api: ModuleType, method: str, path: str, raw: str | None, message: str) -> None:
    status, body, _ = call(api, method, path, raw=raw)
    assert (status, body) == (400, {"error": message})


def test_oversized_and_base64_bodies(api: ModuleType) -> None:
    envelope = len(json.dumps({"id": "x", "data": {"blob": ""}}))
    at_limit = json.dumps({"id": "x", "data": {"blob": "y" * (8192 - envelope)}})
    assert len(at_limit) == 8192 and call(api, "POST", "/items", raw=at_limit)[0] == 201
    big = json.dumps({"id": "x2", "data": {"blob": "y" * (8193 - envelope)}})
    assert call(api, "POST", "/items", raw=big)[:2] == (400, {"error": "body: larger than 8192 bytes"})
    encoded = api.base64.b64encode(json.dumps({"id": "b64", "data": {"ok": True}}).encode()).decode()
    assert call(api, "POST", "/items", raw=encoded, isBase64Encoded=True)[0] == 201
    assert stored("b64")["data"] == {"ok": True}


def test_unknown_route_404_and_wrong_method_405(api: ModuleType) -> None:
    status, body, _ = call(api, "GET", "/nope")
    assert (status, body) == (404, {"error": "path: no route '/nope'; routes: /health, /items, /items/{id}"})
    status, body, headers = call(api, "PATCH", "/items/a")
    assert status == 405 and headers["Allow"] == "GET, PUT, DELETE"
    assert body == {"error": "method: PATCH not allowed on /items/{id}; allowed: GET, PUT, DELETE"}


def test_event_that_is_not_an_object_is_400(api: ModuleType) -> None:
    result = api.handler(["not", "an", "event"], None)
    assert result["statusCode"] == 400
    assert json.loads(result["body"]) == {"error": "event: expected an API Gateway proxy event object, got list"}


def test_each_request_logs_one_json_line(api: ModuleType, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="api"):
        call(api, "GET", "/items/none")
    (record,) = [json.loads(r.getMessage()) for r in caplog.records if r.name == "api"]
    assert record["status"] == 404 and record["method"] == "GET" and record["path"] == "/items/none"
    assert record["request_id"] == "req-1" and record["region"] == REGION and record["duration_ms"] >= 0


def test_table_failure_during_a_request_is_503_and_retryable(api: ModuleType) -> None:
    boto3.client("dynamodb", region_name=REGION).delete_table(TableName=TABLE)
    status, body, _ = call(api, "GET", "/items/a")
    assert (status, body) == (503, {"error": "table unavailable in eu-west-1: ResourceNotFoundException", "retryable": True})


def test_the_handler_accepts_exactly_what_the_waf_lets_through(api: ModuleType, synthesized: Any) -> None:
    """The common rule set blocks bodies over 8 KB (SizeRestrictions_BODY); no ACL overrides that rule."""
    from modules.waf import COMMON_RULE_SET_MAX_BODY_BYTES

    assert api.MAX_BODY_BYTES == COMMON_RULE_SET_MAX_BODY_BYTES == 8 * 1024
    for stack in ("active-active-eu-west-1", "active-active-eu-central-1"):
        (acl,) = synthesized.resources(stack, "aws_wafv2_web_acl").values()
        groups = {
            rule["statement"]["managed_rule_group_statement"]["name"]: rule
            for rule in acl["rule"]
            if "managed_rule_group_statement" in rule["statement"]
        }
        common = groups["AWSManagedRulesCommonRuleSet"]["statement"]["managed_rule_group_statement"]
        assert "rule_action_override" not in common and groups["AWSManagedRulesCommonRuleSet"]["override_action"] == {"none": {}}
