"""The imbalance metrics inside each framework's machinery.

- torch: `torch.compile(metric.update, fullgraph=True)` over batch sizes 32, 17, 9 (no graph
  break, at most one recompile, equal to eager); content checks as torch ops with one host
  synchronisation and no NumPy conversion; DDP over two real gloo processes equal to one
  process.
- Keras: counts exact past 2^24 inside the compiled step (`model.evaluate`) on every backend;
  `model.fit`/`evaluate` under `tf.distribute.MirroredStrategy` over two logical CPU devices
  equal to one device (a subprocess, so that the device set-up does not touch other tests).

The compile tests change no Dynamo setting: torchmetrics's `Metric.update` wrapper counts
calls in `self._update_count`, an int attribute of the module, which Dynamo treats as a
constant by default (a recompile per call, torchmetrics issue #1780); the metrics let Dynamo
trace it as a symbolic int themselves (`torch_impl._update_count.DynamicUpdateCount`).
"""

import json
import os
import socket
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from conftest import needs_tf_backend

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (class, kwargs, multi-class inputs)
TORCH_SPECS = [
    ("BalancedAccuracy", {}, False),
    ("BalancedAccuracy", {"num_classes": 3, "adjusted": True}, True),
    ("TruePositiveRate", {"threshold": 0.3}, False),
    ("TrueNegativeRate", {"from_logits": True}, False),
    ("WeightedBalancedAccuracy", {"alpha": 0.7, "from_logits": True}, False),
    ("GeometricMean", {"from_logits": True}, False),
    ("MatthewsCorrelation", {"num_classes": 3}, True),
    ("PerClassRecall", {"num_classes": 3}, True),
    ("ShotAccuracy", {"samples_per_class": [200, 50, 10]}, True),
]
SPEC_IDS = [f"{c}-{'multiclass' if mc else 'binary'}" for c, _, mc in TORCH_SPECS]


def _torch_batch(torch, b, multiclass, from_logits, seed):
    g = torch.Generator().manual_seed(seed)
    if multiclass:
        return torch.randn(b, 3, generator=g), torch.randint(0, 3, (b,), generator=g), torch.rand(b, generator=g)
    scores = torch.randn(b, generator=g)
    preds = scores if from_logits else torch.sigmoid(scores)
    return preds, (torch.rand(b, generator=g) < 0.4).float(), torch.rand(b, generator=g)


# --------------------------------------------------------------------------------------------
# torch.compile
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls, kwargs, multiclass", TORCH_SPECS, ids=SPEC_IDS)
def test_torch_update_and_compute_compile_fullgraph_dynamic_batch(cls, kwargs, multiclass):
    """torch.compile(metric.update / metric.compute, fullgraph=True) over batch sizes 32, 17,
    9, with Dynamo's default settings: no graph break, at most one recompile of each (the
    second call makes the batch and torchmetrics's update counter dynamic; Dynamo's frame and
    unique-graph counters), and the same state and results as eager after every batch.
    aot_eager runs the traced, functionalized graphs without inductor's C++ build (seconds on
    a CPU runner); inductor traces the same graphs."""
    import torch
    import torch._dynamo as dynamo
    from torch._dynamo.testing import CompileCounterWithBackend
    from torch._dynamo.utils import counters

    from torch_impl import metrics

    dynamo.reset()
    counters.clear()
    assert not dynamo.config.allow_unspec_int_on_nn_module  # the default: the metric copes alone
    make = getattr(metrics, cls)
    compiled, eager, explained = make(**kwargs), make(**kwargs), make(**kwargs)
    update_counter, compute_counter = CompileCounterWithBackend("aot_eager"), CompileCounterWithBackend("aot_eager")
    batches = [_torch_batch(torch, b, multiclass, kwargs.get("from_logits", False), i) for i, b in enumerate((32, 17, 9))]
    update = torch.compile(compiled.update, backend=update_counter, fullgraph=True)
    compute = torch.compile(compiled.compute, backend=compute_counter, fullgraph=True)
    for preds, target, weight in batches:
        update(preds, target, sample_weight=weight)
        eager.update(preds, target, sample_weight=weight)
        assert torch.equal(compiled.confusion, eager.confusion)
        # scalar or vector; ShotAccuracy's NaN (a group with no class yet) compared as equal
        torch.testing.assert_close(compute(), eager.compute(), rtol=0, atol=0, equal_nan=True)
    assert update_counter.frame_count <= 2, f"update: {update_counter.frame_count} compilations for 3 batch sizes"
    assert compute_counter.frame_count <= 2, f"compute: {compute_counter.frame_count} compilations over 3 updates"
    assert counters["stats"]["unique_graphs"] <= 4, dict(counters["stats"])
    assert compiled.update_count == eager.update_count == 3
    # explain() resets dynamo's caches, hence after the counted run
    for preds, target, weight in batches:
        explanation = dynamo.explain(explained.update)(preds, target, sample_weight=weight)
        assert explanation.graph_break_count == 0, explanation.break_reasons
        assert explanation.graph_count == 1
    dynamo.reset()


