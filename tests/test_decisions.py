"""Decisions after training: prior correction and threshold tuning, both frameworks.

- tune_threshold against a brute-force search over every threshold (ties, sample weights,
  each objective), the same result in both frameworks;
- ThresholdTuner (streaming) against tune_threshold: equal on scores on its grid, within its
  stated bound elsewhere; accumulated over batches; state merged as DDP sums it;
- shift_prior / PriorShift against the closed form, finite at |x| = 100, saved and loaded;
- on Gaussian classes with a known Bayes posterior, a model trained on balanced batches and
  corrected matches the posterior under the natural prior far better than uncorrected;
- bad input: the same message in both frameworks, naming the argument, the value, what is allowed.

The Keras params are marked `keras` (they run again on Keras's torch and jax backends).
"""

import warnings

import numpy as np
import pytest

from imbalance_core import decisions
from imbalance_core.schedule import balanced_schedule

torch = pytest.importorskip("torch")

from tests.helpers import FRAMEWORKS, to_numpy  # noqa: E402

OBJECTIVES = [
    dict(objective="balanced_accuracy"),
    dict(objective="weighted_balanced_accuracy", alpha=0.8),
    dict(objective="f_beta", beta=2.0),
    dict(objective="f_beta", beta=0.5),
    dict(objective="tpr_at_least", min_tpr=0.9),
    dict(objective="tpr_at_least", min_tpr=0.0),
]


def module(framework):
    if framework == "torch":
        import torch_impl.decisions as mod
    else:
        import tf_impl.decisions as mod
    return mod


def native(framework, array):
    if framework == "torch":
        return torch.as_tensor(array)
    from keras import ops

    return ops.convert_to_tensor(array)


def as_float(value) -> float:
    return float(to_numpy(value))


# ------------------------------------------------------------------- brute force (the oracle)


def brute_force_scores(y, s, w, *, objective, alpha=0.5, beta=1.0, min_tpr=None):
    """The objective at every threshold in [-inf] + sorted distinct scores, by counting."""
    thresholds = np.concatenate([[-np.inf], np.unique(s)])
    values = []
    for t in thresholds:
        pred = s > t
        tp, fn = w[pred & y].sum(), w[~pred & y].sum()
        fp, tn = w[pred & ~y].sum(), w[~pred & ~y].sum()
        tpr, tnr = tp / (tp + fn), tn / (tn + fp)
        if objective == "balanced_accuracy":
            v = (tpr + tnr) / 2
        elif objective == "weighted_balanced_accuracy":
            v = alpha * tpr + (1 - alpha) * tnr
        elif objective == "f_beta":
            v = (1 + beta**2) * tp / ((1 + beta**2) * tp + beta**2 * fn + fp) if tp > 0 else 0.0
        else:
            v = tnr if tpr >= min_tpr else -np.inf
        values.append(v)
    return thresholds, np.array(values)


def random_case(seed, *, n=300, weighted=True):
    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.2
    # few distinct values: many ties, within and across classes
    s = np.round(rng.normal(size=n) + 1.2 * y, 1)
    w = rng.integers(0, 4, n).astype(np.float64) if weighted else np.ones(n)
    w[np.flatnonzero(y)[0]] = w[np.flatnonzero(~y)[0]] = 1.0  # both classes weigh something
    return y, s, w


@pytest.mark.parametrize("kwargs", OBJECTIVES, ids=lambda k: "-".join(str(v) for v in k.values()))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_core_tune_threshold_equals_brute_force(kwargs, seed):
    y, s, w = random_case(seed, weighted=seed != 2)
    found = decisions.tune_threshold(y.astype(np.int64), s, sample_weight=None if seed == 2 else w, **kwargs)
    thresholds, values = brute_force_scores(y, s, w, **kwargs)
    assert found.score == pytest.approx(values.max(), abs=1e-12)
    # the threshold reaches that score, and no lower threshold does (ties go to the lowest)
    at = int(np.flatnonzero(thresholds == found.threshold)[0])
    assert values[at] == pytest.approx(values.max(), abs=1e-12)
    assert np.all(values[:at] < values.max() - 1e-12)


