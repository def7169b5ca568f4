import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mnist_dash.observations import (
    LABELS,
    MIN_EPOCHS,
    RISE,
    UNDERFIT_ACCURACY,
    RunSummary,
    compare,
    judge,
    observe,
    summarise,
    table_row,
)
from mnist_dash.text import md

# The notebook's printed histories (keras_mnist_notebook.txt): its first model (two hidden layers,
# dropout 0.4) for the 18 epochs the page shows whole, and its second (three, dropout and batch norm).
NOTEBOOK_1 = {
    "loss": [.2993, .1310, .0965, .0761, .0676, .0584, .0511, .0467, .0425, .0407, .0364, .0343, .0344, .0309, .0298, .0263, .0265, .0254],  # noqa: E501
    "accuracy": [.9092, .9606, .9701, .9764, .9793, .9805, .9830, .9845, .9858, .9863, .9880, .9883, .9887, .9897, .9901, .9907, .9907, .9915],  # noqa: E501
    "val_loss": [.1187, .0960, .0787, .0804, .0716, .0621, .0624, .0598, .0625, .0659, .0568, .0653, .0630, .0696, .0588, .0618, .0632, .0726],  # noqa: E501
    "val_accuracy": [.9635, .9705, .9756, .9737, .9773, .9812, .9821, .9826, .9822, .9802, .9843, .9820, .9826, .9817, .9842, .9849, .9842, .9826],  # noqa: E501
}  # fmt: skip
NOTEBOOK_2 = {
    "loss": [.3523, .1620, .1233, .1024, .0869, .0784, .0727, .0653, .0600, .0562, .0534, .0505, .0460, .0429, .0397, .0395, .0360, .0365, .0348, .0341],  # noqa: E501
    "accuracy": [.8906, .9496, .9616, .9679, .9725, .9750, .9769, .9789, .9805, .9822, .9826, .9834, .9846, .9858, .9874, .9873, .9885, .9880, .9887, .9889],  # noqa: E501
    "val_loss": [.1348, .0975, .0839, .0690, .0717, .0642, .0636, .0598, .0630, .0577, .0572, .0560, .0547, .0516, .0559, .0578, .0614, .0598, .0636, .0572],  # noqa: E501
    "val_accuracy": [.9577, .9694, .9720, .9769, .9777, .9806, .9808, .9828, .9820, .9829, .9823, .9827, .9833, .9845, .9841, .9847, .9832, .9822, .9827, .9843],  # noqa: E501
}  # fmt: skip


def history(val_losses, losses=None, accuracy=0.985, val_accuracy=0.98):
    n = len(val_losses)
    columns = {
        "loss": losses or [0.05] * n,
        "accuracy": accuracy if isinstance(accuracy, list) else [accuracy] * n,
        "val_loss": list(val_losses),
        "val_accuracy": val_accuracy if isinstance(val_accuracy, list) else [val_accuracy] * n,
    }
    return notebook(columns, n)


def notebook(columns, epochs=None):
    epochs = epochs or len(columns["loss"])
    return tuple(
        {"epoch": i + 1, "seconds": 2.0} | {key: values[i] for key, values in columns.items()} for i in range(epochs)
    )


def run(name="A", val_losses=(0.10, 0.08, 0.07), losses=None, accuracy=0.985, val_accuracy=0.98, **fields):
    fields = {"params": 1000, "test_accuracy": 0.98} | fields
    return RunSummary(name, history(val_losses, losses and list(losses), accuracy, val_accuracy), **fields)


def test_the_notebooks_first_model_overfits_after_epoch_11():
    verdict = judge(RunSummary("one", notebook(NOTEBOOK_1), 669_706, None, ("dropout",)))
    assert verdict.kind == "overfitting"
    assert verdict.text == (
        "**one**: overfitting. It began after epoch 11: validation loss was lowest at epoch 11 (0.0568) and rose "
        "28% to 0.0726 by epoch 18, while training loss fell from 0.0364 to 0.0254."
    )


def test_one_noisy_epoch_is_not_a_turn():
    # The notebook's first model at epoch 10: its validation loss 10% above epoch 8's, for one epoch only.
    verdict = judge(RunSummary("one", notebook(NOTEBOOK_1, 10), 669_706, None, ("dropout",)))
    assert verdict.kind == "fits-well"
    assert "levelled off (lowest 0.0598 at epoch 8, 0.0659 at the end)" in verdict.text


def test_validation_loss_rising_with_training_loss_is_instability_not_overfitting():
    verdict = judge(run(val_losses=(0.10, 0.06, 0.08, 0.09), losses=(0.10, 0.05, 0.07, 0.08)))
    assert verdict.kind == "unstable" and "but training loss did not fall (from 0.0500 to 0.0800)" in verdict.text


