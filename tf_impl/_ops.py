"""Internal tensor helpers for tf_impl; the mirror of torch_impl/_ops.py.

Shared names do the same job on both sides (check_logits, check_in_range, softmax_targets,
cross_entropy, focal_factor, ...). Keras-only, and why: match_rank (Keras's trailing-1 shape
rule); replicas_and_sum and scale_for_normalized_mean (the normalized mean through Keras's own
reduction and tf.distribute; torch reduces in `reduce`); check_class_indices and
check_whole_numbers (graph and jax-trace forms of checks torch runs eagerly through
imbalance_core); clip, logaddexp, mean_last_axis, dtype_of (exact dtypes on Keras's torch
backend); weights_to_config (get_config); torch_deferred and defer (Keras's torch backend on
CUDA hands its content checks to imbalance_core.deferred, the queue torch_impl uses too).

keras.ops only, so the losses run on every Keras backend. Tensor-content checks run eagerly
on concrete tensors (any backend); inside a traced TensorFlow graph (`model.fit`,
`tf.function`) they become `tf.debugging` assertions with the same message; inside a jax trace
they run through `jax.debug.callback` (see `_check_content`).
"""

from __future__ import annotations

import warnings
from typing import Any

import keras
import numpy as np
from keras import ops

from imbalance_core import _memo, deferred, validation

_HALF = ("float16", "bfloat16")
EPSILON = 1e-7  # keras.backend.epsilon() default: the clip applied to probabilities.


def dtype_of(x) -> str:
    return keras.backend.standardize_dtype(x.dtype)


def compute_dtype(x) -> str:
    d = dtype_of(x)
    return "float32" if d in _HALF else d


def check_logits(name: str, x: Any):
    """`x` as a tensor; a TypeError unless floating. The dtype reported is the one passed (jax
    without x64 would convert an int64 array to int32 first)."""
    passed = getattr(x, "dtype", None)
    x = ops.convert_to_tensor(x)
    validation.check_float_dtype(name, keras.backend.standardize_dtype(x.dtype if passed is None else passed))
    return x


def as_tensor_like(value: Any, like, dtype: str | None = None):
    """Puts a weight/prior (NumPy, sequence or native tensor) in `dtype` (default `like`'s).
    Run eagerly on TensorFlow, a NumPy array becomes a `tf.constant` (a quarter of the cost of
    `keras.ops.convert_to_tensor`), made once for a checked functional argument
    (`imbalance_core._memo.framework_copy`)."""
    if value is None:
        return None
    dtype = dtype or dtype_of(like)
    if isinstance(value, np.ndarray) and keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        if tf.executing_eagerly():
            return _memo.framework_copy(value, ("tf", dtype), lambda: tf.constant(value, dtype=dtype))
    return ops.convert_to_tensor(value, dtype=dtype)


def log_prior_shift(priors: Any, tau: float, like):
    """tau log(priors), the logit adjustment, in `like`'s dtype, computed in float64 NumPy."""
    return as_tensor_like(tau * np.log(np.asarray(priors, dtype=np.float64)), like)


def take_classes(vector, indices):
    """`vector[indices]` for a per-class vector and class indices already in range (a 0-d value
    is the same for every class): the `GatherV2` op on TensorFlow (`keras.ops.take` also wraps
    negative indices, three more ops per call in eager mode, and `tf.gather`'s wrapper costs
    about 20 us per eager call), `keras.ops.take` on the other backends."""
    if len(vector.shape) == 0:
        return ops.broadcast_to(vector, ops.shape(indices))
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.raw_ops.GatherV2(params=vector, indices=indices, axis=0)
    return ops.take(vector, indices)


