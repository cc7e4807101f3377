"""tf_impl.data: balanced_batches (model.fit, nests, tf.distribute) and balance_dataset, and
their identity with torch_impl.data (same index batches, same errors)."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from conftest import needs_tf_backend

tf = pytest.importorskip("tensorflow")

from imbalance_core.schedule import BalancedSchedule  # noqa: E402
from tf_impl.data import balance_dataset, balanced_batches  # noqa: E402

pytestmark = needs_tf_backend
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _labels(n, fractions, seed=0):
    return np.random.default_rng(seed).choice(len(fractions), size=n, p=fractions).astype(np.int64)


def _index_batches(ds):
    # x is arange(N) in these tests, so the features of a batch are its indices.
    return np.stack([np.asarray(xb["idx"] if isinstance(xb, dict) else xb) for xb, _ in ds.as_numpy_iterator()])


def test_dict_features_exact_composition_and_epochs():
    y = _labels(2_000, [0.9, 0.08, 0.02])
    x = {"idx": np.arange(2_000), "feat": np.random.default_rng(1).normal(size=(2_000, 4)).astype("float32")}
    ds = balanced_batches(x, y, 20, class_fractions=[0.5, 0.25, 0.25], seed=3)
    assert int(ds.cardinality()) == 100
    epochs = []
    for _ in range(2):
        rows = []
        for xb, yb in ds:
            idx = xb["idx"].numpy()
            np.testing.assert_array_equal(yb.numpy(), y[idx])
            np.testing.assert_array_equal(xb["feat"].numpy(), x["feat"][idx])
            assert np.bincount(yb.numpy(), minlength=3).tolist() == [10, 5, 5]
            rows.append(idx)
        epochs.append(np.stack(rows))
    sched = BalancedSchedule(y, 20, class_fractions=[0.5, 0.25, 0.25], seed=3)
    np.testing.assert_array_equal(epochs[0], sched.epoch_batches(0))  # k-th pass = epoch k
    np.testing.assert_array_equal(epochs[1], sched.epoch_batches(1))
    assert not np.array_equal(epochs[0], epochs[1])


def test_tuple_features_and_tensor_inputs():
    y = _labels(500, [0.8, 0.2])
    x = (tf.range(500), tf.ones((500, 2, 3)))
    ds = balanced_batches(x, tf.constant(y), 10, mode="sampled", seed=1)
    (a, b), yb = next(iter(ds))
    assert a.shape == (10,) and b.shape == (10, 2, 3)
    np.testing.assert_array_equal(yb.numpy(), y[a.numpy()])


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(),
        dict(class_fractions=[0.2, 0.3, 0.5], mode="sampled", seed=9),
        dict(num_replicas=2, seed=4, steps_per_epoch=7),
        dict(class_fractions=[0.6, 0.2, 0.2], num_replicas=3, mode="sampled"),
    ],
)
def test_same_index_batches_as_torch(kwargs):
    torch_data = pytest.importorskip("torch_impl.data")
    y = _labels(1_500, [0.85, 0.1, 0.05])
    ds = balanced_batches(np.arange(1_500), y, 12, **kwargs)
    replicas = kwargs.get("num_replicas", 1)
    samplers = [torch_data.BalancedBatchSampler(y, 12, rank=r, **kwargs) for r in range(replicas)]
    for _epoch in range(2):
        tf_batches = _index_batches(ds)
        torch_batches = np.concatenate([np.array(list(s)) for s in samplers], axis=1)
        np.testing.assert_array_equal(tf_batches, torch_batches)


def test_model_fit_consumes_balanced_batches():
    import keras

    rng = np.random.default_rng(0)
    y = (rng.random(4_000) < 0.02).astype(np.int64)
    x = (rng.normal(size=(4_000, 2)) + 3.0 * y[:, None]).astype("float32")
    seen = []

    class Record(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(batch)

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
    model.compile(keras.optimizers.SGD(0.1), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    ds = balanced_batches(x, y, 32, seed=0)
    history = model.fit(ds, epochs=3, verbose=0, shuffle=False, callbacks=[Record()])
    assert len(seen) == 3 * 125  # steps_per_epoch = ceil(4000 / 32) per epoch
    losses = history.history["loss"]
    assert losses[-1] < losses[0]
    # trained on balanced batches, the minority is recognised well
    pred = model.predict(x[y == 1], verbose=0).argmax(-1)
    assert pred.mean() > 0.9


MIRRORED = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()])
    import keras
    from tf_impl.data import balanced_batches
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    rng = np.random.default_rng(0)
    y = (rng.random(3000) < 0.03).astype(np.int64)
    x = np.arange(3000)
    ds = balanced_batches(x, y, 8, num_replicas=strategy, seed=2)
    per_replica = []
    for xb, yb in strategy.experimental_distribute_dataset(ds):
        parts = strategy.experimental_local_results(xb)
        per_replica.append([p.numpy().tolist() for p in parts])
    with strategy.scope():
        model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(2)])
        model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    fit_ds = balanced_batches(x.astype("float32")[:, None] / 3000.0, y, 8, num_replicas=strategy)
    hist = model.fit(fit_ds, epochs=1, verbose=0)
    json.dump({"replicas": strategy.num_replicas_in_sync, "batches": per_replica,
               "loss": hist.history["loss"]}, sys.stdout)
    """
)


