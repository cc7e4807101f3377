"""The sigmoid family, Keras 3: targets of the logits' shape; the functional forms return the
element-wise loss `(..., C)`, the classes average it over the last axis (Keras's convention).

Weighted binary cross-entropy, binary focal loss, asymmetric loss and the Distribution-Balanced
loss (multi-label). Each is declared in `imbalance_core.loss_specs`; here are its core (computed
from logits in log space, in float32 for float16/bfloat16 inputs), its functional form and its
class. The mirror of torch_impl/losses/sigmoid.py.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from imbalance_core import loss_specs, validation

from .. import _ops
from . import _base

__all__ = [
    "weighted_binary_crossentropy", "WeightedBinaryCrossentropy",
    "binary_focal_loss", "BinaryFocalLoss",
    "asymmetric_loss", "AsymmetricLoss",
    "distribution_balanced_loss", "DistributionBalancedLoss",
]

WEIGHTED_BINARY_CROSSENTROPY = loss_specs.spec("weighted_binary_crossentropy")
BINARY_FOCAL_LOSS = loss_specs.spec("binary_focal_loss")
ASYMMETRIC_LOSS = loss_specs.spec("asymmetric_loss")
DISTRIBUTION_BALANCED_LOSS = loss_specs.spec("distribution_balanced_loss")


def _sigmoid_inputs(x: Any, y: Any, from_logits: bool, label_smoothing: float,
                    validate_args: bool) -> tuple[Any, Any, Any]:
    """Checks and prepares sigmoid-family inputs: (original logits, logits, targets) with the
    last two in the compute dtype, probabilities turned into logits and targets smoothed."""
    validation.check_bool("validate_args", validate_args)  # the functional forms pass it unchecked
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


def _weighted_binary_crossentropy(y: Any, x: Any, *, pos_weight: Any, neg_weight: Any, label_smoothing: float,
                                  from_logits: bool, validate_args: bool, neg_weight_positive: bool) -> Any:
    x, xc, yc = _sigmoid_inputs(x, y, from_logits, label_smoothing, validate_args)
    num_labels = x.shape[-1] if len(x.shape) else 1
    validation.check_vector_length("pos_weight", pos_weight, num_labels)
    validation.check_vector_length("neg_weight", neg_weight, num_labels)
    pos = yc if pos_weight is None else yc * _ops.as_tensor_like(pos_weight, xc)
    neg = 1.0 - yc if neg_weight is None else (1.0 - yc) * _ops.as_tensor_like(neg_weight, xc)
    if neg_weight_positive:
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
    return _base.functional(WEIGHTED_BINARY_CROSSENTROPY, _weighted_binary_crossentropy, y_true, y_pred, validate_args,
                            pos_weight=pos_weight, neg_weight=neg_weight, label_smoothing=label_smoothing,
                            from_logits=from_logits)


@keras.saving.register_keras_serializable("classbalance")
class WeightedBinaryCrossentropy(_base.DeclaredLoss):
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

    spec = WEIGHTED_BINARY_CROSSENTROPY
    core = staticmethod(_weighted_binary_crossentropy)

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
        super().__init__(reduction=reduction, name=name, dtype=dtype, validate_args=validate_args,
                         pos_weight=pos_weight, neg_weight=neg_weight, label_smoothing=label_smoothing,
                         from_logits=from_logits)


def _binary_focal_loss(y: Any, x: Any, *, alpha: float | None, gamma: float, label_smoothing: float,
                       from_logits: bool, validate_args: bool) -> Any:
    x, xc, yc = _sigmoid_inputs(x, y, from_logits, label_smoothing, validate_args)
    # -log p = softplus(-x), -log(1 - p) = softplus(x), and both sigmoids, each accurate
    nll_p, nll_1mp, sigmoids = _ops.sigmoid_terms(xc, need_sigmoids=gamma >= 1)
    loss = yc * nll_p + (1.0 - yc) * nll_1mp
    if gamma:
        # 1 - p_t = y sigma(-x) + (1 - y) sigma(x): both sigmoids computed directly (no 1 - p
        # cancellation); for gamma < 1 its log, log-sigmoid based, so the gradient stays finite.
        def one_minus_pt() -> Any:  # called for gamma >= 1 only, where the sigmoids were made
            assert sigmoids is not None
            return yc * sigmoids[0] + (1.0 - yc) * sigmoids[1]

        factor = _ops.focal_factor(
            one_minus_pt,
            lambda: _ops.logaddexp(ops.log(yc) - nll_1mp, ops.log1p(-yc) - nll_p),
            gamma,
        )
        loss = loss * factor
    if alpha is not None:  # alpha y + (1 - alpha)(1 - y), two element-wise passes instead of four
        loss = loss * (yc * (2.0 * alpha - 1.0) + (1.0 - alpha))
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
    return _base.functional(BINARY_FOCAL_LOSS, _binary_focal_loss, y_true, y_pred, validate_args, alpha=alpha,
                            gamma=gamma, label_smoothing=label_smoothing, from_logits=from_logits)


@keras.saving.register_keras_serializable("classbalance")
class BinaryFocalLoss(_base.DeclaredLoss):
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

    spec = BINARY_FOCAL_LOSS
    core = staticmethod(_binary_focal_loss)

    def __init__(self, *, alpha: float | None = 0.25, gamma: float = 2.0, label_smoothing: float = 0.0,
                 from_logits: bool = True, validate_args: bool = True,
                 reduction: str | None = "sum_over_batch_size", name: str = "binary_focal_loss",
                 dtype: Any = None) -> None:
        super().__init__(reduction=reduction, name=name, dtype=dtype, validate_args=validate_args, alpha=alpha,
                         gamma=gamma, label_smoothing=label_smoothing, from_logits=from_logits)


def _asymmetric_loss(y: Any, x: Any, *, gamma_pos: float, gamma_neg: float, clip: float, stop_focal_gradient: bool,
                     from_logits: bool, validate_args: bool) -> Any:
    x, xc, yc = _sigmoid_inputs(x, y, from_logits, 0.0, validate_args)
    log_p = ops.log_sigmoid(xc)
    if clip > 0:
        # 1 - p_m = min(sigma(-x) + clip, 1) >= clip: its log needs no special care.
        log_1m_pm = ops.log(_ops.clip(ops.sigmoid(-xc) + clip, 0.0, 1.0))

        def log_pm() -> Any:  # log p_m, a safe input in the unselected branch (no inf/NaN in the gradient)
            p = ops.sigmoid(xc)
            above = p > clip
            return ops.where(above, ops.log(ops.where(above, p - clip, ops.ones_like(p))),
                             ops.full_like(p, float("-inf")))
    else:
        log_1m_pm = ops.log_sigmoid(-xc)

        def log_pm() -> Any:
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
    return _base.functional(ASYMMETRIC_LOSS, _asymmetric_loss, y_true, y_pred, validate_args, gamma_pos=gamma_pos,
                            gamma_neg=gamma_neg, clip=clip, stop_focal_gradient=stop_focal_gradient,
                            from_logits=from_logits)


@keras.saving.register_keras_serializable("classbalance")
class AsymmetricLoss(_base.DeclaredLoss):
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

    spec = ASYMMETRIC_LOSS
    core = staticmethod(_asymmetric_loss)

    def __init__(self, *, gamma_pos: float = 1.0, gamma_neg: float = 4.0, clip: float = 0.05,
                 stop_focal_gradient: bool = False, from_logits: bool = True, validate_args: bool = True,
                 reduction: str | None = "sum_over_batch_size", name: str = "asymmetric_loss",
                 dtype: Any = None) -> None:
        super().__init__(reduction=reduction, name=name, dtype=dtype, validate_args=validate_args, gamma_pos=gamma_pos,
                         gamma_neg=gamma_neg, clip=clip, stop_focal_gradient=stop_focal_gradient,
                         from_logits=from_logits)


def _distribution_balanced_loss(y: Any, x: Any, *, freq_inv: Any, logit_bias: Any, gamma: float, balance_param: float,
                                map_alpha: float, map_beta: float, map_gamma: float, neg_scale: float,
                                validate_args: bool) -> Any:
    x, xc, yc = _sigmoid_inputs(x, y, True, 0.0, validate_args)
    validation.check_vector_length("samples_per_class", freq_inv, x.shape[-1] if len(x.shape) else 1)
    inv = _ops.as_tensor_like(freq_inv, xc)
    # re-balanced weight r_c = (1/n_c) / sum_j y_j / n_j; a sample without positives has r = inf
    # in the reference, whose sigmoid is 1: written as that limit, with no inf made
    rate = ops.sum(yc * inv, axis=-1, keepdims=True)
    has_positive = rate > 0.0
    r = inv / ops.where(has_positive, rate, ops.ones_like(rate))
    weight = ops.where(has_positive, ops.sigmoid(map_beta * (r - map_gamma)), ops.ones_like(r)) + map_alpha
    # negative-tolerant regularisation: z = x + b on positives, neg_scale (x + b) on negatives, whose
    # loss is divided by neg_scale (written with y, as the reference, so soft targets mix the two)
    z = (xc + _ops.as_tensor_like(logit_bias, xc)) * (neg_scale * (1.0 - yc) + yc)
    weight = weight * ((1.0 - yc) / neg_scale + yc)
    log_p, log_1mp = ops.log_sigmoid(z), ops.log_sigmoid(-z)
    bce = -(yc * log_p + (1.0 - yc) * log_1mp)
    loss = weight * bce
    if gamma:
        # 1 - p_t, p_t = exp(-bce) (the reference's); for 0/1 targets its log is a log-sigmoid, so
        # the gamma < 1 gradient stays finite where bce underflows to 0
        def log_base() -> Any:
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
    return _base.functional(DISTRIBUTION_BALANCED_LOSS, _distribution_balanced_loss, y_true, y_pred, validate_args,
                            samples_per_class=samples_per_class, num_samples=num_samples, gamma=gamma,
                            balance_param=balance_param, map_alpha=map_alpha, map_beta=map_beta, map_gamma=map_gamma,
                            neg_scale=neg_scale, init_bias=init_bias)


@keras.saving.register_keras_serializable("classbalance")
class DistributionBalancedLoss(_base.DeclaredLoss):
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

    spec = DISTRIBUTION_BALANCED_LOSS
    core = staticmethod(_distribution_balanced_loss)

    def __init__(self, samples_per_class: Any, *, num_samples: float, gamma: float = 2.0, balance_param: float = 2.0,
                 map_alpha: float = 0.1, map_beta: float = 10.0, map_gamma: float = 0.2, neg_scale: float = 2.0,
                 init_bias: float = 0.05, validate_args: bool = True,
                 reduction: str | None = "sum_over_batch_size", name: str = "distribution_balanced_loss",
                 dtype: Any = None) -> None:
        super().__init__(reduction=reduction, name=name, dtype=dtype, validate_args=validate_args,
                         samples_per_class=samples_per_class, num_samples=num_samples, gamma=gamma,
                         balance_param=balance_param, map_alpha=map_alpha, map_beta=map_beta, map_gamma=map_gamma,
                         neg_scale=neg_scale, init_bias=init_bias)
