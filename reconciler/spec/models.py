"""The fleet repo format, v1alpha1, as pydantic models.

Three kinds of document live in a fleet repo:

- ``Fleet`` (``fleet.yaml``, optional): layer order, the management cluster, fleet-wide defaults and
  policy, and selector-based stack assignments with a rollout policy.
- ``Cluster`` (``clusters/<name>.yaml``): labels, how to connect, explicit stack assignments, values.
- ``Stack`` (``stacks/<stack>/<version>/stack.yaml``): one version of a set of bundles. Several
  versions of a stack live side by side.

Every model forbids unknown fields, so a misspelled field is an error that names the field. The JSON
Schema files in ``schemas/`` are generated from these models (``stackfleet schema --write``).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator
from pydantic.alias_generators import to_camel

from reconciler.spec import expressions

API_VERSION: Literal["stackfleet.dev/v1alpha1"] = "stackfleet.dev/v1alpha1"

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
DURATION = r"^([0-9]+(ms|s|m|h))+$"

Name = Annotated[str, StringConstraints(pattern=DNS_LABEL, max_length=63)]
Duration = Annotated[str, StringConstraints(pattern=DURATION)]
Values = dict[str, Any]

_DURATION_PART = re.compile(r"([0-9]+)(ms|s|m|h)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def duration_seconds(text: str) -> float:
    """Seconds in a duration such as ``90s``, ``5m`` or ``1h30m``."""
    return sum(int(n) * _UNIT_SECONDS[unit] for n, unit in _DURATION_PART.findall(text))


class Model(BaseModel):
    """Base of every model: camelCase in YAML, unknown fields forbidden, immutable."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=True,
        use_attribute_docstrings=True,
    )


class Metadata(Model):
    name: Name
    """Name of the document (a DNS label)."""
    labels: dict[str, str] = Field(default_factory=dict)
    """Labels, matched by assignment and rollout selectors."""
    annotations: dict[str, str] = Field(default_factory=dict)
    """Free-form notes; stackfleet does not interpret them."""


# ----------------------------------------------------------------------------- selectors


class SelectorRequirement(Model):
    key: str
    """Label key."""
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"]
    """How the label is compared with ``values``."""
    values: list[str] = Field(default_factory=list)
    """Values for In and NotIn; must be empty for Exists and DoesNotExist."""

    @model_validator(mode="after")
    def _values_fit_operator(self) -> SelectorRequirement:
        needs_values = self.operator in ("In", "NotIn")
        if needs_values and not self.values:
            raise ValueError(f"operator {self.operator} needs at least one value")
        if not needs_values and self.values:
            raise ValueError(f"operator {self.operator} takes no values")
        return self


class LabelSelector(Model):
    """A Kubernetes-style label selector. An empty selector matches every cluster."""

    match_labels: dict[str, str] = Field(default_factory=dict)
    """Labels a cluster must have, with these values."""
    match_expressions: list[SelectorRequirement] = Field(default_factory=list)
    """Further requirements, all of which must hold."""


# ----------------------------------------------------------------------------- stacks


class StackRef(Model):
    """An assignment of a stack to a cluster."""

    name: Name
    """Stack name (a directory under ``stacks/``)."""
    version: str
    """An exact version (``1.4.2``) or an npm-style semver range (``~1.4``, ``^1``, ``>=1.2 <2``, ``1.x``);
    a range resolves to the highest version present in the repo."""
    values: Values = Field(default_factory=dict)
    """Values for this assignment, over the stack's and the fleet's defaults."""


class ManifestsSource(Model):
    path: str
    """Directory of YAML/JSON manifests (multi-document), relative to the stack version directory."""
    recursive: bool = True
    """Read subdirectories too."""


class KustomizeSource(Model):
    path: str
    """Directory holding a kustomization.yaml, relative to the stack version directory."""


