"""The softmax family, Keras 3: class-index targets (or one-hot / probability rows) against
logits `(..., K)`; the functional forms return the per-sample loss `(...)`.

Weighted categorical cross-entropy, categorical focal loss, the class-balanced loss, the
logit-adjusted cross-entropy (with `adjust_logits`) and Poly-1. Each is declared in
`imbalance_core.loss_specs`; here are its core (computed from logits in log space, in float32
for float16/bfloat16 inputs), its functional form and its class. The mirror of
torch_impl/losses/softmax.py.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from imbalance_core import loss_args, loss_specs, validation

from .. import _ops
from . import _base
from .sigmoid import _binary_focal_loss

__all__ = [
    "weighted_categorical_crossentropy", "WeightedCategoricalCrossentropy",
    "categorical_focal_loss", "CategoricalFocalLoss",
    "class_balanced_loss", "ClassBalancedLoss",
    "logit_adjusted_crossentropy", "LogitAdjustedCrossentropy", "adjust_logits",
    "poly_loss", "PolyLoss",
]

WEIGHTED_CATEGORICAL_CROSSENTROPY = loss_specs.spec("weighted_categorical_crossentropy")
CATEGORICAL_FOCAL_LOSS = loss_specs.spec("categorical_focal_loss")
CLASS_BALANCED_LOSS = loss_specs.spec("class_balanced_loss")
LOGIT_ADJUSTED_CROSSENTROPY = loss_specs.spec("logit_adjusted_crossentropy")
POLY_LOSS = loss_specs.spec("poly_loss")


def _softmax_inputs(x: Any, target: Any, from_logits: bool, validate_args: bool) -> tuple[Any, Any, Any]:
    validation.check_bool("validate_args", validate_args)  # the functional forms pass it unchecked
    x = _ops.check_logits("y_pred", x)
    if len(x.shape) < 1:
        raise ValueError(validation.scalar_logits_message("y_pred", "(..., C)"))
    target = ops.convert_to_tensor(target)
    if validate_args and not from_logits:
        _ops.check_in_range("y_pred", x, 0.0, 1.0, "probabilities (from_logits=False)")
    return x, ops.cast(x, _ops.compute_dtype(x)), target


def _softmax_loss(target: Any, x: Any, *, class_weight: Any, alpha: Any | None, gamma: float, label_smoothing: float,
                  ignore_index: int | None, from_logits: bool, validate_args: bool) -> _base.LossAndNorms:
    """Per-sample -sum_c w_c alpha_c (1 - p_c)^gamma q_c log p_c, with the normalisers."""
    x, xc, target = _softmax_inputs(x, target, from_logits, validate_args)
    num_classes = x.shape[-1]
    validation.check_vector_length("class_weight", class_weight, num_classes)
    validation.check_vector_length("alpha", alpha, num_classes)
    w = _ops.as_tensor_like(class_weight, xc)
    a = _ops.as_tensor_like(alpha, xc)
    if from_logits and not gamma and a is None:  # plain weighted CE: gather, no one-hot rows
        loss, valid, norm = _ops.cross_entropy(xc, target, ignore_index=ignore_index, label_smoothing=label_smoothing,
                                               class_weight=w, validate_args=validate_args)
        return ops.cast(loss, _ops.dtype_of(x)), valid, norm
    logp = _ops.log_softmax_from(xc, from_logits)
    picked = None if label_smoothing else _ops.target_log_probs(target, logp, ignore_index=ignore_index,
                                                                validate_args=validate_args)
    if picked is not None:  # class indices, one-hot q: only the target class's term is not zero
        logp_t, valid_t, safe = picked
        return _target_class_loss(logp, logp_t, valid_t, safe, _ops.dtype_of(x), w=w, a=a, gamma=gamma)
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


def _target_class_loss(logp: Any, logp_t: Any, valid: Any | None, safe: Any, out_dtype: str, *, w: Any | None,
                       a: Any | None, gamma: float) -> _base.LossAndNorms:
    """_softmax_loss's sum for one-hot q, on the target class alone: -w_t a_t (1 - p_t)^gamma
    log p_t, per-sample work instead of per-class work (the same terms, the others are 0).
    `valid` (and the norm weight, without weights) is None when every sample counts."""
    w_t = None if w is None else _ops.take_classes(w, safe)
    a_t = None if a is None else _ops.take_classes(a, safe)
    focal = _ops.focal_factor(lambda: -ops.expm1(logp_t),
                              lambda: _ops.take_target_class(_ops.log1m_softmax(logp), safe), gamma)
    term = logp_t
    for factor in (focal, w_t, a_t, valid):
        if factor is not None:
            term = term * factor
    weight = w_t if w_t is not None else a_t  # the normalisation weight, as softmax_targets's
    norm = valid if weight is None else weight if valid is None else weight * valid
    return ops.cast(-term, out_dtype), valid, norm


def _weighted_categorical_crossentropy(target: Any, x: Any, *, class_weight: Any, label_smoothing: float,
                                       ignore_index: int | None, from_logits: bool,
                                       validate_args: bool) -> _base.LossAndNorms:
    return _softmax_loss(target, x, class_weight=class_weight, alpha=None, gamma=0.0, label_smoothing=label_smoothing,
                         ignore_index=ignore_index, from_logits=from_logits, validate_args=validate_args)


def _categorical_focal_loss(target: Any, x: Any, *, alpha: Any | None, gamma: float, label_smoothing: float,
                            ignore_index: int | None, from_logits: bool, validate_args: bool) -> _base.LossAndNorms:
    return _softmax_loss(target, x, class_weight=None, alpha=alpha, gamma=gamma, label_smoothing=label_smoothing,
                         ignore_index=ignore_index, from_logits=from_logits, validate_args=validate_args)


def weighted_categorical_crossentropy(y_true: Any, y_pred: Any, *, class_weight: Any | None = None,
                                      label_smoothing: float = 0.0, ignore_index: int | None = None,
                                      from_logits: bool = True, validate_args: bool = True) -> Any:
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
        >>> y_true = np.array([0, 1, -1])
        >>> out = weighted_categorical_crossentropy(y_true, np.zeros((3, 2)), class_weight=[1.0, 4.0], ignore_index=-1)
        >>> print(keras.ops.convert_to_numpy(out).round(4))  # log 2 times the weight; the ignored sample 0
        [0.6931 2.7726 0.    ]
    """
    return _base.functional(WEIGHTED_CATEGORICAL_CROSSENTROPY, _weighted_categorical_crossentropy, y_true, y_pred,
                            validate_args, class_weight=class_weight, label_smoothing=label_smoothing,
                            ignore_index=ignore_index, from_logits=from_logits)


