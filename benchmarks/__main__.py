"""``python -m benchmarks run [--clusters N --objects M] [--json]`` (see ``benchmarks.run``)."""

from __future__ import annotations

import sys

from benchmarks import run


def main(argv: list[str]) -> int:
    if not argv or argv[0] != "run":
        print("usage: python -m benchmarks run [--clusters N] [--objects M] [--json]", file=sys.stderr)
        return 2
    return run.main(argv[1:])


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
