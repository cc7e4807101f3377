"""Class counts, class weights and balanced epochs of a `ray.data.Dataset`, for labelled data
that lives across a cluster (Parquet or another columnar store) rather than in one process.

Ray is imported when a function is called, never at import: `imbalance_core` imports without
it, and a call without Ray raises an ImportError naming the extra (``pip install
"classbalance[ray]"``).

- `count_classes`: a per-block count on the cluster (one `map_batches` over whole blocks),
  summed on the driver: O(blocks x classes) there, equal to `class_counts` of the gathered
  labels.
- `class_weights`: `compute_class_weight`'s methods and results, fed by `count_classes`.
- `balance`: the rows of one balanced epoch, in batch order. The batches are exactly those of
  `torch_impl.data.BalancedBatchSampler` and of both frameworks' `balanced_batches` for the
  labels in the data set's row order (the order Ray yields them with
  ``execution_options.preserve_order=True``), the same fractions, mode, seed, epoch, batch
  size and replicas; the rows are replica-major, so ``split(num_replicas, equal=True)[r]``
  holds replica r's batches, in step order.

How `balance` places the rows without gathering anything of size N on the driver (see
`imbalance_core.schedule` for the schedule itself):

1. The data set is materialised in row order and each block counts its classes (one task per
   block); the driver sums the counts and takes prefix sums across blocks, so each block knows
   where its rows stand among the rows of their class (their member rank).
2. The driver builds the schedule from the class counts alone (`BalancedSchedule.from_counts`,
   O(classes)); one task builds the epoch's table of class counts per (step, replica), O(steps
   x replicas x classes), which stays in the object store and is read by the other tasks.
3. A scatter task per block: each row of class c and member rank i finds, for each pass j of
   its class's pool that the epoch reaches, its pool position `pool_positions(c, i, j)`; a
   position inside the epoch's range is a use of the row, in the batch (step, replica) whose
   range of class-c positions holds it. The rows are sent, one piece per output block, to the
   gather tasks (a row drawn k times is sent k times).
4. A gather task per output block (a run of whole batches of one replica) computes those
   batches' class patterns (`class_patterns`) and puts each row in its slot: the w-th row of
   class c in a batch takes the w-th slot of class c. The output blocks, in order, form the
   returned data set.

Memory on the driver: the class counts per block, O(blocks x classes); the epoch's table (8
bytes per (step, replica, class)) and the rows only ever sit in Ray's object store and the
tasks.
"""

from __future__ import annotations

import functools
import pickle
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._class_counts import check_pipeline_args
from .class_weights import ClassCounter, check_class_weight_args, weights_from_counts
from .schedule import BLOCK_STEPS, BalancedSchedule, check_labels
from .validation import (
    check_counted_classes,
    check_fractions,
    check_integer,
    missing_column_message,
    not_a_dataset_message,
    null_labels_message,
    ragged_multi_hot_message,
    ray_missing_message,
)

__all__ = ["count_classes", "class_weights", "balance"]

BALANCE_MODES = ("exact", "sampled")
# Offending labels kept per block and kind of fault: the in-memory checks report the first 6.
_SUSPECTS = 6


def _ray():
    """Ray, imported on first use."""
    try:
        import ray
        import ray.data  # noqa: F401  (the submodule registers ray.data)
    except ImportError as error:
        raise ImportError(ray_missing_message("imbalance_core.ray_data")) from error
    return ray


def _check_dataset(ds: Any, label_column: Any) -> None:
    ray = _ray()
    if not isinstance(ds, ray.data.Dataset):
        raise TypeError(not_a_dataset_message(ds, "a ray.data.Dataset"))
    columns = ds.columns()
    if label_column not in columns:
        raise ValueError(missing_column_message("label_column", label_column, columns))


# -- per-block summaries: the labels' faults and counts, judged on the driver --------------
def _first(mask: np.ndarray) -> np.ndarray:
    """The first `_SUSPECTS` True entries of a 1-D mask."""
    keep = np.zeros(mask.shape[0], dtype=bool)
    keep[np.flatnonzero(mask)[:_SUSPECTS]] = True
    return keep


def _label_array(table: Any, column: str) -> np.ndarray:
    from ray.data.block import BlockAccessor

    values = BlockAccessor.for_block(table.select([column])).to_numpy(column)
    return np.asarray(values)


