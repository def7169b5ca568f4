"""`python -m mnist_dash ...`: presets, validate, train, runs and the store's import and export, headless.

`presets` and `validate` never import Keras or TensorFlow, so they answer at once.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from mnist_dash.plan import count_params, describe
from mnist_dash.presets import PRESETS, get_preset
from mnist_dash.share import parse_spec_json
from mnist_dash.spec import Problem, SpecError, from_dict
from mnist_dash.text import count

EXIT_INVALID = 2


def _read_spec(path: str):
    """A spec from a JSON file; SpecError with a clear problem for an unreadable one."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise SpecError([Problem(path, "file not found")]) from None
    except OSError as error:
        raise SpecError([Problem(path, f"cannot be read ({error.strerror})")]) from None
    return parse_spec_json(raw, source=path)


def cmd_presets(args) -> int:
    for name, spec in PRESETS.items():
        counts = count_params(spec)
        if args.json:
            row = {
                "name": name,
                "params_total": counts.total,
                "params_trainable": counts.trainable,
                "params_non_trainable": counts.non_trainable,
                "spec": spec.to_dict(),
            }
            print(json.dumps(row))
        else:
            print(f"{name:22} {counts.total:>9,} params ({counts.non_trainable:,} non-trainable)  {describe(spec)}")
    return 0


def cmd_validate(args) -> int:
    try:
        spec = _read_spec(args.file)
    except SpecError as error:
        for problem in error.problems:
            print(f"invalid: {problem}", file=sys.stderr)
        return EXIT_INVALID
    counts = count_params(spec)
    schedule = "" if spec.lr_schedule == "constant" else f" with a {spec.lr_schedule} schedule"
    print(
        f"valid: {describe(spec)}; {counts.total:,} params; {spec.optimizer}{schedule}, batch {spec.batch_size}, "
        f"{count(spec.epochs, 'epoch')}"
    )
    return 0


def _epoch_line(record: dict, epochs: int) -> str:
    return (
        f"Epoch {record['epoch']}/{epochs} - {record['seconds']:.1f}s - loss: {record['loss']:.4f} - "
        f"accuracy: {record['accuracy']:.4f} - val_loss: {record['val_loss']:.4f} - "
        f"val_accuracy: {record['val_accuracy']:.4f}"
    )


