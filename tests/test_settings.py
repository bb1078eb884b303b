"""Daemon settings: the example file loads, errors name file:line or the variable, env overrides win."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler import redactions, settings
from reconciler.errors import ConfigError

MINIMAL = """\
sources:
  - name: fleet
    url: https://git.example.com/fleet.git
web:
  listen: 127.0.0.1:8080
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "stackfleet.yaml"
    path.write_text(text)
    return path


def test_the_example_file_at_the_repo_root_loads(repo_root: Path) -> None:
    loaded = settings.load(repo_root / "stackfleet.example.yaml", environ={})
    assert (loaded.sources[0].name, loaded.intervals.reconcile, loaded.web.listen) == (
        "fleet",
        300.0,
        "127.0.0.1:8080",
    )


def test_the_example_file_sets_every_field(repo_root: Path) -> None:
    text = (repo_root / "stackfleet.example.yaml").read_text()
    sections = {
        name: getattr(settings, cls)
        for name, cls in [
            ("kube", "Kube"),
            ("intervals", "Intervals"),
            ("concurrency", "Concurrency"),
            ("policy", "Policy"),
            ("state", "State"),
            ("web", "Web"),
            ("sources", "Source"),
        ]
    }
    missing = [f"{s}.{f}" for s, model in sections.items() for f in model.model_fields if f"{f}:" not in text]
    assert missing == []


def test_defaults_bind_the_web_server_to_loopback(tmp_path: Path) -> None:
    loaded = settings.load(write(tmp_path, "{}\n"), environ={})
    assert (loaded.web.listen, loaded.sources) == ("127.0.0.1:8080", [])


def test_an_unknown_field_is_named_with_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "  lisen: 0.0.0.0:80\n")
    with pytest.raises(ConfigError, match=rf"{path}:6 \(web.lisen\): unknown field 'lisen'"):
        settings.load(path, environ={})


def test_a_bad_duration_in_a_source_is_named_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL.replace("    url:", "    poll_interval: soon\n    url:"))
    with pytest.raises(ConfigError, match=rf"{path}:3 \(sources.0.poll_interval\): not a duration"):
        settings.load(path, environ={})


def test_an_inline_secret_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "  admin_token: hunter2\n")
    with pytest.raises(ConfigError, match=r"web.admin_token\)") as caught:
        settings.load(path, environ={})
    assert "hunter2" not in str(caught.value)


def test_credentials_in_a_source_url_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL.replace("https://", "https://bot:pw@"))
    with pytest.raises(ConfigError, match=r"\(sources.0.url\): the URL holds credentials"):
        settings.load(path, environ={})


def test_malformed_yaml_names_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "web:\n  listen: [\n")
    with pytest.raises(ConfigError, match=rf"{path}:\d+"):
        settings.load(path, environ={})


def test_an_environment_variable_overrides_the_file(tmp_path: Path) -> None:
    env = {"STACKFLEET_WEB__LISTEN": "127.0.0.1:9999", "STACKFLEET_INTERVALS__DRIFT": "2m"}
    loaded = settings.load(write(tmp_path, MINIMAL), environ=env)
    assert (loaded.web.listen, loaded.intervals.drift) == ("127.0.0.1:9999", 120.0)


def test_a_source_is_overridden_by_its_name(tmp_path: Path) -> None:
    loaded = settings.load(write(tmp_path, MINIMAL), environ={"STACKFLEET_SOURCES__FLEET__REF": "release"})
    assert loaded.sources[0].ref == "release"


def test_a_nested_secret_reference_comes_from_the_environment(tmp_path: Path) -> None:
    env = {"STACKFLEET_WEB__ADMIN_TOKEN__ENV": "ADMIN_TOKEN", "ADMIN_TOKEN": "s3cr3t-value"}
    loaded = settings.load(write(tmp_path, MINIMAL), environ=env)
    assert (
        loaded.web.admin_token is not None
        and settings.reveal(loaded.web.admin_token, environ=env) == "s3cr3t-value"
    )


def test_a_bad_override_names_the_variable(tmp_path: Path) -> None:
    env = {"STACKFLEET_CONCURRENCY__MAX_CLUSTERS": "0"}
    with pytest.raises(ConfigError, match=r"environment variable STACKFLEET_CONCURRENCY__MAX_CLUSTERS"):
        settings.load(write(tmp_path, MINIMAL), environ=env)


def test_an_override_for_an_unknown_source_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no source named 'other'"):
        settings.load(write(tmp_path, MINIMAL), environ={"STACKFLEET_SOURCES__OTHER__REF": "x"})


def test_unrelated_stackfleet_variables_are_ignored(tmp_path: Path) -> None:
    loaded = settings.load(write(tmp_path, MINIMAL), environ={"STACKFLEET_CACHE_DIR": "/tmp/x"})
    assert loaded.sources[0].ref == "main"


def test_relative_paths_are_relative_to_the_config_file(tmp_path: Path) -> None:
    text = MINIMAL + "  read_token: {file: secrets/read}\nstate:\n  database: state/db.sqlite\n"
    loaded = settings.load(write(tmp_path, text), environ={})
    assert loaded.web.read_token is not None
    assert (loaded.web.read_token.file, loaded.state.database) == (
        tmp_path / "secrets/read",
        str(tmp_path / "state/db.sqlite"),
    )


def test_a_secret_file_is_read_when_revealed(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("tok-123\n")
    assert settings.reveal(settings.SecretRef(file=tmp_path / "token")) == "tok-123"


def test_a_missing_secret_variable_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="NOPE_NOT_SET is not set"):
        settings.reveal(settings.SecretRef(env="NOPE_NOT_SET"), environ={})


def test_a_duplicate_source_name_is_refused(tmp_path: Path) -> None:
    text = MINIMAL.replace("web:", "  - name: fleet\n    url: https://x/y.git\nweb:")
    with pytest.raises(ConfigError, match="duplicate source names: fleet"):
        settings.load(write(tmp_path, text), environ={})


def test_a_revealed_secret_is_masked_from_then_on(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("revealed-token-9f8e7d\n")
    settings.reveal(settings.SecretRef(file=tmp_path / "token"))
    assert redactions.DEFAULT.text("sent revealed-token-9f8e7d") == "sent ***"


def test_kubeconfig_comes_from_the_file_setting_then_kubeconfig(tmp_path: Path) -> None:
    listed = f"{tmp_path}/a:{tmp_path}/b"
    from_env = settings.kube_access(settings.Kube(), environ={"KUBECONFIG": listed}, service_account=tmp_path)
    explicit = settings.kube_access(settings.Kube(kubeconfig=tmp_path / "k"), environ={"KUBECONFIG": listed},
                                    service_account=tmp_path)
    assert (from_env.kubeconfig, explicit.kubeconfig, from_env.in_cluster_server) == (listed, f"{tmp_path}/k", None)


def test_in_a_pod_the_service_account_reaches_the_api_server(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("t")
    env = {"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "6443"}
    found = settings.kube_access(settings.Kube(in_cluster_context="mgmt"), environ=env, service_account=tmp_path)
    ipv6 = settings.kube_access(settings.Kube(), environ={"KUBERNETES_SERVICE_HOST": "fd00::1"},
                                service_account=tmp_path)
    assert (found.in_cluster_server, found.token_file, found.in_cluster_context, ipv6.in_cluster_server) == (
        "https://10.0.0.1:6443", str(tmp_path / "token"), "mgmt", "https://[fd00::1]:443"
    )
