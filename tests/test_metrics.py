"""Imbalance metrics in both frameworks against scikit-learn, per batch and accumulated, and
the same outcome (value, or error type and message up to the argument names) in both.

Tests taking `fw` run once for Keras (marked `keras`: again under KERAS_BACKEND=torch and
jax) and once for torch (torchmetrics), through the small adapters below, so every assertion
is the same for both. Results are float32 (the frameworks' default) from float64 state, hence
`atol=1e-7` against scikit-learn's float64: float32 rounding of a value in [-1, 1] is at most
2^-24 ~ 6e-8. Keras on jax without jax_enable_x64 keeps the state as a float32 compensated
pair (exact counts) but evaluates the result's formula in float32: a few ulp, `ATOL_F32_STATE`.

The framework machinery (torch.compile, DDP, MirroredStrategy, counts beyond 2^24 inside a
compiled step) is in test_metrics_machinery.py.
"""

import re
import warnings

import numpy as np
import pytest
from sklearn.metrics import balanced_accuracy_score, recall_score

from conftest import needs_tf_backend

ATOL = 1e-7  # float32 result vs float64 scikit-learn, see the module docstring
ATOL_F32_STATE = 4e-7  # Keras on jax without x64: the formula in float32 (a few ulp of 1)


def keras_state_is_float64() -> bool:
    from tf_impl import metrics

    return metrics._confusion._state_dtype() == "float64"


class KerasFW:
    name = "keras"
    target, preds = "y_true", "y_pred"  # the argument names its messages use

    def __init__(self):
        import keras

        from tf_impl import metrics

        self.keras, self.m = keras, metrics
        self.atol = ATOL if keras_state_is_float64() else ATOL_F32_STATE

    def make(self, cls, **kw):
        return getattr(self.m, cls)(**kw)

    def update(self, metric, y_true, y_pred, sample_weight=None):
        metric.update_state(y_true, y_pred, sample_weight=sample_weight)

    def result(self, metric):
        return np.asarray(self.keras.ops.convert_to_numpy(metric.result()))

    def reset(self, metric):
        metric.reset_state()

    def fn(self, name, y_true, y_pred, **kw):
        return np.asarray(self.keras.ops.convert_to_numpy(getattr(self.m, name)(y_true, y_pred, **kw)))


class TorchFW:
    name = "torch"
    target, preds = "target", "preds"
    atol = ATOL

    def __init__(self):
        import torch

        from torch_impl import metrics

        self.torch, self.m = torch, metrics

    def _t(self, a):
        return None if a is None else self.torch.as_tensor(a)

    def make(self, cls, **kw):
        return getattr(self.m, cls)(**kw)

    def update(self, metric, y_true, y_pred, sample_weight=None):
        metric.update(self._t(y_pred), self._t(y_true), sample_weight=self._t(sample_weight))

    def result(self, metric):
        return metric.compute().numpy()

    def reset(self, metric):
        metric.reset()

    def fn(self, name, y_true, y_pred, **kw):
        if "sample_weight" in kw:
            kw["sample_weight"] = self._t(kw["sample_weight"])
        return getattr(self.m, name)(self._t(y_pred), self._t(y_true), **kw).numpy()


@pytest.fixture(params=[pytest.param("keras", marks=pytest.mark.keras), "torch"])
def fw(request):
    return KerasFW() if request.param == "keras" else TorchFW()


def _sk_balanced(y, pred, w, adjusted):
    """scikit-learn's score; with a single class present, adjusted is 0 here (scikit-learn
    divides by zero there: documented difference)."""
    present = np.unique(y[w > 0]) if w is not None else np.unique(y)
    if adjusted and present.size <= 1:
        return 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "y_pred contains classes not in y_true"
        return balanced_accuracy_score(y, pred, sample_weight=w, adjusted=adjusted)


