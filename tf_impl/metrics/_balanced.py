"""Balanced accuracy and its parts, TPR and TNR, for Keras: functional forms and metrics."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from imbalance_core import metrics
from imbalance_core.validation import check_number

from ._confusion import BinaryConfusionMetric, ConfusionMetric, batch_confusion, const, floatx, ratio, recalls


def _balanced_accuracy(cm, adjusted: bool):
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


def _true_positive_rate(cm):
    return ratio(cm[1, 1], cm[1, 0] + cm[1, 1])


def _true_negative_rate(cm):
    return ratio(cm[0, 0], cm[0, 0] + cm[0, 1])


def _weighted_balanced_accuracy(cm, alpha: float):
    return const(alpha, cm) * _true_positive_rate(cm) + const(1.0 - alpha, cm) * _true_negative_rate(cm)


def _check_alpha(alpha) -> float:
    return check_number("alpha", alpha, low=0.0, high=1.0)


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
        >>> y_pred = np.array([0.9, 0.2, 0.6, 0.1, 0.4])
        >>> round(float(true_positive_rate(y_true, y_pred)), 4)
        0.5
    """
    cm = batch_confusion(y_true, y_pred, sample_weight, None, threshold, from_logits, validate_args)
    return floatx(_true_positive_rate(cm))


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
    cm = batch_confusion(y_true, y_pred, sample_weight, None, threshold, from_logits, validate_args)
    return floatx(_true_negative_rate(cm))


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
    cm = batch_confusion(y_true, y_pred, sample_weight, None, threshold, from_logits, validate_args)
    return floatx(_weighted_balanced_accuracy(cm, alpha))


@keras.saving.register_keras_serializable("classbalance")
class BalancedAccuracy(ConfusionMetric):
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
        name: str | None = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(num_classes=num_classes, threshold=threshold, from_logits=from_logits,
                         validate_args=validate_args, name=name, dtype=dtype)
        self.adjusted = metrics.check_bool("adjusted", adjusted)

    def _score(self, cm):
        return _balanced_accuracy(cm, self.adjusted)


@keras.saving.register_keras_serializable("classbalance")
class TruePositiveRate(BinaryConfusionMetric):
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

    def _score(self, cm):
        return _true_positive_rate(cm)


@keras.saving.register_keras_serializable("classbalance")
class TrueNegativeRate(BinaryConfusionMetric):
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

    def _score(self, cm):
        return _true_negative_rate(cm)


@keras.saving.register_keras_serializable("classbalance")
class WeightedBalancedAccuracy(BinaryConfusionMetric):
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
        name: str | None = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(threshold=threshold, from_logits=from_logits, validate_args=validate_args, name=name,
                         dtype=dtype)
        self.alpha = _check_alpha(alpha)

    def _score(self, cm):
        return _weighted_balanced_accuracy(cm, self.alpha)