def _multi_hot_rows(values: np.ndarray, column: str) -> np.ndarray:
    """(n, C) rows from a tensor column or a column of equal-length lists."""
    if values.dtype != object:
        return values.reshape(values.shape[0], -1) if values.ndim != 2 else values
    widths = {len(row) for row in values}
    if len(widths) > 1:
        raise ValueError(ragged_multi_hot_message(column, list(widths)))
    return np.stack([np.asarray(row) for row in values]) if values.shape[0] else np.zeros((0, 0))


def _summarize(table: Any, column: str, rule: str, num_classes: int | None) -> dict[str, Any]:
    """A block's row count, null count, class counts and its first offending labels of each
    kind (values, in row order): the driver runs the in-memory check on the offenders of all
    blocks, in block order, so its error is the one the gathered labels would raise."""
    nulls = table.column(column).null_count if table.num_rows else 0  # an empty block may lack the column
    summary: dict[str, Any] = {"rows": table.num_rows, "nulls": nulls, "error": None}
    if nulls or table.num_rows == 0:
        summary.update(counts=np.zeros(0, np.int64), suspects=None, width=None)
        return summary
    try:
        values = _label_array(table, column)
        if rule == "multi_hot":
            values = _multi_hot_rows(values, column)
    except (TypeError, ValueError) as error:  # reported on the driver with its own type and message
        summary.update(counts=np.zeros(0, np.int64), suspects=None, width=None, error=(type(error), str(error)))
        return summary
    if rule == "multi_hot":
        if values.dtype.kind not in "biuf":
            bad = np.zeros(values.shape[0], dtype=bool)
            bad[:1] = True  # the dtype itself is the fault
        else:
            faulty = ~np.isin(values, (0, 1))
            bad = _first(np.asarray(faulty.any(axis=1)))
        summary.update(suspects=values[bad], width=values.shape[1])
        summary["counts"] = values[~bad].astype(np.int64).sum(axis=0) if not bad.any() else np.zeros(0, np.int64)
        return summary
    values = values.reshape(-1)
    kind = values.dtype.kind
    allowed = "iub" if rule == "balance" else "biuf"
    if kind not in allowed:
        bad = np.zeros(values.shape[0], dtype=bool)
        bad[:1] = True  # the dtype itself is the fault
    else:
        bad = np.zeros(values.shape[0], dtype=bool)
        if kind == "f":
            finite = np.isfinite(values)
            bad |= _first(~finite)
            bad |= _first(finite & (values != np.round(values)))
        if kind in "if":
            bad |= _first(values < 0)
        if num_classes is not None and kind in "iuf":
            bad |= _first(values >= num_classes)
    summary.update(suspects=values[bad], width=None)
    summary["counts"] = np.bincount(values.astype(np.int64)) if not bad.any() else np.zeros(0, np.int64)
    return summary


def _judge(summaries: list[dict[str, Any]], column: str, rule: str, num_classes: int | None) -> np.ndarray:
    """The class counts of the blocks (blocks, K), or the in-memory error of their labels."""
    nulls = sum(s["nulls"] for s in summaries)
    if nulls:
        raise ValueError(null_labels_message(column, nulls))
    for s in summaries:
        if s["error"] is not None:
            kind, message = s["error"]
            raise kind(message)
    if sum(s["rows"] for s in summaries) == 0:
        empty = np.zeros(0, dtype=np.int64)
        if rule == "balance":
            check_labels(empty)
        _ = ClassCounter(num_classes).update(empty).counts  # raises the in-memory "no labels" error
    filled = [s for s in summaries if s["rows"]]
    suspects = [s["suspects"] for s in filled if s["suspects"] is not None and len(s["suspects"])]
    if rule == "multi_hot":
        widths = sorted({s["width"] for s in filled})
        if len(widths) > 1:
            raise ValueError(ragged_multi_hot_message(column, widths))
        counter = ClassCounter(num_classes, multi_hot=True)
        counter.update(np.zeros((1, widths[0]), dtype=np.int64))  # the in-memory width check
        if suspects:
            ClassCounter(num_classes, multi_hot=True).update(np.concatenate(suspects))
            raise AssertionError("the multi-hot check accepted the labels it was given as faulty")
        return np.stack([s["counts"] for s in filled])
    if suspects:
        joined = np.concatenate(suspects)
        if rule == "balance":
            check_labels(joined)
        else:
            ClassCounter(num_classes).update(joined)
        raise AssertionError("the label check accepted the labels it was given as faulty")
    width = max(s["counts"].shape[0] for s in filled)
    if num_classes is not None:
        width = max(width, num_classes)
    counts = np.zeros((len(summaries), width), dtype=np.int64)
    for b, s in enumerate(summaries):
        counts[b, : s["counts"].shape[0]] = s["counts"]
    return counts


