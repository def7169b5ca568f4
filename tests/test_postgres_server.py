"""The tests' throw-away PostgreSQL (tests/postgres_server.py) and the database_url fixture."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests import postgres_server as pg
from tests.patience import patience

ROOT = Path(__file__).resolve().parents[1]


def _accepts(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_database_takes_a_table(database_url):
    engine = sa.create_engine(database_url)
    table = sa.Table("runs", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.Text))
    try:
        table.metadata.create_all(engine)
        with engine.begin() as connection:
            connection.execute(table.insert(), [{"id": 1, "name": "notebook-2-hidden"}, {"id": 2, "name": "ours"}])
        with engine.connect() as connection:
            assert connection.execute(sa.select(table.c.name).order_by(table.c.id)).scalars().all() == [
                "notebook-2-hidden",
                "ours",
            ]
    finally:
        engine.dispose()


def _databases(admin_url: str) -> list[str]:
    engine = sa.create_engine(admin_url)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text("SELECT datname FROM pg_database")).scalars().all()
    finally:
        engine.dispose()


def test_server_listens_on_loopback_only(postgres_admin_url):
    url = sa.make_url(postgres_admin_url)
    assert (url.drivername, url.username, url.host, url.database) == (
        "postgresql+psycopg",
        "postgres",
        "127.0.0.1",
        "postgres",
    )
    engine = sa.create_engine(postgres_admin_url)
    try:
        with engine.connect() as connection:
            assert connection.execute(sa.text("SHOW listen_addresses")).scalar() == "127.0.0.1"
            assert connection.execute(sa.text("SHOW fsync")).scalar() == "off"
            assert connection.execute(sa.text("SHOW server_encoding")).scalar() == "UTF8"
    finally:
        engine.dispose()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgresql_case_gets_its_own_database(database_url, postgres_admin_url):
    name = sa.make_url(database_url).database
    assert name.startswith("t_") and name in _databases(postgres_admin_url)


def test_a_fresh_database_is_dropped_afterwards(postgres_admin_url):
    """What `database_url` does after each postgresql case (in one test: two would run in either test process)."""
    with pg.fresh_database(postgres_admin_url) as url:
        name = sa.make_url(url).database
        assert name in _databases(postgres_admin_url)
    assert name not in _databases(postgres_admin_url)


def test_no_binaries_says_what_to_install(monkeypatch):
    monkeypatch.setattr(pg, "find_bindir", lambda: None)
    with pytest.raises(pg.NoPostgres) as raised, pg.postgres_server():
        pass
    message = str(raised.value)
    assert "\n" not in message
    assert "apt-get install postgresql" in message
    assert "initdb" in message and "pg_ctl" in message


def test_lookup_finds_nothing_without_binaries(monkeypatch, tmp_path):
    monkeypatch.setattr(pg, "DEBIAN_BINARIES", str(tmp_path / "postgresql" / "*" / "bin"))
    monkeypatch.setenv("PATH", str(tmp_path))  # no pg_config
    assert pg.find_bindir() is None
    (tmp_path / "postgresql" / "16" / "bin").mkdir(parents=True)
    assert pg.find_bindir() is None  # a folder without initdb and pg_ctl does not count
    for version in ("9.6", "16", "15"):
        bindir = tmp_path / "postgresql" / version / "bin"
        bindir.mkdir(parents=True, exist_ok=True)
        (bindir / "initdb").touch()
        (bindir / "pg_ctl").touch()
    assert pg.find_bindir() == tmp_path / "postgresql" / "16" / "bin"


def test_start_failure_shows_the_server_log(postgres_admin_url, monkeypatch):
    """A port that stays taken: three tries, then an error with the server log's tail; nothing left behind."""
    base = tempfile.mkdtemp(prefix="mnist-dash-pg-test-")
    os.chmod(base, 0o755)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        monkeypatch.setattr(pg, "_free_port", lambda: taken.getsockname()[1])
        try:
            with pytest.raises(pg.PostgresStartError) as raised, pg.postgres_server(base):
                pass
            assert "pg_ctl start failed" in str(raised.value)
            assert "could not bind" in str(raised.value)  # from the server's log
            assert os.listdir(base) == []
        finally:
            shutil.rmtree(base, ignore_errors=True)


def test_server_stops_when_its_process_is_killed(postgres_admin_url):
    """postgres_admin_url only for its verdict: skipped without PostgreSQL, failed in CI."""
    # The folder the cluster goes in: the server's user (postgres, when running as root) must reach it.
    base = tempfile.mkdtemp(prefix="mnist-dash-pg-test-")
    os.chmod(base, 0o755)
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from tests.postgres_server import postgres_server\n"
            "with postgres_server(sys.argv[1]) as url:\n"
            "    print(url, flush=True)\n"
            "    time.sleep(600)\n",
            base,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = child.stdout.readline().strip()
        assert url.startswith("postgresql+psycopg://postgres@127.0.0.1:"), url
        port = sa.make_url(url).port
        assert _accepts(port)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=patience(10))
        deadline = time.monotonic() + 15
        while (_accepts(port) or os.listdir(base)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _accepts(port), "the server still accepts connections 15 s after its process was killed"
        assert os.listdir(base) == [], "the watchdog left the cluster's folder behind"
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdout.close()
        shutil.rmtree(base, ignore_errors=True)
