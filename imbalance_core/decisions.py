"""Decisions after training, framework-neutral (NumPy): prior correction and threshold tuning.

tf_impl.decisions and torch_impl.decisions wrap these with native tensors in and out; the
arithmetic, the checks and their messages live here once.

Prior correction (Bayes' rule): a model trained on batches whose class prior is pi_train
estimates p_train(c | x) proportional to p(x | c) pi_train_c; for data with prior pi_target,
p(c | x) is proportional to p(x | c) pi_target_c, so
    softmax logits:  x_c + log pi_target_c - log pi_train_c
    sigmoid logits:  x + logit(pi_target) - logit(pi_train)   (priors of the positive class)
(Saerens, Latinne and Decaestecker 2002, "Adjusting the outputs of a classifier to new a
priori probabilities"; with pi_target uniform it is the post-hoc logit adjustment of Menon et
al. 2021 at tau = 1.)

Threshold tuning: predicted positive when score > threshold (the rule of
`metrics.BalancedAccuracy(threshold=...)`); the search is exact over every threshold: minus
infinity (everything positive) and each distinct score (the last one: everything negative).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .validation import (
    binary_labels_message,
    both_classes_message,
    check_choice,
    check_fractions,
    check_integer,
    check_number,
    check_positive_class_priors,
    check_priors,
    check_weight_vector,
    finite_scores_message,
    min_tpr_message,
    missing_prior_message,
    negative_sample_weight_message,
    per_sample_weight_message,
    prior_length_message,
    scalar_prior_message,
    shape_message,
    to_numpy,
    zero_training_weight_message,
)

__all__ = [
    "ACTIVATIONS",
    "OBJECTIVES",
    "ThresholdResult",
    "prior_args",
    "prior_shift",
    "training_prior",
    "threshold_args",
    "tune_threshold",
    "best_threshold",
    "check_num_bins",
    "grid_thresholds",
    "grid_gap_bound",
    "bins_of",
]

ACTIVATIONS = ("softmax", "sigmoid")
OBJECTIVES = ("balanced_accuracy", "weighted_balanced_accuracy", "f_beta", "tpr_at_least")


class ThresholdResult(NamedTuple):
    """What threshold tuning returns: predict positive when score > `threshold`; `score` is
    the objective reached there (for "tpr_at_least": the TNR).

    Examples:
        >>> result = tune_threshold(np.array([0, 1]), np.array([0.2, 0.7]))
        >>> result.threshold, result.score
        (0.2, 1.0)
    """

    threshold: Any
    score: Any


# ------------------------------------------------------------------------------ prior shift


def prior_args(train_prior: Any, target_prior: Any, activation: str) -> tuple[np.ndarray, np.ndarray, str]:
    """Validated (train_prior, target_prior, activation): softmax priors normalised to sum to
    1 (positive, one per class); sigmoid priors in (0, 1), a scalar or one per label. The two
    priors must have the same length.

    Two scalar priors can only be the positive class's priors of sigmoid logits, so they are
    taken as such whatever `activation` says (the activation returned is then "sigmoid"; on
    softmax logits the same scalar shift of every class would change no probability). One
    scalar beside a per-class vector is an error under "softmax": which one was meant is not
    knowable.

    Examples:
        >>> train, target, activation = prior_args([1, 1], [9, 1], "softmax")
        >>> print(train, target, activation)
        [0.5 0.5] [0.9 0.1] softmax
    """
    activation = check_choice("activation", activation, ACTIVATIONS)
    if activation == "softmax":
        scalars = [_is_scalar(train_prior), _is_scalar(target_prior)]
        if all(scalars):
            activation = "sigmoid"
        elif scalars[0]:
            raise ValueError(scalar_prior_message("train_prior", train_prior, "target_prior"))
        elif scalars[1]:
            raise ValueError(scalar_prior_message("target_prior", target_prior, "train_prior"))
    if activation == "softmax":
        train = check_priors("train_prior", train_prior)
        target = check_priors("target_prior", target_prior)
    else:
        train = check_positive_class_priors("train_prior", train_prior)
        target = check_positive_class_priors("target_prior", target_prior)
    if train.ndim == 1 and target.ndim == 1 and train.shape != target.shape:
        raise ValueError(prior_length_message("target_prior", target.shape[0], train.shape[0], "train_prior"))
    if activation == "softmax" or train.shape == target.shape:
        return train, target, activation
    # sigmoid: a scalar prior applies to every label
    shape = np.broadcast_shapes(train.shape, target.shape)
    return np.broadcast_to(train, shape).copy(), np.broadcast_to(target, shape).copy(), activation


def _is_scalar(value: Any) -> bool:
    """A Python number, a 0-d array or a 0-d tensor (what a sigmoid prior may be)."""
    if value is None or isinstance(value, (str, bytes)):
        return False
    try:
        return np.ndim(to_numpy(value)) == 0
    except Exception:  # not array-like: the prior's own check reports it
        return False


def prior_shift(train_prior: np.ndarray, target_prior: np.ndarray, activation: str) -> np.ndarray:
    """The float64 vector (or scalar) added to the logits, from validated priors:
    log target - log train (softmax), logit(target) - logit(train) (sigmoid).

    Examples:
        >>> print(prior_shift(np.array([0.5, 0.5]), np.array([0.9, 0.1]), "softmax").round(4))
        [ 0.5878 -1.6094]
    """
    if activation == "softmax":
        return np.asarray(np.log(target_prior) - np.log(train_prior))
    # np.asarray: a 0-d prior (one binary logit) gives a 0-d array, not a NumPy scalar
    return np.asarray((np.log(target_prior) - np.log1p(-target_prior)) - (np.log(train_prior) - np.log1p(-train_prior)))


def training_prior(
    *,
    data_prior: Any = None,
    class_fractions: Any = None,
    class_weight: Any = None,
) -> np.ndarray:
    """The class prior a model was effectively trained on: pi_train_c = s_c w_c / sum_j s_j w_j.

    s is the prior of the batches: `class_fractions` for a balanced pipeline
    (`data.balanced_batches` / `BalancedBatchSampler`; give [1/K] * K for their default, equal
    fractions) or `data_prior` (the classes' frequencies in the data) for plain shuffled
    batches; exactly one of the two. `class_weight` w (one per class, e.g. from
    `compute_class_weight`; default all 1) multiplies each class's loss, which has the effect
    of sampling class c w_c times as often. For a sigmoid (binary) model with `pos_weight` and
    `neg_weight`, pass class_weight=[neg_weight, pos_weight] and use element 1 (the positive
    class) as its `train_prior`.

    Returns a float64 NumPy vector summing to 1, the `train_prior` of `shift_prior`.

    Examples:
        >>> print(training_prior(class_fractions=[0.5, 0.5]))
        [0.5 0.5]
        >>> print(training_prior(data_prior=[0.95, 0.05], class_weight=[0.5263, 10.0]).round(3))
        [0.5 0.5]
    """
    if (data_prior is None) == (class_fractions is None):
        raise ValueError(missing_prior_message())
    if class_fractions is not None:
        sampled = check_fractions("class_fractions", class_fractions)
    else:
        sampled = check_priors("data_prior", data_prior)
    if class_weight is None:
        return sampled / sampled.sum()
    weight = check_weight_vector("class_weight", class_weight, length=sampled.shape[0], allow_scalar=False)
    product = sampled * weight
    if not product.sum() > 0:
        raise ValueError(zero_training_weight_message(weight))
    return product / product.sum()


# ------------------------------------------------------------------------- threshold tuning


def threshold_args(objective: Any, alpha: Any, beta: Any, min_tpr: Any) -> tuple[str, float, float, float | None]:
    """Validated (objective, alpha, beta, min_tpr); min_tpr is required by "tpr_at_least" and
    must be None otherwise.

    Examples:
        >>> threshold_args("tpr_at_least", 0.5, 1.0, 0.9)
        ('tpr_at_least', 0.5, 1.0, 0.9)
    """
    objective = check_choice("objective", objective, OBJECTIVES)
    alpha = check_number("alpha", alpha, low=0.0, high=1.0)
    beta = check_number("beta", beta, low=0.0, low_open=True)
    if objective == "tpr_at_least":
        try:
            min_tpr = check_number("min_tpr", min_tpr, low=0.0, high=1.0)
        except ValueError:
            raise ValueError(min_tpr_message(objective, min_tpr)) from None
    elif min_tpr is not None:
        raise ValueError(min_tpr_message(objective, min_tpr))
    return objective, alpha, beta, min_tpr


def _threshold_inputs(y_true: Any, scores: Any, sample_weight: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flat (labels as bool, scores as float64, weights as float64), checked."""
    y = np.asarray(to_numpy(y_true))
    s = np.asarray(to_numpy(scores))
    if y.shape != s.shape:
        raise ValueError(shape_message("y_true", y.shape, "scores", s.shape))
    y, s = y.reshape(-1), s.reshape(-1).astype(np.float64)
    if y.dtype == bool:
        y = y.astype(np.int64)
    if not np.all((y == 0) | (y == 1)):
        raise ValueError(binary_labels_message("y_true", y[(y != 0) & (y != 1)]))
    if not np.all(np.isfinite(s)):
        raise ValueError(finite_scores_message("scores", s[~np.isfinite(s)]))
    if sample_weight is None:
        w = np.ones_like(s)
    else:
        w = np.asarray(to_numpy(sample_weight), dtype=np.float64)
        if w.shape != (s.size,) and w.shape != np.shape(scores):
            raise ValueError(per_sample_weight_message(w.shape, s.size))
        w = w.reshape(-1)
        if not np.all(np.isfinite(w) & (w >= 0)):
            raise ValueError(negative_sample_weight_message(w[~(np.isfinite(w) & (w >= 0))]))
    return y == 1, s, w


def _rates(tp: np.ndarray, fp: np.ndarray, positives: float, negatives: float) -> tuple[np.ndarray, np.ndarray]:
    return tp / positives, (negatives - fp) / negatives


def _objective(tp: np.ndarray, fp: np.ndarray, positives: float, negatives: float, objective: str, alpha: float,
               beta: float, min_tpr: float | None) -> np.ndarray:
    """The objective at every candidate from the weighted counts predicted positive (float64)."""
    tpr, tnr = _rates(tp, fp, positives, negatives)
    if objective == "balanced_accuracy":
        return 0.5 * tpr + 0.5 * tnr
    if objective == "weighted_balanced_accuracy":
        return alpha * tpr + (1.0 - alpha) * tnr
    if objective == "f_beta":
        b2 = beta * beta
        den = b2 * positives + tp + fp  # = (1 + b2) TP + b2 FN + FP
        return np.where(tp > 0, (1.0 + b2) * tp / np.where(den > 0, den, 1.0), 0.0)
    return np.where(tpr >= min_tpr, tnr, -np.inf)


def best_threshold(values: Any, pos_hist: Any, neg_hist: Any, *, objective: str, alpha: float, beta: float,
                   min_tpr: float | None, target_name: str = "y_true") -> ThresholdResult:
    """The best threshold over candidates [-inf, values...] (values ascending), from the
    weighted positive and negative counts at each value (or in each bin ending at that
    value). Threshold t predicts positive the counts at values > t, so the candidate -inf
    predicts everything positive and values[-1] everything negative. Ties go to the lowest
    threshold (the highest TPR). `target_name` names the labels in the error when a class has
    no weight. Returns Python floats.

    Examples:
        >>> values, positives, negatives = np.array([0.2, 0.6]), np.array([0.0, 1.0]), np.array([1.0, 0.0])
        >>> best_threshold(values, positives, negatives, objective="balanced_accuracy", alpha=0.5, beta=1.0,
        ...                min_tpr=None)
        ThresholdResult(threshold=0.2, score=1.0)
    """
    pos_hist = np.asarray(pos_hist, np.float64)
    neg_hist = np.asarray(neg_hist, np.float64)
    # suffix sums, not total - prefix: no cancellation at the high end
    tp = np.append(np.cumsum(pos_hist[::-1])[::-1], 0.0)
    fp = np.append(np.cumsum(neg_hist[::-1])[::-1], 0.0)
    positives, negatives = float(tp[0]), float(fp[0])
    if not (positives > 0 and negatives > 0):
        raise ValueError(both_classes_message(target_name, positives, negatives))
    values = np.concatenate([[-np.inf], np.asarray(values, np.float64)])
    score = _objective(tp, fp, positives, negatives, objective, alpha, beta, min_tpr)
    best = int(np.argmax(score))  # first maximum: the lowest threshold among ties
    return ThresholdResult(float(values[best]), float(score[best]))


def tune_threshold(
    y_true: Any,
    scores: Any,
    *,
    objective: str = "balanced_accuracy",
    alpha: float = 0.5,
    beta: float = 1.0,
    min_tpr: float | None = None,
    sample_weight: Any = None,
) -> ThresholdResult:
    """Exact threshold search in O(N log N) (one sort); see tf_impl/torch_impl.decisions.
    Returns Python floats: (threshold, score).

    Examples:
        >>> tune_threshold([0, 0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8, 0.3])
        ThresholdResult(threshold=0.4, score=0.75)
    """
    objective, alpha, beta, min_tpr = threshold_args(objective, alpha, beta, min_tpr)
    y, s, w = _threshold_inputs(y_true, scores, sample_weight)
    values, inverse = np.unique(s, return_inverse=True)
    pos_hist = np.bincount(inverse, weights=np.where(y, w, 0.0), minlength=values.size)
    neg_hist = np.bincount(inverse, weights=np.where(y, 0.0, w), minlength=values.size)
    return best_threshold(values, pos_hist, neg_hist, objective=objective, alpha=alpha, beta=beta, min_tpr=min_tpr)


# ------------------------------------------------------------------- the streaming form's grid


def check_num_bins(num_bins: Any) -> int:
    """The streaming tuner's `num_bins`: an integer in [1, 2^24].

    Examples:
        >>> check_num_bins(1024)
        1024
        >>> check_num_bins(0)
        Traceback (most recent call last):
            ...
        ValueError: Invalid `num_bins`: received 0; expected an integer in [1, 16777216].
    """
    return check_integer("num_bins", num_bins, low=1, high=2**24)


def grid_thresholds(num_bins: int) -> np.ndarray:
    """The streaming tuner's candidates after -inf: k / num_bins for k = 0..num_bins.

    Bin 0 holds the probabilities p <= 0, bin k (1..num_bins) those in ((k-1)/n, k/n]:
    bin = clip(ceil(p n), 0, n). Threshold k/n then predicts positive exactly bins k+1..n,
    so every candidate's counts are exact sums over bins.

    Examples:
        >>> print(grid_thresholds(4))
        [0.   0.25 0.5  0.75 1.  ]
    """
    return np.arange(num_bins + 1, dtype=np.float64) / num_bins


def grid_gap_bound(pos_hist: Any, neg_hist: Any, *, alpha: float = 0.5) -> float:
    """An upper bound on (exact optimum) - (best grid threshold) for
    alpha TPR + (1 - alpha) TNR (alpha = 0.5: balanced accuracy): moving the threshold from
    the exact optimum down to the grid point below it changes the decisions inside one bin
    only, so the objective changes by at most max_k [alpha pos_k / P + (1 - alpha) neg_k / N].
    Scores already on the grid give no gap (the tuner then equals tune_threshold).

    Examples:
        >>> grid_gap_bound(np.array([0.0, 1.0, 3.0]), np.array([4.0, 1.0, 0.0]))
        0.4
    """
    pos_hist = np.asarray(pos_hist, np.float64)
    neg_hist = np.asarray(neg_hist, np.float64)
    return float(np.max(alpha * pos_hist / pos_hist.sum() + (1.0 - alpha) * neg_hist / neg_hist.sum()))


def bins_of(probabilities: np.ndarray, num_bins: int) -> np.ndarray:
    """NumPy reference of the bin rule (the frameworks compute it natively).

    Examples:
        >>> print(bins_of(np.array([0.0, 0.1, 0.25, 0.26, 1.0]), 4))
        [0 1 1 2 4]
    """
    return np.clip(np.ceil(np.asarray(probabilities, np.float64) * num_bins), 0, num_bins).astype(np.int64)