def _binary_stream(seed, logits):
    """20 batches of varying size; batches 3 and 11 hold no positive, batch 7 no negative."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(20):
        b = int(rng.integers(5, 40))
        y = (rng.random((b, 1)) < 0.2).astype(np.float32)
        if i in (3, 11):
            y[:] = 0
        if i == 7:
            y[:] = 1
        score = rng.normal(size=(b, 1)) + 1.5 * (2 * y - 1)
        pred = score if logits else 1 / (1 + np.exp(-score))
        out.append((y, pred.astype(np.float32), rng.random(b).astype(np.float32) * 3))
    return out


BINARY_CASES = [(False, 0.5), (True, 0.5), (False, 0.3), (True, 0.7)]


@pytest.mark.parametrize("from_logits, threshold", BINARY_CASES)
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_metrics_match_sklearn_per_batch_and_accumulated(fw, from_logits, threshold, weighted):
    kw = dict(threshold=threshold, from_logits=from_logits)
    metrics = {
        "ba": fw.make("BalancedAccuracy", **kw),
        "ba_adj": fw.make("BalancedAccuracy", adjusted=True, **kw),
        "tpr": fw.make("TruePositiveRate", **kw),
        "tnr": fw.make("TrueNegativeRate", **kw),
        "wba": fw.make("WeightedBalancedAccuracy", alpha=0.3, **kw),
    }
    cut = np.log(threshold / (1 - threshold)) if from_logits else threshold
    ys, preds, ws = [], [], []

    def expected(y, hard, w):
        r1 = recall_score(y, hard, pos_label=1, sample_weight=w, zero_division=0)
        r0 = recall_score(y, hard, pos_label=0, sample_weight=w, zero_division=0)
        return {
            "ba": _sk_balanced(y, hard, w, False),
            "ba_adj": _sk_balanced(y, hard, w, True),
            "tpr": r1,
            "tnr": r0,
            "wba": 0.3 * r1 + 0.7 * r0,
        }

    for y, pred, w in _binary_stream(1, from_logits):
        w = w if weighted else None
        hard = (pred > np.float32(cut)).astype(int).ravel()  # compared in float32, as the metrics do
        want = expected(y.ravel(), hard, w)
        got = {
            "ba": fw.fn("balanced_accuracy", y, pred, sample_weight=w, **kw),
            "ba_adj": fw.fn("balanced_accuracy", y, pred, adjusted=True, sample_weight=w, **kw),
            "tpr": fw.fn("true_positive_rate", y, pred, sample_weight=w, **kw),
            "tnr": fw.fn("true_negative_rate", y, pred, sample_weight=w, **kw),
            "wba": fw.fn("weighted_balanced_accuracy", y, pred, alpha=0.3, sample_weight=w, **kw),
        }
        for key in want:
            np.testing.assert_allclose(got[key], want[key], rtol=0, atol=fw.atol, err_msg=f"per batch: {key}")
        for metric in metrics.values():
            fw.update(metric, y, pred, w)
        ys.append(y.ravel()), preds.append(hard), ws.append(w)

    w_all = np.concatenate(ws) if weighted else None
    want = expected(np.concatenate(ys), np.concatenate(preds), w_all)
    for key, metric in metrics.items():
        got = fw.result(metric)
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, want[key], rtol=0, atol=fw.atol, err_msg=f"accumulated: {key}")
        fw.reset(metric)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torchmetrics warns on compute() before update()
            assert fw.result(metric) == 0.0  # reset empties the state: no sample, score 0


def _multiclass_stream(seed, k=4):
    """15 batches; class 3 is rare and absent from most batches, batch 5 holds class 0 only."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(15):
        b = int(rng.integers(4, 30))
        y = rng.choice(k, size=b, p=[0.55, 0.3, 0.12, 0.03])
        if i == 5:
            y[:] = 0
        logits = rng.normal(size=(b, k)) + 1.2 * np.eye(k)[y]
        probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
        out.append((y, probs.astype(np.float32), (rng.integers(0, 9, b) / 4).astype(np.float32)))
    return out


@pytest.mark.parametrize("label_format", ["sparse", "sparse_col", "onehot"])
@pytest.mark.parametrize("adjusted", [False, True])
def test_multiclass_balanced_accuracy_matches_sklearn(fw, label_format, adjusted):
    metric = fw.make("BalancedAccuracy", num_classes=4, adjusted=adjusted)
    unweighted = fw.make("BalancedAccuracy", num_classes=4, adjusted=adjusted)
    ys, hards, ws = [], [], []
    for y, probs, w in _multiclass_stream(2):
        y_in = {"sparse": y, "sparse_col": y[:, None], "onehot": np.eye(4, dtype=np.float32)[y]}[label_format]
        hard = probs.argmax(1)
        got = fw.fn("balanced_accuracy", y_in, probs, num_classes=4, adjusted=adjusted, sample_weight=w)
        np.testing.assert_allclose(got, _sk_balanced(y, hard, w, adjusted), rtol=0, atol=fw.atol)
        fw.update(metric, y_in, probs, w)
        fw.update(unweighted, y_in, probs)
        ys.append(y), hards.append(hard), ws.append(w)
    y, hard, w = np.concatenate(ys), np.concatenate(hards), np.concatenate(ws)
    np.testing.assert_allclose(fw.result(metric), _sk_balanced(y, hard, w, adjusted), rtol=0, atol=fw.atol)
    np.testing.assert_allclose(fw.result(unweighted), _sk_balanced(y, hard, None, adjusted), rtol=0, atol=fw.atol)


