"""Imbalance metrics for Keras 3. The mirror of torch_impl/metrics.py.

Stateful `keras.metrics.Metric` subclasses for `model.compile(metrics=[...])` and functional
forms `fn(y_true, y_pred, **kw)`. keras.ops only, so every Keras backend runs them.
Formulas, checks and messages come from `imbalance_core.metrics` (scikit-learn's
definitions; imbalanced-learn's for GeometricMean, OLTR's for ShotAccuracy); messages name
`y_true` and `y_pred`. Results are scalars, except PerClassRecall (K,) and ShotAccuracy (3,).

- binary (`num_classes=None`): y_true of 0/1, y_pred probabilities (or logits with
  `from_logits=True`) of the same shape, or shapes that differ by a trailing axis of size 1
  (`(B,)` labels against a `(B, 1)` output and the reverse: Keras's own rule, as in
  `keras.metrics.BinaryAccuracy`); predicted positive when y_pred > threshold
  (logit(threshold) on logits). Every element is one decision (multi-label: micro). A real
  mismatch, such as `(B,)` labels against `(B, 3)` scores, is a ValueError.
- multi-class (`num_classes=K`): y_pred (..., K) of any real scores, logits or probabilities
  (the argmax is the same), predicted class = argmax; y_true class indices (...) or (..., 1),
  or one-hot (..., K). `threshold`/`from_logits` do not apply.
- `sample_weight`: a scalar, or the leading axes of the per-decision shape (broadcast), with
  or without a trailing axis of size 1 (`(B,)` or `(B, 1)`).

State and precision: a K x K confusion matrix of summed sample weights, C[true, predicted]
(K = 2 in binary mode), held as a compensated pair of variables, `confusion` (the rounded
sum) and `confusion_residual` (its rounding error), updated with an error-free TwoSum; the
result is computed from their sum and returned in the metric dtype. The pair is float64
where the backend has float64 (tensorflow, torch, jax with `jax_enable_x64`): counts are exact
to 2^53 and beyond. On jax without `jax_enable_x64` (the usual setting) it is float32: each
batch's increment is split exactly (error-free extraction) into float32 parts whose per-cell
sums are exact, so unweighted counts (and integer weights) stay exact up to 2^48 in total
(where a single float32 count would stop at 2^24 = 16,777,216) and weighted sums keep a
relative error near 2^-40; there the result's formula is evaluated in float32 (a few ulp).

Content checks (`validate_args=True`: label values, probabilities in binary mode, weights)
run on the values whenever the inputs are concrete (eager on every backend, and Keras's
torch backend inside `fit`); inside a traced graph (`model.fit` on tensorflow or jax) the
label and probability checks run through `tf_impl._ops`'s rule (tf.debugging assertions in a
TensorFlow graph, a jax.debug.callback under jax), with the same message prefixes; there the
binary-label check is the range [0, 1]. Shape and dtype checks always run.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from imbalance_core import metrics as M
from imbalance_core import validation as V
from imbalance_core.validation import check_number

from . import _ops

__all__ = [
    "BalancedAccuracy",
    "TruePositiveRate",
    "TrueNegativeRate",
    "WeightedBalancedAccuracy",
    "balanced_accuracy",
    "true_positive_rate",
    "true_negative_rate",
    "weighted_balanced_accuracy",
    "GeometricMean",
    "MatthewsCorrelation",
    "PerClassRecall",
    "ShotAccuracy",
    "geometric_mean",
    "matthews_correlation",
    "per_class_recall",
    "shot_accuracy",
]

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


def _shape(x) -> tuple:
    return tuple(x.shape)


def _concrete(x):
    """NumPy value of an eager tensor; None for a symbolic/traced one (checks are skipped)."""
    try:
        return ops.convert_to_numpy(x)
    except Exception:  # tf graph tensors and jax tracers cannot be converted: no content check
        return None


def _graph_checks(layout, num_classes, from_logits, y_true, y_pred) -> None:
    """The label/probability checks inside a traced graph, through `_ops` (tf.debugging
    assertions on TensorFlow, jax.debug.callback on jax; messages from imbalance_core)."""
    conv = M.KERAS
    if M.checks_probabilities(layout.mode, from_logits):
        _ops.check_in_range(conv.preds, y_pred, 0.0, 1.0, "probabilities")
    if layout.mode == "binary":
        _ops.check_in_range(conv.target, y_true, 0.0, 1.0, "binary labels (0 or 1)")
    elif layout.mode == "onehot":
        _ops.check_in_range(conv.target, y_true, 0.0, 1.0, "one-hot labels")
    else:
        _ops.check_class_indices(conv.target, y_true, num_classes, None)


def _invalid(layout, num_classes, from_logits, y_true, y_pred, sample_weight):
    """Whether any value breaks the metric checks, as one device flag (torch_impl's
    _check_values in keras ops)."""
    bad = []
    outside = lambda v: ops.logical_not(ops.logical_and(v >= 0, v <= 1))  # noqa: E731  (NaN too)
    if M.checks_probabilities(layout.mode, from_logits):
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


def _decisions(y_true, y_pred, sample_weight, num_classes, cut, from_logits, validate_args):
    """Checks one batch; returns flat (true index, predicted index, weight or None)."""
    conv = M.KERAS
    y_pred = _ops.check_logits(conv.preds, y_pred)
    y_true = ops.convert_to_tensor(y_true)
    layout = M.layout(num_classes, _shape(y_true), _shape(y_pred), conv)
    if layout.squeeze_target:
        y_true = ops.squeeze(y_true, axis=-1)
    if layout.squeeze_preds:
        y_pred = ops.squeeze(y_pred, axis=-1)
    if sample_weight is not None:
        sample_weight = ops.convert_to_tensor(sample_weight)
        if M.weight_squeeze(_shape(sample_weight), layout.sample_shape):
            sample_weight = ops.squeeze(sample_weight, axis=-1)
    # Keras's torch backend infers output specs on "meta" tensors (no values, nothing to check).
    if validate_args and _ops.torch_deferred(y_pred):  # Keras's torch backend on CUDA: no host sync
        _ops.defer(_invalid(layout, num_classes, from_logits, y_true, y_pred, sample_weight),
                   lambda: M.check_metric_values(layout, num_classes, from_logits, *[
                       None if v is None else ops.convert_to_numpy(v) for v in (y_true, y_pred, sample_weight)], conv),
                   V.invalid_values_message(conv.target, conv.preds, "sample_weight"))
    elif validate_args and str(getattr(y_pred, "device", "")) != "meta":
        values = [_concrete(v) for v in (y_true, y_pred)]
        values.append(None if sample_weight is None else _concrete(sample_weight))
        if values[0] is not None and values[1] is not None and (sample_weight is None or values[2] is not None):
            M.check_metric_values(layout, num_classes, from_logits, values[0], values[1], values[2], conv)
        else:  # traced (model.fit on tensorflow or jax): _ops's in-graph checks
            _graph_checks(layout, num_classes, from_logits, y_true, y_pred)

    if layout.mode == "binary":
        # Compared in y_pred's dtype (the cut is a weak Python scalar), like torch_impl.
        t = ops.cast(ops.greater(ops.cast(y_true, "float32"), 0.5), "int32")
        p = ops.cast(ops.greater(y_pred, cut), "int32")
    else:
        p = ops.cast(ops.argmax(y_pred, axis=-1), "int32")
        t = ops.cast(ops.argmax(y_true, axis=-1) if layout.mode == "onehot" else y_true, "int32")
    w = None
    if sample_weight is not None:
        w = ops.cast(sample_weight, _state_dtype())
        for _ in range(len(layout.sample_shape) - len(_shape(w))):
            w = ops.expand_dims(w, -1)
        # Multiplying by ones broadcasts to the per-decision shape, known or not (graph mode).
        w = ops.reshape(w * ops.ones_like(ops.cast(t, w.dtype)), (-1,))
    return ops.reshape(t, (-1,)), ops.reshape(p, (-1,)), w


def _one_hot(idx, k: int, dtype):
    # Comparison rather than ops.one_hot: an index outside [0, k) (only possible with
    # validate_args=False) gives a zero row, so it contributes nothing, as in torch_impl.
    return ops.cast(ops.equal(ops.expand_dims(idx, -1), ops.arange(k, dtype="int32")), dtype)


def _float64_increment(t, p, w, k: int):
    """C[t_i, p_i] += w_i in float64. einsum, because on Keras's torch backend ops.matmul,
    ops.bincount and ops.segment_sum all compute float64 inputs in float32 (Keras 3.15)."""
    rows = _one_hot(t, k, "float64")
    if w is not None:
        rows = rows * ops.expand_dims(w, -1)
    return ops.einsum("ni,nj->ij", rows, _one_hot(p, k, "float64"))


def _cell_sums(ids, values, k: int):
    # A scatter-add, not a matmul: float32 matmuls may run in TF32 on GPUs (jax's default),
    # which would round the extracted parts.
    return ops.reshape(ops.segment_sum(values, ids, num_segments=k * k), (k, k))


def _exact_parts(t, p, w, k: int):
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


def _two_sum(a, b):
    """a + b = s + e exactly (Knuth's TwoSum: six additions, no branch, any order of |a|, |b|)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _accumulate(hi, lo, part):
    """(hi, lo) + part as a renormalized compensated pair: exact for integer counts while the
    total stays below 2^(2 p) (p = 24 or 53 significand bits)."""
    s, e = _two_sum(hi, part)
    return _two_sum(s, e + lo)


def _increment_pair(t, p, w, k: int, dtype: str):
    """One batch's confusion increment as a compensated pair (hi, lo) of `dtype`."""
    if dtype == "float64":
        inc = _float64_increment(t, p, w, k)
        return inc, ops.zeros_like(inc)
    parts = _exact_parts(t, p, w, k)
    hi, lo = parts[0], ops.zeros_like(parts[0])
    for part in parts[1:]:
        hi, lo = _accumulate(hi, lo, part)
    return hi, lo


def _const(value, like):
    # Constants as tensors of the state dtype: a Python float would be converted to floatx
    # first on Keras's torch backend, rounding the float64 result.
    return ops.convert_to_tensor(value, dtype=like.dtype)


def _balanced_accuracy(cm, adjusted: bool):
    zero, one = _const(0.0, cm), _const(1.0, cm)
    support = ops.sum(cm, axis=1)
    present = ops.greater(support, zero)
    recall = ops.where(present, ops.divide(ops.diagonal(cm), ops.where(present, support, one)), zero)
    n = ops.sum(ops.cast(present, cm.dtype))
    # where, not ops.maximum: Keras's torch backend returns maximum(float64, float64) in float32.
    n_or_one = ops.where(ops.greater(n, one), n, one)
    score = ops.divide(ops.sum(recall), n_or_one)
    if adjusted:
        # Chance level 1/P over P present classes; undefined for P <= 1, where we return 0.
        chance = ops.divide(one, n_or_one)
        several = ops.greater(n, one)
        score = ops.where(several, ops.divide(score - chance, ops.where(several, one - chance, one)), zero)
    return score


def _ratio(num, den):
    zero, one = _const(0.0, den), _const(1.0, den)
    defined = ops.greater(den, zero)
    return ops.where(defined, ops.divide(num, ops.where(defined, den, one)), zero)


def _true_positive_rate(cm):
    return _ratio(cm[1, 1], cm[1, 0] + cm[1, 1])


def _true_negative_rate(cm):
    return _ratio(cm[0, 0], cm[0, 0] + cm[0, 1])


def _weighted_balanced_accuracy(cm, alpha: float):
    return _const(alpha, cm) * _true_positive_rate(cm) + _const(1.0 - alpha, cm) * _true_negative_rate(cm)


def _recalls(cm):
    """(recall per class, 0 for a class with no sample; the support > 0 mask)."""
    zero, one = _const(0.0, cm), _const(1.0, cm)
    support = ops.sum(cm, axis=1)
    present = ops.greater(support, zero)
    return ops.where(present, ops.divide(ops.diagonal(cm), ops.where(present, support, one)), zero), present


def _per_class_recall(cm):
    return _recalls(cm)[0]


def _geometric_mean(cm, correction: float):
    zero, one = _const(0.0, cm), _const(1.0, cm)
    recall, _ = _recalls(cm)
    # imbalanced-learn's classes: those in the labels or in the predictions
    included = ops.logical_or(ops.greater(ops.sum(cm, axis=1), zero), ops.greater(ops.sum(cm, axis=0), zero))
    r = ops.where(ops.greater(recall, zero), recall, _const(correction, cm))
    positive = ops.greater(r, zero)
    n = ops.sum(ops.cast(included, cm.dtype))
    # exp(mean log r), not a product: a product of many recalls underflows
    log_sum = ops.sum(ops.where(ops.logical_and(included, positive), ops.log(ops.where(positive, r, one)), zero))
    missing = ops.any(ops.logical_and(included, ops.logical_not(positive)))
    defined = ops.logical_and(ops.greater(n, zero), ops.logical_not(missing))
    return ops.where(defined, ops.exp(ops.divide(log_sum, ops.where(ops.greater(n, zero), n, one))), zero)


def _matthews_correlation(cm):
    zero, one = _const(0.0, cm), _const(1.0, cm)
    t, p = ops.sum(cm, axis=1), ops.sum(cm, axis=0)
    s = ops.sum(t)
    # elementwise sums, not ops.dot: Keras's torch backend runs float64 matmuls in float32
    cov_tp = ops.sum(ops.diagonal(cm)) * s - ops.sum(t * p)
    cov_tt, cov_pp = ops.sum(t * (s - t)), ops.sum(p * (s - p))  # s^2 - t.t without rounding s^2
    defined = ops.logical_and(ops.greater(cov_tt, zero), ops.greater(cov_pp, zero))
    # sqrt(a) sqrt(b), not sqrt(a b): a b would overflow float32 (jax without x64) past 2^32 samples
    den = ops.where(defined, ops.sqrt(cov_tt) * ops.sqrt(cov_pp), one)
    return ops.where(defined, ops.divide(cov_tp, den), zero)


def _shot_accuracy(cm, groups):
    recall, present = _recalls(cm)
    members = ops.convert_to_tensor(groups, dtype=cm.dtype) * ops.cast(present, cm.dtype)[None, :]
    count = ops.sum(members, axis=1)
    some = ops.greater(count, _const(0.0, cm))
    mean = ops.divide(ops.sum(members * recall[None, :], axis=1), ops.where(some, count, _const(1.0, cm)))
    return ops.where(some, mean, _const(float("nan"), cm))


def _check_alpha(alpha) -> float:
    return check_number("alpha", alpha, low=0.0, high=1.0)


def _batch_confusion(y_true, y_pred, sample_weight, num_classes, threshold, from_logits, validate_args):
    """The confusion matrix of one batch (state dtype), for the functional forms."""
    num_classes, threshold, from_logits = M.check_metric_args(num_classes, threshold, from_logits)
    validate_args = M.check_bool("validate_args", validate_args)
    cut = M.decision_threshold(threshold, from_logits)
    t, p, w = _decisions(y_true, y_pred, sample_weight, num_classes, cut, from_logits, validate_args)
    hi, lo = _increment_pair(t, p, w, num_classes or 2, _state_dtype())
    return hi + lo


def _floatx(x):
    return ops.cast(x, keras.config.floatx())


# --------------------------------------------------------------------------------------------
# Functional forms: one batch, no state. Return a scalar tensor in keras.config.floatx().
# --------------------------------------------------------------------------------------------


def balanced_accuracy(
    y_true: Any,
    y_pred: Any,
    *,
    num_classes: int | None = None,
    threshold: float = 0.5,
    from_logits: bool = False,
    adjusted: bool = False,
    sample_weight: Any | None = None,
    validate_args: bool = True,
) -> Any:
    """Balanced accuracy of one batch: mean recall over the classes present in `y_true`.

    recall_c = C[c, c] / sum_j C[c, j] (C: weighted confusion matrix); adjusted:
    (score - 1/P) / (1 - 1/P) over P present classes (0 when P <= 1).

    Args:
        y_true: binary 0/1 labels shaped like `y_pred`, a trailing 1 squeezed or added
            (num_classes=None); or class indices (...)/(..., 1) or one-hot (..., K).
        y_pred: binary: probabilities (logits with `from_logits=True`); multi-class: (..., K)
            real scores, logits or probabilities.
        num_classes: None for binary, K >= 2 for multi-class (argmax).
        threshold: in [0, 1]; binary prediction is y_pred > threshold.
        from_logits: binary y_pred are logits (compared with logit(threshold)).
        adjusted: chance-adjusted score (0 at chance, 1 perfect).
        sample_weight: scalar or the leading axes of the per-decision shape, (B,) or (B, 1).
        validate_args: check label/probability values when the inputs are concrete.

    Anchor: `sklearn.metrics.balanced_accuracy_score(adjusted=...)`.

    Examples:
        >>> import numpy as np
        >>> y_true = np.array([1, 0, 0, 0, 1])
        >>> y_pred = np.array([0.9, 0.2, 0.6, 0.1, 0.4])
        >>> round(float(balanced_accuracy(y_true, y_pred)), 4)
        0.5833
    """
    adjusted = M.check_bool("adjusted", adjusted)
    cm = _batch_confusion(y_true, y_pred, sample_weight, num_classes, threshold, from_logits, validate_args)
    return _floatx(_balanced_accuracy(cm, adjusted))


def true_positive_rate(y_true: Any, y_pred: Any, *, threshold: float = 0.5, from_logits: bool = False,
                       sample_weight: Any | None = None, validate_args: bool = True) -> Any:
    """TPR (recall, sensitivity) of one batch: TP / (TP + FN); 0 when there is no positive.

    Args: as `balanced_accuracy` in binary mode.
    Anchor: `sklearn.metrics.recall_score(pos_label=1)`.

    Examples:
        >>> import numpy as np
        >>> y_true = np.array([1, 0, 0, 0, 1])
        >>> y_pred = np.array([0.9, 0.2, 0.6, 0.1, 0.4])
        >>> round(float(true_positive_rate(y_true, y_pred)), 4)
        0.5
    """
    cm = _batch_confusion(y_true, y_pred, sample_weight, None, threshold, from_logits, validate_args)
    return _floatx(_true_positive_rate(cm))


def true_negative_rate(y_true: Any, y_pred: Any, *, threshold: float = 0.5, from_logits: bool = False,
                       sample_weight: Any | None = None, validate_args: bool = True) -> Any:
    """TNR (specificity) of one batch: TN / (TN + FP); 0 when there is no negative.

    Args: as `balanced_accuracy` in binary mode.
    Anchor: `sklearn.metrics.recall_score(pos_label=0)`.

    Examples:
        >>> import numpy as np
        >>> y_true = np.array([1, 0, 0, 0, 1])
        >>> y_pred = np.array([0.9, 0.2, 0.6, 0.1, 0.4])
        >>> round(float(true_negative_rate(y_true, y_pred)), 4)
        0.6667
    """
    cm = _batch_confusion(y_true, y_pred, sample_weight, None, threshold, from_logits, validate_args)
    return _floatx(_true_negative_rate(cm))


def weighted_balanced_accuracy(
    y_true: Any,
    y_pred: Any,
    *,
    alpha: float = 0.5,
    threshold: float = 0.5,
    from_logits: bool = False,
    sample_weight: Any | None = None,
    validate_args: bool = True,
) -> Any:
    """alpha TPR + (1 - alpha) TNR of one batch (binary); alpha in [0, 1].

    Unlike `balanced_accuracy`, an absent class is not dropped: its rate counts as 0.

    Args: as `balanced_accuracy` in binary mode, plus `alpha`, the weight of the TPR.
    Anchor: alpha recall_score(pos_label=1) + (1 - alpha) recall_score(pos_label=0).

    Examples:
        >>> import numpy as np
        >>> y_true = np.array([1, 0, 0, 0, 1])
        >>> y_pred = np.array([0.9, 0.2, 0.6, 0.1, 0.4])
        >>> round(float(weighted_balanced_accuracy(y_true, y_pred, alpha=0.7)), 4)
        0.55
    """
    alpha = _check_alpha(alpha)
    cm = _batch_confusion(y_true, y_pred, sample_weight, None, threshold, from_logits, validate_args)
    return _floatx(_weighted_balanced_accuracy(cm, alpha))


def geometric_mean(
    y_true: Any,
    y_pred: Any,
    *,
    num_classes: int | None = None,
    threshold: float = 0.5,
    from_logits: bool = False,
    correction: float = 0.0,
    sample_weight: Any | None = None,
    validate_args: bool = True,
) -> Any:
    """G-mean of one batch: (prod_c recall_c)^(1/P) over the P classes that occur in y_true
    or in the predictions; binary: sqrt(TPR x TNR).

    A recall of 0 (a class missed, or predicted but absent from y_true) makes it 0 unless
    `correction` > 0 replaces it. 0 with no sample.

    Args: as `balanced_accuracy`, plus `correction` in [0, 1], the recall substituted for 0.
    Anchor: `imblearn.metrics.geometric_mean_score(average="multiclass", correction=...)`
    (Kubat and Matwin 1997).

    Examples:
        >>> import numpy as np
        >>> y_true = np.array([0, 0, 1, 1, 2, 2])
        >>> y_pred = np.eye(3)[[0, 0, 1, 0, 2, 1]]    # predicted classes 0, 0, 1, 0, 2, 1
        >>> round(float(geometric_mean(y_true, y_pred, num_classes=3)), 4)
        0.63
    """
    correction = M.check_correction(correction)
    cm = _batch_confusion(y_true, y_pred, sample_weight, num_classes, threshold, from_logits, validate_args)
    return _floatx(_geometric_mean(cm, correction))


def matthews_correlation(
    y_true: Any,
    y_pred: Any,
    *,
    num_classes: int | None = None,
    threshold: float = 0.5,
    from_logits: bool = False,
    sample_weight: Any | None = None,
    validate_args: bool = True,
) -> Any:
    """Matthews correlation coefficient of one batch, in [-1, 1]:
    (c s - t.p) / sqrt((s^2 - t.t)(s^2 - p.p)) with t, p the true and predicted class totals,
    s the total and c the trace of the weighted confusion matrix; 0 when undefined.

    Args: as `balanced_accuracy`.
    Anchor: `sklearn.metrics.matthews_corrcoef` (Matthews 1975; Gorodkin 2004 for K classes).

    Examples:
        >>> import numpy as np
        >>> y_true = np.array([0, 0, 1, 1, 2, 2])
        >>> y_pred = np.eye(3)[[0, 0, 1, 0, 2, 1]]    # predicted classes 0, 0, 1, 0, 2, 1
        >>> round(float(matthews_correlation(y_true, y_pred, num_classes=3)), 4)
        0.5222
    """
    cm = _batch_confusion(y_true, y_pred, sample_weight, num_classes, threshold, from_logits, validate_args)
    return _floatx(_matthews_correlation(cm))


def per_class_recall(
    y_true: Any,
    y_pred: Any,
    *,
    num_classes: int | None = None,
    threshold: float = 0.5,
    from_logits: bool = False,
    sample_weight: Any | None = None,
    validate_args: bool = True,
) -> Any:
    """Recall of every class of one batch, a vector (K,) (binary: (2,), [TNR, TPR]):
    recall_c = C[c, c] / sum_j C[c, j], 0 for a class with no sample.

    Args: as `balanced_accuracy`.
    Anchor: `sklearn.metrics.recall_score(average=None, labels=range(K), zero_division=0)`.

    Examples:
        >>> import numpy as np
        >>> y_true = np.array([0, 0, 1, 1, 2, 2])
        >>> y_pred = np.eye(3)[[0, 0, 1, 0, 2, 1]]    # predicted classes 0, 0, 1, 0, 2, 1
        >>> print(np.asarray(per_class_recall(y_true, y_pred, num_classes=3)).round(4))
        [1.  0.5 0.5]
    """
    cm = _batch_confusion(y_true, y_pred, sample_weight, num_classes, threshold, from_logits, validate_args)
    return _floatx(_per_class_recall(cm))


def shot_accuracy(
    y_true: Any,
    y_pred: Any,
    *,
    samples_per_class: Any,
    many_threshold: float = 100,
    few_threshold: float = 20,
    sample_weight: Any | None = None,
    validate_args: bool = True,
) -> Any:
    """Accuracy of one batch over the many-, medium- and few-shot classes, a vector (3,):
    in each group, the mean recall over its classes present in y_true; NaN for a group with
    no class present.

    Groups (OLTR's convention): n_c training samples; many-shot n_c > many_threshold,
    few-shot n_c < few_threshold, medium-shot otherwise.

    Args:
        y_true, y_pred: as `balanced_accuracy` with num_classes = len(samples_per_class).
        samples_per_class: the training count of every class, (K,), K >= 2.
        many_threshold, few_threshold: group bounds, 0 <= few_threshold <= many_threshold.
        sample_weight, validate_args: as `balanced_accuracy`.

    Anchor: `shot_acc` of the OLTR code (Liu et al. 2019, "Large-Scale Long-Tailed
    Recognition in an Open World").

    Examples:
        >>> import numpy as np
        >>> y_true = np.array([0, 0, 1, 1, 2, 2])
        >>> y_pred = np.eye(3)[[0, 0, 1, 0, 2, 1]]    # predicted classes 0, 0, 1, 0, 2, 1
        >>> print(np.asarray(shot_accuracy(y_true, y_pred, samples_per_class=[500, 60, 5])).round(4))
        [1.  0.5 0.5]
    """
    counts, many, few = M.check_shot_args(samples_per_class, many_threshold, few_threshold)
    cm = _batch_confusion(y_true, y_pred, sample_weight, counts.shape[0], 0.5, False, validate_args)
    return _floatx(_shot_accuracy(cm, M.shot_groups(counts, many, few)))


# --------------------------------------------------------------------------------------------
# Stateful metrics
# --------------------------------------------------------------------------------------------


class _ConfusionMetric(keras.metrics.Metric):
    """Shared state: the confusion matrix as a compensated pair (`confusion` + its rounding
    error `confusion_residual`), updated per batch, reset by reset_state."""

    def __init__(self, *, num_classes, threshold, from_logits, validate_args, name, dtype) -> None:
        super().__init__(name=name, dtype=dtype)
        self.num_classes, self.threshold, self.from_logits = M.check_metric_args(num_classes, threshold, from_logits)
        self.validate_args = M.check_bool("validate_args", validate_args)
        self._cut = M.decision_threshold(self.threshold, self.from_logits)
        k = self.num_classes or 2
        self._state_dtype = _state_dtype()
        self.confusion = self.add_variable(shape=(k, k), initializer="zeros", dtype=self._state_dtype, name="confusion")
        self.confusion_residual = self.add_variable(
            shape=(k, k), initializer="zeros", dtype=self._state_dtype, name="confusion_residual"
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        t, p, w = _decisions(
            y_true, y_pred, sample_weight, self.num_classes, self._cut, self.from_logits, self.validate_args
        )
        inc_hi, inc_lo = _increment_pair(t, p, w, self.num_classes or 2, self._state_dtype)
        hi, lo = _accumulate(ops.convert_to_tensor(self.confusion), ops.convert_to_tensor(self.confusion_residual),
                             inc_hi)
        hi, lo = _accumulate(hi, lo, inc_lo)
        self.confusion.assign(hi)
        self.confusion_residual.assign(lo)

    def _score(self, cm):
        raise NotImplementedError  # each subclass defines its formula

    def result(self):
        cm = ops.convert_to_tensor(self.confusion) + ops.convert_to_tensor(self.confusion_residual)
        return ops.cast(self._score(cm), self.dtype)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(threshold=self.threshold, from_logits=self.from_logits, validate_args=self.validate_args)
        return config


@keras.saving.register_keras_serializable("classbalance")
class BalancedAccuracy(_ConfusionMetric):
    """Balanced accuracy over a stream: mean recall over the classes present in `y_true`.

    recall_c = C[c, c] / sum_j C[c, j] on the confusion matrix C accumulated over batches
    (summed sample weights); adjusted: (score - 1/P) / (1 - 1/P), P present classes (0 when
    P <= 1, where scikit-learn divides by zero). 0 before any sample.

    Args:
        num_classes: None for binary (0/1 labels, y_pred thresholded), K >= 2 for
            multi-class (y_pred (..., K) real scores, argmax; y_true indices or one-hot).
        threshold: in [0, 1]; binary prediction is y_pred > threshold.
        from_logits: binary y_pred are logits (compared with logit(threshold)); multi-class
            takes logits or probabilities either way.
        adjusted: chance-adjusted score.
        validate_args: check label/probability values when the inputs are concrete.
        name, dtype: Keras's; dtype is the result's (the state's: see the module docstring).

    Anchor: `sklearn.metrics.balanced_accuracy_score(y_true, y_pred, sample_weight, adjusted)`.

    Examples:
        >>> import numpy as np
        >>> y_true = np.array([1, 0, 0, 0, 1])
        >>> y_pred = np.array([0.9, 0.2, 0.6, 0.1, 0.4])
        >>> metric = BalancedAccuracy()
        >>> metric.update_state(y_true, y_pred)
        >>> round(float(metric.result()), 4)
        0.5833
    """

    def __init__(
        self,
        *,
        num_classes: int | None = None,
        threshold: float = 0.5,
        from_logits: bool = False,
        adjusted: bool = False,
        validate_args: bool = True,
        name: str = "balanced_accuracy",
        dtype: Any = None,
    ) -> None:
        super().__init__(
            num_classes=num_classes, threshold=threshold, from_logits=from_logits,
            validate_args=validate_args, name=name, dtype=dtype,
        )
        self.adjusted = M.check_bool("adjusted", adjusted)

    def _score(self, cm):
        return _balanced_accuracy(cm, self.adjusted)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(num_classes=self.num_classes, adjusted=self.adjusted)
        return config


@keras.saving.register_keras_serializable("classbalance")
class TruePositiveRate(_ConfusionMetric):
    """TPR (recall, sensitivity) over a stream: TP / (TP + FN), weighted; 0 with no positive.

    Args:
        threshold: in [0, 1]; predicted positive when y_pred > threshold.
        from_logits: y_pred are logits (compared with logit(threshold)).
        validate_args: check label/probability values when the inputs are concrete.
        name, dtype: Keras's.

    Anchor: `sklearn.metrics.recall_score(pos_label=1)`.

    Examples:
        >>> import numpy as np
        >>> y_true = np.array([1, 0, 0, 0, 1])
        >>> y_pred = np.array([0.9, 0.2, 0.6, 0.1, 0.4])
        >>> metric = TruePositiveRate()
        >>> metric.update_state(y_true, y_pred)
        >>> round(float(metric.result()), 4)
        0.5
    """

    def __init__(
        self,
        *,
        threshold: float = 0.5,
        from_logits: bool = False,
        validate_args: bool = True,
        name: str = "true_positive_rate",
        dtype: Any = None,
    ) -> None:
        super().__init__(
            num_classes=None, threshold=threshold, from_logits=from_logits,
            validate_args=validate_args, name=name, dtype=dtype,
        )

    def _score(self, cm):
        return _true_positive_rate(cm)


@keras.saving.register_keras_serializable("classbalance")
class TrueNegativeRate(_ConfusionMetric):
    """TNR (specificity) over a stream: TN / (TN + FP), weighted; 0 with no negative.

    Args: as `TruePositiveRate`.
    Anchor: `sklearn.metrics.recall_score(pos_label=0)`.

    Examples:
        >>> import numpy as np
        >>> y_true = np.array([1, 0, 0, 0, 1])
        >>> y_pred = np.array([0.9, 0.2, 0.6, 0.1, 0.4])
        >>> metric = TrueNegativeRate()
        >>> metric.update_state(y_true, y_pred)
        >>> round(float(metric.result()), 4)
        0.6667
    """

    def __init__(
        self,
        *,
        threshold: float = 0.5,
        from_logits: bool = False,
        validate_args: bool = True,
        name: str = "true_negative_rate",
        dtype: Any = None,
    ) -> None:
        super().__init__(
            num_classes=None, threshold=threshold, from_logits=from_logits,
            validate_args=validate_args, name=name, dtype=dtype,
        )

    def _score(self, cm):
        return _true_negative_rate(cm)


@keras.saving.register_keras_serializable("classbalance")
class WeightedBalancedAccuracy(_ConfusionMetric):
    """alpha TPR + (1 - alpha) TNR over a stream (binary).

    alpha = 0.5 equals `BalancedAccuracy` when both classes occur; unlike it, an absent
    class is not dropped (its rate counts as 0).

    Args:
        alpha: weight of the TPR, in [0, 1].
        threshold, from_logits, validate_args, name, dtype: as `TruePositiveRate`.

    Anchor: alpha recall_score(pos_label=1) + (1 - alpha) recall_score(pos_label=0).

    Examples:
        >>> import numpy as np
        >>> y_true = np.array([1, 0, 0, 0, 1])
        >>> y_pred = np.array([0.9, 0.2, 0.6, 0.1, 0.4])
        >>> metric = WeightedBalancedAccuracy(alpha=0.7)
        >>> metric.update_state(y_true, y_pred)
        >>> round(float(metric.result()), 4)
        0.55
    """

    def __init__(
        self,
        *,
        alpha: float = 0.5,
        threshold: float = 0.5,
        from_logits: bool = False,
        validate_args: bool = True,
        name: str = "weighted_balanced_accuracy",
        dtype: Any = None,
    ) -> None:
        super().__init__(
            num_classes=None, threshold=threshold, from_logits=from_logits,
            validate_args=validate_args, name=name, dtype=dtype,
        )
        self.alpha = _check_alpha(alpha)

    def _score(self, cm):
        return _weighted_balanced_accuracy(cm, self.alpha)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(alpha=self.alpha)
        return config


@keras.saving.register_keras_serializable("classbalance")
class GeometricMean(_ConfusionMetric):
    """G-mean over a stream: (prod_c recall_c)^(1/P) over the P classes that occur in y_true
    or in the predictions, on the accumulated confusion matrix; binary: sqrt(TPR x TNR).

    A recall of 0 (a class missed, or predicted but never true) makes it 0 unless
    `correction` > 0 replaces it (for many classes). 0 before any sample.

    Args:
        num_classes, threshold, from_logits, validate_args, name, dtype: as `BalancedAccuracy`.
        correction: in [0, 1], the recall substituted for a recall of 0.

    Anchor: `imblearn.metrics.geometric_mean_score(average="multiclass", correction=...)`
    (Kubat and Matwin 1997).

    Examples:
        >>> import numpy as np
        >>> y_true = np.array([0, 0, 1, 1, 2, 2])
        >>> y_pred = np.eye(3)[[0, 0, 1, 0, 2, 1]]    # predicted classes 0, 0, 1, 0, 2, 1
        >>> metric = GeometricMean(num_classes=3)
        >>> metric.update_state(y_true, y_pred)
        >>> round(float(metric.result()), 4)
        0.63
    """

    def __init__(
        self,
        *,
        num_classes: int | None = None,
        threshold: float = 0.5,
        from_logits: bool = False,
        correction: float = 0.0,
        validate_args: bool = True,
        name: str = "geometric_mean",
        dtype: Any = None,
    ) -> None:
        super().__init__(
            num_classes=num_classes, threshold=threshold, from_logits=from_logits,
            validate_args=validate_args, name=name, dtype=dtype,
        )
        self.correction = M.check_correction(correction)

    def _score(self, cm):
        return _geometric_mean(cm, self.correction)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(num_classes=self.num_classes, correction=self.correction)
        return config


@keras.saving.register_keras_serializable("classbalance")
class MatthewsCorrelation(_ConfusionMetric):
    """Matthews correlation coefficient over a stream, in [-1, 1]:
    (c s - t.p) / sqrt((s^2 - t.t)(s^2 - p.p)) on the accumulated confusion matrix (t, p:
    true and predicted class totals, s: total, c: trace); 0 when undefined (no sample, or
    a single class in the labels or in the predictions).

    Args: as `BalancedAccuracy` (without `adjusted`).
    Anchor: `sklearn.metrics.matthews_corrcoef` (Matthews 1975; Gorodkin 2004 for K classes).

    Examples:
        >>> import numpy as np
        >>> y_true = np.array([0, 0, 1, 1, 2, 2])
        >>> y_pred = np.eye(3)[[0, 0, 1, 0, 2, 1]]    # predicted classes 0, 0, 1, 0, 2, 1
        >>> metric = MatthewsCorrelation(num_classes=3)
        >>> metric.update_state(y_true, y_pred)
        >>> round(float(metric.result()), 4)
        0.5222
    """

    def __init__(
        self,
        *,
        num_classes: int | None = None,
        threshold: float = 0.5,
        from_logits: bool = False,
        validate_args: bool = True,
        name: str = "matthews_correlation",
        dtype: Any = None,
    ) -> None:
        super().__init__(
            num_classes=num_classes, threshold=threshold, from_logits=from_logits,
            validate_args=validate_args, name=name, dtype=dtype,
        )

    def _score(self, cm):
        return _matthews_correlation(cm)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(num_classes=self.num_classes)
        return config


@keras.saving.register_keras_serializable("classbalance")
class PerClassRecall(_ConfusionMetric):
    """Recall of every class over a stream, a vector (K,) (binary: (2,), [TNR, TPR]):
    recall_c = C[c, c] / sum_j C[c, j] on the accumulated confusion matrix, 0 for a class
    with no sample yet.

    Args: as `BalancedAccuracy` (without `adjusted`).
    Anchor: `sklearn.metrics.recall_score(average=None, labels=range(K), zero_division=0)`.

    Examples:
        >>> import numpy as np
        >>> y_true = np.array([0, 0, 1, 1, 2, 2])
        >>> y_pred = np.eye(3)[[0, 0, 1, 0, 2, 1]]    # predicted classes 0, 0, 1, 0, 2, 1
        >>> metric = PerClassRecall(num_classes=3)
        >>> metric.update_state(y_true, y_pred)
        >>> print(np.asarray(metric.result()).round(4))
        [1.  0.5 0.5]
    """

    def __init__(
        self,
        *,
        num_classes: int | None = None,
        threshold: float = 0.5,
        from_logits: bool = False,
        validate_args: bool = True,
        name: str = "per_class_recall",
        dtype: Any = None,
    ) -> None:
        super().__init__(
            num_classes=num_classes, threshold=threshold, from_logits=from_logits,
            validate_args=validate_args, name=name, dtype=dtype,
        )

    def _score(self, cm):
        return _per_class_recall(cm)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(num_classes=self.num_classes)
        return config


@keras.saving.register_keras_serializable("classbalance")
class ShotAccuracy(_ConfusionMetric):
    """Accuracy over the many-, medium- and few-shot classes over a stream, a vector (3,)
    [many, medium, few]: in each group, the mean recall (per-class accuracy) over its
    classes present in y_true so far; NaN for a group with no class present.

    Groups (OLTR's convention): n_c training samples; many-shot n_c > many_threshold,
    few-shot n_c < few_threshold, medium-shot otherwise. Multi-class: y_pred (..., K) with
    K = len(samples_per_class), argmax; y_true indices or one-hot.

    Args:
        samples_per_class: the training count of every class, (K,), K >= 2.
        many_threshold, few_threshold: group bounds, 0 <= few_threshold <= many_threshold.
        validate_args, name, dtype: as `BalancedAccuracy`.

    Anchor: `shot_acc` of the OLTR code (Liu et al. 2019, "Large-Scale Long-Tailed
    Recognition in an Open World").

    Examples:
        >>> import numpy as np
        >>> y_true = np.array([0, 0, 1, 1, 2, 2])
        >>> y_pred = np.eye(3)[[0, 0, 1, 0, 2, 1]]    # predicted classes 0, 0, 1, 0, 2, 1
        >>> metric = ShotAccuracy([500, 60, 5])
        >>> metric.update_state(y_true, y_pred)
        >>> print(np.asarray(metric.result()).round(4))
        [1.  0.5 0.5]
    """

    def __init__(
        self,
        samples_per_class: Any,
        *,
        many_threshold: float = 100,
        few_threshold: float = 20,
        validate_args: bool = True,
        name: str = "shot_accuracy",
        dtype: Any = None,
    ) -> None:
        counts, many, few = M.check_shot_args(samples_per_class, many_threshold, few_threshold)
        super().__init__(
            num_classes=counts.shape[0], threshold=0.5, from_logits=False,
            validate_args=validate_args, name=name, dtype=dtype,
        )
        self.samples_per_class, self.many_threshold, self.few_threshold = counts.tolist(), many, few
        self._groups = M.shot_groups(counts, many, few)

    def _score(self, cm):
        return _shot_accuracy(cm, self._groups)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["threshold"], config["from_logits"]  # fixed: the argmax decides
        config.update(samples_per_class=self.samples_per_class, many_threshold=self.many_threshold,
                      few_threshold=self.few_threshold)
        return config
