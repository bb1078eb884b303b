"""The shared redactor: what it masks and what it leaves alone, one case per row."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from reconciler.redactions import MASK, Redactor

CANARY = "canary-5eb63bbbe01e"

DATA_CASES: list[tuple[str, Any, Any]] = [
    ("password key", {"password": "p"}, {"password": MASK}),
    ("camelCase secret key", {"clientSecret": "abc"}, {"clientSecret": MASK}),
    ("authorization header", {"Authorization": "Basic xyz"}, {"Authorization": MASK}),
    ("kubeconfig field", {"kubeconfig": "apiVersion: v1"}, {"kubeconfig": MASK}),
    ("env var pair", {"name": "DB_PASSWORD", "value": "pw"}, {"name": "DB_PASSWORD", "value": MASK}),
    ("secretName names a secret", {"secretName": "tls"}, {"secretName": "tls"}),
    ("tokenFile names a file", {"tokenFile": "/run/token"}, {"tokenFile": "/run/token"}),
    ("a secret volume is a mapping", {"secret": {"secretName": "x"}}, {"secret": {"secretName": "x"}}),
    ("core masks are kept", {"token": "<masked sha256:0123abcd>"}, {"token": "<masked sha256:0123abcd>"}),
    ("empty values are kept", {"password": ""}, {"password": ""}),
    ("nested lists", {"items": [{"token": "t"}]}, {"items": [{"token": MASK}]}),
    ("plain fields are kept", {"replicas": 3, "name": "web"}, {"replicas": 3, "name": "web"}),
]

TEXT_CASES = [
    ("bearer token", "Authorization: Bearer eyJhbGciOi.x.y", "Authorization: Bearer ***"),
    (
        "url userinfo",
        "fetch https://bot:pw@git.example.com/r.git failed",
        "fetch https://***@git.example.com/r.git failed",
    ),
    ("canary", f"value {CANARY} leaked", "value *** leaked"),
    ("base64 canary", f"data {base64.b64encode(CANARY.encode()).decode()}", "data ***"),
    ("ordinary text", "applied 3 objects", "applied 3 objects"),
]


@pytest.mark.parametrize(("case", "given", "expected"), DATA_CASES, ids=[c for c, _, _ in DATA_CASES])
def test_data(case: str, given: Any, expected: Any) -> None:
    assert Redactor().data(given) == expected


@pytest.mark.parametrize(("case", "given", "expected"), TEXT_CASES, ids=[c for c, _, _ in TEXT_CASES])
def test_text(case: str, given: str, expected: str) -> None:
    assert Redactor([CANARY]).text(given) == expected


def test_very_short_values_are_not_registered() -> None:
    redactor = Redactor(["ab"])
    assert redactor.text("a cab") == "a cab"
