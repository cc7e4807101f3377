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
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from imbalance_core import validation

from .cases import ALL_CASES, Case
from .harness import CellResult, class_name, run_cell
from .tolerances import tolerance

# ---------------------------------------------------------------- case selection


def case_keys(case: Case) -> tuple[str, ...]:
    """The names that select `case` with `--loss`: its full name (`wbce/plain`), its family
    (the part before "/": `wbce`), its functional name and its class name."""
    keys: tuple[str, ...] = (case.name, case.name.split("/")[0])
    if isinstance(case.fn, str):
        keys += (case.fn, class_name(case.fn))
    return keys


def select_cases(loss_filter: str | None = None, cases: Iterable[Case] = ALL_CASES) -> list[Case]:
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
        raise ValueError(validation.unknown_case_keys_message(unknown, families))
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


def framework_missing(framework: str) -> str | None:
    """Why `framework` ("torch", "keras/<backend>") cannot run in this install, or None."""
    modules = ["torch"] if framework == "torch" else ["keras", framework.split("/", 1)[1]]
    for module in modules:
        if not _installed(module):
            return f"{module} is not installed"
    return None


# ---------------------------------------------------------------- running


def _progress(done: int, total: int, label: str) -> None:
    """A progress bar on a terminal only (never in a log or a pipe). A Keras worker subprocess
    gets its parent's terminal as CLASSBALANCE_PROGRESS_FD, its own stderr being captured."""
    fd = os.environ.get("CLASSBALANCE_PROGRESS_FD")
    if fd is None and not sys.stderr.isatty():
        return
    width = 30
    filled = int(width * done / max(total, 1))
    text = f"\r{label:<18} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}" + ("\n" if done == total else "")
    if fd is not None:
        os.write(int(fd), text.encode())
    else:
        sys.stderr.write(text)
        sys.stderr.flush()


def run_matrix(frameworks: Sequence[Any], cases: Sequence[Case], devices: Sequence[str], dtypes: Sequence[str],
               label: str = "") -> list[CellResult]:
    """Every cell of frameworks x devices x dtypes x cases, run in that order (a progress bar
    on a terminal); `frameworks` are adapters of parity_tests.frameworks."""
    cells = [(c, fw, d, t) for fw in frameworks for d in devices for t in dtypes for c in cases]
    results = []
    for i, (case, fw, device, dtype) in enumerate(cells, 1):
        results.append(run_cell(case, fw, device, dtype))
        _progress(i, len(cells), label or fw.name)
    return results


def skipped_cells(framework: str, cases: Sequence[Case], devices: Sequence[str], dtypes: Sequence[str],
                  reason: str) -> list[CellResult]:
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


def _finite_or_none(x: Any) -> Any:
    return x if not isinstance(x, float) or math.isfinite(x) else None


def cell_record(r: CellResult) -> dict:
    """A cell as strict JSON: NaN and infinities become null; `status` is "passed", "failed" or
    "skipped"; a skipped cell has `passed` null and null errors (`skipped` holds the reason)."""
    d = {k: _finite_or_none(v) for k, v in r.as_dict().items()}
    if r.skipped:
        d.update(passed=None, value_err=None, grad_err=None, value_ratio=None, grad_ratio=None)
    d["status"] = status(r)
    return d


def counts(results: Iterable[CellResult]) -> dict[str, int]:
    n = {"passed": 0, "failed": 0, "skipped": 0}
    for r in results:
        n[status(r)] += 1
    return n


