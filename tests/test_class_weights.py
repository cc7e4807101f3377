"""Class weights in both frameworks against scikit-learn and the paper formulas.

Each test that takes `fe` runs once per front end (tf_impl with tf tensors / tf.data, and
torch_impl with torch tensors / Datasets), in separate test items. None of these use Keras
except the model.fit test at the end (marked `keras`).
"""

import re

import numpy as np
import pytest
from sklearn.utils.class_weight import compute_class_weight as sk_class_weight
from sklearn.utils.class_weight import compute_sample_weight as sk_sample_weight


def _tf_front():
    import tensorflow as tf

    from tf_impl import class_weights

    return class_weights, tf.constant


def _torch_front():
    import torch

    from torch_impl import class_weights

    return class_weights, torch.as_tensor


@pytest.fixture(params=["tf", "torch"])
def fe(request):
    return {"tf": _tf_front, "torch": _torch_front}[request.param]()


def _labels(seed=0, n=500, k=4):
    rng = np.random.default_rng(seed)
    # Strongly imbalanced, every class present.
    y = rng.choice(k, size=n, p=np.array([0.7, 0.2, 0.07, 0.03])[:k] / np.array([0.7, 0.2, 0.07, 0.03])[:k].sum())
    y[:k] = np.arange(k)
    return y


# --------------------------------------------------------------------------------------------
# Formulas against scikit-learn and the paper
# --------------------------------------------------------------------------------------------


def test_balanced_matches_sklearn_for_every_label_format(fe):
    class_weights, tensor = fe
    y = _labels()
    want = sk_class_weight("balanced", classes=np.arange(4), y=y)
    one_hot = np.eye(4, dtype=np.float32)[y]
    for labels in (y, y.astype(np.float32), y[:, None], one_hot, tensor(y), tensor(one_hot), tensor(y[:, None]), list(y)):
        got = class_weights.compute_class_weight(labels)
        assert got.dtype == np.float64
        # Same float64 operations as scikit-learn (n / (K * n_c)): bit-identical.
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(class_weights.compute_class_weight(counts=np.bincount(y)), want)
    np.testing.assert_array_equal(class_weights.class_counts(tensor(one_hot)), np.bincount(y))


