"""`compare_losses`: your Keras loss against your PyTorch loss, value and gradient, in every dtype.

Each side runs through the parity harness (harness.py) against a float64 reference, as a case of
the built-in suite does; a failing cell is explained in the objects' own words (builtins.py,
diagnosis.py). `stress_inputs` gives the built-in inputs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from imbalance_core import validation

from . import builtins, cases
from .diagnosis import counts, explain_error, explain_factor, explain_formula, explain_scale, explain_shape
from .frameworks import DEVICES
from .harness import CellResult
from .report import ParityReport
from .sides import Side
from .tolerances import DTYPES, tolerance

__all__ = ["compare_losses", "stress_inputs"]


def stress_inputs(kind: str, *, num_classes: int = 5, batch: int = 8, one_hot: bool = False) -> dict:
    """Named (logits, target) generators: random, |x| up to 100, soft or absent-class targets.

    kind="binary": targets in [0, 1] shaped like the logits (batch, num_classes).
    kind="multiclass": class indices (batch,), or one-hot rows when `one_hot=True`.

    Examples:
        >>> import numpy as np
        >>> inputs = stress_inputs("multiclass", num_classes=3, batch=4)
        >>> rng = np.random.default_rng(0)
        >>> for name, make in sorted(inputs.items()):
        ...     logits, target = make(rng)
        ...     print(name, logits.shape, target.shape)
        class_absent (4, 3) (4,)
        extreme_logits (4, 3) (4,)
        random (4, 3) (4,)
    """
    validation.check_choice("kind", kind, ("binary", "multiclass"))
    if kind == "binary":
        shape = (batch, num_classes)
        return {"random": cases._random_logits(shape), "extreme_logits": cases._extreme_logits(shape),
                "soft_labels": cases._soft_labels(shape)}
    gens = {"random": cases._class_indices((batch,), num_classes),
            "extreme_logits": cases._class_extreme((batch,), num_classes),
            "class_absent": cases._class_indices((batch,), num_classes, absent=(num_classes - 1,))}
    return {k: cases._one_hot(g, num_classes) for k, g in gens.items()} if one_hot else gens


def _fixed(logits: Any, target: Any) -> Callable[[np.random.Generator], tuple[np.ndarray, np.ndarray]]:
    return lambda rng: (np.asarray(logits, np.float64), np.asarray(target))


def compare_losses(
    keras_loss: Callable | None = None,
    torch_loss: Callable | None = None,
    *,
    inputs: dict | None = None,
    kind: str = "binary",
    reference: Callable | None = None,
    dtypes: Sequence[str] = DTYPES,
    devices: Sequence[str] = ("cpu", "gpu"),
    tolerances: dict | None = None,
    tolerance_reason: str = "",
    name: str = "user",
    torch_class_dim: str | int | None = "auto",
    input_layout: str = "channels_last",
    **stress_kwargs: Any,
) -> ParityReport:
    """Runs your Keras loss and your torch loss through the parity matrix.

    Either side may be the framework's own loss (`keras.losses.*`, `torch.nn.*`,
    `torch.nn.functional.*`, `torchvision.ops.sigmoid_focal_loss`), the project's classes, a
    plain callable, or a loss as a training step applies it (`builtins.KerasFit`: model.fit
    with class_weight= or sample_weight=; `builtins.TorchStep`: a loop's per-sample weights).
    A torch module holding floating tensors (`CrossEntropyLoss(weight=torch.tensor(...))`) runs on
    the inputs' device with the inputs cast to the dtype it holds (the report's "computed in" and
    notes say so); the float64 reference runs a float64 copy of it.

    Args:
        keras_loss: callable(y_true, y_pred) on Keras tensors (a keras.losses.Loss works);
            None skips the Keras column.
        torch_loss: callable(input, target) on torch tensors; None skips the torch column.
        inputs: {name: (logits, target)} NumPy pairs, of any rank; None uses
            `stress_inputs(kind, ...)`. Integer targets are passed as int64 class indices, float
            targets in the cell's dtype.
        kind: "binary" or "multiclass", for the built-in stress inputs.
        reference: float64 NumPy callable(logits, target); default: `torch_loss` in float64.
        dtypes, devices: the cells to run (absent devices are reported as skipped).
        tolerances: {dtype: (rtol, atol)} overrides, with `tolerance_reason`.
        torch_class_dim: where the torch side takes the class axis of inputs with more than two
            dimensions: "auto" (dim 1 for a softmax-family torch loss, CrossEntropyLoss's layout;
            else the last axis, as given), 1, or None (as given).
        input_layout: the layout of `inputs`: "channels_last" (class axis last, Keras's) or
            "channels_first" (class axis on dim 1, torch's; moved last for the Keras side).

    Returns:
        A ParityReport: `.results` (one CellResult per cell), `.passed`, `.table(fmt)`.

    Examples:
        >>> import keras
        >>> import torch
        >>> report = compare_losses(
        ...     keras_loss=keras.losses.BinaryCrossentropy(from_logits=True),
        ...     torch_loss=torch.nn.BCEWithLogitsLoss(),
        ...     kind="binary", dtypes=("float32",), devices=("cpu",))
        >>> print(report.summary())
        parity: ALL PASS: 6 passed, 0 failed, 0 skipped (3 cases; keras/tensorflow, torch)
    """
    from .frameworks import KerasFramework, TorchFramework

    if keras_loss is None and torch_loss is None:
        raise ValueError(validation.neither_side_message("keras_loss", "torch_loss"))
    validation.check_choice("input_layout", input_layout, ("channels_last", "channels_first"))
    validation.check_choice("torch_class_dim", torch_class_dim, ("auto", 1, None))
    sides = {}
    if keras_loss is not None:
        builtins.check_loss_side("keras_loss", keras_loss, "keras")
        sides["keras"] = builtins.identify_loss(keras_loss, "keras")
    if torch_loss is not None:
        builtins.check_loss_side("torch_loss", torch_loss, "torch")
        sides["torch"] = builtins.identify_loss(torch_loss, "torch")
    class_dim: int | None
    if torch_class_dim == "auto":
        class_dim = 1 if "torch" in sides and sides["torch"].family == "softmax" else None
    else:  # 1 or None (checked above)
        class_dim = 1 if torch_class_dim == 1 else None
    torch_runner = builtins.TorchLossRunner(torch_loss, class_dim=class_dim) if torch_loss is not None else None
    reference_grad = None
    ref_side = None
    if reference is None:
        if torch_loss is None:
            raise ValueError(validation.missing_reference_message("torch_loss"))
        reference, reference_grad = _torch_float64_reference(
            builtins.TorchLossRunner(torch_loss, class_dim=class_dim, reference=True))
        ref_side = sides["torch"]
    if inputs is not None:
        if input_layout == "channels_first":
            inputs = {k: _channels_last(*v) for k, v in inputs.items()}
        gens = {k: _fixed(*v) for k, v in inputs.items()}
    else:
        gens = stress_inputs(kind, **stress_kwargs)
    fn = {"torch": torch_runner, "keras": keras_loss}
    own_cases = []
    for key, gen in gens.items():
        probe = gen(np.random.default_rng(0))[1]
        own_cases.append(cases.Case(f"{name}/{key}", fn, gen, index_target=np.asarray(probe).dtype.kind in "iu",
                            tol=tolerances, reason=tolerance_reason,
                            oracle=lambda x, y, _ref=reference, **_: _ref(x, y),
                            own_dtype=True, native_half_tolerance=True, oracle_grad=reference_grad))
    frameworks = (([TorchFramework()] if torch_loss is not None else [])
                  + ([KerasFramework()] if keras_loss is not None else []))
    validation.check_devices(devices, DEVICES)
    run = _LossRun(sides, ref_side, torch_runner)
    results: list[CellResult] = []
    for framework in frameworks:
        recorder = _Recording(framework)
        for device in devices:
            for dtype in dtypes:
                for case in own_cases:
                    results.append(run.cell(case, recorder, device, dtype))
    return ParityReport(results)


def _channels_last(logits: Any, target: Any) -> tuple[np.ndarray, np.ndarray]:
    """Inputs given class axis on dim 1 (torch's layout), as the case table holds them: class axis last."""
    x = np.asarray(logits)
    y = np.asarray(target)
    moved_x = np.moveaxis(x, 1, -1) if x.ndim > 2 else x
    moved_y = np.moveaxis(y, 1, -1) if y.ndim == x.ndim and y.ndim > 2 and y.dtype.kind == "f" else y
    return moved_x, moved_y


class _Recording:
    """A framework adapter that keeps the first (value, gradient) of each cell, for the diagnosis."""

    def __init__(self, framework: Any):
        self.framework = framework
        self.name = framework.name
        self.first = None

    def device_missing(self, device: str) -> str | None:
        return self.framework.device_missing(device)

    def evaluate_any_dtype(self, *args: Any, **kwargs: Any) -> Any:
        out = self.framework.evaluate_any_dtype(*args, **kwargs)
        if self.first is None:
            self.first = out
        return out


class _LossRun:
    """One compare_losses run: each cell through the harness, then its failure in the objects' words."""

    def __init__(self, sides: dict[str, Side], ref_side: Side | None,
                 torch_runner: builtins.TorchLossRunner | None):
        self.sides = sides
        self.ref_side = ref_side
        self.torch_runner = torch_runner
        self.reference_failed: dict = {}

    def _side(self, framework_name: str) -> Side | None:
        return self.sides.get("torch" if framework_name == "torch" else "keras")

    def _shapes(self, case: cases.Case) -> str:
        x, y = case.inputs()
        return f"logits {x.shape} float, target {y.shape} {'int64' if case.index_target else 'float'}"

    def cell(self, case: cases.Case, recorder: _Recording, device: str, dtype: str) -> CellResult:
        from .harness import _oracle_cached, run_cell

        missing = recorder.device_missing(device)
        if not missing and (id(case), dtype) not in self.reference_failed:
            try:
                _oracle_cached(case, dtype, None)
            except Exception as exc:  # the reference side itself cannot run this input
                self.reference_failed[(id(case), dtype)] = explain_error(
                    "torch", self.ref_side, case.name.split("/", 1)[1], self._shapes(case), "float64 (the reference)",
                    f"{type(exc).__name__}: {exc}", who=None if self.ref_side else "your NumPy `reference`")
        if not missing and (id(case), dtype) in self.reference_failed:
            rtol, atol = tolerance(dtype, case.tol)
            return CellResult(case=case.name, framework=recorder.name, device=device, dtype=dtype, value_err=math.inf,
                              grad_err=math.inf, value_ratio=math.inf, grad_ratio=math.inf, rtol=rtol, atol=atol,
                              passed=False, error=self.reference_failed[(id(case), dtype)])
        recorder.first = None
        result = run_cell(case, recorder, device, dtype)
        side = self._side(recorder.name)
        if recorder.name == "torch" and self.torch_runner is not None and self.torch_runner.last_cast:
            result.tolerance_note = "; ".join(n for n in (self.torch_runner.last_cast, result.tolerance_note) if n)
        if result.error:
            result.error = explain_error(recorder.name.split("/")[0], side, case.name.split("/", 1)[1],
                                         self._shapes(case), dtype, result.error)
        elif result.diagnosis and recorder.first is not None:
            x, y, _, want_value, want_grad = _oracle_cached(case, dtype, None)
            value, grad, _ = recorder.first
            result.diagnosis = self._diagnose(result, case, x, y, value, grad, want_value, want_grad, side)
        return result

    def _diagnose(self, result: CellResult, case: cases.Case, x: np.ndarray, y: np.ndarray, value: Any, grad: Any,
                  want_value: Any, want_grad: Any, side: Side | None) -> str:
        from .harness import _constant_factor

        diagnosis = result.diagnosis or ""  # called for a failing cell, which has one
        head = [p for p in diagnosis.rstrip(".").split("; ") if p.startswith(("value", "gradient"))]
        ref_side = self.ref_side if side is not self.ref_side else None
        cause = None
        if np.shape(value) != np.shape(want_value):
            cause = explain_shape(np.shape(value), np.shape(want_value), side, ref_side)
        else:
            thresh = max(1e-3, 4 * result.rtol)
            r = _constant_factor([(value, want_value), (grad, want_grad)], rel=thresh)
            if r is not None and abs(r - 1.0) > thresh:
                available = counts(x, y, case.index_target, [s for s in (side, ref_side) if s is not None])
                cause = explain_factor(r, side, ref_side, available) or explain_scale(r, side, ref_side) or (
                    f"got / want = {r:.6g} everywhere, not a ratio of the counts these inputs define (samples, "
                    f"positions, elements, classes, non-ignored positions, summed weights): a constant scale in the "
                    f"loss itself (a loss weight or temperature)")
            elif r is None:
                cause = explain_formula(side, ref_side, y if case.index_target else None)
                if cause:
                    cause = "got / want is not constant: the formulas differ: " + cause
        if cause is None:
            return diagnosis
        return "; ".join(head + [cause]) + "."


def _torch_float64_reference(torch_loss: Callable) -> tuple[Callable, Callable]:
    """Your torch loss in float64 as the reference: its value, and its gradient d/dx sum(v * loss)
    by float64 autograd (one call, where central differences would take one per logit)."""

    def _tensors(logits: np.ndarray, target: np.ndarray, grad: bool) -> tuple[Any, Any, Any]:
        import torch

        x = torch.tensor(logits, dtype=torch.float64, requires_grad=grad)
        index = np.asarray(target).dtype.kind in "iu"
        y = torch.tensor(target, dtype=torch.int64 if index else torch.float64)
        return torch, x, y

    def reference(logits: np.ndarray, target: np.ndarray) -> np.ndarray:
        torch, x, y = _tensors(logits, target, False)
        with torch.no_grad():
            return torch_loss(x, y).double().cpu().numpy()

    def reference_grad(logits: np.ndarray, target: np.ndarray, cotangent: np.ndarray) -> np.ndarray:
        torch, x, y = _tensors(logits, target, True)
        out = torch_loss(x, y)
        (out.double() * torch.as_tensor(np.asarray(cotangent, np.float64))).sum().backward()
        return x.grad.cpu().numpy()

    return reference, reference_grad
