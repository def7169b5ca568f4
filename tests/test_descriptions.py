"""Every chart in words, on hand-made histories, matrices and maps with known answers; and any figure as a table."""

import numpy as np
import pytest

from mnist_dash import descriptions
from mnist_dash.plots.model import confusion_heatmap, weight_violins
from mnist_dash.plots.table import figure_rows
from mnist_dash.plots.training import training_curves
from mnist_dash.predict import LayerActivity
from mnist_dash.units import Inputs
from tests.test_board import run


def history(*val_losses, losses=None, val_accuracies=None):
    """Per-epoch records with these validation losses (training loss falling unless given)."""
    losses = losses or [0.3 / (i + 1) for i in range(len(val_losses))]
    val_accuracies = val_accuracies or [0.95 + 0.005 * i for i in range(len(val_losses))]
    return [
        {"epoch": i + 1, "loss": loss, "accuracy": 0.99, "val_loss": v, "val_accuracy": va, "seconds": 2.0}
        for i, (loss, v, va) in enumerate(zip(losses, val_losses, val_accuracies, strict=True))
    ]


RISING = history(0.20, 0.10, 0.070, 0.075, 0.079, 0.081, val_accuracies=[0.94, 0.96, 0.98, 0.975, 0.972, 0.97])


def test_a_rising_validation_loss_says_where_it_was_lowest_that_it_rose_since_and_the_verdict():
    assert descriptions.curves(RISING) == (
        "Validation loss 0.0810 at epoch 6, training loss 0.0500. Lowest 0.0700 at epoch 3, rising since. "
        "Verdict: overfitting."
    )


def test_accuracy_curves_speak_of_the_highest_and_of_falling():
    said = descriptions.curves(RISING, "accuracy")
    assert said.startswith("Validation accuracy 97.00% at epoch 6, training accuracy 99.00%.")
    assert "Highest 98.00% at epoch 3, falling since." in said


def test_a_tie_names_every_epoch_that_reached_the_best():
    said = descriptions.curves(history(0.2, 0.1, 0.12, 0.1))
    assert "Lowest 0.1000 at epochs 2 and 4: a tie, level with its best now." in said
    assert "and not better since" in descriptions.curves(history(0.2, 0.1, 0.12, 0.1, 0.11))


def test_one_epoch_is_no_curve_yet_and_no_verdict():
    assert descriptions.curves(history(0.2)) == (
        "Validation loss 0.2000 at epoch 1, training loss 0.3000. One epoch so far: a curve needs two."
    )


def test_a_run_still_improving_is_at_its_lowest_so_far():
    said = descriptions.curves(history(0.3, 0.2, 0.1))
    assert "Its lowest so far. Verdict: still learning." in said


def test_a_stopped_run_says_so_and_is_described_as_far_as_it_got():
    said = descriptions.curves(history(0.2, 0.1), planned=10, stopped=True)
    assert said.startswith("Stopped after 2 of 10 epochs. Validation loss 0.1000 at epoch 2")
    assert "Verdict" not in said  # two epochs: too few to judge, and the words do not pretend
    nothing = descriptions.curves([], planned=5, stopped=True)
    assert nothing == (
        "Stopped after 0 of 5 epochs. No epoch has ended yet, so there is no loss curve: "
        "it starts when the first epoch ends."
    )


def test_compared_runs_are_said_best_first_with_their_best_epoch():
    said = descriptions.compared([("wide", RISING), ("deep", history(0.2, 0.09, 0.06))])
    assert said == (
        "2 runs, best first. deep: validation loss 0.0600 after 3 epochs, best 0.0600 at epoch 3; "
        "wide: validation loss 0.0810 after 6 epochs, best 0.0700 at epoch 3."
    )


