"""The daemon behind ``stackfleet serve``: scheduled polls, reconciles and drift scans.

- ``ports``: what the daemon drives (a pipeline that reconciles a revision, a drift scan, a journal).
- ``tracks``: one Git source under the daemon's control and the revisions it has judged.
- ``sourcing``: Git sources from the settings (mirror, credentials, signature verification).
- ``jobs``: the ``Daemon`` that runs the poll, reconcile and drift-scan jobs on an APScheduler 3.x
  ``BackgroundScheduler`` (single-flight, coalesced, jittered) and stops gracefully.
- ``pipelines``: the ports over the engine and the store; ``journals``: the journal in the store.
- ``runtimes``: everything ``serve`` runs (daemon, dashboard, webhook receiver), started and stopped
  in order; ``readiness``: its ``/readyz``; ``signals``: SIGTERM/SIGINT as a stop event.

The demo that drives the daemon on simulated clusters is ``reconciler.demo``; nothing here imports the sim.
"""
