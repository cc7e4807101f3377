"""The long-tail metrics in both frameworks against their anchors, per
batch and accumulated over a stream, with and without sample weights, binary and
multi-class; identical across frameworks on the same stream; bad input gives the same error
in both.

- GeometricMean: imbalanced-learn's `geometric_mean_score(average="multiclass", correction)`
- MatthewsCorrelation: scikit-learn's `matthews_corrcoef`
- PerClassRecall: scikit-learn's `recall_score(average=None, labels=range(K))`
- ShotAccuracy: OLTR's `shot_acc` (Liu et al. 2019), transcribed below as `_oltr_shot_acc`
  with sample weights added (the weighted per-class recall)

The adapters, tolerances and streams are test_metrics.py's (float32 results from float64
state: atol 1e-7; Keras on jax without x64 evaluates the formula in float32).
"""

import re
import warnings

import numpy as np
import pytest
from imblearn.metrics import geometric_mean_score
from sklearn.metrics import matthews_corrcoef, recall_score

from tests.test_metrics import ATOL_F32_STATE, KerasFW, TorchFW, keras_state_is_float64

K = 5
SAMPLES_PER_CLASS = [500, 120, 60, 15, 3]  # many: 500, 120 (> 100); medium: 60; few: 15, 3 (< 20)
SHOT = dict(samples_per_class=SAMPLES_PER_CLASS)


@pytest.fixture(params=[pytest.param("keras", marks=pytest.mark.keras), "torch"])
def fw(request):
    return KerasFW() if request.param == "keras" else TorchFW()


def _quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn / imbalanced-learn zero-division warnings
        return fn(*args, **kw)


def _oltr_shot_acc(y, hard, counts, w=None, many_threshold=100, few_threshold=20):
    """OLTR's `shot_acc`: per class of np.unique(labels), the accuracy on that class; the
    mean of those over the classes with > many_threshold training samples, < few_threshold,
    and the rest; np.mean of an empty group is NaN. Weighted: weighted per-class accuracy."""
    w = np.ones(len(y)) if w is None else np.asarray(w, np.float64)
    groups = ([], [], [])
    for c in np.unique(y):
        acc = w[(y == c) & (hard == c)].sum() / w[y == c].sum()
        n = counts[c]
        groups[0 if n > many_threshold else 2 if n < few_threshold else 1].append(acc)
    return np.array([np.mean(g) if g else np.nan for g in groups])


def _binary_stream(seed, logits):
    """10 binary batches (B, 1), about 20 % positive; batch 2 holds no positive, batch 6 no
    negative; weights in (0, 3). Batch sizes from a set of three (jax compiles per shape)."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(10):
        b = int(rng.choice([7, 16, 29]))
        y = (rng.random((b, 1)) < 0.2).astype(np.float32)
        y[:] = 0 if i == 2 else 1 if i == 6 else y
        score = rng.normal(size=(b, 1)) + 1.5 * (2 * y - 1)
        pred = score if logits else 1 / (1 + np.exp(-score))
        out.append((y, pred.astype(np.float32), (rng.random(b) * 3 + 0.01).astype(np.float32)))
    return out


def _longtail_stream(seed, weighted=True):
    """12 batches of K = 5 classes drawn 40/25/20/10/5 %; weights in (0, 2] (positive: see
    test_zero_weight_sample_counts_as_absent); batch 4 holds classes 0 and 1 only. Uneven
    batch sizes from a set of three, so that jax's per-shape compilations are reused."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(12):
        b = int(rng.choice([7, 16, 29]))
        y = rng.choice(K, size=b, p=[0.4, 0.25, 0.2, 0.1, 0.05])
        if i == 4:
            y = y % 2
        logits = rng.normal(size=(b, K)) + 1.8 * np.eye(K)[y]
        w = (rng.integers(1, 9, b) / 4).astype(np.float32) if weighted else None
        out.append((y, logits.astype(np.float32), w))
    return out


def _expected(y, hard, w, num_classes, correction):
    return {
        "gm": _quiet(geometric_mean_score, y, hard, sample_weight=w, correction=correction),
        "mcc": _quiet(matthews_corrcoef, y, hard, sample_weight=w),
        "recall": _quiet(recall_score, y, hard, average=None, labels=list(range(num_classes)), sample_weight=w,
                         zero_division=0),
    }


