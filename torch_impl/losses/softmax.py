"""The softmax family, PyTorch: CrossEntropyLoss's layouts (C), (N, C), (N, C, d1, ..., dk), the
class on dim 1; class-index targets or probabilities of the input's shape. The functional forms
return the per-sample loss.

Weighted categorical cross-entropy, categorical focal loss, the class-balanced loss, the
logit-adjusted cross-entropy (with `adjust_logits`) and Poly-1. Each is declared in
`imbalance_core.loss_specs`; here are its core (computed from logits in log space, in float32
for float16/bfloat16 inputs), its functional form and its module. The mirror of
tf_impl/losses/softmax.py.
"""

from __future__ import annotations

from typing import Any

import torch

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


def _softmax_inputs(x: torch.Tensor, target: torch.Tensor, from_logits: bool,
                    validate_args: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Checks softmax-family inputs and puts CrossEntropyLoss's layouts class last: (original
    logits, logits and target class last, logits in the compute dtype)."""
    validation.check_bool("validate_args", validate_args)  # the functional forms pass it unchecked
    x = _ops.check_logits("input", x)
    if x.ndim < 1:
        raise ValueError(validation.scalar_logits_message("input", "(C), (N, C) or (N, C, d1, ...)"))
    if not isinstance(target, torch.Tensor):
        target = torch.as_tensor(target)
    if validate_args and not from_logits:
        _ops.check_in_range("input", x, 0.0, 1.0, "probabilities (from_logits=False)")
    x_last, target = _ops.class_last(x, target)
    return x, _ops.as_dtype(x_last, _ops.compute_dtype(x)), target


def _softmax_core(xc: torch.Tensor, target: torch.Tensor, out_dtype: torch.dtype, *, class_weight: Any,
                  alpha: Any | None, gamma: float, label_smoothing: float, ignore_index: int | None, from_logits: bool,
                  validate_args: bool) -> _base.LossAndNorms:
    """Per-sample -sum_c w_c alpha_c (1 - p_c)^gamma q_c log p_c (class axis last), with the
    normalisers (valid, per-sample norm weight)."""
    num_classes = xc.shape[-1]
    validation.check_vector_length("class_weight", class_weight, num_classes)
    validation.check_vector_length("alpha", alpha, num_classes)
    w = _ops.as_tensor_like(class_weight, xc)
    a = _ops.as_tensor_like(alpha, xc)
    if from_logits and not gamma and a is None:  # plain weighted CE: torch's fused kernel
        loss, valid, norm = _ops.cross_entropy(xc, target, ignore_index=ignore_index, label_smoothing=label_smoothing,
                                               class_weight=w, validate_args=validate_args)
        return _ops.as_dtype(loss, out_dtype), valid, norm
    logp = _ops.log_softmax_from(xc, from_logits)
    picked = None if label_smoothing else _ops.target_log_probs(target, logp, ignore_index=ignore_index,
                                                                validate_args=validate_args)
    if picked is not None:  # class indices, one-hot q: only the target class's term is not zero
        logp_t, valid_t, safe = picked
        return _target_class_loss(logp, logp_t, valid_t, safe, out_dtype, w=w, a=a, gamma=gamma)
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


def _target_class_loss(logp: torch.Tensor, logp_t: torch.Tensor, valid: torch.Tensor | None, safe: torch.Tensor,
                       out_dtype: torch.dtype, *, w: torch.Tensor | None, a: torch.Tensor | None,
                       gamma: float) -> _base.LossAndNorms:
    """_softmax_core's sum for one-hot q, on the target class alone: -w_t a_t (1 - p_t)^gamma
    log p_t, per-sample work instead of per-class work (the same terms, the others are 0).
    `valid` (and the norm weight, without weights) is None when every sample counts."""
    w_t = None if w is None else _ops.take_classes(w, safe)
    a_t = None if a is None else _ops.take_classes(a, safe)
    focal = _ops.focal_factor(lambda: -torch.expm1(logp_t),
                              lambda: _ops.take_target_class(_ops.log1m_softmax(logp), safe), gamma)
    term = logp_t
    for factor in (focal, w_t, a_t, valid):
        if factor is not None:
            term = term * factor
    weight_t = w_t if w_t is not None else a_t  # the normalisation weight, as softmax_targets's
    norm = valid if weight_t is None else weight_t if valid is None else weight_t * valid
    return (-term).to(out_dtype), valid, norm


def _softmax_loss(x: torch.Tensor, target: torch.Tensor, **kw: Any) -> _base.LossAndNorms:
    """`_softmax_core` on the torch layouts (class on dim 1 from 3 dimensions on)."""
    x, xc, target = _softmax_inputs(x, target, kw["from_logits"], kw["validate_args"])
    return _softmax_core(xc, target, _ops.output_dtype(x), **kw)


def _weighted_categorical_crossentropy(x: torch.Tensor, target: torch.Tensor, *, class_weight: Any,
                                       label_smoothing: float, ignore_index: int | None, from_logits: bool,
                                       validate_args: bool) -> _base.LossAndNorms:
    return _softmax_loss(x, target, class_weight=class_weight, alpha=None, gamma=0.0, label_smoothing=label_smoothing,
                         ignore_index=ignore_index, from_logits=from_logits, validate_args=validate_args)


def _categorical_focal_loss(x: torch.Tensor, target: torch.Tensor, *, alpha: Any | None, gamma: float,
                            label_smoothing: float, ignore_index: int | None, from_logits: bool,
                            validate_args: bool) -> _base.LossAndNorms:
    return _softmax_loss(x, target, class_weight=None, alpha=alpha, gamma=gamma, label_smoothing=label_smoothing,
                         ignore_index=ignore_index, from_logits=from_logits, validate_args=validate_args)


def weighted_categorical_crossentropy(input: torch.Tensor, target: torch.Tensor, *, class_weight: Any | None = None,
                                      label_smoothing: float = 0.0, ignore_index: int | None = None,
                                      from_logits: bool = True, validate_args: bool = True) -> torch.Tensor:
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
        >>> target = torch.tensor([0, 1, -1])
        >>> out = weighted_categorical_crossentropy(torch.zeros(3, 2), target, class_weight=[1.0, 4.0], ignore_index=-1)
        >>> print(out.numpy().round(4))  # log 2 times the weight; the ignored sample 0
        [0.6931 2.7726 0.    ]
    """
    return _base.functional(WEIGHTED_CATEGORICAL_CROSSENTROPY, _weighted_categorical_crossentropy, input, target,
                            validate_args, class_weight=class_weight, label_smoothing=label_smoothing,
                            ignore_index=ignore_index, from_logits=from_logits)


