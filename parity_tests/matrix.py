"""Running and formatting the parity matrix: case selection, cells run or skipped, the report.

`classbalance-parity` (cli.py) and `parity_tests.api` share these. Importing this module needs
NumPy alone: torch, Keras and TensorFlow are imported only by the framework adapters, when a
cell runs, so that a framework that is not installed is reported as skipped, with the reason.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import sys
from typing import Iterable, Optional

from .cases import CASES, Case
from .harness import CellResult, run_cell
from .tolerances import tolerance

# ---------------------------------------------------------------- case selection


# Acronyms that stay upper case in a class name (`ldam_loss` -> `LDAMLoss`, the paper's spelling).
_ACRONYMS = {"ldam": "LDAM"}


def class_name(fn: str) -> str:
    """The loss class of a functional name: snake_case -> CamelCase (`weighted_binary_crossentropy`
    -> `WeightedBinaryCrossentropy`), the mirror rule's naming in tf_impl.losses and torch_impl.losses."""
    return "".join(_ACRONYMS.get(part, part.capitalize()) for part in fn.split("_"))


def case_keys(case: Case) -> tuple[str, ...]:
    """The names that select `case` with `--loss`: its full name (`wbce/plain`), its family
    (the part before "/": `wbce`), its functional name and its class name."""
    keys = (case.name, case.name.split("/")[0])
    if isinstance(case.fn, str):
        keys += (case.fn, class_name(case.fn))
    return keys


def select_cases(loss_filter: Optional[str] = None, cases: Iterable[Case] = CASES) -> list[Case]:
    """The cases matching any comma-separated key exactly (see `case_keys`); all when empty.

    Raises ValueError naming the unknown keys and listing the valid ones."""
    cases = list(cases)
    keys = [k.strip() for k in (loss_filter or "").split(",") if k.strip()]
    if not keys:
        return cases
    valid = list(dict.fromkeys(k for c in cases for k in case_keys(c)))
    unknown = [k for k in keys if k not in valid]
    if unknown:
        families = list(dict.fromkeys(k for c in cases for k in case_keys(c)[1:]))
        raise ValueError(f"unknown --loss {', '.join(map(repr, unknown))}; valid: a case name (see --list) "
                         f"or one of {', '.join(families)}")
    return [c for c in cases if any(k in case_keys(c) for k in keys)]


def list_cases(cases: Iterable[Case]) -> str:
    """`--list`: one row per case: name, functional name, class name."""
    rows = [(c.name, c.fn, class_name(c.fn)) if isinstance(c.fn, str) else (c.name, "-", "-") for c in cases]
    header = ("case", "functional", "class")
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    line = lambda row: "  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip()  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


# ---------------------------------------------------------------- frameworks present


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package missing, or a module set to None
        return False


def framework_missing(framework: str) -> Optional[str]:
    """Why `framework` ("torch", "keras/<backend>") cannot run in this install, or None."""
    modules = ["torch"] if framework == "torch" else ["keras", framework.split("/", 1)[1]]
    for module in modules:
        if not _installed(module):
            return f"{module} is not installed"
    return None


# ---------------------------------------------------------------- running


def _progress(done: int, total: int, label: str) -> None:
    if not sys.stderr.isatty() and os.environ.get("CLASSBALANCE_PROGRESS") != "1":
        return
    width = 30
    filled = int(width * done / max(total, 1))
    sys.stderr.write(f"\r{label:<18} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def run_matrix(frameworks, cases, devices, dtypes, label="") -> list[CellResult]:
    cells = [(c, fw, d, t) for fw in frameworks for d in devices for t in dtypes for c in cases]
    results = []
    for i, (case, fw, device, dtype) in enumerate(cells, 1):
        results.append(run_cell(case, fw, device, dtype))
        _progress(i, len(cells), label or fw.name)
    return results


def skipped_cells(framework: str, cases, devices, dtypes, reason: str) -> list[CellResult]:
    """Every cell of a framework that cannot run here, skipped with `reason`."""
    out = []
    for device in devices:
        for dtype in dtypes:
            for case in cases:
                rtol, atol = tolerance(dtype, case.tol)
                out.append(CellResult(case=case.name, framework=framework, device=device, dtype=dtype,
                                      value_err=math.nan, grad_err=math.nan, value_ratio=math.nan,
                                      grad_ratio=math.nan, rtol=rtol, atol=atol, passed=True, skipped=reason))
    return out


# ---------------------------------------------------------------- formatting


def status(r: CellResult) -> str:
    """"skipped" (not run: an absent device or framework), "passed" or "failed"."""
    return "skipped" if r.skipped else ("passed" if r.passed else "failed")


def _finite_or_none(x):
    return x if not isinstance(x, float) or math.isfinite(x) else None


def cell_record(r: CellResult) -> dict:
    """A cell as strict JSON: NaN and infinities become null; `status` is "passed", "failed" or
    "skipped"; a skipped cell has `passed` null and null errors (`skipped` holds the reason)."""
    d = {k: _finite_or_none(v) for k, v in r.as_dict().items()}
    if r.skipped:
        d.update(passed=None, value_err=None, grad_err=None, value_ratio=None, grad_ratio=None)
    d["status"] = status(r)
    return d


def counts(results) -> dict:
    n = {"passed": 0, "failed": 0, "skipped": 0}
    for r in results:
        n[status(r)] += 1
    return n


def _fmt(x: float) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.2e}"


_WORD = {"passed": "PASS", "failed": "FAIL", "skipped": "SKIP"}
HEADER = ("case", "framework", "device", "dtype", "value err", "grad err", "rtol/atol", "result")


def _rows(results, show_skipped: bool = False):
    """One row per cell run; skipped cells (an absent device or framework) folded into one row
    per framework, device and reason unless `show_skipped`."""
    folded: dict = {}
    for r in results:
        if r.skipped and not show_skipped:
            folded.setdefault((r.framework, r.device, r.skipped), []).append(r)
            continue
        note = r.skipped or r.error or ""
        yield (r.case, r.framework, r.device, r.dtype, _fmt(r.value_err), _fmt(r.grad_err),
               f"{r.rtol:g}/{r.atol:g}", _WORD[status(r)] + (f" ({note})" if note else ""))
    for (framework, device, reason), cells in folded.items():
        yield (f"({len(cells)} cells)", framework, device, "all", "-", "-", "-", f"SKIP ({reason})")


def summary(results) -> str:
    n = counts(results)
    frameworks = sorted({r.framework for r in results})
    verdict = "FAILURES" if n["failed"] else ("ALL PASS" if n["passed"] else "NOTHING RAN")
    return (f"parity: {verdict}: {n['passed']} passed, {n['failed']} failed, {n['skipped']} skipped "
            f"({len({r.case for r in results})} cases; {', '.join(frameworks)})")


def format_results(results, fmt: str = "table", show_skipped: bool = False) -> str:
    if fmt == "json":
        return json.dumps({"summary": summary(results), "counts": counts(results),
                           "cells": [cell_record(r) for r in results]}, indent=1, allow_nan=False)
    rows = list(_rows(results, show_skipped))
    if fmt == "markdown":
        lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines + ["", summary(results)])
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(HEADER)]
    line = lambda row: "  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip()  # noqa: E731
    return "\n".join([line(HEADER), line(["-" * w for w in widths])] + [line(r) for r in rows] + [summary(results)])
