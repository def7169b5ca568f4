"""Who is the teacher.

A teacher signs in with the key the host set (`MNIST_DASH_TEACHER_KEY`, an environment
variable or root-level secret), or is a signed-in user whose email is on the host's list
(`MNIST_DASH_TEACHERS`, comma-separated). Without either set, nobody is a teacher.
"""

from __future__ import annotations

import hmac
import os

KEY_ENV = "MNIST_DASH_TEACHER_KEY"
TEACHERS_ENV = "MNIST_DASH_TEACHERS"


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
