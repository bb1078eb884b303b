"""``stackfleet demo``: the reference fleet on simulated clusters, reconciled by the real daemon.

``start`` builds the world (sim clusters, the fleet repo behind ``git daemon``), writes a daemon config
into the work directory and starts the same runtime ``stackfleet serve`` runs. ``tell`` says what to
open and what to try. ``story`` then shows the loop, step by step, each step judged from what the
daemon recorded and what the clusters hold:

1. first rollout: the head of the fleet repo is reconciled (child clusters are provisioned through
   Cluster API on the management cluster on the way); prod-us-1's platform waits, as the platform-stable
   rollout asks, for an approval of its prod-rest stage (ADR 0010);
2. the approval: ``stackfleet apply --approve-stage platform-stable/prod-rest`` on the daemon's fleet repo
   and state store installs that platform, on prod-us-1 only;
3. a version bump for one ring: a commit moves ring 1 (stage-eu-1) to platform ~1.5.0 and only that
   cluster is written to;
4. drift: a ConfigMap the fleet owns is edited with kubectl as another field manager, and the drift
   scan reports it.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from reconciler import binaries, settings
from reconciler.core import rollout
from reconciler.core.objects import ObjectKey
from reconciler.daemon import runtimes
from reconciler.daemon.jobs import Daemon, Schedule
from reconciler.daemon.ports import Outcome
from reconciler.demo import waits
from reconciler.demo.worlds import World
from reconciler.sim import faults

SOURCE = "fleet"
RING_CLUSTER = "stage-eu-1"
RING_BUMP = '  stacks:\n    - name: platform\n      version: "~1.5.0"\n'
EDITOR = "demo-editor"
STEP_SECONDS = 45.0
APPROVAL = "platform-stable/prod-rest"
APPROVED_CLUSTER = "prod-us-1"


@dataclass(frozen=True)
class Step:
    name: str
    ok: bool
    detail: str


@dataclass
class Demo:
    world: World
    runtime: runtimes.Runtime
    workdir: Path
    token: str
    steps: list[Step] = field(default_factory=list)

    @property
    def daemon(self) -> Daemon:
        return self.runtime.daemon

    def stop(self) -> None:
        self.runtime.stop()
        self.world.stop()


def start(fleet_dir: Path, workdir: Path, *, port: int) -> Demo:
    world = World.start(fleet_dir, workdir)
    token = secrets.token_urlsafe(18)
    (workdir / "token").write_text(token)
    config_path = write_config(workdir, world=world, port=port)
    config = settings.load(config_path, environ={})
    runtime = runtimes.start(config, base=workdir, schedule=Schedule(reconcile=300, drift=3600))
    return Demo(world, runtime, workdir, token)


def write_config(workdir: Path, *, world: World, port: int) -> Path:
    path = workdir / "stackfleet.yaml"
    path.write_text(
        "# Written by `stackfleet demo`: the daemon config it runs with.\n"
        f"sources:\n  - name: {SOURCE}\n    url: {world.repo_url}\n    ref: main\n"
        "    poll_interval: 2s\n    poll_jitter: 0\n    timeout: 15s\n"
        f"kube:\n  kubeconfig: {world.kubeconfig}\n"
        "intervals: {reconcile: 5m, drift: 1h}\nstate: {database: state.db}\n"
        f"web:\n  listen: 127.0.0.1:{port}\n  read_token: {{file: token}}\n  admin_token: {{file: token}}\n"
    )
    return path


def tell(demo: Demo) -> str:
    """What to open and what to try, for a person at a terminal."""
    kubectl = f"kubectl --kubeconfig {demo.world.kubeconfig}"
    work = demo.world.upstream.work
    return "\n".join([
        "stackfleet demo is running.",
        f"  dashboard:  {demo.runtime.url}/login   (token: {demo.token})",
        f"  API:        curl -H 'Authorization: Bearer {demo.token}' {demo.runtime.url}/api/v1/clusters",
        f"  metrics:    curl -H 'Authorization: Bearer {demo.token}' {demo.runtime.url}/metrics",
        f"  clusters:   {kubectl} config get-contexts",
        f"              {kubectl} --context mgmt get clusters.cluster.x-k8s.io -A",
        f"              {kubectl} --context {RING_CLUSTER} get deployments,configmaps -A",
        f"  change it:  edit a file under {work}, then",
        f"              git -C {work} commit -am 'my change' && git -C {work} push",
        "              (the daemon polls every 2s; the dashboard shows the new revision and what it applied)",
        f"  drift:      {kubectl} --context {RING_CLUSTER} -n <ns> edit configmap <name>",
        f"  approve:    stackfleet {' '.join(c for c in _approval_command(demo)[3:] if c not in ('-o', 'json'))}",
        f"              ({APPROVED_CLUSTER}'s platform waits for the approval of stage {APPROVAL})",
    ])


def story(demo: Demo, *, echo: Callable[[str], None]) -> list[Step]:
    """Run the steps of the loop; each is recorded in ``demo.steps`` and echoed as it ends."""
    for step in (first_rollout, approval, ring_bump, drift):
        done = step(demo)
        demo.steps.append(done)
        echo(f"[{'ok' if done.ok else 'FAILED'}] {done.name}: {done.detail}")
        if not done.ok:
            break
    return demo.steps


def first_rollout(demo: Demo) -> Step:
    head = demo.world.upstream.head()
    outcome = _outcome_of(demo, head)
    demo.world.refresh_kubeconfig()
    if outcome is None:
        return Step("first rollout", False, f"revision {head[:8]} was not reconciled in {STEP_SECONDS:g}s")
    return Step("first rollout", outcome.ok, f"{head[:8]}: {_results(outcome)}; {outcome.writes} writes")


def approval(demo: Demo) -> Step:
    """Approve the stage the first rollout held, with the CLI, on the daemon's repo and store."""
    before = _write_requests(demo)
    env = {**os.environ, "STACKFLEET_CACHE_DIR": str(demo.workdir / "cli-cache"), "NO_COLOR": "1"}
    done = subprocess.run(_approval_command(demo), capture_output=True, text=True, timeout=120, env=env, check=False)
    after = _write_requests(demo)
    touched = sorted(name for name in after if after[name] != before.get(name, 0))
    rows = [r for r in (json.loads(done.stdout).get("clusters", []) if done.stdout.strip() else ()) if r["stage"] == APPROVAL]
    results = ", ".join(f"{r['cluster']} {r['result']}" for r in rows) or done.stderr.strip()[-200:] or "nothing to do"
    ok = done.returncode == 0 and bool(rows) and all(rollout.Result(r["result"]) is rollout.Result.SUCCEEDED for r in rows)
    return Step(f"approve {APPROVAL}", ok and touched == [APPROVED_CLUSTER],
                f"stackfleet apply --approve-stage {APPROVAL}: {results} (write requests seen by the clusters: "
                f"{', '.join(touched) or 'none'})")


