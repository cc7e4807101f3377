"""Resuming a balanced stream mid-epoch: torch through torchdata's StatefulDataLoader (in the
main process and in worker processes), tf through tf.train.Checkpoint(iterator=...); the rest
of the epoch equals an uninterrupted run. A state_dict from another configuration and a
source that cannot resume are clear errors."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

STOP, TOTAL = 1_234, 3_125
KW = dict(num_classes=2, seed=11, buffer_size=1_000)


def _labels():
    # 12,500 majority records drive 3,125 batches of 4 + 4.
    y = np.r_[np.zeros(12_500, np.int64), np.ones(1_400, np.int64)]
    np.random.default_rng(7).shuffle(y)
    return y


@pytest.fixture(scope="module")
def source():
    torch = pytest.importorskip("torch")
    y = _labels()
    return y, [(torch.tensor(i), int(c)) for i, c in enumerate(y)]


def _loader(items, workers, **kw):
    from torchdata.stateful_dataloader import StatefulDataLoader

    from torch_impl.data import balance_dataset

    ds = balance_dataset(items, lambda item: item[1], 8, **{**KW, **kw})
    return StatefulDataLoader(ds, batch_size=None, num_workers=workers)


@pytest.mark.parametrize("workers", [0, 2])
def test_torch_stateful_dataloader_resumes_mid_epoch(source, workers):
    y, items = source
    full = [xb.numpy() for xb, _ in _loader(items, workers)]
    assert len(full) == TOTAL
    loader = _loader(items, workers)
    head = []
    for xb, _ in loader:
        head.append(xb.numpy())
        if len(head) == STOP:
            state = loader.state_dict()
            break
    fresh = _loader(items, workers)
    fresh.load_state_dict(state)
    rest = [xb.numpy() for xb, _ in fresh]
    assert len(rest) == TOTAL - STOP
    np.testing.assert_array_equal(np.stack(head + rest), np.stack(full))


def test_tf_checkpoint_restores_mid_epoch_into_a_fresh_iterator(tmp_path, source):
    tf = pytest.importorskip("tensorflow")
    from tf_impl.data import balance_dataset
    from torch_impl.data import balance_dataset as torch_balance

    y, items = source
    records = tf.data.Dataset.from_tensor_slices((np.arange(y.size), y))

    def build():
        return balance_dataset(records, lambda e: e[1], 8, **KW)

    uninterrupted = build()
    full = np.stack([xb for xb, _ in uninterrupted.as_numpy_iterator()])
    second = np.stack([xb for xb, _ in uninterrupted.as_numpy_iterator()])
    assert full.shape == (TOTAL, 8)
    # The NumPy step of torch_impl gives the same batches, epoch by epoch.
    twin = torch_balance(items, lambda item: item[1], 8, **KW)
    for epoch_rows in (full, second):
        np.testing.assert_array_equal(np.stack([xb.numpy() for xb, _ in twin]), epoch_rows)

    iterator = iter(build())
    head = np.stack([next(iterator)[0].numpy() for _ in range(STOP)])
    path = tf.train.Checkpoint(iterator=iterator).write(str(tmp_path / "stream"))
    del iterator
    restored_ds = build()
    restored = iter(restored_ds)
    tf.train.Checkpoint(iterator=restored).read(path).assert_consumed()
    rest = np.stack([xb.numpy() for xb, _ in restored])
    np.testing.assert_array_equal(np.concatenate([head, rest]), full)
    # The restored pass was epoch 0: the next pass over the same dataset is epoch 1.
    np.testing.assert_array_equal(np.stack([xb for xb, _ in restored_ds.as_numpy_iterator()]), second)


class _OneShot:
    """An iterator over items: it can be read once only."""

    def __init__(self, items):
        self._it = iter(items)

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._it)


class _Reshuffled:
    """A source that shuffles itself differently on every read (it cannot be re-read)."""

    def __init__(self, items):
        self.items, self.reads = items, 0

    def __iter__(self):
        self.reads += 1
        order = np.random.default_rng(self.reads).permutation(len(self.items))
        return (self.items[i] for i in order)


def _state_after(items, batches, **kw):
    from torch_impl.data import balance_dataset

    ds = balance_dataset(items, lambda item: item[1], 4, num_classes=2, **kw)
    it = iter(ds)
    for _ in range(batches):
        next(it)
    return ds.state_dict()


def test_state_from_another_configuration_is_rejected():
    pytest.importorskip("torch")
    from torch_impl.data import balance_dataset

    items = [(i, int(i % 5 == 0)) for i in range(200)]
    state = _state_after(items, 3, seed=1)
    cases = [
        (dict(seed=2), "seed=1", "seed=2"),
        (dict(seed=1, batch_size=8), "batch_size=4", "batch_size=8"),
        (dict(seed=1, num_replicas=2, rank=0), "num_replicas=1", "num_replicas=2"),
        (dict(seed=1, class_fractions=[0.7, 0.3], num_classes=None), "class_fractions=[0.5, 0.5]", "class_fractions=[0.7, 0.3]"),
    ]
    for kw, saved, current in cases:
        kw = {"batch_size": 4, "num_classes": 2, **kw}
        ds = balance_dataset(items, lambda item: item[1], kw.pop("batch_size"), **kw)
        with pytest.raises(ValueError) as info:
            ds.load_state_dict(state)
        assert str(info.value).startswith(f"Invalid `state_dict`: it was saved with {saved}, but this stream balancer has {current};")
    with pytest.raises(ValueError) as info:
        balance_dataset(items, lambda item: item[1], 4, num_classes=2).load_state_dict({"epoch": 0})
    assert str(info.value).startswith("Invalid `state_dict`: received {'epoch': 0}; expected the dict that a stream balancer's state_dict() returns")


def test_a_source_that_cannot_resume_is_a_clear_error():
    pytest.importorskip("torch")
    from torch_impl.data import balance_dataset

    items = [(i, int(i % 5 == 0)) for i in range(200)]
    state = _state_after(items, 3, seed=1)
    one_shot = balance_dataset(_OneShot(items), lambda item: item[1], 4, num_classes=2, seed=1)
    with pytest.raises(ValueError, match=r"resumes mid-epoch, which re-reads `dataset` .* is a one-shot iterator"):
        one_shot.load_state_dict(state)
    # Between epochs nothing is re-read: a one-shot source resumes there.
    between = _state_after(items, 0, seed=1)
    one_shot.load_state_dict(between)
    shuffled = balance_dataset(_Reshuffled(items), lambda item: item[1], 4, num_classes=2, seed=1)
    shuffled.load_state_dict(state)
    with pytest.raises(ValueError, match=r"the saved state is after batch 3 of the epoch, emitted when 200 items had been read, but re-reading the source .* gave another stream \(read 200 items"):
        list(shuffled)


def test_tf_checkpoint_from_other_arguments_is_refused(tmp_path):
    tf = pytest.importorskip("tensorflow")
    from tf_impl.data import balance_dataset

    y = np.array([0, 0, 0, 1] * 100)
    records = tf.data.Dataset.from_tensor_slices(y)
    iterator = iter(balance_dataset(records, lambda e: e, 4, num_classes=2, seed=1, buffer_size=40))
    next(iterator)
    path = tf.train.Checkpoint(iterator=iterator).write(str(tmp_path / "stream"))
    other = iter(balance_dataset(records, lambda e: e, 4, num_classes=2, seed=2, buffer_size=40))
    tf.train.Checkpoint(iterator=other).read(path)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"Invalid `state_dict`: it was saved with seed=1, but this stream balancer has seed=2;"):
        list(other)


class _EpochShuffled:
    """A source that reshuffles per epoch, reproducibly: set_epoch(e) fixes the order of the
    next read."""

    def __init__(self, items):
        self.items, self.epoch, self.epochs_set = items, 0, []

    def set_epoch(self, epoch):
        self.epoch = epoch
        self.epochs_set.append(epoch)

    def __iter__(self):
        order = np.random.default_rng(self.epoch).permutation(len(self.items))
        return (self.items[i] for i in order)


def test_a_source_with_set_epoch_resumes_in_a_later_epoch():
    pytest.importorskip("torch")
    from torch_impl.data import balance_dataset

    items = [(i, int(i % 5 == 0)) for i in range(600)]

    def build():
        return balance_dataset(_EpochShuffled(items), lambda item: item[1], 4, num_classes=2, seed=1, buffer_size=60)

    ds = build()
    epochs = [[b[0].tolist() for b in ds] for _ in range(2)]
    assert ds.dataset.epochs_set == [0, 1] and epochs[0] != epochs[1]
    interrupted = build()
    interrupted.set_epoch(1)
    it = iter(interrupted)
    head = [next(it)[0].tolist() for _ in range(10)]
    state = interrupted.state_dict()
    assert (state["epoch"], state["yielded"]) == (1, 10)
    resumed = build()
    resumed.load_state_dict(state)
    assert resumed.state_dict() == state  # saved again before reading: still the same point
    assert head + [b[0].tolist() for b in resumed] == epochs[1]
    assert resumed.dataset.epochs_set == [1]
