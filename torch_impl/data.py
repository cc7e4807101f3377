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

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch
from torch.utils.data import Sampler

from imbalance_core.schedule import DEFAULT_REPEAT_THRESHOLD, BalancedSchedule, check_rank
from imbalance_core.validation import (
    check_integer,
    feature_rows_message,
    state_mismatch_message,
    state_shape_message,
    to_numpy,
)

from ._stream import balance_dataset

__all__ = ["BalancedBatchSampler", "balanced_batches", "balance_dataset"]


class BalancedBatchSampler(Sampler[list[int]]):
    """Yields balanced lists of dataset indices, for `DataLoader(dataset, batch_sampler=...)`.

    Algorithm: imbalance_core.schedule.BalancedSchedule: one O(N) grouping of the labels by
    class (int32, 4 bytes per label), then this rank's batches only, computed lazily in
    O(batch + classes) per step; no 2**24 category limit as in torch.multinomial /
    WeightedRandomSampler. mode="exact": every batch holds floor(f_c B) or ceil(f_c B)
    samples of class c, in shuffled order, the extra slots rotating among the classes so that
    over s steps each class's total stays within 1 of f_c B R s; each class is drawn without
    replacement from its own pool, reshuffled at each pass. mode="sampled": each slot's class
    is drawn with probability f_c.

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
        rank: this process's rank in [0, num_replicas); it computes only its own batches,
            disjoint from the other ranks' while no class pool wraps around.
        grouping: the path of an `imbalance_core.schedule.save_grouping` file of `labels`
            (memory-mapped: the ranks of a host share one copy) instead of grouping here.

    Resuming: `state_dict()` gives the epoch and the batches already yielded in it (and what
    identifies the schedule); `load_state_dict(state)` makes the next `iter()` continue from
    there, in this object or a fresh one, so the remaining batches equal an uninterrupted
    run's. `torchdata.stateful_dataloader.StatefulDataLoader(dataset, batch_sampler=sampler)`
    saves and restores it with its own `state_dict()`, worker processes included.

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

    Examples:
        >>> import torch
        >>> y = torch.tensor([0] * 90 + [1] * 10)
        >>> sampler = BalancedBatchSampler(y, 8, class_fractions=[0.75, 0.25], seed=0)
        >>> batch = next(iter(sampler))                          # 8 indices: 6 of class 0, 2 of class 1
        >>> print(len(sampler), torch.bincount(y[batch]).tolist())
        13 [6, 2]
    """

    def __init__(self, labels: Any, batch_size: int, *, class_fractions: Any = None, mode: str = "exact",
                 repeat_threshold: float = DEFAULT_REPEAT_THRESHOLD, seed: int = 0, steps_per_epoch: int | None = None,
                 num_replicas: int = 1, rank: int = 0, grouping: Any = None) -> None:
        super().__init__()
        self.schedule = BalancedSchedule(labels, batch_size, class_fractions=class_fractions, mode=mode,
                                         repeat_threshold=repeat_threshold, seed=seed, steps_per_epoch=steps_per_epoch,
                                         num_replicas=num_replicas, grouping=grouping)
        self.rank = check_rank(rank, self.schedule.num_replicas)
        self._position = _Position(self.schedule)

    @property
    def epoch(self) -> int:
        """The epoch of the next pass."""
        return self._position.epoch

    def set_epoch(self, epoch: int) -> None:
        """The epoch of the next pass (a non-negative integer), from its first batch."""
        self._position.set_epoch(epoch)

    def __len__(self) -> int:
        return self.schedule.steps_per_epoch

    def __iter__(self) -> Iterator[list[int]]:
        return self._position.start(self._batches, claim_at_start=False)

    def _batches(self, epoch: int, step: int) -> Iterator[list[int]]:
        for block in self.schedule.iter_batch_blocks(epoch, self.rank, step):
            yield from block.tolist()

    def state_dict(self) -> dict[str, Any]:
        """The epoch and the batches of it already yielded, and the schedule's fingerprint."""
        return self._position.state_dict()

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Resume: the next `iter()` continues where `state_dict` was taken."""
        self._position.load_state_dict(state_dict)


class _Position:
    """Where the passes over a schedule stand: the epoch of the next pass, and while a pass is
    under way, its epoch and the steps it has yielded. A pass claims its epoch (and the step a
    loaded state says, else 0) and advances the epoch: `claim_at_start=True` when the iterator
    is made (so `iter()` twice gives two consecutive epochs), else at its first batch (so an
    iterator that is made and dropped, as DataLoader does with its sampler, uses no epoch)."""

    def __init__(self, schedule: BalancedSchedule) -> None:
        self.schedule = schedule
        self.epoch = 0
        self._resume_step = 0
        self._live: _Resumable | None = None

    def set_epoch(self, epoch: int) -> None:
        self.epoch = check_integer("epoch", epoch, low=0)
        self._resume_step = 0

    def claim(self, live: _Resumable) -> tuple[int, int]:
        epoch, step = self.epoch, self._resume_step
        self.epoch, self._resume_step, self._live = epoch + 1, 0, live
        return epoch, step

    def start(self, make: Callable[[int, int], Iterator[Any]], *, claim_at_start: bool) -> _Resumable:
        live = _Resumable(self, make)
        if claim_at_start:
            live.claim()
        return live

    def state_dict(self) -> dict[str, Any]:
        live = self._live
        if live is not None and live.step < self.schedule.steps_per_epoch:
            return live.state_dict()
        return {"epoch": self.epoch, "step": self._resume_step, "schedule": self.schedule.fingerprint()}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        epoch, step = _check_state(self.schedule, state_dict)
        self.epoch, self._resume_step, self._live = epoch, step, None


class _Resumable:
    """One pass over a schedule: an iterator with `state_dict` (what StatefulDataLoader saves
    of a sampler's iterator) and `load_state_dict`."""

    def __init__(self, position: _Position, make: Callable[[int, int], Iterator[Any]]) -> None:
        self._position, self._make = position, make
        self._it: Iterator[Any] | None = None
        self.epoch = self.step = 0

    def claim(self) -> None:
        self.epoch, self.step = self._position.claim(self)
        self._it = self._make(self.epoch, self.step)

    def __iter__(self) -> _Resumable:
        return self

    def __next__(self) -> Any:
        if self._it is None:
            self.claim()
        assert self._it is not None  # set by claim()
        item = next(self._it)
        self.step += 1
        return item

    def state_dict(self) -> dict[str, Any]:
        if self._it is None:
            return self._position.state_dict()
        return {"epoch": self.epoch, "step": self.step, "schedule": self._position.schedule.fingerprint()}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.epoch, self.step = _check_state(self._position.schedule, state_dict)
        self._position.epoch, self._position._resume_step, self._position._live = self.epoch + 1, 0, self
        self._it = self._make(self.epoch, self.step)


def _check_state(schedule: BalancedSchedule, state_dict: Any) -> tuple[int, int]:
    """(epoch, step) of a saved state, after checking that it belongs to `schedule`."""
    if not isinstance(state_dict, dict) or not {"epoch", "step", "schedule"} <= set(state_dict):
        raise ValueError(state_shape_message(state_dict, ("epoch", "step", "schedule")))
    mine = schedule.fingerprint()
    for key, value in mine.items():
        saved = state_dict["schedule"].get(key)
        if saved != value:
            raise ValueError(state_mismatch_message("schedule", key, saved, value))
    epoch = check_integer("state_dict['epoch']", state_dict["epoch"], low=0)
    step = check_integer("state_dict['step']", state_dict["step"], low=0, high=schedule.steps_per_epoch)
    return epoch, step


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


def _leaves(nest: Any) -> list[Any]:
    out: list[Any] = []
    _map_nest(out.append, nest)
    return out


def _on_device(indices: torch.Tensor, device: torch.device) -> torch.Tensor:
    """A block of index batches on `device`: one host-to-device copy, asynchronous on CUDA."""
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
        self._position = _Position(schedule)
        self._devices = list(dict.fromkeys([leaf.device for leaf in _leaves(x)] + [y.device]))

    @property
    def epoch(self) -> int:
        """The epoch of the next pass."""
        return self._position.epoch

    def set_epoch(self, epoch: int) -> None:
        """The epoch of the next pass (a non-negative integer), from its first batch."""
        self._position.set_epoch(epoch)

    def __len__(self) -> int:
        return self.schedule.steps_per_epoch

    def __iter__(self) -> Iterator[tuple[Any, torch.Tensor]]:
        return self._position.start(self._batches, claim_at_start=True)

    def state_dict(self) -> dict[str, Any]:
        """The epoch and the batches of it already yielded, and the schedule's fingerprint."""
        return self._position.state_dict()

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Resume: the next `iter()` continues where `state_dict` was taken."""
        self._position.load_state_dict(state_dict)

    def _batches(self, epoch: int, step: int) -> Iterator[tuple[Any, torch.Tensor]]:
        x, y = self.x, self.y
        for block in self.schedule.iter_batch_blocks(epoch, self.rank, step):
            indices = torch.from_numpy(block)
            on: dict[torch.device, torch.Tensor] = {d: _on_device(indices, d) for d in self._devices}
            for t in range(indices.shape[0]):
                rows = {d: idx[t] for d, idx in on.items()}  # views: no copy, no host sync

                def gather(v: torch.Tensor, rows: dict = rows) -> torch.Tensor:  # rows bound per step
                    return torch.index_select(v, 0, rows[v.device])

                x_batch = _map_nest(gather, x)
                yield x_batch, torch.index_select(y, 0, rows[y.device])

    def __repr__(self) -> str:
        s = self.schedule
        return (
            f"balanced_batches(batch_size={s.batch_size}, steps_per_epoch={s.steps_per_epoch}, "
            f"mode={s.mode!r}, num_replicas={s.num_replicas}, rank={self.rank}, epoch={self.epoch})"
        )


def balanced_batches(x: Any, y: Any, batch_size: int, *, class_fractions: Any = None, mode: str = "exact",
                     repeat_threshold: float = DEFAULT_REPEAT_THRESHOLD, seed: int = 0,
                     steps_per_epoch: int | None = None, num_replicas: int = 1, rank: int = 0,
                     grouping: Any = None) -> _BalancedBatches:
    """Balanced `(x_batch, y_batch)` batches gathered from in-memory tensors (the twin of
    tf_impl.data.balanced_batches).

    Algorithm: imbalance_core.schedule.BalancedSchedule computes this rank's index batches
    lazily, a block of up to 64 steps at a time (NumPy), the same as `BalancedBatchSampler`'s
    for the same arguments; each batch is then one `torch.index_select` per tensor, on the
    tensor's device. Each block's indices are copied to each device holding data once (pinned
    and asynchronous on CUDA), so a batch costs no host-device transfer and no
    synchronisation. Features are held
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
        mode: "exact" (every batch holds floor(f_c B) or ceil(f_c B) of class c, the extra
            slots rotating, shuffled), "sampled" (each slot's class drawn with probability f_c),
            "repeat_factor" or "class_aware" (multi-label; see `BalancedBatchSampler`).
        repeat_threshold: t >= 0 of mode="repeat_factor" (detectron2's `repeat_thresh`);
            ignored by the other modes.
        seed: non-negative integer; with the epoch it fixes every batch.
        steps_per_epoch: batches per epoch; default ceil(N / (batch_size * num_replicas)), for
            "repeat_factor" ceil(sum_i r_i / (batch_size * num_replicas)).
        num_replicas: data-parallel processes (DDP world size).
        rank: this process's rank in [0, num_replicas).
        grouping: the path of an `imbalance_core.schedule.save_grouping` file of `y`
            (memory-mapped) instead of grouping the labels here.

    Resuming: the result has `state_dict()` / `load_state_dict()`, as `BalancedBatchSampler`.

    Returns:
        An iterable of `steps_per_epoch` batches `(x_batch, y_batch)` per pass, `x_batch` with
        the structure of `x`, every tensor with `batch_size` rows.

    Examples:
        >>> import torch
        >>> y = torch.tensor([0] * 90 + [1] * 10)
        >>> x = torch.arange(100.0)
        >>> xb, yb = next(iter(balanced_batches(x, y, 8, seed=0)))   # the batches of tf_impl.data.balanced_batches
        >>> print(xb.shape, torch.bincount(yb).tolist())
        torch.Size([8]) [4, 4]
    """
    schedule = BalancedSchedule(y, batch_size, class_fractions=class_fractions, mode=mode,
                                repeat_threshold=repeat_threshold, seed=seed, steps_per_epoch=steps_per_epoch,
                                num_replicas=num_replicas, grouping=grouping)
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
