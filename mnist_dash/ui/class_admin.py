"""The Teacher page's care of the class: deleting runs by student, the names browsers hold (release one), and the
class's handwriting (approve new digits before they count, delete a scribble or every digit of one student)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import streamlit as st

from mnist_dash.data import enlarge
from mnist_dash.runs import RunInfo, RunNotFound
from mnist_dash.runs.digits import APPROVAL, DigitSet
from mnist_dash.text import count, md
from mnist_dash.ui import resources

EVERYONE = "everyone"


def names_section() -> None:
    """Every claimed name, and Release: for a student on a new device, or a name taken by someone else."""
    st.subheader("Names")
    if said := st.session_state.pop("teacher_names_said", None):
        st.success(said, icon=":material/badge:")
    claims = resources.store().claims.everyone()
    if not claims:
        st.caption("No student has given a name yet.")
        return
    st.dataframe(
        [
            {"name": claim.owner.name, "devices": claim.browsers, "since": claim.created.replace("T", " ")[:16]}
            for claim in claims
        ],
        hide_index=True,
        key="teacher_names_table",
    )
    by_key = {claim.owner.key: claim.owner.name for claim in claims}
    chosen = st.multiselect("Names to release", list(by_key), format_func=by_key.get, key="teacher_release")
    st.caption(
        "A released name is free: the next device to use it holds it (a student's new device, or the right "
        "student). Its runs and digits stay under the name."
    )
    if st.button("Release", disabled=not chosen, key="teacher_release_names"):
        released = [by_key[key] for key in chosen if resources.store().claims.release(key)]
        st.session_state.pop("teacher_release", None)
        st.session_state["teacher_names_said"] = f"Released {md(', '.join(released)) or 'nothing'}."
        st.rerun()


def _grid(digits: DigitSet, key: str, newest: int = 60) -> list[int]:
    """The newest digits of `digits`, each with a tick box; the ids ticked."""
    chosen = []
    with st.container(horizontal=True, key=key):
        for index in range(max(0, len(digits) - newest), len(digits)):
            with st.container(width=110):
                alt = f"handwritten digit {digits.y[index]} by {digits.owner_names[index]}"
                st.image(enlarge(digits.x[index]), width=70, caption=f"a {digits.y[index]}", alt=alt)
                label = f"{digits.y[index]} by {md(digits.owner_names[index])}"
                if st.checkbox(label, key=f"{key}_{digits.ids[index]}"):
                    chosen.append(int(digits.ids[index]))
    return chosen


def _set_approval() -> None:
    resources.store().set_setting(APPROVAL, "1" if st.session_state["teacher_digits_approval"] else "0")


def digits_section() -> None:
    """Approval of new digits, the digits waiting, and deletion (ticked ones, or every digit of a student)."""
    store = resources.store()
    st.subheader("The class's handwriting")
    if said := st.session_state.pop("teacher_digits_said", None):
        st.success(said, icon=":material/draw:")
    st.toggle(
        "New digits wait for my approval before they count",
        value=store.setting(APPROVAL) == "1",
        key="teacher_digits_approval",
        on_change=_set_approval,
    )
    waiting = store.digits.pending()
    if len(waiting):
        st.markdown(f"**Waiting for your approval:** {count(len(waiting), 'digit')}, newest last.")
        ticked = _grid(waiting, "teacher_pending")
        approve, reject = st.columns(2)
        if approve.button("Approve the ticked", disabled=not ticked, key="teacher_approve_digits"):
            st.session_state["teacher_digits_said"] = f"Approved {count(store.digits.approve(ticked), 'digit')}."
            st.rerun()
        if reject.button("Delete the ticked", disabled=not ticked, key="teacher_reject_digits"):
            gone = sum(store.digits.delete(digit_id) for digit_id in ticked)
            st.session_state["teacher_digits_said"] = f"Deleted {count(gone, 'waiting digit')}."
            st.rerun()
    digits = store.digits.all()
    names = dict(zip(digits.owners, digits.owner_names, strict=True))
    whose = st.selectbox(
        "Whose digits",
        [EVERYONE, *sorted(names, key=lambda key: names[key].casefold())],
        format_func=lambda key: key if key == EVERYONE else names.get(key, key),
        key="teacher_digits_owner",
    )
    if whose != EVERYONE and whose not in names:  # deleted since it was chosen
        whose = EVERYONE
    shown = digits if whose == EVERYONE else _only(digits, whose)
    st.caption(f"{count(len(shown), 'digit')}. Tick the ones to delete (a scribble, a wrong label).")
    chosen = _grid(shown, "teacher_digits")
    if st.button("Delete the ticked digits", disabled=not chosen, key="teacher_delete_digits"):
        gone = sum(store.digits.delete(digit_id) for digit_id in chosen)
        st.session_state["teacher_digits_said"] = f"Deleted {count(gone, 'digit')}."
        st.rerun()
    if whose != EVERYONE:
        _delete_everyone_of(whose, names[whose], len(shown))


def _only(digits: DigitSet, owner_key: str) -> DigitSet:
    keep = [i for i, owner in enumerate(digits.owners) if owner == owner_key]
    return DigitSet(
        digits.ids[keep],
        digits.x[keep],
        digits.y[keep],
        tuple(digits.owners[i] for i in keep),
        tuple(digits.owner_names[i] for i in keep),
    )


def _delete_everyone_of(owner_key: str, name: str, how_many: int) -> None:
    if st.button(f"Delete every digit of {md(name)}…", key="teacher_delete_owner_digits"):
        st.session_state["teacher_digits_confirm"] = owner_key
    if st.session_state.get("teacher_digits_confirm") != owner_key:
        return
    st.warning(f"Delete all {count(how_many, 'digit')} of {md(name)}? It cannot be undone.", icon=":material/warning:")
    yes, no = st.columns(2)
    if yes.button("Yes, delete them", type="primary", key="teacher_delete_owner_digits_yes"):
        gone = resources.store().digits.delete_owner(owner_key)
        st.session_state.pop("teacher_digits_confirm", None)
        st.session_state.pop("teacher_digits_owner", None)
        st.session_state["teacher_digits_said"] = f"Deleted {count(gone, 'digit')} of {md(name)}."
        st.rerun()
    if no.button("Keep them", key="teacher_delete_owner_digits_no"):
        st.session_state.pop("teacher_digits_confirm", None)
        st.rerun()


CONFIRM_KEY = "teacher_confirm_delete"


def delete_runs(stored: list, label: Callable[[RunInfo], str]) -> None:
    """The Teacher page's deletion of runs: by student (never a match on design names), what goes shown
    before it goes, a confirmation (it cannot be undone), and a word after of what went."""
    if said := st.session_state.pop("teacher_deleted", None):
        st.success(said, icon=":material/delete:")
    owners = sorted({run.owner_name or "nobody" for run in stored}, key=str.casefold)
    whose = st.selectbox("Whose runs", [EVERYONE, *owners], key="teacher_runs_owner")
    runs = {run.run_id: run for run in stored if whose == EVERYONE or (run.owner_name or "nobody") == whose}
    # A run deleted since (by this page or another) leaves the choice: Streamlit raised on an option gone.
    chosen = [run_id for run_id in st.session_state.get("teacher_runs", []) if run_id in runs]
    st.session_state["teacher_runs"] = chosen
    doomed = st.multiselect(
        "Runs to delete",
        list(runs),
        format_func=lambda run_id: f"{runs[run_id].owner_name or 'nobody'}: {label(runs[run_id])}",
        key="teacher_runs",
    )
    if st.button("Delete these runs…", disabled=not doomed, key="teacher_delete_runs"):
        st.session_state[CONFIRM_KEY] = list(doomed)
    asked = [run_id for run_id in st.session_state.get(CONFIRM_KEY, []) if run_id in runs]
    if not asked:
        st.session_state.pop(CONFIRM_KEY, None)
        return
    with st.container(border=True, key="teacher_confirm"):
        st.warning(
            f"Delete {count(len(asked), 'run')}? It cannot be undone: they leave every page, the board and "
            "their students' lists.",
            icon=":material/warning:",
        )
        for run_id in asked:
            st.markdown(f"- {md(runs[run_id].owner_name or 'nobody')}: {md(label(runs[run_id]))}")
        yes, no = st.columns(2)
        if yes.button("Yes, delete them", type="primary", key="teacher_delete_confirmed"):
            gone = []
            for run_id in asked:
                with contextlib.suppress(RunNotFound):  # gone already: nothing more to do
                    resources.store().delete(run_id)
                    gone.append(run_id)
            st.session_state.pop(CONFIRM_KEY, None)
            st.session_state.pop("teacher_runs", None)
            st.session_state["teacher_deleted"] = f"Deleted {count(len(gone), 'run')}."
            st.rerun()
        if no.button("Keep them", key="teacher_delete_cancelled"):
            st.session_state.pop(CONFIRM_KEY, None)
            st.rerun()
