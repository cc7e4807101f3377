"""WeightedBinaryCrossentropy: anchors, reductions, argument forms and bad input, both frameworks."""

import numpy as np
import pytest

from conftest import needs_tf_backend
from parity_tests.frameworks import KerasFramework, TorchFramework
from tests.helpers import FRAMEWORKS, functional, loss_object

WBCE = "weighted_binary_crossentropy"


def _data(shape=(6, 4), seed=0, soft=False):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=shape) * 4
    y = rng.random(shape) if soft else (rng.random(shape) < 0.3).astype(np.float64)
    return x, y


# ---------------------------------------------------------------------------------- anchors


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("w,p", [(None, None), (None, [1.0, 2.0, 5.0, 0.5]), (0.5, 3.0), ([1.0, 0.0, 2.0, 0.25], [4.0, 1.0, 1.0, 2.0])])
def test_matches_torch_bce_with_logits(framework, reduction, w, p):
    """BCEWithLogitsLoss(weight=w, pos_weight=p) == ours with pos_weight=w*p, neg_weight=w."""
    import torch

    x, y = _data(soft=True)
    kw = {}
    if w is not None:
        kw["weight"] = torch.as_tensor(np.asarray(w, np.float64))
    if p is not None:
        kw["pos_weight"] = torch.as_tensor(np.asarray(p, np.float64))
    want = torch.nn.BCEWithLogitsLoss(reduction=reduction, **kw)(torch.as_tensor(x), torch.as_tensor(y)).numpy()
    ww = 1.0 if w is None else np.asarray(w)
    pp = 1.0 if p is None else np.asarray(p)
    ours = dict(pos_weight=ww * pp, neg_weight=None if w is None else ww)
    if framework == "torch":
        got = loss_object("torch", "WeightedBinaryCrossentropy", reduction=reduction, **ours)(x, y)
    else:
        # Keras classes average over the label axis first: torch "mean" == "sum_over_batch_size",
        # torch "sum" == C x Keras "sum", torch "none" == the functional form.
        if reduction == "none":
            got = functional("keras", WBCE)(x, y, **ours)
        else:
            k_red = {"mean": "sum_over_batch_size", "sum": "sum"}[reduction]
            got = loss_object("keras", "WeightedBinaryCrossentropy", reduction=k_red, **ours)(x, y)
            got = got * (x.shape[-1] if reduction == "sum" else 1)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


@needs_tf_backend
@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("pos_weight", [1.0, 7.5, [0.5, 1.0, 2.0, 30.0]])
def test_matches_tf_weighted_cross_entropy_with_logits(framework, pos_weight):
    import tensorflow as tf

    x, y = _data(soft=True, seed=1)
    want = tf.nn.weighted_cross_entropy_with_logits(y, x, pos_weight=tf.constant(pos_weight, tf.float64)).numpy()
    got = functional(framework, WBCE)(x, y, pos_weight=pos_weight)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


@pytest.mark.keras
@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1, 0.3])
@pytest.mark.parametrize("from_logits", [True, False])
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none"])
def test_matches_keras_binary_crossentropy(framework, label_smoothing, from_logits, reduction):
    import keras

    x, y = _data(seed=2)
    if not from_logits:
        x = 1.0 / (1.0 + np.exp(-x))
    anchor = keras.losses.BinaryCrossentropy(from_logits=from_logits, label_smoothing=label_smoothing, reduction=reduction)
    want = np.asarray(keras.ops.convert_to_numpy(anchor(y.astype("float32"), x.astype("float32"))), np.float64)
    kw = dict(label_smoothing=label_smoothing, from_logits=from_logits)
    if framework == "keras":
        got = loss_object("keras", "WeightedBinaryCrossentropy", reduction=reduction, **kw)(x.astype("float32"), y.astype("float32"))
    else:  # torch: "none" is element-wise; Keras's per-sample value is its mean over labels
        t_red = {"sum_over_batch_size": "mean", "sum": "sum", "none": "none"}[reduction]
        got = loss_object("torch", "WeightedBinaryCrossentropy", reduction=t_red, **kw)(x, y)
        got = got.mean(-1) if reduction == "none" else got / (x.shape[-1] if reduction == "sum" else 1)
    # Keras clips probabilities (from_logits=False) and computes in float32.
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-6)