def test_core_tune_threshold_moves_with_the_objective():
    """Different objectives pick different operating points on the same scores."""
    y, s, _ = random_case(5)
    sens = decisions.tune_threshold(y, s, objective="tpr_at_least", min_tpr=0.95)
    spec = decisions.tune_threshold(y, s, objective="weighted_balanced_accuracy", alpha=0.05)
    assert sens.threshold < spec.threshold
    assert np.mean(s[y] > sens.threshold) >= 0.95  # the constraint holds (unweighted, as called)


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("kwargs", OBJECTIVES[:5], ids=lambda k: "-".join(str(v) for v in k.values()))
def test_tune_threshold_native_equals_core(framework, kwargs):
    """Native tensors in (float32 scores, (B, 1) shapes), native tensors out, the core's answer."""
    y, s, w = random_case(3)
    s32, y2 = s.astype(np.float32)[:, None], y.astype(np.float32)[:, None]
    found = module(framework).tune_threshold(native(framework, y2), native(framework, s32),
                                             sample_weight=native(framework, w), **kwargs)
    expected = decisions.tune_threshold(y2, s32, sample_weight=w, **kwargs)
    assert as_float(found.threshold) == expected.threshold  # a float32 score, kept exactly
    assert "float32" in str(found.threshold.dtype)
    assert as_float(found.score) == pytest.approx(expected.score, rel=1e-6)  # the score in floatx


@pytest.mark.keras
def test_tune_threshold_twins_agree():
    """Both frameworks, the same data: the same threshold and score (and NumPy in works)."""
    import tf_impl.decisions
    import torch_impl.decisions

    rng = np.random.default_rng(7)
    y = (rng.random(2000) < 0.05).astype(np.int64)
    s = rng.normal(size=2000) + 2.0 * y
    for kwargs in OBJECTIVES:
        a, b = tf_impl.decisions.tune_threshold(y, s, **kwargs), torch_impl.decisions.tune_threshold(y, s, **kwargs)
        assert as_float(a.threshold) == as_float(b.threshold), kwargs
        assert as_float(a.score) == pytest.approx(as_float(b.score), rel=1e-6), kwargs


# ------------------------------------------------------------------------------- streaming


def filled_tuner(framework, batches, **kwargs):
    tuner = module(framework).ThresholdTuner(**kwargs)
    for y, s, w in batches:
        yt, st = native(framework, y.astype(np.float32)), native(framework, s.astype(np.float32))
        wt = None if w is None else native(framework, w)
        if framework == "torch":
            tuner.update(st, yt, sample_weight=wt)
        else:
            tuner.update_state(yt, st, sample_weight=wt)
    return tuner


def tuner_result(framework, batches, **kwargs):
    tuner = filled_tuner(framework, batches, **kwargs)
    result = tuner.compute() if framework == "torch" else tuner.result()
    return tuner, as_float(result.threshold), as_float(result.score)


