"""torch_impl.data: BalancedBatchSampler (DataLoader, workers, DDP-style shards, whole-batch
fetches through __getitems__), balanced_batches (one gather per batch, the same batches as the
sampler and as tf_impl.data.balanced_batches) and the IterableDataset twin of balance_dataset."""

import collections
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch.utils.data import DataLoader, Dataset, IterableDataset, TensorDataset, get_worker_info  # noqa: E402

from conftest import needs_tf_backend  # noqa: E402
from imbalance_core.schedule import BalancedSchedule  # noqa: E402
from torch_impl.data import BalancedBatchSampler, balance_dataset, balanced_batches  # noqa: E402


def _labels(n, fractions, seed=0):
    return np.random.default_rng(seed).choice(len(fractions), size=n, p=fractions).astype(np.int64)


def test_sampler_exact_composition_len_and_schedule():
    y = _labels(3_000, [0.9, 0.07, 0.03])
    sampler = BalancedBatchSampler(torch.as_tensor(y), 30, class_fractions=[0.5, 0.3, 0.2], seed=2)
    assert len(sampler) == 100
    batches = list(sampler)
    assert len(batches) == 100 and all(isinstance(i, int) for i in batches[0])
    for b in batches:
        assert np.bincount(y[b], minlength=3).tolist() == [15, 9, 6]
    expected = BalancedSchedule(y, 30, class_fractions=[0.5, 0.3, 0.2], seed=2).epoch_batches(0)
    np.testing.assert_array_equal(np.array(batches), expected)


def test_set_epoch_reproducible_and_epochs_differ():
    y = _labels(1_000, [0.95, 0.05])
    a = BalancedBatchSampler(y, 16, seed=5)
    b = BalancedBatchSampler(y.tolist(), 16, seed=5)
    first, second = list(a), list(a)  # each pass advances the epoch
    assert first != second
    b.set_epoch(1)
    assert list(b) == second
    b.set_epoch(0)
    assert list(b) == first
    c = BalancedBatchSampler(y, 16, seed=6)
    assert list(c) != first
    with pytest.raises(ValueError, match=r"Invalid `epoch`: received -1; expected an integer >= 0\."):
        a.set_epoch(-1)


def test_dataloader_with_workers():
    y = _labels(2_000, [0.97, 0.03])
    x = torch.arange(2_000, dtype=torch.float32)[:, None]
    sampler = BalancedBatchSampler(y, 20, seed=1)
    loader = DataLoader(TensorDataset(x, torch.as_tensor(y)), batch_sampler=sampler, num_workers=2)
    for epoch in range(2):
        sampler.set_epoch(epoch)
        expected = BalancedSchedule(y, 20, seed=1).epoch_batches(epoch)
        seen = 0
        for step, (xb, yb) in enumerate(loader):
            assert xb.shape == (20, 1)
            np.testing.assert_array_equal(xb[:, 0].long().numpy(), expected[step])
            assert int(yb.sum()) == 10
            seen += 1
        assert seen == len(sampler) == 100


def test_ranks_disjoint_balanced_and_match_global_batches():
    y = _labels(8_000, [0.7, 0.3])
    samplers = [BalancedBatchSampler(y, 8, num_replicas=4, rank=r, seed=3, steps_per_epoch=40) for r in range(4)]
    parts = [np.array(list(s)) for s in samplers]
    every = np.concatenate([p.ravel() for p in parts])
    assert np.unique(every).size == every.size  # 1280 draws, no pool wraps: all disjoint
    for p in parts:
        assert (np.stack([np.bincount(y[row], minlength=2) for row in p]) == [4, 4]).all()
    glob = BalancedSchedule(y, 8, num_replicas=4, seed=3, steps_per_epoch=40).epoch_batches(0)
    np.testing.assert_array_equal(np.concatenate(parts, axis=1), glob)
    assert len(BalancedBatchSampler(y, 8, num_replicas=4, rank=0)) == math.ceil(8_000 / 32)


