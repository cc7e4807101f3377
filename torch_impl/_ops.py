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


def to_host(value: Any) -> np.ndarray:
    """A (small) weight as NumPy, wherever it lives."""
    return V.to_numpy(value)


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


def check_vector_length(name: str, w: Optional[np.ndarray], length: int) -> None:
    if w is not None and np.ndim(w) == 1 and np.shape(w)[0] != length:
        raise ValueError(
            f"Invalid `{name}`: received length {np.shape(w)[0]}; expected length {length} "
            f"(one entry per class, the last axis of the logits)."
        )


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
