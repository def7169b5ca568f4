"""Helpers the test modules share: waiting, a stand-in job in a queue, made-up runs in a store, AppTest pages.

Fixtures live in conftest.py; these are plain functions and classes, imported where used.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import streamlit.runtime.context as st_context
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from mnist_dash import owners
from mnist_dash.jobs import JobQueue, JobStatus
from mnist_dash.jobs import queue as queue_module
from mnist_dash.runs import RunStore
from mnist_dash.runs.database import in_progress
from mnist_dash.spec import LayerSpec, ModelSpec
from mnist_dash.ui import owner as owner_ui
from mnist_dash.ui import resources, state
from mnist_dash.ui import teacher as teacher_ui
from mnist_dash.weights import WeightRecorder
from tests.patience import patience

ROOT = Path(__file__).resolve().parent.parent


# ---- waiting, and the queue ----


def wait_until(predicate, timeout=60.0):
    """Wait for `predicate` until `timeout` seconds, as on a quiet machine: the deadline stretches while this one
    is busy (tests.patience)."""
    start = time.monotonic()
    while time.monotonic() < start + patience(timeout):
        if predicate():
            return
        time.sleep(0.005)
    raise AssertionError(f"condition not reached in {time.monotonic() - start:.0f} s")


def process_gone(pid: int) -> bool:
    """Whether process `pid` has ended (a zombie counts: its parent has not reaped it yet)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] in ("Z", "X")
    except (FileNotFoundError, ProcessLookupError):  # gone between two looks, or before the first
        return True


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class Stand:
    """Enters `queue` as `owner`'s job and waits for its turn on a thread; `finish()` gives the slot back."""

    def __init__(self, queue, job_id: str, owner: str = "someone else", seconds: float = 60.0, spec=None, limits=None):
        self.queue, self.job_id, self.seconds, self.spec = queue, job_id, seconds, spec
        self.owner = owners.named(owner)
        self.cancel = threading.Event()
        self.started = threading.Event()
        self.left: str | None = None
        queue.enter(self, limits)
        self.thread = threading.Thread(target=self._wait, args=(limits,), daemon=True)
        self.thread.start()

    def _wait(self, limits) -> None:
        self.left = self.queue.wait_turn(self, self.cancel, limits.orphan_s if limits else None)
        if self.left is None:
            self.started.set()

    def remaining_seconds(self) -> float:
        return self.seconds

    def finish(self) -> None:
        self.queue.leave(self.job_id)


# ---- made-up runs in a store (no Keras) ----

SPEC = ModelSpec(layers=(LayerSpec(8, batch_norm="after"),), batch_size=64, epochs=2, name="Store test!")


def fake_run(spec: ModelSpec = SPEC, epochs: int | None = None, seed: int = 0) -> dict:
    """What `RunStore.save` takes besides the spec and status, made up: `epochs` epochs of numbers, no Keras."""
    epochs = spec.epochs if epochs is None else epochs
    rng = np.random.default_rng(seed)
    history = [
        {"epoch": e, "loss": 1 / e, "accuracy": 0.8, "val_loss": 1.1 / e, "val_accuracy": 0.75, "seconds": 0.5}
        for e in range(1, epochs + 1)
    ]
    batches = [{"epoch": e / 4, "loss": 2 / (e + 1), "accuracy": 0.1 * e} for e in range(4 * epochs)]
    recorder = WeightRecorder(sample_size=100, seed=seed)
    for _epoch in range(epochs + 1):
        recorder.record(
            {
                "hidden_1": {"kernel": rng.normal(size=(784, 8)), "bias": rng.normal(size=8)},
                "output": {"kernel": rng.normal(size=(8, 10)), "bias": rng.normal(size=10)},
            }
        )
    final = [rng.normal(size=shape).astype(np.float32) for shape in ((784, 8), (8,), (8, 10), (10,))]
    return {"history": history, "batch_history": batches, "weights": recorder.history, "model": final}


