"""Train: start and stop a job, and watch its curves grow while it trains in the background."""

import streamlit as st

from mnist_dash import descriptions
from mnist_dash.jobs import JobStatus
from mnist_dash.plan import describe
from mnist_dash.spec import SpecError, from_dict
from mnist_dash.text import count, md
from mnist_dash.ui import live, resources, runs_view, state, train_view

st.title("Train")
try:
    spec = from_dict(state.design())
except SpecError:
    spec = None
job = state.current_job()  # after a reload, the owner's running job
snap = job.snapshot() if job is not None else None  # one consistent look at the job for this run of the page
active = snap is not None and not snap.done
blockers = state.start_blockers(spec) if spec is not None and not active else []
cached = state.cached_run(spec, resources.dataset()) if spec is not None and not active else None
if cached is not None and snap is not None and snap.run_id == cached.run_id:
    cached = None  # it is already the run on show

start, stop, about = st.columns([1, 1, 4], vertical_alignment="center")
start.button(
    "Start",
    type="secondary" if cached else "primary",
    key="train_start",
    disabled=spec is None or active or bool(blockers),
    on_click=lambda: state.start_job(spec, resources.dataset()),
)
stop.button("Stop", key="train_stop", disabled=not active, on_click=lambda: job.stop())
shown = snap.spec if active else spec  # while a job trains, the header is about that job
if shown is None:
    about.warning("The design has problems: fix them on the Design page first.", icon=":material/construction:")
    st.page_link("app_pages/design.py", label="Go to Design", icon=":material/edit:")
else:
    length = f"{count(shown.epochs, 'epoch')}, batch {shown.batch_size}"
    about.markdown(f"**{md(shown.name or 'Your design')}**: {describe(shown)} · {length}")
state.show_refusal()
state.show_refusals(blockers)
train_view.replay_offer(spec, blockers)  # the server will not train now: a stored run of this design instead
if any(refusal.limit == "owner_runs" for refusal in blockers):
    runs_view.manage_own_runs(expanded=True)
if cached is not None:
    accuracy = f"test accuracy {cached.test_accuracy:.2%}, " if cached.test_accuracy is not None else ""
    when = cached.created[:16].replace("T", " ")
    st.info(
        f"**This exact design was trained before** (same seed, same data: {accuracy}{when} UTC). "
        "Use that run now, or press Start to train it again: it would give the same numbers.",
        icon=":material/bolt:",
    )
    # Under the note, not in a column beside it: a fifth of a projector's page cut the label off.
    st.button("Use the finished run", type="primary", key="train_reuse", on_click=lambda: state.use_cached_run(cached))


IN_LINE = (JobStatus.QUEUED, JobStatus.WAITING)
shown_status = snap.status if snap is not None else None


# Once a second while training; every 3 s in line or waiting for its next turn, when only the status moves:
# a class of thirty takes turns on one server, and each redraw costs it. Redrawn whole when that changes.
@st.fragment(run_every=3.0 if shown_status in IN_LINE else 1.0, key="train_live")
@resources.outage_safe
def live_view() -> None:
    state.current_job()  # each tick: this owner's page is open, so their job keeps its place in line
    now = job.snapshot()
    live.announce(descriptions.announcement(now), "train")
    if now.done or now.status != shown_status:
        st.rerun()  # the whole page again: the right pace, buttons enabled, results shown once
    if now.status == JobStatus.WAITING:
        train_view.progress(now)  # the curves below do not move while it waits: drawn once, outside
    else:
        train_view.render(now)


if job is None:
    st.info("Press **Start** to train this design. The curves appear here as it learns.", icon=":material/play_arrow:")
elif active:
    live_view()
    if shown_status == JobStatus.WAITING:
        train_view.curves(snap)
        train_view.epoch_log(snap)
        train_view.listen(snap)
else:
    live.announce(descriptions.announcement(snap), "train")
    if snap.spec is not None and snap.spec != spec:  # the design changed since: these results are the job's
        length = f"{count(snap.spec.epochs, 'epoch')}, batch {snap.spec.batch_size}"
        st.markdown(
            f"**Your last job**, {md(snap.spec.name or 'a custom design')}: {describe(snap.spec)} · {length}. "
            "Start trains the design above."
        )
    train_view.render(snap)

resources.warm_up_training()
