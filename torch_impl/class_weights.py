"""Class weights for PyTorch. The mirror of tf_impl/class_weights.py.

Thin front end: labels (NumPy, sequences, torch tensors, or a map-style
`torch.utils.data.Dataset` read through its labels only) become NumPy batches for
`imbalance_core.class_weights`, which holds every formula and error message. Results are
float64 NumPy arrays, identical to tf_impl's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sized
from typing import Any

import numpy as np
from torch.utils.data import ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset

from imbalance_core import class_weights as _cw
from imbalance_core import validation
from imbalance_core.validation import to_numpy

__all__ = [
    "class_counts",
    "compute_class_weight",
    "compute_pos_weight",
    "compute_repeat_factors",
    "compute_sample_weight",
    "keras_class_weight",
]

# label_fn results are stacked and counted this many at a time (bounded memory).
_CHUNK = 8192


def _stored_labels(dataset: Dataset) -> np.ndarray:
    """The labels a dataset already holds apart from its features (no `__getitem__` calls)."""
    if isinstance(dataset, Subset):
        return _stored_labels(dataset.dataset)[np.asarray(dataset.indices, dtype=np.int64)]
    if isinstance(dataset, ConcatDataset):
        return np.concatenate([_stored_labels(d) for d in dataset.datasets])
    if isinstance(dataset, TensorDataset) and len(dataset.tensors) >= 2:
        return to_numpy(dataset.tensors[1])  # TensorDataset(x, y, ...): the fit layout
    for attr in ("targets", "labels"):  # torchvision's convention, and the common variant
        value = getattr(dataset, attr, None)
        if value is not None and not callable(value):
            return np.asarray(to_numpy(value))
    raise ValueError(validation.dataset_labels_message("no_stored_labels", dataset=dataset))


def _label_batches(dataset: Dataset, label_fn: Callable | None) -> Iterator[np.ndarray]:
    if isinstance(dataset, IterableDataset):
        raise ValueError(validation.dataset_labels_message("iterable", dataset=dataset))
    if label_fn is None:
        yield _stored_labels(dataset)
        return
    if not isinstance(dataset, Sized):
        raise ValueError(validation.dataset_labels_message("unsized", dataset=dataset))
    n = len(dataset)
    for start in range(0, n, _CHUNK):
        # One label per index stacks into a batch: scalars -> (b,) indices, rows -> (b, C).
        yield np.stack([np.asarray(to_numpy(label_fn(i))) for i in range(start, min(start + _CHUNK, n))])


def _counter(labels: Any, num_classes: int | None, label_fn: Callable | None, multi_hot: bool,
             name: str) -> _cw.ClassCounter:
    counter = _cw.ClassCounter(num_classes, multi_hot=multi_hot, name=name)
    if isinstance(labels, Dataset):
        for batch in _label_batches(labels, label_fn):
            counter.update(batch)
    else:
        if label_fn is not None:
            raise ValueError(validation.label_fn_without_dataset_message("torch Dataset"))
        counter.update(labels)
    return counter


def class_counts(labels: Any, num_classes: int | None = None, *, label_fn: Callable | None = None) -> np.ndarray:
    """Number of samples per class (int64 NumPy, length K).

    Args:
        labels: class indices or 0/1 one-hot/multi-hot rows (last axis = classes), as NumPy,
            a sequence or a tensor; or a map-style `Dataset`, read through its labels only
            (`Subset`, `ConcatDataset`, `TensorDataset(x, y)`, a `targets`/`labels` attribute,
            or `label_fn`).
        num_classes: K; None infers it (max index + 1, or the number of hot columns).
        label_fn: for a Dataset, maps an index to that item's labels without loading its
            features (called in index order, counted in chunks).

    Anchor: `numpy.bincount` of the class indices.

    Examples:
        >>> import torch
        >>> print(class_counts(torch.tensor([0, 0, 0, 1, 2, 2])))
        [3 1 2]
        >>> from torch.utils.data import TensorDataset
        >>> print(class_counts(TensorDataset(torch.zeros(6, 2), torch.tensor([0, 0, 0, 1, 2, 2]))))
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
        labels: as in `class_counts` (a `Dataset` is read through its labels only).
        counts: samples per class instead of `labels`.
        method: "balanced", "inverse", "inverse_sqrt" or "effective_number".
        beta: in [0, 1), for "effective_number".
        num_classes: K; a class with no samples is an error.
        label_fn: see `class_counts`.

    Anchor: `sklearn.utils.class_weight.compute_class_weight("balanced", ...)`; the result
    is the `weight` of `torch.nn.CrossEntropyLoss`.

    Examples:
        >>> labels = [0, 0, 0, 1, 2, 2]
        >>> print(compute_class_weight(labels))
        [0.66666667 2.         1.        ]
        >>> print(compute_class_weight(counts=[300, 100, 200], method="inverse"))
        [0.54545455 1.63636364 0.81818182]
    """
    if labels is not None and (isinstance(labels, Dataset) or label_fn is not None):
        # Validate the arguments before reading a possibly long dataset.
        _cw.check_class_weight_args(method, beta, num_classes)
        counts = _counter(labels, num_classes, label_fn, False, "labels").counts
        return _cw.compute_class_weight(counts=counts, method=method, beta=beta, num_classes=num_classes)
    return _cw.compute_class_weight(labels, counts=counts, method=method, beta=beta, num_classes=num_classes)


def compute_pos_weight(multi_hot: Any, *, label_fn: Callable | None = None) -> np.ndarray:
    """Per-label positive weight n_neg / n_pos (float64 NumPy, length C) for multi-label data.

    The `pos_weight` of `WeightedBinaryCrossentropy` and of `torch.nn.BCEWithLogitsLoss`
    (`torch.as_tensor(w)`), giving each label's positives and negatives equal total weight.

    Args:
        multi_hot: 0/1 rows (..., C) (rank 0 or 1: one binary label), or a map-style Dataset.
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
        multi_hot: (N, C) rows of 0/1, NumPy arrays or torch tensors (any device).
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
    """`compute_class_weight` as a dict {class: weight}, the form Keras's `model.fit` takes.

    Kept in torch_impl by the mirror rule, for code that shares one training configuration
    between both frameworks. Single-label data only (Keras reduces multi-hot rows to their
    argmax); for multi-label data use `compute_pos_weight`.

    Examples:
        >>> keras_class_weight([0, 0, 0, 1])
        {0: 0.6666666666666666, 1: 2.0}
    """
    return _cw.class_weight_dict(
        compute_class_weight(labels, counts=counts, method=method, beta=beta, num_classes=num_classes,
                             label_fn=label_fn)
    )

