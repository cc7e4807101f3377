"""The long-tail metrics for Keras: G-mean, Matthews correlation, per-class recall and the
many/medium/few-shot accuracy; functional forms and metrics."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

from imbalance_core import metrics

from ._confusion import ConfusionMetric, batch_confusion, const, floatx, recalls


def _per_class_recall(cm: Any) -> Any:
    return recalls(cm)[0]


def _geometric_mean(cm: Any, correction: float) -> Any:
    zero, one = const(0.0, cm), const(1.0, cm)
    recall, _ = recalls(cm)
    # imbalanced-learn's classes: those in the labels or in the predictions
    included = ops.logical_or(ops.greater(ops.sum(cm, axis=1), zero), ops.greater(ops.sum(cm, axis=0), zero))
    r = ops.where(ops.greater(recall, zero), recall, const(correction, cm))
    positive = ops.greater(r, zero)
    n = ops.sum(ops.cast(included, cm.dtype))
    # exp(mean log r), not a product: a product of many recalls underflows
    log_sum = ops.sum(ops.where(ops.logical_and(included, positive), ops.log(ops.where(positive, r, one)), zero))
    missing = ops.any(ops.logical_and(included, ops.logical_not(positive)))
    defined = ops.logical_and(ops.greater(n, zero), ops.logical_not(missing))
    return ops.where(defined, ops.exp(ops.divide(log_sum, ops.where(ops.greater(n, zero), n, one))), zero)


def _matthews_correlation(cm: Any) -> Any:
    zero, one = const(0.0, cm), const(1.0, cm)
    t, p = ops.sum(cm, axis=1), ops.sum(cm, axis=0)
    s = ops.sum(t)
    # elementwise sums, not ops.dot: Keras's torch backend runs float64 matmuls in float32
    cov_tp = ops.sum(ops.diagonal(cm)) * s - ops.sum(t * p)
    cov_tt, cov_pp = ops.sum(t * (s - t)), ops.sum(p * (s - p))  # s^2 - t.t without rounding s^2
    defined = ops.logical_and(ops.greater(cov_tt, zero), ops.greater(cov_pp, zero))
    # sqrt(a) sqrt(b), not sqrt(a b): a b would overflow float32 (jax without x64) past 2^32 samples
    den = ops.where(defined, ops.sqrt(cov_tt) * ops.sqrt(cov_pp), one)
    return ops.where(defined, ops.divide(cov_tp, den), zero)


def _shot_accuracy(cm: Any, groups: np.ndarray) -> Any:
    recall, present = recalls(cm)
    members = ops.convert_to_tensor(groups, dtype=cm.dtype) * ops.cast(present, cm.dtype)[None, :]
    count = ops.sum(members, axis=1)
    some = ops.greater(count, const(0.0, cm))
    mean = ops.divide(ops.sum(members * recall[None, :], axis=1), ops.where(some, count, const(1.0, cm)))
    return ops.where(some, mean, const(float("nan"), cm))


def geometric_mean(y_true: Any, y_pred: Any, *, num_classes: int | None = None, threshold: float = 0.5,
                   from_logits: bool = False, correction: float = 0.0, sample_weight: Any | None = None,
                   validate_args: bool = True) -> Any:
    """G-mean of one batch: (prod_c recall_c)^(1/P) over the P classes that occur in y_true
    or in the predictions; binary: sqrt(TPR x TNR).

    A recall of 0 (a class missed, or predicted but absent from y_true) makes it 0 unless
    `correction` > 0 replaces it (for many classes). 0 with no sample.

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
    correction = metrics.check_correction(correction)
    cm = batch_confusion(y_true, y_pred, sample_weight, num_classes, threshold, from_logits, validate_args)
    return floatx(_geometric_mean(cm, correction))


def matthews_correlation(y_true: Any, y_pred: Any, *, num_classes: int | None = None, threshold: float = 0.5,
                         from_logits: bool = False, sample_weight: Any | None = None,
                         validate_args: bool = True) -> Any:
    """Matthews correlation coefficient of one batch, in [-1, 1]:
    (c s - t.p) / sqrt((s^2 - t.t)(s^2 - p.p)) with t, p the true and predicted class totals,
    s the total and c the trace of the weighted confusion matrix; 0 when undefined (no sample,
    or a single class in the labels or in the predictions).

    Args: as `balanced_accuracy` (without `adjusted`).
    Anchor: `sklearn.metrics.matthews_corrcoef` (Matthews 1975; Gorodkin 2004 for K classes).

    Examples:
        >>> import numpy as np
        >>> y_true = np.array([1, 0, 1, 0, 1, 1])
        >>> y_pred = np.array([0.8, 0.3, 0.6, 0.7, 0.2, 0.9])
        >>> round(float(matthews_correlation(y_true, y_pred)), 4)
        0.25
    """
    cm = batch_confusion(y_true, y_pred, sample_weight, num_classes, threshold, from_logits, validate_args)
    return floatx(_matthews_correlation(cm))


