"""The canary's script (lambda/canary/canary.py) against a real HTTP server on loopback: what passes, what fails and
how it says so, and the SigV4 signature an IAM-authorized API checks."""

from __future__ import annotations

import importlib.util
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "lambda" / "canary" / "canary.py"


def load() -> Any:
    spec = importlib.util.spec_from_file_location("canary_script", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


canary = load()


@pytest.fixture
def server() -> Iterator[tuple[str, list[dict[str, str]]]]:
    seen: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append({"path": self.path, **{k.lower(): v for k, v in self.headers.items()}})
            if self.path == "/hang":  # accepts, then never answers in time: a region going dark mid-request
                time.sleep(3)
            status = {"/ok": 200, "/missing": 404, "/boom": 503}.get(self.path, 403)
            self.send_response(status)
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", seen
    httpd.shutdown()


def test_checks_that_answer_as_expected_pass_and_the_others_are_named(server: tuple[str, list[dict[str, str]]]) -> None:
    base, _ = server
    checks = [
        {"name": "health", "url": f"{base}/ok", "expect": [200]},
        {"name": "item", "url": f"{base}/missing", "expect": [200, 404]},
        {"name": "down", "url": f"{base}/boom", "expect": [200]},
        {"name": "gone", "url": "http://127.0.0.1:9/ok", "expect": [200]},
        {"name": "dark", "url": f"{base}/hang", "expect": [200]},
    ]
    failures = canary.run_checks(checks, timeout=1)
    assert failures[0] == f"down: {base}/boom answered 503, expected 200"
    assert failures[1].startswith("gone: http://127.0.0.1:9/ok unreachable (")
    assert failures[2] == f"dark: {base}/hang unreachable (timed out)" and len(failures) == 3


def test_a_signed_check_carries_a_sigv4_signature_for_execute_api_in_its_region(
    server: tuple[str, list[dict[str, str]]], fake_aws: None
) -> None:
    base, seen = server
    assert canary.run_checks([{"name": "read", "url": f"{base}/missing", "expect": [404], "sign": "eu-central-1"}]) == []
    authorization = seen[-1]["authorization"]
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=testing/")
    assert (
        "/eu-central-1/execute-api/aws4_request" in authorization and "SignedHeaders=host;x-amz-date;x-amz-security-token" in authorization
    )
    assert canary.run_checks([{"name": "health", "url": f"{base}/ok", "expect": [200]}]) == []
    assert "authorization" not in seen[-1], "unsigned checks go as a browser would"


def test_the_handler_fails_the_run_naming_every_failed_check(
    server: tuple[str, list[dict[str, str]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, _ = server
    # parse_checks insists on https (what the stacks write); the run itself is driven through run_checks here
    checks = [{"name": "a", "url": f"{base}/boom", "expect": [200]}, {"name": "b", "url": f"{base}/ok", "expect": [200]}]
    monkeypatch.setattr(canary, "parse_checks", json.loads)
    monkeypatch.setenv("CHECKS", json.dumps(checks))
    with pytest.raises(RuntimeError, match=r"^a: http://127.0.0.1:\d+/boom answered 503, expected 200$"):
        canary.handler({}, None)
    monkeypatch.setenv("CHECKS", json.dumps(checks[1:]))
    assert canary.handler({}, None) == "1 checks passed"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "CHECKS: not JSON (Expecting value); expected a list of {name, url, expect, sign}"),
        ("{}", "CHECKS: got dict; expected a non-empty list of {name, url, expect, sign}"),
        ('[{"url": "http://x", "expect": [200]}]', "CHECKS[0].url: got 'http://x'; expected an https:// URL"),
        ('[{"url": "https://x", "expect": []}]', "CHECKS[0].expect: got []; expected a non-empty list of HTTP status codes"),
        ('[{"url": "https://x", "expect": [700]}]', "CHECKS[0].expect: got [700]; expected a non-empty list of HTTP status codes"),
    ],
)
def test_malformed_checks_are_refused_by_field(text: str, message: str) -> None:
    with pytest.raises(ValueError) as error:
        canary.parse_checks(text)
    assert str(error.value) == message


def test_the_stacks_checks_parse(synthesized: Any) -> None:
    for name in synthesized.stack_names:
        for body in synthesized.resources(name, "aws_synthetics_canary").values():
            assert canary.parse_checks(body["run_config"]["environment_variables"]["CHECKS"])
