"""RELIABILITY.md, area chaos: ``kill -9`` of ``stackfleet apply`` at seeded random points, then a restart.

Five kills, each at a different point: as rendering ends (at the first request to a cluster),
mid-apply (after k writes), mid-prune (after k deletes), right after a step was written to the store
(its progress line), and after a random number of requests. After each kill ``stackfleet apply`` runs again to the
end; then the fleet must be converged (nothing missing, nothing extra, the inventory matching what is
live), the restart must have written only what was still to do, and a second identical apply must
write nothing.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from reconciler.core.plans import ACTIONABLE

AREA = "chaos"
SEED = 20261122
CMS = 30


@dataclass
class Run:
    """A ``stackfleet apply`` subprocess and the progress lines it printed so far."""

    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)

    def follow(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)


def start_apply(rig) -> Run:
    command = ["stackfleet", "apply", "--yes", "--approve", "--fleet", str(rig.fleet),
               "--kubeconfig", str(rig.running.kubeconfig), "--state", str(rig.state)]
    env = {**os.environ, "STACKFLEET_CACHE_DIR": str(rig.state.parent / "cache"), "NO_COLOR": "1"}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    run = Run(process)
    threading.Thread(target=run.follow, daemon=True).start()
    return run


def kill_when(run: Run, ready: Callable[[], bool], *, deadline: float = 20.0) -> bool:
    """SIGKILL the run once ``ready()``; False when it ended by itself first."""
    stop = time.monotonic() + deadline
    while run.process.poll() is None and time.monotonic() < stop:
        if ready():
            run.process.send_signal(signal.SIGKILL)
            run.process.wait(10)
            return True
        time.sleep(0.002)
    run.process.wait(30)
    return False


def owned_live(rig) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for (cluster, _kind, _ns, name), seen in rig.live().items():
        if seen.owned:
            found.setdefault(cluster, set()).add(name)
    return found


def inventory(rig) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for bundle in rig.store.inventories.load_all():
        found.setdefault(bundle.dest, set()).update(e.key.name for e in bundle.entries)
    return found


def expected(count: int) -> set[str]:
    return {"apps", "app-secret", *(f"cm-{i}" for i in range(count))}


def recover_and_verify(rig, figures, *, count: int, dropped: list) -> None:
    """Restart the apply, then check convergence, no duplicate writes, and the invariants."""
    todo = sum(1 for c in rig.plan().plan.changes if c.action in ACTIONABLE)
    before = rig.writes()
    restart = start_apply(rig)
    code = restart.process.wait(60)
    figures.crashes += int(code not in (0, 1, 2) or any("Traceback" in line for line in restart.lines))
    assert code == 0, "".join(restart.lines)
    rig.keep("logs", "".join(restart.lines))
    rig.keep("report", restart.process.stdout.read() if restart.process.stdout else "")
    assert rig.writes() - before <= 2 * todo  # one dry run and one write per step still to do, no more
    live = owned_live(rig)
    figures.missing_after_recovery += sum(len(expected(count) - live.get(c, set())) for c in rig.running.names)
    assert live == {c: expected(count) for c in rig.running.names}
    assert inventory(rig) == live
    assert not rig.plan().plan.has_changes
    writes = rig.writes()
    rig.apply()
    figures.second_apply(rig.writes() - writes)
    assert rig.writes() == writes
    rig.check(area=AREA, dropped=dropped)


def writes_past(rig, verb: str | None, k: int) -> Callable[[], bool]:
    start = rig.writes() if verb is None else sum(rig.running.faults(c).total(verb) for c in rig.running.names)

    def ready() -> bool:
        now = rig.writes() if verb is None else sum(rig.running.faults(c).total(verb) for c in rig.running.names)
        return now - start >= k

    return ready


def requests_past(rig, k: int) -> Callable[[], bool]:
    start = sum(rig.running.faults(c).total() for c in rig.running.names)
    return lambda: sum(rig.running.faults(c).total() for c in rig.running.names) - start >= k


@pytest.fixture
def chaos(rig):
    rig.set_config_maps(CMS)
    for name in rig.running.names:
        rig.running.faults(name).latency = 0.003  # a real API server's round trip, so a kill lands mid-apply
    return rig


def test_kill_9_at_random_points_then_restart_converges_with_nothing_lost_or_duplicated(chaos, figures):
    rng = random.Random(SEED)
    kills: list[tuple[str, bool]] = []

    kills.append(("render", kill_when(start_apply(chaos), requests_past(chaos, 1))))  # 1: render done, first request
    recover_and_verify(chaos, figures, count=CMS, dropped=[])

    chaos.set_config_maps(CMS, tag="v2-")  # 2: mid-apply, after k of 3 x 30 updates
    kills.append(("mid-apply", kill_when(start_apply(chaos), writes_past(chaos, None, rng.randint(10, 60)))))
    recover_and_verify(chaos, figures, count=CMS, dropped=[])

    chaos.set_config_maps(10, tag="v2-")  # 3: mid-prune, after k of 3 x 20 deletes
    kills.append(("mid-prune", kill_when(start_apply(chaos), writes_past(chaos, "delete", rng.randint(3, 30)))))
    recover_and_verify(chaos, figures, count=10,
                       dropped=chaos.config_maps_of([f"cm-{i}" for i in range(10, CMS)]))

    chaos.set_config_maps(10, tag="v3-")  # 4: just after the store recorded a step (its progress line)
    run = start_apply(chaos)
    nth = rng.randint(1, 12)
    kills.append(("store write", kill_when(run, lambda: sum(" step " in line for line in run.lines) >= nth)))
    recover_and_verify(chaos, figures, count=10, dropped=[])

    chaos.set_config_maps(CMS, tag="v4-")  # 5: at a random request (reads included) of the ~200 it makes
    kills.append(("random", kill_when(start_apply(chaos), requests_past(chaos, rng.randint(1, 150)))))
    recover_and_verify(chaos, figures, count=CMS, dropped=[])

    figures.kills += sum(landed for _point, landed in kills)
    assert [point for point, landed in kills if not landed] == []
