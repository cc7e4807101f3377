"""Balanced accuracy and its parts, TPR and TNR, for Keras: functional forms and metrics."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from imbalance_core import metrics
from imbalance_core.validation import check_number

from ._confusion import BinaryConfusionMetric, ConfusionMetric, batch_confusion, const, floatx, ratio, recalls


def _balanced_accuracy(cm: Any, adjusted: bool) -> Any:
    zero, one = const(0.0, cm), const(1.0, cm)
    recall, present = recalls(cm)
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


def _true_positive_rate(cm: Any) -> Any:
    return ratio(cm[1, 1], cm[1, 0] + cm[1, 1])


def _true_negative_rate(cm: Any) -> Any:
    return ratio(cm[0, 0], cm[0, 0] + cm[0, 1])


def _weighted_balanced_accuracy(cm: Any, alpha: float) -> Any:
    return const(alpha, cm) * _true_positive_rate(cm) + const(1.0 - alpha, cm) * _true_negative_rate(cm)


def _check_alpha(alpha: Any) -> float:
    return check_number("alpha", alpha, low=0.0, high=1.0)


def balanced_accuracy(y_true: Any, y_pred: Any, *, num_classes: int | None = None, threshold: float = 0.5,
                      from_logits: bool = False, adjusted: bool = False, sample_weight: Any | None = None,
                      validate_args: bool = True) -> Any:
    """Balanced accuracy of one batch: mean recall over the classes present in `y_true`.

    recall_c = C[c, c] / sum_j C[c, j] (C: weighted confusion matrix); adjusted:
    (score - 1/P) / (1 - 1/P) over P present classes (0 when P <= 1, where scikit-learn
    divides by zero).

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
    adjusted = metrics.check_bool("adjusted", adjusted)
    cm = batch_confusion(y_true, y_pred, sample_weight, num_classes, threshold, from_logits, validate_args)
    return floatx(_balanced_accuracy(cm, adjusted))


def true_positive_rate(y_true: Any, y_pred: Any, *, threshold: float = 0.5, from_logits: bool = False,
                       sample_weight: Any | None = None, validate_args: bool = True) -> Any:
    """TPR (recall, sensitivity) of one batch: TP / (TP + FN); 0 when there is no positive.

    Args: as `balanced_accuracy` in binary mode.
    Anchor: `sklearn.metrics.recall_score(pos_label=1)`.

    Examples:
        >>> import numpy as np
        >>> y_true = np.array([1, 0, 0, 0, 1])
        >>> logits = np.array([2.2, -1.4, 0.4, -2.2, -0.4])
        >>> round(float(true_positive_rate(y_true, logits, from_logits=True)), 4)
        0.5
    """
    cm = batch_confusion(y_true, y_pred, sample_weight, None, threshold, from_logits, validate_args)
    return floatx(_true_positive_rate(cm))


def true_negative_rate(y_true: Any, y_pred: Any, *, threshold: float = 0.5, from_logits: bool = False,
                       sample_weight: Any | None = None, validate_args: bool = True) -> Any:
    """TNR (specificity) of one batch: TN / (TN + FP); 0 when there is no negative. A higher
    threshold trades TPR for TNR.

    Args: as `true_positive_rate`.
    Anchor: `sklearn.metrics.recall_score(pos_label=0)`.

    Examples:
        >>> import numpy as np
        >>> y_true, y_pred = np.array([1, 0, 0, 0, 1]), np.array([0.9, 0.2, 0.6, 0.1, 0.4])
        >>> [round(float(true_negative_rate(y_true, y_pred, threshold=t)), 4) for t in (0.5, 0.7)]
        [0.6667, 1.0]
    """
    cm = batch_confusion(y_true, y_pred, sample_weight, None, threshold, from_logits, validate_args)
    return floatx(_true_negative_rate(cm))


def weighted_balanced_accuracy(y_true: Any, y_pred: Any, *, alpha: float = 0.5, threshold: float = 0.5,
                               from_logits: bool = False, sample_weight: Any | None = None,
                               validate_args: bool = True) -> Any:
    """alpha TPR + (1 - alpha) TNR of one batch (binary); alpha in [0, 1].

    alpha = 0.5 equals `balanced_accuracy` when both classes occur; unlike it, an absent class
    is not dropped: its rate counts as 0.

    Args: as `true_positive_rate`, plus `alpha`, the weight of the TPR.
    Anchor: alpha recall_score(pos_label=1) + (1 - alpha) recall_score(pos_label=0).

    Examples:
        >>> import numpy as np
        >>> y_true = np.array([1, 0, 0, 0, 1])
        >>> y_pred = np.array([0.9, 0.2, 0.6, 0.1, 0.4])
        >>> round(float(weighted_balanced_accuracy(y_true, y_pred, alpha=0.7)), 4)
        0.55
    """
    alpha = _check_alpha(alpha)
    cm = batch_confusion(y_true, y_pred, sample_weight, None, threshold, from_logits, validate_args)
    return floatx(_weighted_balanced_accuracy(cm, alpha))


