"""tf_impl.data.balance_dataset: balanced batches from a tf.data stream (the mirror of
torch_impl._stream)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import tensorflow as tf

from imbalance_core import validation
from imbalance_core.schedule import check_rank
from imbalance_core.stream import DEFAULT_BUFFER_SIZE, StreamBalancer, check_class_fn_dtype, check_class_fn_shape
from imbalance_core.validation import check_bool, check_integer, stream_element_shape_message

__all__ = ["balance_dataset"]


def _distribution_options(dataset: tf.data.Dataset, *, already_sharded: bool = False) -> tf.data.Dataset:
    """`dataset` with the tf.distribute auto-shard policy its elements need.

    A dataset of global batches (each element the concatenation of every replica's batch, in
    replica order) gets `AutoShardPolicy.DATA`: under `MultiWorkerMirroredStrategy`,
    `experimental_distribute_dataset` splits each global batch into per-replica slices and each
    worker keeps its own replicas' slices (the default policy, AUTO, would look for files and
    fail with "Could not apply FILE based sharding" on a dataset that reads none). A dataset
    that already yields one process's own batches (`already_sharded`) gets
    `AutoShardPolicy.OFF`: nothing may be dropped from it. `distribute_datasets_from_function`
    never auto-shards, so the policy does not matter there.
    """
    options = tf.data.Options()
    policy = tf.data.experimental.AutoShardPolicy
    options.experimental_distribute.auto_shard_policy = policy.OFF if already_sharded else policy.DATA
    return dataset.with_options(options)


def balance_dataset(dataset: tf.data.Dataset, class_fn: Callable[[Any], Any], batch_size: int, *,
                    class_fractions: Any = None, num_classes: int | None = None, mode: str = "exact", seed: int = 0,
                    buffer_size: int = DEFAULT_BUFFER_SIZE, num_replicas: int = 1, rank: int | None = None,
                    sharded_source: bool = False) -> tf.data.Dataset:
    """Balanced batches from a dataset that cannot be indexed (e.g. TFRecords on disk).

    Algorithm: imbalance_core.stream.StreamBalancer, one pass over `dataset` per epoch; each
    class keeps a ring of its last `buffer_size` elements. The class that is most abundant
    relative to its share drives the output; rarer classes contribute their fresh elements
    first and are topped up by replays drawn from their ring; every batch has the requested
    composition.

    Guarantee per epoch, over all replicas and input pipelines together (see
    imbalance_core.stream for the exact statement): every batch has the requested
    composition; every element is emitted fresh at most once, and an element is replayed only
    in a batch for which its class had fewer fresh elements than its share, so each element of
    the driving class (the class with a full share of fresh elements at every batch: in a
    shuffled source, the one clearly most abundant relative to its share) is emitted exactly
    once, except the final partial batch (dropped), elements overwritten before every
    requested class has appeared, and the padding batches below.

    Replicas (`sharded_source=False`, the default): the batches of an epoch form one global
    sequence, the same for any `num_replicas` and the same as torch_impl's; batch j belongs to
    replica `j % num_replicas`, and the last round is completed with padding batches of
    replays (fewer than `num_replicas`), so every replica gets `ceil(G / num_replicas)`
    batches, G the batches of the epoch.

    - `rank=None`: each element is a global batch of `num_replicas * batch_size` elements
      whose slice r, rows [r * batch_size, (r + 1) * batch_size), is replica r's batch (the
      batch torch rank r gets). Give `num_replicas=strategy.num_replicas_in_sync` and pass the
      result to `strategy.experimental_distribute_dataset`: the dataset carries the DATA
      auto-shard policy, so under `MultiWorkerMirroredStrategy` (default options) each worker
      keeps its own replicas' slices. Cost: every worker reads the whole source and builds
      every global batch, and keeps its share.
    - `rank=r`: only replica r's batches, of `batch_size` elements (auto-shard policy OFF).
      Under `strategy.distribute_datasets_from_function(fn)`, build it in `fn(ctx)` with
      `batch_size=ctx.get_per_replica_batch_size(global_batch_size)`,
      `num_replicas=ctx.num_input_pipelines`, `rank=ctx.input_pipeline_id`: each input
      pipeline builds only its own batches (its replicas take them in turn). Cost: every
      pipeline still reads the whole source, runs `class_fn` on it and holds the rings; only
      the gathers of batches are divided.

    `sharded_source=True`: `dataset` already yields this process's own part of the stream
    (its own files). It is balanced on its own, with its own random draws (stream `rank`,
    0 when None), into batches of `batch_size` with auto-shard policy OFF: every batch has the
    requested composition and each driving element of the part is emitted once, but parts of
    different lengths give different numbers of batches, so the replicas must agree on when to
    stop (e.g. `take` a step count they all reach).

    Runs inside the tf.data graph with no Python per element: the stream is read in chunks of
    `buffer_size // 2` elements (`batch`, then `class_fn` on the whole chunk through
    `tf.vectorized_map`); a `scan` holds the rings as tensors of K * buffer_size elements per
    leaf, writes each chunk into them with one scatter and gathers the chunk's batches with one
    gather. Only the slot bookkeeping, a few small integer arrays per chunk, runs in NumPy
    (`tf.numpy_function`, once per chunk, stateless: a pure function of its inputs), the same
    function that torch_impl.data.balance_dataset calls, so both emit the same batches for the
    same elements in the same order. Memory: the rings, K * buffer_size elements, allocated
    when iteration starts, plus one chunk.

    Epochs: the epoch advances when a pass completes: the k-th complete pass over the result is
    epoch k (a partial read does not use an epoch up), counted in the Python process.

    Resume: an iterator over the result is saved and restored by
    `tf.train.Checkpoint(iterator=iterator)` mid-epoch, if `dataset`'s own iterator can be (a
    `from_tensor_slices` or `TFRecordDataset` source can; a `from_generator` one cannot). The
    checkpoint holds the rings (K * buffer_size elements) and the bookkeeping, including the
    epoch and the arguments, so a fresh iterator over the same dataset (rebuilt with the same
    arguments, in this or another process) restored from it yields the rest of the epoch, and
    the next pass is the following epoch. Restored into a dataset built with other arguments,
    the next read raises the InvalidArgumentError carrying torch_impl's message for a
    state_dict from another configuration (when the ring shapes differ, TensorFlow may refuse
    the restore itself first).

    Errors that only the stream reveals (a class index out of range, a requested class that
    never appears) surface inside tf.data as a `tf.errors.InvalidArgumentError` carrying the
    message that torch_impl raises as ValueError.

    Args:
        dataset: a `tf.data.Dataset` of unbatched elements (any nest of tensors with fully
            known shapes), ideally pre-shuffled: the balancer keeps each class's arrival order.
        class_fn: maps an element (as the dataset yields it; tuples as one argument) to a scalar
            integer class index, with TensorFlow ops.
        batch_size: elements per replica's batch.
        class_fractions: target share per class; None: equal over `num_classes`.
        num_classes: number of classes when class_fractions is None.
        mode: "exact" or "sampled".
        seed: non-negative integer.
        buffer_size: per-class ring capacity (the last `buffer_size` elements of each class).
        num_replicas: the replicas (or input pipelines) sharing the epoch (an integer >= 1).
        rank: None for global batches of every replica, else the replica whose batches to
            yield, in [0, num_replicas).
        sharded_source: True when `dataset` already yields this process's own part.

    Returns:
        A dataset of batches: each element of `dataset` stacked along a new leading axis of
        size `batch_size` (`num_replicas * batch_size` for global batches).

    Example:
        >>> items = tf.data.Dataset.from_tensor_slices({"x": tf.range(40), "y": tf.range(40) % 4 == 0})
        >>> ds = balance_dataset(items, lambda e: tf.cast(e["y"], tf.int32), 4, num_classes=2, num_replicas=2)
        >>> [int(tf.reduce_sum(tf.cast(b["y"], tf.int32))) for b in ds.take(2)]
        [4, 4]
    """
    sharded_source = check_bool("sharded_source", sharded_source)
    balancer = StreamBalancer(batch_size, class_fractions=class_fractions, num_classes=num_classes, mode=mode,
                              seed=seed, buffer_size=buffer_size, num_replicas=1 if sharded_source else num_replicas)
    replicas = check_integer("num_replicas", num_replicas, low=1)
    rank = None if rank is None else check_rank(rank, replicas)
    if not isinstance(dataset, tf.data.Dataset):
        raise ValueError(validation.not_a_dataset_message(dataset, "a tf.data.Dataset"))
    if not callable(class_fn):
        raise ValueError(validation.not_callable_message("class_fn", class_fn))

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
    # global: every replica's batch of a round, concatenated; else this process's batches.
    global_batches = rank is None and not sharded_source and replicas > 1
    stream_id = (rank or 0) if sharded_source else 0

    def classes_of(*chunk):
        # class_fn on a whole chunk at once (vectorised by tf.vectorized_map, which falls
        # back to an in-graph loop for ops it cannot vectorise): no per-element map.
        chunk = chunk[0] if len(chunk) == 1 else chunk
        classes = tf.vectorized_map(lambda e: tf.convert_to_tensor(class_fn(e)), chunk)
        return tf.cast(classes, tf.int64), chunk, False

    chunks = dataset.batch(balancer.chunk_size).map(classes_of)
    # An empty chunk marks the end of the pass: the step that sees it drops the partial batch
    # and pads the last round.
    end = tf.data.Dataset.from_tensors(
        (
            tf.zeros([0], tf.int64),
            tf.nest.map_structure(lambda s: tf.zeros((0,) + tuple(s.shape), s.dtype), element_spec),
            True,
        )
    )
    stream = chunks.concatenate(end).prefetch(2)
    # The epoch counter lives in this Python process, outside the iterator's checkpointed
    # state (the scan state carries the epoch of the pass under way). Both functions below are
    # declared stateless so that tf.data can serialise the iterator; each one's result feeds
    # the scan state, so neither is pruned, and each runs once per pass.
    next_epoch = [0]

    def start_epoch(_):
        return np.int64(next_epoch[0])

    def finish_epoch(epoch):
        next_epoch[0] = max(next_epoch[0], int(epoch) + 1)
        return np.int64(epoch)

    def numpy_step(epoch, classes, write, seen, fresh, emitted, final):
        start = int(emitted)
        slots, refs, write, seen, fresh, emitted = balancer.step(
            int(epoch), classes, write, seen, fresh, emitted, bool(final), stream_id
        )
        if rank is not None and not sharded_source:
            refs = refs[(start + np.arange(refs.shape[0])) % replicas == rank]
        return slots, refs, write, seen, fresh, emitted

    # The arguments travel in the scan state, so a checkpoint restored into a dataset built
    # with other arguments is refused with the message torch_impl's load_state_dict gives.
    config = json.dumps({
        "batch_size": balancer.batch_size,
        "class_fractions": [float(f) for f in balancer.fractions],
        "mode": balancer.mode,
        "seed": balancer.seed,
        "buffer_size": balancer.buffer_size,
        "num_replicas": replicas,
        "rank": rank,
        "sharded_source": sharded_source,
    })

    def check_config(saved):
        validation.check_stream_state_config(json.loads(saved), json.loads(config))
        return np.bool_(True)

    def scan_step(state, chunk):
        rings, epoch, write, seen, fresh, emitted, pending, saved_config = state
        classes, elements, final = chunk
        same = tf.cond(
            tf.equal(saved_config, config),
            lambda: tf.constant(True),
            lambda: tf.numpy_function(check_config, [saved_config], tf.bool, stateful=False),
        )
        with tf.control_dependencies([same]):
            classes = tf.identity(classes)
        first = tf.shape(tf.nest.flatten(rings)[0])[0] == 0
        # The first step of a pass reads its epoch number and allocates the rings, so nothing
        # large is built before iteration starts (the initial rings are empty).
        epoch = tf.cond(
            first, lambda: tf.numpy_function(start_epoch, [epoch], tf.int64, stateful=False), lambda: epoch
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
        epoch = tf.cond(
            final, lambda: tf.numpy_function(finish_epoch, [epoch], tf.int64, stateful=False), lambda: epoch
        )
        epoch.set_shape([])
        rings = tf.nest.map_structure(lambda r, e: tf.tensor_scatter_nd_update(r, slots[:, None], e), rings, elements)
        batches = tf.nest.map_structure(lambda r: tf.gather(r, refs), rings)
        if global_batches:
            # Whole rounds of `replicas` batches leave as global batches; a partial round waits
            # (materialised: the next chunk may overwrite its ring slots). The final step's
            # padding completes the last round.
            batches = tf.nest.map_structure(lambda p, b: tf.concat([p, b], 0), pending, batches)
            ready = tf.shape(tf.nest.flatten(batches)[0])[0] // replicas * replicas
            pending = tf.nest.map_structure(lambda b: b[ready:], batches)
            batches = tf.nest.map_structure(
                lambda b, s: tf.reshape(b[:ready], (-1, replicas * batch_size) + tuple(s.shape)), batches, element_spec
            )
        return (rings, epoch, write, seen, fresh, emitted, pending, saved_config), batches

    empty = tf.nest.map_structure(lambda s: tf.zeros((0,) + tuple(s.shape), s.dtype), element_spec)
    no_batches = tf.nest.map_structure(lambda s: tf.zeros((0, batch_size) + tuple(s.shape), s.dtype), element_spec)
    initial = (
        (empty, tf.constant(-1, tf.int64))
        + tuple(tf.constant(a) for a in balancer.initial_state())
        + (no_batches, tf.constant(config))
    )
    result = stream.scan(initial, scan_step).unbatch().prefetch(tf.data.AUTOTUNE)
    return _distribution_options(result, already_sharded=rank is not None or sharded_source)
