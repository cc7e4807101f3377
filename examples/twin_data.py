"""The data shared by the twin examples keras_fit.py and torch_train.py: one definition, so
the two scripts train and test on the very same samples."""

import numpy as np


def make_split(n: int, pos_fraction: float, seed: int, dim: int = 8):
    """x (n, dim) float32, y (n,) int64: negatives N(0, I); positives N(0, I) too except the
    first two features, N(0, 0.35^2 I): a rare class inside the majority's densest region."""
    rng = np.random.default_rng(seed)
    n_pos = int(round(n * pos_fraction))
    if not 0 < n_pos < n:
        raise ValueError(f"--pos-fraction {pos_fraction} gives {n_pos} positives out of {n}")
    x = rng.normal(size=(n, dim))
    x[:n_pos, :2] *= 0.35
    y = (np.arange(n) < n_pos).astype(np.int64)
    order = rng.permutation(n)
    return x[order].astype(np.float32), y[order]
