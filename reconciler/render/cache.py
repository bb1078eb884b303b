"""A content-addressed cache of renders: an unchanged input is never rendered twice.

The key of a render is the SHA-256 of a canonical JSON of everything that can change its output:
the renderer and engine versions, the content ids (``FileTree.tree_id``: Git tree ids for a commit)
of the files it reads, the values after substitution, the release name and namespace, and the
destination's Kubernetes version and API versions. Entries live in an in-memory LRU; Helm and
Kustomize renders can also be kept in a directory (one JSON file per key) so a restart starts warm.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.render.manifests import Doc

RENDERER_VERSION = "stackfleet-render/2"
"""Bumped whenever the pipeline changes what a cached render means."""


def key_of(parts: Mapping[str, Any]) -> str:
    """The cache key of ``parts`` (a JSON-able mapping)."""
    text = json.dumps(
        {"renderer": RENDERER_VERSION, **parts}, sort_keys=True, separators=(",", ":"), default=str
    )
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Stats:
    hits: int = 0
    misses: int = 0
    rendered: list[str] = field(default_factory=list)
    """Labels of the renders that ran (cache misses), in order."""


class Cache:
    """In-memory LRU of rendered documents, optionally backed by ``directory``."""

    def __init__(self, *, max_entries: int = 4096, directory: str | os.PathLike[str] | None = None) -> None:
        self.max_entries = max_entries
        self.directory = Path(directory) if directory is not None else None
        self.stats = Stats()
        self._entries: OrderedDict[str, tuple[Doc, ...]] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_render(
        self, parts: Mapping[str, Any], render: Callable[[], list[Doc]], *, label: str, persist: bool = False
    ) -> list[Doc]:
        key = key_of(parts)
        found = self._get(key, persist=persist)
        if found is not None:
            return list(found)
        docs = tuple(render())
        with self._lock:
            self.stats.misses += 1
            self.stats.rendered.append(label)
        self._put(key, docs, persist=persist)
        return list(docs)

    def _get(self, key: str, *, persist: bool) -> tuple[Doc, ...] | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
        if found is None and persist:
            found = self._read(key)
            if found is not None:
                self._remember(key, found)
        if found is not None:
            with self._lock:
                self.stats.hits += 1
        return found

    def _put(self, key: str, docs: tuple[Doc, ...], *, persist: bool) -> None:
        self._remember(key, docs)
        if persist:
            self._write(key, docs)

    def _remember(self, key: str, docs: tuple[Doc, ...]) -> None:
        with self._lock:
            self._entries[key] = docs
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def _path(self, key: str) -> Path | None:
        return self.directory / key[:2] / f"{key}.json" if self.directory is not None else None

    def _read(self, key: str) -> tuple[Doc, ...] | None:
        path = self._path(key)
        if path is None or not path.is_file():
            return None
        try:
            entries = json.loads(path.read_text())
            return tuple(Doc(obj=e["obj"], file=e["file"]) for e in entries)
        except (OSError, ValueError, KeyError, TypeError):
            return None  # a damaged entry is a miss, and is rewritten

    def _write(self, key: str, docs: tuple[Doc, ...]) -> None:
        path = self._path(key)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.part")
        tmp.write_text(json.dumps([{"obj": d.obj, "file": d.file} for d in docs], separators=(",", ":")))
        tmp.replace(path)
