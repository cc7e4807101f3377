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

from typing import Any, Callable, Optional

import numpy as np
import tensorflow as tf

from imbalance_core.schedule import DEFAULT_REPEAT_THRESHOLD, BalancedSchedule
from imbalance_core.validation import feature_rows_message, to_numpy

from ._stream import balance_dataset

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
