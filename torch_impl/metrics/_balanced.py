"""Balanced accuracy and its parts, TPR and TNR, for PyTorch: functional forms and metrics."""

from __future__ import annotations

from typing import Any

import torch

from imbalance_core import metrics
from imbalance_core.validation import check_number

from .. import _ops
from ._confusion import BinaryConfusionMetric, ConfusionMetric, batch_confusion, default_float, ratio, recalls


def _balanced_accuracy(cm: torch.Tensor, adjusted: bool) -> torch.Tensor:
    recall, present = recalls(cm)
    n = present.to(cm.dtype).sum()
    score = recall.sum() / n.clamp(min=1.0)
    if adjusted:
        # Chance level 1/P over P present classes; undefined for P <= 1, where we return 0.
        chance = 1.0 / n.clamp(min=1.0)
        score = torch.where(n > 1.0, (score - chance) / torch.where(n > 1.0, 1.0 - chance, 1.0), 0.0)
    return score


def _true_positive_rate(cm: torch.Tensor) -> torch.Tensor:
    return ratio(cm[1, 1], cm[1, 0] + cm[1, 1])


def _true_negative_rate(cm: torch.Tensor) -> torch.Tensor:
    return ratio(cm[0, 0], cm[0, 0] + cm[0, 1])


def _weighted_balanced_accuracy(cm: torch.Tensor, alpha: float) -> torch.Tensor:
    return alpha * _true_positive_rate(cm) + (1.0 - alpha) * _true_negative_rate(cm)


def _check_alpha(alpha: Any) -> float:
    return check_number("alpha", alpha, low=0.0, high=1.0)


def balanced_accuracy(preds: torch.Tensor, target: torch.Tensor, *, num_classes: int | None = None,
                      threshold: float = 0.5, from_logits: bool = False, adjusted: bool = False,
                      sample_weight: Any | None = None, validate_args: bool = True) -> torch.Tensor:
    """Balanced accuracy of one batch: mean recall over the classes present in `target`.

    recall_c = C[c, c] / sum_j C[c, j] (C: weighted confusion matrix); adjusted:
    (score - 1/P) / (1 - 1/P) over P present classes (0 when P <= 1, where scikit-learn
    divides by zero).

    Args:
        preds: binary: probabilities (logits with `from_logits=True`); multi-class: (..., K)
            real scores, logits or probabilities.
        target: binary 0/1 labels of the shape of `preds` (num_classes=None); or class
            indices (...)/(..., 1) or one-hot (..., K).
        num_classes: None for binary, K >= 2 for multi-class (argmax).
        threshold: in [0, 1]; binary prediction is preds > threshold.
        from_logits: binary preds are logits (compared with logit(threshold)).
        adjusted: chance-adjusted score (0 at chance, 1 perfect).
        sample_weight: scalar or the leading axes of the per-decision shape, (B,) or (B, 1).
        validate_args: check label/probability values.

    Anchor: `sklearn.metrics.balanced_accuracy_score(adjusted=...)`.

    Examples:
        >>> import torch
        >>> target = torch.tensor([1, 0, 0, 0, 1])
        >>> preds = torch.tensor([0.9, 0.2, 0.6, 0.1, 0.4])
        >>> round(float(balanced_accuracy(preds, target)), 4)
        0.5833
    """
    adjusted = _ops.static_args(metrics.check_bool, "adjusted", adjusted)
    cm = batch_confusion(preds, target, sample_weight, num_classes, threshold, from_logits, validate_args)
    return default_float(_balanced_accuracy(cm, adjusted))


def true_positive_rate(preds: torch.Tensor, target: torch.Tensor, *, threshold: float = 0.5,
                       from_logits: bool = False, sample_weight: Any | None = None,
                       validate_args: bool = True) -> torch.Tensor:
    """TPR (recall, sensitivity) of one batch: TP / (TP + FN); 0 when there is no positive.

    Args: as `balanced_accuracy` in binary mode.
    Anchor: `sklearn.metrics.recall_score(pos_label=1)`.

    Examples:
        >>> import torch
        >>> target = torch.tensor([1, 0, 0, 0, 1])
        >>> logits = torch.tensor([2.2, -1.4, 0.4, -2.2, -0.4])
        >>> round(float(true_positive_rate(logits, target, from_logits=True)), 4)
        0.5
    """
    cm = batch_confusion(preds, target, sample_weight, None, threshold, from_logits, validate_args)
    return default_float(_true_positive_rate(cm))


def true_negative_rate(preds: torch.Tensor, target: torch.Tensor, *, threshold: float = 0.5,
                       from_logits: bool = False, sample_weight: Any | None = None,
                       validate_args: bool = True) -> torch.Tensor:
    """TNR (specificity) of one batch: TN / (TN + FP); 0 when there is no negative. A higher
    threshold trades TPR for TNR.

    Args: as `true_positive_rate`.
    Anchor: `sklearn.metrics.recall_score(pos_label=0)`.

    Examples:
        >>> import torch
        >>> target, preds = torch.tensor([1, 0, 0, 0, 1]), torch.tensor([0.9, 0.2, 0.6, 0.1, 0.4])
        >>> [round(float(true_negative_rate(preds, target, threshold=t)), 4) for t in (0.5, 0.7)]
        [0.6667, 1.0]
    """
    cm = batch_confusion(preds, target, sample_weight, None, threshold, from_logits, validate_args)
    return default_float(_true_negative_rate(cm))