# --------------------------------------------------------------------------------------------
# Against the anchors, per batch and accumulated
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("from_logits, threshold, weighted", [(False, 0.5, False), (True, 0.7, True)])
def test_binary_match_anchors_per_batch_and_accumulated(fw, from_logits, threshold, weighted):
    """Binary: G-mean = sqrt(TPR x TNR) (imbalanced-learn, which keeps only the classes in
    the labels or predictions, as we do), MCC, [TNR, TPR]. The stream has batches with no
    positive and with no negative."""
    kw = dict(threshold=threshold, from_logits=from_logits)
    correction = 0.0 if weighted else 0.1
    metrics = {"gm": fw.make("GeometricMean", correction=correction, **kw), "mcc": fw.make("MatthewsCorrelation", **kw),
               "recall": fw.make("PerClassRecall", **kw)}
    cut = np.log(threshold / (1 - threshold)) if from_logits else threshold
    ys, hards, ws = [], [], []
    for y, pred, w in _binary_stream(7, from_logits):
        w = w if weighted else None
        hard = (pred > np.float32(cut)).astype(int).ravel()
        want = _expected(y.ravel().astype(int), hard, w, 2, correction)
        got = {"gm": fw.fn("geometric_mean", y, pred, correction=correction, sample_weight=w, **kw),
               "mcc": fw.fn("matthews_correlation", y, pred, sample_weight=w, **kw),
               "recall": fw.fn("per_class_recall", y, pred, sample_weight=w, **kw)}
        for key in want:
            np.testing.assert_allclose(got[key], want[key], rtol=0, atol=fw.atol, err_msg=f"per batch: {key}")
        for metric in metrics.values():
            fw.update(metric, y, pred, w)
        ys.append(y.ravel().astype(int)), hards.append(hard), ws.append(w)
    want = _expected(np.concatenate(ys), np.concatenate(hards), np.concatenate(ws) if weighted else None, 2, correction)
    assert 0.3 < want["gm"] < 0.95 and 0.2 < want["mcc"] < 0.95  # the stream says something
    for key, metric in metrics.items():
        got = fw.result(metric)
        assert got.dtype == np.float32 and got.shape == np.shape(want[key])
        np.testing.assert_allclose(got, want[key], rtol=0, atol=fw.atol, err_msg=f"accumulated: {key}")


@pytest.mark.parametrize("label_format, weighted", [("sparse", True), ("onehot", False)])
def test_multiclass_match_anchors_per_batch_and_accumulated(fw, label_format, weighted):
    """K = 5 long-tailed classes; scores are logits (argmax). G-mean with and without
    `correction`, MCC, per-class recall and the shot groups (OLTR), per batch (where classes
    and whole shot groups are missing: NaN) and accumulated."""
    metrics = {"gm": fw.make("GeometricMean", num_classes=K), "gm_c": fw.make("GeometricMean", num_classes=K, correction=0.05),
               "mcc": fw.make("MatthewsCorrelation", num_classes=K), "recall": fw.make("PerClassRecall", num_classes=K),
               "shot": fw.make("ShotAccuracy", **SHOT)}

    def expected(y, hard, w):
        want = _expected(y, hard, w, K, 0.0)
        want["gm_c"] = _quiet(geometric_mean_score, y, hard, sample_weight=w, correction=0.05)
        want["shot"] = _oltr_shot_acc(y, hard, SAMPLES_PER_CLASS, w)
        return want

    ys, hards, ws, nan_groups = [], [], [], 0
    for y, logits, w in _longtail_stream(3, weighted):
        y_in = y if label_format == "sparse" else np.eye(K, dtype=np.float32)[y]
        hard = logits.argmax(1)
        want = expected(y, hard, w)
        got = {"gm": fw.fn("geometric_mean", y_in, logits, num_classes=K, sample_weight=w),
               "gm_c": fw.fn("geometric_mean", y_in, logits, num_classes=K, correction=0.05, sample_weight=w),
               "mcc": fw.fn("matthews_correlation", y_in, logits, num_classes=K, sample_weight=w),
               "recall": fw.fn("per_class_recall", y_in, logits, num_classes=K, sample_weight=w),
               "shot": fw.fn("shot_accuracy", y_in, logits, sample_weight=w, **SHOT)}
        for key in want:  # assert_allclose: NaN where, and only where, the anchor has NaN
            np.testing.assert_allclose(got[key], want[key], rtol=0, atol=fw.atol, err_msg=f"per batch: {key}")
        nan_groups += int(np.isnan(want["shot"]).sum())
        for metric in metrics.values():
            fw.update(metric, y_in, logits, w)
        ys.append(y), hards.append(hard), ws.append(w)
    assert nan_groups > 0  # some batch misses a whole shot group
    want = expected(np.concatenate(ys), np.concatenate(hards), np.concatenate(ws) if weighted else None)
    assert want["gm"] > 0.3 and not np.isnan(want["shot"]).any()
    for key, metric in metrics.items():
        got = fw.result(metric)
        assert got.dtype == np.float32 and got.shape == np.shape(want[key])
        np.testing.assert_allclose(got, want[key], rtol=0, atol=fw.atol, err_msg=f"accumulated: {key}")