def test_sampler_beyond_weighted_random_sampler_limit():
    # torch.multinomial (WeightedRandomSampler) refuses more than 2**24 categories.
    n = 30_000_000
    y = np.zeros(n, dtype=np.uint8)
    y[::10_000] = 1  # 0.01% minority
    with pytest.raises(RuntimeError):
        torch.multinomial(torch.ones(n), 1)
    sampler = BalancedBatchSampler(y, 1024, seed=0)
    assert len(sampler) == math.ceil(n / 1024)
    it = iter(sampler)
    for _ in range(50):
        b = np.array(next(it))
        assert b.size == 1024 and b.max() < n and int(y[b].sum()) == 512


class _Records(IterableDataset):
    """A non-indexable source: (features, label) records, sharded across workers."""

    def __init__(self, labels):
        self.labels = labels

    def __iter__(self):
        info = get_worker_info()
        wid, nw = (info.id, info.num_workers) if info else (0, 1)
        for i in range(wid, len(self.labels), nw):
            yield torch.tensor([float(i)]), int(self.labels[i])


def test_balance_dataset_composition_coverage_and_epochs():
    y = _labels(2_000, [0.95, 0.05], seed=4)
    ds = balance_dataset(_Records(y), lambda item: item[1], 10, class_fractions=[0.5, 0.5], seed=1)
    assert isinstance(ds, IterableDataset)
    first = [(xb[:, 0].long().numpy(), yb.numpy()) for xb, yb in DataLoader(ds, batch_size=None)]
    for idx, yb in first:
        assert idx.shape == (10,) and yb.sum() == 5
        np.testing.assert_array_equal(y[idx], yb)
    emitted = np.concatenate([idx for idx, _ in first])
    # Every record emitted except the final partial batch: the newest majority records that
    # do not fill a share of 5.
    lost = np.setdiff1d(np.arange(2_000), emitted)
    majority = np.flatnonzero(y == 0)
    np.testing.assert_array_equal(lost, majority[majority.size - majority.size % 5:])
    second = [xb[:, 0].long().numpy() for xb, _ in ds]
    assert not all(np.array_equal(a, b) for (a, _), b in zip(first, second))
    ds.set_epoch(0)
    again = [xb[:, 0].long().numpy() for xb, _ in ds]
    assert all(np.array_equal(a, b) for (a, _), b in zip(first, again))


def test_balance_dataset_with_workers():
    y = _labels(1_200, [0.9, 0.1], seed=5)
    # _Records splits itself across workers: declared, each worker balances its own part.
    ds = balance_dataset(_Records(y), lambda item: item[1], 8, num_classes=2, seed=0, sharded_source=True)
    batches = list(DataLoader(ds, batch_size=None, num_workers=2))
    assert len(batches) > 100
    for xb, yb in batches:
        assert xb.shape == (8, 1) and int(yb.sum()) == 4
    emitted = np.concatenate([xb[:, 0].long().numpy() for xb, _ in batches])
    # Each worker drops its own final partial batch: its newest majority records short of 4.
    lost = []
    for worker in range(2):
        majority = np.arange(worker, 1_200, 2)[y[worker::2] == 0]
        lost.append(majority[majority.size - majority.size % 4:])
    np.testing.assert_array_equal(np.setdiff1d(np.arange(1_200), emitted), np.sort(np.concatenate(lost)))


def test_balance_dataset_errors():
    y = np.array([0, 1, 0, 1])
    with pytest.raises(ValueError, match=r"a stream's classes are not known in advance"):
        balance_dataset(_Records(y), lambda item: item[1], 4)
    with pytest.raises(ValueError, match=r"Invalid `class_fn`: received 3; expected a callable\."):
        balance_dataset(_Records(y), 3, 4, num_classes=2)
    bad = balance_dataset(_Records(y), lambda item: item[1] + 1, 4, num_classes=2)
    with pytest.raises(ValueError, match=r"Invalid `class_fn output`: class indices must lie in \[0, 2\); received 2\."):
        list(bad)
    floats = balance_dataset(_Records(y), lambda item: torch.tensor(float(item[1])), 4, num_classes=2)
    with pytest.raises(TypeError) as info:
        list(floats)
    assert str(info.value) == "Invalid `class_fn` output dtype: received float32; expected an integer class index."
    missing = balance_dataset(_Records(y), lambda item: item[1], 6, num_classes=3)
    with pytest.raises(ValueError, match=r"class 2 is requested \(fraction 0.333333\) but has no samples in the stream"):
        list(missing)


