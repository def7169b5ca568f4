"""Who is using this page: the owner of its jobs and runs (see `mnist_dash.owners`), and the name field.

Asked in that order: the signed-in user (`st.user`, on a private Community Cloud app or with
`st.login`); a name this browser holds (claimed in the run store, `mnist_dash.runs.claims`: the
first browser to use a name holds it, so a reload, a new tab and a link keep it, and a classmate
typing it on another device is refused); the browser (a hash of the XSRF cookie Streamlit sets
once per browser); the browser session alone. A link's `me=<name>` is read once, as if the name
were typed, and never written: a link a student shares does not carry their name, and a link never
replaces a name the browser already holds.
"""

from __future__ import annotations

import logging
import time

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from mnist_dash import owners
from mnist_dash.classroom.teacher import KeyGuard
from mnist_dash.runs import DatabaseError
from mnist_dash.runs.claims import NameRefused
from mnist_dash.text import md
from mnist_dash.ui import resources

NAME_PARAM = "me"
BROWSER_COOKIE = "_streamlit_xsrf"  # set by Streamlit's server once per browser; kept across reloads
NAME_KEY = "owner_given_name"  # the name this session chose (its browser holds it)
KNOWN_KEY = "owner_known"  # (owner key, name, when): the claims are asked again after RECHECK_S
PROBLEM_KEY = "owner_name_problem"
CODE_KEY = "owner_claim_code_kept"  # (owner key, its claim code, when read)
CLAIMING_KEY = "owner_claiming"  # a name another device holds, that this one may join with its code
RECHECK_S = 20.0
CODES = KeyGuard()  # wrong claim codes: a pause each, and 5 lock the browser and its address out for 10 minutes
log = logging.getLogger(__name__)


def _signed_in() -> owners.Owner | None:
    # `st.login` sets is_logged_in; Community Cloud's private apps pass the viewer's email without it.
    email = st.user.get("email")
    return owners.signed_in(email) if email and st.user.get("is_logged_in", True) else None


def _browser_secret(cookie: str) -> str:
    """The browser's lasting XSRF token inside the cookie's value.

    The server re-masks the token on every page load ("2|<mask>|<masked token>|<time>",
    Tornado's format, which Streamlit keeps): unmasked, it is the same across reloads.
    """
    parts = cookie.split("|")
    if len(parts) == 4 and parts[0] == "2":
        try:
            mask, masked = bytes.fromhex(parts[1]), bytes.fromhex(parts[2])
        except ValueError:
            return cookie
        if mask:
            return bytes(b ^ mask[i % len(mask)] for i, b in enumerate(masked)).hex()
    return cookie


def browser_key() -> str:
    """This browser, as the key of its anonymous owner (the same across reloads and tabs; this tab's session
    when the browser sent no cookie)."""
    return _anonymous().key


def _anonymous() -> owners.Owner:
    cookie = st.context.cookies.get(BROWSER_COOKIE)
    if isinstance(cookie, str) and cookie:
        return owners.browser(_browser_secret(cookie))
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return owners.session(ctx.session_id if ctx is not None else "no-session")


def _claims():
    return resources.store().claims


def _from_link(browser: str, held: list[owners.Owner]) -> owners.Owner | None:
    """The link's `me=`, read once and taken out of the address: claimed when the browser holds no name."""
    raw = st.query_params.get(NAME_PARAM)
    if not raw:
        return None
    del st.query_params[NAME_PARAM]
    try:
        linked = owners.named(raw)
    except owners.OwnerNameError as error:
        st.session_state[PROBLEM_KEY] = f"The name in the link is not usable: {error}."
        return None
    if held:
        if linked.key not in {owner.key for owner in held}:
            st.session_state[PROBLEM_KEY] = (
                f"The link named {linked.name}; this device holds the name {held[0].name}, so you stay "
                f"{held[0].name}. Type another name below to change it."
            )
        return next((owner for owner in held if owner.key == linked.key), None)
    return _choose(linked, browser)


def _choose(wanted: owners.Owner, browser: str) -> owners.Owner | None:
    """Use the name `wanted` on this browser (`Claims.claim`); None, with the reason kept to show, if refused."""
    try:
        owner = _claims().claim(wanted, browser)
    except NameRefused as refused:
        st.session_state[PROBLEM_KEY] = f"You cannot use that name: {refused}."
        if refused.taken:
            st.session_state[CLAIMING_KEY] = wanted.name
        return None
    st.session_state[NAME_KEY] = st.session_state["owner_name"] = owner.name  # the field shows it, as claimed
    st.session_state.pop(PROBLEM_KEY, None)
    st.session_state.pop(CLAIMING_KEY, None)
    return owner


