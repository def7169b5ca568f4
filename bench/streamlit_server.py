"""Start `streamlit run streamlit_app.py` on 127.0.0.1 and a headless Chromium, for benchmarks and browser tests.

Also what the load benchmarks measure from outside the server: the memory of the server
and its training workers (read from /proc, where processes and threads come and go while
it is read), and a health probe in a process of its own.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import queue
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("MNIST_DASH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_command(port: int) -> list[str]:
    """`streamlit run streamlit_app.py`, headless, on 127.0.0.1:`port`."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(ROOT / "streamlit_app.py"),
        "--server.headless=true",
        f"--server.port={port}",
        "--server.address=127.0.0.1",
        "--browser.gatherUsageStats=false",
    ]


@contextlib.contextmanager
def streamlit_process(
    env: dict[str, str], timeout: float = 60.0, log_path: Path | None = None, preexec: Callable[[], None] | None = None
):
    """Yield (base URL, process) of a fresh healthy server; stop it afterwards. `env` adds to os.environ.

    The server's output goes to `log_path` if given (kept for a failing test to show), else a temporary file.
    `preexec` runs in the server's process before Streamlit does (e.g. to join a control group).
    """
    port = free_port()
    command = run_command(port)
    # The log goes to a file, not a pipe: nobody reads a pipe while the server runs, and a full one stalls it.
    opened = open(log_path, "w+") if log_path else tempfile.TemporaryFile("w+")  # noqa: SIM115
    with opened as log:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=os.environ | env,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent if preexec is None else lambda: (_die_with_parent(), preexec()),
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(url, process, timeout, log)
            yield url, process
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()


@contextlib.contextmanager
def streamlit_server(env: dict[str, str], timeout: float = 60.0, log_path: Path | None = None):
    """Yield the base URL of a fresh healthy server (see `streamlit_process`)."""
    with streamlit_process(env, timeout, log_path) as (url, _process):
        yield url


try:  # looked up here, not in the forked child, where the loader's lock may be held by another thread
    _prctl = ctypes.CDLL(None).prctl
except (OSError, AttributeError):  # not Linux
    _prctl = None


