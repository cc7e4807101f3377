"""Losses for class-imbalanced classification, Keras 3. The mirror of torch_impl/losses.py.

Each loss is a functional form `fn(y_true, y_pred, **kw)` returning the unreduced loss
(element-wise `(..., C)` for the sigmoid family, per-sample `(...)` for the softmax family)
and a `keras.losses.Loss` subclass adding Keras's conventions (reductions, sample_weight,
get_config, serialisation). keras.ops only: every Keras backend runs them. Everything is
computed from logits in log space; float16/bfloat16 inputs are computed in float32 and returned
in the input dtype (the class computes in its loss dtype policy, float32 by default).
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

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


# --------------------------------------------------------------------------------------------
# Weighted binary cross-entropy
# --------------------------------------------------------------------------------------------


def _sigmoid_inputs(x, y, from_logits, label_smoothing, validate_args):
    """Checks and prepares sigmoid-family inputs: (original logits, logits, targets) with the
    last two in the compute dtype, probabilities turned into logits and targets smoothed."""
    V.check_bool("validate_args", validate_args)  # the functional forms pass it unchecked
    x = _ops.check_logits("y_pred", x)
    y = ops.convert_to_tensor(y)
    _ops.check_same_shape("y_true", y, "y_pred", x)
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
    return x, xc, yc


def _weighted_binary_crossentropy(y, x, pos_weight, neg_weight, label_smoothing, from_logits, validate_args):
    x, xc, yc = _sigmoid_inputs(x, y, from_logits, label_smoothing, validate_args)
    num_labels = x.shape[-1] if len(x.shape) else 1
    V.check_vector_length("pos_weight", pos_weight, num_labels)
    V.check_vector_length("neg_weight", neg_weight, num_labels)
    pos = yc if pos_weight is None else yc * _ops.as_tensor_like(pos_weight, xc)
    neg = 1.0 - yc if neg_weight is None else (1.0 - yc) * _ops.as_tensor_like(neg_weight, xc)
    if neg_weight is None or np.all(neg_weight > 0):
        # -log sigma(-x) = x - log sigma(x): w- (1-y) x + (w- (1-y) + w+ y) softplus(-x), one
        # softplus, the formula of tf.nn.weighted_cross_entropy_with_logits and of torch's
        # fused BCEWithLogitsLoss (torch_impl's path for the same weights); the fewest passes
        loss = neg * xc + (neg + pos) * ops.softplus(-xc)
    else:
        # zero negative weights: the direct form, -log sigma(+-x) = softplus(-+x), with no
        # cancellation between the two terms
        loss = pos * ops.softplus(-xc) + neg * ops.softplus(xc)
    return ops.cast(loss, _ops.dtype_of(x))


def weighted_binary_crossentropy(
    y_true: Any,
    y_pred: Any,
    *,
    pos_weight: Any | None = None,
    neg_weight: Any | None = None,
    label_smoothing: float = 0.0,
    from_logits: bool = True,
    validate_args: bool = True,
) -> Any:
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

    Examples:
        >>> import keras
        >>> import numpy as np
        >>> y_true = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
        >>> logits = np.array([[2.0, -1.0, 0.5], [-0.5, 1.0, -2.0]])
        >>> out = weighted_binary_crossentropy(y_true, logits, pos_weight=2.0)
        >>> print(keras.ops.convert_to_numpy(out).round(4))
        [[0.2539 0.3133 0.9482]
         [0.4741 0.6265 0.1269]]
    """
    pos_weight, neg_weight, label_smoothing = A.wbce(pos_weight, neg_weight, label_smoothing)
    return _weighted_binary_crossentropy(
        y_true, y_pred, pos_weight, neg_weight, label_smoothing, V.check_bool("from_logits", from_logits), validate_args
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

    Examples:
        >>> import numpy as np
        >>> y_true = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
        >>> logits = np.array([[2.0, -1.0, 0.5], [-0.5, 1.0, -2.0]])
        >>> loss = WeightedBinaryCrossentropy(pos_weight=2.0)
        >>> round(float(loss(y_true, logits)), 4)
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
        reduction: str | None = "sum_over_batch_size",
        name: str = "weighted_binary_crossentropy",
        dtype: Any = None,
    ) -> None:
        super().__init__(reduction=reduction, name=name, dtype=dtype)
        self.pos_weight, self.neg_weight, self.label_smoothing = A.wbce(
            pos_weight, neg_weight, label_smoothing
        )
        self.from_logits = V.check_bool("from_logits", from_logits)
        self.validate_args = V.check_bool("validate_args", validate_args)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        y_true, y_pred = _ops.match_rank(y_true, y_pred)
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


# --------------------------------------------------------------------------------------------
# Binary focal loss
# --------------------------------------------------------------------------------------------


def _binary_focal_loss(y, x, alpha, gamma, label_smoothing, from_logits, validate_args):
    x, xc, yc = _sigmoid_inputs(x, y, from_logits, label_smoothing, validate_args)
    neg_x = -xc
    # -log p = softplus(-x), -log(1 - p) = softplus(x), each computed directly (as in WBCE)
    nll_p = ops.softplus(neg_x)
    nll_1mp = ops.softplus(xc)
    loss = yc * nll_p + (1.0 - yc) * nll_1mp
    if gamma:
        # 1 - p_t = y sigma(-x) + (1 - y) sigma(x): both sigmoids computed directly (no 1 - p
        # cancellation); for gamma < 1 its log, log-sigmoid based, so the gradient stays finite.
        factor = _ops.focal_factor(
            lambda: yc * ops.sigmoid(neg_x) + (1.0 - yc) * ops.sigmoid(xc),
            lambda: _ops.logaddexp(ops.log(yc) - nll_1mp, ops.log1p(-yc) - nll_p),
            gamma,
        )
        loss = loss * factor
    if alpha is not None:
        loss = loss * (alpha * yc + (1.0 - alpha) * (1.0 - yc))
    return ops.cast(loss, _ops.dtype_of(x))


def binary_focal_loss(
    y_true: Any,
    y_pred: Any,
    *,
    alpha: float | None = 0.25,
    gamma: float = 2.0,
    label_smoothing: float = 0.0,
    from_logits: bool = True,
    validate_args: bool = True,
) -> Any:
    """Element-wise binary focal loss (Lin et al. 2017, "Focal Loss for Dense Object Detection").

    ce = -[y log sigma(x) + (1-y) log sigma(-x)], p_t = y sigma(x) + (1-y) sigma(-x),
    l = a_t (1 - p_t)^gamma ce, a_t = alpha y + (1 - alpha)(1 - y) (alpha=None: a_t = 1).
    Targets are smoothed first, y <- y(1-e) + e/2.

    Args:
        y_true: targets in [0, 1], the shape of `y_pred`.
        y_pred: logits (probabilities when `from_logits=False`), any shape.
        alpha: class balance in [0, 1], or None for no balancing.
        gamma: focusing parameter >= 0 (0 gives cross-entropy).
        label_smoothing: e in [0, 1].

    Anchors: Keras `BinaryFocalCrossentropy(apply_class_balancing=True)` (its mean over C;
    Keras's own saturates on its torch and jax backends, this one does not);
    `torchvision.ops.sigmoid_focal_loss(reduction="none")`.

    Examples:
        >>> import keras
        >>> import numpy as np
        >>> y_true = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
        >>> logits = np.array([[2.0, -1.0, 0.5], [-0.5, 1.0, -2.0]])
        >>> out = binary_focal_loss(y_true, logits, alpha=0.75, gamma=2.0)
        >>> print(keras.ops.convert_to_numpy(out).round(4))
        [[0.0014 0.0057 0.0507]
         [0.0169 0.017  0.0005]]
    """
    alpha = A.alpha(alpha, allow_vector=False)
    gamma = A.gamma("gamma", gamma)
    label_smoothing = A.label_smoothing(label_smoothing)
    return _binary_focal_loss(y_true, y_pred, alpha, gamma, label_smoothing, V.check_bool("from_logits", from_logits),
                              validate_args)


