"""API-server defaulting of the kinds the sim serves: one default per case."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from reconciler.sim import defaults

Obj = dict[str, Any]
IP = "10.96.0.10"


def default(obj: Obj) -> Obj:
    return defaults.apply_defaults(obj, allocate_cluster_ip=lambda: IP)


def workload(kind: str, api_version: str = "apps/v1", **spec: Any) -> Obj:
    pod = {"spec": {"containers": [{"name": "app", "image": "nginx:1.25", "ports": [{"containerPort": 80}]}]}}
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": "x"},
        "spec": {"template": pod, **spec},
    }


def service(**spec: Any) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "s"},
        "spec": {"ports": [{"port": 80}], **spec},
    }


def container_of(obj: Obj) -> Obj:
    return obj["spec"]["template"]["spec"]["containers"][0]


def webhooks(kind: str) -> Obj:
    hook = {
        "name": "check.example.dev",
        "clientConfig": {"service": {"name": "checker", "namespace": "checks"}},
        "rules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["pods"]}],
        "sideEffects": "None",
        "admissionReviewVersions": ["v1"],
    }
    return {"apiVersion": "admissionregistration.k8s.io/v1", "kind": kind, "metadata": {"name": "w"},
            "webhooks": [hook]}


VALIDATING_DEFAULTS = {
    "failurePolicy": "Fail",
    "matchPolicy": "Equivalent",
    "namespaceSelector": {},
    "objectSelector": {},
    "timeoutSeconds": 10,
}

CASES = [
    ("deployment-replicas", workload("Deployment"), lambda o: o["spec"]["replicas"], 1),
    (
        "deployment-strategy",
        workload("Deployment"),
        lambda o: o["spec"]["strategy"],
        {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
    ),
    ("deployment-history", workload("Deployment"), lambda o: o["spec"]["revisionHistoryLimit"], 10),
    ("deployment-deadline", workload("Deployment"), lambda o: o["spec"]["progressDeadlineSeconds"], 600),
    ("deployment-keeps-set-replicas", workload("Deployment", replicas=0), lambda o: o["spec"]["replicas"], 0),
    (
        "recreate-strategy-has-no-rolling-update",
        workload("Deployment", strategy={"type": "Recreate"}),
        lambda o: o["spec"]["strategy"],
        {"type": "Recreate"},
    ),
    (
        "statefulset-policy",
        workload("StatefulSet"),
        lambda o: o["spec"]["podManagementPolicy"],
        "OrderedReady",
    ),
    (
        "statefulset-update-strategy",
        workload("StatefulSet"),
        lambda o: o["spec"]["updateStrategy"],
        {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
    ),
    (
        "daemonset-update-strategy",
        workload("DaemonSet"),
        lambda o: o["spec"]["updateStrategy"],
        {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}},
    ),
    ("replicaset-replicas", workload("ReplicaSet"), lambda o: o["spec"]["replicas"], 1),
    (
        "pod-restart-policy",
        workload("Deployment"),
        lambda o: o["spec"]["template"]["spec"]["restartPolicy"],
        "Always",
    ),
    (
        "pod-dns-policy",
        workload("Deployment"),
        lambda o: o["spec"]["template"]["spec"]["dnsPolicy"],
        "ClusterFirst",
    ),
    (
        "pod-grace",
        workload("Deployment"),
        lambda o: o["spec"]["template"]["spec"]["terminationGracePeriodSeconds"],
        30,
    ),
    (
        "pod-scheduler",
        workload("Deployment"),
        lambda o: o["spec"]["template"]["spec"]["schedulerName"],
        "default-scheduler",
    ),
    (
        "pod-security-context",
        workload("Deployment"),
        lambda o: o["spec"]["template"]["spec"]["securityContext"],
        {},
    ),
    (
        "container-pull-policy-tagged",
        workload("Deployment"),
        lambda o: container_of(o)["imagePullPolicy"],
        "IfNotPresent",
    ),
    (
        "container-message-path",
        workload("Deployment"),
        lambda o: container_of(o)["terminationMessagePath"],
        "/dev/termination-log",
    ),
    (
        "container-message-policy",
        workload("Deployment"),
        lambda o: container_of(o)["terminationMessagePolicy"],
        "File",
    ),
    (
        "container-port-protocol",
        workload("Deployment"),
        lambda o: container_of(o)["ports"][0]["protocol"],
        "TCP",
    ),
    ("job-backoff", workload("Job", "batch/v1"), lambda o: o["spec"]["backoffLimit"], 6),
    (
        "job-completions",
        workload("Job", "batch/v1"),
        lambda o: (o["spec"]["completions"], o["spec"]["parallelism"]),
        (1, 1),
    ),
    (
        "job-parallel-without-completions",
        workload("Job", "batch/v1", parallelism=3),
        lambda o: "completions" in o["spec"],
        False,
    ),
    (
        "cronjob-limits",
        {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {}}},
        },
        lambda o: (
            o["spec"]["concurrencyPolicy"],
            o["spec"]["successfulJobsHistoryLimit"],
            o["spec"]["failedJobsHistoryLimit"],
        ),
        ("Allow", 3, 1),
    ),
    ("service-type", service(), lambda o: o["spec"]["type"], "ClusterIP"),
    ("service-affinity", service(), lambda o: o["spec"]["sessionAffinity"], "None"),
    (
        "service-port",
        service(),
        lambda o: o["spec"]["ports"][0],
        {"port": 80, "protocol": "TCP", "targetPort": 80},
    ),
    (
        "service-cluster-ip",
        service(),
        lambda o: (o["spec"]["clusterIP"], o["spec"]["clusterIPs"]),
        (IP, [IP]),
    ),
    ("headless-service", service(clusterIP="None"), lambda o: o["spec"]["clusterIP"], "None"),
    (
        "external-name-gets-no-ip",
        service(type="ExternalName", externalName="db.example.com"),
        lambda o: "clusterIP" in o["spec"],
        False,
    ),
    (
        "namespace-finalizer",
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n"}},
        lambda o: o["spec"]["finalizers"],
        ["kubernetes"],
    ),
    (
        "secret-type",
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}},
        lambda o: o["type"],
        "Opaque",
    ),
    (
        "claim-volume-mode",
        {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "spec": {}},
        lambda o: o["spec"]["volumeMode"],
        "Filesystem",
    ),
    (
        "validating-webhook",
        webhooks("ValidatingWebhookConfiguration"),
        lambda o: {k: o["webhooks"][0][k] for k in VALIDATING_DEFAULTS},
        VALIDATING_DEFAULTS,
    ),
    (
        "validating-webhook-has-no-reinvocation",
        webhooks("ValidatingWebhookConfiguration"),
        lambda o: "reinvocationPolicy" in o["webhooks"][0],
        False,
    ),
    (
        "mutating-webhook",
        webhooks("MutatingWebhookConfiguration"),
        lambda o: {k: o["webhooks"][0][k] for k in [*VALIDATING_DEFAULTS, "reinvocationPolicy"]},
        {**VALIDATING_DEFAULTS, "reinvocationPolicy": "Never"},
    ),
    (
        "webhook-side-effects-kept",
        webhooks("MutatingWebhookConfiguration"),
        lambda o: o["webhooks"][0]["sideEffects"],
        "None",
    ),
    (
        "webhook-rule-scope",
        webhooks("ValidatingWebhookConfiguration"),
        lambda o: o["webhooks"][0]["rules"][0]["scope"],
        "*",
    ),
    (
        "webhook-service-port",
        webhooks("ValidatingWebhookConfiguration"),
        lambda o: o["webhooks"][0]["clientConfig"]["service"]["port"],
        443,
    ),
    (
        "webhook-url-has-no-port",
        {**webhooks("ValidatingWebhookConfiguration"),
         "webhooks": [{"name": "u.example.dev", "clientConfig": {"url": "https://hooks.example.dev/x"}}]},
        lambda o: o["webhooks"][0]["clientConfig"],
        {"url": "https://hooks.example.dev/x"},
    ),
    (
        "apiservice-service-port",
        {"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService", "metadata": {"name": "v1beta1.metrics.k8s.io"},
         "spec": {"service": {"name": "metrics-server", "namespace": "kube-system"}}},
        lambda o: o["spec"]["service"]["port"],
        443,
    ),
    (
        "unknown-kinds-are-left-alone",
        {"apiVersion": "example.com/v1", "kind": "Widget", "spec": {}},
        lambda o: o,
        {"apiVersion": "example.com/v1", "kind": "Widget", "spec": {}},
    ),
]


@pytest.mark.parametrize(("name", "obj", "probe", "expected"), CASES, ids=[c[0] for c in CASES])
def test_default(name: str, obj: Obj, probe: Any, expected: Any) -> None:
    assert probe(default(obj)) == expected


PULL_POLICIES = [
    ("nginx", "Always"),
    ("nginx:latest", "Always"),
    ("nginx:1.25", "IfNotPresent"),
    ("registry.local:5000/team/app", "Always"),
    ("registry.local:5000/team/app:2.0", "IfNotPresent"),
    ("nginx@sha256:abcd", "IfNotPresent"),
]


@pytest.mark.parametrize(("image", "policy"), PULL_POLICIES)
def test_pull_policy(image: str, policy: str) -> None:
    assert defaults.pull_policy(image) == policy


def test_defaulting_is_idempotent() -> None:
    once = default(workload("Deployment"))
    assert default(once) == once


def test_the_input_is_not_touched() -> None:
    obj = workload("Deployment")
    before = copy.deepcopy(obj)
    default(obj)
    assert obj == before
