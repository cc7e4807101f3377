"""The checks and messages of one feature each: the stateful and long-tail losses and metrics,
balanced batches (labels, fractions, class counts), the labels of the class weights, decisions,
stream balancers, Ray Data.

Part of `imbalance_core.validation`, which re-exports every name.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ._argument_checks import check_number, describe, first_values, none_message, require_weight_vector, to_numpy
from ._tensor_checks import index_message

# ---- stateful and multi-label losses: Seesaw, Distribution-Balanced


def check_class_counts_below(name: str, counts: np.ndarray, total: float, total_name: str) -> None:
    """Distribution-Balanced loss: every positive count n_c must satisfy 0 < n_c < N (its
    logit bias is -log(N / n_c - 1), finite only there)."""
    bad = np.flatnonzero((counts <= 0) | (counts >= total))
    if bad.size:
        c = int(bad[0])
        raise ValueError(
            f"Invalid `{name}`: received {describe(counts)}; class {c} has {counts[c]:g} positives "
            f"out of `{total_name}`={total:g}, and every class needs 0 < n_c < {total_name}."
        )


def index_targets_only_message(loss: str, target_name: str, target_shape: Sequence[int],
                               input_shape: Sequence[int]) -> str:
    """A loss defined on class indices only (Seesaw) received probability / one-hot rows."""
    return (
        f"Invalid `{target_name}`: {loss} takes class indices of shape {tuple(input_shape)[:-1]} "
        f"(or with a trailing 1), received shape {tuple(target_shape)} against logits of shape "
        f"{tuple(input_shape)}; pass argmax(one-hot, axis=-1) for one-hot rows."
    )


def stateless_counts_message(loss: str) -> str:
    """Keras on jax: a loss's variable cannot be assigned inside a traced function."""
    return (
        f"classbalance: {loss} cannot update its cumulative class counts inside a jax-traced "
        f"function (model.fit / model.evaluate on the jax backend, jax.jit): there the counts stay "
        f"as they were before the call (the current batch is still added for the loss value). "
        f"Eager calls update them; train on the tensorflow or torch backend to accumulate them in fit."
    )


# ---- long-tail metric arguments


def check_samples_per_class(name: str, value: Any) -> np.ndarray:
    """Training counts per class for the shot groups: a non-negative finite 1-D vector with
    at least two classes (a class with no training sample is allowed: it is few-shot)."""
    if value is None:
        raise ValueError(none_message(name, "a non-negative finite 1-D vector of training counts"))
    counts = require_weight_vector(name, value, allow_scalar=False)
    if counts.shape[0] < 2:
        raise ValueError(f"Invalid `{name}`: received length {counts.shape[0]}; expected at least 2 classes.")
    return counts


def check_shot_thresholds(many_threshold: Any, few_threshold: Any) -> tuple:
    """(many_threshold, few_threshold) as floats: non-negative, few_threshold <= many_threshold
    (otherwise a class could be both many-shot and few-shot)."""
    many = check_number("many_threshold", many_threshold, low=0.0)
    few = check_number("few_threshold", few_threshold, low=0.0)
    if few > many:
        raise ValueError(
            f"Invalid `few_threshold`: received {few:g} with many_threshold={many:g}; expected "
            f"few_threshold <= many_threshold (a class cannot be both many-shot and few-shot)."
        )
    return many, few


# ---- long-tail losses: LDAM, balanced softmax, poly (and DeferredReweighting)


def check_counts(name: str, value: Any, *, purpose: str = "") -> np.ndarray:
    """Samples per class: a 1-D vector of non-negative finite counts, every class with at least
    one sample (a class without any would get an infinite margin, a log(0) shift or no weight);
    `purpose`, when given, says what the sample is needed for ("to get a weight")."""
    if value is None:
        raise ValueError(none_message(name, "K positive counts"))
    counts = require_weight_vector(name, value, allow_scalar=False)
    empty = np.flatnonzero(counts == 0)
    if empty.size:
        raise ValueError(
            f"Invalid `{name}`: received {describe(counts)}; class {int(empty[0])} has no samples, "
            f"and every class needs at least one{' ' + purpose if purpose else ''}."
        )
    return counts


