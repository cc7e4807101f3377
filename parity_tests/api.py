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

import math
from dataclasses import dataclass
from typing import Callable, Optional, Sequence, Union

import numpy as np

from imbalance_core import validation

from . import builtins
from . import cases as C
from .diagnosis import counts, explain_error, explain_factor, explain_formula, explain_metric, explain_scale, explain_shape
from .matrix import explanations, format_results, run_matrix, summary
from .frameworks import DEVICES
from .harness import CellResult, compare
from .tolerances import DTYPES, tolerance

__all__ = ["compare_losses", "compare_metrics", "compare_pipelines", "metric_stream", "ParityReport", "stress_inputs"]


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
    torch_class_dim: Union[str, int, None] = "auto",
    input_layout: str = "channels_last",
    **stress_kwargs,
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
    """
    from .frameworks import KerasFramework, TorchFramework

    if keras_loss is None and torch_loss is None:
        raise ValueError("Invalid arguments: pass `keras_loss`, `torch_loss` or both; received neither.")
    validation.check_choice("input_layout", input_layout, ("channels_last", "channels_first"))
    validation.check_choice("torch_class_dim", torch_class_dim, ("auto", 1, None))
    sides = {}
    if keras_loss is not None:
        builtins.check_loss_side("keras_loss", keras_loss, "keras")
        sides["keras"] = builtins.identify_loss(keras_loss, "keras")
    if torch_loss is not None:
        builtins.check_loss_side("torch_loss", torch_loss, "torch")
        sides["torch"] = builtins.identify_loss(torch_loss, "torch")
    class_dim = (1 if "torch" in sides and sides["torch"].family == "softmax" else None) if torch_class_dim == "auto" \
        else torch_class_dim
    torch_runner = builtins.TorchLossRunner(torch_loss, class_dim=class_dim) if torch_loss is not None else None
    reference_grad = None
    ref_side = None
    if reference is None:
        if torch_loss is None:
            raise ValueError("Invalid `reference`: received None; without `torch_loss` a NumPy reference is required.")
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
    run = _LossRun(sides, ref_side, torch_runner)
    results: list[CellResult] = []
    for framework in frameworks:
        recorder = _Recording(framework)
        for device in devices:
            for dtype in dtypes:
                for case in cases:
                    results.append(run.cell(case, recorder, device, dtype))
    return ParityReport(results)


def _channels_last(logits, target):
    """Inputs given class axis on dim 1 (torch's layout), as the case table holds them: class axis last."""
    x = np.asarray(logits)
    y = np.asarray(target)
    moved_x = np.moveaxis(x, 1, -1) if x.ndim > 2 else x
    moved_y = np.moveaxis(y, 1, -1) if y.ndim == x.ndim and y.ndim > 2 and y.dtype.kind == "f" else y
    return moved_x, moved_y


class _Recording:
    """A framework adapter that keeps the first (value, gradient) of each cell, for the diagnosis."""

    def __init__(self, framework):
        self.framework = framework
        self.name = framework.name
        self.first = None

    def device_missing(self, device):
        return self.framework.device_missing(device)

    def evaluate_any_dtype(self, *args, **kwargs):
        out = self.framework.evaluate_any_dtype(*args, **kwargs)
        if self.first is None:
            self.first = out
        return out


class _LossRun:
    """One compare_losses run: each cell through the harness, then its failure in the objects' words."""

    def __init__(self, sides: dict, ref_side, torch_runner):
        self.sides = sides
        self.ref_side = ref_side
        self.torch_runner = torch_runner
        self.reference_failed: dict = {}

    def _side(self, framework_name: str):
        return self.sides.get("torch" if framework_name == "torch" else "keras")

    def _shapes(self, case) -> str:
        x, y = case.inputs()
        return f"logits {x.shape} float, target {y.shape} {'int64' if case.index_target else 'float'}"

    def cell(self, case, recorder, device, dtype) -> CellResult:
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

    def _diagnose(self, result, case, x, y, value, grad, want_value, want_grad, side) -> str:
        from .harness import _constant_factor

        parts = [p for p in result.diagnosis.rstrip(".").split("; ")]
        head = [p for p in parts if p.startswith(("value", "gradient"))]
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
            return result.diagnosis
        return "; ".join(head + [cause]) + "."


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


# ---------------------------------------------------------------- metrics


def metric_stream(kind: str = "binary", *, num_classes: int = 3, batch: int = 16, num_batches: int = 4,
                  weighted: bool = True, seed: int = 0) -> list[tuple]:
    """A stream of (y_true, y_pred, sample_weight) NumPy batches for `compare_metrics`.

    kind="binary": labels {0, 1} and probabilities; "multiclass": class indices and score rows
    (num_classes). Imbalanced labels (one class at ~10%), sample weights drawn from {0, 0.5, 1, 2}
    (exact in every dtype) when `weighted`, else None.
    """
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(num_batches):
        if kind == "binary":
            y = (rng.random(batch) < 0.1 + 0.3 * rng.random()).astype(np.int64)
            p = np.clip(0.5 * y + 0.6 * rng.random(batch) - 0.05, 0.0, 1.0)
        elif kind == "multiclass":
            y = rng.choice(num_classes, size=batch, p=np.r_[0.1, np.full(num_classes - 1, 0.9 / (num_classes - 1))])
            p = rng.normal(size=(batch, num_classes)) + 1.5 * np.eye(num_classes)[y]
        else:
            raise ValueError(f"Invalid `kind`: received {kind!r}; allowed values are 'binary', 'multiclass'.")
        w = rng.choice([0.0, 0.5, 1.0, 2.0], size=batch) if weighted else None
        out.append((y, p, w))
    return out


def _metric_value(x) -> float:
    return float(np.asarray(x.detach().cpu() if hasattr(x, "detach") else x, dtype=np.float64))


class _MetricSideError(Exception):
    """A metric side that could not run a batch: the explanation for the report."""


def _accepts_sample_weight(update) -> bool:
    import inspect

    try:
        params = inspect.signature(update).parameters
    except (TypeError, ValueError):
        return True
    return "sample_weight" in params or any(p.kind == p.VAR_KEYWORD for p in params.values())


def _metric_name(metric) -> str:
    return f"{type(metric).__module__.split('.')[0]}.{type(metric).__qualname__}"


def _metric_failure(framework: str, metric, i: int, batch, exc: Exception) -> _MetricSideError:
    y, p, w = batch
    shapes = f"y_true {np.shape(y)}, y_pred {np.shape(p)}" + ("" if w is None else f", sample_weight {np.shape(w)}")
    return _MetricSideError(
        f"the {framework} side ({_metric_name(metric)}) could not run batch {i} ({shapes}): {type(exc).__name__}: "
        f"{exc}; why: its update rejects these inputs (the target encoding, the shape of y_pred or the argument "
        f"values): pass the stream it expects (metric_stream(kind=...)) or an adapter that reshapes them.")


def _run_keras_metric(metric, batches, reset_after):
    values = []
    for i, (y, p, w) in enumerate(batches):
        try:
            metric.update_state(y, p, sample_weight=w)
            values.append(_metric_value(metric.result()))
        except Exception as exc:  # explained in the report
            raise _metric_failure("keras", metric, i, (y, p, w), exc) from exc
        if i in reset_after:
            metric.reset_state()
    return np.array(values)


def _run_torch_metric(metric, batches, reset_after):
    import torch

    weighted = any(w is not None for _, _, w in batches)
    if weighted and not _accepts_sample_weight(metric.update):
        raise _MetricSideError(
            f"the torch side ({_metric_name(metric)}) cannot take the stream's sample weights: its update(preds, "
            f"target) has no sample_weight argument (torchmetrics' classification metrics have none); compare on an "
            f"unweighted stream (metric_stream(..., weighted=False), or batches with sample_weight None).")
    device = getattr(metric, "device", "cpu")
    values = []
    for i, (y, p, w) in enumerate(batches):
        # sample_weight only when there is one: most torchmetrics metrics take no such argument
        extra = {} if w is None else {"sample_weight": torch.as_tensor(w, device=device)}
        try:
            metric.update(torch.as_tensor(p, device=device), torch.as_tensor(y, device=device), **extra)
            values.append(_metric_value(metric.compute()))
        except Exception as exc:  # explained in the report
            raise _metric_failure("torch", metric, i, (y, p, w), exc) from exc
        if i in reset_after:
            metric.reset()
    return np.array(values)


def _metric_dtype(metric, framework: str) -> Optional[str]:
    """The dtype a metric accumulates and reports in (Keras: its dtype policy; torch: its result's)."""
    if framework == "keras":
        return str(getattr(metric, "dtype", None) or "") or None
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # compute() before update() warns; the dtype is all that is read
            return str(metric.compute().dtype).replace("torch.", "")
    except Exception:  # a metric with no state yet may refuse compute()
        return None


def _reference_stream(reference, batches, reset_after):
    """The reference on the batches accumulated since the last reset, and on each batch alone."""
    acc, per_batch, since = [], [], []
    for i, batch in enumerate(batches):
        since.append(batch)
        joined = [np.concatenate([b[j] for b in since]) if since[0][j] is not None else None for j in range(3)]
        acc.append(float(reference(*joined)))
        per_batch.append(float(reference(*batch)))
        if i in reset_after:
            since = []
    return np.array(acc), np.array(per_batch)


def _explain_stream(got, want, per_batch, reset_after, rtol, atol) -> Optional[str]:
    """A metric stream's failure in words: the first step off, and why when it is recognisable."""
    bad = np.abs(got - want) > atol + rtol * np.abs(want)
    if not bad.any():
        return None
    first = int(np.argmax(bad))
    words = f"value fails from step {first} of {len(got)}: got {got[first]:.6g}, want {want[first]:.6g}"
    if first - 1 in reset_after:
        return words + ("; the first step after a reset: this side's state survived the reset. Reset it between "
                        "epochs (Keras reset_state(), torchmetrics reset())") + "."
    if first > 0 and np.allclose(got[bad], per_batch[bad], rtol=rtol, atol=atol):
        return words + ("; it equals each batch's own value: this side does not accumulate across batches (a "
                        "per-batch metric); update one stateful metric and read it after the stream") + "."
    return words + ("; not a reset or accumulation issue: compare the arguments (threshold, from_logits, "
                    "num_classes) and how sample weights enter") + "."


def compare_metrics(
    keras_metric=None,
    torch_metric=None,
    *,
    batches: Optional[Sequence[tuple]] = None,
    kind: str = "binary",
    reset_after: Sequence[int] = (1,),
    reference: Optional[Callable] = None,
    rtol: float = 1e-6,
    atol: float = 1e-6,
    name: str = "metric",
    **stream_kwargs,
) -> ParityReport:
    """Runs a stateful Keras metric and a torchmetrics metric over the same stream of batches.

    After every batch each side's result (Keras `result()`, torch `compute()`) is compared with
    the reference on the batches accumulated since the last reset; each side is reset after the
    batches in `reset_after` (Keras `reset_state()`, torch `reset()`), so accumulation, sample
    weights and reset are all checked. One row per framework in the same table as
    `compare_losses`, the worst step's error as a multiple of the tolerance, failures in words.

    Args:
        keras_metric: a keras.metrics.Metric (`update_state(y_true, y_pred, sample_weight)`); None
            skips the Keras column.
        torch_metric: a torchmetrics.Metric (`update(preds, target, sample_weight=...)`); None skips it.
        batches: [(y_true, y_pred, sample_weight or None)] NumPy; None: `metric_stream(kind, ...)`.
        reset_after: batch indices after which both metrics are reset.
        reference: NumPy callable(y_true, y_pred, sample_weight) on accumulated batches; default:
            the torch metric's own values (then only the Keras column is compared).
        rtol, atol: the tolerance of every step (metrics accumulate in float32 or float64).

    Returns:
        A ParityReport (`.results`, `.passed`, `.table(fmt)`, `.explain()`).
    """
    if keras_metric is None and torch_metric is None:
        raise ValueError("Invalid arguments: pass `keras_metric`, `torch_metric` or both; received neither.")
    if keras_metric is not None:
        builtins.check_metric_side("keras_metric", keras_metric, "keras")
    if torch_metric is not None:
        builtins.check_metric_side("torch_metric", torch_metric, "torch")
    batches = list(batches) if batches is not None else metric_stream(kind, **stream_kwargs)
    reset_after = set(reset_after)
    runs, failures, dtypes = {}, {}, {}
    if torch_metric is not None:
        try:
            runs["torch"] = _run_torch_metric(torch_metric, batches, reset_after)
        except _MetricSideError as exc:
            failures["torch"] = str(exc)
        dtypes["torch"] = _metric_dtype(torch_metric, "torch")
    if keras_metric is not None:
        import keras

        label = f"keras/{keras.backend.backend()}"
        try:
            runs[label] = _run_keras_metric(keras_metric, batches, reset_after)
        except _MetricSideError as exc:
            failures[label] = str(exc)
        dtypes[label] = _metric_dtype(keras_metric, "keras")
    want = per_batch = None
    if reference is not None:
        want, per_batch = _reference_stream(reference, batches, reset_after)
    elif "torch" in runs:
        want = runs["torch"]
        per_batch = np.array([_run_torch_metric(torch_metric.clone(), [b], set())[0] for b in batches])
        torch_metric.reset()
    elif "torch" not in failures:
        raise ValueError("Invalid `reference`: received None; without `torch_metric` a NumPy reference is required.")
    results = []
    for framework in [f for f in ("torch", *[k for k in dtypes if k != "torch"]) if f in dtypes]:
        base = dict(case=f"{name}/stream", framework=framework, device="cpu", dtype="-", grad_err=math.nan,
                    grad_ratio=math.nan, rtol=rtol, atol=atol, computed_in=dtypes[framework])
        if framework in failures or want is None:
            error = failures.get(framework) or (
                f"not compared: the reference (the torch metric's own values) could not run: {failures.get('torch')}")
            results.append(CellResult(**base, value_err=math.inf, value_ratio=math.inf, passed=False, error=error))
            continue
        got = runs[framework]
        err, ratio = compare(got, want, rtol, atol)
        is_reference = reference is None and framework == "torch"
        diagnosis = _explain_stream(got, want, per_batch, reset_after, rtol, atol)
        known = explain_metric(keras_metric, torch_metric)
        if diagnosis and known and "not a reset or accumulation issue" in diagnosis:
            diagnosis = diagnosis.split("; not a reset")[0] + f"; not a reset or accumulation issue: {known}."
        results.append(CellResult(
            **base, value_err=err, value_ratio=ratio, passed=ratio <= 1.0,
            tolerance_note="the reference (no NumPy reference given)" if is_reference else None,
            diagnosis=diagnosis))
    return ParityReport(results)


# ---------------------------------------------------------------- pipelines


def _batches_as_numpy(batches, steps: Optional[int]) -> list[tuple]:
    """(x, y) batches (tf.data, torch tensors or NumPy) as NumPy pairs; a bare index batch
    (a batch sampler's list of indices) as (indices, indices)."""
    out = []
    for i, batch in enumerate(batches):
        if steps is not None and i >= steps:
            break
        if isinstance(batch, (tuple, list)) and len(batch) == 2 and not np.isscalar(batch[0]):
            x, y = batch
        else:
            x = y = batch
        conv = lambda t: np.asarray(t.cpu() if hasattr(t, "cpu") else t)  # noqa: E731
        out.append((conv(x), conv(y)))
    return out


def _explain_pipeline(keras_b, torch_b, mode, num_classes) -> tuple[float, Optional[str]]:
    """(worst difference, the failure in words or None)."""
    if len(keras_b) != len(torch_b):
        return math.inf, (f"tf.data gave {len(keras_b)} batches, torch {len(torch_b)}: the epoch lengths differ "
                          "(steps_per_epoch, batch_size or drop_remainder).")
    for i, ((kx, ky), (tx, ty)) in enumerate(zip(keras_b, torch_b)):
        if mode == "composition":
            kc = np.bincount(ky.ravel().astype(np.int64), minlength=num_classes)
            tc = np.bincount(ty.ravel().astype(np.int64), minlength=num_classes)
            if kc.shape != tc.shape or np.any(kc != tc):
                return float(np.abs(kc - tc).max()) if kc.shape == tc.shape else math.inf, (
                    f"batch {i}: tf.data holds {kc.tolist()} per class, torch {tc.tolist()}: the per-batch "
                    "composition differs (class_fractions, mode or batch_size).")
            continue
        if kx.shape != tx.shape or ky.shape != ty.shape:
            return math.inf, f"batch {i}: shapes {kx.shape}/{ky.shape} (tf.data) against {tx.shape}/{ty.shape} (torch)."
        if np.array_equal(kx, tx) and np.array_equal(ky, ty):
            continue
        diff = float(np.abs(kx.astype(np.float64) - tx.astype(np.float64)).max())
        if np.array_equal(np.sort(kx, axis=0), np.sort(tx, axis=0)):
            why = ("the same rows in another order: both draw the same samples but shuffle differently "
                   "(a different seed or epoch: call set_epoch on the torch side, or compare composition)")
        else:
            later = [j for j, (ox, _) in enumerate(torch_b) if np.array_equal(ox, kx)]
            why = (f"tf.data's batch {i} is torch's batch {later[0]}: the two are out of step (an epoch or a "
                   "step ahead: same seed, same epoch?)" if later else
                   "different samples: the seeds, class_fractions or mode differ")
        return diff, f"batch {i} differs (first rows: tf.data {kx[:3].tolist()}, torch {tx[:3].tolist()}): {why}."
    return 0.0, None


def compare_pipelines(keras_dataset, torch_batches, *, mode: str = "indices", num_classes: Optional[int] = None,
                      steps: Optional[int] = None, name: str = "pipeline") -> ParityReport:
    """Compares a tf.data pipeline with a torch one, batch by batch.

    mode="indices": the same batches (features and labels equal, element for element; pass
    the row indices as features to compare the index batches themselves). mode="composition":
    the same number of samples of each class in every batch. One row in the same table as
    `compare_losses` (the worst difference; a pipeline is exact: the tolerance is 0), the first
    differing batch in words.

    Args:
        keras_dataset: an iterable of (x, y) batches (a tf.data.Dataset, NumPy or Keras tensors).
        torch_batches: an iterable of (x, y) batches of torch tensors, or of index batches (a
            batch sampler), one epoch.
        mode: "indices" or "composition".
        num_classes: for "composition" (default: the largest label + 1).
        steps: compare the first `steps` batches only (default: every batch).
    """
    if mode not in ("indices", "composition"):
        raise ValueError(f"Invalid `mode`: received {mode!r}; allowed values are 'indices', 'composition'.")
    keras_b = _batches_as_numpy(keras_dataset, steps)
    torch_b = _batches_as_numpy(torch_batches, steps)
    if num_classes is None:
        num_classes = 1 + int(max([b[1].max() for b in keras_b + torch_b if b[1].size] or [0]))
    err, words = _explain_pipeline(keras_b, torch_b, mode, num_classes)
    ratio = 0.0 if words is None else math.inf
    return ParityReport([CellResult(
        case=f"{name}/{mode}", framework="tf.data vs torch", device="cpu", dtype="-", value_err=err,
        grad_err=math.nan, value_ratio=ratio, grad_ratio=math.nan, rtol=0.0, atol=0.0, passed=words is None,
        tolerance_note=f"{len(keras_b)} batches compared ({mode})", diagnosis=words)])
