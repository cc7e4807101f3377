"""SeesawLoss (stateful) and DistributionBalancedLoss (multi-label): anchors, properties, the
counts as state (updates, save/restore, a stream of batches in both frameworks) and bad input.

Anchors are transcriptions of the reference code, cited where they are defined; the parity
suite (parity_tests/cases.py) covers every dtype and backend against the float64 oracle, and
tests/test_distributed.py the counts summed across replicas (MirroredStrategy) and ranks (DDP)
through the SeesawLoss conformance row.
"""

import os

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import torch_impl.losses
from tests.helpers import FRAMEWORKS, functional, loss_object, mean_rtol

KERAS_BACKEND = os.environ.get("KERAS_BACKEND", "tensorflow")


def _logits(shape, scale=3.0, seed=0):
    return np.random.default_rng(seed).normal(size=shape) * scale


def _indices(n, k, seed=2, p=None):
    return np.random.default_rng(seed).choice(k, size=n, p=p)


def _multi_hot(shape, rates, seed=1):
    return (np.random.default_rng(seed).random(shape) < np.asarray(rates)).astype(np.float64)


# ================================================================ Seesaw anchor: mmdetection
# Transcribed from open-mmlab/mmdetection, mmdet/models/losses/seesaw_loss.py (`seesaw_ce_loss`
# and the counting loop of `SeesawLoss.forward`), commit 08282a60904d22abc16bc8409d341ce1dd48b613,
# with `.cuda()` dropped, `label_weights=None`, reduction "none", and without the objectness
# branch (whose two extra channels this loss does not take).


def _mmdet_seesaw_ce_loss(cls_score, labels, cum_samples, num_classes, p, q, eps):
    assert cls_score.size(-1) == num_classes
    assert len(cum_samples) == num_classes

    onehot_labels = F.one_hot(labels, num_classes)
    seesaw_weights = cls_score.new_ones(onehot_labels.size())

    # mitigation factor
    if p > 0:
        sample_ratio_matrix = cum_samples[None, :].clamp(min=1) / cum_samples[:, None].clamp(min=1)
        index = (sample_ratio_matrix < 1.0).float()
        sample_weights = sample_ratio_matrix.pow(p) * index + (1 - index)
        mitigation_factor = sample_weights[labels.long(), :]
        seesaw_weights = seesaw_weights * mitigation_factor

    # compensation factor
    if q > 0:
        scores = F.softmax(cls_score.detach(), dim=1)
        self_scores = scores[torch.arange(0, len(scores)).long(), labels.long()]
        score_matrix = scores / self_scores[:, None].clamp(min=eps)
        index = (score_matrix > 1.0).float()
        compensation_factor = score_matrix.pow(q) * index + (1 - index)
        seesaw_weights = seesaw_weights * compensation_factor

    cls_score = cls_score + (seesaw_weights.log() * (1 - onehot_labels))
    return F.cross_entropy(cls_score, labels, weight=None, reduction="none")


def _mmdet_count(cum_samples, labels):
    """SeesawLoss.forward: accumulate the samples for each category."""
    unique_labels = labels.unique()
    for u_l in unique_labels:
        inds_ = labels == u_l.item()
        cum_samples[u_l] += inds_.sum()


SEESAW_CONFIGS = [
    dict(p=0.8, q=2.0, eps=1e-2),  # mmdetection's defaults
    dict(p=0.0, q=2.0, eps=1e-2),
    dict(p=0.8, q=0.0, eps=1e-2),
    dict(p=1.5, q=1.0, eps=0.2),
]
COUNTS = np.array([4000.0, 700.0, 0.0, 35.0, 3.0, 1.0])


