"""A real PostgreSQL server for the tests: Debian's binaries, a throw-away cluster in /tmp, a Unix socket.

``PostgresServer.start()`` runs ``initdb`` and then ``postgres`` in the foreground as a child of the
test process, listening on no TCP port at all (``listen_addresses=''``), only on a socket in its own
temporary directory. The child gets ``PR_SET_PDEATHSIG``: if the test process dies, the server gets
SIGQUIT (immediate shutdown) from the kernel, so it stops by itself. As root (CI), the server runs as
the ``postgres`` user that Debian's package creates: PostgreSQL refuses to run as root.

A missing server binary is an error, not a skip: CI installs ``postgresql`` (see ``.ci/run``).
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

PR_SET_PDEATHSIG = 1


def _bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("postgres")
    if on_path:
        return Path(on_path).resolve().parent
    raise RuntimeError("PostgreSQL server binaries not found: apt-get install postgresql (.ci/run does)")


def _run_as() -> pwd.struct_passwd | None:
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        return pwd.getpwnam("nobody")


@dataclass
class PostgresServer:
    root: Path
    bin_dir: Path = field(default_factory=_bin_dir)
    user: pwd.struct_passwd | None = field(default_factory=_run_as)
    process: subprocess.Popen[bytes] | None = None

    @property
    def socket_dir(self) -> Path:
        return self.root / "sock"

    def _demote(self) -> None:
        if self.user is not None:
            os.setgid(self.user.pw_gid)
            os.setuid(self.user.pw_uid)
        # after the uid change, which would clear it
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGQUIT)

    def start(self) -> PostgresServer:
        data = self.root / "data"
        self.socket_dir.mkdir(parents=True)
        if self.user is not None:
            for path in (self.root, self.socket_dir):
                os.chown(path, self.user.pw_uid, self.user.pw_gid)
        initdb = [str(self.bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
        subprocess.run([*initdb, "--no-sync"], check=True, capture_output=True, preexec_fn=self._demote, timeout=120)
        log = (self.root / "server.log").open("wb")
        command = [
            str(self.bin_dir / "postgres"), "-D", str(data), "-k", str(self.socket_dir),
            "-c", "listen_addresses=", "-c", "fsync=off", "-c", "max_connections=200",
        ]
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, preexec_fn=self._demote)
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        import psycopg

        deadline = time.monotonic() + 60
        while True:
            try:
                psycopg.connect(self.dsn("postgres")).close()
                return
            except psycopg.OperationalError:
                if self.process is None or self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"PostgreSQL did not start: {self.log_tail()}") from None
                time.sleep(0.1)

    def log_tail(self) -> str:
        path = self.root / "server.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else "(no log)"

    def dsn(self, database: str) -> str:
        return f"host={self.socket_dir} user=postgres dbname={database}"

    def url(self, database: str) -> str:
        """A SQLAlchemy URL, as a user writes it in ``--state`` (the store picks the driver)."""
        return f"postgresql://postgres@/{database}?host={self.socket_dir}"

    def create_database(self) -> str:
        """A fresh, empty database; its name."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(self.dsn("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return name

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=30)
            if self.process.poll() is None:
                self.process.kill()
        shutil.rmtree(self.root, ignore_errors=True)


def start_server() -> PostgresServer:
    return PostgresServer(root=Path(tempfile.mkdtemp(prefix="stackfleet-pg-"))).start()
