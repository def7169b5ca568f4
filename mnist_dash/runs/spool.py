"""A trained run is never lost to a database that does not answer: it is saved again, then kept on disk.

`save_patiently` saves a finished job's run; while the database does not answer (a restart, a
network blip, a PostgreSQL server stopped for maintenance) it tries again with growing pauses
for `MNIST_DASH_SAVE_RETRY_S` seconds (180 by default), saying so through `report` ("saving: the
database is not answering"), then writes the run into this server's spool: a folder per run
under `MNIST_DASH_HOME/spool/<database>/`, written whole or not at all (a temporary folder,
renamed). `flush` puts the spooled runs into the database (their in-progress markers go in the
same transaction) once it answers: the server runs it every few seconds (`Flusher`). A spooled
run keeps the id it was given, so its student's page can name it before it is in the database.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from mnist_dash.runs.database import default_home
from mnist_dash.runs.store import PackedRun, RunStore, StoreWriteError, _slug

RETRY_ENV = "MNIST_DASH_SAVE_RETRY_S"
RETRY_S = 180.0  # a database restarting, or a short outage: a job's run waits this long before the disk
BLOBS = ("history", "snapshots", "weights")
NOT_ANSWERING = "saving: the database is not answering"
log = logging.getLogger(__name__)


def retry_seconds() -> float:
    try:
        return max(0.0, float(os.environ.get(RETRY_ENV, RETRY_S)))
    except ValueError:
        return RETRY_S


def spool_folder(store: RunStore) -> Path:
    """Where runs for `store`'s database wait: one folder per database, under the server's home."""
    database = hashlib.sha256(store.url.encode()).hexdigest()[:12]
    return (store.home or default_home()) / "spool" / database


def save_patiently(
    store: RunStore,
    run: PackedRun,
    marker: str | None,
    report: Callable[[str], None] = lambda phase: None,
    retry_s: float | None = None,
) -> tuple[str, bool]:
    """Save `run`; while the database does not answer, try again for `retry_s`, then spool it.

    Returns the run's id and whether it waits in the spool. Raises StoreWriteError when the
    database refused it for another reason, or when the spool cannot be written either.
    """
    deadline = time.monotonic() + (retry_seconds() if retry_s is None else retry_s)
    pause = 1.0
    while True:
        try:
            return store.save_packed(run, marker), False
        except StoreWriteError as error:
            if not error.transient:
                raise
            left = deadline - time.monotonic()
            if left <= 0:
                log.warning("spooling a run: %s", error)
                failure = error
                report(f"{NOT_ANSWERING}: the server keeps the run until it does")
                break
            report(f"{NOT_ANSWERING} (trying again for {left:.0f} s)")
            time.sleep(min(pause, left))
            pause = min(pause * 2, 15.0)
    try:
        return spool(store, run, marker), True
    except OSError as disk:
        raise StoreWriteError(f"{failure} The server could not keep it on its own disk either ({disk}).") from disk


def spool(store: RunStore, run: PackedRun, marker: str | None) -> str:
    """Write `run` into `store`'s spool folder, whole, under a new id; returns the id."""
    folder = spool_folder(store)
    folder.mkdir(parents=True, exist_ok=True)
    run_id = f"{run.created:%Y%m%d-%H%M%S}-{_slug(run.name)}-{secrets.token_hex(4)}"
    building = folder / f".building-{run_id}"
    building.mkdir()
    texts = [name for name in BLOBS if isinstance(run.data[name], str)]  # the history is JSON text
    for name in BLOBS:
        value = run.data[name]
        (building / f"{name}.bin").write_bytes(value.encode() if name in texts else value)
    entry = {"record": run.record | {"run_id": run_id}, "marker": marker, "texts": texts}
    (building / "run.json").write_text(json.dumps(entry))
    os.replace(building, folder / run_id)
    return run_id


def spooled(store: RunStore) -> list[str]:
    """The ids of the runs waiting in `store`'s spool, oldest first."""
    folder = spool_folder(store)
    if not folder.is_dir():
        return []
    return sorted(path.name for path in folder.iterdir() if not path.name.startswith(".") and path.is_dir())


def flush(store: RunStore) -> int:
    """Put every spooled run into the database, oldest first; stops at the first the database does not take.

    Returns how many went in. A run already there (a flush cut short after its insert) only leaves the spool.
    """
    folder, done = spool_folder(store), 0
    for run_id in spooled(store):
        entry_folder = folder / run_id
        try:
            entry = json.loads((entry_folder / "run.json").read_text())
            data = {name: (entry_folder / f"{name}.bin").read_bytes() for name in BLOBS}
            data |= {name: data[name].decode() for name in entry.get("texts", ())}
        except (OSError, ValueError) as error:
            log.error("a spooled run %s cannot be read (%s): left in %s", run_id, error, entry_folder)
            continue
        try:
            store.insert(run_id, entry["record"], data, marker=entry.get("marker"))
        except IntegrityError:
            pass  # it went in before (the spool folder outlived the insert): nothing to add
        except SQLAlchemyError as error:
            log.info("the database does not take spooled runs yet: %s", str(error).splitlines()[0][:200])
            return done
        shutil.rmtree(entry_folder, ignore_errors=True)
        done += 1
        log.info("spooled run %s saved into the database", run_id)
    return done


class Flusher:
    """The server's thread that flushes the spool every `every_s` seconds (one per store), and removes the
    markers of jobs that ended while the database did not answer (`RunStore.end_training`)."""

    def __init__(self, store: RunStore, every_s: float = 5.0):
        self.store, self.every_s = store, every_s
        self._thread = threading.Thread(target=self._loop, name="mnist-dash-spool", daemon=True)

    def start(self) -> Flusher:
        self._thread.start()
        return self

    def _loop(self) -> None:
        while True:
            time.sleep(self.every_s)
            try:
                if spooled(self.store):
                    flush(self.store)
                self.store.forget_stale_markers()
            except Exception:  # never let the thread die: the next round tries again
                log.exception("flushing the spool failed")
