"""The migration API on the frameworks' own losses and metrics: held dtypes, dense layouts, every
reduction convention named by what it counts, errors explained, bad input rejected."""

import functools

import numpy as np
import pytest

pytestmark = pytest.mark.keras

from parity_tests.api import compare_losses, compare_metrics, metric_stream, stress_inputs  # noqa: E402
from parity_tests.builtins import KerasFit, identify_loss  # noqa: E402
from parity_tests.migration_table import sigmoid_focal_loss  # noqa: E402

W = [1.0, 2.0, 3.0, 1.0, 0.5]
CPU32 = dict(dtypes=("float32",), devices=("cpu",))


def _seg(shape=(2, 4, 4), k=5, ignore_frac=0.0, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=shape + (k,)) * 3
    t = rng.integers(0, k, size=shape)
    t = np.where(rng.random(shape) < ignore_frac, -100, t)
    return x, t.astype(np.int64)


def _keras_cells(report):
    return [r for r in report.results if r.framework.startswith("keras/")]


def test_torch_module_holding_float32_weights_runs_every_dtype_and_says_so():
    import keras
    import torch

    report = compare_losses(
        KerasFit(keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="mean_with_sample_weight"),
                 class_weight=dict(enumerate(W))),
        torch.nn.CrossEntropyLoss(weight=torch.tensor(W)), kind="multiclass", devices=("cpu",))
    assert report.passed, report.table(cells=True) + "\n" + "\n".join(report.explain())
    torch_cells = {r.dtype: r for r in report.results if r.framework == "torch"}
    assert {r.computed_in for r in torch_cells.values()} == {"float32"}
    assert "inputs cast from float64 to float32, the dtype of the tensors the torch loss holds" in \
        torch_cells["float64"].tolerance_note
    assert "inputs cast from bfloat16 to float32" in torch_cells["bfloat16"].tolerance_note
    assert torch_cells["float64"].rtol == 1.3e-6  # ran in float32: float32's tolerance


def test_a_closure_holding_float32_tensors_is_explained_not_raised():
    import keras
    import torch

    w = torch.tensor(W)
    report = compare_losses(keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                            lambda i, t: torch.nn.functional.cross_entropy(i, t, weight=w), kind="multiclass",
                            dtypes=("float64",), devices=("cpu",))
    assert not report.passed and all(r.error for r in report.results)
    text = report.results[0].error
    assert "the torch side (your torch callable <lambda>) could not run input 'random'" in text
    assert "in float64 (the reference)" in text and "expected scalar type Double but found Float" in text
    assert "why: the loss holds tensors of another dtype than the inputs" in text
    assert "pass a torch.nn.Module, whose buffers the migration check casts" in text


@pytest.mark.parametrize("layout", ["channels_last", "channels_first"])
def test_segmentation_sum_against_mean_names_the_pixels_and_keras_argument(layout):
    import keras
    import torch

    x, t = _seg()
    inputs = {"seg": (np.moveaxis(x, -1, 1) if layout == "channels_first" else x, t)}
    report = compare_losses(keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="sum"),
                            torch.nn.CrossEntropyLoss(), inputs=inputs, input_layout=layout, **CPU32)
    (torch_cell,) = [r for r in report.results if r.framework == "torch"]
    assert torch_cell.passed  # (B, K, H, W) for torch, from either layout
    (r,) = _keras_cells(report)
    assert "got / want = 32 everywhere = the number of pixels, 32 (2 x 4 x 4)" in r.diagnosis, r.diagnosis
    assert "sums, the reference (torch.nn.CrossEntropyLoss(ignore_index=-100, reduction='mean')) averages" in r.diagnosis
    assert 'on this side, SparseCategoricalCrossentropy(..., reduction="sum_over_batch_size")' in r.diagnosis
    assert 'on the reference side, CrossEntropyLoss(..., reduction="sum")' in r.diagnosis
    assert "summed weights" not in r.diagnosis and "normalization=" not in r.diagnosis


def test_token_outputs_sum_over_samples_against_mean_over_tokens():
    import keras
    import torch

    x, t = _seg(shape=(3, 7), k=4)
    per_sample = lambda i, tt: torch.nn.functional.cross_entropy(i, tt, reduction="sum") / i.shape[0]  # noqa: E731
    # a plain callable's layout is not known: the class axis stays last unless torch_class_dim says so
    report = compare_losses(keras.losses.SparseCategoricalCrossentropy(from_logits=True), per_sample,
                            inputs={"tokens": (x, t)}, **CPU32)
    assert "Expected target size" in report.results[0].error
    assert "why: the inputs' shapes do not fit this loss" in report.results[0].error
    assert "compare_losses(..., torch_class_dim=1)" in report.results[0].error
    report = compare_losses(keras.losses.SparseCategoricalCrossentropy(from_logits=True), per_sample,
                            inputs={"tokens": (x, t)}, torch_class_dim=1, **CPU32)
    (r,) = _keras_cells(report)
    assert ("got / want = 1/7 everywhere = the number of samples (the batch size), 3 / the number of positions "
            "(tokens), 21 (3 x 7)") in r.diagnosis, r.diagnosis


