"""Build hook: the wheel carries the reference fleet (``fleet/``) as package data of ``reconciler``.

Everything else about the distribution is declared in ``pyproject.toml``. ``fleet/`` stays at the top
of the repository, where users and tests read it; ``build_py`` copies it into the built package as
``reconciler/reference-fleet/`` (a data directory, not an importable package), so ``stackfleet demo``
finds it when installed from a wheel outside a checkout. An editable install reads ``fleet/`` itself.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

FLEET = Path(__file__).resolve().parent / "fleet"
PACKAGED_AS = "reference-fleet"


class BuildWithFleet(build_py):  # type: ignore[misc]  # setuptools is untyped here
    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        if not (FLEET / "fleet.yaml").is_file():
            raise SystemExit(f"the reference fleet is missing: {FLEET}/fleet.yaml (the wheel must ship it)")
        target = Path(self.build_lib) / "reconciler" / PACKAGED_AS
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(FLEET, target, ignore=shutil.ignore_patterns(".git", "__pycache__", "*.pyc"))


setup(cmdclass={"build_py": BuildWithFleet})
