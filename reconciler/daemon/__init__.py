"""The daemon behind ``stackfleet serve``: scheduled polls, reconciles and drift scans.

- ``ports``: what the daemon drives (a pipeline that reconciles a revision, a drift scan, a journal).
- ``tracks``: one Git source under the daemon's control and the revisions it has judged.
- ``daemons``: the ``Daemon`` that runs polls, reconciles and drift scans on an APScheduler 3.x
  ``BackgroundScheduler`` (single-flight, coalesced, jittered) and stops gracefully.
- ``signals``: SIGTERM/SIGINT as a stop event.
"""
