"""Where the runs live: a SQLAlchemy engine, the tables, and the schema upgraded in place.

The database is `MNIST_DASH_DB_URL` (an environment variable, or a root-level secret of
the same name) when set, any URL SQLAlchemy understands (PostgreSQL for a hosted app:
`postgresql://user:password@host/db`), else a SQLite file `runs.db` under `MNIST_DASH_HOME`.

The schema is versioned by a small migration table rather than Alembic: the app upgrades
its own database when it starts, with a handful of tables, so an ordered list of steps in
this file, each run once in a transaction and recorded in `schema_version`, is all it takes
(no alembic.ini, env.py or versions folder to ship). A step is written against the tables
as they were when it was added; a later step that changes a table checks before it alters.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from sqlalchemy import (
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    inspect,
    text,
)
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

URL_ENV = "MNIST_DASH_DB_URL"
HOME_ENV = "MNIST_DASH_HOME"
SQLITE_FILE = "runs.db"
CONNECT_TIMEOUT_S = 5
SQLITE_BUSY_S = 30  # how long a SQLite write waits for another's lock (two servers on one file) before it fails
OWNER_LENGTH = 320  # an owner's key or name: "user:" and an email address (up to 254 characters), with room

metadata = MetaData()

runs = Table(
    "runs",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),  # insertion order, never reused
    Column("run_id", String(80), nullable=False, unique=True),
    Column("created", String(32), nullable=False),  # ISO 8601, UTC
    Column("status", String(16), nullable=False),
    Column("name", String(120), nullable=False),
    Column("owner", String(OWNER_LENGTH)),  # owners.Owner.key; NULL for runs from before owners
    Column("owner_name", String(OWNER_LENGTH)),
    Column("design_key", String(64), nullable=False),  # the design without its name (the result cache's key)
    Column("data_fingerprint", String(64)),
    Column("params_total", Integer, nullable=False),
    Column("epochs_run", Integer, nullable=False),
    Column("test_accuracy", Float),
    Column("record", Text, nullable=False),  # the run's record as JSON (records.run_info reads it)
    Index("runs_by_created", "created"),
    Index("runs_by_owner", "owner", "created"),
    Index("runs_by_design", "design_key", "data_fingerprint", "status", "created"),
)

run_data = Table(  # apart from `runs`, so listing never reads a byte of it
    "run_data",
    metadata,
    Column("run_id", String(80), primary_key=True),
    Column("history", Text, nullable=False),  # JSON: {"epochs": [...], "batches": [...]}
    Column("snapshots", LargeBinary, nullable=False),  # compressed npz: weights.WeightHistory, per epoch
    Column("weights", LargeBinary, nullable=False),  # compressed npz: the final weights, model order
)

in_progress = Table(  # a job training now: a restarted server finds its row and reports it interrupted
    "in_progress",
    metadata,
    Column("marker_id", String(40), primary_key=True),
    Column("record", Text, nullable=False),  # JSON: spec and the process that trains it (markers.this_process)
)

revision = Table(  # one row, bumped by every change to `runs`: listings are read again only when it moves
    "revision",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("value", Integer, nullable=False),
)

settings = Table(  # the class's settings that must persist (for example: was the folder store imported?)
    "settings",
    metadata,
    Column("key", String(80), primary_key=True),
    Column("value", Text, nullable=False),
)

class_digits = Table(  # the class's own handwriting (mnist_dash.runs.digits), a test set of their hands
    "class_digits",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("label", Integer, nullable=False),
    Column("pixels", LargeBinary, nullable=False),  # 784 bytes: 28 x 28 uint8, as MNIST's
    Column("owner", String(OWNER_LENGTH), nullable=False),
    Column("owner_name", String(OWNER_LENGTH), nullable=False),
    Column("created", String(32), nullable=False),
    Column("browser", String(OWNER_LENGTH)),  # the browser that added it (owners.Owner.key of kind "browser")
    Column("approved", Integer, nullable=False, server_default="1"),  # 0: waits for the teacher (digits.APPROVAL)
    Index("class_digits_by_owner", "owner"),
)

names = Table(  # a name claimed in this class (mnist_dash.runs.claims): the first browser to use it holds it
    "names",
    metadata,
    Column("name_key", String(OWNER_LENGTH), primary_key=True),  # owners.Owner.key of kind "name"
    Column("name", String(OWNER_LENGTH), nullable=False),
    Column("code", String(80), nullable=False),  # the claim code that lets another device of its holder in
    Column("browser", String(OWNER_LENGTH), nullable=False),  # the browser that claimed it first
    Column("created", String(32), nullable=False),
    Index("names_by_browser", "browser", "created"),
)

name_holders = Table(  # the browsers that hold a name: the first, and those that typed its claim code
    "name_holders",
    metadata,
    Column("name_key", String(OWNER_LENGTH), primary_key=True),
    Column("browser", String(OWNER_LENGTH), primary_key=True),
    Column("used", String(32), nullable=False),  # when this browser last chose the name (its newest is its own)
    Index("name_holders_by_browser", "browser", "used"),
)

DIGITS_REVISION = 2  # the revision row bumped by every change to class_digits (1: runs)

schema_version = Table("schema_version", metadata, Column("version", Integer, nullable=False))


def _version_1(connection: Connection) -> None:
    """The first database schema: runs, their data, jobs in progress, the revision and settings."""
    metadata.create_all(connection, tables=[runs, run_data, in_progress, revision, settings])
    connection.execute(revision.insert().values(id=1, value=0))


def _version_2(connection: Connection) -> None:
    """The class's handwriting: a table of digits and a revision of its own."""
    metadata.create_all(connection, tables=[class_digits])
    connection.execute(revision.insert().values(id=DIGITS_REVISION, value=0))


