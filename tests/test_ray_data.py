"""imbalance_core.ray_data: counts, class weights and balanced epochs of Ray data sets, equal to
the in-memory functions' (Ray in local mode, two CPUs, one instance per test process)."""

import subprocess
import sys

import numpy as np
import pytest

from imbalance_core.class_weights import class_counts, compute_class_weight
from imbalance_core.ray_data import make_plan, place, scatter
from imbalance_core.schedule import BalancedSchedule

B = 8


def _labels(n, fractions, seed=0):
    return np.random.default_rng(seed).choice(len(fractions), size=n, p=fractions).astype(np.int64)


def _sampler_batches(labels, batch_size, *, epoch, rank, **kw):
    torch_data = pytest.importorskip("torch_impl.data")
    sampler = torch_data.BalancedBatchSampler(labels, batch_size, rank=rank, **kw)
    sampler.set_epoch(epoch)
    return np.array(list(sampler), dtype=np.int64)


# -- the placement itself, in NumPy: scatter per block, place per output block ---------------
@pytest.mark.parametrize("blocks, kw", [
    ((700,), dict()),
    ((100, 250, 1, 349), dict(num_replicas=2, epoch=1)),
    ((300, 400), dict(mode="sampled", seed=3, class_fractions=[0.2, 0.3, 0.5], epoch=2)),
    ((50,) * 14, dict(num_replicas=3, steps_per_epoch=150, seed=5, epoch=1)),  # several runs of 64 steps
])
def test_scatter_and_place_give_the_schedules_batches(blocks, kw):
    labels = _labels(sum(blocks), [0.8, 0.15, 0.05])
    epoch = kw.pop("epoch", 0)
    plan = make_plan(np.bincount(labels), B, epoch=epoch, num_blocks=len(blocks), **kw)
    ends = np.cumsum(blocks)
    parts = [[] for _ in range(plan.num_parts)]
    offsets = np.zeros(3, dtype=np.int64)
    for lo, hi in zip(ends - blocks, ends):
        rows, part, keys = scatter(labels[lo:hi], offsets, plan)
        for p in range(plan.num_parts):
            parts[p].append((rows[part == p] + lo, keys[part == p]))
        offsets += np.bincount(labels[lo:hi], minlength=3)
    placed = []
    for p in range(plan.num_parts):
        rows = np.concatenate([r for r, _ in parts[p]])
        keys = np.concatenate([k for _, k in parts[p]])
        placed.append(rows[place(p, keys, plan)])
    schedule = BalancedSchedule(labels, B, **kw)
    expected = np.concatenate([schedule.replica_batches(epoch, r).reshape(-1) for r in range(schedule.num_replicas)])
    np.testing.assert_array_equal(np.concatenate(placed), expected)


