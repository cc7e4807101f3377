"""Runs parity cells: one case on one framework, device and dtype, value and gradient.

Each framework is compared with the float64 oracle evaluated on the same rounded inputs; the
oracle gradient is a float64 central difference (Richardson-extrapolated) of sum(v * loss).
What differs between cases is a field of the case, not a branch here: a stop-gradient the
oracle must hold (`oracle_frozen_logits`), class-level reductions (`reduction`, the oracle
under each framework's convention), a user's pair computing at its own dtype (`own_dtype`,
`native_half_tolerance`; the parity API). A failing cell is explained in words (`explain`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from imbalance_core import validation

from . import reference
from .cases import Case
from .tolerances import NATIVE_HALF_ROUNDINGS, SIGNIFICAND_BITS, least_precise, native_half_tolerance, tolerance


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
        rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
        return rounded.astype(np.uint32).view(np.float32).astype(np.float64)
    raise ValueError(validation.unknown_dtype_message(dtype))


def _oracle_fn(case: Case, convention: str | None = None):
    """The case's own oracle (parity API); a class-level reduction under the framework's
    convention ("keras" or "torch"); else the reference function of the same name."""
    if case.oracle is not None:
        return case.oracle
    if case.reduction is not None:
        reduction = case.reduction[0 if convention == "keras" else 1]
        return lambda x, y, **kw: reference.class_loss(case.fn, x, y, convention=convention, reduction=reduction,
                                                       sample_weight=case.sample_weight, **case.class_kwargs, **kw)
    return getattr(reference, case.fn)


def convention(case: Case, framework_name: str) -> str | None:
    """Whose reduction conventions a framework's cell follows (class-level reduction cases only)."""
    if case.reduction is None:
        return None
    return "torch" if framework_name == "torch" else "keras"


# Acronyms that stay upper case in a class name (`ldam_loss` -> `LDAMLoss`, the paper's spelling).
_ACRONYMS = {"ldam": "LDAM"}


def class_name(fn: str) -> str:
    """The loss class of a functional name: snake_case -> CamelCase (`weighted_binary_crossentropy`
    -> `WeightedBinaryCrossentropy`), the mirror rule's naming in tf_impl.losses and torch_impl.losses."""
    return "".join(_ACRONYMS.get(part, part.capitalize()) for part in fn.split("_"))


def _class_call(case: Case, dtype: str) -> dict:
    """{"torch": call, "keras": call}: the case's loss class under its reduction, called with its
    sample weights. A Keras class computes in its dtype policy: float64 for float64 cells, else
    the default float32 (the half-precision cells: what mixed precision does)."""
    cls = class_name(case.fn)
    kw = {**case.kwargs, **case.class_kwargs}
    assert case.reduction is not None, "a class-level reduction case"
    keras_reduction, torch_reduction = case.reduction
    sw = case.sample_weight

    def torch_call(x, y):
        import torch

        import torch_impl.losses

        weight = None if sw is None else torch.as_tensor(sw, dtype=x.dtype, device=x.device)
        return getattr(torch_impl.losses, cls)(**kw, reduction=torch_reduction).to(x.device)(x, y, sample_weight=weight)

    def keras_call(y, x):
        import tf_impl.losses

        policy = "float64" if dtype == "float64" else None
        loss = getattr(tf_impl.losses, cls)(**kw, reduction=keras_reduction, dtype=policy)
        return loss(y, x, sample_weight=sw)

    return {"torch": torch_call, "keras": keras_call}


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

        def diff(step, i=i):  # called within this iteration; i bound for clarity
            xp, xm = x.copy(), x.copy()
            xp.flat[i] += step
            xm.flat[i] -= step
            return np.sum(cotangent * (f(xp) - f(xm))) / (2.0 * step)

        flat[i] = (4.0 * diff(h / 2.0) - diff(h)) / 3.0
    return grad


_ORACLE_CACHE: dict = {}


def _oracle_cached(case: Case, dtype: str, convention: str | None = None):
    """Oracle inputs, value and gradient for a case and dtype, shared by every framework (by
    every framework of one convention, for class-level reductions)."""
    key = (id(case), dtype, convention)
    if key not in _ORACLE_CACHE:
        _ORACLE_CACHE[key] = (case, _oracle_cell(case, dtype, convention))
    return _ORACLE_CACHE[key][1]


