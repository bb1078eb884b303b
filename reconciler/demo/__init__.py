"""``stackfleet demo``: the reference fleet on simulated clusters, reconciled by the real daemon.

- ``worlds``: the sim clusters of a fleet repo and that repo as a Git remote on loopback;
- ``repos``: a bare Git repo with a work tree, served by ``git daemon`` (the demo's and the tests' remote);
- ``stories``: starts the daemon on a world and plays the story, each step judged from what happened;
- ``waits``: polling for a condition with a deadline.

The demo is the only part of the package above the daemon that talks to the sim; the daemon itself
never imports it.
"""
