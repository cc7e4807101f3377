"""The classic exercise on unbalanced problems, in Keras and PyTorch side by side.

A deterministic 2-D, two-class dataset with a rare positive class (a wide negative cloud and a
small positive one in a corner of it) is learned by one fully connected layer (2 inputs,
1 output logit) with 100 iterations of plain SGD (learning rate 0.1, batch size 128, no weight
decay, no momentum), four ways:

  standard  shuffled batches, plain binary cross-entropy (the frameworks' own BCE)
  balanced  50/50 batches from tf_impl.data.balanced_batches / torch_impl.data.BalancedBatchSampler
  weighted  shuffled batches, WeightedBinaryCrossentropy with the "balanced" class weights
            (pos_weight = w_1, neg_weight = w_0 from compute_class_weight)
  focal     shuffled batches, BinaryFocalLoss(alpha=0.75, gamma=2)

and two decisions after training (tf_impl.decisions / torch_impl.decisions):

  balanced + prior shift      the balanced run, its logits shifted back to the data's prior
                              (PriorShift: + logit(pi) - logit(1/2), pi = the training
                              split's positive share)
  standard + tuned threshold  the standard run, thresholded at the logit that maximises
                              balanced accuracy on a separate validation split (tune_threshold)

Accuracy, balanced accuracy, true positive rate and log loss on the test split are reported
for each, with a Keras and a PyTorch column (the classbalance metrics; accuracy from
keras.metrics and torchmetrics, log loss from the frameworks' BCE on the logits; a threshold
changes no probability, so the tuned row's log loss is the standard row's). Both frameworks
start from the same initial weights (drawn with NumPy) and see the same batches, so their
columns agree to float32 round-off.

Then the batch-size sweep: the standard loss, the same 100 iterations, batch sizes 1 to 128.
Batch size 1 sees 100 samples (about 5 positives) and batch size 128 sees 12,800, yet they end
at the same decision boundary and the same test scores: plain SGD needs no batch that holds
every class to learn the rare one. None of them reaches the minimum of the loss in 100
iterations (found here by full-batch Newton's method in float64), but its decision boundary
is the one they share: what the standard loss aims at is accuracy, and its TPR stays low
however it is optimised.

Outputs (in --out-dir, default examples/out/): imbalanced_2d.png (training data and every
decision boundary, both frameworks), results.md (the tables) and results.json.

    python examples/imbalanced_2d.py                      # the defaults: about 30 s on 2 cores
    python examples/imbalanced_2d.py --n-train 2000 --steps 20 --sweep 8,128 --out-dir /tmp/x
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

# Keras reads its backend at import; tf.data (balanced_batches) needs TensorFlow anyway.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # the examples' shared module
from twin_data import twin_table  # noqa: E402

TRAINED = ("standard", "balanced", "weighted", "focal")
# Decisions after training: (the trained run it starts from, what it does).
POST_HOC = {"balanced + prior shift": ("balanced", "prior_shift"),
            "standard + tuned threshold": ("standard", "tuned_threshold")}
METHODS = TRAINED + tuple(POST_HOC)
FRAMEWORKS = ("keras", "torch")
METRICS = ("accuracy", "balanced_accuracy", "true_positive_rate", "log_loss")
DEFAULT_OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "out")


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n-train", type=int, default=10_000, help="training samples")
    p.add_argument("--n-test", type=int, default=10_000, help="test samples")
    p.add_argument("--pos-fraction", type=float, default=0.05, help="share of the positive class")
    p.add_argument("--steps", type=int, default=100, help="SGD iterations per run")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.1, help="SGD learning rate")
    # alpha weighs the positives; the library default 0.25 (RetinaNet's) favours the negatives,
    # which here gives a lower TPR than the standard loss (see docs/examples.md).
    p.add_argument("--focal-alpha", type=float, default=0.75, help="BinaryFocalLoss alpha")
    p.add_argument("--focal-gamma", type=float, default=2.0, help="BinaryFocalLoss gamma (its default)")
    p.add_argument("--sweep", default="1,2,4,8,16,32,64,128",
                   help="comma-separated batch sizes for the standard-loss sweep ('' to skip)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out-dir", default=DEFAULT_OUT)
    return p.parse_args(argv)


# --------------------------------------------------------------------------------------------
# Data, initial weights, the standard batch order, the reference optimum (NumPy only)
# --------------------------------------------------------------------------------------------

NEG_MEAN = np.array([-1.0, -1.0])
POS_MEAN = np.array([1.0, 1.0])
POS_STD = 0.7


def make_split(n: int, pos_fraction: float, seed: int):
    """x (n, 2) float32, y (n,) int64 with exactly round(n * pos_fraction) positives.

    Negatives ~ N((-1, -1), I), positives ~ N((1, 1), 0.7^2 I): they overlap, so no line
    separates them and where the boundary goes is a trade-off between the two classes.
    """
    rng = np.random.default_rng(seed)
    n_pos = int(round(n * pos_fraction))
    if not 0 < n_pos < n:
        raise ValueError(f"--pos-fraction {pos_fraction} gives {n_pos} positives out of {n}")
    y = np.zeros(n, np.int64)
    y[:n_pos] = 1
    x = rng.normal(size=(n, 2))
    x[:n_pos] = x[:n_pos] * POS_STD + POS_MEAN
    x[n_pos:] += NEG_MEAN
    order = rng.permutation(n)
    return x[order].astype(np.float32), y[order]


def initial_weights(seed: int):
    """One draw shared by both frameworks: kernel (2, 1) in Keras's layout, bias (1,)."""
    rng = np.random.default_rng(seed + 1000)
    return rng.normal(scale=0.1, size=(2, 1)).astype(np.float32), np.zeros(1, np.float32)


