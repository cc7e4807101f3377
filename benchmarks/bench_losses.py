"""Forward + backward time of each classbalance loss against its anchor, measured in one run.

For every entry of BENCHES: torch eager, torch.compile, TensorFlow eager and
tf.function(jit_compile=True) (tf_impl on Keras's tensorflow backend), printed as ours/anchor
ratios (< 1.0 means faster than the anchor). Our losses run with validate_args=False in the
main rows (the anchors validate nothing); one extra row per entry shows the cost of the
default validate_args=True in eager mode.

How a ratio is measured, so that it repeats on a shared, noisy machine: one thread per
framework (torch.set_num_threads(1); TensorFlow's intra- and inter-op pools of 1); in eager
mode the anchor, ours and ours with validate_args=True are timed one after the other in every
round (in all six orders in turn; compiled: the anchor and ours, the order swapped every
round); rounds where any step took more than twice its median time are dropped as disturbed by
outside load; a ratio is the median over the remaining rounds of the round's ours/anchor
(each round's steps ran under the same load), printed with its 90 % bootstrap interval, the
"low" and "high" columns: a ratio whose interval holds 1.0 is not told apart from the anchor
by this run. The "ms" columns are the lower quartiles of the step times.

    python benchmarks/bench_losses.py [--elements 1000000] [--repeats 30] [--only wbce]
    python benchmarks/bench_losses.py --device cuda   # torch and Keras on torch, GB/s

With `--device cuda` (a GPU) the torch rows and tf_impl on Keras's torch backend run on the
GPU, timed with CUDA events, and each row also reports GB/s: the bytes of a minimal unfused
pass (read the logits and targets, write the gradient) over the time, next to a device copy of
the same bytes measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys  # noqa: E402
import time

# --device cuda runs tf_impl on Keras's torch backend; otherwise on tensorflow. Chosen before
# Keras is imported.
os.environ.setdefault("KERAS_BACKEND", "torch" if "cuda" in " ".join(sys.argv[1:]) else "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import warnings  # noqa: E402

import numpy as np  # noqa: E402

# dynamo traces NumPy weights as tensors and warns about copy-constructing them; harmless here
warnings.filterwarnings("ignore", message="To copy construct from a tensor")

DISTURBED = 2.0  # a round where either step took this many times its median is dropped
QUANTILE = 0.25


class Timing(tuple):
    """(anchor seconds, ours seconds, ratio, (low, high) 90 % interval of the ratio, rounds kept)."""

    __slots__ = ()

    def __new__(cls, t_a, t_o, ratio, interval, kept):
        return super().__new__(cls, (t_a, t_o, ratio, interval, kept))


BOOTSTRAP = 2000  # resamples of the rounds for the interval
LEVEL = 0.90


def paired_ratio(t_a, t_o, keep=None) -> Timing:
    """The median over undisturbed rounds of the per-round ratio ours/anchor, its bootstrap
    interval, and the lower-quartile times."""
    t_a, t_o = np.asarray(t_a), np.asarray(t_o)
    if keep is None:
        keep = undisturbed([t_a, t_o])
    a, o = t_a[keep], t_o[keep]
    ratios = o / a
    rng = np.random.default_rng(0)
    medians = np.median(ratios[rng.integers(0, len(ratios), (BOOTSTRAP, len(ratios)))], axis=1)
    tail = (1 - LEVEL) / 2
    interval = (float(np.quantile(medians, tail)), float(np.quantile(medians, 1 - tail)))
    q = lambda v: float(np.quantile(v, QUANTILE))  # noqa: E731
    return Timing(q(a), q(o), float(np.median(ratios)), interval, int(keep.sum()))


def undisturbed(times) -> np.ndarray:
    """The rounds where no step took more than DISTURBED times its median (all rounds when
    fewer than half would be left: load throughout, nothing to single out)."""
    keep = np.logical_and.reduce([np.asarray(t) <= DISTURBED * np.median(t) for t in times])
    if keep.sum() < len(keep) // 2:
        keep[:] = True
    return keep


def _round_times(steps, repeats: int, warmup: int = 10, clock=None) -> list[np.ndarray]:
    """Each step's time in each round, the steps run one after the other in every round, in a
    different order round by round (all orders in turn, so that load on the machine and cache
    effects hit every step alike)."""
    import itertools

    clock = clock or _wall_clock
    for _ in range(warmup):
        for step in steps:
            step()
    orders = list(itertools.permutations(range(len(steps))))
    times: list[list[float]] = [[] for _ in steps]
    for i in range(repeats):
        for j in orders[i % len(orders)]:
            times[j].append(clock(steps[j]))
    return [np.asarray(t) for t in times]


def _paired_times(step_anchor, step_ours, repeats: int, clock=None) -> Timing:
    """ours/anchor, timed round by round (see paired_ratio)."""
    t_a, t_o = _round_times([step_anchor, step_ours], repeats, clock=clock)
    return paired_ratio(t_a, t_o)


def _eager_rows(step_anchor, step_ours, step_validated, repeats: int, prefix: str, anchor_name: str, clock=None):
    """The eager rows: ours/anchor, validated/anchor and validated/ours, from the same rounds."""
    t_a, t_o, t_v = _round_times([step_anchor, step_ours, step_validated], repeats, clock=clock)
    keep = undisturbed([t_a, t_o, t_v])
    return [(f"{prefix} eager", anchor_name, paired_ratio(t_a, t_o, keep)),
            (f"{prefix} eager, validate_args=True", anchor_name, paired_ratio(t_a, t_v, keep)),
            (f"{prefix} eager, validation cost", "ours, validate_args=False", paired_ratio(t_o, t_v, keep))]


def _wall_clock(step) -> float:
    t0 = time.perf_counter()
    step()
    return time.perf_counter() - t0


def _cuda_clock(step) -> float:
    import torch

    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    step()
    end.record()
    end.synchronize()
    return start.elapsed_time(end) / 1e3


def one_thread() -> None:
    """One thread per framework (see the module docstring); before TensorFlow starts."""
    import torch

    torch.set_num_threads(1)
    if os.environ.get("KERAS_BACKEND") == "tensorflow":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)


# ------------------------------------------------------------------------------ the entries
# Each entry: inputs(rows, cols) -> (logits, target) NumPy; torch/tf "ours" and "anchor"
# callables mapping (logits, target) to a scalar loss (the mean).


def _keras_form(name, kwargs=lambda k: {}, reduce="mean"):
    """tf_impl's functional form on the current Keras backend (used on Keras's torch backend),
    validate_args=False like the other main rows, reduced like the entry's torch rows."""

    def make():
        from keras import ops

        from tf_impl import losses

        fn = getattr(losses, name)

        def f(x, y):
            v = fn(y, x, validate_args=False, **kwargs(x.shape[-1]))
            return ops.mean(v) if reduce == "mean" else ops.sum(v)

        return f

    return make


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
        keras=_keras_form("weighted_binary_crossentropy", lambda k: dict(pos_weight=pos)),
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
                keras=_keras_form("binary_focal_loss", lambda k: dict(alpha=0.25, gamma=2.0)),
                torch=(torch_ours, torch_anchor, "torchvision sigmoid_focal_loss formula"),
                tf=(tf_ours, tf_anchor, "keras binary_focal_crossentropy"))