def test_multi_label_binary_and_broadcast_sample_weight(fw):
    """Binary mode on (B, C): every element is one decision; a (B,) weight covers its row."""
    rng = np.random.default_rng(3)
    y = (rng.random((30, 3)) < 0.3).astype(np.float32)
    p = rng.random((30, 3)).astype(np.float32)
    w = rng.random(30).astype(np.float32)
    want = recall_score(y.ravel(), (p > 0.5).ravel(), sample_weight=np.repeat(w, 3))
    np.testing.assert_allclose(fw.fn("true_positive_rate", y, p, sample_weight=w), want, rtol=0, atol=fw.atol)
    np.testing.assert_allclose(fw.fn("true_positive_rate", y, p, sample_weight=2.0), recall_score(y.ravel(), (p > 0.5).ravel()), rtol=0, atol=fw.atol)


@pytest.mark.keras
def test_keras_and_torch_identical_on_the_same_stream():
    """Same batches through both packages: identical float32 numbers. Weights are multiples
    of 1/4, so every float64 sum is exact and no summation order can make them differ. (Keras
    on jax without x64: exact counts too, but the formula in float32, within a few ulp.)"""
    k, t = KerasFW(), TorchFW()

    def same(a, b):
        return a == b if keras_state_is_float64() else abs(a - b) <= ATOL_F32_STATE
    specs = [
        ("BalancedAccuracy", {}),
        ("BalancedAccuracy", {"adjusted": True, "from_logits": True}),
        ("TruePositiveRate", {"threshold": 0.3}),
        ("TrueNegativeRate", {}),
        ("WeightedBalancedAccuracy", {"alpha": 0.8, "from_logits": True}),
    ]
    for cls, kw in specs:
        mk, mt = k.make(cls, **kw), t.make(cls, **kw)
        for y, pred, w in _binary_stream(4, kw.get("from_logits", False)):
            w = np.round(w * 4) / 4
            k.update(mk, y, pred, w), t.update(mt, y, pred, w)
            assert same(k.result(mk).item(), t.result(mt).item()), cls
    mk, mt = k.make("BalancedAccuracy", num_classes=4), t.make("BalancedAccuracy", num_classes=4)
    for y, probs, w in _multiclass_stream(5):
        k.update(mk, y, probs, w), t.update(mt, y, probs, w)
        assert same(k.result(mk).item(), t.result(mt).item())


# --------------------------------------------------------------------------------------------
# Framework plumbing: model.compile/evaluate and serialisation (Keras), DDP state (torch)
# --------------------------------------------------------------------------------------------


@pytest.mark.keras
def test_keras_metrics_in_compiled_model_and_serialised():
    import keras

    from tf_impl import metrics

    rng = np.random.default_rng(6)
    x = rng.normal(size=(120, 4)).astype(np.float32)
    y = (x[:, :1] + 0.8 * rng.normal(size=(120, 1)) > 1.0).astype(np.float32)
    w = rng.random(120).astype(np.float32)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])  # logits
    weighted = [
        metrics.BalancedAccuracy(from_logits=True, adjusted=True),
        metrics.TruePositiveRate(from_logits=True, threshold=0.4),
        metrics.TrueNegativeRate(from_logits=True),
        metrics.WeightedBalancedAccuracy(alpha=0.7, from_logits=True),
    ]
    # Keras passes sample_weight to `weighted_metrics` only; `metrics` are unweighted.
    unweighted = metrics.BalancedAccuracy(from_logits=True, name="unweighted_balanced_accuracy")
    model.compile(loss=keras.losses.BinaryCrossentropy(from_logits=True), metrics=[unweighted], weighted_metrics=weighted)
    # evaluate runs the compiled step (tf.function on the tensorflow backend), 4 batches.
    got = model.evaluate(x, y, sample_weight=w, batch_size=32, verbose=0, return_dict=True)
    logits = model.predict(x, verbose=0).ravel()
    hard, hard40 = (logits > 0).astype(int), (logits > np.float32(np.log(0.4 / 0.6))).astype(int)
    yt = y.ravel()
    r1, r0 = (recall_score(yt, hard, pos_label=p, sample_weight=w) for p in (1, 0))
    ATOL = KerasFW().atol  # noqa: N806
    np.testing.assert_allclose(got["balanced_accuracy"], balanced_accuracy_score(yt, hard, sample_weight=w, adjusted=True), rtol=0, atol=ATOL)
    np.testing.assert_allclose(got["unweighted_balanced_accuracy"], balanced_accuracy_score(yt, hard), rtol=0, atol=ATOL)
    np.testing.assert_allclose(got["true_positive_rate"], recall_score(yt, hard40, sample_weight=w), rtol=0, atol=ATOL)
    np.testing.assert_allclose(got["true_negative_rate"], r0, rtol=0, atol=ATOL)
    np.testing.assert_allclose(got["weighted_balanced_accuracy"], 0.7 * r1 + 0.3 * r0, rtol=0, atol=ATOL)

    for metric in weighted:
        config = keras.saving.serialize_keras_object(metric)
        assert config["registered_name"] == f"classbalance>{type(metric).__name__}"
        clone = keras.saving.deserialize_keras_object(config)
        assert type(clone) is type(metric) and clone.get_config() == metric.get_config()
    assert metrics.BalancedAccuracy(num_classes=3, threshold=0.2).get_config()["num_classes"] == 3