@keras.saving.register_keras_serializable("classbalance")
class BinaryFocalLoss(_Loss):
    """Binary focal loss as a `keras.losses.Loss`; see `binary_focal_loss`. Per-sample loss =
    mean over the last axis, as `WeightedBinaryCrossentropy`.

    Examples:
        >>> import numpy as np
        >>> y_true = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
        >>> logits = np.array([[2.0, -1.0, 0.5], [-0.5, 1.0, -2.0]])
        >>> loss = BinaryFocalLoss(alpha=0.75, gamma=2.0)
        >>> round(float(loss(y_true, logits)), 4)
        0.0153
    """

    def __init__(self, *, alpha: float | None = 0.25, gamma: float = 2.0, label_smoothing: float = 0.0,
                 from_logits: bool = True, validate_args: bool = True,
                 reduction: str | None = "sum_over_batch_size", name: str = "binary_focal_loss",
                 dtype: Any = None) -> None:
        super().__init__(reduction=reduction, name=name, dtype=dtype)
        self.alpha = A.alpha(alpha, allow_vector=False)
        self.gamma = A.gamma("gamma", gamma)
        self.label_smoothing = A.label_smoothing(label_smoothing)
        self.from_logits = V.check_bool("from_logits", from_logits)
        self.validate_args = V.check_bool("validate_args", validate_args)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        y_true, y_pred = _ops.match_rank(y_true, y_pred)
        loss = _binary_focal_loss(y_true, y_pred, self.alpha, self.gamma, self.label_smoothing, self.from_logits,
                                  self.validate_args)
        return _ops.mean_last_axis(loss)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(alpha=self.alpha, gamma=self.gamma, label_smoothing=self.label_smoothing,
                      from_logits=self.from_logits, validate_args=self.validate_args)
        return config


# --------------------------------------------------------------------------------------------
# Softmax family: weighted categorical cross-entropy, categorical focal loss
# --------------------------------------------------------------------------------------------


def _softmax_inputs(x, target, from_logits, validate_args):
    V.check_bool("validate_args", validate_args)  # the functional forms pass it unchecked
    x = _ops.check_logits("y_pred", x)
    if len(x.shape) < 1:
        raise ValueError(V.scalar_logits_message("y_pred", "(..., C)"))
    target = ops.convert_to_tensor(target)
    if validate_args and not from_logits:
        _ops.check_in_range("y_pred", x, 0.0, 1.0, "probabilities (from_logits=False)")
    return x, ops.cast(x, _ops.compute_dtype(x)), target


def _softmax_loss(target, x, *, class_weight, alpha, gamma, label_smoothing, ignore_index, from_logits, validate_args):
    """Per-sample -sum_c w_c alpha_c (1 - p_c)^gamma q_c log p_c, with the normalisers."""
    x, xc, target = _softmax_inputs(x, target, from_logits, validate_args)
    num_classes = x.shape[-1]
    V.check_vector_length("class_weight", class_weight, num_classes)
    V.check_vector_length("alpha", alpha, num_classes)
    w = _ops.as_tensor_like(class_weight, xc)
    a = _ops.as_tensor_like(alpha, xc)
    if from_logits and not gamma and a is None:  # plain weighted CE: gather, no one-hot rows
        loss, valid, norm = _ops.cross_entropy(xc, target, ignore_index=ignore_index, label_smoothing=label_smoothing,
                                               class_weight=w, validate_args=validate_args)
        return ops.cast(loss, _ops.dtype_of(x)), valid, norm
    logp = _ops.log_softmax_from(xc, from_logits)
    q, valid, norm = _ops.softmax_targets(
        target, xc, ignore_index=ignore_index, label_smoothing=label_smoothing,
        class_weight=w if w is not None else a, validate_args=validate_args,
    )
    term = q * logp
    if gamma:
        # 1 - p = -expm1(log p): accurate as p -> 1 without a masked logsumexp, for gamma >= 1
        term = term * _ops.focal_factor(lambda: -ops.expm1(logp), lambda: _ops.log1m_softmax(logp), gamma)
    if w is not None:
        term = term * w
    if a is not None:
        term = term * a
    return ops.cast(-ops.sum(term, axis=-1), _ops.dtype_of(x)), valid, norm


def weighted_categorical_crossentropy(
    y_true: Any,
    y_pred: Any,
    *,
    class_weight: Any | None = None,
    label_smoothing: float = 0.0,
    ignore_index: int | None = None,
    from_logits: bool = True,
    validate_args: bool = True,
) -> Any:
    """Per-sample weighted softmax cross-entropy.

    q = one-hot (or the given probabilities), smoothed q(1-e) + e/K;
    l_n = -sum_c w_c q_nc log softmax(x_n)_c; samples whose index equals `ignore_index` give 0.

    Args:
        y_true: class indices (...) or one-hot / probability rows (..., C).
        y_pred: logits (..., C) (probabilities when `from_logits=False`).
        class_weight: w, a length-C non-negative vector (default 1).
        label_smoothing: e in [0, 1].
        ignore_index: a class-index value whose samples are ignored (index targets only).

    Anchor: `torch.nn.CrossEntropyLoss(weight=w, label_smoothing=e, ignore_index=i,
    reduction="none")`, exactly; Keras `CategoricalCrossentropy(from_logits=True)` without
    weights.

    Examples:
        >>> import keras
        >>> import numpy as np
        >>> y_true = np.array([0, 2])
        >>> logits = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
        >>> out = weighted_categorical_crossentropy(y_true, logits, class_weight=[0.5, 1.0, 2.0])
        >>> print(keras.ops.convert_to_numpy(out).round(4))
        [0.1207 2.0039]
    """
    class_weight = V.check_weight_vector("class_weight", class_weight, allow_scalar=False)
    label_smoothing = A.label_smoothing(label_smoothing)
    return _softmax_loss(y_true, y_pred, class_weight=class_weight, alpha=None, gamma=0.0,
                         label_smoothing=label_smoothing, ignore_index=A.ignore_index(ignore_index),
                         from_logits=V.check_bool("from_logits", from_logits), validate_args=validate_args)[0]


