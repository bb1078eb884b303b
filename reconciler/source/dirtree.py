"""``FileTree`` over a directory on disk (``stackfleet validate fleet/``, tests, the demo's source)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from reconciler.errors import SpecError, UnsafePathError
from reconciler.spec.trees import MAX_FILE_BYTES, clean_path

_SKIP = {".git"}


class DirTree:
    """The files below ``root``. Symlinks are followed only while they stay inside ``root``."""

    def __init__(self, root: str | os.PathLike[str], *, max_file_bytes: int = MAX_FILE_BYTES) -> None:
        self.root = Path(root).resolve()
        self.max_file_bytes = max_file_bytes
        if not self.root.is_dir():
            raise SpecError(f"fleet repo {str(root)!r} is not a directory")

    @property
    def revision(self) -> str:
        return f"dir:{self.root}"

    def _resolve(self, path: str) -> Path:
        rel = clean_path(path)
        target = self.root / rel if rel else self.root
        try:
            real = target.resolve(strict=False)
        except RuntimeError as exc:  # symlink loop
            raise UnsafePathError(f"{rel}: symlink loop", path=rel) from exc
        if real != self.root and self.root not in real.parents:
            raise UnsafePathError(f"{rel}: symlink leads outside the fleet repo", path=rel)
        if target.is_symlink() and not target.exists():
            raise UnsafePathError(f"{rel}: dangling or looping symlink", path=rel)
        return real

    def read(self, path: str) -> bytes:
        real = self._resolve(path)
        if not real.is_file():
            raise FileNotFoundError(clean_path(path))
        size = real.stat().st_size
        if size > self.max_file_bytes:
            raise SpecError(
                f"{clean_path(path)}: file is {size} bytes, over the limit of {self.max_file_bytes}",
                path=clean_path(path),
            )
        return real.read_bytes()

    def is_file(self, path: str) -> bool:
        try:
            return self._resolve(path).is_file()
        except UnsafePathError:
            raise
        except OSError:
            return False

    def is_dir(self, path: str) -> bool:
        try:
            return self._resolve(path).is_dir()
        except OSError:
            return False

    def list_dir(self, path: str) -> list[str]:
        real = self._resolve(path)
        if not real.is_dir():
            raise NotADirectoryError(clean_path(path))
        return sorted(n for n in os.listdir(real) if n not in _SKIP)

    def tree_id(self, path: str) -> str:
        digest = hashlib.sha256()
        rel = clean_path(path)
        if self.is_file(rel):
            digest.update(self.read(rel))
            return digest.hexdigest()
        for name in self.list_dir(rel):
            child = f"{rel}/{name}" if rel else name
            digest.update(name.encode() + b"\0" + self.tree_id(child).encode() + b"\n")
        return digest.hexdigest()
