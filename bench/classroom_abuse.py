"""Thirty students, three of them misbehaving: does the class queue stay bounded and fair?

Starts `streamlit run` on 127.0.0.1 with the default limits (a temporary run store, the
queue's log at INFO, captured) and opens the class over Streamlit's own websocket
protocol (bench/st_session.py), each student on a device of their own (its cookie) under a
name of their own (`?me=student-NN`, which their device then holds) with a small design of
their own in the link. At one moment every student presses Start. The honest ones press it
once. An impostor (the second misbehaving student, on their own device) opens a link with the
first honest student's name, types that name too, and presses Stop and Start; the third
misbehaving student types 40 invented names, each in a tab of their one device, pressing
Start in every tab. Each misbehaving one has five more tabs open and
presses Start in all six at once (the race the engine's per-owner limit must win), then
reloads the Train page ten times pressing Start every time (a reload is a new session
with the same name; Start is then drawn disabled, this client presses it anyway, and
Streamlit drops the click); one of them also uploads a different 12-megapixel photo on
Draw five times. Every tab stays open, its fragments rerunning on their beat, until its
owner's jobs are over. A separate process times /_stcore/health every 100 ms (a failed
check counts as 10 s) and samples the memory of the server and its training worker.

From the server's queue log: the most jobs any owner had queued or running
(`owner_active`), whether every honest student's first job started before any
misbehaving student's second one, and jobs lost (entered but never left, or an honest
student's job that did not finish and get stored). From the tabs: honest students'
wait from pressing Start to the first live point on their chart. Targets (issue "A
class of thirty on one server"): at most 2 jobs per owner, fair, none lost, health p95
under 500 ms, peak RSS of server and worker under 2,000 MB. The last stdout line is
JSON with `students`, `max_jobs_per_owner`, `fair`, `honest_wait_p95_s`, `jobs_lost`,
`health_p95_ms`, `peak_rss_mb` (and more). The whole run is bounded (--limit-s) and the
server always stops.

    MNIST_DASH_DATA=../shared/data/mnist.npz python -m bench.classroom_abuse [--students 30 --misbehaving 3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import re
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from PIL import ImageDraw

from bench.classroom_load import ENDED
from bench.st_session import Session
from bench.streamlit_server import health_probe, rss_mb, stop_on_sigterm, streamlit_process
from bench.upload_cost import photo
from mnist_dash.runs import RunStore

QUEUE_EVENT = re.compile(r"queue (entered|started|left) (\S+) owner=(\S+) owner_active=(\d+) total=(\d+)")
CHARTS = ("train_loss_chart", "train_accuracy_chart")
REFUSAL = "each student may have"  # the owner's limit, in the page's refusal (mnist_dash/jobs/admission.py)


def name(number: int) -> str:
    return f"student-{number:02d}"


def link(number: int, epochs: int) -> str:
    """The student's Train link: a small design of their own (its seed, its name) and who they are."""
    who = name(number)
    return f"layers=32:relu:0:none&epochs={epochs}&batch_size=128&seed={number}&name={who}&me={who}"


def photos(count: int) -> list[bytes]:
    """`count` different 12-megapixel JPEGs of a 7 (a phone's photo; different, so none is decoded from cache)."""
    base, made = photo(4000, 3000), []
    for index in range(count):
        image = base.copy()
        ImageDraw.Draw(image).ellipse([100 + 300 * index, 100, 160 + 300 * index, 160], fill=(60, 60, 70))
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=90)
        made.append(buffer.getvalue())
    return made


def device(number: int) -> str:
    return f"device-of-student-{number:02d}"


async def opened(url: str, page: str, query: str, tabs: contextlib.AsyncExitStack, number: int) -> Session:
    """A tab on student `number`'s device that has drawn its page (closed with `tabs`)."""
    tab = await tabs.enter_async_context(Session(url, page, query, device=device(number)))
    await tab.run()
    return tab


async def until_over(tabs: list[Session]) -> None:
    """Keep the tabs open (fragments ticking) until each shows its owner's jobs over."""
    while not all(tab.status.startswith(ENDED) for tab in tabs):
        await asyncio.sleep(0.25)