def _summary_batch(table: Any, column: str, rule: str, num_classes: int | None) -> dict[str, np.ndarray]:
    summary = _summarize(table, column, rule, num_classes)
    return {"summary": np.array([pickle.dumps(summary)], dtype=object)}


def count_classes(ds: Any, label_column: str, *, num_classes: int | None = None,
                  multi_label: bool = False) -> np.ndarray:
    """Rows per class of a Ray data set (int64, length K), counted on the cluster.

    Equal to `imbalance_core.class_weights.class_counts` of the gathered labels: class indices
    (integers, or floats holding whole numbers) count their class; with ``multi_label=True``
    each row is a 0/1 vector over labels (a tensor column or equal-length lists) and each
    positive counts its label. The driver holds one count vector per block.

    Args:
        ds: a `ray.data.Dataset`.
        label_column: the column holding the labels.
        num_classes: K; None infers it (largest index + 1, or the row length).
        multi_label: read the rows as multi-hot vectors.

    Raises the in-memory errors on the driver: a missing column (ValueError naming the columns
    present), labels of a non-numeric type (TypeError), negative or non-whole labels, labels
    >= num_classes, no rows; null labels are a ValueError too.

    >>> import ray  # doctest: +SKIP
    >>> ds = ray.data.from_items([{"y": 0}, {"y": 1}, {"y": 1}])  # doctest: +SKIP
    >>> count_classes(ds, "y").tolist()  # doctest: +SKIP
    [1, 2]
    """
    num_classes = check_integer("num_classes", num_classes, low=1, allow_none=True)
    rule = "multi_hot" if multi_label else "count"
    _check_dataset(ds, label_column)
    summaries = ds.map_batches(
        _summary_batch,
        batch_size=None,  # whole blocks
        batch_format="pyarrow",
        fn_kwargs={"column": label_column, "rule": rule, "num_classes": num_classes},
    ).take_all()
    counts = _judge([pickle.loads(row["summary"]) for row in summaries], label_column, rule, num_classes)
    return counts.sum(axis=0)


def class_weights(ds: Any, label_column: str, *, method: str = "balanced", beta: float = 0.999,
                  num_classes: int | None = None, multi_label: bool = False) -> np.ndarray:
    """Per-class weights (float64, length K) of a Ray data set: `compute_class_weight`'s
    methods ("balanced", "inverse", "inverse_sqrt", "effective_number"), arguments and results
    on the gathered labels, from `count_classes` (nothing of size N on the driver).

    >>> import ray  # doctest: +SKIP
    >>> ds = ray.data.from_items([{"y": 0}, {"y": 1}, {"y": 1}, {"y": 1}])  # doctest: +SKIP
    >>> class_weights(ds, "y").tolist()  # doctest: +SKIP
    [2.0, 0.6666666666666666]
    """
    method, beta, num_classes = check_class_weight_args(method, beta, num_classes)
    counts = count_classes(ds, label_column, num_classes=num_classes, multi_label=multi_label)
    check_counted_classes("labels", counts)
    return weights_from_counts(counts, method, beta)


# -- balance: scatter rows to their slots, gather each output block in batch order ---------
@dataclass(frozen=True)
class _Plan:
    """What every task needs of the epoch (small: O(steps x replicas x classes))."""

    schedule: BalancedSchedule  # from the class counts, nothing computed yet
    epoch: int
    starts: np.ndarray  # (K,) each class's first pool position in the epoch
    before: np.ndarray  # (K, S R + 1) class c's slots before batch (t, r), flat index t R + r
    steps_per_part: int  # batches of one replica per output block (a multiple of BLOCK_STEPS)
    parts_per_rank: int

    @property
    def num_parts(self) -> int:
        return self.parts_per_rank * self.schedule.num_replicas


