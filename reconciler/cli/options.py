"""Options shared by every command, so each one spells them the same way."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:  # not at run time: `stackfleet --help` must not load the engine (cli.main)
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
    """``--fleet PATH|GIT_URL[@REF[:DIR]]`` and ``--path DIR``: where the fleet repo is (default: ``.``)."""
    func = path_option(func)
    return click.option(
        "--fleet",
        "fleet",
        default=".",
        show_default=True,
        metavar="PATH|GIT_URL[@REF[:DIR]]",
        help="Fleet repo: a directory, or a Git URL with an optional @ref (branch, tag or SHA) and :DIR.",
    )(func)


def path_option(func: F) -> F:
    """``--path DIR``: the fleet repo is this subdirectory of the directory or Git repo given."""
    return click.option(
        "--path",
        "path",
        default="",
        metavar="DIR",
        help="The fleet is in this subdirectory of the repo (same as GIT_URL@REF:DIR).",
    )(func)


def require_known(given: Iterable[str], known: Iterable[str], *, what: str, hint: str) -> None:
    """A usage error naming the first of ``given`` not in ``known``, with the closest names as a hint."""
    names = sorted(set(known))
    for name in given:
        if name in names:
            continue
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
        suggestion = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else \
            f"; known: {', '.join(names[:12])}{' ...' if len(names) > 12 else ''}"
        raise click.BadParameter(f"unknown {what} {name!r}{suggestion}", param_hint=hint)


def kubeconfig_option(func: F) -> F:
    """``--kubeconfig`` (or ``KUBECONFIG``): how to reach the clusters."""
    return click.option(
        "--kubeconfig",
        envvar="KUBECONFIG",
        type=click.Path(dir_okay=False),
        default=None,
        help="Kubeconfig with one context per cluster (default: $KUBECONFIG, then ~/.kube/config).",
    )(func)


OUTPUT: ContextVar[str] = ContextVar("stackfleet_output", default="text")
"""The ``-o`` format of the command running, for ``cli.main``: with ``json`` an error is a JSON document too."""


def output_option(*choices: str, default: str = "text") -> Callable[[F], F]:
    """``-o/--output``: the format data is printed in."""

    def remember(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
        OUTPUT.set(value)
        return value

    def decorate(func: F) -> F:
        return click.option(
            "-o",
            "--output",
            type=click.Choice(list(choices)),
            default=default,
            show_default=True,
            help="Output format.",
            callback=remember,
        )(func)

    return decorate