def _ratio(x: float | None) -> str:
    """An error as a multiple of its tolerance: <= 1x passes."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return "inf" if math.isinf(x) else f"{x:.2g}x"


def family(case_name: str) -> str:
    """The loss a case belongs to: the part of its name before "/" (`wbce/plain` -> `wbce`)."""
    return case_name.split("/")[0]


_WORD = {"passed": "PASS", "failed": "FAIL", "skipped": "SKIP"}
CELL_HEADER = ("case", "framework", "device", "dtype", "computed in", "value err/tol", "grad err/tol", "result")
ROW_HEADER = ("loss", "framework", "device", "cells run", "computed in", "worst value err/tol", "worst grad err/tol",
              "result")


def _worst(values: Iterable[float | None]) -> float:
    vals = [v for v in values if v is not None and not math.isnan(v)]
    return max(vals) if vals else math.nan


def _cell_rows(results: Sequence[CellResult], show_skipped: bool = False) -> Iterator[tuple[str, ...]]:
    """One row per cell run; skipped cells (an absent device or framework) folded into one row
    per framework, device and reason unless `show_skipped`."""
    folded: dict = {}
    for r in results:
        if r.skipped and not show_skipped:
            folded.setdefault((r.framework, r.device, r.skipped), []).append(r)
            continue
        note = r.skipped or r.error or ""
        yield (r.case, r.framework, r.device, r.dtype, r.computed_in or r.dtype, _ratio(r.value_ratio),
               _ratio(r.grad_ratio), _WORD[status(r)] + (f" ({note})" if note else ""))
    for (framework, device, reason), cells in folded.items():
        yield (f"({len(cells)} cells)", framework, device, "all", "-", "-", "-", f"SKIP ({reason})")


def _loss_rows(results: Sequence[CellResult]) -> Iterator[tuple[str, ...]]:
    """The full table: one row per loss x framework x device (cells run / cells, the worst
    error / tolerance for value and gradient, and the status)."""
    groups: dict = {}
    for r in results:
        groups.setdefault((family(r.case), r.framework, r.device), []).append(r)
    for (loss, framework, device), cells in groups.items():
        ran = [r for r in cells if not r.skipped]
        failed = [r for r in ran if not r.passed]
        if not ran:
            word = f"SKIP ({cells[0].skipped})"
        elif failed:
            word = f"FAIL ({len(failed)} of {len(ran)})"
        else:
            word = "PASS"
        computed = ", ".join(dict.fromkeys(r.computed_in.split(" ")[0] if r.computed_in else "input dtype"
                                           for r in ran))
        yield (loss, framework, device, f"{len(ran)}/{len(cells)}", computed if ran else "-",
               _ratio(_worst(r.value_ratio for r in ran)),
               _ratio(_worst(r.grad_ratio for r in ran)), word)


def explanations(results: Sequence[CellResult], every_cell: bool = False) -> list[str]:
    """Failures in words (the worst failing cell per loss x framework x device unless
    `every_cell`), then how a tolerance was derived where it was not the table's alone."""
    lines, seen = [], set()
    failed = sorted((r for r in results if status(r) == "failed"),
                    key=lambda r: -_worst([r.value_ratio, r.grad_ratio, 0.0]))
    for r in failed:
        key = (r.case, r.framework, r.device, r.dtype) if every_cell else (family(r.case), r.framework, r.device)
        if key in seen:
            continue
        seen.add(key)
        lines.append(f"FAIL {r.case} {r.framework} {r.device} {r.dtype}: {r.error or r.diagnosis}")
    notes = dict.fromkeys(f"note {r.case} {r.framework} {r.dtype}: {r.tolerance_note}"
                          for r in results if r.tolerance_note and status(r) != "skipped")
    return lines + list(notes)


def summary(results: Sequence[CellResult]) -> str:
    n = counts(results)
    frameworks = sorted({r.framework for r in results})
    verdict = "FAILURES" if n["failed"] else ("ALL PASS" if n["passed"] else "NOTHING RAN")
    return (f"parity: {verdict}: {n['passed']} passed, {n['failed']} failed, {n['skipped']} skipped "
            f"({len({r.case for r in results})} cases; {', '.join(frameworks)})")


def _framework_dtype_rows(results: Sequence[CellResult]) -> tuple[list[str], list[tuple[str, ...]]]:
    """The summary view: one row per framework, one column per dtype, each cell "passed/run"
    (over every case and device that ran; "-" where none ran), then the framework's result."""
    dtypes = list(dict.fromkeys(r.dtype for r in results))
    rows = []
    for framework in dict.fromkeys(r.framework for r in results):
        ran = [r for r in results if r.framework == framework and not r.skipped]
        row = [framework]
        for dtype in dtypes:
            here = [r for r in ran if r.dtype == dtype]
            row.append(f"{sum(r.passed for r in here)}/{len(here)}" if here else "-")
        failed = sum(not r.passed for r in ran)
        row.append(f"FAIL ({failed} of {len(ran)} cells)" if failed else ("PASS" if ran else "SKIP"))
        rows.append(tuple(row))
    return ["framework", *dtypes, "result"], rows


