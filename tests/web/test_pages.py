"""The dashboard pages over real HTTP: matrix, filters, cluster, drift, plans; escaping and CSP."""

from __future__ import annotations

import base64
import dataclasses
import re
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import quote

import httpx
import pytest

from reconciler.core import drift as core_drift
from reconciler.core import plans
from reconciler.core.desired import BundleId
from reconciler.core.live import LiveCluster
from reconciler.core.objects import ObjectKey
from reconciler.engine import drift as engine_drift
from reconciler.store.stores import Store
from reconciler.web import headers, testing
from reconciler.web.services import Services

HOSTILE = "<script>alert(1)</script>"
HOSTILE_NAME = "<img src=x onerror=alert(1)>"


def rows(page: str) -> list[str]:
    return re.findall(r'<tr data-cluster="([^"]+)"', page)


def test_the_fleet_view_has_a_row_per_cluster(web: httpx.Client, reader: dict[str, str]) -> None:
    page = web.get("/", headers=reader).text
    assert rows(page) == ["dev-eu-1", "dev-us-1", "mgmt", "prod-eu-1", "prod-eu-2", "prod-us-1", "stage-eu-1"]


def test_the_fleet_view_colours_rows_by_worst_state(web: httpx.Client, reader: dict[str, str]) -> None:
    page = web.get("/", headers=reader).text
    found = dict(re.findall(r'<tr data-cluster="([^"]+)" data-state="([^"]+)"', page))
    assert (found["prod-eu-2"], found["dev-us-1"], found["stage-eu-1"], found["prod-eu-1"]) == (
        "drifted",
        "failed",
        "unreachable",
        "in-sync",
    )


def test_the_fleet_view_counts_clusters_by_state(web: httpx.Client, reader: dict[str, str]) -> None:
    page = web.get("/", headers=reader).text
    counts = dict(re.findall(r'<li class="s-([a-z-]+)"><a [^>]+><strong>(\d+)</strong>', page))
    assert counts == {"failed": "1", "unreachable": "1", "drifted": "1", "in-sync": "4"}


FILTERS = [
    pytest.param({"label": "env=prod"}, ["mgmt", "prod-eu-1", "prod-eu-2", "prod-us-1"], id="label"),
    pytest.param({"label": "env=prod,region!=eu"}, ["prod-us-1"], id="label-not-equal"),
    pytest.param({"label": "role"}, ["mgmt"], id="label-exists"),
    pytest.param({"state": "drifted"}, ["prod-eu-2"], id="state"),
    pytest.param({"label": "env=dev", "state": "failed"}, ["dev-us-1"], id="label-and-state"),
    pytest.param({"label": "env=nowhere"}, [], id="nothing-matches"),
]


@pytest.mark.parametrize(("query", "expected"), FILTERS)
def test_fleet_view_filters(
    web: httpx.Client, reader: dict[str, str], query: dict[str, str], expected: list[str]
) -> None:
    assert rows(web.get("/", params=query, headers=reader).text) == expected


def test_the_cluster_view_lists_stacks_versions_and_bundles(
    web: httpx.Client, reader: dict[str, str]
) -> None:
    page = web.get("/clusters/prod-us-1", headers=reader).text
    assert all(
        s in page
        for s in (
            "<td>cluster-base</td><td>1.0.0</td>",
            "<td>platform</td><td>1.4.0</td>",
            "platform/edge-proxy",
        )
    )


def test_a_child_clusters_capi_bundle_shows_where_it_is_applied(
    web: httpx.Client, reader: dict[str, str]
) -> None:
    page = web.get("/clusters/prod-eu-1", headers=reader).text
    assert '<a href="/clusters/mgmt">mgmt</a>' in page


def test_an_unknown_cluster_is_404(web: httpx.Client, reader: dict[str, str]) -> None:
    assert web.get("/clusters/nope", headers=reader).status_code == 404


def test_the_drift_view_links_each_drifted_object_to_its_page(
    web: httpx.Client, reader: dict[str, str]
) -> None:
    link = re.search(r'href="(/drift/[^"]+)"', web.get("/drift", headers=reader).text)
    assert link is not None
    page = web.get(link.group(1).replace("&amp;", "&"), headers=reader).text
    assert '<span class="d-add">+a: &#39;1&#39;</span>' in page


