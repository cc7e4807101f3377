"""Imbalance metrics for Keras 3. The mirror of torch_impl/metrics.py.

Stateful `keras.metrics.Metric` subclasses for `model.compile(metrics=[...])` and functional
forms `fn(y_true, y_pred, **kw)`. keras.ops only, so every Keras backend runs them.

State: a K x K confusion matrix of summed sample weights, C[true, predicted], in float64 so
that counts stay exact over long streams (K = 2 in binary mode); the result is computed from
it in float64 and returned in the metric dtype. Formulas, checks and messages come from
`imbalance_core.metrics` (scikit-learn's definitions):

- binary (`num_classes=None`): y_true of 0/1, y_pred probabilities (or logits with
  `from_logits=True`) of the same shape; predicted positive when y_pred > threshold
  (logit(threshold) on logits). Every element is one decision (multi-label: micro).
- multi-class (`num_classes=K`): y_pred (..., K) scores, predicted class = argmax; y_true
  class indices (...) or (..., 1), or one-hot (..., K). `threshold`/`from_logits` only decide
  whether y_pred must be probabilities in [0, 1].
- `sample_weight`: a scalar, or the leading axes of the per-decision shape (broadcast).

Content checks (`validate_args=True`) run whenever the inputs are concrete (eager on every
backend, and Keras's torch backend inside `fit`); inside a traced graph (TensorFlow's
`tf.function`, jax `jit`) they are skipped, shape and dtype checks still run.
"""

from __future__ import annotations

from typing import Optional

import keras
from keras import ops

from imbalance_core import metrics as M
from imbalance_core.validation import check_float_dtype, check_number

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
]


def _shape(x) -> tuple:
    return tuple(x.shape)


def _concrete(x):
    """NumPy value of an eager tensor; None for a symbolic/traced one (checks are skipped)."""
    try:
        return ops.convert_to_numpy(x)
    except Exception:  # tf graph tensors and jax tracers cannot be converted: no content check
        return None


def _graph_checks(mode, num_classes, from_logits, y_true, y_pred) -> None:
    """The label/probability checks as tf.debugging assertions (same message prefixes) when
    the tensors are symbolic in a TensorFlow graph; a no-op under other backends' tracing."""
    if not from_logits:
        _ops.check_in_range("y_pred", y_pred, 0.0, 1.0, "probabilities")
    if mode == "binary":
        _ops.check_in_range("y_true", y_true, 0.0, 1.0, "binary labels (0 or 1)")
    elif mode == "onehot":
        _ops.check_in_range("y_true", y_true, 0.0, 1.0, "one-hot labels")
    else:
        _ops.check_class_indices("y_true", y_true, num_classes, None)


def _confusion(y_true, y_pred, sample_weight, num_classes, cut, from_logits, validate_args):
    """The K x K float64 confusion-matrix increment of one batch."""
    y_pred = ops.convert_to_tensor(y_pred)
    check_float_dtype("y_pred", keras.backend.standardize_dtype(y_pred.dtype))
    y_true = ops.convert_to_tensor(y_true)
    mode = M.input_mode(num_classes, _shape(y_true), _shape(y_pred))
    per_sample = M.sample_shape(mode, _shape(y_true))
    if sample_weight is not None:
        sample_weight = ops.convert_to_tensor(sample_weight)
        message = M.sample_weight_shape_error(_shape(sample_weight), per_sample)
        if message:
            raise ValueError(message)
    if validate_args:
        values = [_concrete(v) for v in (y_true, y_pred)] + [None if sample_weight is None else _concrete(sample_weight)]
        if values[0] is not None and values[1] is not None and (sample_weight is None or values[2] is not None):
            M.check_metric_values(mode, num_classes, from_logits, values[0], values[1], values[2])
        else:  # traced: tf.debugging assertions inside a TensorFlow graph (model.fit), else skipped
            _graph_checks(mode, num_classes, from_logits, y_true, y_pred)

    k = num_classes or 2
    if mode == "binary":
        # Compared in y_pred's dtype (the cut is a weak Python scalar), like torch_impl.
        t = ops.cast(ops.greater(ops.cast(y_true, "float32"), 0.5), "int32")
        p = ops.cast(ops.greater(y_pred, cut), "int32")
    else:
        p = ops.cast(ops.argmax(y_pred, axis=-1), "int32")
        if mode == "onehot":
            t = ops.cast(ops.argmax(y_true, axis=-1), "int32")
        else:
            t = ops.cast(y_true, "int32")
            if len(_shape(y_true)) == len(_shape(y_pred)):  # (..., 1) sparse labels
                t = ops.squeeze(t, axis=-1)
    if sample_weight is None:
        w = ops.ones_like(ops.cast(t, "float64"))
    else:
        w = ops.cast(sample_weight, "float64")
        for _ in range(len(per_sample) - len(_shape(w))):
            w = ops.expand_dims(w, -1)
        # Multiplying by ones broadcasts to the per-decision shape, known or not (graph mode).
        w = w * ops.ones_like(ops.cast(t, "float64"))
    return _scatter_confusion(ops.reshape(t, (-1,)), ops.reshape(p, (-1,)), ops.reshape(w, (-1,)), k)


