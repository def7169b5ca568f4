"""Entry point: `streamlit run streamlit_app.py`. Page config, navigation over app_pages/, the shared sidebar."""

import logging
import os

import pandas  # noqa: F401 (see below)
import streamlit as st

from mnist_dash import malloc
from mnist_dash.classroom import teacher as class_teacher
from mnist_dash.ui import resources, sidebar, state, store_import, uploads
from mnist_dash.ui import teacher as teacher_ui

if level := os.environ.get("MNIST_DASH_LOG_LEVEL"):  # e.g. INFO: the queue's entries, starts and exits
    logging.basicConfig(format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("mnist_dash").setLevel(level.upper())

# pandas is imported above, whole, before any page runs: Plotly looks it up in sys.modules without importing
# it, so a page drawing a chart while another session's page was still importing pandas met it half made
# ("partially initialized module 'pandas' has no attribute 'Series'"), on a busy server.
malloc.keep_small()  # the allocator's arenas and thresholds, once per process (mnist_dash/malloc.py)
uploads.cap_this_server()  # what one tab may keep in the server's memory through an uploader
st.set_page_config(page_title="mnist_dash: how MLPs learn", page_icon=":material/pin:", layout="wide")
for_teacher = "visible" if teacher_ui.signed_in() else "hidden"
navigation = st.navigation(
    [
        st.Page("app_pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("app_pages/design.py", title="Design", icon=":material/edit:"),
        st.Page("app_pages/train.py", title="Train", icon=":material/monitoring:"),
        st.Page("app_pages/weights.py", title="Weights", icon=":material/bar_chart:"),
        st.Page("app_pages/compare.py", title="Compare", icon=":material/compare_arrows:"),
        st.Page("app_pages/evaluate.py", title="Evaluate", icon=":material/grid_on:"),
        st.Page("app_pages/draw.py", title="Draw", icon=":material/draw:"),
        st.Page("app_pages/board.py", title="Class board", icon=":material/leaderboard:"),
        # At /teacher for everyone (a key field), in the menu only for the teacher; the projector view too.
        st.Page("app_pages/teacher.py", title="Teacher", icon=":material/school:", visibility=for_teacher),
        st.Page("app_pages/projector.py", title="Projector", icon=":material/cast:", visibility=for_teacher),
        st.Page("app_pages/wall.py", title="Digits wall", icon=":material/grid_view:", visibility=for_teacher),
    ]
)
if problem := class_teacher.key_problem():  # a guessable teacher key: the app does not run with it
    st.error(f"**This app will not start with its teacher key.** {problem}", icon=":material/key_off:")
    st.stop()
if not resources.explain_store_problem():  # a database URL that is wrong or unreachable: how to fix it, on every page
    st.stop()
with resources.outage_explained():  # a database that stops answering later: said, never raised
    store_import.ship_lesson()  # a new deployment's empty store: the notebook's three runs, trained once
    store_import.offer()  # once, when MNIST_DASH_HOME still holds runs from before the database
    state.init_design()
    state.keep_draft()  # the owner's design, for their next reload or tab
    state.show_link_notice()
    if resources.dataset() is None and navigation.title != "Design":  # designing needs no data; the rest does
        resources.explain_missing_data()
        st.stop()
    sidebar.render()
    navigation.run()