@pytest.mark.keras
def test_keras_float64_result_dtype():
    from tf_impl import metrics

    if not keras_state_is_float64():
        pytest.skip("jax without jax_enable_x64 has no float64")
    y, p, w = _binary_stream(8, False)[0]
    metric = metrics.BalancedAccuracy(dtype="float64")
    metric.update_state(y, p, sample_weight=w)
    got = KerasFW().result(metric)
    assert got.dtype == np.float64
    # float64 end to end: only the order of a handful of float64 additions differs.
    np.testing.assert_allclose(got, balanced_accuracy_score(y.ravel(), (p > 0.5).ravel(), sample_weight=w), rtol=1e-13)


def test_torchmetrics_state_sums_like_ddp():
    """Two "processes" each update half the stream; merging by the registered reduction (sum,
    what DDP sync does) gives the single-process value."""
    import torch

    from torch_impl import metrics

    assert metrics.BalancedAccuracy()._reductions["confusion"].__name__ == "dim_zero_sum"
    stream = _multiclass_stream(9)
    whole, rank0, rank1 = (metrics.BalancedAccuracy(num_classes=4, adjusted=True) for _ in range(3))
    for i, (y, p, w) in enumerate(stream):
        args = (torch.as_tensor(p), torch.as_tensor(y))
        whole.update(*args, sample_weight=torch.as_tensor(w))
        (rank0 if i % 2 else rank1).update(*args, sample_weight=torch.as_tensor(w))
    rank0.merge_state(rank1)
    assert rank0.compute().item() == whole.compute().item()
    assert rank0.confusion.dtype == torch.float64


# --------------------------------------------------------------------------------------------
# Bad input: the same error, the same message, in both frameworks
# --------------------------------------------------------------------------------------------

Y2 = np.array([[0.0], [1.0]], np.float32)
P2 = np.array([[0.2], [0.9]], np.float32)
YK = np.array([0, 2])
PK = np.full((2, 3), 1 / 3, np.float32)

BAD_ARGS = [
    ("BalancedAccuracy", {"num_classes": 1}, "Invalid `num_classes`: received 1; expected an integer >= 2 or None"),
    ("BalancedAccuracy", {"threshold": 1.5}, re.escape("Invalid `threshold`: received 1.5; expected a finite number in [0, 1]")),
    ("BalancedAccuracy", {"adjusted": "yes"}, "Invalid `adjusted`: received 'yes'; expected True or False"),
    ("TruePositiveRate", {"from_logits": None}, "Invalid `from_logits`: received None; expected True or False"),
    ("WeightedBalancedAccuracy", {"alpha": -0.1}, re.escape("Invalid `alpha`: received -0.1; expected a finite number in [0, 1]")),
]


@pytest.mark.parametrize("cls, kw, pattern", BAD_ARGS, ids=[f"{c}-{next(iter(k))}" for c, k, _ in BAD_ARGS])
def test_bad_arguments_same_error_in_both(fw, cls, kw, pattern):
    with pytest.raises(ValueError, match=pattern):
        fw.make(cls, **kw)


# Patterns name the arguments as {target} and {preds}: `y_true`/`y_pred` in Keras,
# `target`/`preds` in torch; the rest of every message is the same text in both.
BAD_INPUTS = [
    ("true_positive_rate", Y2.ravel(), np.zeros((2, 3), np.float32), {}, ValueError, "Shape mismatch: `{target}` has shape (2,) but `{preds}` has shape (2, 3)"),
    ("true_positive_rate", Y2 * 2, P2, {}, ValueError, "Invalid `{target}`: binary labels must be 0 or 1; received [2.0]"),
    ("true_negative_rate", Y2, P2 + 0.5, {}, ValueError, "Invalid `{preds}`: probabilities must lie in [0, 1]; received values in [0.7, 1.4]; pass from_logits=True for logits"),
    ("true_negative_rate", Y2, np.array([[0], [1]]), {}, TypeError, "Invalid `{preds}` dtype: received int"),
    ("balanced_accuracy", YK + 1, PK, {"num_classes": 3}, ValueError, "Invalid `{target}`: class indices must lie in [0, 3); received [3]"),
    ("balanced_accuracy", YK + 0.5, PK, {"num_classes": 3}, ValueError, "Invalid `{target}`: class indices must be whole numbers; received [0.5, 2.5]"),
    ("balanced_accuracy", np.eye(3)[YK] * 2, PK, {"num_classes": 3}, ValueError, "Invalid `{target}`: one-hot labels must lie in [0, 1]; received values in [0, 2]"),
    ("balanced_accuracy", YK, PK, {"num_classes": 4}, ValueError, "Invalid `{preds}`: received shape (2, 3); expected a last axis of size num_classes=4"),
    ("balanced_accuracy", YK[:, None, None], PK, {"num_classes": 3}, ValueError, "Shape mismatch: `{target}` has shape (2, 1, 1) but `{preds}` has shape (2, 3); expected class indices of shape (2,) or (2, 1)"),
    ("balanced_accuracy", Y2, P2, {"sample_weight": np.array([1.0, -1.0], np.float32)}, ValueError, "Invalid `sample_weight`: received [1, -1]"),
    ("balanced_accuracy", Y2, P2, {"sample_weight": np.array([1.0, np.nan], np.float32)}, ValueError, "Invalid `sample_weight`: received [1, nan]"),
    ("balanced_accuracy", Y2, P2, {"sample_weight": np.ones(3, np.float32)}, ValueError, "Invalid `sample_weight`: received shape (3,)"),
    ("balanced_accuracy", Y2, P2, {"sample_weight": np.ones((2, 2), np.float32)}, ValueError, "Invalid `sample_weight`: received shape (2, 2)"),
]


