"""The render cache: content keys, LRU bound, and the on-disk directory."""

from __future__ import annotations

from pathlib import Path

from reconciler.render import cache
from reconciler.render.manifests import Doc

DOCS = [Doc(obj={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}, file="m/a.yaml")]


def _render(calls: list[str], label: str) -> list[Doc]:
    calls.append(label)
    return DOCS


def test_keys_ignore_mapping_order_and_see_every_value():
    assert (
        cache.key_of({"a": 1, "b": {"x": [1, 2]}}) == cache.key_of({"b": {"x": [1, 2]}, "a": 1}),
        cache.key_of({"a": 1}) == cache.key_of({"a": 2}),
    ) == (True, False)


def test_least_recently_used_entry_is_evicted_first():
    calls: list[str] = []
    store = cache.Cache(max_entries=2)
    for label in ("a", "b", "a", "c", "a", "b"):
        store.get_or_render({"k": label}, lambda label=label: _render(calls, label), label=label)
    assert (calls, store.stats.hits, store.stats.misses) == (["a", "b", "c", "b"], 2, 4)


def test_disk_entries_survive_a_restart_and_damaged_ones_are_misses(tmp_path: Path):
    calls: list[str] = []
    first = cache.Cache(directory=tmp_path)
    first.get_or_render({"k": 1}, lambda: _render(calls, "one"), label="one", persist=True)
    first.get_or_render({"k": 2}, lambda: _render(calls, "two"), label="two", persist=True)
    damaged = tmp_path / cache.key_of({"k": 2})[:2] / f"{cache.key_of({'k': 2})}.json"
    damaged.write_text("{not json")
    second = cache.Cache(directory=tmp_path)
    got = second.get_or_render({"k": 1}, lambda: _render(calls, "one again"), label="one", persist=True)
    second.get_or_render({"k": 2}, lambda: _render(calls, "two again"), label="two", persist=True)
    assert (calls, got[0].obj, got[0].file) == (["one", "two", "two again"], DOCS[0].obj, "m/a.yaml")
