"""Keras: model.compile / model.fit with a classbalance loss, metrics and balanced batches,
then save to .keras and reload without custom_objects.

The data: 8 features, a rare positive class (3 %) concentrated near the origin of the first two
features (a round boundary, so a small MLP rather than a linear model). The pipeline is
tf_impl.data.balanced_batches (50/50 batches, drawn without replacement per class), the loss
tf_impl.losses.BinaryFocalLoss(alpha=None) (the sampler already balances the classes, so no
alpha; gamma=2 focuses on the hard examples), and the metrics tf_impl.metrics.BalancedAccuracy,
TruePositiveRate, TrueNegativeRate and WeightedBalancedAccuracy in `model.compile`.

The model is then saved (`model.save("....keras")`) and reloaded with
`keras.saving.load_model(path)`: the classbalance loss and metrics are registered Keras
serializables, so no custom_objects are needed, and the reloaded model evaluates to the same
numbers (asserted). torch_train.py is the PyTorch twin.

    python examples/keras_fit.py                 # defaults: about 15 s on 2 cores
    python examples/keras_fit.py --n-train 4000 --epochs 2 --out-dir /tmp/x
"""

from __future__ import annotations

import json
import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # the examples' shared data module
from twin_data import make_split  # noqa: E402
from twin_data import parse_args as _parse_args  # noqa: E402


def main(argv=None) -> dict:
    args = _parse_args(argv, __doc__.split("\n\n")[0])
    import keras
    import tensorflow as tf

    from tf_impl import losses, metrics
    from tf_impl.data import balanced_batches

    os.makedirs(args.out_dir, exist_ok=True)
    keras.utils.set_random_seed(args.seed)
    x, y = make_split(args.n_train, args.pos_fraction, args.seed)
    x_test, y_test = make_split(args.n_test, args.pos_fraction, args.seed + 1)
    print(f"train: {len(y)} samples, {int(y.sum())} positive; test: {len(y_test)}, {int(y_test.sum())} positive")

    # balanced_batches takes integer class indices; the sigmoid loss wants float (B, 1) targets.
    train = balanced_batches(x, y, args.batch_size, class_fractions=None, seed=args.seed)
    train = train.map(lambda xb, yb: (xb, tf.cast(yb, tf.float32)[:, None]))
    y_test_f = y_test[:, None].astype(np.float32)

    model = keras.Sequential([
        keras.Input((x.shape[1],)),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(1),  # a logit: every loss and metric below says from_logits
    ])
    model.compile(
        optimizer=keras.optimizers.Adam(args.lr),
        loss=losses.BinaryFocalLoss(alpha=None, gamma=2.0),
        metrics=[
            metrics.BalancedAccuracy(from_logits=True),
            metrics.TruePositiveRate(from_logits=True),
            metrics.TrueNegativeRate(from_logits=True),
            metrics.WeightedBalancedAccuracy(alpha=0.7, from_logits=True),
        ],
    )
    started = time.perf_counter()
    model.fit(train, epochs=args.epochs, validation_data=(x_test, y_test_f), shuffle=False, verbose=2)
    fit_s = time.perf_counter() - started

    before = model.evaluate(x_test, y_test_f, batch_size=1024, return_dict=True, verbose=0)
    path = os.path.join(args.out_dir, "keras_fit.keras")
    model.save(path)
    reloaded = keras.saving.load_model(path)  # no custom_objects: the classes are registered
    after = reloaded.evaluate(x_test, y_test_f, batch_size=1024, return_dict=True, verbose=0)

    assert type(reloaded.loss) is losses.BinaryFocalLoss, type(reloaded.loss)
    assert reloaded.loss.get_config() == model.loss.get_config()
    assert set(after) == set(before), (sorted(before), sorted(after))
    gap = max(abs(float(after[k]) - float(before[k])) for k in before)
    # Same weights, same graph, same data order: the same numbers, up to float32 summation order.
    assert gap <= 1e-6, (before, after)
    pred_gap = float(np.max(np.abs(model.predict(x_test, verbose=0) - reloaded.predict(x_test, verbose=0))))
    assert pred_gap == 0.0, pred_gap

    lines = ["| metric | trained model | reloaded from .keras |", "|---|---|---|"]
    lines += [f"| {k} | {float(before[k]):.6f} | {float(after[k]):.6f} |" for k in sorted(before)]
    table = "\n".join(lines)
    print(f"\nTest split after {args.epochs} epochs ({fit_s:.1f} s of fit), saved to {path}:\n\n{table}\n")
    print(f"largest |difference| after reload: metrics {gap:.1e}, logits {pred_gap:.1e}")
    summary = {"args": vars(args), "path": path, "before": {k: float(v) for k, v in before.items()},
               "after": {k: float(v) for k, v in after.items()}, "max_gap": gap, "prediction_gap": pred_gap}
    with open(os.path.join(args.out_dir, "keras_fit.json"), "w") as f:
        json.dump(summary, f, indent=1)
    return summary


if __name__ == "__main__":
    main(sys.argv[1:])