def skipped_line(results: Sequence[CellResult]) -> str | None:
    """What was not run and why, in one line: per reason, the devices and frameworks it covers."""
    by_reason: dict[str, list[CellResult]] = {}
    for r in results:
        if r.skipped:
            by_reason.setdefault(r.skipped, []).append(r)
    if not by_reason:
        return None
    parts = []
    for reason, cells in by_reason.items():
        devices = ", ".join(dict.fromkeys(r.device for r in cells))
        frameworks = ", ".join(dict.fromkeys(r.framework for r in cells))
        parts.append(f"{reason} ({devices}: {frameworks})")
    n = sum(len(cells) for cells in by_reason.values())
    return f"skipped {n} cell{'s' if n != 1 else ''}, not run here: " + "; ".join(parts)


# The summary view lists at most this many failures in words; --full and --cells list them all.
SUMMARY_FAILURE_LINES = 12


def format_summary(results: Sequence[CellResult], fmt: str = "table") -> str:
    """The default report of `classbalance-parity`: what was compared, cells passed per framework
    and dtype, the failures in words (at most SUMMARY_FAILURE_LINES), one line for the tolerance
    notes, one line for what was skipped and why, where the full report is, and the summary line."""
    header, rows = _framework_dtype_rows(results)
    n_cases = len({r.case for r in results})
    intro = (f"{n_cases} case{'s' if n_cases != 1 else ''}, value and gradient against the float64 NumPy oracle; "
             "cells passed / run per framework and input dtype:")
    explained = explanations(results)
    words = [w for w in explained if not w.startswith("note ")]
    if len(words) > SUMMARY_FAILURE_LINES:
        words = words[:SUMMARY_FAILURE_LINES] + [f"... {len(words) - SUMMARY_FAILURE_LINES} more: see --full"]
    notes = [w for w in explained if w.startswith("note ")]
    if notes:  # how a tolerance was derived: one line here, each in --full
        words.append(f"{len(notes)} tolerance note{'s' if len(notes) != 1 else ''} (--full lists them), "
                     f"e.g. {notes[0][len('note '):]}")
    skipped = skipped_line(results)
    more = "full report: --full (one row per loss, framework and device) or --cells (one row per cell)"
    if fmt == "markdown":
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        notes = [f"- {w}" for w in words] + ([f"- {skipped}"] if skipped else [])
        return "\n".join([intro, ""] + lines + [""] + notes + ([""] if notes else []) + [summary(results)])
    skipped_lines = [skipped] if skipped else []
    return "\n".join([intro] + _aligned(header, rows) + words + skipped_lines + [more, summary(results)])


def _aligned(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A plain-text table: the header, a rule, the rows, columns padded to their widest entry."""
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(header)]

    def line(row: Sequence[str]) -> str:
        return "  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip()

    return [line(header), line(["-" * w for w in widths])] + [line(r) for r in rows]


def format_results(results: Sequence[CellResult], fmt: str = "table", show_skipped: bool = False, cells: bool = False,
                   compact: bool = False) -> str:
    """The report: "table" or "markdown" (one row per loss x framework x device, or per cell with
    `cells`, or `compact`: the summary view of `format_summary`; errors as a multiple of the
    tolerance), then the failures in words and the summary; "json": every cell, strict JSON
    (whatever the view)."""
    if fmt == "json":
        return json.dumps({"summary": summary(results), "counts": counts(results),
                           "rows": [dict(zip(ROW_HEADER, row)) for row in _loss_rows(results)],
                           "cells": [cell_record(r) for r in results]}, indent=1, allow_nan=False)
    if compact and not cells:
        return format_summary(results, fmt)
    header = CELL_HEADER if cells else ROW_HEADER
    rows = list(_cell_rows(results, show_skipped) if cells else _loss_rows(results))
    words = explanations(results, every_cell=cells)
    if fmt == "markdown":
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines + [""] + [f"- {w}" for w in words] + ([""] if words else []) + [summary(results)])
    return "\n".join(_aligned(header, rows) + words + [summary(results)])


def _loss_label(case_name: str, cases: Iterable[Case] = ALL_CASES) -> str:
    """A heat map row's label: the loss class a case family tests (`wbce` ->
    `WeightedBinaryCrossentropy`), or the family itself for a user's pair (parity API)."""
    fam = family(case_name)
    for c in cases:
        if family(c.name) == fam and isinstance(c.fn, str):
            return class_name(c.fn)
    return fam


