"""Multi-label with 512 labels and about 5 positives per sample, in Keras and PyTorch.

A deterministic synthetic task: 32 Gaussian features, a random linear teacher with Gaussian
noise, and one threshold per label set so that the label frequencies follow a long tail
(Zipf-like, from about 17 % of the samples for the most frequent label down to 0.1 % for the
rarest; 5 positives per sample on average). A linear student (32 -> 512 logits, the same
initial weights from NumPy in both frameworks, Adam, the same batches) is trained with

  bce         plain binary cross-entropy (the frameworks' own)
  pos_weight  WeightedBinaryCrossentropy(pos_weight=compute_pos_weight(y_train)), n_neg / n_pos
              per label: each label's positives weigh as much as its negatives
  focal       BinaryFocalLoss() (alpha=0.25, gamma=2, the library defaults)
  asymmetric  AsymmetricLoss() (gamma_pos=1, gamma_neg=4, clip=0.05, the library defaults)
  distribution_balanced
              DistributionBalancedLoss(samples_per_class=positives per label, num_samples=N)
              (Wu et al. 2020; the reference's COCO-MLT defaults)

or with plain BCE on rebalanced batches (the multi-label modes of `balanced_batches`, the same
index batches in both frameworks, instead of the shared shuffled order):

  repeat_factor  mode="repeat_factor" (LVIS repeat-factor sampling, Gupta et al. 2019) with
                 --repeat-threshold 0.01: detectron2's default 0.001 is meant for LVIS, where the
                 rare categories sit near 1e-4; here the rarest label is at about 1e-3 and 0.001
                 would repeat no sample more than 1.08 times
  class_aware    mode="class_aware" (Shen et al. 2016, mmdetection's ClassAwareSampler): each
                 slot draws one of the labels with equal shares, then a sample holding it

and evaluated on the test split: per-label recall at the fixed threshold 0.5, averaged over the
rare, medium and frequent thirds of the labels (by training frequency); the number of labels
predicted positive per sample (the truth is about 5: recall bought with false positives shows
here); and mean average precision (scikit-learn's average_precision_score, macro over the
labels with a positive in the test split; computed vectorised, see `average_precision`), which
does not depend on the threshold.

    python examples/multilabel_512.py            # defaults: about 1.5 min on a shared 2-core machine
    python examples/multilabel_512.py --n-train 3000 --epochs 1 --out-dir /tmp/x
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from statistics import NormalDist

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # the examples' shared module
from twin_data import twin_table  # noqa: E402

LOSSES = ("bce", "pos_weight", "focal", "asymmetric", "distribution_balanced", "repeat_factor", "class_aware")
# rows trained with plain BCE on batches from `balanced_batches(..., mode=row)`
SAMPLED = ("repeat_factor", "class_aware")
FRAMEWORKS = ("keras", "torch")
GROUPS = ("rare", "medium", "frequent")
DEFAULT_OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "out")


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n-train", type=int, default=20_000)
    p.add_argument("--n-test", type=int, default=10_000)
    p.add_argument("--num-labels", type=int, default=512)
    p.add_argument("--num-features", type=int, default=32)
    p.add_argument("--positives-per-sample", type=float, default=5.0)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--lr", type=float, default=3e-2, help="Adam learning rate")
    p.add_argument("--threshold", type=float, default=0.5, help="probability threshold for recall")
    p.add_argument("--repeat-threshold", type=float, default=0.01, help="t of mode='repeat_factor'")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out-dir", default=DEFAULT_OUT)
    return p.parse_args(argv)


# --------------------------------------------------------------------------------------------
# Data (NumPy)
# --------------------------------------------------------------------------------------------


def label_frequencies(num_labels: int, per_sample: float) -> np.ndarray:
    """A long tail: f_j proportional to (j + 10)^-1.2, scaled to sum to `per_sample`."""
    f = (np.arange(num_labels) + 10.0) ** -1.2
    return f * (per_sample / f.sum())


def make_data(args):
    """(x_train, y_train), (x_test, y_test): float32 features, float32 0/1 multi-hot labels.

    Score s = x W + noise (x ~ N(0, I), W ~ N(0, 1/d), noise ~ N(0, 0.5^2)); label j is on when
    s_j exceeds the threshold that gives frequency f_j under the Gaussian law of s_j. Both
    splits come from the same teacher. Every label keeps at least one positive in the training
    split (compute_pos_weight needs one), by lowering its threshold to its best sample there.
    """
    rng = np.random.default_rng(args.seed)
    d, c = args.num_features, args.num_labels
    w = rng.normal(scale=1.0 / np.sqrt(d), size=(d, c))
    noise = 0.5
    std = np.sqrt((w ** 2).sum(axis=0) + noise ** 2)  # s_j ~ N(0, std_j^2)
    freq = label_frequencies(c, args.positives_per_sample)
    cut = std * np.array([NormalDist().inv_cdf(1.0 - f) for f in freq])

    def scores(n):
        x = rng.normal(size=(n, d))
        return x.astype(np.float32), x @ w + rng.normal(scale=noise, size=(n, c))

    x_train, s_train = scores(args.n_train)
    x_test, s_test = scores(args.n_test)
    cut = np.minimum(cut, s_train.max(axis=0))
    return ((x_train, (s_train >= cut).astype(np.float32)), (x_test, (s_test >= cut).astype(np.float32)))


def initial_weights(args):
    """Glorot-uniform kernel (d, C) in Keras's layout and a zero bias, drawn once for both."""
    rng = np.random.default_rng(args.seed + 1000)
    limit = np.sqrt(6.0 / (args.num_features + args.num_labels))
    kernel = rng.uniform(-limit, limit, size=(args.num_features, args.num_labels)).astype(np.float32)
    return kernel, np.zeros(args.num_labels, np.float32)


