"""NumPy side of the imbalance metrics: argument and input checks, and the float64 reference
of every formula on an accumulated confusion matrix.

Both `tf_impl.metrics` (keras.ops) and `torch_impl.metrics` (torch) keep the same state, a
K x K matrix C of summed sample weights (C[i, j]: true class i, predicted class j; K = 2 in
binary mode), and compute the results below with their own ops so that they run inside a
compiled graph; this module is the oracle they are tested against and the single source of
their error messages.

Definitions (scikit-learn's): recall_c = C[c, c] / sum_j C[c, j]; a class is *present* when
its row sum is > 0. Balanced accuracy = mean recall over present classes; adjusted:
(score - 1/P) / (1 - 1/P) with P present classes. Undefined ratios give 0 (scikit-learn's
`zero_division` default for recall): no present class, and adjusted with P = 1 (scikit-learn
divides by zero there).
"""

from __future__ import annotations

import math
from typing import Any, Optional, Sequence, Tuple

import numpy as np

from .validation import (
    check_class_indices,
    check_integer,
    check_number,
    check_values_in_range,
    describe,
    shape_message,
    to_numpy,
)

__all__ = [
    "check_metric_args",
    "decision_threshold",
    "input_mode",
    "check_bool",
    "check_metric_values",
    "sample_weight_shape_error",
    "sample_shape",
    "confusion_matrix",
    "balanced_accuracy_from_confusion",
    "true_positive_rate_from_confusion",
    "true_negative_rate_from_confusion",
    "weighted_balanced_accuracy_from_confusion",
]


def check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"Invalid `{name}`: received {describe(value)}; expected True or False.")
    return bool(value)


def check_metric_args(num_classes: Optional[int], threshold: Any, from_logits: Any) -> Tuple[Optional[int], float, bool]:
    """The arguments every metric shares, validated; returns (num_classes, threshold, from_logits)."""
    num_classes = check_integer("num_classes", num_classes, low=2, allow_none=True)
    threshold = check_number("threshold", threshold, low=0.0, high=1.0)
    return num_classes, threshold, check_bool("from_logits", from_logits)


def decision_threshold(threshold: float, from_logits: bool) -> float:
    """The cut that `y_pred > cut` uses: `threshold` on probabilities, logit(threshold) on
    logits (sigma(x) > t  <=>  x > log(t / (1 - t)), exact for t = 0.5, no sigmoid rounding)."""
    if not from_logits:
        return threshold
    if threshold <= 0.0:
        return -math.inf
    if threshold >= 1.0:
        return math.inf
    return math.log(threshold) - math.log1p(-threshold)


def _compatible(a: Sequence[Optional[int]], b: Sequence[Optional[int]]) -> bool:
    """Equal shapes, where an unknown dimension (None, in a traced graph) matches anything."""
    return len(a) == len(b) and all(x is None or y is None or x == y for x, y in zip(a, b))


def input_mode(num_classes: Optional[int], target_shape, pred_shape) -> str:
    """How to read (target, preds) from their static shapes; raises on a mismatch.

    Returns "binary" (num_classes None: element-wise 0/1 targets, same shape as preds),
    "sparse" (class indices shaped like preds without its class axis, or with a trailing 1)
    or "onehot" (same shape as preds, last axis = classes).
    """
    t, p = tuple(target_shape), tuple(pred_shape)
    if num_classes is None:
        if not _compatible(t, p):
            raise ValueError(shape_message("y_true", t, "y_pred", p))
        return "binary"
    if len(p) < 1 or (p[-1] is not None and p[-1] != num_classes):
        raise ValueError(
            f"Invalid `y_pred`: received shape {p}; expected a last axis of size "
            f"num_classes={num_classes} (one score per class)."
        )
    if _compatible(t, p):
        return "onehot"
    if _compatible(t, p[:-1]) or _compatible(t, p[:-1] + (1,)):
        return "sparse"
    raise ValueError(shape_message("y_true", t, "y_pred", p))


def sample_weight_shape_error(weight_shape, sample_shape) -> Optional[str]:
    """None when `sample_weight` fits: a scalar, or a leading part of the per-sample shape
    (broadcast over the trailing axes, Keras's convention); else the error message."""
    w, s = tuple(weight_shape), tuple(sample_shape)
    if len(w) <= len(s) and _compatible(w, s[: len(w)]):
        return None
    return (
        f"Invalid `sample_weight`: received shape {w}; expected a scalar or a shape that "
        f"matches the leading axes of the per-sample shape {s}."
    )


def sample_shape(mode: str, target_shape) -> tuple:
    """The shape of one weight per decision: binary = target's, one-hot drops the class axis,
    sparse drops a trailing axis of size 1."""
    t = tuple(target_shape)
    if mode == "onehot" or (mode == "sparse" and len(t) >= 1 and t[-1] == 1):
        return t[:-1]
    return t


def check_metric_values(mode: str, num_classes: Optional[int], from_logits: bool, target, preds, sample_weight) -> None:
    """Content checks on concrete (NumPy-convertible) inputs; the same messages in both packages."""
    preds = np.asarray(to_numpy(preds))
    target = np.asarray(to_numpy(target))
    if not from_logits:
        check_values_in_range("y_pred", preds, 0.0, 1.0, "probabilities")
    if mode == "binary":
        bad = (target != 0) & (target != 1)
        if np.any(bad):
            raise ValueError(
                f"Invalid `y_true`: binary labels must be 0 or 1; received {target[bad].ravel()[:6].tolist()}."
            )
    elif mode == "onehot":
        check_values_in_range("y_true", target, 0.0, 1.0, "one-hot labels")
    else:
        if target.dtype.kind == "f" and np.any(target != np.round(target)):
            bad = target[target != np.round(target)].ravel()[:6].tolist()
            raise ValueError(f"Invalid `y_true`: class indices must be whole numbers; received {bad}.")
        check_class_indices("y_true", target, num_classes)
    if sample_weight is not None:
        w = np.asarray(to_numpy(sample_weight), dtype=np.float64)
        if not np.all(np.isfinite(w)) or np.any(w < 0):
            raise ValueError(
                f"Invalid `sample_weight`: received {describe(w)}; expected non-negative finite weights."
            )


def confusion_matrix(target_idx, pred_idx, num_classes: int, sample_weight=None) -> np.ndarray:
    """C[i, j] = summed weight of samples with true class i predicted as j (float64, K x K)."""
    t = np.asarray(target_idx, dtype=np.int64).ravel()
    p = np.asarray(pred_idx, dtype=np.int64).ravel()
    w = np.ones(t.size) if sample_weight is None else np.broadcast_to(np.asarray(sample_weight, np.float64), np.shape(target_idx)).ravel()
    cm = np.zeros((num_classes, num_classes))
    np.add.at(cm, (t, p), w)
    return cm


def balanced_accuracy_from_confusion(cm, adjusted: bool = False) -> float:
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


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den > 0 else 0.0


def true_positive_rate_from_confusion(cm) -> float:
    cm = np.asarray(cm, dtype=np.float64)
    return _ratio(cm[1, 1], cm[1, 0] + cm[1, 1])


def true_negative_rate_from_confusion(cm) -> float:
    cm = np.asarray(cm, dtype=np.float64)
    return _ratio(cm[0, 0], cm[0, 0] + cm[0, 1])


def weighted_balanced_accuracy_from_confusion(cm, alpha: float = 0.5) -> float:
    return alpha * true_positive_rate_from_confusion(cm) + (1.0 - alpha) * true_negative_rate_from_confusion(cm)