def test_a_resolved_drift_page_is_404(web: httpx.Client, reader: dict[str, str]) -> None:
    assert (
        web.get(
            "/drift/prod-eu-2/prod-eu-2/platform/x", params={"object": "nope"}, headers=reader
        ).status_code
        == 404
    )


@pytest.mark.parametrize(
    "path", ["/", "/login", "/drift", "/api/v1/drift", "/static/style.css", "/healthz", "/nope"]
)
def test_every_response_carries_the_strict_csp(web: httpx.Client, reader: dict[str, str], path: str) -> None:
    assert web.get(path, headers=reader).headers["content-security-policy"] == headers.CSP


def test_the_csp_allows_no_inline_script() -> None:
    script = next(p for p in headers.CSP.split(";") if p.strip().startswith("script-src"))
    assert script.split() == ["script-src", "'self'"]


def test_pages_hold_no_inline_script_or_style(web: httpx.Client, reader: dict[str, str]) -> None:
    page = web.get("/", headers=reader).text
    assert (re.findall(r"<script(?![^>]*\bsrc=)", page), "style=" in page, "<style" in page) == (
        [],
        False,
        False,
    )


@pytest.fixture
def hostile(store: Store) -> Store:
    bundle = BundleId(HOSTILE_NAME, "platform", HOSTILE_NAME)
    testing.fill(store, [(HOSTILE_NAME, bundle)], revision="main@sha1:" + "b" * 40)
    store.drifts.report(
        HOSTILE_NAME,
        bundle,
        ObjectKey("", "ConfigMap", "ns", HOSTILE),
        patch=[{"op": "add", "path": "/data/x", "value": HOSTILE}],
        diff=f"+x: {HOSTILE}",
    )
    store.events.add("Applied", f"applied {HOSTILE}", cluster=HOSTILE_NAME)
    return store


@pytest.mark.parametrize(
    "path", ["/", "/drift", "/events", f"/clusters/{quote(HOSTILE_NAME, safe='')}", "/clusters/%3Cscript%3E"]
)
def test_names_with_markup_are_escaped(
    hostile: Store, make_services: object, reader: dict[str, str], path: str
) -> None:
    with testing.running(make_services(hostile)) as (_, client):  # type: ignore[operator]
        page = client.get(path, headers=reader).text
    assert ("<script>alert" in page, "<img src=x" in page) == (False, False)


def test_names_with_markup_are_shown_escaped(
    hostile: Store, make_services: object, reader: dict[str, str]
) -> None:
    with testing.running(make_services(hostile)) as (_, client):  # type: ignore[operator]
        page = client.get("/", headers=reader).text
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_plan_history_and_a_plan_page(filled: Store, make_services: object, reader: dict[str, str]) -> None:
    plan = plans.Plan(
        revision="main@sha1:" + "c" * 40, created_at=datetime(2026, 1, 1, tzinfo=UTC).isoformat()
    )
    filled.plans.save("plan-1", plan, pr_number=42, pr_branch="bump-platform")
    with testing.running(make_services(filled)) as (_, client):  # type: ignore[operator]
        listing = client.get("/plans", headers=reader).text
        detail = client.get("/plans/plan-1", headers=reader)
    assert ("#42 bump-platform" in listing, detail.status_code, "No changes." in detail.text) == (
        True,
        200,
        True,
    )


CANARY = "canary-secret-value-Qx81"


@pytest.fixture
def secret_drift(store: Store) -> Store:
    """A drifted Secret recorded the way the drift scan records it (core.drift then engine.drift.persist)."""
    applied = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db", "namespace": "apps"},
        "stringData": {"password": CANARY},
    }
    live = {
        **applied,
        "stringData": None,
        "data": {"password": base64.b64encode(b"other-" + CANARY.encode()).decode()},
    }
    item = core_drift.Applied("eu-1", BundleId("eu-1", "platform", "db"), core_drift.seal(applied))
    report = core_drift.scan(
        applied=[item],
        live={"eu-1": LiveCluster.reachable("eu-1", objects=[live])},
        first_seen={},
        now="2026-01-01T12:00:00+00:00",
    )
    engine_drift.persist(store, report, scanned=[("eu-1", item.bundle)])
    return store