def _one_hot(idx, k: int):
    # Comparison rather than ops.one_hot: an index outside [0, k) (only possible with
    # validate_args=False) gives a zero row, so it contributes nothing, as in torch_impl.
    return ops.cast(ops.equal(ops.expand_dims(idx, -1), ops.arange(k, dtype="int32")), "float64")


def _scatter_confusion(t, p, w, k: int):
    """C[t_i, p_i] += w_i in float64. einsum, because on Keras's torch backend ops.matmul,
    ops.bincount and ops.segment_sum all compute float64 inputs in float32 (Keras 3.15)."""
    return ops.einsum("ni,nj->ij", _one_hot(t, k) * ops.expand_dims(w, -1), _one_hot(p, k))


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


def _check_alpha(alpha) -> float:
    return check_number("alpha", alpha, low=0.0, high=1.0)


def _batch_confusion(y_true, y_pred, sample_weight, num_classes, threshold, from_logits, validate_args):
    num_classes, threshold, from_logits = M.check_metric_args(num_classes, threshold, from_logits)
    validate_args = M.check_bool("validate_args", validate_args)
    cut = M.decision_threshold(threshold, from_logits)
    return _confusion(y_true, y_pred, sample_weight, num_classes, cut, from_logits, validate_args)


def _floatx(x):
    return ops.cast(x, keras.config.floatx())


# --------------------------------------------------------------------------------------------
# Functional forms: one batch, no state. Return a scalar tensor in keras.config.floatx().
# --------------------------------------------------------------------------------------------


def balanced_accuracy(
    y_true,
    y_pred,
    *,
    num_classes: Optional[int] = None,
    threshold: float = 0.5,
    from_logits: bool = False,
    adjusted: bool = False,
    sample_weight=None,
    validate_args: bool = True,
):
    """Balanced accuracy of one batch: mean recall over the classes present in `y_true`.

    recall_c = C[c, c] / sum_j C[c, j] (C: weighted confusion matrix); adjusted:
    (score - 1/P) / (1 - 1/P) over P present classes (0 when P <= 1).

    Args:
        y_true: binary 0/1 labels shaped like `y_pred` (num_classes=None); or class indices
            (...)/(..., 1) or one-hot (..., K).
        y_pred: probabilities (logits with `from_logits=True`); (..., K) scores for K classes.
        num_classes: None for binary, K >= 2 for multi-class (argmax).
        threshold: in [0, 1]; binary prediction is y_pred > threshold.
        from_logits: y_pred are logits (compared with logit(threshold)).
        adjusted: chance-adjusted score (0 at chance, 1 perfect).
        sample_weight: scalar or the leading axes of the per-decision shape.
        validate_args: check label/probability values when the inputs are concrete.

    Anchor: `sklearn.metrics.balanced_accuracy_score(adjusted=...)`.
    """
    adjusted = M.check_bool("adjusted", adjusted)
    cm = _batch_confusion(y_true, y_pred, sample_weight, num_classes, threshold, from_logits, validate_args)
    return _floatx(_balanced_accuracy(cm, adjusted))


def true_positive_rate(y_true, y_pred, *, threshold: float = 0.5, from_logits: bool = False, sample_weight=None, validate_args: bool = True):
    """TPR (recall, sensitivity) of one batch: TP / (TP + FN); 0 when there is no positive.

    Args: as `balanced_accuracy` in binary mode.
    Anchor: `sklearn.metrics.recall_score(pos_label=1)`.
    """
    cm = _batch_confusion(y_true, y_pred, sample_weight, None, threshold, from_logits, validate_args)
    return _floatx(_true_positive_rate(cm))


def true_negative_rate(y_true, y_pred, *, threshold: float = 0.5, from_logits: bool = False, sample_weight=None, validate_args: bool = True):
    """TNR (specificity) of one batch: TN / (TN + FP); 0 when there is no negative.

    Args: as `balanced_accuracy` in binary mode.
    Anchor: `sklearn.metrics.recall_score(pos_label=0)`.
    """
    cm = _batch_confusion(y_true, y_pred, sample_weight, None, threshold, from_logits, validate_args)
    return _floatx(_true_negative_rate(cm))