def test_still_learning_and_a_small_rise_is_no_overfitting():
    assert judge(run(val_losses=(0.10, 0.08, 0.07))).kind == "still-learning"
    assert "fell from 0.1000 (its best up to epoch 1) to 0.0700 at epoch 3" in judge(run()).text
    assert judge(run(val_losses=(0.10, 0.06, 0.062, 0.061), losses=(0.1, 0.07, 0.06, 0.058))).kind == "fits-well"


def test_dropout_lowering_training_accuracy_is_explained_not_called_underfitting():
    dropout = run(val_losses=(0.10, 0.07, 0.068, 0.069), accuracy=0.965, val_accuracy=0.980, regularisers=("dropout",))
    verdict = judge(dropout)
    assert verdict.kind == "fits-well" and "underfit" not in verdict.text
    assert verdict.text.endswith(
        "Training accuracy (96.50%) is below validation (98.00%) because it averages an epoch of learning and "
        "dropout is on only while training, so it understates the network."
    )
    assert "dropout" not in judge(run(val_losses=(0.10, 0.07, 0.068, 0.069), accuracy=0.965)).text


def test_two_epochs_are_too_few_to_judge_even_for_the_largest_model():
    for columns, params in ((NOTEBOOK_1, 669_706), (NOTEBOOK_2, 575_510)):
        verdict = judge(RunSummary("early", notebook(columns, 2), params, 0.97, ("dropout", "batch norm")))
        assert verdict.kind == "too-few-epochs"
        assert "underfit" not in verdict.text and "more units" not in verdict.text
    big = RunSummary("big", notebook(NOTEBOOK_2, 2), 784_960, 0.9694, ("dropout", "batch norm"))
    assert judge(big).text.startswith(
        "**big**: too few epochs to judge. Validation accuracy 96.94% (loss 0.0975) after 2 epochs; judging takes 3"
    )


def test_underfitting_needs_both_accuracies_low_and_flat():
    flat = run(val_losses=(0.30, 0.28, 0.281, 0.28), losses=[0.3] * 4, accuracy=0.92, val_accuracy=0.925)
    verdict = judge(flat)
    assert verdict.kind == "underfitting" and "Accuracy ended low and flat, 92.00% on training, 92.50%" in verdict.text
    assert judge(run(val_losses=(0.40, 0.35, 0.30), accuracy=0.92, val_accuracy=0.925)).kind == "still-learning"
    high_training = run(val_losses=(0.30, 0.28, 0.281, 0.28), losses=[0.1] * 4, accuracy=0.99, val_accuracy=0.92)
    assert judge(high_training).kind == "wide-gap"


def test_a_stopped_run_says_so_and_is_judged_as_far_as_it_got():
    stopped = run(val_losses=(0.10, 0.08, 0.07, 0.06, 0.05), test_accuracy=None, planned_epochs=20, stopped=True)
    verdict = judge(stopped)
    assert verdict.kind == "still-learning"
    assert "**A**: still learning. Stopped after 5 of 20 epochs, so judged on those. Validation loss fell" in (
        verdict.text
    )
    one = judge(run(val_losses=(0.1,), test_accuracy=None, planned_epochs=20, stopped=True))
    assert one.kind == "too-few-epochs" and "Stopped after 1 of 20 epochs" in one.text
    assert "Stopped" not in judge(run()).text


def test_mixed_epoch_counts_are_ranked_apart_and_the_odd_ones_named():
    twenty = [run(f"long {i}", [0.1 - 0.001 * e for e in range(20)], test_accuracy=0.98 + i / 1000) for i in range(2)]
    five = [run(f"short {i}", [0.2 - 0.01 * e for e in range(5)], test_accuracy=0.97 + i / 1000) for i in range(2)]
    alone = run("lone", [0.1 - 0.001 * e for e in range(7)])
    stopped = run("halted", (0.1, 0.09), test_accuracy=None, planned_epochs=20, stopped=True)
    found = compare([twenty[0], five[0], alone, twenty[1], stopped, five[1]])
    groups = {comparison.group: comparison.runs for comparison in found if comparison.kind == "best-accuracy"}
    assert groups == {
        "20 epochs each, validated on the test set": ("long 1", "long 0"),
        "5 epochs each, validated on the test set": ("short 1", "short 0"),
    }
    left = found[-1]
    assert left.kind == "left-out" and left.runs == ("lone", "halted")
    assert left.text == (
        "Left out of the rankings (only finished runs of the same epochs on the same validation data are ranked "
        "together): lone: 7 epochs; halted: stopped after 2 of 20 epochs."
    )


