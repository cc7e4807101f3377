"""Losses for class-imbalanced classification, PyTorch. The mirror of tf_impl/losses.py.

Each loss is a functional form `fn(input, target, **kw)` returning the unreduced loss
(element-wise, the input's shape, for the sigmoid family; per-sample for the softmax family,
which takes CrossEntropyLoss's layouts (C), (N, C), (N, C, d1, ..., dk) with the class on
dim 1) and an `nn.Module` adding the torch reductions ("mean", "sum", "none") and
`sample_weight`, all through `_ops.reduce`. Everything is computed from logits in log space;
float16/bfloat16 inputs are computed in float32 and returned in the input dtype (float32
under autocast, as torch's own losses). Tensor-content checks run eagerly and are skipped
while torch.compile traces (see `_ops.checking`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from imbalance_core import loss_args as A
from imbalance_core import validation as V

from . import _ops

__all__ = [
    "weighted_binary_crossentropy", "WeightedBinaryCrossentropy",
    "binary_focal_loss", "BinaryFocalLoss",
    "weighted_categorical_crossentropy", "WeightedCategoricalCrossentropy",
    "categorical_focal_loss", "CategoricalFocalLoss",
    "asymmetric_loss", "AsymmetricLoss",
    "class_balanced_loss", "ClassBalancedLoss",
    "logit_adjusted_crossentropy", "LogitAdjustedCrossentropy", "adjust_logits",
]

# The functional forms check and normalise their hyperparameters through `_static`: a plain call
# eagerly; under torch.compile, with Python-constant arguments, once at trace time as a graph
# constant, so the NumPy-based checks do not break the graph (see _ops.static_args).
_static = _ops.static_args


# --------------------------------------------------------------------------------------------
# Weighted binary cross-entropy
# --------------------------------------------------------------------------------------------


def _all_positive(w, *, per_call: bool = True) -> bool:
    """Whether the fused path applies. Per call, a tensor off the CPU is not read (a host
    sync): the direct form, right for every weight, is taken instead."""
    if per_call and isinstance(w, torch.Tensor) and w.device.type != "cpu":
        return False
    return w is None or bool(np.all(V.to_numpy(w) > 0))


def _sigmoid_inputs(x, y, from_logits, label_smoothing, validate_args):
    """Checks and prepares sigmoid-family inputs: (original logits, logits, targets) with the
    last two in the compute dtype, probabilities turned into logits and targets smoothed."""
    V.check_bool("validate_args", validate_args)  # the functional forms pass it unchecked
    x = _ops.check_logits("input", x)
    if not isinstance(y, torch.Tensor):
        y = torch.as_tensor(y)
    _ops.check_same_shape("target", y, "input", x)
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
    return x, xc, yc


def _weighted_binary_crossentropy(x, y, pos_weight, neg_weight, label_smoothing, from_logits, validate_args,
                                  neg_weight_positive=None):
    x, xc, yc = _sigmoid_inputs(x, y, from_logits, label_smoothing, validate_args)
    num_labels = x.shape[-1] if x.ndim else 1
    V.check_vector_length("pos_weight", pos_weight, num_labels)
    V.check_vector_length("neg_weight", neg_weight, num_labels)
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
    return loss.to(_ops.output_dtype(x))


def weighted_binary_crossentropy(
    input: torch.Tensor,
    target: torch.Tensor,
    *,
    pos_weight: Any | None = None,
    neg_weight: Any | None = None,
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

    Examples:
        >>> import torch
        >>> target = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
        >>> logits = torch.tensor([[2.0, -1.0, 0.5], [-0.5, 1.0, -2.0]])
        >>> out = weighted_binary_crossentropy(logits, target, pos_weight=2.0)
        >>> print(out.numpy().round(4))
        [[0.2539 0.3133 0.9482]
         [0.4741 0.6265 0.1269]]
    """
    # a NumPy neg_weight is a graph input while compiling (see _ops.static_args), its values
    # unknown at trace time: the direct form, right for every weight
    values_unknown = torch.compiler.is_compiling() and isinstance(neg_weight, np.ndarray)
    pos_weight, neg_weight, label_smoothing, fused = _static(_wbce_args, pos_weight, neg_weight, label_smoothing)
    fused = fused and not values_unknown
    from_logits = _static(V.check_bool, "from_logits", from_logits)
    return _weighted_binary_crossentropy(input, target, pos_weight, neg_weight, label_smoothing, from_logits,
                                         validate_args, neg_weight_positive=fused)


def _wbce_args(pos_weight, neg_weight, label_smoothing):
    """The functional form's arguments checked, with whether the fused path applies (every
    negative weight positive), in one call: one constant under torch.compile."""
    pos_weight, neg_weight, label_smoothing = A.wbce(pos_weight, neg_weight, label_smoothing)
    return pos_weight, neg_weight, label_smoothing, _all_positive(neg_weight, per_call=False)


class _Loss(nn.Module):
    """Shared plumbing of the torch loss modules: reduction, sample_weight and repr."""

    def __init__(self, reduction: str) -> None:
        super().__init__()
        self.reduction = V.check_choice("reduction", reduction, V.TORCH_REDUCTIONS)

    def _register_weight(self, name: str, value) -> None:
        # a buffer: it follows .to(device), lives in the state_dict and is never uploaded per call
        self.register_buffer(name, None if value is None else torch.as_tensor(value, dtype=torch.float64))

    def _reduce(self, loss, sample_weight):
        """Sigmoid family: one weight per sample (the leading axes), "mean" over every element."""
        return _ops.reduce(loss, self.reduction, sample_weight, per_sample_ndim=max(loss.ndim - 1, 1))


class WeightedBinaryCrossentropy(_Loss):
    """Weighted binary cross-entropy (sigmoid family) as an `nn.Module`.

    See `weighted_binary_crossentropy` for the formula. `forward(input, target,
    sample_weight=None)`: "mean" averages every element (as `BCEWithLogitsLoss`), "sum" adds
    them, "none" returns the element-wise loss; `sample_weight` (shape (B,) or input.shape[:-1])
    multiplies each sample's losses.

    Anchor: `BCEWithLogitsLoss(weight=w, pos_weight=p)` == `WeightedBinaryCrossentropy(
    pos_weight=w*p, neg_weight=w)` under every reduction.

    Examples:
        >>> import torch
        >>> target = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
        >>> logits = torch.tensor([[2.0, -1.0, 0.5], [-0.5, 1.0, -2.0]])
        >>> loss_fn = WeightedBinaryCrossentropy(pos_weight=2.0)
        >>> round(float(loss_fn(logits, target)), 4)
        0.4571
    """

    def __init__(
        self,
        *,
        pos_weight: Any | None = None,
        neg_weight: Any | None = None,
        label_smoothing: float = 0.0,
        from_logits: bool = True,
        validate_args: bool = True,
        reduction: str = "mean",
    ) -> None:
        super().__init__(reduction)
        pos_weight, neg_weight, self.label_smoothing = A.wbce(pos_weight, neg_weight, label_smoothing)
        self._register_weight("pos_weight", pos_weight)
        self._register_weight("neg_weight", neg_weight)
        self._neg_weight_positive = _all_positive(neg_weight, per_call=False)  # decided once, not per call
        self.from_logits = V.check_bool("from_logits", from_logits)
        self.validate_args = V.check_bool("validate_args", validate_args)

    def forward(self, input: torch.Tensor, target: torch.Tensor, sample_weight: Any | None = None) -> torch.Tensor:
        loss = _weighted_binary_crossentropy(
            input, target, self.pos_weight, self.neg_weight, self.label_smoothing, self.from_logits,
            self.validate_args, self._neg_weight_positive,
        )
        return self._reduce(loss, sample_weight)

    def extra_repr(self) -> str:
        return f"label_smoothing={self.label_smoothing}, from_logits={self.from_logits}, reduction={self.reduction!r}"


# --------------------------------------------------------------------------------------------
# Binary focal loss
# --------------------------------------------------------------------------------------------


