"""Resuming tf_impl.data.balanced_batches mid-epoch through tf.train.Checkpoint(iterator=...),
into a fresh dataset, and what the restored pipeline does next (the following epoch)."""

import os

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from tf_impl.data import balanced_batches  # noqa: E402

N, BATCH, STEPS, STOP = 100_000, 32, 3125, 1234


def _labels():
    rng = np.random.default_rng(0)
    return (rng.random(N) < 0.05).astype(np.int64) + (rng.random(N) < 0.01).astype(np.int64)


@pytest.mark.parametrize("mode", ["exact", "sampled"])
def test_checkpoint_restores_after_step_1234_of_3125(tmp_path, mode):
    y = _labels()
    x = np.arange(N, dtype=np.int64)
    make = lambda: balanced_batches(x, y, BATCH, seed=4, mode=mode, steps_per_epoch=STEPS)  # noqa: E731
    reference = make()
    epoch0 = np.stack([xb.numpy() for xb, _ in reference])
    epoch1 = np.stack([xb.numpy() for xb, _ in reference])
    ds = make()
    it = iter(ds)
    for _ in range(STOP):
        next(it)
    path = tf.train.Checkpoint(iterator=it).write(os.path.join(tmp_path, "ckpt"))
    assert os.path.getsize(path + ".data-00000-of-00001") < 1_000_000  # positions, not the data

    fresh = make()
    restored = iter(fresh)
    tf.train.Checkpoint(iterator=restored).read(path).assert_consumed()
    rest = np.stack([xb.numpy() for xb, _ in restored])
    assert rest.shape == (STEPS - STOP, BATCH)
    np.testing.assert_array_equal(rest, epoch0[STOP:])
    # the pass that was resumed counts as epoch 0: the fresh dataset's next pass is epoch 1
    np.testing.assert_array_equal(np.stack([xb.numpy() for xb, _ in fresh]), epoch1)