def test_other_validation_data_is_not_ranked_with_the_test_set():
    test = [run("a", test_accuracy=0.98, data="mnist"), run("b", test_accuracy=0.97, data="mnist")]
    holdout = run("c", validation="holdout", data="mnist")
    other = run("d", data="fashion")
    found = compare([*test, holdout, other])
    assert [comparison.runs for comparison in found if comparison.kind == "best-accuracy"] == [("a", "b")]
    assert found[-1].text.endswith("c: 3 epochs, validated on a held-out set; d: 3 epochs, other data.")
    nothing = compare([holdout, other])  # nothing ranked, and it says why
    assert [c.kind for c in nothing] == ["left-out"] and nothing[0].text.startswith("Nothing ranked (only finished")


def test_a_ranking_gives_accuracy_cost_and_gap_and_what_regularisation_did():
    plain = run("plain", (0.12, 0.11, 0.10), (0.04, 0.03, 0.02), params=100_000, test_accuracy=0.980)
    dropout = run("dropout", (0.08, 0.07, 0.06), (0.07, 0.06, 0.055), params=500_000, test_accuracy=0.985,
                  regularisers=("dropout",))  # fmt: skip
    texts = {comparison.kind: comparison.text for comparison in compare([plain, dropout])}
    assert texts["best-accuracy"] == (
        "Test accuracy, best first: dropout 98.50% (500,000 parameters, 2.0 s an epoch), plain 98.00% (100,000 "
        "parameters, 2.0 s an epoch)."
    )
    assert texts["smallest-gap"].endswith("smallest first (closest to 0): dropout +0.0050, plain +0.0800.")
    assert texts["regularisation"] == (
        "Dropout or batch norm narrowed the gap: 0.0050 on average with them, 0.0800 without."
    )
    worse = run("worse", (0.2, 0.2, 0.2), (0.02,) * 3, regularisers=("batch norm",))
    assert "did not narrow" in {c.kind: c.text for c in compare([plain, worse])}["regularisation"]
    assert compare([plain]) == []


def test_five_runs_read_as_one_bullet_each_then_one_ranking():
    runs = [run(f"r{i}", [0.1 - 0.001 * e - i / 1000 for e in range(6)], test_accuracy=0.98 + i / 1000) for i in
            range(5)]  # fmt: skip
    text = observe(runs).markdown()
    assert [line[:7] for line in text.splitlines() if line.startswith("- **")] == [f"- **r{i}*" for i in range(5)]
    assert text.count("\n- ") == 4 + 2  # five verdicts, then accuracy and gap
    assert "**Compared: 6 epochs each, validated on the test set**" in text


def test_summarise_reads_the_design_status_and_data():
    from mnist_dash.presets import PRESETS
    from mnist_dash.spec import LayerSpec, ModelSpec

    plain = summarise("plain", ModelSpec(layers=(LayerSpec(8),), epochs=3), history([0.1]), 10, None, "stopped", "x")
    assert (plain.regularisers, plain.stopped, plain.planned_epochs, plain.data) == ((), True, 3, "x")
    notebook_2 = summarise("nb", PRESETS["notebook-3-hidden-bn"], history([0.1] * 20), 10, 0.9)
    assert notebook_2.regularisers == ("dropout", "batch norm") and not notebook_2.stopped


def test_table_row_for_the_compare_page():
    row = table_row(run("a", val_losses=(0.10, 0.06, 0.07), losses=(0.2, 0.1, 0.05), params=500), "784 → 8 → 10")
    assert row["best val_loss"] == 0.06 and row["at epoch"] == 2 and row["epochs"] == 3
    assert row["gap at end"] == pytest.approx(0.02) and row["s / epoch"] == 2.0 and row["parameters"] == 500
    assert table_row(run("[a](b)"), "784 → 8 → 10")["run"] == "[a](b)"  # plain text for a dataframe


def test_run_names_in_observations_are_escaped_markdown():
    names = ["![](https://example.invalid/t.png)", "[Log in again](https://example.invalid)", ":red[x] $y$"]
    runs = [
        run(names[0], (0.05, 0.09, 0.09), (0.1, 0.05, 0.04)),
        run(names[1], test_accuracy=0.97),
        run(names[2], (0.06,)),
    ]
    found = observe(runs)
    texts = [verdict.text for verdict in found.verdicts] + [comparison.text for comparison in found.comparisons]
    assert found.verdicts[0].text.startswith(f"**{md(names[0])}**: overfitting.")
    assert any(f"{md(names[1])} 97.00%" in text for text in texts)
    for text in texts:
        assert not any(name in text for name in names)  # never raw
        assert "](" not in text and ":red[" not in text and " $y" not in text


