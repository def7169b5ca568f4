"""Who is the teacher, and the class settings a teacher keeps in the store (the challenge, for now).

A teacher signs in with the key the host set (`MNIST_DASH_TEACHER_KEY`, an environment
variable or root-level secret), or is a signed-in user whose email is on the host's list
(`MNIST_DASH_TEACHERS`, comma-separated). Without either set, nobody is a teacher.
"""

from __future__ import annotations

import hmac
import os

from mnist_dash.challenge import Challenge, ChallengeError

KEY_ENV = "MNIST_DASH_TEACHER_KEY"
TEACHERS_ENV = "MNIST_DASH_TEACHERS"
CHALLENGE_SETTING = "challenge"


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


def read_challenge(store) -> Challenge | None:
    """The class's challenge, or None when none is set (or the stored one cannot be read: it is then ignored)."""
    text = store.setting(CHALLENGE_SETTING)
    if not text:
        return None
    try:
        return Challenge.from_json(text)
    except ChallengeError:
        return None


def set_challenge(store, challenge: Challenge | None) -> None:
    """Set the class's challenge (None clears it); every page reads it from the store."""
    store.set_setting(CHALLENGE_SETTING, "" if challenge is None else challenge.to_json())
