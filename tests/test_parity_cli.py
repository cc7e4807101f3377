"""`classbalance-parity`: filters, formats, the Keras worker subprocess and the exit codes."""

import importlib
import json
import subprocess
import sys

import numpy as np
import pytest

from parity_tests import cli, matrix
from parity_tests.cases import ALL_CASES as CASES

FAST = ["--dtype", "float32", "--device", "cpu"]


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
    assert "SKIP (torch is not installed)" in proc.stdout and "ModuleNotFoundError" not in proc.stderr


def test_default_view_is_one_row_per_loss_framework_device_with_ratios(capsys):
    assert cli.main(["--framework", "torch", "--loss", "wbce,la/default", "--dtype", "float32,bfloat16",
                     "--device", "cpu"]) == 0
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
