"""Losses for class-imbalanced classification, PyTorch. The mirror of tf_impl/losses.py.

Each loss is a functional form `fn(input, target, **kw)` returning the unreduced loss
(element-wise `(..., C)` for the sigmoid family, per-sample `(...)` for the softmax family)
and an `nn.Module` adding the torch reductions ("mean", "sum", "none") and `sample_weight`.
Everything is computed from logits in log space; float16/bfloat16 inputs are computed in
float32 and returned in the input dtype.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from imbalance_core import validation as V

from . import _ops

__all__ = ["weighted_binary_crossentropy", "WeightedBinaryCrossentropy"]


# --------------------------------------------------------------------------------------------
# Weighted binary cross-entropy
# --------------------------------------------------------------------------------------------


def _check_wbce_args(pos_weight, neg_weight, label_smoothing):
    return (
        V.check_weight_vector("pos_weight", pos_weight),
        V.check_weight_vector("neg_weight", neg_weight),
        V.check_number("label_smoothing", label_smoothing, low=0.0, high=1.0),
    )


def _all_positive(w) -> bool:
    return w is None or bool(np.all(np.asarray(_ops.to_host(w)) > 0))


def _weighted_binary_crossentropy(x, y, pos_weight, neg_weight, label_smoothing, from_logits, validate_args,
                                  neg_weight_positive=None):
    x = _ops.check_logits("input", x)
    if not isinstance(y, torch.Tensor):
        y = torch.as_tensor(y)
    _ops.check_same_shape("target", y, "input", x)
    num_labels = x.shape[-1] if x.ndim else 1
    _ops.check_vector_length("pos_weight", pos_weight, num_labels)
    _ops.check_vector_length("neg_weight", neg_weight, num_labels)
    if validate_args:
        _ops.check_in_range("target", y, 0.0, 1.0, "targets")
        if not from_logits:
            _ops.check_in_range("input", x, 0.0, 1.0, "probabilities (from_logits=False)")
    dtype = _ops.compute_dtype(x)
    xc = x.to(dtype)
    yc = y.to(dtype)
    if not from_logits:
        xc = _ops.probabilities_to_logits(xc)
    if label_smoothing:
        yc = yc * (1.0 - label_smoothing) + 0.5 * label_smoothing
    pw = _ops.as_tensor_like(pos_weight, xc)
    nw = _ops.as_tensor_like(neg_weight, xc)
    if neg_weight_positive is None:
        neg_weight_positive = _all_positive(neg_weight)
    if neg_weight_positive:
        # torch's fused kernel (log-sigmoid based) is the fastest eager path:
        # w- * BCEWithLogits(pos_weight=w+/w-) == -[w+ y log s(x) + w- (1-y) log s(-x)].
        if nw is not None:
            pw = nw.reciprocal() if pw is None else pw / nw
        loss = F.binary_cross_entropy_with_logits(xc, yc, weight=nw, pos_weight=pw, reduction="none")
    else:  # zero negative weights: the direct form (two log-sigmoids, no cancellation)
        pos = yc * F.logsigmoid(xc)
        if pw is not None:
            pos = pos * pw
        loss = -(pos + nw * ((1.0 - yc) * F.logsigmoid(-xc)))
    return loss.to(x.dtype)


def weighted_binary_crossentropy(
    input: torch.Tensor,
    target: torch.Tensor,
    *,
    pos_weight: Optional[Any] = None,
    neg_weight: Optional[Any] = None,
    label_smoothing: float = 0.0,
    from_logits: bool = True,
    validate_args: bool = True,
) -> torch.Tensor:
    """Element-wise weighted binary cross-entropy from logits.

    l = -[w+ y log sigma(x) + w- (1 - y) log sigma(-x)], with label smoothing
    y <- y (1 - e) + e / 2 applied first.

    Args:
        input: logits (or probabilities when `from_logits=False`), shape (..., C) or (B,).
        target: targets in [0, 1], the same shape as `input` (no broadcasting).
        pos_weight: w+, a scalar or a length-C vector (per label); default 1.
        neg_weight: w-, a scalar or a length-C vector; default 1.
        label_smoothing: e in [0, 1].
        from_logits: False takes probabilities, clipped to [1e-7, 1 - 1e-7] (Keras's rule).
        validate_args: check target values (and probabilities) at call time.

    Returns:
        The unreduced loss, shape of `input`, dtype of `input`.

    Anchors: `torch.nn.BCEWithLogitsLoss(weight=w, pos_weight=p)` equals
    `pos_weight=w*p, neg_weight=w`; `tf.nn.weighted_cross_entropy_with_logits(pos_weight=p)`;
    Keras `BinaryCrossentropy(from_logits=True, label_smoothing=e)` (the mean over C).
    """
    pos_weight, neg_weight, label_smoothing = _check_wbce_args(pos_weight, neg_weight, label_smoothing)
    return _weighted_binary_crossentropy(
        input, target, pos_weight, neg_weight, label_smoothing, bool(from_logits), validate_args
    )


class _Loss(nn.Module):
    """Shared plumbing of the torch loss modules: reduction, sample_weight and repr."""

    def __init__(self, reduction: str) -> None:
        super().__init__()
        self.reduction = V.check_choice("reduction", reduction, V.TORCH_REDUCTIONS)

    def _register_weight(self, name: str, value) -> None:
        self.register_buffer(name, None if value is None else torch.as_tensor(value, dtype=torch.float64))


class WeightedBinaryCrossentropy(_Loss):
    """Weighted binary cross-entropy (sigmoid family) as an `nn.Module`.

    See `weighted_binary_crossentropy` for the formula. `forward(input, target,
    sample_weight=None)`: "mean" averages every element (as `BCEWithLogitsLoss`), "sum" adds
    them, "none" returns the element-wise loss; `sample_weight` (shape (B,) or input.shape[:-1])
    multiplies each sample's losses.

    Anchor: `BCEWithLogitsLoss(weight=w, pos_weight=p)` == `WeightedBinaryCrossentropy(
    pos_weight=w*p, neg_weight=w)` under every reduction.
    """

    def __init__(
        self,
        *,
        pos_weight: Optional[Any] = None,
        neg_weight: Optional[Any] = None,
        label_smoothing: float = 0.0,
        from_logits: bool = True,
        validate_args: bool = True,
        reduction: str = "mean",
    ) -> None:
        super().__init__(reduction)
        pos_weight, neg_weight, self.label_smoothing = _check_wbce_args(pos_weight, neg_weight, label_smoothing)
        self._register_weight("pos_weight", pos_weight)
        self._register_weight("neg_weight", neg_weight)
        self._neg_weight_positive = _all_positive(neg_weight)  # decided once, not per call
        self.from_logits = bool(from_logits)
        self.validate_args = bool(validate_args)

    def forward(self, input: torch.Tensor, target: torch.Tensor, sample_weight: Optional[Any] = None) -> torch.Tensor:
        loss = _weighted_binary_crossentropy(
            input, target, self.pos_weight, self.neg_weight, self.label_smoothing, self.from_logits,
            self.validate_args, self._neg_weight_positive,
        )
        return _ops.reduce(loss, self.reduction, sample_weight, per_sample_ndim=max(loss.ndim - 1, 1))

    def extra_repr(self) -> str:
        return f"label_smoothing={self.label_smoothing}, from_logits={self.from_logits}, reduction={self.reduction!r}"
