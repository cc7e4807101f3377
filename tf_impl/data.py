"""Balanced input pipelines for tf.data (the mirror of torch_impl.data).

The index batches come from imbalance_core.schedule, so the same arguments, seed and epoch give
the same batches as torch_impl.data.BalancedBatchSampler.

Epochs: the k-th time the returned dataset is iterated (each `model.fit` epoch, each pass of
`.repeat()`) it yields epoch k of the schedule, counting from 0. Each class's pool pointer
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

from imbalance_core.schedule import (
    DEFAULT_BUFFER_SIZE,
    DEFAULT_REPEAT_THRESHOLD,
    BalancedSchedule,
    StreamBalancer,
    check_class_fn_dtype,
    check_class_fn_shape,
)
from imbalance_core.validation import describe, feature_rows_message, to_numpy

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
    epochs = itertools.count()

    def epoch_indices():
        # Called once per iteration of the dataset: the k-th iteration is epoch k.
        yield schedule.epoch_batches(next(epochs))

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

    Algorithm: imbalance_core.schedule.StreamBalancer, one pass over `dataset` per epoch with
    per-class buffers: abundant classes are streamed through once, rare classes are replayed
    from their last `buffer_size` elements; every batch has the requested composition.
    `class_fn` runs inside the tf.data graph (`dataset.map`); the balancing itself runs in
    Python on NumPy elements (a generator), so its per-element cost is Python's. Memory: at most
    2 * buffer_size elements per class. The k-th iteration of the result is epoch k.

    Errors that only the stream reveals (a class index out of range, a requested class that
    never appears) surface inside tf.data as a `tf.errors` exception carrying the message that
    torch_impl raises as ValueError.

    Args:
        dataset: a `tf.data.Dataset` of unbatched elements (any nest), ideally pre-shuffled.
        class_fn: maps an element (as the dataset yields it; tuples as one argument) to a scalar
            integer class index, with TensorFlow ops.
        batch_size: elements per emitted batch.
        class_fractions: target share per class; None: equal over `num_classes`.
        num_classes: number of classes when class_fractions is None.
        mode: "exact" or "sampled".
        seed: non-negative integer.
        buffer_size: per-class capacity of the fresh buffer and of the replay ring.

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
        raise ValueError(f"Invalid `dataset`: received {type(dataset).__name__}; expected a tf.data.Dataset.")
    if not callable(class_fn):
        raise ValueError(f"Invalid `class_fn`: received {describe(class_fn)}; expected a callable.")

    def with_class(*element):
        element = element[0] if len(element) == 1 else element
        return tf.convert_to_tensor(class_fn(element)), element

    labeled = dataset.map(with_class, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
    # Checked on the traced spec, outside autograph, so the message is the plain shared one.
    class_spec = labeled.element_spec[0]
    check_class_fn_dtype(class_spec.dtype.name)
    if class_spec.shape.rank != 0:
        check_class_fn_shape(tuple(class_spec.shape))
    element_spec = dataset.element_spec
    epochs = itertools.count()

    def stacked():
        for batch in balancer.batches(labeled.as_numpy_iterator(), next(epochs)):
            yield tf.nest.map_structure(lambda *rows: np.stack(rows), *batch)

    spec = tf.nest.map_structure(
        lambda s: tf.TensorSpec((batch_size,) + tuple(s.shape), s.dtype), element_spec
    )
    return tf.data.Dataset.from_generator(stacked, output_signature=spec)
