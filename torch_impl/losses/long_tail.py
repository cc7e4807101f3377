"""Long-tail losses, PyTorch (softmax family): LDAM with deferred re-weighting
(`DeferredReweighting`), balanced softmax cross-entropy and the Seesaw loss, whose class counts
are state. Each is declared in `imbalance_core.loss_specs`; here are its core, its functional
form and its module. The mirror of tf_impl/losses/long_tail.py.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from imbalance_core import loss_specs, validation

from .. import _ops
from . import _base
from .softmax import _logit_adjusted_crossentropy, _softmax_core, _softmax_inputs

__all__ = [
    "ldam_loss", "LDAMLoss", "DeferredReweighting",
    "balanced_softmax_crossentropy", "BalancedSoftmaxCrossentropy",
    "seesaw_loss", "SeesawLoss",
]

LDAM_LOSS = loss_specs.spec("ldam_loss")
BALANCED_SOFTMAX_CROSSENTROPY = loss_specs.spec("balanced_softmax_crossentropy")
SEESAW_LOSS = loss_specs.spec("seesaw_loss")


def _ldam_loss(x: torch.Tensor, target: torch.Tensor, *, margins: Any, class_weight: Any, scale: float,
               ignore_index: int | None, validate_args: bool) -> _base.LossAndNorms:
    """Per-sample LDAM loss with the normalisers (valid, per-sample norm weight)."""
    x, xc, target = _softmax_inputs(x, target, from_logits=True, validate_args=validate_args)
    validation.check_vector_length("samples_per_class", margins, xc.shape[-1])
    validation.check_vector_length("class_weight", class_weight, xc.shape[-1])
    w = _ops.as_tensor_like(class_weight, xc)
    q, valid, norm = _ops.softmax_targets(target, xc, ignore_index=ignore_index, label_smoothing=0.0,
                                          class_weight=w, validate_args=validate_args)
    # the margin comes off the target logit only (q is its one-hot row), then every logit is scaled
    z = scale * (xc - _ops.as_tensor_like(margins, xc) * q)
    loss, _, _ = _softmax_core(z, q, _ops.output_dtype(x), class_weight=w, alpha=None, gamma=0.0, label_smoothing=0.0,
                               ignore_index=None, from_logits=True, validate_args=False)
    return loss, valid, norm


def ldam_loss(input: torch.Tensor, target: torch.Tensor, *, samples_per_class: Any, max_margin: float = 0.5,
              scale: float = 30.0, class_weight: Any | None = None, ignore_index: int | None = None,
              validate_args: bool = True) -> torch.Tensor:
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
        >>> # equal logits: the loss is softplus(scale * m_t), the rare class's margin (max_margin) the largest
        >>> out = ldam_loss(torch.zeros(2, 2), torch.tensor([0, 1]), samples_per_class=[100, 1], scale=1.0)
        >>> print(out.numpy().round(4))
        [0.7753 0.9741]
    """
    return _base.functional(LDAM_LOSS, _ldam_loss, input, target, validate_args, samples_per_class=samples_per_class,
                            max_margin=max_margin, scale=scale, class_weight=class_weight, ignore_index=ignore_index)


