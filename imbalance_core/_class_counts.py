"""The class-count side of the balanced schedules (imbalance_core.schedule and .stream): the
checked labels and fractions, the class counts of a batch and of every step of mode "exact",
the grouping of sample ids by class, and the checks every balanced pipeline starts with.
`imbalance_core.schedule` exports the public names.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any, NamedTuple

import numpy as np

from ._randomness import SALT_SPLIT, SALT_TIE, hash_key, weyl
from .validation import (
    check_choice,
    check_fractions,
    check_integer,
    class_index_dtype_message,
    class_index_labels_message,
    empty_labels_message,
    grouping_message,
    labels_beyond_fractions_message,
    negative_labels_message,
    requested_class_missing_message,
    rounded_batch_too_small_message,
    to_numpy,
    unknown_classes_message,
)

# The fractions' common denominator in mode "exact": a multiple of 2..16 so that the usual
# shares are exact, small enough that W * M and S * M stay in int64.
QUANTUM = 2**23 * 9 * 5 * 7 * 11 * 13

_GROUP_CHUNK = 1 << 20


# -- the checks every balanced pipeline starts with ------------------------------------------
class PipelineArgs(NamedTuple):
    """The checked arguments that every balanced pipeline takes."""

    mode: str
    batch_size: int
    seed: int
    num_replicas: int


def check_pipeline_args(*, mode: Any, modes: tuple[str, ...], batch_size: Any, seed: Any,
                        num_replicas: Any) -> PipelineArgs:
    """`mode` (one of `modes`), `batch_size` >= 1, `seed` >= 0 and `num_replicas` >= 1, checked
    in that order.

    >>> check_pipeline_args(mode="exact", modes=("exact",), batch_size=8, seed=0, num_replicas=2)
    PipelineArgs(mode='exact', batch_size=8, seed=0, num_replicas=2)
    """
    return PipelineArgs(
        check_choice("mode", mode, modes),
        check_integer("batch_size", batch_size, low=1),
        check_integer("seed", seed, low=0),
        check_integer("num_replicas", num_replicas, low=1),
    )


def check_rank(rank: Any, num_replicas: int) -> int:
    """This process's rank among `num_replicas`: an integer in [0, num_replicas).

    Examples:
        >>> check_rank(1, 2)
        1
        >>> check_rank(2, 2)
        Traceback (most recent call last):
            ...
        ValueError: Invalid `rank`: received 2; expected an integer in [0, 1].
    """
    return check_integer("rank", rank, low=0, high=num_replicas - 1)


def index_dtype(num_samples: int) -> Any:
    """The dtype of sample ids: int32 below 2**31 samples (4 bytes per sample), else int64."""
    return np.int32 if num_samples < 2**31 else np.int64


def small_uint(num_classes: int) -> Any:
    """The smallest dtype holding every class id: argsort(kind="stable") is a radix sort there."""
    if num_classes <= 1 << 8:
        return np.uint8
    if num_classes <= 1 << 16:
        return np.uint16
    return np.int64


# -- labels and fractions ----------------------------------------------------------------------
def check_labels(labels: Any, name: str = "labels", mode: str = "exact") -> np.ndarray:
    """1-D integer class indices (bool allowed), non-empty, non-negative; returns NumPy.
    `mode` only words the error for 2-D labels (pointing to the multi-label modes).

    Examples:
        >>> print(check_labels([0, 1, 1, 2]))
        [0 1 1 2]
    """
    arr = np.asarray(to_numpy(labels))
    # Shape first: float multi-hot rows in a single-label mode get the hint to the multi-label modes.
    if arr.ndim != 1:
        raise ValueError(class_index_labels_message(mode, arr.shape))
    if arr.dtype.kind not in "iub":
        raise TypeError(class_index_dtype_message(name, arr.dtype))
    if arr.size == 0:
        raise ValueError(empty_labels_message(name))
    if arr.dtype.kind == "i" and arr.min() < 0:
        raise ValueError(negative_labels_message(name, arr[arr < 0]))
    return arr


def check_labels_within_fractions(top: int, class_fractions: Any) -> None:
    """Labels up to `top` need a fraction each: checked before the labels are cast to a small
    dtype of `top + 1` classes (the fractions' own errors first)."""
    if class_fractions is None:
        return
    num_fractions = np.asarray(to_numpy(class_fractions)).reshape(-1).shape[0]
    if top >= num_fractions:
        check_fractions("class_fractions", class_fractions)
        raise ValueError(labels_beyond_fractions_message(num_fractions, top))


def resolve_fractions(
    class_fractions: Any,
    counts: np.ndarray | None = None,
    *,
    num_classes: int | None = None,
    source: str = "`labels`",
) -> np.ndarray:
    """Validated float64 fractions summing to 1.

    `class_fractions=None` means equal shares: over the classes present in `counts` (indexed
    sources) or over `num_classes` classes (streams). A requested class (f_c > 0) with no
    samples in `counts` is an error.

    Examples:
        >>> print(resolve_fractions(None, np.array([90, 10])), resolve_fractions([0.7, 0.3], np.array([90, 10])))
        [0.5 0.5] [0.7 0.3]
    """
    if class_fractions is None:
        if counts is not None:
            present = counts > 0
            fractions = present / present.sum()
        elif num_classes is not None:
            fractions = np.full(num_classes, 1.0 / num_classes)
        else:
            raise ValueError(unknown_classes_message())
    else:
        fractions = check_fractions("class_fractions", class_fractions, length=num_classes)
    if counts is not None:
        if counts.shape[0] > fractions.shape[0]:
            raise ValueError(labels_beyond_fractions_message(fractions.shape[0], counts.shape[0] - 1))
        padded = np.zeros(fractions.shape[0], dtype=np.int64)
        padded[: counts.shape[0]] = counts
        check_requested_present(fractions, padded, source)
    return fractions


def check_requested_present(fractions: np.ndarray, counts: np.ndarray, source: str) -> None:
    """Every requested class (f_c > 0) has samples in `source` (counts[c] > 0)."""
    missing = np.flatnonzero((fractions > 0) & (counts == 0))
    if missing.size:
        c = int(missing[0])
        raise ValueError(requested_class_missing_message(c, float(fractions[c]), source))


# -- the class counts of a batch ------------------------------------------------------------
def largest_remainder(fractions: np.ndarray, total: int) -> np.ndarray:
    """Integer counts summing to `total`, each floor(f_c total) or one more: the remainder goes
    to the largest fractional parts (ties: lower class index first). Zero fractions get 0.

    Examples:
        >>> print(largest_remainder(np.array([0.5, 0.3, 0.2]), 7))   # 3.5, 2.1, 1.4 rounded to sum to 7
        [4 2 1]
    """
    fractions = np.asarray(fractions, dtype=np.float64)
    # Rounding to 1e-9 keeps 1/3 * 3 from landing on 0.99999... and losing its slot.
    quotas = np.round(fractions * total, 9)
    counts = np.floor(quotas).astype(np.int64)
    short = int(total - counts.sum())
    if short > 0:
        remainders = np.where(fractions > 0, quotas - counts, -1.0)
        counts[np.argsort(-remainders, kind="stable")[:short]] += 1
    return counts


def first_starved(fractions: np.ndarray, counts: np.ndarray) -> tuple[int, int] | None:
    """(the first requested class that gets no slot in `counts`, the batch size that gives
    every requested class one), or None when each has one: mode "exact" needs a slot per
    requested class in every batch."""
    starved = np.flatnonzero((fractions > 0) & (counts == 0))
    if not starved.size:
        return None
    return int(starved[0]), math.ceil(1.0 / float(fractions[fractions > 0].min()) - 1e-9)


def batch_composition(fractions: np.ndarray, batch_size: int, mode: str) -> np.ndarray:
    """Per-batch class counts for mode="exact" (largest remainder); checks that every
    requested class gets at least one slot.

    Examples:
        >>> print(batch_composition(np.array([0.5, 0.3, 0.2]), 8, "exact"))
        [4 2 2]
    """
    counts = largest_remainder(fractions, batch_size)
    starved = first_starved(fractions, counts) if mode == "exact" else None
    if starved is not None:
        c, enough = starved
        raise ValueError(rounded_batch_too_small_message(batch_size, c, float(fractions[c]), enough))
    return counts


def _apportion(fractions: np.ndarray, total: int, salt: int) -> np.ndarray:
    """Integers summing to `total`, each floor(f_c total) or one more; the remainder goes to
    the largest fractional parts, equal ones ordered by a hash of the class (not its index).
    Zero fractions get 0."""
    quotas = fractions * float(total)
    counts = np.floor(quotas).astype(np.int64)
    short = int(total - counts.sum())
    if short > 0:
        remainders = np.where(fractions > 0, quotas - counts, -1.0)
        tie = hash_key(salt, np.arange(fractions.shape[0]))
        counts[np.lexsort((tie, -remainders))[:short]] += 1
    elif short < 0:  # float rounding put a floor above its share: take it back from the smallest
        remainders = np.where(counts > 0, quotas - counts, np.inf)
        counts[np.argsort(remainders, kind="stable")[: -short]] -= 1
    return counts


class ExactComposition:
    """The class counts of every step of mode "exact" (see imbalance_core.schedule): per
    global batch floor(f_c W) or ceil(f_c W), per replica floor(f_c B) or ceil(f_c B), and each
    class's running total within 1 of f_c W s after every step s (PD^2 on the left-over slots).

    A deterministic function of (fractions, batch_size, num_replicas, step): no seed. Steps are
    computed in order and cached (the chosen classes of each step, plus the running totals
    every 64 steps), so `counts(step)` and `before(step)` cost O(K log K) amortised.

    Args:
        fractions: float64 class fractions summing to 1.
        batch_size: slots per replica batch (B).
        num_replicas: replicas per global batch (R).
        steps: the largest number of steps that will be asked for (sizes the integer quantum).

    Examples:
        >>> composition = ExactComposition(np.array([0.5, 0.3, 0.2]), 8, 1, 4)
        >>> [composition.counts(step).tolist() for step in range(4)]   # 8 * 0.3 = 2.4, 8 * 0.2 = 1.6
        [[4, 2, 2], [4, 3, 1], [4, 2, 2], [4, 2, 2]]
        >>> composition.before(4).tolist()                              # within 1 of 16, 9.6, 6.4
        [16, 9, 7]
    """

    _EVERY = 64

    def __init__(self, fractions: np.ndarray, batch_size: int, num_replicas: int, steps: int) -> None:
        self.batch_size, self.num_replicas = int(batch_size), int(num_replicas)
        width = self.batch_size * self.num_replicas
        quantum = QUANTUM
        if quantum * max(width, steps + 2) >= 1 << 62:
            quantum = (1 << 62) // max(width, steps + 2)
        self.quantum = quantum
        weights = _apportion(np.asarray(fractions, np.float64), quantum, SALT_TIE)
        self.weights = weights
        self.num_classes = weights.shape[0]
        self.global_base = (weights * width) // quantum
        self.replica_base = (weights * self.batch_size) // quantum
        rest = (weights * width) % quantum  # Pfair weight of class c: rest_c / quantum
        self.extras = int(width - self.global_base.sum())
        self._active = np.flatnonzero(rest > 0)
        self._rest = rest[self._active]
        self._heavy = 2 * self._rest >= quantum
        self._chosen: list[np.ndarray] = []  # step t: the active positions given an extra
        self._given = np.zeros(self._active.shape[0], dtype=np.int64)
        self._saved = [self._given.copy()]  # extras given before step 64 j
    def _extend(self, steps: int) -> None:
        """Runs PD^2 up to `steps` steps (Srinivasan and Anderson 2002): subtask k of a class
        of weight w has window [floor((k - 1) / w), ceil(k / w)); the E processors go, among
        the released subtasks, to the earliest deadline, then b-bit 1, then the latest group
        deadline (heavy classes), then a hash of (step, class)."""
        m = self.quantum
        rest, heavy = self._rest, self._heavy
        while len(self._chosen) < steps:
            t = len(self._chosen)
            k = self._given + 1
            released = np.flatnonzero(((k - 1) * m) // rest <= t)
            kr, wr = k[released], rest[released]
            deadline = -((-kr * m) // wr)
            b_bit = (kr * m) % wr != 0
            group = np.zeros(released.shape[0], dtype=np.int64)
            h = heavy[released]
            if h.any():
                dh, wh = deadline[h], wr[h]
                first = -((-dh * (m - wh)) // m)
                group[h] = -((-first * m) // (m - wh))
            tie = weyl(self._active[released], t)
            order = np.lexsort((tie, -group, ~b_bit, deadline))
            if order.shape[0] < self.extras:  # cannot happen for a Pfair-feasible set
                raise RuntimeError("the exact composition found fewer released classes than slots")
            chosen = released[order[: self.extras]]
            self._chosen.append(chosen)
            self._given[chosen] += 1
            if (t + 1) % self._EVERY == 0:
                self._saved.append(self._given.copy())

    def counts(self, step: int) -> np.ndarray:
        """Global class counts of `step` (K,), int64."""
        self._extend(step + 1)
        out = self.global_base.copy()
        out[self._active[self._chosen[step]]] += 1
        return out

    def before(self, step: int) -> np.ndarray:
        """Class counts of all the steps before `step` (K,), int64."""
        self._extend(step)
        j = step // self._EVERY
        given = self._saved[j].copy()
        for t in range(j * self._EVERY, step):
            given[self._chosen[t]] += 1
        out = self.global_base * step
        out[self._active] += given
        return out

    def split(self, step: int, counts: np.ndarray) -> np.ndarray:
        """The replicas' counts (R, K) of a global batch `counts` of `step`: floor(f_c B) each,
        plus the extra slots dealt round-robin, starting at a hashed replica, from a hashed
        class order."""
        r = self.num_replicas
        out = np.broadcast_to(self.replica_base, (r, self.num_classes)).copy()
        extra = counts - r * self.replica_base  # in [0, R]
        cls = np.flatnonzero(extra)
        if cls.size == 0:
            return out
        cls = cls[np.argsort(weyl(cls, step + SALT_SPLIT))]
        h = extra[cls]
        first = (np.cumsum(h) - h + (step * 0x27D4EB2F) % r) % r
        offsets = np.arange(r)
        hit = offsets[None, :] < h[:, None]
        rows = (first[:, None] + offsets[None, :]) % r
        np.add.at(out, (rows[hit], np.broadcast_to(cls[:, None], hit.shape)[hit]), 1)
        return out


# -- sample ids grouped by class ------------------------------------------------------------
def group_by_class(labels: np.ndarray, num_classes: int, ids_dtype: Any) -> tuple[np.ndarray, np.ndarray]:
    """Sample ids in class order (stable) and each class's count: a counting sort, chunk by
    chunk, so the temporaries stay a few chunks large whatever N is."""
    small = small_uint(num_classes)
    n = labels.shape[0]
    starts = range(0, n, _GROUP_CHUNK)
    chunk_counts = np.stack(
        [np.bincount(labels[lo : lo + _GROUP_CHUNK].astype(small, copy=False), minlength=num_classes) for lo in starts]
    ) if n else np.zeros((0, num_classes), dtype=np.int64)
    counts = chunk_counts.sum(axis=0)
    order = np.empty(n, dtype=ids_dtype)
    nxt = np.cumsum(counts) - counts
    for lo, chunk_count in zip(starts, chunk_counts):
        chunk = labels[lo : lo + _GROUP_CHUNK].astype(small, copy=False)
        ids = np.argsort(chunk, kind="stable").astype(ids_dtype)  # a radix sort of small class ids
        ids += lo
        if num_classes <= 4096:
            # One contiguous copy per class: memcpy speed, no index arrays.
            start = 0
            for c in np.flatnonzero(chunk_count).tolist():
                m = int(chunk_count[c])
                order[nxt[c] : nxt[c] + m] = ids[start : start + m]
                start += m
        else:
            cls = np.repeat(np.arange(num_classes), chunk_count)
            rank = np.arange(ids.shape[0], dtype=np.int64) - (np.cumsum(chunk_count) - chunk_count)[cls]
            order[nxt[cls] + rank] = ids
        nxt += chunk_count
    return order, counts


def labels_digest(labels: Any, counts: np.ndarray) -> str:
    """A short digest of the class counts and of 4,096 evenly spaced rows of `labels`."""
    arr = np.asarray(to_numpy(labels))
    rows = np.linspace(0, arr.shape[0] - 1, num=min(4096, arr.shape[0])).astype(np.int64)
    h = hashlib.sha256(np.ascontiguousarray(counts, dtype=np.int64).tobytes())
    h.update(np.ascontiguousarray(arr[rows]).astype(np.int64).tobytes())
    return h.hexdigest()[:16]


def save_grouping(labels: Any, path: str) -> str:
    """Groups `labels` (1-D class indices) by class once and saves the result as a `.npy` file
    of sample ids in class order, for `BalancedSchedule(..., grouping=path)` (and the samplers'
    `grouping=`): every rank of a host memory-maps the one file instead of sorting the labels
    itself. Returns the path written.

    >>> import numpy as np, os, tempfile
    >>> path = save_grouping(np.array([1, 0, 1, 0]), os.path.join(tempfile.mkdtemp(), "g.npy"))
    >>> np.load(path).tolist()
    [1, 3, 0, 2]
    """
    labels = check_labels(labels)
    order, _ = group_by_class(labels, int(labels.max()) + 1, index_dtype(labels.shape[0]))
    np.save(path, order)
    return path


def load_grouping(grouping: Any, labels: np.ndarray, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """The sample ids in class order from `grouping` (a `save_grouping` path, memory-mapped
    read-only, or such an array) and each class's count, checked against `labels`."""
    n = labels.shape[0]
    order = np.load(grouping, mmap_mode="r") if isinstance(grouping, str) else np.asarray(grouping)
    if order.shape != (n,) or order.dtype.kind not in "iu":
        raise ValueError(grouping_message(order.shape, order.dtype, n))
    counts = np.bincount(labels.astype(small_uint(num_classes), copy=False), minlength=num_classes)
    return order, counts
