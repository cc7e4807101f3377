"""imbalance_core.schedule: the balanced batch schedule shared by tf_impl.data and
torch_impl.data (NumPy only)."""

import math

import numpy as np
import pytest
from scipy import stats

from imbalance_core.schedule import (
    BalancedSchedule,
    balanced_schedule,
    largest_remainder,
)
from imbalance_core.stream import StreamBalancer


def _labels(n, fractions, seed=0):
    rng = np.random.default_rng(seed)
    return rng.choice(len(fractions), size=n, p=fractions).astype(np.int64)


def _per_batch_counts(labels, batches, k):
    return np.stack([np.bincount(labels[row], minlength=k) for row in batches])


@pytest.mark.parametrize(
    "fractions, total, expected",
    [
        ([0.5, 0.3, 0.2], 7, [4, 2, 1]),  # quotas 3.5, 2.1, 1.4: the 0.5 remainder wins
        ([1 / 3, 1 / 3, 1 / 3], 10, [4, 3, 3]),  # ties go to the lower class index
        ([1 / 3, 1 / 3, 1 / 3], 3, [1, 1, 1]),  # 1/3 * 3 must not round down to 0.999...
        ([0.0, 0.25, 0.75], 5, [0, 1, 4]),  # a zero fraction never gets a remainder slot
        ([0.01, 0.99], 64, [1, 63]),
    ],
)
def test_largest_remainder(fractions, total, expected):
    counts = largest_remainder(np.array(fractions), total)
    assert counts.tolist() == expected
    assert counts.sum() == total


def _assert_exact(y, sched, epoch, k):
    """Every replica batch floor(f_c B) or ceil(f_c B) of class c, every global batch floor or
    ceil of f_c W, and after every step s each class's running total within 1 of f_c W s."""
    b, r = sched.batch_size, sched.num_replicas
    f = sched.fractions
    batches = sched.epoch_batches(epoch)
    assert batches.shape == (sched.steps_per_epoch, r * b)
    for q in range(r):
        part = batches[:, q * b : (q + 1) * b]
        counts = _per_batch_counts(y, part, k)
        assert ((counts == np.floor(f * b + 1e-9)) | (counts == np.ceil(f * b - 1e-9))).all()
        np.testing.assert_array_equal(part, sched.replica_batches(epoch, q))
    glob = _per_batch_counts(y, batches, k)
    assert ((glob == np.floor(f * b * r + 1e-9)) | (glob == np.ceil(f * b * r - 1e-9))).all()
    running = np.cumsum(glob, axis=0)
    ideal = np.outer(np.arange(1, batches.shape[0] + 1), f * b * r)
    assert np.abs(running - ideal).max() <= 1 + 1e-9
    return glob


@pytest.mark.parametrize(
    "label_fractions, class_fractions, batch_size, num_replicas",
    [
        ([0.99, 0.01], None, 32, 1),
        ([0.9999, 0.0001], [0.5, 0.5], 16, 1),
        ([0.7, 0.2, 0.08, 0.02], [0.1, 0.2, 0.3, 0.4], 25, 1),
        ([0.7, 0.2, 0.08, 0.02], None, 13, 3),
        ([0.6, 0.3, 0.1], [0.5, 0.0, 0.5], 10, 2),
        ([0.4, 0.3, 0.3], [0.5, 0.3, 0.2], 7, 1),
    ],
)
def test_exact_composition_of_every_batch(label_fractions, class_fractions, batch_size, num_replicas):
    y = _labels(20_000, label_fractions)
    k = len(label_fractions)
    sched = BalancedSchedule(y, batch_size, class_fractions=class_fractions, seed=7, num_replicas=num_replicas)
    assert sched.steps_per_epoch == math.ceil(20_000 / (batch_size * num_replicas))
    for epoch in (0, 1):
        _assert_exact(y, sched, epoch, k)


def test_exact_extra_slots_rotate_and_never_follow_the_class_index():
    # 1,000 equal classes at batch 1,024: 24 extra slots per batch. A fixed rounding would give
    # classes 0-23 two slots in every batch; here each class's total stays within 1 of 1.024 s.
    y = np.repeat(np.arange(1000), 40)
    sched = BalancedSchedule(y, 1024, seed=0, steps_per_epoch=30)
    glob = _assert_exact(y, sched, 0, 1000)
    doubled = np.bincount(np.flatnonzero((glob == 2).ravel()) % 1000, minlength=1000)
    assert doubled.max() == 1 and doubled[:24].sum() < 24  # each class at most once in 30 steps
    # 3 equal classes over 2 ranks of 32: the global batches are (22, 21, 21) in rotation.
    y = np.repeat(np.arange(3), 500)
    sched = BalancedSchedule(y, 32, seed=0, num_replicas=2)
    glob = _assert_exact(y, sched, 0, 3)
    assert sorted(map(tuple, np.unique(glob, axis=0).tolist())) == [(21, 21, 22), (21, 22, 21), (22, 21, 21)]
    assert (np.sort(glob, axis=1) == [21, 21, 22]).all()
    # unequal fractions (0.5, 0.3, 0.2) at batch 7: quotas 3.5, 2.1, 1.4
    y = np.repeat(np.arange(3), 400)
    sched = BalancedSchedule(y, 7, class_fractions=[0.5, 0.3, 0.2], seed=1)
    glob = _assert_exact(y, sched, 0, 3)
    assert set(glob[:, 0].tolist()) == {3, 4} and set(glob[:, 2].tolist()) == {1, 2}


