"""Imbalance metrics for PyTorch. The mirror of tf_impl/metrics.py.

`torchmetrics.Metric` subclasses (`update(preds, target, sample_weight=None)`, `compute()`,
state synced under DDP by summation) and functional forms `fn(preds, target, **kw)`, in
torchmetrics's (preds, target) order. Formulas, checks and messages come from
`imbalance_core.metrics` (scikit-learn's definitions; imbalanced-learn's for GeometricMean,
OLTR's for ShotAccuracy); messages name `preds` and `target`. Results are scalars, except
PerClassRecall (K,) and ShotAccuracy (3,).

State: a K x K confusion matrix of summed sample weights, C[true, predicted], in float64 so
that counts stay exact over long streams (K = 2 in binary mode), registered with
`dist_reduce_fx="sum"` (under DDP, `compute()` sums it across processes first); the result
is computed from it in float64 and returned in `torch.get_default_dtype()`.

- binary (`num_classes=None`): target of 0/1, preds probabilities (or logits with
  `from_logits=True`) of exactly the same shape (torchmetrics's rule; Keras's twin also
  accepts a trailing 1 squeezed or added); predicted positive when preds > threshold
  (logit(threshold) on logits). Every element is one decision (multi-label: micro).
- multi-class (`num_classes=K`): preds (..., K) of any real scores, logits or probabilities
  (the argmax is the same), predicted class = argmax; target class indices (...) or
  (..., 1), or one-hot (..., K). `threshold`/`from_logits` do not apply.
- `sample_weight`: a scalar, or the leading axes of the per-decision shape (broadcast), with
  or without a trailing axis of size 1 (`(B,)` or `(B, 1)`).

Checks: shape and dtype checks always run (they are static, also under `torch.compile`).
Content checks (`validate_args=True`: label values, probabilities in binary mode, weights)
are torch ops, no NumPy conversion, read with one host synchronisation per call when running
eagerly (the same messages as tf_impl's), and are skipped while compiling
(`torch.compiler.is_compiling()`): the rule that keeps a compiled graph whole.
`validate_args=False` skips them eagerly too (no synchronisation at all).

torch.compile: `torch.compile(metric.update, fullgraph=True)` and
`torch.compile(metric.compute, fullgraph=True)` trace with no graph break and, over batch
sizes 32, 17, 9, compile at most twice each (the second call makes the batch dimension and
torchmetrics's update counter dynamic), with no Dynamo setting to change: torchmetrics counts
calls in an int module attribute (`_update_count`), which Dynamo would treat as a constant
(a recompile per call, torchmetrics issue #1780), so `_ops.DynamicUpdateCount` lets Dynamo
trace that counter as a symbolic int, in these metrics' wrappers only.
"""

from __future__ import annotations

from typing import Any

import torch
from torchmetrics import Metric

from imbalance_core import metrics as M
from imbalance_core import validation as V
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
    "GeometricMean",
    "MatthewsCorrelation",
    "PerClassRecall",
    "ShotAccuracy",
    "geometric_mean",
    "matthews_correlation",
    "per_class_recall",
    "shot_accuracy",
]


def _scatter_confusion(t: torch.Tensor, p: torch.Tensor, w: torch.Tensor, k: int) -> torch.Tensor:
    """C[t_i, p_i] += w_i in float64, O(N) memory. An index outside [0, k) (only possible
    with validate_args=False) contributes nothing, exactly as in tf_impl."""
    valid = (t >= 0) & (t < k)
    ids = torch.where(valid, t * k + p, torch.zeros_like(t))
    w = torch.where(valid, w, torch.zeros_like(w))
    return torch.zeros(k * k, dtype=torch.float64, device=w.device).index_add_(0, ids, w).reshape(k, k)


def _check_values(layout: M.Layout, num_classes, from_logits, target, preds, weight) -> None:
    """The content checks as torch ops giving one flag, checked without a host sync on CUDA
    (_ops.device_check); on a failure the shared NumPy check builds (and raises) the message."""
    bad = []
    if M.checks_probabilities(layout.mode, from_logits):
        bad.append(~((preds >= 0) & (preds <= 1)))
    if layout.mode == "binary":
        bad.append((target != 0) & (target != 1))
    elif layout.mode == "onehot":
        bad.append(~((target >= 0) & (target <= 1)))
    else:
        if target.is_floating_point():
            bad.append(target != target.round())
        bad.append((target < 0) | (target >= num_classes))
    if weight is not None:
        bad.append(~torch.isfinite(weight) | (weight < 0))
    _ops.device_check(torch.stack([b.any() for b in bad]).any(),
                      lambda: M.check_metric_values(layout, num_classes, from_logits, target, preds, weight, M.TORCH),
                      V.invalid_values_message(M.TORCH.target, M.TORCH.preds, "sample_weight"))


