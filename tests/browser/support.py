"""A Streamlit server for browser tests, with its log kept for a failing test to show."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from bench.streamlit_server import streamlit_server
from tests.patience import patience  # the browser tests' deadlines, in ms, from here


@dataclass(frozen=True)
class Server:
    url: str
    log_path: Path

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@contextlib.contextmanager
def start_server(home: Path, mnist_path: Path, log_dir: Path, database_url: str | None = None, env=None):
    """Yield a Server over the run store in `home` (or the database at `database_url`), its log in `log_dir`."""
    log_path = log_dir / "streamlit.log"
    # Empty: the SQLite file under `home`, even where the developer's shell names a database of their own.
    # No shipped lesson in a new store unless the test asks (MNIST_DASH_LESSON in `env`): it sees what it made.
    env = (
        {"MNIST_DASH_LESSON": "none"}
        | (env or {})
        | {
            "MNIST_DASH_HOME": str(home),
            "MNIST_DASH_DATA": str(mnist_path),
            "MNIST_DASH_DB_URL": database_url or "",
        }
    )
    with streamlit_server(env, log_path=log_path) as url:
        yield Server(url, log_path)


def trained_home(mnist_path, tmp_path_factory) -> Path:
    """A store (its MNIST_DASH_HOME) holding notebook-2-hidden trained for one epoch on the real MNIST."""
    from mnist_dash.data import load_mnist
    from mnist_dash.jobs import JobQueue, TrainingJob
    from mnist_dash.presets import PRESETS
    from mnist_dash.runs import RunStore

    home = tmp_path_factory.mktemp("home")
    spec = PRESETS["notebook-2-hidden"].replace(epochs=1)
    job = TrainingJob(spec, load_mnist(mnist_path), store=RunStore(home), queue=JobQueue(1)).start()
    assert job.wait().test_accuracy > 0.95
    return home


# Settled: every Plotly chart has drawn (Plotly lays them out after the run) and no script run is going, both
# still true 250 ms later (a page may run again once its widgets have mounted: a scan or a click then would
# meet the running indicator, or a widget being redrawn).
SETTLED = """() => new Promise(done => {
    const quiet = () => !document.querySelector('[data-testid=stStatusWidget]')
        && [...document.querySelectorAll('.js-plotly-plot')].every(chart => chart._fullLayout);
    if (!quiet()) return done(false);
    setTimeout(() => done(quiet()), 250);
})"""


def settle(page) -> None:
    """Wait for the page's content to show and for it to settle (`SETTLED`)."""
    page.locator("[data-testid=stMain] [data-testid=stElementContainer]").first.wait_for(timeout=patience(60_000))
    page.wait_for_function(SETTLED, timeout=patience(60_000), polling=100)
