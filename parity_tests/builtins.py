"""The frameworks' own losses and metrics in the migration API: what each object is, how it runs.

`compare_losses` and `compare_metrics` take Keras 3 losses and metrics (`keras.losses.*`,
`keras.metrics.*`, any backend), PyTorch losses (`torch.nn.*` modules, `torch.nn.functional`
functions, `torchvision.ops.sigmoid_focal_loss` and any function of its signature), torchmetrics
metrics, the project's own classes and plain callables. This module

- identifies each object (`identify_loss`): its framework, its name as the user wrote it, its
  reduction, its class weights and ignored index, and the count its mean divides by, so that a
  failure can be explained in the object's own words (diagnosis.py); the frameworks' own objects
  are read in sides.py, the wrappers of this module over the loss they wrap;
- runs a torch loss on inputs of any dtype and device (`TorchLossRunner`): a module holding
  floating tensors (`CrossEntropyLoss(weight=...)`) gets the inputs cast to the dtype it holds,
  on the device of the inputs; the float64 reference runs a float64 copy of it;
- states fit-level semantics: `KerasFit` is a Keras loss as `model.fit` applies it with
  `class_weight=` or `sample_weight=`; `TorchStep` is a torch loss as a training loop applies
  per-sample or per-class weights to its unreduced output;
- applies a model's output activation before a loss that takes probabilities or log-probabilities
  (`after_activation`), as a model with a softmax head does;
- rejects an object that is neither a loss nor a metric of either framework with a message
  naming what was received and what is accepted.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from imbalance_core import validation

from . import sides
from .sides import Side, check_metric_side, torch_floating_dtype

__all__ = ["KerasFit", "TorchStep", "after_activation", "identify_loss", "Side", "TorchLossRunner",
           "check_loss_side", "check_metric_side", "torch_floating_dtype"]

ACCEPTED_KERAS_LOSS = ("a Keras 3 loss: a keras.losses.Loss (keras.losses.*, tf_impl.losses.*), a function "
                       "fn(y_true, y_pred) such as keras.losses.binary_crossentropy, or KerasFit(loss, ...)")
ACCEPTED_TORCH_LOSS = ("a PyTorch loss: a torch.nn.Module loss (torch.nn.*, torch_impl.losses.*), a function "
                       "fn(input, target) such as torch.nn.functional.cross_entropy or "
                       "torchvision.ops.sigmoid_focal_loss, or TorchStep(loss, ...)")


# ---------------------------------------------------------------- activations


@dataclass
class _Activated:
    loss: Any
    activation: str
    framework: str

    def __call__(self, a: Any, b: Any) -> Any:
        if self.framework == "keras":
            import keras

            y_true, y_pred = a, b
            return self.loss(y_true, _keras_activation(keras, self.activation, y_pred))
        import torch

        return self.loss(_torch_activation(torch, self.activation, a), b)


def _keras_activation(keras: Any, name: str, x: Any) -> Any:
    return {"softmax": lambda: keras.ops.softmax(x, axis=-1), "log_softmax": lambda: keras.ops.log_softmax(x, axis=-1),
            "sigmoid": lambda: keras.ops.sigmoid(x)}[name]()


def _torch_activation(torch: Any, name: str, x: Any) -> Any:
    return {"softmax": lambda: torch.softmax(x, dim=-1), "log_softmax": lambda: torch.log_softmax(x, dim=-1),
            "sigmoid": lambda: torch.sigmoid(x)}[name]()


def after_activation(loss: Any, activation: str, *, framework: str) -> Callable:
    """`loss` applied to activation(prediction): a model with a softmax or sigmoid head.

    Args:
        loss: a Keras loss (`framework="keras"`, called `(y_true, y_pred)`) or a torch loss
            (`framework="torch"`, called `(input, target)`).
        activation: "softmax", "log_softmax" (both over the last axis) or "sigmoid".
        framework: "keras" or "torch".

    >>> import torch
    >>> kl = after_activation(torch.nn.KLDivLoss(reduction="batchmean"), "log_softmax", framework="torch")
    >>> float(kl(torch.zeros(2, 4), torch.full((2, 4), 0.25)))
    0.0
    """
    validation.check_choice("activation", activation, ("softmax", "log_softmax", "sigmoid"))
    validation.check_choice("framework", framework, ("keras", "torch"))
    return _Activated(loss, activation, framework)


# ---------------------------------------------------------------- fit-level semantics


@dataclass
class KerasFit:
    """A Keras loss as `model.fit(..., class_weight=..., sample_weight=...)` applies it per step.

    Keras turns `class_weight` into one weight per sample (the class of a `(B,)` or `(B, 1)` label,
    the argmax of a one-hot row; classes missing from the dict weigh 1), then calls the compiled
    loss with that `sample_weight`: under the default reduction "sum_over_batch_size" the weighted
    sum is divided by the batch size, not by the summed weights. `model.fit` rejects
    `class_weight` together with `sample_weight`, and so does this class.

    Args:
        loss: a keras.losses.Loss, or a function fn(y_true, y_pred) (Keras wraps it with the
            default reduction, as `model.compile(loss=fn)` does).
        class_weight: {class index: weight}, as `model.fit` takes it.
        sample_weight: one weight per sample, or per position for dense targets.

    >>> import keras, numpy as np
    >>> step = KerasFit(keras.losses.SparseCategoricalCrossentropy(from_logits=True), class_weight={0: 1.0, 1: 3.0})
    >>> round(float(step(np.array([0, 1]), np.zeros((2, 2)))), 4)  # (1 + 3) log 2 / 2
    1.3863
    """

    loss: Any
    class_weight: dict | None = None
    sample_weight: Any = None

    def __post_init__(self) -> None:
        if self.class_weight is not None and self.sample_weight is not None:
            raise ValueError(validation.fit_weights_conflict_message())
        if self.class_weight is not None:
            if not isinstance(self.class_weight, dict):
                raise TypeError(validation.not_a_loss_message(
                    "class_weight", self.class_weight, "a dict {class index: weight}, as model.fit takes it"))
            for k, v in self.class_weight.items():
                validation.check_number(f"class_weight[{k!r}]", v, low=0.0)
        check_loss_side("loss", self.loss, "keras")

    def weights_for(self, y_true: Any) -> np.ndarray | None:
        """The per-sample weights model.fit passes to the loss for these targets."""
        if self.class_weight is None:
            return None if self.sample_weight is None else np.asarray(self.sample_weight, np.float64)
        y = np.asarray(validation.to_numpy(y_true))
        if y.ndim > 1:
            if y.ndim > 2:
                raise ValueError(validation.fit_class_weight_rank_message(y.shape))
            y = np.argmax(y, axis=-1) if y.shape[-1] != 1 else y[:, 0]
        y = np.round(y).astype(np.int64)
        return np.array([float(self.class_weight.get(int(c), 1.0)) for c in y])

    def __call__(self, y_true: Any, y_pred: Any) -> Any:
        loss = self.loss
        if not sides.is_keras_loss(loss):
            import keras

            loss = keras.losses.LossFunctionWrapper(loss)  # what model.compile(loss=fn) does
        weights = self.weights_for(y_true)
        return loss(y_true, y_pred, sample_weight=weights)


@dataclass
class TorchStep:
    """A torch loss as a training loop applies per-sample or per-class weights to it.

    The loss runs unreduced (a module's `reduction` set to "none", a function called with
    `reduction="none"`); each loss is multiplied by its weight (`sample_weight`, or
    `class_weight[target]`), then reduced: normalize="mean" is `(loss * w).mean()`, "weights"
    is `(loss * w).sum() / w.sum()`, "sum" is `(loss * w).sum()`.

    Args:
        loss: a torch loss module or function with a `reduction` argument.
        sample_weight: one weight per position of the unreduced loss (or per sample).
        class_weight: one weight per class, indexed by the class-index target.
        normalize: "mean", "weights" or "sum".

    >>> import torch
    >>> step = TorchStep(torch.nn.CrossEntropyLoss(), class_weight=[1.0, 3.0])
    >>> round(float(step(torch.zeros(2, 2), torch.tensor([0, 1]))), 4)
    1.3863
    """

    loss: Any
    sample_weight: Any = None
    class_weight: Any = None
    normalize: str = "mean"

    def __post_init__(self) -> None:
        validation.check_choice("normalize", self.normalize, ("mean", "weights", "sum"))
        if self.class_weight is not None and self.sample_weight is not None:
            raise ValueError(validation.exclusive_weights_message("class_weight", "sample_weight"))
        if self.class_weight is not None:
            self.class_weight = validation.check_weight_vector("class_weight", self.class_weight)
        check_loss_side("loss", self.loss, "torch")

    def unreduced(self, input: Any, target: Any) -> Any:
        loss = self.loss
        if isinstance(loss, sides.torch_module_type()) and hasattr(loss, "reduction"):
            clone = copy.copy(loss)
            clone.reduction = "none"
            return clone(input, target)
        return loss(input, target, reduction="none")

    def weights_for(self, target: Any, like: Any) -> Any | None:
        import torch

        if self.class_weight is not None:
            w = torch.as_tensor(self.class_weight, dtype=like.dtype, device=like.device)
            return w[target.long().clamp(min=0, max=len(self.class_weight) - 1)] * (target >= 0)
        if self.sample_weight is not None:
            weights = np.asarray(validation.to_numpy(self.sample_weight), np.float64)
            return torch.as_tensor(weights, device=like.device).to(like.dtype)
        return None

    def __call__(self, input: Any, target: Any) -> Any:
        out = self.unreduced(input, target)
        w = self.weights_for(target, out)
        if w is not None:
            w = w.reshape(w.shape + (1,) * (out.ndim - w.ndim))
            out = out * w
        if self.normalize == "sum":
            return out.sum()
        if self.normalize == "weights":
            return out.sum() / (w.expand_as(out).sum() if w is not None else out.numel())
        return out.mean()


# ---------------------------------------------------------------- recognising objects


def check_loss_side(name: str, obj: Any, framework: str) -> None:
    """TypeError unless `obj` can be the `framework` side of compare_losses."""
    accepted = ACCEPTED_KERAS_LOSS if framework == "keras" else ACCEPTED_TORCH_LOSS
    if framework == "keras" and (sides.is_torch_object(obj) or isinstance(obj, TorchStep)):
        raise TypeError(validation.wrong_framework_message(name, obj, "PyTorch", "torch_loss"))
    if framework == "torch" and (isinstance(obj, KerasFit) or sides.is_keras_loss(obj)):
        raise TypeError(validation.wrong_framework_message(name, obj, "Keras", "keras_loss"))
    if sides.is_keras_metric(obj) or sides.is_torch_metric(obj):
        raise TypeError(validation.not_a_loss_message(name, obj, accepted + " (metrics go to compare_metrics)"))
    if not callable(obj):
        raise TypeError(validation.not_a_loss_message(name, obj, accepted))


def identify_loss(obj: Any, framework: str) -> Side:
    """What `obj` is, as the report names it (see `Side`): a wrapper of this module described
    over the loss it wraps, any other loss by `sides.identify_keras` or `sides.identify_torch`."""
    if isinstance(obj, _Activated):
        inner = identify_loss(obj.loss, framework)
        return dataclasses.replace(inner, name=f"{inner.name} after {obj.activation}", from_logits=True,
                                   extra={**inner.extra, "activation": obj.activation})
    if isinstance(obj, KerasFit):
        inner = identify_loss(obj.loss, "keras")
        weights = ("class_weight" if obj.class_weight is not None
                   else "sample_weight" if obj.sample_weight is not None else None)
        divisor = inner.divisor
        if weights is not None and inner.reduction == "mean_with_sample_weight":
            divisor = "class_weights" if weights == "class_weight" else "sample_weights"
        cw = None
        if obj.class_weight is not None:
            k = max(obj.class_weight) + 1
            cw = np.array([float(obj.class_weight.get(c, 1.0)) for c in range(k)])
        args = f"class_weight={obj.class_weight}" if weights == "class_weight" else (
            "sample_weight=..." if weights else "")
        return dataclasses.replace(
            inner, name=f"model.fit({args}) with loss {inner.name}", kind="fit", class_weight=cw, divisor=divisor,
            sample_weight=None if obj.sample_weight is None else np.asarray(obj.sample_weight, float),
            extra={**inner.extra, "inner": inner})
    if isinstance(obj, TorchStep):
        inner = identify_loss(obj.loss, "torch")
        divisor = {"sum": "1", "weights": "class_weights" if obj.class_weight is not None else "sample_weights",
                   "mean": "positions" if inner.family == "softmax" else "elements"}[obj.normalize]
        how = ("class_weight" if obj.class_weight is not None
               else "sample_weight" if obj.sample_weight is not None else "")
        return dataclasses.replace(
            inner, name=f"a training step over {inner.name} (reduction='none', "
                        f"{how + ' per sample, ' if how else ''}normalize={obj.normalize!r})",
            kind="step", divisor=divisor,
            class_weight=None if obj.class_weight is None else np.asarray(obj.class_weight, float),
            sample_weight=(None if obj.sample_weight is None
                           else np.asarray(validation.to_numpy(obj.sample_weight), float)),
            extra={**inner.extra, "inner": inner, "normalize": obj.normalize})
    return sides.identify_keras(obj) if framework == "keras" else sides.identify_torch(obj)


# ---------------------------------------------------------------- running torch losses


class TorchLossRunner:
    """Calls a torch loss on inputs of any dtype and device, class axis last or on dim 1.

    A module that holds floating tensors (a `weight` buffer) runs a copy of itself on the inputs'
    device; inputs of another floating dtype are cast to the dtype it holds (`last_cast` says
    so), except float64 inputs in `reference` mode, where a float64 copy of the module runs.
    `class_dim=1` moves the inputs' class axis (last) to dim 1, torch's CrossEntropyLoss layout,
    and an element-wise output back.
    """

    def __init__(self, loss: Any, *, class_dim: int | None = None, reference: bool = False):
        self.loss = loss
        self.class_dim = class_dim
        self.reference = reference
        self.held = torch_floating_dtype(loss) if not isinstance(loss, TorchStep) else torch_floating_dtype(loss.loss)
        self._copies: dict = {}
        self.last_cast: str | None = None

    def _module_for(self, device: Any, dtype: Any) -> Any:
        if isinstance(self.loss, TorchStep):
            key = (str(device), str(dtype))
            if key not in self._copies:
                inner = (copy.deepcopy(self.loss.loss).to(device=device, dtype=dtype) if self.held is not None
                         else self.loss.loss)
                self._copies[key] = TorchStep(inner, sample_weight=self.loss.sample_weight,
                                              class_weight=self.loss.class_weight, normalize=self.loss.normalize)
            return self._copies[key]
        mod = sides.torch_module_type()
        if not (mod and isinstance(self.loss, mod)) or (self.held is None and not sides.torch_devices(self.loss)):
            return self.loss
        key = (str(device), str(dtype))
        if key not in self._copies:
            target = copy.deepcopy(self.loss).to(device=device)
            if self.held is not None:
                target = target.to(dtype=dtype)
            self._copies[key] = target
        return self._copies[key]

    def __call__(self, input: Any, target: Any) -> Any:
        import torch

        run_dtype = input.dtype
        self.last_cast = None
        if self.held is not None and input.dtype != self.held and not (self.reference and input.dtype == torch.float64):
            run_dtype = self.held
            self.last_cast = (f"inputs cast from {str(input.dtype).replace('torch.', '')} to "
                              f"{str(self.held).replace('torch.', '')}, the dtype of the tensors the torch loss holds")
        loss = self._module_for(input.device, run_dtype)
        x = input.to(run_dtype)
        y = target.to(run_dtype) if target.is_floating_point() else target
        moved = self.class_dim is not None and x.ndim > 2
        if moved:
            x = x.movedim(-1, self.class_dim)
            y = y.movedim(-1, self.class_dim) if y.ndim == x.ndim else y
        out = loss(x, y)
        if moved and out.ndim == x.ndim:
            out = out.movedim(self.class_dim, -1)
        return out
