"""The functional forms' hyperparameters, remembered by their contents.

A training loop calls `loss(x, y, class_weight=w)` with the same `w` at every step. Checking `w`
(NumPy), deriving the core's constants from it and converting them to a framework tensor cost
more than the loss itself on small batches, so each is done once per distinct value:

- `checked` remembers an accepted argument set by its contents (`content_key`: the bytes of
  each array, the value of each number), as copies owned here, so that changing the caller's
  array in place cannot reach them. A rejected set is not remembered and raises every time.
- `framework_copy` remembers the tensor that a framework made of an owned array, per dtype
  and device. An owned array is never changed, so its identity stands for its contents.

Everything is forgotten at once when more than `LIMIT` argument sets have been seen.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

import numpy as np

LIMIT = 256
_CHECKED: dict[tuple, tuple] = {}  # (loss name, content key) -> the flat checked arguments
_OWNED: dict[int, np.ndarray] = {}  # id -> an array owned here (kept alive, so the id is unique)
_COPIES: dict[tuple, tuple[np.ndarray, Any]] = {}  # (id of an owned array, key) -> (the array, tensor)


_PLAIN = frozenset((bool, int, float, str))


def content_key(value: Any) -> Hashable | None:
    """A hashable key that equals another's exactly when the two values check alike: NumPy
    arrays by dtype, shape and bytes, numbers and strings by type and value, sequences and
    keyword dicts item by item; None (not remembered) for anything else, such as a tensor.
    (Called at every functional call: the common types are tested first, by type.)"""
    kind = type(value)
    if value is None or kind in _PLAIN:
        return (kind, value)
    if kind is dict:
        pairs = []
        for name, item in value.items():
            key = content_key(item)
            if key is None:
                return None
            pairs.append((name, key))
        return (dict, tuple(pairs))
    if isinstance(value, (np.ndarray, np.generic)):
        if value.dtype.kind not in "biuf":  # object arrays' bytes are pointers
            return None
        return (np.ndarray, value.dtype.str, value.shape, np.ascontiguousarray(value).tobytes())
    if isinstance(value, (list, tuple)):
        items = tuple(content_key(v) for v in value)
        return None if any(k is None for k in items) else (kind, items)
    if isinstance(value, (bool, int, float, str)):  # subclasses
        return (kind, value)
    return None


def _own(value: Any) -> Any:
    if not isinstance(value, np.ndarray):
        return value
    copy = value.copy()
    _OWNED[id(copy)] = copy
    return copy


def _forget_all() -> None:
    _CHECKED.clear()
    _OWNED.clear()
    _COPIES.clear()


def checked(name: str, arguments: dict, check: Callable[[], tuple]) -> tuple:
    """`check()` (a flat tuple of the checked arguments of loss `name`), once per distinct
    `arguments`; its arrays are owned copies."""
    key = content_key(arguments)
    if key is None:
        return check()
    hit = _CHECKED.get((name, key))
    if hit is not None:
        return hit
    flat = check()
    if len(_CHECKED) >= LIMIT:  # many distinct sets: start again
        _forget_all()
    flat = tuple(_own(v) for v in flat)
    _CHECKED[(name, key)] = flat
    return flat


def owned(value: Any) -> bool:
    """Whether `value` is an array owned here (one of `checked`'s)."""
    return isinstance(value, np.ndarray) and _OWNED.get(id(value)) is value


def framework_copy(value: Any, key: Hashable, make: Callable[[], Any]) -> Any:
    """`make()` (a framework's tensor of `value`), once per owned array and `key` (its dtype
    and device); made every time for any other value."""
    if not owned(value):
        return make()
    slot = (id(value), key)
    hit = _COPIES.get(slot)
    if hit is None or hit[0] is not value:
        hit = _COPIES[slot] = (value, make())
    return hit[1]
