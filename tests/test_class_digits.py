"""The class's own handwriting in the store (SQLite and PostgreSQL), and on Evaluate."""

import io

import numpy as np
import pytest
from sqlalchemy import select

from mnist_dash.keras_export import load_model
from mnist_dash.owners import named
from mnist_dash.runs import RunStore
from mnist_dash.runs import digits as digits_module
from mnist_dash.runs.database import MIGRATIONS, SCHEMA_VERSION, schema_version, upgrade
from mnist_dash.runs.digits import DigitRefused
from tests.support import open_page, read, save_fake, store_a_run, texts

pytestmark = pytest.mark.usefixtures("tiny_mnist")  # the pages on small synthetic digits


ADA, BO = named("Ada"), named("Bo")


def digit(value: int = 0) -> np.ndarray:
    image = np.zeros((28, 28), dtype=np.uint8)
    image[4:24, 10 + value : 14 + value] = 255
    return image


def test_digits_are_added_read_back_and_deleted(database_url):
    store = RunStore(database_url)
    first = store.digits.add(digit(1), 1, ADA)
    store.digits.add(digit(7), 7, BO)
    found = store.digits.all()
    assert len(found) == 2 and list(found.y) == [1, 7] and found.owner_names == ("Ada", "Bo")
    assert np.array_equal(found.x[0], digit(1)) and found.x.dtype == np.uint8
    assert store.digits.all() is found  # read once per change
    assert store.digits.delete(first) and not store.digits.delete(first)
    assert list(store.digits.all().y) == [7]


def test_the_set_is_bounded_in_all_and_per_student(database_url, monkeypatch):
    store = RunStore(database_url)
    monkeypatch.setattr(digits_module, "MAX_PER_OWNER", 2)
    monkeypatch.setattr(digits_module, "MAX_DIGITS", 3)
    store.digits.add(digit(), 0, ADA)
    store.digits.add(digit(), 0, ADA)
    with pytest.raises(DigitRefused, match="2 digits have come from you"):
        store.digits.add(digit(), 0, ADA)
    store.digits.add(digit(), 0, BO)
    with pytest.raises(DigitRefused, match="the class set is full"):
        store.digits.add(digit(), 0, named("Cy"))
    assert len(store.digits.all()) == 3


def test_digits_are_counted_per_browser_whatever_names_it_uses_and_adds_are_rate_limited(database_url, monkeypatch):
    store = RunStore(database_url)
    monkeypatch.setattr(digits_module, "MAX_PER_OWNER", 3)
    for name in ("m1", "m2", "m3"):  # one browser, three names
        store.digits.add(digit(), 0, named(name), browser="browser:mallory")
    with pytest.raises(DigitRefused, match="this name or this device"):
        store.digits.add(digit(), 0, named("m4"), browser="browser:mallory")
    store.digits.add(digit(), 1, BO, browser="browser:bo")  # a classmate is not held back
    monkeypatch.setattr(digits_module, "MAX_PER_OWNER", 100)
    for _ in range(digits_module.MAX_PER_MINUTE - 1):
        store.digits.add(digit(), 2, BO, browser="browser:bo")
    with pytest.raises(DigitRefused, match="in the last minute: wait a minute"):
        store.digits.add(digit(), 2, BO, browser="browser:bo-tablet")  # the owner's count, on any device
    assert len(store.digits.all()) == 3 + digits_module.MAX_PER_MINUTE


def test_the_teacher_approves_new_digits_before_they_count_and_deletes_a_students(database_url):
    store = RunStore(database_url)
    store.digits.add(digit(1), 1, ADA)
    store.set_setting(digits_module.APPROVAL, "1")
    waiting = store.digits.add(digit(2), 2, BO)
    store.digits.add(digit(3), 3, BO)
    assert list(store.digits.all().y) == [1] and list(store.digits.pending().y) == [2, 3]
    assert store.digits.approve([waiting]) == 1
    assert list(store.digits.all().y) == [1, 2] and list(store.digits.pending().y) == [3]
    assert store.digits.delete_owner(BO.key) == 2  # approved and waiting alike
    assert list(store.digits.all().y) == [1] and len(store.digits.pending()) == 0
    assert store.digits.delete_owner(BO.key) == 0


@pytest.mark.parametrize(
    ("image", "label", "words"),
    [
        (np.zeros((28, 28), np.float32), 1, "28 x 28 image of bytes"),
        (np.zeros((20, 20), np.uint8), 1, "28 x 28"),
        (digit(), 10, "0 to 9"),
        (digit(), True, "0 to 9"),
    ],
)
def test_a_digit_of_the_wrong_kind_is_refused_and_nothing_is_stored(image, label, words, tmp_path):
    store = RunStore(tmp_path)
    with pytest.raises(DigitRefused, match=words):
        store.digits.add(image, label, ADA)
    assert len(store.digits.all()) == 0


def test_the_set_downloads_in_keras_mnist_layout(tmp_path):
    store = RunStore(tmp_path)
    store.digits.add(digit(3), 3, ADA)
    with np.load(io.BytesIO(store.digits.npz())) as archive:
        assert sorted(archive.files) == ["x_test", "x_train", "y_test", "y_train"]
        assert archive["x_test"].shape == (1, 28, 28) and archive["x_test"].dtype == np.uint8
        assert list(archive["y_test"]) == [3] and archive["x_train"].shape == (0, 28, 28)


def test_a_database_of_the_first_schema_is_upgraded_and_keeps_its_runs(database_url):

    store = RunStore(database_url)
    run_id = save_fake(store)
    with store.engine.begin() as connection:  # back to version 1, as an older app left it
        connection.exec_driver_sql("DROP TABLE class_digits")
        connection.exec_driver_sql("DELETE FROM revision WHERE id = 2")
        connection.execute(schema_version.update().values(version=1))
    assert upgrade(store.engine) == 1
    with store.engine.connect() as connection:
        assert connection.execute(select(schema_version.c.version)).scalar() == SCHEMA_VERSION == len(MIGRATIONS)
    again = RunStore(database_url)
    assert again.get(run_id).run_id == run_id
    again.digits.add(digit(), 4, ADA)
    assert list(again.digits.all().y) == [4]


def test_evaluate_shows_accuracy_on_the_class_set_beside_mnist_and_its_mistakes():
    run_id = store_a_run()
    store = RunStore()
    images = [digit(0), digit(5), digit(9)]
    model = load_model(store, run_id)  # Keras's own answers: the page's NumPy must agree
    answers = model.predict(np.stack(images).astype(np.float32), verbose=0).argmax(axis=1)
    labels = [int(answers[0]), int(answers[1]), (int(answers[2]) + 1) % 10]  # the third is labelled otherwise
    for image, label in zip(images, labels, strict=True):
        store.digits.add(image, label, BO)
    app = open_page("evaluate")
    metrics = {metric.label: metric.value for metric in app.metric}
    assert metrics["The class's digits"] == "66.67%"  # 2 of 3, counted by hand above
    assert metrics["MNIST test set"] == metrics["Test accuracy"]
    assert "The class digits it gets wrong** (1)" in texts(app.markdown)
    captions = [read(caption) for image in app.get("image") for caption in image.captions]
    assert f"Bo's {labels[2]} → {answers[2]}" in captions
    assert not app.exception
