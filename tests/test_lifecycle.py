"""Memory on a long-lived server: what a finished job keeps, and what it lets go.

A model a job trained stays in the process's pool for the next job of its design (a few at most); the
job itself never holds it: once the pool lets it go, nothing does.
"""

import gc
import weakref

import keras

from mnist_dash.jobs import JobQueue, JobStatus, TrainingJob
from mnist_dash.jobs.runners.thread import ThreadRunner
from mnist_dash.jobs.train_run import default_pool
from tests.patience import patience


class KeepAWeakReference(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.reference = weakref.ref(self.model)


def test_a_finished_job_lets_its_model_go_and_keeps_its_history(tiny_data, tiny_spec, tmp_path):
    from mnist_dash.runs import RunStore

    spy = KeepAWeakReference()
    job = TrainingJob(
        tiny_spec, tiny_data, store=RunStore(tmp_path), queue=JobQueue(1), runner=ThreadRunner([spy])
    ).start()
    snap = job.wait(timeout=patience(120))
    assert snap.status == JobStatus.FINISHED and len(snap.history) == tiny_spec.epochs
    default_pool().clear()
    gc.collect()
    assert spy.reference() is None  # saved to the store; a session holding the job no longer holds the model
    assert job.snapshot().history == snap.history and job.latest_weights()[0] == tiny_spec.epochs


def test_a_stopped_job_lets_its_model_go_too(tiny_data, tiny_spec):
    spy = KeepAWeakReference()
    job = TrainingJob(tiny_spec.replace(epochs=50), tiny_data, queue=JobQueue(1), runner=ThreadRunner([spy])).start()
    while not job.snapshot().batch_history:
        job.wait(timeout=0.05)
    job.stop()
    assert job.wait(timeout=patience(60)).status == JobStatus.STOPPED
    default_pool().clear()
    gc.collect()
    assert spy.reference() is None