def test_exact_composition_does_not_depend_on_the_seed_or_epoch():
    y = _labels(5_000, [0.5, 0.3, 0.2])
    counts = [
        _per_batch_counts(y, BalancedSchedule(y, 7, seed=seed).epoch_batches(epoch), 3)
        for seed, epoch in [(0, 0), (5, 0), (0, 3)]
    ]
    np.testing.assert_array_equal(counts[0], counts[1])
    np.testing.assert_array_equal(counts[0], counts[2])


def test_rank_local_batches_equal_the_global_schedule_from_any_step():
    y = _labels(6_000, [0.8, 0.15, 0.05])
    for mode in ("exact", "sampled"):
        sched = BalancedSchedule(y, 12, num_replicas=3, seed=4, mode=mode)
        glob = sched.epoch_batches(2)
        fresh = BalancedSchedule(y, 12, num_replicas=3, seed=4, mode=mode)
        for rank in range(3):
            np.testing.assert_array_equal(fresh.batch(epoch=2, step=77, rank=rank), glob[77, rank * 12 : (rank + 1) * 12])
            tail = np.stack(list(fresh.iter_batches(2, rank, start=150)))
            np.testing.assert_array_equal(tail, glob[150:, rank * 12 : (rank + 1) * 12])


def test_feistel_is_a_bijection_with_an_inverse():
    from imbalance_core.schedule import feistel, hash_key

    for n in (1, 2, 3, 7, 64, 1000, 65_537):
        x = np.arange(n)
        y = feistel(x, n, hash_key(9, n))
        np.testing.assert_array_equal(np.sort(y), x)
        np.testing.assert_array_equal(feistel(y, n, hash_key(9, n), inverse=True), x)
    assert not np.array_equal(feistel(np.arange(1000), 1000, hash_key(1)), feistel(np.arange(1000), 1000, hash_key(2)))


def test_saved_grouping_gives_the_same_batches(tmp_path):
    from imbalance_core.schedule import save_grouping

    y = _labels(3_000, [0.9, 0.1])
    path = save_grouping(y, str(tmp_path / "grouping.npy"))
    a = BalancedSchedule(y, 16, seed=2, num_replicas=2).epoch_batches(1)
    b = BalancedSchedule(y, 16, seed=2, num_replicas=2, grouping=path).epoch_batches(1)
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="Invalid `grouping`"):
        BalancedSchedule(y, 16, grouping=np.arange(5))


def test_batches_are_shuffled_within_the_batch():
    # Exact mode: the minority's share sits at uniformly random positions of each batch.
    y = _labels(50_000, [0.95, 0.05])
    batches = BalancedSchedule(y, 8, seed=3).epoch_batches(0)
    is_minor = y[batches] == 1  # 4 of 8 slots per batch
    per_position = is_minor.sum(axis=0)
    _, p = stats.chisquare(per_position)
    assert p > 1e-3
    assert len({tuple(row) for row in is_minor.tolist()}) > 30  # many distinct patterns


def test_each_class_drawn_without_replacement_and_pool_refilled():
    y = _labels(5_000, [0.98, 0.02], seed=1)
    minority = np.flatnonzero(y == 1)
    sched = BalancedSchedule(y, 20, seed=5)
    stream = [row[y[row] == 1] for row in sched.epoch_batches(0)]
    drawn = np.concatenate(stream)  # the minority's pool stream, in order
    n = minority.size
    assert drawn.size > 3 * n  # the pool wraps several times
    for cycle in range(drawn.size // n):
        # every full reshuffle is a permutation of the minority, each one in a new order
        np.testing.assert_array_equal(np.sort(drawn[cycle * n : (cycle + 1) * n]), minority)
    assert not np.array_equal(drawn[:n], drawn[n : 2 * n])
    majority = np.concatenate([row[y[row] == 0] for row in sched.epoch_batches(0)])
    assert np.unique(majority).size == majority.size  # no repeats while the pool lasts


def test_majority_pointer_carries_over_epochs():
    y = _labels(3_000, [0.9, 0.1], seed=2)
    sched = BalancedSchedule(y, 10, seed=0)
    majority = np.flatnonzero(y == 0)
    walked = np.concatenate([b[y[b] == 0] for e in range(3) for b in sched.epoch_batches(e)])
    # the first len(majority) draws over epochs 0..2 visit every majority sample exactly once
    np.testing.assert_array_equal(np.sort(walked[: majority.size]), majority)


def test_reproducible_and_epochs_and_seeds_differ():
    y = _labels(4_000, [0.8, 0.15, 0.05])
    a = balanced_schedule(y, 32, seed=11, epoch=2)
    b = BalancedSchedule(y, 32, seed=11).epoch_batches(2)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, balanced_schedule(y, 32, seed=11, epoch=3))
    assert not np.array_equal(a, balanced_schedule(y, 32, seed=12, epoch=2))
    # sampled mode: epoch 2 computed directly equals epoch 2 computed after epochs 0 and 1
    late = BalancedSchedule(y, 32, seed=11, mode="sampled").epoch_batches(2)
    walked = BalancedSchedule(y, 32, seed=11, mode="sampled")
    first = walked.epoch_batches(0)
    walked.epoch_batches(1)
    np.testing.assert_array_equal(late, walked.epoch_batches(2))
    assert not np.array_equal(first, late)


