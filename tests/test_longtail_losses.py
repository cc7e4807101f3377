"""The long-tail losses: LDAM with deferred re-weighting, balanced softmax
and Poly-1, in both frameworks. Anchors (transcribed below with their source), properties,
the class weights that change during training, finite values at |x| = 100 and bad input.
Each test runs on torch and on Keras (the Keras param again under KERAS_BACKEND=torch and jax);
value and gradient parity with the float64 oracle lives in parity_tests (cases ldam/, bsce/, poly/).
"""

import numpy as np
import pytest

from parity_tests.frameworks import KerasFramework, TorchFramework
from tests.helpers import FRAMEWORKS, functional, loss_object, mean_rtol

COUNTS = np.array([500.0, 120.0, 30.0, 8.0, 2.0])
K = len(COUNTS)


def _logits(shape, scale=3.0, seed=0):
    return np.random.default_rng(seed).normal(size=shape) * scale


def _indices(n, k=K, seed=2):
    return np.random.default_rng(seed).integers(0, k, size=n)


def _mean_name(framework):
    return "mean" if framework == "torch" else "sum_over_batch_size"


# ================================================================== LDAM: the anchor


class _LDAMReference:
    """kaidic/LDAM-DRW, losses.py, `LDAMLoss` (commit 2536330), transcribed as written except
    for the device: `torch.cuda.FloatTensor` / `.type(torch.cuda.FloatTensor)` become float64
    CPU tensors, `torch.uint8` the bool mask that `torch.where` requires today."""

    def __init__(self, cls_num_list, max_m=0.5, weight=None, s=30):
        import torch

        m_list = 1.0 / np.sqrt(np.sqrt(cls_num_list))
        m_list = m_list * (max_m / np.max(m_list))
        self.m_list = torch.tensor(m_list, dtype=torch.float64)
        assert s > 0
        self.s = s
        self.weight = weight

    def __call__(self, x, target):
        import torch
        import torch.nn.functional as F

        index = torch.zeros_like(x, dtype=torch.bool)
        index.scatter_(1, target.data.view(-1, 1), 1)
        index_float = index.type(torch.float64)
        batch_m = torch.matmul(self.m_list[None, :], index_float.transpose(0, 1))
        batch_m = batch_m.view((-1, 1))
        x_m = x - batch_m
        output = torch.where(index, x_m, x)
        return F.cross_entropy(self.s * output, target, weight=self.weight)


LDAM_ANCHOR_ARGS = [
    dict(),
    dict(max_margin=0.3, scale=10.0),
    dict(class_weight=[0.2, 0.5, 1.0, 1.5, 1.8]),  # the DRW stage: weighted mean
]


@pytest.mark.parametrize("kw", LDAM_ANCHOR_ARGS)
def test_ldam_equals_the_ldam_drw_reference_value_and_gradient_torch(kw):
    import torch

    from torch_impl.losses import LDAMLoss

    x, t = _logits((16, K)), torch.tensor(_indices(16))
    weight = None if "class_weight" not in kw else torch.tensor(kw["class_weight"], dtype=torch.float64)
    ref = _LDAMReference(COUNTS, max_m=kw.get("max_margin", 0.5), weight=weight, s=kw.get("scale", 30.0))
    xr = torch.tensor(x, requires_grad=True)
    want = ref(xr, t)
    want.backward()
    xo = torch.tensor(x, requires_grad=True)
    got = LDAMLoss(samples_per_class=COUNTS, **kw)(xo, t)
    got.backward()
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(xo.grad, xr.grad, rtol=1e-10, atol=1e-12)


@pytest.mark.keras
@pytest.mark.parametrize("kw", LDAM_ANCHOR_ARGS)
def test_ldam_keras_equals_the_ldam_drw_reference(kw):
    import torch

    x, t = _logits((16, K)), _indices(16)
    weight = None if "class_weight" not in kw else torch.tensor(kw["class_weight"], dtype=torch.float64)
    ref = _LDAMReference(COUNTS, max_m=kw.get("max_margin", 0.5), weight=weight, s=kw.get("scale", 30.0))
    want = ref(torch.tensor(x), torch.tensor(t)).item()
    got = loss_object("keras", "LDAMLoss", samples_per_class=COUNTS, **kw)(x, t)
    np.testing.assert_allclose(got, want, rtol=mean_rtol("keras", 1e-12), atol=1e-12)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_ldam_margins_and_special_cases(framework):
    """max_margin 0 is scaled cross-entropy; the rarest class's margin is max_margin (its
    logit shifted by it alone changes nothing); index, (B, 1) (Keras) and one-hot targets agree."""
    x, t = _logits((12, K)), _indices(12)
    ldam = functional(framework, "ldam_loss")
    wcce = functional(framework, "weighted_categorical_crossentropy")
    np.testing.assert_allclose(ldam(x, t, samples_per_class=COUNTS, max_margin=0.0, scale=2.0), wcce(2.0 * x, t),
                               rtol=1e-12)
    rare = np.full(12, K - 1)
    shifted = x.copy()
    shifted[:, K - 1] -= 0.7
    np.testing.assert_allclose(ldam(x, rare, samples_per_class=COUNTS, max_margin=0.7, scale=3.0),
                               wcce(3.0 * shifted, rare), rtol=1e-12)
    np.testing.assert_allclose(ldam(x, np.eye(K)[t], samples_per_class=COUNTS), ldam(x, t, samples_per_class=COUNTS),
                               rtol=1e-12)


