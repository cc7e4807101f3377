"""Runs parity cells: one case on one framework, device and dtype, value and gradient.

Each framework is compared with the float64 oracle evaluated on the same rounded inputs; the
oracle gradient is a float64 central difference (Richardson-extrapolated) of sum(v * loss).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Optional

import numpy as np

from . import reference
from .cases import Case
from .tolerances import tolerance


def round_to_dtype(x: np.ndarray, dtype: str) -> np.ndarray:
    """Rounds float64 values to `dtype` (round-to-nearest-even) and returns them as float64.

    Rounding here, once, means every framework's own cast of these values is exact.
    bfloat16 goes through float32 then keeps the top 16 bits with round-to-nearest-even.
    """
    x = np.asarray(x, dtype=np.float64)
    if dtype == "float64":
        return x.copy()
    if dtype in ("float32", "float16"):
        return x.astype(dtype).astype(np.float64)
    if dtype == "bfloat16":
        bits = x.astype(np.float32).view(np.uint32).astype(np.uint64)
        bits = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
        return bits.astype(np.uint32).view(np.float32).astype(np.float64)
    raise ValueError(f"unknown dtype {dtype!r}")


def _oracle_fn(case: Case):
    """The case's own oracle (parity API), else the reference function of the same name."""
    return case.oracle if case.oracle is not None else getattr(reference, case.fn)


def central_difference(f, x: np.ndarray, cotangent: np.ndarray) -> np.ndarray:
    """d/dx sum(v * f(x)) by Richardson-extrapolated central differences, in float64.

    Differences are taken element-wise on f's output before the weighted sum, so terms the
    perturbation does not touch cancel exactly and add no rounding error.
    """
    x = np.asarray(x, dtype=np.float64)
    grad = np.zeros_like(x)
    flat = grad.reshape(-1)
    for i in range(x.size):
        h = 1e-4 * max(1.0, abs(x.flat[i]))

        def diff(step):
            xp, xm = x.copy(), x.copy()
            xp.flat[i] += step
            xm.flat[i] -= step
            return np.sum(cotangent * (f(xp) - f(xm))) / (2.0 * step)

        flat[i] = (4.0 * diff(h / 2.0) - diff(h)) / 3.0
    return grad


_ORACLE_CACHE: dict = {}


def _oracle_cached(case: Case, dtype: str):
    """Oracle inputs, value and gradient for a case and dtype, shared by every framework."""
    key = (id(case), dtype)
    if key not in _ORACLE_CACHE:
        _ORACLE_CACHE[key] = (case, _oracle_cell(case, dtype))
    return _ORACLE_CACHE[key][1]


def _oracle_cell(case: Case, dtype: str):
    logits, target = case.inputs()
    x = round_to_dtype(logits, dtype)
    y = target if case.index_target else round_to_dtype(target, dtype)
    fn = _oracle_fn(case)
    value = fn(x, y, **case.kwargs)
    cot = case.cotangent(np.shape(value))
    frozen = {"_focal_logits": x} if case.kwargs.get("stop_focal_gradient") else {}  # factors held constant
    if case.frozen_logits:
        frozen[case.frozen_logits] = x
    grad = central_difference(lambda xx: fn(xx, y, **case.kwargs, **frozen), x, cot)
    return x, y, cot, value, grad


@dataclass
class CellResult:
    case: str
    framework: str
    device: str
    dtype: str
    value_err: float  # worst |got - oracle|
    grad_err: float
    value_ratio: float  # worst |got - oracle| / (atol + rtol |oracle|); <= 1 passes
    grad_ratio: float
    rtol: float
    atol: float
    passed: bool
    skipped: Optional[str] = None
    error: Optional[str] = None

    def as_dict(self) -> dict:
        return asdict(self)


def compare(got: np.ndarray, want: np.ndarray, rtol: float, atol: float) -> tuple[float, float]:
    """(worst absolute error, worst error / allowed); NaN anywhere or a shape change gives inf."""
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        return math.inf, math.inf
    if got.size == 0:
        return 0.0, 0.0
    err = np.abs(got - want)
    if not np.all(np.isfinite(got)) or not np.all(np.isfinite(err)):
        return math.inf, math.inf
    return float(err.max()), float((err / (atol + rtol * np.abs(want))).max())


def run_cell(case: Case, framework, device: str, dtype: str) -> CellResult:
    rtol, atol = tolerance(dtype, case.tol)
    base = dict(case=case.name, framework=framework.name, device=device, dtype=dtype, rtol=rtol, atol=atol)
    missing = framework.device_missing(device)
    if missing:
        return CellResult(**base, value_err=math.nan, grad_err=math.nan, value_ratio=math.nan,
                          grad_ratio=math.nan, passed=True, skipped=missing)
    x, y, cot, want_value, want_grad = _oracle_cached(case, dtype)
    try:
        value, grad = framework.evaluate(case.fn, case.kwargs, x, y, case.index_target, dtype, device, cot,
                                         torch_class_dim=case.torch_class_dim)
    except Exception as exc:  # reported as a failing cell, with the reason
        return CellResult(**base, value_err=math.inf, grad_err=math.inf, value_ratio=math.inf,
                          grad_ratio=math.inf, passed=False, error=f"{type(exc).__name__}: {exc}")
    value_err, value_ratio = compare(value, want_value, rtol, atol)
    grad_err, grad_ratio = compare(grad, want_grad, rtol, atol)
    return CellResult(**base, value_err=value_err, grad_err=grad_err, value_ratio=value_ratio,
                      grad_ratio=grad_ratio, passed=value_ratio <= 1.0 and grad_ratio <= 1.0)