def weighted_balanced_accuracy(
    y_true,
    y_pred,
    *,
    alpha: float = 0.5,
    threshold: float = 0.5,
    from_logits: bool = False,
    sample_weight=None,
    validate_args: bool = True,
):
    """alpha TPR + (1 - alpha) TNR of one batch (binary); alpha in [0, 1].

    Unlike `balanced_accuracy`, an absent class is not dropped: its rate counts as 0.

    Args: as `balanced_accuracy` in binary mode, plus `alpha`, the weight of the TPR.
    Anchor: alpha recall_score(pos_label=1) + (1 - alpha) recall_score(pos_label=0).
    """
    alpha = _check_alpha(alpha)
    cm = _batch_confusion(y_true, y_pred, sample_weight, None, threshold, from_logits, validate_args)
    return _floatx(_weighted_balanced_accuracy(cm, alpha))


# --------------------------------------------------------------------------------------------
# Stateful metrics
# --------------------------------------------------------------------------------------------


class _ConfusionMetric(keras.metrics.Metric):
    """Shared state: the float64 confusion matrix, updated per batch, reset by reset_state."""

    def __init__(self, *, num_classes, threshold, from_logits, validate_args, name, dtype) -> None:
        super().__init__(name=name, dtype=dtype)
        self.num_classes, self.threshold, self.from_logits = M.check_metric_args(num_classes, threshold, from_logits)
        self.validate_args = M.check_bool("validate_args", validate_args)
        self._cut = M.decision_threshold(self.threshold, self.from_logits)
        k = self.num_classes or 2
        self.confusion = self.add_variable(shape=(k, k), initializer="zeros", dtype="float64", name="confusion")

    def update_state(self, y_true, y_pred, sample_weight=None):
        delta = _confusion(
            y_true, y_pred, sample_weight, self.num_classes, self._cut, self.from_logits, self.validate_args
        )
        self.confusion.assign_add(delta)

    def _score(self, cm):
        raise NotImplementedError  # each subclass defines its formula

    def result(self):
        return ops.cast(self._score(ops.convert_to_tensor(self.confusion)), self.dtype)

    def get_config(self):
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
            multi-class (y_pred (..., K), argmax; y_true indices or one-hot).
        threshold: in [0, 1]; binary prediction is y_pred > threshold.
        from_logits: y_pred are logits (compared with logit(threshold)).
        adjusted: chance-adjusted score.
        validate_args: check label/probability values when the inputs are concrete.
        name, dtype: Keras's; dtype is the result's (state is float64).

    Anchor: `sklearn.metrics.balanced_accuracy_score(y_true, y_pred, sample_weight, adjusted)`.
    """

    def __init__(
        self,
        *,
        num_classes: Optional[int] = None,
        threshold: float = 0.5,
        from_logits: bool = False,
        adjusted: bool = False,
        validate_args: bool = True,
        name: str = "balanced_accuracy",
        dtype=None,
    ) -> None:
        super().__init__(
            num_classes=num_classes, threshold=threshold, from_logits=from_logits,
            validate_args=validate_args, name=name, dtype=dtype,
        )
        self.adjusted = M.check_bool("adjusted", adjusted)

    def _score(self, cm):
        return _balanced_accuracy(cm, self.adjusted)

    def get_config(self):
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
    """

    def __init__(
        self,
        *,
        threshold: float = 0.5,
        from_logits: bool = False,
        validate_args: bool = True,
        name: str = "true_positive_rate",
        dtype=None,
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
    """

    def __init__(
        self,
        *,
        threshold: float = 0.5,
        from_logits: bool = False,
        validate_args: bool = True,
        name: str = "true_negative_rate",
        dtype=None,
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
    """

    def __init__(
        self,
        *,
        alpha: float = 0.5,
        threshold: float = 0.5,
        from_logits: bool = False,
        validate_args: bool = True,
        name: str = "weighted_balanced_accuracy",
        dtype=None,
    ) -> None:
        super().__init__(
            num_classes=None, threshold=threshold, from_logits=from_logits,
            validate_args=validate_args, name=name, dtype=dtype,
        )
        self.alpha = _check_alpha(alpha)

    def _score(self, cm):
        return _weighted_balanced_accuracy(cm, self.alpha)

    def get_config(self):
        config = super().get_config()
        config.update(alpha=self.alpha)
        return config
