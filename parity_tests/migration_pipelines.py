"""`compare_pipelines`: a tf.data input pipeline against a torch one, batch by batch.

A pipeline is exact (the tolerance is 0): the same batches, or the same number of samples of
each class in every batch; the first differing batch is explained in words.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from imbalance_core import validation

from .harness import CellResult
from .report import ParityReport

__all__ = ["compare_pipelines"]


def _batches_as_numpy(batches: Any, steps: int | None) -> list[tuple[np.ndarray, np.ndarray]]:
    """(x, y) batches (tf.data, torch tensors or NumPy) as NumPy pairs; a bare index batch
    (a batch sampler's list of indices) as (indices, indices)."""
    out = []
    for i, batch in enumerate(batches):
        if steps is not None and i >= steps:
            break
        if isinstance(batch, (tuple, list)) and len(batch) == 2 and not np.isscalar(batch[0]):
            x, y = batch
        else:
            x = y = batch
        out.append((validation.to_numpy(x), validation.to_numpy(y)))
    return out


def _explain_pipeline(keras_b: list[tuple[np.ndarray, np.ndarray]], torch_b: list[tuple[np.ndarray, np.ndarray]],
                      mode: str, num_classes: int) -> tuple[float, str | None]:
    """(worst difference, the failure in words or None)."""
    if len(keras_b) != len(torch_b):
        return math.inf, (f"tf.data gave {len(keras_b)} batches, torch {len(torch_b)}: the epoch lengths differ "
                          "(steps_per_epoch, batch_size or drop_remainder).")
    for i, ((kx, ky), (tx, ty)) in enumerate(zip(keras_b, torch_b)):
        if mode == "composition":
            kc = np.bincount(ky.ravel().astype(np.int64), minlength=num_classes)
            tc = np.bincount(ty.ravel().astype(np.int64), minlength=num_classes)
            if kc.shape != tc.shape or np.any(kc != tc):
                return float(np.abs(kc - tc).max()) if kc.shape == tc.shape else math.inf, (
                    f"batch {i}: tf.data holds {kc.tolist()} per class, torch {tc.tolist()}: the per-batch "
                    "composition differs (class_fractions, mode or batch_size).")
            continue
        if kx.shape != tx.shape or ky.shape != ty.shape:
            return math.inf, f"batch {i}: shapes {kx.shape}/{ky.shape} (tf.data) against {tx.shape}/{ty.shape} (torch)."
        if np.array_equal(kx, tx) and np.array_equal(ky, ty):
            continue
        diff = float(np.abs(kx.astype(np.float64) - tx.astype(np.float64)).max())
        if np.array_equal(np.sort(kx, axis=0), np.sort(tx, axis=0)):
            why = ("the same rows in another order: both draw the same samples but shuffle differently "
                   "(a different seed or epoch: call set_epoch on the torch side, or compare composition)")
        else:
            later = [j for j, (ox, _) in enumerate(torch_b) if np.array_equal(ox, kx)]
            why = (f"tf.data's batch {i} is torch's batch {later[0]}: the two are out of step (an epoch or a "
                   "step ahead: same seed, same epoch?)" if later else
                   "different samples: the seeds, class_fractions or mode differ")
        return diff, f"batch {i} differs (first rows: tf.data {kx[:3].tolist()}, torch {tx[:3].tolist()}): {why}."
    return 0.0, None


def compare_pipelines(keras_dataset: Any, torch_batches: Any, *, mode: str = "indices", num_classes: int | None = None,
                      steps: int | None = None, name: str = "pipeline") -> ParityReport:
    """Compares a tf.data pipeline with a torch one, batch by batch.

    mode="indices": the same batches (features and labels equal, element for element; pass
    the row indices as features to compare the index batches themselves). mode="composition":
    the same number of samples of each class in every batch. One row in the same table as
    `compare_losses` (the worst difference; a pipeline is exact: the tolerance is 0), the first
    differing batch in words.

    Args:
        keras_dataset: an iterable of (x, y) batches (a tf.data.Dataset, NumPy or Keras tensors).
        torch_batches: an iterable of (x, y) batches of torch tensors, or of index batches (a
            batch sampler), one epoch.
        mode: "indices" or "composition".
        num_classes: for "composition" (default: the largest label + 1).
        steps: compare the first `steps` batches only (default: every batch).

    Examples:
        >>> import numpy as np
        >>> import tf_impl.data
        >>> import torch_impl.data
        >>> y = np.array([0] * 90 + [1] * 10)
        >>> report = compare_pipelines(tf_impl.data.balanced_batches(np.arange(100), y, 8),
        ...                            torch_impl.data.balanced_batches(np.arange(100), y, 8))
        >>> print(report.summary())
        parity: ALL PASS: 1 passed, 0 failed, 0 skipped (1 cases; tf.data vs torch)
    """
    validation.check_choice("mode", mode, ("indices", "composition"))
    keras_b = _batches_as_numpy(keras_dataset, steps)
    torch_b = _batches_as_numpy(torch_batches, steps)
    if num_classes is None:
        num_classes = 1 + int(max([b[1].max() for b in keras_b + torch_b if b[1].size] or [0]))
    err, words = _explain_pipeline(keras_b, torch_b, mode, num_classes)
    ratio = 0.0 if words is None else math.inf
    return ParityReport([CellResult(
        case=f"{name}/{mode}", framework="tf.data vs torch", device="cpu", dtype="-", value_err=err,
        grad_err=math.nan, value_ratio=ratio, grad_ratio=math.nan, rtol=0.0, atol=0.0, passed=words is None,
        tolerance_note=f"{len(keras_b)} batches compared ({mode})", diagnosis=words)])
