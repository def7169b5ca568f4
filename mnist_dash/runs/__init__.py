"""The run store: records, history and weights of every run, and the runs a stopped server left unsaved."""

from mnist_dash.runs.records import DamagedRun, DamagedRunError, RunInfo, RunListing
from mnist_dash.runs.store import HOME_ENV, RunNotFound, RunStore, StoreWriteError, default_home, history_csv

__all__ = [
    "HOME_ENV",
    "DamagedRun",
    "DamagedRunError",
    "RunInfo",
    "RunListing",
    "RunNotFound",
    "RunStore",
    "StoreWriteError",
    "default_home",
    "history_csv",
]
