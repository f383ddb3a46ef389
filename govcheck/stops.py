"""How a scan or a crawl worker stops early: the exceptions the command line turns into exit 1.

Kept apart from govcheck.scan and govcheck.workers so that `govcheck worker`, which only
needs to catch them, does not import the analysis (0.3 s of every worker's start-up).
"""


class ScanInterrupted(RuntimeError):
    """SIGTERM/SIGINT, or a crawl that ended before it was complete."""


class WorkersFailed(RuntimeError):
    """The scan's workers all ended while it still had requests (crashed, killed, Redis gone)."""
