"""The confusion-matrix machinery of the Keras metrics: one batch's decisions and checks, the
compensated state and its update, and the base classes that every metric configures (see
the package docstring for the state's precision and where the checks run).
"""

from __future__ import annotations

import inspect
import re
from typing import Any

import keras
import numpy as np
from keras import ops

from imbalance_core import metrics, validation

from .. import _ops

# Decisions per slice of a batch on the float32 path: small enough that every extraction
# level's per-cell sums are exact (see `_exact_parts`).
_SLICE = 2**20


def _state_dtype() -> str:
    """float64 where the backend has it; float32 on jax without jax_enable_x64."""
    if keras.backend.backend() == "jax":
        import jax

        if not jax.config.read("jax_enable_x64"):  # the typed accessor of the flag
            return "float32"
    return "float64"


def _shape(x: Any) -> tuple:
    return tuple(x.shape)


def _concrete(x: Any) -> np.ndarray | None:
    """NumPy value of an eager tensor; None for a symbolic/traced one (checks are skipped)."""
    try:
        return ops.convert_to_numpy(x)
    except Exception:  # tf graph tensors and jax tracers cannot be converted: no content check
        return None


def _graph_checks(layout: metrics.Layout, num_classes: int | None, from_logits: bool, y_true: Any,
                  y_pred: Any) -> None:
    """The label/probability checks inside a traced graph, through `_ops` (tf.debugging
    assertions on TensorFlow, jax.debug.callback on jax; messages from imbalance_core)."""
    conv = metrics.KERAS
    if metrics.checks_probabilities(layout.mode, from_logits):
        _ops.check_in_range(conv.preds, y_pred, 0.0, 1.0, "probabilities")
    if layout.mode == "binary":
        _ops.check_in_range(conv.target, y_true, 0.0, 1.0, "binary labels (0 or 1)")
    elif layout.mode == "onehot":
        _ops.check_in_range(conv.target, y_true, 0.0, 1.0, "one-hot labels")
    else:
        assert num_classes is not None  # class indices come with num_classes (the layout's rule)
        _ops.check_class_indices(conv.target, y_true, num_classes, None)


def _on_host(y_true: Any, y_pred: Any, sample_weight: Any) -> tuple[Any, Any, Any]:
    """NumPy copies of one batch's tensors (None stays None), for the checks that build messages."""
    target, preds = ops.convert_to_numpy(y_true), ops.convert_to_numpy(y_pred)
    return target, preds, None if sample_weight is None else ops.convert_to_numpy(sample_weight)


def _invalid(layout: metrics.Layout, num_classes: int | None, from_logits: bool, y_true: Any, y_pred: Any,
             sample_weight: Any) -> Any:
    """Whether any value breaks the metric checks, as one device flag (torch_impl's
    _check_values in keras ops)."""
    bad = []
    outside = lambda v: ops.logical_not(ops.logical_and(v >= 0, v <= 1))  # noqa: E731  (NaN too)
    if metrics.checks_probabilities(layout.mode, from_logits):
        bad.append(outside(y_pred))
    if layout.mode == "binary":
        bad.append(ops.logical_and(ops.not_equal(y_true, 0), ops.not_equal(y_true, 1)))
    elif layout.mode == "onehot":
        bad.append(outside(y_true))
    else:
        if "float" in keras.backend.standardize_dtype(y_true.dtype):
            bad.append(ops.not_equal(y_true, ops.round(y_true)))
        bad.append(ops.logical_or(ops.less(y_true, 0), ops.greater_equal(y_true, num_classes)))
    if sample_weight is not None:
        bad.append(ops.logical_or(ops.logical_not(ops.isfinite(sample_weight)), ops.less(sample_weight, 0)))
    return ops.any(ops.stack([ops.any(b) for b in bad]))


