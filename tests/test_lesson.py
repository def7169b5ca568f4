"""A lesson as one file (classroom.lesson): export and import round trip; damaged and foreign files refused."""

import io
import json
import zipfile

import numpy as np
import pytest

from mnist_dash.classroom.challenge import Challenge, read_challenge, set_challenge
from mnist_dash.classroom.lesson import LessonError, export, import_lesson, read
from mnist_dash.owners import named
from mnist_dash.predict import Network
from mnist_dash.runs import RunStore
from mnist_dash.spec import LayerSpec, ModelSpec
from tests.support import save_fake

SPEC = ModelSpec(layers=(LayerSpec(8),), epochs=2, name="lesson")


@pytest.fixture
def lesson(tmp_path):
    """A store with three runs of two students, two class digits and a challenge: (store, run ids)."""
    store = RunStore(tmp_path / "first")
    ids = [
        save_fake(store, SPEC, owner=named("Ann"), test_accuracy=0.91),
        save_fake(store, SPEC.replace(seed=1), seed=1, owner=named("Bo"), test_accuracy=0.92),
        save_fake(store, SPEC.replace(name="stopped"), status="stopped", owner=named("Bo")),
    ]
    store.digits.add(np.full((28, 28), 7, np.uint8), 7, named("Ann"))
    store.digits.add(np.eye(28, dtype=np.uint8) * 255, 1, named("Bo"))
    set_challenge(store, Challenge(max_params=10_000, seeds=3))
    return store, ids


def same_run(one: RunStore, other: RunStore, run_id: str) -> None:
    assert other.get(run_id) == one.get(run_id)
    assert other.history(run_id) == one.history(run_id)
    assert all(
        np.array_equal(a, b) for a, b in zip(one.final_weights(run_id), other.final_weights(run_id), strict=True)
    )
    mine, theirs = one.weights(run_id), other.weights(run_id)
    assert mine.epochs == theirs.epochs and all(
        np.array_equal(a, b)
        for key in mine.samples
        for a, b in zip(mine.samples[key], theirs.samples[key], strict=True)
    )


def test_a_lesson_goes_from_one_store_to_another_whole(lesson, tmp_path):
    store, ids = lesson
    blob = export(store, ids)
    other = RunStore(tmp_path / "second")
    done = import_lesson(other, blob)
    assert (done.added, done.present, done.digits) == (3, 0, 2)
    assert done.describe() == (
        "3 runs added; 2 class digits added; challenge set: best test accuracy, with at most 10,000 parameters, "
        "judged on the mean of 3 seeds."
    )
    for run_id in ids:
        same_run(store, other, run_id)
    theirs, mine = other.digits.all(), store.digits.all()
    assert np.array_equal(theirs.x, mine.x) and np.array_equal(theirs.y, mine.y)
    assert theirs.owner_names == ("Ann", "Bo") and theirs.owners == mine.owners
    assert read_challenge(other) == read_challenge(store)
    again = import_lesson(other, blob)  # importing twice adds nothing twice
    assert (again.added, again.present, again.digits) == (0, 3, 0) and other.count() == 3


def test_a_compact_lesson_keeps_half_precision_weights_that_answer_alike(lesson, tmp_path):
    store, ids = lesson
    full, compact = export(store, ids[:1], digits=False), export(store, ids[:1], digits=False, compact=True)
    weights = [
        name for name in zipfile.ZipFile(io.BytesIO(compact)).infolist() if name.filename.endswith("weights.npz")
    ]
    assert weights[0].file_size < 0.6 * zipfile.ZipFile(io.BytesIO(full)).getinfo("runs/0/weights.npz").file_size
    other = RunStore(tmp_path / "second")
    import_lesson(other, compact)
    kept = other.final_weights(ids[0])
    assert all(w.dtype == np.float32 for w in kept)  # the store holds float32 as for a trained run
    images = np.random.default_rng(0).integers(0, 256, (50, 28, 28)).astype(np.uint8)
    before = Network(SPEC, store.final_weights(ids[0])).probabilities(images)
    after = Network(SPEC, kept).probabilities(images)
    assert np.abs(before - after).max() < 1e-2 and (before.argmax(1) == after.argmax(1)).mean() >= 0.98
    assert read_challenge(other) == read_challenge(store) and len(other.digits.all()) == 0