def _confusion(preds, target, sample_weight, num_classes, cut, from_logits, validate_args) -> torch.Tensor:
    """The K x K float64 confusion-matrix increment of one batch."""
    conv = M.TORCH
    preds = torch.as_tensor(preds)
    if not (preds.is_floating_point()):
        check_float_dtype(conv.preds, preds.dtype)  # raises the shared TypeError
    target = torch.as_tensor(target, device=preds.device)
    layout = M.layout(num_classes, tuple(target.shape), tuple(preds.shape), conv)
    if layout.squeeze_target:
        target = target.squeeze(-1)
    if sample_weight is not None:
        sample_weight = torch.as_tensor(sample_weight, device=preds.device)
        if M.weight_squeeze(tuple(sample_weight.shape), layout.sample_shape):
            sample_weight = sample_weight.squeeze(-1)
    if validate_args and not torch.compiler.is_compiling():
        _check_values(layout, num_classes, from_logits, target, preds, sample_weight)

    k = num_classes or 2
    if layout.mode == "binary":
        # Compared in preds' dtype (the cut is a weak Python scalar), like tf_impl.
        t = (target.to(torch.float32) > 0.5).to(torch.int64)
        p = (preds > cut).to(torch.int64)
    else:
        p = preds.argmax(dim=-1)
        t = target.argmax(dim=-1) if layout.mode == "onehot" else target.to(torch.int64)
    if sample_weight is None:
        w = torch.ones(t.shape, dtype=torch.float64, device=t.device)
    else:
        w = sample_weight.to(torch.float64)
        w = w.reshape(tuple(w.shape) + (1,) * (len(layout.sample_shape) - w.ndim)).expand(t.shape)
    return _scatter_confusion(t.reshape(-1), p.reshape(-1), w.reshape(-1), k)


def _balanced_accuracy(cm: torch.Tensor, adjusted: bool) -> torch.Tensor:
    support = cm.sum(dim=1)
    present = support > 0
    recall = torch.where(present, cm.diagonal() / torch.where(present, support, 1.0), 0.0)
    n = present.to(cm.dtype).sum()
    score = recall.sum() / n.clamp(min=1.0)
    if adjusted:
        # Chance level 1/P over P present classes; undefined for P <= 1, where we return 0.
        chance = 1.0 / n.clamp(min=1.0)
        score = torch.where(n > 1.0, (score - chance) / torch.where(n > 1.0, 1.0 - chance, 1.0), 0.0)
    return score


def _ratio(num: torch.Tensor, den: torch.Tensor) -> torch.Tensor:
    return torch.where(den > 0, num / torch.where(den > 0, den, 1.0), 0.0)


def _true_positive_rate(cm: torch.Tensor) -> torch.Tensor:
    return _ratio(cm[1, 1], cm[1, 0] + cm[1, 1])


def _true_negative_rate(cm: torch.Tensor) -> torch.Tensor:
    return _ratio(cm[0, 0], cm[0, 0] + cm[0, 1])


def _weighted_balanced_accuracy(cm: torch.Tensor, alpha: float) -> torch.Tensor:
    return alpha * _true_positive_rate(cm) + (1.0 - alpha) * _true_negative_rate(cm)


def _recalls(cm: torch.Tensor):
    """(recall per class, 0 for a class with no sample; the support > 0 mask)."""
    support = cm.sum(dim=1)
    present = support > 0
    return torch.where(present, cm.diagonal() / torch.where(present, support, 1.0), 0.0), present


def _per_class_recall(cm: torch.Tensor) -> torch.Tensor:
    return _recalls(cm)[0]


def _geometric_mean(cm: torch.Tensor, correction: float) -> torch.Tensor:
    recall, _ = _recalls(cm)
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
    recall, present = _recalls(cm)
    members = groups.to(cm) * present.to(cm.dtype)[None, :]
    count = members.sum(dim=1)
    some = count > 0
    mean = (members * recall[None, :]).sum(dim=1) / torch.where(some, count, 1.0)
    return torch.where(some, mean, float("nan"))


