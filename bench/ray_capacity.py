"""A class's jobs on a Ray cluster of K single-core workers, started at once through the app's job path.

`ray start --head --num-cpus K` (token authentication on, no dashboard) stands in for a cluster:
one machine, K CPUs, so K jobs train at once, each on one core. Then, in this process as in the
app's server: MNIST_DASH_RAY_ADDRESS names it, `runners.app_runner()` chooses the runner, the
queue is the app's `default_queue()` (owners' limits and fair turns; its slots the cluster's CPUs,
learned when the first job connects) and every run is stored in a fresh SQLite store. N students
each press Start on the same design at the same moment.

Per job: wait = from Start to its first live news (what a student waits for: the queue's turn,
Ray's placing, a cold worker loading TensorFlow, the model built); job time = from its task
starting on a worker to the job's end (the model built, the epochs, evaluating, the run handed back
and stored), the median over the jobs (the first wave's also load TensorFlow). Lost = a job that
did not finish with a stored run. Seconds per epoch: the median over every job's epochs, and the
per-job overhead = job time - epochs x that. The capacity model of the README predicts the longest
wait from these: the first wait + (ceil(N/K) - 1) x the job time, printed beside the measured one.

    MNIST_DASH_DATA=../shared/data/mnist.npz python -m bench.ray_capacity [--jobs 8 --cpus 2 --epochs 2]

The last stdout line is JSON: {"jobs": N, "finished": ..., "lost": ..., "mean_wait_s": ..., ...}.
The Ray head is stopped at the end (its own processes only: never `ray stop`, which ends every Ray
on the machine).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator

# The cluster's token, for `ray start` and for this process's Ray (read when Ray is imported).
os.environ.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=secrets.token_hex(16))

from mnist_dash import owners
from mnist_dash.data import load_mnist
from mnist_dash.jobs import JobStatus, Limits, TrainingJob, default_queue
from mnist_dash.jobs.runners import RAY_ADDRESS_ENV, app_runner
from mnist_dash.presets import get_preset
from mnist_dash.runs import RunStore


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def ray_head(cpus: int) -> Iterator[str]:
    """A Ray head node with `cpus` CPUs, as README's "try it on one machine" starts it; its address."""
    port = free_port()
    command = [sys.executable, "-m", "ray.scripts.scripts", "start", "--head", f"--port={port}", f"--num-cpus={cpus}"]
    command += ["--include-dashboard=false", "--disable-usage-stats", "--block"]
    head = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if head.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"ray start --head did not come up (exit code {head.poll()})")
            time.sleep(0.2)
        time.sleep(2)  # the GCS answers before the head's raylet has registered
        yield f"127.0.0.1:{port}"
    finally:
        head.send_signal(signal.SIGTERM)  # --block: it stops the processes it started
        try:
            head.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=8, help="students, each pressing Start once")
    parser.add_argument("--cpus", type=int, default=2, help="the cluster's CPUs: single-core workers")
    parser.add_argument("--preset", default="notebook-2-hidden")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--limit-s", type=float, default=900, help="the longest the class may take (s)")
    args = parser.parse_args()
    data = load_mnist()
    spec = get_preset(args.preset).replace(epochs=args.epochs)
    home = tempfile.mkdtemp(prefix="mnist-dash-ray-")
    os.environ["MNIST_DASH_HOME"] = home
    with ray_head(args.cpus) as address:
        os.environ[RAY_ADDRESS_ENV] = address
        print(f"{args.jobs} jobs of {args.preset} x {args.epochs} epochs on Ray at {address} ({args.cpus} CPUs)")
        store, queue = RunStore(home), default_queue()
        pressed = time.perf_counter()
        jobs = [
            TrainingJob(
                spec, data, store=store, runner=app_runner(), owner=owners.named(f"student {n}"), limits=Limits()
            )
            for n in range(1, args.jobs + 1)
        ]
        for job in jobs:
            job.start()
        placed: dict[str, float] = {}  # the job's task started on a worker (it reported its process)
        first_news: dict[str, float] = {}
        ended: dict[str, float] = {}
        while len(ended) < len(jobs) and time.perf_counter() - pressed < args.limit_s:
            for job in jobs:
                if job.job_id not in placed and job._live.pid is not None:
                    placed[job.job_id] = time.perf_counter()
                if job.job_id not in first_news and job._live.steps:
                    first_news[job.job_id] = time.perf_counter()
                if job.job_id not in ended and job.done:
                    ended[job.job_id] = time.perf_counter()
            time.sleep(0.05)
        for job in jobs:
            job.stop("the bench's time limit")
        snaps = [job.wait(60) for job in jobs]
        slots = queue.slots
    stored = {run.run_id for run in store.list().runs}
    finished = [s for s in snaps if s.status == JobStatus.FINISHED and s.run_id in stored]
    waits = [first_news[job.job_id] - pressed for job in jobs if job.job_id in first_news]
    job_s = statistics.median(ended[j.job_id] - placed[j.job_id] for j in jobs if j.job_id in placed.keys() & ended)
    epoch_s = statistics.median(record["seconds"] for snap in snaps for record in snap.history)
    waves = math.ceil(args.jobs / args.cpus)
    predicted = min(waits) + (waves - 1) * job_s
    for snap in snaps:
        if snap.status != JobStatus.FINISHED:
            print(f"  {snap.job_id} {snap.owner}: {snap.status} {snap.error or snap.reason}")
    summary = {
        "jobs": args.jobs,
        "finished": len(finished),
        "lost": args.jobs - len(finished),
        "mean_wait_s": round(statistics.mean(waits), 1) if waits else None,
        "first_wait_s": round(min(waits), 1) if waits else None,
        "longest_wait_s": round(max(waits), 1) if waits else None,
        "predicted_longest_wait_s": round(predicted, 1),
        "job_s": round(job_s, 1),
        "epoch_s": round(epoch_s, 2),
        "overhead_s": round(job_s - args.epochs * epoch_s, 1),
        "cpus": args.cpus,
        "slots": slots,
        "preset": args.preset,
        "epochs": args.epochs,
        "total_s": round(max(ended.values(), default=pressed) - pressed, 1),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
