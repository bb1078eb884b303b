"""``stackfleet serve --config stackfleet.yaml``: run the daemon until SIGTERM or SIGINT.

Polls the configured Git sources, reconciles each new revision (and again on the reconcile interval),
scans for drift, and serves the dashboard, API, probes, metrics and webhook routes. On SIGTERM or
SIGINT the step in flight finishes and is recorded, then the process exits 0.
"""

from __future__ import annotations

from pathlib import Path

import click

from reconciler import logs, settings
from reconciler.daemon import runtimes, signals


@click.command("serve")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              default="stackfleet.yaml", show_default=True, help="Daemon configuration (YAML; STACKFLEET_* overrides).")
@click.option("--log-format", type=click.Choice(["auto", "json", "console"]), default="auto", show_default=True,
              help="JSON lines, or readable lines (auto: readable on a terminal).")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]), default="info",
              show_default=True)
def command(config_path: Path, log_format: logs.Format, log_level: str) -> None:
    """Run the reconciler daemon with its dashboard."""
    logs.configure(level=log_level, output=log_format)
    config = settings.load(config_path)
    stop = signals.stop_event()
    runtime = runtimes.start(config, base=config_path.resolve().parent)
    logs.get("stackfleet.serve").info("serving", url=runtime.url, sources=[s.name for s in config.sources])
    stop.wait()
    runtime.stop()
