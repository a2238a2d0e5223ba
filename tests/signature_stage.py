"""A stand-in for one regional stage of an IAM-authorized API: a loopback HTTP server that checks a request's
signature the way AWS documents Signature Version 4 and 4A, and answers 200 with its region, or 403.

- SigV4 (`AWS4-HMAC-SHA256`): the credential scope must name this region; the HMAC is recomputed from the
  secret (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html).
- SigV4A (`AWS4-ECDSA-P256-SHA256`): `X-Amz-Region-Set` must include this region (`*` or a wildcard does); the
  ECDSA P-256 signature is verified with the public key derived from the credentials, as the AWS Common Runtime
  derives it (an HMAC-SHA256 KDF in counter mode over "AWS4A" + secret; candidate + 1 once below the order - 1)
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv.html#how-sigv4a-works).
moto's API Gateway checks no signature, so this is where a client's signing is proven.
"""

from __future__ import annotations

import datetime
import fnmatch
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

SERVICE = "execute-api"
#: The order of P-256, less 2: a derived candidate must not exceed it.
P256_ORDER_MINUS_2 = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC63254F
MAX_SKEW = datetime.timedelta(minutes=15)
MISMATCH = "The request signature we calculated does not match the signature you provided."


def sigv4a_public_key(access_key: str, secret_key: str) -> ec.EllipticCurvePublicKey:
    """The P-256 public key a SigV4A signer derives from the credentials."""
    for counter in range(1, 255):
        fixed = b"\x00\x00\x00\x01" + b"AWS4-ECDSA-P256-SHA256" + b"\x00" + access_key.encode() + bytes([counter]) + b"\x00\x00\x01\x00"
        candidate = int.from_bytes(hmac.new(b"AWS4A" + secret_key.encode(), fixed, hashlib.sha256).digest(), "big")
        if candidate <= P256_ORDER_MINUS_2:
            return ec.derive_private_key(candidate + 1, ec.SECP256R1()).public_key()
    raise ValueError("no key derivable")


def canonical_request(method: str, target: str, headers: dict[str, str], signed: list[str], body: bytes) -> str:
    parts = urlsplit(target)
    path = quote(parts.path or "/", safe="/~")
    query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(parse_qsl(parts.query, keep_blank_values=True)))
    canonical_headers = "".join(f"{name}:{' '.join(headers[name].split())}\n" for name in signed)
    return "\n".join([method, path, query, canonical_headers, ";".join(signed), hashlib.sha256(body).hexdigest()])


def refusal(region: str, method: str, target: str, headers: dict[str, str], body: bytes, secrets: dict[str, str]) -> str:
    """Why this stage refuses the request, or "" when the signature holds here."""
    authorization = headers.get("authorization", "")
    algorithm, _, rest = authorization.partition(" ")
    fields = dict(part.strip().split("=", 1) for part in rest.split(",") if "=" in part)
    try:
        access_key, date, *scope = fields["Credential"].split("/")
        signed, signature = fields["SignedHeaders"].split(";"), fields["Signature"]
        stamp = datetime.datetime.strptime(headers["x-amz-date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.UTC)
    except (KeyError, ValueError):
        return "Missing Authentication Token"
    if abs(datetime.datetime.now(datetime.UTC) - stamp) > MAX_SKEW:
        return "Signature expired"
    if access_key not in secrets or "host" not in signed or any(name not in headers for name in signed):
        return "The security token included in the request is invalid."
    digest = hashlib.sha256(canonical_request(method, target, headers, signed, body).encode()).hexdigest()
    check = {"AWS4-HMAC-SHA256": _sigv4_refusal, "AWS4-ECDSA-P256-SHA256": _sigv4a_refusal}.get(algorithm)
    if check is None:
        return "Missing Authentication Token"
    return check(region, headers, signed, date, scope, digest, access_key, secrets[access_key], signature)


def _sigv4_refusal(
    region: str, headers: dict[str, str], signed: list[str], date: str, scope: list[str], digest: str, access_key: str, secret: str,
    signature: str,
) -> str:  # fmt: skip
    scope_region = scope[0] if len(scope) == 3 else ""
    if scope_region != region:
        return f"Credential should be scoped to a valid region. (got '{scope_region}', this is '{region}')"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", headers["x-amz-date"], f"{date}/{region}/{SERVICE}/aws4_request", digest])
    key = ("AWS4" + secret).encode()
    for part in (date, region, SERVICE, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    good = hmac.compare_digest(hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest(), signature)
    return "" if good else MISMATCH


def _sigv4a_refusal(
    region: str, headers: dict[str, str], signed: list[str], date: str, scope: list[str], digest: str, access_key: str, secret: str,
    signature: str,
) -> str:  # fmt: skip
    regions = [r.strip() for r in headers.get("x-amz-region-set", "").split(",") if r.strip()]
    if "x-amz-region-set" not in signed or not any(fnmatch.fnmatchcase(region, pattern) for pattern in regions):
        return f"Credential should be scoped to a valid region. (region set {regions}, this is '{region}')"
    to_sign = "\n".join(["AWS4-ECDSA-P256-SHA256", headers["x-amz-date"], f"{date}/{SERVICE}/aws4_request", digest])
    try:
        sigv4a_public_key(access_key, secret).verify(bytes.fromhex(signature), to_sign.encode(), ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        return MISMATCH
    return ""


@contextmanager
def regional_stage(region: str, secrets: dict[str, str]) -> Iterator[str]:
    """Serve one region's stage on a free loopback port; yields its base URL."""

    class Stage(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {name.lower(): value for name, value in self.headers.items()}
            why = refusal(region, self.command, self.path, headers, body, secrets)
            status, payload = (403, {"message": why}) if why else (200, {"region": region, "path": self.path})
            encoded = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(encoded)))
            self.end_headers()
            self.wfile.write(encoded)

        do_GET = do_POST = do_PUT = do_DELETE = _answer

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Stage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
