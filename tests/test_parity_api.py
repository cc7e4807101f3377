"""The parity API on users' own loss pairs: a matching pair passes, a mismatched one fails."""

import numpy as np
import pytest

pytestmark = pytest.mark.keras

from parity_tests.api import compare_losses, stress_inputs  # noqa: E402


def _keras_bce(y_true, y_pred):
    import keras

    return keras.losses.binary_crossentropy(y_true, y_pred, from_logits=True)  # mean over the last axis


def _torch_bce(pos_weight=None):
    import torch

    def f(input, target):
        pw = None if pos_weight is None else torch.tensor(pos_weight, dtype=input.dtype)
        return torch.nn.functional.binary_cross_entropy_with_logits(input, target, pos_weight=pw, reduction="none").mean(-1)

    return f


def test_matching_pair_passes_every_cell():
    import keras

    report = compare_losses(_keras_bce, _torch_bce(), kind="binary", dtypes=("float64", "float32"))
    ran = [r for r in report.results if not r.skipped]
    assert {r.framework for r in ran} >= {"torch"} and any(r.framework.startswith("keras/") for r in ran)
    assert {r.case for r in ran} == {"user/random", "user/extreme_logits", "user/soft_labels"}
    backend = keras.backend.backend()
    if backend in ("torch", "jax"):
        # A real finding the report makes: Keras 3.15's torch and jax backends take the float64
        # mean in float32 (ops.mean; errors ~1e-7), which the float64 tolerance catches; float32
        # cells pass.
        failing = [r for r in ran if not r.passed]
        assert {(r.framework, r.dtype) for r in failing} == {(f"keras/{backend}", "float64")}, report.table()
        assert all("dtype leak" in r.diagnosis and "float32 precision" in r.diagnosis for r in failing), report.explain()
    else:
        assert report.passed, report.table()
        assert "ALL PASS" in report.summary()


def test_mismatched_pair_fails_with_the_gap_reported():
    report = compare_losses(_keras_bce, _torch_bce(pos_weight=2.0), kind="binary", dtypes=("float32",),
                            devices=("cpu",))
    keras_cells = [r for r in report.results if r.framework.startswith("keras/")]
    assert not report.passed and all(not r.passed for r in keras_cells)
    assert all(r.value_err > 1e-3 for r in keras_cells)
    assert "FAIL" in report.table("markdown")
    # not a reduction: the ratio varies with the target (pos_weight scales the positives only)
    assert all("value and gradient fail" in r.diagnosis and "not constant" in r.diagnosis for r in keras_cells)