def test_imports_without_ray_and_asks_for_the_extra():
    code = (
        "import sys; sys.modules['ray'] = None\n"
        "from imbalance_core import ray_data\n"
        "try:\n"
        "    ray_data.count_classes(None, 'y')\n"
        "except ImportError as e:\n"
        "    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert 'pip install "classbalance[ray]"' in out.stdout


# -- on Ray --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ray():
    ray = pytest.importorskip("ray")
    pytest.importorskip("ray.data")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def ray_data(ray):
    from imbalance_core import ray_data

    return ray_data


def _from_columns(ray, blocks, **columns):
    import pandas as pd

    frame = pd.DataFrame(columns)
    n = len(frame)
    cuts = np.linspace(0, n, blocks + 1).astype(int)
    return ray.data.from_pandas([frame.iloc[lo:hi] for lo, hi in zip(cuts[:-1], cuts[1:])])


def _ids(ds, batch_size):
    return [b["id"] for b in ds.iter_batches(batch_size=batch_size, batch_format="numpy")]


@pytest.mark.parametrize("kw", [
    dict(mode="exact", num_replicas=1, epoch=0),
    dict(mode="exact", num_replicas=2, epoch=1, class_fractions=[0.5, 0.25, 0.25], seed=7),
    dict(mode="sampled", num_replicas=1, epoch=1, seed=3),
    dict(mode="sampled", num_replicas=2, epoch=0, class_fractions=[0.2, 0.3, 0.5], steps_per_epoch=70),
])
def test_balance_gives_the_samplers_batches(ray, ray_data, kw):
    labels = _labels(1200, [0.9, 0.08, 0.02], seed=1)
    ds = _from_columns(ray, 5, id=np.arange(labels.shape[0]), y=labels)
    epoch, replicas = kw.pop("epoch"), kw["num_replicas"]
    balanced = ray_data.balance(ds, "y", B, epoch=epoch, **kw)
    in_memory = {r: _sampler_batches(labels, B, epoch=epoch, rank=r, **kw) for r in range(replicas)}
    assert balanced.count() == replicas * in_memory[0].size
    for r, shard in enumerate(balanced.split(replicas, equal=True)):
        got = np.stack(_ids(shard, B))
        np.testing.assert_array_equal(got, in_memory[r])
        # the labels travel with their rows
        ys = np.stack([b["y"] for b in shard.iter_batches(batch_size=B, batch_format="numpy")])
        np.testing.assert_array_equal(ys, labels[in_memory[r]])
    # the whole data set: replica 0's batches, then replica 1's
    np.testing.assert_array_equal(np.stack(_ids(balanced, B)), np.concatenate([in_memory[r] for r in range(replicas)]))


def test_balance_follows_parquet_row_order_and_torch_batches(ray, ray_data, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    labels = _labels(900, [0.95, 0.05], seed=2)
    for i, lo in enumerate(range(0, 900, 300)):
        pq.write_table(pa.table({"id": np.arange(lo, lo + 300), "y": labels[lo : lo + 300]}), tmp_path / f"part-{i}.parquet")
    ds = ray.data.read_parquet(str(tmp_path))
    ordered = ray.data.read_parquet(str(tmp_path))
    ordered.context.execution_options.preserve_order = True  # this data set's own copy of the context
    order = np.concatenate([b["id"] for b in ordered.iter_batches(batch_format="numpy")])
    row_labels = labels[order]  # the labels in the order Ray yields the rows
    balanced = ray_data.balance(ds, "y", 16, seed=4)
    expected = order[_sampler_batches(row_labels, 16, epoch=0, rank=0, seed=4)]
    got = np.stack([b["id"].numpy() for b in balanced.iter_torch_batches(batch_size=16)])
    np.testing.assert_array_equal(got, expected)
    assert (labels[got].sum(axis=1) == 8).all()  # half of every batch from the 5 % class


def test_balance_of_a_split_shard_uses_its_rows(ray, ray_data):
    # split(equal=True) hands out slices of blocks: the shard's own rows, in its order.
    labels = _labels(1001, [0.7, 0.3], seed=5)
    ds = _from_columns(ray, 3, id=np.arange(labels.shape[0]), y=labels)
    shard = ds.split(2, equal=True)[1]
    ids = np.concatenate(_ids(shard, 100))
    balanced = ray_data.balance(shard, "y", B, mode="sampled", seed=1)
    expected = ids[_sampler_batches(labels[ids], B, epoch=0, rank=0, mode="sampled", seed=1)]
    np.testing.assert_array_equal(np.stack(_ids(balanced, B)), expected)


def test_count_classes_and_class_weights_equal_the_in_memory_ones(ray, ray_data):
    labels = _labels(800, [0.6, 0.3, 0.0, 0.1], seed=3)
    ds = _from_columns(ray, 4, y=labels, f=labels.astype(np.float64))
    np.testing.assert_array_equal(ray_data.count_classes(ds, "y"), np.bincount(labels))
    np.testing.assert_array_equal(ray_data.count_classes(ds, "f"), class_counts(labels.astype(np.float64)))
    np.testing.assert_array_equal(ray_data.count_classes(ds, "y", num_classes=6), class_counts(labels, 6))
    present = np.where(labels == 3, 2, labels)  # classes 0, 1, 2, all with rows
    dense = _from_columns(ray, 3, y=present)
    for method in ("balanced", "inverse", "inverse_sqrt", "effective_number"):
        np.testing.assert_array_equal(ray_data.class_weights(dense, "y", method=method, beta=0.99),
                                      compute_class_weight(present, method=method, beta=0.99))
    with pytest.raises(ValueError) as ray_error:
        ray_data.class_weights(ds, "y")
    with pytest.raises(ValueError) as memory_error:
        compute_class_weight(labels)
    assert str(ray_error.value) == str(memory_error.value)  # class 2 has no samples


def test_count_classes_multi_hot(ray, ray_data):
    rng = np.random.default_rng(4)
    hot = (rng.random((300, 5)) < [0.5, 0.2, 0.1, 0.05, 0.01]).astype(np.int64)
    tensor = ray.data.from_numpy(hot).repartition(3)  # a tensor column named "data"
    np.testing.assert_array_equal(ray_data.count_classes(tensor, "data", multi_label=True), class_counts(hot))
    lists = ray.data.from_items([{"labels": row.tolist()} for row in hot], override_num_blocks=3)
    np.testing.assert_array_equal(ray_data.count_classes(lists, "labels", multi_label=True), class_counts(hot))
    bad = hot.copy()
    bad[[40, 250], [1, 3]] = 2
    with pytest.raises(ValueError) as ray_error:
        ray_data.count_classes(ray.data.from_numpy(bad).repartition(3), "data", multi_label=True)
    with pytest.raises(ValueError) as memory_error:
        class_counts(bad)
    assert str(ray_error.value) == str(memory_error.value)


def _same_error(ray_call, memory_call, kind=ValueError):
    with pytest.raises(kind) as ray_error:
        ray_call()
    with pytest.raises(kind) as memory_error:
        memory_call()
    assert str(ray_error.value) == str(memory_error.value)
    return str(ray_error.value)


def test_bad_labels_raise_the_in_memory_errors_on_the_driver(ray, ray_data):
    labels = _labels(400, [0.8, 0.2], seed=6)
    negative = labels.copy()
    negative[[3, 150, 151, 152, 153, 154, 155, 390]] = -1  # more than six, across blocks
    ds = _from_columns(ray, 4, y=negative)
    _same_error(lambda: ray_data.balance(ds, "y", B), lambda: BalancedSchedule(negative, B))
    _same_error(lambda: ray_data.count_classes(ds, "y"), lambda: class_counts(negative))
    floats = _from_columns(ray, 2, y=labels.astype(np.float32))
    _same_error(lambda: ray_data.balance(floats, "y", B), lambda: BalancedSchedule(labels.astype(np.float32), B), TypeError)
    fractional = labels.astype(np.float64)
    fractional[[10, 300]] = 0.5
    _same_error(lambda: ray_data.count_classes(_from_columns(ray, 2, y=fractional), "y"), lambda: class_counts(fractional))
    _same_error(lambda: ray_data.count_classes(_from_columns(ray, 2, y=labels), "y", num_classes=1),
                lambda: class_counts(labels, 1))


def test_bad_arguments_raise_the_in_memory_errors_on_the_driver(ray, ray_data):
    labels = _labels(300, [0.5, 0.4, 0.1], seed=7)
    ds = _from_columns(ray, 3, y=labels)
    _same_error(lambda: ray_data.balance(ds, "y", B, class_fractions=[0.5, 0.5]),
                lambda: BalancedSchedule(labels, B, class_fractions=[0.5, 0.5]))  # labels beyond the fractions
    _same_error(lambda: ray_data.balance(ds, "y", B, class_fractions=[0.4, 0.3, 0.2, 0.1]),
                lambda: BalancedSchedule(labels, B, class_fractions=[0.4, 0.3, 0.2, 0.1]))  # class 3 has no rows
    _same_error(lambda: ray_data.balance(ds, "y", 2), lambda: BalancedSchedule(labels, 2))  # too small for "exact"
    with pytest.raises(ValueError, match=r"Invalid `mode`: received 'class_aware'.*'exact', 'sampled'"):
        ray_data.balance(ds, "y", B, mode="class_aware")  # the multi-label modes are in-memory only
    _same_error(lambda: ray_data.balance(ds, "y", B, class_fractions=[0.5, 0.6, -0.1]),
                lambda: BalancedSchedule(labels, B, class_fractions=[0.5, 0.6, -0.1]))
    _same_error(lambda: ray_data.balance(_from_columns(ray, 2, y=labels[:0]), "y", B), lambda: BalancedSchedule(labels[:0], B))
    _same_error(lambda: ray_data.count_classes(_from_columns(ray, 2, y=labels[:0]), "y"), lambda: class_counts(labels[:0]))


def test_missing_column_null_labels_and_non_datasets(ray, ray_data):
    ds = ray.data.from_items([{"x": 1.0, "y": 0}, {"x": 2.0, "y": None}, {"x": 3.0, "y": 1}])
    with pytest.raises(ValueError, match=r"Invalid `label_column`: received 'label'.*\['x', 'y'\]"):
        ray_data.balance(ds, "label", 2)
    with pytest.raises(ValueError, match=r"column 'y' holds 1 null label"):
        ray_data.balance(ds, "y", 2)
    with pytest.raises(ValueError, match=r"column 'y' holds 1 null label"):
        ray_data.count_classes(ds, "y")
    with pytest.raises(TypeError, match="ray.data.Dataset"):
        ray_data.count_classes(np.zeros(3), "y")
