"""torch_impl.data.balance_dataset: balanced batches from an iterable stream (the mirror of
tf_impl._stream)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch.utils.data import IterableDataset, default_collate, get_worker_info

from imbalance_core import validation
from imbalance_core.schedule import check_rank
from imbalance_core.stream import DEFAULT_BUFFER_SIZE, StreamBalancer, StreamPosition
from imbalance_core.validation import check_bool, check_integer

__all__ = ["balance_dataset"]


class _BalancedStream(IterableDataset):
    """The dataset `balance_dataset` returns: an IterableDataset of collated batches with
    `set_epoch`, `state_dict` and `load_state_dict` (torchdata's `StatefulDataLoader` calls
    the last two, in each worker process when `num_workers > 0`)."""

    def __init__(self, dataset: Any, class_fn: Callable[[Any], Any], balancer: StreamBalancer, num_replicas: int,
                 rank: int, sharded_source: bool) -> None:
        self.dataset = dataset
        self.class_fn = class_fn
        self.balancer = balancer
        self.num_replicas = num_replicas
        self.rank = rank
        self.sharded_source = sharded_source
        self.epoch = 0
        # set_epoch's last request, (number of requests, epoch), in shared memory: DataLoader
        # workers iterate copies of this dataset, and persistent workers keep theirs between
        # passes, so a request made in the main process reaches them only through it.
        self._requested = torch.zeros(2, dtype=torch.int64).share_memory_()
        self._requests_seen = 0
        # Progress of the pass under way in this process: its epoch, the batches it has yielded
        # and where the source stood when the last of them was emitted.
        self._progress: dict[str, Any] | None = None
        self._resume: dict[str, Any] | None = None

    def set_epoch(self, epoch: int) -> None:
        """The epoch of the next pass (a non-negative integer), in this process and in the
        DataLoader workers' copies, persistent ones included."""
        self.epoch = check_integer("epoch", epoch, low=0)
        self._requested[1] = self.epoch
        self._requested[0] += 1
        self._resume = None

    def _next_epoch(self) -> int:
        """The epoch of the pass that starts: set_epoch's request if one came since this copy's
        last pass, else the one after it."""
        requests, epoch = (int(v) for v in self._requested)
        if requests != self._requests_seen:
            self._requests_seen = requests
            self.epoch = epoch
        return self.epoch

    def _config(self) -> dict[str, Any]:
        b = self.balancer
        info = get_worker_info()
        return {
            "batch_size": b.batch_size,
            "class_fractions": [float(f) for f in b.fractions],
            "mode": b.mode,
            "seed": b.seed,
            "buffer_size": b.buffer_size,
            "num_replicas": self.num_replicas,
            "rank": self.rank,
            "sharded_source": self.sharded_source,
            "num_workers": info.num_workers if info else 1,
            "worker": info.id if info else 0,
        }

    def state_dict(self) -> dict[str, Any]:
        """The configuration, the epoch and the batches this process has yielded in the pass
        under way (0 between passes), with the source position that `load_state_dict` checks
        when it re-reads the source."""
        state: dict[str, Any] = {"config": self._config()}
        if self._progress is not None:
            state.update(self._progress)
        elif self._resume is not None:  # loaded, not yet iterated: the loaded point still holds
            state.update({key: self._resume[key] for key in ("epoch", "yielded", "read", "checksum")})
        else:
            state.update(epoch=self.epoch, yielded=0, read=0, checksum=0)
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Resume at the saved point: the next pass is the saved epoch, without the batches
        already yielded. Mid-epoch, the pass re-reads the source from the epoch's start (the
        rings must be rebuilt) without collating the skipped batches, so the source must give
        the same stream again: a re-iterable source (with `set_epoch` if its order depends on
        the epoch). A state_dict from another configuration is a ValueError."""
        keys = {"config", "epoch", "yielded", "read", "checksum"}
        if not isinstance(state_dict, dict) or not keys <= set(state_dict):
            raise ValueError(validation.stream_state_dict_message(state_dict))
        validation.check_stream_state_config(state_dict["config"], self._config())
        if state_dict["yielded"] > 0 and iter(self.dataset) is self.dataset:
            raise ValueError(validation.stream_source_not_resumable_message(self.dataset))
        self.epoch = check_integer("epoch", state_dict["epoch"], low=0)
        self._requests_seen = int(self._requested[0])  # the loaded epoch wins over earlier requests
        self._resume = dict(state_dict)
        self._progress = None

    def _owns(self, worker: int, num_workers: int) -> Callable[[int], bool]:
        replicas = self.num_replicas
        if self.sharded_source:
            # The source already gives this process its own part: every batch is its own.
            return lambda j: True
        rank = self.rank
        return lambda j: j % replicas == rank and (j // replicas) % num_workers == worker

    def __iter__(self) -> Iterator[Any]:
        info = get_worker_info()
        worker, num_workers = (info.id, info.num_workers) if info else (0, 1)
        resume, self._resume = self._resume, None
        epoch = self._next_epoch()
        self.epoch += 1
        skip = resume["yielded"] if resume else 0
        # A sharded source gives each process its own stream: its own random draws too.
        stream_id = (self.rank * num_workers + worker) if self.sharded_source else 0
        if hasattr(self.dataset, "set_epoch"):
            self.dataset.set_epoch(epoch)
        class_fn = self.class_fn
        pairs = ((class_fn(item), item) for item in self.dataset)
        progress = {"epoch": epoch, "yielded": 0, "read": 0, "checksum": 0}
        self._progress = progress
        owns = self._owns(worker, num_workers)
        position = StreamPosition(0, 0)
        for _, batch, position in self.balancer.walk(pairs, epoch, stream_id, owns):
            if batch is None:
                continue
            progress.update(yielded=progress["yielded"] + 1, read=position.read, checksum=position.checksum)
            if resume is not None and progress["yielded"] == skip:
                _check_same_stream(resume, position)
            if progress["yielded"] > skip:
                yield default_collate(batch)
        if resume is not None and progress["yielded"] < skip:
            _check_same_stream(resume, StreamPosition(-1, -1))
        self._progress = None


def _check_same_stream(resume: dict[str, Any], position: StreamPosition) -> None:
    """A resumed pass re-read the source up to the saved batch: it must have found the same
    stream there (the same number of elements read, the same classes)."""
    if (position.read, position.checksum) != (resume["read"], resume["checksum"]):
        raise ValueError(validation.stream_reread_message(resume["yielded"], resume["read"], position.read))


def balance_dataset(dataset: Any, class_fn: Callable[[Any], Any], batch_size: int, *, class_fractions: Any = None,
                    num_classes: int | None = None, mode: str = "exact", seed: int = 0,
                    buffer_size: int = DEFAULT_BUFFER_SIZE, num_replicas: int = 1, rank: int | None = None,
                    sharded_source: bool = False) -> IterableDataset:
    """Balanced batches from a stream that cannot be indexed (an IterableDataset of records).

    Algorithm: imbalance_core.stream.StreamBalancer, one pass over `dataset` per epoch, read
    in chunks of `buffer_size // 2` items; each class keeps a ring of its last `buffer_size`
    items: the class most abundant relative to its share drives the output, rarer classes
    contribute their fresh items and are topped up with replays from their ring; every
    batch has the requested composition and is collated with `default_collate`. The same NumPy
    step as tf_impl.data.balance_dataset, so the same items in the same order give the same
    batches. Memory: buffer_size items per class plus one chunk. Use
    `DataLoader(result, batch_size=None)`.

    Guarantee per epoch, over all ranks and DataLoader workers together (see
    imbalance_core.stream for the exact statement): every batch has the requested
    composition; every item is emitted fresh at most once, and an item is replayed only in a
    batch for which its class had fewer fresh items than its share, so each item of the
    driving class (the class with a full share of fresh items at every batch: in a shuffled
    source, the one clearly most abundant relative to its share) is emitted exactly once,
    except the final partial batch (dropped), items overwritten before every requested class
    has appeared, and the padding batches below.

    Sharding (`sharded_source=False`, the default): the source is *not* split by the caller.
    Every rank, and every DataLoader worker of a rank, reads the whole source and runs the same
    slot bookkeeping (class indices and ring slots only), and collates only its own batches:
    global batch j belongs to rank `j % num_replicas` and, inside the rank, to worker
    `(j // num_replicas) % num_workers` (`get_worker_info`), which is the order in which
    `DataLoader` interleaves its workers, so a rank receives its batches in the same order
    with any number of workers. The last round is completed with padding batches of replays
    (fewer than `num_replicas`), so every rank yields `ceil(G / num_replicas)` batches, G the
    batches of the epoch, without the caller computing it. Costs: each process reads the whole
    source, calls `class_fn` on every item and holds the rings (`num_classes * buffer_size`
    items); only the collation of batches is divided. A source that splits itself across
    workers (with `get_worker_info`) must not be used this way: declare it instead.

    `sharded_source=True`: the source already yields each process its own part (its rank's
    files, split across workers). Each process then balances what it reads on its own, with
    its own random draws (stream `rank * num_workers + worker`): every batch still has the
    requested composition and each driving item of a part is emitted once, but parts of
    different lengths give different numbers of batches, so the ranks must agree on when to
    stop (e.g. torch.distributed.algorithms.Join, or a step count they all reach).

    Epochs: each pass advances the epoch in the process that iterates it. With
    `num_workers > 0` each worker iterates its own copy of the dataset, made from the main
    process's at the start of a pass, so call `set_epoch` before each epoch; persistent workers
    (`persistent_workers=True`) keep their copies, which advance by one epoch per pass and
    still take the epoch that `set_epoch` asks for (the request is kept in shared memory). A
    source with `set_epoch` has it called with the epoch before each pass.

    Resume: `state_dict()` / `load_state_dict()` save and restore the epoch and the number of
    batches this process has yielded in it (with `StatefulDataLoader`, per worker). Restoring
    mid-epoch re-reads the source from the start of the epoch, rebuilding the rings without
    collating the batches already yielded: the source must be re-iterable and give the same
    items in the same order for the same epoch (a checksum of the classes read detects one that
    does not); a one-shot iterator cannot resume mid-epoch (ValueError). A state_dict saved
    with other arguments (seed, batch size, fractions, mode, buffer size, replicas, rank,
    workers) is a ValueError.

    Args:
        dataset: any re-iterable source of items (an IterableDataset, ideally pre-shuffled).
        class_fn: maps an item to a scalar integer class index (int or tensor).
        batch_size: items per emitted batch (per rank).
        class_fractions: target share per class; None: equal over `num_classes`.
        num_classes: number of classes when class_fractions is None.
        mode: "exact" or "sampled".
        seed: non-negative integer.
        buffer_size: per-class ring capacity (the last `buffer_size` items of each class).
        num_replicas: the number of DDP ranks (an integer >= 1).
        rank: this process's rank, in [0, num_replicas); None means 0 and is allowed only with
            `num_replicas=1` (tf_impl's None yields global batches, which torch has no use for).
        sharded_source: True when `dataset` already yields each rank's and worker's own part.

    Example:
        >>> from torch.utils.data import DataLoader
        >>> items = [(i, i % 4 == 0) for i in range(40)]  # class 1: every fourth item
        >>> ds = balance_dataset(items, lambda item: int(item[1]), 4, num_classes=2, num_replicas=2, rank=1)
        >>> [b[1].tolist() for b in DataLoader(ds, batch_size=None)][0].count(True)
        2
    """
    sharded_source = check_bool("sharded_source", sharded_source)
    # A sharded source is balanced on its own: no padding to whole rounds of replicas.
    balancer = StreamBalancer(batch_size, class_fractions=class_fractions, num_classes=num_classes, mode=mode,
                              seed=seed, buffer_size=buffer_size, num_replicas=1 if sharded_source else num_replicas)
    replicas = check_integer("num_replicas", num_replicas, low=1)
    rank = 0 if rank is None and replicas == 1 else check_rank(rank, replicas)
    if not hasattr(dataset, "__iter__"):
        raise ValueError(validation.not_a_dataset_message(dataset, "an iterable dataset"))
    if not callable(class_fn):
        raise ValueError(validation.not_callable_message("class_fn", class_fn))
    return _BalancedStream(dataset, class_fn, balancer, replicas, rank, sharded_source)
