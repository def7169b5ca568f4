"""The run store: every run in a database (`mnist_dash.runs.database`), whole or not at all.

This is the writing half; what a store answers is `reading.StoreReader`'s. A run is one row
of `runs` (its record, with the columns listings and the result cache search on, each
indexed) and one of `run_data` (history, weight snapshots, final weights), written in one
transaction that also removes the job's in-progress marker. Two servers on one database
never collide: a run id that is taken already is drawn again. No Keras here: a run's model
is rebuilt from its design and weights by `mnist_dash.predict`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import DisconnectionError, IntegrityError, InterfaceError, OperationalError, SQLAlchemyError

from mnist_dash.owners import Owner
from mnist_dash.plan import count_params
from mnist_dash.runs import blobs
from mnist_dash.runs.claims import Claims
from mnist_dash.runs.database import (
    URL_ENV,
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
from mnist_dash.runs.markers import Markers, new_marker_id
from mnist_dash.runs.reading import RunNotFound, StoreReader
from mnist_dash.runs.records import DamagedRunError, new_record, run_info
from mnist_dash.spec import ModelSpec
from mnist_dash.weights import WeightHistory

log = logging.getLogger(__name__)


class StoreWriteError(OSError):
    """The store could not be written (disk full, database gone, ...); the message says how to fix it.

    `transient`: the database did not answer (it may a moment later: `spool.save_patiently` tries again).
    """

    transient = False

    @classmethod
    def about(cls, action: str, error: Exception, where: str) -> StoreWriteError:
        """The error for a page: what failed and how to fix it, never the database's user, host or port (a
        connection error's words hold them); those go to the server's log with `where`."""
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0][:200] or type(error).__name__
        log.warning("could not %s in %s: %s", action, where, reason)
        transient = isinstance(error, OperationalError | InterfaceError | DisconnectionError)
        if "full" in reason.lower() or "space" in reason.lower():
            fix = "Free some space there (delete old runs)"
        else:
            fix = f"Check that the database is reachable and writable (or set {URL_ENV} to another)"
        scheme = where.split("://", 1)[0].split("+", 1)[0] if "://" in where else "database"
        backend = {"postgres": "postgresql"}.get(scheme, scheme)
        # A server's connection error names its host, port and user; a SQLite file's errors name none of them.
        hidden = transient and backend != "sqlite" and fix.startswith("Check")
        said = "the database did not answer" if hidden else reason
        made = cls(
            f"could not {action}: {said} (the {backend} run store; the server's log has the details). "
            f"{fix}, then train again."
        )
        made.transient = transient
        return made


@dataclass(frozen=True)
class PackedRun:
    """A run as the store writes it: its record (without an id yet) and its data's three blobs."""

    created: datetime
    name: str
    record: dict
    data: dict  # history (JSON text), snapshots, weights (bytes)

    def owned_by(self, owner: Owner | None) -> PackedRun:
        """The same run as `owner`'s (a run trained elsewhere, stored by this server for its student)."""
        if owner is None:
            return self
        return PackedRun(
            self.created, self.name, self.record | {"owner": owner.key, "owner_name": owner.name}, self.data
        )

    def problems(self, spec: ModelSpec) -> list[str]:
        """What does not fit `spec` in a run trained elsewhere (a cluster's node): its design, its epochs
        against its history, its test accuracy, its weights' count; empty when it may be stored."""
        record, found = self.record, []
        if record.get("spec") != spec.to_dict():
            found.append("its design is not the job's")
        epochs = record.get("epochs_run")
        if type(epochs) is not int or not 1 <= epochs <= spec.epochs:
            found.append(f"it says {epochs!r:.20} epochs, for a job of {spec.epochs}")
        elif record.get("status") == "finished" and epochs != spec.epochs:
            found.append(f"it says finished after {epochs} of {spec.epochs} epochs")
        accuracy = record.get("test_accuracy")
        if accuracy is not None and not (type(accuracy) in (int, float) and 0.0 <= accuracy <= 1.0):
            found.append(f"its test accuracy {accuracy!r:.20} is not between 0 and 1")
        try:
            history = blobs.unpack_history(self.data["history"], "returned")
            if len(history["epochs"]) != epochs:
                found.append(f"its history has {len(history['epochs'])} epochs, not {epochs!r:.20}")
            weights = blobs.unpack_weights(self.data["weights"], "returned")
            if sum(int(array.size) for array in weights) != count_params(spec).total:
                found.append(f"its weights are not the {count_params(spec).total:,} parameters of its design")
            blobs.unpack_snapshots(self.data["snapshots"], "returned")
        except (DamagedRunError, KeyError, TypeError) as error:
            found.append(str(error))
        return found


def pack_run(
    spec: ModelSpec,
    status: str,
    history: list[dict],
    batch_history: list[dict],
    weights: WeightHistory,
    model: list,
    test_loss: float | None = None,
    test_accuracy: float | None = None,
    data_fingerprint: str | None = None,
    owner: Owner | None = None,
) -> PackedRun:
    """What `RunStore.save` writes, ready to write (or to keep on disk while the database does not answer)."""
    now = datetime.now(UTC)
    record = new_record("", str(status), now, spec, history, test_loss, test_accuracy, data_fingerprint)
    if owner is not None:
        record |= {"owner": owner.key, "owner_name": owner.name}
    data = {
        "history": blobs.pack_history(history, batch_history),
        "snapshots": blobs.pack_snapshots(weights),
        "weights": blobs.pack_weights(model),
    }
    return PackedRun(now, spec.name, record, data)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "custom"


