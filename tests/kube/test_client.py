"""The cluster client against sim clusters: SSA, dry-run, pagination, uid preconditions, typed errors, retries."""

from __future__ import annotations

import pytest

from reconciler.core.objects import FIELD_MANAGER, ObjectKey
from reconciler.errors import ApplyError, ClusterAuthFailed, ClusterUnreachable
from reconciler.kube.client import ApplyConflict


def config_map(name: str, **data: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": "default", "labels": {"app": "t"}}, "data": data}


KEY = ObjectKey("", "ConfigMap", "default", "one")


def test_apply_is_server_side_with_our_field_manager(make_client):
    client = make_client()
    kept = client.apply(config_map("one", a="1"))
    managers = {(m["manager"], m["operation"]) for m in kept["metadata"]["managedFields"]}
    assert (FIELD_MANAGER, "Apply") in managers


def test_a_dry_run_writes_nothing(make_client, sim):
    client = make_client()
    answer = client.apply(config_map("one", a="1"), dry_run=True)
    assert answer["metadata"]["name"] == "one"
    assert client.get(KEY) is None


def test_list_follows_continue_tokens(make_client):
    client = make_client()
    for i in range(7):
        client.apply(config_map(f"cm-{i}"))
    found = client.list(client.discovery.preferred("ConfigMap"), selector="app=t", page_size=3)
    assert sorted(o["metadata"]["name"] for o in found) == [f"cm-{i}" for i in range(7)]
    assert client.stats["list"] == 3


def test_delete_with_a_stale_uid_is_refused(make_client):
    client = make_client()
    client.apply(config_map("one"))
    with pytest.raises(ApplyError, match="Precondition failed"):
        client.delete(KEY, uid="not-the-uid")
    assert client.get(KEY) is not None


def test_delete_with_the_live_uid_deletes_and_a_second_time_finds_it_gone(make_client):
    client = make_client()
    uid = client.apply(config_map("one"))["metadata"]["uid"]
    assert client.delete(KEY, uid=uid) is True
    assert client.delete(KEY, uid=uid) is False


def test_a_conflict_with_another_manager_is_an_apply_conflict_naming_the_field(make_client, sim):
    client = make_client()
    client.apply(config_map("one", a="1"))
    other = sim.dynamic_client("c0").resources.get(api_version="v1", kind="ConfigMap")
    other.patch(name="one", namespace="default", body={"data": {"a": "2"}},
                content_type="application/merge-patch+json", field_manager="kubectl-edit")
    with pytest.raises(ApplyConflict) as caught:
        client.apply(config_map("one", a="3"))
    assert [field for field, _ in caught.value.causes] == [".data.a"]
    assert client.apply(config_map("one", a="3"), force=True)["data"]["a"] == "3"


def test_401_is_auth_failed_without_a_retry(make_client, sim, sleeps):
    client = make_client()
    sim.cluster("c0").token = "revoked"
    with pytest.raises(ClusterAuthFailed):
        client.get(KEY)
    assert sum(client.stats.values()) == 1 and sleeps == []


def test_429_honours_retry_after_and_then_succeeds(make_client, sim, sleeps):
    client = make_client()
    client.discovery.served()
    sim.faults("c0").throttle(3, retry_after=2)
    assert client.get(ObjectKey("", "Namespace", "", "default")) is not None
    assert len(sleeps) == 3 and all(2 <= s <= 2.05 for s in sleeps)


def test_a_429_storm_past_the_attempts_is_unreachable(make_client, sim, sleeps):
    client = make_client(attempts=4)
    client.discovery.served()
    sim.faults("c0").throttle(100, retry_after=1)
    with pytest.raises(ClusterUnreachable, match="HTTP 429 after 4 attempt"):
        client.get(KEY)
    assert len(sleeps) == 3


def test_5xx_backs_off_with_jitter_within_bounds(make_client, sim, sleeps):
    client = make_client(attempts=5)
    client.discovery.served()
    sim.faults("c0").error_rate = 1.0
    with pytest.raises(ClusterUnreachable, match="HTTP 500 after 5 attempt"):
        client.get(KEY)
    assert len(sleeps) == 4
    assert all(0 <= s <= 0.05 * 2 ** i for i, s in enumerate(sleeps))


def test_a_reset_connection_is_retried(make_client, sim):
    client = make_client()
    client.discovery.served()
    sim.faults("c0").reset_next(2)
    assert client.get(ObjectKey("", "Namespace", "", "default")) is not None


def test_a_cluster_that_is_down_is_unreachable(make_client, sim):
    client = make_client(attempts=2)
    sim.faults("c0").down = True
    with pytest.raises(ClusterUnreachable, match="no answer after 2 attempt"):
        client.get(KEY)


def test_a_refused_write_carries_the_servers_message(make_client):
    client = make_client()
    bad = config_map("one")
    bad["metadata"]["namespace"] = "nowhere"
    with pytest.raises(ApplyError, match='namespaces "nowhere" not found'):
        client.apply(bad)


def test_list_kind_lists_a_served_kind_and_nothing_for_an_unknown_one(make_client):
    client = make_client()
    client.apply(config_map("one"))
    assert [o["metadata"]["name"] for o in client.list_kind("ConfigMap", selector="app=t")] == ["one"]
    assert client.list_kind("Widget.example.dev", selector="app=t") == []
