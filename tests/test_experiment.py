"""The notebook's experiment as the engine runs it: stored runs taken, the rest started as the limit allows."""

from types import SimpleNamespace

from mnist_dash.jobs.cache import CachedRun
from mnist_dash.jobs.experiment import NotebookExperiment, notebook_specs, still_to_train
from mnist_dash.presets import NOTEBOOK_PRESETS
from mnist_dash.runs import RunNotFound


class Store:
    """The two store calls the experiment makes, over a dict of stored runs by design name."""

    def __init__(self, stored: dict, damaged: frozenset = frozenset()):
        self.stored, self.damaged = stored, damaged

    def cached_runs(self, specs, data):
        return [self.stored.get(spec.name) for spec in specs]

    def history(self, run_id):
        if run_id in self.damaged:
            raise RunNotFound(run_id)
        return {"epochs": [{"epoch": 1}], "batches": []}


def stored_run(spec, run_id):
    return SimpleNamespace(
        spec=spec,
        run_id=run_id,
        status="finished",
        epoch_seconds=(1.0,),
        test_loss=0.1,
        test_accuracy=0.9,
        owner_name="ada",
    )


class Job:
    def __init__(self, spec):
        self.spec, self.done = spec, False


def test_stored_models_are_taken_and_the_rest_start_in_order_as_the_limit_allows():
    specs = notebook_specs(3)
    assert [spec.name for spec in specs] == list(NOTEBOOK_PRESETS) and {spec.epochs for spec in specs} == {3}
    store = Store({specs[1].name: stored_run(specs[1], "r2")})
    assert still_to_train(3, store, data=None) == 2
    experiment = NotebookExperiment(3, store, data=None)
    [reused] = experiment.jobs()
    assert isinstance(reused, CachedRun) and reused.snapshot().run_id == "r2"
    assert experiment.waiting() == [specs[0], specs[2]] and experiment.progress() == (False, True, True)
    started = []
    room = iter([True, False])  # the owner's limit lets one more job in, then none

    def start(spec):
        started.append(spec)
        return Job(spec)

    experiment.advance(lambda spec: next(room), start)
    assert started == [specs[0]] and experiment.waiting() == [specs[2]]
    assert [job.spec for job in experiment.jobs()] == specs[:2] and experiment.active
    experiment.advance(lambda spec: True, lambda spec: None)  # refused at the press: it stays waiting
    assert experiment.waiting() == [specs[2]]
    experiment.advance(lambda spec: True, start)
    assert started == [specs[0], specs[2]] and not experiment.waiting()
    for job in experiment.jobs():
        job.done = True
    assert experiment.progress() == (False, False, False) and not experiment.active


def test_a_damaged_stored_run_is_trained_again():
    specs = notebook_specs(2)
    store = Store({spec.name: stored_run(spec, f"r{i}") for i, spec in enumerate(specs)}, damaged=frozenset({"r0"}))
    experiment = NotebookExperiment(2, store, data=None)
    assert experiment.waiting() == [specs[0]] and len(experiment.jobs()) == 2
