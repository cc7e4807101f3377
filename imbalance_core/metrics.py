"""NumPy side of the imbalance metrics: argument and input checks, the rules that read inputs
from their shapes, and the float64 reference of every formula on an accumulated confusion
matrix.

Both `tf_impl.metrics` (keras.ops) and `torch_impl.metrics` (torch) keep the same state, a
K x K matrix C of summed sample weights (C[i, j]: true class i, predicted class j; K = 2 in
binary mode), and compute the results below with their own ops so that they run inside a
compiled graph; this module is the oracle they are tested against and the single source of
their error messages. Each package passes its `Convention` (argument names and shape rule),
so that a message names that package's arguments: Keras's `y_true`/`y_pred`, torch's
`target`/`preds`.

The long-tail metrics (GeometricMean, MatthewsCorrelation, PerClassRecall, ShotAccuracy) are
functions of the same matrix; their definitions are at the end of this module.

Definitions (scikit-learn's): recall_c = C[c, c] / sum_j C[c, j]; a class is *present* when
its row sum is > 0. Balanced accuracy = mean recall over present classes; adjusted:
(score - 1/P) / (1 - 1/P) with P present classes. Undefined ratios give 0 (scikit-learn's
`zero_division` default for recall): no present class, and adjusted with P = 1 (scikit-learn
divides by zero there).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from .validation import (
    binary_values_message,
    check_bool,
    check_class_indices,
    check_integer,
    check_number,
    check_samples_per_class,
    check_shot_thresholds,
    class_axis_message,
    fractional_indices_message,
    multiclass_shape_message,
    sample_weight_values_message,
    shape_message,
    to_numpy,
    values_range_message,
    weight_axes_message,
)

__all__ = [
    "Convention",
    "KERAS",
    "TORCH",
    "Layout",
    "check_metric_args",
    "decision_threshold",
    "layout",
    "weight_squeeze",
    "checks_probabilities",
    "check_bool",
    "check_metric_values",
    "confusion_matrix",
    "balanced_accuracy_from_confusion",
    "true_positive_rate_from_confusion",
    "true_negative_rate_from_confusion",
    "weighted_balanced_accuracy_from_confusion",
    "check_correction",
    "check_shot_args",
    "SHOT_GROUPS",
    "shot_groups",
    "geometric_mean_from_confusion",
    "matthews_correlation_from_confusion",
    "per_class_recall_from_confusion",
    "shot_accuracy_from_confusion",
]


class Convention(NamedTuple):
    """How a package names and shapes the metric inputs.

    Examples:
        >>> TORCH.target, TORCH.preds, KERAS.target, KERAS.preds
        ('target', 'preds', 'y_true', 'y_pred')
    """

    target: str  # the labels' argument name
    preds: str  # the scores' argument name
    # Keras's `squeeze_or_expand_to_same_rank` rule: binary labels and scores whose shapes
    # differ by one trailing axis of size 1 ((B,) against (B, 1), and the reverse) are
    # aligned. torch (torchmetrics) wants the same shape.
    trailing_one: bool


KERAS = Convention(target="y_true", preds="y_pred", trailing_one=True)
TORCH = Convention(target="target", preds="preds", trailing_one=False)


class Layout(NamedTuple):
    """How to read (target, preds) of static shapes, from `layout`.

    Examples:
        >>> layout(None, (4,), (4, 1), KERAS)
        Layout(mode='binary', squeeze_target=False, squeeze_preds=True, sample_shape=(4,))
    """

    mode: str  # "binary", "sparse" (class indices) or "onehot"
    squeeze_target: bool  # drop the target's trailing axis of size 1 first
    squeeze_preds: bool  # drop the scores' trailing axis of size 1 first (binary, Keras)
    sample_shape: tuple  # the shape of one weight per decision, after those squeezes


def check_metric_args(num_classes: int | None, threshold: Any, from_logits: Any) -> tuple[int | None, float, bool]:
    """The arguments every metric shares, validated; returns (num_classes, threshold, from_logits).

    Examples:
        >>> check_metric_args(3, 0.5, False)
        (3, 0.5, False)
        >>> check_metric_args(1, 0.5, False)
        Traceback (most recent call last):
            ...
        ValueError: Invalid `num_classes`: received 1; expected an integer >= 2 or None.
    """
    num_classes = check_integer("num_classes", num_classes, low=2, allow_none=True)
    threshold = check_number("threshold", threshold, low=0.0, high=1.0)
    return num_classes, threshold, check_bool("from_logits", from_logits)


def decision_threshold(threshold: float, from_logits: bool) -> float:
    """The cut that `preds > cut` uses: `threshold` on probabilities, logit(threshold) on
    logits (sigma(x) > t  <=>  x > log(t / (1 - t)), exact for t = 0.5, no sigmoid rounding).

    Examples:
        >>> decision_threshold(0.5, from_logits=True)
        0.0
        >>> round(decision_threshold(0.9, from_logits=True), 4)
        2.1972
        >>> decision_threshold(0.9, from_logits=False)
        0.9
    """
    if not from_logits:
        return threshold
    if threshold <= 0.0:
        return -math.inf
    if threshold >= 1.0:
        return math.inf
    return math.log(threshold) - math.log1p(-threshold)


def checks_probabilities(mode: str, from_logits: bool) -> bool:
    """Scores must be probabilities in [0, 1] only where a threshold applies: binary mode with
    from_logits=False. Multi-class takes any real scores (the argmax of logits and of their
    softmax is the same), as Keras's accuracy metrics and torchmetrics do.

    Examples:
        >>> checks_probabilities("binary", from_logits=False)
        True
        >>> checks_probabilities("sparse", from_logits=False)
        False
    """
    return mode == "binary" and not from_logits


def _compatible(a: Sequence[int | None], b: Sequence[int | None]) -> bool:
    """Equal shapes, where an unknown dimension (None, in a traced graph) matches anything."""
    return len(a) == len(b) and all(x is None or y is None or x == y for x, y in zip(a, b))


def _merged(a: Sequence[int | None], b: Sequence[int | None]) -> tuple:
    """Two compatible shapes as one, known dimensions taken from either."""
    return tuple(y if x is None else x for x, y in zip(a, b))


def layout(num_classes: int | None, target_shape: Sequence[int], preds_shape: Sequence[int],
           conv: Convention) -> Layout:
    """How to read (target, preds) from their static shapes; raises ValueError on a mismatch.

    Binary (num_classes None): element-wise 0/1 labels of the scores' shape; with
    `conv.trailing_one` (Keras) also shapes that differ by one trailing axis of size 1.
    Multi-class: scores (..., K); class indices (...) or (..., 1), or one-hot (..., K).

    Examples:
        >>> layout(3, (4,), (4, 3), TORCH)
        Layout(mode='sparse', squeeze_target=False, squeeze_preds=False, sample_shape=(4,))
        >>> layout(None, (4,), (4, 1), KERAS).squeeze_preds
        True
    """
    t, p = tuple(target_shape), tuple(preds_shape)
    if num_classes is None:
        if _compatible(t, p):
            return Layout("binary", False, False, _merged(t, p))
        if conv.trailing_one:
            if len(t) == len(p) + 1 and t[-1] == 1 and _compatible(t[:-1], p):
                return Layout("binary", True, False, _merged(t[:-1], p))
            if len(p) == len(t) + 1 and p[-1] == 1 and _compatible(t, p[:-1]):
                return Layout("binary", False, True, _merged(t, p[:-1]))
        raise ValueError(shape_message(conv.target, t, conv.preds, p))
    if len(p) < 1 or (p[-1] is not None and p[-1] != num_classes):
        raise ValueError(class_axis_message(conv.preds, p, num_classes))
    if _compatible(t, p):
        return Layout("onehot", False, False, _merged(t[:-1], p[:-1]))
    if _compatible(t, p[:-1]):
        return Layout("sparse", False, False, _merged(t, p[:-1]))
    if _compatible(t, p[:-1] + (1,)):
        return Layout("sparse", True, False, _merged(t[:-1], p[:-1]))
    raise ValueError(multiclass_shape_message(conv.target, t, conv.preds, p))


def weight_squeeze(weight_shape: Sequence[int], sample_shape: Sequence[int]) -> bool:
    """Whether `sample_weight` of `weight_shape` must drop a trailing axis of size 1 to fit the
    per-decision `sample_shape`; raises ValueError when it does not fit at all.

    Fits: a scalar, the leading axes of the per-decision shape (broadcast over the trailing
    ones, Keras's convention), or either with a trailing axis of size 1 ((B, 1) weights,
    as Keras's own metrics accept). Both packages follow this rule.

    Examples:
        >>> weight_squeeze((4, 1), (4,))
        True
        >>> weight_squeeze((4,), (4,))
        False
    """
    w, s = tuple(weight_shape), tuple(sample_shape)
    if len(w) <= len(s) and _compatible(w, s[: len(w)]):
        return False
    if len(w) >= 1 and w[-1] == 1 and len(w) - 1 <= len(s) and _compatible(w[:-1], s[: len(w) - 1]):
        return True
    raise ValueError(weight_axes_message(w, s))


def check_metric_values(layout_: Layout, num_classes: int | None, from_logits: bool, target: Any, preds: Any,
                        sample_weight: Any, conv: Convention) -> None:
    """Content checks on concrete (NumPy-convertible) inputs, element-wise (so `layout`'s
    squeezes do not matter). The same conditions and messages in both packages; torch_impl
    evaluates the conditions with torch ops and calls this only to raise.

    Examples:
        >>> lay = layout(None, (3,), (3,), TORCH)
        >>> check_metric_values(lay, None, False, np.array([0, 1, 1]), np.array([0.2, 0.9, 0.6]), None, TORCH)
        >>> check_metric_values(lay, None, False, np.array([0, 1, 2]), np.array([0.2, 0.9, 0.6]), None, TORCH)
        Traceback (most recent call last):
            ...
        ValueError: Invalid `target`: binary labels must be 0 or 1; received [2].
    """
    mode = layout_.mode
    target = np.asarray(to_numpy(target))
    if checks_probabilities(mode, from_logits):
        values = np.asarray(to_numpy(preds)).astype(np.float64)
        if values.size and not np.all((values >= 0.0) & (values <= 1.0)):
            lo, hi = float(np.min(values)), float(np.max(values))
            raise ValueError(values_range_message(conv.preds, 0.0, 1.0, lo, hi, "probabilities",
                                                  "pass from_logits=True for logits"))
    if mode == "binary":
        bad = (target != 0) & (target != 1)
        if np.any(bad):
            raise ValueError(binary_values_message(conv.target, target[bad]))
    elif mode == "onehot":
        values = target.astype(np.float64)
        if values.size and not np.all((values >= 0.0) & (values <= 1.0)):
            lo, hi = float(np.min(values)), float(np.max(values))
            raise ValueError(values_range_message(conv.target, 0.0, 1.0, lo, hi, "one-hot labels"))
    else:
        if target.dtype.kind == "f" and np.any(target != np.round(target)):
            raise ValueError(fractional_indices_message(conv.target, target[target != np.round(target)]))
        assert num_classes is not None, "class indices come with num_classes (layout 'sparse')"
        check_class_indices(conv.target, target, num_classes)
    if sample_weight is not None:
        w = np.asarray(to_numpy(sample_weight), dtype=np.float64)
        if not np.all(np.isfinite(w)) or np.any(w < 0):
            raise ValueError(sample_weight_values_message(w))


def confusion_matrix(target_idx: Any, pred_idx: Any, num_classes: int, sample_weight: Any = None) -> np.ndarray:
    """C[i, j] = summed weight of samples with true class i predicted as j (float64, K x K).

    Examples:
        >>> print(confusion_matrix(np.array([0, 0, 1, 2]), np.array([0, 1, 1, 2]), 3))
        [[1. 1. 0.]
         [0. 1. 0.]
         [0. 0. 1.]]
    """
    t = np.asarray(target_idx, dtype=np.int64).ravel()
    p = np.asarray(pred_idx, dtype=np.int64).ravel()
    if sample_weight is None:
        w = np.ones(t.size)
    else:
        w = np.broadcast_to(np.asarray(sample_weight, np.float64), np.shape(target_idx)).ravel()
    cm = np.zeros((num_classes, num_classes))
    np.add.at(cm, (t, p), w)
    return cm


def balanced_accuracy_from_confusion(cm: np.ndarray, adjusted: bool = False) -> float:
    """Mean recall over the classes present in the labels (scikit-learn's
    `balanced_accuracy_score`); `adjusted=True` rescales chance to 0. 0 when undefined.

    Examples:
        >>> cm = np.array([[8.0, 2.0], [1.0, 1.0]])
        >>> balanced_accuracy_from_confusion(cm)
        0.65
        >>> round(balanced_accuracy_from_confusion(cm, adjusted=True), 4)
        0.3
    """
    cm = np.asarray(cm, dtype=np.float64)
    support = cm.sum(axis=1)
    present = support > 0
    n_present = int(present.sum())
    if n_present == 0:
        return 0.0
    score = float(np.mean(np.diag(cm)[present] / support[present]))
    if adjusted:
        if n_present == 1:
            return 0.0
        chance = 1.0 / n_present
        score = (score - chance) / (1.0 - chance)
    return score


def _recall(cm: np.ndarray, c: int) -> float:
    """Recall of class `c` of a confusion matrix, C[c, c] / sum_j C[c, j]; 0 when undefined."""
    row = np.asarray(cm, dtype=np.float64)[c]
    support = row.sum()
    return float(row[c] / support) if support > 0 else 0.0


def true_positive_rate_from_confusion(cm: np.ndarray) -> float:
    """Recall of class 1 of a 2 x 2 confusion matrix (sensitivity); 0 when undefined.

    Examples:
        >>> true_positive_rate_from_confusion(np.array([[8.0, 2.0], [1.0, 1.0]]))
        0.5
    """
    return _recall(cm, 1)


def true_negative_rate_from_confusion(cm: np.ndarray) -> float:
    """Recall of class 0 of a 2 x 2 confusion matrix (specificity); 0 when undefined.

    Examples:
        >>> true_negative_rate_from_confusion(np.array([[8.0, 2.0], [1.0, 1.0]]))
        0.8
    """
    return _recall(cm, 0)


def weighted_balanced_accuracy_from_confusion(cm: np.ndarray, alpha: float = 0.5) -> float:
    """alpha TPR + (1 - alpha) TNR of a 2 x 2 confusion matrix.

    Examples:
        >>> round(weighted_balanced_accuracy_from_confusion(np.array([[8.0, 2.0], [1.0, 1.0]]), alpha=0.7), 4)
        0.59
    """
    return alpha * true_positive_rate_from_confusion(cm) + (1.0 - alpha) * true_negative_rate_from_confusion(cm)


# --------------------------------------------------------------------------------------------
# Long-tail metrics: G-mean, MCC, per-class recall, shot accuracy
# --------------------------------------------------------------------------------------------

SHOT_GROUPS = ("many", "medium", "few")  # the order of ShotAccuracy's result


def check_correction(correction: Any) -> float:
    """GeometricMean's `correction`: the recall that replaces a zero recall, in [0, 1].

    Examples:
        >>> check_correction(0.001)
        0.001
    """
    return check_number("correction", correction, low=0.0, high=1.0)


def check_shot_args(samples_per_class: Any, many_threshold: Any, few_threshold: Any) -> tuple[np.ndarray, float, float]:
    """ShotAccuracy's arguments, validated: (counts float64 (K,), many_threshold, few_threshold).

    Examples:
        >>> counts, many, few = check_shot_args([500, 60, 5], 100, 20)
        >>> print(counts, many, few)
        [500.  60.   5.] 100.0 20.0
    """
    counts = check_samples_per_class("samples_per_class", samples_per_class)
    many, few = check_shot_thresholds(many_threshold, few_threshold)
    return counts, many, few


def shot_groups(samples_per_class: Any, many_threshold: float = 100, few_threshold: float = 20) -> np.ndarray:
    """The (3, K) float64 membership matrix of the many-, medium- and few-shot groups.

    The OLTR convention (Liu et al. 2019, `shot_acc` in the OLTR code): with n_c training
    samples, class c is many-shot when n_c > many_threshold, few-shot when
    n_c < few_threshold, medium-shot otherwise (the many test first, as OLTR's if/elif).

    Examples:
        >>> print(shot_groups([500, 60, 5, 150]))
        [[1. 0. 0. 1.]
         [0. 1. 0. 0.]
         [0. 0. 1. 0.]]
    """
    n = np.asarray(samples_per_class, dtype=np.float64)
    many = n > many_threshold
    few = ~many & (n < few_threshold)
    return np.stack([many, ~many & ~few, few]).astype(np.float64)


def _recalls(cm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(recall per class, 0 where the class has no sample; support > 0 per class)."""
    support = cm.sum(axis=1)
    present = support > 0
    recall = np.zeros(cm.shape[0])
    recall[present] = np.diag(cm)[present] / support[present]
    return recall, present


def per_class_recall_from_confusion(cm: np.ndarray) -> np.ndarray:
    """recall_c = C[c, c] / sum_j C[c, j] for every class, 0 for a class with no sample
    (scikit-learn's `recall_score(average=None, labels=range(K))`, zero_division's default).

    Examples:
        >>> print(per_class_recall_from_confusion(np.array([[4.0, 0.0, 0.0], [1.0, 3.0, 0.0], [0.0, 2.0, 2.0]])))
        [1.   0.75 0.5 ]
    """
    return _recalls(np.asarray(cm, dtype=np.float64))[0]


def geometric_mean_from_confusion(cm: np.ndarray, correction: float = 0.0) -> float:
    """G-mean: the geometric mean of the per-class recalls over the classes that occur in the
    labels or in the predictions (imbalanced-learn's `geometric_mean_score`,
    average="multiclass"). A class predicted but never true has recall 0; every recall of 0
    is replaced by `correction` first (imbalanced-learn's `correction`). Binary (K = 2, both
    classes occurring): sqrt(TPR x TNR). 0 with no sample.

    Examples:
        >>> cm = np.array([[4.0, 0.0, 0.0], [1.0, 3.0, 0.0], [0.0, 2.0, 2.0]])
        >>> round(geometric_mean_from_confusion(cm), 4)
        0.7211
    """
    cm = np.asarray(cm, dtype=np.float64)
    recall, _ = _recalls(cm)
    included = (cm.sum(axis=1) > 0) | (cm.sum(axis=0) > 0)
    if not included.any():
        return 0.0
    r = np.where(recall > 0, recall, correction)[included]
    if np.any(r == 0):
        return 0.0
    return float(np.exp(np.mean(np.log(r))))


def matthews_correlation_from_confusion(cm: np.ndarray) -> float:
    """MCC (Gorodkin's K-class form, scikit-learn's `matthews_corrcoef`): with t = row sums,
    p = column sums, s = total, c = trace,
    MCC = (c s - t.p) / sqrt((s^2 - t.t)(s^2 - p.p)), and 0 when a factor is 0.
    s^2 - t.t is computed as sum_c t_c (s - t_c) (the same number without rounding s^2).

    Examples:
        >>> round(matthews_correlation_from_confusion(np.array([[8.0, 2.0], [1.0, 1.0]])), 4)
        0.2582
    """
    cm = np.asarray(cm, dtype=np.float64)
    t, p = cm.sum(axis=1), cm.sum(axis=0)
    s = t.sum()
    cov_tp = np.trace(cm) * s - np.sum(t * p)
    cov_tt, cov_pp = np.sum(t * (s - t)), np.sum(p * (s - p))
    if cov_tt == 0 or cov_pp == 0:
        return 0.0
    return float(cov_tp / (np.sqrt(cov_tt) * np.sqrt(cov_pp)))


def shot_accuracy_from_confusion(cm: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """[many, medium, few]: in each group, the mean recall (per-class accuracy) over its
    classes present in the labels, as OLTR's `shot_acc`; NaN for a group with no class
    present (np.mean of OLTR's empty list).

    Examples:
        >>> cm = np.diag([9.0, 1.0, 2.0]) + np.array([[0, 1, 0], [3, 0, 0], [0, 2, 0]])
        >>> print(shot_accuracy_from_confusion(cm, shot_groups([500, 60, 5])).round(3))
        [0.9  0.25 0.5 ]
    """
    recall, present = _recalls(np.asarray(cm, dtype=np.float64))
    members = np.asarray(groups, dtype=np.float64) * present
    count = members.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, (members @ recall) / np.where(count > 0, count, 1.0), np.nan)
