"""Balanced batch samplers for PyTorch (the mirror of tf_impl.data).

The index batches come from imbalance_core.schedule, so the same arguments, seed and epoch give
the same batches as tf_impl.data.balanced_batches (whose global batch at num_replicas=R is the
concatenation of ranks 0..R-1 here).

Epochs: each `iter()` uses the current epoch and then advances it, so the k-th pass is epoch k
unless `set_epoch` says otherwise (calling `set_epoch(e)` before every pass, as with
DistributedSampler, gives the same sequence). Each class's pool pointer carries over epochs,
so the majority is walked through without repeats.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator, List, Optional

from torch.utils.data import IterableDataset, Sampler, default_collate, get_worker_info

from imbalance_core.schedule import (
    DEFAULT_BUFFER_SIZE,
    BalancedSchedule,
    StreamBalancer,
    check_rank,
)
from imbalance_core.validation import check_integer, describe

__all__ = ["BalancedBatchSampler", "balance_dataset"]


class BalancedBatchSampler(Sampler[List[int]]):
    """Yields balanced lists of dataset indices, for `DataLoader(dataset, batch_sampler=...)`.

    Algorithm: imbalance_core.schedule.BalancedSchedule (vectorised NumPy, O(N) time and
    memory; no 2**24 category limit as in torch.multinomial/WeightedRandomSampler). mode="exact":
    every batch holds exactly the largest-remainder count round(f_c B) of class c, in shuffled
    order, each class drawn without replacement from its own reshuffled pool, refilled when
    exhausted. mode="sampled": each slot's class is drawn with probability f_c.

    Args:
        labels: 1-D integer class indices, one per dataset item (tensor, array or sequence).
        batch_size: indices per batch (per replica).
        class_fractions: target share per class (non-negative, summing to 1; entry c is class
            c). None: equal shares over the classes present in `labels`.
        mode: "exact" or "sampled".
        seed: non-negative integer; with the epoch it fixes every batch.
        steps_per_epoch: batches per epoch; default ceil(N / (batch_size * num_replicas)).
        num_replicas: data-parallel processes (DDP world size).
        rank: this process's rank in [0, num_replicas); its batches are disjoint from the other
            ranks' and have the same exact composition.
    """

    def __init__(
        self,
        labels: Any,
        batch_size: int,
        *,
        class_fractions: Any = None,
        mode: str = "exact",
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


class _BalancedStream(IterableDataset):
    def __init__(self, dataset: Any, class_fn: Callable[[Any], Any], balancer: StreamBalancer) -> None:
        self.dataset = dataset
        self.class_fn = class_fn
        self.balancer = balancer
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """The epoch of the next pass (a non-negative integer)."""
        self.epoch = check_integer("epoch", epoch, low=0)

    def __iter__(self):
        info = get_worker_info()
        epoch = self.epoch
        self.epoch += 1
        class_fn = self.class_fn
        pairs = ((class_fn(item), item) for item in self.dataset)
        for batch in self.balancer.batches(pairs, epoch, stream_id=info.id if info else 0):
            yield default_collate(batch)


def balance_dataset(
    dataset: Any,
    class_fn: Callable[[Any], Any],
    batch_size: int,
    *,
    class_fractions: Any = None,
    num_classes: Optional[int] = None,
    mode: str = "exact",
    seed: int = 0,
    buffer_size: int = DEFAULT_BUFFER_SIZE,
) -> IterableDataset:
    """Balanced batches from a stream that cannot be indexed (an IterableDataset of records).

    Algorithm: imbalance_core.schedule.StreamBalancer, one pass over `dataset` per epoch with
    per-class buffers: abundant classes are streamed through once, rare classes are replayed
    from their last `buffer_size` elements; every batch has the requested composition and is
    collated with `default_collate`. Memory: at most 2 * buffer_size elements per class.
    Use `DataLoader(result, batch_size=None)`. The result has `set_epoch`; each pass advances
    the epoch in the process that iterates it, so with `num_workers > 0` call `set_epoch`
    before each epoch, and let `dataset` shard itself across workers (get_worker_info), as
    every IterableDataset must; each worker balances its own shard.

    Args:
        dataset: any re-iterable source of items (an IterableDataset, ideally pre-shuffled).
        class_fn: maps an item to a scalar integer class index (int or tensor).
        batch_size: items per emitted batch.
        class_fractions: target share per class; None: equal over `num_classes`.
        num_classes: number of classes when class_fractions is None.
        mode: "exact" or "sampled".
        seed: non-negative integer.
        buffer_size: per-class capacity of the fresh buffer and of the replay ring.
    """
    balancer = StreamBalancer(
        batch_size,
        class_fractions=class_fractions,
        num_classes=num_classes,
        mode=mode,
        seed=seed,
        buffer_size=buffer_size,
    )
    if not hasattr(dataset, "__iter__"):
        raise ValueError(f"Invalid `dataset`: received {type(dataset).__name__}; expected an iterable dataset.")
    if not callable(class_fn):
        raise ValueError(f"Invalid `class_fn`: received {describe(class_fn)}; expected a callable.")
    return _BalancedStream(dataset, class_fn, balancer)