def _check_alpha(alpha) -> float:
    return check_number("alpha", alpha, low=0.0, high=1.0)


def _batch_confusion(preds, target, sample_weight, num_classes, threshold, from_logits, validate_args):
    num_classes, threshold, from_logits = _ops.static_args(M.check_metric_args, num_classes, threshold, from_logits)
    validate_args = _ops.static_args(M.check_bool, "validate_args", validate_args)
    cut = _ops.static_args(M.decision_threshold, threshold, from_logits)
    return _confusion(preds, target, sample_weight, num_classes, cut, from_logits, validate_args)


def _shot_groups(samples_per_class, many_threshold, few_threshold):
    """The checked arguments of `shot_accuracy` as its class groups, in one call (one constant
    under torch.compile)."""
    return M.shot_groups(*M.check_shot_args(samples_per_class, many_threshold, few_threshold))


def _default_float(x: torch.Tensor) -> torch.Tensor:
    return x.to(torch.get_default_dtype())


# --------------------------------------------------------------------------------------------
# Functional forms: one batch, no state. Return a scalar tensor in torch.get_default_dtype().
# --------------------------------------------------------------------------------------------


def balanced_accuracy(
    preds: torch.Tensor,
    target: torch.Tensor,
    *,
    num_classes: int | None = None,
    threshold: float = 0.5,
    from_logits: bool = False,
    adjusted: bool = False,
    sample_weight: Any | None = None,
    validate_args: bool = True,
) -> torch.Tensor:
    """Balanced accuracy of one batch: mean recall over the classes present in `target`.

    recall_c = C[c, c] / sum_j C[c, j] (C: weighted confusion matrix); adjusted:
    (score - 1/P) / (1 - 1/P) over P present classes (0 when P <= 1).

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
    adjusted = _ops.static_args(M.check_bool, "adjusted", adjusted)
    cm = _batch_confusion(preds, target, sample_weight, num_classes, threshold, from_logits, validate_args)
    return _default_float(_balanced_accuracy(cm, adjusted))


def true_positive_rate(preds: torch.Tensor, target: torch.Tensor, *, threshold: float = 0.5,
                       from_logits: bool = False, sample_weight: Any | None = None,
                       validate_args: bool = True) -> torch.Tensor:
    """TPR (recall, sensitivity) of one batch: TP / (TP + FN); 0 when there is no positive.

    Args: as `balanced_accuracy` in binary mode.
    Anchor: `sklearn.metrics.recall_score(pos_label=1)`.

    Examples:
        >>> import torch
        >>> target = torch.tensor([1, 0, 0, 0, 1])
        >>> preds = torch.tensor([0.9, 0.2, 0.6, 0.1, 0.4])
        >>> round(float(true_positive_rate(preds, target)), 4)
        0.5
    """
    cm = _batch_confusion(preds, target, sample_weight, None, threshold, from_logits, validate_args)
    return _default_float(_true_positive_rate(cm))


def true_negative_rate(preds: torch.Tensor, target: torch.Tensor, *, threshold: float = 0.5,
                       from_logits: bool = False, sample_weight: Any | None = None,
                       validate_args: bool = True) -> torch.Tensor:
    """TNR (specificity) of one batch: TN / (TN + FP); 0 when there is no negative.

    Args: as `balanced_accuracy` in binary mode.
    Anchor: `sklearn.metrics.recall_score(pos_label=0)`.

    Examples:
        >>> import torch
        >>> target = torch.tensor([1, 0, 0, 0, 1])
        >>> preds = torch.tensor([0.9, 0.2, 0.6, 0.1, 0.4])
        >>> round(float(true_negative_rate(preds, target)), 4)
        0.6667
    """
    cm = _batch_confusion(preds, target, sample_weight, None, threshold, from_logits, validate_args)
    return _default_float(_true_negative_rate(cm))


def weighted_balanced_accuracy(
    preds: torch.Tensor,
    target: torch.Tensor,
    *,
    alpha: float = 0.5,
    threshold: float = 0.5,
    from_logits: bool = False,
    sample_weight: Any | None = None,
    validate_args: bool = True,
) -> torch.Tensor:
    """alpha TPR + (1 - alpha) TNR of one batch (binary); alpha in [0, 1].

    Unlike `balanced_accuracy`, an absent class is not dropped: its rate counts as 0.

    Args: as `balanced_accuracy` in binary mode, plus `alpha`, the weight of the TPR.
    Anchor: alpha recall_score(pos_label=1) + (1 - alpha) recall_score(pos_label=0).

    Examples:
        >>> import torch
        >>> target = torch.tensor([1, 0, 0, 0, 1])
        >>> preds = torch.tensor([0.9, 0.2, 0.6, 0.1, 0.4])
        >>> round(float(weighted_balanced_accuracy(preds, target, alpha=0.7)), 4)
        0.55
    """
    alpha = _ops.static_args(_check_alpha, alpha)
    cm = _batch_confusion(preds, target, sample_weight, None, threshold, from_logits, validate_args)
    return _default_float(_weighted_balanced_accuracy(cm, alpha))


def geometric_mean(
    preds: torch.Tensor,
    target: torch.Tensor,
    *,
    num_classes: int | None = None,
    threshold: float = 0.5,
    from_logits: bool = False,
    correction: float = 0.0,
    sample_weight: Any | None = None,
    validate_args: bool = True,
) -> torch.Tensor:
    """G-mean of one batch: (prod_c recall_c)^(1/P) over the P classes that occur in `target`
    or in the predictions; binary: sqrt(TPR x TNR).

    A recall of 0 (a class missed, or predicted but absent from `target`) makes it 0 unless
    `correction` > 0 replaces it. 0 with no sample.

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
    correction = _ops.static_args(M.check_correction, correction)
    cm = _batch_confusion(preds, target, sample_weight, num_classes, threshold, from_logits, validate_args)
    return _default_float(_geometric_mean(cm, correction))


