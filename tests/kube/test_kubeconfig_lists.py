"""The operator's kubeconfig as KUBECONFIG lists it: several files merged as kubectl merges them, relative
file references, and a pod's in-cluster ServiceAccount credentials as one more context."""

from __future__ import annotations

import base64
import copy
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.core.objects import ObjectKey
from reconciler.errors import ConfigError
from reconciler.kube.connections import Connections, InCluster
from reconciler.sim import testing
from reconciler.spec.models import Connection

NAMESPACE = ObjectKey("", "Namespace", "", "default")


@pytest.fixture
def kubeconfig_doc(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The kubeconfig of two sim clusters over HTTPS (CA and bearer tokens, as real clusters have)."""
    with testing.running(clusters=["c0", "c1"], workdir=tmp_path / "sim", tls=True) as running:
        yield yaml.safe_load(running.kubeconfig.read_text())


def only(document: dict[str, Any], context: str) -> dict[str, Any]:
    """A kubeconfig holding just ``context`` (and its cluster and user)."""
    found = next(c for c in document["contexts"] if c["name"] == context)
    cluster, user = found["context"]["cluster"], found["context"]["user"]
    return {
        "apiVersion": "v1", "kind": "Config", "current-context": context, "contexts": [copy.deepcopy(found)],
        "clusters": [copy.deepcopy(c) for c in document["clusters"] if c["name"] == cluster],
        "users": [copy.deepcopy(u) for u in document["users"] if u["name"] == user],
    }


def ca_to_file(document: dict[str, Any], directory: Path, name: str) -> None:
    """Move the embedded CA into a file next to the kubeconfig, named by a relative path."""
    cluster = document["clusters"][0]["cluster"]
    (directory / name).write_bytes(base64.b64decode(cluster.pop("certificate-authority-data")))
    cluster["certificate-authority"] = name


def test_a_colon_list_merges_its_files_and_the_first_definition_wins(kubeconfig_doc, tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    a = only(kubeconfig_doc, "c0")
    ca_to_file(a, first, "ca.crt")
    b = only(kubeconfig_doc, "c1")
    shadow = only(kubeconfig_doc, "c0")  # a second c0 pointing nowhere: kubectl keeps the first
    shadow["clusters"][0]["cluster"]["server"] = "https://127.0.0.1:9"
    b = {**b, "contexts": b["contexts"] + shadow["contexts"], "clusters": b["clusters"] + shadow["clusters"]}
    (first / "config").write_text(yaml.safe_dump(a))
    (second / "config").write_text(yaml.safe_dump(b))
    listed = os.pathsep.join([str(first / "config"), str(tmp_path / "missing"), str(second / "config")])
    connections = Connections({"c0": Connection(context="c0"), "c1": Connection(context="c1")},
                              kubeconfig_path=listed)
    found = [connections.client(name).get(NAMESPACE) is not None for name in ("c0", "c1")]
    connections.close()
    assert found == [True, True]


def test_a_list_of_only_missing_files_is_one_clear_error(tmp_path: Path) -> None:
    listed = os.pathsep.join([str(tmp_path / "x"), str(tmp_path / "y")])
    with pytest.raises(ConfigError, match=r"cannot read kubeconfig .*x.*y.*: no such file"):
        Connections({"c0": Connection(context="c0")}, kubeconfig_path=listed).client("c0")


def test_in_cluster_credentials_are_a_context_of_their_own(kubeconfig_doc, tmp_path: Path) -> None:
    c0 = only(kubeconfig_doc, "c0")
    (tmp_path / "ca.crt").write_bytes(base64.b64decode(c0["clusters"][0]["cluster"]["certificate-authority-data"]))
    (tmp_path / "token").write_text(c0["users"][0]["user"]["token"])
    pod = InCluster(server=c0["clusters"][0]["cluster"]["server"], ca_file=str(tmp_path / "ca.crt"),
                    token_file=str(tmp_path / "token"), context="mgmt")
    connections = Connections({"mgmt": Connection(context="mgmt")}, kubeconfig_path=None, in_cluster=pod)
    found = connections.client("mgmt").get(NAMESPACE)
    connections.close()
    assert found is not None and found["metadata"]["name"] == "default"