def plot_heatmap(results: Sequence[CellResult], path: str) -> None:
    """`--plot FILE.png`: the worst error / tolerance per loss (rows, by class name) and framework
    and input dtype (columns, grouped by framework), value above gradient, on a log colour scale
    centred on 1 (the tolerance): green passes, red (> 1) fails, grey was skipped; each cell
    carries its ratio."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    losses = list(dict.fromkeys(family(r.case) for r in results))
    labels = [_loss_label(f) for f in losses]
    frameworks = list(dict.fromkeys(r.framework for r in results))
    dtypes = list(dict.fromkeys(r.dtype for r in results))
    columns = [(fw, dt) for fw in frameworks for dt in dtypes]
    width = max(9.0, 3.5 + 0.62 * len(columns))
    panel = 1.2 + 0.34 * len(losses)
    fig, axes = plt.subplots(2, 1, figsize=(width, 2 * panel + 1.0), squeeze=False, constrained_layout=True)
    cmap = plt.get_cmap("RdYlGn_r").with_extremes(bad="#d9d9d9")
    norm = LogNorm(1e-3, 1e3)
    image = None
    for ax, attr, what in zip(axes[:, 0], ("value_ratio", "grad_ratio"), ("Loss value", "Gradient")):
        grid = np.full((len(losses), len(columns)), np.nan)
        for r in results:
            v = getattr(r, attr)
            if r.skipped or v is None or math.isnan(v) or (r.framework, r.dtype) not in columns:
                continue
            i, j = losses.index(family(r.case)), columns.index((r.framework, r.dtype))
            grid[i, j] = np.nanmax([grid[i, j], min(v, 1e3)])
        shown = np.where(np.isnan(grid), np.nan, np.clip(grid, 1e-3, 1e3))
        image = ax.imshow(np.ma.masked_invalid(shown), cmap=cmap, norm=norm, aspect="auto")
        for (i, j), v in np.ndenumerate(grid):
            dark = not np.isnan(v) and (v < 1e-2 or v > 1e2)  # the deep ends of the colour scale
            ax.text(j, i, "skipped" if np.isnan(v) else f"{v:.2g}", ha="center", va="center", fontsize=7,
                    color="white" if dark else "black")
        ax.set_xticks(range(len(columns)), [dt for _, dt in columns], rotation=45, ha="right", fontsize=8)
        ax.set_yticks(range(len(losses)), labels, fontsize=8)
        for k in range(1, len(frameworks)):  # a rule between frameworks
            ax.axvline(k * len(dtypes) - 0.5, color="white", lw=3)
        top = ax.secondary_xaxis("top")
        top.set_xticks([(k + 0.5) * len(dtypes) - 0.5 for k in range(len(frameworks))], frameworks, fontsize=9)
        top.tick_params(length=0)
        ax.set_xlabel("input dtype, per framework", fontsize=9)
        ax.set_ylabel("loss class", fontsize=9)
        ax.set_title(f"{what}: worst |error| / tolerance, against the float64 oracle (<= 1 passes)", fontsize=10,
                     pad=22)
    if image is not None:
        bar = fig.colorbar(image, ax=axes[:, 0], shrink=0.6, pad=0.01)
        bar.set_label("worst |error| / tolerance (log scale)", fontsize=9)
    fig.savefig(path, dpi=110)
    plt.close(fig)