def categorical_focal_loss(
    y_true: Any,
    y_pred: Any,
    *,
    alpha: Any | None = None,
    gamma: float = 2.0,
    label_smoothing: float = 0.0,
    ignore_index: int | None = None,
    from_logits: bool = True,
    validate_args: bool = True,
) -> Any:
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
        >>> import keras
        >>> import numpy as np
        >>> y_true = np.array([0, 2])
        >>> logits = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
        >>> out = categorical_focal_loss(y_true, logits, gamma=2.0)
        >>> print(keras.ops.convert_to_numpy(out).round(4))
        [0.0111 0.4013]
    """
    alpha = A.alpha(alpha, allow_vector=True)
    gamma = A.gamma("gamma", gamma)
    label_smoothing = A.label_smoothing(label_smoothing)
    return _softmax_loss(y_true, y_pred, class_weight=None, alpha=alpha, gamma=gamma,
                         label_smoothing=label_smoothing, ignore_index=A.ignore_index(ignore_index),
                         from_logits=V.check_bool("from_logits", from_logits), validate_args=validate_args)[0]


class _SoftmaxLoss(_Loss):
    """Softmax family: `call` returns the per-sample losses; Keras's own `Loss.__call__`
    applies the dtype policy, masks, `sample_weight`, the reduction and the distribution
    scaling. For "sum_over_batch_size" the per-sample losses are first scaled so that Keras's
    mean (sum / number of losses / replicas) divides by the number of non-ignored samples
    (normalization="count") or by their summed class weights ("weight"), summed over replicas.
    """

    normalization = "count"

    def _parts(self, y_true, y_pred):  # (per-sample loss, valid, per-sample norm weight)
        raise NotImplementedError

    def call(self, y_true: Any, y_pred: Any) -> Any:
        loss, valid, norm = self._parts(y_true, y_pred)
        if self.reduction == "sum_over_batch_size":
            loss = _ops.scale_for_normalized_mean(loss, norm if self.normalization == "weight" else valid)
        return loss


@keras.saving.register_keras_serializable("classbalance")
class WeightedCategoricalCrossentropy(_SoftmaxLoss):
    """Weighted softmax cross-entropy as a `keras.losses.Loss`; see
    `weighted_categorical_crossentropy`. Targets: class indices or one-hot/probability rows.

    normalization="weight" (default): "sum_over_batch_size" divides by sum_n w_{t_n} over
    non-ignored samples, exactly torch's `CrossEntropyLoss(weight, ...)` mean; "count" divides
    by the number of non-ignored samples. Every target ignored: 0 (torch: NaN).

    Examples:
        >>> import numpy as np
        >>> y_true = np.array([0, 2])
        >>> logits = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
        >>> loss = WeightedCategoricalCrossentropy(class_weight=[0.5, 1.0, 2.0])
        >>> round(float(loss(y_true, logits)), 4)
        0.8498
    """

    def __init__(self, *, class_weight: Any | None = None, label_smoothing: float = 0.0,
                 ignore_index: int | None = None, normalization: str = "weight", from_logits: bool = True,
                 validate_args: bool = True, reduction: str | None = "sum_over_batch_size",
                 name: str = "weighted_categorical_crossentropy", dtype: Any = None) -> None:
        super().__init__(reduction=reduction, name=name, dtype=dtype)
        self.class_weight = V.check_weight_vector("class_weight", class_weight, allow_scalar=False)
        self.label_smoothing = A.label_smoothing(label_smoothing)
        self.ignore_index = A.ignore_index(ignore_index)
        self.normalization = A.normalization(normalization)
        self.from_logits = V.check_bool("from_logits", from_logits)
        self.validate_args = V.check_bool("validate_args", validate_args)

    def _parts(self, y_true, y_pred):
        return _softmax_loss(y_true, y_pred, class_weight=self.class_weight, alpha=None, gamma=0.0,
                             label_smoothing=self.label_smoothing, ignore_index=self.ignore_index,
                             from_logits=self.from_logits, validate_args=self.validate_args)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(class_weight=_ops.weights_to_config(self.class_weight), label_smoothing=self.label_smoothing,
                      ignore_index=self.ignore_index, normalization=self.normalization,
                      from_logits=self.from_logits, validate_args=self.validate_args)
        return config


@keras.saving.register_keras_serializable("classbalance")
class CategoricalFocalLoss(_SoftmaxLoss):
    """Softmax focal loss as a `keras.losses.Loss`; see `categorical_focal_loss`.
    "sum_over_batch_size" divides by the number of non-ignored samples
    (normalization="count", default) or by sum_n alpha_{t_n} ("weight").

    Examples:
        >>> import numpy as np
        >>> y_true = np.array([0, 2])
        >>> logits = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
        >>> loss = CategoricalFocalLoss(gamma=2.0)
        >>> round(float(loss(y_true, logits)), 4)
        0.2062
    """

    def __init__(self, *, alpha: Any | None = None, gamma: float = 2.0, label_smoothing: float = 0.0,
                 ignore_index: int | None = None, normalization: str = "count", from_logits: bool = True,
                 validate_args: bool = True, reduction: str | None = "sum_over_batch_size",
                 name: str = "categorical_focal_loss", dtype: Any = None) -> None:
        super().__init__(reduction=reduction, name=name, dtype=dtype)
        self.alpha = A.alpha(alpha, allow_vector=True)
        self.gamma = A.gamma("gamma", gamma)
        self.label_smoothing = A.label_smoothing(label_smoothing)
        self.ignore_index = A.ignore_index(ignore_index)
        self.normalization = A.normalization(normalization)
        self.from_logits = V.check_bool("from_logits", from_logits)
        self.validate_args = V.check_bool("validate_args", validate_args)

    def _parts(self, y_true, y_pred):
        return _softmax_loss(y_true, y_pred, class_weight=None, alpha=self.alpha, gamma=self.gamma,
                             label_smoothing=self.label_smoothing, ignore_index=self.ignore_index,
                             from_logits=self.from_logits, validate_args=self.validate_args)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(alpha=_ops.weights_to_config(self.alpha), gamma=self.gamma, label_smoothing=self.label_smoothing,
                      ignore_index=self.ignore_index, normalization=self.normalization,
                      from_logits=self.from_logits, validate_args=self.validate_args)
        return config


# --------------------------------------------------------------------------------------------
# Asymmetric loss
# --------------------------------------------------------------------------------------------


def _asymmetric_loss(y, x, gamma_pos, gamma_neg, clip, stop_focal_gradient, from_logits, validate_args):
    x, xc, yc = _sigmoid_inputs(x, y, from_logits, 0.0, validate_args)
    log_p = ops.log_sigmoid(xc)
    if clip > 0:
        # 1 - p_m = min(sigma(-x) + clip, 1) >= clip: its log needs no special care.
        log_1m_pm = ops.log(_ops.clip(ops.sigmoid(-xc) + clip, 0.0, 1.0))

        def log_pm():  # log p_m, a safe input in the unselected branch (no inf/NaN in the gradient)
            p = ops.sigmoid(xc)
            above = p > clip
            return ops.where(above, ops.log(ops.where(above, p - clip, ops.ones_like(p))),
                             ops.full_like(p, float("-inf")))
    else:
        log_1m_pm = ops.log_sigmoid(-xc)

        def log_pm():
            return log_p
    pos = yc * log_p
    neg = (1.0 - yc) * log_1m_pm
    w_pos = _ops.focal_factor(lambda: ops.sigmoid(-xc), lambda: ops.log_sigmoid(-xc), gamma_pos)  # (1 - p)^g+
    w_neg = _ops.focal_factor(  # p_m^g-
        lambda: _ops.clip(ops.sigmoid(xc) - clip, 0.0, 1.0) if clip > 0 else ops.sigmoid(xc), log_pm, gamma_neg)
    if stop_focal_gradient:  # the ASL reference's disable_torch_grad_focal_loss
        w_pos = None if w_pos is None else ops.stop_gradient(w_pos)
        w_neg = None if w_neg is None else ops.stop_gradient(w_neg)
    if w_pos is not None:
        pos = pos * w_pos
    if w_neg is not None:
        neg = neg * w_neg
    return ops.cast(-(pos + neg), _ops.dtype_of(x))


def asymmetric_loss(
    y_true: Any,
    y_pred: Any,
    *,
    gamma_pos: float = 1.0,
    gamma_neg: float = 4.0,
    clip: float = 0.05,
    stop_focal_gradient: bool = False,
    from_logits: bool = True,
    validate_args: bool = True,
) -> Any:
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
        >>> import keras
        >>> import numpy as np
        >>> y_true = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
        >>> logits = np.array([[2.0, -1.0, 0.5], [-0.5, 1.0, -2.0]])
        >>> out = asymmetric_loss(y_true, logits, gamma_pos=1.0, gamma_neg=4.0, clip=0.05)
        >>> print(keras.ops.convert_to_numpy(out).round(4))
        [[0.0151 0.0006 0.179 ]
         [0.0046 0.0842 0.    ]]
    """
    gamma_pos, gamma_neg, clip = A.asymmetric(gamma_pos, gamma_neg, clip)
    stop = V.check_bool("stop_focal_gradient", stop_focal_gradient)
    return _asymmetric_loss(y_true, y_pred, gamma_pos, gamma_neg, clip, stop, V.check_bool("from_logits", from_logits),
                            validate_args)


@keras.saving.register_keras_serializable("classbalance")
class AsymmetricLoss(_Loss):
    """Asymmetric loss as a `keras.losses.Loss`; see `asymmetric_loss`. Per-sample loss = mean
    over the last axis; the ASL reference's summed value is C x the "sum" reduction.

    Examples:
        >>> import numpy as np
        >>> y_true = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
        >>> logits = np.array([[2.0, -1.0, 0.5], [-0.5, 1.0, -2.0]])
        >>> loss = AsymmetricLoss(gamma_pos=1.0, gamma_neg=4.0, clip=0.05)
        >>> round(float(loss(y_true, logits)), 4)
        0.0472
    """

    def __init__(self, *, gamma_pos: float = 1.0, gamma_neg: float = 4.0, clip: float = 0.05,
                 stop_focal_gradient: bool = False, from_logits: bool = True, validate_args: bool = True,
                 reduction: str | None = "sum_over_batch_size", name: str = "asymmetric_loss",
                 dtype: Any = None) -> None:
        super().__init__(reduction=reduction, name=name, dtype=dtype)
        self.gamma_pos, self.gamma_neg, self.clip = A.asymmetric(gamma_pos, gamma_neg, clip)
        self.stop_focal_gradient = V.check_bool("stop_focal_gradient", stop_focal_gradient)
        self.from_logits = V.check_bool("from_logits", from_logits)
        self.validate_args = V.check_bool("validate_args", validate_args)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        y_true, y_pred = _ops.match_rank(y_true, y_pred)
        loss = _asymmetric_loss(y_true, y_pred, self.gamma_pos, self.gamma_neg, self.clip,
                                self.stop_focal_gradient, self.from_logits, self.validate_args)
        return _ops.mean_last_axis(loss)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(gamma_pos=self.gamma_pos, gamma_neg=self.gamma_neg, clip=self.clip,
                      stop_focal_gradient=self.stop_focal_gradient, from_logits=self.from_logits,
                      validate_args=self.validate_args)
        return config


