"""Which objects of a wave are dry-run before any of the wave is written (docs/adr/0023-hot-paths.md).

A dry-run is sent where the apply can fail for reasons the plan cannot see:

- every object of a kind whose validation is not built in or that changes admission itself
  (CRDs, custom resources, webhook and admission-policy configurations, APIServices);
- every update and adoption (the live object decides: other managers' fields, immutable fields);
- every object in a namespace not known to exist on the cluster (neither live when planned nor
  created by an earlier wave of the unit);
- a creation of a built-in object otherwise only once per run per object content: the first unit
  to need it claims it and dry-runs it; units needing the same content meanwhile wait for that
  answer, and send their own dry-run only when it was a refusal (a refusal can be the cluster's).

``Checks`` is shared by the run's units; a unit resolves its own claims before it waits for
anybody else's, so two units never wait for each other.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from reconciler.core.inventory import fingerprint
from reconciler.core.objects import Obj
from reconciler.core.plans import Action, Change

BUILT_IN_GROUPS = frozenset({
    "", "apps", "batch", "autoscaling", "policy", "networking.k8s.io", "rbac.authorization.k8s.io",
    "storage.k8s.io", "scheduling.k8s.io", "coordination.k8s.io", "discovery.k8s.io", "node.k8s.io",
    "certificates.k8s.io", "events.k8s.io", "flowcontrol.apiserver.k8s.io",
})
"""API groups kube-apiserver serves itself with compiled-in validation (custom resources are the rest)."""

Send = tuple[Change, Obj]


@dataclass
class Checks:
    _answers: dict[str, threading.Event] = field(default_factory=dict)
    _passed: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def split(self, sends: Sequence[Send], *, namespaces: set[str]) -> tuple[list[Send], list[str], list[Send]]:
        """``(to dry-run now, content keys this unit claimed by that, to decide once those are answered)``;
        objects in neither list need no dry-run here."""
        now: list[Send] = []
        claimed: list[str] = []
        later: list[Send] = []
        for change, obj in sends:
            if _always(change, namespaces=namespaces):
                now.append((change, obj))
                continue
            key = fingerprint(obj)
            with self._lock:
                first = key not in self._answers
                if first:
                    self._answers[key] = threading.Event()
            if first:
                now.append((change, obj))
                claimed.append(key)
            else:
                later.append((change, obj))
        return now, claimed, later

    def answer(self, keys: Sequence[str], *, passed: bool) -> None:
        """The dry-run of the claimed ``keys`` came back (``passed``: all were accepted)."""
        with self._lock:
            if passed:
                self._passed.update(keys)
            events = [self._answers[k] for k in keys]
        for event in events:
            event.set()

    def still_needed(self, later: Sequence[Send]) -> list[Send]:
        """Of ``later``, the objects whose content another unit did not get accepted."""
        out = []
        for change, obj in later:
            key = fingerprint(obj)
            with self._lock:
                event = self._answers[key]
            event.wait()
            with self._lock:
                if key not in self._passed:
                    out.append((change, obj))
        return out


def _always(change: Change, *, namespaces: set[str]) -> bool:
    key = change.key
    if change.action is not Action.CREATE or change.hook is not None:
        return True
    if key.group not in BUILT_IN_GROUPS:
        return True
    return bool(key.namespace) and key.namespace not in namespaces
