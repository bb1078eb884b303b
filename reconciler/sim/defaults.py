"""Defaulting like kube-apiserver's for the kinds the sim serves.

``apply_defaults(obj, allocate_cluster_ip=...)`` returns a defaulted copy; the input is not
touched. Only fields that are absent are filled in, so defaulting is idempotent. The Service
cluster IP is the one thing the server allocates: it passes the allocator in.

Order against the field manager (as kube-apiserver): defaults are applied after an apply's merge
(nobody owns them) and before an update (the updater owns them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reconciler.core.jsonvalues import clone

Obj = dict[str, Any]
IpAllocator = Callable[[], str]

PERCENT_25 = "25%"
PROBES = ("livenessProbe", "readinessProbe", "startupProbe")
PROBE_DEFAULTS = {"timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3}
FILE_MODE_SOURCES = ("secret", "configMap", "projected", "downwardAPI")
RBAC_GROUP = "rbac.authorization.k8s.io"


def apply_defaults(obj: Obj, *, allocate_cluster_ip: IpAllocator) -> Obj:
    """A copy of ``obj`` with the API server's defaults filled in."""
    out: Obj = clone(obj)
    group = str(out.get("apiVersion", "")).rpartition("/")[0]
    defaulter = _KINDS.get((group, str(out.get("kind", ""))))
    if defaulter is not None:
        defaulter(out, allocate_cluster_ip)
    return out


def _spec(obj: Obj) -> Obj:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        spec = obj["spec"] = {}
    return spec


def _child(parent: Obj, name: str) -> Obj:
    """``parent[name]`` as a dict, created when absent (a null counts as absent)."""
    if not isinstance(parent.get(name), dict):
        parent[name] = {}
    child: Obj = parent[name]
    return child


def _fill(target: Obj, defaults: Obj) -> None:
    for name, value in defaults.items():
        if target.get(name) is None:
            target[name] = clone(value)


# ------------------------------------------------------------------ pods


def pull_policy(image: str) -> str:
    """``Always`` for ``:latest`` or an untagged image, else ``IfNotPresent`` (digests included)."""
    if "@" in image:
        return "IfNotPresent"
    last = image.rsplit("/", 1)[-1]
    tag = last.rpartition(":")[2] if ":" in last else ""
    return "Always" if tag in ("", "latest") else "IfNotPresent"


def _container(container: Obj) -> None:
    _fill(container, {"terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"})
    _fill(container, {"imagePullPolicy": pull_policy(str(container.get("image", ""))), "resources": {}})
    for port in container.get("ports") or ():
        _fill(port, {"protocol": "TCP"})
    for probe in (container[name] for name in PROBES if isinstance(container.get(name), dict)):
        _fill(probe, PROBE_DEFAULTS)
        if isinstance(probe.get("httpGet"), dict):
            _fill(probe["httpGet"], {"scheme": "HTTP"})
    for env in container.get("env") or ():
        field_ref = (env.get("valueFrom") or {}).get("fieldRef")
        if isinstance(field_ref, dict):
            _fill(field_ref, {"apiVersion": "v1"})


def _volume(volume: Obj) -> None:
    for source in FILE_MODE_SOURCES:
        if isinstance(volume.get(source), dict):
            _fill(volume[source], {"defaultMode": 420})


def pod_spec(spec: Obj) -> None:
    """Defaults of a pod spec, its containers and volumes."""
    _fill(spec, {"restartPolicy": "Always", "dnsPolicy": "ClusterFirst", "terminationGracePeriodSeconds": 30})
    _fill(spec, {"schedulerName": "default-scheduler", "securityContext": {}})
    for name in ("initContainers", "containers", "ephemeralContainers"):
        for container in spec.get(name) or ():
            _container(container)
    for volume in spec.get("volumes") or ():
        _volume(volume)


def _template(spec: Obj) -> None:
    pod_spec(_spec(_child(spec, "template")))


def _pod(obj: Obj, _: IpAllocator) -> None:
    pod_spec(_spec(obj))
    _fill(_spec(obj), {"enableServiceLinks": True})


