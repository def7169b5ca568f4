"""The teacher's sign-in and the class settings pages read (the challenge)."""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import replace

import streamlit as st

from mnist_dash.classroom import challenge as class_challenge
from mnist_dash.classroom import rules as class_rules
from mnist_dash.classroom import teacher
from mnist_dash.classroom.challenge import Challenge, entry_seeds
from mnist_dash.jobs.limits import FREE_UNDER_PRESETS, Lock
from mnist_dash.spec import SpecError, field_label, from_dict
from mnist_dash.text import md
from mnist_dash.ui import owner as owner_ui
from mnist_dash.ui import resources, state

SIGNED_IN_KEY = "teacher_signed_in"
SIGNED_IN_HOURS = 8  # a school day: the key is not asked again at every reload in front of the class


@st.cache_resource
def _browsers() -> dict[str, tuple[float, str]]:
    """This server's teacher sign-ins, by browser (`owner_ui.browser_key`): until when, and for which key
    (a hash: a new key signs every browser out). Held here, never in a cookie or the link."""
    return {}


def _key_hash() -> str:
    return hashlib.sha256(os.environ.get(teacher.KEY_ENV, "").strip().encode()).hexdigest()


def signed_in() -> bool:
    """Whether this session is the teacher's: the key was given in this browser (for `SIGNED_IN_HOURS`, across
    reloads and tabs, until Sign out), or the signed-in user is on the teachers' list."""
    held = _browsers().get(owner_ui.browser_key())
    if held is not None and held[0] > time.time() and held[1] == _key_hash() and teacher.teachers_configured():
        st.session_state[SIGNED_IN_KEY] = True  # for pages that only peek (a database's details)
        return True
    st.session_state.pop(SIGNED_IN_KEY, None)  # signed out in another tab, expired, or a new key
    email = st.user.get("email") if st.user.get("is_logged_in", True) else None
    return teacher.is_teacher(email=email)


def sign_in() -> None:
    """The key field; a right key makes this session the teacher's (until it signs out or closes).

    Wrong keys are slowed, logged and, after a few, locked out for this browser and its address (`KeyGuard`).
    """
    browser, ip = owner_ui.browser_key(), st.context.ip_address
    with st.form("teacher_sign_in"):
        key = st.text_input("Teacher key", type="password", key="teacher_key")
        if st.form_submit_button("Sign in", type="primary"):
            if teacher.GUARD.check(key, browser, ip):
                st.session_state[SIGNED_IN_KEY] = True
                _browsers()[browser] = (time.time() + SIGNED_IN_HOURS * 3600, _key_hash())
                st.rerun()
            if waits := teacher.GUARD.locked_for(browser, ip):
                st.error(
                    f"Too many wrong keys from this browser: signing in is locked for {waits / 60:.0f} more "
                    "minutes. The teacher key is in the app's settings (secrets) if you host it.",
                    icon=":material/lock_clock:",
                )
            else:
                st.error("That is not this server's teacher key.", icon=":material/key_off:")


def sign_out() -> None:
    """This browser's sign-in ends, in every tab, at once."""
    st.session_state.pop(SIGNED_IN_KEY, None)
    _browsers().pop(owner_ui.browser_key(), None)


def challenge() -> Challenge | None:
    """The class's challenge, as the teacher set it."""
    return class_challenge.challenge_from(resources.class_setting(class_challenge.SETTING))


def changed() -> None:
    """After the teacher changed a setting: every page of this server reads it again at once."""
    resources.class_setting.clear()


LIMIT_LABELS = {
    "max_epochs": "Most epochs a run",
    "max_params": "Most parameters a design",
    "min_batch_size": "Smallest batch size",
    "owner_jobs": "Jobs per student at a time",
    "owner_runs": "Stored runs per student",
}
FREE = [field_label(name).lower() for name in FREE_UNDER_PRESETS]
LOCK_LABELS = {
    Lock.NONE: "no lock",
    Lock.PRESETS: f"presets only ({', '.join(FREE[:-1])} and {FREE[-1]} stay free)",
    Lock.FIXED: "these settings fixed, to my design's values",
}


def rules_section() -> None:
    """The Teacher page's caps, lock and "send my design" for this class (kept in the store)."""
    store = resources.store()
    rules = class_rules.read_rules(store)
    current, host = resources.limits(), resources.host_limits()
    st.subheader("Limits for this class")
    may_raise = class_rules.teacher_may_raise()
    st.caption(
        "Over the host's settings, for this server, until you put them back. "
        + (
            "The host lets you go past its limits."
            if may_raise
            else "You can tighten the host's limits, not loosen them."
        )
    )
    with st.form("teacher_limits"):
        row = st.container(horizontal=True)
        chosen = {}
        for name, label in LIMIT_LABELS.items():
            low, high = 1, 100_000_000
            if not may_raise:
                low, high = (
                    (getattr(host, name), high) if name in class_rules.LOOSER_WHEN_SMALLER else (1, getattr(host, name))
                )
            value = min(max(getattr(current, name), low), high)
            chosen[name] = row.number_input(label, low, high, value, width=200, key=f"teacher_{name}")
        if st.form_submit_button("Apply these limits", type="primary"):
            _save(store, replace(rules, limits={name: int(value) for name, value in chosen.items()}))
    if rules.limits and st.button("Back to the host's limits", key="teacher_host_limits"):
        _save(store, replace(rules, limits={}))

    st.subheader("Lock the class")
    mine = state.design()
    with st.form("teacher_lock"):
        lock = st.radio("Lock", list(Lock), index=list(Lock).index(rules.lock), format_func=LOCK_LABELS.get)
        fields = st.multiselect(
            "Settings to fix (with the lock above), at my design's values",
            class_rules.FIXABLE,
            default=[name for name in rules.fixed if name in class_rules.FIXABLE],
            format_func=lambda name: f"{name} = {mine.get(name)}",
        )
        if st.form_submit_button("Apply the lock", type="primary"):
            fixed = {name: mine[name] for name in fields} if lock == Lock.FIXED else {}
            _save(store, replace(rules, lock=lock, fixed=fixed))
    if rules.lock != Lock.NONE:
        shown = ", ".join(f"{name} = {value}" for name, value in rules.fixed.items())
        st.caption(f"Now: {LOCK_LABELS[rules.lock]}" + (f": {md(shown)}" if shown else "") + ".")

    st.subheader("Send a design to the class")
    name = mine.get("name") or "custom"
    if st.button(f"Send my current design ({md(name)}) to every student", key="teacher_push"):
        try:
            class_rules.push(store, from_dict(mine).to_dict())
        except SpecError as error:
            st.error(f"Your design has problems to fix first: {md(str(error))}")
        else:
            changed()
            st.success("Sent: each student's Design page offers it once.")


