"""The class thinking, for the teacher: what the class tried this lesson (Teacher page and projector) and who is stuck.

Gathers the lesson (the runs stored since the window's start, and the queue's jobs of it: those in
line, and those that diverged or failed, which are never stored) and asks `classroom.tried` and
`classroom.stuck`; the projector shows the findings without names.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import streamlit as st

from mnist_dash.classroom import stuck, tried
from mnist_dash.jobs import JobStatus
from mnist_dash.runs import RunInfo
from mnist_dash.text import md
from mnist_dash.ui import board_view, resources, state

WINDOWS = ("today", "the last hour", "the last 3 hours", "the last 7 days", "all time")
_OUTCOMES = {
    JobStatus.QUEUED: "training",
    JobStatus.RUNNING: "training",
    JobStatus.WAITING: "training",
    JobStatus.DIVERGED: "diverged",
    JobStatus.FAILED: "failed",
}  # a job that finished or stopped is a stored run: counted once, from the store


def _zone():
    try:
        return ZoneInfo(st.context.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def since(window: str, now: float | None = None) -> float:
    """The window's start in wall-clock seconds; "today" is from midnight where the teacher's browser is."""
    now = time.time() if now is None else now
    if window == "today":
        local = datetime.fromtimestamp(now, _zone())
        return local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
    hours = {"the last hour": 1, "the last 3 hours": 3, "the last 7 days": 24 * 7}.get(window)
    return now - timedelta(hours=hours).total_seconds() if hours else 0.0


def lesson_runs(start: float) -> list[RunInfo]:
    """The runs stored since `start` that have an owner (runs from before owners are nobody's lesson)."""
    return [
        run
        for run in resources.store().list().runs
        if run.owner and datetime.fromisoformat(run.created).timestamp() >= start
    ]


def trials(start: float) -> list[tried.Trial]:
    """The lesson as `tried` reads it: each stored run, and each job in line, diverged or failed."""
    found = [
        tried.Trial(
            run.owner, run.owner_name or run.owner, run.spec, run.status, run.test_accuracy, board_view.gap(run)
        )
        for run in lesson_runs(start)
    ]
    seen = set()
    for job in [*resources.queue().everyone(), *resources.queue().recent()]:
        status = job.status
        if job.job_id not in seen and job.created >= start and status in _OUTCOMES:
            seen.add(job.job_id)
            found.append(tried.Trial(job.owner.key, job.owner.name, job.spec, _OUTCOMES[status]))
    return found


def window_choice(key: str) -> float:
    window = st.selectbox("This lesson is", WINDOWS, key=key, help="Runs and jobs from this window count.")
    return since(window)


def tried_section(start: float, names: bool = True) -> None:
    """The findings (with who, unless `names` is False: the projector's) and every choice with its results."""
    lesson = trials(start)
    if not lesson:
        st.caption("Nothing trained in this window yet.")
        return
    findings = tried.findings(lesson)
    for finding in findings:
        st.markdown(f"- {md(finding.text)}" + (f" *{md(finding.who_text)}*" if names else ""))
    if not findings:
        st.caption("No finding yet: a finding needs at least two finished runs on each side of a choice.")
    rows = [
        {
            "Choice": choice.label,
            "Runs": choice.tried,
            "Finished": choice.finished,
            "Median test accuracy": None if choice.accuracy is None else choice.accuracy * 100,
            "Median gap (points)": None if choice.gap is None else choice.gap * 100,
            "Diverged": choice.diverged,
            **({"Who": ", ".join(choice.who)} if names else {}),
        }
        for facet, found in tried.choices(lesson).items()
        for choice in found
    ]
    st.dataframe(
        rows,
        hide_index=True,
        column_config={
            "Median test accuracy": st.column_config.NumberColumn(format="%.1f%%"),
            "Median gap (points)": st.column_config.NumberColumn(format="%.1f"),
        },
        key=f"class_tried_table_{names}",
    )


def stuck_section(start: float) -> None:
    """One row per student: last seen, jobs, runs finished, best, the last trouble, and "nothing trained" marked."""
    queue = resources.queue()
    active: dict[str, tuple[int, int]] = {}
    for job in queue.everyone():
        waiting, running = active.get(job.owner.key, (0, 0))
        is_running = job.status == JobStatus.RUNNING
        active[job.owner.key] = (waiting + (not is_running), running + is_running)
    now = time.time()
    me = state.owner().key  # the teacher's own browser is on the roll too: not a student
    roll = [presence for presence in queue.roll.everyone() if presence.last_seen >= start and presence.owner != me]
    rows = stuck.students(roll, [run for run in lesson_runs(start) if run.owner != me], active, now)
    if not rows:
        st.caption("No student has opened the app in this window yet.")
        return
    st.markdown(md(stuck.summary(rows)))
    st.dataframe(
        [
            {
                "Student": row.name,
                "Stuck": f"nothing trained for {int(row.idle // 60)} min" if row.stuck else "",
                "Last seen": stuck.ago(row.last_seen),
                "Jobs now": row.jobs(),
                "Runs finished": row.finished,
                "Best test accuracy": None if row.best is None else row.best * 100,
                "Last refusal or failure": f"{row.trouble} ({stuck.ago(row.trouble_ago)})" if row.trouble else "",
            }
            for row in rows
        ],
        hide_index=True,
        column_config={"Best test accuracy": st.column_config.NumberColumn(format="%.2f%%")},
        key="class_stuck_table",
    )


def lesson_section() -> None:
    """The Teacher page's part: the window, what the class tried, who is stuck."""
    st.subheader("This lesson")
    start = window_choice("teacher_lesson_window")
    st.markdown("#### What the class tried")
    tried_section(start)
    st.markdown("#### Who is stuck")
    stuck_section(start)