def test_sampler_errors():
    y = np.array([0, 1, 0, 1])
    with pytest.raises(ValueError) as info:
        BalancedBatchSampler(y, 2, num_replicas=2, rank=2)
    assert str(info.value) == "Invalid `rank`: received 2; expected an integer in [0, 1]."
    with pytest.raises(ValueError, match=r"Invalid `rank`: received -1"):
        BalancedBatchSampler(y, 2, rank=-1)
    with pytest.raises(TypeError, match=r"Invalid `labels` dtype: received float32"):
        BalancedBatchSampler(torch.tensor([0.0, 1.0]), 2)


# ------------------------------------------------------------------------- balanced_batches

SCHEDULES = [
    dict(),
    dict(class_fractions=[0.2, 0.3, 0.5], mode="sampled", seed=9),
    dict(num_replicas=2, rank=1, seed=4, steps_per_epoch=7),
    dict(class_fractions=[0.6, 0.2, 0.2], num_replicas=3, rank=2, mode="sampled"),
]


@pytest.mark.parametrize("kwargs", SCHEDULES)
def test_balanced_batches_same_batches_as_the_sampler(kwargs):
    y = _labels(1_500, [0.85, 0.1, 0.05])
    x = torch.arange(1_500)
    batches = balanced_batches(x, torch.as_tensor(y), 12, **kwargs)
    sampler = BalancedBatchSampler(y, 12, **kwargs)
    assert len(batches) == len(sampler)
    for _ in range(2):  # each pass is the next epoch in both
        expected = list(sampler)
        got = list(batches)
        assert len(got) == len(expected)
        for (xb, yb), idx in zip(got, expected):
            assert xb.dtype == torch.int64 and xb.shape == (12,)
            assert xb.tolist() == idx
            np.testing.assert_array_equal(yb.numpy(), y[idx])


Pair = collections.namedtuple("Pair", "idx feat")


def test_balanced_batches_dict_tuple_and_numpy_features():
    y = _labels(800, [0.9, 0.1])
    feat = np.random.default_rng(1).normal(size=(800, 2, 3)).astype(np.float32)
    expected = BalancedSchedule(y, 16, seed=2).epoch_batches(0)
    for x in (
        {"idx": torch.arange(800), "feat": torch.from_numpy(feat)},
        (torch.arange(800), feat),  # a NumPy leaf is wrapped, not copied
        Pair(np.arange(800), torch.from_numpy(feat)),
        [torch.arange(800), {"feat": feat}],
    ):
        batches = list(balanced_batches(x, y, 16, seed=2))
        assert len(batches) == expected.shape[0] == 50
        for (xb, yb), idx in zip(batches, expected):
            assert type(xb) is type(x)
            if isinstance(x, dict):
                got_idx, got_feat = xb["idx"], xb["feat"]
            elif isinstance(x, list):
                got_idx, got_feat = xb[0], xb[1]["feat"]
            else:
                got_idx, got_feat = xb
            np.testing.assert_array_equal(got_idx.numpy(), idx)
            np.testing.assert_array_equal(got_feat.numpy(), feat[idx])
            assert got_feat.shape == (16, 2, 3) and got_feat.dtype == torch.float32
            np.testing.assert_array_equal(yb.numpy(), y[idx])
            assert int(yb.sum()) == 8
    # labels as a list become an int64 tensor; NumPy uint16 (which torch cannot index) too
    _, yb = next(iter(balanced_batches(torch.zeros(800, 1), y.tolist(), 16)))
    assert yb.dtype == torch.int64
    _, yb = next(iter(balanced_batches(torch.zeros(800, 1), y.astype(np.uint16), 16)))
    assert yb.dtype == torch.int64
    _, yb = next(iter(balanced_batches(torch.zeros(800, 1), y.astype(np.uint8), 16)))
    assert yb.dtype == torch.uint8


