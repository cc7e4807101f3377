"""The imbalance loss family: anchors, properties, numerical robustness and bad input, in both
frameworks (each test runs on torch and on Keras; the Keras param again under KERAS_BACKEND=torch)."""

import numpy as np
import pytest

from conftest import needs_tf_backend
from parity_tests.frameworks import KerasFramework, TorchFramework
from tests.helpers import FRAMEWORKS, functional, loss_object, mean_rtol

RNG = np.random.default_rng(1234)


def _logits(shape, scale=3.0, seed=0):
    return np.random.default_rng(seed).normal(size=shape) * scale


def _hard(shape, p=0.3, seed=1):
    return (np.random.default_rng(seed).random(shape) < p).astype(np.float64)


def _indices(n, k, seed=2):
    return np.random.default_rng(seed).integers(0, k, size=n)


def _torch_mean_red(framework, reduction):
    """torch reduction name -> the framework's own name for it."""
    if framework == "torch":
        return reduction
    return {"mean": "sum_over_batch_size", "sum": "sum", "none": "none"}[reduction]


# ======================================================================== anchors: torch


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("kw", [
    dict(),
    dict(weight=[1.0, 0.0, 2.5, 0.5, 4.0]),
    dict(label_smoothing=0.2),
    dict(ignore_index=3),
    dict(weight=[1.0, 0.0, 2.5, 0.5, 4.0], label_smoothing=0.1, ignore_index=-100),
])
def test_weighted_cce_equals_torch_cross_entropy(framework, reduction, kw):
    import torch

    x = _logits((12, 5))
    t = _indices(12, 5)
    t[[1, 4]] = kw.get("ignore_index", -100) if "ignore_index" in kw else t[[1, 4]]
    tkw = dict(kw)
    if "weight" in tkw:
        tkw["weight"] = torch.tensor(tkw["weight"], dtype=torch.float64)
    want = torch.nn.CrossEntropyLoss(reduction=reduction, **tkw)(torch.tensor(x), torch.tensor(t)).numpy()
    ours = dict(class_weight=kw.get("weight"), label_smoothing=kw.get("label_smoothing", 0.0),
                ignore_index=kw.get("ignore_index"))
    got = loss_object(framework, "WeightedCategoricalCrossentropy", reduction=_torch_mean_red(framework, reduction),
                      **ours)(x, t)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_every_target_ignored_gives_zero_where_torch_gives_nan(framework):
    import torch

    x = _logits((4, 3))
    t = np.full(4, -100)
    assert np.isnan(torch.nn.CrossEntropyLoss(ignore_index=-100)(torch.tensor(x), torch.tensor(t)).item())
    got = loss_object(framework, "WeightedCategoricalCrossentropy", ignore_index=-100)(x, t)
    assert got == 0.0


def _torchvision_sigmoid_focal_loss(inputs, targets, alpha, gamma):
    """torchvision.ops.sigmoid_focal_loss(reduction="none"), written with plain torch ops
    (torchvision cannot be installed beside the pinned CPU torch)."""
    import torch
    import torch.nn.functional as F

    p = torch.sigmoid(inputs)
    ce_loss = F.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce_loss * ((1 - p_t) ** gamma)
    if alpha >= 0:
        alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
        loss = alpha_t * loss
    return loss


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("alpha,gamma", [(0.25, 2.0), (-1.0, 2.0), (0.75, 0.5), (0.5, 0.0), (0.1, 5.0)])
def test_binary_focal_equals_torchvision_formula(framework, alpha, gamma):
    import torch

    x, y = _logits((8, 6)), _hard((8, 6))
    want = _torchvision_sigmoid_focal_loss(torch.tensor(x), torch.tensor(y), alpha, gamma).numpy()
    got = functional(framework, "binary_focal_loss")(x, y, alpha=None if alpha < 0 else alpha, gamma=gamma)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