def matthews_correlation(
    preds: torch.Tensor,
    target: torch.Tensor,
    *,
    num_classes: int | None = None,
    threshold: float = 0.5,
    from_logits: bool = False,
    sample_weight: Any | None = None,
    validate_args: bool = True,
) -> torch.Tensor:
    """Matthews correlation coefficient of one batch, in [-1, 1]:
    (c s - t.p) / sqrt((s^2 - t.t)(s^2 - p.p)) with t, p the true and predicted class totals,
    s the total and c the trace of the weighted confusion matrix; 0 when undefined.

    Args: as `balanced_accuracy`.
    Anchor: `sklearn.metrics.matthews_corrcoef` (Matthews 1975; Gorodkin 2004 for K classes).

    Examples:
        >>> import torch
        >>> target = torch.tensor([0, 0, 1, 1, 2, 2])
        >>> preds = torch.eye(3)[[0, 0, 1, 0, 2, 1]]    # predicted classes 0, 0, 1, 0, 2, 1
        >>> round(float(matthews_correlation(preds, target, num_classes=3)), 4)
        0.5222
    """
    cm = _batch_confusion(preds, target, sample_weight, num_classes, threshold, from_logits, validate_args)
    return _default_float(_matthews_correlation(cm))


def per_class_recall(
    preds: torch.Tensor,
    target: torch.Tensor,
    *,
    num_classes: int | None = None,
    threshold: float = 0.5,
    from_logits: bool = False,
    sample_weight: Any | None = None,
    validate_args: bool = True,
) -> torch.Tensor:
    """Recall of every class of one batch, a vector (K,) (binary: (2,), [TNR, TPR]):
    recall_c = C[c, c] / sum_j C[c, j], 0 for a class with no sample.

    Args: as `balanced_accuracy`.
    Anchor: `sklearn.metrics.recall_score(average=None, labels=range(K), zero_division=0)`.

    Examples:
        >>> import torch
        >>> target = torch.tensor([0, 0, 1, 1, 2, 2])
        >>> preds = torch.eye(3)[[0, 0, 1, 0, 2, 1]]    # predicted classes 0, 0, 1, 0, 2, 1
        >>> print(per_class_recall(preds, target, num_classes=3).numpy().round(4))
        [1.  0.5 0.5]
    """
    cm = _batch_confusion(preds, target, sample_weight, num_classes, threshold, from_logits, validate_args)
    return _default_float(_per_class_recall(cm))


