"""Does a page cost the same with 10,000 stored runs as with 100? And how big is a stored run?

For each database (SQLite, the default; PostgreSQL when its server binaries are here, on a
throw-away cluster on 127.0.0.1): a store filled with 100, then 1,000, then 10,000 runs of a
class of 30 (copies of a real run trained here for one epoch, with new ids, owners, names,
dates and accuracies), and the server-side time of one redraw of Compare, Train, Weights and
Draw (Streamlit's AppTest running the page script again, as a widget change or a fragment's
beat does; the median of 7 after a first run that fills the caches), for a viewer who owns 5
of the runs. Then the size of a stored run of each of the notebook's presets, and of a
small design, at the notebook's 20 epochs (a real 1-epoch run of each, its history and
snapshots repeated to 20 epochs), and how many fit in a free hosted database of 0.5 GB.

Usage: MNIST_DASH_DATA=../shared/data/mnist.npz python -m bench.store_scale [--sizes 100,1000,10000]
The last line is JSON for the default database: {"redraw_ms": {"100": {"compare": ..., ...}, ...}}
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import insert

from bench.streamlit_server import ROOT
from mnist_dash.data import load_mnist
from mnist_dash.jobs import JobQueue, TrainingJob
from mnist_dash.owners import named
from mnist_dash.presets import NOTEBOOK_PRESETS, PRESETS
from mnist_dash.runs import RunStore, blobs
from mnist_dash.runs.database import revision, run_data, runs, writing
from mnist_dash.spec import LayerSpec, ModelSpec
from mnist_dash.weights import WeightHistory

PAGES = ("compare", "train", "weights", "draw")
VIEWER = "teacher"  # the viewer's name (the link's me=), owner of 5 runs
FILLER = ModelSpec(layers=(LayerSpec(32),), batch_size=256, epochs=1, name="filler")
HOSTED_BYTES = 0.5 * 1024**3


def train_one(spec: ModelSpec, data, home: str) -> tuple[dict, dict]:
    """A real run of `spec` stored in a scratch store: its record and data as the database keeps them."""
    store = RunStore(home)
    snap = TrainingJob(spec, data, store=store, queue=JobQueue(1)).start().wait()
    assert snap.run_id is not None, snap.error or snap.reason
    return store.raw(snap.run_id)


def fill(url: str, record: dict, data: dict, count: int, start: int) -> None:
    """Add copies of one run, numbered from `start`, to the store at `url` (in chunks, one revision bump)."""
    store = RunStore(url)
    rng = random.Random(start)
    term = datetime(2026, 9, 1, tzinfo=UTC)
    for first in range(start, start + count, 1000):
        rows, datas = [], []
        for number in range(first, min(start + count, first + 1000)):
            owner = named(VIEWER) if number < 5 else named(f"student {number % 30}")
            created = (term + timedelta(minutes=10 * number)).isoformat(timespec="seconds")
            run_id = f"{created[:10].replace('-', '')}-{number:06d}-copy-{number:08x}"
            spec = FILLER.replace(name=f"design {number % 97}", seed=number)
            accuracy = round(rng.uniform(0.9, 0.99), 4)
            copy = record | {
                "run_id": run_id,
                "created": created,
                "spec": spec.to_dict(),
                "test_accuracy": accuracy,
                "owner": owner.key,
                "owner_name": owner.name,
            }
            rows.append(
                {
                    "run_id": run_id,
                    "created": created,
                    "status": "finished",
                    "name": spec.name,
                    "owner": owner.key,
                    "owner_name": owner.name,
                    "design_key": spec.design_key(),
                    "data_fingerprint": record["data_fingerprint"],
                    "params_total": record["params_total"],
                    "epochs_run": record["epochs_run"],
                    "test_accuracy": accuracy,
                    "record": json.dumps(copy),
                }
            )
            datas.append({"run_id": run_id, **data})
        with writing(store.engine) as connection:
            connection.execute(insert(runs), rows)
            connection.execute(insert(run_data), datas)
            connection.execute(revision.update().values(value=revision.c.value + 1))
    store.engine.dispose()


def redraw_ms(page: str) -> float:
    """Median milliseconds of a redraw of `page` (AppTest, the viewer's link), after a first run."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_resource.clear()  # a fresh store object (and caches) for each database and size
    st.cache_data.clear()
    app = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
    app.query_params["me"] = VIEWER
    app.run()
    app.switch_page(f"app_pages/{page}.py").run()
    assert not app.exception, [e.value for e in app.exception]
    times = []
    for _ in range(7):
        started = time.perf_counter()
        app.run()
        times.append((time.perf_counter() - started) * 1000)
    assert not app.exception, [e.value for e in app.exception]
    return statistics.median(times)


def measure(url: str, sizes: list[int], record: dict, data: dict, label: str) -> dict:
    results, stored = {}, 0
    os.environ["MNIST_DASH_DB_URL"] = url
    for size in sizes:
        fill(url, record, data, size - stored, stored)
        stored = size
        results[str(size)] = {page: round(redraw_ms(page), 1) for page in PAGES}
        figures = ", ".join(f"{page} {ms:.1f} ms" for page, ms in results[str(size)].items())
        print(f"{label}, {size:,} runs: {figures}", flush=True)
    smallest = results[str(sizes[0])]
    ratios = {page: round(results[str(sizes[-1])][page] / smallest[page], 2) for page in PAGES}
    print(f"{label}: {sizes[-1]:,} runs against {sizes[0]:,}: " + ", ".join(f"{p} {r}x" for p, r in ratios.items()))
    return results


def grown_units(kernels, epochs: int, seed: int = 0):
    """Unit images for `epochs` snapshots from a one-epoch run's two: each further epoch moves every
    weight by a random step as large as the first epoch's own (more than later epochs move:
    sizes err on the large side, since the steps between epochs are what is stored)."""
    if kernels is None:
        return None
    rng = np.random.default_rng(seed)
    step = np.abs(kernels[1] - kernels[0]).astype(np.float32)
    grown = [kernels[0], kernels[1]]
    for _ in range(epochs - 2):
        grown.append(grown[-1] + step * rng.standard_normal(step.shape).astype(np.float32))
    return np.stack(grown)


def run_sizes(data, home: str) -> None:
    """Bytes of a stored run of each notebook preset at 20 epochs, and how many fit in 0.5 GB."""
    small = ModelSpec(layers=(LayerSpec(120),), name="784-120-10")  # a design under 100,000 parameters
    for spec in [PRESETS[name] for name in NOTEBOOK_PRESETS] + [small]:
        name = spec.name
        record, parts = train_one(spec.replace(epochs=1), data, home)
        history = blobs.unpack_history(parts["history"], name)
        epochs = [dict(history["epochs"][0], epoch=n) for n in range(1, 21)]
        batches = [dict(point, epoch=n) for n in range(1, 21) for point in history["batches"]]
        snapshots = blobs.unpack_snapshots(parts["snapshots"], name)
        grown = WeightHistory(
            snapshots.shapes,
            snapshots.indices,
            {key: [values[-1] + 0.001 * n for n in range(21)] for key, values in snapshots.samples.items()},
            {key: [values[-1]] * 21 for key, values in snapshots.stats.items()},
            snapshots.unit_ids,
            grown_units(snapshots.unit_kernels, 21),
        )
        sizes = {
            "record": len(json.dumps(record)),
            "history": len(blobs.pack_history(epochs, batches)),
            "snapshots": len(blobs.pack_snapshots(grown)),
            "weights": len(parts["weights"]),
        }
        total = sum(sizes.values())
        parts_text = ", ".join(f"{key} {value / 1024:,.0f} kB" for key, value in sizes.items())
        print(
            f"{name} ({record['params_total']:,} parameters), 20 epochs: {total / 1024**2:.2f} MB a run "
            f"({parts_text}); {int(HOSTED_BYTES // total):,} runs in 0.5 GB",
            flush=True,
        )


@contextlib.contextmanager
def postgresql():
    """A throw-away PostgreSQL on 127.0.0.1 (tests/postgres_server.py), or None when it cannot be had."""
    from sqlalchemy import create_engine, text

    from tests.postgres_server import NoPostgres, postgres_server

    try:
        with postgres_server() as admin:
            engine = create_engine(admin, isolation_level="AUTOCOMMIT")
            with engine.connect() as connection:
                connection.execute(text("CREATE DATABASE store_scale"))
            engine.dispose()
            yield admin.rsplit("/", 1)[0] + "/store_scale"
    except NoPostgres as error:
        print(f"PostgreSQL left out: {error}")
        yield None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--no-postgresql", action="store_true", help="measure the default database only")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    data = load_mnist()
    with tempfile.TemporaryDirectory() as scratch:
        record, parts = train_one(FILLER, data, scratch)
        print(f"filler run: {sum(len(v) for v in parts.values()) / 1024:.0f} kB of data", flush=True)
        default = measure(f"sqlite:///{scratch}/scale.db", sizes, record, parts, "SQLite")
        if not args.no_postgresql:
            with postgresql() as url:
                if url is not None:
                    measure(url, sizes, record, parts, "PostgreSQL")
        run_sizes(data, scratch)
    print(json.dumps({"redraw_ms": default}))


if __name__ == "__main__":
    main()
