"""classbalance for Keras 3 (losses and metrics on every Keras backend via keras.ops) and
tf.data (balanced pipelines). The mirror of torch_impl: same names, arguments and defaults.

Submodules load on first access, so `import tf_impl` does not import TensorFlow:
`tf_impl.losses`, `tf_impl.metrics`, `tf_impl.class_weights`, `tf_impl.data` (needs tensorflow).
"""

import importlib
import types

from imbalance_core._version import __version__ as __version__

_SUBMODULES = ("losses", "metrics", "class_weights", "data", "decisions")


def __getattr__(name: str) -> types.ModuleType:
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