# ================================================================== deferred re-weighting

DRW_WEIGHTS = np.array([0.3, 0.6, 1.1, 1.4, 1.6])


def test_ldam_drw_weights_are_compute_class_weight_effective_number():
    """LDAM-DRW's cifar_train.py (DRW branch, idx = epoch // 160, betas = [0, 0.9999]):
    per_cls_weights = (1 - beta) / (1 - beta^n), normalised to sum to K, is our
    compute_class_weight(method="effective_number"); beta 0 is uniform."""
    from imbalance_core.class_weights import compute_class_weight

    for beta in (0.0, 0.9999):
        effective_num = 1.0 - np.power(beta, COUNTS)
        per_cls_weights = (1.0 - beta) / np.array(effective_num)
        per_cls_weights = per_cls_weights / np.sum(per_cls_weights) * len(COUNTS)
        np.testing.assert_allclose(compute_class_weight(counts=COUNTS, method="effective_number", beta=beta),
                                   per_cls_weights, rtol=1e-12)


def test_deferred_reweighting_torch_switches_a_compiled_module_without_recompiling():
    import torch
    from torch._dynamo.utils import counters

    from torch_impl.losses import DeferredReweighting, LDAMLoss

    x, t = torch.tensor(_logits((16, K))), torch.tensor(_indices(16))
    loss = LDAMLoss(samples_per_class=COUNTS)
    drw = DeferredReweighting(loss, epoch=2, class_weight=DRW_WEIGHTS)
    plain = LDAMLoss(samples_per_class=COUNTS)(x, t)
    deferred = LDAMLoss(samples_per_class=COUNTS, class_weight=DRW_WEIGHTS)(x, t)
    assert not torch.allclose(plain, deferred)

    torch._dynamo.reset()
    counters.clear()
    compiled = torch.compile(loss, backend="aot_eager", fullgraph=True)
    seen = []
    for epoch in range(4):
        drw.on_epoch_begin(epoch)
        seen.append(compiled(x, t))
    for epoch, value in enumerate(seen):
        torch.testing.assert_close(value, deferred if epoch >= 2 else plain, rtol=1e-12, atol=1e-12)
    assert counters["stats"]["unique_graphs"] == 1  # the buffer is read, not baked in
    torch._dynamo.reset()
    # the state_dict carries the current weights; a resumed run before the switch restores them
    np.testing.assert_allclose(loss.state_dict()["class_weight"].numpy(), DRW_WEIGHTS)
    drw.on_epoch_begin(0)
    np.testing.assert_allclose(loss.class_weight.numpy(), np.ones(K))


@pytest.mark.keras
def test_deferred_reweighting_keras_switches_inside_fit_and_is_saved(tmp_path):
    """Two epochs of `model.fit` with learning rate 0 (the model stays put): the first epoch's
    loss is the uniform-weight value, the second the deferred-weight value, computed by the
    compiled train step from the variable, the step fit built (tensorflow, torch). The saved model
    holds the deferred weights."""
    import keras

    from tf_impl.losses import DeferredReweighting, LDAMLoss

    n = 48
    rng = np.random.default_rng(3)
    features = rng.normal(size=(n, 4)).astype("float32")
    y = _indices(n, seed=4)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(K)])
    loss = LDAMLoss(samples_per_class=COUNTS)
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss=loss)
    drw = DeferredReweighting(loss, epoch=1, class_weight=DRW_WEIGHTS)
    built = []
    probe = keras.callbacks.LambdaCallback(on_train_begin=lambda logs: built.append(model.train_function))
    history = model.fit(features, y, batch_size=n, epochs=2, shuffle=False, verbose=0, callbacks=[probe, drw]).history
    logits = np.asarray(keras.ops.convert_to_numpy(model(features)))
    plain = float(LDAMLoss(samples_per_class=COUNTS)(y, logits))
    deferred = float(LDAMLoss(samples_per_class=COUNTS, class_weight=DRW_WEIGHTS)(y, logits))
    assert abs(plain - deferred) > 1e-2
    np.testing.assert_allclose(history["loss"], [plain, deferred], rtol=1e-5)
    if keras.backend.backend() != "jax":  # the step fit built ran both epochs (jax: rebuilt once, see the class)
        assert model.train_function is built[0]

    model.save(tmp_path / "model.keras")
    restored = keras.models.load_model(tmp_path / "model.keras")
    assert isinstance(restored.loss, LDAMLoss)
    np.testing.assert_allclose(restored.loss.get_config()["class_weight"], DRW_WEIGHTS, rtol=1e-6)
    np.testing.assert_allclose(restored.evaluate(features, y, batch_size=n, verbose=0), deferred, rtol=1e-5)
    # a run resumed before the switch gets the weights the loss had when the callback was made
    drw.on_epoch_begin(0)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loss.class_weight), np.ones(K))