def batch_inputs(y_true: Any, y_pred: Any, sample_weight: Any,
                 num_classes: int | None) -> tuple[metrics.Layout, Any, Any, Any]:
    """One batch as tensors with its layout (`imbalance_core.metrics.layout`: the shape and dtype
    checks), a trailing axis of size 1 squeezed where Keras's rule matches it; for every metric
    and `decisions.ThresholdTuner`."""
    conv = metrics.KERAS
    y_pred = _ops.check_logits(conv.preds, y_pred)
    y_true = ops.convert_to_tensor(y_true)
    layout = metrics.layout(num_classes, _shape(y_true), _shape(y_pred), conv)
    if layout.squeeze_target:
        y_true = ops.squeeze(y_true, axis=-1)
    if layout.squeeze_preds:
        y_pred = ops.squeeze(y_pred, axis=-1)
    if sample_weight is not None:
        sample_weight = ops.convert_to_tensor(sample_weight)
        if metrics.weight_squeeze(_shape(sample_weight), layout.sample_shape):
            sample_weight = ops.squeeze(sample_weight, axis=-1)
    return layout, y_true, y_pred, sample_weight


def decision_weights(sample_weight: Any, layout: metrics.Layout, decisions: Any, dtype: str) -> Any:
    """`sample_weight` (a scalar or leading axes of the per-decision shape) as one weight per
    decision of `decisions`, in `dtype`."""
    w = ops.cast(sample_weight, dtype)
    for _ in range(len(layout.sample_shape) - len(_shape(w))):
        w = ops.expand_dims(w, -1)
    # Multiplying by ones broadcasts to the per-decision shape, known or not (graph mode).
    return w * ops.ones_like(ops.cast(decisions, dtype))


def _decisions(y_true: Any, y_pred: Any, sample_weight: Any, num_classes: int | None, cut: float, from_logits: bool,
               validate_args: bool) -> tuple[Any, Any, Any]:
    """Checks one batch; returns flat (true index, predicted index, weight or None)."""
    conv = metrics.KERAS
    layout, y_true, y_pred, sample_weight = batch_inputs(y_true, y_pred, sample_weight, num_classes)
    # Keras's torch backend infers output specs on "meta" tensors (no values, nothing to check).
    if validate_args and _ops.torch_deferred(y_pred):  # Keras's torch backend on CUDA: no host sync
        _ops.defer(_invalid(layout, num_classes, from_logits, y_true, y_pred, sample_weight),
                   lambda: metrics.check_metric_values(layout, num_classes, from_logits,
                                                       *_on_host(y_true, y_pred, sample_weight), conv),
                   validation.invalid_values_message(conv.target, conv.preds, "sample_weight"))
    elif validate_args and str(getattr(y_pred, "device", "")) != "meta":
        values = [_concrete(v) for v in (y_true, y_pred)]
        values.append(None if sample_weight is None else _concrete(sample_weight))
        if values[0] is not None and values[1] is not None and (sample_weight is None or values[2] is not None):
            metrics.check_metric_values(layout, num_classes, from_logits, values[0], values[1], values[2], conv)
        else:  # traced (model.fit on tensorflow or jax): _ops's in-graph checks
            _graph_checks(layout, num_classes, from_logits, y_true, y_pred)

    if layout.mode == "binary":
        # Compared in y_pred's dtype (the cut is a weak Python scalar), like torch_impl.
        t = ops.cast(ops.greater(ops.cast(y_true, "float32"), 0.5), "int32")
        p = ops.cast(ops.greater(y_pred, cut), "int32")
    else:
        p = ops.cast(ops.argmax(y_pred, axis=-1), "int32")
        t = ops.cast(ops.argmax(y_true, axis=-1) if layout.mode == "onehot" else y_true, "int32")
    w = None if sample_weight is None else decision_weights(sample_weight, layout, t, _state_dtype())
    return ops.reshape(t, (-1,)), ops.reshape(p, (-1,)), None if w is None else ops.reshape(w, (-1,))


def _one_hot(idx: Any, k: int, dtype: str) -> Any:
    # Comparison rather than ops.one_hot: an index outside [0, k) (only possible with
    # validate_args=False) gives a zero row, so it contributes nothing, as in torch_impl.
    return ops.cast(ops.equal(ops.expand_dims(idx, -1), ops.arange(k, dtype="int32")), dtype)


