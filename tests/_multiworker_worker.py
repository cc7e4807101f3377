"""One worker of a two-process tf.distribute.MultiWorkerMirroredStrategy job on localhost, run by
tests/test_multiworker.py (not collected by pytest: the name starts with an underscore).

Each case builds a balanced dataset the documented way, distributes it with the strategy's
default options, runs a `strategy.run` step on every batch (with one cross-worker all-reduce,
so the two workers must stay in step to finish) and saves what this worker's replica received:
`<case>/rows` (steps, rows) of record ids, `<case>/labels` (steps, rows) of classes and
`<case>/global_rows` (steps,) the global batch size the all-reduce summed. A case is a function
of the strategy in CASES; add one by writing it and naming it on the command line.

Run: TF_CONFIG=... KERAS_BACKEND=tensorflow python tests/_multiworker_worker.py OUT.npz CASE [CASE ...]
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import tensorflow as tf  # noqa: E402

from tf_impl.data import balance_dataset, balanced_batches  # noqa: E402

# The data every case reads: record i has class LABELS[i] (about 10% minority), in this order.
NUM_RECORDS = 2_000
LABELS = (np.random.default_rng(0).random(NUM_RECORDS) < 0.1).astype(np.int64)
PER_REPLICA = 8
STREAM = dict(class_fractions=[0.5, 0.5], seed=3, buffer_size=200)


def records() -> tf.data.Dataset:
    return tf.data.Dataset.from_tensor_slices({"id": np.arange(NUM_RECORDS), "label": LABELS})


def _run(strategy: tf.distribute.Strategy, dist_dataset) -> dict[str, np.ndarray]:
    """Every batch through strategy.run; this worker's replica's rows and the summed batch size."""

    @tf.function
    def step(batch):
        def replica_fn(b):
            rows = tf.shape(b["id"])[0]
            total = tf.distribute.get_replica_context().all_reduce("sum", rows)
            return b["id"], b["label"], total

        return strategy.run(replica_fn, args=(batch,))

    ids: list[np.ndarray] = []
    labels: list[np.ndarray] = []
    totals: list[int] = []
    for batch in dist_dataset:
        rid, lab, total = step(batch)
        (rid,), (lab,), (total,) = (strategy.experimental_local_results(v) for v in (rid, lab, total))
        ids.append(rid.numpy())
        labels.append(lab.numpy())
        totals.append(int(total))
    return {"rows": np.stack(ids), "labels": np.stack(labels), "global_rows": np.array(totals)}


def balance_dataset_distributed(strategy: tf.distribute.Strategy) -> dict[str, np.ndarray]:
    """Global batches (num_replicas=num_replicas_in_sync) through experimental_distribute_dataset."""
    ds = balance_dataset(records(), lambda e: e["label"], PER_REPLICA,
                         num_replicas=strategy.num_replicas_in_sync, **STREAM)
    return _run(strategy, strategy.experimental_distribute_dataset(ds))


def balance_dataset_from_function(strategy: tf.distribute.Strategy) -> dict[str, np.ndarray]:
    """One input pipeline per worker through distribute_datasets_from_function."""
    global_batch = PER_REPLICA * strategy.num_replicas_in_sync

    def dataset_fn(ctx: tf.distribute.InputContext) -> tf.data.Dataset:
        return balance_dataset(records(), lambda e: e["label"], ctx.get_per_replica_batch_size(global_batch),
                               num_replicas=ctx.num_input_pipelines, rank=ctx.input_pipeline_id, **STREAM)

    return _run(strategy, strategy.distribute_datasets_from_function(dataset_fn))


IN_MEMORY = dict(class_fractions=[0.5, 0.5], seed=5, steps_per_epoch=60)


def _features():
    return {"id": np.arange(NUM_RECORDS), "label": LABELS}


def balanced_batches_distributed(strategy: tf.distribute.Strategy) -> dict[str, np.ndarray]:
    """Global batches (num_replicas=strategy) through experimental_distribute_dataset."""
    ds = balanced_batches(_features(), LABELS, PER_REPLICA, num_replicas=strategy, **IN_MEMORY)
    return _run(strategy, strategy.experimental_distribute_dataset(ds.map(lambda x, y: x)))


def balanced_batches_from_function(strategy: tf.distribute.Strategy) -> dict[str, np.ndarray]:
    """Per-replica batches of each input pipeline through distribute_datasets_from_function."""
    global_batch = PER_REPLICA * strategy.num_replicas_in_sync

    def dataset_fn(ctx: tf.distribute.InputContext) -> tf.data.Dataset:
        ds = balanced_batches(_features(), LABELS, ctx.get_per_replica_batch_size(global_batch), num_replicas=ctx,
                              **IN_MEMORY)
        return ds.map(lambda x, y: x)

    return _run(strategy, strategy.distribute_datasets_from_function(dataset_fn))


CASES: dict[str, Callable[[tf.distribute.Strategy], dict[str, np.ndarray]]] = {
    "balance_dataset": balance_dataset_distributed,
    "balance_dataset_from_function": balance_dataset_from_function,
    "balanced_batches": balanced_batches_distributed,
    "balanced_batches_from_function": balanced_batches_from_function,
}


def main(out: str, cases: list[str]) -> None:
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    results = {}
    for name in cases:
        for key, value in CASES[name](strategy).items():
            results[f"{name}/{key}"] = value
    np.savez(out, **results)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