def test_balanced_batches_ranks_disjoint_and_form_the_global_batch():
    y = _labels(8_000, [0.7, 0.3])
    x = torch.arange(8_000)
    ranks = [balanced_batches(x, y, 8, num_replicas=4, rank=r, seed=3, steps_per_epoch=40) for r in range(4)]
    for epoch in range(2):
        parts = [torch.stack([xb for xb, _ in part]).numpy() for part in ranks]
        every = np.concatenate([p.ravel() for p in parts])
        assert np.unique(every).size == every.size  # 1280 draws per epoch, no pool wraps
        for p in parts:
            assert p.shape == (40, 8)
            assert (np.stack([np.bincount(y[row], minlength=2) for row in p]) == [4, 4]).all()
        glob = BalancedSchedule(y, 8, num_replicas=4, seed=3, steps_per_epoch=40).epoch_batches(epoch)
        np.testing.assert_array_equal(np.concatenate(parts, axis=1), glob)
    assert len(balanced_batches(x, y, 8, num_replicas=4, rank=3)) == math.ceil(8_000 / 32)


def test_balanced_batches_epochs_differ_and_are_reproducible():
    y = _labels(1_000, [0.95, 0.05])
    x = torch.arange(1_000)

    def indices(batches):
        return torch.stack([xb for xb, _ in batches]).numpy()

    a = balanced_batches(x, y, 16, seed=5)
    first, second = indices(a), indices(a)  # each pass advances the epoch
    assert a.epoch == 2 and not np.array_equal(first, second)
    b = balanced_batches(x, torch.as_tensor(y), 16, seed=5)
    b.set_epoch(1)
    np.testing.assert_array_equal(indices(b), second)
    b.set_epoch(0)
    np.testing.assert_array_equal(indices(b), first)
    b.set_epoch(0)
    it0, it1 = iter(b), iter(b)  # iter() takes the epoch at once: two consecutive epochs
    np.testing.assert_array_equal(indices(it1), second)
    np.testing.assert_array_equal(indices(it0), first)
    assert not np.array_equal(indices(balanced_batches(x, y, 16, seed=6)), first)
    with pytest.raises(ValueError, match=r"Invalid `epoch`: received -1; expected an integer >= 0\."):
        a.set_epoch(-1)


def test_balanced_batches_errors():
    y = np.array([0, 1, 0, 1])
    with pytest.raises(ValueError) as info:
        balanced_batches({"a": torch.zeros(5, 2), "b": torch.zeros(4)}, y, 2)
    assert str(info.value) == (
        "Invalid `x`: received a feature of shape (5, 2); expected a leading dimension of 4, one row per label in `y`."
    )
    with pytest.raises(ValueError, match=r"received a feature of shape \(\); expected a leading dimension of 4"):
        balanced_batches((torch.zeros(4), torch.tensor(1.0)), y, 2)
    with pytest.raises(ValueError) as info:
        balanced_batches(torch.zeros(4), y, 2, num_replicas=2, rank=2)
    assert str(info.value) == "Invalid `rank`: received 2; expected an integer in [0, 1]."
    with pytest.raises(TypeError, match=r"Invalid `labels` dtype: received float32"):
        balanced_batches(torch.zeros(2), torch.tensor([0.0, 1.0]), 2)


def test_balanced_batches_make_no_host_reads():
    # On torch's "meta" device any read of the data fails: the batches never touch it.
    y = _labels(500, [0.8, 0.2])
    x = {"a": torch.empty(500, 3, device="meta"), "b": torch.empty(500, device="meta", dtype=torch.int16)}
    batches = list(balanced_batches(x, y, 10, seed=1))
    assert len(batches) == 50
    xb, yb = batches[0]
    assert xb["a"].shape == (10, 3) and xb["a"].device.type == "meta" and xb["b"].dtype == torch.int16
    assert yb.shape == (10,) and yb.device.type == "meta"  # labels follow x's device