def test_torch_content_checks_skipped_while_compiling():
    """The documented rule: content checks run eagerly and are skipped while compiling (the
    shape and dtype checks stay: they are static)."""
    import torch
    import torch._dynamo as dynamo

    from torch_impl import metrics

    dynamo.reset()
    preds, target = torch.rand(8), torch.full((8,), 2.0)  # 2 is not a binary label
    with pytest.raises(ValueError, match="Invalid `target`: binary labels must be 0 or 1"):
        metrics.TruePositiveRate().update(preds, target)
    metric = metrics.TruePositiveRate()
    update = torch.compile(metric.update, backend="aot_eager", fullgraph=True)
    update(preds, target)  # no check inside the graph: counted as positives
    assert metric.confusion[1].sum().item() == 8
    with pytest.raises(Exception, match="Shape mismatch: `target` has shape"):
        update(preds, target[:, None])
    dynamo.reset()


def test_torch_update_path_no_numpy_one_sync(monkeypatch):
    """Valid inputs: no NumPy conversion on the update path, and exactly one host
    synchronisation (one tensor -> bool) per call with validate_args=True, none without."""
    import torch

    from torch_impl import metrics

    def no_numpy(*args, **kwargs):
        raise AssertionError("NumPy conversion on the update path")

    syncs = []
    bool_of = torch.Tensor.__bool__

    def counted_bool(self):
        syncs.append(1)
        return bool_of(self)

    cases = [(metrics.BalancedAccuracy(), False), (metrics.BalancedAccuracy(num_classes=3), True), (metrics.WeightedBalancedAccuracy(), False)]
    batches = [_torch_batch(torch, 16, mc, False, 0) for _, mc in cases]
    for name in ("numpy", "tolist", "item"):
        monkeypatch.setattr(torch.Tensor, name, no_numpy)
    monkeypatch.setattr(torch.Tensor, "__bool__", counted_bool)
    for (metric, _), (preds, target, weight) in zip(cases, batches):
        del syncs[:]
        metric.update(preds, target, sample_weight=weight)
        assert len(syncs) == 1
        del syncs[:]
        metrics.balanced_accuracy(preds, target, num_classes=metric.num_classes, sample_weight=weight, validate_args=False)
        assert len(syncs) == 0


# --------------------------------------------------------------------------------------------
# DDP: two real gloo processes
# --------------------------------------------------------------------------------------------