def _binary_focal_loss(x, y, alpha, gamma, label_smoothing, from_logits, validate_args):
    x, xc, yc = _sigmoid_inputs(x, y, from_logits, label_smoothing, validate_args)
    loss = F.binary_cross_entropy_with_logits(xc, yc, reduction="none")
    if gamma:
        # 1 - p_t = y sigma(-x) + (1 - y) sigma(x): both sigmoids computed directly (no 1 - p
        # cancellation); for gamma < 1 its log, log-sigmoid based, so the gradient stays finite.
        factor = _ops.focal_factor(
            lambda: yc * torch.sigmoid(-xc) + (1.0 - yc) * torch.sigmoid(xc),
            lambda: torch.logaddexp(torch.log(yc) + F.logsigmoid(-xc), torch.log1p(-yc) + F.logsigmoid(xc)),
            gamma,
        )
        loss = loss * factor
    if alpha is not None:
        loss = loss * (alpha * yc + (1.0 - alpha) * (1.0 - yc))
    return loss.to(_ops.output_dtype(x))


def binary_focal_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    *,
    alpha: float | None = 0.25,
    gamma: float = 2.0,
    label_smoothing: float = 0.0,
    from_logits: bool = True,
    validate_args: bool = True,
) -> torch.Tensor:
    """Element-wise binary focal loss (Lin et al. 2017, "Focal Loss for Dense Object Detection").

    ce = -[y log sigma(x) + (1-y) log sigma(-x)], p_t = y sigma(x) + (1-y) sigma(-x),
    l = a_t (1 - p_t)^gamma ce, a_t = alpha y + (1 - alpha)(1 - y) (alpha=None: a_t = 1).
    Targets are smoothed first, y <- y(1-e) + e/2.

    Args:
        input: logits (probabilities when `from_logits=False`), any shape.
        target: targets in [0, 1], the shape of `input`.
        alpha: class balance in [0, 1], or None for no balancing.
        gamma: focusing parameter >= 0 (0 gives cross-entropy).
        label_smoothing: e in [0, 1].

    Anchors: `torchvision.ops.sigmoid_focal_loss(reduction="none")` (alpha < 0 there = None
    here); Keras `BinaryFocalCrossentropy(apply_class_balancing=True)` (its mean over C).

    Examples:
        >>> import torch
        >>> target = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
        >>> logits = torch.tensor([[2.0, -1.0, 0.5], [-0.5, 1.0, -2.0]])
        >>> out = binary_focal_loss(logits, target, alpha=0.75, gamma=2.0)
        >>> print(out.numpy().round(4))
        [[0.0014 0.0057 0.0507]
         [0.0169 0.017  0.0005]]
    """
    alpha = _static(A.alpha, alpha, allow_vector=False)
    gamma = _static(A.gamma, "gamma", gamma)
    label_smoothing = _static(A.label_smoothing, label_smoothing)
    from_logits = _static(V.check_bool, "from_logits", from_logits)
    return _binary_focal_loss(input, target, alpha, gamma, label_smoothing, from_logits, validate_args)


class BinaryFocalLoss(_Loss):
    """Binary focal loss as an `nn.Module`; see `binary_focal_loss`. Reductions as
    `WeightedBinaryCrossentropy` ("mean" over every element, like torchvision's).

    Examples:
        >>> import torch
        >>> target = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
        >>> logits = torch.tensor([[2.0, -1.0, 0.5], [-0.5, 1.0, -2.0]])
        >>> loss_fn = BinaryFocalLoss(alpha=0.75, gamma=2.0)
        >>> round(float(loss_fn(logits, target)), 4)
        0.0153
    """

    def __init__(self, *, alpha: float | None = 0.25, gamma: float = 2.0, label_smoothing: float = 0.0,
                 from_logits: bool = True, validate_args: bool = True, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.alpha = A.alpha(alpha, allow_vector=False)
        self.gamma = A.gamma("gamma", gamma)
        self.label_smoothing = A.label_smoothing(label_smoothing)
        self.from_logits = V.check_bool("from_logits", from_logits)
        self.validate_args = V.check_bool("validate_args", validate_args)

    def forward(self, input: torch.Tensor, target: torch.Tensor, sample_weight: Any | None = None) -> torch.Tensor:
        loss = _binary_focal_loss(input, target, self.alpha, self.gamma, self.label_smoothing, self.from_logits,
                                  self.validate_args)
        return self._reduce(loss, sample_weight)


# --------------------------------------------------------------------------------------------
# Softmax family: weighted categorical cross-entropy, categorical focal loss
# --------------------------------------------------------------------------------------------


def _softmax_inputs(x, target, from_logits, validate_args):
    """Checks softmax-family inputs and puts CrossEntropyLoss's layouts class last: (original
    logits, logits and target class last, logits in the compute dtype)."""
    V.check_bool("validate_args", validate_args)  # the functional forms pass it unchecked
    x = _ops.check_logits("input", x)
    if x.ndim < 1:
        raise ValueError(V.scalar_logits_message("input", "(C), (N, C) or (N, C, d1, ...)"))
    if not isinstance(target, torch.Tensor):
        target = torch.as_tensor(target)
    if validate_args and not from_logits:
        _ops.check_in_range("input", x, 0.0, 1.0, "probabilities (from_logits=False)")
    x_last, target = _ops.class_last(x, target)
    return x, x_last.to(_ops.compute_dtype(x)), target


def _softmax_core(xc, target, out_dtype, *, class_weight, alpha, gamma, label_smoothing, ignore_index, from_logits,
                  validate_args):
    """Per-sample -sum_c w_c alpha_c (1 - p_c)^gamma q_c log p_c (class axis last), with the
    normalisers (valid, per-sample norm weight)."""
    num_classes = xc.shape[-1]
    V.check_vector_length("class_weight", class_weight, num_classes)
    V.check_vector_length("alpha", alpha, num_classes)
    w = _ops.as_tensor_like(class_weight, xc)
    a = _ops.as_tensor_like(alpha, xc)
    if from_logits and not gamma and a is None:  # plain weighted CE: torch's fused kernel
        loss, valid, norm = _ops.cross_entropy(xc, target, ignore_index=ignore_index, label_smoothing=label_smoothing,
                                               class_weight=w, validate_args=validate_args)
        return loss.to(out_dtype), valid, norm
    logp = _ops.log_softmax_from(xc, from_logits)
    q, valid, norm = _ops.softmax_targets(
        target, xc, ignore_index=ignore_index, label_smoothing=label_smoothing,
        class_weight=w if w is not None else a, validate_args=validate_args,
    )
    term = q * logp
    if gamma:
        # 1 - p = -expm1(log p): accurate as p -> 1 without a masked logsumexp, for gamma >= 1
        term = term * _ops.focal_factor(lambda: -torch.expm1(logp), lambda: _ops.log1m_softmax(logp), gamma)
    if w is not None:
        term = term * w
    if a is not None:
        term = term * a
    return (-term.sum(dim=-1)).to(out_dtype), valid, norm


def _softmax_loss(x, target, **kw):
    """`_softmax_core` on the torch layouts (class on dim 1 from 3 dimensions on)."""
    x, xc, target = _softmax_inputs(x, target, kw["from_logits"], kw["validate_args"])
    return _softmax_core(xc, target, _ops.output_dtype(x), **kw)


def weighted_categorical_crossentropy(
    input: torch.Tensor,
    target: torch.Tensor,
    *,
    class_weight: Any | None = None,
    label_smoothing: float = 0.0,
    ignore_index: int | None = None,
    from_logits: bool = True,
    validate_args: bool = True,
) -> torch.Tensor:
    """Per-sample weighted softmax cross-entropy.

    q = one-hot (or the given probabilities), smoothed q(1-e) + e/K;
    l_n = -sum_c w_c q_nc log softmax(x_n)_c; samples whose index equals `ignore_index` give 0.

    Args:
        input: logits (C), (N, C) or (N, C, d1, ..., dk), the class on dim 1 as in
            CrossEntropyLoss (probabilities when `from_logits=False`).
        target: class indices (), (N) or (N, d1, ..., dk), or probabilities of the input's shape.
        class_weight: w, a length-C non-negative vector (default 1).
        label_smoothing: e in [0, 1].
        ignore_index: a class-index value whose samples are ignored (index targets only).

    Anchor: `torch.nn.CrossEntropyLoss(weight=w, label_smoothing=e, ignore_index=i,
    reduction="none")`, exactly, smoothing included.

    Examples:
        >>> import torch
        >>> target = torch.tensor([0, 2])
        >>> logits = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
        >>> out = weighted_categorical_crossentropy(logits, target, class_weight=[0.5, 1.0, 2.0])
        >>> print(out.numpy().round(4))
        [0.1207 2.0039]
    """
    class_weight = _static(V.check_weight_vector, "class_weight", class_weight, allow_scalar=False)
    label_smoothing = _static(A.label_smoothing, label_smoothing)
    return _softmax_loss(input, target, class_weight=class_weight, alpha=None, gamma=0.0,
                         label_smoothing=label_smoothing, ignore_index=_static(A.ignore_index, ignore_index),
                         from_logits=_static(V.check_bool, "from_logits", from_logits), validate_args=validate_args)[0]


def categorical_focal_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    *,
    alpha: Any | None = None,
    gamma: float = 2.0,
    label_smoothing: float = 0.0,
    ignore_index: int | None = None,
    from_logits: bool = True,
    validate_args: bool = True,
) -> torch.Tensor:
    """Per-sample softmax focal loss (Lin et al. 2017, multi-class form).

    l_n = -sum_c alpha_c (1 - p_nc)^gamma q_nc log p_nc, p = softmax(x), q smoothed as in
    `weighted_categorical_crossentropy`. (1 - p)^gamma is computed as exp(gamma log(1 - p))
    with a stable log(1 - p), so gradients stay finite for every gamma >= 0 and |x| = 100.

    Args:
        alpha: None (1), a scalar in [0, 1] or a length-C vector of values in [0, 1].
        gamma: focusing parameter >= 0.

    Anchor: Keras `CategoricalFocalCrossentropy(alpha, gamma, label_smoothing)` (whose
    default alpha is 0.25; ours is None).

    Examples:
        >>> import torch
        >>> target = torch.tensor([0, 2])
        >>> logits = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
        >>> out = categorical_focal_loss(logits, target, gamma=2.0)
        >>> print(out.numpy().round(4))
        [0.0111 0.4013]
    """
    alpha = _static(A.alpha, alpha, allow_vector=True)
    gamma = _static(A.gamma, "gamma", gamma)
    label_smoothing = _static(A.label_smoothing, label_smoothing)
    return _softmax_loss(input, target, class_weight=None, alpha=alpha, gamma=gamma,
                         label_smoothing=label_smoothing, ignore_index=_static(A.ignore_index, ignore_index),
                         from_logits=_static(V.check_bool, "from_logits", from_logits), validate_args=validate_args)[0]


