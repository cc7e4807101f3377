"""Balanced input pipelines for tf.data (the mirror of torch_impl.data).

The index batches come from imbalance_core.schedule, so the same arguments, seed and epoch give
the same batches as torch_impl.data.BalancedBatchSampler.

Epochs (balanced_batches): the k-th complete pass over the returned dataset (each `model.fit`
epoch, each pass of `.repeat()`) yields epoch k of the schedule, counting from 0; a partial read
(Keras's torch and jax backends take one batch to build an unbuilt model) does not use an epoch
up, as long as the epoch is longer than tf.data's read-ahead (a few batches); the same holds
for balance_dataset. Each class's pool pointer carries over epochs, so the majority is walked
through without repeats. Both restore mid-epoch through `tf.train.Checkpoint(iterator=...)`.

Replicas: `batch_size` is per replica, as in PyTorch. With `num_replicas=R` (or a
`tf.distribute.Strategy`, which means `R = strategy.num_replicas_in_sync`) each dataset element
is a global batch of R * batch_size rows whose slice r, rows [r * batch_size, (r + 1) *
batch_size), is replica r's batch: tf.distribute splits a global batch into exactly these
contiguous slices, so every replica gets an exactly balanced share (and the same batch as
torch rank r). A `tf.distribute.InputContext` (in `distribute_datasets_from_function`) makes
the pipeline yield only its own replicas' batches.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from imbalance_core.schedule import BLOCK_STEPS, DEFAULT_REPEAT_THRESHOLD, BalancedSchedule
from imbalance_core.validation import check_integer, feature_rows_message, to_numpy

from ._stream import _distribution_options, balance_dataset

__all__ = ["balanced_batches", "balance_dataset"]


def _replica_layout(num_replicas: Any) -> tuple[int, list[int]]:
    """(R, the replicas this pipeline yields) for an int, a `tf.distribute.Strategy` (R =
    num_replicas_in_sync, every replica: global batches) or a `tf.distribute.InputContext`
    (`distribute_datasets_from_function`: this input pipeline's replicas only)."""
    if isinstance(num_replicas, tf.distribute.Strategy):
        r = num_replicas.num_replicas_in_sync
        return r, list(range(r))
    if isinstance(num_replicas, tf.distribute.InputContext):
        r, pipelines = num_replicas.num_replicas_in_sync, num_replicas.num_input_pipelines
        local = r // pipelines
        first = num_replicas.input_pipeline_id * local
        return r, list(range(first, first + local))
    r = check_integer("num_replicas", num_replicas, low=1)
    return r, list(range(r))


def balanced_batches(x: Any, y: Any, batch_size: int, *, class_fractions: Any = None, mode: str = "exact",
                     repeat_threshold: float = DEFAULT_REPEAT_THRESHOLD, seed: int = 0,
                     steps_per_epoch: int | None = None, num_replicas: Any = 1,
                     grouping: Any = None) -> tf.data.Dataset:
    """A `tf.data.Dataset` of balanced `(x_batch, y_batch)` batches, ready for `model.fit`.

    Algorithm: imbalance_core.schedule.BalancedSchedule groups the labels by class once (O(N))
    and computes the index batches lazily, a block of up to 64 steps at a time (a stateless
    `tf.numpy_function` of (epoch, block)); the pipeline gathers the features and labels with
    `tf.gather` (parallel map, prefetched). Features are held once; no per-class copies.

    Resuming: the dataset holds no Python state that a checkpoint would miss: its iterator
    restores mid-epoch through `tf.train.Checkpoint(iterator=iterator)` (the epoch and the
    step are in the iterator's state), in this process or a fresh one.

    Distribution: with `num_replicas=strategy` (or `strategy.num_replicas_in_sync`) each
    element is a global batch; `MultiWorkerMirroredStrategy`'s `experimental_distribute_dataset`
    splits it and each worker keeps its replicas' slices (the dataset carries the auto-shard
    policy that needs, so default options work). In `distribute_datasets_from_function`, pass
    the function's `tf.distribute.InputContext` as `num_replicas` and
    `input_context.get_per_replica_batch_size(global_batch)` as `batch_size`: the pipeline
    then computes and yields only its own replicas' batches, one per replica and step.

    Args:
        x: features: an array/tensor with one row per label, or a nest (dict, tuple) of them.
        y: 1-D integer class indices, one per row of `x` (modes "exact", "sampled"), or (N, C)
            multi-hot rows of 0/1, one column per label (modes "repeat_factor", "class_aware");
            batches carry `y`'s rows as given.
        batch_size: rows per batch and replica.
        class_fractions: target share per class, or per label for "class_aware" (non-negative,
            summing to 1; entry c is class c). None: equal shares over the classes (labels)
            present in `y`. Must be None for "repeat_factor".
        mode: "exact" (every batch holds floor(f_c B) or ceil(f_c B) of class c, the extra
            slots rotating among the classes so that each class's running total stays within
            1 of f_c B R s, shuffled), "sampled" (each slot's class drawn with probability
            f_c), "repeat_factor" (LVIS: sample i appears floor(r_i) times per round, plus once
            with probability r_i - floor(r_i), rounds shuffled and laid end to end; r from
            `compute_repeat_factors`) or "class_aware" (each slot draws a label with
            probability f_c, then the next sample of that label's own reshuffled pool).
        repeat_threshold: t >= 0 of mode="repeat_factor" (detectron2's `repeat_thresh`);
            ignored by the other modes.
        seed: non-negative integer; with the epoch it fixes every batch.
        steps_per_epoch: batches per epoch; default ceil(N / (batch_size * num_replicas)), for
            "repeat_factor" ceil(sum_i r_i / (batch_size * num_replicas)). Every batch is full:
            with "repeat_factor" an epoch is the next steps_per_epoch batches of the endless
            stream of rounds, so a round may straddle two epochs and nothing is dropped.
        num_replicas: replicas sharing each global batch: an int, a tf.distribute.Strategy or
            a tf.distribute.InputContext (see Distribution).
        grouping: the path of an `imbalance_core.schedule.save_grouping` file of `y`
            (memory-mapped) instead of grouping the labels here.

    Returns:
        A dataset of `steps_per_epoch` elements `(x_batch, y_batch)` with
        `num_replicas * batch_size` rows each (with an InputContext: `steps_per_epoch` times
        the pipeline's replicas elements of `batch_size` rows).

    Examples:
        >>> import numpy as np
        >>> y = np.array([0] * 90 + [1] * 10)                    # 10 % class 1
        >>> ds = balanced_batches(np.arange(100), y, 8, seed=0)   # equal shares: 4 + 4 per batch
        >>> xb, yb = next(iter(ds))
        >>> print(np.bincount(yb.numpy()), len(ds))
        [4 4] 13
    """
    total, ranks = _replica_layout(num_replicas)
    schedule = BalancedSchedule(y, batch_size, class_fractions=class_fractions, mode=mode,
                                repeat_threshold=repeat_threshold, seed=seed, steps_per_epoch=steps_per_epoch,
                                num_replicas=total, grouping=grouping)
    n = schedule.num_samples
    x_t = tf.nest.map_structure(tf.convert_to_tensor, x)
    for leaf in tf.nest.flatten(x_t):
        rows = leaf.shape[0] if leaf.shape.rank else None
        if rows != n:
            raise ValueError(feature_rows_message(tuple(leaf.shape), n))
    y_t = tf.convert_to_tensor(to_numpy(y))
    steps, b = schedule.steps_per_epoch, schedule.batch_size
    per_pipeline = isinstance(num_replicas, tf.distribute.InputContext)
    width = b if per_pipeline else b * len(ranks)
    blocks = -(-steps // BLOCK_STEPS)
    next_epoch = [0]

    def claim(block):
        # The first block of a pass takes the epoch of the next pass.
        return np.int64(next_epoch[0])

    def finish(epoch):
        # Read when the pass's last batch is: the k-th complete pass is epoch k, and a partial
        # read (Keras's torch and jax backends take one batch to build a model) uses none up,
        # as long as the epoch is longer than tf.data's read-ahead (a few batches).
        next_epoch[0] = int(epoch) + 1
        return np.int64(0)

    def block_indices(epoch, block):
        return schedule.batch_block(int(epoch), int(block), ranks).reshape(-1, width)

    def scan_block(epoch, block):
        # The epoch rides in the scan state, so a checkpoint of the iterator carries it.
        epoch = tf.cond(
            tf.equal(block, 0), lambda: tf.numpy_function(claim, [block], tf.int64, stateful=False), lambda: epoch
        )
        epoch = tf.reshape(epoch, [])
        ids = tf.reshape(tf.numpy_function(block_indices, [epoch, block], tf.int64, stateful=False), [-1, width])
        return epoch, (epoch, block, ids)

    per_step = len(ranks) if per_pipeline else 1  # elements per step
    elements = steps * per_step
    last_row = elements - 1

    def rows_of(epoch, block, ids):
        count = tf.shape(ids, out_type=tf.int64)[0]
        first = block * (BLOCK_STEPS * per_step)
        steps = tf.range(count, dtype=tf.int64) + first
        return tf.data.Dataset.from_tensor_slices((tf.fill([count], epoch), steps, ids))

    def gather(epoch, row, idx):
        done = tf.cond(
            tf.equal(row, last_row),
            lambda: tf.numpy_function(finish, [epoch], tf.int64, stateful=False),
            lambda: tf.constant(0, tf.int64),
        )
        idx = idx + tf.reshape(done, [])  # `done` is 0: the dependency keeps the call in the graph
        return tf.nest.map_structure(lambda t: tf.gather(t, idx), x_t), tf.gather(y_t, idx)

    indices = tf.data.Dataset.range(blocks).scan(tf.constant(-1, tf.int64), scan_block)
    indices = indices.flat_map(rows_of).apply(tf.data.experimental.assert_cardinality(elements))
    result = indices.map(gather, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).prefetch(tf.data.AUTOTUNE)
    return _distribution_options(result, already_sharded=per_pipeline)