def test_geometric_mean_classes_and_correction(fw):
    """imbalanced-learn's class set and correction, on hand-made cases: a class predicted but
    never true has recall 0 (G-mean 0, or `correction`); a class neither true nor predicted
    is left out; no sample gives 0."""
    eye = np.eye(3, dtype=np.float32)
    cases = [
        (np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1])),  # class 2 absent everywhere: left out
        (np.array([0, 0, 1, 1]), np.array([0, 2, 1, 1])),  # class 2 predicted, never true
        (np.array([0, 1, 2, 0, 1, 2]), np.array([0, 2, 1, 0, 0, 1])),  # imbalanced-learn's docstring
    ]
    for y, hard in cases:
        for correction in (0.0, 0.001, 0.3):
            want = _quiet(geometric_mean_score, y, hard, correction=correction)
            got = fw.fn("geometric_mean", y, eye[hard], num_classes=3, correction=correction)
            np.testing.assert_allclose(got, want, rtol=0, atol=fw.atol, err_msg=f"{y} {hard} {correction}")
    np.testing.assert_allclose(fw.fn("geometric_mean", y[:0], eye[:0], num_classes=3), 0.0)
    np.testing.assert_allclose(fw.fn("geometric_mean", np.array([0.0, 0.0]), np.array([0.1, 0.2], np.float32)), 1.0)


def test_geometric_mean_does_not_underflow_with_many_classes(fw):
    """400 classes of recall 0.1: the product 0.1^400 underflows float64, the G-mean is 0.1."""
    k, per_class = 400, 10
    y = np.repeat(np.arange(k), per_class)
    hard = np.where(np.arange(len(y)) % per_class == 0, y, (y + 1) % k)  # one right per class
    scores = np.eye(k, dtype=np.float32)[hard]
    np.testing.assert_allclose(fw.fn("geometric_mean", y, scores, num_classes=k), 0.1, rtol=1e-6)


def test_zero_weight_sample_counts_as_absent(fw):
    """Documented difference: a sample of weight 0 is absent from the confusion matrix (our
    state), so its class does not enter the G-mean; imbalanced-learn takes its label into
    the class set (recall 0, G-mean 0). We equal imbalanced-learn without that sample."""
    y = np.array([0, 0, 1, 1, 2])
    hard = np.array([0, 1, 1, 1, 0])
    w = np.array([1.0, 1.0, 1.0, 1.0, 0.0], np.float32)
    got = fw.fn("geometric_mean", y, np.eye(3, dtype=np.float32)[hard], num_classes=3, sample_weight=w)
    np.testing.assert_allclose(got, geometric_mean_score(y[:4], hard[:4]), rtol=0, atol=fw.atol)
    assert _quiet(geometric_mean_score, y, hard, sample_weight=w) == 0.0