def standard_order(n: int, batch_size: int, steps: int, seed: int) -> np.ndarray:
    """Index order of a plain shuffled loader: a fresh permutation per epoch, full batches only
    (drop_last), `steps * batch_size` indices. Both frameworks read the same order."""
    rng = np.random.default_rng(seed + 2000)
    per_epoch = n // batch_size
    if per_epoch == 0:
        raise ValueError(f"--batch-size {batch_size} is larger than the {n} training samples")
    epochs = -(-steps // per_epoch)
    batches = [rng.permutation(n)[: per_epoch * batch_size] for _ in range(epochs)]
    return np.concatenate(batches)[: steps * batch_size]


def bce_optimum(x: np.ndarray, y: np.ndarray, iters: int = 50):
    """Minimiser of the mean BCE of a linear model (no regularisation), by Newton's method in
    float64: the target the sweep's runs are measured against. Returns (kernel, bias)."""
    design = np.c_[x.astype(np.float64), np.ones(len(x))]
    t = y.astype(np.float64)
    theta = np.zeros(3)
    for _ in range(iters):
        p = 1.0 / (1.0 + np.exp(-design @ theta))
        hessian = (design * (p * (1 - p))[:, None]).T @ design
        theta -= np.linalg.solve(hessian + 1e-12 * np.eye(3), design.T @ (p - t))
    return theta[:2, None], theta[2:]


def validation_split(args):
    """The split the tuned threshold is chosen on: neither the training nor the test split."""
    return make_split(args.n_test, args.pos_fraction, args.seed + 2)


def mean_bce(kernel, bias, x, y) -> float:
    z = x.astype(np.float64) @ np.asarray(kernel, np.float64) + np.asarray(bias, np.float64)
    z = z[:, 0]
    # log(1 + e^-z) for positives, log(1 + e^z) for negatives, without overflow.
    return float(np.mean(np.logaddexp(0.0, np.where(y == 1, -z, z))))


# --------------------------------------------------------------------------------------------
# Keras
# --------------------------------------------------------------------------------------------


def keras_run(method, data, args, batch_size, class_weight):
    import keras
    import tensorflow as tf

    from tf_impl import decisions, losses, metrics
    from tf_impl.data import balanced_batches

    (x, y), (x_test, y_test) = data
    method, post_hoc = POST_HOC.get(method, (method, None))
    keras.utils.set_random_seed(args.seed)
    kernel0, bias0 = initial_weights(args.seed)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.layers[0].set_weights([kernel0, bias0])
    if method == "balanced":
        ds = balanced_batches(x, y, batch_size, class_fractions=None, steps_per_epoch=args.steps, seed=args.seed)
        # balanced_batches yields integer class indices; the BCE wants float (B, 1) targets.
        ds = ds.map(lambda xb, yb: (xb, tf.cast(yb, tf.float32)[:, None]))
    else:
        order = standard_order(len(y), batch_size, args.steps, args.seed)
        ds = tf.data.Dataset.from_tensor_slices((x[order], y[order, None].astype(np.float32))).batch(batch_size)
    if method in ("standard", "balanced"):
        loss = keras.losses.BinaryCrossentropy(from_logits=True)
    elif method == "weighted":
        loss = losses.WeightedBinaryCrossentropy(pos_weight=class_weight[1], neg_weight=class_weight[0])
    else:
        loss = losses.BinaryFocalLoss(alpha=args.focal_alpha, gamma=args.focal_gamma)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=args.lr), loss=loss)
    model.fit(ds, epochs=1, steps_per_epoch=args.steps, shuffle=False, verbose=0)

    kernel, bias = (w.astype(np.float64) for w in model.layers[0].get_weights())
    probabilities = logits = model(x_test)  # one eager call: cheaper than tracing model.predict per run
    if post_hoc == "prior_shift":
        # balanced batches: trained on prior 1/2; the data's positive prior is y.mean()
        train_prior = decisions.training_prior(class_fractions=[0.5, 0.5])[1]
        shift = decisions.PriorShift(train_prior=train_prior, target_prior=float(y.mean()), activation="sigmoid")
        probabilities = logits = shift(logits)
        bias = bias + float(shift(np.zeros((1, 1), np.float32))[0, 0])  # the boundary it draws
    elif post_hoc == "tuned_threshold":
        x_val, y_val = validation_split(args)
        tuned = decisions.tune_threshold(y_val[:, None], model(x_val), objective="balanced_accuracy")
        logits = logits - tuned.threshold  # logit > t  <=>  logit - t > 0, exactly
        bias = bias - float(tuned.threshold)
    target = y_test[:, None].astype(np.float32)
    scores = {}
    for name, metric, pred in (
        ("accuracy", keras.metrics.BinaryAccuracy(threshold=0.5), keras.ops.sigmoid(logits)),
        ("balanced_accuracy", metrics.BalancedAccuracy(from_logits=True), logits),
        ("true_positive_rate", metrics.TruePositiveRate(from_logits=True), logits),
    ):
        metric.update_state(target, pred)
        scores[name] = float(metric.result())
    scores["log_loss"] = float(keras.losses.BinaryCrossentropy(from_logits=True)(target, probabilities))
    return scores, (kernel, bias)


