"""A CA injector like cert-manager's cainjector: copies a CA into the objects that ask for it.

An object annotated ``cert-manager.io/inject-ca-from-secret: <namespace>/<name>`` gets the Secret's
``ca.crt`` (already base64 in ``data``, which is what ``caBundle`` holds) as the ``caBundle`` of every
webhook's ``clientConfig`` (Validating/MutatingWebhookConfiguration), of an APIService's ``spec`` and of a
CRD's conversion webhook. The write is an update by field manager ``cainjector``, so the field belongs
to it and not to whoever applied the object: a GitOps applier that leaves ``caBundle`` out must see no
drift and no change (cert-manager's cainjector controllers work the same way).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator

from reconciler.core.objects import Obj
from reconciler.sim import statuses
from reconciler.sim.clusters import Cluster, Write
from reconciler.sim.resources import ResourceType

MANAGER = "cainjector"
ANNOTATION = "cert-manager.io/inject-ca-from-secret"


def _webhooks(obj: Obj, bundle: str) -> Obj:
    out = copy.deepcopy(obj)
    for hook in out.get("webhooks") or []:
        hook.setdefault("clientConfig", {})["caBundle"] = bundle
    return out


def _api_service(obj: Obj, bundle: str) -> Obj:
    out = copy.deepcopy(obj)
    out.setdefault("spec", {})["caBundle"] = bundle
    return out


def _crd(obj: Obj, bundle: str) -> Obj:
    out = copy.deepcopy(obj)
    webhook = ((out.get("spec") or {}).get("conversion") or {}).get("webhook")
    if isinstance(webhook, dict):
        webhook.setdefault("clientConfig", {})["caBundle"] = bundle
    return out


TARGETS: dict[tuple[str, str], Callable[[Obj, str], Obj]] = {
    ("admissionregistration.k8s.io", "validatingwebhookconfigurations"): _webhooks,
    ("admissionregistration.k8s.io", "mutatingwebhookconfigurations"): _webhooks,
    ("apiregistration.k8s.io", "apiservices"): _api_service,
    ("apiextensions.k8s.io", "customresourcedefinitions"): _crd,
}


def tick(cluster: Cluster) -> None:
    """One pass: inject where the CA is missing or changed."""
    for rt, obj in _annotated(cluster):
        bundle = _bundle(cluster, str(obj["metadata"]["annotations"][ANNOTATION]))
        if not bundle:
            continue
        inject = TARGETS[(rt.group, rt.plural)]
        if inject(obj, bundle) == obj:
            continue
        try:
            cluster.patch(rt, "", str(obj["metadata"]["name"]), _injecting(inject, bundle),
                          Write(manager=MANAGER, validation="Ignore"))
        except statuses.ApiError:
            continue  # changed or deleted meanwhile: the next pass sees it


def _injecting(inject: Callable[[Obj, str], Obj], bundle: str) -> Callable[[Obj], Obj]:
    return lambda obj: inject(obj, bundle)


def _annotated(cluster: Cluster) -> Iterator[tuple[ResourceType, Obj]]:
    for group, plural in TARGETS:
        rt = next((t for t in cluster.registry.types() if (t.group, t.plural) == (group, plural)), None)
        if rt is None:
            continue
        for obj in cluster.objects(rt):
            if ANNOTATION in (obj["metadata"].get("annotations") or {}):
                yield rt, obj


def _bundle(cluster: Cluster, ref: str) -> str:
    namespace, _, name = ref.partition("/")
    secrets = cluster.registry.lookup("", "v1", "secrets")
    secret = cluster.find(secrets, namespace, name) if secrets is not None else None
    return str(((secret or {}).get("data") or {}).get("ca.crt", ""))