# --------------------------------------------------------------------------------------------
# Class-balanced loss
# --------------------------------------------------------------------------------------------


def _class_balanced_loss(target, x, weights, base, gamma, validate_args):
    x = _ops.check_logits("y_pred", x)
    V.check_vector_length("samples_per_class", weights, x.shape[-1] if len(x.shape) else 1)
    if base == "softmax":
        loss, valid, _ = _softmax_loss(target, x, class_weight=weights, alpha=None, gamma=0.0, label_smoothing=0.0,
                                       ignore_index=None, from_logits=True, validate_args=validate_args)
        return loss, valid
    target = ops.convert_to_tensor(target)
    xc = ops.cast(x, _ops.compute_dtype(x))
    w = _ops.as_tensor_like(weights, xc)
    gamma = gamma if base == "focal" else 0.0
    kind, target = _ops._target_kind(target, xc, "y_true", "y_pred")
    if kind == "indices":
        per_class, w_n = _one_hot_focal(target, xc, w, gamma, validate_args)
        return ops.cast(w_n * ops.sum(per_class, axis=-1), _ops.dtype_of(x)), ops.ones_like(w_n)
    q, valid, w_n = _ops.softmax_targets(target, xc, ignore_index=None, label_smoothing=0.0, class_weight=w,
                                         validate_args=validate_args)
    per_class = _binary_focal_loss(q, xc, None, gamma, 0.0, True, False)
    return ops.cast(w_n * ops.sum(per_class, axis=-1), _ops.dtype_of(x)), valid


def _one_hot_focal(target, xc, w, gamma, validate_args):
    """Binary focal loss (alpha=None; gamma=0: BCE) against the one-hot rows of class indices,
    and w_{t_n}. For a 0/1 target q, with s = x (1 - 2q): ce = softplus(s) and 1 - p_t =
    sigmoid(s), so each element costs one softplus and one sigmoid (the same values as
    `_binary_focal_loss` on the one-hot rows, in fewer passes)."""
    num_classes = xc.shape[-1]
    t, _, _ = _ops._class_indices(target, num_classes, None, validate_args, "y_true", need_keep=False)
    t = ops.cast(t, "int32")
    s = xc * (1.0 - 2.0 * ops.one_hot(t, num_classes, dtype=_ops.dtype_of(xc)))
    loss = ops.softplus(s)
    factor = _ops.focal_factor(lambda: ops.sigmoid(s), lambda: -ops.softplus(-s), gamma)  # log sigmoid(s)
    if factor is not None:
        loss = loss * factor
    return loss, ops.take(w, t)


def class_balanced_loss(
    y_true: Any,
    y_pred: Any,
    *,
    samples_per_class: Any,
    beta: float = 0.9999,
    base: str = "softmax",
    gamma: float = 2.0,
    validate_args: bool = True,
) -> Any:
    """Per-sample class-balanced loss (Cui et al. 2019, "Class-Balanced Loss Based on Effective
    Number of Samples").

    w_c = (1 - beta) / (1 - beta^{n_c}), rescaled to sum to K. base="softmax": the weighted
    softmax cross-entropy -sum_c w_c q_c log p_c; "sigmoid" / "focal": w_{t_n} times the sum
    over classes of binary cross-entropy / focal loss (alpha=None, `gamma`) on one-hot targets.
    beta=0 gives the plain loss.

    Args:
        y_true: class indices (...) or one-hot / probability rows (..., K).
        y_pred: logits (..., K).
        samples_per_class: n_c, K positive counts.
        beta: in [0, 1).
        base: "softmax", "sigmoid" or "focal".
        gamma: focal parameter >= 0 for base="focal".

    Anchor: the paper's reference code (`CB_loss`), with the softmax base as weighted softmax
    cross-entropy.

    Examples:
        >>> import keras
        >>> import numpy as np
        >>> y_true = np.array([0, 2])
        >>> logits = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
        >>> out = class_balanced_loss(y_true, logits, samples_per_class=[100, 10, 1], beta=0.99)
        >>> print(keras.ops.convert_to_numpy(out).round(4))
        [0.0102 2.6829]
    """
    weights, beta, base, gamma = A.class_balanced(samples_per_class, beta, base, gamma)
    return _class_balanced_loss(y_true, y_pred, weights, base, gamma, validate_args)[0]


@keras.saving.register_keras_serializable("classbalance")
class ClassBalancedLoss(_SoftmaxLoss):
    """Class-balanced loss as a `keras.losses.Loss`; see `class_balanced_loss`.
    "sum_over_batch_size" divides by the number of samples.

    Examples:
        >>> import numpy as np
        >>> y_true = np.array([0, 2])
        >>> logits = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
        >>> loss = ClassBalancedLoss([100, 10, 1], beta=0.99)
        >>> round(float(loss(y_true, logits)), 4)
        1.3466
    """

    def __init__(self, samples_per_class: Any, *, beta: float = 0.9999, base: str = "softmax", gamma: float = 2.0,
                 validate_args: bool = True, reduction: str | None = "sum_over_batch_size",
                 name: str = "class_balanced_loss", dtype: Any = None) -> None:
        super().__init__(reduction=reduction, name=name, dtype=dtype)
        self.class_weight, self.beta, self.base, self.gamma = A.class_balanced(samples_per_class, beta, base, gamma)
        self.samples_per_class = V.to_numpy(samples_per_class).astype("float64").tolist()
        self.validate_args = V.check_bool("validate_args", validate_args)

    def _parts(self, y_true, y_pred):
        loss, valid = _class_balanced_loss(y_true, y_pred, self.class_weight, self.base, self.gamma, self.validate_args)
        return loss, valid, valid

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(samples_per_class=self.samples_per_class, beta=self.beta, base=self.base, gamma=self.gamma,
                      validate_args=self.validate_args)
        return config


# --------------------------------------------------------------------------------------------
# Logit-adjusted cross-entropy
# --------------------------------------------------------------------------------------------


def adjust_logits(y_pred: Any, class_priors: Any, *, tau: float = 1.0) -> Any:
    """Post-hoc logit adjustment (Menon et al. 2021): x - tau log pi.

    Use on a model trained with plain cross-entropy to predict argmax(x - tau log pi), the
    balanced-error-optimal rule. `class_priors` are normalised to sum to 1.

    Examples:
        >>> import numpy as np
        >>> import keras
        >>> print(keras.ops.convert_to_numpy(adjust_logits(np.array([[1.0, 1.0, 1.0]]), [0.7, 0.2, 0.1])).round(4))
        [[1.3567 2.6094 3.3026]]
    """
    priors, tau = A.logit_adjusted(class_priors, tau)
    x = _ops.check_logits("y_pred", y_pred)
    V.check_vector_length("class_priors", priors, x.shape[-1])
    return x - _ops.as_tensor_like(tau * np.log(priors), x)


def _logit_adjusted_crossentropy(target, x, priors, tau, ignore_index, validate_args):
    x = _ops.check_logits("y_pred", x)
    V.check_vector_length("class_priors", priors, x.shape[-1])
    xc = ops.cast(x, _ops.compute_dtype(x))
    shifted = xc + _ops.as_tensor_like(tau * np.log(priors), xc)
    loss, valid, _ = _softmax_loss(target, shifted, class_weight=None, alpha=None, gamma=0.0, label_smoothing=0.0,
                                   ignore_index=ignore_index, from_logits=True, validate_args=validate_args)
    return ops.cast(loss, _ops.dtype_of(x)), valid


def logit_adjusted_crossentropy(
    y_true: Any,
    y_pred: Any,
    *,
    class_priors: Any,
    tau: float = 1.0,
    ignore_index: int | None = None,
    validate_args: bool = True,
) -> Any:
    """Per-sample logit-adjusted softmax cross-entropy (Menon et al. 2021, "Long-tail learning
    via logit adjustment").

    l_n = CE(x_n + tau log pi, t_n), pi = class priors (> 0, normalised). tau=0 gives CE.

    Anchor: google-research `logit_adjustment` (which adds log(pi^tau + 1e-12): equal for
    priors >= 1e-6 to about 1e-6 relative).

    Examples:
        >>> import keras
        >>> import numpy as np
        >>> y_true = np.array([0, 2])
        >>> logits = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
        >>> out = logit_adjusted_crossentropy(y_true, logits, class_priors=[0.7, 0.2, 0.1])
        >>> print(keras.ops.convert_to_numpy(out).round(4))
        [0.0685 2.1449]
    """
    priors, tau = A.logit_adjusted(class_priors, tau)
    return _logit_adjusted_crossentropy(y_true, y_pred, priors, tau, A.ignore_index(ignore_index), validate_args)[0]


