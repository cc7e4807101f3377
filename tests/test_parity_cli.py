"""`classbalance-parity`: filters, formats, the Keras worker subprocess and the exit codes."""

import importlib
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from parity_tests import cli, matrix
from parity_tests.cases import ALL_CASES as CASES

FAST = ["--dtype", "float32", "--device", "cpu"]
REPO = pathlib.Path(__file__).resolve().parents[1]


def _reject_constant(name):
    raise ValueError(f"not strict JSON: {name}")


def test_json_output_for_a_filtered_torch_run(capsys):
    assert cli.main(["--framework", "torch", "--loss", "wbce/plain,cfocal/default", "--dtype", "float32,bfloat16",
                     "--device", "cpu", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out, parse_constant=_reject_constant)
    cells = out["cells"]
    assert {(c["case"], c["dtype"]) for c in cells} == {
        (case, dtype) for case in ("wbce/plain", "cfocal/default") for dtype in ("float32", "bfloat16")}
    assert all(c["passed"] is True and c["status"] == "passed" and c["framework"] == "torch"
               and c["device"] == "cpu" and c["skipped"] is None for c in cells)
    assert out["counts"] == {"passed": 4, "failed": 0, "skipped": 0}
    assert out["summary"].startswith("parity: ALL PASS: 4 passed, 0 failed, 0 skipped")


def test_json_is_strict_and_skipped_cells_are_neither_passed_nor_failed(capsys):
    """No GPU here: --device gpu skips every cell, as null numbers and status "skipped", and the
    exit status says that nothing ran (3, not 0)."""
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a GPU is visible: the gpu cells run")
    assert cli.main(["--framework", "torch", "--loss", "wbce/plain", "--dtype", "float32", "--device", "cpu,gpu",
                     "--format", "json"]) == 0  # the cpu cell ran and passed
    text = capsys.readouterr().out
    assert "NaN" not in text and "Infinity" not in text
    cells = {c["device"]: c for c in json.loads(text, parse_constant=_reject_constant)["cells"]}
    gpu = cells["gpu"]
    assert gpu["status"] == "skipped" and gpu["passed"] is None and gpu["skipped"] == "no CUDA device visible to torch"
    assert gpu["value_ratio"] is None and gpu["grad_ratio"] is None and gpu["value_err"] is None
    assert cells["cpu"]["status"] == "passed" and cells["cpu"]["value_ratio"] <= 1.0

    assert cli.main(["--framework", "torch", "--loss", "wbce/plain", "--dtype", "float32", "--device", "gpu"]) == 3
    assert "parity: NOTHING RAN: 0 passed, 0 failed, 1 skipped" in capsys.readouterr().out


def test_a_failing_cell_is_strict_json_too():
    """A worker that dies gives an infinite error: null in JSON, status "failed"."""
    import math

    from parity_tests.harness import CellResult

    r = CellResult(case="(all)", framework="keras/torch", device="-", dtype="-", value_err=math.inf,
                   grad_err=math.inf, value_ratio=math.inf, grad_ratio=math.inf, rtol=math.nan, atol=math.nan,
                   passed=False, error="worker exited with 1")
    (cell,) = json.loads(matrix.format_results([r], "json"), parse_constant=_reject_constant)["cells"]
    assert cell["status"] == "failed" and cell["passed"] is False and cell["value_ratio"] is None
    assert cell["rtol"] is None and cell["error"] == "worker exited with 1"


def test_keras_worker_subprocess_and_markdown(capsys):
    """The Keras column runs in a subprocess with its own KERAS_BACKEND."""
    assert cli.main(["--framework", "keras/torch", "--loss", "la/default", "--dtype", "float64", "--device", "cpu",
                     "--format", "markdown", "--cells"]) == 0
    out = capsys.readouterr().out
    assert "| la/default | keras/torch | cpu | float64 | float64 |" in out and "PASS" in out


def test_exit_code_is_1_when_a_cell_fails(capsys, monkeypatch):
    from parity_tests import harness, reference

    # a wrong oracle must turn every cell red (and the cached oracle values must not hide it)
    monkeypatch.setattr(reference, "weighted_binary_crossentropy", lambda x, y, **kw: 0.0 * x)
    monkeypatch.setattr(harness, "_ORACLE_CACHE", {})
    assert cli.main(["--framework", "torch", "--loss", "wbce/plain", *FAST]) == 1
    assert "FAIL" in capsys.readouterr().out


def test_bad_filters_are_usage_errors(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--dtype", "float8"])
    assert exc.value.code == 2 and "invalid --dtype ['float8']" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        cli.main(["--framework", "torch", "--loss", "nonexistent"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "unknown --loss 'nonexistent'" in err
    assert "WeightedBinaryCrossentropy" in err and "weighted_binary_crossentropy" in err


def test_help_documents_the_exit_statuses(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--help"])
    out = capsys.readouterr().out
    assert exc.value.code == 0
    assert "exit status" in out and "3  no cell ran" in out and "1  at least one cell failed" in out


def test_list_prints_the_cases(capsys):
    assert cli.main(["--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["case", "functional", "class"]
    assert len(lines) == 2 + len(CASES)
    assert "wbce/plain weighted_binary_crossentropy WeightedBinaryCrossentropy" in [" ".join(x.split()) for x in lines]


@pytest.mark.parametrize("key", ["WeightedBinaryCrossentropy", "weighted_binary_crossentropy", "wbce"])
def test_loss_matches_class_functional_and_family_names_exactly(key):
    wbce = [c.name for c in CASES if c.fn == "weighted_binary_crossentropy"]
    assert [c.name for c in matrix.select_cases(key)] == wbce


def test_loss_no_longer_matches_substrings():
    focal = {c.name for c in matrix.select_cases("BinaryFocalLoss,categorical_focal_loss")}
    assert focal == {c.name for c in CASES if c.fn in ("binary_focal_loss", "categorical_focal_loss")}
    assert not any(n.startswith(("asl/", "cb/")) for n in focal)
    with pytest.raises(ValueError, match="unknown --loss 'focal'"):
        matrix.select_cases("focal")
    assert [c.name for c in matrix.select_cases("cb/sigmoid")] == ["cb/sigmoid"]


@pytest.mark.parametrize("module", ["torch_impl.losses", "tf_impl.losses"])
def test_class_names_are_the_packages_classes(module):
    pytest.importorskip("torch" if module.startswith("torch") else "keras")
    losses = importlib.import_module(module)
    for fn in {c.fn for c in CASES if isinstance(c.fn, str)}:
        assert isinstance(getattr(losses, matrix.class_name(fn)), type), fn


def test_frameworks_not_installed_are_skipped_with_the_reason(capsys, monkeypatch):
    """A missing keras or tensorflow: its columns skipped, no worker started, exit 3."""
    monkeypatch.setitem(sys.modules, "tensorflow", None)
    assert cli.main(["--framework", "keras/tensorflow", "--loss", "la/default", *FAST]) == 3
    assert "skipped 1 cell, not run here: tensorflow is not installed (cpu: keras/tensorflow)" in capsys.readouterr().out
    assert cli.main(["--framework", "keras/tensorflow", "--loss", "la/default", *FAST, "--full"]) == 3
    assert "SKIP (tensorflow is not installed)" in capsys.readouterr().out
    monkeypatch.setitem(sys.modules, "keras", None)
    assert cli.main(["--framework", "keras/tensorflow,keras/torch", "--loss", "la/default", *FAST,
                     "--format", "json"]) == 3
    cells = json.loads(capsys.readouterr().out)["cells"]
    assert [(c["framework"], c["status"], c["skipped"]) for c in cells] == [
        ("keras/tensorflow", "skipped", "keras is not installed"), ("keras/torch", "skipped", "keras is not installed")]


def test_torch_not_installed_is_skipped_not_a_crash():
    """In a fresh process where `import torch` fails: the CLI imports, skips torch, runs nothing."""
    code = ("import sys; sys.modules['torch'] = None\n"
            "from parity_tests import cli\n"
            "sys.exit(cli.main(['--framework', 'torch', '--loss', 'wbce/plain', '--dtype', 'float32', '--device', 'cpu']))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 3, proc.stderr
    assert "skipped 1 cell, not run here: torch is not installed (cpu: torch)" in proc.stdout
    assert "ModuleNotFoundError" not in proc.stderr


def test_default_view_is_a_summary_per_framework_and_dtype(capsys):
    """Cells passed / run per framework and dtype, one line for what was skipped and why, where
    the full report is, and the summary line."""
    torch = pytest.importorskip("torch")
    assert cli.main(["--framework", "torch", "--loss", "wbce,la/default", "--dtype", "float32,bfloat16",
                     "--device", "cpu,gpu"]) == 0
    lines = capsys.readouterr().out.splitlines()
    n = sum(c.fn == "weighted_binary_crossentropy" for c in CASES) + 1
    assert lines[0].startswith(f"{n} cases, value and gradient against the float64 NumPy oracle")
    assert lines[1].split() == ["framework", "float32", "bfloat16", "result"]
    ran = 2 * n if torch.cuda.is_available() else n
    assert lines[3].split() == ["torch", f"{ran}/{ran}", f"{ran}/{ran}", "PASS"]
    skipped = [line for line in lines if line.startswith("skipped")]
    if torch.cuda.is_available():
        assert skipped == []
    else:
        assert skipped == [f"skipped {2 * n} cells, not run here: no CUDA device visible to torch (gpu: torch)"]
    assert "--full" in lines[-2] and "--cells" in lines[-2]
    assert lines[-1].startswith(f"parity: ALL PASS: {2 * ran} passed, 0 failed")


def test_summary_stays_short_whatever_fails():
    """Every case on four frameworks, two devices and four dtypes, with a failure in every loss on
    every framework and a tolerance note on every float64 cell of one: the summary is at most 40
    lines, the failures beyond its limit counted, the notes folded into one line."""
    from parity_tests.harness import CellResult

    results = []
    for framework in cli.FRAMEWORK_CHOICES:
        for device in ("cpu", "gpu"):
            for dtype in ("float64", "float32", "float16", "bfloat16"):
                for i, case in enumerate(CASES):
                    bad = device == "cpu" and dtype == "float16" and i % 3 == 0
                    results.append(CellResult(
                        case=case.name, framework=framework, device=device, dtype=dtype, value_err=0.1,
                        grad_err=0.1, value_ratio=2.0 if bad else 0.5, grad_ratio=0.5, rtol=1e-3, atol=1e-5,
                        passed=not bad, skipped="no GPU here" if device == "gpu" else None,
                        diagnosis="value fails" if bad else None,
                        tolerance_note="computed in float32" if framework == "keras/torch" and dtype == "float64"
                        else None))
    text = matrix.format_results(results, "table", compact=True)
    lines = text.splitlines()
    assert len(lines) <= 40, text
    bad_per_framework = sum(i % 3 == 0 for i in range(len(CASES)))
    rows = {line.split()[0]: line.split()[1:] for line in lines[3:3 + len(cli.FRAMEWORK_CHOICES)]}
    n = len(CASES)
    for framework in cli.FRAMEWORK_CHOICES:
        assert rows[framework] == [f"{n}/{n}", f"{n}/{n}", f"{n - bad_per_framework}/{n}", f"{n}/{n}", "FAIL",
                                   f"({bad_per_framework}", "of", f"{4 * n}", "cells)"]
    failing_losses = {matrix.family(c.name) for i, c in enumerate(CASES) if i % 3 == 0}
    explained = len(cli.FRAMEWORK_CHOICES) * len(failing_losses)  # one line per loss x framework x device
    assert f"... {explained - matrix.SUMMARY_FAILURE_LINES} more: see --full" in lines
    assert sum(line.startswith("FAIL ") for line in lines) == matrix.SUMMARY_FAILURE_LINES
    assert sum(line.startswith("skipped ") for line in lines) == 1
    assert [line for line in lines if "tolerance note" in line] == [
        f"{n} tolerance notes (--full lists them), e.g. {CASES[0].name} keras/torch float64: computed in float32"]
    full = matrix.format_results(results, "table")
    assert sum(line.startswith("note ") for line in full.splitlines()) == n
    assert lines[-1].startswith(f"parity: FAILURES: {len(cli.FRAMEWORK_CHOICES) * (4 * n - bad_per_framework)} passed")


def test_full_view_is_one_row_per_loss_framework_device_with_ratios(capsys):
    assert cli.main(["--framework", "torch", "--loss", "wbce,la/default", "--dtype", "float32,bfloat16",
                     "--device", "cpu", "--full"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:5] == ["loss", "framework", "device", "cells", "run"]
    rows = [line.split() for line in lines[2:-1]]
    n_wbce = 2 * sum(c.fn == "weighted_binary_crossentropy" for c in CASES)
    assert [r[:4] for r in rows] == [["wbce", "torch", "cpu", f"{n_wbce}/{n_wbce}"], ["la", "torch", "cpu", "2/2"]]
    for r in rows:  # worst value and gradient error as a multiple of the tolerance, at most 1x
        assert r[-3].endswith("x") and r[-2].endswith("x") and r[-1] == "PASS"
        assert float(r[-3][:-1]) <= 1.0 and float(r[-2][:-1]) <= 1.0


def test_cells_view_and_failures_in_words(capsys, monkeypatch):
    from parity_tests import harness, reference

    monkeypatch.setattr(reference, "weighted_binary_crossentropy",
                        lambda x, y, **kw: 2.0 * (np.logaddexp(0.0, x) - y * x))  # twice the true loss
    monkeypatch.setattr(harness, "_ORACLE_CACHE", {})
    assert cli.main(["--framework", "torch", "--loss", "wbce/plain", *FAST, "--cells"]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:4] == ["case", "framework", "device", "dtype"]
    assert "FAIL wbce/plain torch cpu float32: value and gradient fail" in out
    assert "got / want = 0.5 everywhere" in out  # the oracle is 2x: a constant factor, not a count


def test_plot_writes_a_heatmap(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    path = tmp_path / "parity.png"
    assert cli.main(["--framework", "torch", "--loss", "wbce/plain,la/default", *FAST, "--plot", str(path)]) == 0
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 2000


def test_heatmap_rows_are_named_by_loss_class():
    assert matrix._loss_label("wbce/plain") == "WeightedBinaryCrossentropy"
    assert matrix._loss_label("ldam/default") == "LDAMLoss"
    assert matrix._loss_label("user/random") == "user"  # a user's pair has no class in the packages


def test_progress_only_on_a_terminal(capsys, monkeypatch):
    assert cli.main(["--framework", "torch", "--loss", "la/default", *FAST]) == 0
    assert capsys.readouterr().err == ""  # not a terminal: no progress bar in logs
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert cli.main(["--framework", "torch", "--loss", "la/default", *FAST]) == 0
    assert "[##############################] 1/1" in capsys.readouterr().err


def test_keras_worker_tensorflow_log_noise_is_silenced(capfd):
    assert cli.main(["--framework", "keras/tensorflow", "--loss", "la/default", *FAST]) == 0
    err = capfd.readouterr().err
    assert "absl" not in err and "oneDNN" not in err and "cpu_feature_guard" not in err, err


# ---------------------------------------------------------------- one framework installed


def _closure(*roots: str) -> set:
    """The installed distributions `roots` need (their requirements, recursively, markers
    evaluated for this interpreter; extras left out), as canonical names."""
    import re
    from importlib import metadata

    canon = lambda n: re.sub(r"[-_.]+", "-", n).lower()  # noqa: E731
    seen, todo = set(), [canon(r) for r in roots]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # an optional requirement that is not installed here
        seen.add(name)
        for req in dist.requires or []:
            spec, _, marker = req.partition(";")
            if "extra" in marker:
                continue
            if marker.strip():
                from packaging.markers import Marker

                if not Marker(marker).evaluate():
                    continue
            todo.append(canon(re.split(r"[\s<>=!~\[(]", spec.strip(), maxsplit=1)[0]))
    return seen


def _venv_with(tmp_path, *roots: str) -> str:
    """A fresh venv (no pip, no system site-packages) whose site-packages links only the
    distributions `roots` need, taken from this environment; no .pth files, so nothing else
    (and not the other framework) is importable. Returns its python."""
    import re
    import sysconfig
    import venv
    from importlib import metadata

    target = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False, symlinks=True).create(target)
    python = target / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    here = pathlib.Path(sysconfig.get_paths()["purelib"])
    canon = lambda n: re.sub(r"[-_.]+", "-", n).lower()  # noqa: E731
    wanted = _closure(*roots)
    for dist in metadata.distributions():
        if canon(dist.metadata["Name"]) not in wanted:
            continue
        tops = {pathlib.PurePath(f).parts[0] for f in dist.files or []}
        for top in tops:
            src = here / top
            if top.endswith(".pth") or top in ("..", "bin") or not src.exists():
                continue
            dst = pathlib.Path(purelib) / top
            if not dst.exists():
                dst.symlink_to(src)
    return str(python)


def _run_cli(python: str, *args: str):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "KERAS_BACKEND")}
    env.update(PYTHONPATH=str(REPO), TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.run([python, "-m", "parity_tests.cli", *args], capture_output=True, text=True, timeout=300,
                          env=env, cwd=REPO)


def _importable(python: str, module: str) -> bool:
    return subprocess.run([python, "-c", f"import {module}"], capture_output=True, timeout=300).returncode == 0


@pytest.mark.slow
def test_tensorflow_only_install(tmp_path):
    """numpy, TensorFlow and Keras (with their requirements) and nothing else: torch cannot be
    imported, the CLI runs Keras on tensorflow and skips torch and Keras-on-torch, with the reason."""
    pytest.importorskip("tensorflow")
    python = _venv_with(tmp_path, "numpy", "tensorflow-cpu", "tensorflow", "keras")
    assert not _importable(python, "torch") and _importable(python, "keras")
    proc = _run_cli(python, "--loss", "la/default", *FAST, "--format", "json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    cells = {c["framework"]: c for c in json.loads(proc.stdout, parse_constant=_reject_constant)["cells"]}
    assert cells["keras/tensorflow"]["status"] == "passed"
    assert cells["torch"]["skipped"] == "torch is not installed"
    assert cells["keras/torch"]["skipped"] == "torch is not installed"
    assert "keras/jax" not in cells  # jax is not installed: not a column at all


@pytest.mark.slow
def test_torch_only_install(tmp_path):
    """numpy, torch and torchmetrics and nothing else: the CLI runs torch and skips every Keras column."""
    python = _venv_with(tmp_path, "numpy", "torch", "torchmetrics")
    assert not _importable(python, "tensorflow") and not _importable(python, "keras") and _importable(python, "torch")
    proc = _run_cli(python, "--loss", "la/default", *FAST, "--full")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert ["la", "torch", "cpu", "1/1"] in [line.split()[:4] for line in proc.stdout.splitlines()]
    assert "SKIP (keras is not installed)" in proc.stdout and "ModuleNotFoundError" not in proc.stderr
    proc = _run_cli(python, "--loss", "la/default", *FAST, "--framework", "keras/tensorflow")
    assert proc.returncode == 3 and "NOTHING RAN" in proc.stdout  # nothing could run: exit 3
