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

import numpy as np  # noqa: E402


def _median_time(step, repeats: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        step()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


# ------------------------------------------------------------------------------ the entries
# Each entry: inputs(rows, cols) -> (logits, target) NumPy; torch/tf "ours" and "anchor"
# callables mapping (logits, target) to a scalar loss (the mean).


def _sigmoid_inputs(rows, cols, rng):
    x = rng.normal(size=(rows, cols)).astype(np.float32) * 3
    y = (rng.random((rows, cols)) < 0.1).astype(np.float32)
    return x, y


def _wbce_entry():
    pos = 5.0

    def torch_ours(validate=False):
        from torch_impl.losses import weighted_binary_crossentropy

        return lambda x, y: weighted_binary_crossentropy(x, y, pos_weight=pos, validate_args=validate).mean()

    def torch_anchor():
        import torch

        p = torch.tensor(pos)
        return lambda x, y: torch.nn.functional.binary_cross_entropy_with_logits(x, y, pos_weight=p)

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


BENCHES = [_wbce_entry]


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
    y = torch.tensor(y_np)
    rows = []
    t_anchor = _median_time(_torch_step(anchor(), x, y), repeats)
    t_ours = _median_time(_torch_step(ours(), x, y), repeats)
    rows.append(("torch eager", anchor_name, t_anchor, t_ours))
    t_val = _median_time(_torch_step(ours(validate=True), x, y), repeats)
    rows.append(("torch eager, validate_args=True", anchor_name, t_anchor, t_val))
    torch._dynamo.reset()
    t_anchor_c = _median_time(_torch_step(torch.compile(anchor()), x, y), repeats)
    t_ours_c = _median_time(_torch_step(torch.compile(ours()), x, y), repeats)
    rows.append(("torch.compile", anchor_name, t_anchor_c, t_ours_c))
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

    rows = []
    t_anchor = _median_time(make_step(anchor(), "eager"), repeats)
    t_ours = _median_time(make_step(ours(), "eager"), repeats)
    rows.append(("tf eager", anchor_name, t_anchor, t_ours))
    t_val = _median_time(make_step(ours(validate=True), "eager"), repeats)
    rows.append(("tf eager, validate_args=True", anchor_name, t_anchor, t_val))
    t_anchor_x = _median_time(make_step(anchor(), "xla"), repeats)
    t_ours_x = _median_time(make_step(ours(), "xla"), repeats)
    rows.append(("tf.function(jit_compile=True)", anchor_name, t_anchor_x, t_ours_x))
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--elements", type=int, default=1_000_000)
    p.add_argument("--cols", type=int, default=100, help="labels/classes per sample")
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--only", default=None, help="substring of the loss names to run")
    p.add_argument("--frameworks", default="torch,tf")
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


if __name__ == "__main__":
    main()
