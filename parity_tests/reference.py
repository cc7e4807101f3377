"""The float64 NumPy oracle: one function per functional loss, same name, same keywords.

Signature: `oracle(logits, target, **kwargs)` (torch's argument order), returning the
unreduced loss exactly as the functional forms do. Written for clarity and accuracy in
float64, not speed; the parity suite evaluates it on the inputs each framework saw (rounded to
the cell's dtype) and differentiates it by central differences.
"""

from __future__ import annotations

import numpy as np

EPSILON = 1e-7


def log_sigmoid(x: np.ndarray) -> np.ndarray:
    """log sigma(x) = -log(1 + exp(-x)), stable for every finite x."""
    return -np.logaddexp(0.0, -x)


def _logits_from_probabilities(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, EPSILON, 1.0 - EPSILON)
    return np.log(p) - np.log1p(-p)


def _weight(w, default=1.0):
    return np.float64(default) if w is None else np.asarray(w, dtype=np.float64)


def weighted_binary_crossentropy(
    logits, target, *, pos_weight=None, neg_weight=None, label_smoothing=0.0, from_logits=True, validate_args=True
):
    """l = -[w+ y log sigma(x) + w- (1 - y) log sigma(-x)], y smoothed to y(1-e) + e/2."""
    x = np.asarray(logits, dtype=np.float64)
    y = np.asarray(target, dtype=np.float64)
    if not from_logits:
        x = _logits_from_probabilities(x)
    y = y * (1.0 - label_smoothing) + 0.5 * label_smoothing
    return -(_weight(pos_weight) * y * log_sigmoid(x) + _weight(neg_weight) * (1.0 - y) * log_sigmoid(-x))
