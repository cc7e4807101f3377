"""Long-tailed multi-class classification (imbalance ratio 100), in Keras and PyTorch.

A deterministic synthetic task: K Gaussian classes in 32 dimensions (unit-variance noise around
class means drawn once from a seed). The training split is long-tailed with the exponential
profile of CIFAR-LT (Cao et al. 2019), n_c = n_max * ratio^(-c / (K - 1)): class 0 has n_max
samples, class K - 1 has n_max / ratio (500 down to 5 with the defaults). The test split is
balanced. A small MLP (32 -> 64 -> ReLU -> K logits; the same initial weights from NumPy in
both frameworks, SGD with momentum 0.9, the same shuffled batches) is trained with

  ce                plain softmax cross-entropy (the frameworks' own)
  class_balanced    ClassBalancedLoss(samples_per_class=n, beta=0.9999) (Cui et al. 2019):
                    cross-entropy weighted by effective-number weights from the start
  ldam_drw          LDAMLoss(samples_per_class=n) (max_margin 0.5, scale 30; Cao et al. 2019)
                    on a cosine head (unit-norm features times unit-norm class weights, as
                    LDAM-DRW's NormedLinear), with DeferredReweighting switching its class
                    weights from uniform to effective-number weights (beta 0.9999) at
                    --drw-epoch, as LDAM-DRW's train.py (epoch 160 of 200)
  balanced_softmax  BalancedSoftmaxCrossentropy(samples_per_class=n) (Ren et al. 2020):
                    cross-entropy of x + log n_c during training, plain argmax at test
  seesaw            SeesawLoss(num_classes=K) (p 0.8, q 2; Wang et al. 2021), its cumulative
                    class counts accumulated over training

and evaluated on the balanced test split: overall accuracy (= balanced accuracy, the split being
balanced) and the accuracy on the frequent, medium and rare thirds of the classes (by training
count). Keras trains with model.fit (one call per epoch, with `initial_epoch`, so the callback
sees the epoch number and both frameworks read the same batches), PyTorch with a plain loop.

    python examples/longtail_multiclass.py          # defaults: about 35 s on a shared 2-core machine
    python examples/longtail_multiclass.py --n-max 100 --epochs 4 --drw-epoch 3 --out-dir /tmp/x
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # the examples' shared module
from twin_data import twin_table  # noqa: E402

LOSSES = ("ce", "class_balanced", "ldam_drw", "balanced_softmax", "seesaw")
FRAMEWORKS = ("keras", "torch")
THIRDS = ("frequent", "medium", "rare")
DEFAULT_OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "out")
DRW_BETA = 0.9999  # LDAM-DRW's train.py


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--num-classes", type=int, default=12)
    p.add_argument("--n-max", type=int, default=500, help="training samples of the most frequent class")
    p.add_argument("--imbalance-ratio", type=float, default=100.0, help="n_max / n_min")
    p.add_argument("--n-test-per-class", type=int, default=300)
    p.add_argument("--num-features", type=int, default=32)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--separation", type=float, default=1.5, help="scale of the class means (noise: 1)")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--drw-epoch", type=int, default=24, help="first epoch (0-based) with the deferred weights")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.05, help="SGD learning rate (momentum 0.9)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out-dir", default=DEFAULT_OUT)
    return p.parse_args(argv)


# --------------------------------------------------------------------------------------------
# Data (NumPy)
# --------------------------------------------------------------------------------------------


def class_sizes(num_classes: int, n_max: int, ratio: float) -> np.ndarray:
    """n_c = n_max * ratio^(-c / (K - 1)), rounded down, at least 1 (CIFAR-LT's profile)."""
    c = np.arange(num_classes)
    return np.maximum(1, np.floor(n_max * ratio ** (-c / (num_classes - 1)))).astype(np.int64)


def make_data(args):
    """(x_train, y_train), (x_test, y_test), counts: float32 features, int64 class indices.

    x = mu_y + N(0, I), mu_c ~ N(0, separation^2 I / sqrt(d)) drawn once; training split with
    `class_sizes`, test split balanced. Both splits are shuffled.
    """
    rng = np.random.default_rng(args.seed)
    k, d = args.num_classes, args.num_features
    means = rng.normal(scale=args.separation / d ** 0.25, size=(k, d))
    counts = class_sizes(k, args.n_max, args.imbalance_ratio)

    def split(sizes):
        y = np.repeat(np.arange(k), sizes)
        y = y[rng.permutation(len(y))]
        return (means[y] + rng.normal(size=(len(y), d))).astype(np.float32), y.astype(np.int64)

    return split(counts), split(np.full(k, args.n_test_per_class)), counts


def initial_weights(args):
    """Glorot-uniform kernels in Keras's (in, out) layout and zero biases, drawn once for both."""
    rng = np.random.default_rng(args.seed + 1000)

    def glorot(fan_in, fan_out):
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, size=(fan_in, fan_out)).astype(np.float32)

    return {"hidden": glorot(args.num_features, args.hidden), "hidden_bias": np.zeros(args.hidden, np.float32),
            "head": glorot(args.hidden, args.num_classes), "head_bias": np.zeros(args.num_classes, np.float32)}


