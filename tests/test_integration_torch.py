"""PyTorch integration: nn.Module behaviour, torch.compile, autocast, state_dict."""

import numpy as np
import pytest
import torch

from torch_impl.losses import WeightedBinaryCrossentropy, weighted_binary_crossentropy


def _data(seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(32, 6, generator=g) * 3
    y = (torch.rand(32, 6, generator=g) < 0.2).float()
    return x, y


def test_module_buffers_follow_to_and_state_dict():
    loss = WeightedBinaryCrossentropy(pos_weight=[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], neg_weight=0.5)
    assert set(loss.state_dict()) == {"pos_weight", "neg_weight"}
    x, y = _data()
    ref = loss(x, y)
    clone = WeightedBinaryCrossentropy(pos_weight=[0.0] * 6, neg_weight=0.0)
    clone.load_state_dict(loss.state_dict())
    torch.testing.assert_close(clone(x, y), ref)
    assert loss.to(torch.float32).pos_weight.dtype == torch.float32


def test_torch_compile_matches_eager():
    loss = WeightedBinaryCrossentropy(pos_weight=[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], label_smoothing=0.1)
    compiled = torch.compile(loss)
    x, y = _data(1)
    xe = x.clone().requires_grad_(True)
    xc = x.clone().requires_grad_(True)
    eager = loss(xe, y)
    comp = compiled(xc, y)
    eager.backward()
    comp.backward()
    torch.testing.assert_close(comp, eager, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(xc.grad, xe.grad, rtol=1e-5, atol=1e-7)


def test_autocast_cpu_bfloat16_training_step():
    torch.manual_seed(0)
    model = torch.nn.Linear(8, 3)
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    loss_fn = WeightedBinaryCrossentropy(pos_weight=[5.0, 1.0, 2.0])
    x = torch.randn(64, 8)
    y = (x[:, :3] > 0.5).float()
    losses = []
    for _ in range(30):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            logits = model(x)
            assert logits.dtype == torch.bfloat16
            loss = loss_fn(logits, y)
        # under autocast a float32 loss, as torch's own losses return (half in, half out without it)
        assert loss.dtype == torch.float32
        assert loss_fn(logits.detach(), y).dtype == torch.bfloat16
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert np.isfinite(losses).all() and losses[-1] < 0.6 * losses[0]


def test_sample_weight_shape_checked():
    x, y = _data()
    with pytest.raises(ValueError, match=r"Invalid `sample_weight`: received shape \(5,\); expected a scalar, shape \(32,\)"):
        WeightedBinaryCrossentropy()(x, y, sample_weight=torch.ones(5))
    sw = torch.rand(32)  # (B, 1), as Keras accepts it, equals (B,)
    torch.testing.assert_close(WeightedBinaryCrossentropy()(x, y, sample_weight=sw[:, None]),
                               WeightedBinaryCrossentropy()(x, y, sample_weight=sw))


def test_functional_accepts_tensor_weights_on_input_device_and_dtype():
    x, y = _data()
    w = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], dtype=torch.float64)
    out = weighted_binary_crossentropy(x, y, pos_weight=w)
    assert out.dtype == torch.float32 and out.shape == x.shape


FAMILY = [
    ("BinaryFocalLoss", dict(alpha=0.4, gamma=0.5), "multi_label"),
    ("AsymmetricLoss", dict(stop_focal_gradient=True), "multi_label"),
    ("WeightedCategoricalCrossentropy", dict(class_weight=[1.0, 4.0, 0.5, 2.0, 1.0, 1.0], label_smoothing=0.1, ignore_index=-1), "sparse"),
    ("CategoricalFocalLoss", dict(gamma=0.5, alpha=0.25), "sparse"),
    ("ClassBalancedLoss", dict(samples_per_class=[200, 30, 26, 5, 9, 1], base="sigmoid"), "sparse"),
    ("LogitAdjustedCrossentropy", dict(class_priors=[0.5, 0.2, 0.1, 0.1, 0.05, 0.05]), "sparse"),
]


@pytest.mark.parametrize("name,kwargs,kind", FAMILY, ids=[f[0] for f in FAMILY])
def test_family_under_torch_compile(name, kwargs, kind):
    """Dynamo traces every loss (graph breaks only at the validate_args host checks); the
    aot_eager backend keeps this fast while running the traced forward and backward graphs."""
    from torch_impl import losses

    loss = getattr(losses, name)(**kwargs)
    x, y = _data(2)
    if kind == "sparse":
        y = torch.randint(0, 6, (32,), generator=torch.Generator().manual_seed(0))
        y[3] = -1 if "ignore_index" in kwargs else y[3]
    compiled = torch.compile(loss, backend="aot_eager")
    xe, xc = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    eager, comp = loss(xe, y), compiled(xc, y)
    eager.backward()
    comp.backward()
    torch.testing.assert_close(comp, eager, rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(xc.grad, xe.grad, rtol=1e-6, atol=1e-8)