def _oracle_cell(case: Case, dtype: str, convention: str | None = None):
    logits, target = case.inputs()
    x = round_to_dtype(logits, dtype)
    y = target if case.index_target else round_to_dtype(target, dtype)
    fn = _oracle_fn(case, convention)
    value = fn(x, y, **case.kwargs)
    cot = case.cotangent(np.shape(value))
    if case.oracle_grad is not None:
        grad = np.asarray(case.oracle_grad(x, y, cot), np.float64)
    else:
        frozen = _frozen_kwargs(case, x)
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
    skipped: str | None = None
    error: str | None = None
    computed_in: str | None = None  # the dtype the loss computed in, when not the input's (parity API)
    tolerance_note: str | None = None  # how the tolerance was derived, when not from the table alone
    diagnosis: str | None = None  # a failure in words: value or gradient, the worst entry, the likely cause

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


# ---------------------------------------------------------------- failures in words


def _worst_entry(got, want, rtol, atol) -> str:
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    if got.shape != want.shape:
        return f"shape {got.shape} where the reference has {want.shape}"
    bad = ~np.isfinite(got)
    score = np.where(bad, np.inf, np.abs(got - want) / (atol + rtol * np.abs(want)))
    i = np.unravel_index(int(np.argmax(score)), score.shape) if score.ndim else ()
    where = f"[{', '.join(map(str, i))}]" if i else "(scalar)"
    return f"worst entry {where}: got {got[i]:.6g}, want {want[i]:.6g}"


def _shape_advice(got_shape, want_shape) -> str:
    if len(got_shape) + 1 == len(want_shape) and tuple(got_shape) == tuple(want_shape[:-1]):
        return ("per sample against per element: this side reduced the class axis, the reference did not. "
                "Return the element-wise loss, or average the other side over its last axis (Keras's sigmoid "
                "losses do)")
    if len(want_shape) + 1 == len(got_shape) and tuple(want_shape) == tuple(got_shape[:-1]):
        return ("per element against per sample: this side returns element-wise losses, the reference one per "
                "sample. Average this side over its last axis (Keras's convention), or the reference not at all")
    if got_shape == () or want_shape == ():
        return "one side reduces to a scalar and the other does not: pass reduction=\"none\" on both, or reduce both"
    return "the two sides return different shapes: check the layouts (class axis last in Keras, dim 1 in torch)"


def _constant_factor(pairs, rel: float) -> float | None:
    """got / want when it is the same (within `rel`) for every entry with a non-negligible want."""
    parts = []
    for got, want in pairs:
        got, want = np.asarray(got, np.float64).ravel(), np.asarray(want, np.float64).ravel()
        if got.shape != want.shape or not want.size:
            continue
        keep = np.isfinite(got) & (np.abs(want) > 1e-6 * max(np.abs(want).max(), 1e-300))
        parts.append(got[keep] / want[keep])
    ratios = np.concatenate(parts) if parts else np.zeros(0)
    if ratios.size == 0:
        return None
    r = float(np.median(ratios))
    return r if np.all(np.abs(ratios - r) <= rel * abs(r)) else None


def _name_factor(r: float, shape) -> str | None:
    """The word for a constant got / want: a sign, the batch size, the classes, B x C."""
    batch = shape[0] if len(shape) >= 1 else None
    classes = shape[-1] if len(shape) >= 2 else None
    close = lambda a, b: abs(a - b) <= 1e-3 * abs(b)  # noqa: E731
    if close(r, -1.0):
        return ("got / want = -1 everywhere: a sign. One side returns the log-likelihood (or a negated loss): "
                "negate it")
    found = []
    for size, word, fix in (
        (batch, f"the batch size ({batch}): sum against mean",
         "use the same reduction on both sides (Keras \"sum_over_batch_size\" = torch \"mean\", Keras \"sum\" = "
         "torch \"sum\" in the softmax family)"),
        (classes, f"the number of classes C ({classes}): per element against per sample",
         "in the sigmoid family Keras averages over the last axis first, so Keras \"sum\" = torch \"sum\" / C and "
         "Keras \"none\" is torch's element-wise loss averaged over the last axis"),
        (batch * classes if batch and classes else None, f"B x C ({batch} x {classes}): a sum against a mean over "
         "every element", "use the same reduction on both sides"),
    ):
        if size and size > 1:
            if close(r, size):
                found.append(f"got / want = {r:.6g} everywhere = {word}: this side is {size}x too large; {fix}")
            elif close(r, 1.0 / size):
                found.append(f"got / want = 1/{size} everywhere = {word}: this side is {size}x too small; {fix}")
    return "; or ".join(found) if found else None


