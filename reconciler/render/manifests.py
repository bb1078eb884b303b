"""Read a directory of manifests (YAML or JSON, several documents per file) from a ``FileTree``.

Files are read in path order (``.yaml``, ``.yml``, ``.json``; other files are ignored), documents in
file order, and a ``kind: List`` is flattened into its items. Every document must be a mapping with
``apiVersion``, ``kind`` and ``metadata.name``; anything else is a ``RenderError`` naming file and line.
A SOPS-encrypted document (age keys) is decrypted in memory as it is read (``render.sops``).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
from dataclasses import dataclass
from typing import Any

from reconciler.errors import RenderError
from reconciler.render import sops
from reconciler.spec import yamldocs
from reconciler.spec.trees import FileTree, walk_files

SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(frozen=True)
class Doc:
    """One parsed object and where it was written."""

    obj: dict[str, Any]
    file: str
    lines: yamldocs.LineIndex | None = None
    base: tuple[str | int, ...] = ()
    """Path of ``obj`` in its document (``("items", 3)`` for an item of a List)."""

    @property
    def line(self) -> int | None:
        return self.lines.line_of(self.base) if self.lines is not None else None


def read_dir(tree: FileTree, path: str, *, recursive: bool = True, keys: sops.AgeKeys | None = None) -> list[Doc]:
    """Every object of the manifest files below ``path`` (SOPS files decrypted with ``keys``)."""
    return [doc for file in _files(tree, path, recursive=recursive) for doc in read_file(tree, file, keys=keys)]


def read_file(tree: FileTree, file: str, *, keys: sops.AgeKeys | None = None) -> list[Doc]:
    return parse(tree.read(file), file=file, keys=keys)


def parse(data: bytes, *, file: str, keys: sops.AgeKeys | None = None) -> list[Doc]:
    """The objects of one YAML or JSON stream; a SOPS-encrypted document is decrypted in memory."""
    out: list[Doc] = []
    for document in yamldocs.load_documents(data, file=file):
        if isinstance(document.data, dict) and sops.is_encrypted(document.data):
            document = dataclasses.replace(document, data=sops.decrypt(document.data, keys=keys, file=file))
        out.extend(_objects(document))
    return out


def _files(tree: FileTree, path: str, *, recursive: bool) -> list[str]:
    if recursive:
        return [f for f in walk_files(tree, path) if f.endswith(SUFFIXES)]
    names = tree.list_dir(path)
    return [f"{path}/{n}" for n in names if n.endswith(SUFFIXES) and tree.is_file(f"{path}/{n}")]


def _objects(document: yamldocs.Document) -> list[Doc]:
    data = document.data
    doc = Doc(obj=data, file=document.file, lines=document.lines)
    check(doc)
    if data.get("kind") == "List" and isinstance(data.get("items"), list):
        items = [
            Doc(obj=o, file=doc.file, lines=doc.lines, base=("items", i)) for i, o in enumerate(data["items"])
        ]
        for item in items:
            check(item)
        return items
    return [doc]


def check(doc: Doc) -> None:
    """Raise ``RenderError`` unless ``doc`` looks like a Kubernetes object."""
    obj = doc.obj
    if not isinstance(obj, dict):
        raise RenderError("a manifest document must be a mapping", file=doc.file, line=doc.line)
    for field in ("apiVersion", "kind"):
        if not isinstance(obj.get(field), str) or not obj[field]:
            raise RenderError(f"object has no {field}", file=doc.file, line=doc.line)
    if obj["kind"] == "List":
        return
    meta = obj.get("metadata")
    if not isinstance(meta, dict) or not isinstance(meta.get("name"), str) or not meta["name"]:
        raise RenderError(f"{obj['kind']} has no metadata.name", file=doc.file, line=doc.line)
    if (obj["apiVersion"], obj["kind"]) == ("v1", "Secret"):
        _check_secret_data(doc)


def _check_secret_data(doc: Doc) -> None:
    """A Secret's ``data`` values must be base64 (as the API server requires); the value is never quoted."""
    data = doc.obj.get("data") or {}
    for key, value in data.items() if isinstance(data, dict) else ():
        try:
            base64.b64decode(str(value), validate=True)
        except binascii.Error:
            where = doc.lines.line_of((*doc.base, "data", key)) if doc.lines is not None else doc.line
            raise RenderError(f"Secret data key {key!r} is not valid base64", file=doc.file, line=where) from None