# --------------------------------------------------------------------------------------------
# PyTorch
# --------------------------------------------------------------------------------------------


def torch_run(method, data, args, batch_size, class_weight):
    import torch
    import torchmetrics
    from torch.utils.data import DataLoader, TensorDataset

    from torch_impl import decisions, losses, metrics
    from torch_impl.data import BalancedBatchSampler

    (x, y), (x_test, y_test) = data
    method, post_hoc = POST_HOC.get(method, (method, None))
    torch.manual_seed(args.seed)
    kernel0, bias0 = initial_weights(args.seed)
    layer = torch.nn.Linear(2, 1)
    with torch.no_grad():  # torch stores the kernel transposed, (out, in)
        layer.weight.copy_(torch.from_numpy(kernel0.T))
        layer.bias.copy_(torch.from_numpy(bias0))
    dataset = TensorDataset(torch.from_numpy(x), torch.from_numpy(y[:, None].astype(np.float32)))
    if method == "balanced":
        sampler = BalancedBatchSampler(y, batch_size, class_fractions=None, steps_per_epoch=args.steps, seed=args.seed)
        loader = DataLoader(dataset, batch_sampler=sampler)
    else:
        order = standard_order(len(y), batch_size, args.steps, args.seed)
        loader = DataLoader(dataset, batch_size=batch_size, sampler=order.tolist())
    if method in ("standard", "balanced"):
        loss_fn = torch.nn.BCEWithLogitsLoss()
    elif method == "weighted":
        loss_fn = losses.WeightedBinaryCrossentropy(pos_weight=class_weight[1], neg_weight=class_weight[0])
    else:
        loss_fn = losses.BinaryFocalLoss(alpha=args.focal_alpha, gamma=args.focal_gamma)
    optimizer = torch.optim.SGD(layer.parameters(), lr=args.lr)
    for xb, yb in loader:
        optimizer.zero_grad()
        loss_fn(layer(xb), yb).backward()
        optimizer.step()

    kernel = layer.weight.detach().double().numpy().T
    bias = layer.bias.detach().double().numpy()
    with torch.no_grad():
        probabilities = logits = layer(torch.from_numpy(x_test))
        if post_hoc == "prior_shift":
            # balanced batches: trained on prior 1/2; the data's positive prior is y.mean()
            train_prior = decisions.training_prior(class_fractions=[0.5, 0.5])[1]
            shift = decisions.PriorShift(train_prior=train_prior, target_prior=float(y.mean()), activation="sigmoid")
            probabilities = logits = shift(logits)
            bias = bias + float(shift(torch.zeros(1, 1))[0, 0])  # the boundary it draws
        elif post_hoc == "tuned_threshold":
            x_val, y_val = validation_split(args)
            scores = layer(torch.from_numpy(x_val))
            tuned = decisions.tune_threshold(y_val[:, None], scores, objective="balanced_accuracy")
            logits = logits - tuned.threshold  # logit > t  <=>  logit - t > 0, exactly
            bias = bias - float(tuned.threshold)
    target = torch.from_numpy(y_test[:, None])
    scores = {}
    for name, metric, pred in (
        ("accuracy", torchmetrics.classification.BinaryAccuracy(threshold=0.5), torch.sigmoid(logits)),
        ("balanced_accuracy", metrics.BalancedAccuracy(from_logits=True), logits),
        ("true_positive_rate", metrics.TruePositiveRate(from_logits=True), logits),
    ):
        metric.update(pred, target)
        scores[name] = float(metric.compute())
    scores["log_loss"] = float(torch.nn.functional.binary_cross_entropy_with_logits(probabilities, target.float()))
    return scores, (kernel, bias)


