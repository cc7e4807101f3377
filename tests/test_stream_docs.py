"""Every ```python block of docs/distributed_streams.md runs as written: each in a fresh
interpreter, from an empty temporary folder, with the repository on PYTHONPATH."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "distributed_streams.md"
BLOCKS = re.findall(r"^```python\n(.*?)^```$", PAGE.read_text(), flags=re.S | re.M)
TIMEOUT_S = 180


def test_the_page_has_its_recipes():
    # DDP, two multi-worker Keras recipes, two resume recipes.
    assert len(BLOCKS) == 5


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_block_runs(tmp_path, index):
    script = tmp_path / f"block{index}.py"
    script.write_text(BLOCKS[index])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
               KERAS_BACKEND="tensorflow", CUDA_VISIBLE_DEVICES="", TF_CPP_MIN_LOG_LEVEL="2")
    env.pop("TF_CONFIG", None)
    try:
        proc = subprocess.run([sys.executable, script.name], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"block {index} of {PAGE.name} did not finish in {TIMEOUT_S} s")
    assert proc.returncode == 0, f"block {index} of {PAGE.name} failed:\n{proc.stderr[-4000:]}"
