"""Balanced input pipelines for tf.data (the mirror of torch_impl.data).

The index batches come from imbalance_core.schedule, so the same arguments, seed and epoch give
the same batches as torch_impl.data.BalancedBatchSampler.

Epochs (balanced_batches): the k-th complete pass over the returned dataset (each `model.fit`
epoch, each pass of `.repeat()`) yields epoch k of the schedule, counting from 0; a partial read
(Keras's torch and jax backends take one batch to build an unbuilt model) does not use an epoch
up, as long as the epoch is longer than tf.data's read-ahead (a few batches). balance_dataset:
the k-th iteration is epoch k. Each class's pool pointer
carries over epochs, so the majority is walked through without repeats.

Replicas: `batch_size` is per replica, as in PyTorch. With `num_replicas=R` (or a
`tf.distribute.Strategy`, which means `R = strategy.num_replicas_in_sync`) each dataset element
is a global batch of R * batch_size rows whose slice r, rows [r * batch_size, (r + 1) *
batch_size), is replica r's batch: tf.distribute splits a global batch into exactly these
contiguous slices, so every replica gets an exactly balanced share (and the same batch as
torch rank r).
"""

from __future__ import annotations

import itertools
from typing import Any, Callable, Optional

import numpy as np
import tensorflow as tf

from imbalance_core import validation as V
from imbalance_core.schedule import (
    DEFAULT_BUFFER_SIZE,
    DEFAULT_REPEAT_THRESHOLD,
    BalancedSchedule,
    StreamBalancer,
    check_class_fn_dtype,
    check_class_fn_shape,
)
from imbalance_core.validation import feature_rows_message, stream_element_shape_message, to_numpy

__all__ = ["balanced_batches", "balance_dataset"]


def _replicas(num_replicas: Any) -> Any:
    if isinstance(num_replicas, tf.distribute.Strategy):
        return num_replicas.num_replicas_in_sync
    return num_replicas  # validated by imbalance_core


