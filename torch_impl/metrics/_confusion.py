"""The confusion-matrix machinery of the torch metrics: one batch's decisions and checks, the
float64 state and its update, and the base classes that every metric configures (see the
package docstring for the state and where the checks run).
"""

from __future__ import annotations

from typing import Any

import torch
from torchmetrics import Metric

from imbalance_core import metrics, validation
from imbalance_core.validation import check_float_dtype

from .. import _ops, _update_count


def _scatter_confusion(t: torch.Tensor, p: torch.Tensor, w: torch.Tensor, k: int) -> torch.Tensor:
    """C[t_i, p_i] += w_i in float64, O(N) memory. An index outside [0, k) (only possible
    with validate_args=False) contributes nothing, exactly as in tf_impl."""
    valid = (t >= 0) & (t < k)
    ids = torch.where(valid, t * k + p, torch.zeros_like(t))
    w = torch.where(valid, w, torch.zeros_like(w))
    return torch.zeros(k * k, dtype=torch.float64, device=w.device).index_add_(0, ids, w).reshape(k, k)


def _check_values(layout: metrics.Layout, num_classes: int | None, from_logits: bool, target: torch.Tensor,
                  preds: torch.Tensor, weight: torch.Tensor | None) -> None:
    """The content checks as torch ops giving one flag, checked without a host sync on CUDA
    (_ops.device_check); on a failure the shared NumPy check builds (and raises) the message."""
    bad = []
    if metrics.checks_probabilities(layout.mode, from_logits):
        bad.append(~((preds >= 0) & (preds <= 1)))
    if layout.mode == "binary":
        bad.append((target != 0) & (target != 1))
    elif layout.mode == "onehot":
        bad.append(~((target >= 0) & (target <= 1)))
    else:
        assert num_classes is not None  # class indices come with num_classes (the layout's rule)
        if target.is_floating_point():
            bad.append(target != target.round())
        bad.append((target < 0) | (target >= num_classes))
    if weight is not None:
        bad.append(~torch.isfinite(weight) | (weight < 0))
    conv = metrics.TORCH
    _ops.device_check(
        torch.stack([b.any() for b in bad]).any(),
        lambda: metrics.check_metric_values(layout, num_classes, from_logits, target, preds, weight, conv),
        validation.invalid_values_message(conv.target, conv.preds, "sample_weight"),
    )


def batch_inputs(preds: Any, target: Any, sample_weight: Any, num_classes: int | None,
                 ) -> tuple[metrics.Layout, torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """One batch as tensors on preds' device with its layout (`imbalance_core.metrics.layout`:
    the shape and dtype checks), a target's trailing class axis of size 1 squeezed; for every
    metric and `decisions.ThresholdTuner`."""
    conv = metrics.TORCH
    preds = torch.as_tensor(preds)
    if not (preds.is_floating_point()):
        check_float_dtype(conv.preds, preds.dtype)  # raises the shared TypeError
    target = torch.as_tensor(target, device=preds.device)
    layout = metrics.layout(num_classes, tuple(target.shape), tuple(preds.shape), conv)
    if layout.squeeze_target:
        target = target.squeeze(-1)
    if sample_weight is not None:
        sample_weight = torch.as_tensor(sample_weight, device=preds.device)
        if metrics.weight_squeeze(tuple(sample_weight.shape), layout.sample_shape):
            sample_weight = sample_weight.squeeze(-1)
    return layout, preds, target, sample_weight


def decision_weights(sample_weight: torch.Tensor | None, layout: metrics.Layout, shape: torch.Size,
                     device: torch.device) -> torch.Tensor:
    """`sample_weight` (None, a scalar or leading axes of the per-decision shape) as one float64
    weight per decision of `shape` (1 each without weights)."""
    if sample_weight is None:
        return torch.ones(shape, dtype=torch.float64, device=device)
    w = sample_weight.to(torch.float64)
    return w.reshape(tuple(w.shape) + (1,) * (len(layout.sample_shape) - w.ndim)).expand(shape)


def _confusion(preds: Any, target: Any, sample_weight: Any, num_classes: int | None, cut: float, from_logits: bool,
               validate_args: bool) -> torch.Tensor:
    """The K x K float64 confusion-matrix increment of one batch."""
    layout, preds, target, sample_weight = batch_inputs(preds, target, sample_weight, num_classes)
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
    w = decision_weights(sample_weight, layout, t.shape, t.device)
    return _scatter_confusion(t.reshape(-1), p.reshape(-1), w.reshape(-1), k)


def ratio(num: torch.Tensor, den: torch.Tensor) -> torch.Tensor:
    """num / den, 0 where den is 0."""
    return torch.where(den > 0, num / torch.where(den > 0, den, 1.0), 0.0)


def recalls(cm: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(recall per class, 0 for a class with no sample; the support > 0 mask)."""
    support = cm.sum(dim=1)
    return ratio(cm.diagonal(), support), support > 0


def batch_confusion(preds: Any, target: Any, sample_weight: Any, num_classes: int | None, threshold: float,
                    from_logits: bool, validate_args: bool) -> torch.Tensor:
    num_classes, threshold, from_logits = _ops.static_args(
        metrics.check_metric_args, num_classes, threshold, from_logits)
    validate_args = _ops.static_args(metrics.check_bool, "validate_args", validate_args)
    cut = _ops.static_args(metrics.decision_threshold, threshold, from_logits)
    return _confusion(preds, target, sample_weight, num_classes, cut, from_logits, validate_args)


def default_float(x: torch.Tensor) -> torch.Tensor:
    """The result of a functional form, in torch.get_default_dtype()."""
    return x.to(torch.get_default_dtype())


class ConfusionMetric(_update_count.DynamicUpdateCount, Metric):
    """A metric of the float64 confusion matrix, accumulated over batches and summed across
    processes under DDP.

    A subclass configures it: its constructor's keywords (each kept as an attribute of the same
    name) and `_score(cm)`, its formula. The keywords here are those of the metrics that take
    binary or multi-class inputs.
    """

    confusion: torch.Tensor  # registered by add_state
    is_differentiable = False
    higher_is_better = True
    full_state_update = False

    def __init__(self, *, num_classes: int | None = None, threshold: float = 0.5, from_logits: bool = False,
                 validate_args: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.num_classes, self.threshold, self.from_logits = metrics.check_metric_args(
            num_classes, threshold, from_logits)
        self.validate_args = metrics.check_bool("validate_args", validate_args)
        self._cut = metrics.decision_threshold(self.threshold, self.from_logits)
        k = self.num_classes or 2
        self.add_state("confusion", default=torch.zeros(k, k, dtype=torch.float64), dist_reduce_fx="sum")

    def update(self, preds: Any, target: Any, sample_weight: Any | None = None) -> None:
        self.confusion += _confusion(
            preds, target, sample_weight, self.num_classes, self._cut, self.from_logits, self.validate_args
        ).to(self.confusion.device)

    def _score(self, cm: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError  # each subclass defines its formula

    def compute(self) -> torch.Tensor:
        return default_float(self._score(self.confusion))


class BinaryConfusionMetric(ConfusionMetric):
    """A metric of the 2 x 2 confusion matrix of binary decisions (no `num_classes`)."""

    def __init__(self, *, threshold: float = 0.5, from_logits: bool = False, validate_args: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(threshold=threshold, from_logits=from_logits, validate_args=validate_args, **kwargs)