def test_sampled_mode_chi_square():
    y = _labels(10_000, [0.7, 0.25, 0.05])
    fractions = np.array([0.2, 0.3, 0.5])
    batches = BalancedSchedule(y, 50, class_fractions=fractions, mode="sampled", seed=4, steps_per_epoch=400).epoch_batches(0)
    counts = np.bincount(y[batches].ravel(), minlength=3)
    _, p = stats.chisquare(counts, fractions * counts.sum())
    assert p > 1e-3
    # per batch, the class count of class 2 is Binomial(50, 0.5): chi-square on its histogram
    per_batch = (y[batches] == 2).sum(axis=1)
    observed = np.bincount(per_batch, minlength=51)
    expected = stats.binom.pmf(np.arange(51), 50, 0.5) * per_batch.size
    keep = expected >= 5  # pool the thin tails into one cell
    obs = np.append(observed[keep], observed[~keep].sum())
    exp = np.append(expected[keep], expected[~keep].sum())
    _, p = stats.chisquare(obs, exp * obs.sum() / exp.sum())
    assert p > 1e-3
    assert np.unique(per_batch).size > 5  # not an exact composition


def test_sampled_mode_wrong_fractions_are_detected():
    # The chi-square above would fail on a sampler that ignores class_fractions.
    y = _labels(10_000, [0.5, 0.5])
    batches = BalancedSchedule(y, 50, mode="sampled", seed=4, steps_per_epoch=200).epoch_batches(0)
    counts = np.bincount(y[batches].ravel(), minlength=2)
    _, p = stats.chisquare(counts, np.array([0.4, 0.6]) * counts.sum())
    assert p < 1e-6


def test_defaults_and_equal_fractions_over_present_classes():
    y = np.array([0, 0, 0, 0, 2, 2, 2, 5] * 10)  # classes 1, 3, 4 absent
    sched = BalancedSchedule(y, 9)
    assert sched.steps_per_epoch == math.ceil(80 / 9)
    np.testing.assert_allclose(sched.fractions, [1 / 3, 0, 1 / 3, 0, 0, 1 / 3])
    counts = _per_batch_counts(y, sched.epoch_batches(0), 6)
    assert (counts == [3, 0, 3, 0, 0, 3]).all()
    assert BalancedSchedule(y, 9, num_replicas=4).steps_per_epoch == math.ceil(80 / 36)
    bools = np.array([True, False, False])
    assert (_per_batch_counts(bools.astype(int), BalancedSchedule(bools, 2).epoch_batches(0), 2) == [1, 1]).all()


def test_replica_shards_disjoint_and_balanced():
    y = _labels(12_000, [0.6, 0.4])
    sched = BalancedSchedule(y, 16, num_replicas=4, seed=9, steps_per_epoch=50)  # 3200 draws: no pool wraps
    parts = [sched.replica_batches(0, r) for r in range(4)]
    every = np.concatenate([p.ravel() for p in parts])
    assert np.unique(every).size == every.size
    for p in parts:
        assert (_per_batch_counts(y, p, 2) == [8, 8]).all()
    # a wrapping minority still gives each replica its exact share, disjoint within each step
    y = _labels(12_000, [0.99, 0.01])
    sched = BalancedSchedule(y, 16, num_replicas=2, seed=9)
    g = sched.epoch_batches(0)
    for r in range(2):
        assert (_per_batch_counts(y, g[:, r * 16 : (r + 1) * 16], 2) == [8, 8]).all()
    assert (y[g] == 1).sum() > (y == 1).sum()  # the minority did wrap


