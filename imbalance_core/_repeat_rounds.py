"""Mode "repeat_factor" of imbalance_core.schedule: detectron2's endless stream of shuffled
rounds (Gupta et al. 2019, LVIS; detectron2's ``RepeatFactorTrainingSampler``).

Round j holds sample i floor(r_i) times plus once more with probability r_i - floor(r_i) (its
own generator, keyed by the seed and j), shuffled. The rounds are laid end to end and the
epochs cut that stream into equal pieces, so every batch is full, nothing is dropped or
padded, and a round may straddle two epochs. A round is a shuffle of O(N) entries.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._randomness import SALT_REPEAT, permutation, seeded_rng


class RepeatRounds:
    """The rounds of mode "repeat_factor" for repeat factors r (one per sample) and a seed.

    Args:
        repeat_factors: r_i >= 1 per sample (`compute_repeat_factors`), float64.
        seed: non-negative integer; with the round index it fixes every round.
        ids_dtype: the dtype of the sample ids while a round is built.

    >>> rounds = RepeatRounds(np.array([1.0, 2.0, 1.0]), seed=0, ids_dtype=np.int32)
    >>> sorted(rounds.round(0).tolist())
    [0, 1, 1, 2]
    >>> rounds.stream(2, 4).shape
    (4,)
    """

    def __init__(self, repeat_factors: np.ndarray, *, seed: int, ids_dtype: Any) -> None:
        self.seed = seed
        self._ids_dtype = ids_dtype
        # Split as detectron2 does: whole repeats plus a stochastically rounded fraction.
        self._whole = np.floor(repeat_factors).astype(np.int64)
        self._fraction = repeat_factors - self._whole
        self._ends: list[int] = [0]  # ends[j + 1] = where round j ends in the stream

    def _repeats(self, j: int) -> tuple[np.ndarray, np.random.Generator]:
        # Round j holds sample i floor(r_i) times, plus once with probability frac(r_i).
        rng = seeded_rng(self.seed, j, SALT_REPEAT)
        extra = rng.random(self._whole.shape[0]) < self._fraction
        return self._whole + extra, rng

    def round(self, j: int) -> np.ndarray:
        """Round j: every index repeated by its stochastic rounding of r_i, shuffled
        (detectron2's `_get_epoch_indices` then `randperm`); int64."""
        repeats, rng = self._repeats(j)
        indices = np.repeat(np.arange(self._whole.shape[0], dtype=self._ids_dtype), repeats)
        return indices[permutation(rng, indices.shape[0], np.int64)].astype(np.int64, copy=False)

    def stream(self, start: int, size: int) -> np.ndarray:
        """Positions [start, start + size) of the rounds 0, 1, 2, ... laid end to end."""
        ends = self._ends
        while ends[-1] < start + size:
            ends.append(ends[-1] + int(self._repeats(len(ends) - 1)[0].sum()))
        first = int(np.searchsorted(ends, start, side="right")) - 1
        out = np.empty(size, dtype=np.int64)
        filled = 0
        j = first
        while filled < size:
            lo = max(start - ends[j], 0)
            hi = min(start + size - ends[j], ends[j + 1] - ends[j])
            out[filled : filled + hi - lo] = self.round(j)[lo:hi]
            filled += hi - lo
            j += 1
        return out
