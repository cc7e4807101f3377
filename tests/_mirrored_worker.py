"""The MirroredStrategy conformance run (tests/test_distributed.py), in a fresh process: two
logical CPU devices can only be configured before TensorFlow initialises.

For every loss row of tests/conformance.py: the same tiny Dense model, the same initial
weights and the same global batches (no shuffle), a few SGD steps of `model.fit` under
MirroredStrategy over the two devices and under the default (one-device) strategy. For every
metric row: the metric over the same `fit`. To keep the run to a few seconds, the rows share
one model, one Dense head per row, and one `fit` per strategy (two with the rows that carry
sample weights). Writes one .npz:
"<row id>/<mirrored|single>/<kernel|bias|value|error>".

Run: KERAS_BACKEND=tensorflow python tests/_mirrored_worker.py OUT.npz
"""

from __future__ import annotations

import os
import sys
import traceback

import numpy as np

os.environ["KERAS_BACKEND"] = "tensorflow"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import tensorflow as tf  # noqa: E402

_cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(_cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402

from tests import conformance  # noqa: E402
from tests._ddp_worker import GLOBAL_BATCH, LR, SEED, STEPS, initial_weights  # noqa: E402


def _stock_loss(row):
    if row.family == "binary":
        return keras.losses.BinaryCrossentropy(from_logits=True)
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def run(rows, strategy):
    """One model with a Dense head per row (heads share only the input, so each head trains
    exactly as it would alone) and one `fit`: loss rows train their head with the row's loss,
    metric rows with Keras's own loss and report the metric over the epoch.
    Returns {row id: {"kernel", "bias"} or {"value"}}."""
    data = [row.inputs(GLOBAL_BATCH * STEPS, seed=SEED) for row in rows]
    features = data[0].features
    assert all(np.array_equal(d.features, features) for d in data)
    names = [f"head{j}" for j in range(len(rows))]
    with strategy.scope():
        x = keras.Input((conformance.NUM_FEATURES,))
        model = keras.Model(x, {n: keras.layers.Dense(r.num_outputs, name=n)(x) for n, r in zip(names, rows)})
        for n, row in zip(names, rows):
            kernel, bias = initial_weights(row)
            model.get_layer(n).set_weights([kernel.T, bias])  # Keras kernels are (in, out), torch's (out, in)
        objs = {n: conformance.build("keras", r) for n, r in zip(names, rows)}
        losses = {n: objs[n] if r.kind == "loss" else _stock_loss(r) for n, r in zip(names, rows)}
        metrics = {n: [objs[n]] for n, r in zip(names, rows) if r.kind == "metric"}
        model.compile(optimizer=keras.optimizers.SGD(LR), loss=losses, metrics=metrics or None)
    # binary metrics: labels shaped like the (B, 1) output, so that only the distribution is tested here
    targets = {n: d.target[:, None] if r.family == "binary" else d.target for n, r, d in zip(names, rows, data)}
    sample_weight = None  # all rows of a group carry sample weights or none does (see groups())
    if data[0].sample_weight is not None:
        sample_weight = {n: d.sample_weight for n, d in zip(names, data)}
    history = model.fit(features, targets, sample_weight=sample_weight, batch_size=GLOBAL_BATCH, epochs=1,
                        shuffle=False, verbose=0).history
    out = {}
    for n, row in zip(names, rows):
        if row.kind == "metric":
            key = f"{n}_{objs[n].name}" if len(rows) > 1 else objs[n].name
            out[row.id] = {"value": np.asarray(history[key][-1])}
        else:
            k, b = model.get_layer(n).get_weights()
            out[row.id] = {"kernel": k.T, "bias": b}
    return out


def groups():
    """The rows without sample weights (metrics included), then those with: under
    MirroredStrategy a head cannot go without sample weights while others have them."""
    rows = conformance.DISTRIBUTED_LOSSES + conformance.METRICS
    return [g for g in ([r for r in rows if not r.sample_weight], [r for r in rows if r.sample_weight]) if g]


def main():
    path = sys.argv[1]
    devices = [d.name for d in tf.config.list_logical_devices("CPU")]
    assert len(devices) == 2, devices
    strategies = {"mirrored": tf.distribute.MirroredStrategy(devices), "single": tf.distribute.get_strategy()}
    assert strategies["mirrored"].num_replicas_in_sync == 2
    out = {}
    for rows in groups():
        for name, strategy in strategies.items():
            try:
                results = run(rows, strategy)
            except Exception:  # noqa: BLE001 - a row failed: run each alone to say which
                results = {}
                for row in rows:
                    try:
                        results.update(run([row], strategy))
                    except Exception:  # noqa: BLE001 - reported per row by the parent
                        results[row.id] = {"error": np.asarray(traceback.format_exc())}
            for row_id, values in results.items():
                for key, value in values.items():
                    out[f"{row_id}/{name}/{key}"] = value
    np.savez(path, **out)


if __name__ == "__main__":
    main()