def test_large_label_array_beyond_multinomial_limit():
    # 2**24 + 1000 labels with a 0.01% minority: vectorised, so this takes seconds.
    n = (1 << 24) + 1000
    y = np.zeros(n, dtype=np.int8)
    y[np.random.default_rng(0).choice(n, n // 10_000, replace=False)] = 1
    sched = BalancedSchedule(y, 512, seed=1)
    batches = sched.epoch_batches(0)
    assert batches.shape == (math.ceil(n / 512), 512)
    assert batches.min() >= 0 and batches.max() < n
    minority_per_batch = (y[batches] == 1).sum(axis=1)
    assert (minority_per_batch == 256).all()
    majority = batches[y[batches] == 0]
    assert np.bincount(majority, minlength=n).max() == 1  # no repeats (np.unique is slow here)


@pytest.mark.parametrize("buffer_size", [10_000, 20])
def test_stream_balancer_exact_and_every_element_once(buffer_size):
    # A small buffer spills (emits with minority replays) as the majority arrives; a large one
    # takes the whole stream in one chunk: either way the driving majority is emitted once each.
    y = _labels(3_000, [0.9, 0.1], seed=3)
    bal = StreamBalancer(10, class_fractions=[0.5, 0.5], seed=0, buffer_size=buffer_size)
    batches = list(bal.batches(((int(c), i) for i, c in enumerate(y)), epoch=0))
    for b in batches:
        assert len(b) == 10 and (y[b] == 1).sum() == 5
    emitted = np.concatenate(batches)
    np.testing.assert_array_equal(np.unique(emitted), np.arange(3_000))  # nothing lost
    majority = emitted[y[emitted] == 0]
    assert np.unique(majority).size == majority.size  # the driving majority: emitted once each
    again = list(bal.batches(((int(c), i) for i, c in enumerate(y)), epoch=0))
    assert [list(b) for b in again] == [list(b) for b in batches]
    other = list(bal.batches(((int(c), i) for i, c in enumerate(y)), epoch=1))
    assert [list(b) for b in other] != [list(b) for b in batches]


def test_stream_balancer_bounded_buffers_and_sampled():
    # The minority appears only late: until then each class's ring keeps its last buffer_size
    # elements and the older ones are lost for the epoch.
    y = np.array([0] * 500 + [1] * 20 + [0] * 100)
    bal = StreamBalancer(4, num_classes=2, buffer_size=50)
    assert bal.chunk_size == 25
    batches = list(bal.batches(((int(c), i) for i, c in enumerate(y))))
    for b in batches:
        assert (y[b] == 1).sum() == 2
    emitted = np.concatenate(batches)
    early = np.unique(emitted[emitted < 500])
    # The chunk 500..524 brings the minority and majority 520..524, which overwrite 450..454:
    # the ring then holds majority 455..499 and 520..524, the last 50 seen.
    np.testing.assert_array_equal(early, np.arange(455, 500))
    # 145 fresh majority elements make 72 batches of 2: the last one, 619, is the final
    # partial batch, dropped.
    np.testing.assert_array_equal(np.unique(emitted[emitted >= 500]), np.arange(500, 619))
    sampled = StreamBalancer(20, class_fractions=[0.25, 0.75], mode="sampled", seed=2)
    y = _labels(20_000, [0.5, 0.5], seed=4)
    out = np.concatenate(list(sampled.batches(((int(c), i) for i, c in enumerate(y)))))
    counts = np.bincount(y[out], minlength=2)
    _, p = stats.chisquare(counts, np.array([0.25, 0.75]) * counts.sum())
    assert p > 1e-3


BAD_SCHEDULES = [
    (dict(labels=np.array([0.0, 1.0]), batch_size=2), TypeError,
     "Invalid `labels` dtype: received float64; expected integer class indices (a 1-D array of int)."),
    (dict(labels=np.zeros((4, 2), int), batch_size=2), ValueError,
     "Invalid `labels`: received shape (4, 2); mode='exact' expects a 1-D array of integer class indices (for one-hot labels pass labels.argmax(-1); for multi-hot rows (N, C) use mode='repeat_factor' or mode='class_aware')."),
    (dict(labels=np.array([], int), batch_size=2), ValueError,
     "Invalid `labels`: received an empty array; expected at least one label."),
    (dict(labels=np.array([0, -1, 1]), batch_size=2), ValueError,
     "Invalid `labels`: class indices must be >= 0; received [-1]."),
    (dict(labels=np.array([0, 1, 1]), batch_size=4, class_fractions=[1.2, -0.2]), ValueError,
     "Invalid `class_fractions`: received [1.2, -0.2] (shape (2,)); expected a non-negative finite 1-D vector."),
    (dict(labels=np.array([0, 1, 1]), batch_size=4, class_fractions=[0.5, 0.4]), ValueError,
     "Invalid `class_fractions`: received [0.5, 0.4] (shape (2,)) (sum 0.9); expected non-negative fractions summing to 1 (within 1e-06)."),
    (dict(labels=np.array([0, 1, 2]), batch_size=4, class_fractions=[0.5, 0.5]), ValueError,
     "Invalid `labels`: class indices must lie in [0, 2) (one class per entry of `class_fractions`); received labels up to 2."),
    (dict(labels=np.array([0, 0, 2]), batch_size=4, class_fractions=[0.4, 0.3, 0.3]), ValueError,
     "Invalid `class_fractions`: class 1 is requested (fraction 0.3) but has no samples in `labels`; give it fraction 0 or add samples of it."),
    (dict(labels=np.array([0, 1, 2]), batch_size=5, class_fractions=[0.9, 0.05, 0.05]), ValueError,
     "Invalid `batch_size`: received 5; mode='exact' needs at least one slot per requested class in every batch, but class 1 (fraction 0.05) gets 0.25 of 5 slots; use batch_size >= 20 or mode='sampled'."),
    (dict(labels=np.array([0, 1]), batch_size=2, mode="balanced"), ValueError,
     "Invalid `mode`: received 'balanced'; allowed values are 'exact', 'sampled', 'repeat_factor', 'class_aware'."),
    (dict(labels=np.array([0, 1]), batch_size=0), ValueError,
     "Invalid `batch_size`: received 0; expected an integer >= 1."),
    (dict(labels=np.array([0, 1]), batch_size=2.0), ValueError,
     "Invalid `batch_size`: received 2.0; expected an integer >= 1."),
    (dict(labels=np.array([0, 1]), batch_size=2, num_replicas=0), ValueError,
     "Invalid `num_replicas`: received 0; expected an integer >= 1."),
    (dict(labels=np.array([0, 1]), batch_size=2, seed=-1), ValueError,
     "Invalid `seed`: received -1; expected an integer >= 0."),
    (dict(labels=np.array([0, 1]), batch_size=2, steps_per_epoch=0), ValueError,
     "Invalid `steps_per_epoch`: received 0; expected an integer >= 1 or None."),
]


@pytest.mark.parametrize("kwargs, exc, message", BAD_SCHEDULES)
def test_bad_input(kwargs, exc, message):
    kwargs = dict(kwargs)
    labels, batch_size = kwargs.pop("labels"), kwargs.pop("batch_size")
    with pytest.raises(exc) as info:
        BalancedSchedule(labels, batch_size, **kwargs)
    assert str(info.value) == message
    assert type(info.value) is exc


def test_bad_rank_and_epoch():
    sched = BalancedSchedule(np.array([0, 1, 0, 1]), 2, num_replicas=2)
    with pytest.raises(ValueError, match=r"Invalid `rank`: received 2; expected an integer in \[0, 1\]\."):
        sched.replica_batches(0, 2)
    with pytest.raises(ValueError, match=r"Invalid `epoch`: received -1; expected an integer >= 0\."):
        sched.epoch_batches(-1)


def test_stream_bad_input():
    with pytest.raises(ValueError, match=r"a stream's classes are not known in advance"):
        StreamBalancer(4)
    bal = StreamBalancer(4, num_classes=3)
    with pytest.raises(ValueError) as info:
        list(bal.batches([(0, "a"), (2, "b"), (0, "c")]))
    assert str(info.value) == (
        "Invalid `class_fractions`: class 1 is requested (fraction 0.333333) but has no samples in "
        "the stream; give it fraction 0 or add samples of it."
    )
    with pytest.raises(ValueError, match=r"class_fn output`: class indices must lie in \[0, 3\); received 3\."):
        list(bal.batches([(3, "a")]))
    with pytest.raises(TypeError, match=r"Invalid `class_fn` output dtype: received float64"):
        list(bal.batches([(np.float64(1.0), "a")]))


# ------------------------------------------------------------------------- multi-label modes

from collections import defaultdict  # noqa: E402

from imbalance_core.class_weights import compute_repeat_factors  # noqa: E402


def _detectron2_repeat_factors(multi_hot, repeat_thresh):
    """detectron2 `RepeatFactorTrainingSampler.repeat_factors_from_category_frequency`
    (facebookresearch/detectron2, detectron2/data/samplers/distributed_sampler.py), transcribed
    with a multi-hot row standing for an image's annotations (its category ids = the row's
    positive columns). detectron2 returns the Python floats as a float32 tensor; they are kept
    as float64 here, which is what ours returns."""
    dataset_dicts = [{"annotations": [{"category_id": int(c)} for c in np.flatnonzero(row)]} for row in multi_hot]
    category_freq = defaultdict(int)
    for dataset_dict in dataset_dicts:
        cat_ids = {ann["category_id"] for ann in dataset_dict["annotations"]}
        for cat_id in cat_ids:
            category_freq[cat_id] += 1
    num_images = len(dataset_dicts)
    for k, v in category_freq.items():
        category_freq[k] = v / num_images
    category_rep = {
        cat_id: max(1.0, math.sqrt(repeat_thresh / cat_freq)) for cat_id, cat_freq in category_freq.items()
    }
    rep_factors = []
    for dataset_dict in dataset_dicts:
        cat_ids = {ann["category_id"] for ann in dataset_dict["annotations"]}
        rep_factor = max({category_rep[cat_id] for cat_id in cat_ids}, default=1.0)
        rep_factors.append(rep_factor)
    return np.array(rep_factors, dtype=np.float64)


def _detectron2_epoch_indices(repeat_factors, rands):
    """detectron2 `RepeatFactorTrainingSampler._get_epoch_indices` (same file), transcribed in
    NumPy, with the uniform draws `rands` passed in instead of torch.rand(generator)."""
    int_part = np.trunc(repeat_factors)
    frac_part = repeat_factors - int_part
    rep_factors = int_part + (rands < frac_part).astype(np.float64)
    indices = []
    for dataset_index, rep_factor in enumerate(rep_factors):
        indices.extend([dataset_index] * int(rep_factor))
    return np.array(indices, dtype=np.int64)


def _multi_hot(n, label_fractions, seed=0):
    rng = np.random.default_rng(seed)
    hot = rng.random((n, len(label_fractions))) < np.asarray(label_fractions)
    return hot.astype(np.int8)


FIXED_MULTI_HOT = [
    # (rows, threshold): hand-made rows with empty rows, co-occurring labels and a label that
    # never occurs; then random long-tailed rows at detectron2's default and larger thresholds.
    (np.array([[1, 0, 0, 0], [1, 1, 0, 0], [0, 0, 0, 0], [1, 0, 1, 0], [1, 0, 0, 0]]), 0.5),
    (np.array([[True, False], [False, False], [True, True]]), 0.9),
    (_multi_hot(3_000, [0.4, 0.05, 0.004, 0.0007, 0.0003], seed=1), 0.001),
    (_multi_hot(3_000, [0.4, 0.05, 0.004, 0.0007, 0.0003], seed=1).astype(np.float32), 0.03),
    (_multi_hot(500, [0.9, 0.5, 0.1], seed=2), 0.0),
]


@pytest.mark.parametrize("case", range(len(FIXED_MULTI_HOT)))
def test_repeat_factors_equal_detectron2(case):
    rows, t = FIXED_MULTI_HOT[case]
    r = compute_repeat_factors(rows, repeat_threshold=t)
    assert r.dtype == np.float64 and r.shape == (rows.shape[0],)
    np.testing.assert_array_equal(r, _detectron2_repeat_factors(rows, t))  # bit for bit
    np.testing.assert_array_equal(BalancedSchedule(rows, 4, mode="repeat_factor", repeat_threshold=t).repeat_factors, r)


def test_repeat_factor_hand_computed():
    # f = (4/5, 1/5, 1/5, 0); t = 0.5: r_c = (1, sqrt(2.5), sqrt(2.5), -); the empty row gets 1.
    rows, t = FIXED_MULTI_HOT[0]
    np.testing.assert_allclose(compute_repeat_factors(rows, repeat_threshold=t), [1, 2.5**0.5, 1, 2.5**0.5, 1], rtol=0, atol=1e-15)
    assert compute_repeat_factors(rows).tolist() == [1.0] * 5  # default t = 0.001: nothing is rare


def test_repeat_round_is_detectron2_epoch_indices_shuffled():
    from imbalance_core.schedule import _SALT_REPEAT, _rng

    rows = _multi_hot(2_000, [0.3, 0.02, 0.003, 0.001], seed=3)
    sched = BalancedSchedule(rows, 8, mode="repeat_factor", repeat_threshold=0.05, seed=11)
    r = compute_repeat_factors(rows, repeat_threshold=0.05)
    assert r.max() > 3  # several whole repeats as well as fractions
    for j in (0, 1, 5):
        rands = _rng(11, j, _SALT_REPEAT).random(rows.shape[0])  # the round's own uniforms
        expected = _detectron2_epoch_indices(r, rands)
        got = sched.repeat_round(j)
        np.testing.assert_array_equal(np.sort(got), expected)  # the same multiset ...
        assert not np.array_equal(got, expected)  # ... shuffled


def test_repeat_counts_over_many_rounds_follow_the_factors():
    # Per round, sample i appears floor(r_i) or floor(r_i) + 1 times, the latter with
    # probability frac(r_i): over J rounds the extras are Binomial(J, frac_i), tested jointly.
    rows = _multi_hot(1_000, [0.5, 0.05, 0.01, 0.002], seed=4)
    sched = BalancedSchedule(rows, 16, mode="repeat_factor", repeat_threshold=0.1, seed=5)
    r = sched.repeat_factors
    whole, frac = np.floor(r), r - np.floor(r)
    rounds = 300
    extra = np.zeros(r.shape[0])
    for j in range(rounds):
        counts = np.bincount(sched.repeat_round(j), minlength=r.shape[0])
        assert np.all((counts == whole) | (counts == whole + 1))
        extra += counts - whole
    fractional = frac > 0
    assert fractional.sum() > 50
    p = frac[fractional]
    z2 = (extra[fractional] - rounds * p) ** 2 / (rounds * p * (1 - p))
    pvalue = stats.chi2.sf(z2.sum(), df=int(fractional.sum()))
    assert 1e-3 < pvalue < 1 - 1e-3
    np.testing.assert_array_equal(extra[~fractional], 0)
    # mean repeats converge on r (the sampler's promise in expectation)
    np.testing.assert_allclose((whole * rounds + extra) / rounds, r, atol=0.12)


def test_repeat_factor_wrong_factors_are_detected():
    # The same statistic rejects counts drawn with a different threshold (the test can fail).
    rows = _multi_hot(1_000, [0.5, 0.05, 0.01, 0.002], seed=4)
    wrong = BalancedSchedule(rows, 16, mode="repeat_factor", repeat_threshold=0.12, seed=5)
    r = compute_repeat_factors(rows, repeat_threshold=0.1)
    whole, frac = np.floor(r), r - np.floor(r)
    rounds = 300
    extra = sum(np.bincount(wrong.repeat_round(j), minlength=1_000) for j in range(rounds)) - rounds * whole
    keep = frac > 0
    z2 = (extra[keep] - rounds * frac[keep]) ** 2 / (rounds * frac[keep] * (1 - frac[keep]))
    assert stats.chi2.sf(z2.sum(), df=int(keep.sum())) < 1e-6


@pytest.mark.parametrize("num_replicas, steps", [(1, None), (3, None), (2, 5)])
def test_repeat_factor_epochs_cut_the_stream_of_rounds(num_replicas, steps):
    rows = _multi_hot(700, [0.5, 0.03, 0.004], seed=6)
    sched = BalancedSchedule(rows, 10, mode="repeat_factor", repeat_threshold=0.05, seed=2,
                             num_replicas=num_replicas, steps_per_epoch=steps)
    width = 10 * num_replicas
    expected_steps = steps or math.ceil(sched.repeat_factors.sum() / width)
    assert len(sched) == expected_steps
    epochs = [sched.epoch_batches(e) for e in range(6)]
    assert all(b.shape == (expected_steps, width) for b in epochs)  # every batch full
    stream = np.concatenate([b.ravel() for b in epochs])
    rounds = np.concatenate([sched.repeat_round(j) for j in range(8)])
    np.testing.assert_array_equal(stream, rounds[: stream.size])  # nothing dropped, nothing padded
    # computed in any order (epoch 4 first), the same batches
    again = BalancedSchedule(rows, 10, mode="repeat_factor", repeat_threshold=0.05, seed=2,
                             num_replicas=num_replicas, steps_per_epoch=steps)
    np.testing.assert_array_equal(again.epoch_batches(4), epochs[4])
    for r in range(num_replicas):  # the shards partition each global batch
        np.testing.assert_array_equal(sched.replica_batches(4, r), epochs[4][:, r * 10 : (r + 1) * 10])


@pytest.mark.parametrize("class_fractions", [None, [0.1, 0.2, 0.3, 0.4]])
def test_class_aware_label_exposure_chi_square(class_fractions):
    rows = _multi_hot(4_000, [0.6, 0.2, 0.03, 0.005], seed=7)
    sched = BalancedSchedule(rows, 32, mode="class_aware", class_fractions=class_fractions, seed=8)
    target = np.full(4, 0.25) if class_fractions is None else np.array(class_fractions)
    drawn = np.concatenate([sched.slot_classes(e).ravel() for e in range(3)])
    observed = np.bincount(drawn, minlength=4)
    _, p = stats.chisquare(observed, target * drawn.size)
    assert p > 1e-3
    # and the statistic sees a wrong share
    _, p_wrong = stats.chisquare(observed, np.array([0.3, 0.2, 0.25, 0.25]) * drawn.size)
    assert p_wrong < 1e-6
    for e in range(3):  # every slot's sample holds the label it was drawn for
        batches, labels = sched.epoch_batches(e), sched.slot_classes(e)
        assert np.all(rows[batches, labels] == 1)


def test_class_aware_pools_walked_without_replacement():
    rows = _multi_hot(3_000, [0.5, 0.1, 0.01], seed=9)
    sched = BalancedSchedule(rows, 30, mode="class_aware", seed=1)
    batches, labels = sched.epoch_batches(0).ravel(), sched.slot_classes(0).ravel()
    for c in range(3):
        members = np.flatnonzero(rows[:, c])
        taken = batches[labels == c]
        first = taken[: members.size]  # the first pass over label c's pool: each member once
        assert np.unique(first).size == first.size
        assert set(first.tolist()) <= set(members.tolist())
        if taken.size >= members.size:
            assert set(first.tolist()) == set(members.tolist())
    assert (labels == 2).sum() > np.flatnonzero(rows[:, 2]).size  # the rare pool was refilled


@pytest.mark.parametrize("mode", ["class_aware", "repeat_factor"])
def test_multi_label_reproducible_sharded_and_epochs_differ(mode):
    rows = _multi_hot(1_200, [0.5, 0.1, 0.01], seed=10)
    kw = dict(mode=mode, seed=3, num_replicas=3, repeat_threshold=0.05)
    a, b = BalancedSchedule(rows, 8, **kw), BalancedSchedule(rows, 8, **kw)
    np.testing.assert_array_equal(a.epoch_batches(1), b.epoch_batches(1))
    assert not np.array_equal(a.epoch_batches(0), a.epoch_batches(1))
    assert not np.array_equal(a.epoch_batches(0), BalancedSchedule(rows, 8, **dict(kw, seed=4)).epoch_batches(0))
    glob = a.epoch_batches(2)
    np.testing.assert_array_equal(np.concatenate([a.replica_batches(2, r) for r in range(3)], axis=1), glob)


def test_multi_label_memory_is_positives_not_dense():
    # 20,000 rows x 400 labels, ~1.5 positives per row: the schedule keeps O(N + positives).
    rng = np.random.default_rng(0)
    n, c = 20_000, 400
    rows = np.zeros((n, c), dtype=bool)
    rows[np.arange(n), rng.integers(0, c, n)] = True
    rows[rng.integers(0, n, n // 2), rng.integers(0, c, n // 2)] = True
    positives = int(rows.sum())
    for mode in ("class_aware", "repeat_factor"):
        sched = BalancedSchedule(rows, 16, mode=mode)
        held = sum(v.nbytes for v in vars(sched).values() if isinstance(v, np.ndarray))
        assert held <= 8 * (3 * n + positives + 2 * c), (mode, held)  # the dense rows are n * c bytes
        assert held < rows.nbytes / 10


BAD_MULTI_LABEL = [
    (dict(labels=np.array([0, 1, 1]), batch_size=2, mode="repeat_factor"), ValueError,
     "Invalid `labels`: received shape (3,); mode='repeat_factor' expects multi-hot rows of shape (N, C), one 0/1 column per label (for 1-D class indices use mode='exact' or mode='sampled')."),
    (dict(labels=np.array([0, 1, 1]), batch_size=2, mode="class_aware"), ValueError,
     "Invalid `labels`: received shape (3,); mode='class_aware' expects multi-hot rows of shape (N, C), one 0/1 column per label (for 1-D class indices use mode='exact' or mode='sampled')."),
    (dict(labels=np.eye(3), batch_size=2, mode="sampled"), ValueError,
     "Invalid `labels`: received shape (3, 3); mode='sampled' expects a 1-D array of integer class indices (for one-hot labels pass labels.argmax(-1); for multi-hot rows (N, C) use mode='repeat_factor' or mode='class_aware')."),
    (dict(labels=np.array([[0, 2], [1, 0]]), batch_size=2, mode="class_aware"), ValueError,
     "Invalid `labels`: multi-hot rows must hold 0 or 1; received [2] (shape (1,))."),
    (dict(labels=np.array([[0.5, np.nan], [1, 0]]), batch_size=2, mode="repeat_factor"), ValueError,
     "Invalid `labels`: multi-hot rows must hold 0 or 1; received [0.5, nan] (shape (2,))."),
    (dict(labels=np.array([["a", "b"]]), batch_size=2, mode="repeat_factor"), TypeError,
     "Invalid `labels` dtype: received <U1; expected bool, integer or floating multi-hot rows of 0/1."),
    (dict(labels=np.zeros((0, 3)), batch_size=2, mode="repeat_factor"), ValueError,
     "Invalid `labels`: received an empty array; expected at least one label."),
    (dict(labels=np.zeros((4, 3)), batch_size=2, mode="class_aware"), ValueError,
     "Invalid `labels`: received multi-hot rows without a single positive entry; mode='class_aware' needs at least one sample of some label."),
    (dict(labels=np.eye(3), batch_size=2, mode="repeat_factor", class_fractions=[0.5, 0.5, 0.0]), ValueError,
     "Invalid `class_fractions`: received [0.5, 0.5, 0] (shape (3,)); mode='repeat_factor' takes no class fractions (the repeat factors, set by `repeat_threshold`, decide each sample's share); pass None, or use mode='class_aware'."),
    (dict(labels=np.eye(3), batch_size=2, mode="class_aware", class_fractions=[0.5, 0.5]), ValueError,
     "Invalid `class_fractions`: received length 2; expected length 3 (one entry per class)."),
    (dict(labels=np.array([[1, 0, 0], [1, 0, 0]]), batch_size=2, mode="class_aware", class_fractions=[0.5, 0.5, 0.0]), ValueError,
     "Invalid `class_fractions`: class 1 is requested (fraction 0.5) but has no samples in `labels`; give it fraction 0 or add samples of it."),
    (dict(labels=np.eye(3), batch_size=2, mode="repeat_factor", repeat_threshold=-0.1), ValueError,
     "Invalid `repeat_threshold`: received -0.1; expected a finite number >= 0."),
]


@pytest.mark.parametrize("kwargs, exc, message", BAD_MULTI_LABEL)
def test_multi_label_bad_input(kwargs, exc, message):
    test_bad_input(kwargs, exc, message)
