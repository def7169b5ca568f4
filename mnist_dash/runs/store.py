"""The run store: every training run in a database (`mnist_dash.runs.database`), whole or not at all.

A run is one row of `runs` (its record, with the columns listings and the result cache
search on, each indexed) and one of `run_data` (history, weight snapshots, final weights),
written in one transaction that also removes the job's in-progress marker. Two servers on
one database never collide: a run id that is taken already is drawn again.

Listings are read once per change, not once per page redraw: every write bumps a revision
counter in the same transaction, and a listing is answered from memory while the revision
it was read at is still the database's (one indexed row read). Records are parsed once per
process (a run never changes once stored); a record that does not parse is a DamagedRun,
listed with the reason. No method returns every run except `list()` (the CLI, export):
pages get the owner's runs and the class's newest (`choices`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import secrets
import threading
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from mnist_dash.data import Mnist, fingerprint
from mnist_dash.owners import Owner
from mnist_dash.runs import blobs
from mnist_dash.runs.database import (
    URL_ENV,
    DatabaseError,
    connect,
    database_url,
    revision,
    run_data,
    runs,
    settings,
    shown_url,
    writing,
)
from mnist_dash.runs.digits import ClassDigits
from mnist_dash.runs.markers import InterruptedRun, Markers, new_marker_id
from mnist_dash.runs.records import DamagedRun, DamagedRunError, RunInfo, RunListing, new_record, run_info
from mnist_dash.spec import ModelSpec, SpecError
from mnist_dash.weights import WeightHistory

CHOICES = 100  # the class's newest runs a page offers beside the owner's own


class RunNotFound(KeyError):
    """No run with that id in the store."""


class StoreWriteError(OSError):
    """The store could not be written (disk full, database gone, ...); the message says how to fix it."""

    @classmethod
    def about(cls, action: str, error: Exception, where: str) -> StoreWriteError:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0][:200] or type(error).__name__
        if "full" in reason.lower() or "space" in reason.lower():
            fix = "Free some space there (delete old runs)"
        else:
            fix = f"Check that the database is reachable and writable (or set {URL_ENV} to another)"
        return cls(f"could not {action}: {reason} (in {where}). {fix}, then train again.")


def history_csv(history: list[dict]) -> str:
    """Per-epoch history as CSV, one row per epoch, columns as Keras names them."""
    columns = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "seconds")
    lines = [",".join(columns)]
    lines += [",".join(f"{record[c]:.6g}" if c != "epoch" else str(record[c]) for c in columns) for record in history]
    return "\n".join(lines) + "\n"


def design_key(spec: ModelSpec) -> str:
    """The design without its name: runs with the same key and data would train the same (the result cache)."""
    design = json.dumps(spec.to_dict() | {"name": ""}, sort_keys=True)
    return hashlib.sha256(design.encode()).hexdigest()[:32]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "custom"


def _revision(connection) -> int:
    return connection.execute(select(revision.c.value).where(revision.c.id == 1)).scalar_one()


class RunStore:
    """The runs in one database; see the module docstring."""

    def __init__(self, location: str | Path | None = None):
        """`location`: a database URL, or a folder (its `runs.db`); None: MNIST_DASH_DB_URL, else MNIST_DASH_HOME.

        Raises DatabaseError (with the fix) when the database cannot be used.
        """
        is_url = isinstance(location, str) and "://" in location
        self.url = location if is_url else database_url(location)
        self.home = Path(location) if location is not None and not is_url else None
        self.engine = connect(self.url)
        self.where = shown_url(self.url)
        self.markers = Markers(self.engine)
        self.digits = ClassDigits(self.engine)  # the class's own handwriting, kept with the runs
        self._lock = threading.Lock()
        self._records: dict[str, RunInfo | DamagedRun] = {}  # parsed once: a stored run never changes
        self._answers: dict[tuple, tuple[int, object]] = {}  # listing -> (revision it was read at, answer)

    # Writing

    def save(
        self,
        *,
        spec: ModelSpec,
        status: str,
        history: list[dict],
        batch_history: list[dict],
        weights: WeightHistory,
        model,
        test_loss: float | None = None,
        test_accuracy: float | None = None,
        marker: str | None = None,
        data_fingerprint: str | None = None,
        owner: Owner | None = None,
    ) -> str:
        """Write one run in one transaction and return its id.

        Args:
            model: the trained Keras model (its final weights are stored), or a list of its weight arrays.
            marker: the id `begin_training` gave this run; removed in the same transaction.
            data_fingerprint: `mnist_dash.data.fingerprint` of the data it trained on (see `find_same`).
            owner: whose run it is (None: nobody's).

        Raises:
            StoreWriteError: the database cannot be written; nothing of the run is left.
        """
        final = model if isinstance(model, list) else model.get_weights()
        now = datetime.now(UTC)
        record = new_record("", str(status), now, spec, history, test_loss, test_accuracy, data_fingerprint)
        if owner is not None:
            record |= {"owner": owner.key, "owner_name": owner.name}
        data = {
            "history": blobs.pack_history(history, batch_history),
            "snapshots": blobs.pack_snapshots(weights),
            "weights": blobs.pack_weights(final),
        }
        for _attempt in range(5):
            run_id = f"{now:%Y%m%d-%H%M%S}-{_slug(spec.name)}-{secrets.token_hex(4)}"
            try:
                self.insert(run_id, record | {"run_id": run_id}, data, marker=marker)
                return run_id
            except IntegrityError:
                continue  # that id was taken a moment ago (another server): draw another
            except SQLAlchemyError as error:
                raise StoreWriteError.about("save the run", error, self.where) from error
        raise StoreWriteError(f"could not save the run: no free run id after 5 tries (in {self.where}).")

    def insert(self, run_id: str, record: dict, data: dict, marker: str | None = None) -> None:
        """Store one run's record and data (`blobs`' forms) as `run_id`; IntegrityError if that id is taken."""
        info = run_info(run_id, record)  # never store what could not be read back
        with writing(self.engine) as connection:
            connection.execute(
                runs.insert().values(
                    run_id=run_id,
                    created=info.created,
                    status=info.status,
                    name=info.spec.name,
                    owner=info.owner,
                    owner_name=info.owner_name,
                    design_key=design_key(info.spec),
                    data_fingerprint=info.data_fingerprint,
                    params_total=info.params_total,
                    epochs_run=info.epochs_run,
                    test_accuracy=info.test_accuracy,
                    record=json.dumps(record),
                )
            )
            connection.execute(run_data.insert().values(run_id=run_id, **data))
            if marker is not None:
                self.markers.remove(marker, connection)
            self._bump(connection)

    def _bump(self, connection) -> None:
        connection.execute(revision.update().where(revision.c.id == 1).values(value=revision.c.value + 1))

    def delete(self, run_id: str) -> None:
        """Remove a run, record and data together; RunNotFound if there is none."""
        with writing(self.engine) as connection:
            gone = connection.execute(runs.delete().where(runs.c.run_id == run_id)).rowcount
            connection.execute(run_data.delete().where(run_data.c.run_id == run_id))
            if gone:
                self._bump(connection)
        if not gone:
            raise RunNotFound(f"no run {run_id!r} in {self.where}")

    def begin_training(self, spec: ModelSpec) -> str:
        """Mark `spec` as training in this process, so a restart can report it if the process dies.

        Returns the marker id for `save(marker=...)` and `end_training`. Raises
        StoreWriteError when the store cannot be written (better said before training than after).
        """
        marker = new_marker_id()
        try:
            self.markers.write(marker, spec)
        except SQLAlchemyError as error:
            raise StoreWriteError.about("write to the run store", error, self.where) from error
        return marker

    def end_training(self, marker: str) -> None:
        """Remove the marker of a run that ended without being saved (stopped early, failed); harmless twice."""
        with contextlib.suppress(SQLAlchemyError):  # best effort: one left behind shows as interrupted, with Dismiss
            self.markers.remove(marker)

    def interrupted(self) -> list[InterruptedRun]:
        """Runs a stopped server left unsaved, newest first (see `mnist_dash.runs.markers`)."""
        return self.markers.interrupted()

    def dismiss_interrupted(self, marker_id: str) -> bool:
        """Forget an interrupted run; False if its process still runs."""
        return self.markers.dismiss(marker_id)

    # Reading records

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
        if parsed is None:
            with self.engine.connect() as connection:
                rows = connection.execute(select(runs.c.run_id, runs.c.record).where(runs.c.run_id == run_id)).all()
            if not rows:
                raise RunNotFound(f"no run {run_id!r} in {self.where}")
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

    def find_same(self, spec: ModelSpec, data: Mnist) -> RunInfo | None:
        """The newest finished run of the same design (its name aside) trained on the same data; None if none.

        Same design means every field but `name` equal, seed and epochs included, so
        training it again would give the same run: show the stored one instead.
        """
        return self.find_each([spec], data)[0]

    def find_each(self, specs: list[ModelSpec], data: Mnist) -> list[RunInfo | None]:
        """`find_same` for several specs: one indexed lookup each."""
        data_key = fingerprint(data)
        return [self._newest_finished(design_key(spec), data_key) for spec in specs]

    def _newest_finished(self, key: str, data_key: str) -> RunInfo | None:
        query = (
            select(runs.c.run_id, runs.c.record)
            .where(runs.c.design_key == key, runs.c.data_fingerprint == data_key, runs.c.status == "finished")
            .order_by(runs.c.created.desc(), runs.c.seq.desc())
        )
        found = self._cached(("same", key, data_key), lambda connection: self._parsed(connection.execute(query).all()))
        return next((run for run in found if isinstance(run, RunInfo)), None)

    # Reading a run's data

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
            raise RunNotFound(f"no run {run_id!r} in {self.where}")
        return json.loads(record), {key: row[key] for key in ("history", "snapshots", "weights")}

    def load_model(self, run_id: str):
        """The trained Keras model, rebuilt from its design and stored weights (imports Keras)."""
        from mnist_dash.model import build_model

        run = self.get(run_id)
        weights = self.final_weights(run_id)
        model = build_model(run.spec)
        try:
            model.set_weights(weights)
        except ValueError as error:
            raise DamagedRunError(f"run {run_id} has final weights that do not fit its design: {error}") from None
        return model

    def keras_file(self, run_id: str) -> bytes:
        """The run's model as a `.keras` file's bytes (built when asked for: the store keeps only the weights)."""
        import tempfile

        model = self.load_model(run_id)
        model.optimizer.build(model.trainable_variables)  # a file Keras loads without warning of a missing optimizer
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"{run_id}.keras"
            model.save(path)
            return path.read_bytes()

    # The class's settings

    def setting(self, key: str) -> str | None:
        with self.engine.connect() as connection:
            return connection.execute(select(settings.c.value).where(settings.c.key == key)).scalar()

    def set_setting(self, key: str, value: str) -> None:
        with writing(self.engine) as connection:
            if connection.execute(settings.update().where(settings.c.key == key).values(value=value)).rowcount == 0:
                connection.execute(settings.insert().values(key=key, value=value))


__all__ = ["CHOICES", "DatabaseError", "RunNotFound", "RunStore", "StoreWriteError", "design_key", "history_csv"]
