"""The parity report for your own pair of losses: a migration check between Keras and PyTorch.

    from parity_tests.api import compare_losses

    report = compare_losses(
        keras_loss=lambda y_true, y_pred: my_keras_loss(y_true, y_pred),   # Keras order
        torch_loss=lambda input, target: my_torch_loss(input, target),     # torch order
        kind="binary",                  # built-in stress inputs: "binary" or "multiclass"
    )
    print(report.table())               # or report.table("markdown"), report.as_json()
    assert report.passed

Each framework is evaluated in every dtype on the devices present, value and gradient, and
compared with a float64 reference: your NumPy `reference(logits, target)` when given (its
gradient by float64 central differences, as in the built-in suite), else your torch loss
evaluated in float64 (its gradient by float64 autograd). Each side computes at its own dtype (a
Keras loss class in its dtype policy, float32 by default) and is held to the tolerance of the
least precise of the input's dtype and the dtype it computed in; a loss that computes natively
in float16/bfloat16 gets a tolerance derived from that dtype's rounding (see tolerances.py). The
report says which dtype each side computed in, and explains each failure in words. Keras runs
on this process's backend (KERAS_BACKEND). The losses should return the same shape in both
frameworks (a different shape is reported and explained).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import numpy as np

from . import cases as C
from .matrix import explanations, format_results, run_matrix, summary
from .frameworks import DEVICES
from .harness import CellResult
from .tolerances import DTYPES

__all__ = ["compare_losses", "ParityReport", "stress_inputs"]


def stress_inputs(kind: str, *, num_classes: int = 5, batch: int = 8, one_hot: bool = False) -> dict:
    """Named (logits, target) generators: random, |x| up to 100, soft or absent-class targets.

    kind="binary": targets in [0, 1] shaped like the logits (batch, num_classes).
    kind="multiclass": class indices (batch,), or one-hot rows when `one_hot=True`.
    """
    if kind == "binary":
        shape = (batch, num_classes)
        return {"random": C._random_logits(shape), "extreme_logits": C._extreme_logits(shape),
                "soft_labels": C._soft_labels(shape)}
    if kind == "multiclass":
        gens = {"random": C._class_indices((batch,), num_classes), "extreme_logits": C._class_extreme((batch,), num_classes),
                "class_absent": C._class_indices((batch,), num_classes, absent=(num_classes - 1,))}
        return {k: C._one_hot(g, num_classes) for k, g in gens.items()} if one_hot else gens
    raise ValueError(f"Invalid `kind`: received {kind!r}; allowed values are 'binary', 'multiclass'.")


def _fixed(logits, target):
    return lambda rng: (np.asarray(logits, np.float64), np.asarray(target))


@dataclass
class ParityReport:
    results: list

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    def table(self, fmt: str = "table", *, cells: bool = False) -> str:
        """"table" or "markdown": one row per loss x framework x device (`cells=True`: per cell),
        errors as a multiple of the tolerance, the dtype each side computed in, then each failure
        in words; "json": strict JSON, as `as_json()`."""
        return format_results(self.results, fmt, cells=cells)

    def explain(self) -> list[str]:
        """Each failure in words (value or gradient, the worst entry, the likely cause and what to
        change), then how each non-table tolerance was derived."""
        return explanations(self.results, every_cell=True)

    def summary(self) -> str:
        return summary(self.results)

    def as_json(self) -> str:
        """Strict JSON (null, never NaN), each cell with a status passed/failed/skipped."""
        return format_results(self.results, "json")


def compare_losses(
    keras_loss: Optional[Callable] = None,
    torch_loss: Optional[Callable] = None,
    *,
    inputs: Optional[dict] = None,
    kind: str = "binary",
    reference: Optional[Callable] = None,
    dtypes: Sequence[str] = DTYPES,
    devices: Sequence[str] = ("cpu", "gpu"),
    tolerances: Optional[dict] = None,
    tolerance_reason: str = "",
    name: str = "user",
    **stress_kwargs,
) -> ParityReport:
    """Runs your Keras loss and your torch loss through the parity matrix.

    Args:
        keras_loss: callable(y_true, y_pred) on Keras tensors (a keras.losses.Loss works);
            None skips the Keras column.
        torch_loss: callable(input, target) on torch tensors; None skips the torch column.
        inputs: {name: (logits, target)} NumPy pairs; None uses `stress_inputs(kind, ...)`.
            Integer targets are passed as int64 class indices, float targets in the cell's dtype.
        kind: "binary" or "multiclass", for the built-in stress inputs.
        reference: float64 NumPy callable(logits, target); default: `torch_loss` in float64.
        dtypes, devices: the cells to run (absent devices are reported as skipped).
        tolerances: {dtype: (rtol, atol)} overrides, with `tolerance_reason`.

    Returns:
        A ParityReport: `.results` (one CellResult per cell), `.passed`, `.table(fmt)`.
    """
    from .frameworks import KerasFramework, TorchFramework

    if keras_loss is None and torch_loss is None:
        raise ValueError("Invalid arguments: pass `keras_loss`, `torch_loss` or both; received neither.")
    reference_grad = None
    if reference is None:
        if torch_loss is None:
            raise ValueError("Invalid `reference`: received None; without `torch_loss` a NumPy reference is required.")
        reference, reference_grad = _torch_float64_reference(torch_loss)
    gens = ({k: _fixed(*v) for k, v in inputs.items()} if inputs is not None
            else stress_inputs(kind, **stress_kwargs))
    fn = {"torch": torch_loss, "keras": keras_loss}
    cases = []
    for key, gen in gens.items():
        probe = gen(np.random.default_rng(0))[1]
        cases.append(C.Case(f"{name}/{key}", fn, gen, index_target=np.asarray(probe).dtype.kind in "iu",
                            tol=tolerances, reason=tolerance_reason, oracle=lambda x, y, _ref=reference, **_: _ref(x, y),
                            own_dtype=True, native_half_tolerance=True, oracle_grad=reference_grad))
    frameworks = ([TorchFramework()] if torch_loss is not None else []) + ([KerasFramework()] if keras_loss is not None else [])
    unknown = [d for d in devices if d not in DEVICES]
    if unknown:
        raise ValueError(f"Invalid `devices`: received {unknown}; allowed values are {', '.join(DEVICES)}.")
    results: list[CellResult] = run_matrix(frameworks, cases, list(devices), list(dtypes))
    return ParityReport(results)


def _torch_float64_reference(torch_loss: Callable) -> tuple[Callable, Callable]:
    """Your torch loss in float64 as the reference: its value, and its gradient d/dx sum(v * loss)
    by float64 autograd (one call, where central differences would take one per logit)."""

    def _tensors(logits, target, grad: bool):
        import torch

        x = torch.tensor(logits, dtype=torch.float64, requires_grad=grad)
        y = torch.tensor(target, dtype=torch.int64) if np.asarray(target).dtype.kind in "iu" else torch.tensor(target, dtype=torch.float64)
        return torch, x, y

    def reference(logits, target):
        torch, x, y = _tensors(logits, target, False)
        with torch.no_grad():
            return torch_loss(x, y).double().cpu().numpy()

    def reference_grad(logits, target, cotangent):
        torch, x, y = _tensors(logits, target, True)
        out = torch_loss(x, y)
        (out.double() * torch.as_tensor(np.asarray(cotangent, np.float64))).sum().backward()
        return x.grad.cpu().numpy()

    return reference, reference_grad