def test_mirrored_strategy_two_logical_cpus():
    # Logical devices must be configured before TensorFlow initialises: a fresh process.
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
               KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run([sys.executable, "-c", MIRRORED], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["replicas"] == 2
    rng = np.random.default_rng(0)
    y = (rng.random(3000) < 0.03).astype(np.int64)
    glob = BalancedSchedule(y, 8, num_replicas=2, seed=2).epoch_batches(0)
    assert len(out["batches"]) == glob.shape[0] == 188
    for step, (r0, r1) in enumerate(out["batches"]):
        assert len(r0) == len(r1) == 8
        assert int(y[r0].sum()) == int(y[r1].sum()) == 4  # each replica exactly balanced
        # the majority never wraps here (1504 draws of ~2900), so its shares are disjoint
        assert not {i for i in r0 if y[i] == 0} & {i for i in r1 if y[i] == 0}
        np.testing.assert_array_equal(np.concatenate([r0, r1]), glob[step])  # replica r = torch rank r
    assert np.isfinite(out["loss"][0])


BAD = [
    dict(labels=np.array([0.0, 1.0]), batch_size=2),
    dict(labels=np.zeros((4, 2), int), batch_size=2),
    dict(labels=np.array([], int), batch_size=2),
    dict(labels=np.array([0, -1, 1]), batch_size=2),
    dict(labels=np.array([0, 1, 1]), batch_size=4, class_fractions=[1.2, -0.2]),
    dict(labels=np.array([0, 1, 1]), batch_size=4, class_fractions=[0.5, 0.4]),
    dict(labels=np.array([0, 1, 2]), batch_size=4, class_fractions=[0.5, 0.5]),
    dict(labels=np.array([0, 0, 2]), batch_size=4, class_fractions=[0.4, 0.3, 0.3]),
    dict(labels=np.array([0, 1, 2]), batch_size=5, class_fractions=[0.9, 0.05, 0.05]),
    dict(labels=np.array([0, 1]), batch_size=2, mode="balanced"),
    dict(labels=np.array([0, 1]), batch_size=0),
    dict(labels=np.array([0, 1]), batch_size=2, num_replicas=0),
    dict(labels=np.array([0, 1]), batch_size=2, num_replicas=1.5),
    dict(labels=np.array([0, 1]), batch_size=2, seed=-3),
    dict(labels=np.array([0, 1]), batch_size=2, steps_per_epoch=0),
    dict(labels=np.array([0, 1, 1]), batch_size=2, mode="repeat_factor"),
    dict(labels=np.array([0, 1, 1]), batch_size=2, mode="class_aware"),
    dict(labels=np.array([[1, 0], [1, 1]]), batch_size=2, mode="exact"),
    dict(labels=np.array([[1, 0], [2, 1]]), batch_size=2, mode="class_aware"),
    dict(labels=np.eye(2), batch_size=2, mode="repeat_factor", class_fractions=[0.5, 0.5]),
    dict(labels=np.eye(2), batch_size=2, mode="repeat_factor", repeat_threshold=-1.0),
]


@pytest.mark.parametrize("case", range(len(BAD)))
def test_bad_input_same_error_in_both_frameworks(case):
    torch_data = pytest.importorskip("torch_impl.data")
    kwargs = dict(BAD[case])
    labels, batch_size = kwargs.pop("labels"), kwargs.pop("batch_size")
    with pytest.raises((ValueError, TypeError)) as tf_err:
        balanced_batches(np.zeros((labels.shape[0], 1)), labels, batch_size, **kwargs)
    with pytest.raises((ValueError, TypeError)) as torch_err:
        torch_data.BalancedBatchSampler(labels, batch_size, **kwargs)
    assert type(tf_err.value) is type(torch_err.value)
    assert str(tf_err.value) == str(torch_err.value)
    assert str(tf_err.value).startswith("Invalid `")


def test_bad_features():
    with pytest.raises(ValueError) as info:
        balanced_batches({"a": np.zeros((5, 2)), "b": np.zeros(4)}, np.array([0, 1, 0, 1]), 2)
    assert str(info.value) == (
        "Invalid `x`: received a feature of shape (5, 2); expected a leading dimension of 4, one row per label in `y`."
    )


def _records(y):
    return tf.data.Dataset.from_tensor_slices((tf.range(len(y))[:, None], tf.constant(y)))


def test_balance_dataset_composition_and_same_batches_as_torch():
    y = _labels(1_500, [0.93, 0.07], seed=2)
    ds = balance_dataset(_records(y), lambda e: e[1], 10, class_fractions=[0.6, 0.4], seed=5, buffer_size=64)
    passes = []
    for _ in range(2):
        batches = []
        for xb, yb in ds:
            idx = xb.numpy()[:, 0]
            np.testing.assert_array_equal(yb.numpy(), y[idx])
            assert np.bincount(yb.numpy(), minlength=2).tolist() == [6, 4]
            batches.append(idx)
        passes.append(batches)
    emitted = np.concatenate(passes[0])
    majority = emitted[y[emitted] == 0]
    assert np.unique(majority).size == majority.size == (y == 0).sum()  # streamed once, none lost
    assert len(passes[0]) == len(passes[1]) and not all(np.array_equal(a, b) for a, b in zip(*passes))

    import torch  # the torch twin, fed the same records in the same order, emits the same batches

    from torch_impl.data import balance_dataset as torch_balance

    source = [(torch.tensor([i]), int(c)) for i, c in enumerate(y)]
    twin = torch_balance(source, lambda item: item[1], 10, class_fractions=[0.6, 0.4], seed=5, buffer_size=64)
    for batches in passes:
        torch_batches = [xb[:, 0].numpy() for xb, _ in twin]
        assert len(torch_batches) == len(batches)
        for a, b in zip(batches, torch_batches):
            np.testing.assert_array_equal(a, b)


def test_balance_dataset_errors():
    y = np.array([0, 1, 0, 1])
    with pytest.raises(TypeError) as info:
        balance_dataset(_records(y), lambda e: tf.cast(e[1], tf.float32), 4, num_classes=2)
    assert str(info.value) == "Invalid `class_fn` output dtype: received float32; expected an integer class index."
    with pytest.raises(ValueError) as info:
        balance_dataset(_records(y), lambda e: e[0], 4, num_classes=2)
    assert str(info.value) == "Invalid `class_fn` output: received shape (1,); expected a scalar class index (shape ())."
    with pytest.raises(ValueError, match=r"a stream's classes are not known in advance"):
        balance_dataset(_records(y), lambda e: e[1], 4)
    with pytest.raises(ValueError, match=r"Invalid `dataset`: received list; expected a tf.data.Dataset\."):
        balance_dataset([1, 2], lambda e: e, 4, num_classes=2)
    # Found only while streaming: inside tf.data it arrives as a tf error with the same text.
    bad = balance_dataset(_records(y), lambda e: e[1] + 1, 4, num_classes=2)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"Invalid `class_fn output`: class indices must lie in \[0, 2\); received 2\."):
        list(bad)
    missing = balance_dataset(_records(y), lambda e: e[1], 6, num_classes=3)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"class 2 is requested .* but has no samples in the stream"):
        list(missing)


