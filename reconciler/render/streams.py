"""A fleet render as text: a YAML stream or a JSON document, byte-for-byte deterministic.

Order: destination cluster, then layer, then the bundle (assigned cluster, stack, bundle name), then
within a bundle its ``pre`` hooks (by weight), its objects (kind rank, namespace, name) and its
``post`` hooks. Object fields keep the order they were written in (no key sorting), so the output
reads like the source. Each YAML document starts with a comment naming destination and bundle.

Secret values (and sensitive annotations) are masked unless ``show_secrets`` is set
(``reconciler.core.masks``: a marker with a short hash, so a changed value still shows as changed).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import yaml

from reconciler.core import masks
from reconciler.core.desired import DesiredBundle, HelmHook, RenderFailure
from reconciler.core.objects import Obj
from reconciler.render.fleet import FleetRender


class _Dumper(yaml.SafeDumper):
    """The pure-Python dumper: the same bytes with or without libyaml."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump_object(obj: Obj) -> str:
    text: str = yaml.dump(
        obj, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True, width=1000
    )
    return text


def to_yaml(result: FleetRender, *, show_secrets: bool = False) -> str:
    """Every object (and hook) as a multi-document YAML stream."""
    shown = _identity if show_secrets else masks.mask
    return "".join(_yaml_docs(result, shown))


def _identity(obj: Obj) -> Obj:
    return obj


def _yaml_docs(result: FleetRender, shown: Callable[[Obj], Obj]) -> Iterator[str]:
    for bundle in result.bundles:
        head = f"{bundle.dest} <- {bundle.id.cluster}/{bundle.id.stack}@{bundle.version}/{bundle.id.bundle}"
        for hook in (h for h in bundle.hooks if h.phase == "pre"):
            yield f"---\n# {head} ({_hook_note(hook)})\n{dump_object(shown(hook.object))}"
        for obj in bundle.objects:
            yield f"---\n# {head}\n{dump_object(shown(obj))}"
        for hook in (h for h in bundle.hooks if h.phase == "post"):
            yield f"---\n# {head} ({_hook_note(hook)})\n{dump_object(shown(hook.object))}"


def _hook_note(hook: HelmHook) -> str:
    phases = f"{hook.phase} to {hook.last_phase}" if hook.last_phase else hook.phase
    return f"helm hook: {phases}, weight {hook.weight}, delete policy {','.join(hook.delete_policies)}"


def to_json(result: FleetRender, *, show_secrets: bool = False) -> str:
    shown = _identity if show_secrets else masks.mask
    body = {
        "revision": result.revision,
        "bundles": [bundle_json(b, shown) for b in result.bundles],
        "failures": [failure_json(f) for f in result.failures],
    }
    return json.dumps(body, indent=2) + "\n"


def bundle_json(bundle: DesiredBundle, shown: Callable[[Obj], Obj] = _identity) -> dict[str, Any]:
    return {
        "dest": bundle.dest,
        "cluster": bundle.id.cluster,
        "stack": bundle.id.stack,
        "version": bundle.version,
        "bundle": bundle.id.bundle,
        "layer": bundle.layer,
        "dependsOn": list(bundle.depends_on),
        "paused": bundle.paused,
        "source": bundle.source,
        "contentHash": bundle.content_hash,
        "hooks": [
            {
                "phase": h.phase,
                "lastPhase": h.last_phase,
                "weight": h.weight,
                "deletePolicies": list(h.delete_policies),
                "object": h.object,
            }
            for h in bundle.hooks
        ],
        "objects": [shown(o) for o in bundle.objects],
    }


def failure_json(failure: RenderFailure) -> dict[str, Any]:
    return {
        "dest": failure.dest,
        "cluster": failure.id.cluster,
        "stack": failure.id.stack,
        "bundle": failure.id.bundle,
        "error": failure.error,
        "about": dict(failure.about),
    }
