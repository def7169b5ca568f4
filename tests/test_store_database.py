"""The run store's database: its schema brought up to date in place, and URLs that cannot be used said plainly."""

from __future__ import annotations

import socket

import pytest
import sqlalchemy as sa

from mnist_dash.cli import main
from mnist_dash.runs import DatabaseError, RunStore, StoreWriteError
from mnist_dash.runs.database import SCHEMA_VERSION, _with_driver, schema_version, upgrade
from tests.support import count_rows, ids, save_fake

PASSWORD = "s3cret-pw"


def version(store: RunStore) -> list[int]:
    with store.engine.connect() as connection:
        return list(connection.execute(sa.select(schema_version.c.version)).scalars())


def test_a_fresh_database_gets_the_schema_and_upgrading_again_changes_nothing(database_url):
    store = RunStore(database_url)
    assert version(store) == [SCHEMA_VERSION]
    assert set(sa.inspect(store.engine).get_table_names()) == {
        "runs",
        "run_data",
        "in_progress",
        "revision",
        "settings",
        "class_digits",
        "names",
        "name_holders",
        "schema_version",
    }
    run_id = save_fake(store)
    store.set_setting("folder_store_import", "done")
    assert upgrade(store.engine) == SCHEMA_VERSION and upgrade(store.engine) == SCHEMA_VERSION
    again = RunStore(database_url)  # as a server starting up on it
    assert (
        version(again) == [SCHEMA_VERSION] and again.revision() == 1 and count_rows(again, sa.table("revision")) == 2
    )  # runs, digits
    assert ids(again.list()) == [run_id] and again.setting("folder_store_import") == "done"
    store.engine.dispose(), again.engine.dispose()


def test_a_database_a_newer_version_wrote_is_refused(database_url):
    store = RunStore(database_url)
    save_fake(store)
    with store.engine.begin() as connection:
        connection.execute(schema_version.update().values(version=SCHEMA_VERSION + 1))
    store.engine.dispose()
    with pytest.raises(DatabaseError) as refused:
        RunStore(database_url)
    assert f"schema version {SCHEMA_VERSION + 1}, newer than this app's {SCHEMA_VERSION}" in str(refused.value)
    assert "a newer mnist_dash wrote it" in str(refused.value) and "Upgrade the app" in str(refused.value)


def test_a_signed_in_users_long_email_saves_runs_and_digits_after_the_schema_step(database_url):
    """Owner columns were VARCHAR(80): on PostgreSQL an email of over 75 characters could save nothing."""
    import numpy as np

    from mnist_dash.owners import signed_in

    email = "a.student.with.a.very.long.name." + "x" * 150 + "@schools-of-a-large-district.example.org"
    owner = signed_in(email)
    assert len(owner.key) > 200
    store = RunStore(database_url)
    postgres = store.engine.dialect.name == "postgresql"
    if postgres:  # the database as version 2 left it
        with store.engine.begin() as connection:
            for table in ("runs", "class_digits"):
                for column in ("owner", "owner_name"):
                    connection.execute(sa.text(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE VARCHAR(80)"))
            connection.execute(schema_version.update().values(version=2))
        with pytest.raises(StoreWriteError):
            save_fake(store, owner=owner)
    store.engine.dispose()
    upgraded = RunStore(database_url)  # a server starting on it brings it up to date
    assert version(upgraded) == [SCHEMA_VERSION]
    run_id = save_fake(upgraded, owner=owner)
    assert upgraded.get(run_id).owner == owner.key and upgraded.owned(owner.key)[0].run_id == run_id
    upgraded.digits.add(np.zeros((28, 28), np.uint8), 3, owner)
    assert upgraded.digits.all().owner_names == (owner.name,)
    upgraded.engine.dispose()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # free, and nothing listens there once the socket is closed


@pytest.mark.parametrize(
    "url",
    [
        f"postgres//mnist:{PASSWORD}@db.example/runs",  # the colon forgotten
        f"postgresql ://mnist:{PASSWORD}@db.example/runs",
        f"postgresql://mnist:{PASSWORD}@db.example:port/runs",  # a port that is not a number
        "runs.db",
    ],
)
def test_a_url_that_is_not_a_url_is_a_clear_error_without_the_password(monkeypatch, url):
    monkeypatch.setenv("MNIST_DASH_DB_URL", url)
    with pytest.raises(DatabaseError) as refused:
        RunStore()
    message = str(refused.value)
    assert message.startswith("MNIST_DASH_DB_URL is not a database URL") and PASSWORD not in message
    assert "postgresql://user:password@host/database" in message


def test_an_unreachable_database_is_a_clear_error_without_the_password(monkeypatch, capsys):
    url = f"postgresql://mnist:{PASSWORD}@127.0.0.1:{_closed_port()}/runs"
    with pytest.raises(DatabaseError) as refused:
        RunStore(url)
    message = str(refused.value)
    assert (
        message.startswith("The run store's database postgresql+psycopg://mnist:***@127.0.0.1:")
        and PASSWORD not in message
    )
    assert "Check that the server runs and that the URL in MNIST_DASH_DB_URL" in message
    monkeypatch.setenv("MNIST_DASH_DB_URL", url)  # the CLI says the same in one line, no traceback
    assert main(["runs"]) == 1
    said = capsys.readouterr()
    assert said.err.startswith("error: The run store's database ") and said.err.count("\n") == 1
    assert PASSWORD not in said.err + said.out


@pytest.mark.parametrize(("url", "backend"), [("nosuchdb://host/runs", "nosuchdb"), ("mysql://u@host/runs", "mysql")])
def test_a_database_this_app_cannot_talk_to_is_a_clear_error(url, backend):
    with pytest.raises(DatabaseError, match=f"This app cannot talk to {backend} databases"):
        RunStore(url)


def test_a_sqlite_folder_that_cannot_be_made_is_a_clear_error(tmp_path, monkeypatch):
    (tmp_path / "a file").write_text("not a folder")
    monkeypatch.setenv("MNIST_DASH_HOME", str(tmp_path / "a file" / "home"))
    with pytest.raises(DatabaseError, match=r"Cannot make the folder for the run store .* Set MNIST_DASH_HOME"):
        RunStore()


def test_postgres_urls_get_the_psycopg_driver():
    assert _with_driver("postgres://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert _with_driver("postgresql://u:p@h:5432/db") == "postgresql+psycopg://u:p@h:5432/db"
    assert _with_driver("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    assert _with_driver("sqlite:////tmp/runs.db") == "sqlite:////tmp/runs.db"


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("scheme", ["postgres", "postgresql"])
def test_a_postgres_url_as_hosts_print_it_works_and_is_shown_without_its_password(database_url, scheme):
    url = sa.make_url(database_url).set(drivername=scheme, password=PASSWORD).render_as_string(hide_password=False)
    assert url.startswith(f"{scheme}://postgres:{PASSWORD}@")  # the test server trusts every password
    store = RunStore(url)
    assert store.engine.dialect.name == "postgresql" and store.engine.dialect.driver == "psycopg"
    assert store.where.startswith(f"{scheme}://postgres:***@") and PASSWORD not in store.where
    run_id = save_fake(store)
    assert ids(RunStore(database_url).list()) == [run_id]
    with store.engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE in_progress"))
    with pytest.raises(StoreWriteError) as refused:
        store.begin_training(store.get(run_id).spec)
    assert "(the postgresql run store; the server's log has the details)" in str(refused.value)  # for a student
    assert "postgres:" not in str(refused.value) and "127.0.0.1" not in str(refused.value)
    store.engine.dispose()
