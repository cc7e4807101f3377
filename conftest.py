"""Shared pytest set-up for tests/ and parity_tests/.

`make test` runs pytest twice: first with KERAS_BACKEND=tensorflow (every test), then with
KERAS_BACKEND=torch and `-m keras` (only tests marked `keras`, i.e. the Keras side again on
its torch backend). Tests that need TensorFlow itself (tf.data, tf.nn anchors) use
`needs_tf_backend`.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402

KERAS_BACKEND = os.environ["KERAS_BACKEND"]

needs_tf_backend = pytest.mark.skipif(
    KERAS_BACKEND != "tensorflow",
    reason=f"needs Keras's tensorflow backend (running under KERAS_BACKEND={KERAS_BACKEND})",
)
