"""``stackfleet serve`` refuses a bad configuration with a message naming the problem (exit code 1)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler import settings
from reconciler.daemon import runtimes
from reconciler.errors import ConfigError


def serve(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "reconciler.cli", "serve", "--config", str(config)],
                          capture_output=True, text=True, timeout=60, cwd=config.parent)


@pytest.mark.parametrize(("text", "message"), [
    ("sources: []\n", "no access token configured"),
    ("web:\n  read_token: {file: missing-token}\n", "cannot read secret file"),
    ("web:\n  listn: 127.0.0.1:1\n", "stackfleet.yaml:2 (web.listn): unknown field 'listn'"),
])
def test_a_bad_config_is_refused_naming_the_problem_before_anything_is_opened(tmp_path: Path, text: str,
                                                                              message: str):
    (tmp_path / "stackfleet.yaml").write_text(text)
    with pytest.raises(ConfigError) as refused:
        runtimes.start(settings.load(tmp_path / "stackfleet.yaml", environ={}), base=tmp_path)
    assert (message in str(refused.value), (tmp_path / "stackfleet.db").exists()) == (True, False)


def test_a_taken_listen_address_exits_1_and_leaves_no_server_behind(tmp_path: Path):
    (tmp_path / "token").write_text("a-token-for-the-test\n")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        (tmp_path / "stackfleet.yaml").write_text(
            f"web:\n  listen: 127.0.0.1:{port}\n  read_token: {{file: token}}\n")
        done = serve(tmp_path / "stackfleet.yaml")
    assert (done.returncode, f"cannot listen on 127.0.0.1:{port}" in done.stderr) == (1, True)


def test_a_missing_config_file_is_named(tmp_path: Path):
    with pytest.raises(ConfigError, match=r"cannot read config file '.*absent\.yaml'"):
        settings.load(tmp_path / "absent.yaml", environ={})
