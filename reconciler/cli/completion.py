"""``stackfleet completion bash|zsh|fish``: print the shell completion script (click's shell completion).

Load it in the running shell with ``eval "$(stackfleet completion bash)"`` (zsh the same with ``zsh``),
or ``stackfleet completion fish | source``; put that line in ``~/.bashrc``, ``~/.zshrc`` or
``~/.config/fish/config.fish`` to keep it. Commands, options and choices complete; the script calls
``stackfleet`` with ``_STACKFLEET_COMPLETE`` set, so it follows the installed version.
"""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class


@click.command("completion")
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def command(shell: str) -> None:
    """Print the completion script for SHELL, e.g. eval "$(stackfleet completion bash)"."""
    from reconciler.cli import main

    completion = get_completion_class(shell)
    assert completion is not None  # every choice is one of click's shells
    click.echo(completion(main.cli, {}, main.PROGRAM, main.COMPLETE_VAR).source())
