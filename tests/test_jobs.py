import numpy as np
import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from mnist_dash.jobs import JobStatus, TrainingJob
from mnist_dash.jobs.queue import JobQueue
from mnist_dash.jobs.runners.process import max_jobs_from_env
from mnist_dash.runs import RunStore
from mnist_dash.runs.spool import spool_folder
from tests.patience import patience
from tests.support import Stand, marker_ids, save_fake, wait_until


@pytest.mark.parametrize(
    ("reason", "fix"),
    [
        ("database or disk is full", "Free some space there (delete old runs)"),
        (
            "server closed the connection unexpectedly",
            "Check that the database is reachable and writable (or set MNIST_DASH_DB_URL to another)",
        ),
    ],
)
def test_a_failed_save_ends_failed_with_the_reason_and_leaves_earlier_runs(
    tiny_data, tiny_spec, database_url, monkeypatch, reason, fix
):
    store = RunStore(database_url)
    earlier = save_fake(store)

    def failing(*args, **kwargs):  # where the run is written, in its one transaction
        raise OperationalError("INSERT INTO runs ...", {}, Exception(reason))

    monkeypatch.setattr(store, "insert", failing)
    # It tries again (none of that here), then would keep the run on the server's disk: that is refused too.
    monkeypatch.setenv("MNIST_DASH_SAVE_RETRY_S", "0")
    spool_folder(store).parent.parent.mkdir(parents=True, exist_ok=True)
    spool_folder(store).parent.write_text("not a folder")
    limiter = JobQueue(1)
    snap = TrainingJob(tiny_spec.replace(epochs=1), tiny_data, store=store, queue=limiter).start().wait(patience(60))
    assert snap.status == JobStatus.FAILED and snap.run_id is None and snap.history
    backend = store.engine.dialect.name
    # A database server's connection error names its host and user: a student reads that it did not answer.
    said = "the database did not answer" if backend == "postgresql" and "full" not in reason else reason
    assert snap.error.startswith(
        f"could not save the run: {said} (the {backend} run store; the server's log has the details). {fix}, then "
        "train again."
    )
    assert "The server could not keep it on its own disk either" in snap.error
    assert limiter.running == 0
    listing = RunStore(database_url).list()
    assert [run.run_id for run in listing.runs] == [earlier] and not listing.damaged and not listing.interrupted
    assert store.revision() == 1 and marker_ids(store) == []  # nothing half-written, no marker left
    spool_folder(store).parent.unlink()
    assert store.history(earlier)["epochs"]


def test_a_store_that_cannot_be_written_fails_before_training(tiny_data, tiny_spec, database_url):
    store = RunStore(database_url)
    with store.engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE in_progress"))  # as a database that refuses writes
    snap = TrainingJob(tiny_spec, tiny_data, store=store, queue=JobQueue(1)).start().wait(patience(60))
    assert snap.status == JobStatus.FAILED and snap.history == () and snap.batch_history == ()
    assert snap.error.startswith("could not write to the run store: ") and "in_progress" in snap.error
    assert snap.error.endswith("then train again.")


def test_a_training_job_is_marked_in_progress_until_it_is_saved(slow_data, tiny_spec, tmp_path):
    store = RunStore(tmp_path)
    job = TrainingJob(tiny_spec.replace(batch_size=8, epochs=20), slow_data, store=store, queue=JobQueue(1))
    job.start()
    wait_until(lambda: job.snapshot().history)  # one epoch done: a run stopped now is saved
    assert len(marker_ids(store)) == 1 and store.list().interrupted == []  # this process still trains it
    job.stop()
    snap = job.wait(patience(60))
    assert marker_ids(store) == [] and [run.run_id for run in store.list().runs] == [snap.run_id]


def test_two_jobs_with_a_limit_of_one_queue(slow_data, tiny_data, tiny_spec):
    limiter = JobQueue(1)
    first = TrainingJob(tiny_spec.replace(batch_size=8, epochs=20), slow_data, queue=limiter).start()
    wait_until(lambda: first.snapshot().status == JobStatus.RUNNING)
    second = TrainingJob(tiny_spec.replace(epochs=1), tiny_data, queue=limiter).start()
    wait_until(lambda: second.snapshot().queue_position == 1)
    assert second.snapshot().status == JobStatus.QUEUED and limiter.running == 1
    first.stop()
    assert second.wait(timeout=patience(60)).status == JobStatus.FINISHED
    assert first.snapshot().status == JobStatus.STOPPED


def test_stopping_a_queued_job_leaves_the_queue(tiny_data, tiny_spec):
    queue = JobQueue(1)
    holder = Stand(queue, "someone-else")
    assert holder.started.wait(5)
    queued = TrainingJob(tiny_spec, tiny_data, queue=queue).start()
    wait_until(lambda: queued.snapshot().queue_position == 1)
    queued.stop()
    snap = queued.wait(timeout=patience(10))
    assert snap.status == JobStatus.STOPPED and snap.history == () and snap.run_id is None
    assert snap.status_line == "left the queue" and queue.queued == 0
    holder.finish()


@pytest.mark.parametrize(("raw", "expected"), [("1", 1), (" 4 ", 4)])
def test_max_jobs_from_env(monkeypatch, raw, expected):
    monkeypatch.setenv("MNIST_DASH_MAX_JOBS", raw)
    assert max_jobs_from_env() == expected


@pytest.mark.parametrize("raw", ["0", "-1", "two", "1.5"])
def test_bad_max_jobs_is_a_clear_error(monkeypatch, raw):
    monkeypatch.setenv("MNIST_DASH_MAX_JOBS", raw)
    with pytest.raises(ValueError, match="MNIST_DASH_MAX_JOBS must be a whole number"):
        max_jobs_from_env()


