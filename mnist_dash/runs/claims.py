"""Names claimed by browsers: a name is held by the first browser that used it in this class, not by whoever types it.

One row of `names` per claimed name (its claim code and the browser that claimed it first) and one
row of `name_holders` per browser that holds it: the first, and any device where its holder typed the
claim code. A browser's names are its own; the one it chose last is the one its new tabs open with.
A browser may claim `NEW_NAMES_PER_HOUR` new names an hour, so invented names cannot multiply the
class's per-owner limits. The teacher can release a name: its runs stay, and the next browser to use
the name holds it. Kept in the run store, so claims survive a restart (SQLite and PostgreSQL alike).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from mnist_dash.owners import Owner, claim_code, same_code
from mnist_dash.runs.database import name_holders, names, writing

NEW_NAMES_PER_HOUR = 3


class NameRefused(ValueError):
    """A name this browser may not use now; the message says why and what to do instead.

    `taken`: another device holds the name (its claim code would let this browser in).
    """

    def __init__(self, message: str, taken: bool = False):
        super().__init__(message)
        self.taken = taken


@dataclass(frozen=True)
class Claim:
    owner: Owner  # the name's owner (owners.named)
    code: str
    browsers: int  # how many browsers hold it
    created: str


def _now() -> datetime:
    return datetime.now(UTC)


def _stamp(when: datetime) -> str:
    return when.isoformat(timespec="seconds")


class Claims:
    """The claimed names of one database (see the module docstring)."""

    def __init__(self, engine: Engine, clock=_now):
        self.engine = engine
        self._clock = clock

    def held_by(self, browser: str) -> list[Owner]:
        """The names `browser` holds, the one it chose last first."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(names.c.name_key, names.c.name)
                .join(name_holders, name_holders.c.name_key == names.c.name_key)
                .where(name_holders.c.browser == browser)
                .order_by(name_holders.c.used.desc(), names.c.name_key)
            ).all()
        return [Owner(row.name_key, row.name, "name") for row in rows]

    def holds(self, browser: str, owner: Owner) -> bool:
        with self.engine.connect() as connection:
            return (
                connection.execute(
                    select(func.count())
                    .select_from(name_holders)
                    .where(name_holders.c.name_key == owner.key, name_holders.c.browser == browser)
                ).scalar_one()
                > 0
            )

    def claim(self, owner: Owner, browser: str) -> Owner:
        """Use the name `owner` on `browser`: claimed now if nobody holds it, chosen again if this browser holds
        it. Returns the owner as first claimed (its first spelling). NameRefused when another device holds it
        (`taken`) or this browser has claimed NEW_NAMES_PER_HOUR names in the last hour."""
        now = self._clock()
        with writing(self.engine) as connection:
            found = connection.execute(select(names.c.name).where(names.c.name_key == owner.key)).first()
            if found is not None:
                mine = connection.execute(
                    name_holders.update()
                    .where(name_holders.c.name_key == owner.key, name_holders.c.browser == browser)
                    .values(used=_stamp(now))
                ).rowcount
                if not mine:
                    raise NameRefused(
                        f"the name {found.name} is in use on another device. Choose another name, or, if it is "
                        "yours, type the claim code shown under your name on that device",
                        taken=True,
                    )
                return Owner(owner.key, found.name, "name")
            since = _stamp(now - timedelta(hours=1))
            recent = connection.execute(
                select(func.count()).select_from(names).where(names.c.browser == browser, names.c.created > since)
            ).scalar_one()
            if recent >= NEW_NAMES_PER_HOUR:
                raise NameRefused(
                    f"this device has started {NEW_NAMES_PER_HOUR} new names in the last hour, the most it may: "
                    "keep to one of them (your teacher can release one)"
                )
            try:
                connection.execute(
                    names.insert().values(
                        name_key=owner.key, name=owner.name, code=claim_code(), browser=browser, created=_stamp(now)
                    )
                )
            except IntegrityError:  # another server claimed it a moment ago; rolled back with this transaction
                raise NameRefused(
                    f"the name {owner.name} was just taken on another device: choose another name", taken=True
                ) from None
            connection.execute(name_holders.insert().values(name_key=owner.key, browser=browser, used=_stamp(now)))
        return owner

    def join(self, owner: Owner, browser: str, typed_code: str) -> bool:
        """Let `browser` hold `owner`'s name too, when `typed_code` is its claim code; whether it was."""
        now = _stamp(self._clock())
        with writing(self.engine) as connection:
            code = connection.execute(select(names.c.code).where(names.c.name_key == owner.key)).scalar()
            if code is None or not same_code(typed_code, code):
                return False
            held = connection.execute(
                name_holders.update()
                .where(name_holders.c.name_key == owner.key, name_holders.c.browser == browser)
                .values(used=now)
            ).rowcount
            if not held:
                connection.execute(name_holders.insert().values(name_key=owner.key, browser=browser, used=now))
        return True

    def code(self, owner: Owner, browser: str) -> str | None:
        """The name's claim code, for a browser that holds it (None for any other)."""
        with self.engine.connect() as connection:
            return connection.execute(
                select(names.c.code)
                .join(name_holders, name_holders.c.name_key == names.c.name_key)
                .where(names.c.name_key == owner.key, name_holders.c.browser == browser)
            ).scalar()

    def everyone(self) -> list[Claim]:
        """Every claimed name, for the teacher: oldest first."""
        with self.engine.connect() as connection:
            holders = dict(
                connection.execute(
                    select(name_holders.c.name_key, func.count()).group_by(name_holders.c.name_key)
                ).all()
            )
            rows = connection.execute(
                select(names.c.name_key, names.c.name, names.c.code, names.c.created).order_by(
                    names.c.created, names.c.name_key
                )
            ).all()
        return [
            Claim(Owner(row.name_key, row.name, "name"), row.code, holders.get(row.name_key, 0), row.created)
            for row in rows
        ]

    def release(self, owner_key: str) -> bool:
        """Free a name (the teacher's): no browser holds it; its runs stay. Whether it was claimed."""
        with writing(self.engine) as connection:
            connection.execute(delete(name_holders).where(name_holders.c.name_key == owner_key))
            return bool(connection.execute(delete(names).where(names.c.name_key == owner_key)).rowcount)
