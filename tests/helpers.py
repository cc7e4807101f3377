"""Run the same loss in either framework from NumPy, for tests written once for both.

`FRAMEWORKS` parametrizes a test over torch and Keras (the Keras param is marked `keras`, so
the second pytest process re-runs it on Keras's torch backend). Both helpers take
(logits, target) in NumPy and hide the argument-order difference (torch: input, target;
Keras: y_true, y_pred).
"""

import numpy as np
import pytest

FRAMEWORKS = [pytest.param("torch", id="torch"), pytest.param("keras", id="keras", marks=pytest.mark.keras)]


def mean_rtol(framework: str, rtol: float) -> float:
    """`rtol` for a float64 "sum_over_batch_size" value; 1e-6 for the Keras classes on Keras's
    torch backend, whose own reduction (Keras 3.15 `ops.divide_no_nan`) divides in float32."""
    if framework != "keras":
        return rtol
    import keras  # the backend Keras runs on, whatever the environment says now

    if keras.backend.backend() == "torch":
        return max(rtol, 1e-6)
    return rtol


def to_numpy(t):
    if hasattr(t, "detach"):
        return t.detach().double().cpu().numpy()
    from keras import ops

    return np.asarray(ops.convert_to_numpy(ops.cast(t, "float64")))


def functional(framework, name):
    """fn(logits, target, **kw) -> NumPy, calling `name` in torch_impl or tf_impl."""
    if framework == "torch":
        import torch

        from torch_impl import losses

        fn = getattr(losses, name)
        return lambda x, y, **kw: to_numpy(fn(torch.as_tensor(x), torch.as_tensor(y), **kw))
    from tf_impl import losses

    fn = getattr(losses, name)
    return lambda x, y, **kw: to_numpy(fn(y, x, **kw))


def loss_object(framework, name, **kwargs):
    """obj(logits, target, sample_weight=None) -> NumPy, for the loss class `name`."""
    if framework == "torch":
        import torch

        from torch_impl import losses

        obj = getattr(losses, name)(**kwargs)

        def call(x, y, sample_weight=None):
            sw = None if sample_weight is None else torch.as_tensor(sample_weight)
            return to_numpy(obj(torch.as_tensor(x), torch.as_tensor(y), sample_weight=sw))

        return call
    from tf_impl import losses

    # Keras loss classes compute in their dtype policy (float32 by default); float64 here so
    # that tests can compare with float64 anchors at tight tolerances.
    kwargs.setdefault("dtype", "float64")
    obj = getattr(losses, name)(**kwargs)
    return lambda x, y, sample_weight=None: to_numpy(obj(y, x, sample_weight=sample_weight))