def shot_accuracy(
    preds: torch.Tensor,
    target: torch.Tensor,
    *,
    samples_per_class: Any,
    many_threshold: float = 100,
    few_threshold: float = 20,
    sample_weight: Any | None = None,
    validate_args: bool = True,
) -> torch.Tensor:
    """Accuracy of one batch over the many-, medium- and few-shot classes, a vector (3,):
    in each group, the mean recall over its classes present in `target`; NaN for a group
    with no class present.

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
    cm = _batch_confusion(preds, target, sample_weight, groups.shape[1], 0.5, False, validate_args)
    return _default_float(_shot_accuracy(cm, torch.as_tensor(groups)))


# --------------------------------------------------------------------------------------------
# Stateful metrics
# --------------------------------------------------------------------------------------------


class _ConfusionMetric(_ops.DynamicUpdateCount, Metric):
    """Shared state: the float64 confusion matrix, summed across processes under DDP."""

    confusion: torch.Tensor  # registered by add_state
    is_differentiable = False
    higher_is_better = True
    full_state_update = False

    def __init__(self, *, num_classes, threshold, from_logits, validate_args, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.num_classes, self.threshold, self.from_logits = M.check_metric_args(num_classes, threshold, from_logits)
        self.validate_args = M.check_bool("validate_args", validate_args)
        self._cut = M.decision_threshold(self.threshold, self.from_logits)
        k = self.num_classes or 2
        self.add_state("confusion", default=torch.zeros(k, k, dtype=torch.float64), dist_reduce_fx="sum")

    def update(self, preds, target, sample_weight=None) -> None:
        self.confusion += _confusion(
            preds, target, sample_weight, self.num_classes, self._cut, self.from_logits, self.validate_args
        ).to(self.confusion.device)

    def _score(self, cm: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError  # each subclass defines its formula

    def compute(self) -> torch.Tensor:
        return _default_float(self._score(self.confusion))


class BalancedAccuracy(_ConfusionMetric):
    """Balanced accuracy over a stream: mean recall over the classes present in `target`.

    recall_c = C[c, c] / sum_j C[c, j] on the confusion matrix C accumulated over batches
    (summed sample weights); adjusted: (score - 1/P) / (1 - 1/P), P present classes (0 when
    P <= 1, where scikit-learn divides by zero). 0 before any sample.

    Args:
        num_classes: None for binary (0/1 labels, preds thresholded), K >= 2 for
            multi-class (preds (..., K) real scores, argmax; target indices or one-hot).
        threshold: in [0, 1]; binary prediction is preds > threshold.
        from_logits: binary preds are logits (compared with logit(threshold)); multi-class
            takes logits or probabilities either way.
        adjusted: chance-adjusted score.
        validate_args: check label/probability values.
        kwargs: torchmetrics's (`dist_sync_on_step`, `sync_on_compute`, ...).

    Anchor: `sklearn.metrics.balanced_accuracy_score(y_true, y_pred, sample_weight, adjusted)`.

    Examples:
        >>> import torch
        >>> target = torch.tensor([1, 0, 0, 0, 1])
        >>> preds = torch.tensor([0.9, 0.2, 0.6, 0.1, 0.4])
        >>> metric = BalancedAccuracy()
        >>> metric.update(preds, target)
        >>> round(float(metric.compute()), 4)
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
        **kwargs: Any,
    ) -> None:
        super().__init__(
            num_classes=num_classes, threshold=threshold, from_logits=from_logits,
            validate_args=validate_args, **kwargs,
        )
        self.adjusted = M.check_bool("adjusted", adjusted)

    def _score(self, cm):
        return _balanced_accuracy(cm, self.adjusted)