class _ASLReference:
    """The ASL reference `AsymmetricLoss.forward` (Ridnik et al. 2021, Alibaba-MIIL/ASL,
    losses.py), transcribed: it returns -sum of the loss; eps clamps the probabilities."""

    def __init__(self, gamma_neg=4, gamma_pos=1, clip=0.05, eps=1e-8, disable_torch_grad_focal_loss=True):
        self.gamma_neg, self.gamma_pos, self.clip, self.eps = gamma_neg, gamma_pos, clip, eps
        self.disable_torch_grad_focal_loss = disable_torch_grad_focal_loss

    def __call__(self, x, y):
        import torch

        x_sigmoid = torch.sigmoid(x)
        xs_pos = x_sigmoid
        xs_neg = 1 - x_sigmoid
        if self.clip is not None and self.clip > 0:
            xs_neg = (xs_neg + self.clip).clamp(max=1)
        los_pos = y * torch.log(xs_pos.clamp(min=self.eps))
        los_neg = (1 - y) * torch.log(xs_neg.clamp(min=self.eps))
        loss = los_pos + los_neg
        if self.gamma_neg > 0 or self.gamma_pos > 0:
            if self.disable_torch_grad_focal_loss:
                torch.set_grad_enabled(False)
            pt0 = xs_pos * y
            pt1 = xs_neg * (1 - y)
            pt = pt0 + pt1
            one_sided_gamma = self.gamma_pos * y + self.gamma_neg * (1 - y)
            one_sided_w = torch.pow(1 - pt, one_sided_gamma)
            if self.disable_torch_grad_focal_loss:
                torch.set_grad_enabled(True)
            loss *= one_sided_w
        return -loss.sum()


@pytest.mark.parametrize("kw", [dict(), dict(gamma_pos=0.0, gamma_neg=2.0, clip=0.0), dict(gamma_pos=2.0, gamma_neg=3.0, clip=0.2)])
@pytest.mark.parametrize("stop", [True, False])
def test_asymmetric_equals_asl_reference_value_and_gradient_torch(kw, stop):
    import torch

    from torch_impl.losses import AsymmetricLoss

    x, y = _logits((8, 7), scale=2.0), _hard((8, 7))  # moderate logits: the reference's eps clamp is inactive
    ref_kw = dict(gamma_pos=kw.get("gamma_pos", 1.0), gamma_neg=kw.get("gamma_neg", 4.0), clip=kw.get("clip", 0.05))
    xr = torch.tensor(x, requires_grad=True)
    want = _ASLReference(**ref_kw, disable_torch_grad_focal_loss=stop)(xr, torch.tensor(y))
    want.backward()
    xo = torch.tensor(x, requires_grad=True)
    got = AsymmetricLoss(**kw, stop_focal_gradient=stop, reduction="sum")(xo, torch.tensor(y))
    got.backward()
    torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(xo.grad, xr.grad, rtol=1e-8, atol=1e-12)


