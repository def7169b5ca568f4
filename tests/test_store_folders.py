"""Runs in and out of the database as folders: the store before the database (tests/fixtures/folder_store), backups.

Importing reads each run's model.keras and exporting writes one, so these tests load Keras.
"""

from __future__ import annotations

import functools
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from mnist_dash.cli import main
from mnist_dash.folder_store import IMPORT_SETTING, RUN_FILES, export_folder, import_folder, run_folders
from mnist_dash.runs import RunStore
from mnist_dash.spec import from_dict
from mnist_dash.weights import WeightHistory
from tests.support import ids

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "folder_store"
RUN_IDS = ["20261127-064638-legacy-tiny-42c6", "20261127-064640-legacy-bn-66d5"]  # oldest first


@functools.cache
def keras_weights(run_id: str) -> list[np.ndarray]:
    """The trained weights as the folder store kept them: its model.keras, loaded by Keras itself."""
    import keras

    return keras.saving.load_model(FIXTURE / "runs" / run_id / "model.keras", compile=False).get_weights()


def snapshots_of(folder: Path) -> WeightHistory:
    with np.load(folder / "weights.npz", allow_pickle=False) as arrays:
        return WeightHistory.from_arrays(arrays)


def assert_same_snapshots(got: WeightHistory, expected: WeightHistory, tolerance: float = 0.0) -> None:
    assert list(got.shapes) == list(expected.shapes) and got.shapes == expected.shapes and got.epochs == expected.epochs
    for key in expected.shapes:
        np.testing.assert_array_equal(got.indices[key], expected.indices[key])
        np.testing.assert_array_equal(np.stack(got.stats[key]), np.stack(expected.stats[key]))
        np.testing.assert_allclose(
            np.stack(got.samples[key]), np.stack(expected.samples[key]), rtol=tolerance, atol=tolerance
        )


def test_a_folder_store_is_imported_whole_and_a_second_import_brings_nothing_new(database_url):
    store = RunStore(database_url)
    said = []
    report = import_folder(store, FIXTURE, progress=said.append)
    assert (report.imported, report.already, report.damaged) == (RUN_IDS, [], [])
    assert said == [f"imported {run_id}" for run_id in RUN_IDS]
    listing = store.list()
    assert ids(listing) == RUN_IDS[::-1] and listing.damaged == [] and store.revision() == 2
    for run_id in RUN_IDS:
        folder = FIXTURE / "runs" / run_id
        record = json.loads((folder / "run.json").read_text())
        info = store.get(run_id)
        assert store.raw(run_id)[0] == record and info.spec == from_dict(record["spec"])
        assert (info.created, info.status, info.epochs_run) == (record["created"], "finished", record["epochs_run"])
        assert (info.test_accuracy, info.data_fingerprint) == (record["test_accuracy"], record["data_fingerprint"])
        assert (info.owner, info.owner_name) == (record["owner"], record["owner_name"])
        assert store.history(run_id) == json.loads((folder / "history.json").read_text())
        assert_same_snapshots(store.weights(run_id), snapshots_of(folder), tolerance=2e-3)  # samples kept as float16
        for got, expected in zip(store.final_weights(run_id), keras_weights(run_id), strict=True):
            np.testing.assert_array_equal(got, expected)
    assert [run.run_id for run in store.owned("name:ada")] == [RUN_IDS[0]] and store.count_owned("local") == 1
    said.clear()
    again = import_folder(store, FIXTURE / "runs", progress=said.append)  # the runs folder itself does too
    assert (again.imported, again.already, again.damaged) == ([], RUN_IDS, [])
    assert said == [f"already in the store: {run_id}" for run_id in RUN_IDS] and store.revision() == 2
    store.engine.dispose()


def test_exported_runs_come_back_unchanged_into_an_empty_store(database_url, tmp_path):
    store = RunStore(database_url)
    import_folder(store, FIXTURE)
    said = []
    assert sorted(export_folder(store, tmp_path / "backup", progress=said.append)) == RUN_IDS
    assert sorted(said) == [f"exported {run_id}" for run_id in RUN_IDS]
    assert [path.name for path in run_folders(tmp_path / "backup")] == RUN_IDS
    assert sorted(path.name for path in (tmp_path / "backup" / "runs").iterdir()) == RUN_IDS  # nothing half-written
    for run_id in RUN_IDS:
        assert sorted(path.name for path in (tmp_path / "backup" / "runs" / run_id).iterdir()) == sorted(RUN_FILES)
    said.clear()
    assert export_folder(store, tmp_path / "backup", progress=said.append) == []  # a run written already is kept
    assert sorted(said) == [f"already exported: {run_id}" for run_id in RUN_IDS]
    restored = RunStore(tmp_path / "restored")
    assert import_folder(restored, tmp_path / "backup").imported == RUN_IDS
    assert ids(restored.list()) == ids(store.list())
    for run_id in RUN_IDS:
        assert restored.raw(run_id)[0] == store.raw(run_id)[0] and restored.get(run_id) == store.get(run_id)
        assert restored.history(run_id) == store.history(run_id)
        assert_same_snapshots(restored.weights(run_id), store.weights(run_id))  # exact: float16 both ways
        for got, expected in zip(restored.final_weights(run_id), store.final_weights(run_id), strict=True):
            np.testing.assert_array_equal(got, expected)
    store.engine.dispose()