def _version_3(connection: Connection) -> None:
    """Owners' keys and names as long as an email address: a signed-in user's of over 75 characters could not
    save a run on PostgreSQL (the columns held 80; SQLite ignores lengths)."""
    if connection.dialect.name != "postgresql":
        return
    for table in ("runs", "class_digits"):
        for column in ("owner", "owner_name"):
            connection.execute(text(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE VARCHAR({OWNER_LENGTH})"))


def _version_4(connection: Connection) -> None:
    """Claimed names (a name is held by the browsers that claimed it), and each class digit's browser and
    approval (a teacher may approve new digits before they count)."""
    metadata.create_all(connection, tables=[names, name_holders])
    have = {column["name"] for column in inspect(connection).get_columns("class_digits")}
    if "browser" not in have:
        connection.execute(text(f"ALTER TABLE class_digits ADD COLUMN browser VARCHAR({OWNER_LENGTH})"))
    if "approved" not in have:
        connection.execute(text("ALTER TABLE class_digits ADD COLUMN approved INTEGER NOT NULL DEFAULT 1"))


# Step n makes schema version n.
MIGRATIONS: list[Callable[[Connection], None]] = [_version_1, _version_2, _version_3, _version_4]
SCHEMA_VERSION = len(MIGRATIONS)


class DatabaseError(RuntimeError):
    """The run store's database cannot be used; the message says what is wrong and how to fix it.

    `brief` is what every student may read: the same without the database's user, host and port
    (the full message is for the host: the log, the command line, a signed-in teacher).
    """

    def __init__(self, message: str, brief: str | None = None):
        super().__init__(message)
        self.brief = brief or message


def default_home() -> Path:
    """`MNIST_DASH_HOME` if set, else `~/.mnist_dash`: where the SQLite file (and MNIST's cache) live."""
    return Path(os.environ.get(HOME_ENV) or Path.home() / ".mnist_dash").expanduser()


def database_url(home: str | os.PathLike | None = None) -> str:
    """The store's URL: `home`'s SQLite file when a folder is given, else MNIST_DASH_DB_URL, else MNIST_DASH_HOME's."""
    if home is None and (url := os.environ.get(URL_ENV, "").strip()):
        return url
    folder = Path(home).expanduser() if home is not None else default_home()
    return f"sqlite:///{folder / SQLITE_FILE}"


def shown_url(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        return "(not a URL)"


_writing = contextvars.ContextVar("writing", default=False)


def connect(url: str) -> Engine:
    """An engine for `url`, its schema brought up to date; DatabaseError (with the fix) when it cannot be had."""
    try:
        parsed = make_url(_with_driver(url))
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        scheme = url.split("://", 1)[0][:20] if "://" in url else "no scheme"  # never its user and password
        raise DatabaseError(
            f"{URL_ENV} is not a database URL (it begins {scheme!r}). Write it as "
            "postgresql://user:password@host/database, "
            f"or unset it to keep the runs in a SQLite file under {HOME_ENV}."
        ) from None
    try:
        if parsed.get_backend_name() == "sqlite":
            engine = _sqlite_engine(parsed)
        else:
            # A database that does not answer costs a page 5 s, not the driver's default of waiting for ever.
            timeout = {"connect_timeout": CONNECT_TIMEOUT_S} if parsed.get_backend_name() == "postgresql" else {}
            engine = create_engine(parsed, pool_pre_ping=True, pool_size=5, max_overflow=5, connect_args=timeout)
    except (NoSuchModuleError, ModuleNotFoundError) as error:
        raise DatabaseError(
            f"This app cannot talk to {parsed.get_backend_name()} databases ({error}). Use a postgresql:// or "
            "sqlite:/// URL, or install that database's driver."
        ) from None
    try:
        upgrade(engine)
    except DatabaseError:
        engine.dispose()
        raise
    except SQLAlchemyError as error:
        engine.dispose()
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0][:300]
        raise DatabaseError(
            f"The run store's database {shown_url(str(parsed))} cannot be used: {reason}. Check that the server "
            f"runs and that the URL in {URL_ENV} (its host, port, user and password) is right.",
            brief=f"The run store's database ({parsed.get_backend_name()}) cannot be used. Whoever hosts the app: "
            f"check that the database server runs and that {URL_ENV} is right; the server's log has the "
            "details, and a teacher signed in here sees them on this page.",
        ) from None
    return engine


def _with_driver(url: str) -> str:
    """postgres:// and postgresql:// (as hosts print them) mean psycopg 3, the driver this app installs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def _sqlite_engine(url) -> Engine:
    if url.database and url.database != ":memory:":
        try:
            Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise DatabaseError(
                f"Cannot make the folder for the run store {url.database}: {error.strerror or error}. Set "
                f"{HOME_ENV} to a folder you can write to."
            ) from None
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_S})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # transactions begin where _begin says, not where the driver guesses
        with contextlib.closing(dbapi_connection.cursor()) as cursor:
            cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_S * 1000)}")
            _wal(cursor)
            cursor.execute("PRAGMA synchronous=NORMAL")

    @event.listens_for(engine, "begin")
    def _begin(connection):
        # A writer takes the write lock at once, so two writers queue instead of failing halfway.
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _writing.get() else "BEGIN")

    return engine


def _wal(cursor) -> None:
    """Readers never wait for a writer (two servers, one file). Switching a fresh file to WAL answers "locked"
    at once, without waiting, while another process opens it too (three servers starting): try again a while."""
    for _attempt in range(100):
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error):
                raise
            time.sleep(0.05)
    cursor.execute("PRAGMA journal_mode=WAL")


@contextlib.contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """One write transaction: all of it lands, or none of it."""
    token = _writing.set(True)
    try:
        with engine.begin() as connection:
            yield connection
    finally:
        _writing.reset(token)


def upgrade(engine: Engine) -> int:
    """Bring the schema to SCHEMA_VERSION, each missing step in one transaction; returns the version found."""
    with writing(engine) as connection:
        if engine.dialect.name == "postgresql":  # two servers starting at once: one upgrades, the other waits
            connection.execute(text("SELECT pg_advisory_xact_lock(4242001)"))
        schema_version.create(connection, checkfirst=True)
        found = connection.execute(schema_version.select()).scalar()
        if found is None:
            connection.execute(schema_version.insert().values(version=0))
            found = 0
        if found > SCHEMA_VERSION:
            raise DatabaseError(
                f"The run store's database has schema version {found}, newer than this app's {SCHEMA_VERSION}: "
                "a newer mnist_dash wrote it. Upgrade the app (git pull, pip install -r requirements.txt)."
            )
        for version in range(found + 1, SCHEMA_VERSION + 1):
            MIGRATIONS[version - 1](connection)
            connection.execute(schema_version.update().values(version=version))
    return found
