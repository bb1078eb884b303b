"""stackfleet's benchmarks: ``python -m benchmarks run`` (the fleet-scale run of issue 20) and the
older single-figure scripts (``bench_*.py``, run as scripts)."""
