"""WATCH over raw HTTP: chunked JSON lines, bookmarks, and the watch-list initial-events bookmark."""

from __future__ import annotations

import json

CM = "/api/v1/namespaces/default/configmaps"


def events(api, count, **params):
    """The first ``count`` events of a watch (the server would go on until its 10 s timeout)."""
    seen = []
    with api.client.stream("GET", CM, params={"watch": "true", "timeoutSeconds": "10", **params}) as answer:
        for line in answer.iter_lines():
            seen.append(json.loads(line))
            if len(seen) == count:
                break
    return seen


def test_watch_without_resource_version_starts_with_added_events(api):
    api.post(CM, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}})
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events(api, 1)] == [("ADDED", "a")]


def test_watch_bookmarks_carry_the_resource_version(api):
    version = api.post(CM, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}).json()[
        "metadata"]["resourceVersion"]
    seen = events(api, 1, resourceVersion=version, allowWatchBookmarks="true")
    assert [(e["type"], e["object"]["metadata"]["resourceVersion"]) for e in seen] == [("BOOKMARK", version)]


def test_send_initial_events_ends_with_the_initial_events_end_bookmark(api):
    api.post(CM, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}})
    seen = events(api, 2, sendInitialEvents="true", resourceVersionMatch="NotOlderThan", allowWatchBookmarks="true")
    marker = seen[1]["object"]["metadata"].get("annotations", {})
    assert ([e["type"] for e in seen[:2]], marker) == (["ADDED", "BOOKMARK"], {"k8s.io/initial-events-end": "true"})


def test_watch_sees_deletion(api):
    version = api.post(CM, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}).json()[
        "metadata"]["resourceVersion"]
    api.delete(f"{CM}/a")
    assert [e["type"] for e in events(api, 1, resourceVersion=version)] == ["DELETED"]
