"""Class weights for Keras / tf.data. The mirror of torch_impl/class_weights.py.

Thin front end: labels (NumPy, sequences, tf/Keras-backend tensors, or a `tf.data.Dataset`
streamed once) become NumPy batches for `imbalance_core.class_weights`, which holds every
formula and error message. Results are float64 NumPy arrays, identical to torch_impl's.

TensorFlow is imported only when a `tf.data.Dataset` is passed, so this module also works on
Keras's torch and jax backends.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from imbalance_core import class_weights as _cw
from imbalance_core import validation

__all__ = [
    "class_counts",
    "compute_class_weight",
    "compute_pos_weight",
    "compute_repeat_factors",
    "compute_sample_weight",
    "keras_class_weight",
]

# Unbatched datasets of scalar labels are counted in chunks of this many elements.
_CHUNK = 8192


def _is_dataset(obj: Any) -> bool:
    tf = sys.modules.get("tensorflow")  # a Dataset cannot exist unless TensorFlow is loaded
    return tf is not None and isinstance(obj, tf.data.Dataset)


def _default_label_fn(*element: Any) -> Any:
    """`(x, y)` / `(x, y, sample_weight)` -> y (Keras's `fit` layout); a lone tensor is the labels."""
    if len(element) == 1:
        (element,) = element
        if isinstance(element, Mapping):
            raise ValueError(validation.dataset_labels_message("dict_elements"))
        return element
    return element[1]


def _label_batches(dataset: Any, label_fn: Callable | None) -> Iterator[np.ndarray]:
    """One streaming pass: map each element to its labels in the tf.data graph, then yield NumPy."""
    import tensorflow as tf

    if label_fn is None:
        labels = dataset.map(_default_label_fn, num_parallel_calls=tf.data.AUTOTUNE)
    else:
        # A tuple element is passed as one argument so `label_fn(element)` sees the whole element.
        labels = dataset.map(lambda *e: label_fn(e[0] if len(e) == 1 else e), num_parallel_calls=tf.data.AUTOTUNE)
    spec = labels.element_spec
    if not isinstance(spec, tf.TensorSpec):
        raise ValueError(validation.dataset_labels_message("not_one_tensor", spec=spec))
    if spec.shape.rank == 0:  # unbatched scalar class indices: count a chunk at a time
        labels = labels.batch(_CHUNK)
    return labels.as_numpy_iterator()


def _counter(labels: Any, num_classes: int | None, label_fn: Callable | None, multi_hot: bool,
             name: str) -> _cw.ClassCounter:
    counter = _cw.ClassCounter(num_classes, multi_hot=multi_hot, name=name)
    if _is_dataset(labels):
        for batch in _label_batches(labels, label_fn):
            counter.update(batch)
    else:
        if label_fn is not None:
            raise ValueError(validation.label_fn_without_dataset_message("tf.data.Dataset"))
        counter.update(labels)
    return counter


def class_counts(labels: Any, num_classes: int | None = None, *, label_fn: Callable | None = None) -> np.ndarray:
    """Number of samples per class (int64 NumPy, length K).

    Args:
        labels: class indices or 0/1 one-hot/multi-hot rows (last axis = classes), as NumPy,
            a sequence or a tensor; or a `tf.data.Dataset`, counted in one streaming pass
            (batched or not; unbatched elements must be scalar class indices).
        num_classes: K; None infers it (max index + 1, or the number of hot columns).
        label_fn: for a Dataset, maps an element to its labels inside `Dataset.map`; default
            takes `y` from `(x, y)` / `(x, y, sample_weight)` or the element itself.

    Anchor: `numpy.bincount` of the class indices.

    Examples:
        >>> import numpy as np
        >>> print(class_counts(np.array([0, 0, 0, 1, 2, 2])))
        [3 1 2]
        >>> import tensorflow as tf
        >>> ds = tf.data.Dataset.from_tensor_slices((np.zeros((6, 2)), np.array([0, 0, 0, 1, 2, 2]))).batch(4)
        >>> print(class_counts(ds))
        [3 1 2]
    """
    return _counter(labels, num_classes, label_fn, False, "labels").counts


def compute_class_weight(labels: Any = None, *, counts: Any = None, method: str = "balanced", beta: float = 0.999,
                         num_classes: int | None = None, label_fn: Callable | None = None) -> np.ndarray:
    """Per-class weights (float64 NumPy, length K) from labels, a Dataset or class counts.

    "balanced" n / (K n_c) (scikit-learn's); "inverse" 1 / n_c and "inverse_sqrt"
    1 / sqrt(n_c), scaled to mean 1; "effective_number" (1 - beta) / (1 - beta^n_c) scaled to
    sum to K (Cui et al. 2019). See `imbalance_core.class_weights.compute_class_weight`.

    Args:
        labels: as in `class_counts` (a `tf.data.Dataset` is streamed once).
        counts: samples per class instead of `labels`.
        method: "balanced", "inverse", "inverse_sqrt" or "effective_number".
        beta: in [0, 1), for "effective_number".
        num_classes: K; a class with no samples is an error.
        label_fn: see `class_counts`.

    Anchor: `sklearn.utils.class_weight.compute_class_weight("balanced", ...)`.

    Examples:
        >>> labels = [0, 0, 0, 1, 2, 2]
        >>> print(compute_class_weight(labels))
        [0.66666667 2.         1.        ]
        >>> print(compute_class_weight(counts=[300, 100, 200], method="inverse"))
        [0.54545455 1.63636364 0.81818182]
    """
    if labels is not None and (_is_dataset(labels) or label_fn is not None):
        # Validate the arguments before streaming a possibly long dataset.
        _cw.check_class_weight_args(method, beta, num_classes)
        counts = _counter(labels, num_classes, label_fn, False, "labels").counts
        return _cw.compute_class_weight(counts=counts, method=method, beta=beta, num_classes=num_classes)
    return _cw.compute_class_weight(labels, counts=counts, method=method, beta=beta, num_classes=num_classes)


def compute_pos_weight(multi_hot: Any, *, label_fn: Callable | None = None) -> np.ndarray:
    """Per-label positive weight n_neg / n_pos (float64 NumPy, length C) for multi-label data.

    Feed it to `WeightedBinaryCrossentropy(pos_weight=...)`: that weights each label's
    positives, which `model.fit(class_weight=...)` cannot do (it reduces a multi-hot row to its
    argmax, one weight per sample).

    Args:
        multi_hot: 0/1 rows (..., C) (rank 0 or 1: one binary label), or a `tf.data.Dataset`.
        label_fn: see `class_counts`.

    Anchor: torch `BCEWithLogitsLoss` docs, pos_weight = negatives / positives.

    Examples:
        >>> print(compute_pos_weight([[1, 0], [0, 0], [1, 1], [0, 0]]))
        [1. 3.]
    """
    return _cw.pos_weight_from_counter(_counter(multi_hot, None, label_fn, True, "multi_hot"))


def compute_repeat_factors(multi_hot: Any, *, repeat_threshold: float = 0.001) -> np.ndarray:
    """Per-sample LVIS repeat factors (float64 NumPy, length N) for multi-label rows.

    f_c = fraction of samples containing label c; r_c = max(1, sqrt(t / f_c)); r_i = max of
    r_c over sample i's labels (1 for a sample without labels). `balanced_batches(...,
    mode="repeat_factor")` then holds sample i floor(r_i) times per epoch, plus once more with
    probability r_i - floor(r_i).

    Args:
        multi_hot: (N, C) rows of 0/1, NumPy arrays or tensors of any Keras backend.
        repeat_threshold: t >= 0 (detectron2's `repeat_thresh`, default 0.001 as there).

    Anchor: detectron2 `RepeatFactorTrainingSampler.repeat_factors_from_category_frequency`.
    Paper: Gupta et al., "LVIS: A Dataset for Large Vocabulary Instance Segmentation", CVPR 2019.

    Examples:
        >>> multi_hot = [[1, 0], [1, 0], [1, 0], [1, 1]]
        >>> print(compute_repeat_factors(multi_hot, repeat_threshold=0.5).round(3))
        [1.    1.    1.    1.414]
    """
    return _cw.compute_repeat_factors(multi_hot, repeat_threshold=repeat_threshold)


def compute_sample_weight(labels: Any, class_weight: str | Mapping | Any | None) -> np.ndarray:
    """Per-sample weights w[label] (float64 NumPy), shaped like the labels without the class axis.

    Args:
        labels: class indices or one-hot rows (exactly one 1 per row), NumPy or a tensor.
        class_weight: K weights, a dict {class: weight} (missing classes get 1), a method name
            computed over the classes present (e.g. "balanced"), or None.

    Anchor: `sklearn.utils.class_weight.compute_sample_weight`.

    Examples:
        >>> print(compute_sample_weight([0, 0, 0, 1], "balanced"))
        [0.66666667 0.66666667 0.66666667 2.        ]
        >>> print(compute_sample_weight([0, 1, 1], {1: 3.0}))
        [1. 3. 3.]
    """
    return _cw.compute_sample_weight(labels, class_weight)


def keras_class_weight(labels: Any = None, *, counts: Any = None, method: str = "balanced", beta: float = 0.999,
                       num_classes: int | None = None, label_fn: Callable | None = None) -> dict:
    """`compute_class_weight` as the dict `model.fit(class_weight=...)` takes: {class: weight}.

    Single-label data only: Keras maps each sample to `argmax(y)` (or `round(y)` for a last
    axis of size 1) and multiplies its loss by that class's weight. On multi-hot labels that
    silently weights a sample by its first positive label; use `compute_pos_weight` with
    `WeightedBinaryCrossentropy(pos_weight=...)` instead.

    Examples:
        >>> keras_class_weight([0, 0, 0, 1])
        {0: 0.6666666666666666, 1: 2.0}
    """
    return _cw.class_weight_dict(
        compute_class_weight(labels, counts=counts, method=method, beta=beta, num_classes=num_classes,
                             label_fn=label_fn)
    )
