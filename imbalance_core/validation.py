"""Argument validation shared by tf_impl and torch_impl.

Every check here raises the same exception type with the same message in both frameworks:
the message names the argument, the value received and what is allowed. Arguments are
checked when a loss/metric/sampler is built; tensor contents are checked at call time by the
frameworks, which format their messages with the ``*_message`` helpers below so the text is
identical.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any, Literal, overload

import numpy as np

__all__ = [
    "TORCH_REDUCTIONS",
    "KERAS_REDUCTIONS",
    "to_numpy",
    "describe",
    "check_choice",
    "check_number",
    "check_bool",
    "check_weight_vector",
    "check_priors",
    "check_same_shape",
    "check_vector_length",
    "check_values_in_range",
    "check_class_indices",
    "check_float_dtype",
    "float_dtype_message",
    "whole_number_message",
    "check_whole_numbers",
    "deferred_failure_message",
    "invalid_values_message",
    "feature_rows_message",
    "sample_weight_shape_message",
    "range_message",
    "index_message",
    "shape_message",
    "softmax_target_shape_message",
]

TORCH_REDUCTIONS = ("mean", "sum", "none")
# Keras's names for the reductions torch calls "mean", "sum", "none" (None = "none").
KERAS_REDUCTIONS = ("sum_over_batch_size", "sum", "none", None)


def to_numpy(value: Any) -> np.ndarray:
    """Converts scalars, sequences, NumPy arrays and native tensors (tf, torch, jax) to NumPy.

    Duck-typed so that imbalance_core never imports a framework.

    Examples:
        >>> to_numpy([1, 2, 3])
        array([1, 2, 3])
    """
    if isinstance(value, np.ndarray):
        return value
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # torch.Tensor
        value = value.detach().cpu()
        if str(value.dtype) == "torch.bfloat16":  # NumPy has no bfloat16
            value = value.float()
        return value.numpy()
    if hasattr(value, "numpy") and callable(value.numpy):  # tf.Tensor / tf.Variable (eager)
        return np.asarray(value.numpy())
    return np.asarray(value)


def describe(value: Any, limit: int = 6) -> str:
    """A short, readable rendering of a received value for error messages.

    Examples:
        >>> describe(np.arange(10))
        '[0, 1, 2, 3, 4, 5, ...] (shape (10,))'
        >>> describe(-0.5)
        '-0.5'
    """
    if value is None or isinstance(value, (bool, int, float, str)):
        return repr(value)
    try:
        arr = np.asarray(to_numpy(value))
    except Exception:  # pragma: no cover - exotic objects
        return repr(value)
    if arr.ndim == 0:
        item = arr.item()
        return f"{item:g}" if isinstance(item, float) else repr(item)
    flat = arr.ravel()
    body = ", ".join(f"{v:g}" if isinstance(v, (float, np.floating)) else str(v) for v in flat[:limit].tolist())
    if flat.size > limit:
        body += ", ..."
    return f"[{body}] (shape {tuple(arr.shape)})"


def check_choice(name: str, value: Any, allowed: Sequence[Any]) -> Any:
    """`value` must be one of `allowed` (e.g. a reduction, mode or method name).

    Examples:
        >>> check_choice("reduction", "mean", TORCH_REDUCTIONS)
        'mean'
        >>> check_choice("reduction", "average", TORCH_REDUCTIONS)
        Traceback (most recent call last):
            ...
        ValueError: Invalid `reduction`: received 'average'; allowed values are 'mean', 'sum', 'none'.
    """
    if value not in allowed:
        raise ValueError(
            f"Invalid `{name}`: received {value!r}; allowed values are "
            f"{', '.join(repr(a) for a in allowed)}."
        )
    return value


def _interval(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    if high is None:
        return f"{'>' if low_open else '>='} {low:g}"
    if low is None:
        return f"{'<' if high_open else '<='} {high:g}"
    return f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"


@overload
def check_number(name: str, value: Any, *, low: float | None = None, high: float | None = None,
                 low_open: bool = False, high_open: bool = False, allow_none: Literal[False] = False) -> float: ...
@overload
def check_number(name: str, value: Any, *, low: float | None = None, high: float | None = None,
                 low_open: bool = False, high_open: bool = False, allow_none: bool) -> float | None: ...
def check_number(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    allow_none: bool = False,
) -> float | None:
    """A finite real scalar within an interval; returns it as a Python float.

    Examples:
        >>> check_number("gamma", 2, low=0.0)
        2.0
        >>> check_number("gamma", -0.5, low=0.0)
        Traceback (most recent call last):
            ...
        ValueError: Invalid `gamma`: received -0.5; expected a finite number >= 0.
    """
    if value is None and allow_none:
        return None
    bounded = low is not None or high is not None
    allowed = "a finite number " + _interval(low, high, low_open, high_open) if bounded else "a finite number"
    if allow_none:
        allowed += " or None"
    try:
        arr = np.asarray(to_numpy(value))
        ok = arr.ndim == 0 and arr.dtype.kind in "biuf" and arr.dtype != bool
        number = float(arr) if ok else float("nan")
    except Exception:
        ok, number = False, float("nan")
    if not ok or not math.isfinite(number):
        raise ValueError(f"Invalid `{name}`: received {describe(value)}; expected {allowed}.")
    if (
        (low is not None and (number < low or (low_open and number == low)))
        or (high is not None and (number > high or (high_open and number == high)))
    ):
        raise ValueError(f"Invalid `{name}`: received {number:g}; expected {allowed}.")
    return number


def check_bool(name: str, value: Any) -> bool:
    """True or False (Python or NumPy bool); never truthiness, so "False" is an error.

    Examples:
        >>> check_bool("from_logits", True)
        True
        >>> check_bool("from_logits", "yes")
        Traceback (most recent call last):
            ...
        ValueError: Invalid `from_logits`: received 'yes'; expected True or False.
    """
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"Invalid `{name}`: received {describe(value)}; expected True or False.")
    return bool(value)


def _weights_allowed(allow_scalar: bool, allow_zero: bool) -> str:
    what = "a non-negative finite scalar or 1-D vector" if allow_scalar else "a non-negative finite 1-D vector"
    return what if allow_zero else what.replace("non-negative", "positive")


def check_weight_vector(
    name: str,
    value: Any,
    *,
    length: int | None = None,
    allow_scalar: bool = True,
    allow_zero: bool = True,
) -> np.ndarray | None:
    """Non-negative, finite weights: a scalar or a 1-D vector (of `length`, when given).

    Accepts Python scalars, sequences, NumPy arrays and native tensors; returns float64 NumPy
    (0-d for a scalar) or None when `value` is None.

    Examples:
        >>> check_weight_vector("class_weight", [1, 2, 0.5])
        array([1. , 2. , 0.5])
        >>> check_weight_vector("class_weight", [1, -2])
        Traceback (most recent call last):
            ...
        ValueError: Invalid `class_weight`: received [1, -2] (shape (2,)); expected a non-negative finite scalar or
        1-D vector.
    """
    if value is None:
        return None
    what = _weights_allowed(allow_scalar, allow_zero)
    try:
        arr = np.asarray(to_numpy(value), dtype=np.float64)
    except Exception:
        raise ValueError(f"Invalid `{name}`: received {describe(value)}; expected {what}.") from None
    if arr.ndim > 1 or (arr.ndim == 0 and not allow_scalar):
        raise ValueError(
            f"Invalid `{name}`: received shape {tuple(arr.shape)}; expected {what}"
            + (f" of length {length}." if length is not None else ".")
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"Invalid `{name}`: received {describe(arr)}; expected {what} (no NaN or inf).")
    if np.any(arr < 0) or (not allow_zero and np.any(arr == 0)):
        raise ValueError(f"Invalid `{name}`: received {describe(arr)}; expected {what}.")
    if arr.ndim == 1 and arr.size == 0:
        raise ValueError(f"Invalid `{name}`: received an empty vector; expected {what}.")
    if length is not None and arr.ndim == 1 and arr.shape[0] != length:
        raise ValueError(
            f"Invalid `{name}`: received length {arr.shape[0]}; expected length {length} "
            f"(one entry per class)."
        )
    return arr


def require_weight_vector(
    name: str,
    value: Any,
    *,
    length: int | None = None,
    allow_scalar: bool = True,
    allow_zero: bool = True,
) -> np.ndarray:
    """`check_weight_vector` for an argument that must be given: None is an error too."""
    arr = check_weight_vector(name, value, length=length, allow_scalar=allow_scalar, allow_zero=allow_zero)
    if arr is None:
        raise ValueError(f"Invalid `{name}`: received None; expected {_weights_allowed(allow_scalar, allow_zero)}.")
    return arr


def check_priors(name: str, value: Any, *, length: int | None = None) -> np.ndarray:
    """Strictly positive, finite class priors, returned normalised to sum to 1.

    Examples:
        >>> check_priors("class_priors", [3, 1])
        array([0.75, 0.25])
        >>> check_priors("class_priors", [0.5, 0.5], length=3)
        Traceback (most recent call last):
            ...
        ValueError: Invalid `class_priors`: received length 2; expected length 3 (one entry per class).
    """
    if value is None:
        raise ValueError(f"Invalid `{name}`: received None; expected a positive finite 1-D vector.")
    arr = require_weight_vector(name, value, length=length, allow_scalar=False, allow_zero=False)
    return arr / arr.sum()


def shape_message(target_name: str, target_shape: Iterable[int], input_name: str, input_shape: Iterable[int]) -> str:
    """The message for two shapes that must be equal.

    Examples:
        >>> shape_message("target", (4,), "input", (4, 3))
        'Shape mismatch: `target` has shape (4,) but `input` has shape (4, 3); they must be equal (no silent
        broadcasting). Reshape one of them, e.g. (B,) -> (B, 1).'
    """
    return (
        f"Shape mismatch: `{target_name}` has shape {tuple(target_shape)} but `{input_name}` has "
        f"shape {tuple(input_shape)}; they must be equal (no silent broadcasting). Reshape one "
        f"of them, e.g. (B,) -> (B, 1)."
    )


def softmax_target_shape_message(target_name: str, target_shape: Sequence[int], input_name: str,
                                 input_shape: Sequence[int]) -> str:
    """The softmax family's targets: class indices (the logits' shape without the class axis)
    or probabilities (the logits' shape). `input_shape` is given class axis last.

    Examples:
        >>> softmax_target_shape_message("target", (4, 2), "input", (4, 3))
        'Shape mismatch: `target` has shape (4, 2) but `input` has shape (4, 3); expected class indices of shape
        (4,) or probabilities of shape (4, 3) (no silent broadcasting).'
    """
    target_shape, input_shape = tuple(target_shape), tuple(input_shape)
    return (
        f"Shape mismatch: `{target_name}` has shape {target_shape} but `{input_name}` has "
        f"shape {input_shape}; expected class indices of shape {input_shape[:-1]} "
        f"or probabilities of shape {input_shape} (no silent broadcasting)."
    )


def check_same_shape(target_name: str, target_shape: Sequence[int], input_name: str,
                     input_shape: Sequence[int]) -> None:
    """Two shapes must be equal (no silent broadcasting); a ValueError naming both otherwise.

    Examples:
        >>> check_same_shape("target", (4, 3), "input", (4, 3))
        >>> check_same_shape("target", (4,), "input", (4, 3))
        Traceback (most recent call last):
            ...
        ValueError: Shape mismatch: `target` has shape (4,) but `input` has shape (4, 3); they must be equal (no
        silent broadcasting). Reshape one of them, e.g. (B,) -> (B, 1).
    """
    if tuple(target_shape) != tuple(input_shape):
        raise ValueError(shape_message(target_name, target_shape, input_name, input_shape))


def check_vector_length(name: str, w: Any, length: int | None) -> None:
    """A per-class vector must have one entry per class (the logits' last axis); scalars pass.

    Examples:
        >>> check_vector_length("pos_weight", np.ones(3), 3)
        >>> check_vector_length("pos_weight", np.ones(2), 3)
        Traceback (most recent call last):
            ...
        ValueError: Invalid `pos_weight`: received length 2; expected length 3 (one entry per class: the class axis
        of the logits).
    """
    if w is None or length is None:
        return
    # .shape first: a torch buffer's shape is static under torch.compile, np.ndim(tensor) is not
    shape = tuple(w.shape) if hasattr(w, "shape") else np.shape(w)
    if len(shape) == 1 and shape[0] != length:
        raise ValueError(
            f"Invalid `{name}`: received length {shape[0]}; expected length {length} "
            f"(one entry per class: the class axis of the logits)."
        )


def range_message(name: str, low: float, high: float, what: str = "values") -> str:
    """The start of the message for values outside [low, high] (the received range follows).

    Examples:
        >>> range_message("target", 0.0, 1.0)
        'Invalid `target`: values must lie in [0, 1]'
    """
    return f"Invalid `{name}`: {what} must lie in [{low:g}, {high:g}]"


def check_values_in_range(name: str, values: Any, low: float, high: float, what: str = "values") -> None:
    """Tensor content check (targets in [0, 1], probabilities in [0, 1]); NaN is rejected.

    Examples:
        >>> check_values_in_range("target", [0.0, 1.0], 0.0, 1.0)
        >>> check_values_in_range("target", [0.0, 1.5], 0.0, 1.0)
        Traceback (most recent call last):
            ...
        ValueError: Invalid `target`: values must lie in [0, 1]; received values in [0, 1.5].
    """
    arr = np.asarray(to_numpy(values))
    if arr.size == 0:
        return
    lo, hi = float(np.min(arr)), float(np.max(arr))
    if math.isnan(lo) or math.isnan(hi) or lo < low or hi > high:
        raise ValueError(f"{range_message(name, low, high, what)}; received values in [{lo:g}, {hi:g}].")


def index_message(name: str, num_classes: int, ignore_index: int | None) -> str:
    """The start of the message for class indices out of range (the bad values follow).

    Examples:
        >>> index_message("target", 3, -100)
        'Invalid `target`: class indices must lie in [0, 3) or equal ignore_index=-100'
    """
    extra = f" or equal ignore_index={ignore_index}" if ignore_index is not None else ""
    return f"Invalid `{name}`: class indices must lie in [0, {num_classes}){extra}"


def check_class_indices(name: str, values: Any, num_classes: int, ignore_index: int | None = None) -> None:
    """Class indices must lie in [0, num_classes) or equal `ignore_index`; a ValueError otherwise.

    Examples:
        >>> check_class_indices("target", [0, 2, -100], 3, ignore_index=-100)
        >>> check_class_indices("target", [0, 3], 3)
        Traceback (most recent call last):
            ...
        ValueError: Invalid `target`: class indices must lie in [0, 3); received [3].
    """
    arr = np.asarray(to_numpy(values))
    if arr.size == 0:
        return
    bad = (arr < 0) | (arr >= num_classes)
    if ignore_index is not None:
        bad &= arr != ignore_index
    if np.any(bad):
        first = arr[bad].ravel()[:6].tolist()
        raise ValueError(f"{index_message(name, num_classes, ignore_index)}; received {first}.")


def float_dtype_message(name: str, dtype_text: str) -> str:
    """The TypeError message for logits of a dtype that is not floating.

    Examples:
        >>> float_dtype_message("input", "int64")
        'Invalid `input` dtype: received int64; expected a floating dtype (float16, bfloat16, float32 or float64).'
    """
    return (f"Invalid `{name}` dtype: received {dtype_text}; expected a floating dtype "
            f"(float16, bfloat16, float32 or float64).")


def check_float_dtype(name: str, dtype: Any) -> None:
    """Logits must be floating point (a TypeError, as in both frameworks' own ops).

    Examples:
        >>> check_float_dtype("input", "float32")
        >>> check_float_dtype("input", "int64")
        Traceback (most recent call last):
            ...
        TypeError: Invalid `input` dtype: received int64; expected a floating dtype (float16, bfloat16, float32 or
        float64).
    """
    text = str(dtype).replace("torch.", "")
    if not any(k in text for k in ("float", "half", "bfloat")):
        raise TypeError(float_dtype_message(name, text))


def feature_rows_message(shape: tuple, rows: int) -> str:
    """balanced_batches: every feature needs one row per label.

    Examples:
        >>> feature_rows_message((5, 2), 4)
        'Invalid `x`: received a feature of shape (5, 2); expected a leading dimension of 4, one row per label in
        `y`.'
    """
    return (f"Invalid `x`: received a feature of shape {tuple(shape)}; expected a leading "
            f"dimension of {rows}, one row per label in `y`.")


def whole_number_message(name: str, values: Any) -> str:
    """The message for class indices given as floats with a fractional part.

    Examples:
        >>> whole_number_message("labels", [0.5])
        'Invalid `labels`: class indices must be whole numbers; received [0.5] (shape (1,)).'
    """
    return f"Invalid `{name}`: class indices must be whole numbers; received {describe(values)}."


def check_whole_numbers(name: str, values: Any) -> None:
    """Class indices given as floats must be whole numbers; a ValueError otherwise.

    Examples:
        >>> check_whole_numbers("labels", [0.0, 1.0])
        >>> check_whole_numbers("labels", [0.5])
        Traceback (most recent call last):
            ...
        ValueError: Invalid `labels`: class indices must be whole numbers; received [0.5] (shape (1,)).
    """
    arr = np.asarray(to_numpy(values))
    if np.any(arr != np.round(arr)):
        raise ValueError(whole_number_message(name, arr))


def invalid_values_message(*names: str) -> str:
    """The start of a deferred content check's message, naming the checked tensors.

    Examples:
        >>> invalid_values_message("target", "input")
        'Invalid values in `target`, `input`'
    """
    return "Invalid values in " + ", ".join(f"`{n}`" for n in names)


def deferred_failure_message(message: str) -> str:
    """A deferred (device-side) check failed but the values changed before they were read.

    Examples:
        >>> deferred_failure_message("Invalid `target`: ...")
        'Invalid `target`: ...; found by a deferred device-side check (the tensor changed before its values could be
        reported).'
    """
    return f"{message}; found by a deferred device-side check (the tensor changed before its values could be reported)."


def sample_weight_shape_message(received: tuple, per_sample: tuple) -> str:
    """The message for a `sample_weight` that is neither a scalar nor one weight per sample.

    Examples:
        >>> sample_weight_shape_message((3,), (4,))
        'Invalid `sample_weight`: received shape (3,); expected a scalar, shape (4,) (one weight per sample) or (4,
        1).'
    """
    return (f"Invalid `sample_weight`: received shape {tuple(received)}; expected a scalar, shape "
            f"{tuple(per_sample)} (one weight per sample) or {tuple(per_sample) + (1,)}.")


@overload
def check_integer(name: str, value: Any, *, low: int | None = None, high: int | None = None,
                  allow_none: Literal[False] = False) -> int: ...
@overload
def check_integer(name: str, value: Any, *, low: int | None = None, high: int | None = None,
                  allow_none: bool) -> int | None: ...
def check_integer(
    name: str,
    value: Any,
    *,
    low: int | None = None,
    high: int | None = None,
    allow_none: bool = False,
) -> int | None:
    """An integer scalar (Python int, NumPy or 0-d tensor integer; never bool or float) in
    [low, high]; returns it as a Python int."""
    if value is None and allow_none:
        return None
    if low is not None and high is not None:
        allowed = f"an integer in [{low}, {high}]"
    elif low is not None:
        allowed = f"an integer >= {low}"
    elif high is not None:
        allowed = f"an integer <= {high}"
    else:
        allowed = "an integer"
    if allow_none:
        allowed += " or None"
    try:
        arr = np.asarray(to_numpy(value))
        ok = arr.ndim == 0 and arr.dtype.kind in "iu"
    except Exception:
        ok = False
    if not ok:
        raise ValueError(f"Invalid `{name}`: received {describe(value)}; expected {allowed}.")
    number = int(arr)
    if (low is not None and number < low) or (high is not None and number > high):
        raise ValueError(f"Invalid `{name}`: received {number}; expected {allowed}.")
    return number


def check_fractions(name: str, value: Any, *, length: int | None = None, atol: float = 1e-6) -> np.ndarray:
    """Non-negative finite fractions summing to 1 (within `atol`); returned renormalised so
    that they sum to 1 exactly in float64."""
    arr = require_weight_vector(name, value, length=length, allow_scalar=False)
    total = float(arr.sum())
    if abs(total - 1.0) > atol:
        raise ValueError(
            f"Invalid `{name}`: received {describe(arr)} (sum {total:g}); expected non-negative "
            f"fractions summing to 1 (within {atol:g})."
        )
    return arr / total


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


def check_vector_rank(name: str, shape: tuple, what: str) -> None:
    """A native tensor argument that must be a 1-D vector (its values are not read)."""
    if len(tuple(shape)) != 1:
        raise ValueError(f"Invalid `{name}`: received shape {tuple(shape)}; expected a 1-D vector of {what}.")
# ------------------------------------------------------------------ long-tail metric arguments


def check_samples_per_class(name: str, value: Any) -> np.ndarray:
    """Training counts per class for the shot groups: a non-negative finite 1-D vector with
    at least two classes (a class with no training sample is allowed: it is few-shot)."""
    if value is None:
        raise ValueError(
            f"Invalid `{name}`: received None; expected a non-negative finite 1-D vector of training counts.")
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


def check_counts(name: str, value: Any) -> np.ndarray:
    """Samples per class: a 1-D vector of non-negative finite counts, every class with at least
    one sample (a class without any would get an infinite margin or a log(0) shift)."""
    if value is None:
        raise ValueError(f"Invalid `{name}`: received None; expected K positive counts.")
    counts = require_weight_vector(name, value, allow_scalar=False)
    empty = np.flatnonzero(counts == 0)
    if empty.size:
        raise ValueError(
            f"Invalid `{name}`: received {describe(counts)}; class {int(empty[0])} has no samples, "
            f"and every class needs at least one."
        )
    return counts


def mutable_class_weight_message(loss: Any) -> str:
    """DeferredReweighting needs a loss whose class weights live in a variable / buffer."""
    return (f"Invalid `loss`: received {type(loss).__name__}; expected a loss whose class weights can "
            f"change during training (a `class_weight` variable in Keras, a buffer in torch), such as "
            f"LDAMLoss.")


# -- multi-label batch sampling (mode="repeat_factor" / "class_aware") and repeat factors ----


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


def stream_element_shape_message(shape: tuple) -> str:
    """tf_impl.data.balance_dataset keeps per-class rings of elements: their shapes must be known."""
    return (f"Invalid `dataset`: an element has shape {tuple(shape)} with unknown dimensions; "
            f"balance_dataset needs fully known element shapes (e.g. pad or resize in a map first).")


# ----------------------------------------------------------------------------- decisions


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


def not_a_dataset_message(value: Any, expected: str) -> str:
    return f"Invalid `dataset`: received {type(value).__name__}; expected {expected}."


def not_callable_message(name: str, value: Any) -> str:
    return f"Invalid `{name}`: received {describe(value)}; expected a callable."


def scalar_logits_message(name: str, layouts: str) -> str:
    return f"Invalid `{name}`: received a scalar; expected logits of shape {layouts}."


def label_fn_without_dataset_message(dataset_kind: str) -> str:
    return f"Invalid `label_fn`: it applies to a {dataset_kind} only; received labels that are not a Dataset."


def scalar_prior_message(name: str, value: Any, other: str) -> str:
    return (f"Invalid `{name}`: received {describe(value)}, a scalar, while `{other}` has one prior per class; "
            f"a scalar prior is the positive class's prior of sigmoid logits, which need activation=\"sigmoid\" "
            f"(softmax logits need one prior per class in both).")


def not_a_loss_message(name: str, value: Any, accepted: str) -> str:
    kind = f"{type(value).__module__}.{type(value).__qualname__}"
    return f"Invalid `{name}`: received {kind} ({value!r:.80}); expected {accepted}."


def wrong_framework_message(name: str, value: Any, framework: str, other: str) -> str:
    return (f"Invalid `{name}`: received {type(value).__module__}.{type(value).__qualname__}, a {framework} object; "
            f"pass it as `{other}`.")


def not_a_metric_message(name: str, value: Any, accepted: str) -> str:
    return (f"Invalid `{name}`: received {type(value).__module__}.{type(value).__qualname__}; expected {accepted}.")


def fit_weights_conflict_message() -> str:
    return ("Invalid arguments: received both `class_weight` and `sample_weight`; model.fit rejects the pair (\"You "
            "cannot `class_weight` and `sample_weight` at the same time\"): fold the class weights into the sample "
            "weights, or pass one of them.")


def fit_class_weight_rank_message(shape: tuple) -> str:
    return (f"Invalid `class_weight`: model.fit maps class weights to one weight per sample, from targets of shape "
            f"(B,), (B, 1) or one-hot (B, K); received targets of shape {tuple(shape)}. For dense targets pass "
            f"per-position weights of the target's shape as `sample_weight`.")


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


def exclusive_weights_message(first: str, second: str) -> str:
    return (f"Invalid arguments: received both `{first}` and `{second}`; expected one of them (fold the class "
            f"weights into the per-sample weights).")


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