class WeightedCategoricalCrossentropy(_base.DeclaredLoss):
    """Weighted softmax cross-entropy as an `nn.Module`; see `weighted_categorical_crossentropy`.

    normalization="weight" (default): "mean" divides by sum_n w_{t_n} over non-ignored samples,
    exactly `torch.nn.CrossEntropyLoss(weight, label_smoothing, ignore_index)`; "count" divides
    by the number of non-ignored samples. Every target ignored: "mean" is 0 (torch: NaN).

    Examples:
        >>> import torch
        >>> logits, target = torch.zeros(2, 2), torch.tensor([0, 1])  # log 2 and 3 log 2 once weighted
        >>> for normalization in ("weight", "count"):  # divided by 1 + 3, or by 2 samples
        ...     loss_fn = WeightedCategoricalCrossentropy(class_weight=[1.0, 3.0], normalization=normalization)
        ...     print(round(float(loss_fn(logits, target)), 4))
        0.6931
        1.3863
    """

    spec = WEIGHTED_CATEGORICAL_CROSSENTROPY
    core = staticmethod(_weighted_categorical_crossentropy)

    def __init__(self, *, class_weight: Any | None = None, label_smoothing: float = 0.0,
                 ignore_index: int | None = None, normalization: str = "weight", from_logits: bool = True,
                 validate_args: bool = True, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction, validate_args=validate_args, class_weight=class_weight,
                         label_smoothing=label_smoothing, ignore_index=ignore_index, normalization=normalization,
                         from_logits=from_logits)


