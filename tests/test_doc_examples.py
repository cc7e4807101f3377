"""Every ```python block of README.md and of docs/**/*.md runs as written: each in a fresh
interpreter, from an empty temporary folder, with the repository on PYTHONPATH and Keras on its
tensorflow backend. A block whose first line is `# requires: cuda` is skipped without a GPU.

Blocks may be indented (inside a tab or an admonition): the fence's indentation is removed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
FENCE = re.compile(r"^(?P<indent>[ \t]*)```python[^\n]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$", re.S | re.M)
TIMEOUT_S = 180
REQUIRES_CUDA = "# requires: cuda"


def python_blocks(page: Path) -> list[str]:
    """The page's ```python blocks, dedented, in order."""
    return [textwrap.dedent(m.group("body")) for m in FENCE.finditer(page.read_text())]


BLOCKS = [(page, index, block) for page in PAGES for index, block in enumerate(python_blocks(page))]


def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def test_the_extractor_reads_indented_and_plain_fences():
    text = "a\n```python\nx = 1\n```\n\n=== \"tab\"\n\n    ```python\n    y = 2\n    ```\n```bash\nls\n```\n"
    blocks = [textwrap.dedent(m.group("body")) for m in FENCE.finditer(text)]
    assert blocks == ["x = 1\n", "y = 2\n"]


def test_every_page_is_read():
    assert ROOT / "README.md" in PAGES and len(PAGES) > 1
    assert len(python_blocks(ROOT / "README.md")) >= 2  # the two quickstarts


def test_distributed_streams_has_its_recipes():
    # DDP, two multi-worker Keras recipes, two resume recipes.
    assert len(python_blocks(ROOT / "docs" / "distributed_streams.md")) == 5


@pytest.mark.parametrize(("page", "index", "block"), BLOCKS,
                         ids=[f"{p.relative_to(ROOT)}#{i}" for p, i, _ in BLOCKS])
def test_block_runs(tmp_path, page, index, block):
    needs_cuda = block.lstrip().startswith(REQUIRES_CUDA)
    if needs_cuda and not _cuda_available():
        pytest.skip("the block starts with `# requires: cuda` and no GPU is visible")
    script = tmp_path / f"block{index}.py"
    script.write_text(block)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
               KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="2", JAX_PLATFORMS="cpu", MPLBACKEND="Agg")
    if not needs_cuda:
        env["CUDA_VISIBLE_DEVICES"] = ""
    env.pop("TF_CONFIG", None)
    name = f"block {index} of {page.relative_to(ROOT)}"
    try:
        proc = subprocess.run([sys.executable, script.name], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{name} did not finish in {TIMEOUT_S} s")
    assert proc.returncode == 0, f"{name} failed:\n{block}\n{proc.stderr[-4000:]}"