def cmd_train(args) -> int:
    from mnist_dash.data import MnistDataError, load_mnist
    from mnist_dash.jobs import JobQueue, JobStatus, TrainingJob
    from mnist_dash.runs import RunStore

    try:
        spec = get_preset(args.preset) if args.preset else _read_spec(args.spec)
        if args.epochs is not None:
            spec = from_dict(spec.to_dict() | {"epochs": args.epochs})
        data = load_mnist(args.data)
    except (SpecError, MnistDataError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INVALID
    except KeyError as error:
        print(f"error: {error.args[0]}", file=sys.stderr)
        return EXIT_INVALID
    print(f"Training {spec.name or 'custom'}: {describe(spec)}, {count_params(spec).total:,} params", flush=True)
    job = TrainingJob(spec, data, store=RunStore(), queue=JobQueue(1)).start()
    printed = 0
    try:
        while not (snap := job.wait(timeout=0.2)).done or printed < len(snap.history):
            for record in snap.history[printed:]:
                print(_epoch_line(record, spec.epochs), flush=True)
            printed = len(snap.history)
    except KeyboardInterrupt:
        job.stop()
        snap = job.wait()
    if snap.status in (JobStatus.FAILED, JobStatus.DIVERGED):
        print(f"error: training {snap.status}: {snap.error}", file=sys.stderr)
        return 1
    print(f"Test score: {snap.test_loss}\nTest accuracy: {snap.test_accuracy}")
    print(f"Saved run {snap.run_id} ({snap.status})" if snap.run_id else f"Not saved: {snap.reason}")
    if args.json:
        summary = {
            "run_id": snap.run_id,
            "status": str(snap.status),
            "params_total": count_params(spec).total,
            "epochs_run": len(snap.history),
            "test_loss": snap.test_loss,
            "test_accuracy": snap.test_accuracy,
            "epoch_seconds": [round(h["seconds"], 4) for h in snap.history],
        }
        print(json.dumps(summary))
    return 0


def _store():
    """The run store, or None with the reason on stderr (a wrong or unreachable MNIST_DASH_DB_URL)."""
    from mnist_dash.runs import DatabaseError, RunStore

    try:
        return RunStore()
    except DatabaseError as error:
        print(f"error: {error}", file=sys.stderr)
        return None


def cmd_runs(args) -> int:
    if (store := _store()) is None:
        return 1
    listing = store.list()
    if not listing.runs:
        print(f"no runs in {store.where}")
    for run in listing.runs:
        accuracy = "-" if run.test_accuracy is None else f"{run.test_accuracy:.4f}"
        trained = count(run.epochs_run, "epoch")
        print(f"{run.run_id}  {run.status:8}  {trained:>10}  test acc {accuracy}  {describe(run.spec)}")
    for damaged in listing.damaged:
        print(f"skipped damaged run {damaged.run_id}: {damaged.reason}", file=sys.stderr)
    for interrupted in listing.interrupted:
        name = interrupted.spec.name if interrupted.spec is not None else "unknown design"
        print(f"interrupted: {name or 'custom'}, started {interrupted.started}: {interrupted.reason}", file=sys.stderr)
    return 0


def cmd_code(args) -> int:
    from mnist_dash.codegen import keras_code

    try:
        spec = get_preset(args.preset) if args.preset else _read_spec(args.spec)
        print(keras_code(spec), end="")
    except SpecError as error:
        for problem in error.problems:
            print(f"error: {problem}", file=sys.stderr)
        return EXIT_INVALID
    return 0


def cmd_store_import(args) -> int:
    from mnist_dash.folder_store import IMPORT_SETTING, import_folder, run_folders

    if not run_folders(args.path):
        print(f"error: no runs found in {args.path} (a folder store has runs/<run_id>/run.json)", file=sys.stderr)
        return EXIT_INVALID
    if (store := _store()) is None:
        return 1
    report = import_folder(store, args.path, progress=lambda line: print(line, flush=True))
    store.set_setting(IMPORT_SETTING, "done")
    print(
        f"{len(report.imported)} imported, {len(report.already)} already in the store, "
        f"{len(report.damaged)} damaged and skipped, into {store.where}"
    )
    return 1 if report.damaged and not report.imported else 0


def cmd_store_export(args) -> int:
    from mnist_dash.folder_store import export_folder

    if (store := _store()) is None:
        return 1
    written = export_folder(store, args.out, progress=lambda line: print(line, flush=True))
    print(f"{len(written)} runs written under {Path(args.out) / 'runs'}")
    return 0


def cmd_lesson_export(args) -> int:
    from mnist_dash.classroom.lesson import export
    from mnist_dash.runs import DamagedRunError, RunNotFound

    if (store := _store()) is None:
        return 1
    run_ids = args.runs or [run.run_id for run in store.list().runs]
    try:
        blob = export(store, run_ids, compact=args.compact)
    except (RunNotFound, DamagedRunError) as error:  # a run id that is not there, or a damaged run: said
        print(f"error: could not export the lesson: {error}", file=sys.stderr)
        return EXIT_INVALID
    Path(args.file).write_bytes(blob)
    print(
        f"{len(run_ids)} runs, the class digits and the challenge written to {args.file} ({len(blob) / 2**20:.1f} MB)"
    )
    return 0


def cmd_lesson_import(args) -> int:
    from mnist_dash.classroom.lesson import LessonError, import_lesson

    if (store := _store()) is None:
        return 1
    try:
        done = import_lesson(store, Path(args.file).read_bytes())
    except (LessonError, OSError) as error:
        print(f"error: {args.file} was not imported: {error}", file=sys.stderr)
        return EXIT_INVALID
    print(f"{done.describe()} Into {store.where}.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mnist_dash", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    presets = commands.add_parser("presets", help="list the preset designs with their parameter counts")
    presets.add_argument("--json", action="store_true", help="one JSON object per line")
    presets.set_defaults(handler=cmd_presets)
    validate = commands.add_parser("validate", help="check a spec JSON file")
    validate.add_argument("file")
    validate.set_defaults(handler=cmd_validate)
    train = commands.add_parser("train", help="train a preset or a spec file and save the run")
    source = train.add_mutually_exclusive_group(required=True)
    source.add_argument("--preset", choices=list(PRESETS))
    source.add_argument("--spec", metavar="FILE.json")
    train.add_argument("--epochs", type=int, help="override the spec's epochs")
    train.add_argument(
        "--data", metavar="PATH", help="a Keras-layout mnist.npz (default: $MNIST_DASH_DATA, then Keras)"
    )
    train.add_argument("--json", action="store_true", help="end with one JSON line of results")
    train.set_defaults(handler=cmd_train)
    runs = commands.add_parser("runs", help="list stored runs ($MNIST_DASH_DB_URL, else $MNIST_DASH_HOME/runs.db)")
    runs.set_defaults(handler=cmd_runs)
    code = commands.add_parser("code", help="print a design as a plain Keras script (what the app trains)")
    design = code.add_mutually_exclusive_group(required=True)
    design.add_argument("--preset", choices=list(PRESETS))
    design.add_argument("--spec", metavar="FILE.json")
    code.set_defaults(handler=cmd_code)
    store = commands.add_parser("store", help="move runs between the database and folders").add_subparsers(
        dest="store_command", required=True
    )
    into = store.add_parser("import", help="bring the runs of a folder store (the layout before the database) in")
    into.add_argument("path", help="the folder store: a folder holding runs/<run_id>/ (the old MNIST_DASH_HOME)")
    into.set_defaults(handler=cmd_store_import)
    out = store.add_parser("export", help="write every run out as files, for a backup (re-imported by import)")
    out.add_argument("--out", default="mnist_dash-export", help="the folder to write runs/<run_id>/ under")
    out.set_defaults(handler=cmd_store_export)
    lesson = commands.add_parser("lesson", help="a lesson as one file: runs, class digits, challenge").add_subparsers(
        dest="lesson_command", required=True
    )
    write = lesson.add_parser("export", help="write runs (default: every run), the class digits and the challenge")
    write.add_argument("file", help="the lesson file to write (a .zip)")
    write.add_argument("--runs", nargs="+", metavar="RUN_ID", help="only these runs")
    write.add_argument("--compact", action="store_true", help="final weights as float16: half the size")
    write.set_defaults(handler=cmd_lesson_export)
    bring = lesson.add_parser("import", help="bring a lesson file's runs, class digits and challenge in")
    bring.add_argument("file")
    bring.set_defaults(handler=cmd_lesson_import)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)
