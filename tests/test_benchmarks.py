"""`make bench` stays runnable: benchmarks/bench_losses.py runs end to end on a tiny input
(one loss, every mode of both frameworks) and prints the performance page's table row, and
benchmarks/bench_ray.py prints the Ray Data page's table. Only the output's form is checked;
speed lives in the benchmark itself, never in a test."""

import os
import pathlib
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
    assert modes == ["torch eager", "torch eager, validated", "torch validated / not", "torch.compile", "tf eager",
                     "tf eager, validated", "tf validated / not", "tf XLA"], header
    cells = [c.strip() for c in row.strip("|").split("|")][2:]
    assert len(cells) == len(modes), row
    for cell in cells:  # "ratio (low-high)", the interval around the ratio
        match = re.fullmatch(r"(\d+\.\d\d)x \((\d+\.\d\d)-(\d+\.\d\d)\)", cell)
        assert match, row
        ratio, low, high = map(float, match.groups())
        assert 0 < low <= ratio <= high, row


def test_bench_ray_runs_and_prints_the_ray_pages_table():
    """benchmarks/bench_ray.py on a tiny Parquet data set: the header of docs/ray_data.md's table
    and one well-formed row per case (four cases, one size)."""
    pytest.importorskip("ray")
    out = subprocess.run(
        [sys.executable, os.path.join(ROOT, "benchmarks", "bench_ray.py"), "--rows", "20000", "--repeats", "1"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.splitlines()
    header = next(line for line in lines if line.startswith("| rows |"))
    page = (pathlib.Path(ROOT) / "docs" / "ray_data.md").read_text().splitlines()
    assert header in page, "docs/ray_data.md's table no longer has the benchmark's columns: rerun it"
    rows = [line for line in lines if line.startswith("| 20,000 |")]
    assert [row.split("|")[3].strip() for row in rows] == [
        "groupby(y).count()", "count_classes", "random_shuffle + iter_batches", "balance + iter_batches"]
    for row in rows:
        assert re.search(r"\| \d+\.\d\dx( \(anchor\))? \| \d+\.\d MB \(-?\d+\.\d B/row\) \|$", row), row