class HelmSource(Model):
    """A Helm chart: a chart directory or packaged ``.tgz`` in the repo, a chart of an HTTP chart
    repository (``repository`` + ``chart``), or an OCI reference (``chart: oci://...``)."""

    chart: str
    """Chart path in the repo (relative to the stack version directory), chart name in ``repository``,
    or ``oci://`` reference."""
    repository: str | None = None
    """HTTP(S) chart repository URL (serving ``index.yaml``)."""
    version: str | None = None
    """Chart version or range; required for repository and OCI charts."""
    release_name: Name | None = None
    """Helm release name (default: the bundle name)."""
    namespace: Name | None = None
    """Release namespace (default: the bundle namespace)."""
    values: Values = Field(default_factory=dict)
    """Chart values; ``${...}`` references are substituted."""
    values_files: list[str] = Field(default_factory=list)
    """Values files in the repo, relative to the stack version directory, merged in order before ``values``."""
    include_crds: bool = True
    """Render the chart's ``crds/`` directory."""
    keep_generated: bool = True
    """Keep the live value of what the chart generates at render time (``randAlphaNum``, ``genCA``, ...)
    while the chart, values and release stay the same; ``false`` applies every render's new values."""

    @model_validator(mode="after")
    def _remote_charts_need_a_version(self) -> HelmSource:
        remote = self.repository is not None or self.chart.startswith("oci://")
        if remote and not self.version:
            raise ValueError("charts from a repository or OCI registry need a version")
        return self

    @property
    def is_local(self) -> bool:
        return self.repository is None and not self.chart.startswith("oci://")


class PatchTarget(Model):
    """Which rendered objects a patch applies to; every given field must match."""

    group: str | None = None
    version: str | None = None
    kind: str | None = None
    name: str | None = None
    namespace: str | None = None
    label_selector: LabelSelector | None = None


class Patch(Model):
    """A patch applied to rendered objects: an RFC 6902 JSON patch or a JSON merge patch."""

    target: PatchTarget
    """Objects to patch."""
    json_patch: list[dict[str, Any]] | None = None
    """RFC 6902 operations."""
    merge_patch: dict[str, Any] | None = None
    """RFC 7386 merge patch."""

    @model_validator(mode="after")
    def _exactly_one_kind(self) -> Patch:
        if (self.json_patch is None) == (self.merge_patch is None):
            raise ValueError("a patch has exactly one of jsonPatch or mergePatch")
        return self


class IgnoreRule(Model):
    """Fields left out of diffs (drift and plans) for matching objects."""

    target: PatchTarget = Field(default_factory=PatchTarget)
    """Objects the rule is about (default: every object of the bundle)."""
    json_pointers: list[str]
    """RFC 6901 pointers, e.g. ``/spec/replicas``."""

    @field_validator("json_pointers")
    @classmethod
    def _pointers(cls, pointers: list[str]) -> list[str]:
        for pointer in pointers:
            if not pointer.startswith("/"):
                raise ValueError(f"JSON pointer {pointer!r} must start with '/'")
        return pointers


