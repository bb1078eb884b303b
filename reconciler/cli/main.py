"""The ``stackfleet`` command line: a click group whose commands live one per module, loaded when used.

Conventions every command follows (see ``options.py``): the fleet repo is ``--fleet PATH|GIT_URL[@REF]``
(default: the current directory), cluster access is ``--kubeconfig`` / ``KUBECONFIG``, data comes out
with ``-o text|json`` (and more where it fits), and the exit code is 0 for success, 1 for an error and
2 for "there are changes" where that applies.

Start-up is kept short (``stackfleet --help`` and ``--version`` import no command module, the Helm
engine or the Kubernetes client): ``COMMANDS`` names each command's module and one-line help, and a
module is imported only when its command runs or its own ``--help`` is asked for
(``benchmarks/bench_startup.py`` prints the times). Errors are one line on stderr.
"""

from __future__ import annotations

import importlib
import json
import sys
from typing import NoReturn

import click

from reconciler import __version__
from reconciler.cli.options import EXIT_ERROR, EXIT_OK, OUTPUT
from reconciler.errors import StackfleetError

PROGRAM = "stackfleet"
COMPLETE_VAR = "_STACKFLEET_COMPLETE"
"""The environment variable click's shell completion scripts set when they call the program."""

COMMANDS: dict[str, str] = {
    "validate": "Validate a fleet repo (and render it dry): every problem with file:line, or a summary.",
    "schema": "Print, write or check the JSON Schema files of the fleet repo format.",
    "render": "Render the desired objects of the fleet (all clusters, or --cluster) as YAML or JSON.",
    "sim": "Serve simulated Kubernetes clusters until interrupted.",
    "plan": "Plan the fleet: render, observe the clusters, diff. Exit 0 nothing to do, 2 changes, 1 error.",
    "apply": "Apply the fleet (or a saved plan) with server-side apply, rolling out stage by stage.",
    "serve": "Run the reconciler daemon with its dashboard.",
    "demo": "Run stackfleet on a simulated fleet and show the GitOps loop.",
    "drift": "Report drift from the last applied state. Exit 0 none, 2 drift, 1 error.",
    "approve": "Approve a rollout stage (ASSIGNMENT/STAGE) on the running daemon (--server).",
    "pause": "Pause a cluster or an assignment on the running daemon (--server).",
    "resume": "Resume a cluster or an assignment on the running daemon (--server).",
    "heal": "Re-apply a cluster's drifted objects on the running daemon (--server).",
    "completion": "Print the shell completion script for bash, zsh or fish.",
}
"""Command name -> one-line help; the command is ``reconciler.cli.<name>.command``."""


class LazyGroup(click.Group):
    """A group that imports a command's module only when that command is looked up to run."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        command: click.Command = importlib.import_module(f"reconciler.cli.{cmd_name}").command
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl(list(COMMANDS.items()))

    def resolve_command(self, ctx: click.Context,
                        args: list[str]) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] not in COMMANDS and not args[0].startswith("-"):
            from reconciler.cli.options import require_known

            require_known(args[:1], COMMANDS, what="command", hint="COMMAND")
        return super().resolve_command(ctx, args)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="stackfleet")
def cli() -> None:
    """stackfleet: GitOps for fleets of Kubernetes clusters."""


def main() -> None:
    try:
        # named stackfleet however it was started (python -m reconciler.cli too), so are its completions
        code = cli.main(prog_name=PROGRAM, complete_var=COMPLETE_VAR, standalone_mode=False)
        if isinstance(code, int):
            sys.exit(code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        fail("aborted")
    except click.exceptions.NoArgsIsHelpError as exc:  # `stackfleet` alone: the help, as kubectl prints it
        click.echo(exc.format_message())
    except click.UsageError as exc:
        name = exc.ctx.command_path if exc.ctx is not None else PROGRAM
        fail(f"{exc.format_message()} (see '{name} --help')")  # exit 1: 2 means "there are changes"
    except click.ClickException as exc:
        fail(exc.format_message())
    except StackfleetError as exc:
        fail(str(exc))
    sys.exit(EXIT_OK)


def fail(message: str) -> NoReturn:
    """One ``error:`` line on stderr, exit 1; with ``-o json`` also the error as the JSON document on stdout."""
    click.echo(f"error: {message}", err=True)
    if OUTPUT.get() == "json":
        click.echo(json.dumps({"error": message}, indent=2))
    sys.exit(EXIT_ERROR)