class LDAMLoss(_base.DeclaredLoss):
    """LDAM loss as an `nn.Module`; see `ldam_loss`.

    `class_weight` is a float64 buffer (in the state_dict, on the module's device):
    `DeferredReweighting` overwrites it in place during training, which a compiled module reads
    without recompiling. normalization="weight" (default): "mean" divides by sum_n w_{t_n}, as
    the anchor (torch's weighted mean); "count": by the number of non-ignored samples.

    Examples:
        >>> import torch
        >>> loss_fn = LDAMLoss([100, 1], scale=1.0, class_weight=[0.5, 1.5])  # e.g. deferred re-weighting's
        >>> round(float(loss_fn(torch.zeros(2, 2), torch.tensor([0, 1]))), 4)  # (0.5 l_0 + 1.5 l_1) / (0.5 + 1.5)
        0.9244
    """

    spec = LDAM_LOSS
    mutable_class_weight = True  # DeferredReweighting may switch it
    core = staticmethod(_ldam_loss)

    def __init__(self, samples_per_class: Any, *, max_margin: float = 0.5, scale: float = 30.0,
                 class_weight: Any | None = None, ignore_index: int | None = None,
                 normalization: str = "weight", validate_args: bool = True, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction, validate_args=validate_args, samples_per_class=samples_per_class,
                         max_margin=max_margin, scale=scale, class_weight=class_weight, ignore_index=ignore_index,
                         normalization=normalization)


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
        if not getattr(type(loss), "mutable_class_weight", False):
            raise ValueError(validation.mutable_class_weight_message(loss))
        self.loss = loss
        self.epoch = validation.check_integer("epoch", epoch, low=0)
        self.class_weight = validation.check_weight_vector("class_weight", class_weight,
                                                           length=loss.class_weight.shape[0],
                                                  allow_scalar=False)
        self.initial_class_weight = validation.to_numpy(loss.class_weight).astype(np.float64)
        self._deferred: bool | None = None  # which weights the loss holds: unknown until the first epoch

    def on_epoch_begin(self, epoch: int) -> None:
        deferred = validation.check_integer("epoch", epoch, low=0) >= self.epoch
        if deferred == self._deferred:
            return
        self._deferred = deferred
        with torch.no_grad():
            self.loss.class_weight.copy_(torch.as_tensor(self.class_weight if deferred else self.initial_class_weight))


def _balanced_softmax_crossentropy(x: torch.Tensor, target: torch.Tensor, *, logit_shift: Any,
                                   ignore_index: int | None, validate_args: bool) -> _base.LossAndNorms:
    # log n_c and log(n_c / n) differ by a constant per row: logit adjustment with tau 1
    return _logit_adjusted_crossentropy(x, target, logit_shift=logit_shift, ignore_index=ignore_index,
                                        validate_args=validate_args, vector_name="samples_per_class")


def balanced_softmax_crossentropy(input: torch.Tensor, target: torch.Tensor, *, samples_per_class: Any,
                                  ignore_index: int | None = None, validate_args: bool = True) -> torch.Tensor:
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
        >>> from torch_impl.losses import logit_adjusted_crossentropy
        >>> logits, target = torch.tensor([[0.5, 0.0], [0.5, 0.0]]), torch.tensor([0, 1])
        >>> balanced = balanced_softmax_crossentropy(logits, target, samples_per_class=[90, 10])
        >>> adjusted = logit_adjusted_crossentropy(logits, target, class_priors=[0.9, 0.1])
        >>> print(balanced.numpy().round(4), torch.allclose(balanced, adjusted))
        [0.0652 2.7624] True
    """
    return _base.functional(BALANCED_SOFTMAX_CROSSENTROPY, _balanced_softmax_crossentropy, input, target, validate_args,
                            samples_per_class=samples_per_class, ignore_index=ignore_index)


class BalancedSoftmaxCrossentropy(_base.DeclaredLoss):
    """Balanced softmax cross-entropy as an `nn.Module`; see `balanced_softmax_crossentropy`.
    "mean" divides by the number of non-ignored samples.

    Examples:
        >>> import torch
        >>> from torch_impl.class_weights import class_counts
        >>> loss_fn = BalancedSoftmaxCrossentropy(class_counts([0] * 9 + [1]))  # the training labels' counts
        >>> round(float(loss_fn(torch.zeros(2, 2), torch.tensor([0, 1]))), 4)  # the mean of -log 0.9 and -log 0.1
        1.204
    """

    spec = BALANCED_SOFTMAX_CROSSENTROPY
    core = staticmethod(_balanced_softmax_crossentropy)

    def __init__(self, samples_per_class: Any, *, ignore_index: int | None = None, validate_args: bool = True,
                 reduction: str = "mean") -> None:
        super().__init__(reduction=reduction, validate_args=validate_args, samples_per_class=samples_per_class,
                         ignore_index=ignore_index)


def _seesaw_inputs(x: torch.Tensor, target: torch.Tensor,
                   validate_args: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(original logits, logits class last in the compute dtype, one-hot rows, valid) for the
    Seesaw loss: class indices only (the paper's labels), probability rows are an error."""
    x, xc, target = _softmax_inputs(x, target, True, validate_args)
    if tuple(target.shape) == tuple(xc.shape):
        raise ValueError(validation.index_targets_only_message("SeesawLoss", "target", tuple(target.shape),
                                                               tuple(xc.shape)))
    onehot, valid, _ = _ops.softmax_targets(target, xc, ignore_index=None, label_smoothing=0.0, class_weight=None,
                                            validate_args=validate_args)
    return x, xc, onehot, valid


