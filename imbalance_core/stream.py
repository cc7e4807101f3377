"""Balanced batches from streams that cannot be indexed (shared by tf_impl and torch_impl).

Streams (`StreamBalancer`)
--------------------------
For sources that cannot be indexed (records on disk), one pass over the source per epoch,
read in chunks of ``buffer_size // 2`` elements. Each class c keeps a ring of its last
``buffer_size`` elements (slots ``c * buffer_size + j``); the newest ``fresh_c`` of them are
not yet emitted. ``StreamBalancer.step`` handles one chunk on slot numbers only: it writes the
chunk's elements into the rings (in arrival order; a class with fraction 0 goes to a discard
slot), then emits batches while some class has a full share of fresh elements for the next
batch, or holds more than ``buffer_size - chunk`` fresh ones (it must spill before the next
chunk could overwrite them). Each batch takes, per class, its fresh elements oldest first, and
tops the share up with replays drawn at random from the class's ring (without replacement
within the batch when the ring is large enough); the batch is shuffled. At the end of the pass
the fresh elements still waiting (fewer than a share in every class: the final partial batch)
are dropped, never topped up with replays.

What is guaranteed, per epoch (exact and sampled modes):

- every batch has the requested composition (exact: the same class counts in every batch);
- every element is emitted *fresh* at most once, in arrival order within its class; any other
  emission of it is a *replay*, and an element of class c is replayed only in a batch for
  which c had fewer fresh elements than its share;
- so a class that has a full share of fresh elements at every batch, the *driving* class, is
  emitted exactly once per element, except (a) the fewer-than-a-share elements left at the end
  of the pass, (b) elements overwritten while the balancer waits for a requested class's first
  element (each ring keeps only its last ``buffer_size``), and (c) the padding batches of a
  sharded epoch (below). In a shuffled stream the class that is clearly the most abundant
  relative to its share drives; when two classes are close to equally abundant relative to
  their shares, local fluctuations let either trigger a batch and the other is topped up with
  replays (a repeat of an already emitted element) in that batch.

Sharding (``num_replicas``): the batches form one global sequence, the same for every number
of replicas; global batch j belongs to replica ``j % num_replicas``. At the end of the pass
``(-G) % num_replicas`` padding batches of replays (the exact composition, drawn from the
rings) complete the last round of the G batches, so every replica gets the same number,
``ceil(G / num_replicas)``. Every replica (and every DataLoader worker) reads the whole source
and runs the same bookkeeping on class indices and slot numbers (cheap), and materialises only
its own batches: the cost is that each of them reads the whole source, computes every
element's class and holds the rings.

The step is a pure function of a small state (write position, elements seen and fresh per
class, batches emitted), with one generator per step, so tf_impl runs it once per chunk inside
the tf.data graph (the elements stay in tensors: one scatter into the rings, one gather of the
batches) and torch_impl in Python, with the same batches. Memory: ``buffer_size`` elements per
class plus one chunk. The source should already be shuffled: the balancer keeps each class's
arrival order.
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

import numpy as np

from ._class_counts import batch_composition, check_pipeline_args, check_requested_present, resolve_fractions
from ._randomness import SALT_STREAM, seeded_rng
from .validation import check_integer, class_fn_dtype_message, class_fn_shape_message, index_range_message, to_numpy

__all__ = [
    "STREAM_MODES",
    "DEFAULT_BUFFER_SIZE",
    "StreamBalancer",
    "StreamPosition",
    "check_class_fn_dtype",
    "check_class_fn_shape",
]

# A stream is balanced by class index only.
STREAM_MODES = ("exact", "sampled")
DEFAULT_BUFFER_SIZE = 10_000


def check_class_fn_dtype(dtype: Any) -> None:
    """`class_fn` must return integer class indices (a TypeError otherwise).

    Examples:
        >>> check_class_fn_dtype("int64")
        >>> check_class_fn_dtype("float32")
        Traceback (most recent call last):
            ...
        TypeError: Invalid `class_fn` output dtype: received float32; expected an integer class index.
    """
    text = str(dtype).replace("torch.", "").replace("<dtype: '", "").replace("'>", "")
    if not any(text.startswith(k) for k in ("int", "uint", "bool")):
        raise TypeError(class_fn_dtype_message(text))


def check_class_fn_shape(shape: tuple[Any, ...]) -> None:
    """`class_fn` must return a scalar (0-d) class index.

    Examples:
        >>> check_class_fn_shape(())
        >>> check_class_fn_shape((2,))
        Traceback (most recent call last):
            ...
        ValueError: Invalid `class_fn` output: received shape (2,); expected a scalar class index (shape ()).
    """
    if len(shape) != 0:
        raise ValueError(class_fn_shape_message(shape))


def _class_of(value: Any, num_classes: int) -> int:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        c = int(value)
    else:
        arr = np.asarray(to_numpy(value))
        check_class_fn_dtype(arr.dtype)
        if arr.ndim != 0:
            check_class_fn_shape(tuple(arr.shape))
        c = int(arr.reshape(()))
    if c < 0 or c >= num_classes:
        raise ValueError(index_range_message("class_fn output", num_classes, c))
    return c


def _ragged_ranges(lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For lengths (m,): the row of each of the sum(lengths) items and its rank in its row."""
    lengths = np.asarray(lengths, dtype=np.int64)
    total = int(lengths.sum())
    row = np.repeat(np.arange(lengths.shape[0], dtype=np.int64), lengths)
    within = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return row, within


