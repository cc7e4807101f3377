"""torch_impl.data.balance_dataset: balanced batches from an iterable stream (the mirror of
tf_impl._stream)."""

from __future__ import annotations

from typing import Any, Callable, Optional

from torch.utils.data import IterableDataset, default_collate, get_worker_info

from imbalance_core import validation as V
from imbalance_core.stream import DEFAULT_BUFFER_SIZE, StreamBalancer
from imbalance_core.validation import check_integer

__all__ = ["balance_dataset"]


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

    Algorithm: imbalance_core.schedule.StreamBalancer, one pass over `dataset` per epoch, read
    in chunks of `buffer_size // 2` items; each class keeps a ring of its last `buffer_size`
    items: the class most abundant relative to its share is streamed through once, rarer
    classes contribute their fresh items and are topped up with replays from their ring; every
    batch has the requested composition and is collated with `default_collate`. The same NumPy
    step as tf_impl.data.balance_dataset, so the same items in the same order give the same
    batches. Memory: buffer_size items per class plus one chunk.
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
        buffer_size: per-class ring capacity (the last `buffer_size` items of each class).
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
        raise ValueError(V.not_a_dataset_message(dataset, "an iterable dataset"))
    if not callable(class_fn):
        raise ValueError(V.not_callable_message("class_fn", class_fn))
    return _BalancedStream(dataset, class_fn, balancer)