def _named(fw, pattern):
    return re.escape(pattern.format(target=fw.target, preds=fw.preds))


@pytest.mark.parametrize("name, y, p, kw, error, pattern", BAD_INPUTS, ids=[f"bad{i}" for i in range(len(BAD_INPUTS))])
def test_bad_inputs_same_error_in_both(fw, name, y, p, kw, error, pattern):
    with pytest.raises(error, match=_named(fw, pattern)):
        fw.fn(name, y, p, **kw)
    cls = {"balanced_accuracy": "BalancedAccuracy", "true_positive_rate": "TruePositiveRate", "true_negative_rate": "TrueNegativeRate"}[name]
    metric = fw.make(cls, num_classes=kw["num_classes"]) if "num_classes" in kw else fw.make(cls)
    with pytest.raises(error, match=_named(fw, pattern)):
        fw.update(metric, y, p, kw.get("sample_weight"))


def test_torch_messages_name_torch_arguments():
    """torch's (preds, target): its messages never say y_true/y_pred."""
    t = TorchFW()
    for name, y, p, kw, error, _ in BAD_INPUTS:
        with pytest.raises(error) as info:
            t.fn(name, y, p, **kw)
        assert "y_true" not in str(info.value) and "y_pred" not in str(info.value), str(info.value)


def test_multiclass_takes_logits_or_probabilities(fw):
    """num_classes=K: any real scores, from_logits or not (the argmax is the same); the
    probability check applies only where a threshold does (binary mode)."""
    rng = np.random.default_rng(11)
    y = rng.integers(0, 3, 40)
    logits = (3 * rng.normal(size=(40, 3))).astype(np.float32)
    probs = (np.exp(logits) / np.exp(logits).sum(1, keepdims=True)).astype(np.float32)
    want = _sk_balanced(y, logits.argmax(1), None, False)
    for scores in (logits, probs):
        for from_logits in (False, True):
            got = fw.fn("balanced_accuracy", y, scores, num_classes=3, from_logits=from_logits)
            np.testing.assert_allclose(got, want, rtol=0, atol=fw.atol)
            metric = fw.make("BalancedAccuracy", num_classes=3, from_logits=from_logits)
            fw.update(metric, y, scores)
            np.testing.assert_allclose(fw.result(metric), want, rtol=0, atol=fw.atol)
    # binary mode still requires probabilities unless from_logits=True
    with pytest.raises(ValueError, match=_named(fw, "Invalid `{preds}`: probabilities must lie in [0, 1]")):
        fw.fn("balanced_accuracy", (logits[:, 0] > 0).astype(np.float32), logits[:, 0])


def test_sample_weight_column_accepted_in_both(fw):
    """sample_weight (B, 1) as Keras's metrics take it, in both packages; on multi-label
    binary inputs (B, C) it weights each row."""
    rng = np.random.default_rng(12)
    y = (rng.random(30) < 0.4).astype(np.float32)
    p = rng.random(30).astype(np.float32)
    w = rng.random(30).astype(np.float32)
    want = recall_score(y, p > 0.5, sample_weight=w)
    np.testing.assert_allclose(fw.fn("true_positive_rate", y, p, sample_weight=w[:, None]), want, rtol=0, atol=fw.atol)
    metric = fw.make("TruePositiveRate")
    fw.update(metric, y, p, w[:, None])
    np.testing.assert_allclose(fw.result(metric), want, rtol=0, atol=fw.atol)
    ym, pm = (rng.random((30, 3)) < 0.4).astype(np.float32), rng.random((30, 3)).astype(np.float32)
    want = recall_score(ym.ravel(), pm.ravel() > 0.5, sample_weight=np.repeat(w, 3))
    np.testing.assert_allclose(fw.fn("true_positive_rate", ym, pm, sample_weight=w[:, None]), want, rtol=0, atol=fw.atol)
    yk, sk = rng.integers(0, 3, 30), rng.normal(size=(30, 3)).astype(np.float32)
    want = _sk_balanced(yk, sk.argmax(1), w, False)
    np.testing.assert_allclose(fw.fn("balanced_accuracy", yk, sk, num_classes=3, sample_weight=w[:, None]), want, rtol=0, atol=fw.atol)
    np.testing.assert_allclose(fw.fn("balanced_accuracy", yk[:, None], sk, num_classes=3, sample_weight=w[:, None]), want, rtol=0, atol=fw.atol)


