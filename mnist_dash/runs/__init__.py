"""The run store: every run's record, history and weights in a database, and the runs a stopped server lost."""

from mnist_dash.runs.blobs import history_csv
from mnist_dash.runs.database import HOME_ENV, URL_ENV, DatabaseError, default_home
from mnist_dash.runs.reading import RunNotFound
from mnist_dash.runs.records import DamagedRun, DamagedRunError, RunInfo, RunListing
from mnist_dash.runs.store import RunStore, StoreWriteError

__all__ = [
    "HOME_ENV",
    "URL_ENV",
    "DamagedRun",
    "DamagedRunError",
    "DatabaseError",
    "RunInfo",
    "RunListing",
    "RunNotFound",
    "RunStore",
    "StoreWriteError",
    "default_home",
    "history_csv",
]
