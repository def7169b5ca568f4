"""Who a job or a run belongs to: the owner, and the rules about owners' names and runs.

An owner is, in the order the app can know it: the signed-in user (when the app is
private on Community Cloud or uses `st.login`), a name the student gives (kept in the
page's link as `me=<name>`, so a reload or a new tab keeps it), the browser (a hash of
a cookie the server set, so a reload keeps it), or the browser session alone. Limits
are counted per owner, so a reload or a second tab is the same student. Names are
short printable text, shown as text everywhere.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass

NAME_MAX = 24
KINDS = ("user", "name", "browser", "session", "local")


class OwnerNameError(ValueError):
    """A name that cannot be an owner's; the message says what is wrong and how to fix it."""


@dataclass(frozen=True)
class Owner:
    key: str  # what limits and runs are counted by: "name:ada", "user:ada@example.org", "browser:1a2b3c4d5e6f"
    name: str  # what people see
    kind: str  # one of KINDS

    @property
    def anonymous(self) -> bool:
        return self.kind in ("browser", "session")


LOCAL = Owner("local", "you", "local")  # the CLI and scripts on the user's own machine


def clean_name(raw: str) -> str:
    """A name as the owner gave it, tidied: surrounding and repeated spaces removed.

    Raises OwnerNameError when it is empty, longer than NAME_MAX characters, or holds
    anything but printable characters (no control characters, no line breaks).
    """
    if not isinstance(raw, str):
        raise OwnerNameError("a name is text")
    name = " ".join(unicodedata.normalize("NFC", raw).split())
    if not name:
        raise OwnerNameError("the name is empty: type a first name or a nickname")
    if len(name) > NAME_MAX:
        raise OwnerNameError(f"the name has {len(name)} characters; use at most {NAME_MAX}")
    if not name.isprintable():
        raise OwnerNameError("the name holds characters that cannot be shown (control characters): retype it")
    return name


def named(raw: str) -> Owner:
    """The owner a given name stands for; names that differ only in case are one owner."""
    name = clean_name(raw)
    return Owner(f"name:{name.casefold()}", name, "name")


def signed_in(email: str) -> Owner:
    email = " ".join(str(email).split())[:254]
    return Owner(f"user:{email.casefold()}", email, "user")


def browser(secret: str) -> Owner:
    """The owner behind a browser's cookie: only a hash of it is kept, never the cookie itself."""
    digest = hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()[:12]
    return Owner(f"browser:{digest}", f"anonymous ({digest[:4]})", "browser")


def session(session_id: str) -> Owner:
    digest = hashlib.sha256(session_id.encode("utf-8", "replace")).hexdigest()[:12]
    return Owner(f"session:{digest}", f"anonymous ({digest[:4]})", "session")


def may_delete(owner: Owner, run_owner: str | None) -> bool:
    """Whether `owner` may delete a run owned by `run_owner` (an owner key): only their own."""
    return run_owner is not None and run_owner == owner.key