def split(y, s, w, parts):
    return [(a, b, c) for a, b, c in zip(np.array_split(y, parts), np.array_split(s, parts), np.array_split(w, parts))]


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("kwargs", OBJECTIVES[:5], ids=lambda k: "-".join(str(v) for v in k.values()))
def test_streaming_equals_exact_on_its_grid(framework, kwargs):
    """Probabilities on the grid k/n: over four batches, tune_threshold's threshold and score."""
    n = 64
    rng = np.random.default_rng(11)
    y = rng.random(1500) < 0.1
    s = np.clip(np.round((rng.normal(size=1500) * 0.15 + 0.35 + 0.25 * y) * n), 0, n) / n
    w = rng.integers(0, 3, 1500).astype(np.float64)
    w[:2] = 1.0
    y[0], y[1] = True, False
    _, threshold, score = tuner_result(framework, split(y, s, w, 4), num_bins=n, **kwargs)
    expected = decisions.tune_threshold(y, s, sample_weight=w, **kwargs)
    assert threshold == expected.threshold
    assert score == pytest.approx(expected.score, rel=1e-6)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_streaming_within_its_stated_bound(framework):
    """Continuous scores (logits): never above the exact optimum, below it by at most the
    heaviest bin's share; the returned threshold is a probability on the grid."""
    n = 256
    rng = np.random.default_rng(12)
    y = rng.random(4000) < 0.05
    logits = rng.normal(size=4000) + 2.5 * y - 1.0
    w = rng.random(4000)
    _, threshold, score = tuner_result(framework, split(y, logits, w, 3), num_bins=n, from_logits=True)
    p = 1.0 / (1.0 + np.exp(-logits.astype(np.float32).astype(np.float64)))
    exact = decisions.tune_threshold(y, p, sample_weight=w)
    bins = decisions.bins_of(p, n)
    pos, neg = (np.bincount(bins, weights=np.where(m, w, 0.0), minlength=n + 1) for m in (y, ~y))
    bound = decisions.grid_gap_bound(pos, neg)
    assert exact.score - bound - 1e-6 <= score <= exact.score + 1e-6
    assert bound < 0.05  # the statement is not vacuous here
    assert threshold * n == pytest.approx(round(threshold * n), abs=1e-6)
    # its score is the exact score of its threshold
    tpr, tnr = np.sum(w[y & (p > threshold)]) / w[y].sum(), np.sum(w[~y & (p <= threshold)]) / w[~y].sum()
    assert score == pytest.approx((tpr + tnr) / 2, abs=1e-6)


def test_streaming_state_sums_like_ddp():
    """torchmetrics merges states with dist_reduce_fx ("sum"), as DDP's sync does: two
    processes' tuners merged equal one tuner over all batches."""

    rng = np.random.default_rng(13)
    y = rng.random(1000) < 0.2
    s = rng.random(1000) * 0.5 + 0.4 * y
    w = np.ones(1000)
    batches = split(y, s, w, 4)
    whole, threshold, score = tuner_result("torch", batches)
    first, second = filled_tuner("torch", batches[:2]), filled_tuner("torch", batches[2:])
    first.merge_state(second)
    merged = first.compute()
    assert as_float(merged.threshold) == threshold and as_float(merged.score) == score
    torch.testing.assert_close(first.positive_counts, whole.positive_counts, rtol=0, atol=0)
    assert first._reductions["positive_counts"].__name__ == "dim_zero_sum"


@pytest.mark.keras
def test_keras_streaming_config_and_reset(tmp_path):
    import keras

    import tf_impl.decisions

    tuner = tf_impl.decisions.ThresholdTuner(objective="tpr_at_least", min_tpr=0.8, num_bins=32, name="tuned")
    again = tf_impl.decisions.ThresholdTuner.from_config(tuner.get_config())
    assert again.get_config() == tuner.get_config()
    tuner.update_state(np.array([0.0, 1.0, 1.0]), np.array([0.1, 0.9, 0.3]))
    tuner.reset_state()
    assert float(keras.ops.sum(tuner.positive_counts)) == 0.0