def mutable_class_weight_message(loss: Any) -> str:
    """DeferredReweighting needs a loss whose class weights live in a variable / buffer."""
    return (f"Invalid `loss`: received {type(loss).__name__}; expected a loss whose class weights can "
            f"change during training (a `class_weight` variable in Keras, a buffer in torch), such as "
            f"LDAMLoss.")


# ---- balanced batches: single- and multi-label modes, repeat factors, the saved schedule


def class_index_dtype_message(name: str, dtype: Any) -> str:
    """Single-label modes take integer (or bool) class indices."""
    return f"Invalid `{name}` dtype: received {dtype}; expected integer class indices (a 1-D array of int)."


def negative_labels_message(name: str, values: Any) -> str:
    """Class indices below 0, listed (`values`: the offending ones)."""
    return f"Invalid `{name}`: class indices must be >= 0; received {first_values(values)}."


def labels_beyond_fractions_message(num_fractions: int, top: int) -> str:
    """A label with no entry in `class_fractions`."""
    return (f"{index_message('labels', num_fractions, None)} (one class per entry of "
            f"`class_fractions`); received labels up to {top}.")


def unknown_classes_message() -> str:
    """A stream balancer with neither `class_fractions` nor `num_classes`."""
    return ("Invalid `class_fractions`: received None and `num_classes` is None; a stream's "
            "classes are not known in advance: pass class_fractions or num_classes.")


def requested_class_missing_message(cls: int, fraction: float, source: str) -> str:
    """A requested class (fraction > 0) with no samples in `source` to draw."""
    return (f"Invalid `class_fractions`: class {cls} is requested (fraction {fraction:g}) but "
            f"has no samples in {source}; give it fraction 0 or add samples of it.")


def grouping_message(shape: tuple, dtype: Any, num_samples: int) -> str:
    """A `grouping=` that is not the sample ids that `save_grouping` writes for these labels."""
    return (f"Invalid `grouping`: received an array of shape {tuple(shape)} and dtype "
            f"{dtype}; expected the {num_samples} sample ids of `save_grouping(labels, path)`.")


def check_class_counts(name: str, value: Any) -> np.ndarray:
    """Rows per class (`BalancedSchedule.from_counts`): a 1-D array of non-negative integers;
    returned as NumPy.

    Examples:
        >>> check_class_counts("class_counts", [90, 10])
        array([90, 10])
        >>> check_class_counts("class_counts", [1.5])
        Traceback (most recent call last):
            ...
        ValueError: Invalid `class_counts`: received [1.5] (shape (1,)); expected a 1-D array of non-negative
        integers (rows per class).
    """
    counts = np.asarray(to_numpy(value))
    if counts.ndim != 1 or counts.dtype.kind not in "iu" or (counts.size and counts.min() < 0):
        raise ValueError(f"Invalid `{name}`: received {describe(counts)}; expected a 1-D array of "
                         f"non-negative integers (rows per class).")
    return counts


def class_index_labels_message(mode: str, shape: tuple) -> str:
    """Single-label modes take 1-D class indices; points multi-hot rows to the multi-label modes."""
    return (f"Invalid `labels`: received shape {tuple(shape)}; mode={mode!r} expects a 1-D array of "
            f"integer class indices (for one-hot labels pass labels.argmax(-1); for multi-hot rows "
            f"(N, C) use mode='repeat_factor' or mode='class_aware').")


def multi_hot_shape_message(name: str, shape: tuple, mode: str | None = None) -> str:
    """Multi-label modes and compute_repeat_factors take (N, C) multi-hot rows."""
    who = f"mode={mode!r}" if mode is not None else "compute_repeat_factors"
    hint = " (for 1-D class indices use mode='exact' or mode='sampled')" if mode is not None else ""
    return (f"Invalid `{name}`: received shape {tuple(shape)}; {who} expects multi-hot rows of "
            f"shape (N, C), one 0/1 column per label{hint}.")