def epoch_orders(n: int, epochs: int, seed: int):
    """One permutation per epoch, shared by both frameworks."""
    rng = np.random.default_rng(seed + 2000)
    return [rng.permutation(n) for _ in range(epochs)]


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------


def keras_train(loss_name, data, args, pos_weight) -> np.ndarray:
    """Trains the Keras student and returns its test logits (NumPy)."""
    import keras

    from tf_impl import data as tf_data
    from tf_impl import losses

    (x, y), (x_test, _) = data
    keras.utils.set_random_seed(args.seed)
    model = keras.Sequential([keras.Input((args.num_features,)), keras.layers.Dense(args.num_labels)])
    model.layers[0].set_weights(list(initial_weights(args)))
    loss = {
        "bce": lambda: keras.losses.BinaryCrossentropy(from_logits=True),
        "pos_weight": lambda: losses.WeightedBinaryCrossentropy(pos_weight=pos_weight),
        "focal": lambda: losses.BinaryFocalLoss(),
        "asymmetric": lambda: losses.AsymmetricLoss(),
        "distribution_balanced": lambda: losses.DistributionBalancedLoss(y.sum(axis=0), num_samples=len(y)),
        "repeat_factor": lambda: keras.losses.BinaryCrossentropy(from_logits=True),
        "class_aware": lambda: keras.losses.BinaryCrossentropy(from_logits=True),
    }[loss_name]()
    # epsilon as torch's default, so the two Adam runs differ only in round-off and in where
    # epsilon enters the update (Keras: sqrt(v) + eps with the bias correction in the step).
    model.compile(optimizer=keras.optimizers.Adam(args.lr, epsilon=1e-8), loss=loss)
    if loss_name in SAMPLED:
        # the k-th pass over the dataset is epoch k of the schedule, as torch_train's k-th iter()
        batches = tf_data.balanced_batches(x, y, args.batch_size, mode=loss_name,
                                           repeat_threshold=args.repeat_threshold, seed=args.seed)
        if keras.backend.backend() == "tensorflow":
            model.fit(batches, epochs=args.epochs, shuffle=False, verbose=0)  # the schedule shuffles
        else:
            # Keras's torch and jax trainers pass over a tf.data dataset once before training,
            # which would start training at epoch 1 of the schedule; a generator of the passes
            # (Keras keeps the batch it peeks at) reads epochs 0, 1, ... as on tensorflow.
            def passes():
                for _ in range(args.epochs):
                    yield from batches.as_numpy_iterator()

            model.fit(passes(), epochs=args.epochs, steps_per_epoch=int(batches.cardinality()),
                      shuffle=False, verbose=0)
        return keras.ops.convert_to_numpy(model(x_test))
    for order in epoch_orders(len(x), args.epochs, args.seed):
        model.fit(x[order], y[order], batch_size=args.batch_size, epochs=1, shuffle=False, verbose=0)
    return keras.ops.convert_to_numpy(model(x_test))  # any backend's tensor


