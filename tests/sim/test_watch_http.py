"""WATCH over raw HTTP: chunked JSON lines, bookmarks, and the watch-list initial-events bookmark."""

from __future__ import annotations

import json

CM = "/api/v1/namespaces/default/configmaps"


def events(api, **params):
    with api.client.stream("GET", CM, params={"watch": "true", "timeoutSeconds": "1", **params}) as answer:
        return [json.loads(line) for line in answer.iter_lines() if line]


def test_watch_without_resource_version_starts_with_added_events(api):
    api.post(CM, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}})
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events(api)] == [("ADDED", "a")]


def test_watch_bookmarks_carry_the_resource_version(api):
    version = api.post(CM, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}).json()[
        "metadata"]["resourceVersion"]
    seen = events(api, resourceVersion=version, allowWatchBookmarks="true", timeoutSeconds="2")
    assert {(e["type"], e["object"]["metadata"]["resourceVersion"]) for e in seen} == {("BOOKMARK", version)}


def test_send_initial_events_ends_with_the_initial_events_end_bookmark(api):
    api.post(CM, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}})
    seen = events(api, sendInitialEvents="true", resourceVersionMatch="NotOlderThan", allowWatchBookmarks="true")
    marker = seen[1]["object"]["metadata"].get("annotations", {})
    assert ([e["type"] for e in seen[:2]], marker) == (["ADDED", "BOOKMARK"], {"k8s.io/initial-events-end": "true"})


def test_watch_sees_deletion(api):
    version = api.post(CM, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}).json()[
        "metadata"]["resourceVersion"]
    api.delete(f"{CM}/a")
    assert [e["type"] for e in events(api, resourceVersion=version)] == ["DELETED"]
