"""Operations through /api/v1 and the dashboard's forms, over real HTTP against the app on 127.0.0.1:
approving a stage, pausing an assignment, retrying a unit, with scopes, CSRF and events."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import jsonschema
from click.testing import CliRunner, Result

from reconciler.cli import main
from reconciler.core import plans
from reconciler.core.stagegates import StageMark, UnitStatus
from reconciler.core.statuses import PlanStatus, UnitState
from reconciler.store.stores import Store
from reconciler.web import apps, openapis, testing
from reconciler.web.services import Services
from tests.web.conftest import ADMIN_TOKEN, READ_TOKEN

APPROVE = "/api/v1/assignments/platform-stable/stages/prod-rest/approve"
HELD = UnitStatus("prod-us-1", "platform-stable", "platform-stable/prod-rest", UnitState.AWAITING_APPROVAL,
                  "awaiting approval of stage platform-stable/prod-rest")


def held(store: Store) -> Store:
    store.rollouts.save({}, [HELD], clusters=["prod-us-1"])
    return store


def login(client: httpx.Client) -> str:
    """Log in with the admin token; the CSRF value of the rollout page's forms."""
    client.post("/login", data={"token": ADMIN_TOKEN, "next": "/"})
    page = client.get("/rollouts/platform-stable").text
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert found is not None
    return found.group(1)


def test_an_approval_through_the_api_is_stored_with_the_tokens_name(
    filled: Store, make_services: Callable[..., Services], admin: dict[str, str]
) -> None:
    with testing.running(make_services(held(filled))) as (_, client):
        answer = client.post(APPROVE, headers=admin)
    mark = filled.rollouts.marks()["platform-stable/prod-rest"]
    assert (answer.status_code, answer.json()["approvedBy"], mark.approved_by) == (200, "admin-token", "admin-token")
    assert filled.events.recent(limit=1)[0].message == "stage platform-stable/prod-rest approved by admin-token"


def test_a_read_only_token_cannot_approve(
    filled: Store, make_services: Callable[..., Services], reader: dict[str, str]
) -> None:
    with testing.running(make_services(held(filled))) as (_, client):
        answer = client.post(APPROVE, headers=reader)
    assert (answer.status_code, filled.rollouts.marks()) == (403, {})


def test_an_unknown_stage_is_404(filled: Store, make_services: Callable[..., Services], admin: dict[str, str]) -> None:
    with testing.running(make_services(filled)) as (_, client):
        answer = client.post("/api/v1/assignments/platform-stable/stages/nowhere/approve", headers=admin)
    assert answer.status_code == 404


def test_a_forged_form_without_the_csrf_token_is_refused(
    filled: Store, make_services: Callable[..., Services]
) -> None:
    with testing.running(make_services(held(filled))) as (_, client):
        login(client)
        forged = client.post(APPROVE, data={"next": "/rollouts/platform-stable"})
        wrong = client.post(APPROVE, data={"csrf": "0" * 64, "next": "/rollouts/platform-stable"})
    assert (forged.status_code, wrong.status_code, filled.rollouts.marks()) == (403, 403, {})


def test_the_dashboards_approval_form_approves_and_returns_to_the_page(
    filled: Store, make_services: Callable[..., Services]
) -> None:
    with testing.running(make_services(held(filled))) as (_, client):
        csrf = login(client)
        answer = client.post(APPROVE, data={"csrf": csrf, "next": "/rollouts/platform-stable"})
        page = client.get("/rollouts/platform-stable").text
    assert (answer.status_code, answer.headers["location"]) == (303, "/rollouts/platform-stable")
    assert "approval: given by admin-token" in page


def test_pausing_and_resuming_an_assignment(
    filled: Store, make_services: Callable[..., Services], admin: dict[str, str]
) -> None:
    with testing.running(make_services(filled)) as (_, client):
        client.post("/api/v1/assignments/platform-stable/pause", headers=admin)
        paused = client.get("/api/v1/assignments/platform-stable", headers=admin).json()["paused"]
        client.post("/api/v1/assignments/platform-stable/resume", headers=admin)
    reasons = [e.reason for e in filled.events.recent(limit=2)]
    assert (paused, filled.rollouts.paused(), reasons) == (True, frozenset(), ["AssignmentResumed", "AssignmentPaused"])


def test_a_retry_is_kept_for_the_next_run(
    filled: Store, make_services: Callable[..., Services], admin: dict[str, str]
) -> None:
    with testing.running(make_services(filled)) as (_, client):
        answer = client.post("/api/v1/assignments/platform-stable/units/prod-us-1/retry", headers=admin)
    assert (answer.status_code, filled.rollouts.retries()) == (200, frozenset({("prod-us-1", "platform-stable")}))


def test_the_rollout_api_serves_stages_in_order_with_their_units(
    filled: Store, make_services: Callable[..., Services], admin: dict[str, str]
) -> None:
    filled.rollouts.save({"platform-stable/staging": StageMark()}, [HELD], clusters=["prod-us-1"])
    with testing.running(make_services(filled)) as (_, client):
        found = client.get("/api/v1/assignments/platform-stable", headers=admin).json()
    assert [s["name"] for s in found["stages"]] == ["staging", "prod-eu", "prod-rest"]
    assert found["stages"][2]["units"] == [{"cluster": "prod-us-1", "state": "awaiting-approval",
                                            "reason": HELD.reason, "until": None}]