# ------------------------------------------------------------------------------ prior shift


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_shift_prior_closed_form(framework):
    mod = module(framework)
    rng = np.random.default_rng(20)
    x = rng.normal(size=(5, 3)) * 3.0
    x[0] = [100.0, -100.0, 0.0]
    train, target = np.array([1.0, 1.0, 1.0]) / 3, np.array([0.7, 0.2, 0.1])
    out = to_numpy(mod.shift_prior(native(framework, x), train_prior=train, target_prior=target))
    np.testing.assert_allclose(out, x + np.log(target) - np.log(train), rtol=1e-12, atol=0)
    # unnormalised priors are normalised; float32 in, float32 out
    out32 = mod.shift_prior(native(framework, x.astype(np.float32)), train_prior=[2, 2, 2], target_prior=[7, 2, 1])
    assert "float32" in str(out32.dtype)
    np.testing.assert_allclose(to_numpy(out32), out, rtol=1e-6, atol=1e-5)
    # sigmoid: per-label priors of the positive class (and a scalar for every label)
    z = rng.normal(size=(4, 2))
    logit = lambda p: np.log(p) - np.log1p(-np.asarray(p))  # noqa: E731
    out = to_numpy(mod.shift_prior(native(framework, z), train_prior=[0.5, 0.3], target_prior=0.05,
                                   activation="sigmoid"))
    np.testing.assert_allclose(out, z + logit(0.05) - logit(np.array([0.5, 0.3])), rtol=1e-12, atol=1e-12)
    # one binary logit (B, 1), scalar priors; finite at |x| = 100
    b = np.array([[100.0], [-100.0], [0.5]])
    out = to_numpy(mod.shift_prior(native(framework, b), train_prior=0.5, target_prior=0.01, activation="sigmoid"))
    np.testing.assert_allclose(out, b + logit(0.01), rtol=1e-12, atol=1e-12)
    assert np.all(np.isfinite(out))


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_scalar_priors_mean_sigmoid_logits(framework):
    """Two scalar priors are the positive class's priors of sigmoid logits: without
    activation="sigmoid" they give the sigmoid shift, in the function and in the layer/module."""
    mod = module(framework)
    b = np.array([[3.0], [-100.0], [0.5], [100.0]])
    logit = lambda p: np.log(p) - np.log1p(-p)  # noqa: E731
    expected = b + logit(0.05) - logit(0.5)
    out = to_numpy(mod.shift_prior(native(framework, b), train_prior=0.5, target_prior=0.05))
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    layer = mod.PriorShift(train_prior=np.float64(0.5), target_prior=0.05)
    assert layer.activation == "sigmoid"
    # float32 in: the Keras layer computes in its float32 dtype policy, so float32 tolerances
    b32 = native(framework, b.astype(np.float32))
    np.testing.assert_allclose(to_numpy(layer(b32)), expected, rtol=1e-6, atol=1e-6)
    if framework != "torch":
        assert layer.get_config()["activation"] == "sigmoid"
        rebuilt = mod.PriorShift.from_config(layer.get_config())
        np.testing.assert_allclose(to_numpy(rebuilt(b32)), expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_shift_prior_to_uniform_is_adjust_logits(framework):
    """With a uniform target prior it is the post-hoc logit adjustment (tau = 1)."""
    mod = module(framework)
    losses = __import__(f"{'torch' if framework == 'torch' else 'tf'}_impl.losses", fromlist=["adjust_logits"])
    x = np.random.default_rng(21).normal(size=(6, 4))
    prior = np.array([0.6, 0.25, 0.1, 0.05])
    got = mod.shift_prior(native(framework, x), train_prior=prior, target_prior=np.full(4, 0.25))
    # adjust_logits gives x - log pi; the shift adds log(1/4) too, a constant the softmax ignores
    adjusted = to_numpy(losses.adjust_logits(native(framework, x), prior))
    np.testing.assert_allclose(to_numpy(got), adjusted + np.log(0.25), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kwargs", [
    dict(train_prior=[0.5, 0.3, 0.2], target_prior=[0.7, 0.2, 0.1]),
    dict(train_prior=[0.5, 0.3, 0.2], target_prior=0.05, activation="sigmoid"),
    dict(train_prior=0.5, target_prior=0.01, activation="sigmoid"),
    dict(train_prior=0.5, target_prior=0.01),
    dict(train_prior=np.array([0.5, 0.3, 0.2]), target_prior=np.array([0.7, 0.2, 0.1])),
], ids=["softmax", "sigmoid-per-label", "sigmoid-scalar", "scalar-priors", "numpy-priors"])
def test_torch_shift_prior_and_module_compile_fullgraph(kwargs):
    """shift_prior with Python-constant priors (its checks folded at trace time) or NumPy
    priors (checked in the graph at every call) and the PriorShift module: no graph break,
    compiled equal to eager."""
    import torch_impl.decisions

    x = torch.randn(6, 3, dtype=torch.float64)
    layer = torch_impl.decisions.PriorShift(**kwargs)
    for fn in (lambda z: torch_impl.decisions.shift_prior(z, **kwargs), layer):
        torch._dynamo.reset()
        explanation = torch._dynamo.explain(fn)(x)
        assert explanation.graph_break_count == 0, [str(b.reason) for b in explanation.break_reasons]
        torch._dynamo.reset()
        compiled = torch.compile(fn, backend="aot_eager", fullgraph=True)
        torch.testing.assert_close(compiled(x), fn(x), rtol=1e-12, atol=1e-12)
    torch._dynamo.reset()