def weighted_balanced_accuracy(preds: torch.Tensor, target: torch.Tensor, *, alpha: float = 0.5,
                               threshold: float = 0.5, from_logits: bool = False, sample_weight: Any | None = None,
                               validate_args: bool = True) -> torch.Tensor:
    """alpha TPR + (1 - alpha) TNR of one batch (binary); alpha in [0, 1].

    alpha = 0.5 equals `balanced_accuracy` when both classes occur; unlike it, an absent class
    is not dropped: its rate counts as 0.

    Args: as `true_positive_rate`, plus `alpha`, the weight of the TPR.
    Anchor: alpha recall_score(pos_label=1) + (1 - alpha) recall_score(pos_label=0).

    Examples:
        >>> import torch
        >>> target = torch.tensor([1, 0, 0, 0, 1])
        >>> preds = torch.tensor([0.9, 0.2, 0.6, 0.1, 0.4])
        >>> round(float(weighted_balanced_accuracy(preds, target, alpha=0.7)), 4)
        0.55
    """
    alpha = _ops.static_args(_check_alpha, alpha)
    cm = batch_confusion(preds, target, sample_weight, None, threshold, from_logits, validate_args)
    return default_float(_weighted_balanced_accuracy(cm, alpha))


class BalancedAccuracy(ConfusionMetric):
    """`balanced_accuracy` over a stream (see it for the formula, the arguments and the anchor):
    the mean recall over the classes present in `target` in every batch so far.

    Keywords, as for every metric class here: the function's, `sample_weight` aside (an
    argument of `update`), and torchmetrics's `**kwargs` (`dist_sync_on_step`,
    `sync_on_compute`, ...).

    Examples:
        >>> import torch
        >>> metric = BalancedAccuracy()
        >>> metric.update(torch.tensor([0.9, 0.2, 0.6]), torch.tensor([1, 0, 0]))
        >>> metric.update(torch.tensor([0.1, 0.4]), torch.tensor([0, 1]))
        >>> round(float(metric.compute()), 4)  # balanced_accuracy of the five samples
        0.5833
    """

    def __init__(self, *, num_classes: int | None = None, threshold: float = 0.5, from_logits: bool = False,
                 adjusted: bool = False, validate_args: bool = True, **kwargs: Any) -> None:
        super().__init__(num_classes=num_classes, threshold=threshold, from_logits=from_logits,
                         validate_args=validate_args, **kwargs)
        self.adjusted = metrics.check_bool("adjusted", adjusted)

    def _score(self, cm: torch.Tensor) -> torch.Tensor:
        return _balanced_accuracy(cm, self.adjusted)


class TruePositiveRate(BinaryConfusionMetric):
    """`true_positive_rate` over a stream: TP / (TP + FN) of every batch so far.

    Examples:
        >>> import torch
        >>> metric = TruePositiveRate(threshold=0.3)
        >>> for preds, target in [([0.9, 0.2, 0.6], [1, 0, 0]), ([0.1, 0.4], [0, 1])]:
        ...     metric.update(torch.tensor(preds), torch.tensor(target))
        >>> float(metric.compute())   # 0.4 > 0.3: both positives found
        1.0
    """

    def _score(self, cm: torch.Tensor) -> torch.Tensor:
        return _true_positive_rate(cm)


class TrueNegativeRate(BinaryConfusionMetric):
    """`true_negative_rate` over a stream: TN / (TN + FP) of every batch so far, weighted.

    Examples:
        >>> import torch
        >>> metric = TrueNegativeRate()
        >>> metric.update(torch.tensor([0.9, 0.2, 0.6, 0.1]), torch.tensor([1, 0, 0, 0]),
        ...               sample_weight=torch.tensor([1.0, 1.0, 2.0, 1.0]))
        >>> float(metric.compute())
        0.5
    """

    def _score(self, cm: torch.Tensor) -> torch.Tensor:
        return _true_negative_rate(cm)


class WeightedBalancedAccuracy(BinaryConfusionMetric):
    """`weighted_balanced_accuracy` over a stream: alpha TPR + (1 - alpha) TNR of every batch
    so far.

    Examples:
        >>> import torch
        >>> metric = WeightedBalancedAccuracy(alpha=0.7)
        >>> metric.update(torch.tensor([0.9, 0.2, 0.6]), torch.tensor([1, 0, 0]))
        >>> metric.update(torch.tensor([0.1, 0.4]), torch.tensor([0, 1]))
        >>> round(float(metric.compute()), 4)
        0.55
    """

    def __init__(self, *, alpha: float = 0.5, threshold: float = 0.5, from_logits: bool = False,
                 validate_args: bool = True, **kwargs: Any) -> None:
        super().__init__(threshold=threshold, from_logits=from_logits, validate_args=validate_args, **kwargs)
        self.alpha = _check_alpha(alpha)

    def _score(self, cm: torch.Tensor) -> torch.Tensor:
        return _weighted_balanced_accuracy(cm, self.alpha)
