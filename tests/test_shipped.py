"""The lesson shipped with the app (mnist_dash/lessons/notebook.zip): small, whole, and on every page of a new store."""

import pytest

from mnist_dash.classroom import lesson
from mnist_dash.presets import NOTEBOOK_PRESETS, PRESETS
from mnist_dash.runs import RunStore
from tests.support import fresh_server, open_page, texts


def test_the_shipped_lesson_is_under_5_mb_and_holds_the_notebooks_three_trained_models():
    blob = lesson.SHIPPED.read_bytes()
    assert len(blob) < 5_000_000  # under 5 MB: 4.75 MB when made
    runs, digits, challenge = lesson.read(blob)
    assert digits is None and challenge is None
    specs = {record["spec"]["name"]: record for _, record, _ in runs}
    assert sorted(specs) == sorted(NOTEBOOK_PRESETS)
    for name, record in specs.items():
        assert record["spec"] == PRESETS[name].to_dict() and record["status"] == "finished"
        assert record["test_accuracy"] > 0.97 and "owner" not in record  # the class's starting point, nobody's


@pytest.fixture
def new_deployment(mnist_path, monkeypatch):
    """The app as a new deployment starts: real MNIST, an empty store, the shipped lesson not turned off."""
    monkeypatch.setenv("MNIST_DASH_DATA", str(mnist_path))
    monkeypatch.delenv("MNIST_DASH_LESSON")
    fresh_server(monkeypatch)
    yield
    fresh_server(monkeypatch)


@pytest.mark.usefixtures("new_deployment")
def test_a_new_store_shows_the_shipped_runs_on_weights_compare_evaluate_and_draw():
    app = open_page("home")
    store = RunStore()
    assert store.count() == 3 and store.setting(lesson.SHIPPED_SETTING) == "imported"
    shipped = {run.spec.name for run in store.list().runs}
    assert shipped == set(NOTEBOOK_PRESETS)
    for page, key in (("weights", "weights_run"), ("evaluate", "evaluate_run"), ("draw", "draw_run")):
        app.switch_page(f"app_pages/{page}.py").run()
        assert not app.exception, page
        options = app.selectbox(key=key).options
        assert len(options) == 3 and all(any(name in option for option in options) for name in shipped), page
        assert app.get("plotly_chart") or page == "draw", page  # its charts are drawn from the shipped run
    app.switch_page("app_pages/compare.py").run()
    assert not app.exception and len(app.multiselect(key="compare_runs").value) == 3  # nothing of theirs yet
    assert "Observations" in texts(app.subheader)
    for run in store.list().runs:
        store.delete(run.run_id)  # the teacher deleted them: a new start does not bring them back
    assert lesson.ship(store) is None and store.count() == 0
