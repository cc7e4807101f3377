"""`make bench` stays runnable: benchmarks/bench_losses.py runs end to end on a tiny input
(one loss, every mode of both frameworks) and prints the performance page's table row. Only the output's
form is checked; speed lives in the benchmark itself, never in a test."""

import os
import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_bench_losses_runs_and_prints_the_markdown_row():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    env.pop("KERAS_BACKEND", None)  # the script picks its own (tensorflow on the CPU)
    out = subprocess.run(
        [sys.executable, os.path.join(ROOT, "benchmarks", "bench_losses.py"), "--elements", "2000", "--cols", "10",
         "--repeats", "2", "--markdown", "--only", "WeightedBinary"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    header = next(line for line in out.stdout.splitlines() if line.startswith("| loss |"))
    row = next(line for line in out.stdout.splitlines() if line.startswith("| WeightedBinaryCrossentropy |"))
    modes = [c.strip() for c in header.strip("|").split("|")][2:]
    assert modes == ["torch eager", "torch eager, validated", "torch.compile", "tf eager", "tf eager, validated",
                     "tf XLA"], header
    cells = [c.strip() for c in row.strip("|").split("|")][2:]
    assert len(cells) == len(modes) and all(re.fullmatch(r"\d+\.\d\dx", c) and float(c[:-1]) > 0 for c in cells), row
