"""The one rule that decides whether an owner may start training now, and why not.

Every path that starts a job (Train, Design, Compare's experiment, Draw's quick model,
anything later) reaches `JobQueue.enter`, which applies `refusals` under the queue's
lock, so two tabs pressing Start at the same instant cannot both slip under a limit.
Buttons call the same function to show the same reasons before anyone presses them.
"""

from __future__ import annotations

from mnist_dash.jobs.limits import ENV_NAMES, Limits
from mnist_dash.spec import ModelSpec, field_label


class JobRefused(RuntimeError):
    """The job may not start; `reasons` say why and what to do, one sentence each."""

    def __init__(self, reasons: list[str]):
        super().__init__(" ".join(reasons))
        self.reasons = reasons


def refusals(
    spec: ModelSpec | None,
    limits: Limits,
    *,
    owner_active: int,
    queue_length: int,
    stored_runs: int,
    count: int = 1,
) -> list[str]:
    """Why `count` more jobs of `spec` may not start now; empty when they may.

    Args:
        spec: the design (None when several designs are meant: only the owner's and the class's limits apply).
        owner_active: the owner's jobs queued or running now, across all of their sessions.
        queue_length: every job queued or running on this server.
        stored_runs: the owner's runs in the store.
    """
    reasons = [f"{field_label(p.field)}: {p.message}." for p in limits.problems(spec)] if spec is not None else []
    if owner_active + count > limits.owner_jobs:
        reasons.append(
            f"You have {owner_active} job(s) queued or running, and each student may have {limits.owner_jobs} "
            f"at a time ({ENV_NAMES['owner_jobs']}): wait for one to finish, or stop one."
        )
    if queue_length + count > limits.max_queue:
        reasons.append(
            f"The class queue is full: {queue_length} jobs are queued or running, the most this server takes "
            f"({ENV_NAMES['max_queue']}). Try again in a few minutes."
        )
    if stored_runs + owner_active + count > limits.owner_runs:
        coming = f" and {owner_active} on the way" if owner_active else ""
        reasons.append(
            f"You have {stored_runs} stored runs{coming}, and this server keeps at most {limits.owner_runs} "
            f"per student ({ENV_NAMES['owner_runs']}): delete old runs to train again."
        )
    return reasons
