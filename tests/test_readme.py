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
