"""tf_impl.data.balance_dataset: balanced batches from a tf.data stream (the mirror of
torch_impl._stream)."""

from __future__ import annotations

import itertools
from typing import Any, Callable, Optional

import numpy as np
import tensorflow as tf

from imbalance_core import validation as V
from imbalance_core.stream import DEFAULT_BUFFER_SIZE, StreamBalancer, check_class_fn_dtype, check_class_fn_shape
from imbalance_core.validation import stream_element_shape_message

__all__ = ["balance_dataset"]


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
