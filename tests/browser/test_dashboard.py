"""The dashboard in a real browser (Chromium through Playwright) over the reference fleet."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from reconciler.web import apps, servers

pytestmark = pytest.mark.browser

CLUSTERS = ["dev-eu-1", "dev-us-1", "mgmt", "prod-eu-1", "prod-eu-2", "prod-us-1", "stage-eu-1"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def rows(page: Page) -> list[str]:
    return page.eval_on_selector_all(
        "#fleet-matrix tbody tr[data-cluster]", "rows => rows.map(r => r.dataset.cluster)"
    )


def test_the_scan_of_the_whole_reference_fleet_finds_only_the_edited_object(dashboard: Any) -> None:
    found = [(e.dest, e.key, e.kind.value) for e in dashboard.report.entries]
    assert (found, dashboard.report.checked > 50) == ([("prod-eu-1", dashboard.drifted, "modified")], True)


def test_the_fleet_view_shows_the_matrix_of_the_reference_fleet(page: Page) -> None:
    cells = page.locator("#fleet-matrix td.cell.s-in-sync").count()
    assert (rows(page), cells > 20) == (CLUSTERS, True)


def test_the_drifted_cluster_is_coloured_drifted(page: Page, dashboard: Any) -> None:
    state = page.get_attribute('#fleet-matrix tr[data-cluster="prod-eu-1"]', "data-state")
    assert state == "drifted"


def test_filtering_by_label_keeps_only_matching_clusters(page: Page) -> None:
    page.fill("#label", "env=prod")
    page.click(".filters button[type=submit]")
    page.wait_for_url("**/?label=env%3Dprod*")
    assert rows(page) == ["mgmt", "prod-eu-1", "prod-eu-2", "prod-us-1"]


def test_filtering_by_state_keeps_only_drifted_clusters(page: Page) -> None:
    page.select_option("#state", "drifted")
    page.click(".filters button[type=submit]")
    page.wait_for_url("**state=drifted*")
    assert rows(page) == ["prod-eu-1"]


def test_a_drifted_objects_page_shows_its_diff(page: Page, dashboard: Any) -> None:
    page.click("nav >> text=Drift")
    page.click(f"a:has-text('{dashboard.drifted}')")
    page.wait_for_selector("pre.diff")
    removed = page.locator("pre.diff span.d-del").all_inner_texts()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "drift-entry.png"), full_page=True)
    assert (
        any("edited-by-hand" in line for line in removed),
        "kubectl-edit (Update)" in page.inner_text("dl.facts"),
    ) == (
        True,
        True,
    )


def test_a_request_without_a_token_is_refused(anonymous: Page, dashboard: Any) -> None:
    answer = anonymous.goto(dashboard.url + "/")
    assert (answer.status if answer else None, anonymous.locator("#token").count()) == (401, 1)


def test_the_fleet_view_runs_no_blocked_script(page: Page) -> None:
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.reload()
    assert [e for e in errors if "Content Security Policy" in e] == []


def test_screenshot_of_the_fleet_view(page: Page) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / "fleet-view.png"
    page.screenshot(path=str(target), full_page=True)
    assert target.stat().st_size > 10_000


def test_auto_refresh_shows_new_state_and_keeps_the_scroll_position(login: Any, dashboard: Any) -> None:
    refreshing = dataclasses.replace(dashboard.services, refresh_seconds=2)
    with servers.serve(apps.create_app(refreshing)) as server:
        page = login(server.url, height=300)
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        before = page.evaluate("window.scrollY")
        dashboard.services.store.clusters.set_paused("dev-eu-1", paused=True)
        try:
            page.locator('tr[data-cluster="dev-eu-1"][data-state="paused"]').wait_for(timeout=15_000)
            after = page.evaluate("window.scrollY")
        finally:
            dashboard.services.store.clusters.set_paused("dev-eu-1", paused=False)
            page.context.close()
    assert (before > 0, after) == (True, before)


def test_the_cluster_view_links_from_the_matrix_and_shows_versions(page: Page) -> None:
    page.click('#fleet-matrix tr[data-cluster="prod-eu-1"] th a')
    page.wait_for_selector("#bundles")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "cluster-view.png"), full_page=True)
    stacks = page.locator("h2:has-text('Stacks') + table tbody tr").all_inner_texts()
    health = set(page.locator("#bundles .badge[class*='h-']").all_inner_texts())
    assert ([s.split() for s in stacks], health) == (
        [["cluster-base", "1.1.0"], ["platform", "1.4.0"]],
        {"Healthy"},
    )