@pytest.mark.keras
def test_keras_accepts_what_keras_metrics_accept():
    """Keras's rule (squeeze_or_expand_to_same_rank): binary (B,) labels against a (B, 1)
    output and the reverse, (B, 1) sparse labels, (B, 1) weights: the same value as the
    aligned shapes; keras.metrics.BinaryAccuracy / SparseCategoricalAccuracy accept each
    of these too. A real mismatch stays a ValueError."""
    import keras

    k = KerasFW()
    rng = np.random.default_rng(13)
    y = (rng.random(24) < 0.4).astype(np.float32)
    p = rng.random(24).astype(np.float32)
    w = rng.random(24).astype(np.float32)
    want = k.fn("balanced_accuracy", y, p, sample_weight=w)
    for yy, pp, ww in [(y, p[:, None], w), (y[:, None], p, w), (y, p[:, None], w[:, None]), (y[:, None], p, w[:, None])]:
        np.testing.assert_allclose(k.fn("balanced_accuracy", yy, pp, sample_weight=ww), want, rtol=0, atol=0)
        metric = k.make("BalancedAccuracy")
        k.update(metric, yy, pp, ww)
        np.testing.assert_allclose(k.result(metric), want, rtol=0, atol=0)
        keras.metrics.BinaryAccuracy().update_state(yy, pp, sample_weight=ww)  # Keras accepts it too
    yk, sk = rng.integers(0, 3, 24), rng.normal(size=(24, 3)).astype(np.float32)
    want = k.fn("balanced_accuracy", yk, sk, num_classes=3)
    np.testing.assert_allclose(k.fn("balanced_accuracy", yk[:, None], sk, num_classes=3), want, rtol=0, atol=0)
    keras.metrics.SparseCategoricalAccuracy().update_state(yk[:, None], sk)
    with pytest.raises(ValueError, match=re.escape("Shape mismatch: `y_true` has shape (24,) but `y_pred` has shape (24, 3)")):
        k.fn("true_positive_rate", y, np.zeros((24, 3), np.float32))
    with pytest.raises(ValueError, match=re.escape("Shape mismatch: `y_true` has shape (24, 1, 1) but `y_pred` has shape (24,)")):
        k.fn("true_positive_rate", y[:, None, None], p)


def test_torch_keeps_exact_binary_shapes():
    """torch follows torchmetrics: binary target and preds of exactly the same shape."""
    t = TorchFW()
    with pytest.raises(ValueError, match=re.escape("Shape mismatch: `target` has shape (2,) but `preds` has shape (2, 1)")):
        t.fn("true_positive_rate", Y2.ravel(), P2)
    with pytest.raises(ValueError, match=re.escape("Shape mismatch: `target` has shape (2, 1) but `preds` has shape (2,)")):
        t.fn("true_positive_rate", Y2, P2.ravel())


# --------------------------------------------------------------------------------------------
# Differential: seeded random inputs, valid and invalid, through both packages
# --------------------------------------------------------------------------------------------