@keras.saving.register_keras_serializable("classbalance")
class LogitAdjustedCrossentropy(_SoftmaxLoss):
    """Logit-adjusted cross-entropy as a `keras.losses.Loss`; see `logit_adjusted_crossentropy`.
    "sum_over_batch_size" divides by the number of non-ignored samples.

    Examples:
        >>> import numpy as np
        >>> y_true = np.array([0, 2])
        >>> logits = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
        >>> loss = LogitAdjustedCrossentropy([0.7, 0.2, 0.1])
        >>> round(float(loss(y_true, logits)), 4)
        1.1067
    """

    def __init__(self, class_priors: Any, *, tau: float = 1.0, ignore_index: int | None = None,
                 validate_args: bool = True, reduction: str | None = "sum_over_batch_size",
                 name: str = "logit_adjusted_crossentropy", dtype: Any = None) -> None:
        super().__init__(reduction=reduction, name=name, dtype=dtype)
        self.class_priors, self.tau = A.logit_adjusted(class_priors, tau)
        self.ignore_index = A.ignore_index(ignore_index)
        self.validate_args = V.check_bool("validate_args", validate_args)

    def _parts(self, y_true, y_pred):
        loss, valid = _logit_adjusted_crossentropy(y_true, y_pred, self.class_priors, self.tau, self.ignore_index,
                                                   self.validate_args)
        return loss, valid, valid

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(class_priors=_ops.weights_to_config(self.class_priors), tau=self.tau,
                      ignore_index=self.ignore_index, validate_args=self.validate_args)
        return config


# ---- stateful and multi-label: Seesaw, Distribution-Balanced


def _seesaw_inputs(target, x, validate_args):
    """(original logits, logits in the compute dtype, one-hot rows, valid) for the Seesaw loss:
    class indices only (the paper's labels), probability rows are an error."""
    x, xc, target = _softmax_inputs(x, target, True, validate_args)
    kind, _ = _ops._target_kind(target, xc, "y_true", "y_pred")
    if kind == "probabilities":
        raise ValueError(V.index_targets_only_message("SeesawLoss", "y_true", target.shape, x.shape))
    onehot, valid, _ = _ops.softmax_targets(target, xc, ignore_index=None, label_smoothing=0.0, class_weight=None,
                                            validate_args=validate_args)
    return x, xc, onehot, valid


def _seesaw_core(xc, onehot, counts, p, q, eps):
    """Per-sample -log softmax(x + (1 - y) log S)_t, log S_j = p min(0, log N_j - log N_t)
    + q max(0, log s_j - max(log s_t, log eps)), in log space (class axis last, one-hot rows)."""
    zero = ops.zeros_like(xc)
    log_s = zero
    if p:  # mitigation: log (N_j / N_t)^p where N_j < N_t; counts below 1 count as 1 (mmdetection)
        counts = ops.cast(counts, _ops.dtype_of(xc))
        log_n = ops.log(ops.where(counts > 1.0, counts, ops.ones_like(counts)))
        ratio = log_n - ops.sum(onehot * log_n, axis=-1, keepdims=True)
        log_s = log_s + p * ops.where(ratio < 0.0, ratio, zero)  # where, not ops.minimum: exact float64 on torch
    if q:  # compensation: log (s_j / max(s_t, eps))^q where s_j > s_t; the scores are constants (detached)
        log_score = ops.stop_gradient(ops.log_softmax(xc, axis=-1))
        log_t = ops.sum(onehot * log_score, axis=-1, keepdims=True)
        log_floor = float(np.log(eps))
        ratio = log_score - ops.where(log_t > log_floor, log_t, ops.full_like(log_t, log_floor))
        log_s = log_s + ops.stop_gradient(q * ops.where(ratio > 0.0, ratio, zero))
    adjusted = xc + (1.0 - onehot) * log_s
    return -ops.sum(onehot * ops.log_softmax(adjusted, axis=-1), axis=-1)


def seesaw_loss(
    y_true: Any,
    y_pred: Any,
    *,
    cum_samples: Any,
    p: float = 0.8,
    q: float = 2.0,
    eps: float = 1e-2,
    validate_args: bool = True,
) -> Any:
    """Per-sample Seesaw loss (Wang et al. 2021, "Seesaw Loss for Long-Tailed Instance
    Segmentation"), given the cumulative class counts.

    l_n = -log softmax(z_n)_t, z_nj = x_nj + log S_nj for j != t (z_nt = x_nt), t = y_n;
    S_nj = M_nj C_nj with the mitigation factor M_nj = (N_j / N_t)^p if N_j < N_t else 1
    (N: `cum_samples`, clamped below at 1) and the compensation factor
    C_nj = (s_nj / max(s_nt, eps))^q if s_nj > s_nt else 1, s = softmax(x) treated as a
    constant (no gradient through it). p=0 and q=0 give cross-entropy.

    Args:
        y_true: class indices (...) or (..., 1); probability rows are an error.
        y_pred: logits (..., K).
        cum_samples: N, K non-negative cumulative counts (NumPy, sequence or tensor); the
            `SeesawLoss` class keeps them as state and adds each batch first.
        p: mitigation exponent >= 0; q: compensation exponent >= 0; eps: > 0.

    Anchor: mmdetection `seesaw_ce_loss` (mmdet/models/losses/seesaw_loss.py), the classes
    branch of its `SeesawLoss` without the objectness branch.

    Examples:
        >>> import keras
        >>> import numpy as np
        >>> y_true = np.array([0, 2])
        >>> logits = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
        >>> out = seesaw_loss(y_true, logits, cum_samples=[100.0, 10.0, 1.0])
        >>> print(keras.ops.convert_to_numpy(out).round(4))
        [0.036  1.0019]
    """
    p, q, eps = A.seesaw(p, q, eps)
    counts = A.cum_samples(cum_samples)
    x, xc, onehot, _ = _seesaw_inputs(y_true, y_pred, validate_args)
    V.check_vector_length("cum_samples", counts, x.shape[-1])
    counts = ops.convert_to_tensor(counts, dtype=_ops.dtype_of(xc)) if isinstance(counts, np.ndarray) else counts
    return ops.cast(_seesaw_core(xc, onehot, counts, p, q, eps), _ops.dtype_of(x))


def _assign_for_good(variable, value) -> None:
    """variable.assign(value); on the jax backend also inside a keras.StatelessScope with
    concrete values (`fit` with run_eagerly=True, `stateless_call`), where `assign` only records
    the update for the scope's owner to read back, and Keras's jax trainer reads back the
    model's and the metrics' variables only, not a loss's. (Elsewhere a stateless scope with
    concrete values is shape inference, as Keras's torch backend builds a model: nothing to
    count.)"""
    try:
        from keras.src.backend.common.stateless_scope import in_stateless_scope
    except ImportError:  # a Keras without it has no stateless scope to step out of
        in_stateless_scope = lambda: False  # noqa: E731
    if keras.backend.backend() == "jax" and in_stateless_scope():
        variable._direct_assign(ops.convert_to_tensor(value, dtype=variable.dtype))
    else:
        variable.assign(value)