def test_sample_weight_matches_sklearn(fe):
    class_weights, tensor = fe
    y = _labels(1)
    np.testing.assert_array_equal(class_weights.compute_sample_weight(tensor(y), "balanced"), sk_sample_weight("balanced", y))
    # Classes with a gap (no 1, 3, 4): scikit-learn weights the classes present only.
    gap = np.where(y == 1, 5, y)
    gap = np.where(gap == 3, 2, gap)
    np.testing.assert_array_equal(class_weights.compute_sample_weight(gap, "balanced"), sk_sample_weight("balanced", gap))
    as_dict = {0: 0.5, 1: 2.0, 2: 3.0, 3: 4.0}
    np.testing.assert_array_equal(class_weights.compute_sample_weight(y, as_dict), sk_sample_weight(as_dict, y))
    vector = np.array([0.5, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(class_weights.compute_sample_weight(tensor(np.eye(4)[y]), vector), vector[y])
    np.testing.assert_array_equal(class_weights.compute_sample_weight(y[:, None], None), np.ones(y.size))
    # Classes missing from a dict get 1 (scikit-learn's and Keras's rule).
    np.testing.assert_array_equal(class_weights.compute_sample_weight([0, 1, 2], {1: 3.0}), [1.0, 3.0, 1.0])


@pytest.mark.parametrize("beta", [0.0, 0.9, 0.999, 0.9999])
def test_effective_number_is_the_paper_formula(fe, beta):
    class_weights, tensor = fe
    y = _labels(2, n=3000)
    n = np.bincount(y).astype(np.float64)
    w = (1.0 - beta) / (1.0 - beta**n)  # Cui et al. 2019, eq. for the class-balanced term
    want = w * len(n) / w.sum()
    # expm1 form vs. the direct power: a few ulps apart, never more.
    np.testing.assert_allclose(class_weights.compute_class_weight(tensor(y), method="effective_number", beta=beta), want, rtol=1e-12)


def test_inverse_methods(fe):
    class_weights, tensor = fe
    counts = np.array([400, 100, 25, 4])
    inv = class_weights.compute_class_weight(counts=tensor(counts), method="inverse")
    np.testing.assert_allclose(inv, (1 / counts) / np.mean(1 / counts), rtol=1e-15)
    sq = class_weights.compute_class_weight(counts=counts, method="inverse_sqrt")
    np.testing.assert_allclose(sq, [0.125, 0.25, 0.5, 1.25] / np.mean([0.125, 0.25, 0.5, 1.25]), rtol=1e-15)
    assert inv.mean() == pytest.approx(1.0, rel=1e-15) and sq.mean() == pytest.approx(1.0, rel=1e-15)


def test_pos_weight_is_negatives_over_positives(fe):
    class_weights, tensor = fe
    rng = np.random.default_rng(3)
    y = (rng.random((200, 5)) < np.array([0.5, 0.2, 0.05, 0.9, 0.3])).astype(np.float32)
    pos = y.sum(0, dtype=np.float64)
    np.testing.assert_array_equal(class_weights.compute_pos_weight(tensor(y)), (200 - pos) / pos)
    # A single binary label, rank 1: a length-1 vector.
    np.testing.assert_array_equal(class_weights.compute_pos_weight(tensor(y[:, 0])), [(200 - pos[0]) / pos[0]])


def test_keras_class_weight_is_a_dict_of_python_numbers(fe):
    class_weights, tensor = fe
    y = _labels()
    d = class_weights.keras_class_weight(tensor(y))
    assert list(d) == [0, 1, 2, 3] and all(type(k) is int and type(v) is float for k, v in d.items())
    np.testing.assert_array_equal(list(d.values()), sk_class_weight("balanced", classes=np.arange(4), y=y))


# --------------------------------------------------------------------------------------------
# Streams: tf.data.Dataset and torch Datasets, and both give identical arrays
# --------------------------------------------------------------------------------------------


def test_tf_dataset_counted_in_one_streaming_pass():
    import tensorflow as tf

    from tf_impl import class_weights

    y = _labels(4, n=1003)
    x = np.zeros((y.size, 3), np.float32)
    passes = []

    def gen():
        passes.append(1)
        for i in range(y.size):
            yield x[i], y[i]

    spec = (tf.TensorSpec((3,), tf.float32), tf.TensorSpec((), tf.int64))
    unbatched = tf.data.Dataset.from_generator(gen, output_signature=spec)
    want = np.bincount(y)
    np.testing.assert_array_equal(class_weights.class_counts(unbatched), want)
    assert len(passes) == 1
    batched = tf.data.Dataset.from_tensor_slices((x, y, np.ones(y.size))).batch(64)  # (x, y, sw), last batch 43
    np.testing.assert_array_equal(class_weights.class_counts(batched), want)
    one_hot = tf.data.Dataset.from_tensor_slices({"feat": x, "label": np.eye(4)[y]}).batch(100)
    got = class_weights.compute_class_weight(one_hot, label_fn=lambda d: d["label"])
    np.testing.assert_array_equal(got, sk_class_weight("balanced", classes=np.arange(4), y=y))
    multi = tf.data.Dataset.from_tensor_slices((x, np.eye(4)[y] + np.eye(4)[(y + 1) % 4])).batch(50)
    pos = np.bincount(y, minlength=4) + np.bincount((y + 1) % 4, minlength=4)
    np.testing.assert_array_equal(class_weights.compute_pos_weight(multi), (y.size - pos) / pos)


class _LabelsOnly:
    """A map-style dataset whose features must never be loaded: __getitem__ fails."""

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, i):
        raise AssertionError("features were loaded")


def test_torch_dataset_counted_from_labels_only():
    import torch
    from torch.utils.data import ConcatDataset, Dataset, Subset, TensorDataset

    from torch_impl import class_weights

    y = _labels(5, n=777)
    want = np.bincount(y)

    class WithTargets(_LabelsOnly, Dataset):
        targets = list(y)

    class OnDisk(_LabelsOnly, Dataset):
        targets = y  # stands for labels read from an index file

    ds = WithTargets()
    np.testing.assert_array_equal(class_weights.class_counts(ds), want)
    np.testing.assert_array_equal(class_weights.class_counts(OnDisk(), label_fn=lambda i: OnDisk.targets[i]), want)
    np.testing.assert_array_equal(class_weights.class_counts(Subset(ds, np.arange(100))), np.bincount(y[:100], minlength=4))
    tds = TensorDataset(torch.zeros(y.size, 2), torch.as_tensor(y))
    np.testing.assert_array_equal(class_weights.class_counts(ConcatDataset([tds, Subset(ds, [0, 1, 2, 3])])), want + 1)
    # label_fn returning one-hot rows, stacked per chunk.
    hot = np.eye(4)[y]
    np.testing.assert_array_equal(class_weights.class_counts(OnDisk(), label_fn=lambda i: torch.as_tensor(hot[i])), want)


def test_both_frameworks_give_identical_arrays_on_the_same_stream():
    import tensorflow as tf
    import torch
    from torch.utils.data import TensorDataset

    import tf_impl.class_weights
    import torch_impl.class_weights

    y = _labels(6, n=2000)
    x = np.zeros((y.size, 2), np.float32)
    tf_ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(128)
    torch_ds = TensorDataset(torch.as_tensor(x), torch.as_tensor(y))
    for method in ("balanced", "inverse", "inverse_sqrt", "effective_number"):
        a = tf_impl.class_weights.compute_class_weight(tf_ds, method=method, beta=0.99)
        b = torch_impl.class_weights.compute_class_weight(torch_ds, method=method, beta=0.99)
        assert a.dtype == b.dtype == np.float64
        np.testing.assert_array_equal(a, b)
    assert tf_impl.class_weights.keras_class_weight(tf_ds) == torch_impl.class_weights.keras_class_weight(torch_ds)


# --------------------------------------------------------------------------------------------
# Bad input: the same error, the same message, in both front ends
# --------------------------------------------------------------------------------------------

BAD = [
    (lambda class_weights, t: class_weights.class_counts(t(np.zeros(0, np.int64))), ValueError, "Invalid `labels`: received no labels"),
    (lambda class_weights, t: class_weights.class_counts(t([0, -1, 2])), ValueError, re.escape("Invalid `labels`: class indices must lie >= 0; received [-1]")),
    (lambda class_weights, t: class_weights.class_counts(t([0, 1, 3]), num_classes=3), ValueError, re.escape("class indices must lie in [0, 3); received [3]")),
    (lambda class_weights, t: class_weights.class_counts(t([0.0, 1.5])), ValueError, re.escape("class indices must be whole numbers; received [1.5]")),
    (lambda class_weights, t: class_weights.class_counts(t([[0.0, 2.0], [1.0, 0.0]])), ValueError, "must hold 0 or 1; received \\[2.0\\]"),
    (lambda class_weights, t: class_weights.class_counts(t([[0.0, 1.0], [1.0, 0.0]]), num_classes=3), ValueError, "have 2 columns but num_classes=3"),
    (lambda class_weights, t: class_weights.compute_class_weight(t([0, 1, 0]), num_classes=3), ValueError, "Invalid `labels`: class 2 has no samples"),
    (lambda class_weights, t: class_weights.compute_class_weight(t([0, 2, 0])), ValueError, "Invalid `labels`: class 1 has no samples"),
    (lambda class_weights, t: class_weights.compute_class_weight(counts=t([3, 0])), ValueError, "Invalid `counts`: class 1 has no samples"),
    (lambda class_weights, t: class_weights.compute_class_weight(counts=t([3.0, -1.0])), ValueError, "Invalid `counts`: received \\[3, -1\\]"),
    (lambda class_weights, t: class_weights.compute_class_weight(t([0, 1]), method="log"), ValueError, "Invalid `method`: received 'log'; allowed values are 'balanced'"),
    (lambda class_weights, t: class_weights.compute_class_weight(t([0, 1]), beta=1.0), ValueError, re.escape("Invalid `beta`: received 1; expected a finite number in [0, 1)")),
    (lambda class_weights, t: class_weights.compute_class_weight(t([0, 1]), num_classes=0), ValueError, "Invalid `num_classes`: received 0; expected an integer >= 1"),
    (lambda class_weights, t: class_weights.compute_class_weight(t([0, 1]), counts=[1, 1]), ValueError, "pass exactly one of `labels` and `counts`; received both"),
    (lambda class_weights, t: class_weights.compute_class_weight(), ValueError, "pass exactly one of `labels` and `counts`; received neither"),
    (lambda class_weights, t: class_weights.compute_pos_weight(t([[1.0, 0.0], [1.0, 0.0]])), ValueError, "Invalid `multi_hot`: label 1 has no positive samples"),
    (lambda class_weights, t: class_weights.compute_sample_weight(t([[1.0, 1.0], [1.0, 0.0]]), "balanced"), ValueError, "row 0 holds 2 positive labels"),
    (lambda class_weights, t: class_weights.compute_sample_weight(t([0, 1, 2]), [1.0, 2.0]), ValueError, "Invalid `class_weight`: received length 2"),
    (lambda class_weights, t: class_weights.compute_sample_weight(t([0, 1]), "median"), ValueError, "Invalid `class_weight`: received 'median'"),
    (lambda class_weights, t: class_weights.class_counts(np.array(["a", "b"])), TypeError, "Invalid `labels` dtype: received <U1"),
    (lambda class_weights, t: class_weights.class_counts(t([0, 1]), label_fn=lambda e: e), ValueError, "Invalid `label_fn`: it applies to a"),
]


@pytest.mark.parametrize("call, error, pattern", BAD, ids=[f"bad{i}" for i in range(len(BAD))])
def test_bad_input_same_error_in_both(fe, call, error, pattern):
    class_weights, tensor = fe
    with pytest.raises(error, match=pattern):
        call(class_weights, tensor)


def test_empty_streams_are_errors():
    import tensorflow as tf
    import torch
    from torch.utils.data import IterableDataset, TensorDataset

    import tf_impl.class_weights
    import torch_impl.class_weights

    msg = "Invalid `labels`: received no labels"
    with pytest.raises(ValueError, match=msg):
        tf_impl.class_weights.compute_class_weight(tf.data.Dataset.from_tensor_slices((np.zeros((0, 2)), np.zeros(0, np.int64))).batch(4))
    with pytest.raises(ValueError, match=msg):
        torch_impl.class_weights.compute_class_weight(TensorDataset(torch.zeros(0, 2), torch.zeros(0, dtype=torch.long)))
    with pytest.raises(ValueError, match="cannot read the labels of a _LabelsOnly without loading"):
        torch_impl.class_weights.class_counts(type("_LabelsOnly", (_LabelsOnly, torch.utils.data.Dataset), {})())
    with pytest.raises(ValueError, match="an IterableDataset has no index"):
        torch_impl.class_weights.class_counts(type("It", (IterableDataset,), {"__iter__": lambda self: iter([0, 1])})())
    with pytest.raises(ValueError, match="the dataset yields dicts; pass `label_fn`"):
        tf_impl.class_weights.class_counts(tf.data.Dataset.from_tensor_slices({"y": [0, 1]}))
    unsized = type("Unsized", (torch.utils.data.Dataset,), {"__getitem__": lambda self, i: (0, i % 2)})()
    with pytest.raises(ValueError, match="a Unsized without __len__ cannot be counted by index"):
        torch_impl.class_weights.class_counts(unsized, label_fn=lambda i: i % 2)


def test_missing_class_weight_is_a_named_error():
    from imbalance_core.class_weights import class_weight_dict

    with pytest.raises(ValueError, match=r"Invalid `class_weight`: received None; expected a non-negative finite 1-D"):
        class_weight_dict(None)
    assert class_weight_dict([0.5, 2]) == {0: 0.5, 1: 2.0}


# --------------------------------------------------------------------------------------------
# model.fit(class_weight=...) on multi-hot labels is not per-label weighting
# --------------------------------------------------------------------------------------------


@pytest.mark.keras
def test_fit_class_weight_takes_the_argmax_of_multi_hot_labels():
    """Keras reduces a multi-hot row to argmax(y) and weights the whole sample by that one
    class; per-label pos_weight in WeightedBinaryCrossentropy weights each label. Prove both
    facts numerically and that the two losses differ."""
    import keras

    from tf_impl import class_weights
    from tf_impl.losses import WeightedBinaryCrossentropy

    rng = np.random.default_rng(7)
    x = rng.normal(size=(64, 5)).astype(np.float32)
    y = (rng.random((64, 3)) < np.array([0.6, 0.3, 0.1])).astype(np.float32)
    y[0] = [0, 1, 1]  # rows whose argmax is not their rarest label
    y[1] = [1, 0, 1]
    y[2] = [0, 0, 1]
    class_weight = class_weights.keras_class_weight(y)
    pos_weight = class_weights.compute_pos_weight(y)

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(3)])
    # Learning rate 0: the one fit step reports the loss of the initial weights.
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss=keras.losses.BinaryCrossentropy(from_logits=True))
    fit_loss = model.fit(x, y, class_weight=class_weight, batch_size=64, epochs=1, shuffle=False, verbose=0).history["loss"][0]

    logits = np.asarray(model.predict(x, verbose=0), np.float64)
    log_p, log_q = -np.logaddexp(0, -logits), -np.logaddexp(0, logits)  # log sigma(x), log sigma(-x)
    bce = -(y * log_p + (1 - y) * log_q)
    w_sample = np.array([class_weight[int(c)] for c in y.argmax(axis=1)])
    # fit: one weight per sample, the argmax class's, times the label-mean BCE.
    # float32 forward pass in Keras vs this float64 recomputation.
    np.testing.assert_allclose(fit_loss, np.mean(w_sample * bce.mean(axis=1)), rtol=1e-5)

    per_label = -(pos_weight * y * log_p + (1 - y) * log_q)
    right = float(keras.ops.convert_to_numpy(WeightedBinaryCrossentropy(pos_weight=pos_weight)(y, logits.astype(np.float32))))
    np.testing.assert_allclose(right, per_label.mean(), rtol=1e-5)  # float32 loss vs float64 oracle
    # The effective weights of the positive entries differ, and so do the losses.
    assert not np.allclose(np.broadcast_to(w_sample[:, None], y.shape)[y == 1], np.broadcast_to(pos_weight, y.shape)[y == 1])
    assert abs(right - fit_loss) > 0.1 * abs(right)