def take_target_class(values, indices):
    """values[..., indices] along the class axis (last): one value per sample."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.gather(values, indices, batch_dims=len(indices.shape))
    return ops.squeeze(ops.take_along_axis(values, ops.expand_dims(indices, -1), axis=-1), -1)


def target_log_probs(target, logp, *, ignore_index, validate_args, target_name: str = "y_true",
                     input_name: str = "y_pred"):
    """For class-index targets: (log p_t, valid or None when every sample counts, the safe
    indices); None for probability rows (the logits' shape)."""
    kind, target = _target_kind(target, logp, target_name, input_name)
    if kind == "probabilities":
        return None
    _, keep, safe = _class_indices(target, logp.shape[-1], ignore_index, validate_args, target_name, need_keep=False)
    return take_target_class(logp, safe), None if keep is None else ops.cast(keep, dtype_of(logp)), safe


def sparse_cross_entropy(indices, logits):
    """-log softmax(logits)[indices] by the backend's fused sparse softmax cross-entropy: on
    TensorFlow its op itself for (N, C) logits (`tf.nn`'s wrapper reshapes and checks shapes,
    and Keras's adds a conversion, per call in eager mode), `tf.nn`'s function for other ranks;
    `keras.ops` elsewhere."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        if len(logits.shape) == 2 and indices.dtype in (tf.int32, tf.int64):  # the kernel's own layout
            return tf.raw_ops.SparseSoftmaxCrossEntropyWithLogits(features=logits, labels=indices)[0]
        return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=indices, logits=logits)
    return ops.sparse_categorical_crossentropy(indices, logits, from_logits=True)


def _static_shape(x):
    return tuple(None if d is None else int(d) for d in x.shape)


def check_same_shape(target_name: str, target, input_name: str, x) -> None:
    ts, xs = _static_shape(target), _static_shape(x)
    # Unknown (traced) dimensions are compared only where both are known.
    if len(ts) != len(xs) or any(a is not None and b is not None and a != b for a, b in zip(ts, xs)):
        raise ValueError(validation.shape_message(target_name, ts, input_name, xs))


def _tf_graph_tensor(t) -> bool:
    if keras.backend.backend() != "tensorflow":
        return False
    import tensorflow as tf

    return not tf.executing_eagerly() or tf.is_symbolic_tensor(t)


def _concrete(t) -> np.ndarray | None:
    """The values of `t` when they can be had without tracing errors, else None. A TensorFlow
    eager tensor's through `memoryview`, TensorFlow's read-only view of a CPU tensor (numpy()
    copies: 95 us of a 215 us check of a million targets)."""
    if keras.backend.backend() == "tensorflow" and not _tf_graph_tensor(t):
        try:
            return np.asarray(memoryview(t))
        except (TypeError, ValueError, NotImplementedError):  # not a buffer (a list), or a dtype it refuses
            pass
    try:
        return np.asarray(ops.convert_to_numpy(t))
    except Exception:  # jax tracers, torch dynamo fakes: not checkable here
        return None


def _jax_tracer(t) -> bool:
    if keras.backend.backend() != "jax":
        return False
    import jax

    return isinstance(t, jax.core.Tracer)


def compiled(t) -> bool:
    """Whether `t` is being traced into a compiled graph (tf.function or XLA, jax.jit,
    torch.compile), where element-wise ops fuse and the count of transcendental functions, not
    of ops, sets the cost; in eager mode each op is a dispatch and a pass over memory."""
    if _tf_graph_tensor(t) or _jax_tracer(t):
        return True
    if keras.backend.backend() != "torch":
        return False
    import torch

    return bool(torch.compiler.is_compiling())


def sigmoid_terms(x, *, need_sigmoids: bool) -> tuple[Any, Any, tuple[Any, Any] | None]:
    """(-log sigma(x), -log sigma(-x), (sigma(-x), sigma(x)) or None), each accurate to its
    last bits at any |x| (no 1 - p cancellation). Compiled: one exp serves all four, with r =
    relu(x), e = exp(x - 2r) = exp(-|x|), softplus(x) = r + log1p(e), softplus(-x) = (r - x) +
    log1p(e), sigma(|x|) = 1 / (1 + e), sigma(-|x|) = e / (1 + e); at x = 0 every term takes
    the x < 0 branch, relu's derivative there (0) included, so each gradient is the derivative
    (abs would give e a zero slope at 0). Eager: two softplus and two sigmoid ops, fewer
    passes than these."""
    if compiled(x):
        r = ops.relu(x)
        e = ops.exp(x - 2.0 * r)
        log1p_e = ops.log1p(e)
        sigmoids = None
        if need_sigmoids:
            large = 1.0 / (1.0 + e)
            small = e * large
            positive = x > 0
            sigmoids = (ops.where(positive, small, large), ops.where(positive, large, small))
        return (r - x) + log1p_e, r + log1p_e, sigmoids
    neg_x = -x
    return (ops.softplus(neg_x), ops.softplus(x),
            (ops.sigmoid(neg_x), ops.sigmoid(x)) if need_sigmoids else None)


_CHECKS_OFF_WARNED: set = set()


def _warn_checks_off(where: str) -> None:
    """Once per process and place: content checks cannot run in this kind of compiled graph."""
    if where in _CHECKS_OFF_WARNED:
        return
    _CHECKS_OFF_WARNED.add(where)
    warnings.warn(
        f"classbalance: tensor-content checks (label values, probability ranges) cannot run inside "
        f"{where} and are off there; shapes and dtypes are still checked. Check the data eagerly "
        f"(or compile with jit_compile=False) to have them.", RuntimeWarning, stacklevel=4)


def _in_xla_graph() -> bool:
    try:  # TensorFlow's own test of an XLA context (tf.function(jit_compile=True))
        import tensorflow as tf
        from tensorflow.python.ops import control_flow_util

        return control_flow_util.GraphOrParentsInXlaContext(tf.compat.v1.get_default_graph())
    except Exception:  # a TensorFlow without this helper: assume no XLA
        return False


def torch_deferred(t) -> bool:
    """Keras's torch backend, eager, with `t` on a device where content checks are deferred
    (CUDA): the check runs there as in torch_impl, through imbalance_core.deferred, without a
    host sync."""
    if keras.backend.backend() != "torch":
        return False
    import torch

    device = getattr(getattr(t, "device", None), "type", None)
    return device in deferred.DEFERRED_DEVICES and not torch.compiler.is_compiling()


def defer(bad, describe, message: str) -> None:
    deferred.device_check(bad, describe, message)


def _check_content(t, check, tf_assert, deferred=None) -> bool:
    """Runs `check(values)` (NumPy in, imbalance_core's ValueError out) wherever the values exist:
    eagerly on concrete tensors (every backend); inside a traced TensorFlow graph (`model.fit`,
    `tf.function`) as `tf_assert(t)`, tf.debugging assertions with the same message; inside a
    jax trace (`model.fit` on jax, `jax.jit`) through `jax.debug.callback` at run time, where jax
    re-raises it as a JaxRuntimeError that carries the same message. Where no check can run,
    XLA-compiled TensorFlow graphs (XLA drops assertions; Keras's default `jit_compile` on a
    GPU) and torch.compile's fake tensors (Keras's torch backend with jit_compile=True), a
    one-time RuntimeWarning says that they are off. `deferred` = (flag, message): on Keras's
    torch backend with CUDA tensors, `flag(t)` (keras ops: any value invalid) is checked
    without a host sync, as in torch_impl, and a failure raises at a later call; returns
    whether the check was deferred."""
    if deferred is not None and torch_deferred(t):
        flag, message = deferred
        defer(flag(t), lambda: check(_numpy_values(ops.convert_to_numpy(t))), message)
        return True
    if _tf_graph_tensor(t):
        if _in_xla_graph():
            _warn_checks_off("XLA-compiled TensorFlow graphs (jit_compile=True; Keras's default on a GPU)")
        tf_assert(t)
        return False
    if _jax_tracer(t):
        import jax

        jax.debug.callback(lambda v: check(_numpy_values(v)), t)
        return False
    if getattr(getattr(t, "device", None), "type", None) == "meta":
        return False  # Keras's torch backend infers output shapes on meta tensors; the real call follows
    values = _concrete(t)
    if values is not None:
        check(_numpy_values(values))
    else:
        _warn_checks_off("torch.compile graphs (Keras's torch backend with jit_compile=True)")
    return False


def _numpy_values(values) -> np.ndarray:
    values = np.asarray(values)
    if values.dtype.kind == "V" or str(values.dtype) == "bfloat16":  # NumPy has no bfloat16 math
        values = values.astype(np.float32)
    return values


def check_in_range(name: str, t, low: float, high: float, what: str = "values") -> None:
    """Tensor-content check; the caller skips it when validate_args=False."""

    def tf_assert(t):
        import tensorflow as tf

        msg = validation.range_message(name, low, high, what)
        t32 = tf.cast(t, tf.float32)
        # Raised at run time inside model.fit / tf.function (auto control dependencies).
        tf.debugging.assert_greater_equal(t32, tf.constant(low, tf.float32), message=msg)
        tf.debugging.assert_less_equal(t32, tf.constant(high, tf.float32), message=msg)

    def flag(t):
        t32 = ops.cast(t, "float32")
        return ops.logical_not(ops.logical_and(ops.min(t32) >= low, ops.max(t32) <= high))  # NaN fails

    _check_content(t, lambda v: validation.check_values_in_range(name, v, low, high, what), tf_assert,
                   deferred=(flag, validation.range_message(name, low, high, what)))


# Keras 3.15's torch backend computes some float64 ops in float32 (ops.logaddexp,
# ops.minimum/maximum, ops.mean) or rounds their Python-float arguments to float32 (ops.clip); these two
# helpers keep every dtype exact on every backend.


def clip(x, low: float, high: float):
    """ops.clip with bounds in x's own dtype: `tf.clip_by_value` on TensorFlow (one op in
    eager mode), two selects elsewhere."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.clip_by_value(x, tf.constant(low, x.dtype), tf.constant(high, x.dtype))
    x = ops.where(x < low, ops.full_like(x, low), x)
    return ops.where(x > high, ops.full_like(x, high), x)


