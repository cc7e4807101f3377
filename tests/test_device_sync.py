"""No host-device synchronisation per call at default arguments (validate_args=True).

CI has no GPU, so the proof runs on torch's "meta" device: tensors there have shapes and
dtypes but no values, so any host read (`.item()`, `bool(t)`, `.tolist()`, `.numpy()`, a copy
to the CPU) raises. Every torch loss (forward and backward) and every torch metric (update and
compute) from the conformance table runs there at its default arguments. The content checks
take the same code path as on CUDA up to the asynchronous copy of their flag (a meta tensor has
no value to copy; see torch_impl._ops.device_check).

The deferred path itself (the flag copied asynchronously, the failure raised at a later call)
is exercised on the CPU by declaring the CPU a deferred device, and on a GPU, wherever one is
present, by a `gpu`-marked training step under torch.cuda.set_sync_debug_mode("error").
"""

import numpy as np
import pytest
import torch

from imbalance_core import deferred
from tests import conformance
from torch_impl import _ops


def _meta_inputs(row, n=8):
    i = row.inputs(n)
    preds = torch.as_tensor(i.logits).to("meta")
    target = torch.as_tensor(i.target).to("meta")
    return preds, target


@pytest.mark.parametrize("row", conformance.params(conformance.LOSSES))
def test_loss_forward_backward_on_meta(row):
    loss_fn = conformance.build("torch", row).to("meta")
    preds, target = _meta_inputs(row)
    preds.requires_grad_(True)
    loss = loss_fn(preds, target)
    assert loss.device.type == "meta" and loss.ndim == 0
    loss.backward()
    assert preds.grad is not None and preds.grad.shape == preds.shape


@pytest.mark.parametrize("row", conformance.params(conformance.METRICS))
def test_metric_update_and_compute_on_meta(row):
    metric = conformance.build("torch", row).to("meta")
    preds, target = _meta_inputs(row)
    metric.update(preds, target)
    metric.update(preds, target, sample_weight=torch.ones(preds.shape[0], device="meta"))
    value = metric.compute()
    assert value.device.type == "meta"


def test_a_host_read_fails_on_meta():
    """The premise of the tests above: reading a meta tensor's value raises."""
    t = torch.zeros(3, device="meta")
    for read in (lambda: bool(t.any()), lambda: t.tolist(), lambda: t.cpu()):
        with pytest.raises((RuntimeError, NotImplementedError)):
            read()


# ------------------------------------------------------------- the deferred path, on the CPU


@pytest.fixture
def deferred_cpu(monkeypatch):
    """The CPU treated as a deferred device (as CUDA is): failures surface at a later call."""
    monkeypatch.setattr(deferred, "DEFERRED_DEVICES", {"cpu"})
    deferred.PENDING.__init__()
    yield
    deferred.PENDING.__init__()


def test_deferred_class_index_check_raises_at_the_next_call(deferred_cpu):
    from torch_impl.losses import WeightedCategoricalCrossentropy

    loss = WeightedCategoricalCrossentropy()
    x = torch.zeros(4, 3)
    loss(x, torch.tensor([0, 1, 7, 2]))  # deferred: no exception yet
    with pytest.raises(ValueError, match=r"class indices must lie in \[0, 3\); received \[7\]"):
        loss(x, torch.tensor([0, 1, 2, 2]))  # the next checked call reports the earlier failure
    loss(x, torch.tensor([0, 1, 2, 2]))  # reported once


def test_deferred_range_check_and_flush(deferred_cpu):
    from torch_impl.losses import BinaryFocalLoss

    loss = BinaryFocalLoss()
    loss(torch.zeros(2, 3), torch.tensor([[0.0, 1.0, 2.0], [0.0, 0.0, 0.0]]))
    with pytest.raises(ValueError, match=r"targets must lie in \[0, 1\]; received values in \[0, 2\]"):
        _ops.flush_checks()


def test_deferred_metric_check(deferred_cpu):
    from torch_impl.metrics import BalancedAccuracy

    metric = BalancedAccuracy(num_classes=3)
    metric.update(torch.zeros(3, 3), torch.tensor([0, 5, 1]))
    with pytest.raises(ValueError, match=r"received \[5\]"):
        metric.update(torch.zeros(3, 3), torch.tensor([0, 1, 1]))