async def press_start(tab: Session, record: dict) -> None:
    """Press the tab's Start, and note what became of it: dropped, refused, or (neither) let in."""
    before, disabled = len(tab.texts), tab.disabled.get("train_start", False)
    await tab.click("train_start")
    if disabled:
        outcome = "dropped"  # drawn disabled: Streamlit discards the click before any callback
    elif any(REFUSAL in text for text in tab.texts[before:]):
        outcome = "refused"  # the engine's limit, said on the page
    else:
        outcome = "let in"
    record.setdefault("presses", defaultdict(int))[outcome] += 1


async def honest(url: str, number: int, epochs: int, go: asyncio.Event, record: dict) -> None:
    async with contextlib.AsyncExitStack() as tabs:
        record["doing"] = "opening Train"
        tab = await opened(url, "train", link(number, epochs), tabs, number)
        record["ready"] = True
        await go.wait()
        record["pressed"], record["doing"] = time.perf_counter(), "pressing Start"
        await press_start(tab, record)
        record["doing"] = "watching the job"
        await until_over([tab])
        # The sidebar can say "finished" before the page's own view has redrawn the curves: give it its beat.
        ended = time.perf_counter()
        while not any(key in tab.charts_with_points for key in CHARTS) and time.perf_counter() - ended < 10:
            await asyncio.sleep(0.25)
        points = [tab.charts_with_points[key] for key in CHARTS if key in tab.charts_with_points]
        record["first_point"] = min(points) if points else None
        record["status"] = tab.status


VICTIM = 1  # the impostor's classmate: the first honest student
TAKEN = "in use on another device"  # the page's words for a name another device holds (mnist_dash/runs/claims.py)


async def impostor(url: str, number: int, tabs: contextlib.AsyncExitStack, record: dict) -> None:
    """On their own device: a link with the victim's name, then the name typed, then Stop and Start pressed."""
    record["doing"] = "posing as a classmate"
    tab = await opened(url, "train", f"me={name(VICTIM)}", tabs, number)
    await tab.type("owner_name", name(VICTIM))
    record["impostor_refused"] = any(TAKEN in text for text in tab.texts)
    await tab.click("train_stop")  # the impostor's own job at most: the victim's job is not on this page
    await press_start(tab, record)


async def inventor(url: str, number: int, args, tabs: contextlib.AsyncExitStack, record: dict) -> None:
    """On their one device: a tab for each invented name, typed in, Start pressed in every one."""
    for index in range(args.invented):
        record["doing"] = f"inventing name {index + 1}"
        tab = await opened(url, "train", link(number, args.epochs), tabs, number)
        await tab.type("owner_name", f"made-up-{index:02d}")
        await press_start(tab, record)


async def misbehaving(
    url: str, number: int, args, go: asyncio.Event, record: dict, uploads: list[bytes], role: str = ""
) -> None:
    """Several tabs pressed at once, then reloads pressing Start each time, then (maybe) photos on Draw.

    The extra tabs are opened before the class presses Start: a tab opened while the owner's job
    is active draws Start disabled, and Streamlit drops a click on a disabled button server-side,
    so only tabs drawn beforehand can race the engine's per-owner limit.
    """
    query = link(number, args.epochs)
    async with contextlib.AsyncExitStack() as tabs:
        record["doing"] = "opening tabs"
        tab = await opened(url, "train", query, tabs, number)
        more = [await opened(url, "train", query, tabs, number) for _ in range(args.tabs)]
        record["ready"] = True
        await go.wait()
        record["doing"] = "pressing Start in every tab"
        await asyncio.gather(*(press_start(each, record) for each in (tab, *more)))
        for reload in range(args.reloads):  # a reload: this tab's connection closes, a new session opens
            record["doing"] = f"reload {reload + 1}"
            await tab.close()
            tab = await opened(url, "train", query, tabs, number)
            await press_start(tab, record)
        kept = [tab, *more]
        if role == "impostor":  # these tabs stay open, ticking, until the student's own are over
            await impostor(url, number, tabs, record)
        elif role == "inventor":
            await inventor(url, number, args, tabs, record)
        if uploads:
            record["doing"] = "opening Draw"
            draw = await opened(url, "draw", f"me={name(number)}", tabs, number)
            while "draw_upload" not in draw.widget_ids:  # Draw offers uploads once any run is stored
                await asyncio.sleep(2)
                await draw.run()
            for index, data in enumerate(uploads):
                record["doing"], started = f"upload {index + 1}", time.perf_counter()
                await draw.upload("draw_upload", f"phone-{index}.jpg", data, "image/jpeg")
                record.setdefault("upload_s", []).append(time.perf_counter() - started)
            kept.append(draw)
        record["doing"] = "watching the jobs"
        await until_over(kept)
        record["status"] = kept[0].status