class _SoftmaxLoss(_Loss):
    """Reduction for the softmax family: "mean" divides by the number of non-ignored samples
    (normalization="count") or by their summed class weights ("weight"), summed over the
    ranks under torch.distributed (see `_ops.reduce`)."""

    normalization = "count"

    def _reduce_normalized(self, parts, sample_weight):
        loss, valid, norm = parts
        denominator = (norm if self.normalization == "weight" else valid).sum()
        return _ops.reduce(loss, self.reduction, sample_weight, denominator=denominator)


class WeightedCategoricalCrossentropy(_SoftmaxLoss):
    """Weighted softmax cross-entropy as an `nn.Module`; see `weighted_categorical_crossentropy`.

    normalization="weight" (default): "mean" divides by sum_n w_{t_n} over non-ignored samples,
    exactly `torch.nn.CrossEntropyLoss(weight, label_smoothing, ignore_index)`; "count" divides
    by the number of non-ignored samples. Every target ignored: "mean" is 0 (torch: NaN).

    Examples:
        >>> import torch
        >>> target = torch.tensor([0, 2])
        >>> logits = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
        >>> loss_fn = WeightedCategoricalCrossentropy(class_weight=[0.5, 1.0, 2.0])
        >>> round(float(loss_fn(logits, target)), 4)
        0.8498
    """

    def __init__(self, *, class_weight: Any | None = None, label_smoothing: float = 0.0,
                 ignore_index: int | None = None, normalization: str = "weight", from_logits: bool = True,
                 validate_args: bool = True, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self._register_weight("class_weight", V.check_weight_vector("class_weight", class_weight, allow_scalar=False))
        self.label_smoothing = A.label_smoothing(label_smoothing)
        self.ignore_index = A.ignore_index(ignore_index)
        self.normalization = A.normalization(normalization)
        self.from_logits = V.check_bool("from_logits", from_logits)
        self.validate_args = V.check_bool("validate_args", validate_args)

    def forward(self, input: torch.Tensor, target: torch.Tensor, sample_weight: Any | None = None) -> torch.Tensor:
        return self._reduce_normalized(_softmax_loss(
            input, target, class_weight=self.class_weight, alpha=None, gamma=0.0,
            label_smoothing=self.label_smoothing, ignore_index=self.ignore_index,
            from_logits=self.from_logits, validate_args=self.validate_args), sample_weight)


class CategoricalFocalLoss(_SoftmaxLoss):
    """Softmax focal loss as an `nn.Module`; see `categorical_focal_loss`. "mean" divides by the
    number of non-ignored samples (normalization="count", default) or by sum_n alpha_{t_n}
    ("weight").

    Examples:
        >>> import torch
        >>> target = torch.tensor([0, 2])
        >>> logits = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
        >>> loss_fn = CategoricalFocalLoss(gamma=2.0)
        >>> round(float(loss_fn(logits, target)), 4)
        0.2062
    """

    def __init__(self, *, alpha: Any | None = None, gamma: float = 2.0, label_smoothing: float = 0.0,
                 ignore_index: int | None = None, normalization: str = "count", from_logits: bool = True,
                 validate_args: bool = True, reduction: str = "mean") -> None:
        super().__init__(reduction)
        # a buffer, scalar or vector: on the module's device, never uploaded per call
        self._register_weight("alpha", A.alpha(alpha, allow_vector=True))
        self.gamma = A.gamma("gamma", gamma)
        self.label_smoothing = A.label_smoothing(label_smoothing)
        self.ignore_index = A.ignore_index(ignore_index)
        self.normalization = A.normalization(normalization)
        self.from_logits = V.check_bool("from_logits", from_logits)
        self.validate_args = V.check_bool("validate_args", validate_args)

    def forward(self, input: torch.Tensor, target: torch.Tensor, sample_weight: Any | None = None) -> torch.Tensor:
        return self._reduce_normalized(_softmax_loss(
            input, target, class_weight=None, alpha=self.alpha, gamma=self.gamma,
            label_smoothing=self.label_smoothing, ignore_index=self.ignore_index,
            from_logits=self.from_logits, validate_args=self.validate_args), sample_weight)


# --------------------------------------------------------------------------------------------
# Asymmetric loss
# --------------------------------------------------------------------------------------------


def _asymmetric_loss(x, y, gamma_pos, gamma_neg, clip, stop_focal_gradient, from_logits, validate_args):
    x, xc, yc = _sigmoid_inputs(x, y, from_logits, 0.0, validate_args)
    log_p = F.logsigmoid(xc)
    if clip > 0:
        # 1 - p_m = min(sigma(-x) + clip, 1) >= clip: its log needs no special care.
        log_1m_pm = torch.log(torch.clamp(torch.sigmoid(-xc) + clip, max=1.0))

        def log_pm():  # log p_m, a safe input in the unselected branch (no inf/NaN in the gradient)
            p = torch.sigmoid(xc)
            above = p > clip
            return torch.where(above, torch.log(torch.where(above, p - clip, torch.ones_like(p))),
                               torch.full_like(p, float("-inf")))
    else:
        log_1m_pm = F.logsigmoid(-xc)

        def log_pm():
            return log_p
    pos = yc * log_p
    neg = (1.0 - yc) * log_1m_pm
    w_pos = _ops.focal_factor(lambda: torch.sigmoid(-xc), lambda: F.logsigmoid(-xc), gamma_pos)  # (1 - p)^g+
    w_neg = _ops.focal_factor(  # p_m^g-
        lambda: torch.clamp(torch.sigmoid(xc) - clip, min=0.0) if clip > 0 else torch.sigmoid(xc), log_pm, gamma_neg)
    if stop_focal_gradient:  # the ASL reference's disable_torch_grad_focal_loss
        w_pos = None if w_pos is None else w_pos.detach()
        w_neg = None if w_neg is None else w_neg.detach()
    if w_pos is not None:
        pos = pos * w_pos
    if w_neg is not None:
        neg = neg * w_neg
    return (-(pos + neg)).to(_ops.output_dtype(x))


def asymmetric_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    *,
    gamma_pos: float = 1.0,
    gamma_neg: float = 4.0,
    clip: float = 0.05,
    stop_focal_gradient: bool = False,
    from_logits: bool = True,
    validate_args: bool = True,
) -> torch.Tensor:
    """Element-wise asymmetric loss (Ridnik et al. 2021, "Asymmetric Loss For Multi-Label
    Classification").

    p = sigma(x), p_m = max(p - clip, 0);
    l = -[y (1 - p)^gamma_pos log p + (1 - y) p_m^gamma_neg log(1 - p_m)].

    Args:
        gamma_pos, gamma_neg: focusing parameters >= 0.
        clip: probability margin in [0, 1) shifting the negatives.
        stop_focal_gradient: treat the focal factors as constants (the reference's default,
            `disable_torch_grad_focal_loss=True`).

    Anchor: the ASL reference `AsymmetricLoss(gamma_neg, gamma_pos, clip)`, which returns the
    sum of this (it clamps probabilities at 1e-8, so it saturates for logits below about -18).

    Examples:
        >>> import torch
        >>> target = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
        >>> logits = torch.tensor([[2.0, -1.0, 0.5], [-0.5, 1.0, -2.0]])
        >>> out = asymmetric_loss(logits, target, gamma_pos=1.0, gamma_neg=4.0, clip=0.05)
        >>> print(out.numpy().round(4))
        [[0.0151 0.0006 0.179 ]
         [0.0046 0.0842 0.    ]]
    """
    gamma_pos, gamma_neg, clip = _static(A.asymmetric, gamma_pos, gamma_neg, clip)
    stop_focal_gradient = _static(V.check_bool, "stop_focal_gradient", stop_focal_gradient)
    from_logits = _static(V.check_bool, "from_logits", from_logits)
    return _asymmetric_loss(input, target, gamma_pos, gamma_neg, clip, stop_focal_gradient, from_logits, validate_args)