@keras.saving.register_keras_serializable("classbalance")
class WeightedCategoricalCrossentropy(_base.DeclaredLoss):
    """Weighted softmax cross-entropy as a `keras.losses.Loss`; see
    `weighted_categorical_crossentropy`. Targets: class indices or one-hot/probability rows.

    normalization="weight" (default): "sum_over_batch_size" divides by sum_n w_{t_n} over
    non-ignored samples, exactly torch's `CrossEntropyLoss(weight, ...)` mean; "count" divides
    by the number of non-ignored samples. Every target ignored: 0 (torch: NaN).

    Examples:
        >>> import numpy as np
        >>> y_true, logits = np.array([0, 1]), np.zeros((2, 2))  # log 2 and 3 log 2 once weighted
        >>> for normalization in ("weight", "count"):  # divided by 1 + 3, or by 2 samples
        ...     loss = WeightedCategoricalCrossentropy(class_weight=[1.0, 3.0], normalization=normalization)
        ...     print(round(float(loss(y_true, logits)), 4))
        0.6931
        1.3863
    """

    spec = WEIGHTED_CATEGORICAL_CROSSENTROPY
    core = staticmethod(_weighted_categorical_crossentropy)

    def __init__(self, *, class_weight: Any | None = None, label_smoothing: float = 0.0,
                 ignore_index: int | None = None, normalization: str = "weight", from_logits: bool = True,
                 validate_args: bool = True, reduction: str | None = "sum_over_batch_size",
                 name: str = "weighted_categorical_crossentropy", dtype: Any = None) -> None:
        super().__init__(reduction=reduction, name=name, dtype=dtype, validate_args=validate_args,
                         class_weight=class_weight, label_smoothing=label_smoothing, ignore_index=ignore_index,
                         normalization=normalization, from_logits=from_logits)


