"""The run store after faults, on SQLite and PostgreSQL: a killed server, two servers at once, a taken run id."""

from __future__ import annotations

import multiprocessing
import os
import queue
import random
import subprocess
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from mnist_dash.runs import RunStore, StoreWriteError
from mnist_dash.runs import store as store_module
from mnist_dash.runs.database import run_data, runs
from tests.patience import patience
from tests.support import SPEC, count_rows, ids, marker_ids, save_fake

REPO = Path(__file__).resolve().parent.parent
MOMENT = datetime(2026, 5, 1, 10, 15, tzinfo=UTC)


class Frozen(datetime):
    """The clock of a store whose every run is saved in the same second: run ids differ only in their random part."""

    @classmethod
    def now(cls, tz=None):
        return MOMENT


def kill_child_after(arguments: list[str], line: str, tmp_path: Path) -> None:
    """Run tests/crash_child.py with `arguments` until it prints `line`, then SIGKILL it."""
    log = tmp_path / "child.log"
    env = os.environ | {"TF_CPP_MIN_LOG_LEVEL": "3"}
    with log.open("w") as stderr:
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.crash_child", *arguments],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
        try:
            said = child.stdout.readline().decode().strip()
            assert said == line, f"the child said {said!r}; its stderr ends: {log.read_text()[-2000:]}"
        finally:
            child.kill()  # SIGKILL: no finally blocks, no atexit, no rollback sent: the database must cope
            child.wait(patience(30))
            child.stdout.close()


@pytest.fixture
def store(database_url):
    store = RunStore(database_url)
    yield store
    store.engine.dispose()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
@pytest.mark.timeout(120)
def test_killed_while_saving_leaves_no_partial_run_and_shows_as_interrupted(store, tmp_path):
    earlier = save_fake(store)
    before = (store.revision(), count_rows(store, runs), count_rows(store, run_data))
    kill_child_after(["saving", store.url], "SAVING", tmp_path)
    fresh = RunStore(store.url)
    listing = fresh.list()
    assert ids(listing) == [earlier] and listing.damaged == []
    assert (fresh.revision(), count_rows(fresh, runs), count_rows(fresh, run_data)) == before
    [interrupted] = listing.interrupted
    assert interrupted.phase == "training" and interrupted.spec == SPEC.replace(name="killed while saving")
    assert interrupted.reason == "the server stopped while it trained this run, so the run was not saved"
    assert interrupted.started[:4].isdigit() and interrupted.started.endswith("+00:00")
    assert fresh.dismiss_interrupted(interrupted.marker_id) and fresh.list().interrupted == []
    assert marker_ids(fresh) == []
    later = save_fake(fresh)  # nothing of the dead process holds the database
    assert ids(fresh.list()) == [later, earlier]
    fresh.engine.dispose()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
@pytest.mark.timeout(180)
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # a real job (Keras): once is enough
def test_killed_while_training_shows_as_interrupted_and_the_rest_intact(store, tmp_path):
    earlier = save_fake(store)
    kill_child_after(["training", store.url], "EPOCH", tmp_path)
    listing = store.list()
    assert ids(listing) == [earlier] and listing.damaged == [] and count_rows(store, run_data) == 1
    [interrupted] = listing.interrupted
    assert interrupted.phase == "training" and interrupted.spec.name == "killed while training"
    assert store.dismiss_interrupted(interrupted.marker_id) and store.list().interrupted == []


def test_a_run_id_taken_already_is_drawn_again_and_both_runs_are_kept(store, monkeypatch):
    monkeypatch.setattr(store_module, "datetime", Frozen)
    drawn = iter(["aaaaaaaa", "aaaaaaaa", "bbbbbbbb"])
    monkeypatch.setattr(store_module.secrets, "token_hex", lambda n: next(drawn))
    first, second = save_fake(store), save_fake(store, seed=1)
    assert (first, second) == ("20260501-101500-store-test-aaaaaaaa", "20260501-101500-store-test-bbbbbbbb")
    assert ids(store.list()) == [second, first] and store.list().damaged == []
    assert store.revision() == 2 and count_rows(store, run_data) == 2
    assert not np.array_equal(store.final_weights(first)[0], store.final_weights(second)[0])  # each its own data
    monkeypatch.setattr(store_module.secrets, "token_hex", lambda n: "aaaaaaaa")
    with pytest.raises(StoreWriteError, match="could not save the run: no free run id after 5 tries"):
        save_fake(store)
    assert ids(store.list()) == [second, first] and store.revision() == 2


def _save_and_list(url: str, name: str, ready, results) -> None:
    """One of two servers saving 10 runs into `url` in the same second as the other, listing after each save.

    Run ids are drawn from 256 values, not 2**32, so the two servers draw the same one now and then.
    Puts (name, run ids saved, traceback or None) on `results`.
    """
    saved = []
    try:
        store_module.datetime = Frozen
        store_module.secrets = SimpleNamespace(token_hex=lambda n: f"{random.randrange(256):0{2 * n}x}")
        ready.wait(patience(60))  # all three processes open the fresh database at once
        store = RunStore(url)
        for number in range(10):
            saved.append(save_fake(store, SPEC.replace(name="same"), seed=number))
            listing = store.list()
            assert listing.damaged == [], listing.damaged
            assert set(saved) <= set(ids(listing))
            for run in listing.runs:
                store.history(run.run_id)  # a run listed is a run whole
        results.put((name, saved, None))
    except BaseException:
        results.put((name, saved, traceback.format_exc()))


@pytest.mark.timeout(180)
def test_two_servers_saving_and_listing_at_once_keep_every_run(database_url):
    context = multiprocessing.get_context("spawn")  # as two servers: nothing shared but the database
    ready, results = context.Barrier(3), context.Queue()
    servers = {name: context.Process(target=_save_and_list, args=(database_url, name, ready, results)) for name in "ab"}
    for server in servers.values():
        server.start()
    reports, whole = {}, set()
    try:
        ready.wait(patience(60))
        store = RunStore(database_url)
        while len(reports) < 2:
            listing = store.list()
            assert listing.damaged == [] and listing.interrupted == []
            for run_id in set(ids(listing)) - whole:
                assert store.history(run_id)["epochs"] and store.final_weights(run_id)
                whole.add(run_id)
            try:
                name, saved, error = results.get(timeout=0.05)
            except queue.Empty:
                silent = [servers[name] for name in servers if name not in reports]
                assert all(server.is_alive() for server in silent) or not results.empty(), "a server died"
                continue
            assert error is None, f"server {name} failed:\n{error}"
            reports[name] = saved
    finally:
        for server in servers.values():
            server.join(30)
            if server.is_alive():
                server.kill()
    assert [server.exitcode for server in servers.values()] == [0, 0]
    saved = reports["a"] + reports["b"]
    assert len(saved) == len(set(saved)) == 20 and all(run_id.startswith("20260501-101500-same-") for run_id in saved)
    fresh = RunStore(database_url)
    listing = fresh.list()
    assert sorted(ids(listing)) == sorted(saved) and listing.damaged == [] and fresh.revision() == 20
    assert count_rows(fresh, run_data) == 20 and all(fresh.history(run_id) for run_id in saved)
    store.engine.dispose(), fresh.engine.dispose()
