"""A run is never lost to a database that does not answer: saved again, kept on the server's disk, put in later."""

import sqlite3
import threading

import pytest
from sqlalchemy.engine import make_url

from mnist_dash.jobs import JobQueue, JobStatus, TrainingJob
from mnist_dash.runs import RunStore
from mnist_dash.runs.spool import NOT_ANSWERING, flush, save_patiently, spooled
from mnist_dash.runs.store import pack_run
from tests.patience import patience
from tests.postgres_server import fresh_database
from tests.support import SPEC, Outage, fake_run, marker_ids, save_fake, wait_until


@pytest.fixture
def flaky(database_url, tmp_path, monkeypatch):
    """A store whose database can be made not to answer: (store, down, up). PostgreSQL behind a gate that
    cuts its connections; SQLite locked by another process's exclusive transaction."""
    if make_url(database_url).get_backend_name() == "postgresql":
        outage = Outage(database_url)
        store = RunStore(outage.url)
        yield store, outage.down, outage.up
        store.engine.dispose()
        outage.close()
        return
    import mnist_dash.runs.database as database  # a write meets the lock for 3 s, not 30, before it fails

    monkeypatch.setattr(database, "SQLITE_BUSY_S", 3)
    store = RunStore(database_url)
    holder: list[sqlite3.Connection] = []

    def down():
        locker = sqlite3.connect(make_url(database_url).database, isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")  # every write now waits out its busy timeout, then fails
        holder.append(locker)

    def up():
        while holder:
            locker = holder.pop()
            locker.execute("ROLLBACK")
            locker.close()

    yield store, down, up
    up()
    store.engine.dispose()


def test_a_run_saved_while_the_database_does_not_answer_is_spooled_and_goes_in_when_it_answers(flaky, database_url):
    store, down, up = flaky
    kept = save_fake(store)  # a run from before the outage
    marker = store.begin_training(SPEC)
    down()
    phases = []
    run = pack_run(SPEC, "finished", **fake_run(SPEC), test_loss=0.5, test_accuracy=0.9)
    run_id, waits = save_patiently(store, run, marker, phases.append, retry_s=1.5)
    assert waits and spooled(store) == [run_id]
    assert phases and all(phase.startswith(NOT_ANSWERING) for phase in phases)
    up()
    other = RunStore(database_url)  # another server's view: not there yet, nothing else harmed
    assert [info.run_id for info in other.list().runs] == [kept]
    assert flush(store) == 1 and spooled(store) == []
    saved = other.get(run_id)
    assert saved.status == "finished" and saved.test_accuracy == 0.9
    assert [record["epoch"] for record in other.history(run_id)["epochs"]] == [1, 2]
    assert marker not in marker_ids(other)  # the marker went with the insert
    assert flush(store) == 0  # and a second flush adds nothing
    other.engine.dispose()


@pytest.fixture
def postgres_outage(postgres_admin_url):
    """A fresh PostgreSQL database behind a gate: (its URL, the Outage)."""
    with fresh_database(postgres_admin_url) as url:
        outage = Outage(url)
        yield url, outage
        outage.close()


def test_a_jobs_page_says_the_database_is_not_answering_and_its_run_comes_back(
    postgres_outage, tiny_spec, slow_data, monkeypatch
):
    """The database stops as a job is about to save: the job waits, says so, spools; nothing of it is lost.
    (On PostgreSQL: SQLite's outage, a lock, is the store-level test's, and costs its 30 s busy timeout.)"""
    monkeypatch.setenv("MNIST_DASH_SAVE_RETRY_S", "3")
    database_url, outage = postgres_outage
    store, down, up = RunStore(outage.url), outage.down, outage.up
    spec = tiny_spec.replace(epochs=2, batch_size=8)
    job = TrainingJob(spec, slow_data, store=store, queue=JobQueue(1)).start()
    wait_until(lambda: job.snapshot().epoch >= 1, 120)
    down()
    wait_until(lambda: job.snapshot().phase.startswith(NOT_ANSWERING), 120)  # its page says what it waits for
    assert job.snapshot().status == JobStatus.RUNNING
    snap = job.wait(timeout=patience(120))
    assert snap.status == JobStatus.FINISHED and snap.spooled and snap.run_id in spooled(store)
    up()
    flusher = threading.Thread(target=flush, args=(store,))
    flusher.start()
    flusher.join(60)
    other = RunStore(database_url)
    assert other.get(snap.run_id).epochs_run == 2 and not marker_ids(other)
    other.engine.dispose()
    store.engine.dispose()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # SQLite's lock waits out 30 s per write
def test_a_marker_that_could_not_be_removed_goes_when_the_database_answers_again(flaky):
    store, down, up = flaky
    marker = store.begin_training(SPEC)
    down()
    store.end_training(marker)  # a job stopped before its first epoch ended, while the database was away
    up()
    assert marker in marker_ids(store)  # left behind, a restart would call it an interrupted job
    assert store.forget_stale_markers() == 1 and marker not in marker_ids(store)
    assert store.forget_stale_markers() == 0