def _class_weights(cols):
    return (np.arange(1, cols + 1) / cols * 2).astype(np.float32)


def _wcce_entry():
    def torch_ours(validate=False):
        from torch_impl.losses import weighted_categorical_crossentropy

        def f(x, y):
            w = _class_weights(x.shape[-1])
            return weighted_categorical_crossentropy(x, y, class_weight=w, label_smoothing=0.1,
                                                     validate_args=validate).mean()

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
                keras=_keras_form("weighted_categorical_crossentropy",
                                  lambda k: dict(class_weight=_class_weights(k), label_smoothing=0.1)),
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
                keras=_keras_form("categorical_focal_loss", lambda k: dict(alpha=0.25, gamma=2.0)),
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

    def tf_anchor():  # the ASL reference's forward written in TF ops (there is no TF reference)
        import tensorflow as tf

        def f(x, y):
            xs_pos = tf.sigmoid(x)
            xs_neg = tf.minimum(1 - xs_pos + 0.05, 1.0)
            loss = y * tf.math.log(tf.maximum(xs_pos, 1e-8)) + (1 - y) * tf.math.log(tf.maximum(xs_neg, 1e-8))
            pt = tf.stop_gradient(xs_pos * y + xs_neg * (1 - y))
            w = tf.stop_gradient(tf.pow(1 - pt, 1.0 * y + 4.0 * (1 - y)))
            return -tf.reduce_sum(loss * w)

        return f

    return dict(name="AsymmetricLoss", inputs=_sigmoid_inputs,
                keras=_keras_form("asymmetric_loss", lambda k: dict(stop_focal_gradient=True), reduce="sum"),
                torch=(torch_ours, torch_anchor, "ASL reference (torch)"),
                tf=(tf_ours, tf_anchor, "ASL reference in TF ops"))


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
                keras=_keras_form("class_balanced_loss",
                                  lambda k: dict(samples_per_class=_counts(k), beta=0.999, base="focal", gamma=2.0)),
                torch=(torch_ours, torch_anchor, "Cui et al. reference CB_loss"),
                tf=(tf_ours, tf_anchor, "Cui et al. formula in TF ops"))


