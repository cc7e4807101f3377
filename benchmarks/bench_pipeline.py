"""Balanced input pipelines: throughput and peak memory against the anchors, in one run.

tf.data (features (N, D) float32, labels with a 1% or 0.01% minority, target 50/50):
  plain     from_tensor_slices((x, y)).shuffle(10_000).batch(B)        (anchor, unbalanced)
  balanced  tf_impl.data.balanced_batches(x, y, B)                     (exact 50/50)
  rejection from_tensor_slices(...).shuffle(10_000).repeat().rejection_resample(target
            50/50, initial_dist given), counted unbatched (a batch takes minutes at 0.01%)
  oversample  TensorFlow's imbalanced-data tutorial: per-class copies of the features,
            from_tensor_slices(...).shuffle(10_000).repeat() per class,
            sample_from_datasets([pos, neg], [0.5, 0.5]).batch(B)
PyTorch (index batches plus the feature gather x[idx]):
  BalancedBatchSampler(y, B) against BatchSampler(WeightedRandomSampler(w, N), B), and both at
  N = 30,000,000 labels (beyond torch.multinomial's 2**24 categories), index batches only.
PyTorch in-memory batches (batch 1024, CPU, one thread; the same batches from all three):
  balanced_batches(x, y, 1024)                                           (one gather per batch)
  per-item  DataLoader(TensorDataset(x, y), batch_sampler=BalancedBatchSampler(y, 1024))
            (the anchor: x[i] per sample, then default_collate)
  getitems  DataLoader(dataset with __getitems__, batch_sampler=BalancedBatchSampler(y, 1024),
            collate_fn=pass-through): one dataset call per batch
  Timed in alternating rounds (each case a slice of batches per round); per case the 20%
  quantile of the rounds' time per batch, so rounds disturbed by outside load drop out, and
  the median over rounds of the per-round ratio; also the mean over every timed batch. Each
  epoch's schedule (the same cost for all three) is paid inside some round: the mean includes
  it, amortised; the quantile mostly leaves it out for balanced_batches, whose rounds hold
  hundreds of batches.

tf.data streams (records that cannot be indexed; N_STREAM records (x, y), 1% minority):
  plain     from_tensor_slices((x, y)).shuffle(10_000).batch(B)      (anchor, unbalanced)
  stream    tf_impl.data.balance_dataset(same records, lambda e: e[1], B, num_classes=2)
  One full pass each, alternating, in one process with one thread for tf.data and TensorFlow's
  op pools; per case the 20% quantile of the pass times (rounds disturbed by outside load drop
  out); the ratio is plain time / balance_dataset time for one pass over the same records
  (balance_dataset emits more rows: it replays the minority up to 50/50).

Each case runs in its own subprocess so that its peak memory (VmHWM growth over the state
after imports and data creation) is its own. Throughput = samples delivered per second after
a warm-up (the first batch, which includes computing the epoch's schedule, is timed
separately as "first batch"). Ratios are against the anchors measured in the same run.

--quick (make bench QUICK=1): a smoke run in about half a minute: N=100,000 samples, the 1%
minority only, 0.5 s per case, a 20,000-record stream over 3 passes, no 30,000,000-label case.
Its ratios are noisier and favour no side; the full run gives the figures.

Usage: python benchmarks/bench_pipeline.py [--quick]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _memory import peak_mb, rss_mb  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
N, D, B = 1_000_000, 32, 256
BIG_N = 30_000_000
N_STREAM, STREAM_ROUNDS = 100_000, 7
MINORITIES = (0.01, 0.0001)


def _quick() -> None:
    """--quick: the sizes of the smoke run (see the module docstring), in parent and children."""
    global N, N_STREAM, STREAM_ROUNDS, MINORITIES
    N, N_STREAM, STREAM_ROUNDS, MINORITIES = 100_000, 20_000, 3, (0.01,)


def _data(minority: float):
    import numpy as np

    rng = np.random.default_rng(0)
    y = (rng.random(N) < minority).astype(np.int64)
    # float32 directly: no float64 temporary to inflate the memory high-water mark
    x = rng.standard_normal(size=(N, D), dtype=np.float32)
    return x, y


def _measure(iterator, seconds: float, labels_of, warmup: int = 5) -> dict:
    """Samples per second over `seconds` (after the first item and `warmup` more), and the
    minority share of the measured samples (labels_of(item) -> NumPy labels)."""
    import numpy as np

    t0 = time.perf_counter()
    next(iterator)
    t_first = time.perf_counter() - t0
    for _ in range(warmup):
        next(iterator)
    samples = minority = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        labels = np.asarray(labels_of(next(iterator))).reshape(-1)
        samples += labels.size
        minority += int(labels.sum())
    elapsed = time.perf_counter() - t0
    return {"samples_per_s": samples / elapsed, "first_batch_s": t_first, "samples": samples,
            "minority_share": minority / max(samples, 1)}


def run_tf_case(name: str, minority: float, seconds: float) -> dict:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    from tf_impl.data import balanced_batches

    x, y = _data(minority)
    base = rss_mb()
    if name == "plain":
        ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(10_000).batch(B).prefetch(tf.data.AUTOTUNE)
    elif name == "balanced":
        ds = balanced_batches(x, y, B, seed=0)
    elif name == "rejection":
        ds = (
            tf.data.Dataset.from_tensor_slices((x, y))
            .shuffle(10_000)
            .repeat()
            .rejection_resample(
                lambda xi, yi: tf.cast(yi, tf.int32),
                target_dist=[0.5, 0.5],
                initial_dist=[1.0 - float(y.mean()), float(y.mean())],
                seed=0,
            )
            .map(lambda cls, xy: xy)
            .prefetch(tf.data.AUTOTUNE)
        )  # unbatched: at 0.01% minority a batch of 256 takes minutes
    elif name == "oversample":
        pos, neg = y == 1, y == 0  # the tutorial's per-class copies of the features
        pos_ds = tf.data.Dataset.from_tensor_slices((x[pos], y[pos])).shuffle(10_000).repeat()
        neg_ds = tf.data.Dataset.from_tensor_slices((x[neg], y[neg])).shuffle(10_000).repeat()
        ds = tf.data.Dataset.sample_from_datasets([pos_ds, neg_ds], weights=[0.5, 0.5], seed=0)
        ds = ds.batch(B).prefetch(tf.data.AUTOTUNE)
    else:
        raise ValueError(name)
    if name in ("plain", "balanced"):
        ds = ds.repeat()
    out = _measure(iter(ds), seconds, lambda item: item[1].numpy(), warmup=0 if name == "rejection" else 5)
    out.update(peak_mb=peak_mb() - base)
    return out


def run_torch_case(name: str, minority: float, seconds: float, big: bool) -> dict:
    import numpy as np
    import torch
    from torch.utils.data import BatchSampler, WeightedRandomSampler

    from torch_impl.data import BalancedBatchSampler

    torch.set_num_threads(2)
    if big:
        y = np.zeros(BIG_N, dtype=np.int64)
        y[:: int(round(1 / minority))] = 1
        x = None
    else:
        x, y = _data(minority)
        x = torch.from_numpy(x)
    base = rss_mb()
    t0 = time.perf_counter()
    try:
        if name == "balanced":
            sampler = BalancedBatchSampler(y, B, seed=0)
        else:
            counts = np.bincount(y)
            weights = torch.from_numpy((1.0 / counts)[y])
            draws = WeightedRandomSampler(weights, num_samples=len(y), replacement=True)
            sampler = BatchSampler(draws, B, drop_last=True)
        if x is None:
            labels_of = lambda idx: y[idx]  # noqa: E731
        else:
            labels_of = lambda idx: (x[idx], y[idx])[1]  # noqa: E731  (the gather is the work)
        # endless: one epoch of 1e6 samples can be shorter than the measurement
        batches = itertools.chain.from_iterable(iter(sampler) for _ in itertools.count())
        out = _measure(batches, seconds, labels_of)
    except RuntimeError as err:  # WeightedRandomSampler beyond 2**24 categories
        return {"error": str(err).splitlines()[0][:120], "after_s": time.perf_counter() - t0}
    out.update(peak_mb=peak_mb() - base)
    return out


GATHER_B = 1024


class _WholeBatches:
    """A map-style dataset that gathers a whole batch per call: DataLoader calls __getitems__
    with the batch's indices when the dataset defines it."""

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __len__(self):
        return len(self.y)

    def __getitems__(self, indices):
        import torch

        idx = torch.as_tensor(indices)
        return self.x.index_select(0, idx), self.y.index_select(0, idx)


