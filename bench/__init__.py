"""Benchmarks: run as `python -m bench.NAME`; each prints its figures, the last line JSON."""

import mnist_dash  # noqa: F401  (first, so TensorFlow's start-up logging is quietened as in the app)
