"""Fixtures of the browser tests: the reference fleet applied to sim clusters by the real engine, one
object edited behind its back and scanned, the dashboard served on 127.0.0.1, and Debian's Chromium
driven by Playwright. A missing /usr/bin/chromium makes these tests fail, never skip.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from reconciler.core import targeting
from reconciler.core.drift import Report
from reconciler.core.objects import ObjectKey
from reconciler.engine import drift, fleetrun, gates, reconcile, sessions
from reconciler.kube.connections import ClientSettings
from reconciler.sim import fleets, testing
from reconciler.source import opening
from reconciler.spec import loader
from reconciler.store import stores
from reconciler.web import apps, catalogs, servers
from reconciler.web.access import Tokens
from reconciler.web.services import Services

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
READ_TOKEN = "browser-read-token-77a1"
NAMESPACE_TEMPLATE = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {{ .Release.Namespace }}\n"
DRIFT_CLUSTER = "prod-eu-1"


@dataclass(frozen=True)
class Dashboard:
    url: str
    drifted: ObjectKey
    """The object edited behind the engine's back (on ``DRIFT_CLUSTER``)."""
    services: Services
    report: Report
    """The drift scan after the edit, over the whole reference fleet."""


def copy_fleet(source: Path, target: Path) -> Path:
    """The reference fleet, with the Namespace its edge-proxy chart renders into (if not there yet)."""
    shutil.copytree(source, target)
    for version in ("1.4.0", "1.5.0"):
        template = target / f"stacks/platform/{version}/charts/edge-proxy/templates/namespace.yaml"
        if not template.exists():
            template.write_text(NAMESPACE_TEMPLATE)
    return target


def edit_behind_the_back(sim: testing.RunningSim, planned: reconcile.Planned) -> ObjectKey:
    """Change one ConfigMap value of DRIFT_CLUSTER as another field manager would (kubectl edit)."""
    obj = next(
        o
        for b in planned.render.bundles
        if b.dest == DRIFT_CLUSTER
        for o in b.objects
        if o["kind"] == "ConfigMap" and o.get("data")
    )
    key = ObjectKey.of(obj)
    first = sorted(obj["data"])[0]
    resource = sim.dynamic_client(DRIFT_CLUSTER).resources.get(api_version="v1", kind="ConfigMap")
    resource.patch(
        body={"data": {first: "edited-by-hand"}},
        name=key.name,
        namespace=key.namespace,
        content_type="application/merge-patch+json",
        field_manager="kubectl-edit",
    )
    return key


@pytest.fixture(scope="session")
def dashboard(tmp_path_factory: pytest.TempPathFactory, fleet_dir: Path) -> Iterator[Dashboard]:
    root = tmp_path_factory.mktemp("browser")
    repo = loader.load(opening.open_tree(str(copy_fleet(fleet_dir, root / "fleet"))))
    with testing.running(clusters=[], workdir=root, interval=0.01) as sim:
        fleets.start(sim.server, fleets.layout(repo.clusters))
        sim.server.kubeconfig(sim.kubeconfig)
        store = stores.open_store(root / "state.db")
        settings = ClientSettings(qps=1000, burst=1000, attempts=5, backoff=0.01)
        session = reconcile.Session(
            connections=sessions.connections_for(repo, kubeconfig=str(sim.kubeconfig), settings=settings),
            store=store,
            timing=gates.Timing(poll=0.01),
        )
        planned = reconcile.plan_fleet(repo, session=session)
        options = reconcile.ApplyOptions(
            approve=True,
            rollout=fleetrun.Options(sleep=lambda _: None, pause_limit=1e9, approved=frozenset({"prod-rest"})),
        )
        reconcile.apply_plan(planned, session=session, options=options)
        sim.server.kubeconfig(sim.kubeconfig)  # the children were provisioned during the apply
        drifted = edit_behind_the_back(sim, planned)
        report = drift.scan(
            store,
            connections=session.connections,
            fleet_name=repo.name,
            policies=drift.policies_of(targeting.build(repo)),
            now=datetime.now(UTC),
        )
        catalog = catalogs.from_repo(repo)
        services = Services(
            store=store,
            tokens=Tokens.of(read=[READ_TOKEN]),
            clock=lambda: datetime.now(UTC),
            catalog=lambda: catalog,
            sources=("fleet",),
            refresh_seconds=0,
        )
        with servers.serve(apps.create_app(services)) as server:
            yield Dashboard(server.url, drifted, services, report)
        session.connections.close()
        store.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


def log_in(browser: Browser, url: str, *, height: int = 900) -> Page:
    """A page logged in to ``url`` (the token typed into the login form, as a user would)."""
    opened = browser.new_context(viewport={"width": 1500, "height": height}).new_page()
    opened.goto(f"{url}/login")
    opened.fill("#token", READ_TOKEN)
    opened.click("form[action='/login'] button[type=submit]")
    opened.wait_for_url(f"{url}/")
    return opened


@pytest.fixture
def page(browser: Browser, dashboard: Dashboard) -> Iterator[Page]:
    opened = log_in(browser, dashboard.url)
    yield opened
    opened.context.close()


@pytest.fixture
def anonymous(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    yield context.new_page()
    context.close()


@pytest.fixture
def login(browser: Browser) -> Callable[..., Page]:
    """``login(url, height=...)``: a new logged-in page on another server of the same store."""
    return lambda url, height=900: log_in(browser, url, height=height)
