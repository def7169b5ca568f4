"""A lesson on the hosting box: thirty students press Start within ten seconds. When does each see an epoch?

Rehearses Streamlit Community Cloud's box on this machine: `streamlit run` on 127.0.0.1
inside a control group of 2 CPUs and 2.7 GB (cgroup v1 or v2, whichever the machine
mounts; the server and its training workers are all in it), a temporary run store, the
default limits, the queue's log at INFO. Thirty students open the Train page over
Streamlit's own websocket protocol (bench/st_session.py: what a tab sends, fragments
ticking on their beat, without a browser each), each under a name of their own with
notebook-2-hidden for `--epochs` and a seed of their own, and press Start at moments spread
over ten seconds. Three of them also keep Draw open and draw (upload a digit) every few
seconds. Every tab stays open until its job is over. A separate process times
/_stcore/health every 100 ms and samples the memory of the server and its workers.

Per student, from their page: Start to the end of their first epoch (the sidebar's status
line moving past epoch 1), and to the end of their job. From the server's queue log: the
seconds each turn held the slot (a job's set-up, switching and saving included), against
the jobs' own epoch seconds in their stored runs: `switch_overhead`. A job is lost if it
ends without a finished run in the store (nobody presses Stop here), or never leaves the
queue. The last stdout line is JSON: students, first_epoch_p50_s, first_epoch_p95_s,
first_epoch_max_s, all_done_s, train_s_sum, switch_overhead, jobs_lost, health_p95_ms,
peak_rss_mb (server plus workers, their resident memory added up; the "peak resident
memory" line names the processes at that peak), cgroup_peak_mb (the group's own peak, as
the kernel that enforces the limit counts it: shared pages once, page cache included; low
on a machine whose page cache already held TensorFlow's libraries), server_rss_mb,
oom_kills. Targets (issue 21): first
epoch p95 under 120 s, switch overhead at most 1.10, no job lost, health p95 under 500 ms,
no OOM kill, the server under 400 MB.

Needs root for the control group (`--no-cgroup` runs without one, and says so). The run
is bounded (--limit-s) and the server always stops.

    MNIST_DASH_DATA=../shared/data/mnist.npz python -m bench.lesson [--students 30 --epochs 5 --drawers 3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import random
import re
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

from PIL import Image

from bench.classroom_load import ENDED
from bench.st_session import Session
from bench.streamlit_server import health_probe, rss_mb, stop_on_sigterm, streamlit_process
from mnist_dash.data import load_mnist
from mnist_dash.presets import PRESETS
from mnist_dash.runs import RunStore
from mnist_dash.share import to_query

CPUS, MEMORY_BYTES = 2.0, int(2.7 * 1024**3)  # Community Cloud's box: at most 2 cores and about 2.7 GB
EPOCH_IN_STATUS = re.compile(r"epoch (\d+) of (\d+)")
TURN_EVENT = re.compile(r"^(\S+ \S+) mnist_dash\.jobs\.queue INFO queue (started|resumed|paused|left) (\S+) ", re.M)


class ControlGroup:
    """A control group holding the server and its workers to CPUS and MEMORY_BYTES (cgroup v2, else v1)."""

    def __init__(self, name: str):
        root = Path("/sys/fs/cgroup")
        self.version = 2 if (root / "cgroup.controllers").exists() else 1
        if self.version == 2:
            with contextlib.suppress(OSError):
                (root / "cgroup.subtree_control").write_text("+cpu +memory")
            self.paths = [root / name]
        else:
            self.paths = [root / "cpu" / name, root / "memory" / name]
        for path in self.paths:
            path.mkdir(exist_ok=True)
        if self.version == 2:
            (self.paths[0] / "cpu.max").write_text(f"{int(CPUS * 100_000)} 100000")
            (self.paths[0] / "memory.max").write_text(str(MEMORY_BYTES))
        else:
            (self.paths[0] / "cpu.cfs_period_us").write_text("100000")
            (self.paths[0] / "cpu.cfs_quota_us").write_text(str(int(CPUS * 100_000)))
            (self.paths[1] / "memory.limit_in_bytes").write_text(str(MEMORY_BYTES))

    def join(self) -> None:
        """Put the calling process in the group (run in the server's child before it executes Streamlit)."""
        for path in self.paths:
            (path / "cgroup.procs").write_text(str(os.getpid()))

    def oom_kills(self) -> int:
        """Processes the kernel killed in the group for want of memory."""
        memory = self.paths[0] if self.version == 2 else self.paths[1]
        text = (memory / ("memory.events" if self.version == 2 else "memory.oom_control")).read_text()
        found = re.search(r"^oom_kill (\d+)", text, re.M)
        return int(found[1]) if found else 0

    def memory_peak_mb(self) -> float | None:
        """The group's own peak memory, as the kernel that enforces its limit counts it: every page once, page
        cache included, though a file already cached (a shared library read before the group existed) stays
        charged to the group that read it first. None where the kernel does not keep it."""
        memory = self.paths[0] if self.version == 2 else self.paths[1]
        peak = memory / ("memory.peak" if self.version == 2 else "memory.max_usage_in_bytes")
        try:
            return int(peak.read_text()) / 1024**2
        except (OSError, ValueError):
            return None

    def remove(self) -> None:
        for path in self.paths:
            with contextlib.suppress(OSError):
                path.rmdir()

    def describe(self) -> str:
        return f"cgroup v{self.version}, {CPUS:g} CPUs, {MEMORY_BYTES / 1024**3:.1f} GB ({self.paths[0].name})"


def name(number: int) -> str:
    return f"student-{number:02d}"


def link(number: int, epochs: int) -> str:
    """The student's Train link: notebook-2-hidden with a seed of their own, and who they are."""
    spec = PRESETS["notebook-2-hidden"].replace(epochs=epochs, seed=number, name=name(number))
    return urlencode(to_query(spec) | {"me": name(number)})


def first_epoch_done(status: str) -> bool:
    """Whether the sidebar's status line says the job is past its first epoch."""
    if status.startswith(("finished", "stopped after")):
        return True
    found = EPOCH_IN_STATUS.search(status)
    return found is not None and int(found[1]) >= 2


def digit_png(index: int) -> bytes:
    """A real MNIST test digit, as a student's small photo of it."""
    digit = 255 - load_mnist().x_test[index]  # dark ink on white paper
    buffer = io.BytesIO()
    Image.fromarray(digit).resize((280, 280)).save(buffer, "PNG")
    return buffer.getvalue()


async def student(url: str, number: int, args, go: asyncio.Event, record: dict) -> None:
    async with Session(url, "train", link(number, args.epochs)) as tab:
        await tab.run()
        record["ready"] = True
        await go.wait()
        await asyncio.sleep(record["delay"])
        record["pressed"] = time.perf_counter()
        await tab.click("train_start")
        while not tab.status.startswith(ENDED):
            if "first_epoch" not in record and first_epoch_done(tab.status):
                record["first_epoch"] = time.perf_counter()
            await asyncio.sleep(0.25)
        record.setdefault("first_epoch", time.perf_counter())  # a job that ended without one: its end
        record["ended"], record["status"] = time.perf_counter(), tab.status
        record["seen"] = [status for _, status in tab.statuses]


async def drawer(url: str, number: int, go: asyncio.Event, record: dict, every_s: float) -> None:
    """The student's second tab: Draw, drawing (uploading a digit) every few seconds once there is a model."""
    async with Session(url, "draw", f"me={name(number)}") as tab:
        await tab.run()
        await go.wait()
        uploads, index, record["draw_timeouts"] = [], number, 0
        while "ended" not in record:
            await asyncio.sleep(every_s)
            try:
                if "draw_upload" not in tab.widget_ids:  # no model yet: the page says so and turns when there is
                    await tab.run()
                    continue
                started = time.perf_counter()
                await tab.upload("draw_upload", f"digit-{index}.png", digit_png(index), "image/png")
                uploads.append(time.perf_counter() - started)
            except TimeoutError:  # a page run that did not end in 120 s: counted, and the student draws on
                record["draw_timeouts"] += 1
            index += 30
            record["draw_s"] = uploads


async def lesson(url: str, args, records: dict[int, dict]) -> bool:
    go = asyncio.Event()
    tasks = [asyncio.create_task(student(url, n, args, go, records[n])) for n in records]
    tasks += [
        asyncio.create_task(drawer(url, n, go, records[n], args.draw_every)) for n in records if n <= args.drawers
    ]
    while not all(record.get("ready") for record in records.values()):
        await asyncio.sleep(0.2)
    go.set()
    done, pending = await asyncio.wait(tasks, timeout=args.limit_s)
    for task in pending:
        task.cancel()
    for task in done:
        if task.exception() is not None:
            print(f"a tab failed: {task.exception()!r}", flush=True)
    return not pending


def turn_seconds(log: str) -> float:
    """The seconds the slot was held, summed over every job's turns (started or resumed, to paused or left)."""
    held, began = 0.0, {}
    for stamp, event, job in TURN_EVENT.findall(log):
        when = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f").timestamp()
        if event in ("started", "resumed"):
            began[job] = when
        elif job in began:
            held += when - began.pop(job)
    return held


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[int(share * (len(ordered) - 1))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--drawers", type=int, default=3, help="students who also keep Draw open")
    parser.add_argument("--draw-every", type=float, default=4.0, help="seconds between their drawings")
    parser.add_argument("--spread-s", type=float, default=10.0, help="the students press Start within this")
    parser.add_argument("--limit-s", type=float, default=1800.0, help="the longest the lesson may take")
    parser.add_argument("--no-cgroup", action="store_true", help="run without the box's limits (not root)")
    args = parser.parse_args()
    stop_on_sigterm()
    home = Path(tempfile.mkdtemp(prefix="mnist-dash-lesson-"))
    log_path = home / "server.log"
    group = None if args.no_cgroup else ControlGroup(f"mnist-dash-lesson-{os.getpid()}")
    limits = group.describe() if group else "no control group (--no-cgroup): the whole machine"
    print(
        f"{args.students} students press Start within {args.spread_s:.0f} s on notebook-2-hidden for {args.epochs} "
        f"epochs; {args.drawers} draw every {args.draw_every:.0f} s; {limits}; server log {log_path}",
        flush=True,
    )
    rng = random.Random(0)
    records = {n: {"delay": rng.uniform(0, args.spread_s)} for n in range(1, args.students + 1)}
    env = {"MNIST_DASH_HOME": str(home), "MNIST_DASH_LOG_LEVEL": "INFO", "MNIST_DASH_DB_URL": ""}
    try:
        with (
            streamlit_process(env, log_path=log_path, preexec=group.join if group else None) as (url, process),
            health_probe(url, process.pid) as probe,
        ):
            whole = asyncio.run(lesson(url, args, records))
            server_peak = rss_mb(process.pid, "VmHWM")
        oom_kills = group.oom_kills() if group else 0
        group_peak = group.memory_peak_mb() if group else None
    finally:
        if group is not None:
            group.remove()
    if not whole:
        print(f"the lesson did not end within {args.limit_s:.0f} s (--limit-s): stopped there", flush=True)
    store = RunStore(home)
    # The students' runs only: a new store also holds the shipped lesson's three (MNIST_DASH_LESSON), whose
    # twenty epochs each were trained elsewhere and would count as the slot's work.
    students = {name(n) for n in records}
    runs = store.list().runs
    finished = {run.spec.name: run for run in runs if run.status == "finished" and run.spec.name in students}
    epoch_s = sum(record["seconds"] for run in finished.values() for record in store.history(run.run_id)["epochs"])
    held = turn_seconds(log_path.read_text())
    pressed = [r for r in records.values() if "pressed" in r]
    first = [r["first_epoch"] - r["pressed"] for r in pressed if "first_epoch" in r]
    began = min((r["pressed"] for r in pressed), default=0.0)
    lost = [name(n) for n, r in records.items() if name(n) not in finished]
    draws = [s for r in records.values() for s in r.get("draw_s", [])]
    draw_timeouts = sum(r.get("draw_timeouts", 0) for r in records.values())
    for number, record in records.items():
        ended = f", ended {record['ended'] - record['pressed']:.0f} s" if "ended" in record else ""
        shown = f"first epoch {record['first_epoch'] - record['pressed']:.1f} s" if "first_epoch" in record else "?"
        seen = " → ".join(record.get("seen", []))
        print(
            f"{name(number)}: {shown}{ended}, {record.get('status', 'never ended')} (its sidebar: {seen})", flush=True
        )
    if draws:
        print(
            f"drawings: {len(draws)}, median {statistics.median(draws) * 1000:.0f} ms, max {max(draws) * 1000:.0f} ms"
        )
    print(f"peak resident memory {probe.family_peak_mb:,.0f} MB: {probe.peak_parts()}")
    summary = {
        "students": args.students,
        "epochs": args.epochs,
        "first_epoch_p50_s": round(statistics.median(first), 1) if first else None,
        "first_epoch_p95_s": round(percentile(first, 0.95), 1) if first else None,
        "first_epoch_max_s": round(max(first), 1) if first else None,
        "all_done_s": round(max((r["ended"] for r in pressed if "ended" in r), default=began) - began, 1),
        "train_s_sum": round(epoch_s, 1),
        "switch_overhead": round(held / epoch_s, 3) if epoch_s else None,
        "jobs_lost": len(lost),
        "health_p95_ms": round(probe.percentile(0.95), 1),
        "peak_rss_mb": round(probe.family_peak_mb),
        "cgroup_peak_mb": round(group_peak) if group_peak is not None else None,
        "server_rss_mb": round(max(server_peak, probe.server_peak_mb)),
        "oom_kills": oom_kills,
        "drawings": len(draws),
        "drawing_p95_ms": round(percentile(draws, 0.95) * 1000) if draws else None,
        "draw_timeouts": draw_timeouts,
        "cgroup": group.describe() if group else None,
        "timed_out": not whole,
    }
    checks = {
        "first epoch p95 under 120 s": (summary["first_epoch_p95_s"] or 1e9) < 120,
        "switch overhead at most 1.10": (summary["switch_overhead"] or 1e9) <= 1.10,
        "no job lost": not lost,
        "health p95 under 500 ms": summary["health_p95_ms"] < 500,
        "no OOM kill": oom_kills == 0,
        "server under 400 MB": summary["server_rss_mb"] < 400,
    }
    print("targets: " + "; ".join(f"{target} {'yes' if met else 'NO'}" for target, met in checks.items()))
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
