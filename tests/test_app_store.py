"""The pages and the run store's database: a store that cannot be opened, the folder store's import offer,
the pickers with more runs than they offer."""

import shutil
from pathlib import Path

import pytest

from bench.store_scale import fill
from mnist_dash.folder_store import IMPORT_SETTING
from mnist_dash.jobs import JobQueue, TrainingJob
from mnist_dash.runs import RunStore
from mnist_dash.runs.reading import CHOICES
from tests.patience import patience
from tests.support import fresh_server, open_page, texts

pytestmark = pytest.mark.usefixtures("tiny_mnist")  # the pages on small synthetic digits


FOLDER_STORE = Path(__file__).parent / "fixtures" / "folder_store"


@pytest.mark.parametrize("page", ["home", "design", "weights"])
def test_a_database_that_cannot_be_opened_is_explained_on_every_page(page, monkeypatch):
    monkeypatch.setenv("MNIST_DASH_DB_URL", "postgresql://teacher:s3cret-pw@127.0.0.1:9/classroom")
    fresh_server(monkeypatch)
    app = open_page(page)
    said = texts(app.error)
    assert "The run store cannot be opened" in said and "MNIST_DASH_DB_URL" in said and "(postgresql)" in said
    # A student reads what kind of database and who fixes it: never its user, host, port or password.
    assert not any(secret in said for secret in ("teacher:", "127.0.0.1", ":9/", "s3cret-pw", "classroom"))
    assert not app.exception


def test_a_malformed_url_whose_password_holds_a_slash_shows_only_its_scheme(monkeypatch):
    monkeypatch.setenv("MNIST_DASH_DB_URL", "postgresql://ms.lee:pa/ss@wo:rd@db.school.example:5432x/classroom")
    fresh_server(monkeypatch)
    said = texts(open_page("home").error)
    assert "is not a database URL (it begins 'postgresql')" in said
    assert not any(secret in said for secret in ("ms.lee", "pa/ss", "wo:rd", "db.school", "5432", "classroom"))


def test_a_url_that_is_not_one_says_how_to_write_it(monkeypatch):
    monkeypatch.setenv("MNIST_DASH_DB_URL", "my database please")
    fresh_server(monkeypatch)
    said = texts(open_page("home").error)
    assert "is not a database URL" in said and "postgresql://user:password@host/database" in said


@pytest.fixture
def old_home(tmp_path, monkeypatch):
    """MNIST_DASH_HOME as a version before the database left it: runs in folders, no database yet."""
    home = tmp_path / "home"
    shutil.copytree(FOLDER_STORE / "runs", home / "runs")
    monkeypatch.setenv("MNIST_DASH_HOME", str(home))
    fresh_server(monkeypatch)
    return home


def test_with_a_teacher_the_import_is_offered_on_the_teacher_page_only_and_never_names_the_path(old_home, monkeypatch):
    """Every visitor was offered the import (three pressed at once: three imports of 700 MB), with the
    server's data path shown. With a teacher configured, only the signed-in teacher is offered it."""
    from mnist_dash.classroom import teacher

    key = "a teacher key for this test"
    monkeypatch.setenv(teacher.KEY_ENV, key)
    monkeypatch.setattr(teacher, "GUARD", teacher.KeyGuard(sleep=lambda s: None))
    student = open_page("home")
    assert "from an earlier version" not in texts(student.markdown)
    app = open_page("teacher")
    app.text_input(key="teacher_key").input(key)
    app.button[0].click().run()
    offered = texts(app.markdown)
    assert "2 runs from an earlier version of this app" in offered and str(old_home) not in offered


def test_the_folder_store_is_offered_once_and_imported(old_home):
    app = open_page("home")
    assert "2 runs from an earlier version of this app" in texts(app.markdown)
    app.button(key="store_import_go").click().run(timeout=180)  # a process of its own: it loads Keras
    assert not app.exception
    store = RunStore()
    assert sorted(run.spec.name for run in store.list().runs) == ["legacy-bn", "legacy-tiny"]
    assert store.setting(IMPORT_SETTING) == "done"
    assert "imported 20261127-064638-legacy-tiny-42c6" in texts(app.markdown)  # each run as it comes in
    again = open_page("home")  # a new session: the offer is not made again
    assert "from an earlier version" not in texts(again.markdown)


def test_not_now_hides_the_offer_for_the_session_only(old_home):
    app = open_page("home")
    app.button(key="store_import_later").click().run()
    assert "from an earlier version" not in texts(app.markdown)
    assert RunStore().setting(IMPORT_SETTING) is None and RunStore().count() == 0


def test_pickers_offer_the_newest_and_say_so_when_the_class_has_more(tiny_data, tiny_spec):
    store = RunStore()
    snap = (
        TrainingJob(tiny_spec.replace(epochs=1), tiny_data, store=store, queue=JobQueue(1)).start().wait(patience(60))
    )
    record, data = store.raw(snap.run_id)
    fill(store.url, record, data, CHOICES + 19, 0)  # copies of it, owned by a class of 30 (not this viewer)
    app = open_page("weights")
    picker = app.selectbox(key="weights_run")
    assert len(picker.options) == CHOICES
    assert f"the class's {CHOICES} newest, of {CHOICES + 20:,} stored" in texts(app.caption)


@pytest.mark.parametrize("page", ["train", "compare", "weights", "board"])
def test_a_database_that_stops_answering_is_explained_not_raised(page, postgres_admin_url, monkeypatch):
    """PostgreSQL stopped under a class: Compare hung and then showed a raw OperationalError. Every page
    (its fragments too) says what it means, and shows no host, user or port; back when the database is."""
    from tests.postgres_server import fresh_database
    from tests.support import Outage, save_fake

    with fresh_database(postgres_admin_url) as url:
        outage = Outage(url)
        monkeypatch.setenv("MNIST_DASH_DB_URL", outage.url)
        fresh_server(monkeypatch)
        save_fake(RunStore(outage.url))
        app = open_page(page)
        outage.down()
        app.run()
        assert not app.exception, [e.stack_trace[-3:] for e in app.exception]
        said = texts(app.warning)
        assert "The run store's database is not answering right now" in said
        assert "127.0.0.1" not in said and "postgres@" not in said  # where it is, only in the log
        outage.up()
        app.run()
        assert not app.exception and "not answering" not in texts(app.warning)
        resources_store_dispose()
        outage.close()


def resources_store_dispose() -> None:
    from mnist_dash.ui import resources

    resources.store().engine.dispose()
    resources.store.clear()
