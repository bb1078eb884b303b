"""The command line as a new user meets it: exit codes, one-line errors, "did you mean", ``-o`` documents,
fleets in a subdirectory, ``--context``, a missing kubeconfig, lazy start-up and shell completion.

Every case runs the real CLI in a subprocess (``python -m reconciler.cli``, the same entry point as the
``stackfleet`` script); clusters are ``reconciler.sim`` clusters over HTTP and fleets real Git repos.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from reconciler.cli.main import COMMANDS
from tests.cli.conftest import Served


def stackfleet(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "reconciler.cli", *args], capture_output=True, text=True,
                          timeout=120, env=env or {**os.environ, "NO_COLOR": "1"})


def git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid", "GIT_CONFIG_GLOBAL": os.devnull}
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)


# ---------------------------------------------------------------------------------------------- validate


def test_validate_of_an_empty_directory_fails_saying_it_is_not_a_fleet_repo(tmp_path: Path):
    done = stackfleet("validate", str(tmp_path))
    assert (done.returncode, len(done.stdout.splitlines()), "is not a fleet repo" in done.stdout) == (1, 1, True), done


def test_validate_of_an_empty_fleet_yaml_fails(minimal: Path):
    (minimal / "fleet.yaml").write_text("")
    done = stackfleet("validate", str(minimal))
    assert (done.returncode, done.stdout.splitlines()) == (1, ["fleet.yaml: fleet.yaml is empty: it holds one Fleet document  [empty]"])


def test_validate_catches_an_undefined_value_that_render_would_reject(minimal: Path):
    manifest = minimal / "stacks/hello/1.0.0/manifests/hello.yaml"
    manifest.write_text(manifest.read_text().replace("${values.greeting}", "${values.greting}"))
    done, rendered = stackfleet("validate", str(minimal)), stackfleet("render", "--fleet", str(minimal))
    assert (done.returncode, rendered.returncode) == (1, 1)
    assert "values.greting" in done.stdout and done.stdout.rstrip().endswith("[render]"), done.stdout


def test_validate_with_no_render_checks_the_documents_only(minimal: Path):
    manifest = minimal / "stacks/hello/1.0.0/manifests/hello.yaml"
    manifest.write_text(manifest.read_text().replace("${values.greeting}", "${values.greting}"))
    assert stackfleet("validate", "--no-render", str(minimal)).returncode == 0


def test_validate_json_of_a_render_failure_is_one_document(minimal: Path):
    manifest = minimal / "stacks/hello/1.0.0/manifests/hello.yaml"
    manifest.write_text(manifest.read_text().replace("${values.greeting}", "${values.greting}"))
    body = json.loads(stackfleet("validate", "-o", "json", str(minimal)).stdout)
    assert (body["valid"], [(p["cluster"], p["bundle"], p["rule"]) for p in body["problems"]]) == (
        False, [("dev", "hello", "render")])


# ---------------------------------------------------------------------------------------------- names


@pytest.mark.parametrize(("args", "message"), [
    (("render", "--bundle", "helo"), "error: Invalid value for --bundle: unknown bundle 'helo'; did you mean 'hello'"),
    (("render", "--bundle", "helo/hello"), "error: Invalid value for --bundle: unknown bundle 'helo/hello'; "
                                           "did you mean 'hello/hello'"),
    (("render", "--cluster", "devv"), "error: Invalid value for --cluster: unknown cluster 'devv'; did you mean 'dev'"),
    (("plan", "--cluster", "de"), "error: Invalid value for --cluster: unknown cluster 'de'; did you mean 'dev'"),
    (("drift", "--context", "deb"), "error: Invalid value for --context: unknown kubeconfig context 'deb'; "
                                    "did you mean 'dev'"),
])
def test_an_unknown_name_fails_with_one_line_and_a_did_you_mean(minimal: Path, args: tuple[str, ...], message: str):
    done = stackfleet(*args, "--fleet", str(minimal))
    assert (done.returncode, len(done.stderr.splitlines()), done.stdout) == (1, 1, ""), done.stderr
    assert done.stderr.startswith(message), done.stderr


def test_an_unknown_command_gets_a_did_you_mean():
    done = stackfleet("rendr")
    assert (done.returncode, done.stderr.splitlines()) == (
        1, ["error: Invalid value for COMMAND: unknown command 'rendr'; did you mean 'render'? (see 'stackfleet --help')"])


# ---------------------------------------------------------------------------------------------- subdirectories


@pytest.fixture
def nested(tmp_path: Path, repo_root: Path) -> Path:
    """A Git repo whose fleet is in ``fleets/dev`` (and something else at its root)."""
    repo = tmp_path / "platform"
    shutil.copytree(repo_root / "examples" / "01-minimal", repo / "fleets" / "dev")
    (repo / "README.md").write_text("not a fleet\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "fleets")
    return repo


def test_a_fleet_in_a_subdirectory_of_a_git_url_at_a_ref(nested: Path, tmp_path: Path):
    env = {**os.environ, "STACKFLEET_CACHE_DIR": str(tmp_path / "cache")}
    done = stackfleet("validate", f"{nested.as_uri()}@main:fleets/dev", env=env)
    assert (done.returncode, "valid: 1 cluster" in done.stdout) == (0, True), done.stdout + done.stderr


def test_a_fleet_in_a_subdirectory_with_path(nested: Path, tmp_path: Path):
    env = {**os.environ, "STACKFLEET_CACHE_DIR": str(tmp_path / "cache"), "NO_COLOR": "1"}
    from_dir = stackfleet("render", "--fleet", str(nested), "--path", "fleets/dev", env=env)
    from_git = stackfleet("render", "--fleet", f"{nested.as_uri()}@main", "--path", "fleets/dev", env=env)
    assert (from_dir.returncode, from_git.returncode, from_dir.stdout) == (0, 0, from_git.stdout), from_dir.stderr
    assert "hello from dev" in from_dir.stdout


def test_the_root_of_that_repo_is_not_a_fleet(nested: Path):
    assert stackfleet("validate", str(nested)).returncode == 1


def test_a_path_that_is_not_a_directory_is_one_error_line(nested: Path):
    done = stackfleet("validate", str(nested), "--path", "fleets/prod")
    assert (done.returncode, len(done.stderr.splitlines()), "fleets/prod" in done.stderr) == (1, 1, True), done.stderr


# ---------------------------------------------------------------------------------------------- clusters


def test_a_missing_kubeconfig_is_one_clear_error_line(minimal: Path, tmp_path: Path):
    done = stackfleet("plan", "--fleet", str(minimal), "--kubeconfig", str(tmp_path / "nope"),
                      "--state", str(tmp_path / "state.db"))
    assert (done.returncode, done.stdout, done.stderr.splitlines()) == (
        1, "", [f"error: cannot read kubeconfig {tmp_path / 'nope'}: no such file"])


def test_without_any_kubeconfig_the_error_says_how_to_give_one(minimal: Path, tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"} | {"HOME": str(tmp_path)}
    done = stackfleet("drift", "--fleet", str(minimal), "--state", str(tmp_path / "state.db"), env=env)
    assert (done.returncode, done.stderr.splitlines()) == (1, [
        f"error: cannot read kubeconfig {tmp_path}/.kube/config: no such file "
        "(give --kubeconfig or set KUBECONFIG)"])


def test_apply_json_prints_one_document_when_there_is_nothing_to_do(served: Served):
    first = stackfleet("apply", "--yes", "-o", "json", *served.args)
    again = stackfleet("apply", "--yes", "-o", "json", *served.args)
    assert (first.returncode, again.returncode) == (0, 0), first.stderr + again.stderr
    applied, nothing = json.loads(first.stdout), json.loads(again.stdout)
    assert (applied["writes"] > 0, nothing["writes"], [c["cluster"] for c in nothing["clusters"]]) == (True, 0, ["dev"])


def test_apply_json_declined_is_still_one_document(served: Served):
    done = subprocess.run([sys.executable, "-m", "reconciler.cli", "apply", "-o", "json", *served.args],
                          input="n\n", capture_output=True, text=True, timeout=120)
    assert (done.returncode, json.loads(done.stdout)["applied"], json.loads(done.stdout)["reason"]) == (
        1, False, "declined at the confirmation")


def test_plan_yaml_is_the_json_document_in_yaml(served: Served):
    as_json = stackfleet("plan", "-o", "json", *served.args)
    as_yaml = stackfleet("plan", "-o", "yaml", *served.args)
    assert (as_json.returncode, as_yaml.returncode) == (2, 2), as_yaml.stderr
    plan_json, plan_yaml = json.loads(as_json.stdout), yaml.safe_load(as_yaml.stdout)
    assert plan_yaml.keys() == plan_json.keys() and plan_yaml["revision"] == plan_json["revision"]


def test_context_picks_the_clusters_of_that_kubeconfig_context(served: Served):
    done = stackfleet("plan", "-o", "json", "--context", "dev", *served.args)
    assert (done.returncode, [c["name"] for c in json.loads(done.stdout)["clusters"]]) == (2, ["dev"]), done.stderr


# ---------------------------------------------------------------------------------------------- start-up


def test_help_lists_every_command_and_imports_no_command_module():
    probe = ("import sys; from reconciler.cli import main\n"
             "try:\n    main.cli.main(['--help'], standalone_mode=False)\nexcept SystemExit:\n    pass\n"
             "print(sorted(m for m in sys.modules if m.startswith(('reconciler.cli.', 'kubernetes', 'helm_python', "
             "'sqlalchemy', 'reconciler.render', 'reconciler.engine'))))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    listed = done.stdout.partition("Commands:")[2]
    assert all(f"  {name} " in listed for name in COMMANDS), done.stdout
    assert done.stdout.splitlines()[-1] == "['reconciler.cli.main', 'reconciler.cli.options']"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_listed_command_is_the_command_of_its_module(name: str):
    from reconciler.cli import main

    command = main.cli.get_command(None, name)  # type: ignore[arg-type]
    assert command is not None and command.name == name


def test_version_prints_the_package_version():
    import reconciler

    assert stackfleet("--version").stdout == f"stackfleet, version {reconciler.__version__}\n"


# ---------------------------------------------------------------------------------------------- completion


@pytest.mark.parametrize(("shell", "marker"), [("bash", "complete -o nosort -F _stackfleet_completion stackfleet"),
                                               ("zsh", "#compdef stackfleet"),
                                               ("fish", "complete --no-files --command stackfleet")])
def test_completion_prints_the_script_of_each_shell(shell: str, marker: str):
    done = stackfleet("completion", shell)
    assert (done.returncode, marker in done.stdout, "_STACKFLEET_COMPLETE" in done.stdout) == (0, True, True)


def test_the_completion_script_completes_commands_through_the_cli():
    env = {**os.environ, "_STACKFLEET_COMPLETE": "bash_complete", "COMP_WORDS": "stackfleet pl", "COMP_CWORD": "1"}
    done = subprocess.run([sys.executable, "-m", "reconciler.cli"], capture_output=True, text=True, env=env, timeout=60)
    assert done.stdout.splitlines() == ["plain,plan"]


# ---------------------------------------------------------------------------------------------- -o json errors


@pytest.mark.parametrize("args", [
    ("apply", "--yes", "-o", "json", "--kubeconfig", "/nonexistent/kubeconfig"),
    ("plan", "-o", "json", "--cluster", "devv"),
    ("drift", "-o", "json", "--kubeconfig", "/nonexistent/kubeconfig"),
    ("validate", "-o", "json", "--path", "no/such/dir"),
])
def test_with_json_output_an_error_is_one_json_document_too(minimal: Path, tmp_path: Path, args: tuple[str, ...]):
    done = stackfleet(*args, "--fleet", str(minimal), *(["--state", str(tmp_path / "s.db")] if args[0] != "validate" else []))
    body = json.loads(done.stdout)
    assert (done.returncode, list(body), [f"error: {body['error']}"]) == (1, ["error"], done.stderr.splitlines())


def test_with_text_output_an_error_prints_nothing_on_stdout(minimal: Path, tmp_path: Path):
    done = stackfleet("apply", "--yes", "--fleet", str(minimal), "--kubeconfig", "/nonexistent/kubeconfig",
                      "--state", str(tmp_path / "s.db"))
    assert (done.returncode, done.stdout, len(done.stderr.splitlines())) == (1, "", 1)


def test_stackfleet_alone_prints_the_help_and_exits_0():
    done = stackfleet()
    assert (done.returncode, done.stdout.startswith("Usage: stackfleet"), done.stderr) == (0, True, "")