def test_a_held_unit_shows_on_the_fleet_view_the_cluster_and_its_api(
    filled: Store, make_services: Callable[..., Services], admin: dict[str, str]
) -> None:
    with testing.running(make_services(held(filled))) as (_, client):
        fleet = client.get("/api/v1/clusters", headers=admin).json()["clusters"]
        one = client.get("/api/v1/clusters/prod-us-1", headers=admin).json()
        page = client.get("/clusters/prod-us-1", headers=admin).text
    line = next(c for c in fleet if c["name"] == "prod-us-1")
    assert (line["state"], one["state"]) == ("awaiting-approval", "awaiting-approval")
    assert line["bundles"]["awaiting-approval"] == 4 and "awaiting approval of stage platform-stable/prod-rest" in page


def stackfleet(*args: str, token: str) -> Result:
    return CliRunner().invoke(main.cli, list(args), env={"STACKFLEET_TOKEN": token})


def test_stackfleet_approve_talks_to_the_running_daemon(
    filled: Store, make_services: Callable[..., Services]
) -> None:
    with testing.running(make_services(held(filled))) as (server, _):
        done = stackfleet("approve", "platform-stable/prod-rest", "--server", server.url, token=ADMIN_TOKEN)
    assert (done.exit_code, done.output) == (0, "approved platform-stable/prod-rest as admin-token\n")
    assert filled.rollouts.marks()["platform-stable/prod-rest"].approved_by == "admin-token"


def test_stackfleet_approve_with_a_read_only_token_is_refused(
    filled: Store, make_services: Callable[..., Services]
) -> None:
    with testing.running(make_services(held(filled))) as (server, _):
        done = stackfleet("approve", "platform-stable/prod-rest", "--server", server.url, token=READ_TOKEN)
    assert (done.exit_code, "403" in str(done.exception), filled.rollouts.marks()) == (1, True, {})


def test_stackfleet_pause_and_resume_an_assignment(filled: Store, make_services: Callable[..., Services]) -> None:
    with testing.running(make_services(filled)) as (server, _):
        paused = stackfleet("pause", "--assignment", "platform-stable", "--server", server.url, token=ADMIN_TOKEN)
        during = filled.rollouts.paused()
        stackfleet("resume", "--assignment", "platform-stable", "--server", server.url, token=ADMIN_TOKEN)
    assert (paused.exit_code, during, filled.rollouts.paused()) == (0, frozenset({"platform-stable"}), frozenset())


def test_the_rollout_answers_satisfy_their_openapi_schemas(
    filled: Store, make_services: Callable[..., Services], admin: dict[str, str]
) -> None:
    spec = openapis.document(apps.routes())
    filled.rollouts.save({}, [HELD], clusters=["prod-us-1"])
    with testing.running(make_services(filled)) as (_, client):
        answers = [("/api/v1/clusters/{name}", "get", client.get("/api/v1/clusters/prod-us-1", headers=admin)),
                   ("/api/v1/assignments/{assignment}", "get",
                    client.get("/api/v1/assignments/platform-stable", headers=admin)),
                   ("/api/v1/assignments/{assignment}/stages/{stage}/approve", "post", client.post(APPROVE, headers=admin)),
                   ("/api/v1/revisions", "get", client.get("/api/v1/revisions", headers=admin))]
    for path, method, answer in answers:
        body = spec["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]
        jsonschema.Draft202012Validator({**body, "components": spec["components"]}).validate(answer.json())


def saved_plan(store: Store, *, pr_number: int | None = None) -> str:
    plan = plans.Plan(revision="main@sha1:" + "f" * 40, created_at="2026-01-01T00:00:00+00:00")
    return store.plans.save(f"plan-{pr_number or 'daemon'}", plan, pr_number=pr_number,
                            pr_branch="topic" if pr_number else None).id


def test_a_held_change_set_is_approved_by_its_plan(
    filled: Store, make_services: Callable[..., Services], admin: dict[str, str], reader: dict[str, str]
) -> None:
    plan_id = saved_plan(filled)
    with testing.running(make_services(filled)) as (_, client):
        refused = client.post(f"/api/v1/plans/{plan_id}/approve", headers=reader)
        answer = client.post(f"/api/v1/plans/{plan_id}/approve", headers=admin)
    assert (refused.status_code, answer.status_code, filled.plans.get(plan_id).status) == (
        403, 200, PlanStatus.APPROVED)
    assert filled.plans.approved("main@sha1:" + "f" * 40)
    assert filled.events.recent(limit=1)[0].reason == "ChangeSetApproved"


def test_a_pull_requests_plan_is_not_approved_here(
    filled: Store, make_services: Callable[..., Services], admin: dict[str, str]
) -> None:
    plan_id = saved_plan(filled, pr_number=7)
    with testing.running(make_services(filled)) as (_, client):
        answer = client.post(f"/api/v1/plans/{plan_id}/approve", headers=admin)
    assert (answer.status_code, filled.plans.approved("main@sha1:" + "f" * 40)) == (409, False)
