"""The release artifacts: ``python -m build`` makes an sdist and, from it, a wheel that runs the demo alone.

The sources are what git would commit (tracked and untracked-but-not-ignored files), copied away from
the checkout; the build runs without isolation (``--no-isolation``: no network), so the dev extra's
setuptools and build are the ones used. The wheel is then installed without dependencies into a venv
made with ``--system-site-packages`` (the dependencies are this machine's; fetching them offline is not
possible), and ``stackfleet demo --once`` runs from a directory that is not a checkout, with no
``PYTHONPATH``: it must find the reference fleet inside the installed package.
"""

from __future__ import annotations

import email
import os
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

import reconciler

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Built:
    wheel: Path
    sdist: Path


def committable_files(repo_root: Path) -> list[str]:
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=repo_root, capture_output=True, text=True, check=True).stdout
    return [name for name in listed.split("\0") if name and (repo_root / name).is_file()]


@pytest.fixture(scope="module")
def built(repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Built:
    src = tmp_path_factory.mktemp("src")
    for name in committable_files(repo_root):
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(repo_root / name, src / name)
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(src)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return Built(next(out.glob("stackfleet-*.whl")), next(out.glob("stackfleet-*.tar.gz")))


def fleet_files(repo_root: Path) -> set[str]:
    return {name.removeprefix("fleet/") for name in committable_files(repo_root) if name.startswith("fleet/")}


def test_the_wheel_ships_every_file_of_the_reference_fleet(built: Built, repo_root: Path):
    prefix = "reconciler/reference-fleet/"
    shipped = {n.removeprefix(prefix) for n in zipfile.ZipFile(built.wheel).namelist() if n.startswith(prefix)}
    assert shipped == fleet_files(repo_root) and "fleet.yaml" in shipped


def test_the_wheel_holds_the_package_and_its_metadata_only(built: Built):
    tops = {name.split("/")[0] for name in zipfile.ZipFile(built.wheel).namelist()}
    assert tops == {"reconciler", f"stackfleet-{reconciler.__version__}.dist-info"}


def metadata(built: Built) -> email.message.Message:
    with zipfile.ZipFile(built.wheel) as wheel:
        name = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
        return email.message_from_bytes(wheel.read(name))


def test_the_wheel_metadata_has_the_version_of_the_package_and_an_spdx_licence(built: Built):
    meta = metadata(built)
    assert (meta["Version"], meta["License-Expression"], meta["License-File"]) == (
        reconciler.__version__, "Apache-2.0", "LICENSE")


def test_the_wheel_carries_the_licence_text(built: Built, repo_root: Path):
    with zipfile.ZipFile(built.wheel) as wheel:
        name = next(n for n in wheel.namelist() if n.endswith(".dist-info/licenses/LICENSE"))
        assert wheel.read(name) == (repo_root / "LICENSE").read_bytes()


def test_httpx_is_a_dependency_of_the_tests_only(built: Built):
    requires = metadata(built).get_all("Requires-Dist") or []
    run_time = [r for r in requires if "extra ==" not in r]
    assert (any(r.startswith("httpx") for r in run_time), any(r.startswith("httpx") for r in requires)) == (False, True)


def test_every_run_time_dependency_has_an_upper_bound(repo_root: Path):
    dependencies = tomllib.loads((repo_root / "pyproject.toml").read_text())["project"]["dependencies"]
    assert [d for d in dependencies if "<" not in d] == []


def test_the_sdist_carries_the_fleet_and_the_licence_so_a_wheel_builds_from_it(built: Built):
    with tarfile.open(built.sdist) as sdist:
        names = {n.split("/", 1)[1] for n in sdist.getnames() if "/" in n}
    assert {"LICENSE", "setup.py", "fleet/fleet.yaml", "reconciler/__init__.py"} <= names


@pytest.fixture(scope="module")
def venv(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(where)], check=True, timeout=120)
    installed = subprocess.run([str(where / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps",
                                "--no-index", str(built.wheel)], capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stderr[-2000:]
    return where


def outside_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def test_the_venv_imports_the_installed_wheel_not_the_checkout(venv: Path, tmp_path: Path):
    done = subprocess.run([str(venv / "bin" / "python"), "-c", "import reconciler; print(reconciler.__file__)"],
                          cwd=tmp_path, env=outside_env(), capture_output=True, text=True, check=True)
    assert Path(done.stdout.strip()).is_relative_to(venv)


def test_the_installed_wheel_runs_the_demo_once_outside_a_checkout(venv: Path, tmp_path: Path):
    done = subprocess.run([str(venv / "bin" / "stackfleet"), "demo", "--once"], cwd=tmp_path, env=outside_env(),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    first = done.stdout.splitlines()[0]
    assert first.startswith(f"starting simulated clusters for {venv}") and first.endswith("reference-fleet ...")
