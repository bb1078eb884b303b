"""Credentials from the environment and files; secrets and URL passwords never printed."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.errors import ConfigError
from reconciler.source.credentials import (
    BasicAuth,
    Secret,
    SshKeyAuth,
    TokenAuth,
    from_env,
    redact,
    redact_url,
)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://bot:pa55@git.example.test/fleet.git", "https://bot:***@git.example.test/fleet.git"),
        ("https://ghp_token123@git.example.test/fleet", "https://***@git.example.test/fleet"),
        ("ssh://git@git.example.test/fleet", "ssh://git@git.example.test/fleet"),
        ("git@git.example.test:org/fleet.git", "git@git.example.test:org/fleet.git"),
        ("https://git.example.test/fleet", "https://git.example.test/fleet"),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def test_redact_masks_urls_and_secrets_inside_text() -> None:
    text = "fetch https://bot:pa55@h/x failed; token tok-999 refused"
    assert redact(text, secrets=[Secret("tok-999")]) == "fetch https://bot:***@h/x failed; token *** refused"


def test_secret_does_not_print_itself() -> None:
    secret = Secret("canary-value")
    assert "canary-value" not in f"{secret} {secret!r} {BasicAuth('u', secret)!r}"


def test_empty_secret_is_refused() -> None:
    with pytest.raises(ConfigError):
        Secret("")


def test_token_from_environment() -> None:
    assert from_env({"STACKFLEET_GIT_TOKEN": "t0k"}) == TokenAuth(Secret("t0k"))


def test_password_from_file(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("from-file\n")
    env = {"STACKFLEET_GIT_USERNAME": "bot", "STACKFLEET_GIT_PASSWORD_FILE": str(tmp_path / "pw")}
    assert from_env(env) == BasicAuth("bot", Secret("from-file"))


def test_username_without_password_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="set together"):
        from_env({"STACKFLEET_GIT_USERNAME": "bot"})


def test_unreadable_secret_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        from_env({"STACKFLEET_GIT_TOKEN_FILE": str(tmp_path / "missing")})


def test_no_credentials_configured() -> None:
    assert from_env({}) is None


def test_ssh_key_needs_pinned_known_hosts(tmp_path: Path) -> None:
    (tmp_path / "id").write_text("key")
    with pytest.raises(ConfigError, match="known_hosts"):
        from_env({"STACKFLEET_GIT_SSH_KEY": str(tmp_path / "id")})


def test_ssh_key_with_empty_known_hosts_is_refused(tmp_path: Path) -> None:
    (tmp_path / "id").write_text("key")
    (tmp_path / "known_hosts").write_text("\n")
    with pytest.raises(ConfigError, match="no host would be trusted"):
        SshKeyAuth(private_key=tmp_path / "id", known_hosts=tmp_path / "known_hosts")


def test_ssh_key_from_environment(tmp_path: Path) -> None:
    (tmp_path / "id").write_text("key")
    (tmp_path / "known_hosts").write_text("git.example.test ssh-ed25519 AAAA\n")
    env = {
        "STACKFLEET_GIT_SSH_KEY": str(tmp_path / "id"),
        "STACKFLEET_GIT_SSH_KNOWN_HOSTS": str(tmp_path / "known_hosts"),
    }
    assert from_env(env) == SshKeyAuth(private_key=tmp_path / "id", known_hosts=tmp_path / "known_hosts")