async def noted(work, record: dict) -> None:
    """Run a student; a failure is noted in their record (with what they were doing), not the class's end."""
    try:
        await work
    except Exception as error:
        record["error"] = f"{type(error).__name__}: {error} (while {record.get('doing', 'starting')})"


async def classroom(url: str, args, records: dict[int, dict], uploads: list[bytes]) -> bool:
    """The class's run; False when --limit-s ran out first (the tabs still open are closed)."""
    go = asyncio.Event()
    bad = misbehaving_numbers(args.students, args.misbehaving)
    tasks = []
    for number in range(1, args.students + 1):
        record = records[number]
        if number in bad:
            role = {1: "impostor", 2: "inventor"}.get(bad.index(number), "")
            work = misbehaving(url, number, args, go, record, uploads if number == bad[0] else [], role)
        else:
            work = honest(url, number, args.epochs, go, record)
        tasks.append(asyncio.create_task(noted(work, record)))
    deadline = time.perf_counter() + args.limit_s
    while not all(r.get("ready") or r.get("error") for r in records.values()):  # every tab has drawn its page
        await asyncio.sleep(0.1)
    go.set()
    _, pending = await asyncio.wait(tasks, timeout=max(0.0, deadline - time.perf_counter()))
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    return not pending


def misbehaving_numbers(students: int, count: int) -> list[int]:
    """Spread through the class (10, 20, 30 of thirty), so their names are not all last in any order."""
    return [students * (i + 1) // count for i in range(count)] if count else []


def queue_events(log: str) -> list[tuple[str, str, str, int]]:
    """(event, job id, owner key, owner's jobs queued or running after it), in the log's order."""
    return [(m[1], m[2], m[3], int(m[4])) for m in QUEUE_EVENT.finditer(log)]


def fairness(events, honest_owners: set[str], bad_owners: set[str]) -> tuple[bool, str]:
    """Whether every honest owner's first job started before any misbehaving owner's second, and how it went."""
    starts = [owner for event, _, owner, _ in events if event == "started"]
    first = {}
    second = {}
    seen = defaultdict(int)
    for index, owner in enumerate(starts):
        seen[owner] += 1
        if seen[owner] == 1:
            first[owner] = index
        elif seen[owner] == 2:
            second[owner] = index
    unstarted = honest_owners - first.keys()
    last_honest = max((first[o] for o in honest_owners & first.keys()), default=-1)
    seconds = [second[o] for o in bad_owners if o in second]
    earliest_second = min(seconds, default=len(starts))
    fair = not unstarted and last_honest < earliest_second
    how = (
        f"last honest first start #{last_honest + 1}, earliest misbehaving second start "
        f"{'#' + str(earliest_second + 1) if seconds else 'none'} of {len(starts)} starts"
        + (f"; {len(unstarted)} honest never started" if unstarted else "")
    )
    return fair, how


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[int(share * (len(ordered) - 1))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--misbehaving", type=int, default=3)
    parser.add_argument("--reloads", type=int, default=10)
    parser.add_argument("--tabs", type=int, default=5, help="more tabs each misbehaving student opens")
    parser.add_argument("--uploads", type=int, default=5, help="12-megapixel photos one of them uploads")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--invented", type=int, default=40, help="names the third misbehaving student invents")
    parser.add_argument("--limit-s", type=float, default=540, help="the longest the class may take (s)")
    args = parser.parse_args()
    stop_on_sigterm()
    uploads = photos(args.uploads)
    home = Path(tempfile.mkdtemp(prefix="mnist-dash-abuse-"))
    log_path = home / "server.log"
    env = {"MNIST_DASH_HOME": str(home), "MNIST_DASH_LOG_LEVEL": "INFO"}
    bad = misbehaving_numbers(args.students, args.misbehaving)
    uploading = f"; {name(bad[0])} also uploads {args.uploads} 12-megapixel photos on Draw" if args.uploads else ""
    print(
        f"{args.students} students press Start at once; {', '.join(map(name, bad))} misbehave "
        f"({args.tabs} more tabs and {args.reloads} reloads, each pressing Start{uploading}); server log {log_path}",
        flush=True,
    )
    records: dict[int, dict] = {number: {} for number in range(1, args.students + 1)}
    timed_out = False
    with streamlit_process(env, log_path=log_path) as (url, process), health_probe(url, process.pid) as probe:
        began = time.perf_counter()
        if not asyncio.run(classroom(url, args, records, uploads)):
            timed_out = True
            print(f"the class did not finish within {args.limit_s:.0f} s (--limit-s): stopped there", flush=True)
        ended = time.perf_counter()
        wall = ended - began
        server_peak = rss_mb(process.pid, "VmHWM")
    events = queue_events(log_path.read_text())
    honest_owners = {f"name:{name(n)}" for n in records if n not in bad}
    invented = {owner for _, _, owner, _ in events if owner.startswith("name:made-up-")}
    bad_owners = {f"name:{name(n)}" for n in bad} | invented
    roles = {n: r for n, r in records.items() if "impostor_refused" in r}
    pose = next(iter(roles.values()), {})

    most = defaultdict(int)
    entered, left = defaultdict(list), set()
    for event, job, owner, active in events:
        most[owner] = max(most[owner], active)
        if event == "entered":
            entered[owner].append(job)
        elif event == "left":
            left.add(job)
    never_left = [job for jobs in entered.values() for job in jobs if job not in left]
    stored = {run.spec.name for run in RunStore(home).list().runs if run.status == "finished"}
    unfinished = [n for n in records if n not in bad and name(n) not in stored]  # no finished run in the store
    not_shown = [n for n in records if n not in bad and records[n].get("status") != "finished"]
    fair, how = fairness(events, honest_owners, bad_owners)
    # A student who never saw a point waited at least until the class ended: counted so, not left out.
    pressed = [r for n, r in records.items() if n not in bad and "pressed" in r]
    waits = [(r.get("first_point") or ended) - r["pressed"] for r in pressed]
    unseen = sum(not r.get("first_point") for r in pressed)

    print(f"{'owner':<12} {'presses: let in/refused/dropped':>31} {'jobs':>5} {'most at once':>12}  end")
    for number, record in records.items():
        owner = f"name:{name(number)}"
        flag = " (misbehaving)" if number in bad else ""
        wait = f", first point {record['first_point'] - record['pressed']:.1f} s" if record.get("first_point") else ""
        presses = record.get("presses", {})
        counts = "/".join(str(presses.get(outcome, 0)) for outcome in ("let in", "refused", "dropped"))
        print(
            f"{name(number):<12} {counts:>31} {len(entered[owner]):>5} {most[owner]:>12}  "
            f"{record.get('status', '?')}{wait}{flag}"
        )
    for number, record in records.items():
        if "error" in record:
            print(f"{name(number)} failed: {record['error']}")
    uploads_s = [s for r in records.values() for s in r.get("upload_s", [])]
    if uploads_s:
        print(f"uploads: {len(uploads_s)} of 12-megapixel photos, each {min(uploads_s):.1f}-{max(uploads_s):.1f} s")
    if len(bad) > 2:
        print(
            f"invented names: {name(bad[2])}'s device trained under {len(invented) + 1} names of the "
            f"{args.invented + 1} it gave; impostor refused: {pose.get('impostor_refused')}, jobs under "
            f"{name(VICTIM)}: {len(entered[f'name:{name(VICTIM)}'])} (the victim's own, finished: "
            f"{name(VICTIM) in stored})"
        )
    print(f"fair: {fair} ({how})")
    print(
        f"jobs: {sum(map(len, entered.values()))} entered, {len(never_left)} never left; honest students whose job "
        f"did not finish and get stored: {len(unfinished)} {[name(n) for n in unfinished] if unfinished else ''}"
    )
    if not_shown:
        print(f"honest students whose page never showed their job finished: {[name(n) for n in not_shown]}")
    if waits:
        print(
            f"honest wait from Start to the first live point: median {statistics.median(waits):.1f} s, "
            f"p95 {percentile(waits, 0.95):.1f} s, max {max(waits):.1f} s ({len(waits)} students; "
            f"{unseen} never saw one, counted as waiting until the end)"
        )
    print(
        f"health: {len(probe.latencies)} checks, p50 {probe.percentile(0.5):.1f} ms, p95 {probe.percentile(0.95):.1f} "
        f"ms, max {max(probe.latencies, default=float('nan')):.1f} ms, failures {probe.failures}"
    )
    if probe.slow:
        stalls = ", ".join(f"{time.strftime('%H:%M:%S', time.localtime(when))} {ms:.0f} ms" for when, ms in probe.slow)
        print(f"health checks over 1 s (inf: failed after 10 s): {stalls}")
    print(
        f"peak RSS: server {max(server_peak, probe.server_peak_mb):.0f} MB; server and worker together "
        f"{probe.family_peak_mb:.0f} MB ({probe.peak_parts()}); wall {wall:.0f} s"
    )
    summary = {
        "students": args.students,
        "max_jobs_per_owner": max(most.values(), default=0),
        "fair": fair,
        "honest_wait_median_s": round(statistics.median(waits), 1) if waits else None,
        "honest_wait_p95_s": round(percentile(waits, 0.95), 1) if waits else None,
        "honest_wait_max_s": round(max(waits), 1) if waits else None,
        "honest_without_a_point": unseen,
        "jobs_entered": sum(map(len, entered.values())),
        "misbehaving_presses": {
            outcome: sum(records[n].get("presses", {}).get(outcome, 0) for n in bad)
            for outcome in ("let in", "refused", "dropped")
        },
        "jobs_lost": len(never_left) + len(unfinished),
        "inventor_owners": len(invented) + 1,
        "impostor_refused": pose.get("impostor_refused"),
        "victim_jobs": len(entered[f"name:{name(VICTIM)}"]),
        "health_p95_ms": round(probe.percentile(0.95), 1),
        "health_failures": probe.failures,
        "peak_rss_mb": round(probe.family_peak_mb),
        "server_rss_mb": round(max(server_peak, probe.server_peak_mb)),
        "wall_s": round(wall, 1),
        "honest_pages_not_updated": len(not_shown),
        "student_errors": sum("error" in r for r in records.values()),
        "timed_out": timed_out,
    }
    checks = {
        "at most 2 jobs per owner": summary["max_jobs_per_owner"] <= 2,
        "fair": fair,
        "no job lost": summary["jobs_lost"] == 0,
        "health p95 under 500 ms": summary["health_p95_ms"] < 500,
        "peak RSS under 2,000 MB": summary["peak_rss_mb"] < 2000,
        "(also) every honest page showed its job's end": not not_shown,
        "an impostor is refused and cannot stop or train as a classmate": (
            len(bad) < 2 or (pose.get("impostor_refused") and summary["victim_jobs"] == 1 and name(VICTIM) in stored)
        ),
        "invented names: at most 3 owners a device": len(bad) < 3 or summary["inventor_owners"] <= 3,
    }
    print("targets: " + "; ".join(f"{target} {'yes' if met else 'NO'}" for target, met in checks.items()))
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