@keras.saving.register_keras_serializable("classbalance")
class SeesawLoss(_SoftmaxLoss):
    """Seesaw loss as a `keras.losses.Loss`, with the cumulative class counts as state; see
    `seesaw_loss` for the formula. Each call first adds the batch's class counts to
    `cum_samples` (a non-trainable float32 `keras.Variable` of K counts, exact up to 2^24 per
    class), then computes the loss with the updated counts, as mmdetection's `SeesawLoss`.

    - Every call counts (Keras gives a loss no training flag): `model.evaluate` and eager calls
      count too; mmdetection counts only in training forwards.
    - tf.distribute: the batch counts are summed across replicas (a replica-context all-reduce)
      before they are added, so that every replica holds the global counts; MirroredStrategy
      equals one device.
    - Saved and restored with the model (`model.save` / `keras.models.load_model`) through
      `save_own_variables` / `load_own_variables`.
    - jax backend: inside a trace (`model.fit` / `evaluate`, `jax.jit`) the counts go through
      an ordered host callback at every step (Keras's jax trainer carries the model's and the
      metrics' variables as the step's state, not a loss's): one round trip of K floats
      between device and host per step. `fit(run_eagerly=True)` and eager calls count too.

    "sum_over_batch_size" divides by the number of samples.

    Examples:
        >>> import numpy as np
        >>> y_true = np.array([0, 2])
        >>> logits = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
        >>> loss = SeesawLoss(3)
        >>> round(float(loss(y_true, logits)), 4)
        0.6216
    """

    def __init__(self, num_classes: int, *, p: float = 0.8, q: float = 2.0, eps: float = 1e-2,
                 validate_args: bool = True, reduction: str | None = "sum_over_batch_size",
                 name: str = "seesaw_loss", dtype: Any = None) -> None:
        super().__init__(reduction=reduction, name=name, dtype=dtype)
        self.num_classes = V.check_integer("num_classes", num_classes, low=1)
        self.p, self.q, self.eps = A.seesaw(p, q, eps)
        self.validate_args = V.check_bool("validate_args", validate_args)
        # "only_first_replica": every replica assigns the same all-reduced counts
        self.cum_samples = keras.Variable(np.zeros(self.num_classes, "float32"), dtype="float32", trainable=False,
                                          aggregation="only_first_replica", name="cum_samples")

    def _parts(self, y_true, y_pred):
        x, xc, onehot, valid = _seesaw_inputs(y_true, y_pred, self.validate_args)
        V.check_vector_length("cum_samples", self.cum_samples, x.shape[-1])
        batch = ops.sum(ops.reshape(ops.cast(onehot, "float32"), (-1, self.num_classes)), axis=0)
        _, batch = _ops.replicas_and_sum(batch)  # the global batch's counts on every replica
        if _ops._jax_tracer(batch):
            counts = self._jax_accumulate(batch)
        else:
            counts = ops.convert_to_tensor(self.cum_samples) + batch
            _assign_for_good(self.cum_samples, counts)
        loss = _seesaw_core(xc, onehot, counts, self.p, self.q, self.eps)
        return ops.cast(loss, _ops.dtype_of(x)), valid, valid

    def _jax_accumulate(self, batch):
        """Keras on jax, inside a trace (model.fit / evaluate, jax.jit): the counts plus this
        batch's, stored for good by an ordered host callback (jax.experimental.io_callback) that
        runs at every execution of the traced step, in step order, and returns the new counts
        to the trace. A jitted step takes every variable outside the model's state as a
        constant, and Keras's jax trainer carries only the model's trainable, non-trainable,
        optimizer and metric variables as state (a loss is none of them), so the counts cannot
        travel through the step's state: they go through the host, one round trip of K floats
        per step."""
        import jax
        from jax.experimental import io_callback

        variable = self.cum_samples

        def add(batch_counts):
            counts = np.asarray(variable.numpy(), np.float32) + np.asarray(batch_counts, np.float32)
            _assign_for_good(variable, counts)
            return counts

        return io_callback(add, jax.ShapeDtypeStruct((self.num_classes,), np.float32), batch, ordered=True)

    def save_own_variables(self, store: Any) -> None:
        store["cum_samples"] = ops.convert_to_numpy(self.cum_samples)

    def load_own_variables(self, store: Any) -> None:
        self.cum_samples.assign(np.asarray(store["cum_samples"], "float32"))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(num_classes=self.num_classes, p=self.p, q=self.q, eps=self.eps,
                      validate_args=self.validate_args)
        return config


def _distribution_balanced_loss(y, x, freq_inv, bias, gamma, balance_param, map_alpha, map_beta, map_gamma,
                                neg_scale, validate_args):
    x, xc, yc = _sigmoid_inputs(x, y, True, 0.0, validate_args)
    V.check_vector_length("samples_per_class", freq_inv, x.shape[-1] if len(x.shape) else 1)
    inv = _ops.as_tensor_like(freq_inv, xc)
    # re-balanced weight r_c = (1/n_c) / sum_j y_j / n_j; a sample without positives has r = inf
    # in the reference, whose sigmoid is 1: written as that limit, with no inf made
    rate = ops.sum(yc * inv, axis=-1, keepdims=True)
    has_positive = rate > 0.0
    r = inv / ops.where(has_positive, rate, ops.ones_like(rate))
    weight = ops.where(has_positive, ops.sigmoid(map_beta * (r - map_gamma)), ops.ones_like(r)) + map_alpha
    # negative-tolerant regularisation: z = x + b on positives, neg_scale (x + b) on negatives, whose
    # loss is divided by neg_scale (written with y, as the reference, so soft targets mix the two)
    z = (xc + _ops.as_tensor_like(bias, xc)) * (neg_scale * (1.0 - yc) + yc)
    weight = weight * ((1.0 - yc) / neg_scale + yc)
    log_p, log_1mp = ops.log_sigmoid(z), ops.log_sigmoid(-z)
    bce = -(yc * log_p + (1.0 - yc) * log_1mp)
    loss = weight * bce
    if gamma:
        # 1 - p_t, p_t = exp(-bce) (the reference's); for 0/1 targets its log is a log-sigmoid, so
        # the gamma < 1 gradient stays finite where bce underflows to 0
        def log_base():
            hard = ops.logical_or(ops.equal(yc, 0.0), ops.equal(yc, 1.0))
            soft = ops.log(-ops.expm1(-ops.where(hard, ops.ones_like(bce), bce)))
            return ops.where(hard, yc * log_1mp + (1.0 - yc) * log_p, soft)

        loss = loss * _ops.focal_factor(lambda: -ops.expm1(-bce), log_base, gamma)
    return ops.cast(balance_param * loss, _ops.dtype_of(x))