def categorical_focal_loss(input: torch.Tensor, target: torch.Tensor, *, alpha: Any | None = None, gamma: float = 2.0,
                           label_smoothing: float = 0.0, ignore_index: int | None = None, from_logits: bool = True,
                           validate_args: bool = True) -> torch.Tensor:
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
        >>> logits = torch.tensor([[2.0, 0.0], [0.0, 0.0]])  # an easy sample (p_t 0.88), a hard one (p_t 0.5)
        >>> for gamma in (0.0, 2.0):  # gamma=2 scales the easy loss down about 70 times, the hard one 4 times
        ...     print(categorical_focal_loss(logits, torch.tensor([0, 0]), gamma=gamma).numpy().round(4))
        [0.1269 0.6931]
        [0.0018 0.1733]
    """
    return _base.functional(CATEGORICAL_FOCAL_LOSS, _categorical_focal_loss, input, target, validate_args, alpha=alpha,
                            gamma=gamma, label_smoothing=label_smoothing, ignore_index=ignore_index,
                            from_logits=from_logits)


class CategoricalFocalLoss(_base.DeclaredLoss):
    """Softmax focal loss as an `nn.Module`; see `categorical_focal_loss`. "mean" divides by the
    number of non-ignored samples (normalization="count", default) or by sum_n alpha_{t_n}
    ("weight").

    Examples:
        >>> import torch
        >>> loss_fn = CategoricalFocalLoss(gamma=2.0, ignore_index=-1)
        >>> logits, target = torch.tensor([[1.0, 0.0]] * 3), torch.tensor([0, -1, -1])
        >>> round(float(loss_fn(logits, target)), 4)  # the one counted sample's loss
        0.0227
    """

    spec = CATEGORICAL_FOCAL_LOSS
    core = staticmethod(_categorical_focal_loss)

    def __init__(self, *, alpha: Any | None = None, gamma: float = 2.0, label_smoothing: float = 0.0,
                 ignore_index: int | None = None, normalization: str = "count", from_logits: bool = True,
                 validate_args: bool = True, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction, validate_args=validate_args, alpha=alpha, gamma=gamma,
                         label_smoothing=label_smoothing, ignore_index=ignore_index, normalization=normalization,
                         from_logits=from_logits)


def _class_balanced_loss(x: torch.Tensor, target: torch.Tensor, *, class_weight: Any, base: str, gamma: float,
                         validate_args: bool) -> _base.LossAndNorms:
    x, xc, target = _softmax_inputs(x, target, True, validate_args)
    validation.check_vector_length("samples_per_class", class_weight, xc.shape[-1])
    if base == "softmax":
        loss, valid, _ = _softmax_core(xc, target, _ops.output_dtype(x), class_weight=class_weight, alpha=None,
                                       gamma=0.0, label_smoothing=0.0, ignore_index=None, from_logits=True,
                                       validate_args=validate_args)
        return loss, valid, valid
    w = _ops.as_tensor_like(class_weight, xc)
    q, valid, w_n = _ops.softmax_targets(target, xc, ignore_index=None, label_smoothing=0.0, class_weight=w,
                                         validate_args=validate_args)
    per_class = _binary_focal_loss(xc, q, alpha=None, gamma=gamma if base == "focal" else 0.0, label_smoothing=0.0,
                                   from_logits=True, validate_args=False)
    return (w_n * per_class.sum(dim=-1)).to(_ops.output_dtype(x)), valid, valid


def class_balanced_loss(input: torch.Tensor, target: torch.Tensor, *, samples_per_class: Any, beta: float = 0.9999,
                        base: str = "softmax", gamma: float = 2.0, validate_args: bool = True) -> torch.Tensor:
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
        >>> out = class_balanced_loss(torch.zeros(2, 2), torch.tensor([0, 1]), samples_per_class=[90, 10], beta=0.99)
        >>> print(out.numpy().round(4))  # log 2 times each class's effective-number weight
        [0.1919 1.1944]
    """
    return _base.functional(CLASS_BALANCED_LOSS, _class_balanced_loss, input, target, validate_args,
                            samples_per_class=samples_per_class, beta=beta, base=base, gamma=gamma)


