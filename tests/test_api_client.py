"""The README's client example (examples/call_api.py) signs with SigV4A, so either regional stage behind the
weighted DNS name accepts it; a SigV4 signature for one region is refused by the other. The stages are
tests/signature_stage.py's loopback servers, which verify both signatures as AWS documents them."""

from __future__ import annotations

import importlib.util
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials

from tests.signature_stage import regional_stage

ROOT = Path(__file__).resolve().parent.parent
CREDENTIALS = ReadOnlyCredentials("AKIAEXAMPLECLIENT01", "example-secret-key-for-the-client-test", None)
OTHER = ReadOnlyCredentials("AKIAEXAMPLECLIENT01", "a-different-secret", None)


def load_example() -> Any:
    spec = importlib.util.spec_from_file_location("call_api", ROOT / "examples" / "call_api.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def stages(example_data: dict[str, Any]) -> Iterator[dict[str, str]]:
    regions = [example_data["active_active"][role]["region"] for role in ("primary", "secondary")]
    secrets = {CREDENTIALS.access_key: CREDENTIALS.secret_key}
    with regional_stage(regions[0], secrets) as first, regional_stage(regions[1], secrets) as second:
        yield {regions[0]: first, regions[1]: second}


def test_the_example_is_accepted_by_both_regional_stages(stages: dict[str, str]) -> None:
    example = load_example()
    for region, url in stages.items():
        status, body = example.call("GET", f"{url}/items/item-42?view=full", credentials=CREDENTIALS)
        assert (status, json.loads(body)["region"]) == (200, region)
        status, body = example.call("POST", f"{url}/items", {"id": "item-42", "data": {"colour": "blue"}}, credentials=CREDENTIALS)
        assert (status, json.loads(body)["region"]) == (200, region)


def test_a_sigv4_signature_for_one_region_is_refused_by_the_other(stages: dict[str, str]) -> None:
    """The defect the example avoids: the client signs for the region it expects, DNS sends it to the other."""
    first, second = stages
    request = AWSRequest(method="GET", url=f"{stages[second]}/items/item-42")
    SigV4Auth(CREDENTIALS, "execute-api", first).add_auth(request)
    status, body = send(stages[second] + "/items/item-42", dict(request.headers.items()))
    assert status == 403 and json.loads(body)["message"].startswith("Credential should be scoped to a valid region.")
    request = AWSRequest(method="GET", url=f"{stages[first]}/items/item-42")
    SigV4Auth(CREDENTIALS, "execute-api", first).add_auth(request)
    assert send(stages[first] + "/items/item-42", dict(request.headers.items()))[0] == 200, "the stage accepts SigV4 for its own region"


def send(url: str, headers: dict[str, str]) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as response:  # noqa: S310 - loopback stages
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_the_stages_verify_the_signature_not_only_its_shape(stages: dict[str, str]) -> None:
    example = load_example()
    url = next(iter(stages.values()))
    headers = example.signed_headers("GET", f"{url}/items/item-42", None, CREDENTIALS)
    assert send(f"{url}/items/item-42", headers)[0] == 200
    assert send(f"{url}/items/item-43", headers)[0] == 403, "a signature does not cover another path"
    assert send(f"{url}/items/item-42", example.signed_headers("GET", f"{url}/items/item-42", None, OTHER))[0] == 403
    assert send(f"{url}/items/item-42", {**headers, "X-Amz-Region-Set": "us-east-1"})[0] == 403, "the region set is signed"


def test_bad_arguments_exit_2_with_the_usage(capsys: pytest.CaptureFixture[str]) -> None:
    example = load_example()
    assert example.main(["FETCH", "https://api.example.com/items"]) == 2
    assert "usage: python examples/call_api.py GET|POST|PUT|DELETE URL [JSON body]" in capsys.readouterr().err
    assert example.main(["POST", "https://api.example.com/items", "{not json"]) == 2
    assert "call_api: body: not JSON" in capsys.readouterr().err
    assert example.main(["GET", "http://api.example.com/items/1"]) == 2
    assert "call_api: url: got 'http://api.example.com/items/1'; expected an https:// URL" in capsys.readouterr().err
