import numpy as np

from mnist_dash.plots.design import width_diagram
from mnist_dash.plots.training import training_curves
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


def test_compare_curves_one_colour_per_run_train_dashed():
    from mnist_dash.plots.training import compare_curves

    figure = compare_curves([("a", HISTORY), ("b", HISTORY)], "loss")
    assert [trace.name for trace in figure.data] == ["a", "a", "b", "b"]
    assert figure.data[0].line.color == figure.data[1].line.color != figure.data[2].line.color
    assert [trace.line.dash for trace in figure.data[:2]] == ["dash", "solid"]
    # One legend entry per run, hiding both its curves; the hover says which curve is which.
    assert [trace.showlegend for trace in figure.data] == [False, True, False, True]
    assert figure.data[0].legendgroup == figure.data[1].legendgroup != figure.data[2].legendgroup
    assert figure.data[0].hovertemplate == "%{fullData.name} · train: %{y:.4f}<extra></extra>"


def test_compare_legend_is_below_the_axis_title_however_many_runs():
    # Measured in Chromium: the axis title ends 19 px above the legend for 1 to 10 runs, the plot 330 px high.
    from mnist_dash.plots.training import compare_curves

    for runs in (1, 5, 10):
        figure = compare_curves([(f"run {i}", HISTORY) for i in range(runs)], "loss")
        legend, margin = figure.layout.legend, figure.layout.margin
        assert (legend.orientation, legend.yref, legend.y, legend.yanchor) == ("v", "container", 0, "bottom")
        assert margin.b == 70 + 30 * runs  # the tick labels and title, then a 30 px row per run
        assert figure.layout.height - margin.t - margin.b == 330  # the plot keeps its size


def test_probability_bars_highlight_the_answer():
    from mnist_dash.plots.model import probability_bars

    probabilities = np.array([0.01, 0.02, 0.9, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01])
    figure = probability_bars(probabilities)
    colours = list(figure.data[0].marker.color)
    assert colours[2] != colours[0] and len(set(colours)) == 2
    assert figure.data[0].text[2] == "90%"


def test_probability_history_has_a_line_per_digit():
    from mnist_dash.plots.model import probability_history

    figure = probability_history([1, 2], [np.full(10, 0.1), np.eye(10)[7]])
    assert len(figure.data) == 10 and list(figure.data[7].y) == [0.1, 1.0]


LINK = '<a href="https://example.invalid">x</a>'
ESCAPED = '&lt;a href="https://example.invalid"&gt;x&lt;/a&gt;'


def test_a_run_name_reaches_the_legend_as_text_not_html():
    from mnist_dash.plots.training import compare_curves

    figure = compare_curves([(LINK, HISTORY), ("<b>$x$</b>\nnext", HISTORY)], "accuracy")
    names = [trace.name for trace in figure.data]
    assert names[:2] == [ESCAPED, ESCAPED]
    assert names[2] == "&lt;b&gt;&#36;x&#36;&lt;/b&gt; next"
    assert not any("<" in name for name in names)
    assert not any("$" in trace.hovertemplate or "<b>" in trace.hovertemplate for trace in figure.data)


def test_violin_labels_are_text():
    from mnist_dash.plots.model import weight_violins

    figure = weight_violins([(LINK, np.zeros(3)), ("hidden_1 kernel", np.ones(3))], epoch=1)
    assert [trace.name for trace in figure.data] == [ESCAPED, "hidden_1 kernel"]


def test_violins_of_one_kind_are_placed_by_layer_on_a_fixed_scale():
    import pytest

    from mnist_dash.plots.model import weight_violins

    series = [("bn_1 gamma", np.ones(3)), ("bn_<b>2</b> gamma", np.full(3, 1.2))]
    figure = weight_violins(series, epoch=2, kind="gamma", y_range=(0.8, 1.2))
    assert [trace.name for trace in figure.data] == ["bn_1 gamma", "bn_&lt;b&gt;2&lt;/b&gt; gamma"]
    assert [trace.x0 for trace in figure.data] == ["bn_1", "bn_&lt;b&gt;2&lt;/b&gt;"]  # the axis names the layer
    assert figure.layout.yaxis.range == pytest.approx((0.78, 1.22))  # the range given, 5% of it added at each end
    assert figure.layout.title.text == "BN scale γ after epoch 2"
    initial = weight_violins(series[:1], epoch=0, kind="gamma", y_range=(1.0, 1.0))
    assert initial.layout.yaxis.range == pytest.approx((0.95, 1.05))  # every gamma still 1: room around it all the same
    assert initial.layout.title.text == "Initial BN scale γ (epoch 0)"
    assert not figure.frames and not figure.layout.updatemenus  # no play of Plotly's own: the page's slider leads


def test_a_job_stopped_before_its_first_epoch_ended_has_a_sane_frame():
    """Its few batch points made Plotly draw the accuracy axis from 0% to 150%."""
    points = [{"epoch": 0.05, "loss": 2.2, "accuracy": 0.31}, {"epoch": 0.1, "loss": 3.4, "accuracy": 0.52}]
    accuracy = training_curves([], points, "accuracy", epochs=5)
    loss = training_curves([], points, "loss", epochs=5)
    assert list(accuracy.layout.yaxis.range) == [0, 1] and list(loss.layout.yaxis.range) == [0, 3.4]
    epoch = [{"epoch": 1, "loss": 0.3, "accuracy": 0.91, "val_loss": 0.2, "val_accuracy": 0.94}]
    assert training_curves(epoch, points, "accuracy", epochs=5).layout.yaxis.range is None  # then it fits the data


def test_a_student_has_one_mark_on_every_screen_and_after_any_deletion():
    """A student's colour changed from screen to screen and when a run was deleted: "you are the red dot"."""
    from mnist_dash.owners import named
    from mnist_dash.plots.board import board_scatter, owner_mark
    from mnist_dash.runs.records import RunInfo
    from mnist_dash.spec import LayerSpec, ModelSpec

    def run(owner: str, units: int) -> RunInfo:
        spec = ModelSpec(layers=(LayerSpec(units),), name=f"{owner} {units}")
        key = named(owner).key
        return RunInfo(
            f"20261203-1000{units:02d}-{owner.lower()}",
            "finished",
            "2026-12-03T10:00:00+00:00",
            spec,
            units * 800,
            5,
            (1.0,) * 5,
            0.1,
            0.9,
            owner=key,
            owner_name=owner,
        )

    runs = [run(name, units) for name, units in (("Ada", 8), ("Bo", 16), ("Cy", 32), ("Bo", 64))]

    def marks(figure) -> dict:
        return {
            trace.name.removesuffix(" (you)"): (trace.marker.color, trace.marker.symbol)
            for trace in figure.data
            if trace.mode == "markers"
        }

    everyone = marks(board_scatter(runs, None))
    assert marks(board_scatter(runs, named("Cy").key)) == everyone  # Cy's own screen, Cy listed first
    assert marks(board_scatter(runs[1:], None)) == {k: v for k, v in everyone.items() if k != "Ada"}  # Ada's gone
    assert everyone["Bo"] == owner_mark(named("Bo").key)
    figure = board_scatter(runs, None)
    assert figure.layout.xaxis.dtick == 1 and figure.layout.xaxis.tickformat == "~s"  # 1k, 10k, 100k: no "2, 3"
