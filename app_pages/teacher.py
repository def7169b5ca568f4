"""Teacher: the challenge, the queue with Cancel, what the class tried and who is stuck, deleting any run, the
lesson as a file, the class's names and digits. The teacher's only."""

import streamlit as st

from mnist_dash.classroom import teacher
from mnist_dash.classroom.challenge import Challenge, ChallengeError, set_challenge
from mnist_dash.text import duration, md
from mnist_dash.ui import class_admin, class_view, lesson_file, resources, runs_view, store_import
from mnist_dash.ui import teacher as teacher_ui

st.title("Teacher")
if not teacher.teachers_configured():
    st.info(
        f"This server has no teacher key. The host sets one as {teacher.KEY_ENV} (an environment variable or a "
        f"root-level secret), or lists signed-in teachers' emails in {teacher.TEACHERS_ENV}.",
        icon=":material/key:",
    )
    st.stop()
if not teacher_ui.signed_in():
    teacher_ui.sign_in()
    st.stop()

store_import.offer(teachers_page=True)  # runs of an earlier version's folder store, once
st.subheader("The challenge")
if said := st.session_state.pop("teacher_challenge_said", None):
    st.success(said, icon=":material/flag:")
current = teacher_ui.challenge()
st.markdown(f"**Now:** {current.describe()}" if current else "**Now:** no challenge.")
with st.form("teacher_challenge"):
    row = st.container(horizontal=True)
    shown = current or Challenge(max_params=100_000)  # the form starts at the challenge in force
    params = row.number_input(
        "Most parameters (0: no budget)", 0, 100_000_000, shown.max_params or 0, step=10_000, width=240
    )
    epochs = row.number_input("Most epochs (0: no budget)", 0, 1000, shown.max_epochs or 0, width=200)
    seeds = row.radio(
        "Judged on",
        (1, 3),
        index=(1, 3).index(shown.seeds),
        format_func=lambda n: "one run" if n == 1 else "the mean of 3 seeds",
    )
    if st.form_submit_button("Set the challenge", type="primary"):
        try:
            chosen = Challenge(max_params=int(params) or None, max_epochs=int(epochs) or None, seeds=int(seeds))
        except ChallengeError as error:
            st.error(md(str(error)))
        else:
            set_challenge(resources.store(), chosen)
            teacher_ui.changed()
            st.session_state["teacher_challenge_said"] = f"Challenge set: {chosen.describe()}."
            st.rerun()
if current and st.button("Clear the challenge…", key="teacher_clear_challenge"):
    st.session_state["teacher_clear_asked"] = True
if current and st.session_state.get("teacher_clear_asked"):
    st.warning(
        "Clear the challenge? The board then ranks every student's best run again, and Design stops showing the "
        "budget. Its runs stay; you can set it again.",
        icon=":material/warning:",
    )
    yes, no = st.columns(2)
    if yes.button("Yes, clear it", type="primary", key="teacher_clear_confirmed"):
        set_challenge(resources.store(), None)
        teacher_ui.changed()
        st.session_state.pop("teacher_clear_asked", None)
        st.session_state["teacher_challenge_said"] = f"Cleared the challenge ({current.describe()})."
        st.rerun()
    if no.button("Keep it", key="teacher_clear_cancelled"):
        st.session_state.pop("teacher_clear_asked", None)
        st.rerun()

teacher_ui.rules_section()

st.subheader("The queue")


@st.fragment(run_every=3)  # jobs come and go while the teacher watches
@resources.outage_safe
def the_queue() -> None:
    jobs = resources.queue().everyone()
    if not jobs:
        st.caption("Nothing is training or waiting.")
    for job in jobs:
        line, cancel = st.columns([5, 1], vertical_alignment="center")
        snap = job.snapshot()
        wait = f", about {duration(snap.wait)} to wait" if snap.wait is not None else ""
        left = f", about {duration(snap.eta)} left" if snap.eta is not None else ""
        line.markdown(f"**{md(job.owner.name)}**: {md(job.spec.name or 'custom')} · {md(snap.status_line)}{wait}{left}")
        if cancel.button("Cancel", key=f"teacher_cancel_{job.job_id}"):
            job.stop("your teacher cancelled it")
            st.rerun(scope="fragment")


the_queue()
class_view.lesson_section()

st.subheader("Runs")
class_admin.delete_runs(runs_view.stored_runs(), runs_view.label)
lesson_file.section()

class_admin.names_section()
class_admin.digits_section()

if st.button("Sign out", key="teacher_sign_out"):
    teacher_ui.sign_out()
    st.rerun()
