"""Fit-level semantics: KerasFit computes what model.fit minimises per step, TorchStep what a
training loop with per-sample weights minimises, and the report names the one-line change."""

import numpy as np
import pytest

pytestmark = pytest.mark.keras

from parity_tests.api import compare_losses  # noqa: E402
from parity_tests.builtins import KerasFit, TorchStep  # noqa: E402

CLASS_WEIGHT = {0: 1.0, 1: 2.0, 2: 0.5, 3: 4.0}


def _batch(seed=0, n=8, k=4):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, k)).astype(np.float32) * 2, rng.integers(0, k, size=n)


def _fit_loss(loss, x, y, **fit_kw) -> float:
    """The loss model.fit reports for one step on one batch, with a model whose output is its input."""
    import keras

    model = keras.Sequential([keras.Input((x.shape[1],)),
                              keras.layers.Dense(x.shape[1], use_bias=False, kernel_initializer="identity")])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss=loss)
    history = model.fit(x, y, batch_size=len(x), epochs=1, verbose=0, shuffle=False, **fit_kw)
    return float(history.history["loss"][0])


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "mean_with_sample_weight"])
def test_keras_fit_equals_what_model_fit_reports(reduction):
    import keras

    x, y = _batch()
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction=reduction)
    want = _fit_loss(loss, x, y, class_weight=CLASS_WEIGHT)
    got = float(KerasFit(loss, class_weight=CLASS_WEIGHT)(y, x))
    assert got == pytest.approx(want, rel=1e-6)
    sw = np.random.default_rng(1).choice([0.0, 0.5, 1.0, 2.0], size=len(y))
    want = _fit_loss(loss, x, y, sample_weight=sw)
    assert float(KerasFit(loss, sample_weight=sw)(y, x)) == pytest.approx(want, rel=1e-6)


def test_keras_fit_class_weight_divides_by_the_batch_size():
    import keras

    x, y = _batch(seed=2)
    per_sample = keras.ops.convert_to_numpy(keras.losses.sparse_categorical_crossentropy(y, x, from_logits=True))
    w = np.array([CLASS_WEIGHT[c] for c in y])
    got = float(KerasFit(keras.losses.SparseCategoricalCrossentropy(from_logits=True), class_weight=CLASS_WEIGHT)(y, x))
    assert got == pytest.approx(float((w * per_sample).sum() / len(y)), rel=1e-6)


def test_keras_fit_bad_arguments():
    import keras

    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    with pytest.raises(ValueError, match=r"received both `class_weight` and `sample_weight`; model.fit rejects"):
        KerasFit(loss, class_weight=CLASS_WEIGHT, sample_weight=np.ones(8))
    with pytest.raises(ValueError, match=r"Invalid `class_weight\[1\]`"):
        KerasFit(loss, class_weight={0: 1.0, 1: -2.0})
    with pytest.raises(ValueError, match=r"received targets of shape \(2, 4, 4\).*as `sample_weight`"):
        KerasFit(loss, class_weight=CLASS_WEIGHT)(np.zeros((2, 4, 4), np.int64), np.zeros((2, 4, 4, 4), np.float32))
    with pytest.raises(TypeError, match=r"Invalid `loss`: received .*CrossEntropyLoss, a PyTorch object"):
        KerasFit(__import__("torch").nn.CrossEntropyLoss())


def test_torch_step_reductions():
    import torch

    x, y = _batch(seed=3)
    xt, yt = torch.tensor(x), torch.tensor(y)
    w = torch.tensor([CLASS_WEIGHT[int(c)] for c in y])
    per = torch.nn.functional.cross_entropy(xt, yt, reduction="none")
    weights = list(CLASS_WEIGHT.values())
    assert torch.allclose(TorchStep(torch.nn.CrossEntropyLoss(), class_weight=weights)(xt, yt), (per * w).mean())
    assert torch.allclose(TorchStep(torch.nn.CrossEntropyLoss(), class_weight=weights, normalize="weights")(xt, yt),
                          torch.nn.CrossEntropyLoss(weight=torch.tensor(weights))(xt, yt))
    assert torch.allclose(TorchStep(torch.nn.functional.cross_entropy, sample_weight=w, normalize="sum")(xt, yt),
                          (per * w).sum())
    with pytest.raises(ValueError, match=r"received both `class_weight` and `sample_weight`; expected one of them"):
        TorchStep(torch.nn.CrossEntropyLoss(), class_weight=weights, sample_weight=w)
    with pytest.raises(ValueError, match=r"Invalid `normalize`: received 'batch'"):
        TorchStep(torch.nn.CrossEntropyLoss(), normalize="batch")


def test_fit_class_weight_against_torch_weight_names_the_one_line_change():
    import keras
    import torch

    x, y = _batch(seed=4)
    fit = KerasFit(keras.losses.SparseCategoricalCrossentropy(from_logits=True), class_weight=CLASS_WEIGHT)
    torch_loss = torch.nn.CrossEntropyLoss(weight=torch.tensor(list(CLASS_WEIGHT.values())))
    report = compare_losses(fit, torch_loss, inputs={"batch": (x.astype(np.float64), y)}, dtypes=("float32",),
                            devices=("cpu",))
    (r,) = [c for c in report.results if c.framework.startswith("keras/")]
    summed = sum(CLASS_WEIGHT[int(c)] for c in y)
    assert not r.passed
    assert f"the summed class weights of the targets, {summed:g} / the number of samples (the batch size), 8" \
        in r.diagnosis, r.diagnosis
    assert "this side (model.fit(class_weight={0: 1.0, 1: 2.0, 2: 0.5, 3: 4.0}) with loss" in r.diagnosis
    assert 'compile with SparseCategoricalCrossentropy(..., reduction="mean_with_sample_weight")' in r.diagnosis
    assert 'CrossEntropyLoss(..., reduction="sum") and divide by input.shape[0]' in r.diagnosis

    agreeing = [
        (KerasFit(keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="mean_with_sample_weight"),
                  class_weight=CLASS_WEIGHT), torch_loss),
        (fit, TorchStep(torch.nn.CrossEntropyLoss(), class_weight=list(CLASS_WEIGHT.values()))),
    ]
    for keras_side, torch_side in agreeing:
        report = compare_losses(keras_side, torch_side, inputs={"batch": (x.astype(np.float64), y)},
                                dtypes=("float64", "float32"), devices=("cpu",))
        assert report.passed, report.table(cells=True) + "\n" + "\n".join(report.explain())


def test_torch_step_against_keras_fit_with_sample_weights_names_the_loop_change():
    import keras
    import torch

    x, y = _batch(seed=5)
    sw = np.array([1.0, 0.0, 2.0, 0.5, 1.0, 1.5, 0.25, 1.0])
    keras_side = KerasFit(keras.losses.SparseCategoricalCrossentropy(from_logits=True), sample_weight=sw)
    torch_side = TorchStep(torch.nn.CrossEntropyLoss(), sample_weight=sw, normalize="weights")
    report = compare_losses(keras_side, torch_side, inputs={"batch": (x.astype(np.float64), y)},
                            dtypes=("float32",), devices=("cpu",))
    (r,) = [c for c in report.results if c.framework.startswith("keras/")]
    assert f"= the summed sample weights, {sw.sum():g} / the number of samples (the batch size), 8" in r.diagnosis, \
        r.diagnosis
    assert "in the training loop, loss = (criterion(input, target) * w).mean()" in r.diagnosis
