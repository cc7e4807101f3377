"""What an object of either framework is, as the migration report names it.

`identify_keras` and `identify_torch` read a Keras or PyTorch loss (a framework's own, the
project's, or a plain callable) into a `Side`: its framework, its name as the user wrote it, its
reduction, its class weights and ignored index, and the count its mean divides by, so that a
failure can be explained in the object's own words (diagnosis.py). The wrappers that state
fit-level semantics (`KerasFit`, `TorchStep`, `after_activation`) are read in builtins.py, on
top of these. `check_metric_side` rejects an object that is not a stateful metric of the
framework it is passed for.
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from imbalance_core import validation

__all__ = ["Side", "DIVISORS", "identify_keras", "identify_torch", "is_keras_loss", "is_torch_object",
           "is_keras_metric", "is_torch_metric", "check_metric_side", "torch_module_type", "torch_floating_dtype",
           "torch_devices"]

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


# ---------------------------------------------------------------- recognising objects


def torch_module_type() -> Any:
    """torch.nn.Module, or () without torch (so that `isinstance(obj, torch_module_type())` is False)."""
    try:
        import torch
    except ImportError:  # pragma: no cover - torch absent
        return ()
    return torch.nn.Module


def is_keras_loss(obj: Any) -> bool:
    """Whether `obj` is a keras.losses.Loss (of any backend)."""
    mro = [f"{c.__module__}.{c.__name__}" for c in type(obj).__mro__]
    return any(m.endswith("losses.loss.Loss") and m.startswith("keras") for m in mro)


def is_torch_object(obj: Any) -> bool:
    """Whether `obj` is a torch module or an object of torch or torchmetrics."""
    mod = torch_module_type()
    return bool(mod) and isinstance(obj, mod) or type(obj).__module__.startswith(("torch.", "torchmetrics."))


def is_keras_metric(obj: Any) -> bool:
    return all(hasattr(obj, a) for a in ("update_state", "result", "reset_state"))


def is_torch_metric(obj: Any) -> bool:
    return all(hasattr(obj, a) for a in ("update", "compute", "reset"))


def check_metric_side(name: str, obj: Any, framework: str) -> None:
    """TypeError unless `obj` is a stateful metric of `framework`."""
    if framework == "keras" and not is_keras_metric(obj):
        if is_torch_metric(obj):
            raise TypeError(validation.wrong_framework_message(name, obj, "torchmetrics", "torch_metric"))
        raise TypeError(validation.not_a_metric_message(name, obj, ACCEPTED_KERAS_METRIC))
    if framework == "torch" and not is_torch_metric(obj):
        if is_keras_metric(obj):
            raise TypeError(validation.wrong_framework_message(name, obj, "Keras", "keras_metric"))
        raise TypeError(validation.not_a_metric_message(name, obj, ACCEPTED_TORCH_METRIC))


def _function_of(obj: Any) -> tuple[Any, dict]:
    """(the function, its bound keywords) of a function or functools.partial."""
    if isinstance(obj, functools.partial):
        return obj.func, dict(obj.keywords or {})
    return obj, {}


def _is_sigmoid_focal_loss(fn: Any) -> bool:
    """torchvision.ops.sigmoid_focal_loss, or any function of its name and signature."""
    if getattr(fn, "__name__", "") != "sigmoid_focal_loss":
        return False
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return {"alpha", "gamma", "reduction"} <= set(params)


def _fmt_args(kwargs: dict) -> str:
    def show(v: Any) -> str:
        if hasattr(v, "shape") and getattr(v, "ndim", 0) > 0:
            return "[" + ", ".join(f"{float(e):g}" for e in np.ravel(validation.to_numpy(v))) + "]"
        return repr(v)

    return ", ".join(f"{k}={show(v)}" for k, v in kwargs.items())


def _floats(value: Any) -> np.ndarray | None:
    """Weights as a float NumPy vector; None stays None."""
    return None if value is None else np.asarray(validation.to_numpy(value), float)


def _scalar(value: Any) -> float | None:
    """A scalar hyperparameter as a float; None for None, vectors and tensors of several entries."""
    try:
        arr = np.asarray(validation.to_numpy(value), dtype=float)
    except (TypeError, ValueError):
        return None
    return float(arr) if value is not None and arr.ndim == 0 else None


# ---------------------------------------------------------------- Keras


def identify_keras(obj: Any) -> Side:
    """A Keras loss object or function as the report names it (see `Side`)."""
    if is_keras_loss(obj):
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
                    reduction, class_weight=_floats(cw),
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


def _keras_divisor(reduction: str | None, family: str, ignore: int | None) -> str | None:
    if reduction in (None, "none"):
        return None
    if reduction == "sum":
        return "1" if family == "softmax" else "classes"
    if reduction == "mean_with_sample_weight":
        return "sample_weights"
    if ignore is not None:
        return "valid"
    return "positions" if family == "softmax" else "elements"


# ---------------------------------------------------------------- PyTorch


def identify_torch(obj: Any) -> Side:
    """A torch loss module or function (torch.nn.functional, torchvision's sigmoid_focal_loss) as
    the report names it (see `Side`)."""
    mod = torch_module_type()
    if mod and isinstance(obj, mod):
        return _identify_torch_module(obj)
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
                    from_logits=True, divisor=_torch_divisor(reduction, False, False, None), base=fname,
                    extra={"alpha": merged.get("alpha"), "gamma": merged.get("gamma")})
    if module.startswith("torch.nn.functional") or module == "torch.nn.functional":
        softmax = fname in _TORCH_SOFTMAX
        reduction = merged.get("reduction", "mean")
        weight = merged.get("weight")
        ignore = merged.get("ignore_index") if softmax else None
        return Side("torch", f"torch.nn.functional.{fname}({_fmt_args(kw)})", "builtin",
                    "softmax" if softmax else "sigmoid", reduction, class_weight=_floats(weight), ignore_index=ignore,
                    from_logits=fname in _TORCH_FROM_LOGITS,
                    divisor=_torch_divisor(reduction, softmax, weight is not None, ignore), base=fname)
    return Side("torch", f"your torch callable {fname}", "callable", base=fname)


def _identify_torch_module(obj: Any) -> Side:
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
    divisor = _torch_divisor(reduction, softmax, weight is not None and normalization == "weight", ignore)
    return Side("torch", f"{prefix}.{cls}({_fmt_args(args)})", kind, "softmax" if softmax else "sigmoid",
                reduction, class_weight=_floats(weight), ignore_index=ignore if softmax else None,
                from_logits=(cls in _TORCH_FROM_LOGITS
                             or (kind == "classbalance" and getattr(obj, "from_logits", True))),
                divisor=divisor, base=cls, extra={"alpha": _scalar(getattr(obj, "alpha", None))})


def _torch_divisor(reduction: str | None, softmax: bool, weighted: bool, ignore: int | None) -> str | None:
    if reduction in (None, "none"):
        return None
    if reduction == "sum":
        return "1"
    if reduction == "batchmean":
        return "samples"
    if softmax:
        return "class_weights" if weighted else "valid" if ignore is not None else "positions"
    return "elements"


# ---------------------------------------------------------------- the tensors a torch module holds


def _held_tensors(obj: Any) -> list:
    """The parameters and buffers of a torch module; [] for anything else."""
    mod = torch_module_type()
    if not (mod and isinstance(obj, mod)):
        return []
    return list(obj.parameters()) + list(obj.buffers())


def torch_floating_dtype(obj: Any) -> Any | None:
    """The floating dtype of the tensors a torch module holds (parameters and buffers), or None."""
    dtypes = {t.dtype for t in _held_tensors(obj) if t.is_floating_point()}
    return next(iter(dtypes)) if len(dtypes) == 1 else None


def torch_devices(obj: Any) -> set:
    """The devices of the tensors a torch module holds (empty for anything else)."""
    return {t.device for t in _held_tensors(obj)}
