"""The long-tail metrics for PyTorch: G-mean, Matthews correlation, per-class recall and the
many/medium/few-shot accuracy; functional forms and metrics."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from imbalance_core import metrics

from .. import _ops
from ._confusion import ConfusionMetric, batch_confusion, default_float, recalls


def _per_class_recall(cm: torch.Tensor) -> torch.Tensor:
    return recalls(cm)[0]


def _geometric_mean(cm: torch.Tensor, correction: float) -> torch.Tensor:
    recall, _ = recalls(cm)
    # imbalanced-learn's classes: those in the labels or in the predictions
    included = (cm.sum(dim=1) > 0) | (cm.sum(dim=0) > 0)
    r = torch.where(recall > 0, recall, correction)
    positive = r > 0
    n = included.to(cm.dtype).sum()
    # exp(mean log r), not a product: a product of many recalls underflows
    log_sum = torch.where(included & positive, torch.where(positive, r, 1.0).log(), 0.0).sum()
    defined = (n > 0) & ~(included & ~positive).any()
    return torch.where(defined, (log_sum / torch.where(n > 0, n, 1.0)).exp(), 0.0)


def _matthews_correlation(cm: torch.Tensor) -> torch.Tensor:
    t, p = cm.sum(dim=1), cm.sum(dim=0)
    s = t.sum()
    cov_tp = cm.diagonal().sum() * s - (t * p).sum()
    cov_tt, cov_pp = (t * (s - t)).sum(), (p * (s - p)).sum()  # s^2 - t.t without rounding s^2
    defined = (cov_tt > 0) & (cov_pp > 0)
    # sqrt(a) sqrt(b), as tf_impl (where a b would overflow float32)
    den = torch.where(defined, cov_tt.sqrt() * cov_pp.sqrt(), 1.0)
    return torch.where(defined, cov_tp / den, 0.0)


def _shot_accuracy(cm: torch.Tensor, groups: torch.Tensor) -> torch.Tensor:
    recall, present = recalls(cm)
    members = groups.to(cm) * present.to(cm.dtype)[None, :]
    count = members.sum(dim=1)
    some = count > 0
    mean = (members * recall[None, :]).sum(dim=1) / torch.where(some, count, 1.0)
    return torch.where(some, mean, float("nan"))


def _shot_groups(samples_per_class: Any, many_threshold: Any, few_threshold: Any) -> np.ndarray:
    """The checked arguments of `shot_accuracy` as its class groups, in one call (one constant
    under torch.compile)."""
    return metrics.shot_groups(*metrics.check_shot_args(samples_per_class, many_threshold, few_threshold))


def geometric_mean(preds: torch.Tensor, target: torch.Tensor, *, num_classes: int | None = None,
                   threshold: float = 0.5, from_logits: bool = False, correction: float = 0.0,
                   sample_weight: Any | None = None, validate_args: bool = True) -> torch.Tensor:
    """G-mean of one batch: (prod_c recall_c)^(1/P) over the P classes that occur in `target`
    or in the predictions; binary: sqrt(TPR x TNR).

    A recall of 0 (a class missed, or predicted but absent from `target`) makes it 0 unless
    `correction` > 0 replaces it (for many classes). 0 with no sample.

    Args: as `balanced_accuracy`, plus `correction` in [0, 1], the recall substituted for 0.
    Anchor: `imblearn.metrics.geometric_mean_score(average="multiclass", correction=...)`
    (Kubat and Matwin 1997).

    Examples:
        >>> import torch
        >>> target = torch.tensor([0, 0, 1, 1, 2, 2])
        >>> preds = torch.eye(3)[[0, 0, 1, 0, 2, 1]]    # predicted classes 0, 0, 1, 0, 2, 1
        >>> round(float(geometric_mean(preds, target, num_classes=3)), 4)
        0.63
    """
    correction = _ops.static_args(metrics.check_correction, correction)
    cm = batch_confusion(preds, target, sample_weight, num_classes, threshold, from_logits, validate_args)
    return default_float(_geometric_mean(cm, correction))


def matthews_correlation(preds: torch.Tensor, target: torch.Tensor, *, num_classes: int | None = None,
                         threshold: float = 0.5, from_logits: bool = False, sample_weight: Any | None = None,
                         validate_args: bool = True) -> torch.Tensor:
    """Matthews correlation coefficient of one batch, in [-1, 1]:
    (c s - t.p) / sqrt((s^2 - t.t)(s^2 - p.p)) with t, p the true and predicted class totals,
    s the total and c the trace of the weighted confusion matrix; 0 when undefined (no sample,
    or a single class in the labels or in the predictions).

    Args: as `balanced_accuracy` (without `adjusted`).
    Anchor: `sklearn.metrics.matthews_corrcoef` (Matthews 1975; Gorodkin 2004 for K classes).

    Examples:
        >>> import torch
        >>> target = torch.tensor([1, 0, 1, 0, 1, 1])
        >>> preds = torch.tensor([0.8, 0.3, 0.6, 0.7, 0.2, 0.9])
        >>> round(float(matthews_correlation(preds, target)), 4)
        0.25
    """
    cm = batch_confusion(preds, target, sample_weight, num_classes, threshold, from_logits, validate_args)
    return default_float(_matthews_correlation(cm))


def per_class_recall(preds: torch.Tensor, target: torch.Tensor, *, num_classes: int | None = None,
                     threshold: float = 0.5, from_logits: bool = False, sample_weight: Any | None = None,
                     validate_args: bool = True) -> torch.Tensor:
    """Recall of every class of one batch, a vector (K,) (binary: (2,), [TNR, TPR]):
    recall_c = C[c, c] / sum_j C[c, j], 0 for a class with no sample.

    Args: as `balanced_accuracy` (without `adjusted`).
    Anchor: `sklearn.metrics.recall_score(average=None, labels=range(K), zero_division=0)`.

    Examples:
        >>> import torch
        >>> target = torch.tensor([0, 0, 1, 1, 2, 2])
        >>> scores = torch.tensor([[3.0, 0.1, 0.2], [2.0, 1.0, 0.5], [0.1, 1.5, 0.2], [0.9, 0.8, 0.1],
        ...                        [0.1, 0.2, 4.0], [0.0, 2.0, 1.0]])   # any real scores: argmax
        >>> print(per_class_recall(scores, target, num_classes=3).numpy().round(4))
        [1.  0.5 0.5]
    """
    cm = batch_confusion(preds, target, sample_weight, num_classes, threshold, from_logits, validate_args)
    return default_float(_per_class_recall(cm))


def shot_accuracy(preds: torch.Tensor, target: torch.Tensor, *, samples_per_class: Any, many_threshold: float = 100,
                  few_threshold: float = 20, sample_weight: Any | None = None,
                  validate_args: bool = True) -> torch.Tensor:
    """Accuracy of one batch over the many-, medium- and few-shot classes, a vector (3,)
    [many, medium, few]: in each group, the mean recall (per-class accuracy) over its classes
    present in `target`; NaN for a group with no class present.

    Groups (OLTR's convention): n_c training samples; many-shot n_c > many_threshold,
    few-shot n_c < few_threshold, medium-shot otherwise.

    Args:
        preds, target: as `balanced_accuracy` with num_classes = len(samples_per_class).
        samples_per_class: the training count of every class, (K,), K >= 2.
        many_threshold, few_threshold: group bounds, 0 <= few_threshold <= many_threshold.
        sample_weight, validate_args: as `balanced_accuracy`.

    Anchor: `shot_acc` of the OLTR code (Liu et al. 2019, "Large-Scale Long-Tailed
    Recognition in an Open World").

    Examples:
        >>> import torch
        >>> target = torch.tensor([0, 0, 1, 1, 2, 2])
        >>> preds = torch.eye(3)[[0, 0, 1, 0, 2, 1]]    # predicted classes 0, 0, 1, 0, 2, 1
        >>> print(shot_accuracy(preds, target, samples_per_class=[500, 60, 5]).numpy().round(4))
        [1.  0.5 0.5]
    """
    groups = _ops.static_args(_shot_groups, samples_per_class, many_threshold, few_threshold)
    cm = batch_confusion(preds, target, sample_weight, groups.shape[1], 0.5, False, validate_args)
    return default_float(_shot_accuracy(cm, torch.as_tensor(groups)))


class GeometricMean(ConfusionMetric):
    """`geometric_mean` over a stream (see it for the formula, the arguments and the anchor):
    one missed class in any batch keeps it at 0, unless `correction` > 0.

    Examples:
        >>> import torch
        >>> metric = GeometricMean(num_classes=3, correction=0.001)
        >>> metric.update(torch.eye(3)[[0, 1, 1]], torch.tensor([0, 1, 2]))
        >>> metric.update(torch.eye(3)[[0, 1, 0]], torch.tensor([0, 1, 2]))
        >>> round(float(metric.compute()), 4)   # class 2 never right: recall 0 -> 0.001
        0.1
    """

    def __init__(self, *, num_classes: int | None = None, threshold: float = 0.5, from_logits: bool = False,
                 correction: float = 0.0, validate_args: bool = True, **kwargs: Any) -> None:
        super().__init__(num_classes=num_classes, threshold=threshold, from_logits=from_logits,
                         validate_args=validate_args, **kwargs)
        self.correction = metrics.check_correction(correction)

    def _score(self, cm: torch.Tensor) -> torch.Tensor:
        return _geometric_mean(cm, self.correction)


class MatthewsCorrelation(ConfusionMetric):
    """`matthews_correlation` over a stream: the coefficient of the confusion matrix of every
    batch so far.

    Examples:
        >>> import torch
        >>> metric = MatthewsCorrelation()
        >>> metric.update(torch.tensor([0.8, 0.3, 0.6, 0.7]), torch.tensor([1, 0, 1, 0]))
        >>> round(float(metric.compute()), 4)
        0.5774
        >>> metric.update(torch.tensor([0.9, 0.6]), torch.tensor([0, 0]))   # two false positives more
        >>> round(float(metric.compute()), 4)
        0.3162
    """

    def _score(self, cm: torch.Tensor) -> torch.Tensor:
        return _matthews_correlation(cm)


class PerClassRecall(ConfusionMetric):
    """`per_class_recall` over a stream, a vector (K,): each class's recall over every batch
    so far, 0 for a class with no sample yet.

    Examples:
        >>> import torch
        >>> metric = PerClassRecall(num_classes=3)
        >>> metric.update(torch.eye(3)[[0, 0]], torch.tensor([0, 1]))
        >>> print(metric.compute().numpy().round(4))   # no sample of class 2 yet
        [1. 0. 0.]
    """

    def _score(self, cm: torch.Tensor) -> torch.Tensor:
        return _per_class_recall(cm)


class ShotAccuracy(ConfusionMetric):
    """`shot_accuracy` over a stream, a vector (3,) [many, medium, few]: each group's mean
    recall over its classes present in `target` so far, NaN while none is. Multi-class inputs:
    preds (..., K) with K = len(samples_per_class), argmax; target indices or one-hot.

    Examples:
        >>> import torch
        >>> metric = ShotAccuracy([500, 60, 5])
        >>> metric.update(torch.eye(3)[[0, 1, 0]], torch.tensor([0, 1, 1]))
        >>> print(metric.compute().numpy().round(4))   # no few-shot sample yet
        [1.  0.5 nan]
    """

    groups: torch.Tensor  # a buffer, registered in __init__

    def __init__(self, samples_per_class: Any, *, many_threshold: float = 100, few_threshold: float = 20,
                 validate_args: bool = True, **kwargs: Any) -> None:
        counts, many, few = metrics.check_shot_args(samples_per_class, many_threshold, few_threshold)
        super().__init__(num_classes=counts.shape[0], validate_args=validate_args, **kwargs)
        self.samples_per_class, self.many_threshold, self.few_threshold = counts.tolist(), many, few
        # a buffer, so that .to(device) moves it; not persistent: the constructor rebuilds it
        self.register_buffer("groups", torch.as_tensor(metrics.shot_groups(counts, many, few)), persistent=False)

    def _score(self, cm: torch.Tensor) -> torch.Tensor:
        return _shot_accuracy(cm, self.groups)
