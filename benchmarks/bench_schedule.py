"""The balanced schedule at scale: time and memory of one rank, against the anchors, in one run.

Targets (DESIGN.md, Performance):
  exact    100,000,000 int64 labels, 100 classes, num_replicas=8, rank 5:
           BalancedBatchSampler construction plus its first 1,000 batches of 1,024, against
           np.argsort(labels.astype(np.uint8), kind="stable") on the same labels (target <= 4x),
           and the memory it holds beyond the labels (target <= 1 GiB);
  sampled  10,000,000 labels, mode="sampled", steps_per_epoch=1000, batch 256, one rank:
           construction plus every batch, against
           BatchSampler(WeightedRandomSampler(w, num_samples=256_000), 256) iterated whole
           (w computed outside the timing; target <= 1.5x);
  shared   the same as "exact" with the grouping saved once (save_grouping) and memory-mapped:
           what a rank adds when the ranks of a host share one grouping file.

Each case runs in its own subprocess that loads the labels from a file (its peak memory is its
own: VmHWM growth over the state after the labels and the libraries are loaded; a
memory-mapped grouping counts in full, though the ranks of a host share its pages); the anchor
and ours alternate, best of `--repeats`.

Usage: python benchmarks/bench_schedule.py [--quick] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _memory import peak_mb, rss_mb  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _labels(n: int, k: int):
    import numpy as np

    # long-tailed: class c has weight 1 / (c + 1)
    p = 1.0 / np.arange(1, k + 1)
    return np.random.default_rng(0).choice(k, size=n, p=p / p.sum()).astype(np.int64)


def _case(name: str, labels: str, batches: int, grouping: str) -> dict:
    sys.path.insert(0, ROOT)
    import numpy as np

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    y = np.load(labels)  # made by the parent: no generation temporaries in this peak
    n = y.shape[0]
    import torch  # noqa: F401  (imported before the baseline: every case pays it alike)

    from torch_impl import data  # noqa: F401

    base = rss_mb()
    t0 = time.perf_counter()
    if name == "argsort":
        out = np.argsort(y.astype(np.uint8), kind="stable")
        assert out.shape == (n,)
    elif name in ("exact", "shared"):
        from torch_impl.data import BalancedBatchSampler

        sampler = BalancedBatchSampler(y, 1024, num_replicas=8, rank=5, grouping=grouping or None)
        it = iter(sampler)
        for _ in range(batches):
            next(it)
    elif name == "sampled":
        from torch_impl.data import BalancedBatchSampler

        for _ in BalancedBatchSampler(y, 256, mode="sampled", steps_per_epoch=batches):
            pass
    elif name == "weighted":
        import torch
        from torch.utils.data import BatchSampler, WeightedRandomSampler

        counts = np.bincount(y)
        w = torch.as_tensor(1.0 / counts[y])
        t0 = time.perf_counter()  # the weights are outside the timing
        for _ in BatchSampler(WeightedRandomSampler(w, num_samples=256 * batches), 256, drop_last=False):
            pass
    elif name == "distributed":
        import torch
        from torch.utils.data import BatchSampler, DistributedSampler

        t0 = time.perf_counter()
        data = range(n)
        it = iter(BatchSampler(DistributedSampler(data, num_replicas=8, rank=5, shuffle=True), 1024, drop_last=False))
        for _ in range(batches):
            next(it)
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "extra_mb": peak_mb() - base}


def _run(name: str, labels: str, batches: int, grouping: str = "") -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--case", name, "--labels", labels, "--batches", str(batches),
         "--grouping", grouping],
        check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--case")
    parser.add_argument("--labels")
    parser.add_argument("--batches", type=int)
    parser.add_argument("--grouping", default="")
    parser.add_argument("--quick", action="store_true", help="10x fewer labels")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(_case(args.case, args.labels, args.batches, args.grouping)))
        return
    scale = 10 if args.quick else 1
    big, mid = 100_000_000 // scale, 10_000_000 // scale
    sys.path.insert(0, ROOT)
    import numpy as np

    from imbalance_core.schedule import save_grouping

    with tempfile.TemporaryDirectory() as tmp:
        labels = _labels(big, 100)
        big_path, mid_path = os.path.join(tmp, "big.npy"), os.path.join(tmp, "mid.npy")
        np.save(big_path, labels)
        np.save(mid_path, labels[:mid])
        grouping = save_grouping(labels, os.path.join(tmp, "grouping.npy"))
        del labels
        best: dict = {}
        for _ in range(args.repeats):
            for name, n, batches, g in [
                ("argsort", big, 0, ""), ("exact", big, 1000, ""), ("shared", big, 1000, grouping),
                ("distributed", big, 1000, ""), ("weighted", mid, 1000, ""), ("sampled", mid, 1000, ""),
            ]:
                r = _run(name, big_path if n == big else mid_path, batches, g)
                if name not in best or r["seconds"] < best[name]["seconds"]:
                    best[name] = r
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
          f"best of {args.repeats}")
    print("| case | what | seconds | ratio to its anchor | memory beyond the labels |")
    print("|---|---|---|---|---|")
    rows = [
        ("argsort", f"np.argsort(labels.astype(uint8), kind='stable'), {big:,} labels", None),
        ("exact", "BalancedBatchSampler, R=8, rank 5: build + first 1,000 batches of 1,024", "argsort"),
        ("shared", "the same, grouping memory-mapped from save_grouping", "argsort"),
        ("distributed", "DistributedSampler(R=8, rank 5) in a BatchSampler: first 1,000 batches", "argsort"),
        ("weighted", f"BatchSampler(WeightedRandomSampler(num_samples=256,000), 256), {mid:,} labels", None),
        ("sampled", "BalancedBatchSampler(mode='sampled', steps_per_epoch=1000), batch 256", "weighted"),
    ]
    for name, what, anchor in rows:
        r = best[name]
        ratio = f"{r['seconds'] / best[anchor]['seconds']:.2f}x" if anchor else "1.00x (anchor)"
        print(f"| {name} | {what} | {r['seconds']:.2f} | {ratio} | {r['extra_mb']:.0f} MB |")


if __name__ == "__main__":
    main()