def test_damaged_run_folders_are_skipped_with_the_reason(tmp_path, monkeypatch, capsys):
    runs = tmp_path / "old" / "runs"
    for name, damage in [
        ("20260101-000000-no-model", lambda folder: (folder / "model.keras").unlink()),
        ("20260101-000001-bad-record", lambda folder: (folder / "run.json").write_text("{not json")),
        ("20260101-000002-bad-spec", lambda folder: (folder / "run.json").write_text(json.dumps({"spec": None}))),
        ("20260101-000003-bad-history", lambda folder: (folder / "history.json").write_text('{"epochs": 3}')),
    ]:
        shutil.copytree(FIXTURE / "runs" / RUN_IDS[0], runs / name)
        damage(runs / name)
    (runs / "not-a-run").mkdir()
    (runs / "stray.txt").write_text("not a run")
    store = RunStore(tmp_path / "home")
    report = import_folder(store, tmp_path / "old")
    reasons = dict(report.damaged)
    assert report.imported == [] and sorted(reasons) == sorted(path.name for path in run_folders(tmp_path / "old"))
    assert reasons["20260101-000000-no-model"] == "it lacks model.keras"
    assert reasons["20260101-000001-bad-record"].startswith("it cannot be read: Expecting property name")
    assert "cannot be read" in reasons["20260101-000002-bad-spec"]
    assert "damaged history: it is not a list of epochs" in reasons["20260101-000003-bad-history"]
    assert store.list().runs == [] and store.revision() == 0
    monkeypatch.setenv("MNIST_DASH_DB_URL", store.url)  # the CLI: every run damaged is a failure
    assert main(["store", "import", str(tmp_path / "old")]) == 1
    said = capsys.readouterr().out.splitlines()
    assert said[0] == "skipped 20260101-000000-no-model: it lacks model.keras"
    assert said[-1] == f"0 imported, 0 already in the store, 4 damaged and skipped, into {store.where}"


def test_the_store_commands(database_url, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MNIST_DASH_DB_URL", database_url)
    where = RunStore(database_url).where
    assert main(["runs"]) == 0 and capsys.readouterr().out == f"no runs in {where}\n"
    assert main(["store", "import", str(FIXTURE)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        *(f"imported {run_id}" for run_id in RUN_IDS),
        f"2 imported, 0 already in the store, 0 damaged and skipped, into {where}",
    ]
    assert RunStore(database_url).setting(IMPORT_SETTING) == "done"  # the app offers the import no more
    assert main(["store", "import", str(FIXTURE)]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("0 imported, 2 already in the store, 0 damaged")
    assert main(["runs"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in listed] == RUN_IDS[::-1]
    assert "  finished     1 epoch  test acc " in listed[0] and "  finished    2 epochs  test acc 0.8614  " in listed[1]
    assert main(["store", "export", "--out", str(tmp_path / "backup")]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"2 runs written under {tmp_path / 'backup' / 'runs'}"
    assert [path.name for path in run_folders(tmp_path / "backup")] == RUN_IDS
    (tmp_path / "empty").mkdir()
    for nothing in (tmp_path / "empty", tmp_path / "not there"):
        assert main(["store", "import", str(nothing)]) == 2
        said = capsys.readouterr()
        assert said.out == "" and said.err == (
            f"error: no runs found in {nothing} (a folder store has runs/<run_id>/run.json)\n"
        )


@pytest.mark.parametrize("command", [["runs"], ["store", "import", str(FIXTURE)], ["store", "export"]])
def test_the_store_commands_say_in_one_line_when_the_database_cannot_be_used(monkeypatch, capsys, command):
    monkeypatch.setenv("MNIST_DASH_DB_URL", "postgres//user:pw@host/runs")
    assert main(command) == 1
    said = capsys.readouterr()
    assert said.err.startswith("error: MNIST_DASH_DB_URL is not a database URL") and said.err.count("\n") == 1
    assert ":pw@" not in said.err


def test_only_folders_named_exactly_as_a_run_are_runs(tmp_path):
    """`re.match` with `$` took "20261127-100000-ada\\n" for a run id: a folder name must be one whole id."""
    for name in ("20261127-100000-ada", "20261127-100000-ada\n", "x20261127-100000-ada", "20261127-100000-Ada"):
        (tmp_path / name).mkdir()
    assert [path.name for path in run_folders(tmp_path)] == ["20261127-100000-ada"]


def _declaring_npz(path, elements: int) -> None:
    """A weights.npz of a few hundred bytes whose one array's header declares `elements` float32 values."""
    import io
    import zipfile

    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False, "shape": (elements,)})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("layer_0.npy", header.getvalue() + b"\0" * 64)


def test_an_import_refuses_oversized_files_before_reading_them(tmp_path):
    """A 575 kB weights.npz declaring 128 MB took 179 s and 5.7 GB to import: headers and sizes come first."""
    runs = tmp_path / "old" / "runs"
    for name in ("20260101-000000-huge-arrays", "20260101-000001-huge-record", "20260101-000002-fine"):
        shutil.copytree(FIXTURE / "runs" / RUN_IDS[0], runs / name)
    _declaring_npz(runs / "20260101-000000-huge-arrays" / "weights.npz", 32 * 2**20)  # 128 MB declared
    record = json.loads((runs / "20260101-000001-huge-record" / "run.json").read_text())
    (runs / "20260101-000001-huge-record" / "run.json").write_text(json.dumps(record | {"pad": "x" * 300_000}))
    store = RunStore(tmp_path / "home")
    report = import_folder(store, tmp_path / "old")
    reasons = dict(report.damaged)
    assert report.imported == ["20260101-000002-fine"]
    assert reasons["20260101-000000-huge-arrays"] == (
        "its weights.npz declares 134,217,728 bytes of arrays, more than a run's can be"
    )
    assert reasons["20260101-000001-huge-record"].startswith("its run.json is 30")
    assert store.history("20260101-000002-fine")["epochs"]
