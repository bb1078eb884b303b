"""``stackfleet resume``: see ``holds``."""

from reconciler.cli.holds import resume as command

__all__ = ["command"]