# Histories as training makes them: losses and accuracies anywhere plausible, any length.
EPOCH = st.fixed_dictionaries(
    {
        "loss": st.floats(0.001, 2.5),
        "accuracy": st.floats(0.1, 1.0),
        "val_loss": st.floats(0.001, 2.5),
        "val_accuracy": st.floats(0.1, 1.0),
        "seconds": st.floats(0.1, 60),
    }
)


@st.composite
def summaries(draw):
    epochs = draw(st.lists(EPOCH, min_size=1, max_size=12))
    records = tuple({"epoch": i + 1} | record for i, record in enumerate(epochs))
    planned = draw(st.integers(len(records), 14))
    return RunSummary(
        draw(st.sampled_from("ABCDEFGH")),
        records,
        draw(st.integers(100, 10**6)),
        None if planned > len(records) else draw(st.none() | st.floats(0.1, 1.0)),
        draw(st.sampled_from([(), ("dropout",), ("batch norm",), ("dropout", "batch norm")])),
        planned,
        planned > len(records),
        draw(st.sampled_from(["test", "holdout"])),
    )


@settings(max_examples=300, deadline=None)
@given(st.lists(summaries(), max_size=6, unique_by=lambda run: run.name))
def test_every_run_gets_one_verdict_its_numbers_bear_out(runs):
    found = observe(runs)
    assert [verdict.run for verdict in found.verdicts] == [run.name for run in runs]
    for run_, verdict in zip(runs, found.verdicts, strict=True):
        said = [kind for kind, label in LABELS.items() if re.search(rf"\b{label}\b", verdict.text)]
        assert said == [verdict.kind], verdict.text  # its own verdict's words, no other's
        last, lowest = run_.history[-1], min(record["val_loss"] for record in run_.history)
        assert (verdict.kind == "too-few-epochs") == (len(run_.history) < MIN_EPOCHS)
        assert ("Stopped after" in verdict.text) == run_.stopped
        if verdict.kind == "underfitting":
            assert last["val_accuracy"] < UNDERFIT_ACCURACY
        if verdict.kind in ("overfitting", "unstable"):
            assert all(record["val_loss"] > lowest * (1 + RISE) for record in run_.history[-2:])
        if verdict.kind == "fits-well":
            assert last["val_accuracy"] >= UNDERFIT_ACCURACY and run_.final_gap <= 0.03
    ranked = set()
    for comparison in found.comparisons:
        named = [run_ for run_ in runs if run_.name in comparison.runs]
        if comparison.kind == "left-out":
            assert not ranked & set(comparison.runs)
            continue
        assert len({(len(r.history), r.validation, r.data) for r in named}) == 1 and len(named) > 1
        assert not any(r.stopped for r in named)
        ranked |= set(comparison.runs)
    left = {name for comparison in found.comparisons if comparison.kind == "left-out" for name in comparison.runs}
    assert ranked | left == ({run_.name for run_ in runs} if len(runs) > 1 else set())


def test_one_epoch_runs_are_grouped_under_a_singular_heading():
    found = compare([run("a", (0.1,), test_accuracy=0.95), run("b", (0.2,), test_accuracy=0.94)])
    assert {comparison.group for comparison in found if comparison.kind == "best-accuracy"} == {
        "1 epoch each, validated on the test set"
    }


def test_validation_loss_rising_while_validation_accuracy_rises_is_over_confidence_not_overfitting():
    """A teacher corrected "overfitting" where validation accuracy kept rising: the model grew over-confident."""
    verdict = judge(
        run(
            val_losses=(0.10, 0.06, 0.07, 0.075),
            losses=(0.10, 0.05, 0.04, 0.03),
            val_accuracy=[0.96, 0.97, 0.975, 0.978],
        )
    )
    assert verdict.kind == "over-confident" and "overfitting" not in verdict.text
    assert "while validation accuracy kept rising (97.00% to 97.80%)" in verdict.text


def test_seeds_of_one_design_are_named_as_seed_noise_and_negative_gaps_are_explained():
    same = {"val_losses": (0.10, 0.08, 0.07), "losses": (0.2, 0.15, 0.12), "design": "d1"}
    found = compare([run("seed 0", test_accuracy=0.981, **same), run("seed 1", test_accuracy=0.978, **same)])
    texts = " ".join(comparison.text for comparison in found)
    assert "seed 0, seed 1 are one design with different seeds: their spread of 0.30 points is seed noise" in texts
    assert "A negative gap is validation loss below training loss" in texts