def multi_hot_dtype_message(name: str, dtype_text: str) -> str:
    return (f"Invalid `{name}` dtype: received {dtype_text}; expected bool, integer or floating "
            f"multi-hot rows of 0/1.")


def multi_hot_values_message(name: str, values: Any) -> str:
    return f"Invalid `{name}`: multi-hot rows must hold 0 or 1; received {describe(values)}."


def empty_labels_message(name: str) -> str:
    return f"Invalid `{name}`: received an empty array; expected at least one label."


def fractions_unused_message(mode: str, value: Any) -> str:
    """mode="repeat_factor" derives every sample's share from the repeat factors."""
    return (f"Invalid `class_fractions`: received {describe(value)}; mode={mode!r} takes no class "
            f"fractions (the repeat factors, set by `repeat_threshold`, decide each sample's "
            f"share); pass None, or use mode='class_aware'.")


def no_positive_labels_message(mode: str) -> str:
    return (f"Invalid `labels`: received multi-hot rows without a single positive entry; "
            f"mode={mode!r} needs at least one sample of some label.")


def rounded_batch_too_small_message(batch_size: int, cls: int, fraction: float, enough: int) -> str:
    """mode='exact' needs a slot per requested class in the largest-remainder composition."""
    return (
        f"Invalid `batch_size`: received {batch_size}; mode='exact' needs at least one "
        f"slot per requested class, but class {cls} (fraction {fraction:g}) gets 0 of "
        f"{batch_size} slots by largest-remainder rounding; use batch_size >= {enough} "
        f"or mode='sampled'."
    )


def exact_batch_too_small_message(batch_size: int, cls: int, fraction: float, enough: int) -> str:
    """mode='exact' needs floor(f_c B) >= 1 for every requested class."""
    return (
        f"Invalid `batch_size`: received {batch_size}; mode='exact' needs at least one slot per "
        f"requested class in every batch, but class {cls} (fraction {fraction:g}) gets "
        f"{fraction * batch_size:g} of {batch_size} slots; use batch_size >= {enough} or "
        f"mode='sampled'."
    )


def state_mismatch_message(what: str, key: str, saved: Any, current: Any) -> str:
    """A saved state that belongs to another schedule or stream."""
    return (
        f"Invalid `state_dict`: it was saved for a {what} with {key}={saved!r}, but this one has "
        f"{key}={current!r}; load it into the same configuration (labels, seed, batch size, "
        f"fractions, mode, replicas) it was saved from."
    )


def state_shape_message(state: Any, keys: Sequence[str]) -> str:
    """A `state_dict` that is not one of ours at all."""
    shown = sorted(state) if isinstance(state, dict) else type(state).__name__
    return (
        f"Invalid `state_dict`: received {shown}; expected a dict with the keys "
        f"{', '.join(repr(k) for k in keys)} (as returned by `state_dict()`)."
    )


# ---- labels of the class weights (ClassCounter) and of a Dataset

LABEL_FORMATS = (
    "expected class indices (rank 0 or 1, or a last axis of size 1) or 0/1 one-hot/multi-hot "
    "rows (last axis of size C > 1 = classes)"
)


def label_dtype_message(name: str, dtype: Any) -> str:
    return f"Invalid `{name}` dtype: received {dtype}; expected bool, integer or floating labels ({LABEL_FORMATS})."


def finite_labels_message(name: str, values: Any) -> str:
    return f"Invalid `{name}`: labels must be finite; received {first_values(values)}."


def label_indices_message(name: str, num_classes: int | None, values: Any) -> str:
    """Class indices below 0 (or, with `num_classes`, not below it), listed."""
    allowed = ">= 0" if num_classes is None else f"in [0, {num_classes})"
    return f"Invalid `{name}`: class indices must lie {allowed}; received {first_values(values)}."