def test_torch_threshold_tuner_update_compiles_over_batch_sizes():
    """ThresholdTuner.update under torch.compile(fullgraph=True), Dynamo's default settings:
    at most one recompile over batch sizes 32, 17, 9 (torchmetrics's update counter traced as
    a symbolic int), the histograms equal to eager."""
    from torch._dynamo.testing import CompileCounterWithBackend

    import torch_impl.decisions

    torch._dynamo.reset()
    compiled, eager = torch_impl.decisions.ThresholdTuner(num_bins=16), torch_impl.decisions.ThresholdTuner(num_bins=16)
    frames = CompileCounterWithBackend("aot_eager")
    update = torch.compile(compiled.update, backend=frames, fullgraph=True)
    g = torch.Generator().manual_seed(3)
    for n in (32, 17, 9):
        p, t, w = torch.rand(n, generator=g), (torch.rand(n, generator=g) < 0.3).float(), torch.rand(n, generator=g)
        update(p, t, sample_weight=w)
        eager.update(p, t, sample_weight=w)
    assert frames.frame_count <= 2, f"{frames.frame_count} compilations for 3 batch sizes"
    assert torch.equal(compiled.positive_counts, eager.positive_counts)
    assert torch.equal(compiled.negative_counts, eager.negative_counts)
    assert compiled.compute() == eager.compute()
    torch._dynamo.reset()


def test_torch_prior_shift_module_state_dict_and_layout():
    import torch_impl.decisions

    layer = torch_impl.decisions.PriorShift(train_prior=[0.5, 0.5], target_prior=[0.9, 0.1])
    assert set(layer.state_dict()) == {"train_prior", "target_prior"}
    other = torch_impl.decisions.PriorShift(train_prior=[0.2, 0.8], target_prior=[0.3, 0.7])
    other.load_state_dict(layer.state_dict())
    x = torch.randn(3, 2, 4, 4)  # (N, C, H, W): the class axis is dim 1, as CrossEntropyLoss
    expected = x + torch.log(torch.tensor([0.9, 0.1]) / 0.5).reshape(1, 2, 1, 1)
    torch.testing.assert_close(other(x), expected)
    # half in, half out, the sum computed in float32
    torch.testing.assert_close(other(x.half()), (x.half().float() + expected - x).half())
    torch.testing.assert_close(layer(x[:, :, 0, 0]), torch_impl.decisions.shift_prior(x[:, :, 0, 0], train_prior=[0.5, 0.5],
                                                                     target_prior=[0.9, 0.1]))