class AsymmetricLoss(_Loss):
    """Asymmetric loss as an `nn.Module`; see `asymmetric_loss`. "sum" is the ASL reference's
    value; "mean" averages every element.

    Examples:
        >>> import torch
        >>> target = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
        >>> logits = torch.tensor([[2.0, -1.0, 0.5], [-0.5, 1.0, -2.0]])
        >>> loss_fn = AsymmetricLoss(gamma_pos=1.0, gamma_neg=4.0, clip=0.05)
        >>> round(float(loss_fn(logits, target)), 4)
        0.0472
    """

    def __init__(self, *, gamma_pos: float = 1.0, gamma_neg: float = 4.0, clip: float = 0.05,
                 stop_focal_gradient: bool = False, from_logits: bool = True, validate_args: bool = True,
                 reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.gamma_pos, self.gamma_neg, self.clip = A.asymmetric(gamma_pos, gamma_neg, clip)
        self.stop_focal_gradient = V.check_bool("stop_focal_gradient", stop_focal_gradient)
        self.from_logits = V.check_bool("from_logits", from_logits)
        self.validate_args = V.check_bool("validate_args", validate_args)

    def forward(self, input: torch.Tensor, target: torch.Tensor, sample_weight: Any | None = None) -> torch.Tensor:
        loss = _asymmetric_loss(input, target, self.gamma_pos, self.gamma_neg, self.clip,
                                self.stop_focal_gradient, self.from_logits, self.validate_args)
        return self._reduce(loss, sample_weight)


# --------------------------------------------------------------------------------------------
# Class-balanced loss
# --------------------------------------------------------------------------------------------

def _class_balanced_loss(x, target, weights, base, gamma, validate_args):
    x, xc, target = _softmax_inputs(x, target, True, validate_args)
    V.check_vector_length("samples_per_class", weights, xc.shape[-1])
    if base == "softmax":
        loss, valid, _ = _softmax_core(xc, target, _ops.output_dtype(x), class_weight=weights, alpha=None, gamma=0.0,
                                       label_smoothing=0.0, ignore_index=None, from_logits=True,
                                       validate_args=validate_args)
        return loss, valid
    w = _ops.as_tensor_like(weights, xc)
    q, valid, w_n = _ops.softmax_targets(target, xc, ignore_index=None, label_smoothing=0.0, class_weight=w,
                                         validate_args=validate_args)
    per_class = _binary_focal_loss(xc, q, None, gamma if base == "focal" else 0.0, 0.0, True, False)
    return (w_n * per_class.sum(dim=-1)).to(_ops.output_dtype(x)), valid


def class_balanced_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    *,
    samples_per_class: Any,
    beta: float = 0.9999,
    base: str = "softmax",
    gamma: float = 2.0,
    validate_args: bool = True,
) -> torch.Tensor:
    """Per-sample class-balanced loss (Cui et al. 2019, "Class-Balanced Loss Based on Effective
    Number of Samples").

    w_c = (1 - beta) / (1 - beta^{n_c}), rescaled to sum to K. base="softmax": the weighted
    softmax cross-entropy -sum_c w_c q_c log p_c; "sigmoid" / "focal": w_{t_n} times the sum
    over classes of binary cross-entropy / focal loss (alpha=None, `gamma`) on one-hot targets.
    beta=0 gives the plain loss.

    Args:
        input: logits (K), (N, K) or (N, K, d1, ..., dk), the class on dim 1.
        target: class indices (), (N) or (N, d1, ..., dk), or probabilities of the input's shape.
        samples_per_class: n_c, K positive counts.
        beta: in [0, 1).
        base: "softmax", "sigmoid" or "focal".
        gamma: focal parameter >= 0 for base="focal".

    Anchor: the paper's reference code (`CB_loss`), with the softmax base as weighted softmax
    cross-entropy.

    Examples:
        >>> import torch
        >>> target = torch.tensor([0, 2])
        >>> logits = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
        >>> out = class_balanced_loss(logits, target, samples_per_class=[100, 10, 1], beta=0.99)
        >>> print(out.numpy().round(4))
        [0.0102 2.6829]
    """
    weights, beta, base, gamma = _static(A.class_balanced, samples_per_class, beta, base, gamma)
    return _class_balanced_loss(input, target, weights, base, gamma, validate_args)[0]


class ClassBalancedLoss(_SoftmaxLoss):
    """Class-balanced loss as an `nn.Module`; see `class_balanced_loss`. "mean" divides by the
    number of samples.

    Examples:
        >>> import torch
        >>> target = torch.tensor([0, 2])
        >>> logits = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
        >>> loss_fn = ClassBalancedLoss([100, 10, 1], beta=0.99)
        >>> round(float(loss_fn(logits, target)), 4)
        1.3466
    """

    def __init__(self, samples_per_class: Any, *, beta: float = 0.9999, base: str = "softmax",
                 gamma: float = 2.0, validate_args: bool = True, reduction: str = "mean") -> None:
        super().__init__(reduction)
        weights, self.beta, self.base, self.gamma = A.class_balanced(samples_per_class, beta, base, gamma)
        self.samples_per_class = V.to_numpy(samples_per_class).astype(np.float64).tolist()
        self._register_weight("class_weight", weights)
        self.validate_args = V.check_bool("validate_args", validate_args)

    def forward(self, input: torch.Tensor, target: torch.Tensor, sample_weight: Any | None = None) -> torch.Tensor:
        loss, valid = _class_balanced_loss(input, target, self.class_weight, self.base, self.gamma, self.validate_args)
        return self._reduce_normalized((loss, valid, valid), sample_weight)


# --------------------------------------------------------------------------------------------
# Logit-adjusted cross-entropy
# --------------------------------------------------------------------------------------------


def adjust_logits(input: torch.Tensor, class_priors: Any, *, tau: float = 1.0) -> torch.Tensor:
    """Post-hoc logit adjustment (Menon et al. 2021): x - tau log pi.

    Use on a model trained with plain cross-entropy to predict argmax(x - tau log pi), the
    balanced-error-optimal rule. `class_priors` are normalised to sum to 1.

    Examples:
        >>> import torch
        >>> print(adjust_logits(torch.tensor([[1.0, 1.0, 1.0]]), [0.7, 0.2, 0.1]).numpy().round(4))
        [[1.3567 2.6094 3.3026]]
    """
    priors, tau = _static(A.logit_adjusted, class_priors, tau)
    x = _ops.check_logits("input", input)
    class_dim = 1 if x.ndim > 2 else -1  # CrossEntropyLoss's layouts
    V.check_vector_length("class_priors", priors, x.shape[class_dim])
    log_priors = torch.log(torch.as_tensor(priors, dtype=torch.float64))  # a tensor while compiling with NumPy priors
    shift = _ops.as_tensor_like(tau * log_priors, x)
    assert shift is not None  # a tensor in, a tensor out
    return x - (shift.reshape((-1,) + (1,) * (x.ndim - 2)) if class_dim == 1 else shift)