def logaddexp(a, b):
    """log(exp(a) + exp(b)), stable, -inf-safe (a finite gradient when one side is -inf)."""
    top = ops.where(a > b, a, b)
    return top + ops.log1p(ops.exp(-ops.abs(a - b)))


def probabilities_to_logits(p):
    """from_logits=False, sigmoid family: clip to [eps, 1-eps], then log p - log(1-p)."""
    p = clip(p, EPSILON, 1.0 - EPSILON)
    return ops.log(p) - ops.log1p(-p)


def weights_to_config(w: np.ndarray | None):
    """JSON-friendly form of a validated weight (float, list or None) for get_config."""
    if w is None:
        return None
    w = np.asarray(w, dtype=np.float64)
    return float(w) if w.ndim == 0 else w.tolist()


def mean_last_axis(loss):
    """Keras's sigmoid-family convention: per-sample loss = mean over the label axis.

    A rank-1 loss (logits shaped (B,)) is already per sample.
    """
    if len(loss.shape) < 2:
        return loss
    # sum / C rather than ops.mean: Keras 3.15's torch backend takes float64 means in float32.
    return ops.sum(loss, axis=-1) / loss.shape[-1]


# -------------------------------------------------------------------- softmax-family helpers


def log_softmax_from(x, from_logits: bool):
    """log p over the last axis: log_softmax of logits, or (from_logits=False) the log of the
    rows divided by their sum and clipped to [eps, 1 - eps] (Keras's convention)."""
    if from_logits:
        return ops.log_softmax(x, axis=-1)
    p = x / ops.sum(x, axis=-1, keepdims=True)
    return ops.log(clip(p, EPSILON, 1.0 - EPSILON))