def test_deferred_message_when_the_values_changed(deferred_cpu):
    """A tensor overwritten in place before the deferred read still gives an error, saying so."""
    from torch_impl.losses import WeightedCategoricalCrossentropy

    loss = WeightedCategoricalCrossentropy()
    target = torch.tensor([0, 9, 1])
    loss(torch.zeros(3, 3), target)
    target[1] = 2
    with pytest.raises(ValueError, match="deferred device-side check"):
        _ops.flush_checks()


def test_cpu_checks_stay_immediate():
    from torch_impl.losses import WeightedCategoricalCrossentropy

    with pytest.raises(ValueError, match=r"received \[7\]"):
        WeightedCategoricalCrossentropy()(torch.zeros(2, 3), torch.tensor([0, 7]))


# ------------------------------------------------------------------------- a GPU, if present


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("row", conformance.params(conformance.LOSSES))
def test_training_step_without_sync_on_cuda(row):
    """A training step (forward, backward, optimizer step) and a metric update at default
    arguments under set_sync_debug_mode("error"): any host-device sync raises."""
    torch.manual_seed(0)
    model = torch.nn.Linear(conformance.NUM_FEATURES, conformance.K).cuda()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss_fn = conformance.build("torch", row).cuda()
    metric = conformance.build("torch", conformance.BY_ID["BalancedAccuracy-multiclass"]).cuda()
    i = row.inputs(64)
    x = torch.as_tensor(i.features).cuda()
    y = torch.as_tensor(i.target).cuda()
    loss_fn(model(x), y).backward()  # warm-up: allocations, lazy init
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for _ in range(3):
            opt.zero_grad()
            logits = model(x)
            loss_fn(logits, y).backward()
            opt.step()
        if row.family == "softmax":
            metric.update(logits.detach(), y.clamp_min(0))
    finally:
        torch.cuda.set_sync_debug_mode("default")
    torch.cuda.synchronize()
    _ops.flush_checks()  # the deferred checks found nothing wrong
    assert np.isfinite(float(loss_fn(model(x), y)))


def test_functional_forms_keep_device_copies_of_numpy_weights():
    """A functional form given NumPy weights uploads them once per device and dtype (the cached
    copy is reused, so no per-call upload), and runs on meta with no host read."""
    from torch_impl.losses import weighted_binary_crossentropy, weighted_categorical_crossentropy

    w = np.array([1.0, 4.0, 0.5])
    x = torch.zeros(8, 3, device="meta", requires_grad=True)
    y = torch.zeros(8, dtype=torch.int64, device="meta")
    weighted_categorical_crossentropy(x, y, class_weight=w).sum().backward()
    weighted_binary_crossentropy(x, torch.zeros(8, 3, device="meta"), pos_weight=w, neg_weight=[0.5, 0.0, 1.0])
    first = _ops.as_tensor_like(w, x)
    assert _ops.as_tensor_like(w.copy(), x) is first  # keyed by contents
    assert _ops.as_tensor_like([1.0, 4.0, 0.5], x) is first
    assert _ops.as_tensor_like(np.array([1.0, 4.0, 0.25]), x) is not first


# ------------------------------------------- Keras on its torch backend: the same deferral


def _keras_on_torch():
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip("Keras's torch backend only (the torch pass of `make test`)")


@pytest.mark.keras
def test_keras_on_torch_checks_defer_like_torch_impl(deferred_cpu):
    """tf_impl on Keras's torch backend hands its content checks to the same deferred path
    (CUDA there; the CPU here): no host read at the call, the same message at the next one."""
    _keras_on_torch()
    from tf_impl.losses import BinaryFocalLoss, WeightedCategoricalCrossentropy
    from tf_impl.metrics import BalancedAccuracy

    loss = WeightedCategoricalCrossentropy()
    x = torch.zeros(4, 3)
    value = loss(torch.tensor([0, 1, 7, 2]), x)  # deferred; the invalid index reads as class 0
    assert np.isfinite(float(value))
    with pytest.raises(ValueError, match=r"class indices must lie in \[0, 3\); received \[7\]"):
        loss(torch.tensor([0, 1, 2, 2]), x)
    BinaryFocalLoss()(torch.tensor([[0.0, 2.0]]), torch.zeros(1, 2))
    with pytest.raises(ValueError, match=r"targets must lie in \[0, 1\]; received values in \[0, 2\]"):
        _ops.flush_checks()
    metric = BalancedAccuracy(num_classes=3)
    metric.update_state(torch.tensor([0, 5, 1]), torch.zeros(3, 3))
    with pytest.raises(ValueError, match=r"received \[5\]"):
        _ops.flush_checks()
