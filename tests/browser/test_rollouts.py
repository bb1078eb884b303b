"""The rollout pages, the approval form and every unit state in Chromium, and an axe-core check of every
page of the dashboard (0 serious or critical violations; WCAG 2 A/AA rules, colour contrast included).

The store holds the reference fleet as applied, with rollout units in each held state, recorded
through the store's API as an apply run would. axe-core is the ``axe.min.js`` that the
``axe-playwright-python`` package ships (installed by the dev extra), injected into each page; the
context bypasses the dashboard's CSP for that script only, since the page itself allows no inline
script. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import axe_playwright_python
import pytest
from playwright.sync_api import Browser, Page

from reconciler.core import plans
from reconciler.core.desired import BundleId
from reconciler.core.objects import ObjectKey
from reconciler.core.stagegates import StageMark, UnitStatus
from reconciler.core.statuses import UnitState
from reconciler.source import opening
from reconciler.spec import loader
from reconciler.store import stores
from reconciler.store.stores import Store
from reconciler.web import apps, catalogs, servers, testing
from reconciler.web.access import Tokens
from reconciler.web.services import Services
from reconciler.web.states import State

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
AXE = Path(axe_playwright_python.__file__).resolve().parent / "axe.min.js"
ADMIN_TOKEN = "browser-admin-token-5e0d"
REVISION = "main@sha1:" + "b" * 40
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
UNITS = [
    UnitStatus("stage-eu-1", "platform-stable", "platform-stable/staging", UnitState.HEALTHY),
    UnitStatus("prod-eu-1", "platform-stable", "platform-stable/prod-eu", UnitState.PAUSED,
               "stage platform-stable/prod-eu opens at 2026-01-01T12:10:00+00:00", NOW + timedelta(minutes=10)),
    UnitStatus("prod-eu-2", "platform-stable", "platform-stable/prod-eu", UnitState.HALTED,
               "halted: 2 unit(s) failed, budget 1"),
    UnitStatus("prod-us-1", "platform-stable", "platform-stable/prod-rest", UnitState.AWAITING_APPROVAL,
               "awaiting approval of stage platform-stable/prod-rest"),
    UnitStatus("dev-eu-1", "platform-canary", "platform-canary/all", UnitState.APPLIED),
    UnitStatus("dev-us-1", "platform-canary", "platform-canary/all", UnitState.WAITING,
               "stage platform-canary/all is not done: 0 of 1 unit(s) healthy (applied)"),
]


@dataclass(frozen=True)
class Served:
    url: str
    store: Store


def filled_store(path: Path, repo: loader.FleetRepo) -> Store:
    store = stores.open_store(path, clock=lambda: NOW)
    placements = [p for p in testing.repo_placements(repo) if p[1].cluster != "prod-us-1" or p[1].stack != "platform"]
    testing.fill(store, placements, revision=REVISION, states={"prod-eu-1": State.DRIFTED, "dev-us-1": State.FAILED})
    store.rollouts.save({"platform-stable/staging": StageMark(ready_since=NOW)}, UNITS,
                        clusters=sorted({u.cluster for u in UNITS}))
    change = plans.Change(action=plans.Action.UPDATE, dest="prod-eu-1",
                          bundle=BundleId("prod-eu-1", "platform", "app-config"),
                          key=ObjectKey("", "ConfigMap", "platform", "app-config"), step=1, diff="-a: 1\n+a: 2")
    store.plans.save("plan-1", plans.Plan(revision=REVISION, created_at=NOW.isoformat(), changes=(change,)))
    store.revisions.record_seen("fleet", REVISION)
    store.events.add("AwaitingApproval", "platform-stable on prod-us-1 is awaiting approval", cluster="prod-us-1")
    return store


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, fleet_dir: Path) -> Iterator[Served]:
    repo = loader.load(opening.open_tree(str(fleet_dir)))
    store = filled_store(tmp_path_factory.mktemp("rollouts") / "state.db", repo)
    catalog = catalogs.from_repo(repo)
    services = Services(store=store, tokens=Tokens.of(admin=[ADMIN_TOKEN]), clock=lambda: NOW,
                        catalog=lambda: catalog, sources=("fleet",), refresh_seconds=0)
    with servers.serve(apps.create_app(services)) as server:
        yield Served(server.url, store)
    store.close()


@pytest.fixture
def admin_page(browser: Browser, served: Served) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1500, "height": 900}, bypass_csp=True)
    page = context.new_page()
    page.goto(f"{served.url}/login")
    page.fill("#token", ADMIN_TOKEN)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{served.url}/")
    yield page
    context.close()


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def test_the_rollout_page_shows_stages_in_order_with_each_units_state_and_why(admin_page: Page, served: Served) -> None:
    admin_page.goto(f"{served.url}/rollouts/platform-stable")
    stages = admin_page.locator("#stages > li.stage").evaluate_all("els => els.map(e => e.dataset.stage)")
    held = admin_page.locator("li[data-stage='platform-stable/prod-rest'] tr[data-cluster='prod-us-1']")
    shot(admin_page, "rollout-page.png")
    assert stages == ["platform-stable/staging", "platform-stable/prod-eu", "platform-stable/prod-rest"]
    assert held.get_attribute("data-state") == "awaiting-approval"
    assert "awaiting approval of stage platform-stable/prod-rest" in held.inner_text()


def test_the_rollout_page_offers_a_retry_for_a_halted_unit(admin_page: Page, served: Served) -> None:
    admin_page.goto(f"{served.url}/rollouts/platform-stable")
    assert admin_page.locator("tr[data-cluster='prod-eu-2'] button", has_text="Retry prod-eu-2").count() == 1


def test_the_approval_form_approves_the_stage_and_comes_back(admin_page: Page, served: Served) -> None:
    admin_page.goto(f"{served.url}/rollouts/platform-stable")
    shot(admin_page, "approval-form.png")
    admin_page.click("button.approve")
    admin_page.wait_for_url(f"{served.url}/rollouts/platform-stable")
    shot(admin_page, "approval-given.png")
    rules = admin_page.locator("li[data-stage='platform-stable/prod-rest'] .rules").inner_text()
    assert "given by admin-token" in rules
    assert served.store.rollouts.marks()["platform-stable/prod-rest"].approved_by == "admin-token"


def test_the_fleet_view_shows_every_held_state_apart_from_in_sync(admin_page: Page, served: Served) -> None:
    admin_page.goto(f"{served.url}/")
    rows = admin_page.locator("#fleet-matrix tbody tr").evaluate_all(
        "els => Object.fromEntries(els.map(e => [e.dataset.cluster, e.dataset.state]))")
    shot(admin_page, "fleet-states.png")
    assert {k: rows[k] for k in ("prod-us-1", "prod-eu-2", "dev-eu-1", "stage-eu-1")} == {
        "prod-us-1": "awaiting-approval", "prod-eu-2": "halted", "dev-eu-1": "applied", "stage-eu-1": "in-sync"}
    assert admin_page.locator("tr[data-cluster='prod-us-1'] td.cell.s-awaiting-approval").count() == 4


def test_the_cluster_page_says_why_its_platform_waits(admin_page: Page, served: Served) -> None:
    admin_page.goto(f"{served.url}/clusters/prod-us-1")
    shot(admin_page, "cluster-awaiting-approval.png")
    unit = admin_page.locator("#units tr[data-assignment='platform-stable']")
    assert unit.get_attribute("data-state") == "awaiting-approval"
    assert admin_page.locator("#bundles tr[data-state='awaiting-approval']").count() == 4


PAGES = ["/", "/clusters/prod-us-1", "/clusters/prod-eu-1", "/drift", "/plans", "/plans/plan-1", "/revisions",
         "/events", "/rollouts", "/rollouts/platform-stable", "/rollouts/platform-canary"]
SERIOUS = ("serious", "critical")


def axe_violations(page: Page) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = page.evaluate(
        "() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})")
    return [v for v in result["violations"] if v.get("impact") in SERIOUS]


@pytest.mark.parametrize("path", PAGES)
def test_axe_finds_no_serious_violation(admin_page: Page, served: Served, path: str) -> None:
    admin_page.goto(f"{served.url}{path}")
    found = axe_violations(admin_page)
    assert [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in found] == []


def test_axe_finds_no_serious_violation_on_the_login_page(browser: Browser, served: Served) -> None:
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    page.goto(f"{served.url}/login")
    found = axe_violations(page)
    context.close()
    assert [v["id"] for v in found] == []


def test_axe_finds_a_low_contrast_cell(admin_page: Page, served: Served) -> None:
    """The check itself can fail: a cell given the old in-sync green under white text is reported."""
    admin_page.goto(f"{served.url}/")
    admin_page.evaluate("() => { for (const a of document.querySelectorAll('td.cell a')) a.style.background = '#2e9d5b'; }")
    assert "color-contrast" in [v["id"] for v in axe_violations(admin_page)]