def log1m_softmax(logp):
    """log(1 - p_c) for every class, stable and with finite gradients when p_c -> 1.

    The row's top class gets log(sum of the others) - logsumexp (a masked logsumexp, no
    cancellation); every other class has p_c <= 1/2, where log1p(-p_c) is well conditioned.
    Both branches see safe inputs, so the unselected one never sends inf/NaN to the gradient.
    """
    top = ops.cast(ops.one_hot(ops.argmax(logp, axis=-1), logp.shape[-1]), "bool")
    neg_inf = ops.full_like(logp, float("-inf"))
    others = ops.logsumexp(ops.where(top, neg_inf, logp), axis=-1, keepdims=True)
    p_safe = ops.where(top, ops.zeros_like(logp), ops.exp(logp))
    return ops.where(top, others, ops.log1p(-p_safe))


def focal_factor(base, log_base, gamma: float):
    """base^gamma for the focal factors, given callables for base and log(base).

    gamma >= 1: the direct power (cheap; its derivative gamma base^(gamma-1) is finite even
    at base = 0). 0 < gamma < 1: exp(gamma log base), where log base is computed stably, so
    the infinite derivative 0^(gamma-1) of the power never reaches the gradient. (`**`, not
    ops.power: the latter rounds a Python exponent to float32 on Keras's torch backend.)
    """
    if gamma == 0:
        return None
    if gamma >= 1:
        return integer_power(base(), gamma)
    return ops.exp(gamma * log_base())


