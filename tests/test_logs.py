"""Logs: JSON lines by default, console on a terminal, fields about objects, no secrets anywhere."""

from __future__ import annotations

import base64
import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from reconciler import logs
from reconciler.core.desired import BundleId
from reconciler.core.objects import ObjectKey
from reconciler.redactions import Redactor

CANARY = "canary-d41d8cd98f00"
BUNDLE = BundleId(cluster="eu-1", stack="platform", bundle="ingress")
KEY = ObjectKey(group="apps", kind="Deployment", namespace="ingress", name="controller")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    redactor = Redactor([CANARY])
    logs.configure(stream=stream, level="debug", redactor=redactor)
    yield stream
    logging.getLogger().handlers = [
        h for h in logging.getLogger().handlers if h.get_name() != logs.HANDLER_NAME
    ]


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_lines_are_json_with_level_and_time(captured: io.StringIO) -> None:
    logs.get().info("reconciled", clusters=3)
    (line,) = lines(captured)
    assert (line["event"], line["level"], line["clusters"], "timestamp" in line) == (
        "reconciled",
        "info",
        3,
        True,
    )


def test_object_lines_carry_cluster_bundle_and_object(captured: io.StringIO) -> None:
    logs.about_object(logs.get(), cluster="eu-1", bundle=BUNDLE, key=KEY).info("applied")
    (line,) = lines(captured)
    assert (line["cluster"], line["bundle"], line["object"]) == ("eu-1", str(BUNDLE), str(KEY))


def test_bundle_lines_carry_cluster_and_bundle(captured: io.StringIO) -> None:
    log = logs.about_bundle(logs.about_cluster(logs.get(), "mgmt"), cluster="eu-1", bundle=BUNDLE)
    assert logs.bound_fields(log) == {"cluster": "eu-1", "bundle": str(BUNDLE)}


LEAKS = [
    ("a canary in the message", lambda log: log.warning(f"fetch failed: {CANARY}")),
    (
        "a base64 canary in a field",
        lambda log: log.info("diff", value=base64.b64encode(CANARY.encode()).decode()),
    ),
    ("a secret-looking key", lambda log: log.info("login", password="hunter2-plain")),
    ("an authorization header", lambda log: log.info("req", headers={"Authorization": "Basic dXNlcjpwYXNz"})),
    ("a bearer token in text", lambda log: log.info("req", detail="sent Bearer abc.def.ghi-jkl")),
    ("url userinfo", lambda log: log.info("fetch", url="https://bot:hunter2-plain@git.example.com/x.git")),
    ("a kubeconfig field", lambda log: log.info("connect", kubeconfig="apiVersion: v1 ... hunter2-plain")),
]


@pytest.mark.parametrize(("case", "emit"), LEAKS, ids=[case for case, _ in LEAKS])
def test_secrets_are_masked(captured: io.StringIO, case: str, emit: Callable[[Any], None]) -> None:
    emit(logs.get())
    text = captured.getvalue()
    leaked = [
        s
        for s in (
            CANARY,
            base64.b64encode(CANARY.encode()).decode(),
            "hunter2-plain",
            "dXNlcjpwYXNz",
            "abc.def.ghi",
        )
        if s in text
    ]
    assert (leaked, "***" in text) == ([], True)


def test_a_traceback_is_masked_too(captured: io.StringIO) -> None:
    try:
        raise RuntimeError(f"token {CANARY} refused")
    except RuntimeError:
        logs.get().exception("failed")
    assert (CANARY in captured.getvalue(), "RuntimeError" in captured.getvalue()) == (False, True)


def test_standard_logging_goes_through_the_same_redaction(captured: io.StringIO) -> None:
    logging.getLogger("uvicorn.error").warning("client sent %s", CANARY)
    (line,) = lines(captured)
    assert (line["event"], line["logger"]) == ("client sent ***", "uvicorn.error")


def test_a_registered_secret_is_masked_from_then_on(captured: io.StringIO) -> None:
    logs.configure(stream=captured, output="json")
    logs.register_secret("late-registered-secret-42")
    logs.get().info("x", note="late-registered-secret-42")
    assert "late-registered-secret-42" not in captured.getvalue()


def test_a_terminal_gets_console_lines() -> None:
    stream = Terminal()
    logs.configure(stream=stream)
    logs.get().info("hello", cluster="eu-1")
    logging.getLogger().handlers = [
        h for h in logging.getLogger().handlers if h.get_name() != logs.HANDLER_NAME
    ]
    text = stream.getvalue()
    assert ("hello" in text, text.lstrip().startswith("{")) == (True, False)


def test_a_scope_puts_its_fields_on_every_line_inside_it(captured: io.StringIO) -> None:
    with logs.scope(cluster="eu-1", job="drift"):
        logs.get().info("inside")
    logs.get().info("outside")
    inside, outside = lines(captured)
    assert ((inside["cluster"], inside["job"]), "cluster" in outside) == (("eu-1", "drift"), False)