def _float64_increment(t: Any, p: Any, w: Any, k: int) -> Any:
    """C[t_i, p_i] += w_i in float64. einsum, because on Keras's torch backend ops.matmul,
    ops.bincount and ops.segment_sum all compute float64 inputs in float32 (Keras 3.15)."""
    rows = _one_hot(t, k, "float64")
    if w is not None:
        rows = rows * ops.expand_dims(w, -1)
    return ops.einsum("ni,nj->ij", rows, _one_hot(p, k, "float64"))


def _cell_sums(ids: Any, values: Any, k: int) -> Any:
    # A scatter-add, not a matmul: float32 matmuls may run in TF32 on GPUs (jax's default),
    # which would round the extracted parts.
    return ops.reshape(ops.segment_sum(values, ids, num_segments=k * k), (k, k))


def _exact_parts(t: Any, p: Any, w: Any, k: int) -> list[Any]:
    """The float32 increment of one batch as parts whose exact sum is the weighted confusion
    matrix (up to a last part's float32 rounding, far below the total).

    Error-free extraction (Rump, Ogita and Oishi, "Accurate floating-point summation", 2008):
    with sigma >= 4 n max|r| over a slice of n <= 2^20 decisions, q = (sigma + r) - sigma is
    exact, every q is a multiple of 2^(e-24) (2^e <= sigma), and all partial sums of the q
    stay below 2^24 such units: the per-cell sums of q are exact in any order. r - q is exact
    too and at most n max|r| 2^-20, so each level captures the next (20 - log2 n) bits; two
    levels, then the small remainder. Unit (and integer) weights are exact at the first level.
    """
    valid = ops.logical_and(ops.greater_equal(t, 0), ops.less(t, k))
    ids = ops.where(valid, t * k + p, ops.zeros_like(t))
    w = ops.ones_like(ids, dtype="float32") if w is None else w
    w = ops.where(valid, w, ops.zeros_like(w))
    n = ids.shape[0]
    bounds = [(None, None)] if n is None or n <= _SLICE else [(s, min(s + _SLICE, n)) for s in range(0, n, _SLICE)]
    parts = []
    for start, stop in bounds:
        r, i = (w, ids) if start is None else (w[start:stop], ids[start:stop])
        size = ops.cast(ops.shape(r)[0], "float32")
        for _ in range(2):
            sigma = 4.0 * size * ops.max(ops.abs(r), initial=0.0)  # 0 for an empty batch
            q = (sigma + r) - sigma
            r = r - q
            parts.append(_cell_sums(i, q, k))
        parts.append(_cell_sums(i, r, k))
    return parts


def _two_sum(a: Any, b: Any) -> tuple[Any, Any]:
    """a + b = s + e exactly (Knuth's TwoSum: six additions, no branch, any order of |a|, |b|)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _accumulate(hi: Any, lo: Any, part: Any) -> tuple[Any, Any]:
    """(hi, lo) + part as a renormalized compensated pair: exact for integer counts while the
    total stays below 2^(2 p) (p = 24 or 53 significand bits)."""
    s, e = _two_sum(hi, part)
    return _two_sum(s, e + lo)


def _increment_pair(t: Any, p: Any, w: Any, k: int, dtype: str) -> tuple[Any, Any]:
    """One batch's confusion increment as a compensated pair (hi, lo) of `dtype`."""
    if dtype == "float64":
        inc = _float64_increment(t, p, w, k)
        return inc, ops.zeros_like(inc)
    parts = _exact_parts(t, p, w, k)
    hi, lo = parts[0], ops.zeros_like(parts[0])
    for part in parts[1:]:
        hi, lo = _accumulate(hi, lo, part)
    return hi, lo


def const(value: float, like: Any) -> Any:
    # Constants as tensors of the state dtype: a Python float would be converted to floatx
    # first on Keras's torch backend, rounding the float64 result.
    return ops.convert_to_tensor(value, dtype=like.dtype)

def ratio(num: Any, den: Any) -> Any:
    """num / den, 0 where den is 0."""
    zero, one = const(0.0, den), const(1.0, den)
    defined = ops.greater(den, zero)
    return ops.where(defined, ops.divide(num, ops.where(defined, den, one)), zero)


def recalls(cm: Any) -> tuple[Any, Any]:
    """(recall per class, 0 for a class with no sample; the support > 0 mask)."""
    support = ops.sum(cm, axis=1)
    present = ops.greater(support, const(0.0, cm))
    return ratio(ops.diagonal(cm), support), present