def _random_case(rng):
    """One random call: (functional name, kwargs, y, scores, sample_weight, binary_trailing).
    `binary_trailing`: binary shapes that differ by a trailing 1 (Keras aligns them, torch
    raises: the one documented difference)."""
    multiclass = rng.random() < 0.4
    b = int(rng.choice([0, 1, 5, 12]))
    kw = {}
    if multiclass:
        name = "balanced_accuracy"
        k = int(rng.choice([2, 3, 4]))
        kw["num_classes"] = k if rng.random() < 0.9 else [1, 2.5][int(rng.integers(2))]
        scores = (2 * rng.normal(size=(b, k))).astype(np.float32)
        if rng.random() < 0.3:
            scores = np.exp(scores) / np.exp(scores).sum(1, keepdims=True)
        y = rng.integers(0, k, b)
        kind = rng.choice(["sparse", "column", "float", "onehot", "bad_index", "fraction", "bad_onehot", "bad_shape", "bad_width"])
        if kind == "column":
            y = y[:, None]
        elif kind == "float":
            y = y.astype(np.float32)
        elif kind == "onehot":
            y = np.eye(k, dtype=np.float32)[y]
        elif kind == "bad_index" and b:
            y[rng.integers(b)] = rng.choice([-1, k])
        elif kind == "fraction" and b:
            y = y.astype(np.float32) + 0.5
        elif kind == "bad_onehot" and b:
            y = np.eye(k, dtype=np.float32)[y] * 2
        elif kind == "bad_shape":
            y = y[:, None, None]
        elif kind == "bad_width":
            scores = scores[:, :-1]
        trailing = False
    else:
        name = str(rng.choice(["balanced_accuracy", "true_positive_rate", "true_negative_rate", "weighted_balanced_accuracy"]))
        shape = [(b,), (b, 1), (b, 3)][int(rng.integers(3))]
        y = (rng.random(shape) < 0.4).astype(np.float32)
        from_logits = bool(rng.random() < 0.5)
        scores = (2 * rng.normal(size=shape)).astype(np.float32)
        if not from_logits and rng.random() < 0.8:
            scores = 1 / (1 + np.exp(-scores))
        kw["from_logits"] = from_logits if rng.random() < 0.95 else "no"
        kw["threshold"] = float(rng.choice([0.5, 0.3, 0.8])) if rng.random() < 0.9 else float(rng.choice([1.5, -0.1]))
        if name == "weighted_balanced_accuracy":
            kw["alpha"] = float(rng.choice([0.5, 0.2])) if rng.random() < 0.9 else 1.2
        if name == "balanced_accuracy":
            kw["adjusted"] = bool(rng.random() < 0.5)
        kind = rng.choice(["ok", "ok", "label", "nan_label", "int_scores", "nan_scores", "trailing", "mismatch"])
        if kind == "label" and y.size:
            y.flat[rng.integers(y.size)] = rng.choice([2.0, 0.5, -1.0])
        elif kind == "nan_label" and y.size:
            y.flat[rng.integers(y.size)] = np.nan
        elif kind == "int_scores":
            scores = (scores > 0).astype(np.int64)
        elif kind == "nan_scores" and scores.size:
            scores.flat[rng.integers(scores.size)] = np.nan
        elif kind == "trailing":
            y = y[..., 0] if shape[-1:] == (1,) else y[..., None]
        elif kind == "mismatch":
            y = y[..., :1] if len(shape) == 2 and shape[1] == 3 else np.zeros(shape + (2,), np.float32)
        trailing = y.ndim != scores.ndim and kind == "trailing"
    n = scores.shape[0]
    weight = [None, lambda: 2.0, lambda: rng.random(n).astype(np.float32),
              lambda: rng.random((n, 1)).astype(np.float32),
              lambda: np.full(n, -1.0, np.float32), lambda: np.full(n, np.nan, np.float32),
              lambda: np.ones(n + 1, np.float32)][int(rng.integers(7))]
    return name, kw, y, scores, (None if weight is None else weight()), trailing


def _outcome(fw, name, y, scores, kw, w):
    """("value", float) or ("error", type, message with the argument names as {target}/{preds})."""
    try:
        return ("value", float(fw.fn(name, y, scores, sample_weight=w, **kw)))
    except (ValueError, TypeError) as err:
        text = str(err).replace(f"`{fw.target}`", "`{target}`").replace(f"`{fw.preds}`", "`{preds}`")
        return ("error", type(err).__name__, text)


@pytest.mark.keras
def test_differential_same_outcome_in_both_packages():
    """200 seeded random calls, valid and invalid (shapes, dtypes, label values, argument
    values, weights): the same value, or the same error type and message up to the argument
    names, in both packages. The one difference the conventions dictate: binary shapes that
    differ by a trailing 1 are an error in torch and, in Keras, the value of the aligned
    shapes."""
    k, t = KerasFW(), TorchFW()
    rng = np.random.default_rng(2024)
    seen = {"value": 0, "error": 0}
    for i in range(200):
        name, kw, y, scores, w, trailing = _random_case(rng)
        got_k, got_t = _outcome(k, name, y, scores, kw, w), _outcome(t, name, y, scores, kw, w)
        where = f"case {i}: {name} {kw} y{y.shape} scores{scores.shape} w={None if w is None else np.shape(w)}"
        if trailing and got_t[0] == "error" and got_t[2].startswith("Shape mismatch"):
            # Keras drops the trailing 1: torch on both reshaped to the shorter shape
            aligned = min(y.shape, scores.shape, key=len)
            got_t = _outcome(t, name, y.reshape(aligned), scores.reshape(aligned), kw, w)
        seen[got_k[0]] += 1
        assert got_k[0] == got_t[0], (where, got_k, got_t)
        if got_k[0] == "value":
            np.testing.assert_allclose(got_k[1], got_t[1], rtol=0, atol=k.atol, err_msg=where)
        else:
            assert got_k == got_t, where
    assert min(seen.values()) > 40, seen  # both kinds of outcome well covered


# --------------------------------------------------------------------------------------------
# Counts beyond 2^24 (jax without x64: a float32 compensated pair)
# --------------------------------------------------------------------------------------------

BIG = 2**25 + 3  # not a float32 number: float32 rounds it to 2^25 + 4