@pytest.mark.keras
def test_keras_prior_shift_saved_and_loaded_with_a_model(tmp_path):
    import keras

    import tf_impl.decisions

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3),
                              tf_impl.decisions.PriorShift(train_prior=[1 / 3] * 3, target_prior=[0.8, 0.15, 0.05])])
    x = np.random.default_rng(22).normal(size=(5, 2)).astype(np.float32)
    path = str(tmp_path / "corrected.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(to_numpy(loaded(x)), to_numpy(model(x)), rtol=1e-6, atol=1e-6)
    dense = to_numpy(model.layers[0](x))
    np.testing.assert_allclose(to_numpy(model(x)), dense + np.log([0.8 * 3, 0.15 * 3, 0.05 * 3]), rtol=1e-5, atol=1e-5)
    assert loaded.layers[-1].get_config()["target_prior"] == pytest.approx([0.8, 0.15, 0.05])


def test_training_prior():
    # a balanced pipeline: the class fractions; class weights multiply them
    np.testing.assert_allclose(decisions.training_prior(class_fractions=[0.5, 0.5]), [0.5, 0.5])
    np.testing.assert_allclose(decisions.training_prior(class_fractions=[0.5, 0.5], class_weight=[1.0, 3.0]), [0.25, 0.75])
    # scikit-learn's "balanced" weights on shuffled batches: a uniform training prior
    counts = np.array([900.0, 80.0, 20.0])
    balanced = counts.sum() / (3 * counts)
    np.testing.assert_allclose(decisions.training_prior(data_prior=counts, class_weight=balanced), [1 / 3] * 3, rtol=1e-12)
    np.testing.assert_allclose(decisions.training_prior(data_prior=counts), counts / counts.sum())
    import tf_impl.decisions
    import torch_impl.decisions

    assert tf_impl.decisions.training_prior is torch_impl.decisions.training_prior is decisions.training_prior


# ------------------------------------------------------- the Gaussian known-posterior test

MEANS = np.array([[0.0, 0.0], [2.0, 0.5], [0.5, 2.0]])
NATURAL = {"softmax": np.array([0.85, 0.11, 0.04]), "sigmoid": np.array([0.95, 0.05])}


def gaussian(n, prior, seed):
    """Unit-covariance Gaussian classes: the Bayes posterior is softmax(mu_c . x - |mu_c|^2 / 2
    + log prior_c), linear in x, so a linear model can learn it exactly."""
    rng = np.random.default_rng(seed)
    y = rng.choice(len(prior), size=n, p=prior)
    return (rng.normal(size=(n, 2)) + MEANS[y]).astype(np.float32), y


def bayes_logits(x, prior):
    k = len(prior)
    return x.astype(np.float64) @ MEANS[:k].T - 0.5 * np.sum(MEANS[:k] ** 2, axis=1) + np.log(prior)


def log_loss(logits, y):
    """Softmax log loss of (n, K) logits; a sigmoid model's (n, 1) logit z is [0, z]."""
    if logits.shape[1] == 1:
        logits = np.concatenate([np.zeros_like(logits), logits], axis=1)
    logits = logits - logits.max(axis=1, keepdims=True)
    return float(np.mean(np.log(np.exp(logits).sum(axis=1)) - logits[np.arange(len(y)), y]))


def train_balanced(framework, x, y, order, batch_size, outputs):
    """A linear model (softmax CE over `outputs` classes, or one sigmoid logit with BCE when
    outputs == 1) trained on the balanced batches `order`; returns its logits function."""
    target = y.astype(np.float32)[:, None] if outputs == 1 else y
    if framework == "torch":
        torch.manual_seed(0)
        layer = torch.nn.Linear(2, outputs)
        opt = torch.optim.Adam(layer.parameters(), lr=0.05)
        loss_fn = torch.nn.BCEWithLogitsLoss() if outputs == 1 else torch.nn.CrossEntropyLoss()
        xt, yt = torch.from_numpy(x), torch.from_numpy(target)
        for idx in order:
            opt.zero_grad()
            loss_fn(layer(xt[idx]), yt[idx]).backward()
            opt.step()
        return lambda z: layer(torch.from_numpy(z)).detach()
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(outputs)])
    loss = (keras.losses.BinaryCrossentropy(from_logits=True) if outputs == 1
            else keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss=loss)
    flat = order.reshape(-1)
    model.fit(x[flat], target[flat], batch_size=batch_size, shuffle=False, epochs=1, verbose=0)
    return lambda z: model(z)


