"""The ways to train a job, one module each, and the one place that picks the app's from the settings.

Every runner keeps the contract of `mnist_dash.jobs.contract` (`Runner`) and is handed to
a `TrainingJob` as an object, as an executor is in `concurrent.futures`:
- `thread.ThreadRunner`: on the job's own thread in this process (the CLI, tests);
- `process.ProcessRunner`: in a worker process beside the server (the app on one machine);
- `ray.RayRunner`: on a Ray cluster, when the host sets `MNIST_DASH_RAY_ADDRESS` as an
  environment variable or a root-level secret (Streamlit exports those as environment
  variables when the server starts, the way `MNIST_DASH_DB_URL` is read).

A fourth runner is one module here and one line in `BY_SETTING`. Ray is imported only
when its setting is present.
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Mapping

from mnist_dash.jobs.contract import Runner

RAY_ADDRESS_ENV = "MNIST_DASH_RAY_ADDRESS"

# The app's runner: the first whose setting the host gave (its module, its class), else the default.
BY_SETTING = ((RAY_ADDRESS_ENV, "ray", "RayRunner"),)
DEFAULT = ("process", "ProcessRunner")

_chosen: dict[tuple, Runner] = {}
_lock = threading.Lock()


def ray_address(environ: Mapping[str, str] | None = None) -> str | None:
    """The Ray cluster the host named ("auto" for the one this server is a node of, "host:6379", "ray://..."),
    or None: no cluster, and Ray is never imported."""
    environ = os.environ if environ is None else environ
    return environ.get(RAY_ADDRESS_ENV, "").strip() or None


def app_runner(environ: Mapping[str, str] | None = None) -> Runner:
    """The runner for the app's jobs: one object per value of its settings, for the whole process (it holds
    the workers or the cluster connection). Each runner class reads its own `SETTINGS` (`from_settings`),
    and raises ValueError for a bad one."""
    environ = os.environ if environ is None else environ
    module, name = next(
        ((module, name) for setting, module, name in BY_SETTING if environ.get(setting, "").strip()), DEFAULT
    )
    kind = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    key = (kind, tuple(environ.get(setting, "").strip() for setting in kind.SETTINGS))
    with _lock:
        if key not in _chosen:
            _chosen[key] = kind.from_settings(environ)
        return _chosen[key]