def explain(*, value, want_value, grad, want_grad, value_ratio, grad_ratio, rtol, atol, grad_atol=None,
            shape, dtype, computed_in=None) -> str | None:
    """A failing cell in words: value or gradient, the worst entry, and the likely cause when
    got / want is constant (a sign, the batch size, the classes, a normalization) or the
    errors sit at a lower precision's level (a dtype leak), with what to change. None when it passed."""
    grad_atol = atol if grad_atol is None else grad_atol
    failing = [(w, g, t, r, a) for w, g, t, r, a in (("value", value, want_value, value_ratio, atol),
                                                      ("gradient", grad, want_grad, grad_ratio, grad_atol))
               if not r <= 1.0]
    if not failing:
        return None
    what = " and ".join(w for w, *_ in failing)
    parts = [f"{what} {'fail' if len(failing) > 1 else 'fails'}"]
    parts += [f"{w}: {r:.3g}x the tolerance, {_worst_entry(g, t, rtol, a)}" for w, g, t, r, a in failing]
    shapes = [(np.shape(g), np.shape(t)) for _, g, t, _, _ in failing if np.shape(g) != np.shape(t)]
    if shapes:
        return "; ".join(parts + [_shape_advice(*shapes[0])]) + "."
    r = _constant_factor([(value, want_value), (grad, want_grad)], rel=max(1e-3, 4 * rtol))
    if r is not None and abs(r - 1.0) > max(1e-3, 4 * rtol):
        named = _name_factor(r, shape)
        parts.append(named or (
            f"got / want = {r:.6g} everywhere, not a count of samples or classes: the two sides normalise the "
            "mean differently (a mean divided by the summed weights on one side, by the sample count on the other: "
            "torch CrossEntropyLoss(weight=w) divides by the summed weights of the targets, Keras by the batch "
            "size). Divide by the same denominator on both sides (this library's WeightedCategoricalCrossentropy, "
            "CategoricalFocalLoss and LDAMLoss take normalization=\"weight\", torch's, or \"count\", Keras's)"))
        return "; ".join(parts) + "."
    leak = _dtype_leak(failing, rtol, dtype, computed_in)
    if leak:
        parts.append(leak)
    elif r is None:
        parts.append("got / want is not constant: the formulas differ (weights, smoothing, clipping or the "
                     "target encoding), not only the reduction")
    return "; ".join(parts) + "."


def _dtype_leak(failing, rtol, dtype, computed_in) -> str | None:
    """The errors pass at a less precise dtype's tolerance: that dtype was computed somewhere inside."""
    from .tolerances import SIGNIFICAND_BITS, TOLERANCES

    claimed = computed_in or dtype
    for lower in ("float32", "float16", "bfloat16"):
        if SIGNIFICAND_BITS[lower] >= SIGNIFICAND_BITS[claimed]:
            continue
        lrtol, latol = TOLERANCES[lower]
        if all(compare(g, t, lrtol, latol)[1] <= 1.0 for _, g, t, _, _ in failing):
            return (f"the errors sit at {lower} precision although the output is {claimed}: a dtype leak (a "
                    f"{lower} computation inside, e.g. Keras 3.15's ops.mean on its torch backend). Compute in "
                    f"{claimed} throughout, or compare at {lower}")
    return None


# ---------------------------------------------------------------- running a cell


def _frozen_kwargs(case: Case, x: np.ndarray) -> dict:
    """The case's stop-gradient: the oracle keyword that holds part of the loss at the
    unperturbed logits while central differences run (e.g. ASL's focal factors)."""
    return {case.oracle_frozen_logits: x} if case.oracle_frozen_logits else {}