@needs_tf_backend
@pytest.mark.parametrize("kwargs", SCHEDULES)
def test_balanced_batches_same_batches_as_tf(kwargs):
    tf_data = pytest.importorskip("tf_impl.data")
    y = _labels(1_500, [0.85, 0.1, 0.05])
    kwargs = dict(kwargs)
    kwargs.pop("rank", None)
    replicas = kwargs.get("num_replicas", 1)
    ds = tf_data.balanced_batches({"idx": np.arange(1_500)}, y, 12, **kwargs)
    ranks = [balanced_batches({"idx": torch.arange(1_500)}, y, 12, rank=r, **kwargs) for r in range(replicas)]
    for _ in range(2):  # and the next epoch
        tf_batches = [(xb["idx"], yb) for xb, yb in ds.as_numpy_iterator()]
        torch_batches = [list(r) for r in ranks]
        assert len(tf_batches) == len(torch_batches[0])
        for step, (tf_x, tf_y) in enumerate(tf_batches):
            np.testing.assert_array_equal(tf_x, torch.cat([b[step][0]["idx"] for b in torch_batches]).numpy())
            np.testing.assert_array_equal(tf_y, torch.cat([b[step][1] for b in torch_batches]).numpy())


@needs_tf_backend
def test_bad_features_same_error_as_tf():
    tf_data = pytest.importorskip("tf_impl.data")
    y = np.array([0, 1, 0, 1])
    for x in ({"a": np.zeros((5, 2)), "b": np.zeros(4)}, (np.zeros(4), np.float32(1.0))):
        with pytest.raises(ValueError) as tf_err:
            tf_data.balanced_batches(x, y, 2)
        with pytest.raises(ValueError) as torch_err:
            balanced_batches(x, y, 2)
        assert str(tf_err.value) == str(torch_err.value)


class _WholeBatches(Dataset):
    """An in-memory dataset that gathers a whole batch per call (DataLoader calls __getitems__)."""

    def __init__(self, x, y):
        self.x, self.y, self.calls = x, y, 0

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        raise AssertionError("fetched one sample at a time")

    def __getitems__(self, indices):
        self.calls += 1
        idx = torch.as_tensor(indices)
        return self.x.index_select(0, idx), self.y.index_select(0, idx)


def test_dataloader_fetches_whole_batches_through_getitems():
    y = _labels(3_000, [0.9, 0.1])
    x = torch.randn(3_000, 5)
    data = _WholeBatches(x, torch.as_tensor(y))
    sampler = BalancedBatchSampler(y, 32, seed=7)
    loader = DataLoader(data, batch_sampler=sampler, collate_fn=lambda batch: batch)
    got = list(loader)
    assert data.calls == len(got) == len(sampler) == 94  # one call per batch
    for (xb, yb), (xe, ye) in zip(got, balanced_batches(x, y, 32, seed=7)):
        assert torch.equal(xb, xe) and torch.equal(yb, ye)
        assert int(yb.sum()) == 16


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_balanced_batches_on_cuda_gather_on_the_device_without_sync():
    y = _labels(20_000, [0.97, 0.03])
    x = torch.randn(20_000, 8)
    cpu = list(balanced_batches({"f": x, "i": torch.arange(20_000)}, y, 64, seed=1))
    dev = torch.device("cuda")
    batches = balanced_batches({"f": x.to(dev), "i": torch.arange(20_000)}, torch.as_tensor(y, device=dev), 64, seed=1)
    torch.cuda.synchronize()
    mode = torch.cuda.get_sync_debug_mode()
    torch.cuda.set_sync_debug_mode("error")
    try:  # the epoch's indices go up once (pinned, asynchronous); a batch never syncs
        got = list(batches)
    finally:
        torch.cuda.set_sync_debug_mode(mode)
    assert len(got) == len(cpu)
    for (xb, yb), (xc, yc) in zip(got, cpu):
        assert xb["f"].device.type == "cuda" and yb.device.type == "cuda" and xb["i"].device.type == "cpu"
        assert torch.equal(xb["f"].cpu(), xc["f"]) and torch.equal(xb["i"], xc["i"])
        assert torch.equal(yb.cpu(), yc)


