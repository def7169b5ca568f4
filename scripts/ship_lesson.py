"""Make the lesson shipped with the app (mnist_dash/lessons/notebook.zip): the notebook's three models, trained once.

Each of `presets.NOTEBOOK_PRESETS` trains for its 20 epochs on MNIST (MNIST_DASH_DATA, or --data) in
this process, then goes into a lesson file without an owner (the class board ranks students; these
are the class's starting point), compact (final weights as float16), with no class digits and no
challenge. A new deployment's empty store imports it once (`classroom.lesson.ship`). Run it again
after a change to what a run stores:

    MNIST_DASH_DATA=../shared/data/mnist.npz python scripts/ship_lesson.py
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mnist_dash.classroom.lesson import SHIPPED, export
from mnist_dash.data import load_mnist
from mnist_dash.jobs import JobQueue, TrainingJob
from mnist_dash.presets import NOTEBOOK_PRESETS, PRESETS
from mnist_dash.runs import RunStore


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="a Keras-layout mnist.npz (default: $MNIST_DASH_DATA, then Keras)")
    parser.add_argument("--out", type=Path, default=SHIPPED)
    args = parser.parse_args()
    data = load_mnist(args.data)
    with tempfile.TemporaryDirectory() as folder:
        trained, shipped = RunStore(Path(folder) / "trained"), RunStore(Path(folder) / "shipped")
        ids = []
        for name in NOTEBOOK_PRESETS:
            began = time.perf_counter()
            snap = TrainingJob(PRESETS[name], data, store=trained, queue=JobQueue(1)).start().wait()
            if snap.run_id is None or snap.test_accuracy is None:
                print(f"{name} did not finish: {snap.status_line} {snap.error}", file=sys.stderr)
                return 1
            record, blobs = trained.raw(snap.run_id)
            record = {key: value for key, value in record.items() if key not in ("owner", "owner_name")}
            shipped.insert(snap.run_id, record, blobs)
            ids.append(snap.run_id)
            print(f"{name}: test accuracy {snap.test_accuracy:.2%} in {time.perf_counter() - began:.0f} s", flush=True)
        blob = export(shipped, ids, digits=False, challenge=False, compact=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(blob)
    print(f"{args.out}: {len(blob) / 2**20:.2f} MB, {len(ids)} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