def test_violins_give_each_layers_median_spread_and_change_since_the_start():
    start = [("hidden_1 kernel", np.array([-2.0, -1.0, 1.0, 2.0]))]  # quartiles -1.25, +1.25: spread 2.5
    now = [("hidden_1 kernel", np.array([-4.0, -2.0, 2.0, 4.0]))]  # spread 5: grown 100%
    assert descriptions.violins(now, start, 3) == (
        "Weights after epoch 3. hidden_1 kernel: median +0.000, middle half -2.500 to +2.500, "
        "spread grown 100% since epoch 0."
    )
    assert descriptions.violins(start, start, 0).startswith("Weights at the start (epoch 0). hidden_1 kernel")


def test_the_confusion_matrix_names_its_three_most_confused_pairs():
    matrix = np.eye(10, dtype=int) * 90
    matrix[4, 9], matrix[7, 2], matrix[3, 5], matrix[1, 7] = 7, 5, 5, 1
    assert descriptions.confusion(matrix) == (
        "900 of 918 test images read right (98.04%). Most confused: 4 read as 9 (7 times), "
        "3 read as 5 (5 times), 7 read as 2 (5 times)."
    )
    assert descriptions.confusion(np.eye(10, dtype=int)).endswith("No digit was mistaken for another.")


def test_probabilities_give_the_answer_and_runner_up_and_say_a_tie():
    p = np.array([0.01, 0.02, 0.05, 0.6, 0.02, 0.3, 0, 0, 0, 0])
    assert descriptions.probabilities(p) == "It reads 3 (60.0%); the runner-up is 5 (30.0%)."
    assert descriptions.probabilities(np.array([0.5, 0, 0.5, 0, 0, 0, 0, 0, 0, 0])) == "A tie: 0 and 2, 50.0% each."


def test_saliency_names_where_ink_would_raise_and_lower_the_answer():
    saliency = np.zeros((28, 28))
    saliency[10:18, 10:18] = 1.0  # the centre
    saliency[20:, :8] = -0.5  # the bottom left
    assert descriptions.saliency(saliency, 3) == (
        "More ink in the centre would raise the probability of 3 most; more ink in the bottom left would lower it most."
    )
    assert descriptions.saliency(np.zeros((28, 28)), 3) == "The map for 3 is flat: no pixel changes its probability."
    rows = descriptions.saliency_rows(saliency)
    assert rows[0] == {"region": "the centre", "more ink there": "raises it", "strength": 1.0}
    assert rows[1]["region"] == "the bottom left" and rows[1]["more ink there"] == "lowers it"


def test_units_say_where_ink_excites_and_inhibits_them():
    top = np.zeros((28, 28))
    top[:9, 10:18] = 1.0
    top[20:, 20:] = -1.0
    assert descriptions.units(np.stack([top]), ["unit 7"]) == (
        "unit 7: excited by ink in the top, inhibited by ink in the bottom right."
    )


def test_deeper_units_list_their_strongest_inputs_signed():
    unit = Inputs(3, np.array([12, 4]), np.array([0.42, -0.31]), np.zeros((2, 28, 28)))
    assert descriptions.inputs("hidden_2", [unit]) == (
        "hidden_2, each unit's strongest inputs and their weights: unit 3: from unit 12 +0.42, from unit 4 -0.31."
    )


def test_layer_activity_counts_the_units_that_fire_and_names_the_strongest():
    layer = LayerActivity("hidden_1", np.array([0.0, 2.5, -1.0, 0.5, 1.0]))
    assert descriptions.activity([layer]) == (
        "hidden_1: 3 of 5 units above 0, strongest unit 1 (2.50), unit 4 (1.00), unit 3 (0.50)."
    )


def test_the_board_names_the_best_runs_for_their_size():
    runs = [run("ada", 0.95, units=16), run("ada", 0.97, units=64), run("bo", 0.96, units=128), run("cy", 0.98, 256)]
    said = descriptions.board(runs, me="name:bo")
    assert said.startswith("4 runs by 3 students.")
    # The staircase: ada's 95% (small), ada's 97%, then cy's 98%; bo's 96% at 128 units is below it.
    assert "97.00% with" in said and "98.00% with" in said and "96.00%" not in said
    rows = descriptions.board_rows(runs, me="name:bo")
    assert [row["test accuracy"] for row in rows] == [0.98, 0.97, 0.96, 0.95]
    assert [row["best for its size"] for row in rows] == [True, True, False, True]
    assert rows[2]["student"] == "you"
    assert descriptions.board([]) == "No finished runs on the board."


