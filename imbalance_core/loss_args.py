"""Argument checks of the losses, shared by tf_impl.losses and torch_impl.losses.

Each function checks one argument (or derives a loss's constants from its checked arguments)
and returns it in canonical form (floats, float64 NumPy vectors), raising the same ValueError
in both frameworks. The declarations in `imbalance_core.loss_specs` say which check each
argument gets; class-balanced weights, LDAM margins and the Distribution-Balanced constants
are computed here, once.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from . import validation
from .class_weights import weights_from_counts

NORMALIZATIONS = ("weight", "count")
CB_BASES = ("softmax", "sigmoid", "focal")


def gamma(name: str, value: Any) -> float:
    return validation.check_number(name, value, low=0.0)


def non_negative(name: str, value: Any) -> float:
    return validation.check_number(name, value, low=0.0)


def positive(name: str, value: Any) -> float:
    return validation.check_number(name, value, low=0.0, low_open=True)


def probability_margin(name: str, value: Any) -> float:
    """A number in [0, 1) (ASL's clip)."""
    return validation.check_number(name, value, low=0.0, high=1.0, high_open=True)


def unit_interval(name: str, value: Any) -> float:
    return validation.check_number(name, value, low=0.0, high=1.0)


def number(name: str, value: Any) -> float:
    return validation.check_number(name, value)


def flag(name: str, value: Any) -> bool:
    return validation.check_bool(name, value)


def weight_vector(name: str, value: Any) -> np.ndarray | None:
    """None, a non-negative scalar or a vector (sigmoid family: per label)."""
    return validation.check_weight_vector(name, value)


def class_weight_vector(name: str, value: Any) -> np.ndarray | None:
    """None or a vector of non-negative class weights."""
    return validation.check_weight_vector(name, value, allow_scalar=False)


def alpha_scalar(name: str, value: Any) -> float | None:
    """None or a number in [0, 1] (sigmoid family)."""
    return None if value is None else validation.check_number(name, value, low=0.0, high=1.0)


def alpha_vector(name: str, value: Any) -> float | np.ndarray | None:
    """None, a scalar in [0, 1] or a vector of values in [0, 1] (softmax family)."""
    if value is None:
        return None
    if np.ndim(validation.to_numpy(value)) == 0:
        return validation.check_number(name, value, low=0.0, high=1.0)
    w = validation.require_weight_vector(name, value, allow_scalar=False)
    if np.any(w > 1):
        raise ValueError(validation.unit_weights_message(name, w))
    return w


def normalization(name: str, value: Any) -> str:
    return validation.check_choice(name, value, NORMALIZATIONS)


def cb_base(name: str, value: Any) -> str:
    return validation.check_choice(name, value, CB_BASES)


def ignore_index(name: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(validation.integer_or_none_message(name, value))
    return int(value)


def priors(name: str, value: Any) -> np.ndarray:
    return validation.check_priors(name, value)


def counts(name: str, value: Any) -> np.ndarray:
    """Samples per class, every class with at least one."""
    return validation.check_counts(name, value)


def weighted_counts(name: str, value: Any) -> np.ndarray:
    """Samples per class (class-balanced weights): every class needs one to get a weight."""
    return validation.check_counts(name, value, purpose="to get a weight")


def label_counts(name: str, value: Any) -> np.ndarray:
    """Positives per label (multi-label): a vector of non-negative counts."""
    if value is None:
        raise ValueError(validation.none_message(name, "K positive counts"))
    return validation.require_weight_vector(name, value, allow_scalar=False)


def num_classes(name: str, value: Any) -> int:
    return validation.check_integer(name, value, low=1)


def poly_epsilon(name: str, value: Any) -> float:
    """epsilon >= -1: below it Poly-1 turns negative near p_t = 1 (CE ~ 1 - p_t there) and is
    no longer minimised at the target."""
    return validation.check_number(name, value, low=-1.0)


def cum_samples(name: str, value: Any) -> Any:
    """Cumulative class counts given to the functional Seesaw loss: NumPy / sequences are
    checked in full (non-negative, finite, a vector); a native tensor only by its static shape
    (its values would cost a host read per call), as a length check against the logits later."""
    if value is None:
        raise ValueError(validation.none_message(name, "K non-negative counts"))
    if hasattr(value, "shape") and not isinstance(value, np.ndarray):
        validation.check_vector_rank(name, tuple(value.shape), "K non-negative counts")
        return value
    return validation.check_weight_vector(name, value, allow_scalar=False)


# ---- constants derived from several checked arguments


def class_balanced_weights(samples_per_class: np.ndarray, beta: float) -> np.ndarray:
    """w_c = (1 - beta) / (1 - beta^n_c), rescaled to sum to K (Cui et al. 2019)."""
    return weights_from_counts(samples_per_class, "effective_number", beta)


class LDAMConstants(NamedTuple):
    margins: np.ndarray  # m_c = C / n_c^(1/4), the rarest class's margin = max_margin
    class_weight: np.ndarray  # the class weights, ones by default (a value the loss keeps and may switch)


def ldam_constants(samples_per_class: np.ndarray, max_margin: float, class_weight: Any) -> LDAMConstants:
    inv = samples_per_class ** -0.25
    weights = validation.check_weight_vector("class_weight", class_weight, length=samples_per_class.size,
                                             allow_scalar=False)
    return LDAMConstants(inv * (max_margin / inv.max()),
                         np.ones(samples_per_class.size) if weights is None else weights)


class DistributionBalancedConstants(NamedTuple):
    freq_inv: np.ndarray  # 1 / n_c, the reference's `freq_inv`
    logit_bias: np.ndarray  # b_c = -log(N / n_c - 1) init_bias / neg_scale, the reference's `init_bias`


def distribution_balanced_constants(samples_per_class: np.ndarray, num_samples: float, init_bias: float,
                                    neg_scale: float) -> DistributionBalancedConstants:
    """The reference's constants, float64 (N = the reference's `train_num`)."""
    validation.check_class_counts_below("samples_per_class", samples_per_class, num_samples, "num_samples")
    return DistributionBalancedConstants(
        1.0 / samples_per_class, -np.log(num_samples / samples_per_class - 1.0) * init_bias / neg_scale)
