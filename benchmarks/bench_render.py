"""Render time of the reference fleet (and a scaled copy of it), cold and warm (cached).

Run: ``python benchmarks/bench_render.py [--clusters N] [--repeat R] [--workers W]``

- cold: a fresh cache, every Helm chart, Kustomize build and manifest directory rendered;
- warm: the same repo again with the cache of the cold run (what the daemon does on every poll
  that found no change); only substitution, patches and marks run again;
- scaled: ``fleet/`` copied to a temporary directory with N extra child clusters (copies of
  ``prod-eu-1`` under new names), so most renders differ per cluster (its name is in the values).

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from reconciler.render import cache, fleet, helm
from reconciler.source.dirtree import DirTree
from reconciler.spec import loader

ROOT = Path(__file__).resolve().parents[1]


def _options(workers: int, store: cache.Cache | None = None) -> fleet.Options:
    return fleet.Options(cache=store or cache.Cache(), fetcher=helm.Fetcher(), workers=workers)


def _timed(repo: loader.FleetRepo, options: fleet.Options) -> tuple[float, fleet.FleetRender]:
    start = time.perf_counter()
    result = fleet.render(repo, options=options)
    return time.perf_counter() - start, result


def measure(label: str, repo: loader.FleetRepo, *, repeat: int, workers: int) -> None:
    colds: list[float] = []
    warms: list[float] = []
    result = None
    for _ in range(repeat):
        options = _options(workers)
        cold, result = _timed(repo, options)
        warm, _ = _timed(repo, options)
        colds.append(cold)
        warms.append(warm)
    assert result is not None
    objects = result.object_count
    cold, warm = statistics.median(colds), statistics.median(warms)
    print(
        f"{label}: {len(repo.clusters)} clusters, {len(result.bundles)} bundles, {objects} objects, "
        f"{len(result.failures)} failures"
    )
    print(f"  cold  {cold * 1000:8.1f} ms  {objects / cold:10.0f} objects/s")
    print(f"  warm  {warm * 1000:8.1f} ms  {objects / warm:10.0f} objects/s  ({cold / warm:.1f}x faster)")


def scaled_copy(target: Path, extra: int) -> Path:
    shutil.copytree(ROOT / "fleet", target)
    template = (target / "clusters" / "prod-eu-1.yaml").read_text()
    for i in range(extra):
        name = f"scale-{i:04d}"
        text = template.replace("prod-eu-1", name)
        (target / "clusters" / f"{name}.yaml").write_text(text)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clusters", type=int, default=100, help="extra child clusters in the scaled fleet")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (the median is printed)")
    parser.add_argument("--workers", type=int, default=2, help="render threads")
    args = parser.parse_args()
    measure("reference fleet", loader.load(DirTree(ROOT / "fleet")), repeat=args.repeat, workers=args.workers)
    with tempfile.TemporaryDirectory(prefix="stackfleet-bench-") as tmp:
        repo = loader.load(DirTree(scaled_copy(Path(tmp) / "fleet", args.clusters)))
        measure(f"scaled fleet (+{args.clusters})", repo, repeat=args.repeat, workers=args.workers)


if __name__ == "__main__":
    main()