# ------------------------------------------------------------------------- multi-label modes


def _multi_hot(n, label_fractions, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.random((n, len(label_fractions))) < np.asarray(label_fractions)).astype(np.float32)


MULTI_LABEL = [
    dict(mode="repeat_factor", repeat_threshold=0.05),
    dict(mode="repeat_factor", repeat_threshold=0.2, num_replicas=2, seed=3, steps_per_epoch=9),
    dict(mode="class_aware"),
    dict(mode="class_aware", class_fractions=[0.1, 0.2, 0.3, 0.4], num_replicas=3, seed=5),
]


@pytest.mark.parametrize("kwargs", MULTI_LABEL)
def test_multi_label_same_index_batches_as_torch(kwargs):
    torch_data = pytest.importorskip("torch_impl.data")
    rows = _multi_hot(900, [0.5, 0.1, 0.02, 0.005])
    ds = balanced_batches({"idx": np.arange(900)}, rows, 12, **kwargs)
    replicas = kwargs.get("num_replicas", 1)
    samplers = [torch_data.BalancedBatchSampler(rows, 12, rank=r, **kwargs) for r in range(replicas)]
    sched = BalancedSchedule(rows, 12, **kwargs)
    assert int(ds.cardinality()) == len(samplers[0]) == sched.steps_per_epoch
    for epoch in range(2):
        batches = []
        for xb, yb in ds.as_numpy_iterator():
            np.testing.assert_array_equal(yb, rows[xb["idx"]])  # the multi-hot rows travel with x
            assert yb.shape == (12 * replicas, 4) and yb.dtype == np.float32
            batches.append(xb["idx"])
        batches = np.stack(batches)
        np.testing.assert_array_equal(batches, sched.epoch_batches(epoch))
        torch_batches = np.concatenate([np.array(list(s)) for s in samplers], axis=1)
        np.testing.assert_array_equal(batches, torch_batches)


