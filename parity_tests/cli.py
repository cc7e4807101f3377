"""`classbalance-parity`: the parity report over the case table on the devices present.

Runs torch_impl in this process and tf_impl once per Keras backend (tensorflow, torch) in a
subprocess (Keras fixes its backend at import), then prints one row per cell: case,
framework, device, dtype, worst value error, worst gradient error, tolerance and PASS/FAIL,
and a one-line summary. Exits 1 when any cell fails.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import subprocess
import sys
from typing import Iterable

from .cases import get_cases
from .frameworks import DEVICES
from .harness import CellResult, run_cell
from .tolerances import DTYPES

# Keras on jax joins when jax is installed (the GPU image has jax but no TensorFlow).
KERAS_BACKENDS = ("tensorflow", "torch") + (("jax",) if importlib.util.find_spec("jax") else ())
FRAMEWORK_CHOICES = ("torch",) + tuple(f"keras/{b}" for b in KERAS_BACKENDS)


def _split(value: str | None, allowed: Iterable[str], flag: str) -> list[str]:
    allowed = list(allowed)
    if not value:
        return allowed
    chosen = [v.strip() for v in value.split(",") if v.strip()]
    bad = [v for v in chosen if v not in allowed]
    if bad:
        raise SystemExit(f"classbalance-parity: invalid {flag} {bad}; allowed: {', '.join(allowed)}")
    return chosen


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


def _worker(args) -> int:
    """Runs the Keras column of this process's backend and prints JSON results."""
    from .frameworks import KerasFramework

    fw = KerasFramework()
    results = run_matrix([fw], get_cases(args.loss), args.devices, args.dtypes, label=fw.name)
    json.dump([r.as_dict() for r in results], sys.stdout)
    return 0


def _run_keras_subprocess(backend: str, args) -> list[CellResult]:
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
    if sys.stderr.isatty():
        env["CLASSBALANCE_PROGRESS"] = "1"
    cmd = [sys.executable, "-m", "parity_tests.cli", "--worker",
           "--device", ",".join(args.devices), "--dtype", ",".join(args.dtypes)]
    if args.loss:
        cmd += ["--loss", args.loss]
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        return [CellResult(case="(all)", framework=f"keras/{backend}", device="-", dtype="-",
                           value_err=math.inf, grad_err=math.inf, value_ratio=math.inf, grad_ratio=math.inf,
                           rtol=math.nan, atol=math.nan, passed=False,
                           error=f"worker exited with {proc.returncode}")]
    return [CellResult(**d) for d in json.loads(proc.stdout)]


def _fmt(x: float) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.2e}"


def _status(r: CellResult) -> str:
    return "SKIP" if r.skipped else ("PASS" if r.passed else "FAIL")


HEADER = ("case", "framework", "device", "dtype", "value err", "grad err", "rtol/atol", "result")


def _rows(results, show_skipped: bool = False):
    """One row per cell run; skipped cells (an absent device) folded into one row per
    framework, device and reason unless `show_skipped`."""
    folded: dict = {}
    for r in results:
        if r.skipped and not show_skipped:
            folded.setdefault((r.framework, r.device, r.skipped), []).append(r)
            continue
        note = r.skipped or r.error or ""
        yield (r.case, r.framework, r.device, r.dtype, _fmt(r.value_err), _fmt(r.grad_err),
               f"{r.rtol:g}/{r.atol:g}", _status(r) + (f" ({note})" if note else ""))
    for (framework, device, reason), cells in folded.items():
        yield (f"({len(cells)} cells)", framework, device, "all", "-", "-", "-", f"SKIP ({reason})")


def summary(results) -> str:
    n_pass = sum(r.passed and not r.skipped for r in results)
    n_fail = sum(not r.passed for r in results)
    n_skip = sum(bool(r.skipped) for r in results)
    frameworks = sorted({r.framework for r in results})
    verdict = "ALL PASS" if n_fail == 0 else "FAILURES"
    return (f"parity: {verdict}: {n_pass} passed, {n_fail} failed, {n_skip} skipped "
            f"({len({r.case for r in results})} cases; {', '.join(frameworks)})")


def format_results(results, fmt: str = "table", show_skipped: bool = False) -> str:
    if fmt == "json":
        return json.dumps({"summary": summary(results), "cells": [r.as_dict() for r in results]}, indent=1)
    rows = list(_rows(results, show_skipped))
    if fmt == "markdown":
        lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines + ["", summary(results)])
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(HEADER)]
    line = lambda row: "  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip()  # noqa: E731
    return "\n".join([line(HEADER), line(["-" * w for w in widths])] + [line(r) for r in rows] + [summary(results)])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="classbalance-parity", description=__doc__.split("\n\n")[0])
    p.add_argument("--loss", help="comma-separated substrings of case or function names (default: all)")
    p.add_argument("--device", help=f"comma-separated, from {', '.join(DEVICES)} (default: all; absent ones are skipped)")
    p.add_argument("--dtype", help=f"comma-separated, from {', '.join(DTYPES)} (default: all)")
    p.add_argument("--framework", help=f"comma-separated, from {', '.join(FRAMEWORK_CHOICES)} (default: all)")
    p.add_argument("--format", choices=("table", "markdown", "json"), default="table")
    p.add_argument("--show-skipped", action="store_true", help="one row per skipped cell (default: folded)")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.devices = _split(args.device, DEVICES, "--device")
    args.dtypes = _split(args.dtype, DTYPES, "--dtype")
    frameworks = _split(args.framework, FRAMEWORK_CHOICES, "--framework")
    if args.worker:
        return _worker(args)
    cases = get_cases(args.loss)
    if not cases:
        raise SystemExit(f"classbalance-parity: no case matches --loss {args.loss!r}")

    results: list[CellResult] = []
    if "torch" in frameworks:
        from .frameworks import TorchFramework

        results += run_matrix([TorchFramework()], cases, args.devices, args.dtypes)
    for backend in KERAS_BACKENDS:
        if f"keras/{backend}" in frameworks:
            results += _run_keras_subprocess(backend, args)
    print(format_results(results, args.format, args.show_skipped))
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
