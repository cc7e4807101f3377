"""What the examples share: for the twins keras_fit.py and torch_train.py the data (one
definition, so the two scripts train and test on the very same samples) and the command line;
for the comparisons (imbalanced_2d, longtail_multiclass, multilabel_512) the Keras-beside-PyTorch
results table."""

import argparse
import os

import numpy as np

DEFAULT_OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "out")


def make_split(n: int, pos_fraction: float, seed: int, dim: int = 8):
    """x (n, dim) float32, y (n,) int64: negatives N(0, I); positives N(0, I) too except the
    first two features, N(0, 0.35^2 I): a rare class inside the majority's densest region."""
    rng = np.random.default_rng(seed)
    n_pos = int(round(n * pos_fraction))
    if not 0 < n_pos < n:
        raise ValueError(f"--pos-fraction {pos_fraction} gives {n_pos} positives out of {n}")
    x = rng.normal(size=(n, dim))
    x[:n_pos, :2] *= 0.35
    y = (np.arange(n) < n_pos).astype(np.int64)
    order = rng.permutation(n)
    return x[order].astype(np.float32), y[order]


def parse_args(argv=None, description: str = "") -> argparse.Namespace:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--n-train", type=int, default=20_000)
    p.add_argument("--n-test", type=int, default=10_000)
    p.add_argument("--pos-fraction", type=float, default=0.03)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--lr", type=float, default=3e-3, help="Adam learning rate")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out-dir", default=DEFAULT_OUT)
    return p.parse_args(argv)


def twin_table(first_column: str, rows, columns, value) -> str:
    """A Markdown table with a Keras and a PyTorch column per metric: `columns` are (key,
    label) pairs, `value(row, framework, key)` the figure ("keras" or "torch")."""
    head = f"| {first_column} | " + " | ".join(f"{label} (Keras) | {label} (PyTorch)" for _, label in columns) + " |"
    lines = [head, "|---" * (1 + 2 * len(columns)) + "|"]
    for row in rows:
        cells = [f"{value(row, fw, key):.4f}" for key, _ in columns for fw in ("keras", "torch")]
        lines.append(f"| {row} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