def test_multi_label_model_fit_with_repeat_factors():
    import keras

    rows = _multi_hot(600, [0.5, 0.1, 0.02])
    x = (rows @ np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], dtype=np.float32)).astype("float32")
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)])
    model.compile("sgd", keras.losses.BinaryCrossentropy(from_logits=True))
    ds = balanced_batches(x, rows, 16, mode="repeat_factor", repeat_threshold=0.1)
    history = model.fit(ds, epochs=2, verbose=0, shuffle=False)
    assert len(history.history["loss"]) == 2 and np.isfinite(history.history["loss"]).all()


# -------------------------------------------------------------- balance_dataset inside the graph


def test_balance_dataset_python_runs_once_per_chunk_not_per_element(monkeypatch):
    from imbalance_core.stream import StreamBalancer

    calls = {"step": 0, "class_fn": 0}
    step = StreamBalancer.step

    def counted_step(self, *args, **kwargs):
        calls["step"] += 1
        return step(self, *args, **kwargs)

    def class_fn(e):
        calls["class_fn"] += 1  # runs while tracing only
        return e[1]

    monkeypatch.setattr(StreamBalancer, "step", counted_step)
    y = _labels(3_000, [0.9, 0.1], seed=1)
    ds = balance_dataset(_records(y), class_fn, 20, num_classes=2, buffer_size=200)  # chunks of 100
    traced = calls["class_fn"]
    for _epoch in range(2):
        calls["step"] = 0
        rows = sum(int(yb.shape[0]) for _, yb in ds)
        assert rows > 3_000
        assert calls["step"] == 3_000 // 100 + 1  # one NumPy step per chunk, plus the final flush
    assert calls["class_fn"] == traced  # never called per element


def test_balance_dataset_sampled_dict_elements_same_batches_as_torch():
    import torch

    from torch_impl.data import balance_dataset as torch_balance

    y = _labels(2_000, [0.6, 0.3, 0.1], seed=6)
    feat = np.random.default_rng(2).normal(size=(2_000, 3)).astype(np.float32)
    records = tf.data.Dataset.from_tensor_slices({"idx": np.arange(2_000), "feat": feat, "label": y})
    kw = dict(class_fractions=[0.2, 0.3, 0.5], mode="sampled", seed=4, buffer_size=100)
    ds = balance_dataset(records, lambda e: e["label"], 16, **kw)
    source = [{"idx": torch.tensor(i), "feat": torch.from_numpy(feat[i]), "label": torch.tensor(int(y[i]))} for i in range(2_000)]
    twin = torch_balance(source, lambda item: item["label"], 16, **kw)
    tf_batches = list(ds.as_numpy_iterator())
    torch_batches = list(twin)
    assert len(tf_batches) == len(torch_batches) > 100
    counts = np.zeros(3)
    for a, b in zip(tf_batches, torch_batches):
        np.testing.assert_array_equal(a["idx"], b["idx"].numpy())
        np.testing.assert_array_equal(a["label"], y[a["idx"]])
        np.testing.assert_array_equal(a["feat"], feat[a["idx"]])
        counts += np.bincount(a["label"], minlength=3)
    from scipy import stats

    _, p = stats.chisquare(counts, np.array([0.2, 0.3, 0.5]) * counts.sum())
    assert p > 1e-3  # the sampled shares


def test_balance_dataset_needs_known_element_shapes():
    ragged = tf.data.Dataset.from_generator(
        lambda: iter([(np.zeros(2, np.float32), 0)]),
        output_signature=(tf.TensorSpec((None,), tf.float32), tf.TensorSpec((), tf.int64)),
    )
    with pytest.raises(ValueError) as info:
        balance_dataset(ragged, lambda e: e[1], 4, num_classes=2)
    assert str(info.value) == (
        "Invalid `dataset`: an element has shape (None,) with unknown dimensions; balance_dataset needs "
        "fully known element shapes (e.g. pad or resize in a map first)."
    )


def test_a_partial_read_does_not_use_up_an_epoch():
    """Keras's torch and jax backends take one batch from a fresh iterator to build the model
    before fit: the epoch advances only when a pass is complete, so fit still starts at epoch 0
    and stays in step with torch's sampler (an epoch longer than tf.data's read-ahead; 40 here)."""
    y = _labels(400, [0.9, 0.1])
    ds = balanced_batches(np.arange(400), y, 8, seed=5, steps_per_epoch=40)
    schedule = BalancedSchedule(y, 8, seed=5, steps_per_epoch=40)
    for _ in ds.take(1):  # the peek
        pass
    np.testing.assert_array_equal(_index_batches(ds), schedule.epoch_batches(0))
    np.testing.assert_array_equal(_index_batches(ds), schedule.epoch_batches(1))