class TruePositiveRate(_ConfusionMetric):
    """TPR (recall, sensitivity) over a stream: TP / (TP + FN), weighted; 0 with no positive.

    Args:
        threshold: in [0, 1]; predicted positive when preds > threshold.
        from_logits: preds are logits (compared with logit(threshold)).
        validate_args: check label/probability values.
        kwargs: torchmetrics's.

    Anchor: `sklearn.metrics.recall_score(pos_label=1)`.

    Examples:
        >>> import torch
        >>> target = torch.tensor([1, 0, 0, 0, 1])
        >>> preds = torch.tensor([0.9, 0.2, 0.6, 0.1, 0.4])
        >>> metric = TruePositiveRate()
        >>> metric.update(preds, target)
        >>> round(float(metric.compute()), 4)
        0.5
    """

    def __init__(self, *, threshold: float = 0.5, from_logits: bool = False, validate_args: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(
            num_classes=None, threshold=threshold, from_logits=from_logits, validate_args=validate_args, **kwargs
        )

    def _score(self, cm):
        return _true_positive_rate(cm)


class TrueNegativeRate(_ConfusionMetric):
    """TNR (specificity) over a stream: TN / (TN + FP), weighted; 0 with no negative.

    Args: as `TruePositiveRate`.
    Anchor: `sklearn.metrics.recall_score(pos_label=0)`.

    Examples:
        >>> import torch
        >>> target = torch.tensor([1, 0, 0, 0, 1])
        >>> preds = torch.tensor([0.9, 0.2, 0.6, 0.1, 0.4])
        >>> metric = TrueNegativeRate()
        >>> metric.update(preds, target)
        >>> round(float(metric.compute()), 4)
        0.6667
    """

    def __init__(self, *, threshold: float = 0.5, from_logits: bool = False, validate_args: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(
            num_classes=None, threshold=threshold, from_logits=from_logits, validate_args=validate_args, **kwargs
        )

    def _score(self, cm):
        return _true_negative_rate(cm)


class WeightedBalancedAccuracy(_ConfusionMetric):
    """alpha TPR + (1 - alpha) TNR over a stream (binary).

    alpha = 0.5 equals `BalancedAccuracy` when both classes occur; unlike it, an absent
    class is not dropped (its rate counts as 0).

    Args:
        alpha: weight of the TPR, in [0, 1].
        threshold, from_logits, validate_args, kwargs: as `TruePositiveRate`.

    Anchor: alpha recall_score(pos_label=1) + (1 - alpha) recall_score(pos_label=0).

    Examples:
        >>> import torch
        >>> target = torch.tensor([1, 0, 0, 0, 1])
        >>> preds = torch.tensor([0.9, 0.2, 0.6, 0.1, 0.4])
        >>> metric = WeightedBalancedAccuracy(alpha=0.7)
        >>> metric.update(preds, target)
        >>> round(float(metric.compute()), 4)
        0.55
    """

    def __init__(
        self,
        *,
        alpha: float = 0.5,
        threshold: float = 0.5,
        from_logits: bool = False,
        validate_args: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            num_classes=None, threshold=threshold, from_logits=from_logits, validate_args=validate_args, **kwargs
        )
        self.alpha = _check_alpha(alpha)

    def _score(self, cm):
        return _weighted_balanced_accuracy(cm, self.alpha)


class GeometricMean(_ConfusionMetric):
    """G-mean over a stream: (prod_c recall_c)^(1/P) over the P classes that occur in
    `target` or in the predictions, on the accumulated confusion matrix; binary:
    sqrt(TPR x TNR).

    A recall of 0 (a class missed, or predicted but never true) makes it 0 unless
    `correction` > 0 replaces it (for many classes). 0 before any sample.

    Args:
        num_classes, threshold, from_logits, validate_args, kwargs: as `BalancedAccuracy`.
        correction: in [0, 1], the recall substituted for a recall of 0.

    Anchor: `imblearn.metrics.geometric_mean_score(average="multiclass", correction=...)`
    (Kubat and Matwin 1997).

    Examples:
        >>> import torch
        >>> target = torch.tensor([0, 0, 1, 1, 2, 2])
        >>> preds = torch.eye(3)[[0, 0, 1, 0, 2, 1]]    # predicted classes 0, 0, 1, 0, 2, 1
        >>> metric = GeometricMean(num_classes=3)
        >>> metric.update(preds, target)
        >>> round(float(metric.compute()), 4)
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
        **kwargs: Any,
    ) -> None:
        super().__init__(
            num_classes=num_classes, threshold=threshold, from_logits=from_logits,
            validate_args=validate_args, **kwargs,
        )
        self.correction = M.check_correction(correction)

    def _score(self, cm):
        return _geometric_mean(cm, self.correction)


class MatthewsCorrelation(_ConfusionMetric):
    """Matthews correlation coefficient over a stream, in [-1, 1]:
    (c s - t.p) / sqrt((s^2 - t.t)(s^2 - p.p)) on the accumulated confusion matrix (t, p:
    true and predicted class totals, s: total, c: trace); 0 when undefined (no sample, or
    a single class in the labels or in the predictions).

    Args: as `BalancedAccuracy` (without `adjusted`).
    Anchor: `sklearn.metrics.matthews_corrcoef` (Matthews 1975; Gorodkin 2004 for K classes).

    Examples:
        >>> import torch
        >>> target = torch.tensor([0, 0, 1, 1, 2, 2])
        >>> preds = torch.eye(3)[[0, 0, 1, 0, 2, 1]]    # predicted classes 0, 0, 1, 0, 2, 1
        >>> metric = MatthewsCorrelation(num_classes=3)
        >>> metric.update(preds, target)
        >>> round(float(metric.compute()), 4)
        0.5222
    """

    def __init__(
        self,
        *,
        num_classes: int | None = None,
        threshold: float = 0.5,
        from_logits: bool = False,
        validate_args: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            num_classes=num_classes, threshold=threshold, from_logits=from_logits,
            validate_args=validate_args, **kwargs,
        )

    def _score(self, cm):
        return _matthews_correlation(cm)


class PerClassRecall(_ConfusionMetric):
    """Recall of every class over a stream, a vector (K,) (binary: (2,), [TNR, TPR]):
    recall_c = C[c, c] / sum_j C[c, j] on the accumulated confusion matrix, 0 for a class
    with no sample yet.

    Args: as `BalancedAccuracy` (without `adjusted`).
    Anchor: `sklearn.metrics.recall_score(average=None, labels=range(K), zero_division=0)`.

    Examples:
        >>> import torch
        >>> target = torch.tensor([0, 0, 1, 1, 2, 2])
        >>> preds = torch.eye(3)[[0, 0, 1, 0, 2, 1]]    # predicted classes 0, 0, 1, 0, 2, 1
        >>> metric = PerClassRecall(num_classes=3)
        >>> metric.update(preds, target)
        >>> print(metric.compute().numpy().round(4))
        [1.  0.5 0.5]
    """

    def __init__(
        self,
        *,
        num_classes: int | None = None,
        threshold: float = 0.5,
        from_logits: bool = False,
        validate_args: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            num_classes=num_classes, threshold=threshold, from_logits=from_logits,
            validate_args=validate_args, **kwargs,
        )

    def _score(self, cm):
        return _per_class_recall(cm)


class ShotAccuracy(_ConfusionMetric):
    """Accuracy over the many-, medium- and few-shot classes over a stream, a vector (3,)
    [many, medium, few]: in each group, the mean recall (per-class accuracy) over its
    classes present in `target` so far; NaN for a group with no class present.

    Groups (OLTR's convention): n_c training samples; many-shot n_c > many_threshold,
    few-shot n_c < few_threshold, medium-shot otherwise. Multi-class: preds (..., K) with
    K = len(samples_per_class), argmax; target indices or one-hot.

    Args:
        samples_per_class: the training count of every class, (K,), K >= 2.
        many_threshold, few_threshold: group bounds, 0 <= few_threshold <= many_threshold.
        validate_args, kwargs: as `BalancedAccuracy`.

    Anchor: `shot_acc` of the OLTR code (Liu et al. 2019, "Large-Scale Long-Tailed
    Recognition in an Open World").

    Examples:
        >>> import torch
        >>> target = torch.tensor([0, 0, 1, 1, 2, 2])
        >>> preds = torch.eye(3)[[0, 0, 1, 0, 2, 1]]    # predicted classes 0, 0, 1, 0, 2, 1
        >>> metric = ShotAccuracy([500, 60, 5])
        >>> metric.update(preds, target)
        >>> print(metric.compute().numpy().round(4))
        [1.  0.5 0.5]
    """

    def __init__(
        self,
        samples_per_class: Any,
        *,
        many_threshold: float = 100,
        few_threshold: float = 20,
        validate_args: bool = True,
        **kwargs: Any,
    ) -> None:
        counts, many, few = M.check_shot_args(samples_per_class, many_threshold, few_threshold)
        super().__init__(
            num_classes=counts.shape[0], threshold=0.5, from_logits=False, validate_args=validate_args, **kwargs
        )
        self.samples_per_class, self.many_threshold, self.few_threshold = counts.tolist(), many, few
        # a buffer, so that .to(device) moves it; not persistent: the constructor rebuilds it
        self.register_buffer("groups", torch.as_tensor(M.shot_groups(counts, many, few)), persistent=False)

    def _score(self, cm):
        return _shot_accuracy(cm, self.groups)