def categorical_focal_loss(y_true: Any, y_pred: Any, *, alpha: Any | None = None, gamma: float = 2.0,
                           label_smoothing: float = 0.0, ignore_index: int | None = None, from_logits: bool = True,
                           validate_args: bool = True) -> Any:
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
        >>> logits = np.array([[2.0, 0.0], [0.0, 0.0]])  # an easy sample (p_t 0.88), a hard one (p_t 0.5)
        >>> for gamma in (0.0, 2.0):  # gamma=2 scales the easy loss down about 70 times, the hard one 4 times
        ...     out = categorical_focal_loss(np.array([0, 0]), logits, gamma=gamma)
        ...     print(keras.ops.convert_to_numpy(out).round(4))
        [0.1269 0.6931]
        [0.0018 0.1733]
    """
    return _base.functional(CATEGORICAL_FOCAL_LOSS, _categorical_focal_loss, y_true, y_pred, validate_args, alpha=alpha,
                            gamma=gamma, label_smoothing=label_smoothing, ignore_index=ignore_index,
                            from_logits=from_logits)


@keras.saving.register_keras_serializable("classbalance")
class CategoricalFocalLoss(_base.DeclaredLoss):
    """Softmax focal loss as a `keras.losses.Loss`; see `categorical_focal_loss`.
    "sum_over_batch_size" divides by the number of non-ignored samples
    (normalization="count", default) or by sum_n alpha_{t_n} ("weight").

    Examples:
        >>> import numpy as np
        >>> loss = CategoricalFocalLoss(gamma=2.0, ignore_index=-1)
        >>> y_true, logits = np.array([0, -1, -1]), np.array([[1.0, 0.0]] * 3)
        >>> round(float(loss(y_true, logits)), 4)  # the one counted sample's loss
        0.0227
    """

    spec = CATEGORICAL_FOCAL_LOSS
    core = staticmethod(_categorical_focal_loss)

    def __init__(self, *, alpha: Any | None = None, gamma: float = 2.0, label_smoothing: float = 0.0,
                 ignore_index: int | None = None, normalization: str = "count", from_logits: bool = True,
                 validate_args: bool = True, reduction: str | None = "sum_over_batch_size",
                 name: str = "categorical_focal_loss", dtype: Any = None) -> None:
        super().__init__(reduction=reduction, name=name, dtype=dtype, validate_args=validate_args, alpha=alpha,
                         gamma=gamma, label_smoothing=label_smoothing, ignore_index=ignore_index,
                         normalization=normalization, from_logits=from_logits)


def _class_balanced_loss(target: Any, x: Any, *, class_weight: Any, base: str, gamma: float,
                         validate_args: bool) -> _base.LossAndNorms:
    x = _ops.check_logits("y_pred", x)
    validation.check_vector_length("samples_per_class", class_weight, x.shape[-1] if len(x.shape) else 1)
    if base == "softmax":
        loss, valid, _ = _softmax_loss(target, x, class_weight=class_weight, alpha=None, gamma=0.0, label_smoothing=0.0,
                                       ignore_index=None, from_logits=True, validate_args=validate_args)
        return loss, valid, valid
    target = ops.convert_to_tensor(target)
    xc = ops.cast(x, _ops.compute_dtype(x))
    w = _ops.as_tensor_like(class_weight, xc)
    gamma = gamma if base == "focal" else 0.0
    kind, target = _ops._target_kind(target, xc, "y_true", "y_pred")
    if kind == "indices":
        per_class, w_n = _one_hot_focal(target, xc, w, gamma, validate_args)
        return ops.cast(w_n * ops.sum(per_class, axis=-1), _ops.dtype_of(x)), ops.ones_like(w_n), ops.ones_like(w_n)
    q, valid, w_n = _ops.softmax_targets(target, xc, ignore_index=None, label_smoothing=0.0, class_weight=w,
                                         validate_args=validate_args)
    per_class = _binary_focal_loss(q, xc, alpha=None, gamma=gamma, label_smoothing=0.0, from_logits=True,
                                   validate_args=False)
    return ops.cast(w_n * ops.sum(per_class, axis=-1), _ops.dtype_of(x)), valid, valid


def _one_hot_focal(target: Any, xc: Any, w: Any, gamma: float, validate_args: bool) -> tuple[Any, Any]:
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
    return loss, _ops.take_classes(w, t)


def class_balanced_loss(y_true: Any, y_pred: Any, *, samples_per_class: Any, beta: float = 0.9999,
                        base: str = "softmax", gamma: float = 2.0, validate_args: bool = True) -> Any:
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
        >>> out = class_balanced_loss(np.array([0, 1]), np.zeros((2, 2)), samples_per_class=[90, 10], beta=0.99)
        >>> print(keras.ops.convert_to_numpy(out).round(4))  # log 2 times each class's effective-number weight
        [0.1919 1.1944]
    """
    return _base.functional(CLASS_BALANCED_LOSS, _class_balanced_loss, y_true, y_pred, validate_args,
                            samples_per_class=samples_per_class, beta=beta, base=base, gamma=gamma)