def _half_computed_natively(case, framework, device, dtype, value, grad, x, y, cot) -> bool:
    """A float16/bfloat16 output: computed natively in that dtype, or in float32 and rounded once?
    The same (exactly representable) inputs in float32, rounded to `dtype`, decide."""
    fn, kwargs = _callable(case, "float32")
    v32, g32, _ = framework.evaluate_any_dtype(fn, kwargs, x, y, case.index_target, "float32", device, cot,
                                               torch_class_dim=case.torch_class_dim)
    two_ulps = 2.0 * 2.0 ** -(SIGNIFICAND_BITS[dtype] - 1)
    return not all(np.allclose(got, round_to_dtype(want, dtype), rtol=two_ulps, atol=1e-30)
                   for got, want in ((value, v32), (grad, g32)))


def _callable(case: Case, dtype: str) -> tuple:
    """(fn, kwargs) for the adapters: the functional name and its arguments, or the class call."""
    return (_class_call(case, dtype), {}) if case.reduction is not None else (case.fn, case.kwargs)


def run_cell(case: Case, framework, device: str, dtype: str) -> CellResult:
    rtol, atol = tolerance(dtype, case.tol)
    base = dict(case=case.name, framework=framework.name, device=device, dtype=dtype, rtol=rtol, atol=atol)
    missing = framework.device_missing(device)
    if missing:
        return CellResult(**base, value_err=math.nan, grad_err=math.nan, value_ratio=math.nan,
                          grad_ratio=math.nan, passed=True, skipped=missing)
    x, y, cot, want_value, want_grad = _oracle_cached(case, dtype, convention(case, framework.name))
    computed_in = note = None
    grad_atol = atol
    try:
        args = (*_callable(case, dtype), x, y, case.index_target, dtype, device, cot)
        if case.own_dtype:
            value, grad, out_dtype = framework.evaluate_any_dtype(*args, torch_class_dim=case.torch_class_dim)
            # the library's own classes return the input dtype (half computed in float32): say so only
            # where it differs, or for a user's pair
            computed_in = out_dtype if (out_dtype != dtype or case.native_half_tolerance) else None
            if out_dtype == dtype and dtype in ("float16", "bfloat16") and case.native_half_tolerance:
                # one more evaluation, only where its answer changes the tolerance (the parity API)
                native = _half_computed_natively(case, framework, device, dtype, value, grad, x, y, cot)
                computed_in = f"{dtype} (native)" if native else f"float32 (returned in {dtype})"
                if native and not case.tol:
                    rtol, atol = native_half_tolerance(dtype, float(np.abs(want_value).max(initial=0.0)))
                    grad_atol = native_half_tolerance(dtype, float(np.abs(want_grad).max(initial=0.0)))[1]
                    note = (f"computed natively in {dtype}: atol = {NATIVE_HALF_ROUNDINGS} u max|want| "
                            f"(u = 2^-{SIGNIFICAND_BITS[dtype]}): value {atol:.2g}, gradient {grad_atol:.2g}")
            elif out_dtype in SIGNIFICAND_BITS and least_precise(dtype, out_dtype) != dtype and not case.tol:
                rtol, atol = tolerance(out_dtype)  # e.g. a Keras class's float32 policy on float64 inputs
                grad_atol = atol
                note = f"computed in {out_dtype}: {out_dtype}'s tolerance"
            base.update(rtol=rtol, atol=atol)
        else:
            value, grad = framework.evaluate(*args, torch_class_dim=case.torch_class_dim)
    except Exception as exc:  # reported as a failing cell, with the reason
        return CellResult(**base, value_err=math.inf, grad_err=math.inf, value_ratio=math.inf,
                          grad_ratio=math.inf, passed=False, error=f"{type(exc).__name__}: {exc}")
    value_err, value_ratio = compare(value, want_value, rtol, atol)
    grad_err, grad_ratio = compare(grad, want_grad, rtol, grad_atol)
    diagnosis = explain(value=value, want_value=want_value, grad=grad, want_grad=want_grad, value_ratio=value_ratio,
                        grad_ratio=grad_ratio, rtol=rtol, atol=atol, grad_atol=grad_atol, shape=np.shape(x),
                        dtype=dtype, computed_in=computed_in.split(" ")[0] if computed_in else None)
    return CellResult(**base, value_err=value_err, grad_err=grad_err, value_ratio=value_ratio,
                      grad_ratio=grad_ratio, passed=value_ratio <= 1.0 and grad_ratio <= 1.0,
                      computed_in=computed_in, tolerance_note=note, diagnosis=diagnosis)