@pytest.mark.parametrize("path", ["/drift", "/clusters/eu-1", "/api/v1/drift", "/api/v1/clusters/eu-1"])
def test_secret_values_are_never_shown(
    secret_drift: Store, make_services: Callable[..., Services], reader: dict[str, str], path: str
) -> None:
    with testing.running(make_services(secret_drift)) as (_, client):
        shown = client.get(path, headers=reader).text
        entry = client.get("/api/v1/drift", headers=reader).json()["entries"][0]
        detail = client.get(entry["url"], headers=reader).text
    leaked = [v for v in (CANARY, base64.b64encode(CANARY.encode()).decode()) if v in shown + detail]
    assert (leaked, "masked sha256:" in detail) == ([], True)


def test_the_cluster_view_lists_recent_applies(web: httpx.Client, reader: dict[str, str]) -> None:
    page = web.get("/clusters/dev-us-1", headers=reader).text
    assert "admission webhook denied the request" in page.split('id="steps"')[1]


def planned_change(cluster: str, diff: str) -> plans.Change:
    return plans.Change(
        action=plans.Action.UPDATE,
        dest=cluster,
        bundle=BundleId(cluster, "platform", "web"),
        key=ObjectKey("", "ConfigMap", "apps", "web"),
        step=1,
        diff=diff,
    )


@pytest.fixture
def planned(store: Store) -> Store:
    revision = "main@sha1:" + "d" * 40
    changes = (planned_change("eu-1", f"-a: 1\n+a: {HOSTILE}"), planned_change("us-1", "-b: 1\n+b: 2"))
    store.plans.save(
        "plan-2", plans.Plan(revision=revision, created_at="2026-01-01T00:00:00+00:00", changes=changes)
    )
    store.revisions.record_seen("fleet", revision)
    return store


def test_a_plan_page_shows_each_steps_diff_escaped(
    planned: Store, make_services: Callable[..., Services], reader: dict[str, str]
) -> None:
    with testing.running(make_services(planned)) as (_, client):
        page = client.get("/plans/plan-2", headers=reader).text
    assert ("<script>alert" in page, '<span class="d-add">+a: &lt;script&gt;' in page) == (False, True)


def test_a_plan_page_can_show_one_cluster(
    planned: Store, make_services: Callable[..., Services], reader: dict[str, str]
) -> None:
    with testing.running(make_services(planned)) as (_, client):
        page = client.get("/plans/plan-2", params={"cluster": "us-1"}, headers=reader).text
    assert ("+b: 2" in page, "+a:" in page) == (True, False)


def test_the_revisions_page_links_each_revision_to_its_plans(
    planned: Store, make_services: Callable[..., Services], reader: dict[str, str]
) -> None:
    with testing.running(make_services(planned)) as (_, client):
        page = client.get("/revisions", headers=reader).text
    assert ("main@dddddddddddd" in page, 'href="/plans/plan-2"' in page) == (True, True)


def test_a_plan_page_lists_changes_first_and_folds_the_unchanged(
    store: Store, make_services: object, reader: dict[str, str]
) -> None:
    quiet = [dataclasses.replace(planned_change("eu-1", ""), action=plans.Action.UNCHANGED, step=None,
                                 key=ObjectKey("", "ConfigMap", "apps", f"same-{i}")) for i in range(3)]
    changes = (*quiet, planned_change("eu-1", "-a: 1\n+a: 2"))
    store.plans.save("plan-3", plans.Plan(revision="main@sha1:" + "e" * 40, created_at="2026-01-01T00:00:00+00:00",
                                          changes=changes))
    with testing.running(make_services(store)) as (_, client):  # type: ignore[operator]
        page = client.get("/plans/plan-3", headers=reader).text
    table, folded = page.split('<details id="unchanged"')
    assert ("ConfigMap/apps/web" in table, "same-0" in table, "3 unchanged object(s)" in folded) == (True, False, True)