RUNNERS = {"keras": keras_run, "torch": torch_run}


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def methods_table(results) -> str:
    cols = tuple(zip(METRICS, ("accuracy", "balanced acc.", "TPR", "log loss")))
    return twin_table("method", METHODS, cols, lambda method, fw, key: results[method][fw]["metrics"][key])


def sweep_table(sweep, optimum) -> str:
    lines = [
        "| batch size | samples seen | train BCE (Keras) | train BCE (PyTorch) | balanced acc. (Keras) "
        "| balanced acc. (PyTorch) | TPR (Keras) | TPR (PyTorch) |",
        "|---" * 8 + "|",
    ]
    for row in sweep:
        k, t = row["keras"], row["torch"]
        lines.append(
            f"| {row['batch_size']} | {row['samples_seen']} | {k['train_bce']:.4f} | {t['train_bce']:.4f} | "
            f"{k['metrics']['balanced_accuracy']:.4f} | {t['metrics']['balanced_accuracy']:.4f} | "
            f"{k['metrics']['true_positive_rate']:.4f} | {t['metrics']['true_positive_rate']:.4f} |"
        )
    m = optimum["metrics"]
    lines.append(
        f"| optimum of the standard loss | full batch | {optimum['train_bce']:.4f} | | "
        f"{m['balanced_accuracy']:.4f} | | {m['true_positive_rate']:.4f} | |"
    )
    return "\n".join(lines)