def _distinct_per_row(rng: np.random.Generator, lengths: np.ndarray, population: int) -> np.ndarray:
    """lengths[j] draws from range(population) for each row j, in row order, distinct within a
    row when it has at most `population` items (else uniform with replacement)."""
    lengths = np.asarray(lengths, dtype=np.int64)
    row, within = _ragged_ranges(lengths)
    picks = np.empty(row.shape[0], dtype=np.int64)
    long_rows = lengths[row] > population
    picks[long_rows] = rng.integers(0, population, int(long_rows.sum()), dtype=np.int64)
    short = ~long_rows
    if not short.any():
        return picks
    longest = int(lengths[lengths <= population].max())
    if 4 * longest >= population:
        # A large share of a small ring: the head of a random permutation per row.
        m = lengths.shape[0]
        perms = rng.permuted(np.broadcast_to(np.arange(population, dtype=np.int64), (m, population)), axis=1)
        picks[short] = perms[row[short], within[short]]
        return picks
    # A small share of a large ring: uniform draws, the rare repeats within a row redrawn.
    sub_row = row[short]
    sub = rng.integers(0, population, sub_row.shape[0], dtype=np.int64)
    while True:
        key = sub_row * population + sub
        order = np.argsort(key, kind="stable")
        dup = np.zeros(sub.shape[0], dtype=bool)
        dup[order[1:]] = key[order[1:]] == key[order[:-1]]
        if not dup.any():
            picks[short] = sub
            return picks
        sub[dup] = rng.integers(0, population, int(dup.sum()), dtype=np.int64)


