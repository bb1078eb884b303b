"""Kubernetes objects as plain data, their identity, and stackfleet's ownership marks.

Objects travel through render, diff and plan as plain ``dict`` values (the JSON form the API
server speaks). This module gives them an identity (``ObjectKey``) and names the marks stackfleet
puts on everything it applies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

Obj = dict[str, Any]
"""A Kubernetes object in its JSON form."""

FIELD_MANAGER = "stackfleet"

LABEL_FLEET = "stackfleet.dev/fleet"
LABEL_STACK = "stackfleet.dev/stack"
LABEL_BUNDLE = "stackfleet.dev/bundle"
ANNOTATION_OWNER = "stackfleet.dev/owner"
"""Names the object itself (``<fleet>/<stack>/<bundle>/<group>/<kind>/<namespace>/<name>``) so a
copied annotation that names another object does not make the copy ours."""
ANNOTATION_WAVE = "stackfleet.dev/wave"
ANNOTATION_GENERATED = "stackfleet.dev/generated"
"""JSON pointers of the values a chart generates at render time (``render.generated``)."""
ANNOTATION_RENDER_INPUTS = "stackfleet.dev/render-inputs"
"""A digest of what the render that generated them read: kept while it stays the same (``core.generated``)."""
ANNOTATION_CREATED_NAMESPACE = "stackfleet.dev/created-namespace"
"""On a Namespace a bundle's ``createNamespace`` made: it is never pruned (Helm leaves it too)."""
LEGACY_ANNOTATIONS = frozenset({"stackfleet.dev/stack-version"})
"""Marks earlier releases wrote on every object and this one no longer does: never compared, so they
cause no change of their own (an apply for another reason drops them)."""
CRD = "CustomResourceDefinition.apiextensions.k8s.io"
"""The ``group_kind`` of a CustomResourceDefinition (ordering, health and the client's discovery refresh)."""


@dataclass(frozen=True, order=True)
class ObjectKey:
    """What makes an object unique in one cluster: group, kind, namespace and name.

    The version is not part of the identity: ``apps/v1`` and ``apps/v1beta1`` Deployments of the
    same name are the same object.
    """

    group: str
    kind: str
    namespace: str
    name: str

    @classmethod
    def of(cls, obj: Mapping[str, Any]) -> ObjectKey:
        api_version = str(obj.get("apiVersion", ""))
        group = api_version.rpartition("/")[0]
        meta = obj.get("metadata") or {}
        return cls(
            group=group,
            kind=str(obj.get("kind", "")),
            namespace=str(meta.get("namespace") or ""),
            name=str(meta.get("name", "")),
        )

    def __str__(self) -> str:
        gk = f"{self.kind}.{self.group}" if self.group else self.kind
        return f"{gk}/{self.namespace}/{self.name}" if self.namespace else f"{gk}/{self.name}"

    @property
    def group_kind(self) -> str:
        return f"{self.kind}.{self.group}" if self.group else self.kind


def owner_annotation(*, fleet: str, stack: str, bundle: str, key: ObjectKey) -> str:
    """The value of ``ANNOTATION_OWNER`` for ``key`` applied by ``fleet``/``stack``/``bundle``."""
    return f"{fleet}/{stack}/{bundle}/{key.group or 'core'}/{key.kind}/{key.namespace or '_'}/{key.name}"


@dataclass(frozen=True)
class Owner:
    """Who an object belongs to, read from its marks."""

    fleet: str
    stack: str
    bundle: str


def read_owner(obj: Mapping[str, Any]) -> Owner | None:
    """The owner named by ``obj``'s marks, or ``None`` when the marks are missing or name another object.

    An annotation copied from another object (say by ``kubectl get -o yaml | kubectl apply``
    under another name) does not make the copy ours: the annotation must name this very object.
    """
    meta = obj.get("metadata") or {}
    labels = meta.get("labels") or {}
    annotations = meta.get("annotations") or {}
    fleet, stack, bundle = labels.get(LABEL_FLEET), labels.get(LABEL_STACK), labels.get(LABEL_BUNDLE)
    mark = annotations.get(ANNOTATION_OWNER)
    if not (fleet and stack and bundle and mark):
        return None
    if mark != owner_annotation(fleet=fleet, stack=stack, bundle=bundle, key=ObjectKey.of(obj)):
        return None
    return Owner(fleet=fleet, stack=stack, bundle=bundle)
