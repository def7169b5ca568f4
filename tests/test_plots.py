import numpy as np

from mnist_dash.plots import class_balance, training_curves, width_diagram
from mnist_dash.presets import PRESETS

HISTORY = [
    {"epoch": 1, "loss": 0.30, "accuracy": 0.91, "val_loss": 0.12, "val_accuracy": 0.96, "seconds": 2.5},
    {"epoch": 2, "loss": 0.13, "accuracy": 0.96, "val_loss": 0.10, "val_accuracy": 0.97, "seconds": 2.4},
]
BATCHES = [{"epoch": 0.25, "loss": 0.9, "accuracy": 0.7}, {"epoch": 1.5, "loss": 0.2, "accuracy": 0.94}]


def test_training_curves_have_batch_train_and_validation_traces():
    figure = training_curves(HISTORY, BATCHES, "loss", epochs=20, revision="job-7")
    names = [trace.name for trace in figure.data]
    assert names == ["train loss (during the epoch)", "train loss", "validation loss"]
    batch, train, validation = figure.data
    assert list(batch.x) == [0.25, 1.5] and list(batch.y) == [0.9, 0.2] and batch.line.width == 1
    assert list(train.y) == [0.30, 0.13] and train.line.dash == "dash"
    assert list(validation.y) == [0.12, 0.10] and validation.line.dash == "solid"
    assert figure.layout.uirevision == "job-7"  # keeps zoom across live updates
    assert tuple(figure.layout.xaxis.range) == (0, 20.2)


def test_accuracy_curves_read_as_percentages():
    figure = training_curves(HISTORY, BATCHES, "accuracy")
    assert list(figure.data[2].y) == [0.96, 0.97]
    assert figure.layout.yaxis.tickformat == ".1%"


def test_empty_curves_get_a_sensible_range():
    assert tuple(training_curves([], [], "accuracy").layout.yaxis.range) == (0, 1)
    assert training_curves(HISTORY, [], "loss").layout.yaxis.range is None


def test_width_diagram_shows_every_layer():
    figure = width_diagram(PRESETS["notebook-3-hidden-bn"])
    assert list(figure.data[0].x) == [784, 500, 300, 100, 10]
    assert "hidden 2: relu, BN after, dropout 0.4" in figure.data[0].y
    assert list(figure.data[0].text) == ["784", "500", "300", "100", "10"]


def test_class_balance_counts_each_digit():
    figure = class_balance(np.array([0, 1, 1, 9], np.uint8), np.array([2, 2], np.uint8))
    assert list(figure.data[0].y) == [1, 2, 0, 0, 0, 0, 0, 0, 0, 1]
    assert list(figure.data[1].y) == [0, 0, 2, 0, 0, 0, 0, 0, 0, 0]


def test_compare_curves_one_colour_per_run_train_dashed():
    from mnist_dash.plots import compare_curves

    figure = compare_curves([("a", HISTORY), ("b", HISTORY)], "loss")
    names = [trace.name for trace in figure.data]
    assert names == ["a · train", "a · validation", "b · train", "b · validation"]
    assert figure.data[0].line.color == figure.data[1].line.color != figure.data[2].line.color
    assert [trace.line.dash for trace in figure.data[:2]] == ["dash", "solid"]


def test_probability_bars_highlight_the_answer():
    from mnist_dash.plots_model import probability_bars

    probabilities = np.array([0.01, 0.02, 0.9, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01])
    figure = probability_bars(probabilities)
    colours = list(figure.data[0].marker.color)
    assert colours[2] != colours[0] and len(set(colours)) == 2
    assert figure.data[0].text[2] == "90%"


def test_probability_history_has_a_line_per_digit():
    from mnist_dash.plots_model import probability_history

    figure = probability_history([1, 2], [np.full(10, 0.1), np.eye(10)[7]])
    assert len(figure.data) == 10 and list(figure.data[7].y) == [0.1, 1.0]


LINK = '<a href="https://example.invalid">x</a>'
ESCAPED = '&lt;a href="https://example.invalid"&gt;x&lt;/a&gt;'


def test_a_run_name_reaches_the_legend_as_text_not_html():
    from mnist_dash.plots import compare_curves

    figure = compare_curves([(LINK, HISTORY), ("<b>$x$</b>\nnext", HISTORY)], "accuracy")
    names = [trace.name for trace in figure.data]
    assert names[:2] == [f"{ESCAPED} · train", f"{ESCAPED} · validation"]
    assert names[2] == "&lt;b&gt;&#36;x&#36;&lt;/b&gt; next · train"
    assert not any("<" in name for name in names)


def test_violin_labels_are_text():
    from mnist_dash.plots_model import weight_violins

    figure = weight_violins([(LINK, np.zeros(3)), ("hidden_1 kernel", np.ones(3))], epoch=1)
    assert [trace.name for trace in figure.data] == [ESCAPED, "hidden_1 kernel"]