@keras.saving.register_keras_serializable("classbalance")
class ClassBalancedLoss(_base.DeclaredLoss):
    """Class-balanced loss as a `keras.losses.Loss`; see `class_balanced_loss`.
    "sum_over_batch_size" divides by the number of samples.

    Examples:
        >>> import numpy as np
        >>> loss = ClassBalancedLoss([90, 10], beta=0.99, base="focal", gamma=2.0)
        >>> # w_{t_n} times the binary focal loss against the one-hot row, summed over the classes
        >>> round(float(loss(np.array([0, 1]), np.array([[2.0, -2.0], [2.0, -2.0]]))), 4)
        2.8439
    """

    spec = CLASS_BALANCED_LOSS
    core = staticmethod(_class_balanced_loss)

    def __init__(self, samples_per_class: Any, *, beta: float = 0.9999, base: str = "softmax", gamma: float = 2.0,
                 validate_args: bool = True, reduction: str | None = "sum_over_batch_size",
                 name: str = "class_balanced_loss", dtype: Any = None) -> None:
        super().__init__(reduction=reduction, name=name, dtype=dtype, validate_args=validate_args,
                         samples_per_class=samples_per_class, beta=beta, base=base, gamma=gamma)


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
    priors = loss_args.priors("class_priors", class_priors)
    tau = loss_args.non_negative("tau", tau)
    x = _ops.check_logits("y_pred", y_pred)
    validation.check_vector_length("class_priors", priors, x.shape[-1])
    return x - _ops.log_prior_shift(priors, tau, x)


def _logit_adjusted_crossentropy(target: Any, x: Any, *, logit_shift: Any, ignore_index: int | None,
                                 validate_args: bool, vector_name: str = "class_priors") -> _base.LossAndNorms:
    """CE(x + logit_shift, t); the declaration derives logit_shift = tau log pi once, in
    float64."""
    x = _ops.check_logits("y_pred", x)
    validation.check_vector_length(vector_name, logit_shift, x.shape[-1])
    xc = ops.cast(x, _ops.compute_dtype(x))
    shifted = xc + _ops.as_tensor_like(logit_shift, xc)
    loss, valid, _ = _softmax_loss(target, shifted, class_weight=None, alpha=None, gamma=0.0, label_smoothing=0.0,
                                   ignore_index=ignore_index, from_logits=True, validate_args=validate_args)
    return ops.cast(loss, _ops.dtype_of(x)), valid, valid


