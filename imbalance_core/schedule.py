"""The balanced batch schedule, shared by tf_impl.data, torch_impl.data and
imbalance_core.ray_data, so that the same arguments, seed and epoch give the same index batches
in every framework and engine.

Indexed sources (`BalancedSchedule`, `balanced_schedule`)
---------------------------------------------------------
The schedule is a pure function of (seed, epoch, step, rank, class counts, fractions, batch
size, replicas): a rank, a worker or another engine evaluates its own batches, one at a time,
without computing the other ranks' or materialising the epoch.

1. Grouping, once, O(N): a chunked counting sort puts the sample ids in class order (`order`,
   int32 below 2**31 samples: 4 bytes per sample beside the labels; `offsets[c]` is where
   class c starts). `save_grouping` writes it to a file that every rank of a host can
   memory-map (`BalancedSchedule(..., grouping=path)`), so 8 ranks share one copy.
2. The composition of each step. An epoch is `steps_per_epoch` global batches of W = R * B
   slots (R replicas of B).

   * ``mode="exact"``: the fractions are quantised to integers w_c / M with M = 2**23 * 9 * 5 *
     7 * 11 * 13 (shares such as 1/3, 1/7 or 1/12 are exact). Class c gets floor(w_c W / M)
     slots of every global batch, and the E = W - sum_c floor(w_c W / M) slots left over go,
     one per class and step at most, to the classes chosen by PD^2, the optimal proportionate-
     fair (Pfair) scheduler of Srinivasan and Anderson (2002), with weights frac(w_c W / M):
     after every step s each class's running total is within 1 of f_c W s, and the classes
     that receive the extra slots rotate. Equal priorities are ordered by a hash of (step,
     class), never by class index. The global counts are then split among the replicas: each
     replica's batch holds floor(f_c B) of class c, plus one of the class's extra slots, dealt
     round-robin from a hashed class order, so every replica's batch holds floor(f_c B) or
     ceil(f_c B) of class c and every global batch floor(f_c W) or ceil(f_c W). The sequence
     depends on the fractions, B and R only (not on the seed or the epoch); it is computed
     step by step, O(K log K) each, and cached.
   * ``mode="sampled"`` (and ``"class_aware"``): every slot's class is drawn independently
     with probability f_c, drawn hierarchically: the epoch's class totals are a multinomial
     draw (seed, epoch), each step's counts a multivariate hypergeometric draw from what is
     left of them, each replica's counts one from the step's (one generator per block of 64
     steps, keyed by seed, epoch and block). O(K) per step and replica; the same law as
     independent draws.

3. Pools: the slots of class c, in order (epoch, step, replica), take consecutive positions of
   the class's endless pool stream, epoch e starting where epoch e - 1 stopped. Position p is
   member pi_j(p mod n_c) of the class, j = p // n_c the pass, where pi_j is a seeded
   bijection of [0, n_c) (a four-round Feistel network with cycle walking, `feistel`): each
   pass draws the class without replacement and the next pass reshuffles, and any position
   is computed on its own, without materialising a permutation. Replicas take disjoint
   positions, hence disjoint samples unless a pool wraps around within the step.
4. Order: each replica's class pattern is shuffled by a seeded permutation of its B positions
   (seed, epoch, step, rank); the slots of each class, left to right, take the class's pool
   positions in order.

Cost: the grouping, then O(B + K log K) per step for a rank (O(R K) for the replica split).
Starting at step s of an epoch (resuming) replays the O(K) per-step counts from the epoch's
start, never anything of size N.

Multi-label rows (N, C) of 0/1 (only their positive entries are kept, grouped by label like
a CSR matrix: memory O(N + positives), never a dense copy per label):

* ``mode="class_aware"`` (Shen et al. 2016; mmdetection's ``ClassAwareSampler``): label c's
  pool is the rows holding label c (a row sits in the pool of each of its labels); slots draw
  labels as mode "sampled" draws classes, then take the next positions of the label's pool.
* ``mode="repeat_factor"`` (Gupta et al. 2019, LVIS; detectron2's
  ``RepeatFactorTrainingSampler``): r_i from ``compute_repeat_factors``; round j holds sample i
  floor(r_i) times plus once more with probability r_i - floor(r_i) (its own
  ``Generator(SeedSequence([seed, j, salt]))``), shuffled. The rounds are laid end to end, as
  detectron2's endless stream, and epoch e is positions [e S W, (e + 1) S W) of that stream
  (S = steps_per_epoch, default ceil(sum_i r_i / W)): every batch is full, nothing is dropped
  or padded, and a round may straddle two epochs. A round is a shuffle of O(N) entries, so
  this mode computes each epoch whole (O(N) per epoch), as detectron2 does.

Streams: `imbalance_core.stream.StreamBalancer`.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from .class_weights import multi_hot_positives, repeat_factors_from_positives
from .validation import (
    check_choice,
    check_fractions,
    check_integer,
    check_number,
    class_index_labels_message,
    describe,
    empty_labels_message,
    exact_batch_too_small_message,
    fractions_unused_message,
    index_message,
    no_positive_labels_message,
    to_numpy,
)

__all__ = [
    "MODES",
    "MULTI_LABEL_MODES",
    "QUANTUM",
    "BLOCK_STEPS",
    "largest_remainder",
    "check_labels",
    "resolve_fractions",
    "batch_composition",
    "feistel",
    "ExactComposition",
    "BalancedSchedule",
    "balanced_schedule",
    "save_grouping",
    "check_rank",
]

MODES = ("exact", "sampled", "repeat_factor", "class_aware")
# The modes that take (N, C) multi-hot rows instead of 1-D class indices.
MULTI_LABEL_MODES = ("repeat_factor", "class_aware")
DEFAULT_REPEAT_THRESHOLD = 0.001
# The fractions' common denominator in mode "exact": a multiple of 2..16 so that the usual
# shares are exact, small enough that W * M and S * M stay in int64.
QUANTUM = 2**23 * 9 * 5 * 7 * 11 * 13

_BLOCK = 1 << 16
# Salts keep the random streams independent for the same seed.
_SALT_POOL = 0x706F6F6C
_SALT_SLOTS = 0x736C6F74
_SALT_STEP = 0x73746570
_SALT_ORDER = 0x6F726472
_SALT_REPEAT = 0x72657074
_SALT_TIE = 0x74696573
_SALT_SPLIT = 0x73706C74
_GROUP_CHUNK = 1 << 20

_U64 = np.uint64
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_ROUND_OFFSETS = [np.uint64(((i + 1) * 0x9E3779B97F4A7C15) % 2**64) for i in range(4)]
# Steps computed together (one vectorised pass over their slots); the in-batch order of each
# block of steps comes from one generator.
BLOCK_STEPS = 64


def _rng(*entropy: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([int(e) for e in entropy])))


def _mix64(z: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a bijective mix of 64-bit words (wrapping arithmetic)."""
    z = np.asarray(z, dtype=_U64)
    with np.errstate(over="ignore"):
        z = (z ^ (z >> _U64(30))) * _MIX1
        z = (z ^ (z >> _U64(27))) * _MIX2
    return z ^ (z >> _U64(31))


