import pytest

from mnist_dash.observations import (
    RunSummary,
    best_accuracy,
    best_epoch,
    gap,
    observe,
    regularisation,
    smallest_gap,
    summarise,
    underfitting,
)


def history(val_losses, losses=None, accuracy=0.99):
    losses = losses or [0.05] * len(val_losses)
    return tuple(
        {"epoch": i, "loss": loss, "accuracy": accuracy, "val_loss": val, "val_accuracy": 0.98, "seconds": 2.0}
        for i, (loss, val) in enumerate(zip(losses, val_losses, strict=True), start=1)
    )


def run(name="A", val_losses=(0.10, 0.08, 0.07), losses=None, accuracy=0.99, params=1000, test=0.98, reg=False):
    return RunSummary(name, history(list(val_losses), losses and list(losses), accuracy), params, test, reg)


def test_overfitting_names_the_best_epoch_and_the_rise():
    found = best_epoch(run(val_losses=(0.10, 0.06, 0.07, 0.08)))
    assert found.kind == "overfitting"
    assert "lowest at epoch 2 (0.0600)" in found.text and "rose 33% to 0.0800 by epoch 4" in found.text


def test_a_small_rise_is_a_plateau_not_overfitting():
    found = best_epoch(run(val_losses=(0.10, 0.060, 0.062)))
    assert found.kind == "plateau" and "epoch 2" in found.text


def test_still_falling_at_the_end():
    assert best_epoch(run(val_losses=(0.10, 0.08, 0.07))).kind == "still-improving"
    assert best_epoch(run(val_losses=(0.10,))) is None


@pytest.mark.parametrize(
    ("val", "train", "words"),
    [
        ((0.10,), (0.05,), "a large gap"),
        ((0.04,), (0.06,), "still learning"),
        ((0.06,), (0.05,), "close"),
    ],
)
def test_gap_rules(val, train, words):
    assert words in gap(run(val_losses=val, losses=train)).text


def test_underfitting_only_below_the_threshold():
    assert "underfits" in underfitting(run(accuracy=0.91)).text
    assert underfitting(run(accuracy=0.995)) is None


def test_smallest_gap_picks_the_closest_run():
    runs = [run("wide", (0.10,), (0.02,)), run("narrow", (0.06,), (0.055,)), run("mid", (0.08,), (0.05,))]
    found = smallest_gap(runs)
    assert found.text.startswith("narrow ended with the smallest") and "wide +0.0800" in found.text
    assert smallest_gap(runs[:1]) is None


def test_best_accuracy_gives_the_cost():
    runs = [run("small", params=100_000, test=0.980), run("big", params=500_000, test=0.985), run("x", test=None)]
    text = best_accuracy(runs).text
    assert text.startswith("big reached the best test accuracy, 98.50%, with 500,000 parameters in 6 s")
    assert "next was small at 98.00% with 100,000 parameters" in text


def test_regularisation_narrowed_or_not():
    plain = run("plain", (0.10,), (0.02,), reg=False)
    dropout = run("dropout", (0.06,), (0.05,), reg=True)
    assert "narrowed the gap between train and validation loss: 0.0100 on average with them, 0.0800 without" in (
        regularisation([plain, dropout]).text
    )
    below = run("dropout", (0.04,), (0.05,), reg=True)  # a gap the other way round counts by its size
    assert "narrowed" in regularisation([plain, below]).text
    assert (
        "did not narrow" in regularisation([run("plain", (0.04,), (0.05,)), run("d", (0.02,), (0.05,), reg=True)]).text
    )
    worse = run("dropout", (0.20,), (0.02,), reg=True)
    assert "did not narrow" in regularisation([plain, worse]).text
    assert regularisation([plain]) is None


def test_observe_is_deterministic_and_ordered():
    runs = [run("a", (0.1, 0.05, 0.09)), run("b", (0.1, 0.08, 0.07), reg=True)]
    first, second = observe(runs), observe(runs)
    assert first == second
    assert [o.kind for o in first] == [
        "overfitting",
        "gap",
        "still-improving",
        "gap",
        "smallest-gap",
        "best-accuracy",
        "regularisation",
    ]


def test_summarise_marks_regularised_designs():
    from mnist_dash.presets import PRESETS
    from mnist_dash.spec import LayerSpec, ModelSpec

    plain = summarise("plain", ModelSpec(layers=(LayerSpec(8),)), history([0.1]), 10, None)
    assert not plain.regularised
    assert summarise("nb", PRESETS["notebook-2-hidden"], history([0.1]), 10, 0.9).regularised


def test_table_row_for_the_compare_page():
    from mnist_dash.observations import table_row

    row = table_row(run("a", val_losses=(0.10, 0.06, 0.07), losses=(0.2, 0.1, 0.05), params=500), "784 → 8 → 10")
    assert row["best val_loss"] == 0.06 and row["at epoch"] == 2 and row["epochs"] == 3
    assert row["gap at end"] == pytest.approx(0.02) and row["s / epoch"] == 2.0 and row["parameters"] == 500


def test_validation_below_training_blames_dropout_only_when_there_is_some():
    assert "dropout makes training harder" in gap(run(val_losses=(0.04,), losses=(0.06,), reg=True)).text
    assert "dropout" not in gap(run(val_losses=(0.04,), losses=(0.06,), reg=False)).text


def test_a_run_stopped_before_its_first_epoch_is_left_out():
    stopped = RunSummary("stopped", (), 1000, None, False)
    judged = observe([run("a", (0.1, 0.05, 0.09)), stopped, run("b", (0.1, 0.08, 0.07), reg=True)])
    assert judged == observe([run("a", (0.1, 0.05, 0.09)), run("b", (0.1, 0.08, 0.07), reg=True)])
    assert all("stopped" not in observation.text for observation in judged)
    assert observe([stopped]) == []


def test_run_names_in_observations_are_escaped_markdown():
    from mnist_dash.text import md

    names = ["![](https://example.invalid/t.png)", "[Log in again](https://example.invalid)", ":red[x] $y$"]
    runs = [
        run(names[0], (0.1, 0.05, 0.09), test=0.99),
        run(names[1], (0.1, 0.08, 0.07), reg=True, accuracy=0.9),
        run(names[2], (0.06,), (0.05,), test=0.97),
    ]
    found = observe(runs)
    assert {o.kind for o in found} >= {
        "overfitting",
        "still-improving",
        "underfitting",
        "smallest-gap",
        "best-accuracy",
    }
    for observation in found:
        text = observation.text
        for name in names:
            assert name not in text  # never raw
        assert "](" not in text and ":red[" not in text and " $y" not in text
    assert found[0].text.startswith(md(names[0]) + ": validation loss")
    best = next(o for o in found if o.kind == "best-accuracy").text
    assert best.startswith(md(names[0]) + " reached") and f"next was {md(names[1])} at" in best


def test_table_rows_keep_the_plain_name_for_a_dataframe():
    from mnist_dash.observations import table_row

    assert table_row(run("[a](b)"), "784 → 8 → 10")["run"] == "[a](b)"