def _logit_adjusted_entry():
    def priors(k):
        p = 1.0 / np.arange(1, k + 1)
        return p / p.sum()

    def torch_ours(validate=False):
        from torch_impl.losses import logit_adjusted_crossentropy

        return lambda x, y: logit_adjusted_crossentropy(x, y, class_priors=priors(x.shape[-1]),
                                                        validate_args=validate).mean()

    def torch_anchor():
        import torch

        return lambda x, y: torch.nn.functional.cross_entropy(
            x + torch.tensor(np.log(priors(x.shape[-1])), dtype=x.dtype), y)

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
                keras=_keras_form("logit_adjusted_crossentropy", lambda k: dict(class_priors=priors(k))),
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


def bench_torch(entry, x_np, y_np, repeats, device="cpu"):
    import torch

    ours, anchor, anchor_name = entry["torch"]
    x = torch.tensor(x_np, device=device, requires_grad=True)
    y = torch.tensor(y_np, device=device)  # int64 class indices for the softmax family
    clock = _cuda_clock if device == "cuda" else None
    rows = _eager_rows(_torch_step(anchor(), x, y), _torch_step(ours(), x, y), _torch_step(ours(validate=True), x, y),
                       repeats, "torch", anchor_name, clock=clock)
    torch._dynamo.reset()
    rows.append(("torch.compile", anchor_name, _paired_times(_torch_step(torch.compile(anchor()), x, y),
                                                             _torch_step(torch.compile(ours()), x, y), repeats,
                                                             clock=clock)))
    return rows


def bench_keras_torch(entry, x_np, y_np, repeats, device="cuda"):
    """tf_impl's functional form on Keras's torch backend against the torch anchor."""
    import torch

    _, anchor, anchor_name = entry["torch"]
    ours = entry["keras"]
    x = torch.tensor(x_np, device=device, requires_grad=True)
    y = torch.tensor(y_np, device=device)
    clock = _cuda_clock if device == "cuda" else None
    return [("keras/torch eager", anchor_name, _paired_times(_torch_step(anchor(), x, y), _torch_step(ours(), x, y),
                                                            repeats, clock=clock))]


