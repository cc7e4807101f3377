"""The one Keras wrapper of the declared losses, in the manner of Keras's `LossFunctionWrapper`:
a loss class is its core function plus its checked arguments.

`keras.losses.Loss.__call__` (never overridden) casts, applies masks and `sample_weight`,
reduces and scales for distribution; `call` returns the per-sample losses. The arguments are
checked once, at construction, by the declaration (`imbalance_core.loss_specs`), which also
gives `get_config`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import keras
from keras import ops

from imbalance_core import loss_specs, validation

from .. import _ops

# What a softmax-family core returns: the per-sample loss, which samples count (not ignored)
# and each sample's normalisation weight, for the class's mean; None for either when every
# sample counts with weight 1 (no all-ones tensor made for the functional forms to discard).
LossAndNorms = tuple[Any, Any, Any]


class DeclaredLoss(keras.losses.Loss):
    """A declared loss as a `keras.losses.Loss`.

    Sigmoid family: the per-sample loss is the mean over the last axis (Keras's
    `BinaryCrossentropy` convention; a rank-1 `y_pred` is already per sample). Softmax family:
    for "sum_over_batch_size" the per-sample losses are first scaled so that Keras's mean
    (sum / number of losses / replicas) divides by the number of non-ignored samples
    (normalization="count") or by their summed class weights ("weight"), summed over replicas.
    Subclasses set `spec` and `core`, the function the functional form calls.
    """

    spec: ClassVar[loss_specs.LossSpec]
    core: ClassVar[Callable[..., Any]]

    def __init__(self, *, reduction: str | None, name: str, dtype: Any, validate_args: bool,
                 **arguments: Any) -> None:
        validation.check_choice("reduction", reduction, validation.KERAS_REDUCTIONS)
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.arguments = self.spec.check("class", **arguments)
        self.validate_args = validation.check_bool("validate_args", validate_args)
        self.core_arguments = self.spec.core_arguments(self.arguments)
        for key, value in {**self.arguments, **self.core_arguments}.items():
            setattr(self, key, value)

    def core_call(self, y_true: Any, y_pred: Any) -> Any:
        """The core function on the class's arguments: the loss (sigmoid family) or
        (loss, valid, per-sample norm weight) (softmax family)."""
        return type(self).core(y_true, y_pred, validate_args=self.validate_args, **self.core_arguments)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        if self.spec.family == "sigmoid":
            y_true, y_pred = _ops.match_rank(y_true, y_pred)
            return _ops.mean_last_axis(self.core_call(y_true, y_pred))
        loss, valid, norm = self.core_call(y_true, y_pred)
        if self.reduction == "sum_over_batch_size":
            weighted = self.arguments.get("normalization") == "weight"
            per_sample = norm if weighted and norm is not None else valid
            # None: every sample counts with weight 1 (the cores skip the all-ones tensor)
            loss = _ops.scale_for_normalized_mean(loss, ops.ones_like(loss) if per_sample is None else per_sample)
        return loss

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(self.spec.config(self.arguments), validate_args=self.validate_args)
        return config


def functional(spec: loss_specs.LossSpec, core: Callable[..., Any], y_true: Any, y_pred: Any, validate_args: Any,
               **arguments: Any) -> Any:
    """A functional form: the arguments checked by the declaration, then the core function's
    unreduced loss."""
    out = core(y_true, y_pred, validate_args=validate_args, **spec.unflatten(spec.functional(**arguments)))
    return out if spec.family == "sigmoid" else out[0]