def test_non_ignored_pixels_and_summed_class_weights_are_named_with_their_values():
    import keras
    import torch

    x, t = _seg(ignore_frac=0.25, seed=1)
    valid = int((t >= 0).sum())
    report = compare_losses(keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-100,
                                                                       reduction="sum"),
                            torch.nn.CrossEntropyLoss(), inputs={"seg": (x, t)}, **CPU32)
    (r,) = _keras_cells(report)
    assert f"= the number of non-ignored positions, {valid} of 32" in r.diagnosis, r.diagnosis

    x, t = _seg(shape=(8,), seed=2)
    summed = float(np.asarray(W)[t].sum())
    report = compare_losses(KerasFit(keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                                     class_weight=dict(enumerate(W))),
                            torch.nn.CrossEntropyLoss(weight=torch.tensor(W)), inputs={"b": (x, t)}, **CPU32)
    (r,) = _keras_cells(report)
    assert f"the summed class weights of the targets, {summed:g} / the number of samples (the batch size), 8" \
        in r.diagnosis, r.diagnosis
    assert 'compile with SparseCategoricalCrossentropy(..., reduction="mean_with_sample_weight")' in r.diagnosis


def test_torch_arguments_are_named_in_torch_words():
    import keras
    import torch

    report = compare_losses(keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                            torch.nn.CrossEntropyLoss(weight=torch.tensor(W)), kind="multiclass", **CPU32)
    (r, *_) = _keras_cells(report)
    assert "CrossEntropyLoss weights each target by its class (weight=[1, 2, 3, 1, 0.5])" in r.diagnosis
    assert "model.fit (class_weight=" in r.diagnosis

    report = compare_losses(keras.losses.BinaryCrossentropy(from_logits=True),
                            torch.nn.BCEWithLogitsLoss(pos_weight=torch.full((5,), 3.0)), kind="binary", **CPU32)
    (r, *_) = _keras_cells(report)
    assert "BCEWithLogitsLoss(pos_weight=) scales the positive term only" in r.diagnosis


def test_torchvision_focal_loss_duck_typed_against_keras_focal():
    import keras

    focal = functools.partial(sigmoid_focal_loss, reduction="mean")
    assert identify_loss(focal, "torch").name == "torchvision.ops.sigmoid_focal_loss(alpha=0.25, gamma=2.0, reduction='mean')"
    # random and soft-label logits: Keras's focal loss on its torch and jax backends loses the
    # |x| = 100 entries (the documented anchor is its TensorFlow backend), which the parity suite covers
    gens = stress_inputs("binary")
    inputs = {k: gens[k](np.random.default_rng(0)) for k in ("random", "soft_labels")}
    report = compare_losses(keras.losses.BinaryFocalCrossentropy(from_logits=True, apply_class_balancing=True), focal,
                            inputs=inputs, dtypes=("float64", "float32"), devices=("cpu",))
    assert report.passed, report.table(cells=True) + "\n" + "\n".join(report.explain())
    report = compare_losses(keras.losses.BinaryFocalCrossentropy(from_logits=True), focal, kind="binary", **CPU32)
    (r, *_) = _keras_cells(report)
    assert "only with apply_class_balancing=True" in r.diagnosis


def test_torchmetrics_without_sample_weight_and_a_keras_metric_that_rejects_inputs_are_explained():
    import keras
    import torchmetrics

    report = compare_metrics(keras.metrics.BinaryAccuracy(), torchmetrics.classification.BinaryAccuracy(),
                             kind="binary")
    torch_row, keras_row = report.results
    assert "has no sample_weight argument" in torch_row.error and "weighted=False" in torch_row.error
    assert keras_row.error.startswith("not compared: the reference")

    report = compare_metrics(keras.metrics.F1Score(), torchmetrics.classification.BinaryF1Score(),
                             batches=metric_stream("binary", weighted=False))
    keras_row = [r for r in report.results if r.framework.startswith("keras/")][0]
    assert "the keras side (keras.F1Score) could not run batch 0 (y_true (16,), y_pred (16,))" in keras_row.error
    assert {r.computed_in for r in report.results} == {"float32"}


