"""Internal tensor helpers for torch_impl; the mirror of tf_impl/_ops.py, name for name.

Argument checks and messages come from imbalance_core.validation; this module only adds the
torch-specific parts: dtype promotion, tensor-content checks and the torch reductions.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np
import torch

from imbalance_core import validation as V

# float16/bfloat16 inputs are computed in float32 and returned in the input dtype (DESIGN.md).
_HALF = (torch.float16, torch.bfloat16)
EPSILON = 1e-7  # Keras's backend.epsilon(): the clip applied to probabilities.


def compute_dtype(x: torch.Tensor) -> torch.dtype:
    return torch.float32 if x.dtype in _HALF else x.dtype


def check_logits(name: str, x: Any) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        x = torch.as_tensor(np.asarray(x))
    V.check_float_dtype(name, x.dtype)
    return x


def as_tensor_like(value: Any, like: torch.Tensor, dtype: Optional[torch.dtype] = None) -> Optional[torch.Tensor]:
    """Puts a weight/prior (NumPy, sequence or tensor) on `like`'s device in `dtype`."""
    if value is None:
        return None
    dtype = dtype or like.dtype
    if isinstance(value, torch.Tensor):
        return value.to(device=like.device, dtype=dtype)
    return torch.as_tensor(np.asarray(value), dtype=dtype, device=like.device)


def check_same_shape(target_name: str, target: torch.Tensor, input_name: str, x: torch.Tensor) -> None:
    V.check_same_shape(target_name, tuple(target.shape), input_name, tuple(x.shape))


def check_in_range(name: str, t: torch.Tensor, low: float, high: float, what: str = "values") -> None:
    """Tensor-content check (a host sync); skipped by the caller when validate_args=False."""
    if t.numel() == 0:
        return
    lo, hi = torch.aminmax(t.detach().float())
    lo, hi = float(lo), float(hi)
    if not (lo >= low and hi <= high):  # written so that NaN fails too
        raise ValueError(f"{V.range_message(name, low, high, what)}; received values in [{lo:g}, {hi:g}].")


def probabilities_to_logits(p: torch.Tensor) -> torch.Tensor:
    """from_logits=False, sigmoid family: clip to [eps, 1-eps], then log p - log(1-p)."""
    p = p.clamp(EPSILON, 1.0 - EPSILON)
    return torch.log(p) - torch.log1p(-p)


def reduce(loss: torch.Tensor, reduction: str, sample_weight: Optional[Any], per_sample_ndim: int) -> torch.Tensor:
    """torch conventions: 'mean' averages every element (as torch's own losses do), 'sum' adds.

    `sample_weight` multiplies the per-sample losses (shape `loss.shape[:per_sample_ndim]`) and
    the mean still divides by the element count, as Keras does with sample weights.
    """
    if sample_weight is not None:
        sw = as_tensor_like(sample_weight, loss)
        per_sample = tuple(loss.shape[:per_sample_ndim])
        if sw.ndim > 0 and tuple(sw.shape) != per_sample:
            raise ValueError(
                f"Invalid `sample_weight`: received shape {tuple(sw.shape)}; expected a scalar or "
                f"shape {per_sample} (one weight per sample)."
            )
        sw = sw.reshape(sw.shape + (1,) * (loss.ndim - sw.ndim))
        loss = loss * sw
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.mean() if loss.numel() else loss.sum()


# -------------------------------------------------------------------- softmax-family helpers


def log_softmax_from(x: torch.Tensor, from_logits: bool) -> torch.Tensor:
    """log p over the last axis: log_softmax of logits, or (from_logits=False) the log of the
    rows divided by their sum and clipped to [eps, 1 - eps] (Keras's convention)."""
    if from_logits:
        return torch.log_softmax(x, dim=-1)
    p = x / x.sum(dim=-1, keepdim=True)
    return torch.log(p.clamp(EPSILON, 1.0 - EPSILON))


def log1m_softmax(logp: torch.Tensor) -> torch.Tensor:
    """log(1 - p_c) for every class, stable and with finite gradients when p_c -> 1.

    The row's top class gets log(sum of the others) - logsumexp (a masked logsumexp, no
    cancellation); every other class has p_c <= 1/2, where log1p(-p_c) is well conditioned.
    Both branches see safe inputs, so the unselected one never sends inf/NaN to the gradient.
    """
    top = torch.nn.functional.one_hot(logp.argmax(dim=-1), logp.shape[-1]).to(torch.bool)
    others = torch.logsumexp(logp.masked_fill(top, float("-inf")), dim=-1, keepdim=True)
    p_safe = torch.exp(logp).masked_fill(top, 0.0)
    return torch.where(top, others, torch.log1p(-p_safe))


def focal_factor(base, log_base, gamma: float) -> Optional[torch.Tensor]:
    """base^gamma for the focal factors, given callables for base and log(base).

    gamma >= 1: the direct power (cheap; its derivative gamma base^(gamma-1) is finite even
    at base = 0). 0 < gamma < 1: exp(gamma log base), where log base is computed stably, so
    the infinite derivative 0^(gamma-1) of the power never reaches the gradient.
    """
    if gamma == 0:
        return None
    if gamma >= 1:
        return base() ** gamma
    return torch.exp(gamma * log_base())