def _part_layout(schedule: BalancedSchedule, num_blocks: int) -> tuple[int, int]:
    """(steps_per_part, parts_per_rank): output blocks of about as many rows as the input
    blocks, in whole runs of BLOCK_STEPS batches of one replica."""
    steps = schedule.steps_per_epoch
    rows_per_block = max(1, -(-schedule.num_samples // max(1, num_blocks)))
    steps_per_part = BLOCK_STEPS * max(1, -(-rows_per_block // (BLOCK_STEPS * schedule.batch_size)))
    steps_per_part = min(steps_per_part, BLOCK_STEPS * -(-steps // BLOCK_STEPS))
    return steps_per_part, -(-steps // steps_per_part)


def _build_plan(class_counts: np.ndarray, batch_size: int, epoch: int, layout: tuple[int, int],
                schedule_args: dict[str, Any]) -> _Plan:
    """The epoch's table of class counts per (step, replica), as prefix sums per class."""
    schedule = BalancedSchedule.from_counts(class_counts, batch_size, **schedule_args)
    counts = schedule.epoch_counts(epoch)  # (S, R, K)
    steps, replicas, k = counts.shape
    before = np.zeros((k, steps * replicas + 1), dtype=np.int64)
    np.cumsum(counts.reshape(steps * replicas, k).T, axis=1, out=before[:, 1:])
    del counts
    return _Plan(
        schedule=BalancedSchedule.from_counts(class_counts, batch_size, **schedule_args),  # nothing cached
        epoch=epoch,
        starts=schedule.epoch_start(epoch),
        before=before,
        steps_per_part=layout[0],
        parts_per_rank=layout[1],
    )


def make_plan(class_counts: np.ndarray, batch_size: int, *, epoch: int, num_blocks: int, **schedule_args: Any) -> _Plan:
    """The epoch's plan from the class counts (O(steps x replicas x classes)); `schedule_args`
    as for `BalancedSchedule.from_counts`. `balance` builds it in a task, so that it lives in
    the object store rather than on the driver."""
    schedule = BalancedSchedule.from_counts(class_counts, batch_size, **schedule_args)
    return _build_plan(class_counts, batch_size, epoch, _part_layout(schedule, num_blocks), schedule_args)


def _block_table(block: Any, start: int | None, stop: int | None) -> Any:
    from ray.data.block import BlockAccessor

    accessor = BlockAccessor.for_block(block)
    if start is not None:
        end = stop if stop is not None else accessor.num_rows()
        block = accessor.slice(start, end, copy=False)
        accessor = BlockAccessor.for_block(block)
    return accessor.to_arrow()


def _summarize_block(block: Any, start: int | None, stop: int | None, column: str) -> dict[str, Any]:
    return _summarize(_block_table(block, start, stop), column, "balance", None)


def scatter(labels: np.ndarray, offsets: np.ndarray, plan: _Plan) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where the rows of one block go: (row index in the block, output block, key), one entry
    per use of a row in the epoch. `offsets[c]`: the rows of class c in the earlier blocks. The
    key is (local step, class, rank of the row among its batch's rows of its class)."""
    schedule = plan.schedule
    k, b, replicas = schedule.num_classes, schedule.batch_size, schedule.num_replicas
    order = np.argsort(labels, kind="stable")
    present, first = np.unique(labels[order], return_index=True)
    bounds = np.append(first, labels.shape[0])
    rows, parts, keys = [], [], []
    for c, lo, hi in zip(present.tolist(), bounds[:-1].tolist(), bounds[1:].tolist()):
        n, start = int(schedule.class_counts[c]), int(plan.starts[c])
        before = plan.before[c]
        total = int(before[-1])
        if total == 0:  # class not drawn in this epoch
            continue
        members = offsets[c] + np.arange(hi - lo)
        passes = np.arange(start // n, (start + total - 1) // n + 1)
        position = schedule.pool_positions(c, members[None, :], passes[:, None])
        used = (position >= start) & (position < start + total)
        q = position[used] - start
        batch = np.searchsorted(before, q, side="right") - 1
        within = q - before[batch]
        step, rank = np.divmod(batch, replicas)
        rows.append(np.broadcast_to(order[lo:hi], position.shape)[used])
        parts.append(rank * plan.parts_per_rank + step // plan.steps_per_part)
        keys.append(((step % plan.steps_per_part) * k + c) * b + within)
    if not rows:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    return np.concatenate(rows), np.concatenate(parts), np.concatenate(keys)


def _scatter_block(block: Any, start: int | None, stop: int | None, column: str, offsets: np.ndarray, plan: _Plan):
    table = _block_table(block, start, stop)
    labels = _label_array(table, column).astype(np.int64, copy=False)
    rows, parts, keys = scatter(labels, offsets, plan)
    order = np.argsort(parts, kind="stable")
    rows, parts, keys = rows[order], parts[order], keys[order]
    bounds = np.searchsorted(parts, np.arange(plan.num_parts + 1))
    pieces = [(keys[lo:hi], table.take(rows[lo:hi])) for lo, hi in zip(bounds[:-1], bounds[1:])]
    return pieces if plan.num_parts > 1 else pieces[0]


def place(part: int, keys: np.ndarray, plan: _Plan) -> np.ndarray:
    """For output block `part`: the order of its rows (given by their scatter keys) that puts
    every row in its slot, batch after batch: `rows.take(place(...))`."""
    schedule = plan.schedule
    k, b, replicas = schedule.num_classes, schedule.batch_size, schedule.num_replicas
    rank, chunk = divmod(part, plan.parts_per_rank)
    t0 = chunk * plan.steps_per_part
    t1 = min(t0 + plan.steps_per_part, schedule.steps_per_epoch)
    flat = np.arange(t0, t1) * replicas + rank
    counts = (plan.before[:, flat + 1] - plan.before[:, flat]).T  # (T, K)
    if keys.shape[0] != (t1 - t0) * b:
        raise RuntimeError(f"output block {part} received {keys.shape[0]} rows for {(t1 - t0) * b} slots")
    patterns = np.concatenate([
        schedule.class_patterns(plan.epoch, block, rank,
                                counts[block * BLOCK_STEPS - t0 : (block + 1) * BLOCK_STEPS - t0])
        for block in range(t0 // BLOCK_STEPS, -(-t1 // BLOCK_STEPS))
    ])
    slots = np.argsort(patterns, axis=1, kind="stable")  # each class's slots, left to right
    class_start = np.cumsum(counts, axis=1) - counts
    step, rest = np.divmod(keys, k * b)
    cls, within = np.divmod(rest, b)
    destination = step * b + slots[step, class_start[step, cls] + within]
    order = np.empty_like(destination)
    order[destination] = np.arange(destination.shape[0])
    return order


def _gather_part(part: int, plan: _Plan, *pieces: tuple[np.ndarray, Any]):
    import pyarrow as pa

    keys = np.concatenate([piece[0] for piece in pieces])
    table = pa.concat_tables([piece[1] for piece in pieces], promote_options="default")
    return table.take(place(part, keys, plan))


@functools.cache
def _tasks():
    ray = _ray()
    return (ray.remote(_summarize_block), ray.remote(_build_plan), ray.remote(_scatter_block),
            ray.remote(_gather_part))


# Rows below which a block is not cut into several tasks' spans.
_MIN_SPAN_ROWS = 65_536


def _spans(blocks: list[tuple[Any, int | None, int | None]], cpus: int) -> list[tuple[Any, int | None, int | None]]:
    """The blocks cut into row spans of at most about (rows / (2 cpus)) rows each (at least
    _MIN_SPAN_ROWS), so that the per-block tasks keep every CPU busy when Ray Data makes few,
    large blocks (it coalesces a Parquet read into blocks of up to 128 MiB). The batches do
    not depend on the cut: each span's rows find their slots from their class ranks."""
    rows = [hi - lo for _, lo, hi in blocks if lo is not None and hi is not None]
    limit = max(_MIN_SPAN_ROWS, -(-sum(rows) // max(1, 2 * cpus)))
    spans: list[tuple[Any, int | None, int | None]] = []
    for ref, lo, hi in blocks:
        if lo is None or hi is None or hi - lo <= limit:
            spans.append((ref, lo, hi))
            continue
        cuts = np.linspace(lo, hi, -(-(hi - lo) // limit) + 1).astype(np.int64).tolist()
        spans.extend((ref, a, b) for a, b in zip(cuts[:-1], cuts[1:]))
    return spans


def _materialize_in_order(ds: Any):
    """The data set materialised with preserve_order: the row order that `balance` follows."""
    options = ds.context.execution_options
    saved = options.preserve_order
    options.preserve_order = True
    try:
        return ds.materialize()
    finally:
        options.preserve_order = saved


def balance(ds: Any, label_column: str, batch_size: int, *, class_fractions: Any = None, mode: str = "exact",
            seed: int = 0, epoch: int = 0, steps_per_epoch: int | None = None, num_replicas: int = 1) -> Any:
    """The rows of epoch `epoch` of the balanced schedule of `ds`, in batch order: a
    materialised `ray.data.Dataset` of steps_per_epoch * num_replicas * batch_size rows (a row
    drawn k times appears k times), with the columns of `ds`.

    ``iter_batches(batch_size=batch_size)``, ``iter_torch_batches(...)``, ``to_tf(...)`` and
    ``iter_tf_batches(...)`` on it yield balanced batches: exactly the index batches of
    `torch_impl.data.BalancedBatchSampler(labels, batch_size, ...)` and of both frameworks'
    `balanced_batches` with the same arguments, for the labels in the row order Ray yields with
    ``execution_options.preserve_order=True``. The rows are replica-major: replica 0's batches
    in step order, then replica 1's, ...; ``split(num_replicas, equal=True)[r]`` is replica
    r's. Every output block holds whole batches of one replica. Transforms applied afterwards
    keep that order only with ``preserve_order=True``.

    Args:
        ds: a `ray.data.Dataset`; its label column holds integer class indices.
        label_column: the column holding the labels.
        batch_size: rows per batch and replica (B).
        class_fractions, mode ("exact" or "sampled"), seed, steps_per_epoch, num_replicas: as
            for `BalancedBatchSampler`.
        epoch: the epoch (it changes the pools' passes and, in mode "sampled", the counts).

    Bad input raises on the driver, with the in-memory exception types and messages: a missing
    column, non-integer labels (TypeError), negative labels, labels beyond
    `class_fractions`, no rows, a requested class without rows, a batch too small for mode
    "exact"; null labels are a ValueError too.

    >>> import ray  # doctest: +SKIP
    >>> ds = ray.data.from_items([{"id": i, "y": int(i % 10 == 0)} for i in range(100)])  # doctest: +SKIP
    >>> first = next(balance(ds, "y", 8).iter_batches(batch_size=8, batch_format="numpy"))  # doctest: +SKIP
    >>> first["y"].sum()  # doctest: +SKIP
    4
    """
    ray = _ray()
    mode, batch_size, seed, num_replicas = check_pipeline_args(
        mode=mode, modes=BALANCE_MODES, batch_size=batch_size, seed=seed, num_replicas=num_replicas)
    epoch = check_integer("epoch", epoch, low=0)
    steps_per_epoch = check_integer("steps_per_epoch", steps_per_epoch, low=1, allow_none=True)
    if class_fractions is not None:
        check_fractions("class_fractions", class_fractions)
    _check_dataset(ds, label_column)
    summarize_task, plan_task, scatter_task, gather_task = _tasks()

    bundles = list(_materialize_in_order(ds).iter_internal_ref_bundles())
    blocks = []  # (block ref, first row, end row) in row order
    for bundle in bundles:
        slices = getattr(bundle, "slices", None) or [None] * len(bundle.block_refs)
        for ref, block_slice, meta in zip(bundle.block_refs, slices, bundle.metadata):
            if block_slice is not None:
                blocks.append((ref, block_slice.start_offset, block_slice.end_offset))
            elif meta.num_rows is not None:
                blocks.append((ref, 0, meta.num_rows))
            else:
                blocks.append((ref, None, None))
    blocks = _spans(blocks, int(ray.cluster_resources().get("CPU", 1)))
    summaries = ray.get([summarize_task.remote(ref, lo, hi, label_column) for ref, lo, hi in blocks])
    block_counts = _judge(summaries, label_column, "balance", None)

    # The schedule from the class counts alone (O(classes) here); the epoch's table of
    # O(steps x replicas x classes) is built by a task and stays in the object store.
    class_counts = block_counts.sum(axis=0)
    schedule_args = dict(class_fractions=class_fractions, mode=mode, seed=seed,
                         steps_per_epoch=steps_per_epoch, num_replicas=num_replicas)
    schedule = BalancedSchedule.from_counts(class_counts, batch_size, **schedule_args)  # raises the in-memory errors
    k = schedule.num_classes
    layout = _part_layout(schedule, len(blocks))
    num_parts = layout[1] * num_replicas
    plan_ref = plan_task.remote(class_counts, batch_size, epoch, layout, schedule_args)
    offsets = np.cumsum(block_counts, axis=0) - block_counts
    k_blocks = block_counts.shape[1]
    pieces = []
    for (ref, lo, hi), offset in zip(blocks, offsets):
        padded = np.zeros(k, dtype=np.int64)
        padded[:k_blocks] = offset
        out = scatter_task.options(num_returns=num_parts).remote(ref, lo, hi, label_column, padded, plan_ref)
        pieces.append(out if num_parts > 1 else [out])
    gathered = [gather_task.remote(p, plan_ref, *[piece[p] for piece in pieces]) for p in range(num_parts)]
    return ray.data.from_arrow_refs(gathered)