class ClassBalancedLoss(_base.DeclaredLoss):
    """Class-balanced loss as an `nn.Module`; see `class_balanced_loss`. "mean" divides by the
    number of samples.

    Examples:
        >>> import torch
        >>> loss_fn = ClassBalancedLoss([90, 10], beta=0.99, base="focal", gamma=2.0)
        >>> # w_{t_n} times the binary focal loss against the one-hot row, summed over the classes
        >>> round(float(loss_fn(torch.tensor([[2.0, -2.0], [2.0, -2.0]]), torch.tensor([0, 1]))), 4)
        2.8439
    """

    spec = CLASS_BALANCED_LOSS
    core = staticmethod(_class_balanced_loss)

    def __init__(self, samples_per_class: Any, *, beta: float = 0.9999, base: str = "softmax",
                 gamma: float = 2.0, validate_args: bool = True, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction, validate_args=validate_args, samples_per_class=samples_per_class,
                         beta=beta, base=base, gamma=gamma)


def _adjust_logits_arguments(class_priors: Any, tau: float) -> tuple[Any, float]:
    return loss_args.priors("class_priors", class_priors), loss_args.non_negative("tau", tau)


def adjust_logits(input: torch.Tensor, class_priors: Any, *, tau: float = 1.0) -> torch.Tensor:
    """Post-hoc logit adjustment (Menon et al. 2021): x - tau log pi.

    Use on a model trained with plain cross-entropy to predict argmax(x - tau log pi), the
    balanced-error-optimal rule. `class_priors` are normalised to sum to 1.

    Examples:
        >>> import torch
        >>> print(adjust_logits(torch.tensor([[1.0, 1.0, 1.0]]), [0.7, 0.2, 0.1]).numpy().round(4))
        [[1.3567 2.6094 3.3026]]
    """
    priors, tau = _ops.static_args(_adjust_logits_arguments, class_priors, tau)
    x = _ops.check_logits("input", input)
    class_dim = 1 if x.ndim > 2 else -1  # CrossEntropyLoss's layouts
    validation.check_vector_length("class_priors", priors, x.shape[class_dim])
    shift = _ops.log_prior_shift(priors, tau, x)  # tensor priors while compiling with NumPy priors
    return x - (shift.reshape((-1,) + (1,) * (x.ndim - 2)) if class_dim == 1 else shift)


def _logit_adjusted_crossentropy(x: torch.Tensor, target: torch.Tensor, *, logit_shift: Any, ignore_index: int | None,
                                 validate_args: bool, vector_name: str = "class_priors") -> _base.LossAndNorms:
    """CE(x + logit_shift, t); the declaration derives logit_shift = tau log pi once, in
    float64 (a constant of the compiled graph, not a log computed per element of the logits)."""
    x, xc, target = _softmax_inputs(x, target, True, validate_args)
    validation.check_vector_length(vector_name, logit_shift, xc.shape[-1])
    shift = _ops.as_tensor_like(logit_shift, xc, own_kernel=True)  # on the device: no host sync per call
    assert shift is not None  # a required argument
    shifted = xc + shift
    loss, valid, _ = _softmax_core(shifted, target, _ops.output_dtype(x), class_weight=None, alpha=None, gamma=0.0,
                                   label_smoothing=0.0, ignore_index=ignore_index, from_logits=True,
                                   validate_args=validate_args)
    return loss, valid, valid


