"""A job's life: the queue and its turn order, owners' limits, the runners, the snapshot pages read.

No Keras here: the runners import it where training happens (`train_run`, `training`).
"""

from mnist_dash.jobs.admission import JobRefused
from mnist_dash.jobs.contract import JobFailed
from mnist_dash.jobs.job import TrainingJob
from mnist_dash.jobs.limits import Limits, LimitsError
from mnist_dash.jobs.queue import JobQueue, default_queue
from mnist_dash.jobs.snapshot import JobSnapshot, JobStatus

__all__ = [
    "JobFailed",
    "JobQueue",
    "JobRefused",
    "JobSnapshot",
    "JobStatus",
    "Limits",
    "LimitsError",
    "TrainingJob",
    "default_queue",
]