# ================================================================== balanced softmax


def _balanced_softmax_reference(labels, logits, sample_per_class, reduction):
    """jiawei-ren/BalancedMetaSoftmax-Classification, loss/BalancedSoftmaxLoss.py,
    `balanced_softmax_loss` (commit 34a61e4), as written."""
    import torch.nn.functional as F

    spc = sample_per_class.type_as(logits)
    spc = spc.unsqueeze(0).expand(logits.shape[0], -1)
    logits = logits + spc.log()
    loss = F.cross_entropy(input=logits, target=labels, reduction=reduction)
    return loss


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_balanced_softmax_equals_the_balanced_meta_softmax_reference(framework, reduction):
    import torch

    x, t = _logits((16, K)), _indices(16)
    want = _balanced_softmax_reference(torch.tensor(t), torch.tensor(x), torch.tensor(COUNTS), reduction).numpy()
    red = reduction if framework == "torch" or reduction != "mean" else "sum_over_batch_size"
    got = loss_object(framework, "BalancedSoftmaxCrossentropy", samples_per_class=COUNTS, reduction=red)(x, t)
    np.testing.assert_allclose(got, want, rtol=mean_rtol(framework, 1e-12), atol=1e-12)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_balanced_softmax_is_logit_adjustment_with_tau_1(framework):
    x, t = _logits((16, K)), _indices(16)
    t[[2, 7]] = -100
    for reduction in ("none", _mean_name(framework)):
        bsce = loss_object(framework, "BalancedSoftmaxCrossentropy", samples_per_class=COUNTS, ignore_index=-100,
                           reduction=reduction)
        la = loss_object(framework, "LogitAdjustedCrossentropy", class_priors=COUNTS / COUNTS.sum(), tau=1.0,
                         ignore_index=-100, reduction=reduction)
        np.testing.assert_allclose(bsce(x, t), la(x, t), rtol=1e-12, atol=1e-12)


# ================================================================== Poly-1


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("epsilon", [2.0, 1.0, -1.0])
@pytest.mark.parametrize("soft", [False, True])
def test_poly_equals_optax_poly_loss_cross_entropy(framework, epsilon, soft):
    optax = pytest.importorskip("optax")

    x, t = _logits((12, K)), _indices(12)
    labels = np.random.default_rng(5).dirichlet(np.ones(K), size=12) if soft else np.eye(K)[t]
    want = np.asarray(optax.losses.poly_loss_cross_entropy(x.astype(np.float32), labels.astype(np.float32),
                                                           epsilon=epsilon), np.float64)
    target = labels if soft else t
    got = functional(framework, "poly_loss")(x, target, epsilon=epsilon)
    # optax computes in float32 here (jax without x64 outside the jax pass): its rounding
    np.testing.assert_allclose(got, want, rtol=2e-6, atol=2e-6)


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
def test_poly_is_focal_plus_the_first_polynomial_term(framework, gamma):
    """epsilon 0 is cross-entropy / the softmax focal loss; otherwise the difference is
    epsilon (1 - p_t)^(gamma + 1), with p_t from a float64 softmax here."""
    x, t = _logits((12, K)), _indices(12)
    poly = functional(framework, "poly_loss")
    focal = functional(framework, "categorical_focal_loss")(x, t, gamma=gamma)
    np.testing.assert_allclose(poly(x, t, epsilon=0.0, gamma=gamma), focal, rtol=1e-12, atol=1e-12)
    p = np.exp(x - x.max(-1, keepdims=True))
    p_t = (p / p.sum(-1, keepdims=True))[np.arange(12), t]
    np.testing.assert_allclose(poly(x, t, epsilon=1.5, gamma=gamma), focal + 1.5 * (1.0 - p_t) ** (gamma + 1.0),
                               rtol=1e-12, atol=1e-12)


# ================================================================== robustness and bad input

