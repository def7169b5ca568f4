"""mnist_dash: learn how MLPs learn MNIST.

The engine, which never imports Streamlit, and `ui/`, the only Streamlit-aware helpers the
pages use (DESIGN.md, "Layers of the code"; a ruff rule holds the line).
"""

import os

# TensorFlow prints C++ info lines on import; keep warnings and errors only.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from mnist_dash.threads import size_thread_pools  # after the log level, before TensorFlow loads

size_thread_pools()

__version__ = "0.1.0"