def logit_adjusted_crossentropy(y_true: Any, y_pred: Any, *, class_priors: Any, tau: float = 1.0,
                                ignore_index: int | None = None, validate_args: bool = True) -> Any:
    """Per-sample logit-adjusted softmax cross-entropy (Menon et al. 2021, "Long-tail learning
    via logit adjustment").

    l_n = CE(x_n + tau log pi, t_n), pi = class priors (> 0, normalised). tau=0 gives CE.

    Anchor: google-research `logit_adjustment` (which adds log(pi^tau + 1e-12): equal for
    priors >= 1e-6 to about 1e-6 relative).

    Examples:
        >>> import keras
        >>> import numpy as np
        >>> for tau in (0.0, 1.0):  # tau=0: cross-entropy; tau=1: the rare class's sample costs more
        ...     out = logit_adjusted_crossentropy(np.array([0, 1]), np.zeros((2, 2)), class_priors=[0.9, 0.1], tau=tau)
        ...     print(keras.ops.convert_to_numpy(out).round(4))
        [0.6931 0.6931]
        [0.1054 2.3026]
    """
    return _base.functional(LOGIT_ADJUSTED_CROSSENTROPY, _logit_adjusted_crossentropy, y_true, y_pred, validate_args,
                            class_priors=class_priors, tau=tau, ignore_index=ignore_index)


@keras.saving.register_keras_serializable("classbalance")
class LogitAdjustedCrossentropy(_base.DeclaredLoss):
    """Logit-adjusted cross-entropy as a `keras.losses.Loss`; see `logit_adjusted_crossentropy`.
    "sum_over_batch_size" divides by the number of non-ignored samples.

    Examples:
        >>> import numpy as np
        >>> loss = LogitAdjustedCrossentropy([0.9, 0.1], tau=0.5)
        >>> round(float(loss(np.array([1]), np.zeros((1, 2)))), 4)  # -log softmax(0.5 log pi)_1 = log 4
        1.3863
    """

    spec = LOGIT_ADJUSTED_CROSSENTROPY
    core = staticmethod(_logit_adjusted_crossentropy)

    def __init__(self, class_priors: Any, *, tau: float = 1.0, ignore_index: int | None = None,
                 validate_args: bool = True, reduction: str | None = "sum_over_batch_size",
                 name: str = "logit_adjusted_crossentropy", dtype: Any = None) -> None:
        super().__init__(reduction=reduction, name=name, dtype=dtype, validate_args=validate_args,
                         class_priors=class_priors, tau=tau, ignore_index=ignore_index)


def _poly_loss(target: Any, x: Any, *, epsilon: float, gamma: float, ignore_index: int | None,
               validate_args: bool) -> _base.LossAndNorms:
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


def poly_loss(y_true: Any, y_pred: Any, *, epsilon: float = 1.0, gamma: float = 0.0, ignore_index: int | None = None,
              validate_args: bool = True) -> Any:
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
        >>> y_true, logits = np.array([0, 1]), np.array([[2.0, 0.0], [2.0, 0.0]])
        >>> added = poly_loss(y_true, logits, epsilon=1.0) - weighted_categorical_crossentropy(y_true, logits)
        >>> print(keras.ops.convert_to_numpy(added).round(4))  # epsilon (1 - p_t) on top of cross-entropy
        [0.1192 0.8808]
    """
    return _base.functional(POLY_LOSS, _poly_loss, y_true, y_pred, validate_args, epsilon=epsilon, gamma=gamma,
                            ignore_index=ignore_index)


@keras.saving.register_keras_serializable("classbalance")
class PolyLoss(_base.DeclaredLoss):
    """Poly-1 loss as a `keras.losses.Loss`; see `poly_loss`. "sum_over_batch_size" divides by
    the number of non-ignored samples.

    Examples:
        >>> import numpy as np
        >>> loss = PolyLoss(epsilon=2.0, gamma=2.0)  # Poly-1 focal
        >>> round(float(loss(np.array([0, 1]), np.array([[2.0, 0.0], [2.0, 0.0]]))), 4)
        1.511
    """

    spec = POLY_LOSS
    core = staticmethod(_poly_loss)

    def __init__(self, *, epsilon: float = 1.0, gamma: float = 0.0, ignore_index: int | None = None,
                 validate_args: bool = True, reduction: str | None = "sum_over_batch_size",
                 name: str = "poly_loss", dtype: Any = None) -> None:
        super().__init__(reduction=reduction, name=name, dtype=dtype, validate_args=validate_args, epsilon=epsilon,
                         gamma=gamma, ignore_index=ignore_index)
