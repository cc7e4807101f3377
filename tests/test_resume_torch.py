"""Resuming the in-memory torch pipelines mid-epoch: state_dict / load_state_dict on
BalancedBatchSampler and balanced_batches, directly and through torchdata's
StatefulDataLoader (worker processes included)."""

import pickle

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch.utils.data import TensorDataset  # noqa: E402

from torch_impl.data import BalancedBatchSampler, balanced_batches  # noqa: E402

N, BATCH, STEPS, STOP = 100_000, 32, 3125, 1234


def _labels():
    rng = np.random.default_rng(0)
    return (rng.random(N) < 0.05).astype(np.int64) + (rng.random(N) < 0.01).astype(np.int64)


@pytest.mark.parametrize("mode", ["exact", "sampled"])
def test_sampler_resumes_after_step_1234_of_3125(mode):
    y = _labels()
    kw = dict(seed=3, mode=mode, num_replicas=2, rank=1)
    assert len(BalancedBatchSampler(y, BATCH, **kw)) == -(-N // (2 * BATCH)) == 1563
    kw["steps_per_epoch"] = STEPS
    full = BalancedBatchSampler(y, BATCH, **kw)
    full.set_epoch(2)
    expected = list(full)
    first = BalancedBatchSampler(y, BATCH, **kw)
    first.set_epoch(2)
    it = iter(first)
    done = [next(it) for _ in range(STOP)]
    state = pickle.loads(pickle.dumps(first.state_dict()))  # what a checkpoint stores
    assert state["epoch"] == 2 and state["step"] == STOP
    fresh = BalancedBatchSampler(y, BATCH, **kw)
    fresh.load_state_dict(state)
    rest = list(fresh)
    assert len(rest) == STEPS - STOP == 1891
    assert done + rest == expected
    assert fresh.epoch == 3  # the next pass is the next epoch
    assert fresh.state_dict()["step"] == 0


def test_balanced_batches_resume_and_the_next_epoch():
    y = _labels()
    x = torch.arange(N, dtype=torch.float32)[:, None]
    make = lambda: balanced_batches(x, y, BATCH, seed=5, steps_per_epoch=STEPS)  # noqa: E731
    reference = make()
    epoch0 = [xb[:, 0].long() for xb, _ in reference]
    epoch1 = [xb[:, 0].long() for xb, _ in reference]
    first = make()
    it = iter(first)
    for _ in range(STOP):
        next(it)
    fresh = make()
    fresh.load_state_dict(first.state_dict())
    rest = [xb[:, 0].long() for xb, _ in fresh]
    assert len(rest) == STEPS - STOP
    assert all(torch.equal(a, b) for a, b in zip(rest, epoch0[STOP:]))
    assert all(torch.equal(a, b) for a, b in zip([xb[:, 0].long() for xb, _ in fresh], epoch1))


@pytest.mark.parametrize("num_workers", [0, 2])
def test_stateful_dataloader_resumes_mid_epoch(num_workers):
    from torchdata.stateful_dataloader import StatefulDataLoader

    y = _labels()[:20_000]
    x = torch.arange(20_000)
    data = TensorDataset(x, torch.as_tensor(y))
    make = lambda: StatefulDataLoader(  # noqa: E731
        data, batch_sampler=BalancedBatchSampler(y, 16, seed=1, steps_per_epoch=300), num_workers=num_workers
    )
    expected = [xb for xb, _ in make()]
    loader = make()
    it = iter(loader)
    seen = [next(it)[0] for _ in range(123)]
    state = loader.state_dict()
    del it
    fresh = make()
    fresh.load_state_dict(state)
    rest = [xb for xb, _ in fresh]
    assert len(seen) + len(rest) == 300
    assert all(torch.equal(a, b) for a, b in zip(seen + rest, expected))


def test_a_state_from_another_schedule_is_rejected():
    y = _labels()[:5_000]
    state = BalancedBatchSampler(y, 16, seed=1).state_dict()
    for other, key in [
        (BalancedBatchSampler(y, 16, seed=2), "seed"),
        (BalancedBatchSampler(y, 8, seed=1), "batch_size"),
        (BalancedBatchSampler(y, 16, seed=1, num_replicas=2), "num_replicas"),
        (BalancedBatchSampler(np.roll(y, 1), 16, seed=1), "labels"),
        (BalancedBatchSampler(y, 16, seed=1, class_fractions=[0.4, 0.3, 0.3]), "class_fractions"),
    ]:
        with pytest.raises(ValueError, match=f"Invalid `state_dict`: it was saved for a schedule with {key}="):
            other.load_state_dict(state)
    with pytest.raises(ValueError, match="Invalid `state_dict`: received"):
        BalancedBatchSampler(y, 16).load_state_dict({"epoch": 1})
    bad = dict(state, step=10**6)
    with pytest.raises(ValueError, match=r"state_dict\['step'\]"):
        BalancedBatchSampler(y, 16, seed=1).load_state_dict(bad)
