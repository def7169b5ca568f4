"""A throw-away PostgreSQL server for the tests: its own cluster in a temporary folder, on 127.0.0.1 only.

    with postgres_server() as admin_url:   # postgresql+psycopg://postgres@127.0.0.1:<port>/postgres
        ...

The server binaries are PostgreSQL's own (initdb, pg_ctl): the highest version under
/usr/lib/postgresql/*/bin (Debian, Ubuntu), else `pg_config --bindir`. Without them,
`NoPostgres` says in one line what is missing and how to get it. initdb refuses to run as
root, so as root the server runs as the `postgres` user (runuser), in a folder it owns.

The server stops when the context exits (`pg_ctl stop -m fast`) and also when this
process dies without exiting it (SIGKILL, a CI timeout): a small watchdog process checks
every second that its parent is still there and, once it is not, stops the server
(`-m immediate`) and removes the folder.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

DEBIAN_BINARIES = "/usr/lib/postgresql/*/bin"
SERVER_USER = "postgres"  # the user the server runs as when the tests run as root
START_TIMEOUT_S = 60
LOG_TAIL_LINES = 30

NO_POSTGRES = (
    f"PostgreSQL's server binaries (initdb and pg_ctl) were found neither under {DEBIAN_BINARIES} nor in "
    "`pg_config --bindir`: on Debian or Ubuntu run `apt-get install postgresql`; elsewhere install "
    "PostgreSQL's server package so that initdb and pg_ctl exist."
)

# Runs as `python -c WATCHDOG <parent pid> <folder> <stop command...>`. It is its parent's child, so once
# the parent is gone its parent pid changes (to init or a subreaper); it then stops the server and cleans up.
WATCHDOG = """
import os, shutil, subprocess, sys, time
parent, folder, stop = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
while os.getppid() == parent:
    time.sleep(1)
try:
    subprocess.run(stop, cwd=folder, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=60)
finally:
    shutil.rmtree(folder, ignore_errors=True)
"""


class NoPostgres(RuntimeError):
    """PostgreSQL's server binaries (or a user to run them as) are missing; the message says how to get them."""


class PostgresStartError(RuntimeError):
    """initdb or pg_ctl start failed; the message holds their output and the server log's tail."""


def _has_server(bindir: Path) -> bool:
    return (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file()


def _version(bindir: str) -> tuple[int, ...]:
    name = Path(bindir).parent.name  # /usr/lib/postgresql/15/bin -> "15", "9.6" -> (9, 6)
    return tuple(int(part) for part in name.split(".") if part.isdigit()) or (0,)


def find_bindir() -> Path | None:
    """The folder with initdb and pg_ctl, highest Debian version first, else pg_config's; None if there is none."""
    for bindir in sorted(glob.glob(DEBIAN_BINARIES), key=_version, reverse=True):
        if _has_server(Path(bindir)):
            return Path(bindir)
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=30, check=True)
            bindir = Path(out.stdout.strip())
            if out.stdout.strip() and _has_server(bindir):
                return bindir
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _log_tail(log: Path) -> str:
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError as error:
        return f"(no server log: {error})"
    return "\n".join(lines[-LOG_TAIL_LINES:]) or "(the server log is empty)"


def _as_server_user() -> list[str]:
    """The command prefix that runs a program as the server's user: runuser as root, nothing otherwise."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise NoPostgres(
            f"The tests run as root and initdb refuses root, but there is no `{SERVER_USER}` user to run "
            f"PostgreSQL as: install Debian's package (`apt-get install postgresql` creates it), create the user "
            f"(`useradd --system {SERVER_USER}`), or run the tests as a normal user."
        ) from None
    runuser = shutil.which("runuser") or "/usr/sbin/runuser"
    return [runuser, "-u", SERVER_USER, "--"]


def _run(command: list[str], folder: Path, what: str, log: Path | None = None) -> None:
    result = subprocess.run(
        command, cwd=folder, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=START_TIMEOUT_S + 30
    )
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip()
        tail = f"\nserver log ({log}), last lines:\n{_log_tail(log)}" if log else ""
        raise PostgresStartError(f"{what} failed (exit {result.returncode}): {shlex.join(command)}\n{output}{tail}")


def _stop(stop: list[str], folder: Path) -> None:
    """pg_ctl stop -m fast (sessions are ended, nothing is written); -m immediate if that fails."""
    for mode in ("fast", "immediate"):
        with contextlib.suppress(subprocess.TimeoutExpired):
            done = subprocess.run(
                [*stop, "-m", mode], cwd=folder, stdin=subprocess.DEVNULL, capture_output=True, timeout=90
            )
            if done.returncode == 0:
                return


@contextlib.contextmanager
def postgres_server(base_dir: str | None = None) -> Iterator[str]:
    """Start a fresh cluster on a free port of 127.0.0.1 and yield its admin URL; stop and remove it on exit.

    base_dir: where the cluster's temporary folder goes (default: the system's temporary folder); as root,
    the `postgres` user must be able to reach it.
    """
    bindir = find_bindir()
    if bindir is None:
        raise NoPostgres(NO_POSTGRES)
    as_user = _as_server_user()
    folder = Path(tempfile.mkdtemp(prefix="mnist-dash-pg-", dir=base_dir))
    data, log = folder / "data", folder / "server.log"
    stop = [*as_user, str(bindir / "pg_ctl"), "stop", "-D", str(data), "-w", "-t", "60"]
    watchdog = None
    try:
        if as_user:
            entry = pwd.getpwnam(SERVER_USER)
            os.chown(folder, entry.pw_uid, entry.pw_gid)
        # The watchdog starts before the server, so no moment exists where a killed parent leaves it running.
        watchdog = subprocess.Popen(
            [sys.executable, "-c", WATCHDOG, str(os.getpid()), str(folder), *stop, "-m", "immediate"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C or a kill of the test's process group leaves it to clean up
        )
        initdb = [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
        _run([*as_user, *initdb, "--locale=C", "--no-sync"], folder, "initdb")
        for attempt in range(3):
            port = _free_port()
            options = (
                f"-h 127.0.0.1 -p {port} -k {folder} -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
            )
            start = [*as_user, str(bindir / "pg_ctl"), "start", "-D", str(data), "-l", str(log), "-w"]
            try:
                _run([*start, "-t", str(START_TIMEOUT_S), "-o", options], folder, "pg_ctl start", log)
                break
            except PostgresStartError:
                # Another process may have taken the free port between the check and the start: try another.
                if attempt == 2 or "could not bind" not in _log_tail(log):
                    raise
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        try:
            if (data / "postmaster.pid").exists():
                _stop(stop, folder)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
            if watchdog is not None:
                watchdog.send_signal(signal.SIGTERM)
                watchdog.wait(timeout=30)


@contextlib.contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    """A new, empty database `t_<random hex>` on the server at `admin_url`: its URL; dropped afterwards."""
    import secrets

    import sqlalchemy as sa

    name = f"t_{secrets.token_hex(8)}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            yield sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
