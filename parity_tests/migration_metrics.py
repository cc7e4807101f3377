"""`compare_metrics`: a stateful Keras metric against a torchmetrics metric, over a stream of batches.

Each side's value after every batch is compared with a reference on the batches accumulated
since the last reset, so that accumulation, sample weights and reset are all checked; a failure
is explained in words (the first step off, and why when recognisable). `metric_stream` gives
the built-in stream.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from imbalance_core import validation

from .diagnosis import explain_metric
from .harness import CellResult, compare
from .report import ParityReport
from .sides import check_metric_side

__all__ = ["compare_metrics", "metric_stream"]


def metric_stream(kind: str = "binary", *, num_classes: int = 3, batch: int = 16, num_batches: int = 4,
                  weighted: bool = True, seed: int = 0) -> list[tuple]:
    """A stream of (y_true, y_pred, sample_weight) NumPy batches for `compare_metrics`.

    kind="binary": labels {0, 1} and probabilities; "multiclass": class indices and score rows
    (num_classes). Imbalanced labels (one class at ~10%), sample weights drawn from {0, 0.5, 1, 2}
    (exact in every dtype) when `weighted`, else None.

    Examples:
        >>> batches = metric_stream("binary", batch=8, num_batches=2)
        >>> [tuple(array.shape) for array in batches[0]]
        [(8,), (8,), (8,)]
    """
    validation.check_choice("kind", kind, ("binary", "multiclass"))
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(num_batches):
        if kind == "binary":
            y = (rng.random(batch) < 0.1 + 0.3 * rng.random()).astype(np.int64)
            p = np.clip(0.5 * y + 0.6 * rng.random(batch) - 0.05, 0.0, 1.0)
        else:
            y = rng.choice(num_classes, size=batch, p=np.r_[0.1, np.full(num_classes - 1, 0.9 / (num_classes - 1))])
            p = rng.normal(size=(batch, num_classes)) + 1.5 * np.eye(num_classes)[y]
        w = rng.choice([0.0, 0.5, 1.0, 2.0], size=batch) if weighted else None
        out.append((y, p, w))
    return out


def _metric_value(x: Any) -> float:
    return float(np.asarray(validation.to_numpy(x), dtype=np.float64))


class _MetricSideError(Exception):
    """A metric side that could not run a batch: the explanation for the report."""


def _accepts_sample_weight(update: Callable) -> bool:
    import inspect

    try:
        params = inspect.signature(update).parameters
    except (TypeError, ValueError):
        return True
    return "sample_weight" in params or any(p.kind == p.VAR_KEYWORD for p in params.values())


def _metric_name(metric: Any) -> str:
    return f"{type(metric).__module__.split('.')[0]}.{type(metric).__qualname__}"


def _metric_failure(framework: str, metric: Any, i: int, batch: tuple, exc: Exception) -> _MetricSideError:
    return _MetricSideError(validation.metric_batch_failure_message(framework, _metric_name(metric), i, batch, exc))


def _run_metric(framework: str, metric: Any, batches: Sequence[tuple], reset_after: set[int], *,
                update: Callable[[Any, Any, Any], object], read: Callable[[], Any],
                reset: Callable[[], object]) -> np.ndarray:
    """The metric's value after each batch, reset after the batches in `reset_after`; a batch it
    cannot take raises a _MetricSideError that says which and why."""
    values = []
    for i, (y, p, w) in enumerate(batches):
        try:
            update(y, p, w)
            values.append(_metric_value(read()))
        except Exception as exc:  # explained in the report
            raise _metric_failure(framework, metric, i, (y, p, w), exc) from exc
        if i in reset_after:
            reset()
    return np.array(values)


def _run_keras_metric(metric: Any, batches: Sequence[tuple], reset_after: set[int]) -> np.ndarray:
    return _run_metric("keras", metric, batches, reset_after,
                       update=lambda y, p, w: metric.update_state(y, p, sample_weight=w), read=metric.result,
                       reset=metric.reset_state)


def _run_torch_metric(metric: Any, batches: Sequence[tuple], reset_after: set[int]) -> np.ndarray:
    import torch

    weighted = any(w is not None for _, _, w in batches)
    if weighted and not _accepts_sample_weight(metric.update):
        raise _MetricSideError(validation.unweighted_metric_message(_metric_name(metric)))
    device = getattr(metric, "device", "cpu")

    def update(y: Any, p: Any, w: Any) -> None:
        # sample_weight only when there is one: most torchmetrics metrics take no such argument
        extra = {} if w is None else {"sample_weight": torch.as_tensor(w, device=device)}
        metric.update(torch.as_tensor(p, device=device), torch.as_tensor(y, device=device), **extra)

    return _run_metric("torch", metric, batches, reset_after, update=update, read=metric.compute, reset=metric.reset)


def _metric_dtype(metric: Any, framework: str) -> str | None:
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


def _reference_stream(reference: Callable, batches: Sequence[tuple],
                      reset_after: set[int]) -> tuple[np.ndarray, np.ndarray]:
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


def _explain_stream(got: np.ndarray, want: np.ndarray, per_batch: np.ndarray, reset_after: set[int], rtol: float,
                    atol: float) -> str | None:
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
    keras_metric: Any = None,
    torch_metric: Any = None,
    *,
    batches: Sequence[tuple] | None = None,
    kind: str = "binary",
    reset_after: Sequence[int] = (1,),
    reference: Callable | None = None,
    rtol: float = 1e-6,
    atol: float = 1e-6,
    name: str = "metric",
    **stream_kwargs: Any,
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

    Examples:
        >>> import tf_impl.metrics
        >>> import torch_impl.metrics
        >>> report = compare_metrics(tf_impl.metrics.BalancedAccuracy(), torch_impl.metrics.BalancedAccuracy())
        >>> report.passed
        True
    """
    if keras_metric is None and torch_metric is None:
        raise ValueError(validation.neither_side_message("keras_metric", "torch_metric"))
    if keras_metric is not None:
        check_metric_side("keras_metric", keras_metric, "keras")
    if torch_metric is not None:
        check_metric_side("torch_metric", torch_metric, "torch")
    batches = list(batches) if batches is not None else metric_stream(kind, **stream_kwargs)
    resets = set(reset_after)
    runs, failures, dtypes = {}, {}, {}
    if torch_metric is not None:
        try:
            runs["torch"] = _run_torch_metric(torch_metric, batches, resets)
        except _MetricSideError as exc:
            failures["torch"] = str(exc)
        dtypes["torch"] = _metric_dtype(torch_metric, "torch")
    if keras_metric is not None:
        import keras

        label = f"keras/{keras.backend.backend()}"
        try:
            runs[label] = _run_keras_metric(keras_metric, batches, resets)
        except _MetricSideError as exc:
            failures[label] = str(exc)
        dtypes[label] = _metric_dtype(keras_metric, "keras")
    want = per_batch = None
    if reference is not None:
        want, per_batch = _reference_stream(reference, batches, resets)
    elif "torch" in runs:
        want = runs["torch"]
        per_batch = np.array([_run_torch_metric(torch_metric.clone(), [b], set())[0] for b in batches])
        torch_metric.reset()
    elif "torch" not in failures:
        raise ValueError(validation.missing_reference_message("torch_metric"))
    results = []
    for framework in [f for f in ("torch", *[k for k in dtypes if k != "torch"]) if f in dtypes]:
        base: dict = dict(case=f"{name}/stream", framework=framework, device="cpu", dtype="-", grad_err=math.nan,
                          grad_ratio=math.nan, rtol=rtol, atol=atol, computed_in=dtypes[framework])
        if framework in failures or want is None or per_batch is None:
            error = failures.get(framework) or (
                f"not compared: the reference (the torch metric's own values) could not run: {failures.get('torch')}")
            results.append(CellResult(**base, value_err=math.inf, value_ratio=math.inf, passed=False, error=error))
            continue
        got = runs[framework]
        err, ratio = compare(got, want, rtol, atol)
        is_reference = reference is None and framework == "torch"
        diagnosis = _explain_stream(got, want, per_batch, resets, rtol, atol)
        known = explain_metric(keras_metric, torch_metric)
        if diagnosis and known and "not a reset or accumulation issue" in diagnosis:
            diagnosis = diagnosis.split("; not a reset")[0] + f"; not a reset or accumulation issue: {known}."
        results.append(CellResult(
            **base, value_err=err, value_ratio=ratio, passed=ratio <= 1.0,
            tolerance_note="the reference (no NumPy reference given)" if is_reference else None,
            diagnosis=diagnosis))
    return ParityReport(results)