@pytest.mark.parametrize("kw", SEESAW_CONFIGS)
def test_seesaw_functional_equals_mmdetection_value_and_gradient(kw):
    x = torch.tensor(_logits((40, 6)), requires_grad=True)
    xr = x.detach().clone().requires_grad_(True)
    t = torch.tensor(_indices(40, 6))
    counts = torch.tensor(COUNTS)
    got = torch_impl.losses.seesaw_loss(x, t, cum_samples=counts, **kw)
    want = _mmdet_seesaw_ce_loss(xr, t, counts, 6, kw["p"], kw["q"], kw["eps"])
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
    v = torch.linspace(0.5, 2.0, 40, dtype=torch.float64)
    (got * v).sum().backward()
    (want * v).sum().backward()
    torch.testing.assert_close(x.grad, xr.grad, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_seesaw_functional_equals_mmdetection_in_both_frameworks(framework):
    x, t = _logits((32, 6), seed=3), _indices(32, 6, seed=4)
    want = _mmdet_seesaw_ce_loss(torch.tensor(x), torch.tensor(t), torch.tensor(COUNTS), 6, 0.8, 2.0, 1e-2).numpy()
    got = functional(framework, "seesaw_loss")(x, t, cum_samples=COUNTS)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_seesaw_module_equals_mmdetection_over_a_stream_of_batches():
    """mmdetection's SeesawLoss counts each batch's labels first, then computes the loss with
    the updated counts: the module's counts and values follow it batch after batch."""
    ours = torch_impl.losses.SeesawLoss(6, reduction="none")
    ref_counts = torch.zeros(6, dtype=torch.float32)
    prior = [0.6, 0.25, 0.1, 0.03, 0.015, 0.005]
    for step in range(5):
        x = torch.tensor(_logits((24, 6), seed=10 + step))
        t = torch.tensor(_indices(24, 6, seed=20 + step, p=prior))
        _mmdet_count(ref_counts, t)
        want = _mmdet_seesaw_ce_loss(x, t, ref_counts.double(), 6, 0.8, 2.0, 1e-2)
        got = ours(x, t)
        torch.testing.assert_close(ours.cum_samples, ref_counts, rtol=0, atol=0)
        torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)


