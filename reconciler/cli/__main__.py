"""``python -m reconciler.cli``: the same as the ``stackfleet`` command."""

from reconciler.cli.main import main

main()