def batch_confusion(y_true: Any, y_pred: Any, sample_weight: Any, num_classes: int | None, threshold: float,
                    from_logits: bool, validate_args: bool) -> Any:
    """The confusion matrix of one batch (state dtype), for the functional forms."""
    num_classes, threshold, from_logits = metrics.check_metric_args(num_classes, threshold, from_logits)
    validate_args = metrics.check_bool("validate_args", validate_args)
    cut = metrics.decision_threshold(threshold, from_logits)
    t, p, w = _decisions(y_true, y_pred, sample_weight, num_classes, cut, from_logits, validate_args)
    hi, lo = _increment_pair(t, p, w, num_classes or 2, _state_dtype())
    return hi + lo


def floatx(x: Any) -> Any:
    """The result of a functional form, in keras.config.floatx()."""
    return ops.cast(x, keras.config.floatx())


def _snake_case(class_name: str) -> str:
    """The default metric name: BalancedAccuracy -> balanced_accuracy (without Keras's numbered
    suffix for a second instance, so that logs name every instance the same)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", class_name).lower()


def _constructor_arguments(cls: type) -> list[str]:
    """The keywords of the constructor that the config records (Keras's own name and dtype aside)."""
    return [name for name in inspect.signature(cls).parameters if name not in ("name", "dtype")]


class ConfusionMetric(keras.metrics.Metric):
    """A metric of the confusion matrix, accumulated over batches: `confusion` and its rounding
    error `confusion_residual`, a compensated pair updated per batch and reset by reset_state.

    A subclass configures it: its constructor's keywords (each kept as an attribute of the same
    name) make its config, and `_score(cm)` its formula. The keywords here are those of the
    metrics that take binary or multi-class inputs; `name` defaults to the class name in
    snake_case.
    """

    def __init__(self, *, num_classes: int | None = None, threshold: float = 0.5, from_logits: bool = False,
                 validate_args: bool = True, name: str | None = None, dtype: Any = None) -> None:
        super().__init__(name=name or _snake_case(type(self).__name__), dtype=dtype)
        self.num_classes, self.threshold, self.from_logits = metrics.check_metric_args(
            num_classes, threshold, from_logits)
        self.validate_args = metrics.check_bool("validate_args", validate_args)
        self._cut = metrics.decision_threshold(self.threshold, self.from_logits)
        k = self.num_classes or 2
        self._state_dtype = _state_dtype()
        self.confusion = self.add_variable(shape=(k, k), initializer="zeros", dtype=self._state_dtype, name="confusion")
        self.confusion_residual = self.add_variable(
            shape=(k, k), initializer="zeros", dtype=self._state_dtype, name="confusion_residual"
        )

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any | None = None) -> None:
        t, p, w = _decisions(
            y_true, y_pred, sample_weight, self.num_classes, self._cut, self.from_logits, self.validate_args
        )
        inc_hi, inc_lo = _increment_pair(t, p, w, self.num_classes or 2, self._state_dtype)
        hi, lo = _accumulate(ops.convert_to_tensor(self.confusion), ops.convert_to_tensor(self.confusion_residual),
                             inc_hi)
        hi, lo = _accumulate(hi, lo, inc_lo)
        self.confusion.assign(hi)
        self.confusion_residual.assign(lo)

    def _score(self, cm: Any) -> Any:
        raise NotImplementedError  # each subclass defines its formula

    def result(self) -> Any:
        cm = ops.convert_to_tensor(self.confusion) + ops.convert_to_tensor(self.confusion_residual)
        return ops.cast(self._score(cm), self.dtype)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({name: getattr(self, name) for name in _constructor_arguments(type(self))})
        return config


class BinaryConfusionMetric(ConfusionMetric):
    """A metric of the 2 x 2 confusion matrix of binary decisions (no `num_classes`)."""

    def __init__(self, *, threshold: float = 0.5, from_logits: bool = False, validate_args: bool = True,
                 name: str | None = None, dtype: Any = None) -> None:
        super().__init__(threshold=threshold, from_logits=from_logits, validate_args=validate_args, name=name,
                         dtype=dtype)