def _approval_command(demo: Demo) -> list[str]:
    return [sys.executable, "-m", "reconciler.cli", "apply", "--yes", "-o", "json", "--approve-stage", APPROVAL,
            "--fleet", f"{demo.world.repo_url}@main", "--kubeconfig", str(demo.world.kubeconfig),
            "--state", str(demo.workdir / "state.db")]


def ring_bump(demo: Demo) -> Step:
    upstream = demo.world.upstream
    cluster_file = f"clusters/{RING_CLUSTER}.yaml"
    text = upstream.read(cluster_file).replace("  values:\n", RING_BUMP + "  values:\n", 1)
    before = _write_requests(demo)
    pushed = upstream.commit(f"platform ~1.5.0 for ring 1 ({RING_CLUSTER})", {cluster_file: text})
    demo.daemon.trigger(demo.world.repo_url)  # what a push webhook does; polling would find it in 2s too
    outcome = _outcome_of(demo, pushed)
    if outcome is None:
        return Step("ring 1 to platform 1.5", False, f"revision {pushed[:8]} was not reconciled in {STEP_SECONDS:g}s")
    after = _write_requests(demo)
    touched = sorted(name for name in after if after[name] != before.get(name, 0))
    rolled = outcome.ok and outcome.changed == (RING_CLUSTER,) and touched == [RING_CLUSTER]
    return Step("ring 1 to platform 1.5", rolled,
                f"{pushed[:8]}: written to {', '.join(outcome.changed) or 'no cluster'} (write requests seen by "
                f"the clusters: {', '.join(touched) or 'none'}); {_results(outcome)}")


