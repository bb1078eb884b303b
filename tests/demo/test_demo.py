"""``stackfleet demo`` as a new user runs it: the whole story, a summary, the "change it" step, Ctrl-C.

The demo runs interactively from the checkout (``--once`` from an installed wheel is run by
tests/test_wheel.py): once it says it is still serving, the test does what the demo tells a person to
do, ``git -C <work> commit -am ... && git -C <work> push`` with a user's own git config, then presses
Ctrl-C (SIGINT) and reads what the demo says about its directory.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

STEPS = ("first rollout", "approve platform-stable/prod-rest", "ring 1 to platform 1.5", "drift")


@dataclass(frozen=True)
class Session:
    stdout: str
    stderr: str
    returncode: int
    push: subprocess.CompletedProcess[str]
    work: Path
    bare_head: str
    work_head: str


def user_env(home: Path) -> dict[str, str]:
    """A person's environment: their own ~/.gitconfig (an identity, git's default push.default)."""
    (home / ".gitconfig").write_text("[user]\n\tname = A User\n\temail = user@example.invalid\n")
    keep = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    return {**keep, "HOME": str(home), "GIT_CONFIG_NOSYSTEM": "1"}


def change_it(said: str, env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], Path]:
    """Edit a file of the work tree the demo names, then run the commit-and-push line it prints."""
    work = Path(re.search(r"change it:\s+edit a file under (\S+), then", said).group(1))  # type: ignore[union-attr]
    line = next(s.strip() for s in said.splitlines() if s.strip().startswith(f"git -C {work} commit"))
    with (work / "fleet.yaml").open("a") as fleet:
        fleet.write("# a user's change\n")
    return subprocess.run(["bash", "-c", line], env=env, capture_output=True, text=True, timeout=60), work


def git_out(*args: str) -> str:
    return subprocess.run(["git", *args], capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture(scope="module")
def session(repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Session:
    process = subprocess.Popen([sys.executable, "-m", "reconciler.cli", "demo", "--port", "0"],
                               cwd=repo_root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    said = ""
    for line in process.stdout:
        said += line
        if "still serving" in line:
            break
    try:
        push, work = change_it(said, user_env(tmp_path_factory.mktemp("home")))
        bare_head = git_out("-C", str(work.parent / "fleet.git"), "rev-parse", "main")
        work_head = git_out("-C", str(work), "rev-parse", "HEAD")
    finally:
        process.send_signal(signal.SIGINT)
        rest, stderr = process.communicate(timeout=120)
    return Session(said + rest, stderr, process.returncode, push, work, bare_head, work_head)


def summary_lines(output: str) -> list[str]:
    return output.partition("summary:\n")[2].splitlines()


def test_the_demo_exits_0_after_ctrl_c(session: Session):
    assert session.returncode == 0, session.stdout[-3000:] + session.stderr[-3000:]


@pytest.mark.parametrize("step", STEPS)
def test_the_summary_reports_each_step_of_the_story_ok(session: Session, step: str):
    assert any(line.split()[:1] == ["ok"] and f" {step}:" in line for line in summary_lines(session.stdout)), session.stdout


def test_the_version_bump_is_written_to_ring_1_only(session: Session):
    bump = next(line for line in summary_lines(session.stdout) if "ring 1 to platform 1.5:" in line)
    assert "written to stage-eu-1 (write requests seen by the clusters: stage-eu-1)" in bump


def test_the_demo_says_what_to_open_and_what_to_try(session: Session):
    said = session.stdout
    assert ("/login" in said, "kubectl --kubeconfig" in said, "git -C" in said) == (True, True, True)


def test_the_change_it_step_pushes_with_the_users_git_config(session: Session):
    assert (session.push.returncode, session.bare_head) == (0, session.work_head), session.push.stderr


def test_ctrl_c_keeps_the_demo_directory_and_says_where_it_is(session: Session):
    kept = re.search(r"The demo's directory is kept: (\S+) ", session.stdout)
    assert kept is not None, session.stdout[-2000:]
    directory = Path(kept.group(1))
    assert (session.work.is_relative_to(directory), "# a user's change" in (session.work / "fleet.yaml").read_text(),
            f"rm -rf {shlex.quote(str(directory))}" in session.stdout) == (True, True, True)
    subprocess.run(["rm", "-rf", str(directory)], check=True)


def test_without_git_the_demo_fails_with_one_line(tmp_path: Path, repo_root: Path):
    empty = tmp_path / "bin"
    empty.mkdir()
    done = subprocess.run([sys.executable, "-m", "reconciler.cli", "demo", "--once"], cwd=repo_root,
                          env={**os.environ, "PATH": str(empty)}, capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stderr.splitlines()) == (
        1, ["error: the git CLI is not installed; it serves and edits the demo's fleet repo "
            "(install git, e.g. apt-get install git)"])


def test_the_demo_outside_a_checkout_still_finds_the_shipped_fleet(tmp_path: Path):
    from reconciler.demo import worlds

    assert (worlds.find_fleet(tmp_path) / "fleet.yaml").is_file()


def test_the_readme_quick_start_begins_with_the_demo(repo_root: Path):
    readme = (repo_root / "README.md").read_text()
    first_block = readme.partition("## Quick start")[2].partition("```sh\n")[2].partition("```")[0]
    assert first_block == "python3 -m pip install -e '.[dev]' && stackfleet demo\n"
