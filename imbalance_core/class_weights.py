"""Class counts and class-weight formulas, in NumPy, shared by tf_impl and torch_impl.

The framework front ends (`tf_impl.class_weights`, `torch_impl.class_weights`) only turn
their native inputs (tensors, `tf.data.Dataset`, `torch.utils.data.Dataset`) into NumPy
batches and feed them to `ClassCounter`; every formula, label rule and error message lives
here, so both packages return identical NumPy arrays and raise identical errors.

Label formats (one rule for arrays, tensors and every batch of a stream):

- rank 0 or 1: class indices (integers, or floats holding whole numbers);
- rank >= 2 with a last axis of size 1, e.g. Keras's binary ``(B, 1)``: class indices;
- rank >= 2 with a last axis of size C > 1: one-hot or multi-hot rows of 0/1 over C classes.
  Class-index arrays of rank >= 2 (e.g. per-token labels ``(B, T)``) must be flattened first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .validation import (
    LABEL_FORMATS,
    check_choice,
    check_counted_classes,
    check_integer,
    check_number,
    class_weight_length_message,
    empty_labels_message,
    finite_labels_message,
    fractional_indices_message,
    hot_values_message,
    hot_width_message,
    label_dtype_message,
    label_format_message,
    label_indices_message,
    label_without_positives_message,
    labels_or_counts_message,
    multi_hot_dtype_message,
    multi_hot_shape_message,
    multi_hot_values_message,
    no_labels_message,
    one_class_per_sample_message,
    require_weight_vector,
    to_numpy,
)

__all__ = [
    "METHODS",
    "ClassCounter",
    "class_counts",
    "check_class_weight_args",
    "compute_class_weight",
    "compute_pos_weight",
    "pos_weight_from_counter",
    "compute_sample_weight",
    "class_weight_dict",
    "weights_from_counts",
    "multi_hot_positives",
    "repeat_factors_from_positives",
    "compute_repeat_factors",
]

METHODS = ("balanced", "inverse", "inverse_sqrt", "effective_number")

def _as_label_array(name: str, labels: Any) -> np.ndarray:
    arr = np.asarray(to_numpy(labels))
    if arr.dtype.kind not in "biuf":
        raise TypeError(label_dtype_message(name, arr.dtype))
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        raise ValueError(finite_labels_message(name, arr[~np.isfinite(arr)]))
    return arr


def _check_indices(name: str, idx: np.ndarray, num_classes: int | None) -> np.ndarray:
    """Whole, non-negative (and < num_classes) class indices, returned as int64."""
    if idx.dtype.kind == "f":
        frac = idx != np.round(idx)
        if np.any(frac):
            raise ValueError(fractional_indices_message(name, idx[frac], hint=LABEL_FORMATS))
    idx = idx.astype(np.int64, copy=False)
    bad = idx < 0 if num_classes is None else (idx < 0) | (idx >= num_classes)
    if np.any(bad):
        raise ValueError(label_indices_message(name, num_classes, idx[bad]))
    return idx


def _check_hot(name: str, hot: np.ndarray) -> np.ndarray:
    bad = (hot != 0) & (hot != 1)
    if np.any(bad):
        raise ValueError(hot_values_message(name, hot.shape[-1], hot[bad]))
    return hot.astype(np.int64, copy=False)


class ClassCounter:
    """Streaming label counter: feed label batches with `update`, read `counts` at the end.

    Memory is O(classes) whatever the stream length, which is how the front ends count a
    `tf.data.Dataset` or a torch `Dataset` in one pass. Every batch must use the same label
    format (all class indices, or all hot rows with the same number of columns).

    Args:
        num_classes: number of classes K; None infers it (max index + 1, or the number of
            hot columns).
        multi_hot: read every batch as 0/1 rows over labels (rank 0 or 1 = one label), as
            `compute_pos_weight` needs.
        name: argument name used in error messages.

    Examples:
        >>> counter = ClassCounter()
        >>> for batch in ([0, 0, 1], [2, 0]):
        ...     _ = counter.update(batch)
        >>> print(counter.counts, counter.num_samples)
        [3 1 1] 5
    """

    def __init__(self, num_classes: int | None = None, *, multi_hot: bool = False, name: str = "labels"):
        self.num_classes = check_integer("num_classes", num_classes, low=1, allow_none=True)
        self.multi_hot = bool(multi_hot)
        self.name = name
        self.format: str | None = None  # "index" or "hot", fixed by the first batch
        self.num_samples = 0  # samples (rows) seen
        self._counts = np.zeros(self.num_classes or 0, dtype=np.int64)
        self._batches = 0

    def _split(self, arr: np.ndarray) -> tuple[str, np.ndarray]:
        if self.multi_hot:
            return "hot", arr.reshape(-1, 1) if arr.ndim <= 1 else arr.reshape(-1, arr.shape[-1])
        if arr.ndim <= 1:
            return "index", arr.reshape(-1)
        if arr.shape[-1] == 1:
            return "index", arr.reshape(-1)
        return "hot", arr.reshape(-1, arr.shape[-1])

    def update(self, labels: Any) -> ClassCounter:
        arr = _as_label_array(self.name, labels)
        fmt, arr = self._split(arr)
        if self.format is not None and fmt != self.format:
            raise ValueError(label_format_message(self.name, self._batches, fmt, np.shape(labels), self.format))
        if fmt == "index":
            idx = _check_indices(self.name, arr, self.num_classes)
            batch_counts = np.bincount(idx, minlength=self._counts.size)
            if batch_counts.size > self._counts.size:  # a new, larger class index (K inferred)
                self._counts = np.concatenate([self._counts, np.zeros(batch_counts.size - self._counts.size, np.int64)])
            self._counts += batch_counts
            self.num_samples += idx.size
        else:
            width = arr.shape[-1]
            expected = self.num_classes if self.format is None else self._counts.size
            if expected is not None and width != expected:
                raise ValueError(hot_width_message(self.name, width, expected, from_num_classes=self.format is None))
            hot = _check_hot(self.name, arr)
            if self._counts.size == 0:
                self._counts = np.zeros(width, dtype=np.int64)
            self._counts += hot.sum(axis=0)
            self.num_samples += hot.shape[0]
        self.format = fmt
        self._batches += 1
        return self

    @property
    def counts(self) -> np.ndarray:
        """Samples per class (int64, length K); an error when nothing was counted."""
        if self.num_samples == 0:
            raise ValueError(no_labels_message(self.name))
        return self._counts.copy()


def class_counts(labels: Any, num_classes: int | None = None) -> np.ndarray:
    """Number of samples per class (int64, length K).

    Args:
        labels: class indices, or one-hot/multi-hot 0/1 rows (see the module docstring);
            NumPy arrays, sequences or native tensors.
        num_classes: K; None infers it (max index + 1, or the number of hot columns).

    Examples:
        >>> print(class_counts([0, 0, 0, 1, 2, 2]), class_counts([[1, 0], [1, 0], [0, 1]]))
        [3 1 2] [2 1]
    """
    return ClassCounter(num_classes).update(labels).counts


def weights_from_counts(counts: np.ndarray, method: str = "balanced", beta: float = 0.999) -> np.ndarray:
    """The weight formulas, on strictly positive counts n_c (float64, length K).

    - "balanced": n / (K n_c), n = sum_c n_c (scikit-learn's `compute_class_weight`).
    - "inverse": 1 / n_c, scaled to mean 1.
    - "inverse_sqrt": 1 / sqrt(n_c), scaled to mean 1.
    - "effective_number": (1 - beta) / (1 - beta^n_c), scaled to sum to K (Cui et al. 2019).

    Examples:
        >>> print(weights_from_counts(np.array([300, 100, 200]), "balanced"))
        [0.66666667 2.         1.        ]
        >>> print(weights_from_counts(np.array([300, 100, 200]), "effective_number", beta=0.99).round(4))
        [0.8338 1.2507 0.9156]
    """
    n = np.asarray(counts, dtype=np.float64)
    k = n.size
    if method == "balanced":
        return n.sum() / (k * n)
    if method == "inverse":
        w = 1.0 / n
    elif method == "inverse_sqrt":
        w = 1.0 / np.sqrt(n)
    else:
        if beta == 0.0:  # every class has an effective number of 1: uniform weights
            return np.ones(k)
        # 1 - beta^n as -expm1(n log beta): no cancellation for beta close to 1.
        w = (1.0 - beta) / -np.expm1(n * np.log(beta))
        return w * (k / w.sum())
    return w / w.mean()


def check_class_weight_args(method: str, beta: float, num_classes: int | None) -> tuple[str, float, int | None]:
    """Validated (method, beta, num_classes) of `compute_class_weight`.

    Examples:
        >>> check_class_weight_args("balanced", 0.999, None)
        ('balanced', 0.999, None)
    """
    check_choice("method", method, METHODS)
    beta = check_number("beta", beta, low=0.0, high=1.0, high_open=True)
    return method, beta, check_integer("num_classes", num_classes, low=1, allow_none=True)


def compute_class_weight(labels: Any = None, *, counts: Any = None, method: str = "balanced", beta: float = 0.999,
                         num_classes: int | None = None) -> np.ndarray:
    """Per-class weights (float64, length K) from labels or from class counts.

    Formulas (n_c: samples of class c, n = sum_c n_c, K classes):
    "balanced" n / (K n_c) (scikit-learn's); "inverse" 1 / n_c scaled to mean 1;
    "inverse_sqrt" 1 / sqrt(n_c) scaled to mean 1; "effective_number"
    (1 - beta) / (1 - beta^n_c) scaled to sum to K (Cui et al. 2019, "Class-Balanced Loss
    Based on Effective Number of Samples"). For multi-hot labels n_c counts the positives of
    label c and n the label occurrences, so sum_c n_c w_c = n still holds for "balanced".

    Args:
        labels: class indices or one-hot/multi-hot rows (see the module docstring).
        counts: samples per class instead of `labels` (non-negative, length K).
        method: one of "balanced", "inverse", "inverse_sqrt", "effective_number".
        beta: effective-number hyperparameter in [0, 1); beta=0 gives uniform weights.
        num_classes: K; None infers it from the labels or the length of `counts`.

    Every class needs at least one sample: a zero count is an error, not an infinite weight.
    Anchor: `sklearn.utils.class_weight.compute_class_weight("balanced", ...)`.

    Examples:
        >>> print(compute_class_weight([0, 0, 0, 1, 2, 2]))
        [0.66666667 2.         1.        ]
        >>> print(compute_class_weight(counts=[300, 100, 200], method="inverse_sqrt").round(4))
        [0.7582 1.3132 0.9286]
    """
    method, beta, num_classes = check_class_weight_args(method, beta, num_classes)
    if (labels is None) == (counts is None):
        raise ValueError(labels_or_counts_message(both=labels is not None))
    if labels is not None:
        name, n = "labels", class_counts(labels, num_classes)
    else:
        name, n = "counts", require_weight_vector("counts", counts, length=num_classes, allow_scalar=False)
    check_counted_classes(name, n)
    return weights_from_counts(n, method, beta)


def pos_weight_from_counter(counter: ClassCounter) -> np.ndarray:
    """n_neg / n_pos per label from a `ClassCounter(multi_hot=True)` (float64, length C).

    Examples:
        >>> counter = ClassCounter(multi_hot=True).update([[1, 0], [0, 0], [1, 1], [0, 0]])
        >>> print(pos_weight_from_counter(counter))
        [1. 3.]
    """
    n_pos = counter.counts.astype(np.float64)
    empty = np.flatnonzero(n_pos == 0)
    if empty.size:
        raise ValueError(label_without_positives_message(counter.name, int(empty[0]), n_pos.astype(np.int64)))
    return (counter.num_samples - n_pos) / n_pos


def compute_pos_weight(multi_hot: Any) -> np.ndarray:
    """Per-label positive weight n_neg / n_pos (float64, length C) for multi-label data.

    The `pos_weight` of `WeightedBinaryCrossentropy` / torch `BCEWithLogitsLoss`, which then
    gives positives and negatives of each label equal total weight. This, not Keras's
    `model.fit(class_weight=...)` (which reduces a multi-hot row to its argmax), is how to
    weight multi-label data.

    Args:
        multi_hot: 0/1 rows (..., C); rank 0 or 1 is read as one binary label, giving length 1.

    Examples:
        >>> print(compute_pos_weight([[1, 0], [0, 0], [1, 1], [0, 0]]))
        [1. 3.]
    """
    counter = ClassCounter(multi_hot=True, name="multi_hot")
    return pos_weight_from_counter(counter.update(multi_hot))


def _class_weight_vector(class_weight: Any, idx: np.ndarray) -> np.ndarray:
    """`class_weight` as a vector covering every index in `idx` (method names use `idx`)."""
    needed = int(idx.max()) + 1
    if class_weight is None:
        return np.ones(needed)
    if isinstance(class_weight, str):
        check_choice("class_weight", class_weight, METHODS)
        # Only the classes present get weights (scikit-learn's compute_sample_weight): an
        # absent class has no sample to weight, so it is not an error here.
        counts = np.bincount(idx, minlength=needed)
        present = counts > 0
        w = np.zeros(needed)
        w[present] = weights_from_counts(counts[present], class_weight)
        return w
    if isinstance(class_weight, Mapping):
        # Classes missing from the dict get weight 1, as in scikit-learn and Keras.
        w = np.ones(max(needed, max((int(k) + 1 for k in class_weight), default=0)))
        for key, value in class_weight.items():
            check_integer("class_weight key", key if not isinstance(key, np.integer) else int(key), low=0)
            w[int(key)] = check_number(f"class_weight[{key}]", value, low=0.0)
        return w
    w = require_weight_vector("class_weight", class_weight, allow_scalar=False)
    if w.size < needed:
        raise ValueError(class_weight_length_message(w.size, needed - 1))
    return w


def compute_sample_weight(labels: Any, class_weight: str | Mapping | Any | None) -> np.ndarray:
    """Per-sample weights w[label] (float64), e.g. for `sample_weight=` of a loss or `fit`.

    Args:
        labels: class indices or one-hot rows (exactly one 1 per row); the result has the
            labels' shape without the class axis (and without a trailing axis of size 1).
        class_weight: a vector of K weights, a dict {class: weight} (missing classes get 1),
            a method name of `compute_class_weight` computed from these labels over the
            classes present (scikit-learn's "balanced"), or None (all ones).

    Anchor: `sklearn.utils.class_weight.compute_sample_weight`.

    Examples:
        >>> print(compute_sample_weight([0, 0, 0, 1], "balanced"))
        [0.66666667 0.66666667 0.66666667 2.        ]
    """
    arr = _as_label_array("labels", labels)
    if arr.size == 0:
        raise ValueError(no_labels_message("labels"))
    if arr.ndim >= 2 and arr.shape[-1] > 1:
        out_shape = arr.shape[:-1]
        hot = _check_hot("labels", arr.reshape(-1, arr.shape[-1]))
        per_row = hot.sum(axis=1)
        bad = np.flatnonzero(per_row != 1)
        if bad.size:
            raise ValueError(one_class_per_sample_message(int(bad[0]), int(per_row[bad[0]])))
        idx = hot.argmax(axis=1)
    else:
        out_shape = arr.shape[:-1] if arr.ndim >= 2 else arr.shape
        idx = _check_indices("labels", arr.reshape(-1), None)
    return _class_weight_vector(class_weight, idx)[idx].reshape(out_shape)


def class_weight_dict(weights: Any) -> dict:
    """{class index: weight} with Python ints and floats, the form `model.fit` takes.

    Examples:
        >>> class_weight_dict([0.5, 2.0])
        {0: 0.5, 1: 2.0}
    """
    w = require_weight_vector("class_weight", weights, allow_scalar=False)
    return {i: float(v) for i, v in enumerate(w)}


def multi_hot_positives(multi_hot: Any, name: str = "multi_hot", *,
                        mode: str | None = None) -> tuple[int, int, np.ndarray, np.ndarray]:
    """The positive entries of (N, C) multi-hot rows, without a dense copy per label.

    Returns `(num_rows, num_labels, rows, cols)`: the row and column of every positive entry,
    in row-major order (int64, O(positives) memory). Values must be 0 or 1 (bool, integer or
    floating); only the positive entries are read back, so checking them costs O(positives).
    `mode` only words the shape error for the batch samplers.

    Examples:
        >>> num_rows, num_labels, rows, cols = multi_hot_positives([[1, 0, 1], [0, 1, 0]])
        >>> print(num_rows, num_labels, rows, cols)
        2 3 [0 0 1] [0 2 1]
    """
    arr = np.asarray(to_numpy(multi_hot))
    if arr.dtype.kind not in "biuf":
        raise TypeError(multi_hot_dtype_message(name, str(arr.dtype)))
    if arr.ndim != 2:
        raise ValueError(multi_hot_shape_message(name, arr.shape, mode))
    if arr.size == 0:
        raise ValueError(empty_labels_message(name))
    rows, cols = np.nonzero(arr)  # NaN and every non-zero value land here
    values = arr[rows, cols]
    bad = values != 1
    if np.any(bad):
        raise ValueError(multi_hot_values_message(name, values[bad][:6]))
    return arr.shape[0], arr.shape[1], rows.astype(np.int64, copy=False), cols.astype(np.int64, copy=False)


def repeat_factors_from_positives(
    num_rows: int, num_labels: int, rows: np.ndarray, cols: np.ndarray, repeat_threshold: float
) -> np.ndarray:
    """LVIS repeat factors from the positive entries (see `compute_repeat_factors`).

    Examples:
        >>> rows, cols = np.array([0, 1, 2, 3, 3]), np.array([0, 0, 0, 0, 1])
        >>> print(repeat_factors_from_positives(4, 2, rows, cols, 0.5).round(3))
        [1.    1.    1.    1.414]
    """
    counts = np.bincount(cols, minlength=num_labels)
    present = counts > 0
    label_factor = np.ones(num_labels)
    # Same operations in the same order as detectron2 (f = n_c / N, then sqrt(t / f)), so the
    # float64 result equals its Python-float arithmetic bit for bit.
    freq = counts[present] / num_rows
    label_factor[present] = np.maximum(1.0, np.sqrt(repeat_threshold / freq))
    factors = np.ones(num_rows)
    if rows.size:
        # `rows` is sorted (row-major nonzero): one segment per sample with labels.
        starts = np.flatnonzero(np.concatenate([[True], rows[1:] != rows[:-1]]))
        factors[rows[starts]] = np.maximum.reduceat(label_factor[cols], starts)
    return factors


def compute_repeat_factors(multi_hot: Any, *, repeat_threshold: float = 0.001) -> np.ndarray:
    """Per-sample repeat factors of repeat-factor sampling (LVIS), float64, length N.

    f_c = (samples containing label c) / N; r_c = max(1, sqrt(t / f_c)); r_i = max over the
    labels of sample i of r_c, and 1 for a sample without labels. A sample then appears
    floor(r_i) times per epoch, plus once more with probability r_i - floor(r_i)
    (`balanced_batches(..., mode="repeat_factor")`).

    Args:
        multi_hot: (N, C) rows of 0/1 (bool, integer or floating), one column per label.
        repeat_threshold: t >= 0; a label present in fewer than a fraction t of the samples is
            oversampled (t = 0: every factor is 1).

    Anchor: detectron2 `RepeatFactorTrainingSampler.repeat_factors_from_category_frequency`
    (which returns float32). Paper: Gupta, Dollar, Girshick, "LVIS: A Dataset for Large
    Vocabulary Instance Segmentation", CVPR 2019, appendix B.2.

    Examples:
        >>> print(compute_repeat_factors([[1, 0], [1, 0], [1, 0], [1, 1]], repeat_threshold=0.5).round(3))
        [1.    1.    1.    1.414]
    """
    t = check_number("repeat_threshold", repeat_threshold, low=0.0)
    n, c, rows, cols = multi_hot_positives(multi_hot)
    return repeat_factors_from_positives(n, c, rows, cols, t)
