"""CloudWatch Synthetics canary: request each path users take over HTTPS and fail the run unless every one answers
as expected.

CHECKS (environment, JSON): a list of {"name", "url", "expect": [status, ...], "sign": region or null}. A check
with "sign" is signed with SigV4 for execute-api in that region with the canary's own credentials, as an
IAM-authorized caller would sign it; the others go unsigned, as a browser would. The run fails (the canary's
SuccessPercent drops, its alarm pages) when any check answers another status, times out, or cannot connect; the
error names every failed check.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

TIMEOUT_SECONDS = 10
Signer = Callable[[str, str, str], Mapping[str, str]]  # (method, url, region) -> headers


def parse_checks(text: str) -> list[dict[str, Any]]:
    """The CHECKS list, refused with the field and what is allowed when malformed."""
    try:
        checks = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"CHECKS: not JSON ({error.msg}); expected a list of {{name, url, expect, sign}}") from None
    if not isinstance(checks, list) or not checks:
        raise ValueError(f"CHECKS: got {type(checks).__name__}; expected a non-empty list of {{name, url, expect, sign}}")
    for index, check in enumerate(checks):
        url = check.get("url") if isinstance(check, dict) else None
        if not isinstance(url, str) or not url.startswith("https://"):
            raise ValueError(f"CHECKS[{index}].url: got {url!r}; expected an https:// URL")
        expect = check.get("expect")
        if not isinstance(expect, list) or not expect or not all(isinstance(code, int) and 100 <= code <= 599 for code in expect):
            raise ValueError(f"CHECKS[{index}].expect: got {expect!r}; expected a non-empty list of HTTP status codes")
    return checks


def sigv4_signer(method: str, url: str, region: str) -> Mapping[str, str]:
    """SigV4 headers for execute-api in `region`, from the credentials the canary runs with."""
    credentials = botocore.session.get_session().get_credentials()
    if credentials is None:
        raise RuntimeError("no AWS credentials to sign with")
    request = AWSRequest(method=method, url=url)
    SigV4Auth(credentials.get_frozen_credentials(), "execute-api", region).add_auth(request)
    return dict(request.headers.items())


def run_checks(checks: list[dict[str, Any]], *, signer: Signer = sigv4_signer, timeout: float = TIMEOUT_SECONDS) -> list[str]:
    """Request every check; return one line per check that did not answer as expected (empty: all passed)."""
    failures = []
    for check in checks:
        url, name = check["url"], check.get("name", check["url"])
        headers = {"User-Agent": "hadr-canary"}
        if check.get("sign"):
            headers.update(signer("GET", url, check["sign"]))
        request = urllib.request.Request(url, headers=headers, method="GET")  # noqa: S310 - the stacks write https:// URLs only (parse_checks)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - the stacks write https:// URLs only (parse_checks)
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            failures.append(f"{name}: {url} unreachable ({getattr(error, 'reason', error)})")
            continue
        if status not in check["expect"]:
            failures.append(f"{name}: {url} answered {status}, expected {' or '.join(map(str, check['expect']))}")
    return failures


def handler(event: Any, context: Any) -> str:
    """Synthetics entry point: an exception fails the run."""
    checks = parse_checks(os.environ.get("CHECKS", ""))
    failures = run_checks(checks)
    if failures:
        raise RuntimeError("; ".join(failures))
    return f"{len(checks)} checks passed"
