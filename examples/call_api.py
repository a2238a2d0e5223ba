"""Call the active/active API (IAM authorization) whichever region answers: a SigV4A-signed request.

    python examples/call_api.py GET  https://api.example.com/items/42
    python examples/call_api.py POST https://api.example.com/items '{"id": "42", "data": {"colour": "blue"}}'

Weighted DNS sends a client to either region, and a SigV4 signature is valid only in the region its credential
scope names: half the requests of a client that signs for one region fail with 403 ("Credential should be scoped
to a valid region"). SigV4A signs for a set of regions (`X-Amz-Region-Set: *` here), and API Gateway's REST APIs
accept it with IAM authorization
(https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-control-access-using-iam-policies-to-invoke-api.html).
It needs the AWS Common Runtime: `pip install "botocore[crt]"`. Credentials come from the usual chain
(AWS_PROFILE, environment, SSO, instance role).
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import botocore.auth
import botocore.session
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials
from botocore.crt.auth import CrtSigV4AsymAuth

METHODS = ("GET", "POST", "PUT", "DELETE")
LOOPBACK = ("127.0.0.1", "localhost")


def signed_headers(method: str, url: str, body: bytes | None, credentials: ReadOnlyCredentials | None = None) -> dict[str, str]:
    """The headers of `method url` signed with SigV4A for every region (`*`), for the execute-api service."""
    if credentials is None:
        found = botocore.session.get_session().get_credentials()
        if found is None:
            raise SystemExit("call_api: no AWS credentials: set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
        credentials = found.get_frozen_credentials()
    request = AWSRequest(method=method, url=url, data=body, headers={"Content-Type": "application/json"} if body else {})
    CrtSigV4AsymAuth(credentials, "execute-api", "*").add_auth(request)
    return {name: str(value) for name, value in request.headers.items()}


def call(method: str, url: str, body: Any = None, credentials: ReadOnlyCredentials | None = None, timeout: float = 10) -> tuple[int, str]:
    """Send a signed request; returns the status and the response body. HTTPS only (plain HTTP to loopback alone)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in LOOPBACK):
        raise ValueError(f"url: got {url!r}; expected an https:// URL (http:// only to {' or '.join(LOOPBACK)})")
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    request = urllib.request.Request(url, data=data, method=method, headers=signed_headers(method, url, data, credentials))  # noqa: S310 - the scheme is checked above
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - the scheme is checked above
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3) or argv[0] not in METHODS:
        print(f"usage: python examples/call_api.py {'|'.join(METHODS)} URL [JSON body]", file=sys.stderr)
        return 2
    body = None
    if len(argv) == 3:
        try:
            body = json.loads(argv[2])
        except json.JSONDecodeError as error:
            print(f"call_api: body: not JSON ({error})", file=sys.stderr)
            return 2
    try:
        status, text = call(argv[0], argv[1], body)
    except ValueError as error:
        print(f"call_api: {error}", file=sys.stderr)
        return 2
    print(status, text)
    return 0 if status < 400 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
