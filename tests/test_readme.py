"""The README's quickstarts run as written (1-D labels), each in a fresh working folder."""

import pathlib
import re

import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def _snippet(heading: str) -> str:
    """The first ```python block after `heading`."""
    text = README.read_text()
    section = text[text.index(heading):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


@pytest.mark.keras
def test_keras_quickstart_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exec(compile(_snippet("## Quickstart: Keras"), "README: Quickstart: Keras", "exec"), {})
    assert (tmp_path / "model.keras").exists()


def test_pytorch_quickstart_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = {}
    exec(compile(_snippet("## Quickstart: PyTorch"), "README: Quickstart: PyTorch", "exec"), namespace)
    assert 0.0 <= float(namespace["balanced_accuracy"].compute()) <= 1.0
    assert namespace["per_sample"].shape == namespace["yb"].shape


@pytest.mark.keras
def test_keras_decisions_snippet_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = {}
    heading = "### Prior correction and a tuned threshold in Keras"
    exec(compile(_snippet(heading), f"README: {heading}", "exec"), namespace)
    assert 0.5 < float(namespace["score"]) <= 1.0
    assert namespace["train_prior"] == pytest.approx(0.5, abs=1e-3)
    assert 0.0 <= float(namespace["tnr_threshold"]) <= 1.0 and 0.0 < float(namespace["tnr"]) <= 1.0


def test_pytorch_decisions_snippet_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = {}
    heading = "### Prior correction and a tuned threshold in PyTorch"
    exec(compile(_snippet(heading), f"README: {heading}", "exec"), namespace)
    assert 0.5 < float(namespace["score"]) <= 1.0
    assert set(namespace["model"].state_dict()) >= {"1.train_prior", "1.target_prior"}
    assert 0.0 <= float(namespace["tnr_threshold"]) <= 1.0 and 0.0 < float(namespace["tnr"]) <= 1.0