def _seesaw_core(xc: torch.Tensor, onehot: torch.Tensor, counts: torch.Tensor, p: float, q: float,
                 eps: float) -> torch.Tensor:
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


def _seesaw_loss(x: torch.Tensor, target: torch.Tensor, *, cum_samples: Any, p: float, q: float, eps: float,
                 validate_args: bool) -> _base.LossAndNorms:
    x, xc, onehot, valid = _seesaw_inputs(x, target, validate_args)
    validation.check_vector_length("cum_samples", cum_samples, xc.shape[-1])
    counts = _ops.as_tensor_like(cum_samples, xc)
    assert counts is not None  # a required argument
    loss = _seesaw_core(xc, onehot, counts, p, q, eps)
    return loss.to(_ops.output_dtype(x)), valid, valid


def seesaw_loss(input: torch.Tensor, target: torch.Tensor, *, cum_samples: Any, p: float = 0.8, q: float = 2.0,
                eps: float = 1e-2, validate_args: bool = True) -> torch.Tensor:
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
        >>> # class 0's sample barely pushes down the logit of the rarer class 1; class 1's sample: cross-entropy
        >>> out = seesaw_loss(torch.zeros(2, 2), torch.tensor([0, 1]), cum_samples=[1000.0, 10.0])
        >>> print(out.numpy().round(4))
        [0.0248 0.6931]
    """
    return _base.functional(SEESAW_LOSS, _seesaw_loss, input, target, validate_args, cum_samples=cum_samples, p=p, q=q,
                            eps=eps)


class SeesawLoss(_base.DeclaredLoss):
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
        >>> loss_fn = SeesawLoss(2)
        >>> _ = loss_fn(torch.zeros(3, 2), torch.tensor([0, 0, 1]))
        >>> _ = loss_fn.eval()(torch.zeros(3, 2), torch.tensor([1, 1, 1]))  # eval(): not counted
        >>> loss_fn.cum_samples.tolist()  # the counts the next training forward starts from
        [2.0, 1.0]
    """

    spec = SEESAW_LOSS
    num_classes: int
    p: float
    q: float
    eps: float
    core = staticmethod(_seesaw_loss)

    def __init__(self, num_classes: int, *, p: float = 0.8, q: float = 2.0, eps: float = 1e-2,
                 validate_args: bool = True, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction, validate_args=validate_args, num_classes=num_classes, p=p, q=q, eps=eps)
        self.register_buffer("cum_samples", torch.zeros(self.num_classes, dtype=torch.float32))
        self.cum_samples: torch.Tensor  # the buffer's type, for the type checker

    def core_call(self, input: torch.Tensor, target: torch.Tensor) -> Any:
        """In training, adds the batch's class counts to `cum_samples` first; then the loss."""
        x, xc, onehot, valid = _seesaw_inputs(input, target, self.validate_args)
        validation.check_vector_length("cum_samples", self.cum_samples, xc.shape[-1])
        if self.training and torch.is_grad_enabled():
            batch = onehot.detach().reshape(-1, self.num_classes).sum(dim=0).to(self.cum_samples.dtype)
            if _ops._world_size() > 1:  # the global batch's counts on every rank
                torch.distributed.all_reduce(batch)
            self.cum_samples.add_(batch)
        loss = _seesaw_core(xc, onehot, self.cum_samples, self.p, self.q, self.eps).to(_ops.output_dtype(x))
        return loss, valid, valid