def logit_adjusted_crossentropy(input: torch.Tensor, target: torch.Tensor, *, class_priors: Any, tau: float = 1.0,
                                ignore_index: int | None = None, validate_args: bool = True) -> torch.Tensor:
    """Per-sample logit-adjusted softmax cross-entropy (Menon et al. 2021, "Long-tail learning
    via logit adjustment").

    l_n = CE(x_n + tau log pi, t_n), pi = class priors (> 0, normalised). tau=0 gives CE.

    Anchor: google-research `logit_adjustment` (which adds log(pi^tau + 1e-12): equal for
    priors >= 1e-6 to about 1e-6 relative).

    Examples:
        >>> import torch
        >>> for tau in (0.0, 1.0):  # tau=0: cross-entropy; tau=1: the rare class's sample costs more
        ...     out = logit_adjusted_crossentropy(torch.zeros(2, 2), torch.tensor([0, 1]), class_priors=[0.9, 0.1],
        ...                                       tau=tau)
        ...     print(out.numpy().round(4))
        [0.6931 0.6931]
        [0.1054 2.3026]
    """
    return _base.functional(LOGIT_ADJUSTED_CROSSENTROPY, _logit_adjusted_crossentropy, input, target, validate_args,
                            class_priors=class_priors, tau=tau, ignore_index=ignore_index)


class LogitAdjustedCrossentropy(_base.DeclaredLoss):
    """Logit-adjusted cross-entropy as an `nn.Module`; see `logit_adjusted_crossentropy`.
    "mean" divides by the number of non-ignored samples.

    Examples:
        >>> import torch
        >>> loss_fn = LogitAdjustedCrossentropy([0.9, 0.1], tau=0.5)
        >>> round(float(loss_fn(torch.zeros(1, 2), torch.tensor([1]))), 4)  # -log softmax(0.5 log pi)_1 = log 4
        1.3863
    """

    spec = LOGIT_ADJUSTED_CROSSENTROPY
    core = staticmethod(_logit_adjusted_crossentropy)

    def __init__(self, class_priors: Any, *, tau: float = 1.0, ignore_index: int | None = None,
                 validate_args: bool = True, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction, validate_args=validate_args, class_priors=class_priors, tau=tau,
                         ignore_index=ignore_index)


def _poly_loss(x: torch.Tensor, target: torch.Tensor, *, epsilon: float, gamma: float, ignore_index: int | None,
               validate_args: bool) -> _base.LossAndNorms:
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


def poly_loss(input: torch.Tensor, target: torch.Tensor, *, epsilon: float = 1.0, gamma: float = 0.0,
              ignore_index: int | None = None, validate_args: bool = True) -> torch.Tensor:
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
        >>> logits, target = torch.tensor([[2.0, 0.0], [2.0, 0.0]]), torch.tensor([0, 1])
        >>> added = poly_loss(logits, target, epsilon=1.0) - weighted_categorical_crossentropy(logits, target)
        >>> print(added.numpy().round(4))  # epsilon (1 - p_t) on top of cross-entropy
        [0.1192 0.8808]
    """
    return _base.functional(POLY_LOSS, _poly_loss, input, target, validate_args, epsilon=epsilon, gamma=gamma,
                            ignore_index=ignore_index)


class PolyLoss(_base.DeclaredLoss):
    """Poly-1 loss as an `nn.Module`; see `poly_loss`. "mean" divides by the number of
    non-ignored samples.

    Examples:
        >>> import torch
        >>> loss_fn = PolyLoss(epsilon=2.0, gamma=2.0)  # Poly-1 focal
        >>> round(float(loss_fn(torch.tensor([[2.0, 0.0], [2.0, 0.0]]), torch.tensor([0, 1]))), 4)
        1.511
    """

    spec = POLY_LOSS
    core = staticmethod(_poly_loss)

    def __init__(self, *, epsilon: float = 1.0, gamma: float = 0.0, ignore_index: int | None = None,
                 validate_args: bool = True, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction, validate_args=validate_args, epsilon=epsilon, gamma=gamma,
                         ignore_index=ignore_index)
