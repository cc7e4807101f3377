"""The functional forms remember their checked hyperparameters by content
(imbalance_core._memo): a repeated call skips the NumPy checks and the tensor conversion, and
nothing a caller does can make a call use values other than the ones it passed."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from imbalance_core import _memo, loss_specs
from tests.helpers import FRAMEWORKS


def _wcce(framework: str, class_weight):
    """Per-sample weighted CE of fixed logits and targets, as a NumPy array."""
    logits = np.array([[0.5, -1.0, 2.0], [1.5, 0.0, -0.5], [0.0, 0.25, 0.5]], dtype=np.float32)
    target = np.array([2, 0, 1])
    if framework == "torch":
        from torch_impl.losses import weighted_categorical_crossentropy

        return weighted_categorical_crossentropy(torch.tensor(logits), torch.tensor(target),
                                                 class_weight=class_weight).numpy()
    import keras

    from tf_impl.losses import weighted_categorical_crossentropy

    return keras.ops.convert_to_numpy(weighted_categorical_crossentropy(target, logits, class_weight=class_weight))


def _expected(class_weight) -> np.ndarray:
    logits = np.array([[0.5, -1.0, 2.0], [1.5, 0.0, -0.5], [0.0, 0.25, 0.5]])
    target = np.array([2, 0, 1])
    logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    return -np.asarray(class_weight)[target] * logp[np.arange(3), target]


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_an_array_changed_in_place_is_used_with_its_new_values(framework):
    w = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(_wcce(framework, w), _expected(w), rtol=1e-6)
    w[1] = 5.0  # the same array object, new contents
    np.testing.assert_allclose(_wcce(framework, w), _expected([1.0, 5.0, 3.0]), rtol=1e-6)
    w[:] = [1.0, 2.0, 3.0]  # back to contents seen before
    np.testing.assert_allclose(_wcce(framework, w), _expected(w), rtol=1e-6)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_rejected_value_is_rejected_at_every_call(framework):
    w = np.array([1.0, -2.0, 3.0])
    messages = []
    for _ in range(2):
        with pytest.raises(ValueError) as error:
            _wcce(framework, w)
        messages.append(str(error.value))
    assert messages[0] == messages[1] and "class_weight" in messages[0] and "non-negative" in messages[0]


def test_remembered_arrays_are_copies_of_the_callers():
    spec = loss_specs.spec("weighted_categorical_crossentropy")
    w = np.array([1.0, 2.0, 3.0])
    first = spec.unflatten(spec.functional(class_weight=w))["class_weight"]
    again = spec.unflatten(spec.functional(class_weight=w.copy()))["class_weight"]
    assert again is first  # the same contents: remembered
    assert not np.shares_memory(first, w) and _memo.owned(first) and not _memo.owned(w)
    w[0] = 7.0
    np.testing.assert_array_equal(first, [1.0, 2.0, 3.0])


def test_values_that_differ_only_in_type_are_checked_apart():
    """1 and True, 1 and 1.0 hash alike in Python; the key keeps their types apart."""
    assert _memo.content_key(1) != _memo.content_key(True) != _memo.content_key(1.0)
    assert _memo.content_key(np.array([1, 2])) != _memo.content_key(np.array([1.0, 2.0]))
    assert _memo.content_key([1.0, 2.0]) != _memo.content_key((1.0, 2.0))
    assert _memo.content_key(torch.ones(2)) is None  # a tensor: not remembered


def test_past_the_limit_every_result_stays_right():
    for k in range(_memo.LIMIT + 10):
        w = np.array([1.0, 1.0 + k, 3.0])
        np.testing.assert_allclose(_wcce("torch", w), _expected(w), rtol=1e-6)
    assert len(_memo._CHECKED) <= _memo.LIMIT


def test_a_tensor_first_made_in_inference_mode_trains_later():
    """The torch copy of a remembered weight is shared by later calls: made in an evaluation
    loop under inference_mode, it must still be usable where autograd saves it."""
    from torch_impl.losses import categorical_focal_loss

    alpha = np.array([0.2, 0.3, 0.5])
    x = torch.randn(4, 3)
    y = torch.tensor([0, 1, 2, 1])
    with torch.inference_mode():
        categorical_focal_loss(x, y, alpha=alpha)
    xg = x.clone().requires_grad_(True)
    categorical_focal_loss(xg, y, alpha=alpha).sum().backward()
    assert xg.grad is not None and torch.isfinite(xg.grad).all()


def test_logit_adjustment_uses_the_priors_of_each_call():
    from torch_impl.losses import logit_adjusted_crossentropy

    x = torch.zeros(1, 2)
    y = torch.tensor([1])
    priors = np.array([0.9, 0.1])
    first = float(logit_adjusted_crossentropy(x, y, class_priors=priors))
    priors[:] = [0.5, 0.5]
    second = float(logit_adjusted_crossentropy(x, y, class_priors=priors, tau=1.0))
    third = float(logit_adjusted_crossentropy(x, y, class_priors=priors, tau=0.5))
    assert first == pytest.approx(np.log(10.0), rel=1e-6)  # -log(0.1 / (0.9 + 0.1))
    assert second == pytest.approx(np.log(2.0), rel=1e-6) and third == pytest.approx(np.log(2.0), rel=1e-6)
