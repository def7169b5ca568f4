"""The run store after faults: a killed server, half-written runs, hand-edited or damaged files."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from mnist_dash.jobs import JobQueue, JobStatus, TrainingJob
from mnist_dash.runs import DamagedRunError, RunNotFound, RunStore
from mnist_dash.spec import LayerSpec, ModelSpec

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def store_with_a_run(tiny_data, tmp_path_factory) -> Path:
    """A store home holding one finished run; tests copy it."""
    home = tmp_path_factory.mktemp("template")
    spec = ModelSpec(layers=(LayerSpec(16),), batch_size=64, epochs=1, name="completed")
    snap = TrainingJob(spec, tiny_data, store=RunStore(home), queue=JobQueue(1)).start().wait(120)
    assert snap.status == JobStatus.FINISHED, snap.error
    return home


@pytest.fixture
def home(store_with_a_run, tmp_path) -> Path:
    shutil.copytree(store_with_a_run, tmp_path / "home")
    return tmp_path / "home"


def file_digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*.*")}


def kill_child_after(mode: str, line: str, home: Path, tmp_path: Path) -> None:
    """Run tests/crash_child.py in `mode` until it prints `line`, then SIGKILL it."""
    log = tmp_path / f"{mode}.log"
    env = os.environ | {"MNIST_DASH_HOME": str(home), "TF_CPP_MIN_LOG_LEVEL": "3"}
    with log.open("w") as stderr:
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.crash_child", mode], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=stderr
        )
        try:
            said = child.stdout.readline().decode().strip()
            assert said == line, f"the child said {said!r}; its stderr ends: {log.read_text()[-2000:]}"
        finally:
            child.kill()  # SIGKILL: no finally blocks, no atexit, nothing tidied up
            child.wait(30)
            child.stdout.close()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
@pytest.mark.timeout(180)
def test_killed_while_training_shows_as_interrupted_and_the_rest_intact(home, tmp_path):
    before = file_digests(home / "runs")
    kill_child_after("training", "EPOCH", home, tmp_path)
    listing = RunStore(home).list()
    assert [run.spec.name for run in listing.runs] == ["completed"] and listing.damaged == []
    assert file_digests(home / "runs") == before
    [interrupted] = listing.interrupted
    assert interrupted.phase == "training" and interrupted.spec.name == "killed while training"
    assert interrupted.reason == "the server stopped while it trained this run, so the run was not saved"
    assert interrupted.started[:4].isdigit() and interrupted.started.endswith("+00:00")
    assert RunStore(home).dismiss_interrupted(interrupted.marker_id)
    assert RunStore(home).list().interrupted == []


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
@pytest.mark.timeout(180)
def test_killed_while_saving_never_shows_the_half_written_run(home, tmp_path):
    before = file_digests(home / "runs")
    kill_child_after("saving", "SAVING", home, tmp_path)
    [partial] = (home / "runs").glob(".tmp-*")
    assert {p.name for p in partial.iterdir()} == {"model.keras", "weights.npz"}
    store = RunStore(home)
    listing = store.list()
    assert [run.spec.name for run in listing.runs] == ["completed"] and listing.damaged == []
    [interrupted] = listing.interrupted
    assert interrupted.phase == "saving" and interrupted.spec.name == "killed while saving"
    assert "while it saved this run" in interrupted.reason
    assert partial.is_dir()  # kept until the interruption is dismissed, so it can be reported
    assert store.dismiss_interrupted(interrupted.marker_id)
    assert not partial.exists() and store.list().interrupted == []
    assert file_digests(home / "runs") == before


def test_a_marker_of_this_process_is_in_progress_not_interrupted(home):
    store = RunStore(home)
    marker = store.begin_training(ModelSpec(layers=(LayerSpec(8),)))
    assert store.list().interrupted == [] and not store.dismiss_interrupted(marker)
    store.end_training(marker)
    assert store.markers.ids() == []


def orphan(store: RunStore, marker: str) -> None:
    """Make a marker look like a process that is gone (as after a restart: another boot)."""
    path = store.markers.path(marker)
    path.write_text(json.dumps(json.loads(path.read_text()) | {"boot": "an earlier boot", "pid": 999_999_999}))


def test_a_run_saved_just_before_the_kill_is_complete_not_interrupted(home):
    store = RunStore(home)
    [run] = store.list().runs
    marker = store.begin_training(run.spec)
    store.markers.write(marker, run.spec, "saving", run.run_id)  # killed after the rename, before the tidy-up
    orphan(store, marker)
    listing = store.list()
    assert [r.run_id for r in listing.runs] == [run.run_id] and listing.interrupted == []
    assert store.markers.ids() == []


def test_a_half_written_run_no_marker_owns_is_deleted_and_never_listed(home):
    store = RunStore(home)
    [run] = store.list().runs
    leftover = store.runs_dir / f".tmp-{run.run_id[:16]}-old-version"
    shutil.copytree(store.runs_dir / run.run_id, leftover)
    listing = store.list()
    assert [r.run_id for r in listing.runs] == [run.run_id] and listing.interrupted == []
    assert not leftover.exists()


def test_an_unreadable_marker_is_reported_and_can_be_dismissed(home):
    store = RunStore(home)
    marker = store.begin_training(ModelSpec(layers=(LayerSpec(8),)))
    store.markers.path(marker).write_text("{half a reco")
    [interrupted] = store.list().interrupted
    assert interrupted.phase == "unknown" and interrupted.spec is None and "cannot be read" in interrupted.reason
    assert store.dismiss_interrupted(marker) and store.list().interrupted == []


def test_an_interrupted_marker_with_a_hand_edited_spec_still_shows(home):
    store = RunStore(home)
    marker = store.begin_training(ModelSpec(layers=(LayerSpec(8),)))
    orphan(store, marker)
    path = store.markers.path(marker)
    path.write_text(json.dumps(json.loads(path.read_text()) | {"spec": {"layers": "many"}, "run_id": "../../etc"}))
    [interrupted] = store.list().interrupted
    assert interrupted.phase == "training" and interrupted.spec is None
    assert store.dismiss_interrupted(marker)
    assert (home / "runs").is_dir()


@pytest.mark.parametrize("marker_id", ["../../etc/passwd", "", "20260101-000000-zz", None])
def test_dismissing_needs_a_marker_id(home, marker_id):
    with pytest.raises(RunNotFound):
        RunStore(home).dismiss_interrupted(marker_id)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"epochs_run": "many"}, "`epochs_run` is 'many'"),
        ({"params_total": 1.5}, "`params_total` is 1.5"),
        ({"status": "finished?"}, "`status` is 'finished?'"),
        ({"status": None}, "`status` is None"),
        ({"test_accuracy": "high"}, "`test_accuracy` is 'high'"),
        ({"epoch_seconds": 3}, "`epoch_seconds` is 3"),
        ({"epoch_seconds": ["slow"]}, "`epoch_seconds` holds something other than numbers"),
        ({"created": ["today"]}, "`created` is ['today']"),
        ({"data_fingerprint": 7}, "`data_fingerprint` is 7"),
        ({"spec": None}, "spec: must be a JSON object"),
    ],
)
def test_a_hand_edited_record_is_reported_with_the_field(home, change, words):
    store = RunStore(home)
    [run] = store.list().runs
    path = store.runs_dir / run.run_id / "run.json"
    path.write_text(json.dumps(json.loads(path.read_text()) | change))
    listing = store.list()
    assert listing.runs == [] and [d.run_id for d in listing.damaged] == [run.run_id]
    assert words in listing.damaged[0].reason


def test_a_record_that_is_not_an_object_is_reported(home):
    store = RunStore(home)
    [run] = store.list().runs
    (store.runs_dir / run.run_id / "run.json").write_text("[1, 2, 3]")
    [damaged] = store.list().damaged
    assert "not a JSON object" in damaged.reason


@pytest.mark.parametrize("name", ["model.keras", "weights.npz"])
def test_a_binary_file_that_is_not_an_archive_is_reported(home, name):
    store = RunStore(home)
    [run] = store.list().runs
    (store.runs_dir / run.run_id / name).write_bytes(b"\x00" * 100)
    [damaged] = store.list().damaged
    assert f"damaged {name}" in damaged.reason


def test_a_model_archive_that_keras_cannot_load_is_a_damaged_run(home):
    store = RunStore(home)
    [run] = store.list().runs
    with zipfile.ZipFile(store.model_path(run.run_id), "w") as archive:
        archive.writestr("config.json", "{not keras")
    assert [r.run_id for r in store.list().runs] == [run.run_id]  # listing does not load models
    with pytest.raises(DamagedRunError, match=r"unreadable model\.keras"):
        store.load_model(run.run_id)