# ================================================================= Seesaw: properties, state


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_seesaw_without_factors_is_cross_entropy(framework):
    x, t = _logits((16, 5)), _indices(16, 5)
    ce = functional(framework, "weighted_categorical_crossentropy")(x, t)
    got = functional(framework, "seesaw_loss")(x, t, cum_samples=[9.0, 1.0, 0.0, 4.0, 2.0], p=0.0, q=0.0)
    np.testing.assert_allclose(got, ce, rtol=1e-12, atol=1e-12)
    # equal counts: no mitigation anywhere
    got = functional(framework, "seesaw_loss")(x, t, cum_samples=[7.0] * 5, q=0.0)
    np.testing.assert_allclose(got, ce, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_seesaw_mitigation_lowers_the_penalty_on_rare_classes(framework):
    """A frequent-class sample's negative logits of rarer classes are scaled down by
    (N_j / N_t)^p: its loss drops below cross-entropy; a rare-class sample's loss is unchanged."""
    x = _logits((2, 3), seed=5)
    t = np.array([0, 2])
    ce = functional(framework, "weighted_categorical_crossentropy")(x, t)
    got = functional(framework, "seesaw_loss")(x, t, cum_samples=[1000.0, 100.0, 10.0], q=0.0)
    assert got[0] < ce[0]
    np.testing.assert_allclose(got[1], ce[1], rtol=1e-12)


def test_seesaw_torch_counts_only_in_training_and_travel_in_the_state_dict():
    loss = torch_impl.losses.SeesawLoss(4)
    x = torch.tensor(_logits((10, 4)))
    t = torch.tensor([0, 0, 0, 1, 1, 2, 0, 1, 0, 3])
    loss(x, t)
    expected = torch.tensor([5.0, 3.0, 1.0, 1.0])
    torch.testing.assert_close(loss.cum_samples, expected)
    loss.eval()
    loss(x, t)
    loss.train()
    with torch.no_grad():
        loss(x, t)
    torch.testing.assert_close(loss.cum_samples, expected)  # eval() and no_grad() do not count
    loss(x, t)
    torch.testing.assert_close(loss.cum_samples, 2 * expected)
    restored = torch_impl.losses.SeesawLoss(4)
    restored.load_state_dict(loss.state_dict())
    torch.testing.assert_close(restored.cum_samples, 2 * expected)
    loss.eval()
    restored.eval()
    torch.testing.assert_close(restored(x, t), loss(x, t))


def _keras_seesaw(**kw):
    import tf_impl.losses

    return tf_impl.losses.SeesawLoss(4, dtype="float64", **kw)


def _np(t):
    from keras import ops

    return np.asarray(ops.convert_to_numpy(t), dtype=np.float64)


@pytest.mark.keras
def test_seesaw_keras_and_torch_agree_over_a_stream_of_batches():
    """Both frameworks' classes on the same batches: the same counts and the same losses after
    every batch (state parity)."""
    keras_loss = _keras_seesaw(reduction="none")
    torch_loss = torch_impl.losses.SeesawLoss(4, reduction="none")
    prior = [0.7, 0.2, 0.08, 0.02]
    for step in range(6):
        x = _logits((20, 4), seed=30 + step)
        t = _indices(20, 4, seed=40 + step, p=prior)
        got_keras = _np(keras_loss(t, x))
        got_torch = torch_loss(torch.tensor(x), torch.tensor(t)).numpy()
        np.testing.assert_array_equal(_np(keras_loss.cum_samples), torch_loss.cum_samples.numpy())
        np.testing.assert_allclose(got_keras, got_torch, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(torch_loss.cum_samples.numpy(), np.bincount(
        np.concatenate([_indices(20, 4, seed=40 + s, p=prior) for s in range(6)]), minlength=4))


def _fit_counts(tmp_path, run_eagerly=False):
    """A tiny model trained two epochs with SeesawLoss, saved and reloaded: (counts after fit,
    expected counts, the reloaded loss's counts)."""
    import keras

    import tf_impl.losses

    rng = np.random.default_rng(0)
    x = rng.normal(size=(48, 4)).astype("float32")
    y = rng.choice(3, size=48, p=[0.7, 0.2, 0.1])
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    loss = tf_impl.losses.SeesawLoss(3)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss=loss, run_eagerly=run_eagerly)
    model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    counts = _np(loss.cum_samples)
    path = tmp_path / "seesaw.keras"
    model.save(path)
    restored = keras.models.load_model(path)
    return counts, 2.0 * np.bincount(y, minlength=3), _np(restored.loss.cum_samples)


@pytest.mark.keras
@pytest.mark.parametrize("run_eagerly", [False, True], ids=["compiled", "run_eagerly"])
def test_seesaw_keras_fit_accumulates_the_counts_and_save_restores_them(tmp_path, run_eagerly):
    """On every Keras backend (jax: through the host callback inside the jitted step, and
    outside the stateless scope of an eager step), with no warning."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        counts, expected, restored = _fit_counts(tmp_path, run_eagerly=run_eagerly)
    ours = [str(w.message) for w in caught if "classbalance" in str(w.message) or "tf_impl" in w.filename]
    assert not ours, ours
    np.testing.assert_array_equal(counts, expected)
    np.testing.assert_array_equal(restored, expected)


@pytest.mark.keras
@pytest.mark.skipif(KERAS_BACKEND != "jax", reason="jax.jit: the jax backend only")
def test_seesaw_keras_under_jax_jit_equals_eager_over_a_stream_of_batches():
    """A jitted call counts at every execution, in order, and its loss uses the counts with
    the current batch added: the same losses and counts as eager calls, batch after batch."""
    import jax

    jitted_loss, eager_loss = _keras_seesaw(reduction="none"), _keras_seesaw(reduction="none")
    step = jax.jit(lambda t, x: jitted_loss(t, x))
    prior = [0.7, 0.2, 0.08, 0.02]
    for s in range(4):
        x = _logits((20, 4), seed=50 + s).astype(np.float32)
        t = _indices(20, 4, seed=60 + s, p=prior)
        # float32 logits: both runs compute in float32, jit may fuse differently
        np.testing.assert_allclose(_np(step(t, x)), _np(eager_loss(t, x)), rtol=1e-6, atol=1e-6)
        np.testing.assert_array_equal(_np(jitted_loss.cum_samples), _np(eager_loss.cum_samples))
    assert _np(jitted_loss.cum_samples).sum() == 80


@pytest.mark.keras
def test_seesaw_keras_state_saves_and_loads_with_the_loss_alone():
    loss = _keras_seesaw()
    loss(np.array([0, 3, 3, 1]), _logits((4, 4)))
    store = {}
    loss.save_own_variables(store)
    fresh = _keras_seesaw()
    fresh.load_own_variables(store)
    np.testing.assert_array_equal(_np(fresh.cum_samples), [1.0, 1.0, 0.0, 2.0])


# ====================================================== Distribution-Balanced anchor: ResampleLoss
# Transcribed from wutong16/DistributionBalancedLoss, mllt/models/losses/resample_loss.py
# (`ResampleLoss.__init__` constants, `forward`, `rebalance_weight`, `logit_reg_functions`) and
# cross_entropy_loss.py (`binary_cross_entropy`), commit 14460d0, with `.cuda()` dropped, the
# class_freq.pkl given as tensors and reweight_func="rebalance", use_sigmoid=True,
# weight_norm=None, loss_weight=1, reduction "none" (the focal branch returns element-wise losses).


class _ResampleLoss:
    def __init__(self, class_freq, neg_class_freq, focal, map_param, logit_reg):
        self.focal = focal["focal"]
        self.gamma = focal["gamma"]
        self.balance_param = focal["balance_param"]
        self.map_alpha = map_param["alpha"]
        self.map_beta = map_param["beta"]
        self.map_gamma = map_param["gamma"]
        self.class_freq = torch.as_tensor(class_freq, dtype=torch.float64)
        self.neg_class_freq = torch.as_tensor(neg_class_freq, dtype=torch.float64)
        self.train_num = self.class_freq[0] + self.neg_class_freq[0]
        self.logit_reg = logit_reg
        self.neg_scale = logit_reg["neg_scale"] if "neg_scale" in logit_reg else 1.0
        init_bias = logit_reg["init_bias"] if "init_bias" in logit_reg else 0.0
        self.init_bias = -torch.log(self.train_num / self.class_freq - 1) * init_bias / self.neg_scale
        self.freq_inv = torch.ones(self.class_freq.shape, dtype=torch.float64) / self.class_freq

    def __call__(self, cls_score, label):
        weight = self.rebalance_weight(label.float())
        cls_score, weight = self.logit_reg_functions(label.float(), cls_score, weight)
        if self.focal:
            logpt = -F.binary_cross_entropy_with_logits(cls_score.clone(), label.double(), reduction="none")
            pt = torch.exp(logpt)
            loss = F.binary_cross_entropy_with_logits(cls_score, label.double(), weight, reduction="none")
            loss = ((1 - pt) ** self.gamma) * loss
            loss = self.balance_param * loss
        else:
            loss = F.binary_cross_entropy_with_logits(cls_score, label.double(), weight, reduction="none")
        return loss

    def logit_reg_functions(self, labels, logits, weight=None):
        if not self.logit_reg:
            return logits, weight
        if "init_bias" in self.logit_reg:
            logits += self.init_bias
        if "neg_scale" in self.logit_reg:
            logits = logits * (1 - labels) * self.neg_scale + logits * labels
            weight = weight / self.neg_scale * (1 - labels) + weight * labels
        return logits, weight

    def rebalance_weight(self, gt_labels):
        repeat_rate = torch.sum(gt_labels.float() * self.freq_inv, dim=1, keepdim=True)
        pos_weight = self.freq_inv.clone().detach().unsqueeze(0) / repeat_rate
        weight = torch.sigmoid(self.map_beta * (pos_weight - self.map_gamma)) + self.map_alpha
        return weight


DB_COUNTS = np.array([400.0, 120.0, 30.0, 9.0, 2.0])
DB_N = 1000.0
DB_CONFIGS = {
    # configs/coco/LT_resnet50_pfc_DB.py (our defaults)
    "coco": (dict(focal=True, balance_param=2.0, gamma=2), dict(alpha=0.1, beta=10.0, gamma=0.2),
             dict(neg_scale=2.0, init_bias=0.05), {}),
    # configs/voc/LT_resnet50_pfc_DB.py
    "voc": (dict(focal=True, balance_param=2.0, gamma=2), dict(alpha=0.1, beta=10.0, gamma=0.3),
            dict(init_bias=0.05, neg_scale=5), dict(map_gamma=0.3, neg_scale=5.0)),
    # ResampleLoss's own constructor defaults, focal off (= gamma 0, balance_param 1)
    "class_defaults_no_focal": (dict(focal=False, balance_param=2.0, gamma=2), dict(alpha=10.0, beta=0.2, gamma=0.1),
                                dict(neg_scale=5.0, init_bias=0.1),
                                dict(gamma=0.0, balance_param=1.0, map_alpha=10.0, map_beta=0.2, map_gamma=0.1,
                                     neg_scale=5.0, init_bias=0.1)),
}


@pytest.mark.parametrize("config", list(DB_CONFIGS))
def test_distribution_balanced_equals_resample_loss_value_and_gradient(config):
    focal, map_param, logit_reg, ours = DB_CONFIGS[config]
    ref = _ResampleLoss(DB_COUNTS, DB_N - DB_COUNTS, focal, map_param, logit_reg)
    y = torch.tensor(_multi_hot((30, 5), DB_COUNTS / DB_N * 3))
    y[0] = 0.0  # a sample without positives: the reference's weight limit sigmoid(inf) = 1
    x = torch.tensor(_logits((30, 5)), requires_grad=True)
    xr = x.detach().clone().requires_grad_(True)
    want = ref(xr * 1.0, y)  # * 1.0: the reference adds its bias in place
    got = torch_impl.losses.distribution_balanced_loss(x, y, samples_per_class=DB_COUNTS, num_samples=DB_N, **ours)
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
    v = torch.linspace(0.5, 2.0, 150, dtype=torch.float64).reshape(30, 5)
    (got * v).sum().backward()
    (want * v).sum().backward()
    torch.testing.assert_close(x.grad, xr.grad, rtol=1e-10, atol=1e-12)
    # the module's "mean" is the reference's mean over every element (mmcv's parse_losses)
    module = torch_impl.losses.DistributionBalancedLoss(DB_COUNTS, num_samples=DB_N, **ours)
    torch.testing.assert_close(module(x.detach(), y), want.detach().mean(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_distribution_balanced_equals_resample_loss_in_both_frameworks(framework):
    focal, map_param, logit_reg, _ = DB_CONFIGS["coco"]
    ref = _ResampleLoss(DB_COUNTS, DB_N - DB_COUNTS, focal, map_param, logit_reg)
    x, y = _logits((24, 5), seed=7), _multi_hot((24, 5), [0.4, 0.2, 0.1, 0.05, 0.05], seed=8)
    want = ref(torch.tensor(x), torch.tensor(y)).numpy()
    got = functional(framework, "distribution_balanced_loss")(x, y, samples_per_class=DB_COUNTS, num_samples=DB_N)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    # the classes' means: torch over every element, Keras over labels then samples (equal here)
    mean = loss_object(framework, "DistributionBalancedLoss", samples_per_class=DB_COUNTS, num_samples=DB_N)(x, y)
    np.testing.assert_allclose(mean, want.mean(), rtol=mean_rtol(framework, 1e-10))


# Finite values and gradients at |x| = 100 (gamma 0.5 included): the parity case
# db/extreme_voc_gamma_0.5, on every framework and dtype.


# ======================================================================== bad input, both sides


def _error(framework, build):
    with pytest.raises((ValueError, TypeError)) as info:
        build(framework)
    return type(info.value), str(info.value)


def _keras_or_torch(framework):
    if framework == "torch":
        return torch_impl.losses
    import tf_impl.losses

    return tf_impl.losses


BAD = {
    "num_classes 0": lambda fw: _keras_or_torch(fw).SeesawLoss(0),
    "num_classes float": lambda fw: _keras_or_torch(fw).SeesawLoss(3.0),
    "p negative": lambda fw: _keras_or_torch(fw).SeesawLoss(3, p=-0.1),
    "eps zero": lambda fw: _keras_or_torch(fw).SeesawLoss(3, eps=0.0),
    "cum_samples negative": lambda fw: functional(fw, "seesaw_loss")(
        _logits((2, 3)), np.array([0, 1]), cum_samples=[1.0, -1.0, 2.0]),
    "cum_samples length": lambda fw: functional(fw, "seesaw_loss")(
        _logits((2, 3)), np.array([0, 1]), cum_samples=[1.0, 2.0]),
    "seesaw probability rows": lambda fw: functional(fw, "seesaw_loss")(
        _logits((2, 3)), np.eye(3)[[0, 1]], cum_samples=[1.0, 2.0, 3.0]),
    "seesaw index out of range": lambda fw: functional(fw, "seesaw_loss")(
        _logits((2, 3)), np.array([0, 3]), cum_samples=[1.0, 2.0, 3.0]),
    "db count not below num_samples": lambda fw: _keras_or_torch(fw).DistributionBalancedLoss(
        [10.0, 100.0], num_samples=100),
    "db count zero": lambda fw: _keras_or_torch(fw).DistributionBalancedLoss([0.0, 10.0], num_samples=100),
    "db num_samples": lambda fw: _keras_or_torch(fw).DistributionBalancedLoss([1.0, 10.0], num_samples=0),
    "db neg_scale": lambda fw: _keras_or_torch(fw).DistributionBalancedLoss([1.0, 10.0], num_samples=20,
                                                                            neg_scale=0.0),
    "db length": lambda fw: functional(fw, "distribution_balanced_loss")(
        _logits((2, 3)), np.zeros((2, 3)), samples_per_class=[1.0, 2.0], num_samples=10),
    "db targets outside [0, 1]": lambda fw: functional(fw, "distribution_balanced_loss")(
        _logits((2, 2)), np.full((2, 2), 2.0), samples_per_class=[1.0, 2.0], num_samples=10),
}


@pytest.mark.keras
@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_same_error_in_both_frameworks(case):
    kind_torch, text_torch = _error("torch", BAD[case])
    kind_keras, text_keras = _error("keras", BAD[case])
    assert kind_torch is kind_keras is ValueError
    # the argument names differ by the frameworks' conventions (target / y_true, input / y_pred)
    for a, b in (("`target`", "`y_true`"), ("`input`", "`y_pred`")):
        text_torch = text_torch.replace(a, b)
    assert text_torch == text_keras
    assert "Invalid" in text_torch or "Shape" in text_torch