def _pass_through(batch):
    return batch


def _endless(iterable):
    return itertools.chain.from_iterable(iter(iterable) for _ in itertools.count())


def run_torch_batches(seconds: float) -> dict:
    """balanced_batches against the per-item DataLoader path (and a __getitems__ dataset)."""
    import numpy as np
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    from torch_impl.data import BalancedBatchSampler, balanced_batches

    torch.set_num_threads(1)
    x, y = _data(0.01)
    x, y_t = torch.from_numpy(x), torch.from_numpy(y)
    loaders = {
        "balanced_batches": balanced_batches(x, y_t, GATHER_B, seed=0),
        "per-item": DataLoader(TensorDataset(x, y_t), batch_sampler=BalancedBatchSampler(y, GATHER_B, seed=0)),
        "getitems": DataLoader(_WholeBatches(x, y_t), batch_sampler=BalancedBatchSampler(y, GATHER_B, seed=0),
                               collate_fn=_pass_through),
    }
    # endless: each pass of each is the next epoch, so all three deliver the same batches
    iters = {k: _endless(v) for k, v in loaders.items()}
    first = {k: next(it) for k, it in iters.items()}  # warm-up, and a check that they agree
    for k, (xb, yb) in first.items():
        if not (torch.equal(xb, first["balanced_batches"][0]) and torch.equal(yb, first["balanced_batches"][1])):
            raise AssertionError(f"{k} delivered another first batch than balanced_batches")
    rounds = 20
    slice_s = 3.0 * seconds / (rounds * len(iters))
    per_batch = {k: [] for k in iters}
    total = {k: [0.0, 0] for k in iters}  # all rounds: time, batches
    for r in range(rounds):
        order = list(iters) if r % 2 == 0 else list(iters)[::-1]
        for k in order:
            it, n = iters[k], 0
            t0 = time.perf_counter()
            while True:
                next(it)
                n += 1
                elapsed = time.perf_counter() - t0
                if elapsed >= slice_s and n >= 2:
                    break
            per_batch[k].append(elapsed / n)
            total[k][0] += elapsed
            total[k][1] += n
    q = {k: float(np.quantile(v, 0.2)) for k, v in per_batch.items()}
    ours = np.asarray(per_batch["balanced_batches"])
    return {
        "batch": GATHER_B, "rounds": rounds, "threads": torch.get_num_threads(),
        "q20_ms": {k: v * 1e3 for k, v in q.items()},
        "ratio_q20": {k: q[k] / q["balanced_batches"] for k in q},
        "ratio_median": {k: float(np.median(np.asarray(v) / ours)) for k, v in per_batch.items()},
        # every batch timed, epoch schedules and outside load included
        "mean_ms": {k: t / n * 1e3 for k, (t, n) in total.items()},
    }