def hash_key(*parts: Any) -> np.ndarray:
    """A 64-bit key from non-negative integers or integer arrays (broadcast together)."""
    h = np.asarray(0x6A09E667F3BCC909, dtype=_U64)
    with np.errstate(over="ignore"):
        for part in parts:
            h = _mix64(h ^ (np.asarray(part).astype(_U64) + _GOLDEN))
    return h


def _weyl(classes: np.ndarray, step: int) -> np.ndarray:
    """An order of the classes that changes with the step, without hashing: a Weyl sequence
    (class * odd + step * odd) mod 2**32, distinct for distinct classes."""
    return (np.asarray(classes, dtype=np.int64) * 0x9E3779B1 + int(step) * 0x85EBCA77) & 0xFFFFFFFF


def _bit_widths(n: np.ndarray) -> np.ndarray:
    """The bit width of n - 1 (at least 1), per element: the Feistel domain is [0, 2**width)."""
    n = np.asarray(n, dtype=np.int64)
    bits = np.ones(n.shape, dtype=np.int64)
    big = n > 2
    # log2 is exact at powers of two and rounds up just below them: the domain is never short.
    bits[big] = np.floor(np.log2((n[big] - 1).astype(np.float64))).astype(np.int64) + 1
    return bits


def _round(v: np.ndarray, key: np.ndarray) -> np.ndarray:
    """The Feistel round function: a multiply-xorshift of v + key (the high bits of the product
    depend on every bit of the input)."""
    z = (v + key) * _MIX1
    return z ^ (z >> _U64(29))


def _feistel_pass(x: np.ndarray, bits: np.ndarray, round_keys: list[np.ndarray], inverse: bool) -> np.ndarray:
    # An unbalanced Feistel network on [0, 2**bits): x = left * 2**a + right with `right` of a
    # bits and `left` of b = bits - a bits; a round maps (left, right) to (right, left ^
    # F(right)), which swaps the widths, so after the four rounds they are back.
    a = bits >> _U64(1)
    b = bits - a
    widths = [(a, b), (b, a), (a, b), (b, a)]
    one = _U64(1)
    if not inverse:
        for (ra, rb), key in zip(widths, round_keys):
            right = x & ((one << ra) - one)
            left = x >> ra
            x = (right << rb) | (left ^ (_round(right, key) & ((one << rb) - one)))
        return x
    for (ra, rb), key in zip(reversed(widths), reversed(round_keys)):
        new_right = x & ((one << rb) - one)
        right = x >> rb
        left = new_right ^ (_round(right, key) & ((one << rb) - one))
        x = (left << ra) | right
    return x


def feistel(x: Any, n: Any, key: Any, *, inverse: bool = False) -> np.ndarray:
    """A keyed bijection of range(n), evaluated element by element: a four-round unbalanced
    Feistel network on [0, 2**ceil(log2 n)), with cycle walking (values that land outside
    [0, n) are mapped again until they are inside).

    Args:
        x: integers in [0, n) (an array).
        n: the domain size, a scalar or one per element of `x`.
        key: a 64-bit key (see `hash_key`), a scalar or one per element of `x`.
        inverse: evaluate the inverse bijection.

    Returns:
        int64 array shaped like `x`: pi(x), or pi^-1(x) with `inverse=True`.

    >>> import numpy as np
    >>> y = feistel(np.arange(10), 10, hash_key(7))
    >>> sorted(y.tolist()) == list(range(10))
    True
    >>> feistel(y, 10, hash_key(7), inverse=True).tolist()
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
    """
    x = np.asarray(x, dtype=np.int64)
    shape = x.shape
    y = x.reshape(-1).astype(_U64)
    n = np.broadcast_to(np.asarray(n, dtype=np.int64), shape).reshape(-1).astype(_U64)
    keys = np.broadcast_to(np.asarray(key, dtype=_U64), shape).reshape(-1)
    bits = _bit_widths(n.astype(np.int64)).astype(_U64)
    round_keys = [_mix64(keys + offset) for offset in _ROUND_OFFSETS]
    y = _feistel_pass(y, bits, round_keys, inverse)
    outside = np.flatnonzero(y >= n)
    while outside.size:
        y[outside] = _feistel_pass(y[outside], bits[outside], [k[outside] for k in round_keys], inverse)
        outside = outside[y[outside] >= n[outside]]
    return y.astype(np.int64).reshape(shape)