@pytest.mark.parametrize("activation", ["softmax", "sigmoid"])
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_balanced_training_plus_correction_recovers_the_posterior(framework, activation):
    """Trained on balanced batches, the model's probabilities are for the uniform prior; the
    correction makes them the Bayes posterior under the natural prior (log loss on a
    natural-prior test set), the uncorrected ones are far off."""
    mod = module(framework)
    natural = NATURAL[activation]
    k = len(natural)
    x, y = gaussian(6000, natural, seed=30)
    x_test, y_test = gaussian(10000, natural, seed=31)
    order = balanced_schedule(y, 96, steps_per_epoch=150, seed=0)  # equal class fractions
    predict = train_balanced(framework, x, y, order, 96, outputs=k if activation == "softmax" else 1)
    train_prior = decisions.training_prior(class_fractions=[1 / k] * k)
    if activation == "softmax":
        priors = dict(train_prior=train_prior, target_prior=natural)
    else:  # the positive class's prior
        priors = dict(train_prior=train_prior[1], target_prior=natural[1], activation="sigmoid")

    raw = predict(x_test)
    corrected = to_numpy(mod.shift_prior(raw, **priors))
    np.testing.assert_allclose(to_numpy(mod.PriorShift(**priors)(raw)), corrected, rtol=1e-6, atol=1e-6)

    bayes = bayes_logits(x_test, natural)
    best = log_loss(bayes, y_test)
    uncorrected_excess = log_loss(to_numpy(raw), y_test) - best
    corrected_excess = log_loss(corrected, y_test) - best
    assert uncorrected_excess > 0.1  # balanced training costs a lot under the natural prior
    assert corrected_excess < 0.1 * uncorrected_excess
    # and the corrected probabilities are the Bayes posterior's, nearly
    if activation == "sigmoid":
        corrected, bayes = np.concatenate([np.zeros_like(corrected), corrected], axis=1), bayes - bayes[:, :1]
    posterior = np.exp(bayes - np.logaddexp.reduce(bayes, axis=1, keepdims=True))
    probs = np.exp(corrected - np.logaddexp.reduce(corrected, axis=1, keepdims=True))
    assert np.mean(np.abs(probs - posterior)) < 0.02


# ------------------------------------------------------------------------------- bad input

y_ok = np.array([0, 1, 0, 1, 0], np.int64)
s_ok = np.array([0.1, 0.8, 0.3, 0.7, 0.2])

BAD = [
    ("tune_threshold", dict(objective="auc"), "Invalid `objective`: received 'auc'; allowed values are"),
    ("tune_threshold", dict(alpha=1.5), "Invalid `alpha`: received 1.5; expected a finite number in [0, 1]"),
    ("tune_threshold", dict(beta=0.0), "Invalid `beta`: received 0; expected a finite number > 0"),
    ("tune_threshold", dict(objective="tpr_at_least"), "Invalid `min_tpr`: received None; expected a finite number in [0, 1] (required by objective='tpr_at_least')"),
    ("tune_threshold", dict(min_tpr=0.9), "Invalid `min_tpr`: received 0.9 with objective='balanced_accuracy'; expected None"),
    ("tune_threshold", dict(y_true=np.array([0, 2, 0, 1, 0])), "Invalid `y_true`: binary labels must be 0 or 1; received [2] (shape (1,))."),
    ("tune_threshold", dict(scores=np.array([0.1, np.nan, 0.3, 0.7, 0.2])), "Invalid `scores`: scores must be finite (no NaN or inf); received [nan]"),
    ("tune_threshold", dict(scores=s_ok[:, None]), "Shape mismatch: `y_true` has shape (5,) but `scores` has shape (5, 1)"),
    ("tune_threshold", dict(sample_weight=np.ones(4)), "Invalid `sample_weight`: received shape (4,); expected None or (5,)"),
    ("tune_threshold", dict(sample_weight=np.array([1, 1, -1, 1, 1.0])), "Invalid `sample_weight`: received [-1] (shape (1,)); expected non-negative finite weights"),
    ("tune_threshold", dict(y_true=np.zeros(5, np.int64)), "Invalid `y_true`: received total weight 0 on the positive class and 5 on the negative class"),
    ("shift_prior", dict(train_prior=[0.5, 0.0, 0.5]), "Invalid `train_prior`: received [0.5, 0, 0.5] (shape (3,)); expected a positive finite 1-D vector"),
    ("shift_prior", dict(target_prior=[0.5, 0.5]), "Invalid `target_prior`: received length 2; expected length 3, the length of `train_prior`"),
    ("shift_prior", dict(train_prior=[0.25] * 4, target_prior=[0.25] * 4), "Invalid `train_prior`: received length 4; expected length 3"),
    ("shift_prior", dict(activation="tanh"), "Invalid `activation`: received 'tanh'; allowed values are 'softmax', 'sigmoid'."),
    ("shift_prior", dict(target_prior=0.05), "Invalid `target_prior`: received 0.05, a scalar, while `train_prior` has one prior per class; a scalar prior is the positive class's prior of sigmoid logits, which need activation=\"sigmoid\""),
    ("shift_prior", dict(train_prior=0.5), "Invalid `train_prior`: received 0.5, a scalar, while `target_prior` has one prior per class;"),
    ("shift_prior", dict(activation="sigmoid", train_prior=1.0, target_prior=0.1), "Invalid `train_prior`: received 1.0; expected probabilities of the positive class strictly inside (0, 1)"),
    ("ThresholdTuner", dict(num_bins=0), "Invalid `num_bins`: received 0; expected an integer in [1, 16777216]."),
    ("ThresholdTuner", dict(from_logits="False"), "Invalid `from_logits`: received 'False'; expected True or False."),
    ("training_prior", dict(), "Invalid `data_prior` and `class_fractions`: received neither (or both)"),
    ("training_prior", dict(class_fractions=[1.0, 0.0], class_weight=[0.0, 2.0]), "Invalid `class_weight`: received [0, 2] (shape (2,)); expected a positive weight on at least one class"),
    ("training_prior", dict(class_fractions=[0.5, 0.6]), "Invalid `class_fractions`: received [0.5, 0.6] (shape (2,)) (sum 1.1); expected non-negative fractions summing to 1"),
]