@pytest.mark.keras
@pytest.mark.parametrize("stop", [True, False])
def test_asymmetric_keras_equals_asl_reference(stop):
    """The Keras class: C x "sum" is the reference's summed value; gradients through Keras's
    backend (tensorflow, torch or jax) equal the reference's too."""
    import torch

    from tf_impl.losses import AsymmetricLoss

    x, y = _logits((6, 5), scale=2.0, seed=3), _hard((6, 5), seed=4)
    xr = torch.tensor(x, requires_grad=True)
    want = _ASLReference(disable_torch_grad_focal_loss=stop)(xr, torch.tensor(y))
    want.backward()
    loss = AsymmetricLoss(stop_focal_gradient=stop, reduction="sum", dtype="float64")
    value, grad = KerasFramework().evaluate(
        {"keras": lambda yy, xx: loss(yy, xx) * x.shape[-1]}, {}, x, y, False, "float64", "cpu", 1.0)
    np.testing.assert_allclose(value, want.item(), rtol=1e-10)
    np.testing.assert_allclose(grad, xr.grad.numpy(), rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("tau", [0.0, 0.5, 1.0, 2.0])
def test_logit_adjusted_equals_ce_on_shifted_logits(framework, tau):
    import torch

    priors = np.array([0.5, 0.3, 0.15, 0.05])
    x, t = _logits((10, 4)), _indices(10, 4)
    want = torch.nn.functional.cross_entropy(torch.tensor(x + tau * np.log(priors)), torch.tensor(t), reduction="none").numpy()
    got = functional(framework, "logit_adjusted_crossentropy")(x, t, class_priors=priors, tau=tau)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    # the priors are normalised: scaling them changes nothing
    np.testing.assert_allclose(functional(framework, "logit_adjusted_crossentropy")(x, t, class_priors=priors * 40, tau=tau), got, rtol=1e-10)


@needs_tf_backend
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_logit_adjusted_equals_google_research_reference(framework):
    """google-research/logit_adjustment: softmax CE on logits + log(base_probs**tau + 1e-12)."""
    import tensorflow as tf

    priors = np.array([0.9, 0.09, 0.009, 0.000999, 0.000001])  # smallest prior 1e-6
    tau = 1.0
    x, t = _logits((16, 5)).astype(np.float32), _indices(16, 5)
    adjusted = x + tf.math.log(tf.cast(priors ** tau + 1e-12, tf.float32))
    want = tf.nn.softmax_cross_entropy_with_logits(tf.one_hot(t, 5), adjusted).numpy()
    got = functional(framework, "logit_adjusted_crossentropy")(x, t, class_priors=priors, tau=tau)
    np.testing.assert_allclose(got, want, rtol=2e-6, atol=2e-6)  # float32, and the reference's +1e-12


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_adjust_logits(framework):
    priors = np.array([0.7, 0.2, 0.1])
    x = _logits((5, 3))
    if framework == "torch":
        import torch

        from torch_impl.losses import adjust_logits

        got = adjust_logits(torch.tensor(x), priors, tau=1.5).numpy()
    else:
        from keras import ops

        from tf_impl.losses import adjust_logits

        got = np.asarray(ops.convert_to_numpy(adjust_logits(x, priors, tau=1.5)))
    np.testing.assert_allclose(got, x - 1.5 * np.log(priors), rtol=1e-12)


def _cui_reference(labels, logits, samples_per_cls, no_of_classes, loss_type, beta, gamma):
    """Cui et al.'s reference `CB_loss` (vandit15/Class-balanced-loss-pytorch), transcribed;
    its softmax variant (BCE on softmax outputs) is not the design's and is left out."""
    import torch
    import torch.nn.functional as F

    effective_num = 1.0 - np.power(beta, samples_per_cls)
    weights = (1.0 - beta) / np.array(effective_num)
    weights = weights / np.sum(weights) * no_of_classes
    labels_one_hot = F.one_hot(labels, no_of_classes).double()
    weights = torch.tensor(weights).double().unsqueeze(0)
    weights = weights.repeat(labels_one_hot.shape[0], 1) * labels_one_hot
    weights = weights.sum(1).unsqueeze(1).repeat(1, no_of_classes)
    if loss_type == "focal":
        bc = F.binary_cross_entropy_with_logits(logits, labels_one_hot, reduction="none")
        modulator = 1.0 if gamma == 0.0 else torch.exp(-gamma * labels_one_hot * logits - gamma * torch.log(1 + torch.exp(-1.0 * logits)))
        return torch.sum(weights * modulator * bc) / torch.sum(labels_one_hot)
    return F.binary_cross_entropy_with_logits(logits, labels_one_hot, weight=weights)


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("base,gamma", [("focal", 2.0), ("focal", 0.5), ("sigmoid", 2.0)])
def test_class_balanced_equals_cui_reference(framework, base, gamma):
    import torch

    counts = np.array([500.0, 120.0, 30.0, 4.0, 1.0])
    x, t = _logits((12, 5), scale=2.0), _indices(12, 5)
    want = _cui_reference(torch.tensor(t), torch.tensor(x), counts, 5, base, 0.999, gamma).item()
    got = loss_object(framework, "ClassBalancedLoss", samples_per_class=counts, beta=0.999, base=base, gamma=gamma)(x, t)
    if base == "sigmoid":
        want *= 5  # the reference's sigmoid variant averages over classes too: mean over N*K
    np.testing.assert_allclose(got, want, rtol=mean_rtol(framework, 1e-8))


# ======================================================================== anchors: Keras


@needs_tf_backend
@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("alpha,gamma,smoothing", [(0.25, 2.0, 0.0), (0.6, 1.0, 0.1), (0.1, 4.0, 0.3)])
def test_binary_focal_equals_keras_binary_focal_crossentropy(framework, alpha, gamma, smoothing):
    """On Keras's tensorflow backend (where Keras's own keeps the logits), mean over C."""
    import keras

    x, y = _logits((8, 6)).astype(np.float32), _hard((8, 6)).astype(np.float32)
    anchor = keras.losses.BinaryFocalCrossentropy(apply_class_balancing=True, alpha=alpha, gamma=gamma, from_logits=True,
                                                  label_smoothing=smoothing, reduction="none")
    want = np.asarray(anchor(y, x))
    got = functional(framework, "binary_focal_loss")(x, y, alpha=alpha, gamma=gamma, label_smoothing=smoothing).mean(-1)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)  # float32 on both sides


