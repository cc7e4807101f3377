"""Sharded streams (balance_dataset with num_replicas / rank, DataLoader workers, tf.data input
pipelines): the guarantee of imbalance_core.stream, the same batches in both frameworks, equal
batch counts per rank, and the bad-input messages."""

from __future__ import annotations

import os

import numpy as np
import pytest

from imbalance_core.stream import StreamBalancer

os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def _labels(n, minority, seed):
    return (np.random.default_rng(seed).random(n) < minority).astype(np.int64)


def _pairs(y):
    return ((int(c), i) for i, c in enumerate(y))


def test_driving_class_is_never_repeated_and_only_the_final_partial_batch_is_lost():
    # 200,000 records, 1% minority, 50/50 batches of 256: the majority drives.
    y = _labels(200_000, 0.01, seed=0)
    bal = StreamBalancer(256, class_fractions=[0.5, 0.5], seed=1)
    batches = np.array(list(bal.batches(_pairs(y))))
    assert (y[batches].sum(axis=1) == 128).all()
    majority = batches[y[batches] == 0]
    assert majority.size - np.unique(majority).size == 0  # repeats of the driving class
    lost = np.setdiff1d(np.flatnonzero(y == 0), majority)
    held = np.flatnonzero(y == 0)
    # The final partial batch, and nothing else: the newest majority records short of 128.
    np.testing.assert_array_equal(lost, held[held.size - held.size % 128:])
    assert np.unique(batches[y[batches] == 1]).size == (y == 1).sum()  # every minority record at least once


@pytest.mark.parametrize("mode", ["exact", "sampled"])
def test_one_global_sequence_dealt_to_ranks_with_padding(mode):
    y = _labels(3_000, 0.1, seed=2)
    kw = dict(class_fractions=[0.6, 0.4], mode=mode, seed=4, buffer_size=100)
    single = list(StreamBalancer(10, **kw).batches(_pairs(y)))
    for replicas in (2, 3, 4):
        sharded = list(StreamBalancer(10, num_replicas=replicas, **kw).batches(_pairs(y)))
        pad = (-len(single)) % replicas
        assert len(sharded) == len(single) + pad and len(sharded) % replicas == 0
        assert [list(b) for b in sharded[:len(single)]] == [list(b) for b in single]  # the same sequence
        for b in sharded[len(single):]:  # padding: replays with the requested composition
            counts = np.bincount(y[b], minlength=2)
            assert counts.sum() == 10 and (mode == "sampled" or counts.tolist() == [6, 4])


@pytest.fixture(scope="module")
def stream():
    torch = pytest.importorskip("torch")
    y = _labels(2_500, 0.1, seed=5)
    source = [{"id": torch.tensor(i), "label": torch.tensor(int(c))} for i, c in enumerate(y)]
    return y, source


def _ids(batches):
    return [b["id"].numpy() for b in batches]


