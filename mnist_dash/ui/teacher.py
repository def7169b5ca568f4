"""The teacher's sign-in and the class settings pages read (the challenge)."""

from __future__ import annotations

import streamlit as st

from mnist_dash import teacher
from mnist_dash.challenge import Challenge
from mnist_dash.ui import state

SIGNED_IN_KEY = "teacher_signed_in"


def signed_in() -> bool:
    """Whether this session is the teacher's: the key was given here, or the signed-in user is on the list."""
    if st.session_state.get(SIGNED_IN_KEY):
        return True
    email = st.user.get("email") if st.user.get("is_logged_in", True) else None
    return teacher.is_teacher(email=email)


def sign_in() -> None:
    """The key field; a right key makes this session the teacher's (until it signs out or closes)."""
    with st.form("teacher_sign_in"):
        key = st.text_input("Teacher key", type="password", key="teacher_key")
        if st.form_submit_button("Sign in", type="primary"):
            if teacher.is_teacher(key=key):
                st.session_state[SIGNED_IN_KEY] = True
                st.rerun()
            st.error("That is not this server's teacher key.", icon=":material/key_off:")


def sign_out() -> None:
    st.session_state.pop(SIGNED_IN_KEY, None)


def challenge() -> Challenge | None:
    """The class's challenge, as the teacher set it (one small read of the store)."""
    return teacher.read_challenge(state.store())
