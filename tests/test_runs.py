"""The run store's contract, on SQLite and on PostgreSQL (`database_url`): what is saved is read back whole.

Most runs here are made up (`tests.support.fake_run`: numbers of the right shapes, no Keras), so
the suite stays fast; the tests of `load_model` and `keras_file` train one tiny model.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError

from mnist_dash.data import fingerprint
from mnist_dash.keras_export import keras_file, load_model
from mnist_dash.owners import named
from mnist_dash.plan import count_params
from mnist_dash.runs import (
    DamagedRun,
    DamagedRunError,
    RunNotFound,
    RunStore,
    StoreWriteError,
    default_home,
    history_csv,
)
from mnist_dash.runs import reading as reading_module
from mnist_dash.runs.database import in_progress, run_data, runs
from mnist_dash.spec import LayerSpec, ModelSpec
from tests.support import SPEC, count_rows, fake_run, ids, marker_ids, npz, orphan, save_fake, set_column

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def store(database_url):
    store = RunStore(database_url)
    yield store
    store.engine.dispose()


# Saving and reading back


def test_save_then_read_everything_back(store):
    made = fake_run(SPEC)
    run_id = store.save(spec=SPEC, status="finished", test_loss=0.5, test_accuracy=0.9, owner=named("Ada"), **made)
    assert run_id.split("-")[2:4] == ["store", "test"] and len(run_id.split("-")[-1]) == 8
    info = store.get(run_id)
    assert (info.run_id, info.spec, info.status, info.epochs_run) == (run_id, SPEC, "finished", 2)
    assert info.epoch_seconds == (0.5, 0.5) and info.params_total == count_params(SPEC).total
    assert (info.test_loss, info.test_accuracy, info.owner, info.owner_name) == (0.5, 0.9, "name:ada", "Ada")
    assert info.created.endswith("+00:00") and info.data_fingerprint is None
    assert store.history(run_id) == {"epochs": made["history"], "batches": made["batch_history"]}
    for got, saved in zip(store.final_weights(run_id), made["model"], strict=True):
        np.testing.assert_array_equal(got, saved)  # exact: a model rebuilt from them predicts as the trained one
    snapshots, original = store.weights(run_id), made["weights"]
    assert snapshots.epochs == 3 and list(snapshots.shapes) == list(original.shapes)
    for key in original.shapes:
        np.testing.assert_array_equal(snapshots.indices[key], original.indices[key])
        np.testing.assert_array_equal(np.stack(snapshots.stats[key]), np.stack(original.stats[key]))  # exact
        samples = np.stack(snapshots.samples[key])
        assert samples.dtype == np.float32  # kept as float16: they only draw violins
        np.testing.assert_allclose(samples, np.stack(original.samples[key]), rtol=1e-3, atol=1e-3)
    record, data = store.raw(run_id)
    assert record["run_id"] == run_id and record["spec"] == SPEC.to_dict()
    assert set(data) == {"history", "snapshots", "weights"}


def test_unit_images_are_stored_as_int8_steps_and_read_back_within_half_a_level(store):
    made = fake_run(SPEC)
    original = made["weights"]
    run_id = store.save(spec=SPEC, status="finished", **made)
    with np.load(io.BytesIO(store.raw(run_id)[1]["snapshots"])) as arrays:
        assert arrays["units/steps"].dtype == np.int8 and "units/kernels" not in arrays.files
    got = store.weights(run_id)
    np.testing.assert_array_equal(got.unit_ids, original.unit_ids)  # all 8 units of hidden_1, most moved first
    assert sorted(got.unit_ids.tolist()) == list(range(8)) and got.unit_kernels.dtype == np.float32
    kept = original.unit_kernels.astype(np.float32)
    level = np.abs(kept).max() / 127  # one scale for the whole run
    assert np.abs(got.unit_kernels - kept).max() <= level / 2 + 1e-6
    # Steps from epoch to epoch wrap around in int8 (the fake weights jump across the whole range): still exact.
    assert np.abs(np.diff(np.round(kept / level), axis=0)).max() > 127


def test_a_run_stored_before_unit_images_were_kept_still_loads(store):
    run_id = save_fake(store)
    arrays = fake_run()["weights"].to_arrays()
    del arrays["units/ids"], arrays["units/kernels"]  # as runs were stored before them
    set_column(store, run_data.c.snapshots, run_id, npz(arrays))
    snapshots = store.weights(run_id)
    assert snapshots.unit_ids is None and snapshots.unit_kernels is None and snapshots.epochs == 3


def test_listing_is_newest_first_keeps_stopped_runs_and_sorts_imported_runs_by_their_date(store):
    first = save_fake(store, status="stopped")
    second = save_fake(store)  # most likely within the same second: the order saved decides
    record, data = store.raw(first)
    old = "20200101-000000-from-an-old-store"
    store.insert(old, record | {"run_id": old, "created": "2020-01-01T00:00:00+00:00"}, data)  # inserted last, oldest
    listing = store.list()
    assert [run.run_id for run in listing.runs] == [second, first, old]
    assert listing.damaged == [] and listing.interrupted == []
    assert store.get(first).status == "stopped" and store.get(first).test_accuracy is None


def test_choices_are_the_owners_runs_and_the_classs_newest(store):
    ada, bea = named("Ada"), named("Bea")
    a1, b1, a2, b2, nobody, a3 = (
        save_fake(store, owner=ada),
        save_fake(store, owner=bea),
        save_fake(store, owner=ada),
        save_fake(store, owner=bea),
        save_fake(store),
        save_fake(store, owner=ada),
    )
    assert ids(store.choices(ada.key, limit=2)) == [a3, nobody, a2, a1]  # the newest two, and all of Ada's
    assert ids(store.choices(bea.key, limit=2)) == [a3, nobody, b2, b1]
    assert ids(store.choices(None, limit=2)) == [a3, nobody]
    assert ids(store.choices("name:zed", limit=100)) == [a3, nobody, b2, a2, b1, a1]
    assert [run.run_id for run in store.owned(ada.key)] == [a3, a2, a1] and store.owned("name:zed") == []
    assert (store.count_owned(ada.key), store.count_owned(bea.key), store.count_owned("name:zed")) == (3, 2, 0)
    store.delete(a2)
    assert store.count_owned(ada.key) == 2 and ids(store.choices(ada.key, limit=1)) == [a3, a1]
    save_fake(store, owner=bea)
    assert store.count_owned(bea.key) == 3  # a count is read again once a run is stored


def test_find_same_finds_a_finished_run_of_the_same_design_and_data(store, tiny_data):
    from mnist_dash.data import Mnist

    spec = SPEC
    assert store.cached_run(spec, tiny_data) is None
    save_fake(store)  # saved without a fingerprint (as before there were any): never the same
    save_fake(store, status="stopped", data_fingerprint=fingerprint(tiny_data))  # cut short: not the same run
    assert store.cached_run(spec, tiny_data) is None
    run_id = save_fake(store, data_fingerprint=fingerprint(tiny_data))
    assert store.get(run_id).data_fingerprint == fingerprint(tiny_data)
    assert store.cached_run(spec, tiny_data).run_id == run_id
    assert store.cached_run(spec.replace(name="renamed"), tiny_data).run_id == run_id
    others = [
        spec.replace(seed=1),
        spec.replace(epochs=3),
        spec.replace(learning_rate=0.002),
        spec.replace(layers=(LayerSpec(9, batch_norm="after"),)),
        spec.replace(layers=(LayerSpec(8, batch_norm="before"),)),
        spec.replace(validation="holdout"),
    ]
    assert [store.cached_run(other, tiny_data) for other in others] == [None] * len(others)
    fewer_tests = Mnist(tiny_data.x_train, tiny_data.y_train, tiny_data.x_test[:-1], tiny_data.y_test[:-1])
    assert store.cached_run(spec, fewer_tests) is None
    # Several designs at once: answers in the order asked; the newest of two equal runs.
    newer = save_fake(store, spec.replace(name="again"), data_fingerprint=fingerprint(tiny_data))
    found = store.cached_runs([others[0], spec.replace(name="asked"), others[1]], tiny_data)
    assert [run.run_id if run else None for run in found] == [None, newer, None]
    store.delete(newer)
    assert store.cached_run(spec, tiny_data).run_id == run_id


def test_an_owners_cached_runs_are_their_own_not_a_classmates(store, tiny_data):
    """A 3-seed challenge entry counts the student's own seeds: "Entered" was shown when a classmate had
    trained seeds 2 and 3 of the same design, and the board (which ranks an owner's seeds) never ranked it."""
    ada, bo = named("ada"), named("bo")
    mine = save_fake(store, SPEC.replace(seed=2), owner=ada, data_fingerprint=fingerprint(tiny_data))
    theirs = save_fake(store, SPEC.replace(seed=2), owner=bo, data_fingerprint=fingerprint(tiny_data))  # newer
    save_fake(store, SPEC.replace(seed=3), owner=bo, data_fingerprint=fingerprint(tiny_data))
    seeds = [SPEC.replace(seed=2), SPEC.replace(seed=3)]
    assert [run.run_id if run else None for run in store.cached_runs(seeds, tiny_data, owner=ada.key)] == [mine, None]
    assert store.cached_runs(seeds, tiny_data)[0].run_id == theirs  # the result cache itself is the class's


def test_delete_removes_the_run_and_its_data(store):
    keep, doomed = save_fake(store), save_fake(store)
    store.delete(doomed)
    assert [run.run_id for run in store.list().runs] == [keep] and count_rows(store, run_data) == 1
    for read in (store.delete, store.get, store.history, store.weights, store.final_weights, store.raw):
        with pytest.raises(RunNotFound):
            read(doomed)


def test_a_run_id_that_is_not_there_is_not_found(store):
    save_fake(store)
    for run_id in ["../../etc", "", "20260101-000000-x/../../y", "a b", "x' OR '1'='1"]:
        for read in (store.get, store.history, store.raw):
            with pytest.raises(RunNotFound):
                read(run_id)


def test_the_revision_moves_on_save_and_delete_only(store):
    assert store.revision() == 0
    run_id = save_fake(store)
    assert store.revision() == 1
    marker = store.begin_training(SPEC)
    store.end_training(marker)
    store.set_setting("anything", "yes")
    store.list(), store.choices("name:ada"), store.get(run_id), store.history(run_id), store.count_owned("x")
    with pytest.raises(RunNotFound):
        store.delete("20260101-000000-not-there")
    assert store.revision() == 1
    store.delete(run_id)
    assert store.revision() == 2
    assert RunStore(store.url).revision() == 2  # it is the database's, not this object's


def test_records_are_parsed_once_and_listings_read_again_only_after_a_change(store, monkeypatch):
    first, second = save_fake(store, owner=named("Ada")), save_fake(store)
    parsed, statements = [], []
    real_run_info = reading_module.run_info
    monkeypatch.setattr(
        reading_module, "run_info", lambda run_id, record: parsed.append(run_id) or real_run_info(run_id, record)
    )
    assert {run.run_id for run in store.list().runs} == {first, second} and sorted(parsed) == sorted([first, second])
    parsed.clear()
    store.list(), store.choices("name:ada"), store.owned("name:ada"), store.count_owned("name:ada")
    store.get(first), store.get(second)
    assert parsed == []  # a stored run never changes: parsed once per process
    event.listen(store.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    assert ids(store.list()) == [second, first] and ids(store.choices("name:ada")) == [second, first]
    assert [run.run_id for run in store.owned("name:ada")] == [first] and store.count_owned("name:ada") == 1
    assert [s for s in statements if "FROM runs" in s] == []  # the revision did not move: answered from memory
    third = save_fake(store)
    parsed.clear()
    assert ids(store.list()) == [third, second, first] and parsed == [third]  # read again; only the new one parsed
    assert [s for s in statements if "runs.record" in s]


def test_a_run_is_stored_whole_or_not_at_all(store):
    earlier = save_fake(store)
    marker = store.begin_training(SPEC)

    def fail_before_commit(connection, cursor, statement, *args):  # the last write of the save's transaction
        if statement.lstrip().upper().startswith("UPDATE REVISION"):
            raise OperationalError(statement, {}, Exception("the server closed the connection unexpectedly"))

    event.listen(store.engine, "before_cursor_execute", fail_before_commit)
    said = r"could not save the run: (the server closed the connection|the database did not answer)"  # PostgreSQL
    with pytest.raises(StoreWriteError, match=said):
        save_fake(store, marker=marker)
    event.remove(store.engine, "before_cursor_execute", fail_before_commit)
    assert [run.run_id for run in RunStore(store.url).list().runs] == [earlier]
    assert count_rows(store, runs) == count_rows(store, run_data) == 1 and store.revision() == 1
    assert marker_ids(store) == [marker]  # not saved, so still in progress
    run_id = save_fake(store, marker=marker)
    assert marker_ids(store) == [] and {run.run_id for run in store.list().runs} == {earlier, run_id}


def test_an_empty_store_lists_nothing(tmp_path):
    store = RunStore(tmp_path / "never-created")
    listing = store.list()
    assert listing.runs == [] and listing.damaged == [] and listing.interrupted == []
    assert (tmp_path / "never-created" / "runs.db").is_file() and store.home == tmp_path / "never-created"


def test_the_store_comes_from_the_environment(tmp_path, monkeypatch, database_url):
    monkeypatch.setenv("MNIST_DASH_HOME", str(tmp_path / "elsewhere"))
    monkeypatch.delenv("MNIST_DASH_DB_URL", raising=False)
    assert default_home() == tmp_path / "elsewhere"
    assert RunStore().url == f"sqlite:///{tmp_path / 'elsewhere' / 'runs.db'}"
    assert (tmp_path / "elsewhere" / "runs.db").is_file()
    monkeypatch.setenv("MNIST_DASH_DB_URL", f" {database_url} ")
    from_env = RunStore()
    assert from_env.url == database_url and from_env.home is None
    save_fake(from_env)
    assert len(RunStore(database_url).list().runs) == 1
    assert RunStore(tmp_path / "a folder").url.endswith("a folder/runs.db")  # a folder given wins over the variable
    monkeypatch.delenv("MNIST_DASH_HOME")
    assert default_home().name == ".mnist_dash"


def test_settings_are_kept(store):
    assert store.setting("folder_store_import") is None
    store.set_setting("folder_store_import", "declined")
    store.set_setting("folder_store_import", "done")
    assert RunStore(store.url).setting("folder_store_import") == "done"


def test_history_csv_has_a_row_per_epoch():
    text = history_csv(
        [{"epoch": 1, "loss": 0.3, "accuracy": 0.9, "val_loss": 0.12, "val_accuracy": 0.96, "seconds": 2.51}]
    )
    assert text.splitlines() == ["epoch,loss,accuracy,val_loss,val_accuracy,seconds", "1,0.3,0.9,0.12,0.96,2.51"]


# Damaged runs: a hand edit, a bad disk, a bug of an older version


RECORD_DAMAGE = [
    ("{not json", "unreadable record: Expecting property name"),
    ("[1, 2, 3]", "it is not a JSON object"),
    ({"spec": {"layers": [{"units": -3}]}}, "layers[0].units: must be between 1 and 2,048, got -3"),
    ({"spec": None}, "spec: must be a JSON object"),
    ({"epochs_run": "many"}, "`epochs_run` is 'many'"),
    ({"params_total": 1.5}, "`params_total` is 1.5"),
    ({"status": "finished?"}, "`status` is 'finished?'"),
    ({"status": None}, "`status` is None"),
    ({"test_accuracy": "high"}, "`test_accuracy` is 'high'"),
    ({"epoch_seconds": 3}, "`epoch_seconds` is 3"),
    ({"epoch_seconds": ["slow"]}, "`epoch_seconds` holds something other than numbers"),
    ({"created": ["today"]}, "`created` is ['today']"),
    ({"data_fingerprint": 7}, "`data_fingerprint` is 7"),
    ({"owner": 7}, "`owner` is 7"),
    ({"status": "finished", "spec": "gone"}, "spec: must be a JSON object"),
]


def test_a_damaged_record_is_listed_with_the_reason_and_the_rest_still_listed(store):
    good = save_fake(store, owner=named("Ada"))
    damaged = {}
    for damage, words in RECORD_DAMAGE:
        run_id = save_fake(store, owner=named("Ada"))
        record, _ = store.raw(run_id)
        set_column(store, runs.c.record, run_id, damage if isinstance(damage, str) else json.dumps(record | damage))
        damaged[run_id] = words
    fresh = RunStore(store.url)  # this one has read every record already (`save` checks it): a stored run never changes
    listing = fresh.list()
    assert [run.run_id for run in listing.runs] == [good] and all(isinstance(d, DamagedRun) for d in listing.damaged)
    reasons = {d.run_id: d.reason for d in listing.damaged}
    assert set(reasons) == set(damaged)
    for run_id, words in damaged.items():
        assert reasons[run_id].startswith(f"run {run_id} has an unreadable record: ") and words in reasons[run_id]
        with pytest.raises(DamagedRunError, match="unreadable record"):
            fresh.get(run_id)
    assert [run.run_id for run in fresh.owned("name:ada")] == [good] and fresh.count_owned("name:ada") == 1 + len(
        damaged
    )
    choices = fresh.choices("name:ada", limit=2)
    assert [run.run_id for run in choices.runs] == [good] and len(choices.damaged) == len(damaged)


def _history(**epoch_change) -> str:
    epoch = {"epoch": 1, "loss": 0.3, "accuracy": 0.9, "val_loss": 0.12, "val_accuracy": 0.96, "seconds": 2.5}
    return json.dumps({"epochs": [epoch | epoch_change], "batches": []})


HISTORY_DAMAGE = [
    ("{not json", "has an unreadable history: Expecting property name"),
    (
        json.dumps({"epochs": [{"epoch": 1, "loss": 0.3, "accuracy": 0.9, "val_accuracy": 0.9, "seconds": 1}]}),
        "has a damaged history: epoch 1 has no number for 'val_loss' (found None)",
    ),
    (_history(loss="high"), "has a damaged history: epoch 1 has no number for 'loss' (found 'high')"),
    (_history(accuracy=True), "epoch 1 has no number for 'accuracy' (found True)"),
    (_history(val_loss=float("nan")), "epoch 1 has no number for 'val_loss' (found nan)"),
    (json.dumps({"epochs": {"1": {}}, "batches": []}), "has a damaged history: it is not a list of epochs"),
    (json.dumps([{"epoch": 1}]), "has a damaged history: it is not a list of epochs"),
    (json.dumps({"epochs": [3], "batches": []}), "has a damaged history: epoch 1 is not a record"),
    (json.dumps({"epochs": [], "batches": 3}), "has a damaged history: its batches are not a list"),
]


def test_a_history_of_the_wrong_shape_is_a_damaged_run(store):
    for history, words in HISTORY_DAMAGE:
        run_id = save_fake(store)
        set_column(store, run_data.c.history, run_id, history)
        with pytest.raises(DamagedRunError) as raised:
            store.history(run_id)
        assert str(raised.value).startswith(f"run {run_id} ") and words in str(raised.value), history
    assert len(store.list().runs) == len(HISTORY_DAMAGE)  # listing never reads a run's data


def _snapshots(change) -> bytes:
    arrays = fake_run()["weights"].to_arrays()
    change(arrays)
    return npz(arrays)


SNAPSHOT_DAMAGE = [
    (lambda a: a.update({"index/output/bias": np.array([0, 1, 99])}), "output/bias does not fit its shape"),
    (lambda a: a.update({"samples/output/bias": a["samples/output/bias"][:, :-1]}), "output/bias does not fit"),
    (lambda a: a.update({"stats/hidden_1/kernel": a["stats/hidden_1/kernel"][:, :5]}), "hidden_1/kernel does not fit"),
    (lambda a: a.update({"stats/hidden_1/bias": a["stats/hidden_1/bias"][:2]}), "hidden_1/bias does not fit"),
    (
        lambda a: a.update({k: a[k][:2] for k in ("samples/output/kernel", "stats/output/kernel")}),
        "the layers disagree on the epochs",
    ),
    (lambda a: a.pop("index/hidden_1/bias"), "has damaged weight snapshots: 'index/hidden_1/bias'"),
    (lambda a: a.update({"shape/output/bias": np.array(["ten"])}), "has damaged weight snapshots: invalid literal"),
    (lambda a: [a.pop(k) for k in list(a)], "has damaged weight snapshots: the layers disagree"),  # none at all
    (lambda a: a.update({"units/ids": np.array([0, 8])}), "its unit pictures name units the first layer does not"),
    (lambda a: a.update({"units/ids": np.array([1, 1])}), "its unit pictures name units"),  # one unit twice
    (lambda a: a.update({"units/kernels": a["units/kernels"][:2]}), "its unit pictures are (2, 8, 784), not"),
    (
        lambda a: a.update({"units/steps": np.zeros((3, 8, 784), np.int8)}),
        "has damaged weight snapshots: 'units/scale'",
    ),
]


def test_snapshots_whose_arrays_do_not_fit_are_a_damaged_run(store):
    cases = [
        (b"\x00" * 100, "has unreadable weight snapshots"),
        (b"PK\x03\x04 half", "has unreadable weight snapshots"),
    ]
    for blob, words in cases + [(_snapshots(change), words) for change, words in SNAPSHOT_DAMAGE]:
        run_id = save_fake(store)
        set_column(store, run_data.c.snapshots, run_id, blob)
        with pytest.raises(DamagedRunError) as raised:
            store.weights(run_id)
        assert str(raised.value).startswith(f"run {run_id} ") and words in str(raised.value), words


def test_final_weights_that_cannot_be_read_and_a_run_without_its_data_are_damaged_runs(store):
    unreadable, no_data = save_fake(store), save_fake(store)
    set_column(store, run_data.c.weights, unreadable, b"not an archive")
    with pytest.raises(DamagedRunError, match=f"run {unreadable} has unreadable final weights"):
        store.final_weights(unreadable)
    with store.engine.begin() as connection:
        connection.execute(run_data.delete().where(run_data.c.run_id == no_data))
    for read in (store.history, store.weights, store.final_weights):
        with pytest.raises(DamagedRunError, match=f"run {no_data} has no stored data"):
            read(no_data)


# The trained model, rebuilt from its design and the stored weights (Keras)


@pytest.fixture(scope="module")
def trained(tiny_data):
    from mnist_dash.data import validation_split
    from mnist_dash.jobs.training import LiveHistory, train

    spec = ModelSpec(layers=(LayerSpec(16, batch_norm="before", dropout=0.1),), epochs=1, batch_size=64, name="keras")
    live = LiveHistory()
    model = train(spec, validation_split(tiny_data), callbacks=[live])
    return spec, live, model


# keras_file saves a compiled model whose optimizer was never built: Keras says so when it loads it (harmless).
@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer:UserWarning")
def test_the_stored_model_predicts_as_the_trained_one_did(store, trained, tiny_data, tmp_path):
    import keras

    spec, live, model = trained
    run_id = store.save(
        spec=spec,
        status="finished",
        history=live.epochs,
        batch_history=live.batches,
        weights=live.weights.history,
        model=model.get_weights(),
        test_loss=0.5,
        test_accuracy=0.9,
    )
    assert store.history(run_id)["epochs"] == live.epochs and store.weights(run_id).epochs == 2
    sample = tiny_data.x_test[:20]
    expected = np.asarray(model(sample, training=False))
    np.testing.assert_allclose(np.asarray(load_model(store, run_id)(sample, training=False)), expected, atol=1e-6)
    path = tmp_path / f"{run_id}.keras"
    path.write_bytes(keras_file(store, run_id))
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(np.asarray(loaded(sample, training=False)), expected, atol=1e-6)
    # Final weights that do not fit the design (a hand-edited spec, another run's weights): fake_run's are 8 wide.
    other = save_fake(store, spec.replace(name="does not fit"))
    with pytest.raises(DamagedRunError, match=f"run {other} has final weights that do not fit its design"):
        load_model(store, other)
    set_column(store, run_data.c.weights, other, npz({}))  # none at all
    with pytest.raises(DamagedRunError, match="do not fit its design"):
        keras_file(store, other)


@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer:UserWarning")
def test_the_servers_model_download_is_built_in_a_child_process(store, trained, tiny_data, tmp_path, monkeypatch):
    """What Train's "Model (.keras)" gives: the server asks a child (Keras loads there) for the store it names."""
    import keras

    from mnist_dash.keras_export import keras_file_in_child

    spec, live, model = trained
    fields = {"history": live.epochs, "batch_history": live.batches, "weights": live.weights.history}
    run_id = store.save(spec=spec, status="finished", model=model.get_weights(), **fields)
    monkeypatch.setenv("MNIST_DASH_DB_URL", store.url)
    path = tmp_path / "downloaded.keras"
    path.write_bytes(keras_file_in_child(run_id))
    sample = tiny_data.x_test[:20]
    expected = np.asarray(model(sample, training=False))
    np.testing.assert_allclose(np.asarray(keras.saving.load_model(path)(sample, training=False)), expected, atol=1e-6)
    with pytest.raises(DamagedRunError, match="the model could not be built"):
        keras_file_in_child("20990101-000000-no-such-run-00000000")


# Jobs in progress, and the runs a stopped server left unsaved


def test_a_marker_of_this_process_is_in_progress_not_interrupted(store):
    marker = store.begin_training(ModelSpec(layers=(LayerSpec(8),)))
    assert marker_ids(store) == [marker]
    assert store.interrupted() == [] and store.list().interrupted == [] and not store.dismiss_interrupted(marker)
    store.end_training(marker)
    store.end_training(marker)  # harmless twice
    assert marker_ids(store) == []


def test_a_marker_whose_process_is_gone_is_interrupted_and_can_be_dismissed(store):
    spec = ModelSpec(layers=(LayerSpec(8),), name="cut short")
    older, marker = store.begin_training(spec.replace(name="older")), store.begin_training(spec)
    orphan(store, marker)
    [interrupted] = store.list().interrupted
    assert (interrupted.marker_id, interrupted.phase, interrupted.spec) == (marker, "training", spec)
    assert interrupted.reason == "the server stopped while it trained this run, so the run was not saved"
    assert interrupted.started[:4] == marker[:4] and interrupted.started.endswith("+00:00")
    assert store.choices(None).interrupted == [interrupted]
    orphan(store, older)
    assert [i.marker_id for i in store.interrupted()] == sorted([older, marker], reverse=True)  # newest first
    assert store.dismiss_interrupted(marker) and not store.dismiss_interrupted(marker)
    assert [i.marker_id for i in store.interrupted()] == [older] and marker_ids(store) == [older]


def test_a_jobs_place_in_line_becomes_its_training_marker_in_one_step(store):
    """A server killed as Bo's job left the line for its first turn once left both markers: two notices for one
    job. The training marker replaces the place in line in one transaction."""
    spec = ModelSpec(layers=(LayerSpec(8),), name="bo's")
    queued = store.mark_in_line(spec, named("Bo"))
    marker = store.begin_training(spec, named("Bo"), in_line=queued)
    assert marker_ids(store) == [marker]
    orphan(store, marker)
    [lost] = store.list().interrupted
    assert (lost.marker_id, lost.phase, lost.owner) == (marker, "training", named("Bo").key)


def test_a_marker_of_another_machine_is_never_called_interrupted(store):
    marker = store.begin_training(SPEC)
    orphan(store, marker)
    with store.engine.connect() as connection:
        record = json.loads(connection.execute(select(in_progress.c.record)).scalar_one())
    set_column(store, in_progress.c.record, marker, json.dumps(record | {"host": "another-server"}))
    assert store.interrupted() == [] and not store.dismiss_interrupted(marker)


def test_an_unreadable_marker_is_reported_and_can_be_dismissed(store):
    for record in ["{half a reco", "[1, 2]", json.dumps({"phase": "saving", "pid": 1}), json.dumps({"spec": {}})]:
        marker = store.begin_training(ModelSpec(layers=(LayerSpec(8),)))
        set_column(store, in_progress.c.record, marker, record)
        [interrupted] = store.list().interrupted
        assert interrupted.phase == "unknown" and interrupted.spec is None, record
        assert interrupted.reason.startswith("the record of this job in progress cannot be read (")
        assert store.dismiss_interrupted(marker), record
        assert store.list().interrupted == [] and marker_ids(store) == []


def test_an_interrupted_marker_with_a_hand_edited_spec_still_shows(store):
    marker = store.begin_training(ModelSpec(layers=(LayerSpec(8),)))
    orphan(store, marker)
    with store.engine.connect() as connection:
        record = json.loads(connection.execute(select(in_progress.c.record)).scalar_one())
    set_column(store, in_progress.c.record, marker, json.dumps(record | {"spec": {"layers": "many"}}))
    [interrupted] = store.list().interrupted
    assert interrupted.phase == "training" and interrupted.spec is None
    assert store.dismiss_interrupted(marker) and marker_ids(store) == []


def test_dismissing_a_marker_that_is_not_there_does_nothing(store):
    kept = store.begin_training(SPEC)
    for marker_id in ["../../etc/passwd", "", "20260101-000000-zz", "x' OR '1'='1"]:
        assert store.dismiss_interrupted(marker_id) is False
    assert marker_ids(store) == [kept]


def test_saving_removes_the_marker_in_the_same_transaction(store):
    marker = store.begin_training(SPEC)
    run_id = save_fake(store, marker=marker)
    assert marker_ids(store) == [] and [run.run_id for run in store.list().runs] == [run_id]


def test_a_run_trained_elsewhere_is_checked_against_its_design_before_it_is_stored():
    """A Ray node's returned run is stored by the server: one that does not fit its job is refused, not stored."""
    import dataclasses

    from mnist_dash.runs.blobs import pack_weights
    from mnist_dash.runs.store import pack_run

    made = fake_run(SPEC) | {"model": [np.zeros(count_params(SPEC).total, np.float32)]}  # as many as its design
    good = pack_run(SPEC, "finished", **made, test_loss=0.5, test_accuracy=0.9)
    assert good.problems(SPEC) == []
    assert good.owned_by(named("ada")).record["owner_name"] == "ada"

    def tampered(record=None, data=None):
        return dataclasses.replace(good, record=good.record | (record or {}), data=good.data | (data or {}))

    assert tampered({"test_accuracy": 1.5}).problems(SPEC) == ["its test accuracy 1.5 is not between 0 and 1"]
    assert tampered({"epochs_run": SPEC.epochs + 5}).problems(SPEC)[0].startswith("it says")
    assert "its design is not the job's" in good.problems(SPEC.replace(layers=(LayerSpec(9),)))
    short = pack_weights([made["model"][0][:-1]])
    assert any("parameters of its design" in problem for problem in tampered(data={"weights": short}).problems(SPEC))
    assert tampered(data={"history": "not json"}).problems(SPEC)
