"""Reading the run store: listings, records and each run's data (the writing half is `store`).

Listings are read once per change, not once per page redraw: every write bumps a revision
counter in the same transaction, and a listing is answered from memory while the revision
it was read at is still the database's (one indexed row read). Records are parsed once per
process (a run never changes once stored); a record that does not parse is a DamagedRun,
listed with the reason. No method returns every run except `list()` (the CLI, export):
pages get the owner's runs and the class's newest (`choices`).
"""

from __future__ import annotations

import json
import threading

from sqlalchemy import func, select

from mnist_dash.data import Mnist, fingerprint
from mnist_dash.runs import blobs
from mnist_dash.runs.database import revision, run_data, runs
from mnist_dash.runs.markers import InterruptedJob, Markers
from mnist_dash.runs.records import DamagedRun, DamagedRunError, RunInfo, RunListing, run_info
from mnist_dash.spec import ModelSpec, SpecError
from mnist_dash.weights import WeightHistory

CHOICES = 100  # the class's newest runs a page offers beside the owner's own


class RunNotFound(KeyError):
    """No run with that id in the store."""


def _revision(connection) -> int:
    return connection.execute(select(revision.c.value).where(revision.c.id == 1)).scalar_one()


class StoreReader:
    """What a run store answers; `RunStore` adds the writing. It needs `engine`, `where` and `markers`."""

    engine: object
    where: str  # the database, as it may be shown
    markers: Markers

    def __init__(self):
        self._lock = threading.Lock()
        self._records: dict[str, RunInfo | DamagedRun] = {}  # parsed once: a stored run never changes
        self._answers: dict[tuple, tuple[int, object]] = {}  # listing -> (revision it was read at, answer)

    def interrupted(self) -> list[InterruptedJob]:
        """Runs a stopped server left unsaved, newest first (see `mnist_dash.runs.markers`)."""
        return self.markers.interrupted()

    def revision(self) -> int:
        """A number that changes whenever a run is stored or deleted."""
        with self.engine.connect() as connection:
            return _revision(connection)

    def _cached(self, key: tuple, read):
        """`read(connection)`'s answer, read again only when the revision moved since it was read."""
        with self.engine.connect() as connection:
            now = _revision(connection)
            with self._lock:
                kept = self._answers.get(key)
            if kept is not None and kept[0] == now:
                return kept[1]
            answer = read(connection)
        with self._lock:
            if len(self._answers) > 256:
                self._answers.clear()
            self._answers[key] = (now, answer)
        return answer

    def _parsed(self, rows) -> list[RunInfo | DamagedRun]:
        """Rows of (run_id, record) as RunInfo, or DamagedRun with the reason; each parsed once."""
        found = []
        for run_id, text in rows:
            parsed = self._records.get(run_id)
            if parsed is None:
                try:
                    parsed = run_info(run_id, json.loads(text))
                except (ValueError, KeyError, TypeError, SpecError) as error:
                    parsed = DamagedRun(run_id, f"run {run_id} has an unreadable record: {str(error).strip(chr(39))}")
                with self._lock:
                    self._records[run_id] = parsed
            found.append(parsed)
        return found

    def _listing(self, key: tuple, query=None, rows=None) -> RunListing:
        """The complete and damaged runs of `query`'s (run_id, record) rows, or of `rows(connection)`'s."""

        def read(connection):
            parsed = self._parsed(rows(connection) if rows is not None else connection.execute(query).all())
            return (
                [p for p in parsed if isinstance(p, RunInfo)],
                [p for p in parsed if isinstance(p, DamagedRun)],
            )

        complete, damaged = self._cached(key, read)
        return RunListing(list(complete), list(damaged), self.interrupted())

    def get(self, run_id: str) -> RunInfo:
        """The run's record; RunNotFound or DamagedRunError when it cannot be had."""
        parsed = self._records.get(run_id)
        if parsed is not None:  # parsed once; still there? (deleted here, by the teacher, or by another server)
            with self.engine.connect() as connection:
                there = connection.execute(select(runs.c.seq).where(runs.c.run_id == run_id)).first() is not None
            if not there:
                self._records.pop(run_id, None)
                raise RunNotFound(f"no run {run_id!r} in the run store")
        else:
            with self.engine.connect() as connection:
                rows = connection.execute(select(runs.c.run_id, runs.c.record).where(runs.c.run_id == run_id)).all()
            if not rows:
                raise RunNotFound(f"no run {run_id!r} in the run store")
            parsed = self._parsed(rows)[0]
        if isinstance(parsed, DamagedRun):
            raise DamagedRunError(parsed.reason)
        return parsed

    def list(self) -> RunListing:
        """Every run, newest first, the damaged ones with the reason, and the interrupted ones (CLI, export)."""
        query = select(runs.c.run_id, runs.c.record).order_by(runs.c.created.desc(), runs.c.seq.desc())
        return self._listing(("all",), query)

    def choices(self, owner_key: str | None, limit: int = CHOICES) -> RunListing:
        """What a page offers: the owner's runs and the class's `limit` newest, newest first (two indexed reads)."""
        newest = (runs.c.created.desc(), runs.c.seq.desc())
        columns = select(runs.c.run_id, runs.c.record, runs.c.created, runs.c.seq)
        queries = [columns.order_by(*newest).limit(limit)]
        if owner_key is not None:
            queries.append(columns.where(runs.c.owner == owner_key).order_by(*newest))

        def merged(connection):
            found = {row.run_id: row for query in queries for row in connection.execute(query)}
            ordered = sorted(found.values(), key=lambda row: (row.created, row.seq), reverse=True)
            return [(row.run_id, row.record) for row in ordered]

        return self._listing(("choices", owner_key, limit), rows=merged)

    def owned(self, owner_key: str) -> list[RunInfo]:
        """The owner's complete runs, newest first."""
        query = select(runs.c.run_id, runs.c.record).where(runs.c.owner == owner_key)
        return self._listing(("owned", owner_key), query.order_by(runs.c.created.desc(), runs.c.seq.desc())).runs

    def count_owned(self, owner_key: str) -> int:
        """How many runs the owner has stored (their quota counts these): one indexed count."""
        query = select(func.count()).select_from(runs).where(runs.c.owner == owner_key)
        return self._cached(("count", owner_key), lambda connection: connection.execute(query).scalar_one())

    def finished_owned(self) -> list[RunInfo]:
        """Every finished run that has an owner, oldest first: the class board's runs (read once per change)."""
        query = (
            select(runs.c.run_id, runs.c.record)
            .where(runs.c.status == "finished", runs.c.owner.is_not(None))
            .order_by(runs.c.created, runs.c.seq)
        )
        return self._listing(("finished_owned",), query).runs

    def count(self) -> int:
        """How many runs the store holds."""
        query = select(func.count()).select_from(runs)
        return self._cached(("count",), lambda connection: connection.execute(query).scalar_one())

    def cached_run(self, spec: ModelSpec, data: Mnist) -> RunInfo | None:
        """The newest finished run of the same design (its name aside) trained on the same data; None if none.

        Same design means every field but `name` equal, seed and epochs included, so
        training it again would give the same run: show the stored one instead.
        """
        return self.cached_runs([spec], data)[0]

    def cached_runs(self, specs: list[ModelSpec], data: Mnist, owner: str | None = None) -> list[RunInfo | None]:
        """`cached_run` for several specs: one indexed lookup each; only `owner`'s runs when given (a key)."""
        data_key = fingerprint(data)
        return [self._newest_finished(spec.design_key(), data_key, owner) for spec in specs]

    def _newest_finished(self, key: str, data_key: str, owner: str | None = None) -> RunInfo | None:
        query = (
            select(runs.c.run_id, runs.c.record)
            .where(runs.c.design_key == key, runs.c.data_fingerprint == data_key, runs.c.status == "finished")
            .order_by(runs.c.created.desc(), runs.c.seq.desc())
        )
        found = self._cached(("same", key, data_key), lambda connection: self._parsed(connection.execute(query).all()))
        mine = (run for run in found if isinstance(run, RunInfo) and (owner is None or run.owner == owner))
        return next(mine, None)

    def _data(self, run_id: str, column):
        with self.engine.connect() as connection:
            value = connection.execute(select(column).where(run_data.c.run_id == run_id)).scalar()
        if value is None:
            self.get(run_id)  # RunNotFound when there is no such run
            raise DamagedRunError(f"run {run_id} has no stored data")
        return value

    def history(self, run_id: str) -> dict:
        """`{"epochs": [...], "batches": [...]}` as saved; DamagedRunError when it is not of that shape."""
        return blobs.unpack_history(self._data(run_id, run_data.c.history), run_id)

    def weights(self, run_id: str) -> WeightHistory:
        """The run's weight snapshots, epoch 0 first; DamagedRunError when they do not fit together."""
        return blobs.unpack_snapshots(self._data(run_id, run_data.c.snapshots), run_id)

    def final_weights(self, run_id: str) -> list:
        """The trained weights, in the order `model.get_weights()` gives them."""
        return blobs.unpack_weights(self._data(run_id, run_data.c.weights), run_id)

    def raw(self, run_id: str) -> tuple[dict, dict]:
        """The record (as JSON) and the data (`blobs`' forms) of a run, to copy it elsewhere unchanged."""
        with self.engine.connect() as connection:
            record = connection.execute(select(runs.c.record).where(runs.c.run_id == run_id)).scalar()
            row = connection.execute(select(run_data).where(run_data.c.run_id == run_id)).mappings().first()
        if record is None or row is None:
            raise RunNotFound(f"no run {run_id!r} in the run store")
        return json.loads(record), {key: row[key] for key in ("history", "snapshots", "weights")}