def _logit_adjusted_crossentropy(x, target, priors, tau, ignore_index, validate_args):
    x, xc, target = _softmax_inputs(x, target, True, validate_args)
    V.check_vector_length("class_priors", priors, xc.shape[-1])
    shifted = xc + tau * torch.log(_ops.as_tensor_like(priors, xc))  # on the device: no host sync per call
    loss, valid, _ = _softmax_core(shifted, target, _ops.output_dtype(x), class_weight=None, alpha=None, gamma=0.0,
                                   label_smoothing=0.0, ignore_index=ignore_index, from_logits=True,
                                   validate_args=validate_args)
    return loss, valid


def logit_adjusted_crossentropy(
    input: torch.Tensor,
    target: torch.Tensor,
    *,
    class_priors: Any,
    tau: float = 1.0,
    ignore_index: int | None = None,
    validate_args: bool = True,
) -> torch.Tensor:
    """Per-sample logit-adjusted softmax cross-entropy (Menon et al. 2021, "Long-tail learning
    via logit adjustment").

    l_n = CE(x_n + tau log pi, t_n), pi = class priors (> 0, normalised). tau=0 gives CE.

    Anchor: google-research `logit_adjustment` (which adds log(pi^tau + 1e-12): equal for
    priors >= 1e-6 to about 1e-6 relative).

    Examples:
        >>> import torch
        >>> target = torch.tensor([0, 2])
        >>> logits = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
        >>> out = logit_adjusted_crossentropy(logits, target, class_priors=[0.7, 0.2, 0.1])
        >>> print(out.numpy().round(4))
        [0.0685 2.1449]
    """
    priors, tau = _static(A.logit_adjusted, class_priors, tau)
    ignore_index = _static(A.ignore_index, ignore_index)
    return _logit_adjusted_crossentropy(input, target, priors, tau, ignore_index, validate_args)[0]


class LogitAdjustedCrossentropy(_SoftmaxLoss):
    """Logit-adjusted cross-entropy as an `nn.Module`; see `logit_adjusted_crossentropy`.
    "mean" divides by the number of non-ignored samples.

    Examples:
        >>> import torch
        >>> target = torch.tensor([0, 2])
        >>> logits = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
        >>> loss_fn = LogitAdjustedCrossentropy([0.7, 0.2, 0.1])
        >>> round(float(loss_fn(logits, target)), 4)
        1.1067
    """

    def __init__(self, class_priors: Any, *, tau: float = 1.0, ignore_index: int | None = None,
                 validate_args: bool = True, reduction: str = "mean") -> None:
        super().__init__(reduction)
        priors, self.tau = A.logit_adjusted(class_priors, tau)
        self._register_weight("class_priors", priors)
        self.ignore_index = A.ignore_index(ignore_index)
        self.validate_args = V.check_bool("validate_args", validate_args)

    def forward(self, input: torch.Tensor, target: torch.Tensor, sample_weight: Any | None = None) -> torch.Tensor:
        loss, valid = _logit_adjusted_crossentropy(input, target, self.class_priors, self.tau, self.ignore_index,
                                                   self.validate_args)
        return self._reduce_normalized((loss, valid, valid), sample_weight)


# ---- stateful and multi-label: Seesaw, Distribution-Balanced


def _seesaw_inputs(x, target, validate_args):
    """(original logits, logits class last in the compute dtype, one-hot rows, valid) for the
    Seesaw loss: class indices only (the paper's labels), probability rows are an error."""
    x, xc, target = _softmax_inputs(x, target, True, validate_args)
    if tuple(target.shape) == tuple(xc.shape):
        raise ValueError(V.index_targets_only_message("SeesawLoss", "target", tuple(target.shape), tuple(xc.shape)))
    onehot, valid, _ = _ops.softmax_targets(target, xc, ignore_index=None, label_smoothing=0.0, class_weight=None,
                                            validate_args=validate_args)
    return x, xc, onehot, valid


def _seesaw_core(xc, onehot, counts, p, q, eps):
    """Per-sample -log softmax(x + (1 - y) log S)_t, log S_j = p min(0, log N_j - log N_t)
    + q max(0, log s_j - max(log s_t, log eps)), in log space (class axis last, one-hot rows)."""
    log_s = torch.zeros_like(xc)
    if p:  # mitigation: log (N_j / N_t)^p where N_j < N_t; counts below 1 count as 1 (mmdetection)
        log_n = torch.log(counts.to(xc.dtype).clamp(min=1.0))
        ratio = log_n - (onehot * log_n).sum(dim=-1, keepdim=True)
        log_s = log_s + p * ratio.clamp(max=0.0)
    if q:  # compensation: log (s_j / max(s_t, eps))^q where s_j > s_t; the scores are constants (detached)
        log_score = torch.log_softmax(xc.detach(), dim=-1)
        log_t = (onehot * log_score).sum(dim=-1, keepdim=True)
        ratio = log_score - log_t.clamp(min=float(np.log(eps)))
        log_s = log_s + q * ratio.clamp(min=0.0)
    adjusted = xc + (1.0 - onehot) * log_s
    return -(onehot * torch.log_softmax(adjusted, dim=-1)).sum(dim=-1)


def seesaw_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    *,
    cum_samples: Any,
    p: float = 0.8,
    q: float = 2.0,
    eps: float = 1e-2,
    validate_args: bool = True,
) -> torch.Tensor:
    """Per-sample Seesaw loss (Wang et al. 2021, "Seesaw Loss for Long-Tailed Instance
    Segmentation"), given the cumulative class counts.

    l_n = -log softmax(z_n)_t, z_nj = x_nj + log S_nj for j != t (z_nt = x_nt), t = y_n;
    S_nj = M_nj C_nj with the mitigation factor M_nj = (N_j / N_t)^p if N_j < N_t else 1
    (N: `cum_samples`, clamped below at 1) and the compensation factor
    C_nj = (s_nj / max(s_nt, eps))^q if s_nj > s_nt else 1, s = softmax(x) treated as a
    constant (no gradient through it). p=0 and q=0 give cross-entropy.

    Args:
        input: logits (K), (N, K) or (N, K, d1, ..., dk), the class on dim 1.
        target: class indices (), (N) or (N, d1, ..., dk); probability rows are an error.
        cum_samples: N, K non-negative cumulative counts (NumPy, sequence or tensor); the
            `SeesawLoss` module keeps them as a buffer and adds each batch first.
        p: mitigation exponent >= 0; q: compensation exponent >= 0; eps: > 0.

    Anchor: mmdetection `seesaw_ce_loss` (mmdet/models/losses/seesaw_loss.py), the classes
    branch of its `SeesawLoss` without the objectness branch.

    Examples:
        >>> import torch
        >>> target = torch.tensor([0, 2])
        >>> logits = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
        >>> out = seesaw_loss(logits, target, cum_samples=[100.0, 10.0, 1.0])
        >>> print(out.numpy().round(4))
        [0.036  1.0019]
    """
    p, q, eps = _static(A.seesaw, p, q, eps)
    counts = _static(A.cum_samples, cum_samples)
    x, xc, onehot, _ = _seesaw_inputs(input, target, validate_args)
    V.check_vector_length("cum_samples", counts, xc.shape[-1])
    return _seesaw_core(xc, onehot, _ops.as_tensor_like(counts, xc), p, q, eps).to(_ops.output_dtype(x))