def torch_train(loss_name, data, args, pos_weight) -> np.ndarray:
    """Trains the torch student and returns its test logits (NumPy)."""
    import torch

    from torch_impl import data as torch_data
    from torch_impl import losses

    (x, y), (x_test, _) = data
    torch.manual_seed(args.seed)
    kernel, bias = initial_weights(args)
    layer = torch.nn.Linear(args.num_features, args.num_labels)
    with torch.no_grad():  # torch stores the kernel transposed, (out, in)
        layer.weight.copy_(torch.from_numpy(kernel.T))
        layer.bias.copy_(torch.from_numpy(bias))
    loss_fn = {
        "bce": lambda: torch.nn.BCEWithLogitsLoss(),
        "pos_weight": lambda: losses.WeightedBinaryCrossentropy(pos_weight=pos_weight),
        "focal": lambda: losses.BinaryFocalLoss(),
        "asymmetric": lambda: losses.AsymmetricLoss(),
        "distribution_balanced": lambda: losses.DistributionBalancedLoss(y.sum(axis=0), num_samples=len(y)),
        "repeat_factor": lambda: torch.nn.BCEWithLogitsLoss(),
        "class_aware": lambda: torch.nn.BCEWithLogitsLoss(),
    }[loss_name]()
    optimizer = torch.optim.Adam(layer.parameters(), lr=args.lr)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    if loss_name in SAMPLED:
        batches = torch_data.balanced_batches(xt, yt, args.batch_size, mode=loss_name,
                                              repeat_threshold=args.repeat_threshold, seed=args.seed)
        for _ in range(args.epochs):  # each pass is the next epoch of the schedule
            for xb, yb in batches:
                optimizer.zero_grad()
                loss_fn(layer(xb), yb).backward()
                optimizer.step()
        with torch.no_grad():
            return layer(torch.from_numpy(x_test)).numpy()
    for order in epoch_orders(len(x), args.epochs, args.seed):
        # Keras's fit keeps the last partial batch; so does this loop.
        for start in range(0, len(order), args.batch_size):
            idx = torch.from_numpy(order[start:start + args.batch_size])
            optimizer.zero_grad()
            loss_fn(layer(xt[idx]), yt[idx]).backward()
            optimizer.step()
    with torch.no_grad():
        return layer(torch.from_numpy(x_test)).numpy()


TRAINERS = {"keras": keras_train, "torch": torch_train}


# --------------------------------------------------------------------------------------------
# Evaluation (NumPy + scikit-learn, the same for both frameworks)
# --------------------------------------------------------------------------------------------


def label_groups(y_train: np.ndarray) -> dict:
    """Label indices of the rare, medium and frequent thirds by training frequency."""
    order = np.argsort(y_train.sum(axis=0), kind="stable")
    return dict(zip(GROUPS, np.array_split(order, 3)))


