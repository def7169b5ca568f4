"""What the class tried (classroom.tried): choices counted with their results, and findings, by known answers."""

from mnist_dash.classroom.tried import Trial, batch_norm_both_ways, choices, did_not_help, diverged, findings
from mnist_dash.spec import LayerSpec, ModelSpec


def design(*units, dropout=0.0, batch_norm="none", activation="relu", optimizer="adam", rate=0.001, epochs=5):
    layers = tuple(LayerSpec(u, activation, dropout, batch_norm) for u in units)
    return ModelSpec(layers, optimizer=optimizer, learning_rate=rate, epochs=epochs)


def run(name, spec, accuracy=None, gap=None, outcome="finished"):
    return Trial(f"name:{name.lower()}", name, spec, outcome, accuracy, gap)


# A class of five: one hidden layer was the most common choice and did worse than two; heavy dropout too, less
# often; one SGD rate diverged twice.
CLASS = [
    run("Ann", design(512, 512, dropout=0.5), 0.970, 0.002),
    run("Bo", design(512, 512, dropout=0.6), 0.971, 0.001),
    run("Cy", design(256, dropout=0.5), 0.969, 0.003),
    run("Cy", design(256, dropout=0.5), None, None, outcome="training"),
    run("Di", design(512, 512), 0.977, 0.019),
    run("Ed", design(512, 512, dropout=0.2), 0.980, 0.012),
    run("Ed", design(512, optimizer="sgd", rate=1.0), outcome="diverged"),
    run("Di", design(512, optimizer="sgd", rate=1.0), outcome="diverged"),
    run("Bo", design(512, optimizer="sgd", rate=0.01), 0.9595, 0.001),
]


def test_each_choice_is_counted_with_its_median_results():
    dropout = {choice.label: choice for choice in choices(CLASS)["dropout"]}
    heavy = dropout["dropout ≥ 0.5"]
    assert (heavy.tried, heavy.finished, heavy.diverged) == (4, 3, 0)
    assert heavy.accuracy == 0.970 and abs(heavy.gap - 0.002) < 1e-12
    assert heavy.who == ("Ann", "Bo", "Cy")
    assert heavy.line() == "dropout ≥ 0.5: 4 runs (3 finished), median test accuracy 97.0%, median gap 0.2 points"
    none = dropout["no dropout"]
    assert (none.tried, none.finished, none.diverged) == (4, 2, 2)
    assert (
        none.line() == "no dropout: 4 runs (2 finished), median test accuracy 96.8%, median gap 1.0 points, 2 diverged"
    )
    assert [choice.label for choice in choices(CLASS)["dropout"]] == ["dropout ≥ 0.5", "no dropout", "dropout < 0.5"]
    assert {c.label: c.tried for c in choices(CLASS)["depth"]} == {"2 hidden layers": 4, "1 hidden layer": 5}
    assert choices(CLASS)["widths"][0].label == "widths 512 → 512"
    assert choices([])["dropout"] == []


def test_the_most_common_choice_that_did_not_help_names_who_tried_it():
    finding = did_not_help(CLASS)
    # adam (6 tried) is tried most, but sgd has one finished run: too few to compare. One hidden layer: 5 tried,
    # median 96.4% (96.9, 95.95) against two layers' 97.4% (97.0, 97.1, 97.7, 98.0). Heavy dropout did worse too
    # (97.0% against 97.7%) but was tried 4 times.
    assert finding.kind == "did-not-help" and finding.who == ("Bo", "Cy", "Di", "Ed")
    assert finding.text == (
        "The most common choice that did not help: 1 hidden layer (5 runs). Median test accuracy 96.4% with it, "
        "97.4% with the other depth choices (4 finished runs)."
    )
    assert finding.who_text == "Tried by Bo, Cy, Di, Ed."
    without_depth = [t for t in CLASS if len(t.spec.layers) == 2 or t.outcome != "finished"]
    assert did_not_help(without_depth).text.startswith("The most common choice that did not help: dropout ≥ 0.5")


def test_no_finding_from_too_few_finished_runs():
    assert did_not_help(CLASS[:1] + CLASS[4:5]) is None  # one finished run each side: nothing to tell apart
    same = [run("Ann", design(64), 0.95), run("Bo", design(64), 0.95), run("Cy", design(32), 0.96)]
    assert did_not_help(same) is None  # widths 32 has one finished run: too few for either side


def test_settings_that_diverged_say_how_often_and_for_whom():
    [finding] = diverged(CLASS)
    assert finding.who == ("Di", "Ed")
    assert finding.text == (
        "Learning rate 1 with sgd diverged (the loss became NaN) in 2 of 2 runs: try a learning rate ten times smaller."
    )
    assert finding.who_text == "Diverged for Di, Ed."
    assert diverged(CLASS[:5]) == []


def test_batch_norm_placed_two_ways_compares_the_medians():
    trials = [
        run("Ann", design(128, batch_norm="before"), 0.979),
        run("Bo", design(128, batch_norm="before"), 0.981),
        run("Cy", design(128, batch_norm="after"), 0.975),
        run("Di", design(128, batch_norm="after"), outcome="stopped"),
        run("Ed", design(128), 0.97),
    ]
    finding = batch_norm_both_ways(trials)
    assert finding.who == ("Ann", "Bo", "Cy")
    assert finding.text == (
        "Batch norm was placed two ways. Before the activation: 2 runs, median test accuracy 98.0%. "
        "After it: 1 run, median 97.5%. Before did 0.5 points better."
    )
    assert finding.who_text == "Before: Ann, Bo. After: Cy."
    assert batch_norm_both_ways(trials[:2] + trials[3:]) is None  # "after" has no finished run
    assert [f.kind for f in findings(trials)] == ["batch-norm"]  # "before" helped: no choice that did not
    assert [f.kind for f in findings(CLASS)] == ["did-not-help", "diverged"]