def save_fake(store: RunStore, spec: ModelSpec = SPEC, status: str = "finished", seed: int = 0, **extra) -> str:
    """Save a made-up run (see `fake_run`) of `spec`; its run id."""
    epochs = spec.epochs if status == "finished" else 1
    metrics = {"test_loss": 0.5, "test_accuracy": 0.9} if status == "finished" else {}
    return store.save(spec=spec, status=status, **fake_run(spec, epochs, seed), **metrics | extra)


def set_column(store: RunStore, column, run_id: str, value) -> None:
    """Change one stored value behind the store's back, as a hand edit or a damaged disk would."""
    key = column.table.c.marker_id if column.table is in_progress else column.table.c.run_id
    with store.engine.begin() as connection:
        connection.execute(column.table.update().where(key == run_id).values({column.name: value}))


def marker_ids(store: RunStore) -> list[str]:
    """Every row of `in_progress` (runs being trained now, or interrupted), newest first."""
    with store.engine.connect() as connection:
        return list(
            connection.execute(select(in_progress.c.marker_id).order_by(in_progress.c.marker_id.desc())).scalars()
        )


@functools.cache
def a_finished_process() -> dict:
    """`this_process()` as a child process wrote it before it ended: the marker of a server that was killed."""
    code = "import json; from mnist_dash.runs.markers import this_process; print(json.dumps(this_process()))"
    said = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(said.stdout)


def orphan(store: RunStore, marker: str) -> None:
    """Make a marker look as a killed server leaves it: written by a process that has ended."""
    with store.engine.connect() as connection:
        record = json.loads(
            connection.execute(select(in_progress.c.record).where(in_progress.c.marker_id == marker)).scalar_one()
        )
    set_column(store, in_progress.c.record, marker, json.dumps(record | a_finished_process()))


def count_rows(store: RunStore, table) -> int:
    with store.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table)).scalar_one()


def ids(listing) -> list[str]:
    return [run.run_id for run in listing.runs]


def npz(arrays: dict) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


# ---- the app's pages under AppTest ----

APP = str(ROOT / "streamlit_app.py")
TINY_QUERY = {"layers": "16:relu:0.1:after", "epochs": "2", "batch_size": "64", "name": "tiny"}


def fresh_server(monkeypatch) -> None:
    """A server as just started: no cached dataset or store, an empty queue, no owner's drafts.

    Every AppTest session has the same id, so without this one test's jobs and design
    would be the next test's (they are one anonymous owner).
    """
    resources._dataset.clear()
    resources.store.clear()
    resources.class_setting.clear()  # the teacher's settings of another test's store
    state._drafts.clear()
    teacher_ui._browsers.clear()  # every AppTest session is one browser: no teacher signed in from before
    monkeypatch.setattr(queue_module, "_default_queue", None)


# The owner every AppTest session is when it gives no name (they share one session id).
TEST_OWNER = owners.session("test session id")

# AppTest has no browser, so no cookie: a page opened "on a device" gets that device's XSRF cookie, as Streamlit's
# server would set it, while its script runs (a mock for the one thing AppTest cannot have).
_DEVICE = SimpleNamespace(cookie=None)  # the script runs in a thread of its own: not a threading.local
_client_context = st_context._get_client_context


def _device_context():
    cookie = _DEVICE.cookie
    if cookie is None:
        return _client_context()
    return SimpleNamespace(cookies={owner_ui.BROWSER_COOKIE: cookie}, headers={}, remote_ip=None)


st_context._get_client_context = _device_context


def on_device(app: AppTest, device: str) -> AppTest:
    """`app`'s runs, from now on, as a page in the browser `device` (its cookie): a reload of the same device
    keeps the names it holds; another device is another student's."""
    run = app._run

    def run_on_device(*args, **kwargs):
        _DEVICE.cookie = f"device-{device}"
        try:
            return run(*args, **kwargs)
        finally:
            _DEVICE.cookie = None

    app._run = run_on_device
    return app