def balanced_batches(
    x: Any,
    y: Any,
    batch_size: int,
    *,
    class_fractions: Any = None,
    mode: str = "exact",
    repeat_threshold: float = DEFAULT_REPEAT_THRESHOLD,
    seed: int = 0,
    steps_per_epoch: Optional[int] = None,
    num_replicas: Any = 1,
) -> tf.data.Dataset:
    """A `tf.data.Dataset` of balanced `(x_batch, y_batch)` batches, ready for `model.fit`.

    Algorithm: imbalance_core.schedule.BalancedSchedule computes each epoch's index batches
    (vectorised NumPy, O(N)); the pipeline slices them row by row and gathers the features and
    labels with `tf.gather` (parallel map, prefetched). Features are held once; no per-class
    copies are made.

    Args:
        x: features: an array/tensor with one row per label, or a nest (dict, tuple) of them.
        y: 1-D integer class indices, one per row of `x` (modes "exact", "sampled"), or (N, C)
            multi-hot rows of 0/1, one column per label (modes "repeat_factor", "class_aware");
            batches carry `y`'s rows as given.
        batch_size: rows per batch and replica.
        class_fractions: target share per class, or per label for "class_aware" (non-negative,
            summing to 1; entry c is class c). None: equal shares over the classes (labels)
            present in `y`. Must be None for "repeat_factor".
        mode: "exact" (every batch holds exactly the largest-remainder count round(f_c B) of
            class c, shuffled), "sampled" (each slot's class drawn with probability f_c),
            "repeat_factor" (LVIS: sample i appears floor(r_i) times per round, plus once with
            probability r_i - floor(r_i), rounds shuffled and laid end to end; r from
            `compute_repeat_factors`) or "class_aware" (each slot draws a label with
            probability f_c, then the next sample of that label's own reshuffled pool).
        repeat_threshold: t >= 0 of mode="repeat_factor" (detectron2's `repeat_thresh`);
            ignored by the other modes.
        seed: non-negative integer; with the epoch it fixes every batch.
        steps_per_epoch: batches per epoch; default ceil(N / (batch_size * num_replicas)), for
            "repeat_factor" ceil(sum_i r_i / (batch_size * num_replicas)). Every batch is full:
            with "repeat_factor" an epoch is the next steps_per_epoch batches of the endless
            stream of rounds, so a round may straddle two epochs and nothing is dropped.
        num_replicas: replicas sharing each global batch (an int or a tf.distribute.Strategy).

    Returns:
        A dataset of `steps_per_epoch` elements `(x_batch, y_batch)` with
        `num_replicas * batch_size` rows each.
    """
    schedule = BalancedSchedule(
        y,
        batch_size,
        class_fractions=class_fractions,
        mode=mode,
        repeat_threshold=repeat_threshold,
        seed=seed,
        steps_per_epoch=steps_per_epoch,
        num_replicas=_replicas(num_replicas),
    )
    n = schedule.num_samples
    x_t = tf.nest.map_structure(tf.convert_to_tensor, x)
    for leaf in tf.nest.flatten(x_t):
        rows = leaf.shape[0] if leaf.shape.rank else None
        if rows != n:
            raise ValueError(feature_rows_message(tuple(leaf.shape), n))
    y_t = tf.convert_to_tensor(to_numpy(y))
    steps, width = schedule.steps_per_epoch, schedule.num_replicas * schedule.batch_size
    next_epoch = [0]

    def epoch_indices():
        # One call per iteration of the dataset. The epoch advances when a pass has read the
        # whole epoch, so that a partial read (Keras's torch and jax backends take one batch
        # from a fresh iterator to build the model) does not use one up: the k-th complete
        # pass is epoch k.
        epoch = next_epoch[0]
        yield schedule.epoch_batches(epoch)
        next_epoch[0] = epoch + 1  # the generator resumes only once the epoch's rows are read

    indices = tf.data.Dataset.from_generator(
        epoch_indices, output_signature=tf.TensorSpec((steps, width), tf.int64)
    )
    indices = indices.flat_map(tf.data.Dataset.from_tensor_slices)
    indices = indices.apply(tf.data.experimental.assert_cardinality(steps))

    def gather(idx):
        return tf.nest.map_structure(lambda t: tf.gather(t, idx), x_t), tf.gather(y_t, idx)

    return indices.map(gather, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def balance_dataset(
    dataset: tf.data.Dataset,
    class_fn: Callable[[Any], Any],
    batch_size: int,
    *,
    class_fractions: Any = None,
    num_classes: Optional[int] = None,
    mode: str = "exact",
    seed: int = 0,
    buffer_size: int = DEFAULT_BUFFER_SIZE,
) -> tf.data.Dataset:
    """Balanced batches from a dataset that cannot be indexed (e.g. TFRecords on disk).

    Algorithm: imbalance_core.schedule.StreamBalancer, one pass over `dataset` per epoch; each
    class keeps a ring of its last `buffer_size` elements. The class that is most abundant
    relative to its share drives the output (each of its elements is emitted once); rarer
    classes contribute their fresh elements first and are topped up by replays drawn from
    their ring; every batch has the requested composition.

    Runs inside the tf.data graph with no Python per element: the stream is read in chunks of
    `buffer_size // 2` elements (`batch`, then `class_fn` on the whole chunk through
    `tf.vectorized_map`); a `scan` holds the rings as tensors of K * buffer_size elements per
    leaf, writes each chunk into them with one scatter and gathers the chunk's batches with one
    gather. Only the slot bookkeeping,
    a few small integer arrays per chunk, runs in NumPy (`tf.numpy_function`, once per chunk),
    the same function that torch_impl.data.balance_dataset calls, so both emit the same batches
    for the same elements in the same order. Memory: the rings, K * buffer_size elements,
    allocated when iteration starts, plus one chunk. The k-th iteration of the result is epoch k.

    Errors that only the stream reveals (a class index out of range, a requested class that
    never appears) surface inside tf.data as a `tf.errors.InvalidArgumentError` carrying the
    message that torch_impl raises as ValueError.

    Args:
        dataset: a `tf.data.Dataset` of unbatched elements (any nest of tensors with fully
            known shapes), ideally pre-shuffled: the balancer keeps each class's arrival order.
        class_fn: maps an element (as the dataset yields it; tuples as one argument) to a scalar
            integer class index, with TensorFlow ops.
        batch_size: elements per emitted batch.
        class_fractions: target share per class; None: equal over `num_classes`.
        num_classes: number of classes when class_fractions is None.
        mode: "exact" or "sampled".
        seed: non-negative integer.
        buffer_size: per-class ring capacity (the last `buffer_size` elements of each class).

    Returns:
        A dataset of batches: each element of `dataset` stacked along a new leading axis of
        size `batch_size`.
    """
    balancer = StreamBalancer(
        batch_size,
        class_fractions=class_fractions,
        num_classes=num_classes,
        mode=mode,
        seed=seed,
        buffer_size=buffer_size,
    )
    if not isinstance(dataset, tf.data.Dataset):
        raise ValueError(V.not_a_dataset_message(dataset, "a tf.data.Dataset"))
    if not callable(class_fn):
        raise ValueError(V.not_callable_message("class_fn", class_fn))

    def with_class(*element):
        element = element[0] if len(element) == 1 else element
        return tf.convert_to_tensor(class_fn(element)), element

    # Traced only, never iterated: the spec of class_fn's output, checked outside autograph so
    # the message is the plain shared one.
    class_spec = dataset.map(with_class).element_spec[0]
    check_class_fn_dtype(class_spec.dtype.name)
    if class_spec.shape.rank != 0:
        check_class_fn_shape(tuple(class_spec.shape))
    element_spec = dataset.element_spec
    for spec in tf.nest.flatten(element_spec):
        if not spec.shape.is_fully_defined():
            raise ValueError(stream_element_shape_message(tuple(spec.shape.as_list())))
    num_slots = balancer.num_slots
    def classes_of(*chunk):
        # class_fn on a whole chunk at once (vectorised by tf.vectorized_map, which falls
        # back to an in-graph loop for ops it cannot vectorise): no per-element map.
        chunk = chunk[0] if len(chunk) == 1 else chunk
        classes = tf.vectorized_map(lambda e: tf.convert_to_tensor(class_fn(e)), chunk)
        return tf.cast(classes, tf.int64), chunk, False

    chunks = dataset.batch(balancer.chunk_size).map(classes_of)
    # An empty chunk marks the end of the pass: the step that sees it flushes.
    end = tf.data.Dataset.from_tensors(
        (
            tf.zeros([0], tf.int64),
            tf.nest.map_structure(lambda s: tf.zeros((0,) + tuple(s.shape), s.dtype), element_spec),
            True,
        )
    )
    stream = chunks.concatenate(end).prefetch(2)
    epochs = itertools.count()

    def next_epoch():
        # Called by the first step of each iteration of the dataset: the k-th is epoch k.
        return np.int64(next(epochs))

    def numpy_step(epoch, classes, write, seen, fresh, emitted, final):
        return balancer.step(int(epoch), classes, write, seen, fresh, emitted, bool(final))

    def scan_step(state, chunk):
        rings, epoch, write, seen, fresh, emitted = state
        classes, elements, final = chunk
        first = tf.shape(tf.nest.flatten(rings)[0])[0] == 0
        # The first step of an iteration draws its epoch number and allocates the rings, so
        # nothing large is built before iteration starts (the initial rings are empty).
        epoch = tf.cond(
            first, lambda: tf.numpy_function(next_epoch, [], tf.int64, stateful=True), lambda: epoch
        )
        epoch.set_shape([])
        rings = tf.nest.map_structure(
            lambda r, s: tf.cond(first, lambda: tf.zeros((num_slots,) + tuple(s.shape), s.dtype), lambda: r),
            rings,
            element_spec,
        )
        slots, refs, write, seen, fresh, emitted = tf.numpy_function(
            numpy_step, [epoch, classes, write, seen, fresh, emitted, final], [tf.int64] * 6, stateful=False
        )
        k = balancer.num_classes
        slots.set_shape([None])
        refs.set_shape([None, batch_size])
        for t in (write, seen, fresh):
            t.set_shape([k])
        emitted.set_shape([])
        rings = tf.nest.map_structure(lambda r, e: tf.tensor_scatter_nd_update(r, slots[:, None], e), rings, elements)
        batches = tf.nest.map_structure(lambda r: tf.gather(r, refs), rings)
        return (rings, epoch, write, seen, fresh, emitted), batches

    empty = tf.nest.map_structure(lambda s: tf.zeros((0,) + tuple(s.shape), s.dtype), element_spec)
    initial = (empty, tf.constant(-1, tf.int64)) + tuple(tf.constant(a) for a in balancer.initial_state())
    return stream.scan(initial, scan_step).unbatch().prefetch(tf.data.AUTOTUNE)