class Bundle(Model):
    """One deployable unit of a stack: manifests, a Kustomize directory, or a Helm chart."""

    name: Name
    """Unique within the stack."""
    layer: str
    """One of the fleet's layers (default order: infra, cluster, addons)."""
    target: Literal["cluster", "management"] = "cluster"
    """Where the objects go: the cluster itself, or the fleet's management cluster."""
    namespace: Name | None = None
    """Namespace for namespaced objects that name none."""
    depends_on: list[Name] = Field(default_factory=list)
    """Bundles of the same stack that must be applied and healthy first."""
    manifests: ManifestsSource | None = None
    kustomize: KustomizeSource | None = None
    helm: HelmSource | None = None
    prune: bool | None = None
    """Delete objects this bundle stops rendering (default from the fleet, else true)."""
    self_heal: bool | None = None
    """Re-apply our fields when someone else changes them (default from the fleet, else false)."""
    allow_adoption: bool = False
    """Take over existing objects that carry no owner marks."""
    allow_empty: bool = False
    """Allow a render with no objects to prune everything the bundle owned."""
    create_namespace: bool = False
    """Create the bundle's namespace (for Helm, the release namespace) when no bundle renders it, as
    ``helm --create-namespace`` does. Such a namespace is never pruned."""
    ignore: list[IgnoreRule] = Field(default_factory=list)
    """Fields left out of diffs."""
    patches: list[Patch] = Field(default_factory=list)
    """Patches applied after rendering."""
    health_timeout: Duration | None = None
    """How long to wait for the bundle's objects to become healthy (default from the fleet, else 5m)."""

    @model_validator(mode="after")
    def _exactly_one_source(self) -> Bundle:
        given = [n for n in ("manifests", "kustomize", "helm") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError(
                f"bundle {self.name!r} needs exactly one of manifests, kustomize or helm (found {given or 'none'})"
            )
        return self

    @property
    def source_kind(self) -> Literal["manifests", "kustomize", "helm"]:
        if self.manifests is not None:
            return "manifests"
        return "kustomize" if self.kustomize is not None else "helm"


class StackSpec(Model):
    version: str
    """This stack version (semver); must equal the version directory name."""
    description: str = ""
    values: Values = Field(default_factory=dict)
    """Default values, the lowest layer of the values merge."""
    bundles: list[Bundle] = Field(min_length=1)
    """The bundles of this version."""


class Stack(Model):
    api_version: Literal["stackfleet.dev/v1alpha1"]
    kind: Literal["Stack"]
    metadata: Metadata
    spec: StackSpec


# ----------------------------------------------------------------------------- clusters


class SecretRef(Model):
    """A kubeconfig stored in a Secret of another cluster (as Cluster API and k0smotron write them)."""

    cluster: Name
    """The cluster holding the Secret (usually the management cluster)."""
    namespace: Name
    name: Annotated[str, StringConstraints(pattern=DNS_SUBDOMAIN, max_length=253)]
    key: str = "value"
    """Key of the Secret holding the kubeconfig."""


class Connection(Model):
    """How to reach a cluster: a context of the operator's kubeconfig, or a kubeconfig Secret."""

    context: str | None = None
    """Context name in the kubeconfig given with --kubeconfig / KUBECONFIG."""
    kubeconfig_secret: SecretRef | None = None
    """Secret with a kubeconfig, read from another cluster."""

    @model_validator(mode="after")
    def _exactly_one(self) -> Connection:
        if (self.context is None) == (self.kubeconfig_secret is None):
            raise ValueError("connection needs exactly one of context or kubeconfigSecret")
        return self


class ClusterSpec(Model):
    connection: Connection
    stacks: list[StackRef] = Field(default_factory=list)
    """Explicit assignments; these win over the fleet's selector assignments for the same stack."""
    values: Values = Field(default_factory=dict)
    """Values for every stack of this cluster, the highest layer of the values merge."""
    paused: bool = False
    """Plan but never apply or prune (the cluster is reported as paused)."""


class Cluster(Model):
    api_version: Literal["stackfleet.dev/v1alpha1"]
    kind: Literal["Cluster"]
    metadata: Metadata
    spec: ClusterSpec


# ----------------------------------------------------------------------------- fleet


class RolloutStage(Model):
    name: Name
    selector: LabelSelector | None = None
    """Clusters of this stage; none means every cluster not taken by an earlier stage."""
    approval: bool = False
    """Wait for a manual approval before this stage starts."""
    pause: Duration | None = None
    """Wait this long after the previous stage is done before starting this one."""
    soak: Duration | None = None
    """Stay done (every unit healthy, or failed within the budget) this long before the next stage starts."""


class RolloutPolicy(Model):
    stages: list[RolloutStage] = Field(default_factory=list)
    """Stages in order; clusters matched by no stage form a last, implicit stage."""
    max_in_flight: int = Field(default=10, ge=1)
    """Clusters applied at the same time."""
    failure_budget: int = Field(default=1, ge=0)
    """Halt the rollout once more than this many clusters failed."""


class Assignment(Model):
    """Assign stacks to every cluster a selector matches."""

    name: Name
    selector: LabelSelector
    stacks: list[StackRef] = Field(min_length=1)
    rollout: RolloutPolicy = Field(default_factory=RolloutPolicy)


class Defaults(Model):
    values: Values = Field(default_factory=dict)
    """Fleet-wide values, over the stacks' defaults."""
    prune: bool = True
    self_heal: bool = False
    health_timeout: Duration = "5m"


GuardName = Literal["system-namespaces", "public-subjects", "stackfleet-self"]


class StackGuard(Model):
    """What the stacks matching ``stack`` may deploy (docs/format.md, "Guard rails"); empty lists allow all."""

    stack: str = Field(default="*", min_length=1)
    """A stack name or shell-style pattern (``*`` for every stack); the first entry that matches applies."""
    allow_kinds: list[str] = Field(default_factory=list)
    """Kinds (``Kind`` or ``Kind.group``, patterns) the stack may deploy; empty: any."""
    deny_kinds: list[str] = Field(default_factory=list)
    allow_namespaces: list[str] = Field(default_factory=list)
    """Namespaces (patterns) the stack may write to; empty: any."""
    deny_namespaces: list[str] = Field(default_factory=list)
    cluster_scoped: list[str] | None = None
    """Cluster-scoped kinds the stack may write (patterns); unset: any, ``[]``: none."""
    waive: list[GuardName] = Field(default_factory=list)
    """Safe defaults that do not apply to these stacks (an explicit exception)."""


class StackfleetPlacement(Model):
    """Where stackfleet itself runs, so no bundle can touch its namespace, ServiceAccount or RBAC."""

    cluster: Name | None = None
    """The cluster it runs in; unset: guarded on every cluster."""
    namespace: str = "stackfleet-system"
    service_account: str = "stackfleet"


class Guards(Model):
    stacks: list[StackGuard] = Field(default_factory=list)
    stackfleet: StackfleetPlacement = Field(default_factory=StackfleetPlacement)


class Policy(Model):
    guards: Guards = Field(default_factory=Guards)
    """Guard rails: what each stack may deploy, and the safe defaults (docs/format.md)."""
    prune_budget_percent: int = Field(default=30, ge=0, le=100)
    """Deleting more than this share of a bundle's objects needs approval."""
    protected_kinds: list[str] = Field(
        default_factory=lambda: ["Namespace", "CustomResourceDefinition", "PersistentVolumeClaim"]
    )
    """Kinds whose deletion always needs approval."""


class HealthRule(Model):
    """How to tell the health of objects of one kind, as expressions over the object (docs/format.md)."""

    kind: str = Field(min_length=1)
    """The kind the rule is for."""
    group: str | None = None
    """Its API group (``""`` for the core group); any group when left out."""
    healthy: str = Field(min_length=1)
    """True when the object is healthy, e.g. ``status.phase == 'Ready'``."""
    degraded: str | None = None
    """True when the object failed (checked first)."""
    message: str | None = None
    """The reason shown, e.g. ``status.message``."""

    @field_validator("healthy", "degraded", "message")
    @classmethod
    def _expression(cls, source: str | None) -> str | None:
        if source is not None:
            expressions.parse(source)  # an ExpressionError is a ValueError: reported with file:line
        return source


class FleetSpec(Model):
    layers: list[Name] = Field(default_factory=lambda: ["infra", "cluster", "addons"], min_length=1)
    """Layer order: every bundle of an earlier layer is applied before any of a later one."""
    management_cluster: Name | None = None
    """The cluster that bundles with ``target: management`` are applied to."""
    defaults: Defaults = Field(default_factory=Defaults)
    policy: Policy = Field(default_factory=Policy)
    assignments: list[Assignment] = Field(default_factory=list)
    health: list[HealthRule] = Field(default_factory=list)
    """The fleet's own health rules, asked before the built-in ones for the kinds they name."""


class Fleet(Model):
    api_version: Literal["stackfleet.dev/v1alpha1"]
    kind: Literal["Fleet"]
    metadata: Metadata
    spec: FleetSpec = Field(default_factory=FleetSpec)


DEFAULT_FLEET = Fleet(api_version=API_VERSION, kind="Fleet", metadata=Metadata(name="fleet"))

KINDS: dict[str, type[Model]] = {"Fleet": Fleet, "Cluster": Cluster, "Stack": Stack}
