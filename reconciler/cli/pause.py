"""``stackfleet pause``: see ``holds``."""

from reconciler.cli.holds import pause as command

__all__ = ["command"]