def call_bad(framework, name, kwargs):
    mod = module(framework)
    kwargs = dict(kwargs)
    if name == "tune_threshold":
        y = native(framework, kwargs.pop("y_true", y_ok))
        s = native(framework, kwargs.pop("scores", s_ok))
        return mod.tune_threshold(y, s, **kwargs)
    if name == "shift_prior":
        base = dict(train_prior=[1 / 3] * 3, target_prior=[0.6, 0.3, 0.1])
        base.update(kwargs)
        return mod.shift_prior(native(framework, np.zeros((2, 3))), **base)
    return getattr(mod, name)(**kwargs)


@pytest.mark.keras
@pytest.mark.parametrize("name,kwargs,message", BAD, ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)])
def test_bad_input_same_message_in_both(name, kwargs, message):
    texts = []
    for framework in ("torch", "keras"):
        with pytest.raises(ValueError) as info:
            call_bad(framework, name, kwargs)
        texts.append(str(info.value))
    assert texts[0] == texts[1]
    assert message in texts[0], texts[0]


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_streaming_rejects_bad_batches(framework):
    mod = module(framework)
    tuner = mod.ThresholdTuner()
    update = tuner.update if framework == "torch" else (lambda p, t, **k: tuner.update_state(t, p, **k))
    with pytest.raises(ValueError, match="probabilities must lie in"):
        update(native(framework, np.array([0.2, 1.5], np.float32)), native(framework, np.array([0.0, 1.0], np.float32)))
    with pytest.raises(ValueError, match="binary labels must be 0 or 1"):
        update(native(framework, np.array([0.2, 0.5], np.float32)), native(framework, np.array([0.0, 2.0], np.float32)))
    logits = mod.ThresholdTuner(from_logits=True)
    update = logits.update if framework == "torch" else (lambda p, t, **k: logits.update_state(t, p, **k))
    with pytest.raises(ValueError, match="1 NaN score"):
        update(native(framework, np.array([np.nan, 5.0], np.float32)),
               native(framework, np.array([0.0, 1.0], np.float32)))
    unchecked = mod.ThresholdTuner(validate_args=False)
    update = unchecked.update if framework == "torch" else (lambda p, t, **k: unchecked.update_state(t, p, **k))
    update(native(framework, np.array([np.nan, 0.9, 0.2], np.float32)),
           native(framework, np.array([0.0, 1.0, 0.0], np.float32)))
    counts = [to_numpy(unchecked.positive_counts), to_numpy(unchecked.negative_counts)]
    assert counts[0].sum() == 1.0 and counts[1].sum() == 1.0  # the NaN score is not counted
    # no positive seen yet: the labels' argument is named, in the framework's convention
    empty = mod.ThresholdTuner()
    with pytest.raises(ValueError, match="Invalid `%s`: received total weight 0 on the positive class and 0"
                       % ("target" if framework == "torch" else "y_true")), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torchmetrics's: compute() before update()
        empty.compute() if framework == "torch" else empty.result()