# ------------------------------------------------------------------------- multi-label modes


def _multi_hot(n, label_fractions, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.random((n, len(label_fractions))) < np.asarray(label_fractions)).astype(np.float32)


MULTI_LABEL = [
    dict(mode="repeat_factor", repeat_threshold=0.05),
    dict(mode="repeat_factor", repeat_threshold=0.2, num_replicas=2, rank=1, seed=3, steps_per_epoch=9),
    dict(mode="class_aware"),
    dict(mode="class_aware", class_fractions=[0.1, 0.2, 0.3, 0.4], num_replicas=3, rank=2, seed=5),
]


@pytest.mark.parametrize("kwargs", MULTI_LABEL)
def test_multi_label_balanced_batches_same_batches_as_the_sampler(kwargs):
    rows = _multi_hot(900, [0.5, 0.1, 0.02, 0.005])
    batches = balanced_batches(torch.arange(900), torch.as_tensor(rows), 12, **kwargs)
    sampler = BalancedBatchSampler(torch.as_tensor(rows), 12, **kwargs)
    sched_kw = {k: v for k, v in kwargs.items() if k != "rank"}
    sched = BalancedSchedule(rows, 12, **sched_kw)
    assert len(batches) == len(sampler) == sched.steps_per_epoch
    for epoch in range(2):
        expected = list(sampler)
        got = list(batches)
        assert len(got) == len(expected)
        for (xb, yb), idx in zip(got, expected):
            assert xb.tolist() == idx
            assert yb.shape == (12, 4) and yb.dtype == torch.float32
            np.testing.assert_array_equal(yb.numpy(), rows[idx])  # the multi-hot rows travel with x
        np.testing.assert_array_equal(np.array(expected), sched.replica_batches(epoch, kwargs.get("rank", 0)))


@pytest.mark.parametrize("mode", ["repeat_factor", "class_aware"])
def test_multi_label_ranks_partition_the_global_batch(mode):
    rows = _multi_hot(1_000, [0.4, 0.05, 0.01])
    kw = dict(mode=mode, repeat_threshold=0.1, num_replicas=4, seed=2)
    parts = [np.array(list(BalancedBatchSampler(rows, 8, rank=r, **kw))) for r in range(4)]
    glob = BalancedSchedule(rows, 8, **kw).epoch_batches(0)
    np.testing.assert_array_equal(np.concatenate(parts, axis=1), glob)


def test_multi_label_dataloader_with_the_sampler():
    rows = _multi_hot(600, [0.5, 0.1, 0.02])
    sampler = BalancedBatchSampler(rows, 10, mode="class_aware", seed=4)
    loader = DataLoader(TensorDataset(torch.arange(600), torch.as_tensor(rows)), batch_sampler=sampler)
    expected = BalancedSchedule(rows, 10, mode="class_aware", seed=4).epoch_batches(0)
    got = [xb.numpy() for xb, _ in loader]
    np.testing.assert_array_equal(np.stack(got), expected)


def test_multi_label_errors():
    with pytest.raises(ValueError, match=r"mode='repeat_factor' expects multi-hot rows of shape \(N, C\)"):
        BalancedBatchSampler(torch.tensor([0, 1, 1]), 2, mode="repeat_factor")
    with pytest.raises(ValueError, match=r"mode='exact' expects a 1-D array of integer class indices"):
        balanced_batches(torch.zeros(2), torch.eye(2), 2)
    with pytest.raises(ValueError, match=r"Invalid `repeat_threshold`: received -1; expected a finite number >= 0\."):
        balanced_batches(torch.zeros(2), torch.eye(2), 2, mode="repeat_factor", repeat_threshold=-1)
