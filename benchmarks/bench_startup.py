"""Start-up time of the ``stackfleet`` command line: ``--help``, ``--version`` and a command's ``--help``.

Run: ``python benchmarks/bench_startup.py [--repeat R]``

Each figure is the wall time of a fresh ``python -m reconciler.cli ...`` process (median and best of
R runs), next to the same interpreter doing nothing (``python -c pass``), so a loaded machine shows
as a slow baseline rather than a slow command. The import time of ``reconciler.cli.main`` alone is
also printed, with the modules ``--help`` imported that it should not (the Helm engine, the
Kubernetes client, SQLAlchemy, a command module). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

HEAVY = ("kubernetes", "helm_python", "sqlalchemy", "pygit2", "starlette", "reconciler.cli.plan",
         "reconciler.render", "reconciler.engine")
RUNS: tuple[tuple[str, ...], ...] = (
    ("-c", "pass"),
    ("-m", "reconciler.cli", "--version"),
    ("-m", "reconciler.cli", "--help"),
    ("-m", "reconciler.cli", "validate", "--help"),
    ("-m", "reconciler.cli", "plan", "--help"),
)


def wall(args: tuple[str, ...], *, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, *args], check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return times


def imported_by_help() -> tuple[float, list[str]]:
    probe = ("import sys, time; t = time.perf_counter(); import reconciler.cli.main as m; "
             "d = time.perf_counter() - t; print(d); print(' '.join(sorted(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True).stdout
    seconds, modules = out.splitlines()
    loaded = modules.split()
    return float(seconds), sorted({h for h in HEAVY if any(m == h or m.startswith(h + ".") for m in loaded)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    for run in RUNS:
        times = wall(run, repeat=args.repeat)
        label = "python " + " ".join(run)
        print(f"{label:<50} median {statistics.median(times):.3f} s  best {min(times):.3f} s")
    seconds, heavy = imported_by_help()
    print(f"{'import reconciler.cli.main':<50} {seconds:.3f} s; heavy modules loaded: {', '.join(heavy) or 'none'}")


if __name__ == "__main__":
    main()