def hot_values_message(name: str, width: int, values: Any) -> str:
    """One-hot/multi-hot rows holding values other than 0 and 1 (often unflattened class indices)."""
    return (f"Invalid `{name}`: one-hot/multi-hot labels (last axis of size {width} = "
            f"classes) must hold 0 or 1; received {first_values(values)}. Class-index "
            f"arrays of rank >= 2 must be flattened first.")


def label_format_message(name: str, batch: int, label_format: str, shape: tuple, earlier: str) -> str:
    """A batch of a stream whose label format ("index" or "hot") differs from the earlier ones."""
    what = {"index": "class indices", "hot": "one-hot/multi-hot rows"}
    return (f"Invalid `{name}`: batch {batch} holds {what[label_format]} (shape {tuple(shape)}) but earlier "
            f"batches held {what[earlier]}; every batch must use the same label format.")


def hot_width_message(name: str, width: int, expected: int, from_num_classes: bool) -> str:
    """Hot rows whose width is not `num_classes` (or the width of the earlier batches)."""
    source = f"num_classes={expected}" if from_num_classes else f"earlier batches had {expected}"
    return (f"Invalid `{name}`: one-hot/multi-hot labels have {width} columns but "
            f"{source}; the last axis must hold one column per class.")


def no_labels_message(name: str) -> str:
    return f"Invalid `{name}`: received no labels (empty array or stream); expected at least one."


def check_counted_classes(name: str, counts: np.ndarray) -> None:
    """Every class in [0, K) has a sample, so that it gets a (finite) class weight."""
    empty = np.flatnonzero(counts == 0)
    if empty.size:
        raise ValueError(
            f"Invalid `{name}`: class {int(empty[0])} has no samples (class counts "
            f"{describe(counts)}); every class in [0, {counts.size}) needs at least one sample to "
            f"get a weight. Check the labels, or pass `num_classes` only up to the classes present."
        )


def labels_or_counts_message(both: bool) -> str:
    return ("Invalid arguments: pass exactly one of `labels` and `counts`; received "
            + ("both." if both else "neither."))


def label_without_positives_message(name: str, label: int, positives: Any) -> str:
    """compute_pos_weight: n_neg / n_pos needs a positive of every label."""
    return (f"Invalid `{name}`: label {label} has no positive samples (positives "
            f"per label {describe(positives)}); n_neg / n_pos is undefined.")


def class_weight_length_message(length: int, top: int) -> str:
    """compute_sample_weight: a weight vector shorter than the labels' classes."""
    return (f"Invalid `class_weight`: received length {length}; expected one weight per class, "
            f"but `labels` holds class index {top}.")


def one_class_per_sample_message(row: int, positives: int) -> str:
    """compute_sample_weight: a hot row with more (or fewer) than one class."""
    return (f"Invalid `labels`: sample weights need exactly one class per sample, but row "
            f"{row} holds {positives} positive labels. For multi-label "
            f"data use compute_pos_weight with WeightedBinaryCrossentropy(pos_weight=...).")


def label_fn_without_dataset_message(dataset_kind: str) -> str:
    return f"Invalid `label_fn`: it applies to a {dataset_kind} only; received labels that are not a Dataset."


# Why the labels of a Dataset cannot be read, by the problem's name (both frameworks' front ends).
_DATASET_LABEL_PROBLEMS = {
    "dict_elements": "the dataset yields dicts; pass `label_fn` to pick the labels, e.g. "
                     "label_fn=lambda d: d['label'].",
    "not_one_tensor": "the dataset's labels are {spec}; expected a single dense tensor per element (pass `label_fn` "
                      "to select it).",
    "no_stored_labels": "cannot read the labels of a {kind} without loading its features (no `targets`/`labels` "
                        "attribute); pass `label_fn`, a function of the index, e.g. label_fn=lambda i: "
                        "dataset.labels_on_disk[i] (or lambda i: dataset[i][1], which loads each item).",
    "iterable": "an IterableDataset has no index to read labels by; count a map-style Dataset, or pass the labels as "
                "an array.",
    "unsized": "a {kind} without __len__ cannot be counted by index; define __len__, or pass the labels as an array.",
}