@pytest.mark.keras
@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("alpha,gamma,smoothing", [
    (0.25, 2.0, 0.0), (0.5, 0.5, 0.1), ([0.1, 0.4, 0.3, 0.2], 2.0, 0.2), ([0.25, 0.25, 0.5, 1.0], 3.0, 0.0),
])
def test_categorical_focal_equals_keras_categorical_focal_crossentropy(framework, alpha, gamma, smoothing):
    import keras

    x = _logits((10, 4), scale=2.0).astype(np.float32)  # moderate: Keras clips p to [1e-7, 1 - 1e-7]
    t = _indices(10, 4)
    q = np.eye(4, dtype=np.float32)[t]
    anchor = keras.losses.CategoricalFocalCrossentropy(alpha=alpha, gamma=gamma, from_logits=True,
                                                       label_smoothing=smoothing, reduction="none")
    want = np.asarray(keras.ops.convert_to_numpy(anchor(q, x)), np.float64)
    fn = functional(framework, "categorical_focal_loss")
    for target in (t, q):  # index and one-hot targets alike
        got = fn(x, target, alpha=alpha, gamma=gamma, label_smoothing=smoothing)
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-6)


@pytest.mark.keras
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_weighted_cce_equals_keras_categorical_crossentropy(framework):
    import keras

    x = _logits((10, 4)).astype(np.float32)
    q = np.random.default_rng(5).dirichlet(np.ones(4), size=10).astype(np.float32)
    want = np.asarray(keras.ops.convert_to_numpy(
        keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1, reduction="none")(q, x)))
    got = functional(framework, "weighted_categorical_crossentropy")(x, q, label_smoothing=0.1)
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_binary_focal_saturated_positive_has_the_exact_value_and_gradient(framework):
    """A positive at logit -40, alpha=0.25, gamma=2: value 0.25 * 40 = 10, gradient -0.25.

    Keras's own BinaryFocalCrossentropy gives this only on its tensorflow backend; on torch
    and jax it works from clipped probabilities and saturates near 4.03 with a vanishing
    gradient (see test_keras_own_binary_focal_saturates_off_tensorflow)."""
    value, grad = _value_and_grad(framework, "binary_focal_loss", np.array([[-40.0]]), np.array([[1.0]]),
                                  dict(alpha=0.25, gamma=2.0), "float32")
    np.testing.assert_allclose(value, [[10.0]], rtol=1e-6)
    np.testing.assert_allclose(grad, [[-0.25]], rtol=1e-6)


@pytest.mark.keras
def test_keras_own_binary_focal_saturates_off_tensorflow():
    """Documents the difference ours removes (Keras 3.15): torch/jax backends clip."""
    import keras

    loss = keras.losses.BinaryFocalCrossentropy(apply_class_balancing=True, alpha=0.25, gamma=2.0, from_logits=True)
    value = float(keras.ops.convert_to_numpy(loss(np.array([[1.0]], "float32"), np.array([[-40.0]], "float32"))))
    if keras.backend.backend() == "tensorflow":
        assert abs(value - 10.0) < 1e-4
    else:
        assert abs(value - 4.03) < 0.01