@pytest.mark.parametrize("replicas, workers", [(2, 0), (3, 0), (2, 2)])
def test_torch_ranks_and_workers_split_the_epoch(stream, replicas, workers):
    from torch.utils.data import DataLoader

    from torch_impl.data import balance_dataset

    y, source = stream
    kw = dict(class_fractions=[0.5, 0.5], seed=6, buffer_size=200)
    single = _ids(balance_dataset(source, lambda item: item["label"], 8, **kw))
    per_rank = []
    for rank in range(replicas):
        ds = balance_dataset(source, lambda item: item["label"], 8, num_replicas=replicas, rank=rank, **kw)
        per_rank.append(_ids(DataLoader(ds, batch_size=None, num_workers=workers)))
    counts = [len(batches) for batches in per_rank]
    assert counts == [-(-len(single) // replicas)] * replicas  # equal, without the caller computing it
    dealt = [per_rank[j % replicas][j // replicas] for j in range(len(single))]
    np.testing.assert_array_equal(np.stack(dealt), np.stack(single))
    for batches in per_rank:
        assert all((y[b] == 1).sum() == 4 for b in batches)
    majority = np.concatenate(dealt)[y[np.concatenate(dealt)] == 0]
    assert np.unique(majority).size == majority.size  # across ranks and workers: once each


def test_torch_persistent_workers_take_set_epoch_and_advance_without_it(stream):
    """Persistent DataLoader workers keep their copies of the dataset between passes: a pass
    without set_epoch is the next epoch, and set_epoch in the main process still reaches them."""
    from torch.utils.data import DataLoader

    from torch_impl.data import balance_dataset

    y, source = stream
    kw = dict(class_fractions=[0.5, 0.5], seed=6, buffer_size=200)

    def epoch_rows(epoch):  # the epoch's batches, read in the main process
        ds = balance_dataset(source, lambda item: item["label"], 8, **kw)
        ds.set_epoch(epoch)
        return np.stack(_ids(ds))

    ds = balance_dataset(source, lambda item: item["label"], 8, **kw)
    loader = DataLoader(ds, batch_size=None, num_workers=2, persistent_workers=True)
    passes = [np.stack(_ids(loader)), np.stack(_ids(loader))]
    ds.set_epoch(5)
    passes += [np.stack(_ids(loader)), np.stack(_ids(loader))]
    for rows, epoch in zip(passes, (0, 1, 5, 6)):
        np.testing.assert_array_equal(rows, epoch_rows(epoch))
    assert not np.array_equal(passes[0], passes[1])  # the epochs differ, so the comparison can fail


def test_tf_global_and_rank_batches_equal_torch(stream):
    tf = pytest.importorskip("tensorflow")
    from tf_impl._stream import _distribution_options
    from tf_impl.data import balance_dataset as tf_balance
    from torch_impl.data import balance_dataset as torch_balance

    y, source = stream
    records = tf.data.Dataset.from_tensor_slices({"id": np.arange(y.size), "label": y})
    kw = dict(class_fractions=[0.5, 0.5], mode="sampled", seed=8, buffer_size=150, num_replicas=3)
    torch_ranks = [np.stack(_ids(torch_balance(source, lambda item: item["label"], 8, rank=r, **kw))) for r in range(3)]
    global_ds = tf_balance(records, lambda e: e["label"], 8, **kw)
    global_rows = np.stack([b["id"] for b in global_ds.as_numpy_iterator()])
    assert global_rows.shape == (torch_ranks[0].shape[0], 24)
    for r in range(3):
        np.testing.assert_array_equal(global_rows[:, 8 * r:8 * (r + 1)], torch_ranks[r])
        rank_ds = tf_balance(records, lambda e: e["label"], 8, rank=r, **kw)
        np.testing.assert_array_equal(np.stack([b["id"] for b in rank_ds.as_numpy_iterator()]), torch_ranks[r])
        assert rank_ds.options().experimental_distribute.auto_shard_policy == tf.data.experimental.AutoShardPolicy.OFF
    policy = tf.data.experimental.AutoShardPolicy
    assert global_ds.options().experimental_distribute.auto_shard_policy == policy.DATA
    assert _distribution_options(records).options().experimental_distribute.auto_shard_policy == policy.DATA
    sharded = tf_balance(records, lambda e: e["label"], 8, rank=1, sharded_source=True, **kw)
    assert sharded.options().experimental_distribute.auto_shard_policy == policy.OFF


def test_sharded_source_is_balanced_on_its_own(stream):
    from torch_impl.data import balance_dataset

    y, source = stream
    part = source[1::2]  # what rank 1 of 2 reads from its own files
    ds = balance_dataset(part, lambda item: item["label"], 8, num_classes=2, seed=1, num_replicas=2, rank=1,
                         sharded_source=True)
    batches = _ids(ds)
    assert all((y[b] == 1).sum() == 4 for b in batches)
    majority = np.concatenate(batches)[y[np.concatenate(batches)] == 0]
    own = np.arange(1, y.size, 2)[y[1::2] == 0]
    assert np.unique(majority).size == majority.size == own.size - own.size % 4  # no padding, no repeat
    assert set(majority.tolist()) <= set(own.tolist())


BAD = [
    (dict(num_replicas=2, rank=2), "Invalid `rank`: received 2; expected an integer in [0, 1]."),
    (dict(num_replicas=2, rank=-1), "Invalid `rank`: received -1; expected an integer in [0, 1]."),
    (dict(num_replicas=0, rank=0), "Invalid `num_replicas`: received 0; expected an integer >= 1."),
    (dict(num_replicas=2.0, rank=0), "Invalid `num_replicas`: received 2.0; expected an integer >= 1."),
    (dict(sharded_source="yes"), "Invalid `sharded_source`: received 'yes'; expected True or False."),
]


@pytest.mark.parametrize("kwargs, message", BAD)
@pytest.mark.parametrize("framework", ["tf", "torch"])
def test_bad_sharding_arguments(framework, kwargs, message):
    if framework == "tf":
        tf = pytest.importorskip("tensorflow")
        from tf_impl.data import balance_dataset

        source, class_fn = tf.data.Dataset.from_tensor_slices(np.array([0, 1, 0, 1])), lambda e: e
    else:
        pytest.importorskip("torch")
        from torch_impl.data import balance_dataset

        source, class_fn = [0, 1, 0, 1], lambda item: item
    with pytest.raises(ValueError) as info:
        balance_dataset(source, class_fn, 4, num_classes=2, **kwargs)
    assert str(info.value) == message


def test_torch_needs_a_rank_with_several_replicas():
    pytest.importorskip("torch")
    from torch_impl.data import balance_dataset

    with pytest.raises(ValueError) as info:
        balance_dataset([0, 1, 0, 1], lambda item: item, 2, num_classes=2, num_replicas=2)
    assert str(info.value) == "Invalid `rank`: received None; expected an integer in [0, 1]."
