"""A class presses Train in the same minute: does the server hold, and is every job accounted for?

Starts `streamlit run` on 127.0.0.1 (a temporary run store, the default job limit),
opens SESSIONS sessions over Streamlit's own websocket protocol (bench/st_session.py:
what a tab sends, fragments refreshing on their beat, without a browser per student),
and has TRAINERS of them press Start on the Train page at once, each on its own small
design (its own seed). A few cancel while they wait in line. The rest sit on Home.
Meanwhile /_stcore/health is timed every 100 ms and the server's memory sampled.

Reports jobs admitted at once vs queued, every job finished or cleanly stopped (a
finished job must also be in the store), health latency p50/p95 under load, and the
server's peak RSS. The last stdout line is JSON with `sessions`, `jobs_finished`,
`jobs_lost`, `health_p95_ms`, `peak_rss_mb` (and more).

    MNIST_DASH_DATA=../shared/data/mnist.npz python -m bench.classroom_load [--sessions 24 --trainers 20]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import statistics
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.st_session import Session
from bench.streamlit_server import rss_mb, streamlit_process
from mnist_dash.runs import RunStore

ENDED = ("finished", "stopped", "failed", "diverged")


def children(pid: int) -> list[int]:
    """The processes `pid` started (its training workers)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def family_rss_mb(pid: int) -> float:
    """The server's memory plus its workers' (each worker holds Keras, a model and a copy of MNIST)."""
    total = rss_mb(pid)
    for child in children(pid):
        with contextlib.suppress(OSError):  # it may just have ended
            total += rss_mb(child)
    return total


def _probe(url: str, pid: int, stop, results) -> None:
    """Time /_stcore/health every 100 ms and sample the server's RSS until `stop` is set.

    In a process of its own: in the same process as the simulated tabs, the probe would
    time its own wait for the interpreter lock, not the server.
    """
    latencies, failures, peak, family = [], 0, 0.0, 0.0
    while not stop.is_set():
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=10) as response:
                response.read()
            latencies.append((time.perf_counter() - started) * 1000)
        except OSError:
            failures += 1
        peak, family = max(peak, rss_mb(pid)), max(family, family_rss_mb(pid))
        stop.wait(max(0.0, 0.1 - (time.perf_counter() - started)))
    results.put((latencies, failures, peak, family))


def design(student: int, epochs: int) -> str:
    return f"layers=32:relu:0:none&epochs={epochs}&batch_size=128&seed={student}&name=student-{student}"


async def student(url: str, number: int, trains: bool, cancels: bool, epochs: int, start: asyncio.Event) -> dict:
    page, query = ("train", design(number, epochs)) if trains else ("home", "")
    async with Session(url, page, query) as session:
        await session.run()
        if not trains:
            await start.wait()
            await asyncio.sleep(5)
            return {"student": number, "trained": False}
        await start.wait()
        pressed = time.perf_counter()
        await session.click("train_start")
        first = session.status
        if cancels:
            await session.click("train_stop")
        while not session.status.startswith(ENDED):
            await asyncio.sleep(0.25)
            if time.perf_counter() - pressed > 900:
                break
        return {
            "student": number,
            "trained": True,
            "cancelled": cancels,
            "first_status": first,
            "status": session.status,
            "seconds": time.perf_counter() - pressed,
        }


async def classroom(url: str, sessions: int, trainers: int, cancellers: int, epochs: int) -> list[dict]:
    start = asyncio.Event()
    tasks = [
        asyncio.create_task(student(url, n, n < trainers, trainers - cancellers <= n < trainers, epochs, start))
        for n in range(sessions)
    ]
    await asyncio.sleep(3)  # every tab has drawn its page
    start.set()
    return await asyncio.gather(*tasks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=24)
    parser.add_argument("--trainers", type=int, default=20)
    parser.add_argument("--cancellers", type=int, default=2, help="of the trainers, how many cancel while queued")
    parser.add_argument("--epochs", type=int, default=1)
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="mnist-dash-classroom-")
    env = {"MNIST_DASH_HOME": home}
    print(
        f"{args.sessions} sessions, {args.trainers} press Start at once ({args.cancellers} then cancel), "
        f"MNIST_DASH_MAX_JOBS={os.environ.get('MNIST_DASH_MAX_JOBS', '1 (default)')}",
        flush=True,
    )
    with streamlit_process(env) as (url, process):
        context = multiprocessing.get_context("spawn")
        stop, queue = context.Event(), context.Queue()
        probe = context.Process(target=_probe, args=(url, process.pid, stop, queue), daemon=True)
        probe.start()
        began = time.perf_counter()
        results = asyncio.run(classroom(url, args.sessions, args.trainers, args.cancellers, args.epochs))
        wall = time.perf_counter() - began
        stop.set()
        latencies, failures, peak, family = queue.get(timeout=30)
        probe.join(10)
        peak = max(peak, rss_mb(process.pid, "VmHWM"))
    trained = [r for r in results if r["trained"]]
    stored = {run.spec.name for run in RunStore(home).list().runs if run.status == "finished"}
    finished = [r for r in trained if r["status"] == "finished" and f"student-{r['student']}" in stored]
    stopped = [r for r in trained if r["cancelled"] and r["status"].startswith("stopped")]
    lost = len(trained) - len(finished) - len(stopped)
    admitted = sum(1 for r in trained if r["first_status"].startswith("running"))
    for r in trained:
        print(f"student-{r['student']:<3} first {r['first_status']:<24} end {r['status']:<28} {r['seconds']:6.1f} s")
    latencies = sorted(latencies)
    p50 = statistics.median(latencies)
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    print(
        f"admitted at once {admitted}, queued {len(trained) - admitted}; finished {len(finished)}, "
        f"cleanly stopped {len(stopped)}, lost {lost}; wall {wall:.0f} s"
    )
    print(
        f"health: {len(latencies)} checks, p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {latencies[-1]:.1f} ms, "
        f"failures {failures}"
    )
    print(f"peak RSS: server {peak:.0f} MB; the server and its training worker together {family:.0f} MB")
    summary = {
        "sessions": args.sessions,
        "pressed_train": len(trained),
        "admitted_at_once": admitted,
        "queued": len(trained) - admitted,
        "jobs_finished": len(finished),
        "jobs_stopped": len(stopped),
        "jobs_lost": lost,
        "health_p50_ms": round(p50, 1),
        "health_p95_ms": round(p95, 1),
        "health_failures": failures,
        "peak_rss_mb": round(family),  # the server and its worker: what the container must hold
        "server_rss_mb": round(peak),
        "wall_s": round(wall, 1),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
