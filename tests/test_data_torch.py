"""torch_impl.data: BalancedBatchSampler (DataLoader, workers, DDP-style shards) and the
IterableDataset twin of balance_dataset."""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch.utils.data import DataLoader, IterableDataset, TensorDataset, get_worker_info  # noqa: E402

from imbalance_core.schedule import BalancedSchedule  # noqa: E402
from torch_impl.data import BalancedBatchSampler, balance_dataset  # noqa: E402


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
    np.testing.assert_array_equal(np.unique(emitted), np.arange(2_000))  # every record emitted
    second = [xb[:, 0].long().numpy() for xb, _ in ds]
    assert not all(np.array_equal(a, b) for (a, _), b in zip(first, second))
    ds.set_epoch(0)
    again = [xb[:, 0].long().numpy() for xb, _ in ds]
    assert all(np.array_equal(a, b) for (a, _), b in zip(first, again))


def test_balance_dataset_with_workers():
    y = _labels(1_200, [0.9, 0.1], seed=5)
    ds = balance_dataset(_Records(y), lambda item: item[1], 8, num_classes=2, seed=0)
    batches = list(DataLoader(ds, batch_size=None, num_workers=2))
    assert len(batches) > 100
    for xb, yb in batches:
        assert xb.shape == (8, 1) and int(yb.sum()) == 4
    emitted = np.concatenate([xb[:, 0].long().numpy() for xb, _ in batches])
    np.testing.assert_array_equal(np.unique(emitted), np.arange(1_200))


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