def test_the_probability_history_says_when_the_answer_changed():
    three, five = np.eye(10)[3] * 0.8, np.eye(10)[5] * 0.7
    assert descriptions.probability_history([1, 2, 3], [three, five, five]) == (
        "Its answer over 3 epochs: 3 from epoch 1 (80%), then 5 from epoch 2 (70%)."
    )


@pytest.mark.parametrize("metric", ["loss", "accuracy"])
def test_a_figure_reads_as_a_table_of_its_numbers(metric):
    rows = figure_rows(training_curves(RISING, [], metric))
    assert rows[0] == {
        "epoch": 1,
        f"train {metric}": RISING[0][metric],
        f"validation {metric}": RISING[0][f"val_{metric}"],
    }
    assert len(rows) == len(RISING)


def test_a_confusion_matrix_reads_as_its_grid_and_violins_as_their_summary():
    matrix = np.arange(100).reshape(10, 10)
    rows = figure_rows(confusion_heatmap(matrix))
    assert rows[2]["true digit"] == 2 and rows[2]["predicted digit 7"] == 27
    violins = figure_rows(weight_violins([("a&b kernel", np.array([1.0, 2.0, 3.0]))], 1, "kernel"))
    assert violins == [
        {"weights": "a&b kernel", "count": 3, "min": 1.0, "25%": 1.5, "median": 2.0, "75%": 2.5, "max": 3.0}
    ]


def snapshot(status, epoch=0, history=(), **more):
    from mnist_dash.jobs import JobSnapshot
    from mnist_dash.spec import LayerSpec, ModelSpec

    spec = ModelSpec(layers=(LayerSpec(16),), epochs=5)
    fields = {"queue_position": 0, "batch": 0, "batches_per_epoch": 10, "batch_history": (), "elapsed": 0.0}
    return JobSnapshot("job", spec, status, epoch=epoch, history=tuple(history), **(fields | more))


ENDED = "Epoch 2 of 5 ended: validation loss 0.1000, validation accuracy 95.50%."


@pytest.mark.parametrize(
    ("status", "epoch", "more", "said"),
    [
        (
            "queued",
            0,
            {"queue_position": 3, "wait": 42.0},
            "Queued: number 3 in line.",
        ),  # no wait: it moves each second
        ("running", 0, {}, "Training started: epoch 1 of 5."),
        ("running", 2, {}, ENDED),
        (
            "waiting",
            2,
            {},
            f"{ENDED} Waiting for its next turn.",
        ),
        ("finished", 5, {"test_accuracy": 0.9751}, "Finished after 5 epochs: test accuracy 97.51%."),
        (
            "stopped",
            2,
            {"reason": "your teacher cancelled it."},
            "Stopped after 2 of 5 epochs. Your teacher cancelled it.",
        ),
        ("stopped", 0, {"reason": "the server restarted"}, "Left the queue. The server restarted."),
        (
            "diverged",
            1,
            {"error": "the loss became NaN in epoch 2. Lower the learning rate."},
            "Training diverged: the loss became NaN in epoch 2. Lower the learning rate.",
        ),
    ],
)
def test_each_change_of_a_jobs_state_is_announced_in_words(status, epoch, more, said):
    from mnist_dash.jobs import JobStatus

    history = history_of(epoch)
    assert descriptions.announcement(snapshot(JobStatus(status), epoch, history, **more)) == said


def history_of(epochs: int) -> list[dict]:
    return [
        {"epoch": i + 1, "loss": 0.2, "accuracy": 0.95, "val_loss": 0.1, "val_accuracy": 0.955, "seconds": 1.0}
        for i in range(epochs)
    ]