def dataset_labels_message(problem: str, *, dataset: Any = None, spec: Any = None) -> str:
    """A Dataset whose labels cannot be counted: `problem` is a key of the table above,
    `dataset` the Dataset (its type is named), `spec` the element spec of its labels.

    Examples:
        >>> print(dataset_labels_message("iterable"))
        Invalid `labels`: an IterableDataset has no index to read labels by; count a map-style
        Dataset, or pass the labels as an array.
    """
    why = _DATASET_LABEL_PROBLEMS[problem].format(kind=type(dataset).__name__, spec=spec)
    return f"Invalid `labels`: {why}"


# ---- decisions


def check_positive_class_priors(name: str, value: Any) -> np.ndarray:
    """Sigmoid priors: the probability of the positive class, a scalar (binary) or one per
    label, each strictly inside (0, 1); returned as float64 NumPy (0-d for a scalar)."""
    what = "probabilities of the positive class strictly inside (0, 1): a scalar or a 1-D vector, one per label"
    try:
        arr = np.asarray(to_numpy(value), dtype=np.float64)
    except Exception:
        raise ValueError(f"Invalid `{name}`: received {describe(value)}; expected {what}.") from None
    if value is None or arr.ndim > 1 or arr.size == 0 or not np.all((arr > 0) & (arr < 1)):
        raise ValueError(f"Invalid `{name}`: received {describe(value)}; expected {what}.")
    return arr


def prior_length_message(name: str, received: int, expected: int, other: str) -> str:
    return (f"Invalid `{name}`: received length {received}; expected length {expected}, "
            f"the length of `{other}` (one entry per class).")


def missing_prior_message() -> str:
    return ("Invalid `data_prior` and `class_fractions`: received neither (or both); expected exactly one: "
            "`class_fractions` for batches from a balanced pipeline, `data_prior` for plain shuffled batches.")


def binary_labels_message(name: str, values: Any) -> str:
    return f"Invalid `{name}`: binary labels must be 0 or 1; received {describe(values)}."


def finite_scores_message(name: str, values: Any) -> str:
    return f"Invalid `{name}`: scores must be finite (no NaN or inf); received {describe(values)}."


def per_sample_weight_message(received: tuple, n: int) -> str:
    return (f"Invalid `sample_weight`: received shape {tuple(received)}; expected None or ({n},), "
            f"one non-negative finite weight per score.")


def negative_sample_weight_message(values: Any) -> str:
    return (f"Invalid `sample_weight`: received {describe(values)}; expected non-negative finite "
            f"weights, one per score.")


def both_classes_message(name: str, positive: float, negative: float) -> str:
    return (f"Invalid `{name}`: received total weight {positive:g} on the positive class and "
            f"{negative:g} on the negative class; expected both classes with positive weight.")


def min_tpr_message(objective: str, min_tpr: Any) -> str:
    if objective == "tpr_at_least":
        return (f"Invalid `min_tpr`: received {describe(min_tpr)}; expected a finite number in [0, 1] "
                f"(required by objective='tpr_at_least').")
    return (f"Invalid `min_tpr`: received {describe(min_tpr)} with objective={objective!r}; expected None "
            f"(min_tpr applies to objective='tpr_at_least' only).")


def nan_scores_message(name: str, count: int) -> str:
    return f"Invalid `{name}`: received {count} NaN score(s); expected real scores (logits may be infinite, not NaN)."


def zero_training_weight_message(class_weight: Any) -> str:
    return (f"Invalid `class_weight`: received {describe(class_weight)}; expected a positive weight on at "
            f"least one class that the batches contain.")


def scalar_prior_message(name: str, value: Any, other: str) -> str:
    return (f"Invalid `{name}`: received {describe(value)}, a scalar, while `{other}` has one prior per class; "
            f"a scalar prior is the positive class's prior of sigmoid logits, which need activation=\"sigmoid\" "
            f"(softmax logits need one prior per class in both).")


