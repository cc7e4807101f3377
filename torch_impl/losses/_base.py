"""The one `nn.Module` base of the declared losses, in the manner of torch's `_WeightedLoss`:
a loss module is its core function plus its checked arguments, the vector ones registered as
float64 buffers (they follow `.to(device)`, live in the state_dict and are never uploaded per
call). The arguments are checked once, at construction, by the declaration
(`imbalance_core.loss_specs`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from imbalance_core import loss_specs, validation

from .. import _ops

# What a softmax-family core returns: the per-sample loss, which samples count (not ignored)
# and each sample's normalisation weight, for the class's mean; None for either when every
# sample counts with weight 1 (no all-ones tensor made for the functional forms to discard).
LossAndNorms = tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]


class DeclaredLoss(nn.Module):
    """A declared loss as an `nn.Module`: `forward(input, target, sample_weight=None)`.

    Sigmoid family: one weight per sample (the leading axes), "mean" over every element.
    Softmax family: "mean" divides by the number of non-ignored samples (normalization="count")
    or by their summed class weights ("weight"), summed over the ranks under torch.distributed
    (see `_ops.reduce`). Subclasses set `spec` and `core`, the function the functional form calls.
    """

    spec: ClassVar[loss_specs.LossSpec]
    core: ClassVar[Callable[..., Any]]

    def __init__(self, *, reduction: str, validate_args: bool, **arguments: Any) -> None:
        super().__init__()
        self.reduction = validation.check_choice("reduction", reduction, validation.TORCH_REDUCTIONS)
        self.arguments = self.spec.check("class", **arguments)
        self.validate_args = validation.check_bool("validate_args", validate_args)
        core = self.spec.core_arguments(self.arguments)
        self._core_names = tuple(core)
        for key, value in core.items():
            if key in self.spec.buffers:
                self.register_buffer(key, None if value is None else torch.as_tensor(value, dtype=torch.float64))
            else:
                setattr(self, key, value)
        for key, value in self.arguments.items():
            if key not in core:
                setattr(self, key, value)

    def core_call(self, input: torch.Tensor, target: torch.Tensor) -> Any:
        """The core function on the module's arguments: the loss (sigmoid family) or
        (loss, valid, per-sample norm weight) (softmax family)."""
        arguments = {name: getattr(self, name) for name in self._core_names}
        return type(self).core(input, target, validate_args=self.validate_args, **arguments)

    def forward(self, input: torch.Tensor, target: torch.Tensor, sample_weight: Any | None = None) -> torch.Tensor:
        out = self.core_call(input, target)
        if self.spec.family == "sigmoid":
            return _ops.reduce(out, self.reduction, sample_weight, per_sample_ndim=max(out.ndim - 1, 1))
        loss, valid, norm = out  # None: every sample counts with weight 1
        if self.arguments.get("normalization") == "weight" and norm is not None:
            denominator = norm.sum()
        elif valid is None or self.arguments.get("ignore_index") is None:
            # every sample counts: the count is the number of losses, a constant of a compiled
            # graph (summing the all-ones mask instead made the compiled module 1.17x slower)
            denominator = torch.full((), loss.numel(), dtype=loss.dtype, device=loss.device)
        else:
            denominator = valid.sum()
        return _ops.reduce(loss, self.reduction, sample_weight, denominator=denominator)

    def extra_repr(self) -> str:
        scalars = [f"{k}={v!r}" for k, v in self.arguments.items()
                   if k not in self.spec.buffers and not isinstance(v, np.ndarray | torch.Tensor)]
        return ", ".join([*scalars, f"reduction={self.reduction!r}"])


def functional(spec: loss_specs.LossSpec, core: Callable[..., Any], input: torch.Tensor, target: torch.Tensor,
               validate_args: Any, **arguments: Any) -> torch.Tensor:
    """A functional form: the arguments checked by the declaration (under torch.compile once,
    at trace time, see `_ops.static_args`), then the core function's unreduced loss."""
    core_arguments = spec.unflatten(_ops.static_args(loss_specs.functional_arguments, spec.name, **arguments))
    out = core(input, target, validate_args=validate_args, **core_arguments)
    return out if spec.family == "sigmoid" else out[0]
