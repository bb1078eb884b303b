"""Fixtures of the render tests: small fleet repos written to tmp_path, and chart servers on loopback.

The chart servers are real: an HTTP chart repository (``index.yaml`` + ``.tgz``, as ``helm repo index``
writes it) and a minimal OCI distribution API (tags, manifests, blobs) that Helm pulls from over
plain HTTP. Both bind 127.0.0.1, set TCP_NODELAY, and stop when the test ends.
"""

from __future__ import annotations

import hashlib
import json
import socket
import textwrap
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from reconciler.render import cache, fleet, helm
from reconciler.source.dirtree import DirTree
from reconciler.spec import loader

FLEET_YAML = """\
apiVersion: stackfleet.dev/v1alpha1
kind: Fleet
metadata: {name: acme}
spec:
  managementCluster: mgmt
  defaults:
    values: {org: acme, replicas: 1, tier: fleet}
"""

CLUSTERS = {
    "clusters/mgmt.yaml": """\
apiVersion: stackfleet.dev/v1alpha1
kind: Cluster
metadata: {name: mgmt, labels: {role: management}}
spec:
  connection: {context: mgmt}
""",
    "clusters/c1.yaml": """\
apiVersion: stackfleet.dev/v1alpha1
kind: Cluster
metadata: {name: c1, labels: {env: prod, region: eu, topology.kubernetes.io/zone: eu-1a}}
spec:
  connection: {context: c1}
  stacks: [{name: app, version: "^1.0.0"}]
  values: {replicas: 3}
""",
}


@dataclass
class RepoWriter:
    """Writes a fleet repo (fleet.yaml, clusters, plus the files a test gives) and loads it."""

    root: Path

    def write(self, files: dict[str, str | bytes], *, base: bool = True) -> Path:
        everything: dict[str, str | bytes] = {"fleet.yaml": FLEET_YAML, **CLUSTERS} if base else {}
        everything.update(files)
        for rel, content in everything.items():
            path = self.root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            data = content if isinstance(content, bytes) else textwrap.dedent(content)
            path.write_bytes(data) if isinstance(data, bytes) else path.write_text(data)
        return self.root

    def load(self, files: dict[str, str | bytes], *, base: bool = True) -> loader.FleetRepo:
        return loader.load(DirTree(self.write(files, base=base)))


@pytest.fixture
def repo_writer(tmp_path: Path) -> RepoWriter:
    return RepoWriter(tmp_path / "repo")


@pytest.fixture
def options() -> fleet.Options:
    """Render options with a fresh cache and one worker (deterministic, cheap on 2 cores)."""
    return fleet.Options(cache=cache.Cache(), fetcher=helm.Fetcher(), workers=1)


# ----------------------------------------------------------------------------- servers


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def server_bind(self) -> None:
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().server_bind()


@dataclass
class Served:
    """A loopback server; ``files`` maps a URL path to (content type, body); ``hits`` logs requests."""

    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)
    stall: bool = False
    """Hold every request until the test ends (a server that hangs)."""
    released: threading.Event = field(default_factory=threading.Event)
    url: str = ""
    host: str = ""


def _serve(served: Served) -> Iterator[Served]:
    class Handler(BaseHTTPRequestHandler):
        def do_HEAD(self) -> None:
            self._answer(body=False)

        def do_GET(self) -> None:
            self._answer(body=True)

        def _answer(self, *, body: bool) -> None:
            path = self.path.split("?", 1)[0]
            served.hits.append(f"{self.command} {path}")
            if served.stall:
                served.released.wait(30)
            found = served.files.get(path)
            if found is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            kind, data = found
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Docker-Content-Digest", "sha256:" + hashlib.sha256(data).hexdigest())
            self.end_headers()
            if body:
                self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = _Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    served.host = f"127.0.0.1:{server.server_address[1]}"
    served.url = f"http://{served.host}"
    try:
        yield served
    finally:
        served.released.set()
        server.shutdown()
        server.server_close()


@pytest.fixture
def http_server() -> Iterator[Served]:
    yield from _serve(Served())


@pytest.fixture
def oci_server() -> Iterator[Served]:
    served = Served()
    served.files["/v2/"] = ("application/json", b"{}")
    yield from _serve(served)


OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
HELM_CONFIG = "application/vnd.cncf.helm.config.v1+json"
HELM_LAYER = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture
def publish_oci() -> Callable[[Served, str, str, bytes], None]:
    """Publish a chart archive as ``<repo>:<version>`` on an ``oci_server``."""

    def publish(served: Served, repo: str, version: str, archive: bytes) -> None:
        name = repo.rpartition("/")[2]
        config = json.dumps({"apiVersion": "v2", "name": name, "version": version}).encode()
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": {"mediaType": HELM_CONFIG, "digest": _digest(config), "size": len(config)},
                "layers": [{"mediaType": HELM_LAYER, "digest": _digest(archive), "size": len(archive)}],
            }
        ).encode()
        for data, kind in ((config, HELM_CONFIG), (archive, HELM_LAYER)):
            served.files[f"/v2/{repo}/blobs/{_digest(data)}"] = (kind, data)
        served.files[f"/v2/{repo}/manifests/{version}"] = (OCI_MANIFEST, manifest)
        served.files[f"/v2/{repo}/manifests/{_digest(manifest)}"] = (OCI_MANIFEST, manifest)
        tags = json.dumps({"name": repo, "tags": [version]}).encode()
        served.files[f"/v2/{repo}/tags/list"] = ("application/json", tags)

    return publish
