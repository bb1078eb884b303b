"""Chart dependencies that are not vendored are fetched as ``helm dependency build`` would (from an HTTP
chart repository at the version Chart.lock pins, or from ``file://`` in the repo), or fail the bundle
naming Chart.yaml and the dependency; they are never dropped silently."""

from __future__ import annotations

import io
import tarfile

from reconciler.render import fleet

STACK = """\
apiVersion: stackfleet.dev/v1alpha1
kind: Stack
metadata: {name: app}
spec:
  version: 1.0.0
  bundles:
    - {name: web, layer: addons, namespace: web-ns, helm: {chart: charts/umbrella, releaseName: web}}
"""
CACHE_TEMPLATE = ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: '{{ .Release.Name }}-cache'}\n"
                  "data: {version: '{{ .Chart.Version }}'}\n")


def umbrella(repository: str, *, lock: str = "") -> dict[str, str | bytes]:
    base = "stacks/app/1.0.0/charts/umbrella"
    files: dict[str, str | bytes] = {
        f"{base}/Chart.yaml": ("apiVersion: v2\nname: umbrella\nversion: 0.3.0\ndependencies:\n"
                               f"  - name: cache\n    version: 1.2.x\n    repository: '{repository}'\n"),
        f"{base}/templates/app.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\n",
    }
    if lock:
        files[f"{base}/Chart.lock"] = f"dependencies:\n  - name: cache\n    repository: {repository}\n    version: {lock}\n"
    return {"stacks/app/1.0.0/stack.yaml": STACK, **files}


def cache_chart(version: str) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, text in {"Chart.yaml": f"apiVersion: v2\nname: cache\nversion: {version}\n",
                           "templates/cm.yaml": CACHE_TEMPLATE}.items():
            info = tarfile.TarInfo(f"cache/{name}")
            info.size = len(text.encode())
            tar.addfile(info, io.BytesIO(text.encode()))
    return buffer.getvalue()


def serve_cache(http_server, *versions: str) -> None:
    entries = "".join(f"    - {{apiVersion: v2, name: cache, version: {v}, urls: [{http_server.url}/cache-{v}.tgz]}}\n"
                      for v in versions)
    http_server.files["/index.yaml"] = ("application/x-yaml", f"apiVersion: v1\nentries:\n  cache:\n{entries}".encode())
    for v in versions:
        http_server.files[f"/cache-{v}.tgz"] = ("application/gzip", cache_chart(v))


def configmaps(result) -> dict[str, dict]:
    return {o["metadata"]["name"]: o.get("data") for b in result.bundles for o in b.objects if o["kind"] == "ConfigMap"}


def test_a_dependency_is_fetched_from_its_repository_at_the_locked_version(repo_writer, options, http_server) -> None:
    serve_cache(http_server, "1.2.3", "1.2.4")
    result = fleet.render(repo_writer.load(umbrella(http_server.url, lock="1.2.3")), options=options)
    downloads = [h for h in http_server.hits if h.endswith(".tgz")]
    assert (result.failures, configmaps(result), downloads) == (
        (), {"app": None, "web-cache": {"version": "1.2.3"}}, ["GET /cache-1.2.3.tgz"])


def test_without_a_lock_the_range_of_chart_yaml_is_resolved(repo_writer, options, http_server) -> None:
    serve_cache(http_server, "1.2.3", "1.2.4")
    result = fleet.render(repo_writer.load(umbrella(http_server.url)), options=options)
    assert configmaps(result)["web-cache"] == {"version": "1.2.4"}


def test_a_file_dependency_comes_from_the_repo(repo_writer, options) -> None:
    files = umbrella("file://../cache")
    files["stacks/app/1.0.0/charts/cache/Chart.yaml"] = "apiVersion: v2\nname: cache\nversion: 1.2.9\n"
    files["stacks/app/1.0.0/charts/cache/templates/cm.yaml"] = CACHE_TEMPLATE
    result = fleet.render(repo_writer.load(files), options=options)
    assert (result.failures, configmaps(result)["web-cache"]) == ((), {"version": "1.2.9"})


def test_a_dependency_that_cannot_be_fetched_fails_the_bundle_naming_it(repo_writer, options) -> None:
    result = fleet.render(repo_writer.load(umbrella("@stable")), options=options)
    [failure] = result.failures
    assert ("dependency cache of chart stacks/app/1.0.0/charts/umbrella" in failure.error,
            "Chart.yaml" in failure.error, result.bundles) == (True, True, ())