class SeesawLoss(_SoftmaxLoss):
    """Seesaw loss as an `nn.Module`, with the cumulative class counts as state; see
    `seesaw_loss` for the formula. In training (`module.training` and grad enabled) each forward
    first adds the batch's class counts to the `cum_samples` buffer (K float32 counts, exact up
    to 2^24 per class, in the state_dict), then computes the loss with the updated counts, as
    mmdetection's `SeesawLoss`; `eval()` or `torch.no_grad()` leave them alone.

    Under torch.distributed (world size > 1) the batch counts are summed across ranks
    (all_reduce) before they are added, so that every rank holds the global counts: DDP equals
    one process on the union of the ranks' batches. "mean" divides by the number of samples.

    Examples:
        >>> import torch
        >>> target = torch.tensor([0, 2])
        >>> logits = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
        >>> loss_fn = SeesawLoss(3)
        >>> round(float(loss_fn(logits, target)), 4)
        0.6216
    """

    def __init__(self, num_classes: int, *, p: float = 0.8, q: float = 2.0, eps: float = 1e-2,
                 validate_args: bool = True, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.num_classes = V.check_integer("num_classes", num_classes, low=1)
        self.p, self.q, self.eps = A.seesaw(p, q, eps)
        self.validate_args = V.check_bool("validate_args", validate_args)
        self.register_buffer("cum_samples", torch.zeros(self.num_classes, dtype=torch.float32))
        self.cum_samples: torch.Tensor  # the buffer's type, for the type checker

    def forward(self, input: torch.Tensor, target: torch.Tensor, sample_weight: Any | None = None) -> torch.Tensor:
        x, xc, onehot, valid = _seesaw_inputs(input, target, self.validate_args)
        V.check_vector_length("cum_samples", self.cum_samples, xc.shape[-1])
        if self.training and torch.is_grad_enabled():
            batch = onehot.detach().reshape(-1, self.num_classes).sum(dim=0).to(self.cum_samples.dtype)
            if _ops._world_size() > 1:  # the global batch's counts on every rank
                torch.distributed.all_reduce(batch)
            self.cum_samples.add_(batch)
        loss = _seesaw_core(xc, onehot, self.cum_samples, self.p, self.q, self.eps).to(_ops.output_dtype(x))
        return self._reduce_normalized((loss, valid, valid), sample_weight)

    def extra_repr(self) -> str:
        return f"num_classes={self.num_classes}, p={self.p}, q={self.q}, eps={self.eps}, reduction={self.reduction!r}"


def _distribution_balanced_loss(x, y, freq_inv, bias, gamma, balance_param, map_alpha, map_beta, map_gamma,
                                neg_scale, validate_args):
    x, xc, yc = _sigmoid_inputs(x, y, True, 0.0, validate_args)
    V.check_vector_length("samples_per_class", freq_inv, x.shape[-1] if x.ndim else 1)
    inv = _ops.as_tensor_like(freq_inv, xc)
    # re-balanced weight r_c = (1/n_c) / sum_j y_j / n_j; a sample without positives has r = inf
    # in the reference, whose sigmoid is 1: written as that limit, with no inf made
    rate = (yc * inv).sum(dim=-1, keepdim=True)
    has_positive = rate > 0.0
    r = inv / torch.where(has_positive, rate, torch.ones_like(rate))
    weight = torch.where(has_positive, torch.sigmoid(map_beta * (r - map_gamma)), torch.ones_like(r)) + map_alpha
    # negative-tolerant regularisation: z = x + b on positives, neg_scale (x + b) on negatives, whose
    # loss is divided by neg_scale (written with y, as the reference, so soft targets mix the two)
    z = (xc + _ops.as_tensor_like(bias, xc)) * (neg_scale * (1.0 - yc) + yc)
    weight = weight * ((1.0 - yc) / neg_scale + yc)
    log_p, log_1mp = F.logsigmoid(z), F.logsigmoid(-z)
    bce = -(yc * log_p + (1.0 - yc) * log_1mp)
    loss = weight * bce
    if gamma:
        # 1 - p_t, p_t = exp(-bce) (the reference's); for 0/1 targets its log is a log-sigmoid, so
        # the gamma < 1 gradient stays finite where bce underflows to 0
        def log_base():
            hard = (yc == 0.0) | (yc == 1.0)
            soft = torch.log(-torch.expm1(-torch.where(hard, torch.ones_like(bce), bce)))
            return torch.where(hard, yc * log_1mp + (1.0 - yc) * log_p, soft)

        loss = loss * _ops.focal_factor(lambda: -torch.expm1(-bce), log_base, gamma)
    return (balance_param * loss).to(_ops.output_dtype(x))


def _distribution_balanced_args(samples_per_class, num_samples, *args):
    """The functional form's arguments checked and its constants made in one call (one constant
    under torch.compile): (1 / n_c, the bias b, then gamma ... neg_scale as checked)."""
    counts, total, *checked = A.distribution_balanced(samples_per_class, num_samples, *args)
    neg_scale, init_bias = checked[-2:]
    return (*A.distribution_balanced_constants(counts, total, init_bias, neg_scale), *checked[:-1])


def distribution_balanced_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    *,
    samples_per_class: Any,
    num_samples: float,
    gamma: float = 2.0,
    balance_param: float = 2.0,
    map_alpha: float = 0.1,
    map_beta: float = 10.0,
    map_gamma: float = 0.2,
    neg_scale: float = 2.0,
    init_bias: float = 0.05,
    validate_args: bool = True,
) -> torch.Tensor:
    """Element-wise Distribution-Balanced loss for multi-label classification (Wu et al. 2020,
    "Distribution-Balanced Loss for Multi-Label Classification in Long-Tailed Datasets").

    Re-balanced weighting: r_nc = (1/n_c) / sum_j y_nj / n_j, w_nc = sigmoid(map_beta (r_nc -
    map_gamma)) + map_alpha (w = 1 + map_alpha for a sample without positives).
    Negative-tolerant regularisation: b_c = -log(N / n_c - 1) init_bias / neg_scale,
    z = x + b for y = 1 and neg_scale (x + b) for y = 0, with the negatives' weight divided by
    neg_scale. Then, with bce = BCE(z, y) and p_t = exp(-bce):
    l = balance_param (1 - p_t)^gamma w bce. For a negative this is
    (w / neg_scale) sigma(z)^gamma log(1 + exp(neg_scale (x + b))) balance_param.

    Args:
        input: logits (..., C).
        target: multi-hot targets in [0, 1] of the input's shape.
        samples_per_class: n_c, the positives of each label in the training set, 0 < n_c < N.
        num_samples: N, the number of training samples (the reference's `train_num`).
        gamma, balance_param: the focal factor's exponent and scale (the reference's `focal`
            dict; its focal=False is gamma=0, balance_param=1).
        map_alpha, map_beta, map_gamma: the reference's `map_param` (alpha, beta, gamma).
        neg_scale, init_bias: the reference's `logit_reg` (lambda and kappa in the paper).

    Defaults: the reference's COCO-MLT configuration (configs/coco/LT_resnet50_pfc_DB.py: focal
    gamma 2, balance_param 2, map_param alpha 0.1, beta 10, gamma 0.2, logit_reg neg_scale 2,
    init_bias 0.05; VOC-MLT uses map gamma 0.3, neg_scale 5). Anchor: `ResampleLoss(
    use_sigmoid=True, reweight_func="rebalance", ...)` in wutong16/DistributionBalancedLoss
    (mllt/models/losses/resample_loss.py), reduction="none".

    Examples:
        >>> import torch
        >>> target = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]])
        >>> logits = torch.tensor([[1.0, -2.0, -1.0], [-1.0, 0.3, -2.0]])
        >>> out = distribution_balanced_loss(logits, target, samples_per_class=[50, 20, 5], num_samples=100)
        >>> print(out.numpy().round(4))
        [[4.9800e-02 0.0000e+00 1.3000e-03]
         [6.0000e-04 1.2870e-01 3.7969e+00]]
    """
    (freq_inv, bias, gamma, balance_param, map_alpha, map_beta, map_gamma, neg_scale) = _static(
        _distribution_balanced_args, samples_per_class, num_samples, gamma, balance_param, map_alpha, map_beta,
        map_gamma, neg_scale, init_bias)
    return _distribution_balanced_loss(input, target, freq_inv, bias, gamma, balance_param, map_alpha, map_beta,
                                       map_gamma, neg_scale, validate_args)