def integer_power(b, gamma: float):
    """b^gamma, by repeated squaring for whole gamma up to 8 (a multiply is far cheaper than a
    general power, which computes exp(gamma log b)); the general power otherwise."""
    if gamma != int(gamma) or gamma > 8:
        return b**gamma
    result, square, n = None, b, int(gamma)
    while n:
        if n & 1:
            result = square if result is None else result * square
        n >>= 1
        if n:
            square = square * square
    return result


def check_class_indices(name: str, t, num_classes: int, ignore_index: int | None):
    """Class indices in [0, K) or equal to ignore_index (see `_check_content` for where).
    Returns `t`; in a TensorFlow graph, guarded by the assertion, so that the gather that
    follows cannot fail first with TensorFlow's own message."""
    guarded = [t]

    def tf_assert(t):
        import tensorflow as tf

        ok = (t >= 0) & (t < num_classes)
        if ignore_index is not None:
            ok = ok | (t == ignore_index)
        check = tf.debugging.Assert(tf.reduce_all(ok), [validation.index_message(name, num_classes, ignore_index)])
        with tf.control_dependencies([check]):
            guarded[0] = tf.identity(t)

    def invalid(t):
        bad = ops.logical_or(ops.less(t, 0), ops.greater_equal(t, num_classes))
        return bad if ignore_index is None else ops.logical_and(bad, ops.not_equal(t, ignore_index))

    message = validation.index_message(name, num_classes, ignore_index)
    if _check_content(t, lambda v: validation.check_class_indices(name, v, num_classes, ignore_index), tf_assert,
                      deferred=(lambda t: ops.any(invalid(t)), message)):
        # reported at a later call: until then an invalid index must not reach a gather (a
        # device-side assert on CUDA), so it reads as class 0 (as in torch_impl)
        return ops.where(invalid(t), ops.zeros_like(t), t)
    return guarded[0]


def check_whole_numbers(name: str, t) -> None:
    """Class indices given as floats (Keras casts labels to the loss dtype) must be integral."""

    def tf_assert(t):
        import tensorflow as tf

        tf.debugging.Assert(tf.reduce_all(tf.equal(t, tf.round(t))),
                            [validation.whole_number_message(name, "non-integral values")])

    _check_content(t, lambda v: validation.check_whole_numbers(name, v), tf_assert,
                   deferred=(lambda t: ops.any(ops.not_equal(t, ops.round(t))),
                             validation.whole_number_message(name, "non-integral values")))


