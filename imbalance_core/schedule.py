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

from ._class_counts import (
    QUANTUM,
    ExactComposition,
    batch_composition,
    check_labels,
    check_labels_within_fractions,
    check_pipeline_args,
    check_rank,
    first_starved,
    group_by_class,
    index_dtype,
    labels_digest,
    largest_remainder,
    load_grouping,
    resolve_fractions,
    save_grouping,
    small_uint,
)
from ._randomness import SALT_ORDER, SALT_POOL, SALT_REPEAT, SALT_SLOTS, SALT_STEP, hash_key, pass_keys
from ._randomness import feistel as feistel
from ._randomness import seeded_rng as _rng
from ._repeat_rounds import RepeatRounds
from .class_weights import multi_hot_positives, repeat_factors_from_positives
from .validation import (
    check_choice,
    check_class_counts,
    check_fractions,
    check_integer,
    check_number,
    empty_labels_message,
    exact_batch_too_small_message,
    fractions_unused_message,
    no_positive_labels_message,
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
# Steps computed together (one vectorised pass over their slots); the in-batch order of each
# block of steps comes from one generator.
BLOCK_STEPS = 64
_SALT_REPEAT = SALT_REPEAT  # the salt of mode "repeat_factor"'s rounds (its tests redraw them)


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

    def __init__(self, labels: Any, batch_size: int, *, class_fractions: Any = None, mode: str = "exact",
                 repeat_threshold: float = DEFAULT_REPEAT_THRESHOLD, seed: int = 0, steps_per_epoch: int | None = None,
                 num_replicas: int = 1, grouping: Any = None) -> None:
        self.mode, self.batch_size, self.seed, self.num_replicas = check_pipeline_args(
            mode=mode, modes=MODES, batch_size=batch_size, seed=seed, num_replicas=num_replicas)
        self.repeat_threshold = check_number("repeat_threshold", repeat_threshold, low=0.0)
        steps = check_integer("steps_per_epoch", steps_per_epoch, low=1, allow_none=True)
        if self.mode in MULTI_LABEL_MODES:
            self._init_multi_label(labels, class_fractions)
        else:
            self._init_single_label(labels, class_fractions, grouping)
        self._labels_digest = labels_digest(labels, self.class_counts)
        if self.mode == "repeat_factor":
            expected = float(self.repeat_factors.sum())  # the expected length of one round
            self.steps_per_epoch = steps or max(1, math.ceil(expected / (self.batch_size * self.num_replicas)))
            return
        self._init_steps(steps)

    def _init_classes(self, counts: np.ndarray, class_fractions: Any, order: np.ndarray | None) -> None:
        # The classes are the fractions' (equal shares over the classes present by default).
        self.num_samples = int(counts.sum())
        self._index_dtype = index_dtype(self.num_samples)
        self.fractions = resolve_fractions(class_fractions, counts)
        self.num_classes = k = self.fractions.shape[0]
        self.class_counts = np.zeros(k, dtype=np.int64)
        self.class_counts[: counts.shape[0]] = counts
        self._order = order
        self._offsets = np.concatenate([[0], np.cumsum(self.class_counts)])

    def _init_steps(self, steps: int | None) -> None:
        # Modes "exact", "sampled" and "class_aware": the epochs' length, the pools' keys and,
        # in mode "exact", the composition of every step (a slot per requested class).
        self.steps_per_epoch = steps or -(-self.num_samples // (self.batch_size * self.num_replicas))
        self._pool_keys = hash_key(self.seed, SALT_POOL, np.arange(self.num_classes))
        self._epoch_starts: list[np.ndarray] = [np.zeros(self.num_classes, dtype=np.int64)]
        if self.mode == "exact":
            fractions = self.fractions
            assert fractions is not None  # every mode but "repeat_factor" has class fractions
            self.composition = ExactComposition(fractions, self.batch_size, self.num_replicas, self.steps_per_epoch)
            starved = first_starved(fractions, self.composition.replica_base)
            if starved is not None:
                c, enough = starved
                raise ValueError(exact_batch_too_small_message(self.batch_size, c, float(fractions[c]), enough))

    def _init_single_label(self, labels: Any, class_fractions: Any, grouping: Any) -> None:
        labels = check_labels(labels, mode=self.mode)
        top = int(labels.max())
        check_labels_within_fractions(top, class_fractions)
        if grouping is None:
            order, counts = group_by_class(labels, top + 1, index_dtype(labels.shape[0]))
        else:
            order, counts = load_grouping(grouping, labels, top + 1)
        self._init_classes(counts, class_fractions, order)

    def _init_multi_label(self, labels: Any, class_fractions: Any) -> None:
        # Only the positive entries are kept (CSR by label): memory O(N + positives).
        n, k, rows, cols = multi_hot_positives(labels, "labels", mode=self.mode)
        self.num_samples = n
        self.num_classes = k
        self._index_dtype = index_dtype(n)
        small = cols.astype(small_uint(k), copy=False)
        self.class_counts = np.bincount(small, minlength=k).astype(np.int64)
        if rows.size == 0 and self.mode == "class_aware":
            raise ValueError(no_positive_labels_message(self.mode))
        if self.mode == "repeat_factor":
            if class_fractions is not None:
                raise ValueError(fractions_unused_message(self.mode, class_fractions))
            self.fractions = None
            self.repeat_factors = repeat_factors_from_positives(n, k, rows, cols, self.repeat_threshold)
            self._rounds = RepeatRounds(self.repeat_factors, seed=self.seed, ids_dtype=self._index_dtype)
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
        return _rng(self.seed, epoch, SALT_SLOTS).multinomial(total, self.fractions).astype(np.int64)

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
                rng = _rng(self.seed, epoch, t // BLOCK_STEPS, SALT_STEP)
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
        keys = pass_keys(self._pool_keys[cls], position // n)
        member = feistel(position % n, n, keys)
        assert self._order is not None  # a schedule of labels (not of counts alone) has sample ids
        ids = np.asarray(self._order[self._offsets[cls] + member], dtype=np.int64).reshape(steps, b)
        classes = cls.reshape(steps, b)
        # The class pattern of each batch shuffled uniformly (one generator per block of steps,
        # row t of the block for step t); the slots of each class, left to right, take the
        # class's samples in pool order, so a batch reads each pool in order.
        block = first_step // BLOCK_STEPS
        offset = first_step - block * BLOCK_STEPS
        rng = _rng(self.seed, epoch, block, rank, SALT_ORDER)
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
            return self._rounds.stream(epoch * size, size).reshape(self.steps_per_epoch, width)
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
    def from_counts(cls, class_counts: Any, batch_size: int, *, class_fractions: Any = None, mode: str = "exact",
                    seed: int = 0, steps_per_epoch: int | None = None, num_replicas: int = 1) -> BalancedSchedule:
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
        self.mode, self.batch_size, self.seed, self.num_replicas = check_pipeline_args(
            mode=mode, modes=("exact", "sampled"), batch_size=batch_size, seed=seed, num_replicas=num_replicas)
        self.repeat_threshold = DEFAULT_REPEAT_THRESHOLD
        steps = check_integer("steps_per_epoch", steps_per_epoch, low=1, allow_none=True)
        counts = check_class_counts("class_counts", class_counts)
        present = np.flatnonzero(counts)
        if present.size == 0:
            raise ValueError(empty_labels_message("labels"))
        top = int(present[-1])
        check_labels_within_fractions(top, class_fractions)  # the labels' error: a label beyond the fractions
        self._init_classes(counts[: top + 1].astype(np.int64), class_fractions, None)  # no labels: no sample ids
        self._labels_digest = hashlib.sha256(self.class_counts.tobytes()).hexdigest()[:16]
        self._init_steps(steps)
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
        keys = pass_keys(self._pool_keys[classes], passes)
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
                   check_rank(rank, self.num_replicas), SALT_ORDER)
        return rng.permuted(cls, axis=1)

    def repeat_round(self, j: int) -> np.ndarray:
        """Round j of mode="repeat_factor": every index repeated by its stochastic rounding of
        r_i, shuffled (detectron2's `_get_epoch_indices` then `randperm`); int64."""
        return self._rounds.round(check_integer("round", j, low=0))


def balanced_schedule(labels: Any, batch_size: int, *, class_fractions: Any = None, mode: str = "exact",
                      repeat_threshold: float = DEFAULT_REPEAT_THRESHOLD, seed: int = 0,
                      steps_per_epoch: int | None = None, num_replicas: int = 1, epoch: int = 0,
                      rank: int | None = None) -> np.ndarray:
    """One epoch of index batches: the global batches (rank=None) or replica `rank`'s share.
    See `BalancedSchedule` for the arguments.

    >>> import numpy as np
    >>> balanced_schedule(np.array([0, 0, 0, 1]), 2, steps_per_epoch=3).shape
    (3, 2)
    """
    schedule = BalancedSchedule(labels, batch_size, class_fractions=class_fractions, mode=mode,
                                repeat_threshold=repeat_threshold, seed=seed, steps_per_epoch=steps_per_epoch,
                                num_replicas=num_replicas)
    if rank is None:
        return schedule.epoch_batches(epoch)
    return schedule.replica_batches(epoch, rank)