def epoch_orders(n: int, epochs: int, seed: int):
    """One permutation per epoch, shared by both frameworks."""
    rng = np.random.default_rng(seed + 2000)
    return [rng.permutation(n) for _ in range(epochs)]


def drw_weights(counts) -> np.ndarray:
    """LDAM-DRW's deferred weights: effective-number weights, beta 0.9999, summing to K."""
    from imbalance_core.class_weights import compute_class_weight

    return compute_class_weight(counts=counts, method="effective_number", beta=DRW_BETA)


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------


def keras_train(loss_name, data, args) -> np.ndarray:
    """Trains the Keras MLP with model.fit and returns its test logits (NumPy)."""
    import keras
    from keras import ops

    from tf_impl import losses

    (x, y), (x_test, _), counts = data
    keras.utils.set_random_seed(args.seed)
    w = initial_weights(args)

    class NormedDense(keras.layers.Layer):
        """Cosine logits: unit-norm inputs times unit-norm kernel columns (LDAM-DRW's NormedLinear)."""

        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer="glorot_uniform")

        def call(self, inputs):
            # as torch.nn.functional.normalize: divide by max(norm, 1e-12)
            def unit(t, axis):
                return t / ops.maximum(ops.sqrt(ops.sum(ops.square(t), axis=axis, keepdims=True)), 1e-12)

            return ops.matmul(unit(inputs, -1), unit(self.kernel, 0))

    ldam = loss_name == "ldam_drw"
    hidden = keras.layers.Dense(args.hidden, activation="relu")
    head = NormedDense(args.num_classes) if ldam else keras.layers.Dense(args.num_classes)
    model = keras.Sequential([keras.Input((args.num_features,)), hidden, head])
    hidden.set_weights([w["hidden"], w["hidden_bias"]])
    head.set_weights([w["head"]] if ldam else [w["head"], w["head_bias"]])
    loss = {
        "ce": lambda: keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        "class_balanced": lambda: losses.ClassBalancedLoss(samples_per_class=counts, beta=DRW_BETA),
        "ldam_drw": lambda: losses.LDAMLoss(samples_per_class=counts),
        "balanced_softmax": lambda: losses.BalancedSoftmaxCrossentropy(samples_per_class=counts),
        "seesaw": lambda: losses.SeesawLoss(args.num_classes),
    }[loss_name]()
    drw = losses.DeferredReweighting(loss, epoch=args.drw_epoch, class_weight=drw_weights(counts)) if ldam else None
    callbacks = [drw] if ldam else []
    model.compile(optimizer=keras.optimizers.SGD(args.lr, momentum=0.9), loss=loss)
    for epoch, order in enumerate(epoch_orders(len(x), args.epochs, args.seed)):
        # initial_epoch: the callback sees the true epoch number (its switch is a function of it)
        model.fit(x[order], y[order], batch_size=args.batch_size, initial_epoch=epoch, epochs=epoch + 1,
                  shuffle=False, callbacks=callbacks, verbose=0)
    return keras.ops.convert_to_numpy(model(x_test))