def run_tf_stream(rounds: int) -> dict:
    """balance_dataset against a plain shuffle-batch over the same records, alternating full
    passes, one thread (see the module docstring)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import numpy as np
    import tensorflow as tf

    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.config.threading.set_intra_op_parallelism_threads(1)
    from tf_impl.data import balance_dataset

    rng = np.random.default_rng(0)
    y = (rng.random(N_STREAM) < 0.01).astype(np.int64)
    x = rng.standard_normal(size=(N_STREAM, D), dtype=np.float32)
    options = tf.data.Options()
    options.threading.private_threadpool_size = 1
    records = tf.data.Dataset.from_tensor_slices((x, y))
    cases = {
        "plain": records.shuffle(10_000).batch(B).with_options(options),
        "balance_dataset": balance_dataset(records, lambda e: e[1], B, num_classes=2).with_options(options),
    }
    times = {name: [] for name in cases}
    rows = {}
    for name, ds in cases.items():  # warm-up pass: tracing and the first epoch
        rows[name] = sum(int(yb.shape[0]) for _, yb in ds)
    for _ in range(rounds):
        for name, ds in cases.items():
            t0 = time.perf_counter()
            for _ in ds:
                pass
            times[name].append(time.perf_counter() - t0)
    q20 = {name: float(np.quantile(t, 0.2)) for name, t in times.items()}
    return {"q20_s": q20, "rows": rows, "rounds": rounds,
            "ratio_q20": q20["plain"] / q20["balance_dataset"],
            "ratio_median": float(np.median(np.array(times["plain"]) / np.array(times["balance_dataset"])))}


def _child(args) -> None:
    sys.path.insert(0, ROOT)
    if args.framework == "tf" and args.case == "stream":
        res = run_tf_stream(STREAM_ROUNDS)
    elif args.framework == "tf":
        res = run_tf_case(args.case, args.minority, args.seconds)
    elif args.case == "batches":
        res = run_torch_batches(args.seconds)
    else:
        res = run_torch_case(args.case, args.minority, args.seconds, args.big)
    print("RESULT " + json.dumps(res))


def _spawn(framework, case, minority, seconds, big=False) -> dict:
    cmd = [sys.executable, os.path.abspath(__file__), "--child", "--framework", framework, "--case", case,
           "--minority", str(minority), "--seconds", str(seconds)] + (["--big"] if big else [])
    cmd += ["--quick"] if N != 1_000_000 else []
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=ROOT)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    return {"error": (proc.stderr.strip().splitlines() or ["no output"])[-1][:160]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run in about half a minute: smaller inputs, 0.5 s per case (see above)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--framework", help=argparse.SUPPRESS)
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--minority", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--big", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        _quick()
    if args.child:
        _child(args)
        return
    seconds = 0.5 if args.quick else 2.0
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    from importlib import metadata

    versions = []  # read from the installed metadata: importing the frameworks here costs seconds
    for dist, name in (("tensorflow-cpu", "tensorflow"), ("tensorflow", "tensorflow"), ("torch", "torch")):
        try:
            if not any(v.startswith(f"{name} ") for v in versions):
                versions.append(f"{name} {metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            pass
    print(", ".join(versions))
    print(f"N={N:,} samples x {D} float32 features, batch {B}, target 50/50; {seconds:g} s per case\n")

    print("tf.data                          samples/s   vs plain  first batch  peak MB  minority share")
    for minority in MINORITIES:
        res = {c: _spawn("tf", c, minority, seconds) for c in ("plain", "balanced", "rejection", "oversample")}
        plain = res["plain"].get("samples_per_s")
        for case, r in res.items():
            if "error" in r:
                print(f"  {case:<11} minority {minority:<7g}  error: {r['error']}")
                continue
            ratio = r["samples_per_s"] / plain if plain else float("nan")
            print(f"  {case:<11} minority {minority:<7g} {r['samples_per_s']:>11,.0f} {ratio:>9.2f}x "
                  f"{r['first_batch_s']:>10.2f} s {r['peak_mb']:>8.0f} {r['minority_share']:>10.3f}")
        bal, rej = res["balanced"].get("samples_per_s"), res["rejection"].get("samples_per_s")
        if bal and rej:
            print(f"  -> balanced_batches / rejection_resample at {minority:g} minority: {bal / rej:,.1f}x")
        ovs = res["oversample"].get("samples_per_s")
        if bal and ovs:
            print(f"  -> balanced_batches / sample_from_datasets oversampling: {bal / ovs:,.2f}x")
        print()

    print(f"tf.data stream, N={N_STREAM:,} records x {D} float32, batch {B}, minority 1%, one thread, "
          f"{STREAM_ROUNDS} alternating passes")
    r = _spawn("tf", "stream", 0.01, seconds)
    if "error" in r:
        print(f"  error: {r['error']}")
    else:
        for case, t in r["q20_s"].items():
            print(f"  {case:<16} {t:>8.3f} s per pass (q20) {N_STREAM / t:>12,.0f} records/s, "
                  f"{r['rows'][case]:>7,} rows emitted")
        print(f"  -> plain / balance_dataset time per pass: {r['ratio_q20']:.2f}x (q20), "
              f"{r['ratio_median']:.2f}x (median per round)\n")

    print("PyTorch (indices + x[idx] gather)   samples/s   vs weighted  first batch  peak MB  minority share")
    for minority in MINORITIES:
        res = {c: _spawn("torch", c, minority, seconds) for c in ("weighted", "balanced")}
        w = res["weighted"].get("samples_per_s")
        for case, r in res.items():
            if "error" in r:
                print(f"  {case:<9} minority {minority:<7g}  error: {r['error']}")
                continue
            ratio = r["samples_per_s"] / w if w else float("nan")
            print(f"  {case:<9} minority {minority:<7g} {r['samples_per_s']:>14,.0f} {ratio:>9.2f}x "
                  f"{r['first_batch_s']:>10.2f} s {r['peak_mb']:>8.0f} {r['minority_share']:>10.3f}")
    print(f"\nPyTorch, N={BIG_N:,} labels (index batches only, minority 0.01%)"
          + (": not run with --quick" if args.quick else ""))
    for case in () if args.quick else ("weighted", "balanced"):
        r = _spawn("torch", case, 0.0001, seconds, big=True)
        if "error" in r:
            print(f"  {case:<9} fails after {r.get('after_s', float('nan')):.2f} s: {r['error']}")
        else:
            print(f"  {case:<9} {r['samples_per_s']:>14,.0f} samples/s, first batch (schedule) "
                  f"{r['first_batch_s']:.2f} s, peak {r['peak_mb']:.0f} MB, minority share {r['minority_share']:.3f}")

    print(f"\nPyTorch in-memory batches, N={N:,} x {D} float32, batch {GATHER_B}, CPU, one thread, minority 1%")
    r = _spawn("torch", "batches", 0.01, seconds)
    if "error" in r:
        print(f"  error: {r['error']}")
    else:
        print(f"  {r['rounds']} alternating rounds   ms/batch (q20)       samples/s   ms/batch (mean)   "
              f"time / balanced_batches: q20, median per round, mean")
        mean = r["mean_ms"]
        for case, ms in r["q20_ms"].items():
            print(f"  {case:<18} {ms:>12.3f} ms {GATHER_B / ms * 1e3:>15,.0f} {mean[case]:>14.3f} ms   "
                  f"{r['ratio_q20'][case]:>7.1f}x {r['ratio_median'][case]:>7.1f}x "
                  f"{mean[case] / mean['balanced_batches']:>7.1f}x")


if __name__ == "__main__":
    main()
