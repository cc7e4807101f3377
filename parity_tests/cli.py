"""`classbalance-parity`: the parity report over the case table on the devices present.

Runs torch_impl in this process and tf_impl once per Keras backend (tensorflow, torch, and jax
where installed) in a subprocess (Keras fixes its backend at import), then prints one row per
framework with the cells passed per input dtype, one line for what was skipped and why, each
failure in words, and a one-line summary. `--full`: one row per loss x framework x device
(cells run, the dtype computed in, the worst value and gradient error as a multiple of the
tolerance, PASS/FAIL/SKIP); `--cells`: one row per cell. A framework that is not installed is
skipped, with the reason. Running and formatting the matrix live in matrix.py.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
from collections.abc import Iterable, Sequence

from imbalance_core import validation

from .cases import Case
from .frameworks import DEVICES
from .harness import CellResult
from .matrix import (  # noqa: F401  (format_results, run_matrix, summary: re-exported for parity_tests.api)
    _installed,
    counts,
    format_results,
    framework_missing,
    list_cases,
    plot_heatmap,
    run_matrix,
    select_cases,
    skipped_cells,
    summary,
)
from .tolerances import DTYPES

# Keras on jax joins when jax is installed (the GPU image has jax but no TensorFlow).
KERAS_BACKENDS = ("tensorflow", "torch") + (("jax",) if _installed("jax") else ())
FRAMEWORK_CHOICES = ("torch",) + tuple(f"keras/{b}" for b in KERAS_BACKENDS)

EXIT_PASSED, EXIT_FAILED, EXIT_USAGE, EXIT_NOTHING_RAN = 0, 1, 2, 3

EPILOG = """\
--loss keys match exactly: a case name (wbce/plain), a family (wbce), a functional name
(weighted_binary_crossentropy) or a class name (WeightedBinaryCrossentropy); --list shows them.
Errors are shown as a multiple of the tolerance (atol + rtol |oracle|): <= 1x passes.

exit status:
  0  every cell that ran passed (skipped cells aside)
  1  at least one cell failed
  2  usage error (an unknown option, --loss, --device, --dtype or --framework value)
  3  no cell ran: every selected cell was skipped (no GPU visible, framework not installed)
"""


def _split(parser: argparse.ArgumentParser, value: str | None, allowed: Iterable[str], flag: str) -> list[str]:
    allowed = list(allowed)
    if not value:
        return allowed
    chosen = [v.strip() for v in value.split(",") if v.strip()]
    bad = [v for v in chosen if v not in allowed]
    if bad:
        parser.error(validation.flag_values_message(flag, bad, allowed))
    return chosen


def _worker(args: argparse.Namespace, cases: list[Case]) -> int:
    """Runs the Keras column of this process's backend and prints JSON results."""
    from .frameworks import KerasFramework

    fw = KerasFramework()
    results = run_matrix([fw], cases, args.devices, args.dtypes, label=fw.name)
    json.dump([r.as_dict() for r in results], sys.stdout)  # internal: Python's json reads NaN back
    return 0


def _run_keras_subprocess(backend: str, args: argparse.Namespace) -> list[CellResult]:
    """The Keras column of one backend, in a subprocess (Keras fixes its backend at import).

    TensorFlow's C++ start-up logging ignores TF_CPP_MIN_LOG_LEVEL, so the worker's stderr is
    captured and shown only when the worker fails; its progress bar reaches the terminal
    through a duplicate of this process's stderr."""
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("CLASSBALANCE_PROGRESS_FD", None)
    fds: tuple[int, ...] = ()
    if sys.stderr.isatty():
        fds = (os.dup(sys.stderr.fileno()),)
        env["CLASSBALANCE_PROGRESS_FD"] = str(fds[0])
    cmd = [sys.executable, "-m", "parity_tests.cli", "--worker",
           "--device", ",".join(args.devices), "--dtype", ",".join(args.dtypes)]
    if args.loss:
        cmd += ["--loss", args.loss]
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, pass_fds=fds)
    finally:
        for fd in fds:
            os.close(fd)
    if proc.returncode != 0:
        tail = " | ".join(line for line in proc.stderr.strip().splitlines()[-3:])
        return [CellResult(case="(all)", framework=f"keras/{backend}", device="-", dtype="-",
                           value_err=math.inf, grad_err=math.inf, value_ratio=math.inf, grad_ratio=math.inf,
                           rtol=math.nan, atol=math.nan, passed=False,
                           error=f"worker exited with {proc.returncode}" + (f": {tail}" if tail else ""))]
    return [CellResult(**d) for d in json.loads(proc.stdout)]


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="classbalance-parity", description=__doc__.split("\n\n")[0],
                                epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--loss", help="comma-separated case names, families, functional or class names, "
                                  "matched exactly (default: all)")
    p.add_argument("--device",
                   help=f"comma-separated, from {', '.join(DEVICES)} (default: all; absent ones are skipped)")
    p.add_argument("--dtype", help=f"comma-separated, from {', '.join(DTYPES)} (default: all)")
    p.add_argument("--framework", help=f"comma-separated, from {', '.join(FRAMEWORK_CHOICES)} "
                                       "(default: all; those not installed are skipped)")
    p.add_argument("--format", choices=("table", "markdown", "json"), default="table",
                   help="json: strict JSON (null for a missing number), each cell with a status "
                        "passed/failed/skipped")
    view = p.add_mutually_exclusive_group()
    view.add_argument("--full", action="store_true",
                      help="the full table: one row per loss x framework x device (cells run, the dtype computed in, "
                           "the worst errors / tolerance) instead of the summary per framework and dtype")
    view.add_argument("--cells", action="store_true",
                      help="one row per cell (case x framework x device x dtype) instead of the summary")
    p.add_argument("--show-skipped", action="store_true",
                   help="with --cells: one row per skipped cell (default: folded)")
    p.add_argument("--plot", metavar="FILE.png", help="also write a heatmap of the worst error / tolerance per loss x "
                                                      "framework x dtype, value and gradient (matplotlib)")
    p.add_argument("--list", action="store_true", help="print the selected cases (name, functional, class) and exit")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before anything imports TensorFlow
    args.devices = _split(p, args.device, DEVICES, "--device")
    args.dtypes = _split(p, args.dtype, DTYPES, "--dtype")
    frameworks = _split(p, args.framework, FRAMEWORK_CHOICES, "--framework")
    try:
        cases = select_cases(args.loss)
    except ValueError as exc:
        p.error(str(exc))
    if args.list:
        print(list_cases(cases))
        return EXIT_PASSED
    if args.worker:
        return _worker(args, cases)

    results: list[CellResult] = []
    for framework in frameworks:
        missing = framework_missing(framework)
        if missing:
            results += skipped_cells(framework, cases, args.devices, args.dtypes, missing)
        elif framework == "torch":
            from .frameworks import TorchFramework

            results += run_matrix([TorchFramework()], cases, args.devices, args.dtypes)
        else:
            results += _run_keras_subprocess(framework.split("/", 1)[1], args)
    print(format_results(results, args.format, args.show_skipped, cells=args.cells,
                         compact=not (args.full or args.cells)))
    if args.plot:
        plot_heatmap(results, args.plot)
    n = counts(results)
    return EXIT_FAILED if n["failed"] else (EXIT_PASSED if n["passed"] else EXIT_NOTHING_RAN)


if __name__ == "__main__":
    sys.exit(main())