# ---- stream balancers and their saved state


def not_a_dataset_message(value: Any, expected: str) -> str:
    return f"Invalid `dataset`: received {type(value).__name__}; expected {expected}."


def not_callable_message(name: str, value: Any) -> str:
    return f"Invalid `{name}`: received {describe(value)}; expected a callable."


def class_fn_dtype_message(dtype_text: str) -> str:
    return f"Invalid `class_fn` output dtype: received {dtype_text}; expected an integer class index."


def class_fn_shape_message(shape: tuple) -> str:
    return f"Invalid `class_fn` output: received shape {tuple(shape)}; expected a scalar class index (shape ())."


def stream_element_shape_message(shape: tuple) -> str:
    """tf_impl.data.balance_dataset keeps per-class rings of elements: their shapes must be known."""
    return (f"Invalid `dataset`: an element has shape {tuple(shape)} with unknown dimensions; "
            f"balance_dataset needs fully known element shapes (e.g. pad or resize in a map first).")


def stream_state_dict_message(value: Any) -> str:
    return (f"Invalid `state_dict`: received {describe(value)}; expected the dict that a stream balancer's "
            f"state_dict() returns (keys 'config', 'epoch', 'yielded', 'read', 'checksum').")


def check_stream_state_config(saved: Any, current: dict) -> None:
    """A stream balancer's state_dict must come from a balancer with the same arguments (and,
    per DataLoader worker, the same worker layout)."""
    if not isinstance(saved, dict):
        raise ValueError(stream_state_dict_message(saved))
    for name, value in current.items():
        if name not in saved or saved[name] != value:
            raise ValueError(
                f"Invalid `state_dict`: it was saved with {name}={saved.get(name)!r}, but this stream balancer "
                f"has {name}={value!r}; load a state_dict saved with the same arguments (seed, batch_size, "
                f"class_fractions, mode, buffer_size, num_replicas, rank, sharded_source) and the same number "
                f"of DataLoader workers.")


def stream_source_not_resumable_message(dataset: Any) -> str:
    return (f"Invalid `state_dict`: it resumes mid-epoch, which re-reads `dataset` from the start of the epoch, "
            f"but `dataset` ({type(dataset).__name__}) is a one-shot iterator (iter(dataset) is dataset); "
            f"pass a re-iterable source that gives the same items in the same order for the same epoch.")


def stream_reread_message(yielded: int, saved_read: int, read: int) -> str:
    found = "ended before that point" if read < 0 else f"gave another stream (read {read} items, other classes)"
    return (f"Invalid `dataset` for resuming: the saved state is after batch {yielded} of the epoch, emitted "
            f"when {saved_read} items had been read, but re-reading the source from the start of the epoch "
            f"{found}; a resumable source gives the same items in the same order for the same epoch "
            f"(call set_epoch on it, or seed its shuffle by epoch).")


# ---- Ray Data


def ray_missing_message(module: str) -> str:
    """`imbalance_core.ray_data` without Ray installed."""
    return (f"{module} needs Ray Data, which is not installed; install the extra with "
            f"`pip install \"classbalance[ray]\"` (ray[data,train]).")


def missing_column_message(name: str, value: Any, columns: Sequence[str]) -> str:
    """A label column that the data set does not have."""
    return (f"Invalid `{name}`: received {value!r}, which is not a column of the data set; its columns "
            f"are {list(columns)}.")


def null_labels_message(column: str, nulls: int) -> str:
    """Labels with missing values: no class to count or draw them for."""
    return (f"Invalid `labels`: column {column!r} holds {nulls} null label{'s' if nulls != 1 else ''}; "
            f"expected a class index in every row (drop or fill the nulls first).")


def ragged_multi_hot_message(column: str, widths: Sequence[int]) -> str:
    """Multi-hot rows whose length differs between rows or blocks."""
    return (f"Invalid `labels`: multi-hot column {column!r} holds rows of {sorted(set(widths))} entries; "
            f"every row must hold one 0/1 entry per label.")