def test_shot_groups_follow_oltr_thresholds(fw):
    """n > many_threshold many-shot, n < few_threshold few-shot, else medium (the bounds
    themselves are medium); custom thresholds; an empty group is NaN, also before any sample."""
    from imbalance_core.metrics import shot_groups

    counts = [101, 100, 20, 19, 0]
    np.testing.assert_array_equal(shot_groups(counts), [[1, 0, 0, 0, 0], [0, 1, 1, 0, 0], [0, 0, 0, 1, 1]])
    np.testing.assert_array_equal(shot_groups(counts, 150, 10), [[0, 0, 0, 0, 0], [1, 1, 1, 1, 0], [0, 0, 0, 0, 1]])
    y = np.array([0, 1, 2, 3, 4, 4])
    hard = np.array([0, 0, 2, 3, 1, 4])
    scores = np.eye(5, dtype=np.float32)[hard]
    got = fw.fn("shot_accuracy", y, scores, samples_per_class=counts)
    np.testing.assert_allclose(got, [1.0, 0.5, 0.75], rtol=0, atol=fw.atol)
    got = fw.fn("shot_accuracy", y, scores, samples_per_class=counts, many_threshold=150, few_threshold=10)
    np.testing.assert_allclose(got, [np.nan, 0.75, 0.5], rtol=0, atol=fw.atol)
    np.testing.assert_allclose(got, _oltr_shot_acc(y, hard, counts, None, 150, 10), rtol=0, atol=fw.atol)
    metric = fw.make("ShotAccuracy", samples_per_class=counts)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torchmetrics warns on compute() before update()
        assert np.isnan(fw.result(metric)).all()
    fw.update(metric, y[:1], scores[:1])  # a many-shot class only
    np.testing.assert_allclose(fw.result(metric), [1.0, np.nan, np.nan])


# --------------------------------------------------------------------------------------------
# The same numbers in both frameworks
# --------------------------------------------------------------------------------------------


@pytest.mark.keras
def test_keras_and_torch_identical_on_the_same_stream():
    """Same batches through both packages: identical float32 numbers after every batch
    (weights are multiples of 1/4: exact float64 sums in any order). Keras on jax without
    x64: the formula in float32, within a few ulp."""
    k, t = KerasFW(), TorchFW()

    def same(a, b):
        if keras_state_is_float64():
            return np.array_equal(a, b, equal_nan=True)
        return np.allclose(a, b, rtol=0, atol=ATOL_F32_STATE, equal_nan=True)

    specs = [
        ("GeometricMean", dict(num_classes=K), "mc"), ("GeometricMean", dict(num_classes=K, correction=0.01), "mc"),
        ("MatthewsCorrelation", dict(num_classes=K), "mc"), ("PerClassRecall", dict(num_classes=K), "mc"),
        ("ShotAccuracy", dict(SHOT), "mc"),
        ("GeometricMean", dict(from_logits=True), "bin"), ("MatthewsCorrelation", dict(threshold=0.3), "bin"),
        ("PerClassRecall", dict(from_logits=True, threshold=0.6), "bin"),
    ]
    for cls, kw, mode in specs:
        mk, mt = k.make(cls, **kw), t.make(cls, **kw)
        stream = _longtail_stream(8) if mode == "mc" else _binary_stream(8, kw.get("from_logits", False))
        for y, pred, w in stream[:8]:
            w = np.round(w * 4) / 4
            k.update(mk, y, pred, w), t.update(mt, y, pred, w)
            assert same(k.result(mk), t.result(mt)), (cls, kw, k.result(mk), t.result(mt))


# --------------------------------------------------------------------------------------------
# Keras: inside the compiled step, serialisation; the float32 state (jax without x64)
# --------------------------------------------------------------------------------------------


@pytest.mark.keras
def test_keras_weighted_metrics_in_model_evaluate_and_serialised():
    """model.evaluate runs the four metrics in Keras's compiled step (4 batches, weighted):
    the anchors' values on the model's decisions; each metric round-trips through Keras
    serialisation without custom_objects."""
    import keras

    from tf_impl import metrics

    rng = np.random.default_rng(12)
    x = rng.normal(size=(128, 4)).astype(np.float32)
    y = np.argmax(x[:, :3] + 0.7 * rng.normal(size=(128, 3)) + [0.8, 0.0, -0.4], axis=1)
    w = (rng.integers(1, 9, 128) / 4).astype(np.float32)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    weighted = [metrics.GeometricMean(num_classes=3, correction=0.01), metrics.MatthewsCorrelation(num_classes=3),
               metrics.PerClassRecall(num_classes=3), metrics.ShotAccuracy([300, 40, 5])]
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), weighted_metrics=weighted)
    got = model.evaluate(x, y, sample_weight=w, batch_size=32, verbose=0, return_dict=True)
    hard = np.asarray(model.predict(x, verbose=0)).argmax(1)
    want = _expected(y, hard, w, 3, 0.01)
    atol = KerasFW().atol
    np.testing.assert_allclose(got["geometric_mean"], want["gm"], rtol=0, atol=atol)
    np.testing.assert_allclose(got["matthews_correlation"], want["mcc"], rtol=0, atol=atol)
    assert isinstance(got["per_class_recall"], np.ndarray) and isinstance(got["shot_accuracy"], np.ndarray)  # docs/metrics.md
    np.testing.assert_allclose(got["per_class_recall"], want["recall"], rtol=0, atol=atol)
    np.testing.assert_allclose(got["shot_accuracy"], _oltr_shot_acc(y, hard, [300, 40, 5], w), rtol=0, atol=atol)
    for metric in weighted:
        config = keras.saving.serialize_keras_object(metric)
        assert config["registered_name"] == f"classbalance>{type(metric).__name__}"
        clone = keras.saving.deserialize_keras_object(config)
        assert type(clone) is type(metric) and clone.get_config() == metric.get_config()