def _permutation(rng: np.random.Generator, n: int, dtype) -> np.ndarray:
    """A uniform random permutation of range(n) in `dtype`.

    Large n: scatter into random buckets (a radix sort of small keys), then shuffle each
    bucket in cache (Rao-Sandelius); still exactly uniform, and several times faster than one
    Fisher-Yates pass whose random writes miss the cache on tens of millions of elements.
    """
    if n <= 1 << 20:
        perm = np.arange(n, dtype=dtype)
        rng.shuffle(perm)
        return perm
    # Buckets of ~2**17 elements fit in cache; one-byte keys make the scatter one radix pass.
    buckets = -(-n // (1 << 17))
    key_dtype = np.uint8 if buckets <= 1 << 8 else np.uint16 if buckets <= 1 << 16 else np.int64
    keys = rng.integers(0, buckets, size=n, dtype=key_dtype)
    perm = np.argsort(keys, kind="stable").astype(dtype, copy=False)
    bounds = np.concatenate([[0], np.cumsum(np.bincount(keys, minlength=buckets))]).tolist()
    del keys
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        rng.shuffle(perm[lo:hi])
    return perm


def _small_uint(num_classes: int):
    # The smallest dtype holding every class id: argsort(kind="stable") is a radix sort there.
    if num_classes <= 1 << 8:
        return np.uint8
    if num_classes <= 1 << 16:
        return np.uint16
    return np.int64


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
    """The class counts of every step of mode "exact" (see the module docstring): per global
    batch floor(f_c W) or ceil(f_c W), per replica floor(f_c B) or ceil(f_c B), and each
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
        weights = _apportion(np.asarray(fractions, np.float64), quantum, _SALT_TIE)
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
            tie = _weyl(self._active[released], t)
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
        cls = cls[np.argsort(_weyl(cls, step + _SALT_SPLIT))]
        h = extra[cls]
        first = (np.cumsum(h) - h + (step * 0x27D4EB2F) % r) % r
        offsets = np.arange(r)
        hit = offsets[None, :] < h[:, None]
        rows = (first[:, None] + offsets[None, :]) % r
        np.add.at(out, (rows[hit], np.broadcast_to(cls[:, None], hit.shape)[hit]), 1)
        return out


def _group_by_class(labels: np.ndarray, num_classes: int, index_dtype) -> tuple[np.ndarray, np.ndarray]:
    """Sample ids in class order (stable) and each class's count: a counting sort, chunk by
    chunk, so the temporaries stay a few chunks large whatever N is."""
    small = _small_uint(num_classes)
    n = labels.shape[0]
    starts = range(0, n, _GROUP_CHUNK)
    chunk_counts = np.stack(
        [np.bincount(labels[lo : lo + _GROUP_CHUNK].astype(small, copy=False), minlength=num_classes) for lo in starts]
    ) if n else np.zeros((0, num_classes), dtype=np.int64)
    counts = chunk_counts.sum(axis=0)
    order = np.empty(n, dtype=index_dtype)
    nxt = np.cumsum(counts) - counts
    for lo, chunk_count in zip(starts, chunk_counts):
        chunk = labels[lo : lo + _GROUP_CHUNK].astype(small, copy=False)
        ids = np.argsort(chunk, kind="stable").astype(index_dtype)  # a radix sort of small class ids
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


def _digest(labels: Any, counts: np.ndarray) -> str:
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
    index_dtype = np.int32 if labels.shape[0] < 2**31 else np.int64
    order, _ = _group_by_class(labels, int(labels.max()) + 1, index_dtype)
    np.save(path, order)
    return path


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
        raise TypeError(
            f"Invalid `{name}` dtype: received {arr.dtype}; expected integer class indices "
            f"(a 1-D array of int)."
        )
    if arr.size == 0:
        raise ValueError(f"Invalid `{name}`: received an empty array; expected at least one label.")
    if arr.dtype.kind == "i" and arr.min() < 0:
        bad = arr[arr < 0][:6].tolist()
        raise ValueError(f"Invalid `{name}`: class indices must be >= 0; received {bad}.")
    return arr


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
            raise ValueError(
                "Invalid `class_fractions`: received None and `num_classes` is None; a stream's "
                "classes are not known in advance: pass class_fractions or num_classes."
            )
    else:
        fractions = check_fractions("class_fractions", class_fractions, length=num_classes)
    if counts is not None:
        if counts.shape[0] > fractions.shape[0]:
            raise ValueError(
                f"{index_message('labels', fractions.shape[0], None)} (one class per entry of "
                f"`class_fractions`); received labels up to {counts.shape[0] - 1}."
            )
        padded = np.zeros(fractions.shape[0], dtype=np.int64)
        padded[: counts.shape[0]] = counts
        _check_requested_present(fractions, padded, source)
    return fractions


def _check_requested_present(fractions: np.ndarray, counts: np.ndarray, source: str) -> None:
    missing = np.flatnonzero((fractions > 0) & (counts == 0))
    if missing.size:
        c = int(missing[0])
        raise ValueError(
            f"Invalid `class_fractions`: class {c} is requested (fraction {fractions[c]:g}) but "
            f"has no samples in {source}; give it fraction 0 or add samples of it."
        )


def batch_composition(fractions: np.ndarray, batch_size: int, mode: str) -> np.ndarray:
    """Per-batch class counts for mode="exact" (largest remainder); checks that every
    requested class gets at least one slot.

    Examples:
        >>> print(batch_composition(np.array([0.5, 0.3, 0.2]), 8, "exact"))
        [4 2 2]
    """
    counts = largest_remainder(fractions, batch_size)
    if mode == "exact":
        starved = np.flatnonzero((fractions > 0) & (counts == 0))
        if starved.size:
            c = int(starved[0])
            enough = math.ceil(1.0 / float(fractions[fractions > 0].min()) - 1e-9)
            raise ValueError(
                f"Invalid `batch_size`: received {batch_size}; mode='exact' needs at least one "
                f"slot per requested class, but class {c} (fraction {fractions[c]:g}) gets 0 of "
                f"{batch_size} slots by largest-remainder rounding; use batch_size >= {enough} "
                f"or mode='sampled'."
            )
    return counts


class BalancedSchedule:
    """The balanced index-batch schedule of an indexed dataset (see the module docstring).

    Args:
        labels: mode "exact"/"sampled": 1-D integer class indices, one per sample; mode
            "repeat_factor"/"class_aware": (N, C) multi-hot rows of 0/1, one column per label
            (NumPy, sequence or native tensor).
        batch_size: samples per batch *per replica*.
        class_fractions: target share of each class (non-negative, summing to 1; entry c is
            class c, or label c for mode="class_aware"). None: equal shares over the classes
            (labels) present. Not used by mode="repeat_factor" (must be None).
        mode: "exact" (each batch holds floor(f_c B) or ceil(f_c B) samples of class c, the
            extra slots rotating so that running totals stay within 1 of f_c B R s),
            "sampled" (each slot's class drawn with probability f_c), "repeat_factor" (LVIS
            repeat-factor sampling of multi-hot rows) or "class_aware" (each slot draws a label
            with probability f_c, then the next sample of that label's pool).
        repeat_threshold: t >= 0 of mode="repeat_factor" (see `compute_repeat_factors`).
        seed: non-negative integer; with the epoch it fixes every batch.
        steps_per_epoch: batches per epoch and replica; default
            ceil(len(labels) / (batch_size * num_replicas)), and for mode="repeat_factor"
            ceil(sum_i r_i / (batch_size * num_replicas)) (the expected length of one round).
        num_replicas: data-parallel replicas; each global batch has num_replicas * batch_size
            slots.
        grouping: modes "exact"/"sampled": the path of a `save_grouping` file of these labels
            (memory-mapped, read-only) or such an array, instead of grouping the labels here.

    >>> import numpy as np
    >>> schedule = BalancedSchedule(np.array([0] * 90 + [1] * 10), 4, seed=0)
    >>> batch = schedule.batch(epoch=0, step=0)
    >>> np.bincount(np.array([0] * 90 + [1] * 10)[batch]).tolist()
    [2, 2]
    """

    fractions: np.ndarray | None  # None in mode "repeat_factor"
    _order: np.ndarray | None  # sample ids grouped by class; None when built from class counts

    def __init__(
        self,
        labels: Any,
        batch_size: int,
        *,
        class_fractions: Any = None,
        mode: str = "exact",
        repeat_threshold: float = DEFAULT_REPEAT_THRESHOLD,
        seed: int = 0,
        steps_per_epoch: int | None = None,
        num_replicas: int = 1,
        grouping: Any = None,
    ) -> None:
        self.mode = check_choice("mode", mode, MODES)
        self.repeat_threshold = check_number("repeat_threshold", repeat_threshold, low=0.0)
        self.batch_size = check_integer("batch_size", batch_size, low=1)
        self.seed = check_integer("seed", seed, low=0)
        self.num_replicas = check_integer("num_replicas", num_replicas, low=1)
        steps = check_integer("steps_per_epoch", steps_per_epoch, low=1, allow_none=True)
        if self.mode in MULTI_LABEL_MODES:
            self._init_multi_label(labels, class_fractions)
        else:
            self._init_single_label(labels, class_fractions, grouping)
        self._labels_digest = _digest(labels, self.class_counts)
        width = self.batch_size * self.num_replicas
        if self.mode == "repeat_factor":
            expected = float(self.repeat_factors.sum())  # the expected length of one round
            self.steps_per_epoch = steps or max(1, math.ceil(expected / width))
            return
        self.steps_per_epoch = steps or -(-self.num_samples // width)
        self._pool_keys = hash_key(self.seed, _SALT_POOL, np.arange(self.num_classes))
        self._epoch_starts: list[np.ndarray] = [np.zeros(self.num_classes, dtype=np.int64)]
        if self.mode == "exact":
            fractions = self.fractions
            assert fractions is not None  # every mode but "repeat_factor" has class fractions
            self.composition = ExactComposition(fractions, self.batch_size, self.num_replicas, self.steps_per_epoch)
            starved = np.flatnonzero((fractions > 0) & (self.composition.replica_base == 0))
            if starved.size:
                c = int(starved[0])
                enough = math.ceil(1.0 / float(fractions[fractions > 0].min()) - 1e-9)
                raise ValueError(exact_batch_too_small_message(self.batch_size, c, float(fractions[c]), enough))

    def _init_single_label(self, labels: Any, class_fractions: Any, grouping: Any) -> None:
        labels = check_labels(labels, mode=self.mode)
        n = labels.shape[0]
        top = int(labels.max())
        if class_fractions is not None:
            # Reject out-of-range labels before casting them to a small dtype.
            k_given = np.asarray(to_numpy(class_fractions)).reshape(-1).shape[0]
            if top >= k_given:
                check_fractions("class_fractions", class_fractions)
                raise ValueError(
                    f"{index_message('labels', k_given, None)} (one class per entry of "
                    f"`class_fractions`); received labels up to {top}."
                )
        self.num_samples = n
        self._index_dtype = np.int32 if n < 2**31 else np.int64
        if grouping is None:
            order, counts = _group_by_class(labels, top + 1, self._index_dtype)
        else:
            order = np.load(grouping, mmap_mode="r") if isinstance(grouping, str) else np.asarray(grouping)
            counts = np.bincount(labels.astype(_small_uint(top + 1), copy=False), minlength=top + 1)
            if order.shape != (n,) or order.dtype.kind not in "iu":
                raise ValueError(
                    f"Invalid `grouping`: received an array of shape {order.shape} and dtype "
                    f"{order.dtype}; expected the {n} sample ids of `save_grouping(labels, path)`."
                )
        self.fractions = resolve_fractions(class_fractions, counts)
        self.num_classes = k = self.fractions.shape[0]
        self.class_counts = np.zeros(k, dtype=np.int64)
        self.class_counts[: counts.shape[0]] = counts
        self._order = order
        self._offsets = np.concatenate([[0], np.cumsum(self.class_counts)])

    def _init_multi_label(self, labels: Any, class_fractions: Any) -> None:
        # Only the positive entries are kept (CSR by label): memory O(N + positives).
        n, k, rows, cols = multi_hot_positives(labels, "labels", mode=self.mode)
        self.num_samples = n
        self.num_classes = k
        self._index_dtype = np.int32 if n < 2**31 else np.int64
        small = cols.astype(_small_uint(k), copy=False)
        self.class_counts = np.bincount(small, minlength=k).astype(np.int64)
        if rows.size == 0 and self.mode == "class_aware":
            raise ValueError(no_positive_labels_message(self.mode))
        if self.mode == "repeat_factor":
            if class_fractions is not None:
                raise ValueError(fractions_unused_message(self.mode, class_fractions))
            self.fractions = None
            self.repeat_factors = repeat_factors_from_positives(n, k, rows, cols, self.repeat_threshold)
            # Split as detectron2 does: whole repeats plus a stochastically rounded fraction.
            self._whole_repeats = np.floor(self.repeat_factors).astype(np.int64)
            self._frac_repeats = self.repeat_factors - self._whole_repeats
            self._round_ends: list[int] = [0]
            return
        if class_fractions is not None:
            class_fractions = check_fractions("class_fractions", class_fractions, length=k)
        self.fractions = resolve_fractions(class_fractions, self.class_counts)
        # Label c's pool: the rows holding label c (a row sits in the pool of each of its labels).
        self._order = rows[np.argsort(small, kind="stable")].astype(self._index_dtype, copy=False)
        self._offsets = np.concatenate([[0], np.cumsum(self.class_counts)])

    def __len__(self) -> int:
        return self.steps_per_epoch

    # -- the counts of every step ---------------------------------------------------------
    def _epoch_totals(self, epoch: int) -> np.ndarray:
        # mode "sampled"/"class_aware": the epoch's class totals, one multinomial draw.
        total = self.steps_per_epoch * self.num_replicas * self.batch_size
        assert self.fractions is not None  # these modes have class fractions
        return _rng(self.seed, epoch, _SALT_SLOTS).multinomial(total, self.fractions).astype(np.int64)

    def epoch_start(self, epoch: int) -> np.ndarray:
        """Where each class's pool pointer stands at the start of `epoch` (K,), int64."""
        starts = self._epoch_starts
        while len(starts) <= epoch:
            e = len(starts) - 1
            if self.mode == "exact":
                starts.append(starts[-1] + self.composition.before(self.steps_per_epoch))
            else:
                starts.append(starts[-1] + self._epoch_totals(e))
        return starts[epoch]

    def _steps(self, epoch: int, start: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """For steps start, start + 1, ... of `epoch`: (the replicas' class counts (R, K), the
        global class counts of the epoch's earlier steps (K,))."""
        r, b = self.num_replicas, self.batch_size
        if self.mode == "exact":
            comp = self.composition
            before = comp.before(start)
            for t in range(start, self.steps_per_epoch):
                counts = comp.counts(t)
                yield comp.split(t, counts), before
                before = before + counts
            return
        left = self._epoch_totals(epoch)
        before = np.zeros(self.num_classes, dtype=np.int64)
        rng: np.random.Generator  # drawn at step 0, then at the first step of each block
        for t in range(self.steps_per_epoch):
            if t % BLOCK_STEPS == 0:  # one generator per block of steps, drawn in step order
                rng = _rng(self.seed, epoch, t // BLOCK_STEPS, _SALT_STEP)
            counts = rng.multivariate_hypergeometric(left, r * b, method="marginals").astype(np.int64)
            if t >= start:
                out = np.empty((r, self.num_classes), dtype=np.int64)
                pool = counts.copy()
                for q in range(r - 1):
                    out[q] = rng.multivariate_hypergeometric(pool, b, method="marginals")
                    pool -= out[q]
                out[r - 1] = pool
                yield out, before
            else:  # replayed: the same draws as when the step is yielded
                pool = counts.copy()
                for _ in range(r - 1):
                    pool -= rng.multivariate_hypergeometric(pool, b, method="marginals")
            left = left - counts
            before = before + counts

    def _gather(self, epoch: int, first_step: int, rank: int, replicas: np.ndarray,
                before: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Replica `rank`'s batches of the T steps from `first_step` (T <= the end of its block
        of BLOCK_STEPS steps), from their counts: replicas (T, R, K), before (T, K). Returns
        (sample ids (T, B), their classes (T, B))."""
        steps, k, b = replicas.shape[0], self.num_classes, self.batch_size
        mine = replicas[:, rank].reshape(-1)  # (T * K,): step-major, then class
        first = (self.epoch_start(epoch)[None, :] + before + replicas[:, :rank].sum(axis=1)).reshape(-1)
        cls = np.repeat(np.tile(np.arange(k), steps), mine)
        within = np.arange(cls.shape[0]) - np.repeat(np.cumsum(mine) - mine, mine)
        position = np.repeat(first, mine) + within
        n = self.class_counts[cls]
        passes = (position // n).astype(_U64)
        keys = _mix64(self._pool_keys[cls] ^ (passes + _GOLDEN))
        member = feistel(position % n, n, keys)
        assert self._order is not None  # a schedule of labels (not of counts alone) has sample ids
        ids = np.asarray(self._order[self._offsets[cls] + member], dtype=np.int64).reshape(steps, b)
        classes = cls.reshape(steps, b)
        # The class pattern of each batch shuffled uniformly (one generator per block of steps,
        # row t of the block for step t); the slots of each class, left to right, take the
        # class's samples in pool order, so a batch reads each pool in order.
        block = first_step // BLOCK_STEPS
        offset = first_step - block * BLOCK_STEPS
        rng = _rng(self.seed, epoch, block, rank, _SALT_ORDER)
        # Rows are shuffled in block order; a run that starts inside the block skips its rows.
        shuffled = rng.permuted(np.concatenate([np.zeros((offset, b), classes.dtype), classes]), axis=1)[offset:]
        slots = np.argsort(shuffled, axis=1, kind="stable")
        out = np.empty_like(ids)
        np.put_along_axis(out, slots, ids, axis=1)
        return out, shuffled

    def _blocks(self, epoch: int, start: int, ranks: list[int]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(ids (T, len(ranks) * B), classes (same)) for runs of steps from `start` to the end of
        the epoch, each run inside one block of BLOCK_STEPS steps."""
        steps = self._steps(epoch, start)
        t = start
        while t < self.steps_per_epoch:
            stop = min((t // BLOCK_STEPS + 1) * BLOCK_STEPS, self.steps_per_epoch)
            counts = [next(steps) for _ in range(t, stop)]
            replicas = np.stack([c[0] for c in counts])
            before = np.stack([c[1] for c in counts])
            parts = [self._gather(epoch, t, q, replicas, before) for q in ranks]
            yield np.concatenate([p[0] for p in parts], axis=1), np.concatenate([p[1] for p in parts], axis=1)
            t = stop

    def batch_block(self, epoch: int, block: int, ranks: list[int] | None = None) -> np.ndarray:
        """Block `block` of `epoch` (steps [64 block, 64 block + 64), cut at the epoch's end)
        for the replicas `ranks` (default: all): (T, len(ranks) * B) int64, the replicas'
        batches side by side."""
        ranks = list(range(self.num_replicas)) if ranks is None else [check_rank(q, self.num_replicas) for q in ranks]
        start = check_integer("block", block, low=0, high=(self.steps_per_epoch - 1) // BLOCK_STEPS) * BLOCK_STEPS
        if self.mode == "repeat_factor":
            if getattr(self, "_repeat_cache", (None,))[0] != epoch:  # one O(N) epoch, then its blocks
                self._repeat_cache = (epoch, self.epoch_batches(epoch))
            rows = self._repeat_cache[1][start : start + BLOCK_STEPS]
            b = self.batch_size
            return np.concatenate([rows[:, q * b : (q + 1) * b] for q in ranks], axis=1)
        return next(self._blocks(check_integer("epoch", epoch, low=0), start, ranks))[0]

    def iter_batch_blocks(self, epoch: int = 0, rank: int | None = 0, start: int = 0) -> Iterator[np.ndarray]:
        """Replica `rank`'s index batches of `epoch` from step `start` on, computed lazily a
        block of steps at a time: (T, B) int64 arrays, T <= 64, the steps in order; `rank=None`
        gives global batches (T, R * B), the replicas' batches side by side."""
        epoch = check_integer("epoch", epoch, low=0)
        start = check_integer("start", start, low=0, high=self.steps_per_epoch)
        if rank is not None:
            rank = check_rank(rank, self.num_replicas)
        if self.mode == "repeat_factor":
            whole = self.epoch_batches(epoch)
            b = self.batch_size
            for t in range(start, self.steps_per_epoch, BLOCK_STEPS):
                rows = whole[t : min((t // BLOCK_STEPS + 1) * BLOCK_STEPS, self.steps_per_epoch)]
                yield rows if rank is None else np.ascontiguousarray(rows[:, rank * b : (rank + 1) * b])
            return
        ranks = list(range(self.num_replicas)) if rank is None else [rank]
        for ids, _ in self._blocks(epoch, start, ranks):
            yield ids

    def iter_batches(self, epoch: int = 0, rank: int | None = 0, start: int = 0) -> Iterator[np.ndarray]:
        """Replica `rank`'s index batches of `epoch` from step `start` on, one (B,) int64 array
        per step (see `iter_batch_blocks`); `rank=None` yields global batches (R * B,)."""
        for block in self.iter_batch_blocks(epoch, rank, start):
            yield from block

    def batch(self, epoch: int = 0, step: int = 0, rank: int = 0) -> np.ndarray:
        """Replica `rank`'s index batch at `step` of `epoch`: (B,) int64."""
        step = check_integer("step", step, low=0, high=self.steps_per_epoch - 1)
        return next(self.iter_batches(epoch, rank, step))

    def slot_classes(self, epoch: int = 0) -> np.ndarray:
        """The class (label, for mode="class_aware") each slot of `epoch` was drawn for, shaped
        like `epoch_batches(epoch)`; not defined for mode="repeat_factor" (no per-slot label)."""
        epoch = check_integer("epoch", epoch, low=0)
        check_choice("mode", self.mode, ("exact", "sampled", "class_aware"))  # repeat_factor has no slot classes
        ranks = list(range(self.num_replicas))
        return np.concatenate([cls for _, cls in self._blocks(epoch, 0, ranks)])

    def epoch_batches(self, epoch: int = 0) -> np.ndarray:
        """Global index batches of `epoch`: int64 array (steps_per_epoch, num_replicas *
        batch_size); replica r's batch is columns [r * batch_size, (r + 1) * batch_size)."""
        epoch = check_integer("epoch", epoch, low=0)
        width = self.num_replicas * self.batch_size
        if self.mode == "repeat_factor":
            size = self.steps_per_epoch * width
            return self._repeat_stream(epoch * size, size).reshape(self.steps_per_epoch, width)
        return np.stack(list(self.iter_batches(epoch, None)))

    def replica_batches(self, epoch: int = 0, rank: int = 0) -> np.ndarray:
        """Replica `rank`'s index batches of `epoch`: int64 array (steps_per_epoch, batch_size)."""
        rank = check_rank(rank, self.num_replicas)
        return np.stack(list(self.iter_batches(epoch, rank)))

    def fingerprint(self) -> dict[str, Any]:
        """What identifies this schedule in a saved state: its arguments and a digest of the
        labels (the class counts and 4,096 evenly spaced labels: O(1) to compare), so a state
        saved for other labels, seed or batch size does not fit."""
        return {
            "mode": self.mode,
            "seed": self.seed,
            "batch_size": self.batch_size,
            "num_replicas": self.num_replicas,
            "steps_per_epoch": self.steps_per_epoch,
            "num_samples": self.num_samples,
            "labels": self._labels_digest,
            "class_fractions": None if self.fractions is None else [float(f) for f in self.fractions],
        }

    # -- the schedule from class counts alone: engines that place the rows themselves ------
    @classmethod
    def from_counts(
        cls,
        class_counts: Any,
        batch_size: int,
        *,
        class_fractions: Any = None,
        mode: str = "exact",
        seed: int = 0,
        steps_per_epoch: int | None = None,
        num_replicas: int = 1,
    ) -> BalancedSchedule:
        """The schedule of any labels with these class counts (modes "exact" and "sampled"),
        built in O(K) without the labels.

        Every count, pool position and class pattern equals the schedule built from the labels
        (`epoch_counts`, `pool_positions`, `class_patterns`), so an engine that knows each row's
        class and its rank among the rows of its class (in row order) places the rows of every
        batch itself. The index batches (`batch`, `iter_batches`, `epoch_batches`, ...) need
        the labels' grouping and are not available here.

        Args:
            class_counts: rows per class, entry c for class c (non-negative integers).
            batch_size, class_fractions, mode, seed, steps_per_epoch, num_replicas: as for
                `BalancedSchedule`; the errors are the ones the labels would raise.

        >>> import numpy as np
        >>> labels = np.array([0] * 90 + [1] * 10)
        >>> schedule = BalancedSchedule.from_counts(np.bincount(labels), 4)
        >>> schedule.epoch_counts(0)[0].tolist()
        [[2, 2]]
        """
        self = cls.__new__(cls)
        self.mode = check_choice("mode", mode, ("exact", "sampled"))
        self.repeat_threshold = DEFAULT_REPEAT_THRESHOLD
        self.batch_size = check_integer("batch_size", batch_size, low=1)
        self.seed = check_integer("seed", seed, low=0)
        self.num_replicas = check_integer("num_replicas", num_replicas, low=1)
        steps = check_integer("steps_per_epoch", steps_per_epoch, low=1, allow_none=True)
        counts = np.asarray(to_numpy(class_counts))
        if counts.ndim != 1 or counts.dtype.kind not in "iu" or (counts.size and counts.min() < 0):
            raise ValueError(
                f"Invalid `class_counts`: received {describe(counts)}; expected a 1-D array of "
                f"non-negative integers (rows per class)."
            )
        present = np.flatnonzero(counts)
        if present.size == 0:
            raise ValueError(empty_labels_message("labels"))
        top = int(present[-1])
        counts = counts[: top + 1].astype(np.int64)
        if class_fractions is not None:
            k_given = np.asarray(to_numpy(class_fractions)).reshape(-1).shape[0]
            if top >= k_given:  # the labels' error: a label beyond the fractions
                check_fractions("class_fractions", class_fractions)
                raise ValueError(
                    f"{index_message('labels', k_given, None)} (one class per entry of "
                    f"`class_fractions`); received labels up to {top}."
                )
        self.num_samples = n = int(counts.sum())
        self._index_dtype = np.int32 if n < 2**31 else np.int64
        self.fractions = resolve_fractions(class_fractions, counts)
        self.num_classes = k = self.fractions.shape[0]
        self.class_counts = np.zeros(k, dtype=np.int64)
        self.class_counts[: counts.shape[0]] = counts
        self._order = None  # no labels: no sample ids
        self._offsets = np.concatenate([[0], np.cumsum(self.class_counts)])
        self._labels_digest = hashlib.sha256(self.class_counts.tobytes()).hexdigest()[:16]
        width = self.batch_size * self.num_replicas
        self.steps_per_epoch = steps or -(-n // width)
        self._pool_keys = hash_key(self.seed, _SALT_POOL, np.arange(k))
        self._epoch_starts = [np.zeros(k, dtype=np.int64)]
        if self.mode == "exact":
            fractions = self.fractions
            assert fractions is not None  # every mode but "repeat_factor" has class fractions
            self.composition = ExactComposition(fractions, self.batch_size, self.num_replicas, self.steps_per_epoch)
            starved = np.flatnonzero((fractions > 0) & (self.composition.replica_base == 0))
            if starved.size:
                c = int(starved[0])
                enough = math.ceil(1.0 / float(fractions[fractions > 0].min()) - 1e-9)
                raise ValueError(exact_batch_too_small_message(self.batch_size, c, float(fractions[c]), enough))
        return self

    def epoch_counts(self, epoch: int = 0) -> np.ndarray:
        """The class counts of every batch of `epoch`: (steps_per_epoch, num_replicas, K) int64,
        entry [t, r, c] the slots of class c in replica r's batch at step t (modes "exact",
        "sampled", "class_aware"). O(steps x replicas x classes), never O(N).

        Class c's slots take consecutive positions of its pool stream in (step, replica) order
        from `epoch_start(epoch)[c]`: the first position of batch (t, r) is
        `epoch_start(epoch)[c]` plus the slots of class c in the batches before it."""
        epoch = check_integer("epoch", epoch, low=0)
        check_choice("mode", self.mode, ("exact", "sampled", "class_aware"))
        return np.stack([replicas for replicas, _ in self._steps(epoch, 0)])

    def pool_positions(self, classes: Any, members: Any, passes: Any) -> np.ndarray:
        """Where member `members` of class `classes` stands in pass `passes` of its class's pool
        stream: passes * n_c + pi_j^-1(member), the inverse of the pool (arguments broadcast
        together; int64). A member of rank i within its class (its rank among the class's rows
        in row order) is used once per pass, at this position.

        >>> import numpy as np
        >>> schedule = BalancedSchedule(np.array([0, 1, 0, 1, 1]), 2)
        >>> position = schedule.pool_positions(1, np.arange(3), 0)
        >>> sorted(position.tolist())
        [0, 1, 2]
        """
        classes = np.asarray(classes, dtype=np.int64)
        members = np.asarray(members, dtype=np.int64)
        passes = np.asarray(passes, dtype=np.int64)
        classes, members, passes = np.broadcast_arrays(classes, members, passes)
        n = self.class_counts[classes]
        keys = _mix64(self._pool_keys[classes] ^ (passes.astype(_U64) + _GOLDEN))
        return passes * n + feistel(members, n, keys, inverse=True)

    def class_patterns(self, epoch: int, block: int, rank: int, counts: Any) -> np.ndarray:
        """The classes of the slots of replica `rank`'s batches in block `block` of `epoch`
        (steps [64 block, 64 block + T)), in batch order: (T, B) int64, from those batches'
        class counts `counts` (T, K) (rows of `epoch_counts(epoch)[:, rank]`). The slots of
        class c, left to right, take the class's pool positions in order.

        >>> import numpy as np
        >>> schedule = BalancedSchedule(np.array([0] * 6 + [1] * 2), 4)
        >>> counts = schedule.epoch_counts(0)[:, 0]
        >>> np.bincount(schedule.class_patterns(0, 0, 0, counts)[0]).tolist()
        [2, 2]
        """
        counts = np.asarray(counts, dtype=np.int64)
        steps, b = counts.shape[0], self.batch_size
        cls = np.repeat(np.tile(np.arange(self.num_classes), steps), counts.reshape(-1)).reshape(steps, b)
        rng = _rng(self.seed, check_integer("epoch", epoch, low=0), check_integer("block", block, low=0),
                   check_rank(rank, self.num_replicas), _SALT_ORDER)
        return rng.permuted(cls, axis=1)

    # -- mode="repeat_factor": detectron2's endless stream of shuffled rounds -----------
    def _round_repeats(self, j: int) -> tuple[np.ndarray, np.random.Generator]:
        # Round j holds sample i floor(r_i) times, plus once with probability frac(r_i).
        rng = _rng(self.seed, j, _SALT_REPEAT)
        extra = rng.random(self.num_samples) < self._frac_repeats
        return self._whole_repeats + extra, rng

    def repeat_round(self, j: int) -> np.ndarray:
        """Round j of mode="repeat_factor": every index repeated by its stochastic rounding of
        r_i, shuffled (detectron2's `_get_epoch_indices` then `randperm`); int64."""
        j = check_integer("round", j, low=0)
        repeats, rng = self._round_repeats(j)
        indices = np.repeat(np.arange(self.num_samples, dtype=self._index_dtype), repeats)
        return indices[_permutation(rng, indices.shape[0], np.int64)].astype(np.int64, copy=False)

    def _repeat_stream(self, start: int, size: int) -> np.ndarray:
        """Positions [start, start + size) of the rounds 0, 1, 2, ... laid end to end: epochs
        cut this stream into equal pieces, so nothing is dropped or padded; a round may straddle
        two epochs."""
        ends = self._round_ends  # ends[j + 1] = where round j ends in the stream
        while ends[-1] < start + size:
            ends.append(ends[-1] + int(self._round_repeats(len(ends) - 1)[0].sum()))
        first = int(np.searchsorted(ends, start, side="right")) - 1
        out = np.empty(size, dtype=np.int64)
        filled = 0
        j = first
        while filled < size:
            lo = max(start - ends[j], 0)
            hi = min(start + size - ends[j], ends[j + 1] - ends[j])
            out[filled : filled + hi - lo] = self.repeat_round(j)[lo:hi]
            filled += hi - lo
            j += 1
        return out



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


def balanced_schedule(
    labels: Any,
    batch_size: int,
    *,
    class_fractions: Any = None,
    mode: str = "exact",
    repeat_threshold: float = DEFAULT_REPEAT_THRESHOLD,
    seed: int = 0,
    steps_per_epoch: int | None = None,
    num_replicas: int = 1,
    epoch: int = 0,
    rank: int | None = None,
) -> np.ndarray:
    """One epoch of index batches: the global batches (rank=None) or replica `rank`'s share.
    See `BalancedSchedule` for the arguments.

    >>> import numpy as np
    >>> balanced_schedule(np.array([0, 0, 0, 1]), 2, steps_per_epoch=3).shape
    (3, 2)
    """
    schedule = BalancedSchedule(
        labels,
        batch_size,
        class_fractions=class_fractions,
        mode=mode,
        repeat_threshold=repeat_threshold,
        seed=seed,
        steps_per_epoch=steps_per_epoch,
        num_replicas=num_replicas,
    )
    if rank is None:
        return schedule.epoch_batches(epoch)
    return schedule.replica_batches(epoch, rank)