EXTREME_X = np.array([[-100.0, 100.0, 0.0, -100.0, 50.0], [100.0, -100.0, -100.0, 100.0, 0.0],
                      [30.0, -30.0, 100.0, 0.0, -100.0]])
EXTREME_T = np.array([0, 3, 4])


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_finite_values_and_gradients_at_extreme_logits(framework, dtype):
    fw = TorchFramework() if framework == "torch" else KerasFramework()
    cases = [
        ("ldam_loss", dict(samples_per_class=COUNTS)),  # scale 30: logits of 3000
        ("ldam_loss", dict(samples_per_class=COUNTS, max_margin=2.0, class_weight=DRW_WEIGHTS)),
        ("balanced_softmax_crossentropy", dict(samples_per_class=COUNTS)),
        ("poly_loss", dict(epsilon=2.0)),
        ("poly_loss", dict(epsilon=-1.0, gamma=0.5)),
        ("poly_loss", dict(epsilon=1.0, gamma=2.0)),
    ]
    for name, kw in cases:
        value, grad = fw.evaluate(name, kw, EXTREME_X, EXTREME_T, True, dtype, "cpu", 1.0)
        assert np.all(np.isfinite(value)), (name, kw, value)
        assert np.all(np.isfinite(grad)), (name, kw, grad)


BAD = [
    ("LDAMLoss", dict(samples_per_class=[10, 0, 3]), r"Invalid `samples_per_class`: .*class 1 has no samples"),
    ("LDAMLoss", dict(samples_per_class=[10, 2], scale=0.0), r"Invalid `scale`: received 0; expected a finite number > 0"),
    ("LDAMLoss", dict(samples_per_class=[10, 2], max_margin=-0.5),
     r"Invalid `max_margin`: received -0.5; expected a finite number >= 0"),
    ("LDAMLoss", dict(samples_per_class=[10, 2], class_weight=[1.0, 2.0, 3.0]),
     r"Invalid `class_weight`: received length 3; expected length 2"),
    ("LDAMLoss", dict(samples_per_class=[10, 2], normalization="batch"), r"Invalid `normalization`: received 'batch'"),
    ("BalancedSoftmaxCrossentropy", dict(samples_per_class=None), r"Invalid `samples_per_class`: received None"),
    ("BalancedSoftmaxCrossentropy", dict(samples_per_class=[4, 0]), r"Invalid `samples_per_class`: .*class 1 has no samples"),
    ("PolyLoss", dict(epsilon=-1.5), r"Invalid `epsilon`: received -1.5; expected a finite number >= -1"),
    ("PolyLoss", dict(gamma=-1.0), r"Invalid `gamma`: received -1; expected a finite number >= 0"),
]


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("name,kwargs,match", BAD, ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)])
def test_bad_arguments(framework, name, kwargs, match):
    with pytest.raises(ValueError, match=match):
        loss_object(framework, name, **kwargs)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_bad_tensors(framework):
    tname = "target" if framework == "torch" else "y_true"
    x = _logits((4, 3))
    with pytest.raises(ValueError, match=r"Invalid `samples_per_class`: received length 5; expected length 3"):
        functional(framework, "ldam_loss")(x, np.array([0, 1, 2, 0]), samples_per_class=COUNTS)
    with pytest.raises(ValueError, match=r"Invalid `samples_per_class`: received length 5; expected length 3"):
        functional(framework, "balanced_softmax_crossentropy")(x, np.array([0, 1, 2, 0]), samples_per_class=COUNTS)
    for name, kw in (("ldam_loss", dict(samples_per_class=[5, 3, 1])), ("poly_loss", dict(gamma=1.0))):
        with pytest.raises(ValueError, match=rf"Invalid `{tname}`: class indices must lie in \[0, 3\); received \[3\]"):
            functional(framework, name)(x, np.array([0, 1, 3, 2]), **kw)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_deferred_reweighting_bad_arguments(framework):
    if framework == "torch":
        from torch_impl import losses
    else:
        from tf_impl import losses
    ldam = losses.LDAMLoss(samples_per_class=[10, 5, 1])
    with pytest.raises(ValueError, match=r"Invalid `loss`: received WeightedCategoricalCrossentropy; expected a loss "
                                         r"whose class weights can change during training"):
        losses.DeferredReweighting(losses.WeightedCategoricalCrossentropy(), epoch=3, class_weight=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"Invalid `epoch`: received -1; expected an integer >= 0"):
        losses.DeferredReweighting(ldam, epoch=-1, class_weight=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"Invalid `epoch`: received 2.5; expected an integer >= 0"):
        losses.DeferredReweighting(ldam, epoch=2.5, class_weight=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"Invalid `class_weight`: received length 2; expected length 3"):
        losses.DeferredReweighting(ldam, epoch=1, class_weight=[1.0, 2.0])