class RunStore(StoreReader):
    """The runs in one database, read (`StoreReader`) and written; see the module docstring."""

    def __init__(self, location: str | Path | None = None):
        """`location`: a database URL, or a folder (its `runs.db`); None: MNIST_DASH_DB_URL, else MNIST_DASH_HOME.

        Raises DatabaseError (with the fix) when the database cannot be used.
        """
        is_url = isinstance(location, str) and "://" in location
        self.url = location if is_url else database_url(location)
        self.home = Path(location) if location is not None and not is_url else None
        super().__init__()
        self.engine = connect(self.url)
        self.where = shown_url(self.url)
        self.markers = Markers(self.engine)
        self.digits = ClassDigits(self.engine)  # the class's own handwriting, kept with the runs
        self.claims = Claims(self.engine)  # the names browsers hold
        self._stale: set[str] = set()  # markers to remove once the database answers again (`end_training`)
        self._stale_lock = threading.Lock()

    # Writing

    def save(
        self,
        *,
        spec: ModelSpec,
        status: str,
        history: list[dict],
        batch_history: list[dict],
        weights: WeightHistory,
        model: list,
        test_loss: float | None = None,
        test_accuracy: float | None = None,
        marker: str | None = None,
        data_fingerprint: str | None = None,
        owner: Owner | None = None,
    ) -> str:
        """Write one run in one transaction and return its id.

        Args:
            model: the trained model's weight arrays, as `model.get_weights()` gives them (stored exactly).
            marker: the id `begin_training` gave this run; removed in the same transaction.
            data_fingerprint: `mnist_dash.data.fingerprint` of the data it trained on (see `cached_run`).
            owner: whose run it is (None: nobody's).

        Raises:
            StoreWriteError: the database cannot be written; nothing of the run is left.
        """
        return self.save_packed(
            pack_run(
                spec, status, history, batch_history, weights, model, test_loss, test_accuracy, data_fingerprint, owner
            ),
            marker,
        )

    def save_packed(self, run: PackedRun, marker: str | None = None) -> str:
        """Store a run `pack_run` made, under a fresh id; returns the id (see `save`)."""
        for _attempt in range(5):
            run_id = f"{run.created:%Y%m%d-%H%M%S}-{_slug(run.name)}-{secrets.token_hex(4)}"
            try:
                self.insert(run_id, run.record | {"run_id": run_id}, run.data, marker=marker)
                return run_id
            except IntegrityError:
                continue  # that id was taken a moment ago (another server): draw another
            except SQLAlchemyError as error:
                raise StoreWriteError.about("save the run", error, self.where) from error
        raise StoreWriteError("could not save the run: no free run id after 5 tries; train again.")

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
                    design_key=info.spec.design_key(),
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
            raise RunNotFound(f"no run {run_id!r} in the run store")

    def begin_training(self, spec: ModelSpec, owner: Owner | None = None, in_line: str | None = None) -> str:
        """Mark `spec` as training in this process, so a restart can report it if the process dies; `in_line`:
        the job's marker of waiting in line (`mark_in_line`), removed in the same transaction.

        Returns the marker id for `save(marker=...)` and `end_training`. Raises
        StoreWriteError when the store cannot be written (better said before training than after).
        """
        marker = new_marker_id()
        try:
            self.markers.write(marker, spec, owner.key if owner is not None else None, replacing=in_line)
        except SQLAlchemyError as error:
            raise StoreWriteError.about("write to the run store", error, self.where) from error
        return marker

    def mark_in_line(self, spec: ModelSpec, owner: Owner | None = None) -> str | None:
        """Mark `spec` as waiting in line in this process, so a restart can tell its owner it left the line;
        the marker's id, or None when the store cannot be written now (it is news, not the job's to fail on)."""
        marker = new_marker_id()
        try:
            self.markers.write(marker, spec, owner.key if owner is not None else None, phase="queued")
        except SQLAlchemyError:
            return None
        return marker

    def end_training(self, marker: str) -> None:
        """Remove the marker of a run that ended without being saved (stopped early, failed), or of a job that left
        the line; harmless twice. While the database does not answer, it is kept to remove when it answers again
        (`forget_stale_markers`): left behind, a restart would show it as an interrupted job."""
        try:
            self.markers.remove(marker)
        except SQLAlchemyError:
            with self._stale_lock:
                self._stale.add(marker)

    def forget_stale_markers(self) -> int:
        """Remove the markers `end_training` could not; how many went (the spool's thread calls it)."""
        with self._stale_lock:
            stale = set(self._stale)
        gone = 0
        for marker in stale:
            with contextlib.suppress(SQLAlchemyError):
                self.markers.remove(marker)
                gone += 1
                with self._stale_lock:
                    self._stale.discard(marker)
        return gone

    def dismiss_interrupted(self, marker_id: str) -> bool:
        """Forget an interrupted run; False if its process still runs."""
        return self.markers.dismiss(marker_id)

    # The class's settings

    def setting(self, key: str) -> str | None:
        with self.engine.connect() as connection:
            return connection.execute(select(settings.c.value).where(settings.c.key == key)).scalar()

    def set_setting(self, key: str, value: str) -> None:
        with writing(self.engine) as connection:
            if connection.execute(settings.update().where(settings.c.key == key).values(value=value)).rowcount == 0:
                connection.execute(settings.insert().values(key=key, value=value))
