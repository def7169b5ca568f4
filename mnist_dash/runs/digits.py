"""The class's own handwriting: digits students drew and labelled, kept with the runs as a test set of their hands.

Bounded: at most MAX_DIGITS in all, MAX_PER_OWNER from one owner and as many from one browser
(whatever names it uses), at most MAX_PER_MINUTE a minute from either; each 28 x 28 uint8 as
MNIST's, with its label, owner and browser. When the teacher asks for it (the `APPROVAL` setting),
a new digit waits for the teacher's approval before it counts. Read once per change (a revision
row of its own).
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import func, or_, select
from sqlalchemy.engine import Engine

from mnist_dash.owners import Owner
from mnist_dash.runs.database import DIGITS_REVISION, class_digits, revision, settings, writing

MAX_DIGITS = 3000
MAX_PER_OWNER = 100  # and per browser
MAX_PER_MINUTE = 10  # per owner and per browser
APPROVAL = "digits_need_approval"  # the setting: "1" when new digits wait for the teacher


class DigitRefused(ValueError):
    """A digit that cannot be added; the message says why and what to do."""


@dataclass(frozen=True)
class DigitSet:
    ids: np.ndarray  # int64, one per digit, oldest first
    x: np.ndarray  # (n, 28, 28) uint8
    y: np.ndarray  # (n,) uint8 labels
    owners: tuple[str, ...]  # owner keys
    owner_names: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.ids)


class ClassDigits:
    """The class_digits table of one database."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._lock = threading.Lock()
        self._kept: tuple[int, DigitSet] | None = None

    def _revision(self, connection) -> int:
        return connection.execute(select(revision.c.value).where(revision.c.id == DIGITS_REVISION)).scalar_one()

    def _bump(self, connection) -> None:
        connection.execute(revision.update().where(revision.c.id == DIGITS_REVISION).values(value=revision.c.value + 1))

    def add(self, image: np.ndarray, label: int, owner: Owner, browser: str | None = None) -> int:
        """Store one digit (a 28 x 28 uint8 image and its label 0-9) as `owner`'s, drawn on `browser`; its id.

        DigitRefused when the set is full, the owner or browser has added its most, or adds too fast.
        """
        image = np.asarray(image)
        if image.shape != (28, 28) or image.dtype != np.uint8:
            raise DigitRefused(f"a class digit is a 28 x 28 image of bytes, not {image.dtype} {image.shape}")
        if type(label) is not int or not 0 <= label <= 9:
            raise DigitRefused(f"a digit's label is 0 to 9, not {label!r:.20}")
        now = datetime.now(UTC)
        with writing(self.engine) as connection:
            total = connection.execute(select(func.count()).select_from(class_digits)).scalar_one()
            if total >= MAX_DIGITS:
                raise DigitRefused(f"the class set is full ({MAX_DIGITS:,} digits): your teacher can delete some")
            by = [class_digits.c.owner == owner.key] + ([class_digits.c.browser == browser] if browser else [])
            for who in by:
                mine = connection.execute(select(func.count()).select_from(class_digits).where(who)).scalar_one()
                if mine >= MAX_PER_OWNER:
                    raise DigitRefused(
                        f"{MAX_PER_OWNER} digits have come from you (this name or this device), the most one "
                        "student may: thank you!"
                    )
            minute_ago = (now - timedelta(minutes=1)).isoformat(timespec="seconds")
            lately = connection.execute(
                select(func.count()).select_from(class_digits).where(or_(*by), class_digits.c.created > minute_ago)
            ).scalar_one()
            if lately >= MAX_PER_MINUTE:
                raise DigitRefused(
                    f"you have added {MAX_PER_MINUTE} digits in the last minute: wait a minute, then add more"
                )
            waits = connection.execute(select(settings.c.value).where(settings.c.key == APPROVAL)).scalar() == "1"
            digit_id = connection.execute(
                class_digits.insert().values(
                    label=label,
                    pixels=image.tobytes(),
                    owner=owner.key,
                    owner_name=owner.name,
                    created=now.isoformat(timespec="seconds"),
                    browser=browser,
                    approved=0 if waits else 1,
                )
            ).inserted_primary_key[0]
            self._bump(connection)
        return int(digit_id)

    def add_many(self, x: np.ndarray, y: np.ndarray, owners: list[str], names: list[str]) -> int:
        """A lesson's digits, as the teacher imports them: each one this set does not hold yet (the same pixels,
        label and owner), approved, up to MAX_DIGITS in all; how many were added (no per-student limit)."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with writing(self.engine) as connection:
            held = {
                (row.pixels, row.label, row.owner)
                for row in connection.execute(select(class_digits.c.pixels, class_digits.c.label, class_digits.c.owner))
            }
            room = MAX_DIGITS - len(held)
            new = []
            for image, label, owner, name in zip(x, y, owners, names, strict=True):
                key = (np.asarray(image, np.uint8).tobytes(), int(label), owner)
                if key not in held and len(new) < room:
                    held.add(key)
                    new.append({"label": key[1], "pixels": key[0], "owner": owner, "owner_name": name, "created": now})
            if new:
                connection.execute(class_digits.insert(), new)
                self._bump(connection)
        return len(new)

    def delete(self, digit_id: int) -> bool:
        """Remove one digit; False if there was none with that id."""
        return self._delete_where(class_digits.c.id == digit_id) > 0

    def delete_owner(self, owner_key: str) -> int:
        """Remove every digit of one student (the teacher's); how many went."""
        return self._delete_where(class_digits.c.owner == owner_key)

    def _delete_where(self, condition) -> int:
        with writing(self.engine) as connection:
            gone = connection.execute(class_digits.delete().where(condition)).rowcount
            if gone:
                self._bump(connection)
        return gone

    def approve(self, digit_ids: list[int]) -> int:
        """Let waiting digits count (the teacher's); how many were approved."""
        with writing(self.engine) as connection:
            done = connection.execute(
                class_digits.update().where(class_digits.c.id.in_(digit_ids)).values(approved=1)
            ).rowcount
            if done:
                self._bump(connection)
        return done

    def pending(self) -> DigitSet:
        """The digits waiting for the teacher's approval, oldest first."""
        return self._read(approved=0)

    def all(self) -> DigitSet:
        """Every digit that counts (approved), oldest first (read again only after a change)."""
        with self.engine.connect() as connection:
            now = self._revision(connection)
        with self._lock:
            if self._kept is not None and self._kept[0] == now:
                return self._kept[1]
        found = self._read(approved=1)
        with self._lock:
            self._kept = (now, found)
        return found

    def _read(self, approved: int) -> DigitSet:
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(
                    class_digits.c.id,
                    class_digits.c.label,
                    class_digits.c.pixels,
                    class_digits.c.owner,
                    class_digits.c.owner_name,
                )
                .where(class_digits.c.approved == approved)
                .order_by(class_digits.c.id)
            ).all()
        good = [row for row in rows if len(row.pixels) == 784 and 0 <= row.label <= 9]  # a damaged row is left out
        found = DigitSet(
            ids=np.array([row.id for row in good], dtype=np.int64),
            x=np.frombuffer(b"".join(row.pixels for row in good), dtype=np.uint8).reshape(-1, 28, 28),
            y=np.array([row.label for row in good], dtype=np.uint8),
            owners=tuple(row.owner for row in good),
            owner_names=tuple(row.owner_name for row in good),
        )
        return found

    def npz(self) -> bytes:
        """The set as an .npz in Keras's MNIST layout: the digits as x_test/y_test, x_train/y_train empty."""
        digits = self.all()
        buffer = io.BytesIO()
        empty = np.zeros((0, 28, 28), dtype=np.uint8)
        np.savez_compressed(
            buffer, x_train=empty, y_train=np.zeros(0, dtype=np.uint8), x_test=digits.x, y_test=digits.y
        )
        return buffer.getvalue()
