"""The one rule that decides whether an owner may start training now, and why not.

Every path that starts a job (Train, Design, Compare's experiment, Draw's quick model,
anything later) reaches `JobQueue.enter`, which applies `refusals` under the queue's
lock, so two tabs pressing Start at the same instant cannot both slip under a limit.
Buttons call the same function to show the same reasons before anyone presses them.
A refusal is a value: the limit it met and the words for people, so a page can act on
which limit it was (offer to delete runs at `owner_runs`) without reading the sentence.
"""

from __future__ import annotations

from dataclasses import dataclass

from mnist_dash.jobs.limits import ENV_NAMES, REPLAY_ENV, Limits
from mnist_dash.spec import ModelSpec, field_label


@dataclass(frozen=True)
class Refusal:
    """Why a job may not start: the limit met (a `Limits` field, or "lock" for the teacher's), and what to do."""

    limit: str
    text: str

    def __str__(self) -> str:
        return self.text


class JobRefused(RuntimeError):
    """The job may not start; `reasons` say why and what to do, one `Refusal` each."""

    def __init__(self, reasons: list[Refusal]):
        super().__init__(" ".join(reason.text for reason in reasons))
        self.reasons = reasons


def refusals(
    spec: ModelSpec | None,
    limits: Limits,
    *,
    owner_active: int,
    queue_length: int,
    stored_runs: int,
    count: int = 1,
) -> list[Refusal]:
    """Why `count` more jobs of `spec` may not start now; empty when they may.

    Args:
        spec: the design (None when several designs are meant: only the owner's and the class's limits apply).
        owner_active: the owner's jobs queued or running now, across all of their sessions.
        queue_length: every job queued or running on this server.
        stored_runs: the owner's runs in the store.
    """
    found = []
    if limits.replay:
        found.append(
            Refusal(
                "replay",
                f"This copy of the app does not train: it replays stored runs ({REPLAY_ENV}=1). On Train, Replay "
                "plays a stored run of this design back as it learned.",
            )
        )
    if spec is not None:
        found += [Refusal(limit, f"{field_label(p.field)}: {p.message}.") for limit, p in limits.breaches(spec)]
    if owner_active + count > limits.owner_jobs:
        found.append(
            Refusal(
                "owner_jobs",
                f"You have {owner_active} job(s) queued or running, and each student may have {limits.owner_jobs} "
                f"at a time ({ENV_NAMES['owner_jobs']}): wait for one to finish, or stop one.",
            )
        )
    if queue_length + count > limits.max_queue:
        found.append(
            Refusal(
                "max_queue",
                f"The class queue is full: {queue_length} jobs are queued or running, the most this server takes "
                f"({ENV_NAMES['max_queue']}). Try again in a few minutes.",
            )
        )
    if stored_runs + owner_active + count > limits.owner_runs:
        coming = f" and {owner_active} on the way" if owner_active else ""
        found.append(
            Refusal(
                "owner_runs",
                f"You have {stored_runs} stored runs{coming}, and this server keeps at most {limits.owner_runs} "
                f"per student ({ENV_NAMES['owner_runs']}): delete old runs to train again.",
            )
        )
    return found