def _target_kind(target, logits, target_name: str, input_name: str):
    """("probabilities", target) for the logits' shape, ("indices", target) for class indices
    of shape logits.shape[:-1] or, as Keras's sparse losses accept, (..., 1) (squeezed);
    else a shape error."""
    ts, xs = _static_shape(target), _static_shape(logits)
    same = lambda a, b: all(i is None or j is None or i == j for i, j in zip(a, b))  # noqa: E731
    if len(ts) == len(xs) and same(ts, xs):
        return "probabilities", target
    if len(ts) == len(xs) - 1 and same(ts, xs[:-1]):
        return "indices", target
    if len(ts) == len(xs) and ts[-1] == 1 and same(ts[:-1], xs[:-1]):
        return "indices", ops.squeeze(target, -1)
    raise ValueError(validation.softmax_target_shape_message(target_name, ts, input_name, xs))


def _class_indices(target, num_classes: int, ignore_index, validate_args: bool, target_name: str, *,
                   need_keep: bool = True):
    """int indices, the keep mask and the indices made safe (ignored -> 0) for gathering; with
    no ignore_index the mask is all true (None when not `need_keep`) and the indices are safe."""
    if "float" in keras.backend.standardize_dtype(target.dtype):
        if validate_args:
            check_whole_numbers(target_name, target)
        target = ops.cast(target, "int32")  # int32: jax has no int64 without x64
    if validate_args:
        target = check_class_indices(target_name, target, num_classes, ignore_index)
    if ignore_index is None:
        return target, ops.ones_like(target, dtype="bool") if need_keep else None, target
    keep = ops.not_equal(target, ignore_index)
    return target, keep, ops.where(keep, target, ops.zeros_like(target))


def softmax_targets(target, logits, *, ignore_index, label_smoothing, class_weight, validate_args,
                    target_name: str = "y_true", input_name: str = "y_pred"):
    """Normalises softmax-family targets to (q, valid, sample_norm_weight).

    Targets are class indices (shape logits.shape[:-1], ignore_index allowed) or one-hot /
    probability rows (the logits' shape). q: the smoothed target distribution q(1-e) + e/K,
    zero on ignored samples; valid: 1 for samples that count; sample_norm_weight: the
    per-sample weight used by normalization="weight" (w_{t_n}, or sum_c w_c q_nc before
    smoothing), 0 on ignored samples.
    """
    num_classes = logits.shape[-1]
    dtype = dtype_of(logits)
    kind, target = _target_kind(target, logits, target_name, input_name)
    if kind == "probabilities":
        if validate_args:
            check_in_range(target_name, target, 0.0, 1.0, "probability targets")
        q = ops.cast(target, dtype)
        valid = ops.ones_like(q[..., 0])
    else:
        _, keep, safe = _class_indices(target, num_classes, ignore_index, validate_args, target_name)
        valid = ops.cast(keep, dtype)
        q = ops.cast(ops.one_hot(safe, num_classes), dtype) * ops.expand_dims(valid, -1)
    norm = ops.sum(q if class_weight is None else q * class_weight, axis=-1)
    if label_smoothing:
        q = (q * (1.0 - label_smoothing) + label_smoothing / num_classes) * ops.expand_dims(valid, -1)
    return q, valid, norm