_DDP_WORKER = textwrap.dedent(
    """
    import json, os, sys
    import numpy as np
    import torch
    import torch.distributed as dist

    rank, world, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    dist.init_process_group("gloo", rank=rank, world_size=world)
    from torch_impl import metrics

    specs = json.loads(sys.argv[4])
    stream = np.load(sys.argv[5])
    results = {}
    for key, (cls, kwargs, multiclass) in specs.items():
        metric = getattr(metrics, cls)(**kwargs)
        for i in range(rank, int(stream["batches"]), world):  # this rank's half of the stream
            p = stream[f"mc_p{i}" if multiclass else f"bin_p{i}"]
            y = stream[f"mc_y{i}" if multiclass else f"bin_y{i}"]
            metric.update(torch.as_tensor(p), torch.as_tensor(y), sample_weight=torch.as_tensor(stream[f"w{i}"]))
        results[key] = metric.compute().tolist()  # torchmetrics syncs the state across ranks
    with open(out, "w") as f:
        json.dump(results, f)
    # Both ranks past their last collective before either tears gloo down: a rank that destroys
    # the group while its peer still reads from it aborts the peer ("terminate called ...").
    dist.barrier()
    dist.destroy_process_group()
    """
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stream(batches=9):
    """Uneven batch sizes; weights are multiples of 1/8, so every float64 sum is exact and
    the summation order (per rank, then across ranks) cannot change a bit."""
    rng = np.random.default_rng(21)
    arrays = {"batches": np.array(batches)}
    for i in range(batches):
        b = int(rng.integers(5, 30))
        arrays[f"bin_y{i}"] = (rng.random(b) < 0.3).astype(np.float32)
        arrays[f"bin_p{i}"] = rng.normal(size=b).astype(np.float32) + arrays[f"bin_y{i}"]
        arrays[f"mc_y{i}"] = rng.integers(0, 3, b)
        arrays[f"mc_p{i}"] = rng.normal(size=(b, 3)).astype(np.float32)
        arrays[f"w{i}"] = (rng.integers(0, 17, b) / 8).astype(np.float32)
    return arrays


def test_torch_ddp_two_gloo_processes_equal_one_process(tmp_path):
    """Two processes (gloo, CPU) each update on their half of a weighted stream; compute()
    on each rank, after torchmetrics's sync, equals one process on the whole stream."""
    import torch

    from torch_impl import metrics

    specs = {
        f"{cls}-{i}": (cls, {**kw, "from_logits": True} if not mc else kw, mc)
        for i, (cls, kw, mc) in enumerate(TORCH_SPECS)
    }
    stream = _stream()
    np.savez(tmp_path / "stream.npz", **stream)
    env = dict(os.environ, MASTER_ADDR="127.0.0.1", MASTER_PORT=str(_free_port()), OMP_NUM_THREADS="1")
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _DDP_WORKER, str(rank), "2", str(tmp_path / f"rank{rank}.json"),
             json.dumps(specs), str(tmp_path / "stream.npz")],
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        for rank in range(2)
    ]
    for proc in procs:
        out, _ = proc.communicate(timeout=240)
        assert proc.returncode == 0, out[-3000:]

    for key, (cls, kwargs, multiclass) in specs.items():
        whole = getattr(metrics, cls)(**kwargs)
        for i in range(int(stream["batches"])):
            p = stream[f"mc_p{i}" if multiclass else f"bin_p{i}"]
            y = stream[f"mc_y{i}" if multiclass else f"bin_y{i}"]
            whole.update(torch.as_tensor(p), torch.as_tensor(y), sample_weight=torch.as_tensor(stream[f"w{i}"]))
        want = whole.compute().tolist()
        for rank in range(2):
            got = json.loads((tmp_path / f"rank{rank}.json").read_text())[key]
            assert got == want, (key, rank, got, want)


# --------------------------------------------------------------------------------------------
# Keras: counts past 2^24 inside the compiled step, on every backend
# --------------------------------------------------------------------------------------------


@pytest.mark.keras
@pytest.mark.parametrize("state", ["backend", "float32"])
def test_keras_counts_exact_beyond_2_24_inside_evaluate(state, monkeypatch):
    """model.evaluate runs the metric in Keras's compiled step (tf.function, jax.jit, the
    torch backend's step): one batch of weights 2^24, 2^24, 1, 1, 1 puts 2^25 + 3 (not a
    float32 number) in cell (0, 0), exactly. "float32" forces the float32 pair that jax
    without x64 runs, on whichever backend this is."""
    import keras
    from keras import ops

    from tf_impl import metrics

    if state == "float32":
        monkeypatch.setattr(metrics._confusion, "_state_dtype", lambda: "float32")
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, kernel_initializer="zeros")])  # logit 0
    metric = metrics.TrueNegativeRate(from_logits=True)
    model.compile(loss=keras.losses.BinaryCrossentropy(from_logits=True), weighted_metrics=[metric])
    x, y = np.zeros((5, 1), np.float32), np.zeros((5,), np.float32)
    w = np.array([2.0**24, 2.0**24, 1.0, 1.0, 1.0], np.float32)
    got = model.evaluate(x, y, sample_weight=w, batch_size=8, verbose=0, return_dict=True)
    assert got["true_negative_rate"] == 1.0
    hi, lo = (np.asarray(ops.convert_to_numpy(v), np.float64) for v in (metric.confusion, metric.confusion_residual))
    assert (hi + lo).tolist() == [[2.0**25 + 3, 0.0], [0.0, 0.0]]


# --------------------------------------------------------------------------------------------
# Keras: MirroredStrategy over two logical CPU devices = one device
# --------------------------------------------------------------------------------------------

