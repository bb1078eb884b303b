"""kill -9 while steps are being written: the file stays sound and holds a gap-free prefix of the steps."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from reconciler.store import stores

ENDLESS_WRITER = textwrap.dedent(
    """
    import sys
    from reconciler.core.desired import BundleId
    from reconciler.core.objects import ObjectKey
    from reconciler.store import stores
    from reconciler.core.statuses import Outcome

    store = stores.open_store(sys.argv[1])
    bundle = BundleId(cluster="eu-1", stack="platform", bundle="ingress")
    store.runs.start("run-1", revision="main@sha1:aaa")
    i = 0
    while True:
        cm = ObjectKey(group="", kind="ConfigMap", namespace="ingress", name=f"cm-{i:06d}")
        step = store.runs.begin_step("run-1", cluster="eu-1", bundle=bundle, key=cm, action="create")
        store.runs.finish_step(step, Outcome.APPLIED)
        i += 1
    """
)


def steps_written(db_path: Path) -> int:
    try:
        with sqlite3.connect(db_path, timeout=10) as conn:
            return int(conn.execute("SELECT count(*) FROM steps").fetchone()[0])
    except sqlite3.OperationalError:  # not created yet
        return 0


def kill_while_writing(db_path: Path, *, after_steps: int) -> None:
    writer = subprocess.Popen([sys.executable, "-c", ENDLESS_WRITER, str(db_path)])
    try:
        while steps_written(db_path) < after_steps and writer.poll() is None:
            time.sleep(0.01)
    finally:
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait(timeout=30)


def test_a_killed_writer_leaves_a_sound_file_and_a_prefix_of_its_steps(db_path: Path) -> None:
    kill_while_writing(db_path, after_steps=30)
    with sqlite3.connect(db_path) as conn:
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
    store = stores.open_store(db_path)
    names = [s.object_key.rsplit("/", 1)[1] for s in store.runs.steps("run-1")]
    store.close()
    assert (integrity, len(names) >= 30, names) == ("ok", True, [f"cm-{i:06d}" for i in range(len(names))])


def test_only_the_last_step_can_be_left_started(db_path: Path) -> None:
    kill_while_writing(db_path, after_steps=30)
    store = stores.open_store(db_path)
    outcomes = [s.outcome.value for s in store.runs.steps("run-1")]
    store.close()
    assert set(outcomes[:-1]) == {"applied"}