def cross_entropy(logits, target, *, ignore_index, label_smoothing, class_weight, validate_args,
                  target_name: str = "y_true", input_name: str = "y_pred"):
    """The plain weighted softmax cross-entropy from the backend's sparse cross-entropy instead
    of one-hot rows (the same formula: -(1-e) w_t log p_t - (e/K) sum_c w_c log p_c),
    with the (valid, sample_norm_weight) of softmax_targets; with class indices and no
    ignore_index, valid is None (every sample counts) and so is the norm weight without class
    weights (the count)."""
    kind, target = _target_kind(target, logits, target_name, input_name)
    if kind == "probabilities":
        q, valid, norm = softmax_targets(target, logits, ignore_index=ignore_index, label_smoothing=label_smoothing,
                                         class_weight=class_weight, validate_args=validate_args,
                                         target_name=target_name, input_name=input_name)
        logp = ops.log_softmax(logits, axis=-1)
        return -ops.sum(q * logp if class_weight is None else q * logp * class_weight, axis=-1), valid, norm
    num_classes = logits.shape[-1]
    _, keep, safe = _class_indices(target, num_classes, ignore_index, validate_args, target_name, need_keep=False)
    # -log p_t by the backend's fused sparse softmax cross-entropy (tf.nn's on TensorFlow)
    nll = sparse_cross_entropy(safe, logits)
    w_t = None if class_weight is None else take_classes(class_weight, safe)
    loss = nll if w_t is None else w_t * nll
    if label_smoothing:
        logp = ops.log_softmax(logits, axis=-1)
        loss = loss * (1.0 - label_smoothing) - (label_smoothing / num_classes) * ops.sum(
            logp if class_weight is None else logp * class_weight, axis=-1)
    if ignore_index is None:  # every sample counts: no mask, no masking pass (each an op in eager mode)
        return loss, None, w_t
    valid = ops.cast(keep, dtype_of(logits))
    return loss * valid, valid, valid if w_t is None else w_t * valid


def match_rank(target, x):
    """Keras's rule for a target and logits whose ranks differ by one: a trailing axis of size 1
    is added to a rank-1 target or squeezed from the other side ((B,) labels against (B, 1)
    logits, as Keras's own losses and metrics accept). Any other shape is left for the shape
    check, so a real mismatch ((B,) against (B, 3)) stays an error."""
    ts, xs = _static_shape(target), _static_shape(x)
    if len(xs) == len(ts) + 1 and xs[-1] == 1:
        return (ops.expand_dims(target, -1), x) if len(ts) == 1 else (target, ops.squeeze(x, -1))
    if len(ts) == len(xs) + 1 and ts[-1] == 1:
        return (target, ops.expand_dims(x, -1)) if len(xs) == 1 else (ops.squeeze(target, -1), x)
    return target, x


def replicas_and_sum(value):
    """(number of replicas Keras's reduction divides by, `value` summed over them).

    Keras's "sum_over_batch_size" divides each replica's sum by its number of losses and, under
    tf.distribute, by the number of replicas (`scale_loss_for_distribution`); the gradients are
    then summed across replicas. A weighted mean's denominator must therefore be the sum over
    all replicas: a replica-context all-reduce (the whole batch is already here otherwise).
    """
    if keras.backend.backend() != "tensorflow":
        return 1, value
    import tensorflow as tf

    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    if replicas > 1 and not tf.distribute.in_cross_replica_context():
        value = tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.SUM, value)
    return replicas, value


def scale_for_normalized_mean(loss, per_sample_norm):
    """Per-sample losses scaled so that Keras's own "sum_over_batch_size" reduction (sum / number
    of losses / replicas, sample weights and masks applied by Keras) gives sum / D, D =
    sum of `per_sample_norm` over every replica (the non-ignored count, or the summed class
    weights for normalization="weight"); 0 when D is 0 (torch gives NaN: a documented
    difference). The scale depends on the targets only, never on the logits."""
    replicas, denominator = replicas_and_sum(ops.sum(per_sample_norm))
    shape = _static_shape(loss)
    if None in shape:  # traced with unknown sizes: Keras's own expression for its divisor
        count = ops.cast(ops.prod(ops.convert_to_tensor(ops.shape(loss), dtype="int32")), dtype_of(loss))
    else:  # a Python number: no tensor made from the host per call (a sync on a GPU)
        count = float(np.prod(shape))
    denominator = ops.cast(denominator, dtype_of(loss))
    positive = denominator > 0
    scale = ops.where(positive, count * replicas / ops.where(positive, denominator, ops.ones_like(denominator)),
                      ops.zeros_like(denominator))
    return loss * ops.stop_gradient(scale)
