"""Options shared by every command, so each one spells them the same way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from reconciler.engine import reconcile

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2
"""Exit codes of every command: 2 means "there are changes" (plan, drift, apply with held steps)."""


def planning_errors(planned: reconcile.Planned) -> list[str]:
    """What made a plan incomplete: bundles that failed to render, destinations that could not be read."""
    clusters = [f"cluster {c.name} is {c.status.value}: {c.reason}" for c in planned.plan.unreadable]
    return [f.error for f in planned.render.failures] + clusters


def fleet_option(func: F) -> F:
    """``--fleet PATH|GIT_URL[@REF]``: where the fleet repo is (default: the current directory)."""
    return click.option(
        "--fleet",
        "fleet",
        default=".",
        show_default=True,
        metavar="PATH|GIT_URL[@REF]",
        help="Fleet repo: a directory, or a Git URL with an optional @ref (branch, tag or SHA).",
    )(func)


def kubeconfig_option(func: F) -> F:
    """``--kubeconfig`` (or ``KUBECONFIG``): how to reach the clusters."""
    return click.option(
        "--kubeconfig",
        envvar="KUBECONFIG",
        type=click.Path(dir_okay=False),
        default=None,
        help="Kubeconfig with one context per cluster (default: $KUBECONFIG, then ~/.kube/config).",
    )(func)


def output_option(*choices: str, default: str = "text") -> Callable[[F], F]:
    """``-o/--output``: the format data is printed in."""

    def decorate(func: F) -> F:
        return click.option(
            "-o",
            "--output",
            type=click.Choice(list(choices)),
            default=default,
            show_default=True,
            help="Output format.",
        )(func)

    return decorate