def test_status_lines(tiny_spec):
    from mnist_dash.jobs import JobSnapshot

    def snap(status, **extra):
        fields = {
            "job_id": "job-1",
            "spec": tiny_spec,
            "status": status,
            "queue_position": 0,
            "epoch": 0,
            "batch": 0,
            "batches_per_epoch": 10,
            "history": (),
            "batch_history": (),
            "elapsed": 0.0,
        }
        return JobSnapshot(**(fields | extra))

    assert snap(JobStatus.QUEUED, queue_position=3).status_line == "queued #3"
    assert snap(JobStatus.RUNNING, epoch=1).status_line == "running epoch 2 of 2"
    assert snap(JobStatus.STOPPED, epoch=1).status_line == "stopped after 1 of 2 epochs"
    assert snap(JobStatus.FINISHED, epoch=2).status_line == "finished"
    assert snap(JobStatus.FAILED).status_line == "failed"
    assert snap(JobStatus.DIVERGED, epoch=1).status_line == "diverged in epoch 2 of 2"
    assert snap(JobStatus.WAITING, epoch=1).status_line == "waiting for its next turn (epoch 2 of 2)"
    assert snap(JobStatus.RUNNING, phase="preparing the model").status_line == "preparing the model (epoch 1 of 2 next)"
    saving = snap(JobStatus.RUNNING, epoch=2, batch=9, phase="saving: the database is not answering")
    assert saving.status_line == "saving: the database is not answering (after epoch 2 of 2)"
    assert [status for status in JobStatus if not status.ended] == [
        JobStatus.QUEUED,
        JobStatus.RUNNING,
        JobStatus.WAITING,
    ]


def test_latest_weights_follow_the_epochs(tiny_data, tiny_spec):
    job = TrainingJob(tiny_spec, tiny_data, queue=JobQueue(1))
    assert job.latest_weights() is None
    job.start().wait(timeout=patience(120))
    epoch, weights = job.latest_weights()
    assert epoch == 2
    from mnist_dash.model import build_model

    model = build_model(tiny_spec)
    model.set_weights(weights)  # the same architecture takes them as they are
    assert [w.shape for w in model.get_weights()] == [w.shape for w in weights]


def test_a_diverging_job_ends_diverged_with_advice_and_saves_nothing(tiny_data, tiny_spec, tmp_path):
    from mnist_dash.spec import LayerSpec

    store = RunStore(tmp_path)
    spec = tiny_spec.replace(layers=(LayerSpec(32, "linear"),) * 4, optimizer="sgd", learning_rate=1.0, epochs=3)
    job = TrainingJob(spec, tiny_data, store=store, queue=JobQueue(1)).start()
    snap = job.wait(timeout=patience(120))
    assert snap.status == JobStatus.DIVERGED and snap.done and job.done
    assert snap.status_line == "diverged in epoch 1 of 3"
    assert "the training loss became nan in epoch 1, batch" in snap.error
    assert "Lower the learning rate (1 with sgd), e.g. to 0.01" in snap.error
    assert snap.history == () and all(np.isfinite(p["loss"]) for p in snap.batch_history)
    assert snap.run_id is None and snap.test_accuracy is None
    assert store.list().runs == []


def test_a_job_stopped_before_its_first_epoch_ended_is_not_stored(slow_data, tiny_spec, tmp_path):
    store = RunStore(tmp_path)
    job = TrainingJob(tiny_spec.replace(batch_size=8, epochs=5), slow_data, store=store, queue=JobQueue(1)).start()
    wait_until(lambda: job.snapshot().batch_history)
    job.stop()
    snap = job.wait(patience(60))
    assert snap.status == JobStatus.STOPPED and snap.run_id is None and snap.history == ()
    assert "before its first epoch ended" in snap.reason
    assert store.list().runs == [] and marker_ids(store) == []


def test_a_job_past_the_time_limit_is_stopped_saved_and_says_why(slow_data, tiny_spec, tmp_path):
    from mnist_dash.jobs import Limits

    store = RunStore(tmp_path)
    limits = Limits(job_seconds=10, max_epochs=200, min_batch_size=8)
    spec = tiny_spec.replace(epochs=200, batch_size=8)  # 150,000 steps: far more than 10 s of training, any day
    job = TrainingJob(spec, slow_data, store=store, queue=JobQueue(1), limits=limits).start()
    snap = job.wait(patience(120))
    assert snap.status == JobStatus.STOPPED and 0 < snap.epoch < 200, snap
    assert "the longest a job may train on this server (MNIST_DASH_JOB_SECONDS)" in snap.reason
    [run] = store.list().runs
    assert run.run_id == snap.run_id and run.status == "stopped" and run.epochs_run == snap.epoch


def test_the_mirror_keeps_the_batch_count_of_the_epoch_in_progress():
    from mnist_dash.jobs.contract import LiveMirror, Progress

    mirror = LiveMirror()
    mirror.apply(Progress(1, steps=10, epoch=0, batch=0))
    mirror.apply(Progress(1, epoch=0, batch=10))
    mirror.apply(Progress(1, epochs=({"epoch": 1},)))
    assert (len(mirror.epochs), mirror.batch) == (1, 0)  # epoch 1 done, epoch 2 not begun: not 1 + 10/10
    mirror.apply(Progress(1, epoch=0, batch=10))  # a late word about epoch 1
    assert mirror.batch == 0
    mirror.apply(Progress(1, epoch=1, batch=3))
    assert (mirror.epoch, mirror.batch) == (1, 3)
