"""The Containerfile installs stackfleet the way the README does, and the wheel carries its run-time data.

The build stage's ``COPY`` lines are replayed into a temporary directory and a wheel is built from
exactly that (``pip wheel --no-deps --no-build-isolation``), so a file the image forgets to copy, or
package data ``pyproject.toml`` forgets to ship, fails here rather than in a container.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import reconciler
from reconciler import settings

RUN_TIME_DATA = (
    "reconciler/web/templates/",
    "reconciler/web/static/",
    "reconciler/sim/ssa/builtin.yaml",
    "reconciler/py.typed",
)


def build_stage(containerfile: str) -> list[str]:
    """The instructions of the first stage (up to the second ``FROM``), one per line."""
    stages = re.split(r"^FROM\s", containerfile, flags=re.MULTILINE)
    return [line.strip() for line in stages[1].splitlines() if line.strip() and not line.startswith("#")]


@pytest.fixture(scope="module")
def containerfile(repo_root: Path) -> str:
    return (repo_root / "Containerfile").read_text()


@pytest.fixture(scope="module")
def wheel(repo_root: Path, containerfile: str, tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    src = tmp_path_factory.mktemp("src")
    for line in build_stage(containerfile):
        if line.startswith("COPY "):
            *sources, dest = line.split()[1:]
            for name in sources:
                _copy(repo_root / name, src / dest / name if dest.endswith("/") else src / dest)
    out = tmp_path_factory.mktemp("wheel")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(out), "."], cwd=src, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr[-2000:]
    return zipfile.ZipFile(next(out.glob("stackfleet-*.whl")))


def _copy(source: Path, target: Path) -> None:
    if source.is_dir():
        shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)


def test_the_image_installs_with_the_readme_command_from_the_project_directory(containerfile: str):
    runs = [line for line in build_stage(containerfile) if line.startswith("RUN ") and "pip install" in line]
    assert [line.split(" -m ", 1)[1] for line in runs] == ["pip install ."]


def test_the_readme_installs_with_python3_m_pip_install(repo_root: Path):
    assert "python3 -m pip install -e '.[dev]'" in (repo_root / "README.md").read_text()


def test_the_base_images_run_the_python_that_requires_python_allows(repo_root: Path, containerfile: str):
    required = tomllib.loads((repo_root / "pyproject.toml").read_text())["project"]["requires-python"]
    bases = re.findall(r"^FROM\s+\S*python:(\d+\.\d+)", containerfile, flags=re.MULTILINE)
    assert (required, bases) == (">=3.11", ["3.11", "3.11"])


def test_the_image_runs_the_daemon_as_a_non_root_user(containerfile: str):
    final = re.split(r"^FROM\s", containerfile, flags=re.MULTILINE)[-1]
    assert (re.findall(r"^USER\s+(\S+)", final, flags=re.MULTILINE), 'ENTRYPOINT ["stackfleet", "serve"]' in final) == (
        ["10001"], True)


@pytest.mark.parametrize("needed", RUN_TIME_DATA)
def test_the_wheel_ships_the_data_the_daemon_reads_at_run_time(wheel: zipfile.ZipFile, needed: str):
    assert any(name.startswith(needed) for name in wheel.namelist())


def test_the_wheel_ships_every_web_template_of_the_source_tree(wheel: zipfile.ZipFile, repo_root: Path):
    templates = sorted(p.relative_to(repo_root).as_posix() for p in (repo_root / "reconciler/web/templates").glob("*.html"))
    assert templates and set(templates) <= set(wheel.namelist())


def env_of(containerfile: str) -> dict[str, str]:
    """The final stage's ``ENV`` assignments (continued lines joined)."""
    pairs = [p for line in re.findall(r"^ENV\s+(.*)$", final_stage(containerfile), flags=re.MULTILINE)
             for p in line.split()]
    return dict(pair.split("=", 1) for pair in pairs)


def test_the_image_settings_overrides_are_real_settings_fields(containerfile: str, tmp_path: Path):
    config = tmp_path / "stackfleet.yaml"
    config.write_text("sources: []\n")
    overrides = {k: v for k, v in env_of(containerfile).items() if k.startswith("STACKFLEET_") and "__" in k}
    loaded = settings.load(config, environ=overrides)
    assert (loaded.state.database, loaded.web.listen, sorted(overrides)) == (
        "/state/stackfleet.db", "0.0.0.0:8080", ["STACKFLEET_STATE__DATABASE", "STACKFLEET_WEB__LISTEN"])


def final_stage(containerfile: str) -> str:
    """The last stage, continued lines joined."""
    return re.split(r"^FROM\s", containerfile, flags=re.MULTILINE)[-1].replace("\\\n", " ")


def labels_of(containerfile: str) -> dict[str, str]:
    found = re.findall(r"^LABEL\s+(.*)$", final_stage(containerfile), flags=re.MULTILINE)
    return {key: value for line in found for key, value in re.findall(r'(\S+?)="([^"]*)"', line)}


def test_the_oci_labels_say_what_pyproject_says(repo_root: Path, containerfile: str) -> None:
    project = tomllib.loads((repo_root / "pyproject.toml").read_text())["project"]
    assert labels_of(containerfile) == {
        "org.opencontainers.image.title": project["name"],
        "org.opencontainers.image.description": project["description"],
        "org.opencontainers.image.version": reconciler.__version__,
        "org.opencontainers.image.licenses": project["license"],
        "org.opencontainers.image.authors": project["authors"][0]["name"],
    }


def healthcheck_of(containerfile: str) -> list[str]:
    [found] = re.findall(r"^HEALTHCHECK\s.*?\bCMD\s+(\[.*\])\s*$", final_stage(containerfile), flags=re.MULTILINE)
    command: list[str] = json.loads(found)
    return command


def test_the_healthcheck_passes_while_the_daemon_serves_and_fails_once_it_is_gone(containerfile: str,
                                                                                tmp_path: Path) -> None:
    """The image's HEALTHCHECK command, run as the container runtime runs it (exec form, the image's
    STACKFLEET_WEB__LISTEN naming the port), against a real ``stackfleet serve``."""
    command = [sys.executable if part == "python3" else part for part in healthcheck_of(containerfile)]
    (tmp_path / "token").write_text("a-token-for-the-healthcheck\n")
    (tmp_path / "stackfleet.yaml").write_text("web:\n  read_token: {file: token}\n")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "STACKFLEET_WEB__LISTEN": f"127.0.0.1:{port}"}
    daemon = subprocess.Popen([sys.executable, "-m", "reconciler.cli", "serve", "--config", "stackfleet.yaml"],
                              cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        passed = any(subprocess.run(command, env=env, capture_output=True, timeout=30).returncode == 0
                     for _ in _until_serving(daemon, port))
    finally:
        daemon.terminate()
        daemon.wait(timeout=30)
    after = subprocess.run(command, env=env, capture_output=True, timeout=30)
    assert (passed, after.returncode != 0) == (True, True)


def _until_serving(daemon: subprocess.Popen[bytes], port: int, attempts: int = 300) -> Iterator[None]:
    """Yields once the daemon accepts connections on ``port`` (bounded; ends early if it exits)."""
    for _ in range(attempts):
        if daemon.poll() is not None:
            return
        with socket.socket() as client:
            if client.connect_ex(("127.0.0.1", port)) == 0:
                yield
                return
        time.sleep(0.1)
