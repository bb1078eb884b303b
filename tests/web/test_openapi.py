"""``GET /api/v1/openapi.json``: a valid OpenAPI 3.1 document of every registered ``/api/v1`` route, whose
response schemas (generated from ``web.openapis``' models) the real answers of the API satisfy.

The app is the shared one of tests/web/conftest.py (the reference fleet recorded as applied, with drift,
a failure and an unreachable cluster) on 127.0.0.1.
"""

from __future__ import annotations

from typing import Any

import httpx
import jsonschema
import pytest
from openapi_spec_validator import validate

from reconciler.web import apps, openapis


@pytest.fixture(scope="module")
def spec(served: str) -> dict[str, Any]:
    headers = {"Authorization": "Bearer read-token-5b0e"}
    with httpx.Client(base_url=served, timeout=10) as client:
        answer = client.get("/api/v1/openapi.json", headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_the_document_is_valid_openapi_3_1(spec: dict[str, Any]) -> None:
    validate(spec)
    assert spec["openapi"] == "3.1.0"


def test_every_registered_route_is_in_the_document_and_documented(spec: dict[str, Any]) -> None:
    registered = {(m.lower(), openapis.PREFIX + p) for m, p in openapis.registered(apps.routes())}
    listed = {(m, p) for p, ops in spec["paths"].items() for m in ops}
    undocumented = sorted(p for p, ops in spec["paths"].items() for op in ops.values() if op["summary"] == "not documented")
    assert (listed, undocumented) == (registered, [])


def test_the_document_needs_a_token_like_every_read(served: str) -> None:
    with httpx.Client(base_url=served, timeout=10) as client:
        assert client.get("/api/v1/openapi.json").status_code == 401


def schema_of(spec: dict[str, Any], path: str, method: str = "get") -> dict[str, Any]:
    body = spec["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]
    return {**body, "components": spec["components"]}


@pytest.mark.parametrize(("path", "url"), [
    ("/api/v1/clusters", "/api/v1/clusters"),
    ("/api/v1/clusters/{name}", "/api/v1/clusters/prod-eu-2"),
    ("/api/v1/clusters/{name}", "/api/v1/clusters/dev-us-1"),
    ("/api/v1/bundles", "/api/v1/bundles"),
    ("/api/v1/drift", "/api/v1/drift"),
    ("/api/v1/plans", "/api/v1/plans"),
    ("/api/v1/pull-requests", "/api/v1/pull-requests"),
    ("/api/v1/revisions", "/api/v1/revisions"),
    ("/api/v1/events", "/api/v1/events"),
])
def test_a_real_answer_satisfies_its_response_schema(spec: dict[str, Any], web: httpx.Client,
                                                     reader: dict[str, str], path: str, url: str) -> None:
    answer = web.get(url, headers=reader)
    assert answer.status_code == 200
    jsonschema.Draft202012Validator(schema_of(spec, path)).validate(answer.json())


def test_a_wrong_answer_does_not_satisfy_it(spec: dict[str, Any], web: httpx.Client, reader: dict[str, str]) -> None:
    body = web.get("/api/v1/bundles", headers=reader).json()
    body["bundles"][0]["state"] = "sort-of-fine"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema_of(spec, "/api/v1/bundles")).validate(body)


def test_an_error_answer_satisfies_the_error_schema(spec: dict[str, Any], web: httpx.Client,
                                                    reader: dict[str, str]) -> None:
    answer = web.get("/api/v1/plans/no-such-plan", headers=reader)
    error = spec["paths"]["/api/v1/plans/{plan_id}"]["get"]["responses"]["404"]["content"]["application/json"]
    jsonschema.Draft202012Validator({**error["schema"], "components": spec["components"]}).validate(answer.json())
    assert answer.status_code == 404


def test_pause_is_documented_as_needing_the_operate_scope(spec: dict[str, Any]) -> None:
    pause = spec["paths"]["/api/v1/clusters/{name}/pause"]["post"]
    assert (pause["x-scope"], sorted(pause["responses"])) == ("operate", ["200", "401", "403", "404"])
