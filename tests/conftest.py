"""Shared fixtures: small synthetic MNIST-like data that a tiny MLP learns in an epoch."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from mnist_dash.data import Mnist, validate_arrays
from mnist_dash.spec import LayerSpec, ModelSpec
from tests.postgres_server import NoPostgres, fresh_database, postgres_server

BROWSER_TESTS = Path(__file__).resolve().parent / "browser"
NO_CHROMIUM = (
    "The browser tests did not run: they need Chromium. Install Debian's package (apt-get install chromium), or "
    "where downloads work run `python -m playwright install chromium`, or set MNIST_DASH_CHROMIUM to a Chromium binary."
)
NO_BROWSER = pytest.StashKey[bool]()


def pytest_configure(config):
    from bench.streamlit_server import chromium_available

    config.stash[NO_BROWSER] = not chromium_available()


def pytest_ignore_collect(collection_path, config):
    """Without Chromium the browser half is not collected: the rest runs, and the run ends failed (below)."""
    inside = collection_path == BROWSER_TESTS or BROWSER_TESTS in collection_path.parents
    return True if config.stash.get(NO_BROWSER, False) and inside else None


# A module whose tests share a module-scoped fixture runs in one test process of the two (`-n 2 --dist loadgroup`,
# one xdist group per module), so the fixture is made once, not once in each: a browser module's server and its
# trained run, the job contract's local Ray instance (two at once would share two cores three ways), the canvas
# test's model. Every other test goes to whichever process is free.
SHARED_MODULES = {
    *BROWSER_TESTS.glob("test_*.py"),
    *(BROWSER_TESTS.parent / name for name in ("test_job_contract.py", "test_canvas.py", "test_runs.py")),
}


# First: xdist's own hook reads each test's group into its id, and sees only the groups given by then.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Each shared module's group (above). And the browser tests named one by one on the command line are
    collected all the same without Chromium: left out here."""
    for item in items:
        path = Path(str(item.path))
        if path in SHARED_MODULES:
            item.add_marker(pytest.mark.xdist_group(path.stem))
    if config.stash.get(NO_BROWSER, False):
        left_out = [item for item in items if BROWSER_TESTS in Path(str(item.path)).parents]
        if left_out:
            items[:] = [item for item in items if item not in left_out]
            config.hook.pytest_deselected(items=left_out)


def _browser_tests_asked(config) -> bool:
    asked = [Path(arg.split("::")[0]).resolve() for arg in config.args]
    return any(path in (BROWSER_TESTS, *BROWSER_TESTS.parents) or BROWSER_TESTS in path.parents for path in asked)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if config.stash.get(NO_BROWSER, False) and _browser_tests_asked(config):
        terminalreporter.write_line(NO_CHROMIUM, red=True, bold=True)


def pytest_sessionfinish(session, exitstatus):
    """Never green without its browser tests: one line says how to get a browser, and the run ends failed."""
    if session.config.stash.get(NO_BROWSER, False) and _browser_tests_asked(session.config) and exitstatus == 0:
        session.exitstatus = 1


def make_digits(count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Images where class k is a bright bar on row 2k+4, over faint noise."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, size=count).astype(np.uint8)
    images = rng.integers(0, 40, size=(count, 28, 28)).astype(np.uint8)
    for row in range(10):
        images[labels == row, 2 * row + 4, 4:24] = 255
    return images, labels


@pytest.fixture(scope="session")
def tiny_data() -> Mnist:
    x_train, y_train = make_digits(1200, seed=1)
    x_test, y_test = make_digits(300, seed=2)
    return validate_arrays(x_train, y_train, x_test, y_test, source="synthetic")


@pytest.fixture
def tiny_spec() -> ModelSpec:
    return ModelSpec(
        layers=(LayerSpec(32, dropout=0.1), LayerSpec(16, batch_norm="after")), batch_size=64, epochs=2, name="tiny"
    )


@pytest.fixture(scope="module")
def slow_data():
    """Enough batches of 8 that an epoch lasts long enough to stop in the middle."""
    x_train, y_train = make_digits(6000, seed=4)
    x_test, y_test = make_digits(200, seed=5)
    return Mnist(x_train, y_train, x_test, y_test)


@pytest.fixture
def tiny_mnist(tmp_path, monkeypatch):
    """The app's pages on small synthetic digits, on a server as just started (each page-test module uses it
    for every test: `pytestmark = pytest.mark.usefixtures("tiny_mnist")`)."""
    from mnist_dash.ui import resources
    from tests.support import fresh_server

    x_train, y_train = make_digits(600, seed=1)
    x_test, y_test = make_digits(100, seed=2)
    path = tmp_path / "digits.npz"
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    monkeypatch.setenv("MNIST_DASH_DATA", str(path))
    fresh_server(monkeypatch)
    yield path
    resources._dataset.clear()
    resources.store.clear()


@pytest.fixture(scope="session")
def process_runner():
    """One worker-process runner for the session's tests, as the app has one: its workers are reused across
    tests (each loads Keras once), and closed at the end. Two slots, as MNIST_DASH_MAX_JOBS=2 gives: the job
    contract's two jobs at once."""
    from mnist_dash.jobs.runners.process import ProcessRunner

    runner = ProcessRunner(slots=2)
    yield runner
    runner.shutdown()


@pytest.fixture(scope="session")
def mnist_path() -> Path:
    """The real MNIST file; required in CI, skipped only on a machine without it."""
    path = os.environ.get("MNIST_DASH_DATA")
    if path and Path(path).is_file():
        return Path(path)
    if os.environ.get("CI"):
        pytest.fail("MNIST_DASH_DATA must point at the real mnist.npz in CI")
    pytest.skip("set MNIST_DASH_DATA to the real mnist.npz to run this test")


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    """A throw-away PostgreSQL on 127.0.0.1 for the whole session: its admin URL (user postgres, no password).

    Without PostgreSQL's server binaries the tests that use it are skipped with one line saying what to
    install; with MNIST_DASH_REQUIRE_POSTGRES=1 (CI) they fail with that line instead, so CI never skips them.
    """
    with contextlib.ExitStack() as stack:
        try:
            url = stack.enter_context(postgres_server())
        except NoPostgres as error:
            missing = str(error)  # skipped or failed below, outside the except: one line, no chained traceback
        else:
            yield url
            return
    if os.environ.get("MNIST_DASH_REQUIRE_POSTGRES") == "1":
        pytest.fail(missing, pytrace=False)
    pytest.skip(missing)


@pytest.fixture(params=["sqlite", "postgresql"], ids=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> Iterator[str]:
    """An empty database for one test, once on SQLite (a file in tmp_path) and once on PostgreSQL.

    The PostgreSQL one is a fresh database `t_<random hex>` on the session's server, dropped afterwards;
    the server is only started when a postgresql case runs.
    """
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'runs.db'}"
        return
    with fresh_database(request.getfixturevalue("postgres_admin_url")) as url:
        yield url


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    """Every test gets its own run store, never the user's."""
    monkeypatch.setenv("MNIST_DASH_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MNIST_DASH_DB_URL", raising=False)  # a developer's own database is never touched
    monkeypatch.setenv("MNIST_DASH_LESSON", "none")  # an empty store stays empty (tests/test_shipped.py ships one)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so fixtures can see whether the test failed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