def _target_kind(target: torch.Tensor, logits: torch.Tensor, target_name: str, input_name: str) -> str:
    """"probabilities" (the logits' shape) or "indices" (logits.shape[:-1]); else a shape error."""
    if tuple(target.shape) == tuple(logits.shape):
        return "probabilities"
    if tuple(target.shape) == tuple(logits.shape[:-1]):
        return "indices"
    raise ValueError(
        f"Shape mismatch: `{target_name}` has shape {tuple(target.shape)} but `{input_name}` has "
        f"shape {tuple(logits.shape)}; expected class indices of shape {tuple(logits.shape[:-1])} "
        f"or probabilities of shape {tuple(logits.shape)} (no silent broadcasting)."
    )


def _class_indices(target: torch.Tensor, num_classes: int, ignore_index, validate_args: bool, target_name: str):
    """int64 indices, the keep mask and the indices made safe (ignored -> 0) for gathering."""
    if target.dtype.is_floating_point:
        if validate_args and not bool(torch.all(target == torch.round(target))):
            raise ValueError(f"Invalid `{target_name}`: class indices must be whole numbers; received {V.describe(target)}.")
        target = target.to(torch.int64)
    if validate_args:
        V.check_class_indices(target_name, target, num_classes, ignore_index)
    keep = torch.ones_like(target, dtype=torch.bool) if ignore_index is None else target != ignore_index
    return target.to(torch.int64), keep, torch.where(keep, target, torch.zeros_like(target)).to(torch.int64)


def softmax_targets(
    target: torch.Tensor,
    logits: torch.Tensor,
    *,
    ignore_index: Optional[int],
    label_smoothing: float,
    class_weight: Optional[torch.Tensor],
    validate_args: bool,
    target_name: str = "target",
    input_name: str = "input",
):
    """Normalises softmax-family targets to (q, valid, sample_norm_weight).

    Targets are class indices (shape logits.shape[:-1], ignore_index allowed) or one-hot /
    probability rows (the logits' shape). q: the smoothed target distribution q(1-e) + e/K,
    zero on ignored samples; valid: 1 for samples that count; sample_norm_weight: the
    per-sample weight used by normalization="weight" (w_{t_n}, or sum_c w_c q_nc before
    smoothing), 0 on ignored samples.
    """
    num_classes = logits.shape[-1]
    dtype = logits.dtype
    if _target_kind(target, logits, target_name, input_name) == "probabilities":
        if validate_args:
            check_in_range(target_name, target, 0.0, 1.0, "probability targets")
        q = target.to(dtype)
        valid = torch.ones(q.shape[:-1], dtype=dtype, device=q.device)
    else:
        _, keep, safe = _class_indices(target, num_classes, ignore_index, validate_args, target_name)
        valid = keep.to(dtype)
        q = torch.nn.functional.one_hot(safe, num_classes).to(dtype) * valid.unsqueeze(-1)
    norm = (q if class_weight is None else q * class_weight).sum(dim=-1)
    if label_smoothing:
        q = (q * (1.0 - label_smoothing) + label_smoothing / num_classes) * valid.unsqueeze(-1)
    return q, valid, norm


def cross_entropy(
    logits: torch.Tensor,
    target: torch.Tensor,
    *,
    ignore_index: Optional[int],
    label_smoothing: float,
    class_weight: Optional[torch.Tensor],
    validate_args: bool,
    target_name: str = "target",
    input_name: str = "input",
):
    """The plain weighted softmax cross-entropy through torch's fused `F.cross_entropy` (the
    same formula, smoothing included), with the (valid, sample_norm_weight) of softmax_targets."""
    num_classes = logits.shape[-1]
    dtype = logits.dtype
    channels_first = (lambda t: t.movedim(-1, 1)) if logits.ndim > 2 else (lambda t: t)  # noqa: E731
    if _target_kind(target, logits, target_name, input_name) == "probabilities":
        # unsmoothed q here: the kernel applies the smoothing itself
        q, valid, norm = softmax_targets(target, logits, ignore_index=ignore_index, label_smoothing=0.0,
                                         class_weight=class_weight, validate_args=validate_args,
                                         target_name=target_name, input_name=input_name)
        loss = torch.nn.functional.cross_entropy(channels_first(logits), channels_first(q), weight=class_weight,
                                                 label_smoothing=label_smoothing, reduction="none")
        return loss, valid, norm
    t, keep, safe = _class_indices(target, num_classes, ignore_index, validate_args, target_name)
    loss = torch.nn.functional.cross_entropy(
        channels_first(logits), t, weight=class_weight, label_smoothing=label_smoothing, reduction="none",
        ignore_index=-100 if ignore_index is None else ignore_index,
    )
    valid = keep.to(dtype)
    norm = valid if class_weight is None else class_weight[safe] * valid
    return loss, valid, norm


def reduce_normalized(loss: torch.Tensor, reduction: str, sample_weight: Optional[Any], denominator: torch.Tensor) -> torch.Tensor:
    """Softmax-family reduction: "mean" divides the (sample-weighted) sum by `denominator`
    (the number of non-ignored samples, or their summed class weights); 0 when it is 0
    (torch gives NaN when every target is ignored: a documented difference)."""
    if sample_weight is not None:
        loss = reduce(loss, "none", sample_weight, per_sample_ndim=loss.ndim)
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "sum":
        return total
    denominator = denominator.to(total.dtype)
    return torch.where(denominator > 0, total / torch.where(denominator > 0, denominator, torch.ones_like(denominator)), torch.zeros_like(total))