def copy_bandwidth(nbytes: int, repeats: int) -> float:
    """GB/s of a device-to-device copy of `nbytes` (read + write), lower-quartile time."""
    import torch

    src = torch.empty(nbytes // 4, dtype=torch.float32, device="cuda")
    dst = torch.empty_like(src)
    times = [_cuda_clock(lambda: dst.copy_(src)) for _ in range(repeats + 3)][3:]
    return 2 * nbytes / float(np.quantile(times, QUANTILE)) / 1e9


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

    rows = _eager_rows(make_step(anchor(), "eager"), make_step(ours(), "eager"),
                       make_step(ours(validate=True), "eager"), repeats, "tf", anchor_name)
    rows.append(("tf.function(jit_compile=True)", anchor_name,
                 _paired_times(make_step(anchor(), "xla"), make_step(ours(), "xla"), repeats)))
    return rows


_NOT_KERNELS = {"Const", "Placeholder", "Identity", "NoOp", "StopGradient", "Shape", "ReadVariableOp",
                "Reshape", "ExpandDims", "Squeeze", "Pack", "StridedSlice", "Cast", "ZerosLike", "OnesLike",
                "BroadcastGradientArgs", "Size", "Rank", "Range", "Fill"}


def tf_profile(fn, x_np, y_np) -> tuple[int, str]:
    """Elementwise/reduction kernels in the forward + backward graph (what eager mode runs one
    by one): (count, the commonest op types)."""
    import collections

    import tensorflow as tf

    @tf.function
    def grad(x, y):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = fn(x, y)
        return tape.gradient(loss, x)

    graph = grad.get_concrete_function(tf.constant(x_np), tf.constant(y_np)).graph
    kinds = collections.Counter(op.type for op in graph.get_operations() if op.type not in _NOT_KERNELS)
    return sum(kinds.values()), ", ".join(f"{k} {n}" for k, n in kinds.most_common(4))


def torch_profile(fn, x_np, y_np) -> tuple[int, str]:
    """aten kernels launched by one eager forward + backward, and the top self-time ops."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    x = torch.tensor(x_np, requires_grad=True)
    y = torch.tensor(y_np)
    step = _torch_step(fn, x, y)
    step()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        step()
    events = [e for e in prof.key_averages() if e.key.startswith("aten::") and e.self_cpu_time_total > 0]
    kernels = sum(e.count for e in events if e.key not in ("aten::empty", "aten::empty_like", "aten::empty_strided",
                                                           "aten::as_strided", "aten::view", "aten::detach",
                                                           "aten::to", "aten::_to_copy", "aten::expand"))
    top = sorted(events, key=lambda e: -e.self_cpu_time_total)[:3]
    total = sum(e.self_cpu_time_total for e in events) or 1
    return kernels, ", ".join(f"{e.key[6:]} {100 * e.self_cpu_time_total / total:.0f}%" for e in top)


OVERHEAD_ROWS = 10  # rows of the per-call probe: the kernels cost next to nothing, the call is what is left


def per_call_us(entry, framework: str, cols: int, calls: int = 200) -> dict[str, tuple[float, float]]:
    """Forward + backward time per call at OVERHEAD_ROWS x cols, {mode: (anchor us, ours us)},
    the medians of `calls` calls timed alternately: what a call costs beside its kernels (the
    difference between ours and the anchor at the full size is this difference when the kernels
    are the same)."""
    rng = np.random.default_rng(1)
    x_np, y_np = entry["inputs"](OVERHEAD_ROWS, cols, rng)
    ours, anchor, _ = entry[framework]
    out = {}
    if framework == "torch":
        import torch

        x = torch.tensor(x_np, requires_grad=True)
        y = torch.tensor(y_np)
        modes = {"eager": (anchor(), ours())}
        torch._dynamo.reset()
        modes["compiled"] = (torch.compile(anchor()), torch.compile(ours()))
        steps = {m: (_torch_step(a, x, y), _torch_step(o, x, y)) for m, (a, o) in modes.items()}
    else:
        import tensorflow as tf

        x, y = tf.constant(x_np), tf.constant(y_np)

        def make_step(fn):
            def step():
                with tf.GradientTape() as tape:
                    tape.watch(x)
                    loss = fn(x, y)
                return tape.gradient(loss, x).numpy()

            return step

        steps = {"eager": (make_step(anchor()), make_step(ours()))}
    for mode, (step_anchor, step_ours) in steps.items():
        t_a, t_o = _round_times([step_anchor, step_ours], calls, warmup=20)
        out[mode] = (float(np.median(t_a)) * 1e6, float(np.median(t_o)) * 1e6)
    return out


def call_between_kernels_us(entry, x_np, y_np, rounds: int = 200) -> float:
    """How much more our eager torch call at OVERHEAD_ROWS rows costs than the anchor's where it
    runs between full-size steps (caches and branch predictors cold from the big kernels), not
    in a tight loop: rounds of the anchor's small call then its full-size step, and of our small
    call then the same full-size step; the median over the rounds of the difference, in us."""
    import torch

    ours, anchor, _ = entry["torch"]
    rng = np.random.default_rng(1)
    xs_np, ys_np = entry["inputs"](OVERHEAD_ROWS, x_np.shape[-1], rng)
    x, y = torch.tensor(x_np, requires_grad=True), torch.tensor(y_np)
    xs, ys = torch.tensor(xs_np, requires_grad=True), torch.tensor(ys_np)
    big = _torch_step(anchor(), x, y)
    small_anchor, small_ours = _torch_step(anchor(), xs, ys), _torch_step(ours(), xs, ys)
    t_anchor, t_ours = _round_times([lambda: (small_anchor(), big()), lambda: (small_ours(), big())], rounds)
    return float(np.median(t_ours - t_anchor)) * 1e6


def print_profiles(entry, x, y, frameworks) -> None:
    for framework, profiler in (("torch", torch_profile), ("tf", tf_profile)):
        if framework not in frameworks:
            continue
        ours, anchor, anchor_name = entry[framework]
        for who, fn in (("anchor", anchor()), ("ours", ours())):
            n, top = profiler(fn, x, y)
            print(f"  profile {framework:<5} {who:<6} {n:>3} kernels  ({top})")
        for mode, (us_a, us_o) in per_call_us(entry, framework, x.shape[-1]).items():
            print(f"  per call {framework:<5} {mode:<8} at {OVERHEAD_ROWS} x {x.shape[-1]}: anchor {us_a:,.0f} us, "
                  f"ours {us_o:,.0f} us ({us_o - us_a:+,.0f} us)")
        if framework == "torch":
            print(f"  per call torch eager   at {OVERHEAD_ROWS} x {x.shape[-1]}, each followed by the anchor's "
                  f"full-size step: ours {call_between_kernels_us(entry, x, y):+,.0f} us")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--elements", type=int, default=1_000_000)
    p.add_argument("--cols", type=int, default=100, help="labels/classes per sample")
    p.add_argument("--repeats", type=int, default=50, help="timed rounds per row (each times ours and the anchor)")
    p.add_argument("--only", default=None, help="substring of the loss names to run")
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    p.add_argument("--frameworks", default=None, help="default: torch,tf on cpu; torch,keras (on torch) on cuda")
    p.add_argument("--markdown", action="store_true", help="also print the docs' table (ours/anchor per mode)")
    p.add_argument("--profile", action="store_true",
                   help="also count the kernels of one forward + backward (torch eager, TF graph) per loss")
    args = p.parse_args(argv)
    cuda = args.device == "cuda"
    frameworks = (args.frameworks or ("torch,keras" if cuda else "torch,tf")).split(",")
    import torch

    if cuda and not torch.cuda.is_available():
        p.error("--device cuda: torch sees no CUDA device")
    one_thread()
    versions = f"torch {torch.__version__}"
    if "tf" in frameworks:
        import tensorflow as tf

        versions += f", tensorflow {tf.__version__}"
    if "keras" in frameworks:
        import keras

        versions += f", keras {keras.__version__} on {keras.backend.backend()}"
    cores = f"{platform.machine()}, {os.cpu_count()} cores, 1 thread per framework"
    where = torch.cuda.get_device_name(0) if cuda else cores
    print(f"machine: {where}, Python {platform.python_version()}, {versions}")
    print(f"inputs: {args.elements:,} logits ({args.elements // args.cols} x {args.cols}), float32, forward+backward, "
          f"{args.repeats} rounds; ratio: median of the per-round ratios of the undisturbed rounds (a round with a "
          f"step > {DISTURBED:g}x its median dropped), low-high: its {LEVEL:.0%} bootstrap interval")
    header = (f"{'loss':<30} {'mode':<34} {'anchor':<42} {'anchor ms':>10} {'ours ms':>9} {'ours/anchor':>11} "
              f"{'low':>6} {'high':>6} {'kept':>5}" + (f" {'ours GB/s':>9} {'copy GB/s':>9}" if cuda else ""))
    print(header)
    print("-" * len(header))
    rng = np.random.default_rng(0)
    table = {}  # (loss, anchors) -> {mode: ratio}, for --markdown
    copy = None
    for make in BENCHES:
        entry = make()
        if args.only and args.only.lower() not in entry["name"].lower():
            continue
        x, y = entry["inputs"](args.elements // args.cols, args.cols, rng)
        nbytes = 2 * x.nbytes + y.nbytes  # a minimal pass: read logits and targets, write the gradient
        if cuda and copy is None:
            copy = copy_bandwidth(nbytes, args.repeats)
        rows = []
        if "torch" in frameworks:
            rows += bench_torch(entry, x, y, args.repeats, device=args.device)
        if "keras" in frameworks:
            rows += bench_keras_torch(entry, x, y, args.repeats, device=args.device)
        if "tf" in frameworks:
            rows += bench_tf(entry, x, y, args.repeats)
        for mode, anchor_name, (t_a, t_o, ratio, (low, high), kept) in rows:
            line = (f"{entry['name']:<30} {mode:<34} {anchor_name:<42} {t_a * 1e3:>10.3f} {t_o * 1e3:>9.3f} "
                    f"{ratio:>10.2f}x {low:>6.2f} {high:>6.2f} {kept:>5}")
            if cuda:
                line += f" {nbytes / t_o / 1e9:>9.0f} {copy:>9.0f}"
            print(line)
            anchors = table.setdefault(entry["name"], ({}, {}))
            anchors[0][mode] = (ratio, low, high)
            if "validation cost" not in mode:
                anchors[1].setdefault("tf" if mode.startswith("tf") else "torch", anchor_name)
        if args.profile and not cuda:
            print_profiles(entry, x, y, frameworks)
    if args.markdown:
        modes = [("torch eager", "torch eager"), ("torch eager, validate_args=True", "torch eager, validated"),
                 ("torch eager, validation cost", "torch validated / not"), ("torch.compile", "torch.compile"),
                 ("keras/torch eager", "Keras on torch"), ("tf eager", "tf eager"),
                 ("tf eager, validate_args=True", "tf eager, validated"),
                 ("tf eager, validation cost", "tf validated / not"), ("tf.function(jit_compile=True)", "tf XLA")]
        modes = [m for m in modes if any(m[0] in ratios for ratios, _ in table.values())]
        print()
        print("| loss | anchor (torch / TF) | " + " | ".join(label for _, label in modes) + " |")
        print("|---|---|" + "---:|" * len(modes))
        for name, (ratios, anchors) in table.items():
            cells = [f"{ratios[m][0]:.2f}x ({ratios[m][1]:.2f}-{ratios[m][2]:.2f})" if m in ratios else "-"
                     for m, _ in modes]
            print(f"| {name} | {anchors.get('torch', '-')} / {anchors.get('tf', '-')} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