def average_precision(y, scores) -> np.ndarray:
    """Per-column average precision, scikit-learn's definition (sum over thresholds of
    (R_k - R_(k-1)) P_k), vectorised over the columns: sklearn.metrics.average_precision_score
    loops over them in Python, about 15 ms a label here. Columns whose scores have ties (where
    thresholds group samples) are handed to scikit-learn itself. Columns need a positive."""
    from sklearn.metrics import average_precision_score

    order = np.argsort(-scores, axis=0, kind="stable")
    s = np.take_along_axis(scores, order, axis=0)
    hits = np.take_along_axis(y, order, axis=0).astype(np.float64)
    precision = np.cumsum(hits, axis=0) / np.arange(1, len(y) + 1)[:, None]
    ap = (hits * precision).sum(axis=0) / hits.sum(axis=0)
    for j in np.flatnonzero((s[1:] == s[:-1]).any(axis=0)):
        ap[j] = average_precision_score(y[:, j], scores[:, j])
    return ap


def evaluate(logits, y_test, groups, threshold) -> dict:
    pred = logits > np.log(threshold / (1.0 - threshold))  # p > threshold, on the logit scale
    positives = y_test.sum(axis=0)
    present = positives > 0
    recall = np.full(y_test.shape[1], np.nan)
    recall[present] = (pred & (y_test > 0)).sum(axis=0)[present] / positives[present]
    out = {f"recall_{g}": float(np.nanmean(recall[idx])) for g, idx in groups.items()}
    out["recall_all"] = float(np.nanmean(recall))
    out["predicted_per_sample"] = float(pred.sum(axis=1).mean())
    cols = np.flatnonzero(present)
    out["mAP"] = float(np.mean(average_precision(y_test[:, cols], logits[:, cols])))
    return out


def results_table(results) -> str:
    cols = (("mAP", "mAP"), ("recall_rare", "recall rare"), ("recall_medium", "recall medium"),
            ("recall_frequent", "recall frequent"), ("predicted_per_sample", "predicted / sample"))
    return twin_table("run", LOSSES, cols, lambda loss, fw, key: results[loss][fw][key])


def main(argv=None) -> dict:
    args = parse_args(argv)
    started = time.perf_counter()
    os.makedirs(args.out_dir, exist_ok=True)
    data = make_data(args)
    (x, y), (x_test, y_test) = data

    from imbalance_core.class_weights import compute_pos_weight

    pos_weight = compute_pos_weight(y)  # n_neg / n_pos per label, float64 (C,)
    counts = y.sum(axis=0)
    groups = label_groups(y)
    print(f"train: {len(y)} samples x {y.shape[1]} labels, {y.sum(axis=1).mean():.2f} positives per sample, "
          f"label frequency {counts.min() / len(y):.4%} .. {counts.max() / len(y):.2%}, "
          f"pos_weight {pos_weight.min():.1f} .. {pos_weight.max():.1f}; test: {len(y_test)} samples, "
          f"{int((y_test.sum(axis=0) > 0).sum())} labels with a positive")

    results = {}
    for loss in LOSSES:
        results[loss] = {}
        for fw in FRAMEWORKS:
            logits = TRAINERS[fw](loss, data, args, pos_weight)
            results[loss][fw] = evaluate(logits, y_test, groups, args.threshold)

    sizes = {g: int(counts[idx].min()) for g, idx in groups.items()}
    report = (
        f"{args.epochs} epochs of Adam (lr {args.lr}), batch size {args.batch_size}; {', '.join(SAMPLED)}: "
        f"plain BCE on balanced_batches(mode=...), repeat_threshold {args.repeat_threshold}; test split, recall at "
        f"p > {args.threshold}; label thirds by training positives (rare: {sizes['rare']}+, medium: "
        f"{sizes['medium']}+, frequent: {sizes['frequent']}+ of {len(y)})\n\n{results_table(results)}\n"
    )
    print(report)
    with open(os.path.join(args.out_dir, "multilabel_512.md"), "w") as f:
        f.write(report)
    summary = {"args": vars(args), "results": results,
               "label_frequency": {"min": float(counts.min() / len(y)), "max": float(counts.max() / len(y))},
               "positives_per_sample": float(y.sum(axis=1).mean())}
    with open(os.path.join(args.out_dir, "multilabel_512.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print(f"done in {time.perf_counter() - started:.1f} s")
    return summary


if __name__ == "__main__":
    main(sys.argv[1:])