def _pod_template(obj: Obj, _: IpAllocator) -> None:
    pod_spec(_spec(_child(obj, "template")))


# ------------------------------------------------------------------ workloads


def _deployment(obj: Obj, _: IpAllocator) -> None:
    spec = _spec(obj)
    _fill(spec, {"replicas": 1, "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600})
    strategy = _child(spec, "strategy")
    _fill(strategy, {"type": "RollingUpdate"})
    if strategy["type"] == "RollingUpdate":
        _fill(_child(strategy, "rollingUpdate"), {"maxUnavailable": PERCENT_25, "maxSurge": PERCENT_25})
    _template(spec)


def _stateful_set(obj: Obj, _: IpAllocator) -> None:
    spec = _spec(obj)
    _fill(spec, {"replicas": 1, "podManagementPolicy": "OrderedReady", "revisionHistoryLimit": 10})
    _fill(
        _child(spec, "persistentVolumeClaimRetentionPolicy"),
        {"whenDeleted": "Retain", "whenScaled": "Retain"},
    )
    strategy = _child(spec, "updateStrategy")
    _fill(strategy, {"type": "RollingUpdate"})
    if strategy["type"] == "RollingUpdate":
        _fill(_child(strategy, "rollingUpdate"), {"partition": 0})
    for claim in spec.get("volumeClaimTemplates") or ():
        _fill(_spec(claim), {"volumeMode": "Filesystem"})
    _template(spec)


def _daemon_set(obj: Obj, _: IpAllocator) -> None:
    spec = _spec(obj)
    _fill(spec, {"revisionHistoryLimit": 10})
    strategy = _child(spec, "updateStrategy")
    _fill(strategy, {"type": "RollingUpdate"})
    if strategy["type"] == "RollingUpdate":
        _fill(_child(strategy, "rollingUpdate"), {"maxUnavailable": 1, "maxSurge": 0})
    _template(spec)


def _replica_set(obj: Obj, _: IpAllocator) -> None:
    spec = _spec(obj)
    _fill(spec, {"replicas": 1})
    _template(spec)


def job_spec(spec: Obj) -> None:
    """Defaults of a Job spec (also used for a CronJob's job template)."""
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
    _fill(spec, {"parallelism": 1, "backoffLimit": 6, "completionMode": "NonIndexed", "suspend": False})
    _fill(spec, {"podReplacementPolicy": "TerminatingOrFailed"})
    _template(spec)


def _job(obj: Obj, _: IpAllocator) -> None:
    job_spec(_spec(obj))


def _cron_job(obj: Obj, _: IpAllocator) -> None:
    spec = _spec(obj)
    _fill(spec, {"concurrencyPolicy": "Allow", "suspend": False})
    _fill(spec, {"successfulJobsHistoryLimit": 3, "failedJobsHistoryLimit": 1})
    job_spec(_spec(_child(spec, "jobTemplate")))


# ------------------------------------------------------------------ services and the rest


def _service(obj: Obj, allocate_cluster_ip: IpAllocator) -> None:
    spec = _spec(obj)
    _fill(spec, {"type": "ClusterIP", "sessionAffinity": "None"})
    for port in spec.get("ports") or ():
        _fill(port, {"protocol": "TCP", "targetPort": port.get("port")})
    if spec["type"] == "ExternalName":
        return
    _fill(spec, {"internalTrafficPolicy": "Cluster", "ipFamilyPolicy": "SingleStack", "ipFamilies": ["IPv4"]})
    if not spec.get("clusterIP"):
        spec["clusterIP"] = allocate_cluster_ip()
    _fill(spec, {"clusterIPs": [spec["clusterIP"]]})
    if spec["type"] in ("NodePort", "LoadBalancer"):
        _fill(spec, {"externalTrafficPolicy": "Cluster"})


def _namespace(obj: Obj, _: IpAllocator) -> None:
    _fill(_spec(obj), {"finalizers": ["kubernetes"]})
    _fill(_child(obj, "status"), {"phase": "Active"})


def _secret(obj: Obj, _: IpAllocator) -> None:
    _fill(obj, {"type": "Opaque"})


def _claim(obj: Obj, _: IpAllocator) -> None:
    _fill(_spec(obj), {"volumeMode": "Filesystem"})


def _network_policy(obj: Obj, _: IpAllocator) -> None:
    spec = _spec(obj)
    if spec.get("policyTypes") is None:
        spec["policyTypes"] = ["Ingress", "Egress"] if spec.get("egress") else ["Ingress"]
    for rule in [*(spec.get("ingress") or ()), *(spec.get("egress") or ())]:
        for port in rule.get("ports") or ():
            _fill(port, {"protocol": "TCP"})


def _binding(obj: Obj, _: IpAllocator) -> None:
    for subject in obj.get("subjects") or ():
        if subject.get("kind") in ("User", "Group"):
            _fill(subject, {"apiGroup": RBAC_GROUP})


def _crd(obj: Obj, _: IpAllocator) -> None:
    spec = _spec(obj)
    names = _child(spec, "names")
    kind = str(names.get("kind", ""))
    _fill(names, {"singular": kind.lower(), "listKind": f"{kind}List"})
    _fill(_child(spec, "conversion"), {"strategy": "None"})


# ------------------------------------------------------------------ webhooks and API services
# As k8s.io/kubernetes pkg/apis/admissionregistration/v1/defaults.go: every webhook gets
# failurePolicy Fail, matchPolicy Equivalent, empty namespace and object selectors and a 10 s
# timeout (mutating ones also reinvocationPolicy Never); each rule's scope is "*"; a service
# reference's port is 443 (the same default as apiregistration's ServiceReference). v1 has no
# default for sideEffects or admissionReviewVersions (both are required there).

WEBHOOK_DEFAULTS: Obj = {
    "failurePolicy": "Fail",
    "matchPolicy": "Equivalent",
    "namespaceSelector": {},
    "objectSelector": {},
    "timeoutSeconds": 10,
}


def _service_reference(parent: Obj) -> None:
    if isinstance(parent.get("service"), dict):
        _fill(parent["service"], {"port": 443})


def _webhooks(obj: Obj, extra: Obj) -> None:
    for webhook in obj.get("webhooks") or ():
        _fill(webhook, {**WEBHOOK_DEFAULTS, **extra})
        for rule in webhook.get("rules") or ():
            _fill(rule, {"scope": "*"})
        if isinstance(webhook.get("clientConfig"), dict):
            _service_reference(webhook["clientConfig"])


def _validating_webhooks(obj: Obj, _: IpAllocator) -> None:
    _webhooks(obj, {})


def _mutating_webhooks(obj: Obj, _: IpAllocator) -> None:
    _webhooks(obj, {"reinvocationPolicy": "Never"})


def _api_service(obj: Obj, _: IpAllocator) -> None:
    _service_reference(_spec(obj))


ADMISSION_GROUP = "admissionregistration.k8s.io"
_KINDS: dict[tuple[str, str], Callable[[Obj, IpAllocator], None]] = {
    ("", "Pod"): _pod,
    ("", "PodTemplate"): _pod_template,
    ("", "Service"): _service,
    ("", "Namespace"): _namespace,
    ("", "Secret"): _secret,
    ("", "PersistentVolumeClaim"): _claim,
    ("apps", "Deployment"): _deployment,
    ("apps", "StatefulSet"): _stateful_set,
    ("apps", "DaemonSet"): _daemon_set,
    ("apps", "ReplicaSet"): _replica_set,
    ("batch", "Job"): _job,
    ("batch", "CronJob"): _cron_job,
    ("networking.k8s.io", "NetworkPolicy"): _network_policy,
    (RBAC_GROUP, "RoleBinding"): _binding,
    (RBAC_GROUP, "ClusterRoleBinding"): _binding,
    ("apiextensions.k8s.io", "CustomResourceDefinition"): _crd,
    (ADMISSION_GROUP, "ValidatingWebhookConfiguration"): _validating_webhooks,
    (ADMISSION_GROUP, "MutatingWebhookConfiguration"): _mutating_webhooks,
    ("apiregistration.k8s.io", "APIService"): _api_service,
}
