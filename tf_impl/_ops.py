"""Internal tensor helpers for tf_impl; the mirror of torch_impl/_ops.py, name for name.

keras.ops only, so the losses run on every Keras backend. Tensor-content checks run eagerly
on concrete tensors (any backend); inside a traced TensorFlow graph (`model.fit`,
`tf.function`) they become `tf.debugging` assertions with the same message; under a JAX trace
they cannot be evaluated and are skipped (documented).
"""

from __future__ import annotations

from typing import Any, Optional

import keras
import numpy as np
from keras import ops

from imbalance_core import validation as V

_HALF = ("float16", "bfloat16")
EPSILON = 1e-7  # keras.backend.epsilon() default: the clip applied to probabilities.


def dtype_of(x) -> str:
    return keras.backend.standardize_dtype(x.dtype)


def compute_dtype(x) -> str:
    d = dtype_of(x)
    return "float32" if d in _HALF else d


def check_logits(name: str, x: Any):
    x = ops.convert_to_tensor(x)
    V.check_float_dtype(name, dtype_of(x))
    return x


def as_tensor_like(value: Any, like, dtype: Optional[str] = None):
    """Puts a weight/prior (NumPy, sequence or native tensor) in `dtype` (default `like`'s)."""
    if value is None:
        return None
    return ops.convert_to_tensor(value, dtype=dtype or dtype_of(like))


def _static_shape(x):
    return tuple(None if d is None else int(d) for d in x.shape)


def check_same_shape(target_name: str, target, input_name: str, x) -> None:
    ts, xs = _static_shape(target), _static_shape(x)
    # Unknown (traced) dimensions are compared only where both are known.
    if len(ts) != len(xs) or any(a is not None and b is not None and a != b for a, b in zip(ts, xs)):
        raise ValueError(V.shape_message(target_name, ts, input_name, xs))


def _tf_graph_tensor(t) -> bool:
    if keras.backend.backend() != "tensorflow":
        return False
    import tensorflow as tf

    return not tf.executing_eagerly() or tf.is_symbolic_tensor(t)


def _concrete(t) -> Optional[np.ndarray]:
    """The values of `t` when they can be had without tracing errors, else None."""
    try:
        return np.asarray(ops.convert_to_numpy(t))
    except Exception:  # jax tracers, torch dynamo fakes: not checkable here
        return None


def check_in_range(name: str, t, low: float, high: float, what: str = "values") -> None:
    """Tensor-content check; the caller skips it when validate_args=False."""
    if _tf_graph_tensor(t):
        import tensorflow as tf

        msg = V.range_message(name, low, high, what)
        t32 = tf.cast(t, tf.float32)
        # Raised at run time inside model.fit / tf.function (auto control dependencies).
        tf.debugging.assert_greater_equal(t32, tf.constant(low, tf.float32), message=msg)
        tf.debugging.assert_less_equal(t32, tf.constant(high, tf.float32), message=msg)
        return
    values = _concrete(t)
    if values is not None and values.size:
        if values.dtype.kind == "V" or str(values.dtype) == "bfloat16":
            values = values.astype(np.float32)
        lo, hi = float(np.min(values)), float(np.max(values))
        if not (lo >= low and hi <= high):  # written so that NaN fails too
            raise ValueError(f"{V.range_message(name, low, high, what)}; received values in [{lo:g}, {hi:g}].")


def check_vector_length(name: str, w: Optional[np.ndarray], length) -> None:
    if w is not None and length is not None and np.ndim(w) == 1 and np.shape(w)[0] != length:
        raise ValueError(
            f"Invalid `{name}`: received length {np.shape(w)[0]}; expected length {length} "
            f"(one entry per class, the last axis of the logits)."
        )


def probabilities_to_logits(p):
    """from_logits=False, sigmoid family: clip to [eps, 1-eps], then log p - log(1-p)."""
    p = ops.clip(p, EPSILON, 1.0 - EPSILON)
    return ops.log(p) - ops.log1p(-p)


def weights_to_config(w: Optional[np.ndarray]):
    """JSON-friendly form of a validated weight (float, list or None) for get_config."""
    if w is None:
        return None
    w = np.asarray(w, dtype=np.float64)
    return float(w) if w.ndim == 0 else w.tolist()


def mean_last_axis(loss):
    """Keras's sigmoid-family convention: per-sample loss = mean over the label axis.

    A rank-1 loss (logits shaped (B,)) is already per sample.
    """
    return ops.mean(loss, axis=-1) if len(loss.shape) >= 2 else loss
