"""The float64 NumPy oracle of the parity suite: each declared loss's reference (the `reference`
of its declaration in `imbalance_core.loss_specs`), found here by its functional name, and
`class_loss`, the loss classes' reductions under each framework's convention.

Signature: `oracle(logits, target, **kwargs)` (torch's argument order), returning the
unreduced loss exactly as the functional forms do. The parity suite evaluates it on the inputs
each framework saw (rounded to the cell's dtype) and differentiates it by central differences.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from imbalance_core import loss_reference, loss_specs


def __getattr__(name: str) -> Callable:
    """`reference.<functional name>`: the declaration's float64 reference."""
    if name in loss_specs.SPECS:
        return loss_specs.SPECS[name].reference
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ---------------------------------------------------------------- class-level reductions
# The loss classes' reductions, per framework convention (the README's migration table):
# the sigmoid family's Keras classes first average over the last axis; `sample_weight`
# multiplies per-sample losses; "mean" divides by the number of losses (Keras
# "sum_over_batch_size", torch "mean"), and the softmax family's mean by the non-ignored count
# (normalization="count") or their summed class weights ("weight"), 0 when that is 0.


def _default_normalization(fn: str) -> str:
    """The class's default `normalization` ("count" where the class takes none)."""
    return loss_specs.spec(fn).defaults("class").get("normalization", "count")


def _mean_denominator(fn: str, logits: np.ndarray, target: np.ndarray, normalization: str | None,
                      kwargs: dict[str, Any]) -> float:
    k = np.shape(logits)[-1]
    _, valid, raw = loss_reference._targets(target, k, kwargs.get("ignore_index"))
    if (normalization or _default_normalization(fn)) == "count":
        return float(valid.sum())
    w = kwargs.get("class_weight", kwargs.get("alpha"))
    w = np.ones(k) if w is None else np.broadcast_to(np.asarray(w, dtype=np.float64), (k,))
    return float(((raw * w).sum(axis=-1) * valid).sum())


def class_loss(fn: str, logits: np.ndarray, target: np.ndarray, *, convention: str | None, reduction: str,
               sample_weight: Any = None, normalization: str | None = None, **kwargs: Any) -> np.ndarray:
    """The class form of functional loss `fn` under `reduction`, by `convention` ("keras"; "torch"
    or None: torch's): what `tf_impl.losses.<Class>(reduction=...)` or `torch_impl.losses.<Class>(...)`
    returns."""
    loss = loss_specs.spec(fn).reference(logits, target, **kwargs)
    sigmoid = loss_specs.spec(fn).family == "sigmoid"
    if sigmoid and convention == "keras":
        loss = loss.mean(axis=-1)
    if sample_weight is not None:
        sw = np.asarray(sample_weight, dtype=np.float64)
        loss = loss * sw.reshape(sw.shape + (1,) * (loss.ndim - sw.ndim))
    if reduction == "none":
        return loss
    if reduction == "sum":
        return np.asarray(loss.sum())
    if sigmoid:
        return np.asarray(loss.sum() / loss.size)
    denominator = _mean_denominator(fn, logits, target, normalization, kwargs)
    return np.asarray(loss.sum() / denominator if denominator > 0 else 0.0)