def _save(store, rules: class_rules.ClassRules) -> None:
    class_rules.set_rules(store, rules)
    changed()
    st.rerun()


@st.cache_resource
def _push_seen() -> dict[str, float]:
    """Per owner (key), the sending they answered: a new tab or a reload does not offer it again."""
    return {}


def pushed_offer() -> None:
    """On Design: the design the teacher sent, offered once per sending to each student (in any tab), and
    not at all once the class's limits or lock refuse it (the teacher's later lock wins)."""
    rules = class_rules.rules_from(resources.class_setting(class_rules.RULES_SETTING))
    me = state.owner().key
    if rules.pushed is None or _push_seen().get(me) == rules.pushed_at:
        return
    spec = from_dict(rules.pushed)
    if resources.limits().problems(spec):
        return
    with st.container(border=True, key="design_pushed"):
        st.markdown(f"**Your teacher sent a design:** {md(spec.name or 'custom')}")
        row = st.container(horizontal=True)
        if row.button("Use it", type="primary", key="design_use_pushed"):
            state.set_design(spec)
            _push_seen()[me] = rules.pushed_at
            st.rerun()
        if row.button("Not now", key="design_skip_pushed"):
            _push_seen()[me] = rules.pushed_at
            st.rerun()


def _latest_jobs(owner_key: str | None) -> dict:
    """The owner's newest job of each design (seed included), ended ones too."""
    latest = {}
    for job in resources.queue().jobs_of(owner_key or ""):  # newest first
        latest.setdefault(job.spec, job)
    return latest


def challenge_entry(run_id: str) -> None:
    """Under a finished run on Train: with a 3-seed challenge, one press trains its other two seeds.

    They queue through the fair queue as the student's own jobs (they count in the student's job and
    run limits, as any job they start), and the board ranks the design on the mean once all three are in.
    """
    rules = challenge()
    if rules is None or rules.seeds == 1:
        return
    run = resources.store().get(run_id)
    if not rules.allows(run):
        st.caption(f"This run is outside the challenge ({rules.describe()}).")
        return
    # The entry this run belongs to: its seeds stored or training (the student's own only: a classmate's run of
    # seed 2 is no part of it, and the board ranks an owner's seeds together) decide which seeds it is.
    seed = run.spec.seed
    near = [run.spec.replace(seed=s) for s in range(max(0, seed - rules.seeds + 1), seed + rules.seeds)]
    stored = dict(zip(near, resources.store().cached_runs(near, resources.dataset(), owner=run.owner), strict=True))
    latest = _latest_jobs(run.owner)
    snaps = {spec: latest[spec].snapshot() for spec in near if spec in latest}
    active = {spec.seed for spec, snap in snaps.items() if not snap.done}
    have = {spec.seed for spec, found in stored.items() if found is not None} | active
    window = entry_seeds(seed, have, rules.seeds)
    seeds = ", ".join(map(str, window))
    missing = [spec for spec in near if spec.seed in window and stored[spec] is None]
    if not missing:
        st.success(f"Entered in the challenge: seeds {seeds} are stored; the board ranks their mean.")
        return
    started = None
    if not active & set(window):
        for spec in missing:  # a seed of the entry that ended without a run: said, then offered again
            if spec in snaps and snaps[spec].done:
                why = snaps[spec].error or snaps[spec].reason or str(snaps[spec].status)
                st.warning(f"Seed {spec.seed} of the entry ended without a run ({md(why.rstrip('.'))}).")
        todo = ", ".join(str(spec.seed) for spec in missing)
        if not st.button(f"Enter it in the challenge (trains seeds {todo})", key="train_enter_challenge"):
            return
        started = [spec.seed for spec in missing if state.start(spec, resources.dataset()) is not None]
        state.show_refusal()
        if not started:
            return
        st.success(f"Seeds {', '.join(map(str, started))} are queued as your jobs; the board ranks the mean.")
    latest = _latest_jobs(run.owner)  # with the seeds just started
    lines = ", ".join(
        f"seed {spec.seed}: {md(latest[spec].snapshot().status_line)}" for spec in missing if spec in latest
    )
    st.info(
        f"**Entering the challenge:** {lines}. The board ranks the mean of seeds {seeds} once all are stored.",
        icon=":material/flag:",
    )