def test_user_inputs_and_numpy_reference_multiclass():
    import keras
    import torch

    x = np.random.default_rng(0).normal(size=(6, 4)) * 3
    t = np.array([0, 1, 2, 3, 3, 1])

    def reference(logits, target):
        z = logits - logits.max(-1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
        return -logp[np.arange(len(target)), target]

    report = compare_losses(
        lambda y, p: keras.losses.sparse_categorical_crossentropy(y, p, from_logits=True),
        lambda i, tt: torch.nn.functional.cross_entropy(i, tt, reduction="none"),
        inputs={"mine": (x, t)}, reference=reference, dtypes=("float64", "float32"), devices=("cpu",),
    )
    assert report.passed, report.table()
    assert len(report.results) == 2 * 2


def test_stress_inputs_and_bad_arguments():
    gens = stress_inputs("multiclass", num_classes=3, one_hot=True)
    x, y = gens["class_absent"](np.random.default_rng(0))
    assert y.shape == x.shape and y[:, 2].sum() == 0
    with pytest.raises(ValueError, match=r"Invalid `kind`: received 'ranking'"):
        stress_inputs("ranking")
    with pytest.raises(ValueError, match=r"pass `keras_loss`, `torch_loss` or both"):
        compare_losses()


def _readme_example_pair():
    import keras
    import torch

    return keras.losses.BinaryCrossentropy(from_logits=True), torch.nn.BCEWithLogitsLoss()


def test_keras_class_in_its_dtype_policy_against_torch_bce_passes_every_dtype():
    """The migration page's example (docs/migration.md): a Keras loss class computes in its float32 policy (float64 and
    half inputs too); torch's BCEWithLogitsLoss computes natively in float16/bfloat16. Each side
    is held to the dtype it computed in, and the report says which."""
    report = compare_losses(*_readme_example_pair(), kind="binary", devices=("cpu",))
    assert report.passed, report.table(cells=True) + "\n" + "\n".join(report.explain())
    keras_cells = {r.dtype: r for r in report.results if r.framework.startswith("keras/")}
    assert {r.computed_in for r in keras_cells.values()} == {"float32"}
    assert keras_cells["float64"].rtol == 1.3e-6  # float32's tolerance: what the float32 policy can reach
    native = [r for r in report.results if r.framework == "torch" and r.computed_in == "bfloat16 (native)"]
    assert native and all("computed natively in bfloat16: atol = 4 u max|want|" in r.tolerance_note for r in native)
    assert "computed in" in report.table() and "float32" in report.table()


@pytest.mark.parametrize("kind,cls,kw", [
    ("binary", "WeightedBinaryCrossentropy", dict(pos_weight=3.0)),
    ("binary", "BinaryFocalLoss", {}),
    ("binary", "AsymmetricLoss", {}),
    ("multiclass", "WeightedCategoricalCrossentropy", dict(class_weight=[1.0, 2.0, 0.5, 1.0, 3.0])),
    ("multiclass", "CategoricalFocalLoss", {}),
    ("multiclass", "ClassBalancedLoss", dict(samples_per_class=[500, 120, 30, 4, 2], beta=0.99)),
    ("multiclass", "LogitAdjustedCrossentropy", dict(class_priors=[0.5, 0.3, 0.1, 0.07, 0.03])),
])
def test_every_classbalance_twin_passes_as_a_class_pair(kind, cls, kw):
    """Our own classes, default reductions, Keras's in its float32 policy: the pair passes."""
    import tf_impl.losses
    import torch_impl.losses

    report = compare_losses(getattr(tf_impl.losses, cls)(**kw), getattr(torch_impl.losses, cls)(**kw), kind=kind, dtypes=("float64", "bfloat16"),
                            devices=("cpu",))
    assert report.passed, report.table(cells=True) + "\n" + "\n".join(report.explain())


def test_sum_against_mean_fails_with_the_batch_size_diagnosis():
    import keras
    import torch

    report = compare_losses(keras.losses.BinaryCrossentropy(from_logits=True, reduction="sum"),
                            torch.nn.BCEWithLogitsLoss(), kind="binary", batch=8, dtypes=("float32",), devices=("cpu",))
    failing = [r for r in report.results if not r.passed]
    assert failing and all(r.framework.startswith("keras/") for r in failing)
    for r in failing:
        # Keras's "sum" of a sigmoid loss sums the per-sample means over the 5 classes; torch's
        # "mean" averages all 8 x 5 elements: 40 / 5 = 8
        assert ("got / want = 8 everywhere = the number of elements (samples x classes), 40 (8 x 5) / the number "
                "of classes, 5") in r.diagnosis, r.diagnosis
        assert "value and gradient fail" in r.diagnosis
        assert 'on this side, BinaryCrossentropy(..., reduction="sum_over_batch_size")' in r.diagnosis
        assert 'on the reference side, BCEWithLogitsLoss(..., reduction="sum") and divide by the number of classes, 5' \
            in r.diagnosis
    text = report.table()
    assert "divides by the classes (5)" in text and "FAIL (3 of 3)" in text


def test_per_element_against_per_sample_and_sign_are_named():
    import keras
    import torch

    torch_sum = lambda i, t: torch.nn.functional.binary_cross_entropy_with_logits(i, t, reduction="sum")  # noqa: E731
    report = compare_losses(keras.losses.BinaryCrossentropy(from_logits=True, reduction="sum"), torch_sum,
                            kind="binary", batch=8, num_classes=5, dtypes=("float32",), devices=("cpu",))
    (r, *_) = [r for r in report.results if not r.passed]
    assert "got / want = 1/5 everywhere = 1 / the number of classes, 5" in r.diagnosis, r.diagnosis
    assert "averages over the classes, the reference (your torch callable <lambda>) sums" in r.diagnosis

    report = compare_losses(lambda y, p: -keras.losses.binary_crossentropy(y, p, from_logits=True),
                            _torch_bce(), kind="binary", dtypes=("float32",), devices=("cpu",))
    (r, *_) = [r for r in report.results if not r.passed]
    assert "got / want = -1 everywhere: a sign" in r.diagnosis


def test_shape_mismatch_is_explained():
    import keras
    import torch

    report = compare_losses(lambda y, p: keras.losses.binary_crossentropy(y, p, from_logits=True),
                            lambda i, t: torch.nn.functional.binary_cross_entropy_with_logits(i, t, reduction="none"),
                            kind="binary", dtypes=("float32",), devices=("cpu",))
    (r, *_) = [r for r in report.results if not r.passed]
    assert "per sample against per element" in r.diagnosis and "average the other side over its last axis" in r.diagnosis


def test_json_report_is_strict():
    import json

    report = compare_losses(*_readme_example_pair(), kind="binary", dtypes=("float32",))  # gpu cells skipped here
    out = json.loads(report.as_json(), parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    assert {c["status"] for c in out["cells"]} <= {"passed", "skipped"}
    assert all(c["passed"] is None for c in out["cells"] if c["status"] == "skipped")


# ---------------------------------------------------------------- metrics and pipelines


def _sk_balanced_accuracy(y, p, w):
    from sklearn.metrics import balanced_accuracy_score

    return balanced_accuracy_score(y, (p >= 0.5).astype(int), sample_weight=w)


def test_balanced_accuracy_twins_agree_over_a_weighted_stream_with_a_reset():
    from parity_tests.api import compare_metrics
    from tf_impl.metrics import BalancedAccuracy as KerasBA
    from torch_impl.metrics import BalancedAccuracy as TorchBA

    report = compare_metrics(KerasBA(), TorchBA(), kind="binary", num_batches=4, reset_after=(1,),
                             reference=_sk_balanced_accuracy)
    assert report.passed, report.table() + "\n" + "\n".join(report.explain())
    assert {r.framework for r in report.results} == {"torch", f"keras/{__import__('keras').backend.backend()}"}
    assert "metric" in report.table() and "ALL PASS: 2 passed" in report.summary()


def test_a_metric_that_ignores_reset_or_accumulation_is_explained():
    from parity_tests.api import compare_metrics
    from tf_impl.metrics import BalancedAccuracy as KerasBA
    from torch_impl.metrics import BalancedAccuracy as TorchBA

    class NoReset(KerasBA):
        def reset_state(self):
            pass

    report = compare_metrics(NoReset(), TorchBA(), kind="binary", reset_after=(1,), reference=_sk_balanced_accuracy)
    (bad,) = [r for r in report.results if not r.passed]
    assert bad.framework.startswith("keras/") and "from step 2" in bad.diagnosis
    assert "state survived the reset" in bad.diagnosis

    class PerBatch(TorchBA):
        def update(self, preds, target, sample_weight=None):
            self.reset()
            super().update(preds, target, sample_weight=sample_weight)

    report = compare_metrics(KerasBA(), PerBatch(), kind="binary", reset_after=(), reference=_sk_balanced_accuracy)
    (bad,) = [r for r in report.results if not r.passed]
    assert bad.framework == "torch" and "does not accumulate across batches" in bad.diagnosis
    assert "FAIL metric/stream torch" in report.table()


def test_balanced_batches_twins_give_the_same_index_batches():
    pytest.importorskip("tensorflow")
    from parity_tests.api import compare_pipelines
    from tf_impl.data import balanced_batches as tf_batches
    from torch_impl.data import balanced_batches as torch_batches

    y = np.r_[np.zeros(90), np.ones(10)].astype(np.int64)
    idx = np.arange(len(y))
    kw = dict(class_fractions=[0.5, 0.5], seed=3, steps_per_epoch=6)
    report = compare_pipelines(tf_batches(idx, y, 8, **kw), torch_batches(idx, y, 8, **kw))
    assert report.passed, report.table()
    assert report.results[0].tolerance_note == "6 batches compared (indices)"

    other_seed = compare_pipelines(tf_batches(idx, y, 8, **kw), torch_batches(idx, y, 8, **{**kw, "seed": 4}))
    assert not other_seed.passed and "batch 0 differs" in other_seed.results[0].diagnosis
    # another seed, the same composition per batch
    assert compare_pipelines(tf_batches(idx, y, 8, **kw), torch_batches(idx, y, 8, **{**kw, "seed": 4}),
                             mode="composition").passed
    skewed = compare_pipelines(tf_batches(idx, y, 8, **kw),
                               torch_batches(idx, y, 8, **{**kw, "class_fractions": [0.75, 0.25]}), mode="composition")
    assert "batch 0: tf.data holds [4, 4] per class, torch [6, 2]" in skewed.results[0].diagnosis
    assert "FAIL pipeline/composition" in skewed.table()