def torch_train(loss_name, data, args) -> np.ndarray:
    """Trains the torch MLP with a plain loop and returns its test logits (NumPy)."""
    import torch
    import torch.nn.functional as F

    from torch_impl import losses

    (x, y), (x_test, _), counts = data
    torch.manual_seed(args.seed)
    w = initial_weights(args)

    class NormedLinear(torch.nn.Module):
        """LDAM-DRW's NormedLinear: normalize(x) @ normalize(W, dim=0), W of shape (in, out)."""

        def __init__(self, kernel):
            super().__init__()
            self.weight = torch.nn.Parameter(torch.from_numpy(kernel.copy()))

        def forward(self, inputs):
            return F.normalize(inputs, dim=1).mm(F.normalize(self.weight, dim=0))

    def linear(kernel, bias):
        layer = torch.nn.Linear(*kernel.shape)
        with torch.no_grad():  # torch stores the kernel transposed, (out, in)
            layer.weight.copy_(torch.from_numpy(kernel.T))
            layer.bias.copy_(torch.from_numpy(bias))
        return layer

    ldam = loss_name == "ldam_drw"
    head = NormedLinear(w["head"]) if ldam else linear(w["head"], w["head_bias"])
    model = torch.nn.Sequential(linear(w["hidden"], w["hidden_bias"]), torch.nn.ReLU(), head)
    loss_fn = {
        "ce": lambda: torch.nn.CrossEntropyLoss(),
        "class_balanced": lambda: losses.ClassBalancedLoss(samples_per_class=counts, beta=DRW_BETA),
        "ldam_drw": lambda: losses.LDAMLoss(samples_per_class=counts),
        "balanced_softmax": lambda: losses.BalancedSoftmaxCrossentropy(samples_per_class=counts),
        "seesaw": lambda: losses.SeesawLoss(args.num_classes),
    }[loss_name]()
    drw = losses.DeferredReweighting(loss_fn, epoch=args.drw_epoch, class_weight=drw_weights(counts)) if ldam else None
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    model.train()
    loss_fn.train()  # Seesaw counts only in training mode
    # Ops this small gain nothing from intra-op threads, and on a busy 2-core machine the
    # threads' hand-offs made this loop tens of times slower; restored on the way out.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for epoch, order in enumerate(epoch_orders(len(x), args.epochs, args.seed)):
            if drw is not None:
                drw.on_epoch_begin(epoch)
            # Keras's fit keeps the last partial batch; so does this loop.
            for start in range(0, len(order), args.batch_size):
                idx = torch.from_numpy(order[start:start + args.batch_size])
                optimizer.zero_grad()
                loss_fn(model(xt[idx]), yt[idx]).backward()
                optimizer.step()
        model.eval()
        with torch.no_grad():
            return model(torch.from_numpy(x_test)).numpy()
    finally:
        torch.set_num_threads(threads)


TRAINERS = {"keras": keras_train, "torch": torch_train}


# --------------------------------------------------------------------------------------------
# Evaluation (NumPy, the same for both frameworks)
# --------------------------------------------------------------------------------------------


def class_thirds(counts) -> dict:
    """Class indices of the frequent, medium and rare thirds by training count."""
    order = np.argsort(-np.asarray(counts), kind="stable")
    return dict(zip(THIRDS, np.array_split(order, 3)))


def evaluate(logits, y_test, thirds) -> dict:
    """Overall accuracy and the mean per-class accuracy (recall) of each third."""
    correct = np.argmax(logits, axis=-1) == y_test
    recall = np.array([correct[y_test == c].mean() for c in range(logits.shape[-1])])
    out = {"accuracy": float(correct.mean()), "finite": bool(np.isfinite(logits).all())}
    out.update({f"accuracy_{t}": float(recall[idx].mean()) for t, idx in thirds.items()})
    return out


def results_table(results) -> str:
    cols = (("accuracy", "accuracy"),) + tuple((f"accuracy_{t}", t) for t in THIRDS)
    return twin_table("loss", LOSSES, cols, lambda loss, fw, key: results[loss][fw][key])


def main(argv=None) -> dict:
    args = parse_args(argv)
    started = time.perf_counter()
    os.makedirs(args.out_dir, exist_ok=True)
    data = make_data(args)
    (x, y), (x_test, y_test), counts = data
    thirds = class_thirds(counts)
    print(f"train: {len(y)} samples, {args.num_classes} classes, {counts[0]} down to {counts[-1]} per class "
          f"(ratio {counts.max() / counts.min():.0f}); test: {len(y_test)} samples, {args.n_test_per_class} per class")

    results = {}
    for loss in LOSSES:
        results[loss] = {}
        for fw in FRAMEWORKS:
            results[loss][fw] = evaluate(TRAINERS[fw](loss, data, args), y_test, thirds)

    groups = ", ".join(f"{t}: classes {thirds[t].min()}-{thirds[t].max()} ({counts[thirds[t]].min()} to "
                       f"{counts[thirds[t]].max()} samples)" for t in THIRDS)
    report = (
        f"{args.epochs} epochs of SGD (lr {args.lr}, momentum 0.9), batch size {args.batch_size}; ldam_drw switches "
        f"to effective-number weights (beta {DRW_BETA}) at epoch {args.drw_epoch}; balanced test split, accuracy per "
        f"third of the classes ({groups})\n\n{results_table(results)}\n"
    )
    print(report)
    with open(os.path.join(args.out_dir, "longtail_multiclass.md"), "w") as f:
        f.write(report)
    summary = {"args": vars(args), "results": results, "samples_per_class": counts.tolist(),
               "thirds": {t: idx.tolist() for t, idx in thirds.items()}}
    with open(os.path.join(args.out_dir, "longtail_multiclass.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print(f"done in {time.perf_counter() - started:.1f} s")
    return summary


if __name__ == "__main__":
    main(sys.argv[1:])