# ------------------------------------------------------------------ reductions and weights


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_sample_weight_multiplies_samples_and_mean_counts_samples(framework):
    x, y = _data()
    sw = np.array([0.0, 1.0, 2.0, 0.5, 1.0, 3.0])
    elem = functional(framework, WBCE)(x, y, pos_weight=2.0)
    default = "mean" if framework == "torch" else "sum_over_batch_size"
    got = loss_object(framework, "WeightedBinaryCrossentropy", pos_weight=2.0, reduction=default)(x, y, sample_weight=sw)
    # mean divides by the count (Keras semantics), not by the sum of the weights
    np.testing.assert_allclose(got, (elem * sw[:, None]).mean(), rtol=1e-6)


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("shape", [(12,), (12, 1), (5, 7), (3, 4, 5)])
def test_target_shapes(framework, shape):
    x, y = _data(shape, seed=3)
    got = functional(framework, WBCE)(x, y, pos_weight=3.0, neg_weight=0.5)
    assert got.shape == shape
    ref = -(3.0 * y * -np.logaddexp(0, -x) + 0.5 * (1 - y) * -np.logaddexp(0, x))
    # atol: torch's fused kernel (our fast path) computes (1-y)x - log s(x), exact in absolute
    # terms (~1e-15) but not relative for losses far below 1 in float64.
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_weight_argument_forms_agree(framework):
    import torch

    x, y = _data()
    w = [0.5, 1.0, 2.0, 4.0]
    forms = [w, tuple(w), np.array(w), np.array(w, np.float32), torch.tensor(w)]
    if framework == "keras":
        import keras

        forms.append(keras.ops.convert_to_tensor(np.array(w)))
    fn = functional(framework, WBCE)
    want = fn(x, y, pos_weight=np.array(w))
    for form in forms:
        np.testing.assert_allclose(fn(x, y, pos_weight=form), want, rtol=1e-12)
    np.testing.assert_allclose(fn(x, y, pos_weight=2.0), fn(x, y, pos_weight=np.full(4, 2.0)), rtol=1e-12)


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32"])
def test_finite_at_extreme_logits_and_dtype_preserved(framework, dtype):
    """Through the parity suite's adapters (torch, or Keras on this process's backend), which
    also assert that the output keeps the input's dtype."""
    x = np.array([[-100.0, 100.0, -100.0, 100.0, 0.0]])
    y = np.array([[1.0, 0.0, 0.0, 1.0, 1.0]])
    fw = TorchFramework() if framework == "torch" else KerasFramework()
    value, grad = fw.evaluate(WBCE, dict(pos_weight=3.0), x, y, False, dtype, "cpu", 1.0)
    assert np.all(np.isfinite(value)) and np.all(np.isfinite(grad))
    np.testing.assert_allclose(value[0, :4], [300.0, 100.0, 0.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(grad[0, :4], [-3.0, 1.0, 0.0, 0.0], atol=1e-6)


# -------------------------------------------------------------------------------- bad input

BAD_ARGS = [
    (dict(reduction="avg"), ValueError, r"Invalid `reduction`: received 'avg'; allowed values are"),
    (dict(label_smoothing=1.5), ValueError, r"Invalid `label_smoothing`: received 1.5; expected a finite number in \[0, 1\]"),
    (dict(label_smoothing=-0.1), ValueError, r"Invalid `label_smoothing`: received -0.1"),
    (dict(pos_weight=-1.0), ValueError, r"Invalid `pos_weight`: received -1; expected a non-negative finite"),
    (dict(neg_weight=[1.0, float("nan")]), ValueError, r"Invalid `neg_weight`: .*no NaN or inf"),
    (dict(pos_weight=[[1.0, 2.0]]), ValueError, r"Invalid `pos_weight`: received shape \(1, 2\)"),
    (dict(pos_weight="heavy"), ValueError, r"Invalid `pos_weight`: received 'heavy'"),
]


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("kwargs,exc,match", BAD_ARGS)
def test_bad_arguments_raise_at_construction(framework, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        loss_object(framework, "WeightedBinaryCrossentropy", **kwargs)


def _names(framework):
    return ("target", "input") if framework == "torch" else ("y_true", "y_pred")


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_bad_tensors_raise_at_call(framework):
    tname, xname = _names(framework)
    fn = functional(framework, WBCE)
    x, y = _data((4, 3))
    with pytest.raises(ValueError, match=rf"Invalid `{tname}`: targets must lie in \[0, 1\]; received values in \[0, 2\]"):
        fn(x, y * 2)
    with pytest.raises(ValueError, match=rf"Invalid `{xname}`: probabilities \(from_logits=False\) must lie in \[0, 1\]"):
        fn(x, y, from_logits=False)
    with pytest.raises(ValueError, match=rf"Shape mismatch: `{tname}` has shape \(4, 1\) but `{xname}` has shape \(4, 3\)"):
        fn(x, y[:, :1])
    with pytest.raises(ValueError, match=rf"Shape mismatch: `{tname}` has shape \(4,\) but `{xname}` has shape \(4, 1\)"):
        fn(x[:, :1], y[:, 0])
    with pytest.raises(ValueError, match=r"Invalid `pos_weight`: received length 2; expected length 3"):
        fn(x, y, pos_weight=[1.0, 2.0])
    with pytest.raises(TypeError, match=rf"Invalid `{xname}` dtype: received int64; expected a floating dtype"):
        fn(np.ones((4, 3), np.int64), y)
    # validate_args=False skips the content checks (for speed), never the shape checks
    fn(x, y * 2, validate_args=False)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_nan_logits_propagate(framework):
    x, y = _data((2, 3))
    x[0, 0] = np.nan
    out = functional(framework, WBCE)(x, y)
    assert np.isnan(out[0, 0]) and np.all(np.isfinite(out.ravel()[1:]))
