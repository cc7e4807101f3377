"""`classbalance-parity`: filters, formats, the Keras worker subprocess and the exit code."""

import json

import pytest

from parity_tests import cli


def test_json_output_for_a_filtered_torch_run(capsys):
    assert cli.main(["--framework", "torch", "--loss", "wbce/plain,cfocal/default", "--dtype", "float32,bfloat16",
                     "--device", "cpu", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    cells = out["cells"]
    assert {(c["case"], c["dtype"]) for c in cells} == {
        (case, dtype) for case in ("wbce/plain", "cfocal/default") for dtype in ("float32", "bfloat16")}
    assert all(c["passed"] and c["framework"] == "torch" and c["device"] == "cpu" for c in cells)
    assert out["summary"].startswith("parity: ALL PASS: 4 passed, 0 failed, 0 skipped")


def test_keras_worker_subprocess_and_markdown(capsys):
    """The Keras column runs in a subprocess with its own KERAS_BACKEND."""
    assert cli.main(["--framework", "keras/torch", "--loss", "la/default", "--dtype", "float64", "--device", "cpu",
                     "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert "| la/default | keras/torch | cpu | float64 |" in out and "PASS" in out


def test_exit_code_is_1_when_a_cell_fails(capsys, monkeypatch):
    from parity_tests import harness, reference

    # a wrong oracle must turn every cell red (and the cached oracle values must not hide it)
    monkeypatch.setattr(reference, "weighted_binary_crossentropy", lambda x, y, **kw: 0.0 * x)
    monkeypatch.setattr(harness, "_ORACLE_CACHE", {})
    assert cli.main(["--framework", "torch", "--loss", "wbce/plain", "--dtype", "float32", "--device", "cpu"]) == 1
    assert "FAIL" in capsys.readouterr().out


def test_bad_filters_are_reported():
    with pytest.raises(SystemExit, match=r"invalid --dtype \['float8'\]"):
        cli.main(["--dtype", "float8"])
    with pytest.raises(SystemExit, match=r"no case matches --loss 'nonexistent'"):
        cli.main(["--framework", "torch", "--loss", "nonexistent"])
