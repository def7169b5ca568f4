"""A class presses Train in the same minute: does the server hold, and is every job accounted for?

Starts `streamlit run` on 127.0.0.1 (a temporary run store, the default job limit),
opens SESSIONS sessions over Streamlit's own websocket protocol (bench/st_session.py:
what a tab sends, fragments refreshing on their beat, without a browser per student),
and has TRAINERS of them press Start on the Train page at once, each under a name of
its own (`?me=student-N`: limits are per owner) and on its own small design (its own
seed). A few cancel while they wait in line. The rest sit on Home. Meanwhile a separate
process times /_stcore/health every 100 ms and samples the memory of the server and
its training worker.

Reports jobs admitted at once vs queued, every job finished or cleanly stopped (a
finished job must also be in the store), health latency p50/p95 under load, and the
peak RSS of the server and its worker. The last stdout line is JSON with `sessions`,
`jobs_finished`, `jobs_lost`, `health_p95_ms`, `peak_rss_mb` (and more). The run is
bounded (--limit-s), and the server always stops.

    MNIST_DASH_DATA=../shared/data/mnist.npz python -m bench.classroom_load [--sessions 24 --trainers 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time

from bench.st_session import Session
from bench.streamlit_server import health_probe, rss_mb, stop_on_sigterm, streamlit_process
from mnist_dash.runs import RunStore

# The sidebar's status line once a job is over; a job stopped before it began "left the queue".
ENDED = ("finished", "stopped", "failed", "diverged", "left the queue")


def design(student: int, epochs: int) -> str:
    """The student's link: a small design of their own (its seed), and their name."""
    name = f"student-{student}"
    return f"layers=32:relu:0:none&epochs={epochs}&batch_size=128&seed={student}&name={name}&me={name}"


async def student(url: str, number: int, trains: bool, cancels: bool, epochs: int, start: asyncio.Event) -> dict:
    page, query = ("train", design(number, epochs)) if trains else ("home", f"me=student-{number}")
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
        return {
            "student": number,
            "trained": True,
            "cancelled": cancels,
            "first_status": first,
            "status": session.status,
            "seconds": time.perf_counter() - pressed,
        }


async def classroom(url: str, sessions: int, trainers: int, cancellers: int, epochs: int, limit_s: float) -> list[dict]:
    start = asyncio.Event()
    tasks = [
        asyncio.create_task(student(url, n, n < trainers, trainers - cancellers <= n < trainers, epochs, start))
        for n in range(sessions)
    ]
    await asyncio.sleep(3)  # every tab has drawn its page
    start.set()
    _, pending = await asyncio.wait(tasks, timeout=limit_s)
    for task in pending:
        task.cancel()
    if pending:
        raise RuntimeError(f"{len(pending)} students were still waiting after {limit_s:.0f} s (--limit-s): stopped")
    return [task.result() for task in tasks]  # a student's own failure (say, a page that never ended) raises here


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=24)
    parser.add_argument("--trainers", type=int, default=20)
    parser.add_argument("--cancellers", type=int, default=2, help="of the trainers, how many cancel while queued")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--limit-s", type=float, default=600, help="the longest the class may take")
    args = parser.parse_args()
    stop_on_sigterm()
    home = tempfile.mkdtemp(prefix="mnist-dash-classroom-")
    env = {"MNIST_DASH_HOME": home}
    print(
        f"{args.sessions} sessions, {args.trainers} press Start at once ({args.cancellers} then cancel), "
        f"MNIST_DASH_MAX_JOBS={os.environ.get('MNIST_DASH_MAX_JOBS', '1 (default)')}",
        flush=True,
    )
    with streamlit_process(env) as (url, process):
        with health_probe(url, process.pid) as probe:
            began = time.perf_counter()
            classes = classroom(url, args.sessions, args.trainers, args.cancellers, args.epochs, args.limit_s)
            results = asyncio.run(classes)
            wall = time.perf_counter() - began
        peak = max(probe.server_peak_mb, rss_mb(process.pid, "VmHWM"))
    latencies, failures, family = sorted(probe.latencies), probe.failures, probe.family_peak_mb
    trained = [r for r in results if r["trained"]]
    stored = {run.spec.name for run in RunStore(home).list().runs if run.status == "finished"}
    finished = [r for r in trained if r["status"] == "finished" and f"student-{r['student']}" in stored]
    stopped = [r for r in trained if r["cancelled"] and r["status"].startswith(("stopped", "left the queue"))]
    lost = len(trained) - len(finished) - len(stopped)
    admitted = sum(1 for r in trained if r["first_status"].startswith("running"))
    for r in trained:
        print(f"student-{r['student']:<3} first {r['first_status']:<24} end {r['status']:<28} {r['seconds']:6.1f} s")
    p50, p95 = probe.percentile(0.5), probe.percentile(0.95)  # failed checks count as 10 s
    print(
        f"admitted at once {admitted}, queued {len(trained) - admitted}; finished {len(finished)}, "
        f"cleanly stopped {len(stopped)}, lost {lost}; wall {wall:.0f} s"
    )
    print(
        f"health: {len(latencies)} checks, p50 {p50:.1f} ms, p95 {p95:.1f} ms, "
        f"max {max(latencies, default=float('nan')):.1f} ms, failures {failures}"
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