@pytest.mark.keras
def test_keras_float32_state_formulas_near_float64(monkeypatch):
    """The float32 pair that jax without x64 runs: exact counts, the formulas in float32.
    MCC's numerator c s - t.p cancels, hence its looser bound (float32 ulp of s^2 over the
    denominator, ~1e-6 here)."""
    from tf_impl import metrics

    monkeypatch.setattr(metrics._confusion, "_state_dtype", lambda: "float32")
    specs = {"geometric_mean": 4e-7, "matthews_correlation": 2e-6, "per_class_recall": 4e-7}
    by_name = {name: getattr(metrics, "".join(p.title() for p in name.split("_")))(num_classes=K) for name in specs}
    shot = metrics.ShotAccuracy(SAMPLES_PER_CLASS)
    ys, hards, ws = [], [], []
    for y, logits, w in _longtail_stream(9)[:6]:
        for metric in list(by_name.values()) + [shot]:
            metric.update_state(y, logits, sample_weight=w)
        ys.append(y), hards.append(logits.argmax(1)), ws.append(w)
    y, hard, w = np.concatenate(ys), np.concatenate(hards), np.concatenate(ws)
    want = _expected(y, hard, w, K, 0.0)
    for (name, atol), key in zip(specs.items(), ("gm", "mcc", "recall")):
        np.testing.assert_allclose(KerasFW().result(by_name[name]), want[key], rtol=0, atol=atol, err_msg=name)
    np.testing.assert_allclose(KerasFW().result(shot), _oltr_shot_acc(y, hard, SAMPLES_PER_CLASS, w), rtol=0, atol=4e-7)


# --------------------------------------------------------------------------------------------
# Bad input: the same error, the same message, in both frameworks
# --------------------------------------------------------------------------------------------

BAD_ARGS = [
    ("GeometricMean", (), {"correction": 1.5}, "Invalid `correction`: received 1.5; expected a finite number in [0, 1]."),
    ("GeometricMean", (), {"correction": "0.1"}, "Invalid `correction`: received '0.1'; expected a finite number in [0, 1]."),
    ("MatthewsCorrelation", (), {"num_classes": 1}, "Invalid `num_classes`: received 1; expected an integer >= 2 or None."),
    ("PerClassRecall", (), {"threshold": -0.5}, "Invalid `threshold`: received -0.5; expected a finite number in [0, 1]."),
    ("PerClassRecall", (), {"from_logits": "False"}, "Invalid `from_logits`: received 'False'; expected True or False."),
    ("ShotAccuracy", (None,), {}, "Invalid `samples_per_class`: received None; expected a non-negative finite 1-D vector"),
    ("ShotAccuracy", ([40],), {}, "Invalid `samples_per_class`: received length 1; expected at least 2 classes."),
    ("ShotAccuracy", ([40, -1],), {}, "Invalid `samples_per_class`: received [40, -1] (shape (2,)); expected a non-negative finite 1-D vector."),
    ("ShotAccuracy", ([40, 3],), {"many_threshold": -1}, "Invalid `many_threshold`: received -1; expected a finite number >= 0."),
    ("ShotAccuracy", ([40, 3],), {"few_threshold": 200}, "Invalid `few_threshold`: received 200 with many_threshold=100; expected few_threshold <= many_threshold"),
    ("ShotAccuracy", ([40, 3],), {"validate_args": 1}, "Invalid `validate_args`: received 1; expected True or False."),
]


