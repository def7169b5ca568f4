"""How long a test may wait here: a deadline set for a quiet machine, stretched on a busy one.

A classroom server and a CI machine are busy machines, so no test waits a fixed time for a page, a job or a
process: it waits for a condition until a deadline scaled by `slowness()`, read when the wait begins (and at
every look in `tests.support.wait_until`), so a loaded machine is given longer and a quiet run stays quick.
"""

from __future__ import annotations

import os

MOST = 4.0  # a test that needs more than 4 times its quiet deadline has a problem of its own


def slowness() -> float:
    """How much longer than on a quiet machine things take here now: MNIST_DASH_TEST_SLOWNESS when set, else the
    load on each core over the last minute, 1 to `MOST`."""
    given = os.environ.get("MNIST_DASH_TEST_SLOWNESS")
    if given:
        return max(1.0, float(given))
    return min(MOST, max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1)))


def patience(quiet: float) -> float:
    """A deadline of `quiet` (seconds, or ms for Playwright) on a quiet machine, scaled to this one's load now."""
    return quiet * slowness()
