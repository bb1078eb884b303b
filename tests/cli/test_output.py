"""What the CLI writes to a terminal and elsewhere: colour on a terminal only, none with ``NO_COLOR``,
no escape codes at all in redirected output, and log lines that follow the same rules.

A terminal is a real pseudo-terminal (``os.openpty``) given to the CLI process as stdin, stdout and
stderr; redirected output is a pipe.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler import logs
from tests.cli.conftest import Served

COLOUR = re.compile(r"\x1b\[(?:[0-9;]*;)?(?:3[0-9]|4[0-9]|9[0-7]|10[0-7])(?:;[0-9;]*)?m")
"""An SGR sequence that sets a foreground or background colour (bold and cursor moves are not colour)."""


def terminal_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    return {**env, "TERM": "xterm-256color", "COLUMNS": "160", **extra}


def on_a_terminal(args: list[str], env: dict[str, str]) -> str:
    """Run the CLI with a pseudo-terminal as stdin, stdout and stderr; everything it wrote."""
    leader, follower = os.openpty()
    process = subprocess.Popen([sys.executable, "-m", "reconciler.cli", *args], stdin=follower, stdout=follower,
                               stderr=follower, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # EIO: the process closed its side
            break
        if not data:
            break
        chunks.append(data)
    process.wait(timeout=120)
    os.close(leader)
    return b"".join(chunks).decode(errors="replace")


def test_plan_on_a_terminal_is_coloured(served: Served):
    said = on_a_terminal(["plan", "--detail", *served.args], terminal_env())
    assert (COLOUR.search(said) is not None, "Steps:" in said) == (True, True), said[-2000:]


def test_plan_on_a_terminal_with_no_color_has_no_colour(served: Served):
    said = on_a_terminal(["plan", "--detail", *served.args], terminal_env(NO_COLOR="1"))
    assert (COLOUR.search(said), "Steps:" in said, "+kind: ConfigMap" in said) == (None, True, True), said[-2000:]


@pytest.mark.parametrize("command", [["plan", "--detail"], ["apply", "--yes"]])
def test_redirected_output_has_no_escape_codes(served: Served, command: list[str]):
    done = subprocess.run([sys.executable, "-m", "reconciler.cli", *command, *served.args], capture_output=True,
                          text=True, timeout=120, env=terminal_env())
    assert done.returncode in (0, 2), done.stderr
    assert ("\x1b" in done.stdout + done.stderr, "Plan at " in done.stdout) == (False, True)


def test_redirected_plan_text_is_the_plain_view_and_its_table(served: Served):
    done = subprocess.run([sys.executable, "-m", "reconciler.cli", "plan", *served.args], capture_output=True,
                          text=True, timeout=120, env=terminal_env())
    header = next(line for line in done.stdout.splitlines() if line.startswith("cluster"))
    assert header.split() == ["cluster", "bundle", "create", "update", "adopt", "delete", "conflict", "unchanged",
                              "skipped"]


def test_apply_summary_on_a_terminal_is_a_table(served: Served):
    said = on_a_terminal(["apply", "--yes", *served.args], terminal_env(NO_COLOR="1"))
    assert re.search(r"dev\s+\S*\s+succeeded\s+\d+", said) is not None, said[-2000:]


def test_log_lines_are_coloured_on_a_terminal_only_and_never_with_no_color(monkeypatch: pytest.MonkeyPatch,
                                                                           tmp_path: Path):
    leader, follower = os.openpty()
    with os.fdopen(follower, "w") as terminal, (tmp_path / "log").open("w") as file:
        monkeypatch.delenv("NO_COLOR", raising=False)
        seen = (logs.wants_color(terminal), logs.wants_color(file))
        monkeypatch.setenv("NO_COLOR", "1")
        seen += (logs.wants_color(terminal),)
    os.close(leader)
    assert seen == (True, False, False)


def test_planning_shows_a_progress_bar_on_a_terminal_only(served: Served):
    said = on_a_terminal(["plan", *served.args], terminal_env(NO_COLOR="1"))
    redirected = subprocess.run([sys.executable, "-m", "reconciler.cli", "plan", *served.args], capture_output=True,
                                text=True, timeout=120, env=terminal_env())
    assert ("1 cluster(s)" in said, "1 cluster(s)" in redirected.stdout + redirected.stderr) == (True, False)