def drift(demo: Demo) -> Step:
    found = _owned_configmap(demo, cluster=RING_CLUSTER)
    if found is None:
        return Step("drift", False, f"no ConfigMap of the fleet found on {RING_CLUSTER}")
    edited = _edit_by_hand(demo, found)
    if demo.daemon.drift is None:
        return Step("drift", False, f"edited {edited}, but this daemon has no drift scan wired")
    demo.daemon.scan_drift()
    entries = [d for d in demo.runtime.store.drifts.open(cluster=RING_CLUSTER) if str(found) in d.object_key]
    who = ", ".join(sorted({d.who.manager for d in entries}))
    reported = "1 drift entry" if len(entries) == 1 else f"{len(entries)} drift entries"
    return Step("drift", bool(entries), f"edited {edited}; the drift scan reported {reported}, changed by {who or '-'}")


def summary(demo: Demo) -> str:
    outcome = demo.daemon.outcomes.get(SOURCE)
    lines = ["summary:"] + [f"  {'ok    ' if s.ok else 'FAILED'} {s.name}: {s.detail}" for s in demo.steps]
    if outcome is not None:
        lines.append(f"  last revision {outcome.revision}: {outcome.summary}")
    return "\n".join(lines)


def _outcome_of(demo: Demo, sha: str) -> Outcome | None:
    def done() -> bool:
        outcome = demo.daemon.outcomes.get(SOURCE)
        return outcome is not None and outcome.revision.endswith(sha)

    refused = demo.daemon.tracks[SOURCE].refused
    waits.until(lambda: done() or sha in refused, seconds=STEP_SECONDS)
    return demo.daemon.outcomes[SOURCE] if done() else None


def _write_requests(demo: Demo) -> dict[str, int]:
    """Per sim cluster, the write requests (dry runs included) it has answered so far."""
    return {name: sum(cluster.faults.total(verb) for verb in faults.WRITES)
            for name, cluster in list(demo.world.sim.clusters.items())}


def _results(outcome: Outcome) -> str:
    return ", ".join(f"{name} {result.value}" for name, result in sorted(outcome.clusters.items())) or outcome.summary


def _owned_configmap(demo: Demo, *, cluster: str) -> ObjectKey | None:
    for bundle in demo.runtime.store.inventories.load_all():
        if bundle.dest == cluster:
            for key in sorted(bundle.keys, key=str):
                if key.kind == "ConfigMap" and key.namespace:
                    return key
    return None


def _edit_by_hand(demo: Demo, key: ObjectKey) -> str:
    """Change the first data value of ``key`` with kubectl, as the field manager ``demo-editor``."""
    kubectl = [binaries.kubectl(), "--kubeconfig", str(demo.world.kubeconfig), "--context", RING_CLUSTER, "-n",
               key.namespace]
    live = json.loads(_run([*kubectl, "get", "configmap", key.name, "-o", "json"]))
    field_name = sorted(live.get("data") or {"edited": ""})[0]
    patch = json.dumps({"data": {field_name: "edited by hand behind the daemon's back"}})
    _run([*kubectl, "patch", "configmap", key.name, "--type", "merge", "-p", patch, f"--field-manager={EDITOR}"])
    return f"ConfigMap {key.namespace}/{key.name} field data.{field_name} on {RING_CLUSTER} (kubectl, manager {EDITOR})"


def _run(command: list[str]) -> str:
    done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:1] + command[5:])} failed: {done.stderr.strip()}")
    return done.stdout
