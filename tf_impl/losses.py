"""Losses for class-imbalanced classification, Keras 3. The mirror of torch_impl/losses.py.

Each loss is a functional form `fn(y_true, y_pred, **kw)` returning the unreduced loss
(element-wise `(..., C)` for the sigmoid family, per-sample `(...)` for the softmax family)
and a `keras.losses.Loss` subclass adding Keras's conventions (reductions, sample_weight,
get_config, serialisation). keras.ops only: every Keras backend runs them. Everything is
computed from logits in log space; float16/bfloat16 inputs are computed in float32 and returned
in the input dtype (the class computes in its loss dtype policy, float32 by default).
"""

from __future__ import annotations

from typing import Any, Optional

import keras
from keras import ops

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


def _weighted_binary_crossentropy(y, x, pos_weight, neg_weight, label_smoothing, from_logits, validate_args):
    x = _ops.check_logits("y_pred", x)
    y = ops.convert_to_tensor(y)
    _ops.check_same_shape("y_true", y, "y_pred", x)
    num_labels = x.shape[-1] if len(x.shape) else 1
    _ops.check_vector_length("pos_weight", pos_weight, num_labels)
    _ops.check_vector_length("neg_weight", neg_weight, num_labels)
    if validate_args:
        _ops.check_in_range("y_true", y, 0.0, 1.0, "targets")
        if not from_logits:
            _ops.check_in_range("y_pred", x, 0.0, 1.0, "probabilities (from_logits=False)")
    dtype = _ops.compute_dtype(x)
    xc = ops.cast(x, dtype)
    yc = ops.cast(y, dtype)
    if not from_logits:
        xc = _ops.probabilities_to_logits(xc)
    if label_smoothing:
        yc = yc * (1.0 - label_smoothing) + 0.5 * label_smoothing
    # Two log-sigmoids rather than one softplus identity: no cancellation for large |x|.
    pos = yc * ops.log_sigmoid(xc)
    neg = (1.0 - yc) * ops.log_sigmoid(-xc)
    if pos_weight is not None:
        pos = pos * _ops.as_tensor_like(pos_weight, xc)
    if neg_weight is not None:
        neg = neg * _ops.as_tensor_like(neg_weight, xc)
    return ops.cast(-(pos + neg), _ops.dtype_of(x))


def weighted_binary_crossentropy(
    y_true,
    y_pred,
    *,
    pos_weight: Optional[Any] = None,
    neg_weight: Optional[Any] = None,
    label_smoothing: float = 0.0,
    from_logits: bool = True,
    validate_args: bool = True,
):
    """Element-wise weighted binary cross-entropy from logits.

    l = -[w+ y log sigma(x) + w- (1 - y) log sigma(-x)], with label smoothing
    y <- y (1 - e) + e / 2 applied first.

    Args:
        y_true: targets in [0, 1], the same shape as `y_pred` (no broadcasting).
        y_pred: logits (or probabilities when `from_logits=False`), shape (..., C) or (B,).
        pos_weight: w+, a scalar or a length-C vector (per label); default 1.
        neg_weight: w-, a scalar or a length-C vector; default 1.
        label_smoothing: e in [0, 1].
        from_logits: False takes probabilities, clipped to [1e-7, 1 - 1e-7] (Keras's rule).
        validate_args: check target values (and probabilities) at call time.

    Returns:
        The unreduced loss, shape of `y_pred`, dtype of `y_pred`.

    Anchors: `tf.nn.weighted_cross_entropy_with_logits(pos_weight=p)`; Keras
    `BinaryCrossentropy(from_logits=True, label_smoothing=e)` (the mean over C);
    torch `BCEWithLogitsLoss(weight=w, pos_weight=p)` as `pos_weight=w*p, neg_weight=w`.
    """
    pos_weight, neg_weight, label_smoothing = _check_wbce_args(pos_weight, neg_weight, label_smoothing)
    return _weighted_binary_crossentropy(
        y_true, y_pred, pos_weight, neg_weight, label_smoothing, bool(from_logits), validate_args
    )


class _Loss(keras.losses.Loss):
    """Shared plumbing of the Keras loss classes: reduction check and base config."""

    def __init__(self, *, reduction, name, dtype) -> None:
        V.check_choice("reduction", reduction, V.KERAS_REDUCTIONS)
        super().__init__(name=name, reduction=reduction, dtype=dtype)


@keras.saving.register_keras_serializable("classbalance")
class WeightedBinaryCrossentropy(_Loss):
    """Weighted binary cross-entropy (sigmoid family) as a `keras.losses.Loss`.

    See `weighted_binary_crossentropy` for the formula. Per-sample loss = mean over the last
    axis (Keras's `BinaryCrossentropy` convention; a rank-1 `y_pred` is already per sample),
    then Keras's reduction ("sum_over_batch_size" default, "sum", "none") and `sample_weight`.

    Anchor: Keras `BinaryCrossentropy(from_logits=True, label_smoothing=e)` when no weights are
    given; torch `BCEWithLogitsLoss` mean == this class's "sum_over_batch_size".
    """

    def __init__(
        self,
        *,
        pos_weight: Optional[Any] = None,
        neg_weight: Optional[Any] = None,
        label_smoothing: float = 0.0,
        from_logits: bool = True,
        validate_args: bool = True,
        reduction: Optional[str] = "sum_over_batch_size",
        name: str = "weighted_binary_crossentropy",
        dtype=None,
    ) -> None:
        super().__init__(reduction=reduction, name=name, dtype=dtype)
        self.pos_weight, self.neg_weight, self.label_smoothing = _check_wbce_args(
            pos_weight, neg_weight, label_smoothing
        )
        self.from_logits = bool(from_logits)
        self.validate_args = bool(validate_args)

    def call(self, y_true, y_pred):
        loss = _weighted_binary_crossentropy(
            y_true, y_pred, self.pos_weight, self.neg_weight, self.label_smoothing, self.from_logits, self.validate_args
        )
        return _ops.mean_last_axis(loss)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            pos_weight=_ops.weights_to_config(self.pos_weight),
            neg_weight=_ops.weights_to_config(self.neg_weight),
            label_smoothing=self.label_smoothing,
            from_logits=self.from_logits,
            validate_args=self.validate_args,
        )
        return config