def _die_with_parent() -> None:
    """In the server's process before it runs: a SIGTERM when the benchmark or test that started it dies.

    `streamlit_process` stops the server whenever Python unwinds; this also covers a runner
    killed outright (SIGKILL, a timeout), so no server outlives it. Linux only; elsewhere a no-op.
    """
    if _prctl is not None:
        _prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def stop_on_sigterm() -> None:
    """Let SIGTERM (e.g. from `timeout`) unwind the benchmark, so its `finally` blocks stop the server."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """A process's resident memory (or another /proc status field, e.g. VmHWM for its peak) in MB.

    FileNotFoundError (or ProcessLookupError) when the process has ended: see `family_rss`.
    """
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


PROBE_TIMEOUT_S = 10  # a health check not answered in this long counts as failed
# What reading /proc raises when the process or thread just ended (or was never ours to read).
_GONE = (FileNotFoundError, ProcessLookupError, PermissionError)


def children(pid: int) -> list[int]:
    """The processes `pid` started (the server's training workers), as they are now.

    Each thread of `pid` lists the children it started; a thread (or the process) can end
    between the listing and the read, which is normal and simply means it has none now.
    """
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except _GONE:
        return []
    found = []
    for task in tasks:
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except _GONE:
            continue
    return found


def family_rss(pid: int) -> dict[int, tuple[str, float]]:
    """The resident memory of `pid` and of each of its children (each worker holds Keras, a model and MNIST):
    {pid: (its command's name, MB)}. A process that ends while it is read is left out."""
    found = {}
    for member in (pid, *children(pid)):
        with contextlib.suppress(*_GONE):
            found[member] = (Path(f"/proc/{member}/comm").read_text().strip(), rss_mb(member))
    return found


@dataclass
class ProbeFigures:
    """What `health_probe` measured: health latencies (ms), failed checks, peak RSS of the server and its family."""

    latencies: list[float] = field(default_factory=list)
    failures: int = 0
    slow: list[tuple[float, float]] = field(default_factory=list)  # checks over 1 s: (time.time(), ms; inf: failed)
    server_peak_mb: float = 0.0
    family_peak_mb: float = 0.0
    family_at_peak: dict[int, tuple[str, float]] = field(default_factory=dict)  # who made up family_peak_mb

    def peak_parts(self) -> str:
        """The processes whose resident memory made up the family's peak, e.g. "123 python 380 MB, ..."."""
        parts = sorted(self.family_at_peak.items(), key=lambda item: -item[1][1])
        return ", ".join(f"{pid} {comm} {mb:,.0f} MB" for pid, (comm, mb) in parts) or "none measured"

    def percentile(self, share: float) -> float:
        """A latency percentile in ms; a failed check counts as the PROBE_TIMEOUT_S it waited, not as nothing."""
        ordered = sorted(self.latencies + [PROBE_TIMEOUT_S * 1000] * self.failures)
        return ordered[int(share * (len(ordered) - 1))] if ordered else float("nan")


def _probe(url: str, pid: int, stop, results) -> None:
    """Time /_stcore/health every 100 ms and sample the server's memory until `stop` is set (or the benchmark dies)."""
    figures, benchmark = ProbeFigures(), multiprocessing.parent_process()
    while not stop.is_set() and benchmark.is_alive():
        started, when = time.perf_counter(), time.time()
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=PROBE_TIMEOUT_S) as response:
                response.read()
            figures.latencies.append((time.perf_counter() - started) * 1000)
            if figures.latencies[-1] > 1000:
                figures.slow.append((when, figures.latencies[-1]))
        except OSError:
            figures.failures += 1
            figures.slow.append((when, float("inf")))
        with contextlib.suppress(*_GONE):
            figures.server_peak_mb = max(figures.server_peak_mb, rss_mb(pid))
        family = family_rss(pid)
        if (total := sum(mb for _, mb in family.values())) > figures.family_peak_mb:
            figures.family_peak_mb, figures.family_at_peak = total, family
        stop.wait(max(0.0, 0.1 - (time.perf_counter() - started)))
    results.put(figures)


@contextlib.contextmanager
def health_probe(url: str, pid: int):
    """Yield a ProbeFigures that is filled in when the block ends: health latency and memory under load.

    The probe runs in a process of its own: in the same process as the simulated tabs it
    would time its own wait for the interpreter lock, not the server. RuntimeError if it died.
    """
    context = multiprocessing.get_context("spawn")
    stop, results = context.Event(), context.Queue()
    probe = context.Process(target=_probe, args=(url, pid, stop, results), daemon=True)
    probe.start()
    figures = ProbeFigures()
    try:
        yield figures
    finally:
        stop.set()
        found = None
        deadline = time.monotonic() + 30
        while found is None and time.monotonic() < deadline:
            with contextlib.suppress(queue.Empty):
                found = results.get(timeout=0.5)
            if found is None and not probe.is_alive() and results.empty():
                break
        probe.join(5)
        if probe.is_alive():
            probe.kill()
    if found is None:
        raise RuntimeError(f"the health probe ended without its figures (exit code {probe.exitcode})")
    vars(figures).update(vars(found))


def wait_healthy(url: str, process: subprocess.Popen, timeout: float, log=None) -> float:
    """Seconds until /_stcore/health answers ok; RuntimeError with the server's output if it dies."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if process.poll() is not None:
            output = (log.seek(0), log.read())[1] if log else ""
            raise RuntimeError(f"streamlit exited with {process.returncode}:\n{output}")
        with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as response:
            if response.read() == b"ok":
                return time.perf_counter() - started
        time.sleep(0.05)
    raise RuntimeError(f"streamlit did not become healthy in {timeout} s")


def _playwright_chromium() -> bool:
    """Whether `python -m playwright install chromium` has put a browser of Playwright's own here."""
    root = Path(os.environ.get("PLAYWRIGHT_BROWSERS_PATH") or Path.home() / ".cache" / "ms-playwright")
    return any(root.glob("chromium*"))


def chromium_available() -> bool:
    """Debian's (or MNIST_DASH_CHROMIUM's) Chromium, or one Playwright installed itself."""
    return Path(CHROMIUM).exists() or _playwright_chromium()


def launch_chromium(playwright):
    """Chromium, headless, with the flags this sandbox needs: Debian's when there, else Playwright's own."""
    executable = CHROMIUM if Path(CHROMIUM).exists() else None
    return playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)


def draw_a_seven(page) -> None:
    """Draw a 7 with the mouse on the Draw page's canvas (a bar, then a slanted stem)."""
    canvas = page.locator(".st-key-draw_canvas canvas").last
    canvas.wait_for(timeout=60_000)
    box = canvas.bounding_box()
    x, y = box["x"], box["y"]
    page.mouse.move(x + 70, y + 60)
    page.mouse.down()
    for step in range(15):  # the bar of the 7
        page.mouse.move(x + 70 + step * 10, y + 60)
    for step in range(18):  # its stem
        page.mouse.move(x + 210 - step * 5, y + 60 + step * 11)
    page.mouse.up()