def per_class_recall(y_true: Any, y_pred: Any, *, num_classes: int | None = None, threshold: float = 0.5,
                     from_logits: bool = False, sample_weight: Any | None = None, validate_args: bool = True) -> Any:
    """Recall of every class of one batch, a vector (K,) (binary: (2,), [TNR, TPR]):
    recall_c = C[c, c] / sum_j C[c, j], 0 for a class with no sample.

    Args: as `balanced_accuracy` (without `adjusted`).
    Anchor: `sklearn.metrics.recall_score(average=None, labels=range(K), zero_division=0)`.

    Examples:
        >>> import numpy as np
        >>> y_true = np.array([0, 0, 1, 1, 2, 2])
        >>> scores = np.array([[3.0, 0.1, 0.2], [2.0, 1.0, 0.5], [0.1, 1.5, 0.2], [0.9, 0.8, 0.1],
        ...                    [0.1, 0.2, 4.0], [0.0, 2.0, 1.0]])   # any real scores: argmax
        >>> print(np.asarray(per_class_recall(y_true, scores, num_classes=3)).round(4))
        [1.  0.5 0.5]
    """
    cm = batch_confusion(y_true, y_pred, sample_weight, num_classes, threshold, from_logits, validate_args)
    return floatx(_per_class_recall(cm))


def shot_accuracy(y_true: Any, y_pred: Any, *, samples_per_class: Any, many_threshold: float = 100,
                  few_threshold: float = 20, sample_weight: Any | None = None, validate_args: bool = True) -> Any:
    """Accuracy of one batch over the many-, medium- and few-shot classes, a vector (3,)
    [many, medium, few]: in each group, the mean recall (per-class accuracy) over its classes
    present in y_true; NaN for a group with no class present.

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
    counts, many, few = metrics.check_shot_args(samples_per_class, many_threshold, few_threshold)
    cm = batch_confusion(y_true, y_pred, sample_weight, counts.shape[0], 0.5, False, validate_args)
    return floatx(_shot_accuracy(cm, metrics.shot_groups(counts, many, few)))


@keras.saving.register_keras_serializable("classbalance")
class GeometricMean(ConfusionMetric):
    """`geometric_mean` over a stream (see it for the formula, the arguments and the anchor):
    one missed class in any batch keeps it at 0, unless `correction` > 0.

    Examples:
        >>> import numpy as np
        >>> metric = GeometricMean(num_classes=3, correction=0.001)
        >>> metric.update_state(np.array([0, 1, 2]), np.eye(3)[[0, 1, 1]])
        >>> metric.update_state(np.array([0, 1, 2]), np.eye(3)[[0, 1, 0]])
        >>> round(float(metric.result()), 4)   # class 2 never right: recall 0 -> 0.001
        0.1
    """

    def __init__(self, *, num_classes: int | None = None, threshold: float = 0.5, from_logits: bool = False,
                 correction: float = 0.0, validate_args: bool = True, name: str | None = None,
                 dtype: Any = None) -> None:
        super().__init__(num_classes=num_classes, threshold=threshold, from_logits=from_logits,
                         validate_args=validate_args, name=name, dtype=dtype)
        self.correction = metrics.check_correction(correction)

    def _score(self, cm: Any) -> Any:
        return _geometric_mean(cm, self.correction)


@keras.saving.register_keras_serializable("classbalance")
class MatthewsCorrelation(ConfusionMetric):
    """`matthews_correlation` over a stream: the coefficient of the confusion matrix of every
    batch so far.

    Examples:
        >>> import numpy as np
        >>> metric = MatthewsCorrelation()
        >>> metric.update_state(np.array([1, 0, 1, 0]), np.array([0.8, 0.3, 0.6, 0.7]))
        >>> round(float(metric.result()), 4)
        0.5774
        >>> metric.update_state(np.array([0, 0]), np.array([0.9, 0.6]))   # two false positives more
        >>> round(float(metric.result()), 4)
        0.3162
    """

    def _score(self, cm: Any) -> Any:
        return _matthews_correlation(cm)


@keras.saving.register_keras_serializable("classbalance")
class PerClassRecall(ConfusionMetric):
    """`per_class_recall` over a stream, a vector (K,): each class's recall over every batch
    so far, 0 for a class with no sample yet.

    Examples:
        >>> import numpy as np
        >>> metric = PerClassRecall(num_classes=3)
        >>> metric.update_state(np.array([0, 1]), np.eye(3)[[0, 0]])
        >>> print(np.asarray(metric.result()).round(4))   # no sample of class 2 yet
        [1. 0. 0.]
    """

    def _score(self, cm: Any) -> Any:
        return _per_class_recall(cm)


@keras.saving.register_keras_serializable("classbalance")
class ShotAccuracy(ConfusionMetric):
    """`shot_accuracy` over a stream, a vector (3,) [many, medium, few]: each group's mean
    recall over its classes present in y_true so far, NaN while none is. Multi-class inputs:
    y_pred (..., K) with K = len(samples_per_class), argmax; y_true indices or one-hot.

    Examples:
        >>> import numpy as np
        >>> metric = ShotAccuracy([500, 60, 5])
        >>> metric.update_state(np.array([0, 1, 1]), np.eye(3)[[0, 1, 0]])
        >>> print(np.asarray(metric.result()).round(4))   # no few-shot sample yet
        [1.  0.5 nan]
    """

    def __init__(self, samples_per_class: Any, *, many_threshold: float = 100, few_threshold: float = 20,
                 validate_args: bool = True, name: str | None = None, dtype: Any = None) -> None:
        counts, many, few = metrics.check_shot_args(samples_per_class, many_threshold, few_threshold)
        super().__init__(num_classes=counts.shape[0], validate_args=validate_args, name=name, dtype=dtype)
        self.samples_per_class, self.many_threshold, self.few_threshold = counts.tolist(), many, few
        self._groups = metrics.shot_groups(counts, many, few)

    def _score(self, cm: Any) -> Any:
        return _shot_accuracy(cm, self._groups)
