"""Forward + backward time of each classbalance loss against its anchor, measured in one run.

For every entry of BENCHES: torch eager, torch.compile, TensorFlow eager and
tf.function(jit_compile=True) (tf_impl on Keras's tensorflow backend), each timed as the
median of repeated forward+backward passes on the same inputs, printed as ours/anchor ratios
(< 1.0 means faster than the anchor). Our losses run with validate_args=False in the main
rows (the anchors validate nothing); one extra row per entry shows the cost of the default
validate_args=True in eager mode.

    python benchmarks/bench_losses.py [--elements 1000000] [--repeats 20] [--only wbce]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import warnings  # noqa: E402

import numpy as np  # noqa: E402

# dynamo traces NumPy weights as tensors and warns about copy-constructing them; harmless here
warnings.filterwarnings("ignore", message="To copy construct from a tensor")


def _paired_times(step_anchor, step_ours, repeats: int, warmup: int = 3) -> tuple[float, float]:
    """Median times of the two steps, measured alternately so that load on the machine hits
    both alike; the ratio is what the benchmark reports."""
    for _ in range(warmup):
        step_anchor()
        step_ours()
    t_a, t_o = [], []
    for _ in range(repeats):
        for step, out in ((step_anchor, t_a), (step_ours, t_o)):
            t0 = time.perf_counter()
            step()
            out.append(time.perf_counter() - t0)
    return statistics.median(t_a), statistics.median(t_o)


# ------------------------------------------------------------------------------ the entries
# Each entry: inputs(rows, cols) -> (logits, target) NumPy; torch/tf "ours" and "anchor"
# callables mapping (logits, target) to a scalar loss (the mean).


def _sigmoid_inputs(rows, cols, rng):
    x = rng.normal(size=(rows, cols)).astype(np.float32) * 3
    y = (rng.random((rows, cols)) < 0.1).astype(np.float32)
    return x, y


def _wbce_entry():
    pos = 5.0

    def torch_ours(validate=False):  # the nn.Module, as users call it (its mean is fused)
        from torch_impl.losses import WeightedBinaryCrossentropy

        return WeightedBinaryCrossentropy(pos_weight=pos, validate_args=validate)

    def torch_anchor():
        import torch

        return torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(pos))

    def tf_ours(validate=False):
        import tensorflow as tf

        from tf_impl.losses import weighted_binary_crossentropy

        return lambda x, y: tf.reduce_mean(weighted_binary_crossentropy(y, x, pos_weight=pos, validate_args=validate))

    def tf_anchor():
        import tensorflow as tf

        return lambda x, y: tf.reduce_mean(tf.nn.weighted_cross_entropy_with_logits(y, x, pos_weight=pos))

    return dict(
        name="WeightedBinaryCrossentropy",
        inputs=_sigmoid_inputs,
        torch=(torch_ours, torch_anchor, "BCEWithLogitsLoss(pos_weight)"),
        tf=(tf_ours, tf_anchor, "tf.nn.weighted_cross_entropy_with_logits"),
    )


def _softmax_inputs(rows, cols, rng):
    x = rng.normal(size=(rows, cols)).astype(np.float32) * 3
    # long-tailed labels: class c drawn with probability ~ 1/(c+1)
    p = 1.0 / np.arange(1, cols + 1)
    return x, rng.choice(cols, size=rows, p=p / p.sum()).astype(np.int64)


def _binary_focal_entry():
    def torch_ours(validate=False):
        from torch_impl.losses import binary_focal_loss

        return lambda x, y: binary_focal_loss(x, y, alpha=0.25, gamma=2.0, validate_args=validate).mean()

    def torch_anchor():  # torchvision.ops.sigmoid_focal_loss, written with plain torch ops
        import torch
        import torch.nn.functional as F

        def fl(x, y):
            p = torch.sigmoid(x)
            ce = F.binary_cross_entropy_with_logits(x, y, reduction="none")
            p_t = p * y + (1 - p) * (1 - y)
            return ((0.25 * y + 0.75 * (1 - y)) * ce * (1 - p_t) ** 2).mean()

        return fl

    def tf_ours(validate=False):
        import tensorflow as tf

        from tf_impl.losses import binary_focal_loss

        return lambda x, y: tf.reduce_mean(binary_focal_loss(y, x, alpha=0.25, gamma=2.0, validate_args=validate))

    def tf_anchor():
        import keras
        import tensorflow as tf

        return lambda x, y: tf.reduce_mean(keras.losses.binary_focal_crossentropy(
            y, x, apply_class_balancing=True, alpha=0.25, gamma=2.0, from_logits=True))

    return dict(name="BinaryFocalLoss", inputs=_sigmoid_inputs,
                torch=(torch_ours, torch_anchor, "torchvision sigmoid_focal_loss formula"),
                tf=(tf_ours, tf_anchor, "keras binary_focal_crossentropy"))


def _class_weights(cols):
    return (np.arange(1, cols + 1) / cols * 2).astype(np.float32)


def _wcce_entry():
    def torch_ours(validate=False):
        from torch_impl.losses import weighted_categorical_crossentropy

        def f(x, y):
            w = _class_weights(x.shape[-1])
            return weighted_categorical_crossentropy(x, y, class_weight=w, label_smoothing=0.1, validate_args=validate).mean()

        return f

    def torch_anchor():
        import torch

        def f(x, y):
            w = torch.tensor(_class_weights(x.shape[-1]))
            return torch.nn.functional.cross_entropy(x, y, weight=w, label_smoothing=0.1, reduction="none").mean()

        return f

    def tf_ours(validate=False):
        import tensorflow as tf

        from tf_impl.losses import weighted_categorical_crossentropy

        return lambda x, y: tf.reduce_mean(weighted_categorical_crossentropy(
            y, x, class_weight=_class_weights(x.shape[-1]), validate_args=validate))

    def tf_anchor():  # the usual TF weighting: per-sample CE times w[t]
        import tensorflow as tf

        return lambda x, y: tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, x)
                                           * tf.gather(_class_weights(x.shape[-1]), y))

    return dict(name="WeightedCategoricalCrossentropy", inputs=_softmax_inputs,
                torch=(torch_ours, torch_anchor, "CrossEntropyLoss(weight, smoothing)"),
                tf=(tf_ours, tf_anchor, "sparse_softmax_ce * w[t]"))


def _categorical_focal_entry():
    def torch_ours(validate=False):
        from torch_impl.losses import categorical_focal_loss

        return lambda x, y: categorical_focal_loss(x, y, alpha=0.25, gamma=2.0, validate_args=validate).mean()

    def torch_anchor():  # Keras's CategoricalFocalCrossentropy formula, in torch ops
        import torch

        def f(x, y):
            p = torch.softmax(x, -1).clamp(1e-7, 1 - 1e-7)
            q = torch.nn.functional.one_hot(y, x.shape[-1]).to(x.dtype)
            return (-(0.25 * (1 - p) ** 2 * q * torch.log(p)).sum(-1)).mean()

        return f

    def tf_ours(validate=False):
        import tensorflow as tf

        from tf_impl.losses import categorical_focal_loss

        return lambda x, y: tf.reduce_mean(categorical_focal_loss(y, x, alpha=0.25, gamma=2.0, validate_args=validate))

    def tf_anchor():
        import keras
        import tensorflow as tf

        return lambda x, y: tf.reduce_mean(keras.losses.categorical_focal_crossentropy(
            tf.one_hot(y, x.shape[-1]), x, alpha=0.25, gamma=2.0, from_logits=True))

    return dict(name="CategoricalFocalLoss", inputs=_softmax_inputs,
                torch=(torch_ours, torch_anchor, "Keras focal formula in torch ops"),
                tf=(tf_ours, tf_anchor, "keras categorical_focal_crossentropy"))


def _asymmetric_entry():
    def torch_ours(validate=False):
        from torch_impl.losses import asymmetric_loss

        return lambda x, y: asymmetric_loss(x, y, stop_focal_gradient=True, validate_args=validate).sum()

    def torch_anchor():  # the ASL reference AsymmetricLoss.forward (Ridnik et al. 2021)
        import torch

        def f(x, y):
            xs_pos = torch.sigmoid(x)
            xs_neg = (1 - xs_pos + 0.05).clamp(max=1)
            loss = y * torch.log(xs_pos.clamp(min=1e-8)) + (1 - y) * torch.log(xs_neg.clamp(min=1e-8))
            with torch.no_grad():
                pt = xs_pos * y + xs_neg * (1 - y)
                w = torch.pow(1 - pt, 1.0 * y + 4.0 * (1 - y))
            return -(loss * w).sum()

        return f

    def tf_ours(validate=False):
        import tensorflow as tf

        from tf_impl.losses import asymmetric_loss

        return lambda x, y: tf.reduce_sum(asymmetric_loss(y, x, stop_focal_gradient=True, validate_args=validate))

    def tf_anchor():  # no TF reference exists: plain sigmoid cross-entropy, for scale
        import tensorflow as tf

        return lambda x, y: tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(y, x))

    return dict(name="AsymmetricLoss", inputs=_sigmoid_inputs,
                torch=(torch_ours, torch_anchor, "ASL reference (torch)"),
                tf=(tf_ours, tf_anchor, "sigmoid_cross_entropy (no TF ref)"))


def _counts(cols):
    return np.maximum(1, (10000 / np.arange(1, cols + 1))).astype(np.float64)


def _class_balanced_entry():
    def torch_ours(validate=False):
        from torch_impl.losses import class_balanced_loss

        return lambda x, y: class_balanced_loss(x, y, samples_per_class=_counts(x.shape[-1]), beta=0.999, base="focal",
                                                gamma=2.0, validate_args=validate).mean()

    def torch_anchor():  # Cui et al.'s reference CB_loss, focal variant
        import torch
        import torch.nn.functional as F

        def f(x, y):
            k = x.shape[-1]
            w = (1 - 0.999) / (1 - np.power(0.999, _counts(k)))
            w = torch.tensor(w / w.sum() * k, dtype=x.dtype)
            q = F.one_hot(y, k).to(x.dtype)
            wn = (q * w).sum(1, keepdim=True)
            bc = F.binary_cross_entropy_with_logits(x, q, reduction="none")
            mod = torch.exp(-2.0 * q * x - 2.0 * torch.log(1 + torch.exp(-1.0 * x)))
            return torch.sum(wn * mod * bc) / torch.sum(q)

        return f

    def tf_ours(validate=False):
        import tensorflow as tf

        from tf_impl.losses import class_balanced_loss

        return lambda x, y: tf.reduce_mean(class_balanced_loss(y, x, samples_per_class=_counts(x.shape[-1]), beta=0.999,
                                                               base="focal", gamma=2.0, validate_args=validate))

    def tf_anchor():  # Cui's formula written with TF ops
        import tensorflow as tf

        def f(x, y):
            k = x.shape[-1]
            w = (1 - 0.999) / (1 - np.power(0.999, _counts(k)))
            w = tf.constant(w / w.sum() * k, tf.float32)
            q = tf.one_hot(y, k)
            wn = tf.reduce_sum(q * w, 1, keepdims=True)
            bc = tf.nn.sigmoid_cross_entropy_with_logits(q, x)
            mod = tf.exp(-2.0 * q * x - 2.0 * tf.math.log1p(tf.exp(-x)))
            return tf.reduce_sum(wn * mod * bc) / tf.reduce_sum(q)

        return f

    return dict(name="ClassBalancedLoss(focal)", inputs=_softmax_inputs,
                torch=(torch_ours, torch_anchor, "Cui et al. reference CB_loss"),
                tf=(tf_ours, tf_anchor, "Cui et al. formula in TF ops"))


def _logit_adjusted_entry():
    def priors(k):
        p = 1.0 / np.arange(1, k + 1)
        return p / p.sum()

    def torch_ours(validate=False):
        from torch_impl.losses import logit_adjusted_crossentropy

        return lambda x, y: logit_adjusted_crossentropy(x, y, class_priors=priors(x.shape[-1]), validate_args=validate).mean()

    def torch_anchor():
        import torch

        return lambda x, y: torch.nn.functional.cross_entropy(x + torch.tensor(np.log(priors(x.shape[-1])), dtype=x.dtype), y)

    def tf_ours(validate=False):
        import tensorflow as tf

        from tf_impl.losses import logit_adjusted_crossentropy

        return lambda x, y: tf.reduce_mean(logit_adjusted_crossentropy(y, x, class_priors=priors(x.shape[-1]),
                                                                       validate_args=validate))

    def tf_anchor():  # google-research logit_adjustment
        import tensorflow as tf

        def f(x, y):
            adjusted = x + tf.math.log(tf.cast(priors(x.shape[-1]) ** 1.0 + 1e-12, tf.float32))
            return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, adjusted))

        return f

    return dict(name="LogitAdjustedCrossentropy", inputs=_softmax_inputs,
                torch=(torch_ours, torch_anchor, "cross_entropy(x + log pi)"),
                tf=(tf_ours, tf_anchor, "google-research logit_adjustment"))


BENCHES = [_wbce_entry, _binary_focal_entry, _wcce_entry, _categorical_focal_entry, _asymmetric_entry,
           _class_balanced_entry, _logit_adjusted_entry]


# ------------------------------------------------------------------------------ the runners


def _torch_step(fn, x, y):
    def step():
        x.grad = None
        fn(x, y).backward()

    return step


def bench_torch(entry, x_np, y_np, repeats):
    import torch

    torch.set_num_threads(os.cpu_count() or 1)
    ours, anchor, anchor_name = entry["torch"]
    x = torch.tensor(x_np, requires_grad=True)
    y = torch.tensor(y_np)  # int64 class indices for the softmax family
    rows = [("torch eager", anchor_name, *_paired_times(_torch_step(anchor(), x, y), _torch_step(ours(), x, y), repeats))]
    rows.append(("torch eager, validate_args=True", anchor_name,
                 *_paired_times(_torch_step(anchor(), x, y), _torch_step(ours(validate=True), x, y), repeats)))
    torch._dynamo.reset()
    rows.append(("torch.compile", anchor_name, *_paired_times(_torch_step(torch.compile(anchor()), x, y),
                                                               _torch_step(torch.compile(ours()), x, y), repeats)))
    return rows


def bench_tf(entry, x_np, y_np, repeats):
    import tensorflow as tf

    ours, anchor, anchor_name = entry["tf"]
    x = tf.constant(x_np)
    y = tf.constant(y_np)

    def make_step(fn, mode):
        def grad(x, y):
            with tf.GradientTape() as tape:
                tape.watch(x)
                loss = fn(x, y)
            return tape.gradient(loss, x)

        if mode != "eager":
            grad = tf.function(grad, jit_compile=(mode == "xla"))
        return lambda: grad(x, y).numpy()

    rows = [("tf eager", anchor_name, *_paired_times(make_step(anchor(), "eager"), make_step(ours(), "eager"), repeats))]
    rows.append(("tf eager, validate_args=True", anchor_name,
                 *_paired_times(make_step(anchor(), "eager"), make_step(ours(validate=True), "eager"), repeats)))
    rows.append(("tf.function(jit_compile=True)", anchor_name,
                 *_paired_times(make_step(anchor(), "xla"), make_step(ours(), "xla"), repeats)))
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--elements", type=int, default=1_000_000)
    p.add_argument("--cols", type=int, default=100, help="labels/classes per sample")
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--only", default=None, help="substring of the loss names to run")
    p.add_argument("--frameworks", default="torch,tf")
    p.add_argument("--markdown", action="store_true", help="also print the README's table (ours/anchor per mode)")
    args = p.parse_args(argv)
    import tensorflow as tf
    import torch

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"torch {torch.__version__}, tensorflow {tf.__version__}")
    print(f"inputs: {args.elements:,} logits ({args.elements // args.cols} x {args.cols}), float32, "
          f"forward+backward, median of {args.repeats}")
    header = f"{'loss':<30} {'mode':<32} {'anchor':<42} {'anchor ms':>10} {'ours ms':>9} {'ours/anchor':>11}"
    print(header)
    print("-" * len(header))
    rng = np.random.default_rng(0)
    table = {}  # (loss, anchors) -> {mode: ratio}, for --markdown
    for make in BENCHES:
        entry = make()
        if args.only and args.only.lower() not in entry["name"].lower():
            continue
        x, y = entry["inputs"](args.elements // args.cols, args.cols, rng)
        rows = []
        if "torch" in args.frameworks:
            rows += bench_torch(entry, x, y, args.repeats)
        if "tf" in args.frameworks:
            rows += bench_tf(entry, x, y, args.repeats)
        for mode, anchor_name, t_a, t_o in rows:
            print(f"{entry['name']:<30} {mode:<32} {anchor_name:<42} {t_a * 1e3:>10.2f} {t_o * 1e3:>9.2f} {t_o / t_a:>10.2f}x")
            anchors = table.setdefault(entry["name"], ({}, {}))
            anchors[0][mode] = t_o / t_a
            anchors[1].setdefault("torch" if "torch" in mode else "tf", anchor_name)
    if args.markdown:
        modes = [("torch eager", "torch eager"), ("torch eager, validate_args=True", "torch eager, validated"),
                 ("torch.compile", "torch.compile"), ("tf eager", "tf eager"),
                 ("tf eager, validate_args=True", "tf eager, validated"), ("tf.function(jit_compile=True)", "tf XLA")]
        print()
        print("| loss | anchor (torch / TF) | " + " | ".join(label for _, label in modes) + " |")
        print("|---|---|" + "---:|" * len(modes))
        for name, (ratios, anchors) in table.items():
            cells = [f"{ratios[m]:.2f}x" if m in ratios else "-" for m, _ in modes]
            print(f"| {name} | {anchors.get('torch', '-')} / {anchors.get('tf', '-')} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
