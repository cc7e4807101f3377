"""The case table: the single place where each loss's parity inputs are listed.

A case names a functional loss (the same name in tf_impl.losses, torch_impl.losses and
parity_tests.reference), its keyword arguments, an input generator and, optionally, tolerance
overrides with the reason. Adding a loss = one oracle function + entries here + the two
implementations. Every case runs on framework x device x dtype x (value, gradient).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

# Cotangents for gradient checks are drawn from values exact in every dtype (bfloat16 has an
# 8-bit significand), so rounding the cotangent never enters the comparison.
COTANGENT_VALUES = np.array([0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0])


@dataclass(frozen=True)
class Case:
    name: str
    fn: str
    make_inputs: Callable[[np.random.Generator], tuple[np.ndarray, np.ndarray]]
    kwargs: dict = field(default_factory=dict)
    index_target: bool = False  # class indices (int64) rather than float targets
    tol: Optional[dict] = None  # {dtype: (rtol, atol)}; requires `reason`
    reason: str = ""
    seed: int = 0

    def __post_init__(self):
        if self.tol and not self.reason:
            raise ValueError(f"case {self.name}: a tolerance override needs a reason")

    def inputs(self) -> tuple[np.ndarray, np.ndarray]:
        logits, target = self.make_inputs(np.random.default_rng(self.seed))
        return np.asarray(logits, np.float64), np.asarray(target)

    def cotangent(self, shape) -> np.ndarray:
        """The fixed weights v of the gradient check d/dx sum(v * loss)."""
        return np.random.default_rng(self.seed + 1).choice(COTANGENT_VALUES, size=shape)


# ---------------------------------------------------------------- input generators (sigmoid)


def _random_logits(shape, scale=3.0):
    def make(rng):
        x = rng.normal(size=shape) * scale
        return x, (rng.random(shape) < 0.3).astype(np.float64)

    return make


def _soft_labels(shape, scale=3.0):
    def make(rng):
        return rng.normal(size=shape) * scale, rng.random(shape)

    return make


def _extreme_logits(shape):
    """|x| up to 100, both right and wrong signs, plus exact zeros."""

    def make(rng):
        x = rng.choice([-100.0, -60.0, -20.0, -1.0, 0.0, 1.0, 20.0, 60.0, 100.0], size=shape)
        return x, (rng.random(shape) < 0.5).astype(np.float64)

    return make


def _probabilities(shape):
    def make(rng):
        return rng.uniform(0.02, 0.98, size=shape), (rng.random(shape) < 0.4).astype(np.float64)

    return make


CASES: list[Case] = [
    # weighted binary cross-entropy
    Case("wbce/plain", "weighted_binary_crossentropy", _random_logits((8, 5))),
    Case(
        "wbce/per_label_weights",
        "weighted_binary_crossentropy",
        _soft_labels((8, 5)),
        dict(pos_weight=np.array([1.0, 2.0, 5.0, 0.5, 10.0]), neg_weight=0.75),
    ),
    Case(
        "wbce/zero_weights",
        "weighted_binary_crossentropy",
        _random_logits((6, 4)),
        dict(pos_weight=np.array([0.0, 3.0, 1.0, 0.0]), neg_weight=np.array([1.0, 0.0, 2.0, 0.5])),
    ),
    Case("wbce/extreme_logits", "weighted_binary_crossentropy", _extreme_logits((8, 6)), dict(pos_weight=4.0)),
    Case(
        "wbce/label_smoothing",
        "weighted_binary_crossentropy",
        _extreme_logits((6, 5)),
        dict(label_smoothing=0.1, pos_weight=2.0),
    ),
    Case("wbce/probabilities", "weighted_binary_crossentropy", _probabilities((6, 4)), dict(from_logits=False)),
    Case("wbce/binary_1d", "weighted_binary_crossentropy", _random_logits((16,)), dict(pos_weight=9.0)),
    Case("wbce/binary_b1", "weighted_binary_crossentropy", _random_logits((16, 1)), dict(neg_weight=0.1)),
]


def get_cases(loss_filter: Optional[str] = None) -> list[Case]:
    """Cases whose name or functional name contains `loss_filter` (all when None)."""
    if not loss_filter:
        return list(CASES)
    keys = [k.strip() for k in loss_filter.split(",") if k.strip()]
    return [c for c in CASES if any(k in c.name or k in c.fn for k in keys)]
