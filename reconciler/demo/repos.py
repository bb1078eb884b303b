"""A local Git remote for the demo and the daemon's tests: a bare repo, a work tree and ``git daemon``.

``Upstream.create(root, seed=fleet_dir)`` copies ``seed`` into a work tree, commits it on ``main``
and pushes it to a bare repo, which ``GitDaemon`` then serves read-only on 127.0.0.1 (or use
``Upstream.file_url`` for a ``file://`` remote); on Linux the server dies with the process that
started it. Commits are made with the real git CLI, the way a
user would push to a fleet repo.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from reconciler.errors import ConfigError

PR_SET_PDEATHSIG = 1
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "stackfleet demo",
    "GIT_AUTHOR_EMAIL": "demo@stackfleet.invalid",
    "GIT_COMMITTER_NAME": "stackfleet demo",
    "GIT_COMMITTER_EMAIL": "demo@stackfleet.invalid",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_TERMINAL_PROMPT": "0",
}


NO_GIT = "the git CLI is not installed; it serves and edits the demo's fleet repo (install git, e.g. apt-get install git)"


def git(*args: str, cwd: Path) -> str:
    """Run the git CLI in ``cwd`` with a fixed identity and no user or system config."""
    env = {**os.environ, **GIT_IDENTITY}
    try:
        done = subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True)
    except FileNotFoundError:
        raise ConfigError(NO_GIT) from None
    return done.stdout.strip()


def require_git() -> None:
    """Fail with one clear ``ConfigError`` when the git CLI cannot be run."""
    git("--version", cwd=Path.cwd())


class Upstream:
    """A bare repo (``bare``) fed by pushes from a work tree (``work``) on branch ``main``."""

    def __init__(self, root: Path) -> None:
        root = root.resolve()
        self.root = root
        self.bare = root / "fleet.git"
        self.work = root / "work"

    @classmethod
    def create(cls, root: Path, *, seed: Path | None = None) -> Upstream:
        upstream = cls(root)
        upstream.root.mkdir(parents=True, exist_ok=True)
        git("init", "-q", "--bare", "-b", "main", str(upstream.bare), cwd=upstream.root)
        if seed is not None:
            shutil.copytree(seed, upstream.work, ignore=shutil.ignore_patterns(".git", "__pycache__"))
        upstream.work.mkdir(exist_ok=True)
        git("init", "-q", "-b", "main", cwd=upstream.work)
        git("remote", "add", "origin", str(upstream.bare), cwd=upstream.work)
        # main tracks origin/main, so a plain `git push` in the work tree works whatever push.default is
        git("config", "branch.main.remote", "origin", cwd=upstream.work)
        git("config", "branch.main.merge", "refs/heads/main", cwd=upstream.work)
        if seed is not None:
            upstream.commit("Import the fleet repo")
        return upstream

    @property
    def file_url(self) -> str:
        return self.bare.resolve().as_uri()

    def write(self, files: Mapping[str, str]) -> None:
        for name, text in files.items():
            target = self.work / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)

    def commit(self, message: str, files: Mapping[str, str] | None = None, *, push: bool = True) -> str:
        """Write ``files``, commit everything in the work tree and push ``main``; returns the SHA."""
        self.write(files or {})
        git("add", "-A", cwd=self.work)
        git("commit", "-q", "--allow-empty", "-m", message, cwd=self.work)
        if push:
            git("push", "-q", "-f", "origin", "main", cwd=self.work)
        return git("rev-parse", "HEAD", cwd=self.work)

    def head(self) -> str:
        return git("rev-parse", "HEAD", cwd=self.work)

    def read(self, name: str) -> str:
        return (self.work / name).read_text()


class GitDaemon:
    """``git daemon`` serving ``base`` read-only on a free loopback port until ``stop``."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, *, wait: float = 10.0) -> GitDaemon:
        self.process = subprocess.Popen(
            ["git", "daemon", "--export-all", "--reuseaddr", "--enable=upload-pack", f"--base-path={self.base}",
             "--listen=127.0.0.1", f"--port={self.port}", "--timeout=30", str(self.base)],
            env={**os.environ, **GIT_IDENTITY}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )
        _wait_for_port(self.port, seconds=wait)
        return self

    def url(self, name: str = "fleet.git") -> str:
        return f"git://127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def __enter__(self) -> GitDaemon:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux to SIGTERM it when its parent dies (no orphaned git daemon)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for_port(port: int, *, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"git daemon did not listen on 127.0.0.1:{port} within {seconds}s") from None
            time.sleep(0.02)
