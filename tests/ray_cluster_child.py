"""A two-node Ray cluster on this machine for tests/test_job_contract.py, whose training node is lost mid-job.

    python -m tests.ray_cluster_child   # prints one JSON line: the job's status and error, and the nodes

The head node has no CPUs, so the job trains on the other node; once it has trained a little, that
node is removed (its raylet and workers killed, as when a machine is switched off). The app's own
path connects: MNIST_DASH_RAY_ADDRESS names the cluster and the runner's `connect` calls `ray.init`.
In a process of its own because a process joins one Ray cluster, and the suite's is a local instance.
"""

from __future__ import annotations

import json
import os
import secrets
import time

os.environ.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=secrets.token_hex(16))  # read when Ray is imported

import ray
from ray.cluster_utils import Cluster

from mnist_dash.data import validate_arrays
from mnist_dash.jobs import JobQueue, TrainingJob
from mnist_dash.jobs.runners import RAY_ADDRESS_ENV, app_runner
from mnist_dash.spec import LayerSpec, ModelSpec
from tests.conftest import make_digits
from tests.patience import patience

if __name__ == "__main__":
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False})
    try:
        node = cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        os.environ[RAY_ADDRESS_ENV] = cluster.address
        data = validate_arrays(*make_digits(600, seed=1), *make_digits(100, seed=2), source="synthetic")
        spec = ModelSpec(layers=(LayerSpec(16),), batch_size=16, epochs=200, name="its node is lost")
        runner = app_runner()
        queue = JobQueue(runner.slots)
        job = TrainingJob(spec, data, queue=queue, runner=runner).start()
        while not job.snapshot().batch_history and not job.done:
            time.sleep(0.01)
        slots = runner.slots()
        cluster.remove_node(node)
        snap = job.wait(patience(60))
        print(
            json.dumps(
                {
                    "runner": job.runner.name,
                    "slots": slots,
                    "status": snap.status,
                    "error": snap.error,
                    "running": queue.running,
                }
            )
        )
    finally:
        ray.shutdown()  # the driver first: the cluster refuses to remove the node it is attached to
        cluster.shutdown()
