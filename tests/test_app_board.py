"""The Class board page: each owner once, their best run, names as text, and the CSV for grading."""

import pytest

from mnist_dash.keras_export import load_model
from mnist_dash.owners import named
from mnist_dash.runs import RunStore
from mnist_dash.spec import LayerSpec, ModelSpec
from tests.support import TEST_OWNER, open_page, save_fake, store_a_run

pytestmark = pytest.mark.usefixtures("tiny_mnist")  # the pages on small synthetic digits


def test_the_board_page_lists_each_owner_once_with_names_as_text(monkeypatch):
    store = RunStore()
    mischief = named("**bold** <b>x</b>")
    save_fake(store, ModelSpec(layers=(LayerSpec(8),), epochs=2, name="small"), owner=mischief, test_accuracy=0.91)
    save_fake(store, ModelSpec(layers=(LayerSpec(16),), epochs=2, name="wide"), owner=mischief, test_accuracy=0.93)
    save_fake(store, ModelSpec(layers=(LayerSpec(8),), epochs=2, name="mine"), owner=TEST_OWNER, test_accuracy=0.92)
    save_fake(store, ModelSpec(layers=(LayerSpec(8),), epochs=2, name="nobody's"), test_accuracy=0.99)
    app = open_page("board")
    table = app.dataframe[0].value
    assert list(table["owner"]) == ["**bold** <b>x</b>", f"{TEST_OWNER.name} (you)"]
    assert list(table["test_accuracy"].round(2)) == [93.0, 92.0]
    assert list(table["gap"].round(2)) == [5.0, 5.0]  # fake runs end at 0.80 training, 0.75 validation accuracy
    assert not app.exception


def test_the_board_gets_a_column_for_the_class_handwriting_once_the_class_drew():
    import numpy as np

    run_id = store_a_run(owner=named("Ada"))
    store = RunStore()
    model = load_model(store, run_id)
    image = np.zeros((28, 28), np.uint8)
    image[5:23, 12:16] = 255
    answer = int(model.predict(image[None].astype(np.float32), verbose=0).argmax())
    store.digits.add(image, answer, named("Bo"))  # read right
    store.digits.add(image, (answer + 1) % 10, named("Cy"))  # the same strokes, labelled otherwise: read wrong
    table = open_page("board").dataframe[0].value
    assert list(table["class_accuracy"]) == [50.0]


def test_a_challenge_that_ranks_nothing_yet_says_what_is_missing_and_keeps_the_scatter():
    """The board said "No finished runs yet" above a scatter of finished runs when the challenge ranked none."""
    from mnist_dash.classroom.challenge import Challenge, set_challenge
    from mnist_dash.ui import resources
    from tests.support import texts

    store = RunStore()
    spec = ModelSpec(layers=(LayerSpec(8),), epochs=2, name="small")
    for owner, seed in (("Ada", 0), ("Ada", 1), ("Bo", 5)):
        save_fake(store, spec.replace(seed=seed), owner=named(owner))
    set_challenge(store, Challenge(seeds=3))
    app = open_page("board")
    said = texts(app.info)
    assert "No entry inside the challenge yet: 3 runs within its budget, but an entry needs 3 seeds" in said
    assert "No finished runs" not in said and app.get("plotly_chart")  # the class's runs, still drawn
    waiting = texts(app.caption)  # the entries on their way, with their seeds
    assert "Entries still waiting for seeds: Ada (small: seeds 0, 1 of 0, 1, 2 stored)" in waiting
    assert "Bo (small: seeds 5 of 5, 6, 7 stored)" in waiting
    set_challenge(store, Challenge(max_params=10, seeds=1))
    resources.class_setting.clear()  # the settings are read every 2 s at most
    app = open_page("board")
    assert "No entry inside the challenge yet: 3 finished runs, none within its budget" in texts(app.info)
