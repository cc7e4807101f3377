"""Shared pytest set-up for tests/ (the parity matrix included: tests/test_parity.py).

`make test` runs pytest three times: first with KERAS_BACKEND=tensorflow (every test), then
with KERAS_BACKEND=torch and with KERAS_BACKEND=jax, each with `-m keras` (only tests marked
`keras`, i.e. the Keras side again on its torch and jax backends). Tests that need
TensorFlow itself (tf.data, tf.nn anchors) use `needs_tf_backend`. The Makefile sets
JAX_PLATFORMS=cpu (CI has no GPU).

Under KERAS_BACKEND=jax the process runs with jax_enable_x64, so that float64 in a test means
float64 as on the other backends (CLASSBALANCE_JAX_X64=0 runs it as users run jax, without
x64). The parity adapter sets x64 per cell (float64 cells with it, the others without), and
tests of the float32 path that jax takes without x64 force that path themselves.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402

KERAS_BACKEND = os.environ["KERAS_BACKEND"]

if KERAS_BACKEND == "jax" and os.environ.get("CLASSBALANCE_JAX_X64", "1") != "0":
    import jax

    jax.config.update("jax_enable_x64", True)

# The worker scripts that tests start in processes of their own set their process up when
# imported (KERAS_BACKEND, TensorFlow's logical devices, CUDA_VISIBLE_DEVICES): never import them
# into a pytest process, as `--doctest-modules tests` would.
collect_ignore_glob = ["tests/_*_worker.py"]

needs_tf_backend = pytest.mark.skipif(
    KERAS_BACKEND != "tensorflow",
    reason=f"needs Keras's tensorflow backend (running under KERAS_BACKEND={KERAS_BACKEND})",
)


def pytest_collection_modifyitems(config, items):
    """Doctests of tf_impl run on every Keras backend: they are marked `keras`, so the second
    and third pytest processes (`-m keras`) run them again under torch and jax."""
    for item in items:
        if isinstance(item, pytest.DoctestItem) and item.nodeid.startswith("tf_impl/"):
            item.add_marker(pytest.mark.keras)
