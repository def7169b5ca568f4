"""Who is using this page: the owner of its jobs and runs (see `mnist_dash.owners`), and the name field.

Asked in that order: the signed-in user (`st.user`, on a private Community Cloud app or
with `st.login`), the name in the link (`me=<name>`, which every page keeps in the
address bar so a reload or a new tab keeps it), the browser (a hash of the XSRF cookie
Streamlit sets once per browser), and the browser session alone.
"""

from __future__ import annotations

import streamlit as st

from mnist_dash import owners
from mnist_dash.text import md

NAME_PARAM = "me"
BROWSER_COOKIE = "_streamlit_xsrf"  # set by Streamlit's server once per browser; kept across reloads


def _signed_in() -> owners.Owner | None:
    # `st.login` sets is_logged_in; Community Cloud's private apps pass the viewer's email without it.
    email = st.user.get("email")
    return owners.signed_in(email) if email and st.user.get("is_logged_in", True) else None


NAME_KEY = "owner_given_name"  # the session keeps the name: switching pages drops the link's parameters


def _named() -> owners.Owner | None:
    raw = st.query_params.get(NAME_PARAM)
    if raw:
        try:
            owner = owners.named(raw)
        except owners.OwnerNameError as error:
            st.session_state["owner_name_problem"] = f"The name in the link is not usable: {error}."
        else:
            st.session_state[NAME_KEY] = owner.name
            return owner
    kept = st.session_state.get(NAME_KEY)
    return owners.named(kept) if kept else None


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


def current() -> owners.Owner:
    """The owner of this page's jobs and runs (see the module docstring for the order)."""
    owner = _signed_in() or _named() or _anonymous()
    if owner.kind == "name" and st.query_params.get(NAME_PARAM) != owner.name:
        st.query_params[NAME_PARAM] = owner.name  # pages lose the link's parameters when they change
    return owner


def keep_in_link(params: dict) -> dict:
    """`params` plus the owner's name, for a page that rewrites its link (Design)."""
    name = st.query_params.get(NAME_PARAM)
    return params | ({NAME_PARAM: name} if name else {})


def _set_name() -> None:
    raw = st.session_state.get("owner_name", "")
    try:
        st.session_state[NAME_KEY] = st.query_params[NAME_PARAM] = owners.clean_name(raw)
        st.session_state.pop("owner_name_problem", None)
    except owners.OwnerNameError as error:
        st.session_state["owner_name_problem"] = f"That name is not usable: {error}."


def name_field(owner: owners.Owner) -> None:
    """The sidebar's "who you are": the signed-in user, or a name to give (kept in the link)."""
    if owner.kind == "user":
        st.markdown(f"**You:** {md(owner.name)} (signed in)")
        return
    st.text_input(
        "Your name",
        value=owner.name if owner.kind == "name" else "",
        key="owner_name",
        max_chars=owners.NAME_MAX,
        placeholder="a first name or nickname",
        on_change=_set_name,
        help="Your jobs and runs go under this name; it stays in the page's link, so a reload keeps it.",
    )
    if problem := st.session_state.get("owner_name_problem"):
        st.warning(md(problem), icon=":material/badge:")
    if owner.anonymous:
        st.caption(f"You are **{md(owner.name)}** until you give a name.")
