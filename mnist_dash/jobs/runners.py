"""Which runner trains a job, and the host's setting that chooses it for the app. Never imports Ray.

- "thread": on the job's own thread in this process (the CLI, tests);
- "process": in a worker process beside the server (the app on one machine: `workers`);
- "ray": on a Ray cluster (`ray_runner`), when the host sets `MNIST_DASH_RAY_ADDRESS`, as an
  environment variable or a root-level secret (Streamlit exports those as environment
  variables when the server starts, the way `MNIST_DASH_DB_URL` is read).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

RUNNERS = ("thread", "process", "ray")
RAY_ADDRESS_ENV = "MNIST_DASH_RAY_ADDRESS"


def ray_address(environ: Mapping[str, str] | None = None) -> str | None:
    """The Ray cluster the host named ("auto" for the one this server is a node of, "host:6379", "ray://..."),
    or None: no cluster, and Ray is never imported."""
    environ = os.environ if environ is None else environ
    return environ.get(RAY_ADDRESS_ENV, "").strip() or None


def app_runner(environ: Mapping[str, str] | None = None) -> str:
    """The runner for the app's jobs: the Ray cluster when one is named, else a worker process."""
    return "ray" if ray_address(environ) is not None else "process"