def numpy_scores(kernel, bias, x, y) -> dict:
    """Accuracy, balanced accuracy and TPR of a NumPy linear model (for the float64 optimum)."""
    pred = (x.astype(np.float64) @ kernel + bias)[:, 0] > 0
    tpr = float(np.mean(pred[y == 1]))
    tnr = float(np.mean(~pred[y == 0]))
    return {"accuracy": float(np.mean(pred == (y == 1))), "balanced_accuracy": (tpr + tnr) / 2,
            "true_positive_rate": tpr}


def plot(path, data, results, sweep, optimum) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    (x, y), _ = data
    lo, hi = x.min(axis=0) - 0.5, x.max(axis=0) + 0.5
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], 300), np.linspace(lo[1], hi[1], 300))
    grid = np.c_[gx.ravel(), gy.ravel()]

    def boundary(ax, kernel, bias, **style):
        z = (grid @ kernel + bias).reshape(gx.shape)
        if z.min() < 0 < z.max():  # a boundary outside the window draws nothing
            ax.contour(gx, gy, z, levels=[0.0], colors=[style["color"]], linestyles=[style["ls"]],
                       linewidths=style.get("lw", 1.8))

    fig, axes = plt.subplots(1, 2, figsize=(13, 6.5), constrained_layout=True)
    for ax in axes:
        ax.scatter(*x[y == 0].T, s=3, c="0.75", label=f"negative ({int(np.sum(y == 0))})", rasterized=True)
        ax.scatter(*x[y == 1].T, s=5, c="tab:red", label=f"positive ({int(np.sum(y == 1))})", rasterized=True)
        ax.set_xlim(lo[0], hi[0])
        ax.set_ylim(lo[1], hi[1])
        ax.set_aspect("equal")
        ax.set_xlabel("first feature, $x_1$")
        ax.set_ylabel("second feature, $x_2$")

    colors = dict(zip(METHODS, ("tab:blue", "tab:green", "tab:orange", "tab:purple", "tab:olive", "tab:cyan")))
    handles = []
    for method in METHODS:
        for fw, ls in (("keras", "-"), ("torch", "--")):
            boundary(axes[0], *results[method][fw]["weights"], color=colors[method], ls=ls)
        handles.append(Line2D([], [], color=colors[method], label=method))
    handles += [Line2D([], [], color="k", ls="-", label="Keras"), Line2D([], [], color="k", ls="--", label="PyTorch")]
    # legends below the axes, where they cover no point and no boundary
    axes[0].legend(handles=axes[0].get_legend_handles_labels()[0] + handles, loc="upper center",
                   bbox_to_anchor=(0.5, -0.1), ncol=3, fontsize=8, title="training data; method (boundary)",
                   title_fontsize=8)
    axes[0].set_title("Decision boundaries (Keras solid, PyTorch dashed: they coincide)")

    handles = []
    cmap = plt.get_cmap("viridis")
    for i, row in enumerate(sweep):
        color = cmap(i / max(len(sweep) - 1, 1))
        for fw, ls in (("keras", "-"), ("torch", "--")):
            boundary(axes[1], *row[fw]["weights"], color=color, ls=ls, lw=1.2)
        handles.append(Line2D([], [], color=color, label=f"batch {row['batch_size']}"))
    boundary(axes[1], *optimum["weights"], color="k", ls=":", lw=2.5)
    handles.append(Line2D([], [], color="k", ls=":", lw=2.5, label="optimum of the standard loss"))
    axes[1].legend(handles=axes[1].get_legend_handles_labels()[0] + handles, loc="upper center",
                   bbox_to_anchor=(0.5, -0.1), ncol=3, fontsize=8, title="training data; batch size (boundary)",
                   title_fontsize=8)
    axes[1].set_title("Standard loss, batch-size sweep (the same iterations each)")
    fig.savefig(path, dpi=100, bbox_inches="tight")  # the legends below the axes included
    plt.close(fig)


