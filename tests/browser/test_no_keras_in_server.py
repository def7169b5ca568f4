"""The Streamlit server never loads Keras, TensorFlow or JAX (issue 21): every page, Draw, Evaluate and the board
with a class set included, is drawn from stored weights in NumPy; training happens in worker processes.

A real `streamlit run` over a store with a run trained on the real MNIST and three class digits; a
browser opens every page (the teacher's too) and draws on Draw; then the server process's own memory
map is read: a loaded TensorFlow or jaxlib maps its shared libraries there, and Keras cannot be
imported without its backend.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench.streamlit_server import draw_a_seven, streamlit_process
from mnist_dash.owners import named
from tests.browser.support import Server, patience

KEY = "a teacher key long enough to be kept"
# Each page's menu entry, and what shows once it is drawn.
PAGES = {
    "Home": "How does a neural network learn?",
    "Design": "Design a network",
    "Train": "Train",
    "Weights": "Statistics at epoch",
    "Compare": "Compare runs",
    "Evaluate": "On the class's own handwriting",
    "Draw": "Draw a digit",
    "Class board": "Class board",
    "Projector": "Projector",
}


def loaded_libraries(pid: int) -> set[str]:
    """The shared libraries mapped into process `pid` that belong to TensorFlow, JAX or Keras."""
    maps = Path(f"/proc/{pid}/maps").read_text().splitlines()
    paths = {line.split()[-1] for line in maps if len(line.split()) >= 6}
    return {path for path in paths if any(name in path for name in ("tensorflow", "jaxlib", "/jax/", "keras"))}


@pytest.fixture(scope="module")
def server_with_a_class_set(mnist_path, tmp_path_factory):
    from mnist_dash.data import load_mnist
    from mnist_dash.jobs import JobQueue, TrainingJob
    from mnist_dash.presets import PRESETS
    from mnist_dash.runs import RunStore

    home = tmp_path_factory.mktemp("home")
    store = RunStore(home)
    spec = PRESETS["notebook-2-hidden"].replace(epochs=1)
    data = load_mnist(mnist_path)
    job = TrainingJob(spec, data, store=store, queue=JobQueue(1), owner=named("ada")).start()
    assert job.wait().test_accuracy > 0.95
    for digit in range(3):  # the class's handwriting: the board gets its column, Evaluate its section
        store.digits.add(np.asarray(data.x_test[digit]), int(data.y_test[digit]), named("bo"))
    env = {
        "MNIST_DASH_HOME": str(home),
        "MNIST_DASH_DATA": str(mnist_path),
        "MNIST_DASH_DB_URL": "",
        "MNIST_DASH_TEACHER_KEY": KEY,
    }
    log = tmp_path_factory.mktemp("log") / "streamlit.log"
    with streamlit_process(env, log_path=log) as (url, process):
        yield Server(url, log), process


def test_no_page_loads_keras_tensorflow_or_jax_into_the_server(new_page, server_with_a_class_set):
    server, process = server_with_a_class_set
    url = server.url
    page = new_page(server)
    page.goto(f"{url}/teacher?me=ada")
    page.get_by_label("Teacher key").fill(KEY)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="The challenge").wait_for(timeout=patience(60_000))
    for title, shown in PAGES.items():  # through the menu: the same session, the teacher signed in
        page.get_by_test_id("stSidebarNav").get_by_role("link", name=title, exact=True).click()
        page.get_by_text(shown).first.wait_for(timeout=patience(60_000))
        if title == "Draw":
            draw_a_seven(page)
            page.get_by_text("What makes it a").wait_for(timeout=patience(60_000))
        if title == "Class board":
            page.locator("[data-testid='stDataFrame']").first.wait_for(timeout=patience(60_000))
        if title == "Weights":
            page.get_by_role("tab", name="What each unit looks for").click()
            page.locator(".st-key-weights_units_chart_0 .js-plotly-plot").wait_for(timeout=patience(60_000))
    assert loaded_libraries(process.pid) == set()


def test_the_memory_map_shows_tensorflow_where_it_is_loaded():
    import os

    import tensorflow  # noqa: F401 (this test process: the check must see it)

    assert any("tensorflow" in path for path in loaded_libraries(os.getpid()))
