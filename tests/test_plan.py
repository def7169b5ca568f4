import pytest

from mnist_dash.plan import count_params, describe, layer_plan
from mnist_dash.presets import NOTEBOOK_PRESETS, PRESETS
from mnist_dash.spec import LayerSpec, ModelSpec

# The totals printed by the notebook's model.summary() (trainable, non-trainable).
NOTEBOOK_COUNTS = {
    "notebook-2-hidden": (468_874, 468_874, 0),
    "notebook-3-hidden-bn": (575_510, 574_710, 800),
    "notebook-5-hidden-bn": (784_960, 784_460, 500),
}


@pytest.mark.parametrize("name", NOTEBOOK_PRESETS)
def test_notebook_presets_have_the_notebooks_parameter_counts(name):
    counts = count_params(PRESETS[name])
    assert (counts.total, counts.trainable, counts.non_trainable) == NOTEBOOK_COUNTS[name]


def test_layer_plan_names_and_bn_placement():
    spec = ModelSpec(layers=(LayerSpec(8, "tanh", 0.2, "before"), LayerSpec(4, batch_norm="after")))
    plan = [(p.name, p.kind) for p in layer_plan(spec)]
    assert plan == [
        ("scale", "Rescaling"),
        ("flatten", "Flatten"),
        ("hidden_1", "Dense"),
        ("bn_1", "BatchNormalization"),
        ("activation_1", "Activation"),
        ("dropout_1", "Dropout"),
        ("hidden_2", "Dense"),
        ("bn_2", "BatchNormalization"),
        ("output", "Dense"),
    ]
    # With BN before the activation the Dense layer itself is linear.
    assert layer_plan(spec)[2].config["activation"] == "linear"
    assert layer_plan(spec)[4].config["activation"] == "tanh"


def test_describe_reads_as_one_line():
    text = describe(PRESETS["notebook-3-hidden-bn"])
    assert text == "784 → 500 relu, drop 0.4 → 300 relu, BN after, drop 0.4 → 100 relu, BN after → 10"