@pytest.mark.parametrize("cls, args, kw, message", BAD_ARGS, ids=[f"{c}-{i}" for i, (c, _, _, _) in enumerate(BAD_ARGS)])
def test_bad_arguments_same_error_in_both(fw, cls, args, kw, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        fw.make(cls, **(dict(kw, samples_per_class=args[0]) if args else kw))
    name = {"GeometricMean": "geometric_mean", "MatthewsCorrelation": "matthews_correlation",
            "PerClassRecall": "per_class_recall", "ShotAccuracy": "shot_accuracy"}[cls]
    y, scores = np.array([0, 1]), np.eye(2, dtype=np.float32)
    if args:
        kw = dict(kw, samples_per_class=args[0])
    with pytest.raises(ValueError, match=re.escape(message)):
        fw.fn(name, y, scores, **kw)


# {target} / {preds}: `y_true` / `y_pred` in Keras, `target` / `preds` in torch
BAD_INPUTS = [
    ("shot_accuracy", np.array([0, 3]), np.zeros((2, 3), np.float32), {"samples_per_class": [40, 20, 3]}, ValueError,
     "Invalid `{target}`: class indices must lie in [0, 3); received [3]"),
    ("shot_accuracy", np.array([0, 1]), np.zeros((2, 4), np.float32), {"samples_per_class": [40, 20, 3]}, ValueError,
     "Invalid `{preds}`: received shape (2, 4); expected a last axis of size num_classes=3"),
    ("per_class_recall", np.array([0, 2]), np.zeros((2, 3), np.float32), {"num_classes": 3, "sample_weight": np.array([1.0, -2.0], np.float32)},
     ValueError, "Invalid `sample_weight`: received [1, -2]"),
    ("geometric_mean", np.array([0.0, 2.0]), np.array([0.1, 0.9], np.float32), {}, ValueError,
     "Invalid `{target}`: binary labels must be 0 or 1; received [2.0]"),
    ("matthews_correlation", np.array([0.0, 1.0]), np.array([0.1, 1.9], np.float32), {}, ValueError,
     "Invalid `{preds}`: probabilities must lie in [0, 1]; received values in [0.1, 1.9]"),
    ("matthews_correlation", np.array([0, 1]), np.array([[0, 1], [1, 0]]), {"num_classes": 2}, TypeError,
     "Invalid `{preds}` dtype: received int"),
]


@pytest.mark.parametrize("name, y, p, kw, error, pattern", BAD_INPUTS, ids=[f"bad{i}" for i in range(len(BAD_INPUTS))])
def test_bad_inputs_same_error_in_both(fw, name, y, p, kw, error, pattern):
    message = re.escape(pattern.format(target=fw.target, preds=fw.preds))
    with pytest.raises(error, match=message):
        fw.fn(name, y, p, **kw)
    kw = dict(kw)
    weight = kw.pop("sample_weight", None)
    cls = "".join(part.title() for part in name.split("_"))
    metric = fw.make(cls, **kw)
    with pytest.raises(error, match=message):
        fw.update(metric, y, p, weight)


# --------------------------------------------------------------------------------------------
# The NumPy oracle
# --------------------------------------------------------------------------------------------


def test_numpy_reference_matches_anchors():
    """imbalance_core.metrics, the float64 formulas both implementations are tested against."""
    from imbalance_core import metrics as core

    rng = np.random.default_rng(10)
    y, p, w = rng.integers(0, 5, 300), rng.integers(0, 5, 300), rng.random(300) + 0.1
    p[y == 4] = 4  # class 4 recalled perfectly; the others at chance
    cm = core.confusion_matrix(y, p, 5, w)
    assert core.matthews_correlation_from_confusion(cm) == pytest.approx(matthews_corrcoef(y, p, sample_weight=w), rel=1e-12)
    assert core.geometric_mean_from_confusion(cm) == pytest.approx(geometric_mean_score(y, p, sample_weight=w), rel=1e-12)
    np.testing.assert_allclose(core.per_class_recall_from_confusion(cm), recall_score(y, p, average=None, sample_weight=w), rtol=1e-12)
    np.testing.assert_allclose(core.shot_accuracy_from_confusion(cm, core.shot_groups(SAMPLES_PER_CLASS)),
                               _oltr_shot_acc(y, p, SAMPLES_PER_CLASS, w), rtol=1e-12)
    assert core.matthews_correlation_from_confusion(np.zeros((3, 3))) == 0.0
    assert core.geometric_mean_from_confusion(np.zeros((3, 3))) == 0.0