def rewrite(blob: bytes, change) -> bytes:
    """The lesson with its members passed through `change(name, data) -> data or None (dropped)`."""
    source, out = zipfile.ZipFile(io.BytesIO(blob)), io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = change(info.filename, source.read(info.filename))
            if data is not None:
                target.writestr(info.filename, data)
    return out.getvalue()


def manifest(change):
    def edit(name, data):
        if name != "lesson.json":
            return data
        found = json.loads(data)
        change(found)
        return json.dumps(found)

    return edit


@pytest.mark.parametrize(
    ("damage", "said"),
    [
        (lambda blob: b"PK\x03\x04 not really", "not a lesson file (not a zip archive"),
        (lambda blob: b"x_train", "not a lesson file"),
        (lambda blob: rewrite(blob, lambda n, d: None if n == "lesson.json" else d), "it has no lesson.json"),
        (lambda blob: rewrite(blob, manifest(lambda m: m.update(format="other"))), "it is not an mnist_dash lesson"),
        (lambda blob: rewrite(blob, manifest(lambda m: m.update(version=99))), "version 99, newer than this app"),
        (lambda blob: rewrite(blob, lambda n, d: d[:40] if n == "runs/1/weights.npz" else d), "cannot be read"),
        (lambda blob: rewrite(blob, lambda n, d: None if n == "runs/2/history.json" else d), "no runs/2/history.json"),
        (
            lambda blob: rewrite(blob, manifest(lambda m: m["runs"][0]["record"].update(epochs_run=5))),
            "says 5 epochs but its history has 2",
        ),
        (
            lambda blob: rewrite(blob, manifest(lambda m: m["runs"][0]["record"].pop("spec"))),
            "cannot be read",
        ),
        (lambda blob: rewrite(blob, manifest(lambda m: m.update(challenge="{"))), "its challenge cannot be used"),
        (
            lambda blob: rewrite(blob, lambda n, d: b"junk" if n == "class_digits.npz" else d),
            "its class digits cannot be read",
        ),
    ],
)
def test_a_damaged_or_foreign_file_is_refused_with_the_reason_and_nothing_is_written(lesson, tmp_path, damage, said):
    store, ids = lesson
    other = RunStore(tmp_path / "second")
    kept = save_fake(other, SPEC.replace(name="already here"), owner=named("Cy"))
    with pytest.raises(LessonError) as refused:
        import_lesson(other, damage(export(store, ids)))
    assert said in str(refused.value)
    assert [run.run_id for run in other.list().runs] == [kept] and len(other.digits.all()) == 0
    assert read_challenge(other) is None


def test_a_file_that_unpacks_past_the_limit_is_refused_before_it_is_read(lesson, monkeypatch):
    from mnist_dash.classroom import lesson as lesson_module

    store, ids = lesson
    monkeypatch.setattr(lesson_module, "MAX_MEMBER", 1000)
    with pytest.raises(LessonError, match="unpacks to more than a lesson can hold"):
        read(export(store, ids))


def test_the_cli_exports_every_run_and_imports_it_elsewhere_and_refuses_a_foreign_file(
    lesson, tmp_path, monkeypatch, capsys
):
    from mnist_dash.cli import main

    _, ids = lesson
    monkeypatch.setenv("MNIST_DASH_HOME", str(tmp_path / "first"))
    path = tmp_path / "lesson.zip"
    assert main(["lesson", "export", str(path), "--compact"]) == 0
    assert "3 runs, the class digits and the challenge written to" in capsys.readouterr().out
    monkeypatch.setenv("MNIST_DASH_HOME", str(tmp_path / "second"))
    assert main(["lesson", "import", str(path)]) == 0
    assert "3 runs added; 2 class digits added; challenge set" in capsys.readouterr().out
    assert {run.run_id for run in RunStore(tmp_path / "second").list().runs} == set(ids)
    (tmp_path / "notes.zip").write_bytes(b"not a lesson")
    assert main(["lesson", "import", str(tmp_path / "notes.zip")]) == 2
    assert "was not imported: it is not a lesson file" in capsys.readouterr().err
    assert main(["lesson", "export", str(path), "--runs", "no-such-run"]) == 2
    assert "could not export the lesson" in capsys.readouterr().err