class StreamBalancer:
    """Balanced batches from a stream in one pass with a ring of the last `buffer_size`
    elements per class, processed a chunk at a time (see the module docstring).

    The balancing works on *slots*, never on the elements: `step` takes a chunk's class
    indices and the small state, and returns where each element goes in the per-class rings
    and which ring slots make up each batch emitted after the chunk. The caller moves the
    data: tf_impl does it inside the tf.data graph (a scatter into the rings and a gather per
    chunk), torch_impl and `batches` in Python. Both call this same NumPy `step`, so the same
    elements in the same order give the same batches.

    Args:
        batch_size: elements per emitted batch.
        class_fractions: target share of each class; None: equal shares over `num_classes`.
        num_classes: number of classes when class_fractions is None (a stream's classes are
            not known in advance).
        mode: "exact" or "sampled", as for indexed sources.
        seed: non-negative integer; with the epoch (and stream id) it fixes every choice.
        buffer_size: per-class ring capacity: the last `buffer_size` elements of each class.
        num_replicas: the replicas sharing the global sequence of batches (an integer >= 1):
            the final step adds padding batches so that their number is a multiple of it.

    Examples:
        >>> balancer = StreamBalancer(4, num_classes=2, buffer_size=20, seed=0)
        >>> pairs = [(int(i % 5 == 0), i) for i in range(40)]     # (class, element): 20 % class 1
        >>> batches = list(balancer.batches(pairs))
        >>> print(len(batches), [sum(i % 5 == 0 for i in b) for b in batches][:4])
        16 [2, 2, 2, 2]
    """

    def __init__(self, batch_size: int, *, class_fractions: Any = None, num_classes: int | None = None,
                 mode: str = "exact", seed: int = 0, buffer_size: int = DEFAULT_BUFFER_SIZE,
                 num_replicas: int = 1) -> None:
        self.mode, self.batch_size, self.seed, self.num_replicas = check_pipeline_args(
            mode=mode, modes=STREAM_MODES, batch_size=batch_size, seed=seed, num_replicas=num_replicas)
        self.buffer_size = check_integer("buffer_size", buffer_size, low=1)
        num_classes = check_integer("num_classes", num_classes, low=1, allow_none=True)
        self.fractions = resolve_fractions(class_fractions, num_classes=num_classes)
        self.num_classes = self.fractions.shape[0]
        self.composition = batch_composition(self.fractions, self.batch_size, self.mode)
        # Half a ring per chunk: after a chunk's batches no class holds more than `_spill`
        # fresh elements, so the next chunk's writes never overwrite a fresh one.
        self.chunk_size = max(1, self.buffer_size // 2)
        self._spill = self.buffer_size - self.chunk_size
        self._requested = self.fractions > 0
        # Ring slot c * buffer_size + j holds class c's element j; the last slot takes the
        # elements of classes with fraction 0, which are never emitted.
        self.num_slots = self.num_classes * self.buffer_size + 1

    def initial_state(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(write position, elements seen, fresh elements) per class, and batches emitted."""
        k = self.num_classes
        return np.zeros(k, np.int64), np.zeros(k, np.int64), np.zeros(k, np.int64), np.zeros((), np.int64)

    def step(
        self,
        epoch: int,
        classes: np.ndarray,
        write: np.ndarray,
        seen: np.ndarray,
        fresh: np.ndarray,
        emitted: Any,
        final: bool,
        stream_id: int = 0,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """One chunk: returns (ring slot of each element, (m, batch_size) ring slots of the m
        batches emitted now, and the new write, seen, fresh, emitted). `final` marks the end of
        the pass (an empty chunk): the fresh elements left (less than a share in every class)
        are dropped, and padding batches of replays complete the last round of
        `num_replicas` batches. `emitted` counts the global batches so far: the i-th row of the
        result is global batch `emitted + i`. Pure: the state is the arguments."""
        k, cap = self.num_classes, self.buffer_size
        classes = np.asarray(classes, dtype=np.int64).reshape(-1)
        out_of_range = (classes < 0) | (classes >= k)
        if np.any(out_of_range):
            c = int(classes[out_of_range][0])
            raise ValueError(index_range_message("class_fn output", k, c))
        write, seen, fresh = (np.array(a, dtype=np.int64, copy=True) for a in (write, seen, fresh))
        t = int(emitted)
        counts = np.bincount(classes, minlength=k)
        # Rank of each element among its class in this chunk (a stable grouping by class).
        order = np.argsort(classes, kind="stable")
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        rank = np.empty(classes.shape[0], dtype=np.int64)
        rank[order] = np.arange(classes.shape[0]) - np.repeat(starts, counts)
        slots = classes * cap + (write[classes] + rank) % cap
        slots[~self._requested[classes]] = self.num_slots - 1
        write = (write + counts) % cap
        seen += counts
        fresh = np.minimum(fresh + counts, cap)  # beyond a full ring the oldest are overwritten
        waiting = bool(np.any(self._requested & (seen == 0)))
        if final and waiting:  # a requested class never appeared: this raises
            check_requested_present(self.fractions, seen, "the stream")
        refs = np.zeros((0, self.batch_size), dtype=np.int64)
        if not waiting:
            # One generator per step, keyed by the batches emitted so far (a step that emits
            # nothing leaves the next one the same draws).
            rng = seeded_rng(self.seed, epoch, stream_id, t, SALT_STREAM)
            if final:
                # The final partial batch is dropped; padding batches, all replays, give every
                # replica the same number of batches.
                pad = (-t) % self.num_replicas
                needs = self._draw_needs(rng, pad)
                refs = self._emit(rng, needs, np.zeros_like(needs), write, seen, np.zeros(k, np.int64))
            else:
                needs, before = self._batch_needs(rng, fresh)
                refs = self._emit(rng, needs, before, write, seen, fresh)
                fresh = np.maximum(fresh - needs.sum(axis=0), 0)
            t += needs.shape[0]
        return slots, refs, write, seen, fresh, np.asarray(t, dtype=np.int64)

    def _draw_needs(self, rng: np.random.Generator, m: int) -> np.ndarray:
        """The class counts (m, K) of the next m batches: the composition, or multinomial draws."""
        if self.mode == "exact":
            return np.broadcast_to(self.composition, (m, self.num_classes)).astype(np.int64)
        return rng.multinomial(self.batch_size, self.fractions, size=m).astype(np.int64)

    def _batch_needs(self, rng: np.random.Generator, fresh: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The class counts of the batches this step emits, (m, K), and the fresh elements of
        each class consumed before each batch, (m, K).

        Batch j is emitted while some class has a full share of fresh elements for it, or
        holds more than `_spill` fresh ones (it must spill before the next chunk could
        overwrite them). Each
        batch takes min(fresh, need) fresh elements per class, so the fresh count before batch
        j is max(0, fresh - (needs of the batches before j)): the stopping batch is found for
        a whole block of drawn batches at once.
        """
        k, b = self.num_classes, self.batch_size
        block = max(4, 2 * int(-(-fresh.sum() // b)) + 2)
        needs = np.zeros((0, k), dtype=np.int64)
        while True:
            needs = np.concatenate([needs, self._draw_needs(rng, block)])
            before = np.cumsum(needs, axis=0) - needs
            left = np.maximum(fresh - before, 0)
            active = needs > 0
            go = (active & (left >= needs)).any(axis=1) | (left > self._spill).any(axis=1)
            if not go.all():
                m = int(np.argmin(go))
                return needs[:m], before[:m]

    def _emit(self, rng: np.random.Generator, needs: np.ndarray, before: np.ndarray, write: np.ndarray,
              seen: np.ndarray, fresh: np.ndarray) -> np.ndarray:
        """The ring slots of the batches with class counts `needs` (m, K): per class, fresh
        elements oldest first, then replays drawn at random from the class's ring (its last
        min(seen, cap) elements), without replacement within a batch when the ring is large
        enough; each batch then shuffled. Vectorised over the batches."""
        m, k = needs.shape
        cap, b = self.buffer_size, self.batch_size
        if m == 0:
            return np.zeros((0, b), dtype=np.int64)
        take = np.minimum(needs, np.maximum(fresh - before, 0))  # fresh elements per batch and class
        rest = needs - take
        rows, slots = [], []
        for c in np.flatnonzero(needs.sum(axis=0)).tolist():
            # Offsets from class c's write position: its fresh run is -fresh .. -1, its ring
            # -valid .. -1.
            fresh_row, within = _ragged_ranges(take[:, c])
            replay_row, _ = _ragged_ranges(rest[:, c])
            valid = int(min(seen[c], cap))
            offsets = np.concatenate([
                before[fresh_row, c] + within - int(fresh[c]),
                _distinct_per_row(rng, rest[:, c], valid) - valid,
            ])
            rows.append(np.concatenate([fresh_row, replay_row]))
            slots.append(c * cap + (write[c] + offsets) % cap)
        row = np.concatenate(rows)
        slot = np.concatenate(slots)
        # Every batch has exactly b slots: group them by batch, keeping the class order.
        batches = slot[np.argsort(row, kind="stable")].reshape(m, b)
        return rng.permuted(batches, axis=1)

    def batches(self, pairs: Iterable[tuple[Any, Any]], epoch: int = 0, stream_id: int = 0) -> Iterator[list[Any]]:
        """Consumes `(class, element)` pairs once; yields every global batch (padding included)
        as a list of `batch_size` elements (the Python driver of `step`; tf_impl runs `step`
        in the tf.data graph)."""
        for _, batch, _ in self.walk(pairs, epoch, stream_id):
            assert batch is not None  # without `owns`, every batch is materialised
            yield batch

    def walk(self, pairs: Iterable[tuple[Any, Any]], epoch: int = 0, stream_id: int = 0,
             owns: Callable[[int], bool] | None = None) -> Iterator[tuple[int, list[Any] | None, StreamPosition]]:
        """Consumes `(class, element)` pairs once; yields `(j, batch, position)` for every global
        batch j: `batch` is the list of its elements when `owns(j)` (default: every batch),
        else None (not materialised); `position` is where the source stood when the batch was
        emitted (elements read and a checksum of their classes), for resuming."""
        epoch = check_integer("epoch", epoch, low=0)
        k = self.num_classes
        ring = np.empty(self.num_slots, dtype=object)
        write, seen, fresh, emitted = self.initial_state()
        it = iter(pairs)
        final = False
        read, checksum = 0, 0
        while not final:
            chunk = list(itertools.islice(it, self.chunk_size))
            # Every chunk, then an empty final one: tf.data's order of steps.
            final = not chunk
            classes = np.fromiter((_class_of(value, k) for value, _ in chunk), dtype=np.int64, count=len(chunk))
            start = int(emitted)
            slots, refs, write, seen, fresh, emitted = self.step(epoch, classes, write, seen, fresh, emitted, final,
                                                                 stream_id)
            read += len(chunk)
            checksum = zlib.crc32(classes.tobytes(), checksum)
            position = StreamPosition(read, checksum)
            for slot, (_, element) in zip(slots.tolist(), chunk):
                ring[slot] = element
            for j, row in enumerate(refs.tolist(), start):
                yield j, ([ring[i] for i in row] if owns is None or owns(j) else None), position


class StreamPosition(NamedTuple):
    """How far a pass has read its source: elements read, and a CRC-32 of their classes (so a
    re-read that gives another stream is detected).

    Examples:
        >>> StreamPosition(read=40, checksum=0)
        StreamPosition(read=40, checksum=0)
    """

    read: int
    checksum: int