def open_page(page: str, query: dict | None = None, user: dict | None = None, device: str | None = None) -> AppTest:
    """The app at `page`; anonymous (a public app) unless `user` is given, as `st.user` would have it.

    `device`: the browser it opens in (see `on_device`); by default, a page whose link names a student
    (`me=`) opens on that student's own device, and any other in the one browser of every AppTest session.
    """
    app = AppTest.from_file(APP, default_timeout=60)
    app.user = user or {}
    device = device or (f"of-{query['me'].strip().casefold()}" if query and query.get("me") else None)
    if device is not None:
        on_device(app, device)
    for key, value in (query or {}).items():
        app.query_params[key] = value
    app.run()
    if page != "home":
        app.switch_page(f"app_pages/{page}.py").run()
    assert not app.exception, [e.stack_trace[-3:] for e in app.exception]
    return app


def read(markdown: str) -> str:
    """What a reader sees of text escaped by `mnist_dash.text.md` (backslashes and word joiners gone)."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown).replace("\u2060", "")


def texts(elements) -> str:
    """The elements' text as read on the page."""
    return " ".join(read(str(element.value)) for element in elements)


def rerun_fragment(app: AppTest, monkeypatch, key: str) -> None:
    """What a fragment's `run_every` timer does in a browser: rerun that fragment (by its key) alone.

    AppTest's runs are whole-page runs, which would hide what a fragment's own rerun misses;
    so its rerun request is given the fragment's id, as the browser's timer gives it.
    """
    from streamlit.testing.v1 import local_script_runner

    [fragment] = app._fragment_storage.resolve_target(key)
    whole_page = local_script_runner.RerunData
    with monkeypatch.context() as patch:
        patch.setattr(
            local_script_runner,
            "RerunData",
            lambda **data: whole_page(**data, fragment_id_queue=[fragment], is_auto_rerun=True),
        )
        app.run()
    assert not app.exception, app.exception


def store_a_run(name="tiny", bn="after", dropout=0.1, owner=None):
    """Train a tiny run on the synthetic digits into this test's store (the test session's, by default); its id."""
    from mnist_dash.jobs import TrainingJob

    spec = ModelSpec(layers=(LayerSpec(16, dropout=dropout, batch_norm=bn),), epochs=2, batch_size=64, name=name)
    job = TrainingJob(spec, resources._dataset(), store=RunStore(), queue=JobQueue(1), owner=owner or TEST_OWNER)
    snap = job.start().wait()
    assert snap.status == JobStatus.FINISHED, snap.error
    return snap.run_id


def chart(app, key: str) -> dict:
    """The figure of the chart with `key`, as the browser gets it."""
    return json.loads(next(c for c in app.get("plotly_chart") if c.proto.id.endswith(f"-{key}")).proto.spec)


def labels(app, key: str) -> list[str]:
    return [note["text"] for note in chart(app, key)["layout"]["annotations"]]


def open_units_tab(app) -> None:
    """Choose the units tab, as a click on it does: only the open tab is built."""
    app.session_state["weights_tab"] = "What each unit looks for"
    app.run()


class Outage:
    """A database that stops answering and comes back: a TCP gate between the app and a PostgreSQL server.

    `down()` cuts every connection through it and refuses new ones, as a stopped or unreachable server
    does; `up()` lets them through again. `url` is the database URL through the gate.
    """

    def __init__(self, url: str):
        import socket

        from sqlalchemy.engine import make_url

        target = make_url(url)
        self._target = (target.host, target.port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = target.set(port=self._listener.getsockname()[1]).render_as_string(hide_password=False)
        self._open = threading.Event()
        self._open.set()
        self._pairs: list = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        import socket

        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if not self._open.is_set():
                client.close()  # refused, as a server that is down
                continue
            server = socket.create_connection(self._target)
            with self._lock:
                self._pairs.append((client, server))
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source, sink) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.close()

    def down(self) -> None:
        import socket

        self._open.clear()
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            for end in pair:
                try:
                    end.shutdown(socket.SHUT_RDWR)
                    end.close()
                except OSError:
                    pass

    def up(self) -> None:
        self._open.set()

    def close(self) -> None:
        self.down()
        self._listener.close()


def hold_the_slot():
    """Another student's job trains: whatever this test starts waits in line."""
    holder = Stand(queue_module.default_queue(), "another-students-job", owner="someone else")
    assert holder.started.wait(5)
    return holder
