"""``stackfleet demo [--once] [--port P]``: the reference fleet on simulated clusters, reconciled live.

Starts sim clusters for the ``fleet/`` directory (of the current directory, else the one shipped next
to the package), turns it into a Git repo served on loopback, runs the daemon with its dashboard on
127.0.0.1 and prints what to open and try. Then it shows the loop: a version bump for one ring rolls
out, and an edit made behind the daemon's back shows up as drift. ``--once`` runs that story without
waiting for you and exits 0 when every step worked, 1 otherwise, and removes its scratch directory;
without it the demo keeps serving until Ctrl-C, and then keeps its directory (the fleet repo's work
tree may hold your edits) and says where it is.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import click

from reconciler import logs
from reconciler.cli.options import EXIT_ERROR
from reconciler.daemon import signals
from reconciler.demo import repos, stories, worlds


@click.command("demo")
@click.option("--once", is_flag=True, help="Run the story non-interactively, print a summary and exit.")
@click.option("--port", type=click.IntRange(min=0, max=65535), default=0, show_default=True,
              help="Dashboard port on 127.0.0.1 (0 picks a free one).")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]), default="warning",
              show_default=True, help="Daemon log lines shown on stderr.")
def command(once: bool, port: int, log_level: str) -> None:
    """Run stackfleet on a simulated fleet and show the GitOps loop."""
    logs.configure(level=log_level, output="console")
    repos.require_git()
    fleet_dir = worlds.find_fleet(Path.cwd())
    stop = signals.stop_event()
    scratch = Path(tempfile.mkdtemp(prefix="stackfleet-demo-"))
    click.echo(f"starting simulated clusters for {fleet_dir} ...")
    demo = stories.start(fleet_dir, scratch, port=port)
    try:
        click.echo(stories.tell(demo) + "\n")
        stories.story(demo, echo=click.echo)
        click.echo(stories.summary(demo))
        if not once:
            click.echo("\nstill serving; press Ctrl-C to stop.")
            stop.wait()
    finally:
        demo.stop()
    if once:
        shutil.rmtree(scratch, ignore_errors=True)
    else:
        click.echo(f"stopped. The demo's directory is kept: {scratch} (fleet repo work tree: "
                   f"{demo.world.upstream.work}); remove it with: rm -rf {scratch}")
    if not all(step.ok for step in demo.steps) or len(demo.steps) < 3:
        raise click.exceptions.Exit(EXIT_ERROR)
