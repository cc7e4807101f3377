"""The frameworks' own losses and metrics in the migration API: what each object is, how it runs.

`compare_losses` and `compare_metrics` take Keras 3 losses and metrics (`keras.losses.*`,
`keras.metrics.*`, any backend), PyTorch losses (`torch.nn.*` modules, `torch.nn.functional`
functions, `torchvision.ops.sigmoid_focal_loss` and any function of its signature), torchmetrics
metrics, the project's own classes and plain callables. This module

- identifies each object (`identify_loss`): its framework, its name as the user wrote it, its
  reduction, its class weights and ignored index, and the count its mean divides by, so that a
  failure can be explained in the object's own words (diagnosis.py);
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
import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from imbalance_core import validation

__all__ = ["KerasFit", "TorchStep", "after_activation", "identify_loss", "Side", "TorchLossRunner",
           "check_loss_side", "check_metric_side", "torch_floating_dtype"]

# The count a mean divides by (keys of diagnosis.counts): "1" (a sum), "samples", "positions"
# (pixels, tokens: every non-class position), "elements" (positions x classes), "classes",
# "valid" (non-ignored positions), "class_weights" (summed class weights of the targets),
# "sample_weights" (summed sample weights).
DIVISORS = ("1", "samples", "positions", "elements", "classes", "valid", "class_weights", "sample_weights")

# torch losses with one loss per position (the class axis reduced, on dim 1).
_TORCH_SOFTMAX = {"CrossEntropyLoss", "NLLLoss", "cross_entropy", "nll_loss"}
# torch losses taking logits (the rest take probabilities, log-probabilities or values).
_TORCH_FROM_LOGITS = {"CrossEntropyLoss", "BCEWithLogitsLoss", "cross_entropy", "binary_cross_entropy_with_logits",
                      "sigmoid_focal_loss"}
# Keras losses with one loss per position whose class axis is a sum (softmax family); the
# others (binary cross-entropy and focal, MSE) average the last axis.
_KERAS_SOFTMAX = {"SparseCategoricalCrossentropy", "CategoricalCrossentropy", "CategoricalFocalCrossentropy",
                  "KLDivergence", "sparse_categorical_crossentropy", "categorical_crossentropy",
                  "categorical_focal_crossentropy", "kl_divergence"}
_PROJECT_SOFTMAX_CLASSES = {"WeightedCategoricalCrossentropy", "CategoricalFocalLoss", "ClassBalancedLoss",
                            "LogitAdjustedCrossentropy", "LDAMLoss", "BalancedSoftmaxCrossentropy", "SeesawLoss",
                            "PolyLoss"}

ACCEPTED_KERAS_LOSS = ("a Keras 3 loss: a keras.losses.Loss (keras.losses.*, tf_impl.losses.*), a function "
                       "fn(y_true, y_pred) such as keras.losses.binary_crossentropy, or KerasFit(loss, ...)")
ACCEPTED_TORCH_LOSS = ("a PyTorch loss: a torch.nn.Module loss (torch.nn.*, torch_impl.losses.*), a function "
                       "fn(input, target) such as torch.nn.functional.cross_entropy or "
                       "torchvision.ops.sigmoid_focal_loss, or TorchStep(loss, ...)")
ACCEPTED_KERAS_METRIC = "a keras.metrics.Metric (update_state, result, reset_state)"
ACCEPTED_TORCH_METRIC = "a torchmetrics.Metric (update, compute, reset)"


@dataclass(frozen=True)
class Side:
    """One side of a comparison as the report names it.

    framework: "keras" or "torch"; name: the object as the user wrote it
    ("torch.nn.CrossEntropyLoss(weight=..., reduction='mean')"); kind: "builtin", "classbalance",
    "fit" (KerasFit), "step" (TorchStep) or "callable"; family: "softmax" (one loss per position),
    "sigmoid" (element-wise or averaged over the class axis) or "other"; divisor: the count its
    mean divides by (DIVISORS), None when unknown.
    """

    framework: str
    name: str
    kind: str = "callable"
    family: str = "other"
    reduction: str | None = None
    class_weight: np.ndarray | None = None
    sample_weight: np.ndarray | None = None
    ignore_index: int | None = None
    from_logits: bool | None = None
    divisor: str | None = None
    base: str = ""  # the class or function name alone ("CrossEntropyLoss")
    extra: dict = field(default_factory=dict)


# ---------------------------------------------------------------- activations


@dataclass
class _Activated:
    loss: Any
    activation: str
    framework: str

    def __call__(self, a, b):
        if self.framework == "keras":
            import keras

            y_true, y_pred = a, b
            return self.loss(y_true, _keras_activation(keras, self.activation, y_pred))
        import torch

        return self.loss(_torch_activation(torch, self.activation, a), b)


def _keras_activation(keras, name, x):
    return {"softmax": lambda: keras.ops.softmax(x, axis=-1), "log_softmax": lambda: keras.ops.log_softmax(x, axis=-1),
            "sigmoid": lambda: keras.ops.sigmoid(x)}[name]()


def _torch_activation(torch, name, x):
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

    def __post_init__(self):
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
        y = np.asarray(_to_numpy(y_true))
        if y.ndim > 1:
            if y.ndim > 2:
                raise ValueError(validation.fit_class_weight_rank_message(y.shape))
            y = np.argmax(y, axis=-1) if y.shape[-1] != 1 else y[:, 0]
        y = np.round(y).astype(np.int64)
        return np.array([float(self.class_weight.get(int(c), 1.0)) for c in y])

    def __call__(self, y_true, y_pred):
        loss = self.loss
        if not _is_keras_loss_object(loss):
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

    def __post_init__(self):
        validation.check_choice("normalize", self.normalize, ("mean", "weights", "sum"))
        if self.class_weight is not None and self.sample_weight is not None:
            raise ValueError(validation.exclusive_weights_message("class_weight", "sample_weight"))
        if self.class_weight is not None:
            self.class_weight = validation.check_weight_vector("class_weight", self.class_weight)
        check_loss_side("loss", self.loss, "torch")

    def unreduced(self, input: Any, target: Any) -> Any:
        loss = self.loss
        if isinstance(loss, _torch_module_type()) and hasattr(loss, "reduction"):
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
            weights = np.asarray(_to_numpy(self.sample_weight), np.float64)
            return torch.as_tensor(weights, device=like.device).to(like.dtype)
        return None

    def __call__(self, input, target):
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


def _torch_module_type():
    try:
        import torch
    except ImportError:  # pragma: no cover - torch absent
        return ()
    return torch.nn.Module


def _is_keras_loss_object(obj) -> bool:
    mro = [f"{c.__module__}.{c.__name__}" for c in type(obj).__mro__]
    return any(m.endswith("losses.loss.Loss") and m.startswith("keras") for m in mro)


def _is_torch_object(obj) -> bool:
    mod = _torch_module_type()
    return bool(mod) and isinstance(obj, mod) or type(obj).__module__.startswith(("torch.", "torchmetrics."))


def _function_of(obj):
    """(the function, its bound keywords) of a function or functools.partial."""
    if isinstance(obj, functools.partial):
        return obj.func, dict(obj.keywords or {})
    return obj, {}


def _is_sigmoid_focal_loss(fn) -> bool:
    """torchvision.ops.sigmoid_focal_loss, or any function of its name and signature."""
    if getattr(fn, "__name__", "") != "sigmoid_focal_loss":
        return False
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return {"alpha", "gamma", "reduction"} <= set(params)


def check_loss_side(name: str, obj: Any, framework: str) -> None:
    """TypeError unless `obj` can be the `framework` side of compare_losses."""
    accepted = ACCEPTED_KERAS_LOSS if framework == "keras" else ACCEPTED_TORCH_LOSS
    if framework == "keras" and (_is_torch_object(obj) or isinstance(obj, TorchStep)):
        raise TypeError(validation.wrong_framework_message(name, obj, "PyTorch", "torch_loss"))
    if framework == "torch" and (isinstance(obj, KerasFit) or _is_keras_loss_object(obj)):
        raise TypeError(validation.wrong_framework_message(name, obj, "Keras", "keras_loss"))
    if _is_metric(obj):
        raise TypeError(validation.not_a_loss_message(name, obj, accepted + " (metrics go to compare_metrics)"))
    if not callable(obj):
        raise TypeError(validation.not_a_loss_message(name, obj, accepted))


def _is_metric(obj) -> bool:
    return (all(hasattr(obj, a) for a in ("update_state", "result", "reset_state"))
            or all(hasattr(obj, a) for a in ("update", "compute", "reset")))


def check_metric_side(name: str, obj: Any, framework: str) -> None:
    """TypeError unless `obj` is a stateful metric of `framework`."""
    keras_like = all(hasattr(obj, a) for a in ("update_state", "result", "reset_state"))
    torch_like = all(hasattr(obj, a) for a in ("update", "compute", "reset"))
    if framework == "keras" and not keras_like:
        if torch_like:
            raise TypeError(validation.wrong_framework_message(name, obj, "torchmetrics", "torch_metric"))
        raise TypeError(validation.not_a_metric_message(name, obj, ACCEPTED_KERAS_METRIC))
    if framework == "torch" and not torch_like:
        if keras_like:
            raise TypeError(validation.wrong_framework_message(name, obj, "Keras", "keras_metric"))
        raise TypeError(validation.not_a_metric_message(name, obj, ACCEPTED_TORCH_METRIC))


def _to_numpy(x):
    if hasattr(x, "detach"):
        return x.detach().cpu().numpy()
    if hasattr(x, "numpy"):
        return x.numpy()
    return np.asarray(x)


def _fmt_args(kwargs: dict) -> str:
    def show(v):
        if hasattr(v, "shape") and getattr(v, "ndim", 0) > 0:
            return "[" + ", ".join(f"{float(e):g}" for e in np.ravel(_to_numpy(v))) + "]"
        return repr(v)

    return ", ".join(f"{k}={show(v)}" for k, v in kwargs.items())


def identify_loss(obj: Any, framework: str) -> Side:
    """What `obj` is, as the report names it (see `Side`)."""
    if isinstance(obj, _Activated):
        inner = identify_loss(obj.loss, framework)
        return Side(**{**inner.__dict__, "name": f"{inner.name} after {obj.activation}", "from_logits": True,
                       "extra": {**inner.extra, "activation": obj.activation}})
    if isinstance(obj, KerasFit):
        inner = identify_loss(obj.loss, "keras")
        weights = ("class_weight" if obj.class_weight is not None
                   else "sample_weight" if obj.sample_weight is not None else None)
        if weights is None:
            divisor = inner.divisor
        elif inner.reduction == "mean_with_sample_weight":
            divisor = "class_weights" if weights == "class_weight" else "sample_weights"
        else:
            divisor = inner.divisor
        cw = None
        if obj.class_weight is not None:
            k = max(obj.class_weight) + 1
            cw = np.array([float(obj.class_weight.get(c, 1.0)) for c in range(k)])
        args = f"class_weight={obj.class_weight}" if weights == "class_weight" else (
            "sample_weight=..." if weights else "")
        return Side(**{**inner.__dict__, "name": f"model.fit({args}) with loss {inner.name}", "kind": "fit",
                       "class_weight": cw, "divisor": divisor,
                       "sample_weight": None if obj.sample_weight is None else np.asarray(obj.sample_weight, float),
                       "extra": {**inner.extra, "inner": inner}})
    if isinstance(obj, TorchStep):
        inner = identify_loss(obj.loss, "torch")
        divisor = {"sum": "1", "weights": "class_weights" if obj.class_weight is not None else "sample_weights",
                   "mean": "positions" if inner.family == "softmax" else "elements"}[obj.normalize]
        how = ("class_weight" if obj.class_weight is not None
               else "sample_weight" if obj.sample_weight is not None else "")
        return Side(**{**inner.__dict__, "name": f"a training step over {inner.name} (reduction='none', "
                                                 f"{how + ' per sample, ' if how else ''}normalize={obj.normalize!r})",
                       "kind": "step", "divisor": divisor,
                       "class_weight": None if obj.class_weight is None else np.asarray(obj.class_weight, float),
                       "sample_weight": (None if obj.sample_weight is None
                                         else np.asarray(_to_numpy(obj.sample_weight), float)),
                       "extra": {**inner.extra, "inner": inner, "normalize": obj.normalize}})
    if framework == "keras":
        return _identify_keras(obj)
    return _identify_torch(obj)


def _identify_keras(obj) -> Side:
    if _is_keras_loss_object(obj):
        cls = type(obj).__name__
        module = type(obj).__module__
        kind = ("classbalance" if module.startswith("tf_impl")
                else "builtin" if module.startswith("keras") else "callable")
        prefix = "tf_impl.losses" if kind == "classbalance" else "keras.losses" if kind == "builtin" else module
        kw = dict(getattr(obj, "_fn_kwargs", {}) or {})
        reduction = obj.reduction
        ignore = kw.get("ignore_class", kw.get("ignore_index"))
        softmax = cls in _KERAS_SOFTMAX or cls in _PROJECT_SOFTMAX_CLASSES
        family = "softmax" if softmax else "sigmoid"
        divisor = _keras_divisor(reduction, family, ignore)
        shown = {k: v for k, v in kw.items() if k != "axis" and v is not None}
        cw = getattr(obj, "class_weight", None) if kind == "classbalance" else None
        return Side("keras", f"{prefix}.{cls}({_fmt_args({**shown, 'reduction': reduction})})", kind, family,
                    reduction, class_weight=None if cw is None else np.asarray(_to_numpy(cw), float),
                    ignore_index=ignore, from_logits=kw.get("from_logits", getattr(obj, "from_logits", None)),
                    divisor=divisor, base=cls, extra={"alpha": _scalar(kw.get("alpha", getattr(obj, "alpha", None))),
                                                      "apply_class_balancing": kw.get("apply_class_balancing")})
    fn, kw = _function_of(obj)
    fname = getattr(fn, "__name__", type(fn).__name__)
    module = getattr(fn, "__module__", "") or ""
    if module.startswith("keras"):
        family = "softmax" if fname in _KERAS_SOFTMAX else "sigmoid"
        return Side("keras", f"keras.losses.{fname}({_fmt_args(kw)})", "builtin", family, "none",
                    ignore_index=kw.get("ignore_class"), from_logits=kw.get("from_logits", False), divisor=None,
                    base=fname)
    return Side("keras", f"your Keras callable {fname}", "callable", base=fname)


def _scalar(value) -> float | None:
    """A scalar hyperparameter as a float; None for None, vectors and tensors of several entries."""
    try:
        arr = np.asarray(_to_numpy(value), dtype=float)
    except (TypeError, ValueError):
        return None
    return float(arr) if value is not None and arr.ndim == 0 else None


def _keras_divisor(reduction, family, ignore) -> str | None:
    if reduction in (None, "none"):
        return None
    if reduction == "sum":
        return "1" if family == "softmax" else "classes"
    if reduction == "mean_with_sample_weight":
        return "sample_weights"
    if ignore is not None:
        return "valid"
    return "positions" if family == "softmax" else "elements"


def _identify_torch(obj) -> Side:
    mod = _torch_module_type()
    if mod and isinstance(obj, mod):
        cls = type(obj).__name__
        module = type(obj).__module__
        kind = ("classbalance" if module.startswith("torch_impl")
                else "builtin" if module.startswith("torch.") else "callable")
        prefix = "torch_impl.losses" if kind == "classbalance" else "torch.nn" if kind == "builtin" else module
        reduction = getattr(obj, "reduction", None)
        weight = getattr(obj, "weight", None)
        if kind == "classbalance":
            weight = getattr(obj, "class_weight", None)
        ignore = getattr(obj, "ignore_index", None)
        softmax = cls in _TORCH_SOFTMAX or cls in _PROJECT_SOFTMAX_CLASSES
        args = {}
        if weight is not None:
            args["weight" if kind == "builtin" else "class_weight"] = weight
        if getattr(obj, "pos_weight", None) is not None:
            args["pos_weight"] = obj.pos_weight
        if softmax and kind == "builtin":
            args["ignore_index"] = ignore
            if getattr(obj, "label_smoothing", 0.0):
                args["label_smoothing"] = obj.label_smoothing
        args["reduction"] = reduction
        normalization = getattr(obj, "normalization", "weight")
        divisor = _torch_divisor(cls, reduction, softmax, weight is not None and normalization == "weight", ignore)
        return Side("torch", f"{prefix}.{cls}({_fmt_args(args)})", kind, "softmax" if softmax else "sigmoid",
                    reduction, class_weight=None if weight is None else np.asarray(_to_numpy(weight), float),
                    ignore_index=ignore if softmax else None,
                    from_logits=(cls in _TORCH_FROM_LOGITS
                                 or (kind == "classbalance" and getattr(obj, "from_logits", True))),
                    divisor=divisor, base=cls, extra={"alpha": _scalar(getattr(obj, "alpha", None))})
    fn, kw = _function_of(obj)
    fname = getattr(fn, "__name__", type(fn).__name__)
    module = getattr(fn, "__module__", "") or ""
    defaults = {}
    try:
        defaults = {k: p.default for k, p in inspect.signature(fn).parameters.items()
                    if p.default is not inspect.Parameter.empty}
    except (TypeError, ValueError):
        pass
    merged = {**defaults, **kw}
    if _is_sigmoid_focal_loss(fn):
        reduction = merged.get("reduction", "none")
        shown = {k: merged[k] for k in ("alpha", "gamma", "reduction") if k in merged}
        return Side("torch", f"torchvision.ops.sigmoid_focal_loss({_fmt_args(shown)})", "builtin", "sigmoid", reduction,
                    from_logits=True, divisor=_torch_divisor(fname, reduction, False, False, None), base=fname,
                    extra={"alpha": merged.get("alpha"), "gamma": merged.get("gamma")})
    if module.startswith("torch.nn.functional") or module == "torch.nn.functional":
        softmax = fname in _TORCH_SOFTMAX
        reduction = merged.get("reduction", "mean")
        weight = merged.get("weight")
        ignore = merged.get("ignore_index") if softmax else None
        return Side("torch", f"torch.nn.functional.{fname}({_fmt_args(kw)})", "builtin",
                    "softmax" if softmax else "sigmoid", reduction,
                    class_weight=None if weight is None else np.asarray(_to_numpy(weight), float), ignore_index=ignore,
                    from_logits=fname in _TORCH_FROM_LOGITS,
                    divisor=_torch_divisor(fname, reduction, softmax, weight is not None, ignore), base=fname)
    return Side("torch", f"your torch callable {fname}", "callable", base=fname)


def _torch_divisor(name, reduction, softmax, weighted, ignore) -> str | None:
    if reduction in (None, "none"):
        return None
    if reduction == "sum":
        return "1"
    if reduction == "batchmean":
        return "samples"
    if softmax:
        return "class_weights" if weighted else "valid" if ignore is not None else "positions"
    return "elements"


# ---------------------------------------------------------------- running torch losses


def torch_floating_dtype(obj) -> Any | None:
    """The floating dtype of the tensors a torch module holds (parameters and buffers), or None."""
    mod = _torch_module_type()
    if not (mod and isinstance(obj, mod)):
        return None
    dtypes = {t.dtype for t in list(obj.parameters()) + list(obj.buffers()) if t.is_floating_point()}
    return next(iter(dtypes)) if len(dtypes) == 1 else None


def _torch_devices(obj) -> set:
    mod = _torch_module_type()
    if not (mod and isinstance(obj, mod)):
        return set()
    return {t.device for t in list(obj.parameters()) + list(obj.buffers())}


class TorchLossRunner:
    """Calls a torch loss on inputs of any dtype and device, class axis last or on dim 1.

    A module that holds floating tensors (a `weight` buffer) runs a copy of itself on the inputs'
    device; inputs of another floating dtype are cast to the dtype it holds (`cast_note` says
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

    def _module_for(self, device, dtype):
        if isinstance(self.loss, TorchStep):
            key = (str(device), str(dtype))
            if key not in self._copies:
                inner = (copy.deepcopy(self.loss.loss).to(device=device, dtype=dtype) if self.held is not None
                         else self.loss.loss)
                self._copies[key] = TorchStep(inner, sample_weight=self.loss.sample_weight,
                                              class_weight=self.loss.class_weight, normalize=self.loss.normalize)
            return self._copies[key]
        mod = _torch_module_type()
        if not (mod and isinstance(self.loss, mod)) or (self.held is None and not _torch_devices(self.loss)):
            return self.loss
        key = (str(device), str(dtype))
        if key not in self._copies:
            target = copy.deepcopy(self.loss).to(device=device)
            if self.held is not None:
                target = target.to(dtype=dtype)
            self._copies[key] = target
        return self._copies[key]

    def __call__(self, input, target):
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