def _big_stream():
    """Four updates that put 2^25 + 3 (weighted) samples in cell (0, 0) and one in (1, 1),
    with weights 2^24 and 1 in the same batch: the float32 path must not lose the 1s."""
    y0, p0 = np.zeros(3, np.float32), np.full(3, 0.1, np.float32)
    return [
        (y0, p0, np.array([2.0**24, 2.0**24, 1.0], np.float32)),
        (y0[:1], p0[:1], None),
        (np.array([0.0, 1.0], np.float32), np.array([0.2, 0.9], np.float32), None),
    ]


def _keras_counts(metric):
    from keras import ops

    hi, lo = (np.asarray(ops.convert_to_numpy(v), np.float64) for v in (metric.confusion, metric.confusion_residual))
    return hi + lo


@pytest.mark.keras
@pytest.mark.parametrize("state", ["backend", "float32"])
def test_keras_counts_exact_beyond_2_24(state, monkeypatch):
    """The Keras confusion counts stay exact past 2^24 on the running backend ("backend":
    float64, or a float32 pair on jax without x64) and on the float32 pair forced on any
    backend ("float32", what jax without x64 runs), also when a batch is sliced."""
    from tf_impl import metrics

    if state == "float32":
        monkeypatch.setattr(metrics._confusion, "_state_dtype", lambda: "float32")
    for slice_size in (metrics._confusion._SLICE, 2):
        monkeypatch.setattr(metrics._confusion, "_SLICE", slice_size)
        metric = metrics.BalancedAccuracy()
        for y, p, w in _big_stream():
            metric.update_state(y, p, sample_weight=w)
        counts = _keras_counts(metric)
        assert counts.tolist() == [[BIG, 0.0], [0.0, 1.0]], (state, slice_size, counts)
        assert float(KerasFW().result(metric)) == 1.0
        cm = metrics._confusion.batch_confusion(*_big_stream()[0], None, 0.5, False, True)
        # The functional form returns the one batch's matrix in the state dtype.
        assert float(cm[0, 0]) == float(np.asarray(2**25 + 1, metrics._confusion._state_dtype()))


@pytest.mark.keras
def test_keras_float32_pair_weighted_sums_near_float64(monkeypatch):
    """Weighted sums on the float32 pair keep far more than float32 accuracy: 60 batches of
    uniform weights, compared with the float64 sum (a float32 state is off by ~3e-7 here)."""
    from tf_impl import metrics

    monkeypatch.setattr(metrics._confusion, "_state_dtype", lambda: "float32")
    rng = np.random.default_rng(14)
    metric = metrics.TruePositiveRate()
    want = np.zeros((2, 2))
    for _ in range(60):
        y = (rng.random(256) < 0.5).astype(np.float32)
        p = rng.random(256).astype(np.float32)
        w = (rng.random(256) * 1000).astype(np.float32)
        metric.update_state(y, p, sample_weight=w)
        np.add.at(want, (y.astype(int), (p > 0.5).astype(int)), w.astype(np.float64))
    np.testing.assert_allclose(_keras_counts(metric), want, rtol=1e-11, atol=0)


def test_numpy_reference_matches_sklearn():
    """imbalance_core.metrics, the float64 oracle of both implementations."""
    from imbalance_core import metrics as core

    rng = np.random.default_rng(10)
    y, p, w = rng.integers(0, 5, 300), rng.integers(0, 5, 300), rng.random(300)
    cm = core.confusion_matrix(y, p, 5, w)
    for adjusted in (False, True):
        assert core.balanced_accuracy_from_confusion(cm, adjusted) == pytest.approx(
            balanced_accuracy_score(y, p, sample_weight=w, adjusted=adjusted), rel=1e-13, abs=0
        )
    yb, pb = y % 2, p % 2
    cmb = core.confusion_matrix(yb, pb, 2, w)
    assert core.true_positive_rate_from_confusion(cmb) == pytest.approx(recall_score(yb, pb, sample_weight=w), rel=1e-13)
    assert core.true_negative_rate_from_confusion(cmb) == pytest.approx(recall_score(yb, pb, pos_label=0, sample_weight=w), rel=1e-13)
    assert core.balanced_accuracy_from_confusion(np.zeros((2, 2))) == 0.0
    assert core.decision_threshold(0.5, True) == 0.0 and core.decision_threshold(1.0, True) == np.inf


@needs_tf_backend
def test_label_checks_fire_inside_model_fit_on_tensorflow():
    """In a traced TensorFlow graph the content checks become tf.debugging assertions."""
    import keras

    from tf_impl.metrics import BalancedAccuracy

    x = np.random.default_rng(0).normal(size=(32, 3)).astype("float32")
    y = np.full((32, 1), 2.0, "float32")  # not a binary label
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=[BalancedAccuracy(from_logits=True)])
    with pytest.raises(Exception, match=r"Invalid `y_true`: binary labels \(0 or 1\) must lie in \[0, 1\]"):
        model.fit(x, y, epochs=1, verbose=0)
