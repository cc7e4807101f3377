"""Hyperparameter checks of the losses, shared by tf_impl.losses and torch_impl.losses.

Each function validates one loss's constructor/functional arguments and returns them in
canonical form (floats, float64 NumPy vectors), raising the same ValueError in both
frameworks. Class-balanced weights are computed here, once.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import validation as V
from .class_weights import weights_from_counts

NORMALIZATIONS = ("weight", "count")
CB_BASES = ("softmax", "sigmoid", "focal")


def gamma(name: str, value) -> float:
    return V.check_number(name, value, low=0.0)


def label_smoothing(value) -> float:
    return V.check_number("label_smoothing", value, low=0.0, high=1.0)


def alpha(value, *, allow_vector: bool):
    """None, a scalar in [0, 1] or (softmax family) a vector of values in [0, 1]."""
    if value is None:
        return None
    if not allow_vector or np.ndim(V.to_numpy(value)) == 0:
        return V.check_number("alpha", value, low=0.0, high=1.0)
    w = V.require_weight_vector("alpha", value, allow_scalar=False)
    if np.any(w > 1):
        raise ValueError(f"Invalid `alpha`: received {V.describe(w)}; expected None, a number in [0, 1] or a "
                         f"vector of values in [0, 1].")
    return w


def normalization(value) -> str:
    return V.check_choice("normalization", value, NORMALIZATIONS)


def ignore_index(value) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"Invalid `ignore_index`: received {value!r}; expected an integer or None.")
    return int(value)


def wbce(pos_weight, neg_weight, smoothing):
    return (V.check_weight_vector("pos_weight", pos_weight), V.check_weight_vector("neg_weight", neg_weight),
            label_smoothing(smoothing))


def asymmetric(gamma_pos, gamma_neg, clip):
    return (gamma("gamma_pos", gamma_pos), gamma("gamma_neg", gamma_neg),
            V.check_number("clip", clip, low=0.0, high=1.0, high_open=True))


def class_balanced(samples_per_class: Any, beta, base, gamma_value):
    """(weights, beta, base, gamma); weights w_c = (1-beta)/(1-beta^n_c) rescaled to sum to K."""
    beta = V.check_number("beta", beta, low=0.0, high=1.0, high_open=True)
    if samples_per_class is None:
        raise ValueError("Invalid `samples_per_class`: received None; expected K positive counts.")
    counts = V.require_weight_vector("samples_per_class", samples_per_class, allow_scalar=False)
    empty = np.flatnonzero(counts == 0)
    if empty.size:
        raise ValueError(
            f"Invalid `samples_per_class`: received {V.describe(counts)}; class {int(empty[0])} has no "
            f"samples, and every class needs at least one to get a weight."
        )
    return (weights_from_counts(counts, "effective_number", beta), beta,
            V.check_choice("base", base, CB_BASES), gamma("gamma", gamma_value))


def logit_adjusted(class_priors, tau):
    return V.check_priors("class_priors", class_priors), V.check_number("tau", tau, low=0.0)


# ---- stateful and multi-label: Seesaw, Distribution-Balanced


def seesaw(p, q, eps):
    """(p, q, eps) of the Seesaw loss: p, q >= 0 (0 switches a factor off), eps > 0."""
    return (V.check_number("p", p, low=0.0), V.check_number("q", q, low=0.0),
            V.check_number("eps", eps, low=0.0, low_open=True))


def cum_samples(value, num_classes: int | None = None):
    """Cumulative class counts given to the functional Seesaw loss: NumPy / sequences are
    checked in full (non-negative, finite, a vector); a native tensor only by its static shape
    (its values would cost a host read per call), as a length check against the logits later."""
    if value is None:
        raise ValueError("Invalid `cum_samples`: received None; expected K non-negative counts.")
    if hasattr(value, "shape") and not isinstance(value, np.ndarray):
        V.check_vector_rank("cum_samples", tuple(value.shape), "K non-negative counts")
        return value
    return V.check_weight_vector("cum_samples", value, length=num_classes, allow_scalar=False)


def distribution_balanced(samples_per_class, num_samples, gamma_value, balance_param, map_alpha, map_beta, map_gamma,
                          neg_scale, init_bias):
    """The Distribution-Balanced loss's arguments in canonical form: (counts, num_samples,
    gamma, balance_param, map_alpha, map_beta, map_gamma, neg_scale, init_bias)."""
    if samples_per_class is None:
        raise ValueError("Invalid `samples_per_class`: received None; expected K positive counts.")
    counts = V.check_weight_vector("samples_per_class", samples_per_class, allow_scalar=False)
    total = V.check_number("num_samples", num_samples, low=0.0, low_open=True)
    V.check_class_counts_below("samples_per_class", counts, total, "num_samples")
    return (counts, total, gamma("gamma", gamma_value), V.check_number("balance_param", balance_param, low=0.0),
            V.check_number("map_alpha", map_alpha, low=0.0), V.check_number("map_beta", map_beta, low=0.0),
            V.check_number("map_gamma", map_gamma), V.check_number("neg_scale", neg_scale, low=0.0, low_open=True),
            V.check_number("init_bias", init_bias))


def distribution_balanced_constants(counts: np.ndarray, total: float, init_bias: float, neg_scale: float):
    """(1 / n_c, the logit bias b_c = -log(N / n_c - 1) init_bias / neg_scale), float64, as the
    reference's `freq_inv` and `init_bias` (N = the reference's `train_num`)."""
    return 1.0 / counts, -np.log(total / counts - 1.0) * init_bias / neg_scale


# ---- long-tail losses: LDAM, balanced softmax, poly


def ldam(samples_per_class: Any, max_margin, scale, class_weight):
    """(margins, max_margin, scale, class_weight) for LDAM (Cao et al. 2019): m_c = C / n_c^(1/4)
    with C chosen so that the largest margin (the rarest class's) is `max_margin`; the class
    weight defaults to ones (a value the loss keeps, so that it can be switched later)."""
    counts = V.check_counts("samples_per_class", samples_per_class)
    max_margin = V.check_number("max_margin", max_margin, low=0.0)
    scale = V.check_number("scale", scale, low=0.0, low_open=True)  # the anchor asserts s > 0
    inv = counts ** -0.25
    margins = inv * (max_margin / inv.max())
    weights = V.check_weight_vector("class_weight", class_weight, length=counts.size, allow_scalar=False)
    return margins, max_margin, scale, np.ones(counts.size) if weights is None else weights


def balanced_softmax(samples_per_class: Any) -> np.ndarray:
    """Class priors n_c / n of balanced softmax (Ren et al. 2020): logit adjustment, tau 1."""
    counts = V.check_counts("samples_per_class", samples_per_class)
    return counts / counts.sum()


def poly(epsilon, gamma_value):
    """(epsilon, gamma) of Poly-1 (Leng et al. 2022). epsilon >= -1: below it the loss turns
    negative near p_t = 1 (CE ~ 1 - p_t there) and is no longer minimised at the target."""
    return V.check_number("epsilon", epsilon, low=-1.0), gamma("gamma", gamma_value)