class DistributionBalancedLoss(_Loss):
    """Distribution-Balanced loss as an `nn.Module`; see `distribution_balanced_loss`.
    "mean" averages every element (the reference's mean), "sum" adds them.

    Examples:
        >>> import torch
        >>> target = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]])
        >>> logits = torch.tensor([[1.0, -2.0, -1.0], [-1.0, 0.3, -2.0]])
        >>> loss_fn = DistributionBalancedLoss([50, 20, 5], num_samples=100)
        >>> round(float(loss_fn(logits, target)), 4)
        0.6629
    """

    def __init__(self, samples_per_class: Any, *, num_samples: float, gamma: float = 2.0, balance_param: float = 2.0,
                 map_alpha: float = 0.1, map_beta: float = 10.0, map_gamma: float = 0.2, neg_scale: float = 2.0,
                 init_bias: float = 0.05, validate_args: bool = True, reduction: str = "mean") -> None:
        super().__init__(reduction)
        (counts, self.num_samples, self.gamma, self.balance_param, self.map_alpha, self.map_beta, self.map_gamma,
         self.neg_scale, self.init_bias) = A.distribution_balanced(
            samples_per_class, num_samples, gamma, balance_param, map_alpha, map_beta, map_gamma, neg_scale, init_bias)
        self.samples_per_class = counts.tolist()
        freq_inv, bias = A.distribution_balanced_constants(counts, self.num_samples, self.init_bias, self.neg_scale)
        self._register_weight("freq_inv", freq_inv)
        self._register_weight("logit_bias", bias)
        self.validate_args = V.check_bool("validate_args", validate_args)

    def forward(self, input: torch.Tensor, target: torch.Tensor, sample_weight: Any | None = None) -> torch.Tensor:
        loss = _distribution_balanced_loss(input, target, self.freq_inv, self.logit_bias, self.gamma,
                                           self.balance_param, self.map_alpha, self.map_beta, self.map_gamma,
                                           self.neg_scale, self.validate_args)
        return self._reduce(loss, sample_weight)


__all__ += ["seesaw_loss", "SeesawLoss", "distribution_balanced_loss", "DistributionBalancedLoss"]


# ---- long-tail: LDAM, balanced softmax, poly
# --------------------------------------------------------------------------------------------
# LDAM with deferred re-weighting, balanced softmax, Poly-1
# --------------------------------------------------------------------------------------------

__all__ += [
    "ldam_loss", "LDAMLoss", "DeferredReweighting",
    "balanced_softmax_crossentropy", "BalancedSoftmaxCrossentropy",
    "poly_loss", "PolyLoss",
]


def _ldam_loss(x, target, *, margins, scale, class_weight, ignore_index, validate_args):
    """Per-sample LDAM loss with the normalisers (valid, per-sample norm weight)."""
    x, xc, target = _softmax_inputs(x, target, from_logits=True, validate_args=validate_args)
    V.check_vector_length("samples_per_class", margins, xc.shape[-1])
    V.check_vector_length("class_weight", class_weight, xc.shape[-1])
    w = _ops.as_tensor_like(class_weight, xc)
    q, valid, norm = _ops.softmax_targets(target, xc, ignore_index=ignore_index, label_smoothing=0.0,
                                          class_weight=w, validate_args=validate_args)
    # the margin comes off the target logit only (q is its one-hot row), then every logit is scaled
    z = scale * (xc - _ops.as_tensor_like(margins, xc) * q)
    loss, _, _ = _softmax_core(z, q, _ops.output_dtype(x), class_weight=w, alpha=None, gamma=0.0, label_smoothing=0.0,
                               ignore_index=None, from_logits=True, validate_args=False)
    return loss, valid, norm


def ldam_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    *,
    samples_per_class: Any,
    max_margin: float = 0.5,
    scale: float = 30.0,
    class_weight: Any | None = None,
    ignore_index: int | None = None,
    validate_args: bool = True,
) -> torch.Tensor:
    """Per-sample label-distribution-aware margin loss (Cao et al. 2019, "Learning Imbalanced
    Datasets with Label-Distribution-Aware Margin Loss").

    m_c = C / n_c^(1/4), C such that max_c m_c = max_margin; z = scale (x - m q), the margin
    subtracted from the target logit only (q: the one-hot row; probability rows subtract m_c q_c);
    l_n = -sum_c w_c q_nc log softmax(z_n)_c, the weighted softmax cross-entropy of z.

    Args:
        input: logits (K), (N, K) or (N, K, d1, ..., dk), the class on dim 1.
        target: class indices (), (N) or (N, d1, ..., dk), or probabilities of the input's shape.
        samples_per_class: n_c, K positive counts.
        max_margin: the rarest class's margin, >= 0 (0 gives scaled cross-entropy).
        scale: s > 0, the logit scale of the anchor.
        class_weight: w, a length-K non-negative vector (default 1), e.g. the deferred
            re-weighting weights.
        ignore_index: a class-index value whose samples give 0.

    Anchor: `LDAMLoss(cls_num_list, max_m, weight, s)` in kaidic/LDAM-DRW (losses.py), whose
    value is the mean of this with normalization="weight" (torch's weighted mean).

    Examples:
        >>> import torch
        >>> target = torch.tensor([0, 2])
        >>> logits = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
        >>> out = ldam_loss(logits, target, samples_per_class=[100, 10, 1])
        >>> print(out.numpy().round(4))
        [-0.     12.0486]
    """
    margins, _, scale, class_weight = _static(A.ldam, samples_per_class, max_margin, scale, class_weight)
    return _ldam_loss(input, target, margins=margins, scale=scale, class_weight=class_weight,
                      ignore_index=_static(A.ignore_index, ignore_index), validate_args=validate_args)[0]


class LDAMLoss(_SoftmaxLoss):
    """LDAM loss as an `nn.Module`; see `ldam_loss`.

    `class_weight` is a float64 buffer (in the state_dict, on the module's device):
    `DeferredReweighting` overwrites it in place during training, which a compiled module reads
    without recompiling. normalization="weight" (default): "mean" divides by sum_n w_{t_n}, as
    the anchor (torch's weighted mean); "count": by the number of non-ignored samples.

    Examples:
        >>> import torch
        >>> target = torch.tensor([0, 2])
        >>> logits = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
        >>> loss_fn = LDAMLoss([100, 10, 1])
        >>> round(float(loss_fn(logits, target)), 4)
        6.0243
    """

    _mutable_class_weight = True  # DeferredReweighting may switch it

    def __init__(self, samples_per_class: Any, *, max_margin: float = 0.5, scale: float = 30.0,
                 class_weight: Any | None = None, ignore_index: int | None = None,
                 normalization: str = "weight", validate_args: bool = True, reduction: str = "mean") -> None:
        super().__init__(reduction)
        margins, self.max_margin, self.scale, weights = A.ldam(samples_per_class, max_margin, scale, class_weight)
        self.samples_per_class = V.to_numpy(samples_per_class).astype(np.float64).tolist()
        self._register_weight("margins", margins)
        self._register_weight("class_weight", weights)
        self.ignore_index = A.ignore_index(ignore_index)
        self.normalization = A.normalization(normalization)
        self.validate_args = V.check_bool("validate_args", validate_args)

    def forward(self, input: torch.Tensor, target: torch.Tensor, sample_weight: Any | None = None) -> torch.Tensor:
        return self._reduce_normalized(_ldam_loss(
            input, target, margins=self.margins, scale=self.scale, class_weight=self.class_weight,
            ignore_index=self.ignore_index, validate_args=self.validate_args), sample_weight)


class DeferredReweighting:
    """Deferred re-weighting (DRW, Cao et al. 2019): from epoch `epoch` on, the loss's class
    weights are `class_weight`; before it, the ones the loss held when the helper was made.
    Call `on_epoch_begin(epoch)` at the start of every epoch (the twin of the Keras callback).

    The switch is a function of the epoch number, as in LDAM-DRW's cifar_train.py (DRW: uniform
    weights, then effective-number weights with beta 0.9999 normalised to sum to K from epoch
    160 of 200), so a resumed run picks the right weights. The weights are copied in place into
    the loss's buffer (`LDAMLoss`): same device, same tensor, no recompile of a compiled module.

    Args:
        loss: the loss module whose class weights switch (`LDAMLoss`).
        epoch: the first epoch (0-based) with the deferred weights, >= 0.
        class_weight: the deferred weights, K non-negative values, e.g.
            `compute_class_weight(counts=n, method="effective_number", beta=0.9999)`.

    Examples:
        >>> loss_fn = LDAMLoss([100, 10, 1])
        >>> drw = DeferredReweighting(loss_fn, epoch=2, class_weight=[0.2, 0.8, 2.0])
        >>> drw.on_epoch_begin(2)
        >>> loss_fn.class_weight.tolist()
        [0.2, 0.8, 2.0]
    """

    def __init__(self, loss: Any, *, epoch: int, class_weight: Any) -> None:
        if not getattr(type(loss), "_mutable_class_weight", False):
            raise ValueError(V.mutable_class_weight_message(loss))
        self.loss = loss
        self.epoch = V.check_integer("epoch", epoch, low=0)
        self.class_weight = V.check_weight_vector("class_weight", class_weight, length=loss.class_weight.shape[0],
                                                  allow_scalar=False)
        self.initial_class_weight = V.to_numpy(loss.class_weight).astype(np.float64)
        self._deferred: bool | None = None  # which weights the loss holds: unknown until the first epoch

    def on_epoch_begin(self, epoch: int) -> None:
        deferred = V.check_integer("epoch", epoch, low=0) >= self.epoch
        if deferred == self._deferred:
            return
        self._deferred = deferred
        with torch.no_grad():
            self.loss.class_weight.copy_(torch.as_tensor(self.class_weight if deferred else self.initial_class_weight))


