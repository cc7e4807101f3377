"""The checks of tensors at call time: shapes, dtypes and contents, and their messages.

Part of `imbalance_core.validation`, which re-exports every name. Both frameworks check
tensors with their own ops (inside a compiled graph, or deferred on a device) and format what
they find with the `*_message` builders here, so that the text is the same in both; the
`check_*` functions are the same checks on NumPy-convertible values.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ._argument_checks import describe, first_values, to_numpy


def _mismatch(target_name: str, target_shape: Iterable[int], input_name: str, input_shape: Iterable[int]) -> str:
    """The start of every shape-mismatch message: both tensors, named, with their shapes."""
    return (f"Shape mismatch: `{target_name}` has shape {tuple(target_shape)} but `{input_name}` has shape "
            f"{tuple(input_shape)}")


def shape_message(target_name: str, target_shape: Iterable[int], input_name: str, input_shape: Iterable[int]) -> str:
    """The message for two shapes that must be equal.

    Examples:
        >>> shape_message("target", (4,), "input", (4, 3))
        'Shape mismatch: `target` has shape (4,) but `input` has shape (4, 3); they must be equal (no silent
        broadcasting). Reshape one of them, e.g. (B,) -> (B, 1).'
    """
    return (f"{_mismatch(target_name, target_shape, input_name, input_shape)}; they must be equal (no silent "
            f"broadcasting). Reshape one of them, e.g. (B,) -> (B, 1).")


def softmax_target_shape_message(target_name: str, target_shape: Sequence[int], input_name: str,
                                 input_shape: Sequence[int]) -> str:
    """The softmax family's targets: class indices (the logits' shape without the class axis)
    or probabilities (the logits' shape). `input_shape` is given class axis last.

    Examples:
        >>> softmax_target_shape_message("target", (4, 2), "input", (4, 3))
        'Shape mismatch: `target` has shape (4, 2) but `input` has shape (4, 3); expected class indices of shape
        (4,) or probabilities of shape (4, 3) (no silent broadcasting).'
    """
    input_shape = tuple(input_shape)
    return (f"{_mismatch(target_name, target_shape, input_name, input_shape)}; expected class indices of shape "
            f"{input_shape[:-1]} or probabilities of shape {input_shape} (no silent broadcasting).")


def multiclass_shape_message(target_name: str, target_shape: Sequence[int], preds_name: str,
                             preds_shape: Sequence[int]) -> str:
    """A multi-class metric's targets: class indices (the scores' shape without the class axis,
    or with a trailing 1) or one-hot labels (the scores' shape). `preds_shape` is class axis last.

    Examples:
        >>> multiclass_shape_message("target", (5,), "preds", (4, 3))
        'Shape mismatch: `target` has shape (5,) but `preds` has shape (4, 3); expected class indices of shape (4,)
        or (4, 1), or one-hot labels of shape (4, 3) (no silent broadcasting).'
    """
    preds_shape = tuple(preds_shape)
    return (f"{_mismatch(target_name, target_shape, preds_name, preds_shape)}; expected class indices of shape "
            f"{preds_shape[:-1]} or {preds_shape[:-1] + (1,)}, or one-hot labels of shape {preds_shape} "
            f"(no silent broadcasting).")


def class_axis_message(name: str, shape: Sequence[int | None], num_classes: int) -> str:
    """Scores whose last axis is not one score per class."""
    return (f"Invalid `{name}`: received shape {tuple(shape)}; expected a last axis of size "
            f"num_classes={num_classes} (one score per class).")


def weight_axes_message(received: Sequence[int | None], per_sample: Sequence[int | None]) -> str:
    """A metric's `sample_weight` that is neither a scalar nor the leading axes of the per-sample
    shape (with or without a trailing axis of size 1)."""
    return (f"Invalid `sample_weight`: received shape {tuple(received)}; expected a scalar or the leading axes "
            f"of the per-sample shape {tuple(per_sample)}, optionally with a trailing axis of size 1.")


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


def values_range_message(name: str, low: float, high: float, received_low: float, received_high: float,
                         what: str = "values", hint: str = "") -> str:
    """Values outside [low, high], with the range received and, when given, a `hint` on what to pass.

    Examples:
        >>> values_range_message("preds", 0.0, 1.0, -0.5, 2.0, "probabilities", "pass from_logits=True for logits")
        'Invalid `preds`: probabilities must lie in [0, 1]; received values in [-0.5, 2]; pass from_logits=True for
        logits.'
    """
    return (f"{range_message(name, low, high, what)}; received values in [{received_low:g}, {received_high:g}]"
            f"{'; ' + hint if hint else ''}.")


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
        raise ValueError(values_range_message(name, low, high, lo, hi, what))


def index_message(name: str, num_classes: int, ignore_index: int | None) -> str:
    """The start of the message for class indices out of range (the bad values follow).

    Examples:
        >>> index_message("target", 3, -100)
        'Invalid `target`: class indices must lie in [0, 3) or equal ignore_index=-100'
    """
    extra = f" or equal ignore_index={ignore_index}" if ignore_index is not None else ""
    return f"Invalid `{name}`: class indices must lie in [0, {num_classes}){extra}"


def index_range_message(name: str, num_classes: int, received: Any, ignore_index: int | None = None) -> str:
    """Class indices out of range: `received` is the offending index or a list of them.

    Examples:
        >>> index_range_message("class_fn output", 3, 5)
        'Invalid `class_fn output`: class indices must lie in [0, 3); received 5.'
    """
    return f"{index_message(name, num_classes, ignore_index)}; received {received}."


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
        raise ValueError(index_range_message(name, num_classes, first_values(arr[bad]), ignore_index))


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


def fractional_indices_message(name: str, values: Any, hint: str = "") -> str:
    """Class indices with a fractional part, listed (`values`: the offending ones), with a `hint`
    on the label formats when given.

    Examples:
        >>> fractional_indices_message("target", np.array([0.5, 1.5]))
        'Invalid `target`: class indices must be whole numbers; received [0.5, 1.5].'
    """
    return (f"Invalid `{name}`: class indices must be whole numbers; received {first_values(values)}"
            f"{f' ({hint})' if hint else ''}.")


def binary_values_message(name: str, values: Any) -> str:
    """Binary labels other than 0 and 1, listed (`values`: the offending ones)."""
    return f"Invalid `{name}`: binary labels must be 0 or 1; received {first_values(values)}."


def sample_weight_values_message(values: Any) -> str:
    """Sample weights that are negative, NaN or infinite."""
    return f"Invalid `sample_weight`: received {describe(values)}; expected non-negative finite weights."


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


def check_vector_rank(name: str, shape: tuple, what: str) -> None:
    """A native tensor argument that must be a 1-D vector (its values are not read)."""
    if len(tuple(shape)) != 1:
        raise ValueError(f"Invalid `{name}`: received shape {tuple(shape)}; expected a 1-D vector of {what}.")


def scalar_logits_message(name: str, layouts: str) -> str:
    return f"Invalid `{name}`: received a scalar; expected logits of shape {layouts}."
