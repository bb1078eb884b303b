"""The ``stackfleet`` command line: a click group whose commands live one per module.

Conventions every command follows (see ``options.py``): the fleet repo is ``--fleet PATH|GIT_URL[@REF]``
(default: the current directory), cluster access is ``--kubeconfig`` / ``KUBECONFIG``, data comes out
with ``-o text|json`` (and more where it fits), and the exit code is 0 for success, 1 for an error and
2 for "there are changes" where that applies.
"""

from __future__ import annotations

import importlib
import sys

import click

from reconciler import __version__
from reconciler.cli.options import EXIT_ERROR, EXIT_OK
from reconciler.errors import StackfleetError

# Each entry is a module in reconciler.cli that defines a click command named ``command``.
COMMAND_MODULES: tuple[str, ...] = (
    "validate",
    "schema",
    "render",
    "sim",
    "plan",
    "apply",
    "serve",
    "demo",
    "drift",
)



@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="stackfleet")
def cli() -> None:
    """stackfleet: GitOps for fleets of Kubernetes clusters."""


for _name in COMMAND_MODULES:
    cli.add_command(importlib.import_module(f"reconciler.cli.{_name}").command)


def main() -> None:
    try:
        code = cli.main(standalone_mode=False)  # returns the code of a click Exit in this mode
        if isinstance(code, int):
            sys.exit(code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(EXIT_ERROR)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_ERROR)  # usage errors too: exit 2 means "there are changes"
    except StackfleetError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    sys.exit(EXIT_OK)