def _resolve(browser: str) -> owners.Owner | None:
    held = _claims().held_by(browser)
    wanted = st.session_state.get(NAME_KEY)
    if wanted and (chosen := next((o for o in held if o.key == owners.named(wanted).key), None)):
        return chosen
    if (linked := _from_link(browser, held)) is not None:
        return linked
    return held[0] if held else None


def current() -> owners.Owner:
    """The owner of this page's jobs and runs (see the module docstring for the order)."""
    if (user := _signed_in()) is not None:
        return user
    anonymous = _anonymous()
    known = st.session_state.get(KNOWN_KEY)
    if known is not None and time.monotonic() - known[2] < RECHECK_S and NAME_PARAM not in st.query_params:
        return owners.Owner(known[0], known[1], "name") if known[0] else anonymous
    try:
        owner = _resolve(anonymous.key)
    except (DatabaseError, SQLAlchemyError) as error:  # the store is down: keep what this session knew
        log.warning("the names could not be read: %s", str(error).splitlines()[0][:200])
        return owners.Owner(known[0], known[1], "name") if known and known[0] else anonymous
    st.session_state[KNOWN_KEY] = (owner.key, owner.name, time.monotonic()) if owner else (None, None, time.monotonic())
    return owner or anonymous


def _set_name() -> None:
    raw = st.session_state.get("owner_name", "")
    st.session_state.pop(KNOWN_KEY, None)
    try:
        wanted = owners.named(raw)
    except owners.OwnerNameError as error:
        st.session_state[PROBLEM_KEY] = f"That name is not usable: {error}."
        return
    st.session_state.pop(CLAIMING_KEY, None)
    _choose(wanted, browser_key())


def _join() -> None:
    """A claim code typed for the name another device holds: this browser holds it too when it is right."""
    name, typed = st.session_state.get(CLAIMING_KEY), st.session_state.get("owner_claim_code", "")
    st.session_state["owner_claim_code"] = ""
    if not name or not typed.strip():
        return
    browser, ip = browser_key(), st.context.ip_address
    wanted = owners.named(name)
    if CODES.check(typed, browser, ip, right=lambda code: _claims().join(wanted, browser, code)):
        st.session_state.pop(KNOWN_KEY, None)
        _choose(wanted, browser)
    elif wait := CODES.locked_for(browser, ip):
        st.session_state[PROBLEM_KEY] = f"Too many wrong codes: try again in {wait / 60:.0f} minutes."
    else:
        st.session_state[PROBLEM_KEY] = (
            f"That is not {name}'s claim code: on the device that holds the name, the code is under the name field."
        )


def name_field(owner: owners.Owner) -> None:
    """The sidebar's "who you are": the signed-in user, or a name to give (held by this browser), its claim
    code for a second device, and the code field when a name is held by another device."""
    if owner.kind == "user":
        st.markdown(f"**You:** {md(owner.name)} (signed in)")
        return
    if "owner_name" not in st.session_state:  # a new session: the name its browser holds (or the one claimed)
        st.session_state["owner_name"] = owner.name if owner.kind == "name" else ""
    st.text_input(
        "Your name",
        key="owner_name",
        max_chars=owners.NAME_MAX,
        placeholder="a first name or nickname",
        on_change=_set_name,
        help="Your jobs and runs go under this name. This device keeps it; nobody else can use it here.",
    )
    if problem := st.session_state.get(PROBLEM_KEY):
        st.warning(md(problem), icon=":material/badge:")
    if claiming := st.session_state.get(CLAIMING_KEY):
        st.text_input(
            f"Claim code for {md(claiming)}",
            key="owner_claim_code",
            placeholder="three words, for example maple-otter-prism",
            on_change=_join,
            help="Shown under the name field on the device that holds the name.",
        )
    if owner.anonymous:
        st.caption(f"You are **{md(owner.name)}** until you give a name.")
    elif owner.kind == "name" and (code := _code(owner)):
        st.caption(f"On another device of yours, type this claim code to use your name there: `{code}`")


def _code(owner: owners.Owner) -> str | None:
    """The name's claim code, read again at most every RECHECK_S (the sidebar is drawn on every page run)."""
    kept = st.session_state.get(CODE_KEY)
    if kept is not None and kept[0] == owner.key and time.monotonic() - kept[2] < RECHECK_S:
        return kept[1]
    try:
        code = _claims().code(owner, browser_key())
    except (DatabaseError, SQLAlchemyError):
        return None
    st.session_state[CODE_KEY] = (owner.key, code, time.monotonic())
    return code