_MIRRORED_SCRIPT = textwrap.dedent(
    """
    import json, os
    os.environ["KERAS_BACKEND"] = "tensorflow"
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras
    import numpy as np
    from tf_impl import metrics

    rng = np.random.default_rng(5)
    n = 64
    x = rng.normal(size=(n, 4)).astype("float32")
    y_bin = (x[:, 0] + rng.normal(size=n) > 0.8).astype("float32")  # (B,) labels, (B, 1) output
    y_mc = np.argmax(x[:, :3] + rng.normal(size=(n, 3)), axis=1)
    w = (rng.integers(1, 17, n) / 8).astype("float32")  # exact float64 sums in any order

    def head_metrics(multiclass):
        if multiclass:
            return [metrics.BalancedAccuracy(num_classes=3, name="ba"), metrics.BalancedAccuracy(num_classes=3, adjusted=True, name="ba_adj")]
        return [metrics.BalancedAccuracy(from_logits=True, name="ba"), metrics.TruePositiveRate(from_logits=True, threshold=0.4, name="tpr"),
                metrics.TrueNegativeRate(from_logits=True, name="tnr"), metrics.WeightedBalancedAccuracy(alpha=0.7, from_logits=True, name="wba")]

    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    with strategy.scope():
        keras.utils.set_random_seed(0)
        inputs = keras.Input((4,))
        model = keras.Model(inputs, {"bin": keras.layers.Dense(1, name="bin")(inputs), "mc": keras.layers.Dense(3, name="mc")(inputs)})
        # learning rate 0: fit's metrics see the same model on every batch
        model.compile(
            optimizer=keras.optimizers.SGD(0.0),
            loss={"bin": keras.losses.BinaryCrossentropy(from_logits=True), "mc": keras.losses.SparseCategoricalCrossentropy(from_logits=True)},
            weighted_metrics={"bin": head_metrics(False), "mc": head_metrics(True)},
        )
    y = {"bin": y_bin, "mc": y_mc}
    fit = model.fit(x, y, sample_weight=w, batch_size=16, epochs=1, shuffle=False, verbose=0).history
    evaluate = model.evaluate(x, y, sample_weight=w, batch_size=16, verbose=0, return_dict=True)
    out = {"replicas": strategy.num_replicas_in_sync, "y_bin": y_bin.tolist(), "y_mc": y_mc.tolist(), "w": w.tolist(),
           "x": x.tolist(), "fit": {k: v[-1] for k, v in fit.items()}, "evaluate": evaluate,
           "weights": {layer: [v.tolist() for v in model.get_layer(layer).get_weights()] for layer in ("bin", "mc")}}
    print("RESULT" + json.dumps(out))
    """
)


@needs_tf_backend
def test_keras_mirrored_strategy_two_devices_equal_one_device():
    """model.fit and model.evaluate under MirroredStrategy over two logical CPU devices (each
    replica updates its own copy of the state on its half of every batch; Keras sums the
    copies on read) give the one-device value on the whole data: scikit-learn's on the
    model's decisions (learning rate 0, so that fit sees one model throughout)."""
    from sklearn.metrics import balanced_accuracy_score, recall_score

    env = dict(os.environ, KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.run([sys.executable, "-c", _MIRRORED_SCRIPT], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    out = json.loads(proc.stdout.split("RESULT", 1)[1])
    assert out["replicas"] == 2
    x, w = np.asarray(out["x"], np.float64), np.asarray(out["w"])
    for mode in ("bin", "mc"):
        kernel, bias = (np.asarray(v, np.float64) for v in out["weights"][mode])
        scores = x @ kernel + bias  # the model's logits (no decision lies within 1e-4 of a cut)
        if mode == "bin":
            y = np.asarray(out["y_bin"])
            cut40 = np.log(0.4 / 0.6)
            assert np.min(np.abs(scores)) > 1e-4 and np.min(np.abs(scores - cut40)) > 1e-4
            hard, hard40 = (scores[:, 0] > 0).astype(int), (scores[:, 0] > cut40).astype(int)
            r1, r0 = (recall_score(y, hard, pos_label=p, sample_weight=w) for p in (1, 0))
            want = {"ba": balanced_accuracy_score(y, hard, sample_weight=w), "tpr": recall_score(y, hard40, sample_weight=w),
                    "tnr": r0, "wba": 0.7 * r1 + 0.3 * r0}
        else:
            y = np.asarray(out["y_mc"])
            top2 = np.sort(scores, axis=1)[:, -2:]
            assert np.min(top2[:, 1] - top2[:, 0]) > 1e-4
            hard = scores.argmax(1)
            want = {"ba": balanced_accuracy_score(y, hard, sample_weight=w),
                    "ba_adj": balanced_accuracy_score(y, hard, sample_weight=w, adjusted=True)}
        for name, value in want.items():
            for stage in ("fit", "evaluate"):
                np.testing.assert_allclose(out[stage][f"{mode}_{name}"], value, rtol=0, atol=1e-7, err_msg=f"{mode} {stage} {name}")