def test_metric_argument_differences_are_named():
    import keras
    import torchmetrics

    report = compare_metrics(keras.metrics.SparseCategoricalAccuracy(),
                             torchmetrics.classification.MulticlassAccuracy(num_classes=3),
                             batches=metric_stream("multiclass", weighted=False))
    (bad,) = [r for r in report.results if not r.passed]
    assert "average='macro', its default" in bad.diagnosis and 'pass average="micro"' in bad.diagnosis


def test_objects_that_are_neither_loss_nor_metric_are_rejected_with_what_is_accepted():
    import keras
    import torch
    import torchmetrics

    with pytest.raises(TypeError, match=r"Invalid `keras_loss`: received builtins.int \(3\); expected a Keras 3 loss"):
        compare_losses(3, torch.nn.CrossEntropyLoss())
    with pytest.raises(TypeError, match=r"Invalid `keras_loss`: received torch.nn.modules.loss.CrossEntropyLoss, a "
                                        r"PyTorch object; pass it as `torch_loss`"):
        compare_losses(torch.nn.CrossEntropyLoss(), None)
    with pytest.raises(TypeError, match=r"Invalid `torch_loss`: received .*BinaryAccuracy.*metrics go to compare_metrics"):
        compare_losses(None, torchmetrics.classification.BinaryAccuracy())
    with pytest.raises(TypeError, match=r"Invalid `torch_metric`: received .*CrossEntropyLoss; expected a "
                                        r"torchmetrics.Metric \(update, compute, reset\)"):
        compare_metrics(None, torch.nn.CrossEntropyLoss())
    with pytest.raises(TypeError, match=r"Invalid `keras_metric`: received .*BinaryAccuracy, a torchmetrics object"):
        compare_metrics(torchmetrics.classification.BinaryAccuracy(), None)
    with pytest.raises(TypeError, match=r"Invalid `torch_loss`: received .*BinaryCrossentropy, a Keras object"):
        compare_losses(None, keras.losses.BinaryCrossentropy())
    with pytest.raises(ValueError, match=r"Invalid `input_layout`: received 'nhwc'"):
        compare_losses(None, torch.nn.CrossEntropyLoss(), input_layout="nhwc")


def test_a_cuda_module_runs_against_cpu_and_gpu_cells():
    import torch

    if not torch.cuda.is_available():
        pytest.skip("no CUDA device visible to torch")
    import keras

    module = torch.nn.CrossEntropyLoss(weight=torch.tensor(W)).cuda()
    report = compare_losses(keras.losses.SparseCategoricalCrossentropy(from_logits=True), module,
                            kind="multiclass", dtypes=("float32",))
    torch_cells = [r for r in report.results if r.framework == "torch"]
    assert {r.device for r in torch_cells} == {"cpu", "gpu"} and all(r.passed for r in torch_cells), report.table()


def test_a_scalar_against_per_sample_losses_names_both_reductions():
    import keras
    import torch

    report = compare_losses(keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="none"),
                            torch.nn.CrossEntropyLoss(), kind="multiclass", **CPU32)
    (r, *_) = _keras_cells(report)
    assert ("CrossEntropyLoss (reduction='mean') returns a scalar, SparseCategoricalCrossentropy (reduction='none') "
            "one loss per position (8,): pass reduction=\"none\" to CrossEntropyLoss, or "
            "reduction=\"sum_over_batch_size\" to SparseCategoricalCrossentropy") in r.diagnosis, r.diagnosis


def test_a_numpy_reference_that_raises_is_reported_per_input():
    import keras

    def reference(logits, target):
        raise ZeroDivisionError("division by zero")

    report = compare_losses(keras.losses.SparseCategoricalCrossentropy(from_logits=True), None, kind="multiclass",
                            reference=reference, **CPU32)
    assert len(report.results) == 3 and not report.passed
    assert report.results[0].error.startswith("your NumPy `reference` could not run input 'random' (logits (8, 5) "
                                              "float, target (8,) int64) in float64 (the reference): ZeroDivisionError")


def test_fit_and_activation_helpers_reject_bad_arguments():
    import keras

    from parity_tests.builtins import after_activation

    with pytest.raises(ValueError, match=r"Invalid `activation`: received 'relu'; allowed values are 'softmax'"):
        after_activation(keras.losses.KLDivergence(), "relu", framework="keras")
    with pytest.raises(TypeError, match=r"Invalid `class_weight`: received builtins.list"):
        KerasFit(keras.losses.SparseCategoricalCrossentropy(), class_weight=[1.0, 2.0])
    side = identify_loss(KerasFit(keras.losses.SparseCategoricalCrossentropy(), sample_weight=np.ones(4)), "keras")
    assert side.name.startswith("model.fit(sample_weight=...) with loss keras.losses.SparseCategoricalCrossentropy(")
    assert side.kind == "fit" and side.sample_weight.sum() == 4.0