def distribution_balanced_loss(
    y_true: Any,
    y_pred: Any,
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
) -> Any:
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
        y_true: multi-hot targets in [0, 1] of the logits' shape (..., C).
        y_pred: logits (..., C).
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
        >>> import keras
        >>> import numpy as np
        >>> y_true = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]])
        >>> logits = np.array([[1.0, -2.0, -1.0], [-1.0, 0.3, -2.0]])
        >>> out = distribution_balanced_loss(y_true, logits, samples_per_class=[50, 20, 5], num_samples=100)
        >>> print(keras.ops.convert_to_numpy(out).round(4))
        [[4.9800e-02 0.0000e+00 1.3000e-03]
         [6.0000e-04 1.2870e-01 3.7969e+00]]
    """
    counts, total, gamma, balance_param, map_alpha, map_beta, map_gamma, neg_scale, init_bias = A.distribution_balanced(
        samples_per_class, num_samples, gamma, balance_param, map_alpha, map_beta, map_gamma, neg_scale, init_bias)
    freq_inv, bias = A.distribution_balanced_constants(counts, total, init_bias, neg_scale)
    return _distribution_balanced_loss(y_true, y_pred, freq_inv, bias, gamma, balance_param, map_alpha, map_beta,
                                       map_gamma, neg_scale, validate_args)


@keras.saving.register_keras_serializable("classbalance")
class DistributionBalancedLoss(_Loss):
    """Distribution-Balanced loss as a `keras.losses.Loss`; see `distribution_balanced_loss`.
    Per-sample loss = mean over the last axis (the sigmoid family's Keras convention), so
    "sum_over_batch_size" is the reference's mean over every element.

    Examples:
        >>> import numpy as np
        >>> y_true = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]])
        >>> logits = np.array([[1.0, -2.0, -1.0], [-1.0, 0.3, -2.0]])
        >>> loss = DistributionBalancedLoss([50, 20, 5], num_samples=100)
        >>> round(float(loss(y_true, logits)), 4)
        0.6629
    """

    def __init__(self, samples_per_class: Any, *, num_samples: float, gamma: float = 2.0, balance_param: float = 2.0,
                 map_alpha: float = 0.1, map_beta: float = 10.0, map_gamma: float = 0.2, neg_scale: float = 2.0,
                 init_bias: float = 0.05, validate_args: bool = True,
                 reduction: str | None = "sum_over_batch_size", name: str = "distribution_balanced_loss",
                 dtype: Any = None) -> None:
        super().__init__(reduction=reduction, name=name, dtype=dtype)
        (counts, self.num_samples, self.gamma, self.balance_param, self.map_alpha, self.map_beta, self.map_gamma,
         self.neg_scale, self.init_bias) = A.distribution_balanced(
            samples_per_class, num_samples, gamma, balance_param, map_alpha, map_beta, map_gamma, neg_scale, init_bias)
        self.samples_per_class = counts.tolist()
        self._freq_inv, self._bias = A.distribution_balanced_constants(counts, self.num_samples, self.init_bias,
                                                                       self.neg_scale)
        self.validate_args = V.check_bool("validate_args", validate_args)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        y_true, y_pred = _ops.match_rank(y_true, y_pred)
        loss = _distribution_balanced_loss(y_true, y_pred, self._freq_inv, self._bias, self.gamma, self.balance_param,
                                           self.map_alpha, self.map_beta, self.map_gamma, self.neg_scale,
                                           self.validate_args)
        return _ops.mean_last_axis(loss)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(samples_per_class=self.samples_per_class, num_samples=self.num_samples, gamma=self.gamma,
                      balance_param=self.balance_param, map_alpha=self.map_alpha, map_beta=self.map_beta,
                      map_gamma=self.map_gamma, neg_scale=self.neg_scale, init_bias=self.init_bias,
                      validate_args=self.validate_args)
        return config


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


def _ldam_loss(target, x, *, margins, scale, class_weight, ignore_index, validate_args):
    """Per-sample LDAM loss with the normalisers (valid, per-sample norm weight)."""
    x, xc, target = _softmax_inputs(x, target, from_logits=True, validate_args=validate_args)
    V.check_vector_length("samples_per_class", margins, x.shape[-1])
    V.check_vector_length("class_weight", class_weight, x.shape[-1])
    # ops.cast, not convert_to_tensor: the class passes its float64/float32 variable
    w = None if class_weight is None else ops.cast(class_weight, _ops.dtype_of(xc))
    q, valid, norm = _ops.softmax_targets(target, xc, ignore_index=ignore_index, label_smoothing=0.0,
                                          class_weight=w, validate_args=validate_args)
    # the margin comes off the target logit only (q is its one-hot row), then every logit is scaled
    z = scale * (xc - _ops.as_tensor_like(margins, xc) * q)
    loss, _, _ = _softmax_loss(q, z, class_weight=w, alpha=None, gamma=0.0, label_smoothing=0.0, ignore_index=None,
                               from_logits=True, validate_args=False)
    return ops.cast(loss, _ops.dtype_of(x)), valid, norm


def ldam_loss(
    y_true: Any,
    y_pred: Any,
    *,
    samples_per_class: Any,
    max_margin: float = 0.5,
    scale: float = 30.0,
    class_weight: Any | None = None,
    ignore_index: int | None = None,
    validate_args: bool = True,
) -> Any:
    """Per-sample label-distribution-aware margin loss (Cao et al. 2019, "Learning Imbalanced
    Datasets with Label-Distribution-Aware Margin Loss").

    m_c = C / n_c^(1/4), C such that max_c m_c = max_margin; z = scale (x - m q), the margin
    subtracted from the target logit only (q: the one-hot row; probability rows subtract m_c q_c);
    l_n = -sum_c w_c q_nc log softmax(z_n)_c, the weighted softmax cross-entropy of z.

    Args:
        y_true: class indices (...) or one-hot / probability rows (..., K).
        y_pred: logits (..., K).
        samples_per_class: n_c, K positive counts.
        max_margin: the rarest class's margin, >= 0 (0 gives scaled cross-entropy).
        scale: s > 0, the logit scale of the anchor.
        class_weight: w, a length-K non-negative vector (default 1), e.g. the deferred
            re-weighting weights.
        ignore_index: a class-index value whose samples give 0.

    Anchor: `LDAMLoss(cls_num_list, max_m, weight, s)` in kaidic/LDAM-DRW (losses.py), whose
    value is the mean of this with normalization="weight" (torch's weighted mean).

    Examples:
        >>> import keras
        >>> import numpy as np
        >>> y_true = np.array([0, 2])
        >>> logits = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
        >>> out = ldam_loss(y_true, logits, samples_per_class=[100, 10, 1])
        >>> print(keras.ops.convert_to_numpy(out).round(4))
        [-0.     12.0486]
    """
    margins, _, scale, class_weight = A.ldam(samples_per_class, max_margin, scale, class_weight)
    return _ldam_loss(y_true, y_pred, margins=margins, scale=scale, class_weight=class_weight,
                      ignore_index=A.ignore_index(ignore_index), validate_args=validate_args)[0]


def _state_dtype() -> str:
    """float64 for a loss's state variable wherever the backend holds it (jax: with x64 only)."""
    if keras.backend.backend() == "jax":
        import jax

        if not jax.config.read("jax_enable_x64"):  # the typed accessor of the flag
            return "float32"
    return "float64"


@keras.saving.register_keras_serializable("classbalance")
class LDAMLoss(_SoftmaxLoss):
    """LDAM loss as a `keras.losses.Loss`; see `ldam_loss`.

    `class_weight` lives in a non-trainable `keras.Variable` (float64; float32 on jax without
    x64): `DeferredReweighting` switches it during `model.fit` without recompiling the model,
    and `get_config` (so a saved model) holds its current value. normalization="weight"
    (default): "sum_over_batch_size" divides by sum_n w_{t_n}, as the anchor (torch's weighted
    mean); "count": by the number of non-ignored samples.

    Examples:
        >>> import numpy as np
        >>> y_true = np.array([0, 2])
        >>> logits = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
        >>> loss = LDAMLoss([100, 10, 1])
        >>> round(float(loss(y_true, logits)), 4)
        6.0243
    """

    _mutable_class_weight = True  # DeferredReweighting may switch it

    def __init__(self, samples_per_class: Any, *, max_margin: float = 0.5, scale: float = 30.0,
                 class_weight: Any | None = None, ignore_index: int | None = None,
                 normalization: str = "weight", validate_args: bool = True,
                 reduction: str | None = "sum_over_batch_size", name: str = "ldam_loss", dtype: Any = None) -> None:
        super().__init__(reduction=reduction, name=name, dtype=dtype)
        self.margins, self.max_margin, self.scale, weights = A.ldam(samples_per_class, max_margin, scale, class_weight)
        self.samples_per_class = V.to_numpy(samples_per_class).astype("float64").tolist()
        # A variable, not a constant: a compiled train step reads its current value, so it can
        # be assigned between epochs. autocast=False: it stays in its own dtype under mixed precision.
        self.class_weight = keras.Variable(weights, dtype=_state_dtype(), trainable=False, autocast=False,
                                           name="class_weight")
        self.ignore_index = A.ignore_index(ignore_index)
        self.normalization = A.normalization(normalization)
        self.validate_args = V.check_bool("validate_args", validate_args)

    def _parts(self, y_true, y_pred):
        return _ldam_loss(y_true, y_pred, margins=self.margins, scale=self.scale, class_weight=self.class_weight,
                          ignore_index=self.ignore_index, validate_args=self.validate_args)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(samples_per_class=self.samples_per_class, max_margin=self.max_margin, scale=self.scale,
                      class_weight=np.asarray(ops.convert_to_numpy(self.class_weight), np.float64).tolist(),
                      ignore_index=self.ignore_index, normalization=self.normalization,
                      validate_args=self.validate_args)
        return config


class DeferredReweighting(keras.callbacks.Callback):
    """Deferred re-weighting (DRW, Cao et al. 2019): from epoch `epoch` on, the loss's class
    weights are `class_weight`; before it, the ones the loss held when the callback was made.

    The switch is a function of the epoch number, as in LDAM-DRW's cifar_train.py (DRW: uniform
    weights, then effective-number weights with beta 0.9999 normalised to sum to K from epoch
    160 of 200), so resuming with `initial_epoch` picks the right weights. The loss's weights
    live in a variable (`LDAMLoss`): the compiled train step keeps running on tensorflow and
    torch; on jax, where a jitted step holds every variable outside the model's state as a
    constant, the callback rebuilds the train and test steps once at each switch.

    Args:
        loss: the compiled loss whose class weights switch (`LDAMLoss`).
        epoch: the first epoch (0-based) with the deferred weights, >= 0.
        class_weight: the deferred weights, K non-negative values, e.g.
            `compute_class_weight(counts=n, method="effective_number", beta=0.9999)`.

    Examples:
        >>> import keras
        >>> loss = LDAMLoss([100, 10, 1])
        >>> drw = DeferredReweighting(loss, epoch=2, class_weight=[0.2, 0.8, 2.0])
        >>> drw.on_epoch_begin(2)
        >>> print(keras.ops.convert_to_numpy(loss.class_weight))
        [0.2 0.8 2. ]
    """

    def __init__(self, loss: Any, *, epoch: int, class_weight: Any) -> None:
        super().__init__()
        if not getattr(type(loss), "_mutable_class_weight", False):
            raise ValueError(V.mutable_class_weight_message(loss))
        self.loss = loss
        self.epoch = V.check_integer("epoch", epoch, low=0)
        self.class_weight = V.check_weight_vector("class_weight", class_weight, length=loss.class_weight.shape[0],
                                                  allow_scalar=False)
        self.initial_class_weight = np.asarray(ops.convert_to_numpy(loss.class_weight), np.float64)
        self._deferred: bool | None = None  # which weights the loss holds: unknown until the first epoch

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        deferred = epoch >= self.epoch
        if deferred == self._deferred:
            return
        self._deferred = deferred
        self.loss.class_weight.assign(self.class_weight if deferred else self.initial_class_weight)
        if keras.backend.backend() == "jax" and self.model is not None:
            # the jitted steps baked the old value in as a constant: trace them again, once per switch
            self.model.make_train_function(force=True)
            self.model.make_test_function(force=True)


def _balanced_softmax_crossentropy(target, x, *, priors, ignore_index, validate_args):
    x = _ops.check_logits("y_pred", x)
    if len(x.shape):
        V.check_vector_length("samples_per_class", priors, x.shape[-1])
    # log n_c and log(n_c / n) differ by a constant per row: logit adjustment with tau 1
    return _logit_adjusted_crossentropy(target, x, priors, 1.0, ignore_index, validate_args)


def balanced_softmax_crossentropy(
    y_true: Any,
    y_pred: Any,
    *,
    samples_per_class: Any,
    ignore_index: int | None = None,
    validate_args: bool = True,
) -> Any:
    """Per-sample balanced softmax cross-entropy (Ren et al. 2020, "Balanced Meta-Softmax for
    Long-Tailed Visual Recognition").

    l_n = CE(x_n + log n_c, t_n) = CE(x_n + log(n_c / n), t_n): `logit_adjusted_crossentropy`
    with priors n_c / n and tau 1.

    Args:
        y_true: class indices (...) or one-hot / probability rows (..., K).
        y_pred: logits (..., K).
        samples_per_class: n_c, K positive counts.
        ignore_index: a class-index value whose samples give 0.

    Anchor: `balanced_softmax_loss` in jiawei-ren/BalancedMetaSoftmax-Classification
    (loss/BalancedSoftmaxLoss.py).

    Examples:
        >>> import keras
        >>> import numpy as np
        >>> y_true = np.array([0, 2])
        >>> logits = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
        >>> out = balanced_softmax_crossentropy(y_true, logits, samples_per_class=[100, 10, 1])
        >>> print(keras.ops.convert_to_numpy(out).round(4))
        [0.0226 4.5209]
    """
    return _balanced_softmax_crossentropy(y_true, y_pred, priors=A.balanced_softmax(samples_per_class),
                                          ignore_index=A.ignore_index(ignore_index),
                                          validate_args=validate_args)[0]


@keras.saving.register_keras_serializable("classbalance")
class BalancedSoftmaxCrossentropy(_SoftmaxLoss):
    """Balanced softmax cross-entropy as a `keras.losses.Loss`; see
    `balanced_softmax_crossentropy`. "sum_over_batch_size" divides by the number of non-ignored
    samples.

    Examples:
        >>> import numpy as np
        >>> y_true = np.array([0, 2])
        >>> logits = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
        >>> loss = BalancedSoftmaxCrossentropy([100, 10, 1])
        >>> round(float(loss(y_true, logits)), 4)
        2.2717
    """

    def __init__(self, samples_per_class: Any, *, ignore_index: int | None = None, validate_args: bool = True,
                 reduction: str | None = "sum_over_batch_size", name: str = "balanced_softmax_crossentropy",
                 dtype: Any = None) -> None:
        super().__init__(reduction=reduction, name=name, dtype=dtype)
        self.class_priors = A.balanced_softmax(samples_per_class)
        self.samples_per_class = V.to_numpy(samples_per_class).astype("float64").tolist()
        self.ignore_index = A.ignore_index(ignore_index)
        self.validate_args = V.check_bool("validate_args", validate_args)

    def _parts(self, y_true, y_pred):
        loss, valid = _balanced_softmax_crossentropy(y_true, y_pred, priors=self.class_priors,
                                                     ignore_index=self.ignore_index,
                                                     validate_args=self.validate_args)
        return loss, valid, valid

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(samples_per_class=self.samples_per_class, ignore_index=self.ignore_index,
                      validate_args=self.validate_args)
        return config


def _poly_loss(target, x, *, epsilon, gamma, ignore_index, validate_args):
    x, xc, target = _softmax_inputs(x, target, from_logits=True, validate_args=validate_args)
    loss, valid, norm = _softmax_loss(target, xc, class_weight=None, alpha=None, gamma=gamma, label_smoothing=0.0,
                                      ignore_index=ignore_index, from_logits=True, validate_args=validate_args)
    if epsilon:
        q = _ops.softmax_targets(target, xc, ignore_index=ignore_index, label_smoothing=0.0, class_weight=None,
                                 validate_args=False)[0]  # checked by the call above
        # 1 - p_t = sum_c q_c (1 - p_c), 1 - p_c = -expm1(log p_c): no cancellation as p_t -> 1
        one_minus_pt = ops.sum(q * -ops.expm1(ops.log_softmax(xc, axis=-1)), axis=-1)
        loss = loss + epsilon * (one_minus_pt ** (gamma + 1.0) if gamma else one_minus_pt)
    return ops.cast(loss, _ops.dtype_of(x)), valid, norm


def poly_loss(
    y_true: Any,
    y_pred: Any,
    *,
    epsilon: float = 1.0,
    gamma: float = 0.0,
    ignore_index: int | None = None,
    validate_args: bool = True,
) -> Any:
    """Per-sample Poly-1 loss (Leng et al. 2022, "PolyLoss: A Polynomial Expansion Perspective
    of Classification Loss Functions").

    gamma = 0, Poly-1 cross-entropy: l_n = CE_n + epsilon (1 - p_t);
    gamma > 0, Poly-1 focal: l_n = FL_n + epsilon (1 - p_t)^(gamma + 1), FL = the softmax focal
    loss -sum_c (1 - p_c)^gamma q_c log p_c (`categorical_focal_loss`, alpha None).
    p_t = sum_c q_c p_c, the target's probability (q: the one-hot or probability row).

    Args:
        y_true: class indices (...) or one-hot / probability rows (..., K).
        y_pred: logits (..., K).
        epsilon: the first polynomial coefficient, >= -1 (0 gives CE / focal loss).
        gamma: focusing parameter >= 0.
        ignore_index: a class-index value whose samples give 0.

    Anchor: optax `poly_loss_cross_entropy(logits, labels, epsilon)` (gamma 0).

    Examples:
        >>> import keras
        >>> import numpy as np
        >>> y_true = np.array([0, 2])
        >>> logits = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
        >>> out = poly_loss(y_true, logits, epsilon=1.0)
        >>> print(keras.ops.convert_to_numpy(out).round(4))
        [0.4557 1.6348]
    """
    epsilon, gamma = A.poly(epsilon, gamma)
    return _poly_loss(y_true, y_pred, epsilon=epsilon, gamma=gamma, ignore_index=A.ignore_index(ignore_index),
                      validate_args=validate_args)[0]


@keras.saving.register_keras_serializable("classbalance")
class PolyLoss(_SoftmaxLoss):
    """Poly-1 loss as a `keras.losses.Loss`; see `poly_loss`. "sum_over_batch_size" divides by
    the number of non-ignored samples.

    Examples:
        >>> import numpy as np
        >>> y_true = np.array([0, 2])
        >>> logits = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
        >>> loss = PolyLoss(epsilon=1.0)
        >>> round(float(loss(y_true, logits)), 4)
        1.0452
    """

    def __init__(self, *, epsilon: float = 1.0, gamma: float = 0.0, ignore_index: int | None = None,
                 validate_args: bool = True, reduction: str | None = "sum_over_batch_size",
                 name: str = "poly_loss", dtype: Any = None) -> None:
        super().__init__(reduction=reduction, name=name, dtype=dtype)
        self.epsilon, self.gamma = A.poly(epsilon, gamma)
        self.ignore_index = A.ignore_index(ignore_index)
        self.validate_args = V.check_bool("validate_args", validate_args)

    def _parts(self, y_true, y_pred):
        loss, valid, _ = _poly_loss(y_true, y_pred, epsilon=self.epsilon, gamma=self.gamma,
                                    ignore_index=self.ignore_index, validate_args=self.validate_args)
        return loss, valid, valid

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(epsilon=self.epsilon, gamma=self.gamma, ignore_index=self.ignore_index,
                      validate_args=self.validate_args)
        return config
