"""The JSON API: clusters, bundles, drift, plans, revisions, events."""

from __future__ import annotations

import httpx


def test_clusters_carry_labels_and_state(web: httpx.Client, reader: dict[str, str]) -> None:
    clusters = {c["name"]: c for c in web.get("/api/v1/clusters", headers=reader).json()["clusters"]}
    assert (clusters["prod-eu-2"]["state"], clusters["prod-eu-2"]["labels"]["env"]) == ("drifted", "prod")


def test_one_cluster_lists_its_stacks_bundles_and_drift(web: httpx.Client, reader: dict[str, str]) -> None:
    found = web.get("/api/v1/clusters/prod-eu-2", headers=reader).json()
    assert (found["stacks"], len(found["drift"])) == ({"cluster-base": "1.1.0", "platform": "1.4.0"}, 1)


def test_bundles_have_one_row_per_cluster_and_bundle(web: httpx.Client, reader: dict[str, str]) -> None:
    found = web.get("/api/v1/bundles", headers=reader).json()["bundles"]
    assert len(
        {(b["cluster"], b["bundle"]["cluster"], b["bundle"]["stack"], b["bundle"]["bundle"]) for b in found}
    ) == len(found)


def test_drift_entries_say_what_when_and_where(web: httpx.Client, reader: dict[str, str]) -> None:
    entry = web.get("/api/v1/drift", headers=reader).json()["entries"][0]
    assert (
        entry["cluster"],
        entry["kind"],
        entry["patch"][0]["path"],
        entry["url"].startswith("/drift/"),
    ) == (
        "prod-eu-2",
        "modified",
        "/data/a",
        True,
    )


def test_drift_can_be_filtered_by_cluster(web: httpx.Client, reader: dict[str, str]) -> None:
    assert web.get("/api/v1/drift", params={"cluster": "prod-eu-1"}, headers=reader).json()["count"] == 0


def test_an_unknown_plan_is_a_json_404(web: httpx.Client, reader: dict[str, str]) -> None:
    answer = web.get("/api/v1/plans/nope", headers=reader)
    assert (answer.status_code, answer.json()["error"]) == (404, "no such plan")


def test_revisions_are_listed_per_source(web: httpx.Client, reader: dict[str, str]) -> None:
    assert web.get("/api/v1/revisions", headers=reader).json() == {"sources": {"fleet": []}}
