"""Injected faults: latency, 500/503, 429 with Retry-After, resets, cluster down, denied deletes, counters."""

from __future__ import annotations

import httpx
import pytest

CM = "/api/v1/namespaces/default/configmaps"
BODY = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "keep"}}


def test_throttle_answers_429_with_retry_after(sim, api):
    sim.faults("c0").throttle(1, retry_after=7)
    answer = api.get(CM)
    assert (answer.status_code, answer.headers["Retry-After"], answer.json()["reason"]) == (
        429, "7", "TooManyRequests")


def test_throttle_ends_after_its_count(sim, api):
    sim.faults("c0").throttle(2)
    codes = [api.get(CM).status_code for _ in range(3)]
    assert codes == [429, 429, 200]


def test_error_rate_one_answers_500(sim, api):
    sim.faults("c0").error_rate = 1.0
    answer = api.get(CM)
    assert (answer.status_code, answer.json()["reason"]) == (500, "InternalError")


def test_unavailable_rate_one_answers_503(sim, api):
    sim.faults("c0").unavailable_rate = 1.0
    assert api.get(CM).status_code == 503


def test_cluster_down_resets_connections_and_comes_back(sim, api):
    sim.faults("c0").down = True
    with pytest.raises(httpx.TransportError):
        api.get(CM)
    sim.faults("c0").down = False
    assert api.get(CM).status_code == 200


def test_reset_next_drops_one_connection(sim, api):
    sim.faults("c0").reset_next(1)
    with pytest.raises(httpx.TransportError):
        api.get(CM)
    assert api.get(CM).status_code == 200


def test_denied_delete_is_refused_like_an_admission_webhook(sim, api):
    api.post(CM, BODY)
    sim.faults("c0").deny_delete("ConfigMap", "default", "keep", message="protected")
    answer = api.delete(f"{CM}/keep")
    assert (answer.status_code, "denied the request: protected" in answer.json()["message"],
            api.get(f"{CM}/keep").status_code) == (403, True, 200)


def test_faults_of_one_cluster_leave_the_other_alone(sim, make_api):
    sim.faults("c0").down = True
    other = make_api(sim.server.url("c1"), sim.cluster("c1").token)
    assert other.get(CM).status_code == 200


def test_counters_by_verb_and_resource(sim, api):
    api.post(CM, BODY)
    api.get(f"{CM}/keep")
    api.get(CM)
    api.get(CM)
    faults = sim.faults("c0")
    assert (faults.total("list", "configmaps"), faults.total("get", "configmaps"),
            faults.total("create", "configmaps")) == (2, 1, 1)


def test_latency_is_added(sim, api):
    sim.faults("c0").latency = 0.05
    api.get(CM)
    sim.faults("c0").clear()
    assert sim.faults("c0").latency == 0.0 and api.get(CM).status_code == 200


def test_forbidden_answers_403(sim, api):
    sim.faults("c0").forbidden = True
    assert (api.get(CM).status_code, api.get(CM).json()["reason"]) == (403, "Forbidden")


def test_down_after_writes_cuts_the_network_mid_apply(sim, api):
    sim.faults("c0").down_after_writes(2)
    api.post(CM, {**BODY, "metadata": {"name": "one"}})
    api.post(CM, {**BODY, "metadata": {"name": "two"}})
    with pytest.raises(httpx.TransportError):
        api.post(CM, {**BODY, "metadata": {"name": "three"}})
    sim.faults("c0").clear()
    names = [i["metadata"]["name"] for i in api.get(CM).json()["items"]]
    assert names == ["one", "two"]


def test_history_records_each_request(sim, api):
    api.get(CM)
    api.get(CM)
    assert [(verb, resource) for _, verb, resource in sim.faults("c0").history] == [("list", "configmaps")] * 2


def test_revoked_token_is_unauthorized_and_still_counted(sim, api):
    sim.cluster("c0").token = "rotated"
    answers = [api.get(CM).status_code for _ in range(3)]
    assert (answers, sim.faults("c0").total("list", "configmaps")) == ([401, 401, 401], 3)
