"""Who is the teacher.

A teacher signs in with the key the host set (`MNIST_DASH_TEACHER_KEY`, an environment
variable or root-level secret), or is a signed-in user whose email is on the host's list
(`MNIST_DASH_TEACHERS`, comma-separated). Without either set, nobody is a teacher.

A key is at least `MIN_KEY_LENGTH` characters (`key_problem` says what is wrong with a shorter
one; the app will not start with it). Guessing is slowed and stopped by `KeyGuard`: every wrong
key waits `WRONG_KEY_DELAY_S` before its answer, is logged, and after `MAX_WRONG_KEYS` wrong keys
in `LOCKOUT_S` the browser and its IP address are locked out of signing in for `LOCKOUT_S`.
"""

from __future__ import annotations

import hmac
import logging
import os
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable

KEY_ENV = "MNIST_DASH_TEACHER_KEY"
TEACHERS_ENV = "MNIST_DASH_TEACHERS"
MIN_KEY_LENGTH = 16
MAX_WRONG_KEYS = 5
LOCKOUT_S = 600.0
WRONG_KEY_DELAY_S = 1.0
GENERATE_KEY = 'python -c "import secrets; print(secrets.token_urlsafe(18))"'
log = logging.getLogger(__name__)


def key_problem() -> str | None:
    """What is wrong with the host's teacher key, with how to fix it; None when it is fine (or unset)."""
    key = os.environ.get(KEY_ENV, "").strip()
    if key and len(key) < MIN_KEY_LENGTH:
        return (
            f"{KEY_ENV} is {len(key)} characters long: a teacher key needs at least {MIN_KEY_LENGTH}, or a class "
            f"could guess it. Make one with `{GENERATE_KEY}`, set it, and start the app again."
        )
    return None


def teachers_configured() -> bool:
    """Whether the host set a teacher key or a list of teachers' emails."""
    return bool(os.environ.get(KEY_ENV, "").strip() or _emails())


def _emails() -> set[str]:
    return {email.strip().casefold() for email in os.environ.get(TEACHERS_ENV, "").split(",") if email.strip()}


def is_teacher(key: str | None = None, email: str | None = None) -> bool:
    """Whether `key` is the host's teacher key (compared in constant time) or `email` is on the teachers' list."""
    expected = os.environ.get(KEY_ENV, "").strip()
    if expected and key and hmac.compare_digest(key.strip().encode(), expected.encode()):
        return True
    return bool(email) and email.strip().casefold() in _emails()


class KeyGuard:
    """Wrong keys (the teacher's, a name's claim code), per browser and per IP address: a pause after each, a
    lock-out after a few."""

    def __init__(self, clock=time.monotonic, sleep=time.sleep):
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()
        self._wrong: dict[str, deque] = defaultdict(deque)  # "browser:..." or "ip:...": times of wrong keys

    def _recent(self, who: str, now: float) -> deque:
        times = self._wrong[who]
        while times and now - times[0] > LOCKOUT_S:
            times.popleft()
        return times

    def locked_for(self, browser: str, ip: str | None) -> float:
        """Seconds until `browser` (and its `ip`) may try a key again; 0 when it may now."""
        now = self._clock()
        with self._lock:
            waits = [
                LOCKOUT_S - (now - times[-MAX_WRONG_KEYS])
                for who in filter(None, (f"browser:{browser}", ip and f"ip:{ip}"))
                if len(times := self._recent(who, now)) >= MAX_WRONG_KEYS
            ]
        return max([0.0, *waits])

    def check(self, key: str, browser: str, ip: str | None, right: Callable[[str], bool] | None = None) -> bool:
        """Whether `key` is right (`right(key)`; by default: is it the teacher key); a wrong one is logged, paid
        for with a pause, and counted. Guards a name's claim code (`ui.owner`) the same way."""
        if self.locked_for(browser, ip):
            return False
        if (right or (lambda typed: is_teacher(key=typed)))(key):
            return True
        now = self._clock()
        with self._lock:
            for who in filter(None, (f"browser:{browser}", ip and f"ip:{ip}")):
                self._recent(who, now).append(now)
        what = "teacher key" if right is None else "claim code"
        log.warning("a wrong %s from browser %s, address %s", what, browser[:20], ip or "unknown")
        self._sleep(WRONG_KEY_DELAY_S)
        return False


GUARD = KeyGuard()  # process-wide: every session of this server