# ======================================================================== properties


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_focal_gamma_0_equals_cross_entropy(framework):
    x, y = _logits((8, 5)), _hard((8, 5))
    bce = functional(framework, "weighted_binary_crossentropy")(x, y)
    np.testing.assert_allclose(functional(framework, "binary_focal_loss")(x, y, alpha=None, gamma=0.0), bce, rtol=1e-10, atol=1e-14)
    t = _indices(8, 5)
    ce = functional(framework, "weighted_categorical_crossentropy")(x, t)
    np.testing.assert_allclose(functional(framework, "categorical_focal_loss")(x, t, gamma=0.0), ce, rtol=1e-12)


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("gamma", [0.5, 1.0, 2.0, 5.0])
def test_focal_without_alpha_never_exceeds_cross_entropy(framework, gamma):
    x, y = _logits((16, 5), scale=5.0), np.random.default_rng(9).random((16, 5))
    assert np.all(functional(framework, "binary_focal_loss")(x, y, alpha=None, gamma=gamma)
                  <= functional(framework, "weighted_binary_crossentropy")(x, y) + 1e-15)
    t = _indices(16, 5)
    assert np.all(functional(framework, "categorical_focal_loss")(x, t, gamma=gamma)
                  <= functional(framework, "weighted_categorical_crossentropy")(x, t) + 1e-15)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_asymmetric_special_cases(framework):
    x, y = _logits((8, 5)), _hard((8, 5))
    asl = functional(framework, "asymmetric_loss")
    np.testing.assert_allclose(asl(x, y, gamma_pos=0.0, gamma_neg=0.0, clip=0.0),
                               functional(framework, "weighted_binary_crossentropy")(x, y), rtol=1e-10, atol=1e-14)
    for g in (0.5, 2.0, 4.0):
        np.testing.assert_allclose(asl(x, y, gamma_pos=g, gamma_neg=g, clip=0.0),
                                   functional(framework, "binary_focal_loss")(x, y, alpha=None, gamma=g), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_class_balanced_beta_0_is_the_plain_loss(framework):
    counts = [1000, 10, 1, 100]
    x, t = _logits((9, 4)), _indices(9, 4)
    q = np.eye(4)[t]
    cb = functional(framework, "class_balanced_loss")
    np.testing.assert_allclose(cb(x, t, samples_per_class=counts, beta=0.0),
                               functional(framework, "weighted_categorical_crossentropy")(x, t), rtol=1e-12)
    np.testing.assert_allclose(cb(x, t, samples_per_class=counts, beta=0.0, base="sigmoid"),
                               functional(framework, "weighted_binary_crossentropy")(x, q).sum(-1), rtol=1e-10)
    np.testing.assert_allclose(cb(x, t, samples_per_class=counts, beta=0.0, base="focal", gamma=2.0),
                               functional(framework, "binary_focal_loss")(x, q, alpha=None, gamma=2.0).sum(-1), rtol=1e-10)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_logit_adjusted_tau_0_is_cross_entropy(framework):
    x, t = _logits((9, 4)), _indices(9, 4)
    np.testing.assert_allclose(functional(framework, "logit_adjusted_crossentropy")(x, t, class_priors=[0.97, 0.01, 0.01, 0.01], tau=0.0),
                               functional(framework, "weighted_categorical_crossentropy")(x, t), rtol=1e-12)


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("name,kw", [
    ("WeightedCategoricalCrossentropy", dict(class_weight=[1.0, 3.0, 0.5, 2.0], label_smoothing=0.1)),
    ("CategoricalFocalLoss", dict(alpha=[0.2, 0.3, 0.1, 0.4], gamma=1.5, normalization="weight")),
    ("ClassBalancedLoss", dict(samples_per_class=[100, 20, 5, 1], beta=0.99, base="focal")),
    ("LogitAdjustedCrossentropy", dict(class_priors=[0.6, 0.2, 0.15, 0.05])),
])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_index_and_one_hot_targets_agree(framework, name, kw, reduction):
    x, t = _logits((10, 4)), _indices(10, 4)
    loss = loss_object(framework, name, reduction=_torch_mean_red(framework, reduction), **kw)
    np.testing.assert_allclose(loss(x, t), loss(x, np.eye(4)[t]), rtol=1e-12)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_softmax_normalizations_and_sample_weight(framework):
    x, t = _logits((6, 3)), np.array([0, 1, 2, 2, -1, 0])
    w = np.array([2.0, 0.5, 1.0])
    sw = np.array([1.0, 2.0, 0.0, 1.0, 5.0, 0.5])
    per = functional(framework, "weighted_categorical_crossentropy")(x, t, class_weight=w, ignore_index=-1)
    assert per[4] == 0.0
    mean = _torch_mean_red(framework, "mean")
    by_weight = loss_object(framework, "WeightedCategoricalCrossentropy", class_weight=w, ignore_index=-1, reduction=mean)
    by_count = loss_object(framework, "WeightedCategoricalCrossentropy", class_weight=w, ignore_index=-1,
                           normalization="count", reduction=mean)
    keep = t >= 0
    rtol = mean_rtol(framework, 1e-12)
    np.testing.assert_allclose(by_weight(x, t), per.sum() / w[t[keep]].sum(), rtol=rtol)
    np.testing.assert_allclose(by_count(x, t), per.sum() / keep.sum(), rtol=rtol)
    # sample weights multiply the per-sample losses; the denominator is unchanged
    np.testing.assert_allclose(by_weight(x, t, sample_weight=sw), (per * sw).sum() / w[t[keep]].sum(), rtol=rtol)


# ======================================================================== robustness


def _value_and_grad(framework, name, x, y, kw, dtype):
    """(value, d sum(value)/dx) in `dtype`, as float64 NumPy, through the framework's autograd
    (the parity suite's adapters: torch, or Keras on this process's backend)."""
    fw = TorchFramework() if framework == "torch" else KerasFramework()
    return fw.evaluate(name, kw, x, y, y.dtype == np.int64, dtype, "cpu", 1.0)


EXTREME_X = np.array([[-100.0, 100.0, 0.0, -100.0], [100.0, -100.0, -100.0, 100.0], [30.0, -30.0, 100.0, 0.0]])
EXTREME_Y = np.array([[1.0, 0.0, 1.0, 0.0], [1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 1.0, 0.0]])
EXTREME_T = np.array([0, 3, 1])


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
@pytest.mark.parametrize("gamma", [0.0, 0.5, 1.0, 2.0, 5.0])
def test_finite_values_and_gradients_at_extreme_logits(framework, dtype, gamma):
    cases = [
        ("binary_focal_loss", EXTREME_Y, dict(gamma=gamma, alpha=None)),
        ("binary_focal_loss", EXTREME_Y, dict(gamma=gamma, label_smoothing=0.1)),
        ("asymmetric_loss", EXTREME_Y, dict(gamma_pos=gamma, gamma_neg=gamma, clip=0.0)),
        ("asymmetric_loss", EXTREME_Y, dict(gamma_pos=gamma, gamma_neg=gamma, clip=0.05)),
        ("categorical_focal_loss", EXTREME_T, dict(gamma=gamma)),
        ("categorical_focal_loss", EXTREME_Y / EXTREME_Y.sum(-1, keepdims=True), dict(gamma=gamma, label_smoothing=0.1)),
        ("class_balanced_loss", EXTREME_T, dict(samples_per_class=[10, 1, 5, 100], base="focal", gamma=gamma)),
        ("weighted_categorical_crossentropy", EXTREME_T, dict(label_smoothing=0.1)),
        ("logit_adjusted_crossentropy", EXTREME_T, dict(class_priors=[0.9, 0.05, 0.04, 0.01])),
    ]
    for name, y, kw in cases:
        value, grad = _value_and_grad(framework, name, EXTREME_X, y, kw, dtype)
        assert np.all(np.isfinite(value)), (name, kw, value)
        assert np.all(np.isfinite(grad)), (name, kw, grad)


# ======================================================================== bad input

BAD = [
    ("BinaryFocalLoss", dict(gamma=-0.5), r"Invalid `gamma`: received -0.5; expected a finite number >= 0"),
    ("BinaryFocalLoss", dict(alpha=1.5), r"Invalid `alpha`: received 1.5; expected a finite number in \[0, 1\]"),
    ("BinaryFocalLoss", dict(alpha=[0.5, 0.5]), r"Invalid `alpha`"),
    ("BinaryFocalLoss", dict(label_smoothing=-0.1), r"Invalid `label_smoothing`: received -0.1"),
    ("CategoricalFocalLoss", dict(alpha=[0.2, 1.2]), r"Invalid `alpha`: received \[0.2, 1.2\]"),
    ("CategoricalFocalLoss", dict(gamma=float("nan")), r"Invalid `gamma`: received nan"),
    ("CategoricalFocalLoss", dict(normalization="batch"), r"Invalid `normalization`: received 'batch'; allowed values are 'weight', 'count'"),
    ("WeightedCategoricalCrossentropy", dict(class_weight=[1.0, -2.0]), r"Invalid `class_weight`: received \[1, -2\]"),
    ("WeightedCategoricalCrossentropy", dict(class_weight=2.0), r"Invalid `class_weight`: received shape \(\)"),
    ("WeightedCategoricalCrossentropy", dict(ignore_index=1.5), r"Invalid `ignore_index`: received 1.5; expected an integer or None"),
    ("WeightedCategoricalCrossentropy", dict(label_smoothing=2.0), r"Invalid `label_smoothing`: received 2"),
    ("AsymmetricLoss", dict(clip=1.0), r"Invalid `clip`: received 1; expected a finite number in \[0, 1\)"),
    ("AsymmetricLoss", dict(clip=-0.1), r"Invalid `clip`: received -0.1"),
    ("AsymmetricLoss", dict(gamma_neg=-1), r"Invalid `gamma_neg`: received -1"),
    ("ClassBalancedLoss", dict(samples_per_class=[10, 0, 3]), r"Invalid `samples_per_class`: .*class 1 has no samples"),
    ("ClassBalancedLoss", dict(samples_per_class=[10, 2], beta=1.0), r"Invalid `beta`: received 1; expected a finite number in \[0, 1\)"),
    ("ClassBalancedLoss", dict(samples_per_class=[10, 2], base="softplus"), r"Invalid `base`: received 'softplus'"),
    ("ClassBalancedLoss", dict(samples_per_class=[10, -2]), r"Invalid `samples_per_class`: received \[10, -2\]"),
    ("LogitAdjustedCrossentropy", dict(class_priors=[0.5, 0.0]), r"Invalid `class_priors`: received \[0.5, 0\] \(shape \(2,\)\); expected a positive finite 1-D vector"),
    ("LogitAdjustedCrossentropy", dict(class_priors=[0.5, float("inf")]), r"Invalid `class_priors`: .*no NaN or inf"),
    ("LogitAdjustedCrossentropy", dict(class_priors=[0.5, 0.5], tau=-1.0), r"Invalid `tau`: received -1; expected a finite number >= 0"),
]


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("name,kwargs,match", BAD, ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)])
def test_bad_arguments(framework, name, kwargs, match):
    with pytest.raises(ValueError, match=match):
        loss_object(framework, name, **kwargs)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_bad_tensors(framework):
    tname, xname = ("target", "input") if framework == "torch" else ("y_true", "y_pred")
    x = _logits((4, 3))
    wcce = functional(framework, "weighted_categorical_crossentropy")
    with pytest.raises(ValueError, match=rf"Invalid `{tname}`: class indices must lie in \[0, 3\); received \[3\]"):
        wcce(x, np.array([0, 1, 3, 2]))
    with pytest.raises(ValueError, match=rf"Invalid `{tname}`: class indices must lie in \[0, 3\) or equal ignore_index=-100; received \[-1\]"):
        wcce(x, np.array([0, -100, -1, 2]), ignore_index=-100)
    if framework == "torch":  # torch's CrossEntropyLoss layouts: (N, 1) targets are no indices
        with pytest.raises(ValueError, match=rf"Shape mismatch: `{tname}` has shape \(4, 1\) but `{xname}` has shape \(4, 3\)"):
            wcce(x, np.array([[0], [1], [2], [0]]))
    else:  # Keras's sparse losses take (B, 1) class indices: the same as (B,)
        np.testing.assert_allclose(wcce(x, np.array([[0], [1], [2], [0]])), wcce(x, np.array([0, 1, 2, 0])))
    with pytest.raises(ValueError, match=rf"Shape mismatch: `{tname}` has shape \(4, 2\) but `{xname}` has shape \(4, 3\)"):
        wcce(x, np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"Invalid `class_weight`: received length 2; expected length 3"):
        wcce(x, np.array([0, 1, 2, 0]), class_weight=[1.0, 2.0])
    with pytest.raises(ValueError, match=rf"Invalid `{tname}`: probability targets must lie in \[0, 1\]"):
        wcce(x, np.full((4, 3), 1.5))
    with pytest.raises(ValueError, match=r"Invalid `class_priors`: received length 2; expected length 3"):
        functional(framework, "logit_adjusted_crossentropy")(x, np.array([0, 1, 2, 0]), class_priors=[0.5, 0.5])
    with pytest.raises(ValueError, match=r"Invalid `samples_per_class`: received length 4; expected length 3"):
        functional(framework, "class_balanced_loss")(x, np.array([0, 1, 2, 0]), samples_per_class=[1, 2, 3, 4])
    with pytest.raises(ValueError, match=rf"Invalid `{tname}`: targets must lie in \[0, 1\]"):
        functional(framework, "binary_focal_loss")(x, np.full((4, 3), -1.0))
    with pytest.raises(ValueError, match=rf"Invalid `{tname}`: class indices must lie in \[0, 3\)"):
        functional(framework, "categorical_focal_loss")(x, np.array([0, 1, 7, 2]))
