"""Start `streamlit run streamlit_app.py` on 127.0.0.1 and a headless Chromium, for benchmarks and browser tests."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
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
def streamlit_process(env: dict[str, str], timeout: float = 60.0, log_path: Path | None = None):
    """Yield (base URL, process) of a fresh healthy server; stop it afterwards. `env` adds to os.environ.

    The server's output goes to `log_path` if given (kept for a failing test to show), else a temporary file.
    """
    port = free_port()
    command = run_command(port)
    # The log goes to a file, not a pipe: nobody reads a pipe while the server runs, and a full one stalls it.
    opened = open(log_path, "w+") if log_path else tempfile.TemporaryFile("w+")  # noqa: SIM115
    with opened as log:
        process = subprocess.Popen(command, cwd=ROOT, env=os.environ | env, stdout=log, stderr=subprocess.STDOUT)
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


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """A process's resident memory (or another /proc status field, e.g. VmHWM for its peak) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


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


def launch_chromium(playwright):
    """Debian's Chromium, headless, with the flags this sandbox needs."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


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