def _progress(done: int, total: int, what: str) -> None:
    """One status line on a terminal (nothing in a log or a pipe), erased when the runs are done."""
    if not sys.stdout.isatty():
        return
    line = f"  training run {done + 1} of {total}: {what}" if done < total else ""
    print(f"\r{line:<72}\r" if not line else f"\r{line:<72}", end="", flush=True)


def main(argv=None) -> dict:
    args = parse_args(argv)
    started = time.perf_counter()
    os.makedirs(args.out_dir, exist_ok=True)
    data = (make_split(args.n_train, args.pos_fraction, args.seed),
            make_split(args.n_test, args.pos_fraction, args.seed + 1))
    (x, y), (x_test, y_test) = data

    from imbalance_core.class_weights import compute_class_weight

    class_weight = compute_class_weight(y, method="balanced")  # n / (2 n_c), scikit-learn's
    print(f"train: {len(y)} samples, {int(y.sum())} positive; test: {len(y_test)}, {int(y_test.sum())} positive; "
          f"class weights {np.round(class_weight, 4).tolist()}")

    sizes = [int(s) for s in args.sweep.split(",") if s.strip()]
    total, done = len(FRAMEWORKS) * (len(METHODS) + len(sizes)), 0
    results = {}
    for method in METHODS:
        results[method] = {}
        for fw in FRAMEWORKS:
            _progress(done, total, f"{method} ({fw})")
            done += 1
            scores, weights = RUNNERS[fw](method, data, args, args.batch_size, class_weight)
            results[method][fw] = {"metrics": scores, "weights": weights}

    kernel, bias = bce_optimum(x, y)
    optimum = {"weights": (kernel, bias), "train_bce": mean_bce(kernel, bias, x, y),
               "metrics": numpy_scores(kernel, bias, x_test, y_test)}
    sweep = []
    for b in sizes:
        row = {"batch_size": b, "samples_seen": b * args.steps}
        for fw in FRAMEWORKS:
            _progress(done, total, f"standard, batch size {b} ({fw})")
            done += 1
            scores, weights = RUNNERS[fw]("standard", data, args, b, class_weight)
            row[fw] = {"metrics": scores, "weights": weights, "train_bce": mean_bce(*weights, x, y)}
        sweep.append(row)
    _progress(total, total, "")

    title = (f"{args.steps} iterations of SGD (lr {args.lr}), batch size {args.batch_size}, test split "
             f"({len(y_test)} samples, {int(y_test.sum())} positive)")
    report = f"### Methods\n\n{title}\n\n{methods_table(results)}\n"
    if sweep:
        report += (f"\n### Batch-size sweep, standard loss, {args.steps} iterations\n\n"
                   f"{sweep_table(sweep, optimum)}\n")
    runs = [results[m] for m in TRAINED] + sweep
    gap = max(float(np.max(np.abs(np.concatenate([np.ravel(a) for a in r["keras"]["weights"]])
                                   - np.concatenate([np.ravel(a) for a in r["torch"]["weights"]]))))
              for r in runs)
    report += (f"\nLargest |Keras - PyTorch| difference of a final weight over all {len(runs)} training runs: "
               f"{gap:.2e}\n")
    print(report)
    png = os.path.join(args.out_dir, "imbalanced_2d.png")
    plot(png, data, results, sweep, optimum)
    with open(os.path.join(args.out_dir, "results.md"), "w") as f:
        f.write(report)

    def plain(obj):  # weights become lists for JSON
        if isinstance(obj, dict):
            return {k: plain(v) for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return [plain(v) for v in obj]
        return obj.tolist() if isinstance(obj, np.ndarray) else obj

    summary = {"args": vars(args), "class_weight": class_weight.tolist(), "max_weight_gap": gap,
               "methods": plain(results),
               "sweep": plain(sweep), "optimum": plain(optimum), "png": png}
    with open(os.path.join(args.out_dir, "results.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print(f"wrote {png}, results.md, results.json in {time.perf_counter() - started:.1f} s")
    return summary


if __name__ == "__main__":
    main(sys.argv[1:])