# --------------------------------------------------------------------------------------------
# Repeat factors (LVIS, detectron2's repeat_factors_from_category_frequency)
# --------------------------------------------------------------------------------------------


def test_repeat_factors_equal_detectron2_from_native_tensors(fe):
    from tests.test_schedule import FIXED_MULTI_HOT, _detectron2_repeat_factors

    class_weights, as_tensor = fe
    for rows, t in FIXED_MULTI_HOT:
        expected = _detectron2_repeat_factors(rows, t)
        for labels in (rows, as_tensor(rows)):
            r = class_weights.compute_repeat_factors(labels, repeat_threshold=t)
            assert isinstance(r, np.ndarray) and r.dtype == np.float64
            np.testing.assert_array_equal(r, expected)


@pytest.mark.parametrize(
    "multi_hot, kwargs, error, message",
    [
        (np.array([0, 1, 1]), {}, ValueError,
         "Invalid `multi_hot`: received shape (3,); compute_repeat_factors expects multi-hot rows of shape (N, C), one 0/1 column per label."),
        (np.array([[0, 3]]), {}, ValueError, "Invalid `multi_hot`: multi-hot rows must hold 0 or 1; received [3] (shape (1,))."),
        (np.eye(2), {"repeat_threshold": float("nan")}, ValueError,
         "Invalid `repeat_threshold`: received nan; expected a finite number >= 0."),
        (np.zeros((0, 2)), {}, ValueError, "Invalid `multi_hot`: received an empty array; expected at least one label."),
    ],
)
def test_repeat_factors_bad_input_same_error_in_both(multi_hot, kwargs, error, message):
    messages = []
    for front in (_tf_front, _torch_front):
        class_weights, _ = front()
        with pytest.raises(error) as info:
            class_weights.compute_repeat_factors(multi_hot, **kwargs)
        messages.append(str(info.value))
    assert messages == [message, message]