@keras.saving.register_keras_serializable("classbalance")
class BalancedAccuracy(ConfusionMetric):
    """`balanced_accuracy` over a stream (see it for the formula, the arguments and the anchor):
    the mean recall over the classes present in `y_true` in every batch so far.

    Keywords, as for every metric class here: the function's, `sample_weight` aside (an
    argument of `update_state`), and Keras's `name` and `dtype` (the result's; the state's:
    see the package docstring).

    Examples:
        >>> import numpy as np
        >>> metric = BalancedAccuracy()
        >>> metric.update_state(np.array([1, 0, 0]), np.array([0.9, 0.2, 0.6]))
        >>> metric.update_state(np.array([0, 1]), np.array([0.1, 0.4]))
        >>> round(float(metric.result()), 4)  # balanced_accuracy of the five samples
        0.5833
    """

    def __init__(self, *, num_classes: int | None = None, threshold: float = 0.5, from_logits: bool = False,
                 adjusted: bool = False, validate_args: bool = True, name: str | None = None,
                 dtype: Any = None) -> None:
        super().__init__(num_classes=num_classes, threshold=threshold, from_logits=from_logits,
                         validate_args=validate_args, name=name, dtype=dtype)
        self.adjusted = metrics.check_bool("adjusted", adjusted)

    def _score(self, cm: Any) -> Any:
        return _balanced_accuracy(cm, self.adjusted)


@keras.saving.register_keras_serializable("classbalance")
class TruePositiveRate(BinaryConfusionMetric):
    """`true_positive_rate` over a stream: TP / (TP + FN) of every batch so far.

    Examples:
        >>> import numpy as np
        >>> metric = TruePositiveRate(threshold=0.3)
        >>> for y_true, y_pred in [([1, 0, 0], [0.9, 0.2, 0.6]), ([0, 1], [0.1, 0.4])]:
        ...     metric.update_state(np.array(y_true), np.array(y_pred))
        >>> float(metric.result())   # 0.4 > 0.3: both positives found
        1.0
    """

    def _score(self, cm: Any) -> Any:
        return _true_positive_rate(cm)


@keras.saving.register_keras_serializable("classbalance")
class TrueNegativeRate(BinaryConfusionMetric):
    """`true_negative_rate` over a stream: TN / (TN + FP) of every batch so far, weighted.

    Examples:
        >>> import numpy as np
        >>> metric = TrueNegativeRate()
        >>> metric.update_state(np.array([1, 0, 0, 0]), np.array([0.9, 0.2, 0.6, 0.1]),
        ...                     sample_weight=np.array([1.0, 1.0, 2.0, 1.0]))
        >>> float(metric.result())
        0.5
    """

    def _score(self, cm: Any) -> Any:
        return _true_negative_rate(cm)


@keras.saving.register_keras_serializable("classbalance")
class WeightedBalancedAccuracy(BinaryConfusionMetric):
    """`weighted_balanced_accuracy` over a stream: alpha TPR + (1 - alpha) TNR of every batch
    so far.

    Examples:
        >>> import numpy as np
        >>> metric = WeightedBalancedAccuracy(alpha=0.7)
        >>> metric.update_state(np.array([1, 0, 0]), np.array([0.9, 0.2, 0.6]))
        >>> metric.update_state(np.array([0, 1]), np.array([0.1, 0.4]))
        >>> round(float(metric.result()), 4)
        0.55
    """

    def __init__(self, *, alpha: float = 0.5, threshold: float = 0.5, from_logits: bool = False,
                 validate_args: bool = True, name: str | None = None, dtype: Any = None) -> None:
        super().__init__(threshold=threshold, from_logits=from_logits, validate_args=validate_args, name=name,
                         dtype=dtype)
        self.alpha = _check_alpha(alpha)

    def _score(self, cm: Any) -> Any:
        return _weighted_balanced_accuracy(cm, self.alpha)