def _balanced_softmax_crossentropy(x, target, *, priors, ignore_index, validate_args):
    x = _ops.check_logits("input", x)
    if x.ndim:
        V.check_vector_length("samples_per_class", priors, x.shape[1 if x.ndim > 2 else -1])
    # log n_c and log(n_c / n) differ by a constant per row: logit adjustment with tau 1
    return _logit_adjusted_crossentropy(x, target, priors, 1.0, ignore_index, validate_args)


def balanced_softmax_crossentropy(
    input: torch.Tensor,
    target: torch.Tensor,
    *,
    samples_per_class: Any,
    ignore_index: int | None = None,
    validate_args: bool = True,
) -> torch.Tensor:
    """Per-sample balanced softmax cross-entropy (Ren et al. 2020, "Balanced Meta-Softmax for
    Long-Tailed Visual Recognition").

    l_n = CE(x_n + log n_c, t_n) = CE(x_n + log(n_c / n), t_n): `logit_adjusted_crossentropy`
    with priors n_c / n and tau 1.

    Args:
        input: logits (K), (N, K) or (N, K, d1, ..., dk), the class on dim 1.
        target: class indices (), (N) or (N, d1, ..., dk), or probabilities of the input's shape.
        samples_per_class: n_c, K positive counts.
        ignore_index: a class-index value whose samples give 0.

    Anchor: `balanced_softmax_loss` in jiawei-ren/BalancedMetaSoftmax-Classification
    (loss/BalancedSoftmaxLoss.py).

    Examples:
        >>> import torch
        >>> target = torch.tensor([0, 2])
        >>> logits = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
        >>> out = balanced_softmax_crossentropy(logits, target, samples_per_class=[100, 10, 1])
        >>> print(out.numpy().round(4))
        [0.0226 4.5209]
    """
    return _balanced_softmax_crossentropy(input, target, priors=_static(A.balanced_softmax, samples_per_class),
                                          ignore_index=_static(A.ignore_index, ignore_index),
                                          validate_args=validate_args)[0]


class BalancedSoftmaxCrossentropy(_SoftmaxLoss):
    """Balanced softmax cross-entropy as an `nn.Module`; see `balanced_softmax_crossentropy`.
    "mean" divides by the number of non-ignored samples.

    Examples:
        >>> import torch
        >>> target = torch.tensor([0, 2])
        >>> logits = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
        >>> loss_fn = BalancedSoftmaxCrossentropy([100, 10, 1])
        >>> round(float(loss_fn(logits, target)), 4)
        2.2717
    """

    def __init__(self, samples_per_class: Any, *, ignore_index: int | None = None, validate_args: bool = True,
                 reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.samples_per_class = V.to_numpy(samples_per_class).astype(np.float64).tolist()
        self._register_weight("class_priors", A.balanced_softmax(samples_per_class))
        self.ignore_index = A.ignore_index(ignore_index)
        self.validate_args = V.check_bool("validate_args", validate_args)

    def forward(self, input: torch.Tensor, target: torch.Tensor, sample_weight: Any | None = None) -> torch.Tensor:
        loss, valid = _balanced_softmax_crossentropy(input, target, priors=self.class_priors,
                                                     ignore_index=self.ignore_index,
                                                     validate_args=self.validate_args)
        return self._reduce_normalized((loss, valid, valid), sample_weight)


def _poly_loss(x, target, *, epsilon, gamma, ignore_index, validate_args):
    x, xc, target = _softmax_inputs(x, target, from_logits=True, validate_args=validate_args)
    loss, valid, norm = _softmax_core(xc, target, xc.dtype, class_weight=None, alpha=None, gamma=gamma,
                                      label_smoothing=0.0, ignore_index=ignore_index, from_logits=True,
                                      validate_args=validate_args)
    if epsilon:
        q = _ops.softmax_targets(target, xc, ignore_index=ignore_index, label_smoothing=0.0, class_weight=None,
                                 validate_args=False)[0]  # checked by the call above
        # 1 - p_t = sum_c q_c (1 - p_c), 1 - p_c = -expm1(log p_c): no cancellation as p_t -> 1
        one_minus_pt = (q * -torch.expm1(torch.log_softmax(xc, dim=-1))).sum(dim=-1)
        loss = loss + epsilon * (one_minus_pt ** (gamma + 1.0) if gamma else one_minus_pt)
    return loss.to(_ops.output_dtype(x)), valid, norm


def poly_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    *,
    epsilon: float = 1.0,
    gamma: float = 0.0,
    ignore_index: int | None = None,
    validate_args: bool = True,
) -> torch.Tensor:
    """Per-sample Poly-1 loss (Leng et al. 2022, "PolyLoss: A Polynomial Expansion Perspective
    of Classification Loss Functions").

    gamma = 0, Poly-1 cross-entropy: l_n = CE_n + epsilon (1 - p_t);
    gamma > 0, Poly-1 focal: l_n = FL_n + epsilon (1 - p_t)^(gamma + 1), FL = the softmax focal
    loss -sum_c (1 - p_c)^gamma q_c log p_c (`categorical_focal_loss`, alpha None).
    p_t = sum_c q_c p_c, the target's probability (q: the one-hot or probability row).

    Args:
        input: logits (K), (N, K) or (N, K, d1, ..., dk), the class on dim 1.
        target: class indices (), (N) or (N, d1, ..., dk), or probabilities of the input's shape.
        epsilon: the first polynomial coefficient, >= -1 (0 gives CE / focal loss).
        gamma: focusing parameter >= 0.
        ignore_index: a class-index value whose samples give 0.

    Anchor: optax `poly_loss_cross_entropy(logits, labels, epsilon)` (gamma 0).

    Examples:
        >>> import torch
        >>> target = torch.tensor([0, 2])
        >>> logits = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
        >>> out = poly_loss(logits, target, epsilon=1.0)
        >>> print(out.numpy().round(4))
        [0.4557 1.6348]
    """
    epsilon, gamma = _static(A.poly, epsilon, gamma)
    return _poly_loss(input, target, epsilon=epsilon, gamma=gamma, ignore_index=_static(A.ignore_index, ignore_index),
                      validate_args=validate_args)[0]


class PolyLoss(_SoftmaxLoss):
    """Poly-1 loss as an `nn.Module`; see `poly_loss`. "mean" divides by the number of
    non-ignored samples.

    Examples:
        >>> import torch
        >>> target = torch.tensor([0, 2])
        >>> logits = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
        >>> loss_fn = PolyLoss(epsilon=1.0)
        >>> round(float(loss_fn(logits, target)), 4)
        1.0452
    """

    def __init__(self, *, epsilon: float = 1.0, gamma: float = 0.0, ignore_index: int | None = None,
                 validate_args: bool = True, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.epsilon, self.gamma = A.poly(epsilon, gamma)
        self.ignore_index = A.ignore_index(ignore_index)
        self.validate_args = V.check_bool("validate_args", validate_args)

    def forward(self, input: torch.Tensor, target: torch.Tensor, sample_weight: Any | None = None) -> torch.Tensor:
        loss, valid, _ = _poly_loss(input, target, epsilon=self.epsilon, gamma=self.gamma,
                                    ignore_index=self.ignore_index, validate_args=self.validate_args)
        return self._reduce_normalized((loss, valid, valid), sample_weight)
