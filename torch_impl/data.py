"""Balanced input pipelines for PyTorch (the mirror of tf_impl.data).

`balanced_batches` gathers balanced `(x_batch, y_batch)` batches from in-memory tensors (the
twin of tf's `balanced_batches`); `BalancedBatchSampler` yields the same index batches for
`DataLoader(dataset, batch_sampler=...)`; `balance_dataset` balances a stream that cannot be
indexed.

The index batches come from imbalance_core.schedule, so the same arguments, seed and epoch give
the same batches as tf_impl.data.balanced_batches (whose global batch at num_replicas=R is the
concatenation of ranks 0..R-1 here).

Epochs: each `iter()` uses the current epoch and then advances it, so the k-th pass is epoch k
unless `set_epoch` says otherwise (calling `set_epoch(e)` before every pass, as with
DistributedSampler, gives the same sequence). Each class's pool pointer carries over epochs,
so the majority is walked through without repeats.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import numpy as np
import torch
from torch.utils.data import Sampler

from imbalance_core.schedule import DEFAULT_REPEAT_THRESHOLD, BalancedSchedule, check_rank
from imbalance_core.validation import check_integer, feature_rows_message, to_numpy

from ._stream import balance_dataset

__all__ = ["BalancedBatchSampler", "balanced_batches", "balance_dataset"]


class BalancedBatchSampler(Sampler[List[int]]):
    """Yields balanced lists of dataset indices, for `DataLoader(dataset, batch_sampler=...)`.

    Algorithm: imbalance_core.schedule.BalancedSchedule (vectorised NumPy, O(N) time and
    memory; no 2**24 category limit as in torch.multinomial/WeightedRandomSampler). mode="exact":
    every batch holds exactly the largest-remainder count round(f_c B) of class c, in shuffled
    order, each class drawn without replacement from its own reshuffled pool, refilled when
    exhausted. mode="sampled": each slot's class is drawn with probability f_c.

    Multi-label rows (N, C) of 0/1: mode="repeat_factor" (LVIS; detectron2's
    `RepeatFactorTrainingSampler`): sample i appears floor(r_i) times per round, plus once with
    probability r_i - floor(r_i) (r from `compute_repeat_factors`), each round shuffled, the
    rounds laid end to end and cut into full batches, so nothing is dropped and a round may
    straddle two epochs. mode="class_aware" (mmdetection's `ClassAwareSampler`): each slot draws
    a label with probability f_c, then the next sample of that label's reshuffled pool.

    Args:
        labels: 1-D integer class indices, one per dataset item (tensor, array or sequence),
            or (N, C) multi-hot rows for modes "repeat_factor" and "class_aware".
        batch_size: indices per batch (per replica).
        class_fractions: target share per class, or per label for "class_aware" (non-negative,
            summing to 1; entry c is class c). None: equal shares over the classes (labels)
            present in `labels`. Must be None for "repeat_factor".
        mode: "exact", "sampled", "repeat_factor" or "class_aware".
        repeat_threshold: t >= 0 of mode="repeat_factor" (detectron2's `repeat_thresh`);
            ignored by the other modes.
        seed: non-negative integer; with the epoch it fixes every batch.
        steps_per_epoch: batches per epoch; default ceil(N / (batch_size * num_replicas)), for
            "repeat_factor" ceil(sum_i r_i / (batch_size * num_replicas)).
        num_replicas: data-parallel processes (DDP world size).
        rank: this process's rank in [0, num_replicas); its batches are disjoint from the other
            ranks' and have the same exact composition.

    Whole batches: with a batch sampler, `DataLoader` calls `dataset.__getitems__(indices)` once
    per batch when the dataset defines it (otherwise `dataset[i]` once per index, then
    `collate_fn` on the list of samples). A dataset that gathers the batch in one call there,
    with a `collate_fn` that passes the batch through, fetches each batch at once::

        class InMemory(torch.utils.data.Dataset):
            def __init__(self, x, y):
                self.x, self.y = x, y

            def __len__(self):
                return len(self.y)

            def __getitems__(self, indices):  # one call per batch: a list of ints
                idx = torch.as_tensor(indices)
                return self.x.index_select(0, idx), self.y.index_select(0, idx)

        loader = DataLoader(InMemory(x, y), batch_sampler=sampler, collate_fn=lambda batch: batch)

    (With worker processes started by "spawn", use a module-level function for `collate_fn`.)
    For tensors already in memory, `balanced_batches` yields the same batches without a
    DataLoader.
    """

    def __init__(
        self,
        labels: Any,
        batch_size: int,
        *,
        class_fractions: Any = None,
        mode: str = "exact",
        repeat_threshold: float = DEFAULT_REPEAT_THRESHOLD,
        seed: int = 0,
        steps_per_epoch: Optional[int] = None,
        num_replicas: int = 1,
        rank: int = 0,
    ) -> None:
        super().__init__()
        self.schedule = BalancedSchedule(
            labels,
            batch_size,
            class_fractions=class_fractions,
            mode=mode,
            repeat_threshold=repeat_threshold,
            seed=seed,
            steps_per_epoch=steps_per_epoch,
            num_replicas=num_replicas,
        )
        self.rank = check_rank(rank, self.schedule.num_replicas)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """The epoch of the next pass (a non-negative integer)."""
        self.epoch = check_integer("epoch", epoch, low=0)

    def __len__(self) -> int:
        return self.schedule.steps_per_epoch

    def __iter__(self) -> Iterator[List[int]]:
        batches = self.schedule.replica_batches(self.epoch, self.rank)
        self.epoch += 1
        for row in batches:
            yield row.tolist()


# ---------------------------------------------------------------------- in-memory tensors


def _map_nest(fn: Callable[[Any], Any], nest: Any) -> Any:
    """`fn` applied to every leaf of a nest of dicts, tuples (namedtuples too) and lists."""
    if isinstance(nest, dict):
        return type(nest)((k, _map_nest(fn, v)) for k, v in nest.items())
    if isinstance(nest, tuple) and hasattr(nest, "_fields"):
        return type(nest)(*(_map_nest(fn, v) for v in nest))
    if isinstance(nest, (tuple, list)):
        return type(nest)(_map_nest(fn, v) for v in nest)
    return fn(nest)


def _leaves(nest: Any) -> List[Any]:
    out: List[Any] = []
    _map_nest(out.append, nest)
    return out


def _on_device(indices: torch.Tensor, device: torch.device) -> torch.Tensor:
    """The epoch's index batches on `device`: one host-to-device copy, asynchronous on CUDA."""
    if device.type == "cpu":
        return indices
    if device.type == "cuda":
        return indices.pin_memory().to(device, non_blocking=True)
    return indices.to(device)


class _BalancedBatches:
    """The iterable `balanced_batches` returns (see there)."""

    def __init__(self, x: Any, y: torch.Tensor, schedule: BalancedSchedule, rank: int) -> None:
        self.x = x
        self.y = y
        self.schedule = schedule
        self.rank = rank
        self.epoch = 0
        self._devices = list(dict.fromkeys([leaf.device for leaf in _leaves(x)] + [y.device]))

    def set_epoch(self, epoch: int) -> None:
        """The epoch of the next pass (a non-negative integer)."""
        self.epoch = check_integer("epoch", epoch, low=0)

    def __len__(self) -> int:
        return self.schedule.steps_per_epoch

    def __iter__(self) -> Iterator[Tuple[Any, torch.Tensor]]:
        epoch = self.epoch  # taken now: iter() twice gives two consecutive epochs
        self.epoch += 1
        return self._batches(epoch)

    def _batches(self, epoch: int) -> Iterator[Tuple[Any, torch.Tensor]]:
        indices = torch.from_numpy(self.schedule.replica_batches(epoch, self.rank))
        on: Dict[torch.device, torch.Tensor] = {d: _on_device(indices, d) for d in self._devices}
        x, y = self.x, self.y
        for step in range(indices.shape[0]):
            rows = {d: idx[step] for d, idx in on.items()}  # views: no copy, no host sync
            x_batch = _map_nest(lambda t: torch.index_select(t, 0, rows[t.device]), x)
            yield x_batch, torch.index_select(y, 0, rows[y.device])

    def __repr__(self) -> str:
        s = self.schedule
        return (
            f"balanced_batches(batch_size={s.batch_size}, steps_per_epoch={s.steps_per_epoch}, "
            f"mode={s.mode!r}, num_replicas={s.num_replicas}, rank={self.rank}, epoch={self.epoch})"
        )


def balanced_batches(
    x: Any,
    y: Any,
    batch_size: int,
    *,
    class_fractions: Any = None,
    mode: str = "exact",
    repeat_threshold: float = DEFAULT_REPEAT_THRESHOLD,
    seed: int = 0,
    steps_per_epoch: Optional[int] = None,
    num_replicas: int = 1,
    rank: int = 0,
) -> "_BalancedBatches":
    """Balanced `(x_batch, y_batch)` batches gathered from in-memory tensors (the twin of
    tf_impl.data.balanced_batches).

    Algorithm: imbalance_core.schedule.BalancedSchedule computes each epoch's index batches
    (vectorised NumPy, O(N)), the same as `BalancedBatchSampler`'s for the same arguments;
    each batch is then one `torch.index_select` per tensor, on the tensor's device. The epoch's
    indices are copied to each device holding data once per epoch (pinned and asynchronous on
    CUDA), so a batch costs no host-device transfer and no synchronisation. Features are held
    once; no per-class copies and no per-sample Python work (unlike a DataLoader over a
    TensorDataset, which fetches and collates sample by sample).

    Epochs: the result has `__len__` (steps_per_epoch), `__iter__` and `set_epoch`, as
    `BalancedBatchSampler`: each `iter()` takes the current epoch and advances it, so the k-th
    pass is epoch k (as with tf's dataset) unless `set_epoch(e)` picks epoch e for the next
    pass (call it before every pass, as with DistributedSampler, to be explicit).

    Replicas: `batch_size` is per process. With `num_replicas=R` each process passes its own
    `rank` and receives its share of every global batch: rank r's batch is rows
    [r * batch_size, (r + 1) * batch_size) of tf's global batch for the same arguments (the
    ranks' batches are disjoint while no class pool wraps around, each exactly balanced).

    Args:
        x: features: a tensor with one row per label, or a dict, tuple or list of them (NumPy
            arrays are wrapped with `torch.as_tensor`, without a copy); tensors may live on
            different devices, each is gathered where it lives.
        y: 1-D integer class indices, one per row of `x` (modes "exact", "sampled"), or (N, C)
            multi-hot rows of 0/1 (modes "repeat_factor", "class_aware"); a tensor stays where
            it is, anything else becomes a tensor on the device of `x`'s first tensor (int64
            for NumPy's uint16, uint32 and uint64, which torch cannot index; other dtypes are
            kept).
        batch_size: rows per batch and process.
        class_fractions: target share per class, or per label for "class_aware" (non-negative,
            summing to 1; entry c is class c). None: equal shares over the classes (labels)
            present in `y`. Must be None for "repeat_factor".
        mode: "exact" (every batch holds exactly the largest-remainder count round(f_c B) of
            class c, shuffled), "sampled" (each slot's class drawn with probability f_c),
            "repeat_factor" or "class_aware" (multi-label; see `BalancedBatchSampler`).
        repeat_threshold: t >= 0 of mode="repeat_factor" (detectron2's `repeat_thresh`);
            ignored by the other modes.
        seed: non-negative integer; with the epoch it fixes every batch.
        steps_per_epoch: batches per epoch; default ceil(N / (batch_size * num_replicas)), for
            "repeat_factor" ceil(sum_i r_i / (batch_size * num_replicas)).
        num_replicas: data-parallel processes (DDP world size).
        rank: this process's rank in [0, num_replicas).

    Returns:
        An iterable of `steps_per_epoch` batches `(x_batch, y_batch)` per pass, `x_batch` with
        the structure of `x`, every tensor with `batch_size` rows.
    """
    schedule = BalancedSchedule(
        y,
        batch_size,
        class_fractions=class_fractions,
        mode=mode,
        repeat_threshold=repeat_threshold,
        seed=seed,
        steps_per_epoch=steps_per_epoch,
        num_replicas=num_replicas,
    )
    rank = check_rank(rank, schedule.num_replicas)
    n = schedule.num_samples
    x_t = _map_nest(lambda t: t if isinstance(t, torch.Tensor) else torch.as_tensor(t), x)
    leaves = _leaves(x_t)
    for leaf in leaves:
        if (leaf.shape[0] if leaf.dim() else None) != n:
            raise ValueError(feature_rows_message(tuple(leaf.shape), n))
    if isinstance(y, torch.Tensor):
        y_t = y.detach()
    else:
        y_np = to_numpy(y)
        if y_np.dtype.kind == "u" and y_np.dtype.itemsize > 1:  # torch cannot index uint16/32/64
            y_np = y_np.astype(np.int64)
        y_t = torch.as_tensor(y_np, device=leaves[0].device if leaves else None)
    return _BalancedBatches(x_t, y_t, schedule, rank)
