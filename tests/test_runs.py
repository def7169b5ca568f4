import json

import numpy as np
import pytest

from mnist_dash.data import validation_split
from mnist_dash.runs import DamagedRunError, RunNotFound, RunStore, default_home
from mnist_dash.training import LiveHistory, train


@pytest.fixture(scope="module")
def trained(tiny_data):
    from mnist_dash.spec import LayerSpec, ModelSpec

    spec = ModelSpec(layers=(LayerSpec(16, batch_norm="before"),), epochs=2, batch_size=64, name="Store test!")
    live = LiveHistory()
    model = train(spec, validation_split(tiny_data), callbacks=[live])
    return spec, live, model


def save(store, trained, status="finished", **extra):
    spec, live, model = trained
    return store.save(
        spec=spec,
        status=status,
        history=live.epochs,
        batch_history=live.batches,
        weights=live.weights.history,
        model=model,
        test_loss=0.5,
        test_accuracy=0.9,
        **extra,
    )


def test_save_then_read_everything_back(tmp_path, trained, tiny_data):
    store = RunStore(tmp_path)
    run_id = save(store, trained)
    assert "store-test" in run_id
    info = store.get(run_id)
    spec, live, model = trained
    assert info.spec == spec and info.status == "finished" and info.epochs_run == 2
    assert info.test_accuracy == 0.9 and len(info.epoch_seconds) == 2
    assert store.history(run_id)["epochs"] == live.epochs
    assert store.weights(run_id).epochs == 3
    loaded = store.load_model(run_id)
    sample = tiny_data.x_test[:5]
    np.testing.assert_allclose(np.asarray(loaded(sample)), np.asarray(model(sample)), rtol=1e-5, atol=1e-6)


def test_listing_is_newest_first_and_keeps_stopped_runs(tmp_path, trained):
    store = RunStore(tmp_path)
    first = save(store, trained, status="stopped")
    second = save(store, trained)
    listing = store.list()
    assert {r.run_id for r in listing.runs} == {first, second} and listing.damaged == []
    assert [r.run_id for r in listing.runs] == sorted([first, second], reverse=True)
    assert store.get(first).status == "stopped"


def test_damaged_runs_are_reported_and_the_rest_still_listed(tmp_path, trained):
    store = RunStore(tmp_path)
    good = save(store, trained)
    no_model, bad_json, bad_spec = (save(store, trained) for _ in range(3))
    (store.runs_dir / no_model / "model.keras").unlink()
    (store.runs_dir / bad_json / "run.json").write_text("{not json")
    record = json.loads((store.runs_dir / bad_spec / "run.json").read_text())
    record["spec"]["layers"][0]["units"] = -3
    (store.runs_dir / bad_spec / "run.json").write_text(json.dumps(record))
    (store.runs_dir / "20990101-000000-hand-made").mkdir()
    (store.runs_dir / "stray.txt").write_text("not a run")
    listing = store.list()
    assert [r.run_id for r in listing.runs] == [good]
    reasons = {d.run_id: d.reason for d in listing.damaged}
    assert "lacks model.keras" in reasons[no_model]
    assert "unreadable run.json" in reasons[bad_json]
    assert "units" in reasons[bad_spec]
    assert "lacks run.json" in reasons["20990101-000000-hand-made"]
    with pytest.raises(DamagedRunError):
        store.get(bad_json)


def test_a_crash_mid_save_leaves_no_run(tmp_path, trained, monkeypatch):
    store = RunStore(tmp_path)

    def crash(*args, **kwargs):
        raise OSError("disk pulled out")

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(OSError, match="disk pulled out"):
        save(store, trained)
    assert store.list().runs == [] and list(store.runs_dir.iterdir()) == []


def test_a_partial_directory_is_never_listed(tmp_path, trained):
    store = RunStore(tmp_path)
    run_id = save(store, trained)
    (store.runs_dir / run_id).rename(store.runs_dir / f".tmp-{run_id}")
    assert store.list().runs == [] and store.list().damaged == []


def test_delete(tmp_path, trained):
    store = RunStore(tmp_path)
    keep, doomed = save(store, trained), save(store, trained)
    store.delete(doomed)
    assert [r.run_id for r in store.list().runs] == [keep]
    with pytest.raises(RunNotFound):
        store.delete(doomed)


@pytest.mark.parametrize("run_id", ["../../etc", "", "20260101-000000-x/../../y", "a b"])
def test_run_ids_cannot_escape_the_store(tmp_path, run_id):
    with pytest.raises(RunNotFound):
        RunStore(tmp_path).get(run_id)


def test_empty_store_lists_nothing(tmp_path):
    listing = RunStore(tmp_path / "never-created").list()
    assert listing.runs == [] and listing.damaged == []


def test_home_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_DASH_HOME", str(tmp_path / "elsewhere"))
    assert default_home() == tmp_path / "elsewhere"
    assert RunStore().root == tmp_path / "elsewhere"
    monkeypatch.delenv("MNIST_DASH_HOME")
    assert default_home().name == ".mnist_dash"


def test_history_csv_has_a_row_per_epoch():
    from mnist_dash.runs import history_csv

    text = history_csv(
        [{"epoch": 1, "loss": 0.3, "accuracy": 0.9, "val_loss": 0.12, "val_accuracy": 0.96, "seconds": 2.51}]
    )
    assert text.splitlines() == ["epoch,loss,accuracy,val_loss,val_accuracy,seconds", "1,0.3,0.9,0.12,0.96,2.51"]


def test_find_same_finds_a_finished_run_of_the_same_design_and_data(tmp_path, trained, tiny_data):
    from mnist_dash.data import Mnist, fingerprint
    from mnist_dash.spec import LayerSpec

    store = RunStore(tmp_path)
    spec = trained[0]
    assert store.find_same(spec, tiny_data) is None
    save(store, trained)  # saved without a fingerprint (as before there were any): never the same
    save(store, trained, status="stopped", data_fingerprint=fingerprint(tiny_data))  # cut short: not the same run
    assert store.find_same(spec, tiny_data) is None
    run_id = save(store, trained, data_fingerprint=fingerprint(tiny_data))
    assert store.get(run_id).data_fingerprint == fingerprint(tiny_data)
    assert store.find_same(spec, tiny_data).run_id == run_id
    assert store.find_same(spec.replace(name="renamed"), tiny_data).run_id == run_id
    others = [
        spec.replace(seed=1),
        spec.replace(epochs=3),
        spec.replace(learning_rate=0.002),
        spec.replace(layers=(LayerSpec(17, batch_norm="before"),)),
        spec.replace(layers=(LayerSpec(16, batch_norm="after"),)),
        spec.replace(validation="holdout"),
    ]
    assert [store.find_same(other, tiny_data) for other in others] == [None] * len(others)
    fewer_tests = Mnist(tiny_data.x_train, tiny_data.y_train, tiny_data.x_test[:-1], tiny_data.y_test[:-1])
    assert store.find_same(spec, fewer_tests) is None
    # Several designs at once, in one reading of the store: answers in the order asked.
    found = store.find_each([others[0], spec.replace(name="again"), others[1]], tiny_data)
    assert [run.run_id if run else None for run in found] == [None, run_id, None]
