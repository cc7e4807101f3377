"""The checks of scalar and vector arguments, and how a received value is written in a message.

Part of `imbalance_core.validation`, which re-exports every name: arguments (a choice, a
number, an integer, a flag, weights, priors, fractions) are checked when a loss, metric or
sampler is built, each raising a ValueError that names the argument, the value received
(`describe`) and what is allowed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, Literal, TypeVar, overload

import numpy as np

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


def first_values(values: Any, limit: int = 6) -> list:
    """The first `limit` offending values, as a message lists them (a plain list, no shape).

    Examples:
        >>> first_values(np.array([[-1, -2], [-3, -4]]), limit=3)
        [-1, -2, -3]
    """
    return np.asarray(values).ravel()[:limit].tolist()


def none_message(name: str, expected: str) -> str:
    """An argument that must be given received None; `expected` says what it takes.

    Examples:
        >>> none_message("samples_per_class", "K positive counts")
        'Invalid `samples_per_class`: received None; expected K positive counts.'
    """
    return f"Invalid `{name}`: received None; expected {expected}."


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


def _interval(low: float | None, high: float | None, low_open: bool, high_open: bool, spec: str) -> str:
    """The bounds as a message writes them ("in [0, 1)", ">= 0"), each number formatted by `spec`."""
    if high is None:
        return f"{'>' if low_open else '>='} {low:{spec}}"
    if low is None:
        return f"{'<' if high_open else '<='} {high:{spec}}"
    return f"in {'(' if low_open else '['}{low:{spec}}, {high:{spec}}{')' if high_open else ']'}"


_Scalar = TypeVar("_Scalar", int, float)


def _bounded_scalar(name: str, value: Any, convert: Callable[[np.ndarray], _Scalar], kinds: str, what: str,
                    spec: str, *, low: float | None, high: float | None, low_open: bool, high_open: bool,
                    allow_none: bool) -> _Scalar | None:
    """`check_number` and `check_integer`: a 0-d value whose dtype kind is in `kinds`, converted by
    `convert`, finite and within the bounds; the message calls it `what`, numbers formatted by `spec`."""
    if value is None and allow_none:
        return None
    allowed = f"{what} {_interval(low, high, low_open, high_open, spec)}" if (low, high) != (None, None) else what
    if allow_none:
        allowed += " or None"
    try:
        arr = np.asarray(to_numpy(value))
        number = convert(arr) if arr.ndim == 0 and arr.dtype.kind in kinds else None
    except Exception:
        number = None
    if number is None or not math.isfinite(number):
        raise ValueError(f"Invalid `{name}`: received {describe(value)}; expected {allowed}.")
    if (
        (low is not None and (number < low or (low_open and number == low)))
        or (high is not None and (number > high or (high_open and number == high)))
    ):
        raise ValueError(f"Invalid `{name}`: received {number:{spec}}; expected {allowed}.")
    return number


@overload
def check_number(name: str, value: Any, *, low: float | None = None, high: float | None = None,
                 low_open: bool = False, high_open: bool = False, allow_none: Literal[False] = False) -> float: ...
@overload
def check_number(name: str, value: Any, *, low: float | None = None, high: float | None = None,
                 low_open: bool = False, high_open: bool = False, allow_none: bool) -> float | None: ...
def check_number(name: str, value: Any, *, low: float | None = None, high: float | None = None,
                 low_open: bool = False, high_open: bool = False, allow_none: bool = False) -> float | None:
    """A finite real scalar within an interval; returns it as a Python float.

    Examples:
        >>> check_number("gamma", 2, low=0.0)
        2.0
        >>> check_number("gamma", -0.5, low=0.0)
        Traceback (most recent call last):
            ...
        ValueError: Invalid `gamma`: received -0.5; expected a finite number >= 0.
    """
    return _bounded_scalar(name, value, float, "iuf", "a finite number", "g", low=low, high=high,
                           low_open=low_open, high_open=high_open, allow_none=allow_none)


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


def check_weight_vector(name: str, value: Any, *, length: int | None = None, allow_scalar: bool = True,
                        allow_zero: bool = True) -> np.ndarray | None:
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


def require_weight_vector(name: str, value: Any, *, length: int | None = None, allow_scalar: bool = True,
                          allow_zero: bool = True) -> np.ndarray:
    """`check_weight_vector` for an argument that must be given: None is an error too."""
    arr = check_weight_vector(name, value, length=length, allow_scalar=allow_scalar, allow_zero=allow_zero)
    if arr is None:
        raise ValueError(none_message(name, _weights_allowed(allow_scalar, allow_zero)))
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
        raise ValueError(none_message(name, "a positive finite 1-D vector"))
    arr = require_weight_vector(name, value, length=length, allow_scalar=False, allow_zero=False)
    return arr / arr.sum()


@overload
def check_integer(name: str, value: Any, *, low: int | None = None, high: int | None = None,
                  allow_none: Literal[False] = False) -> int: ...
@overload
def check_integer(name: str, value: Any, *, low: int | None = None, high: int | None = None,
                  allow_none: bool) -> int | None: ...
def check_integer(name: str, value: Any, *, low: int | None = None, high: int | None = None,
                  allow_none: bool = False) -> int | None:
    """An integer scalar (Python int, NumPy or 0-d tensor integer; never bool or float) in
    [low, high]; returns it as a Python int."""
    return _bounded_scalar(name, value, int, "iu", "an integer", "", low=low, high=high, low_open=False,
                           high_open=False, allow_none=allow_none)


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


def integer_or_none_message(name: str, value: Any) -> str:
    """An argument that takes a Python or NumPy integer, or None (e.g. `ignore_index`)."""
    return f"Invalid `{name}`: received {value!r}; expected an integer or None."


def unit_weights_message(name: str, value: Any) -> str:
    """An argument that takes None, a number in [0, 1] or a vector of them (e.g. `alpha`)."""
    return (f"Invalid `{name}`: received {describe(value)}; expected None, a number in [0, 1] "
            f"or a vector of values in [0, 1].")


# ---- the declared arguments of a loss (imbalance_core.loss_specs)


def unknown_family_message(loss: str, family: str, families: Sequence[str]) -> str:
    """A loss declared with a family that the frameworks do not build."""
    return f"{loss}: family {family!r} is not one of {tuple(families)}"


def missing_argument_message(loss: str, name: str) -> str:
    """A required argument of a loss was not given (a TypeError, as for a Python function)."""
    return f"{loss}: missing the required argument `{name}`"


def unexpected_arguments_message(loss: str, names: Sequence[str]) -> str:
    """Arguments that a loss does not take (a TypeError, as for a Python function)."""
    return f"{loss}: unexpected arguments {sorted(names)}"
