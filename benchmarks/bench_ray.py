"""Ray Data: class counts and balanced epochs of a Parquet data set, against Ray's own
operations, in one run.

Data: N rows in Parquet (written by this script to a temporary folder, files of 250,000 rows):
an int64 row id, an int64 label over 100 long-tailed classes (class c has weight 1 / (c + 1))
and 8 float32 feature columns. Local Ray, ``ray.init(num_cpus=2)``, batch 256.

  groupby   ray.data.read_parquet(...).groupby("y").count().take_all()            (anchor)
  count     imbalance_core.ray_data.count_classes(read_parquet(...), "y")
  shuffle   read_parquet(...).random_shuffle(), then iter_batches(batch_size=256)  (anchor)
  balance   imbalance_core.ray_data.balance(read_parquet(...), "y", 256), then
            iter_batches(batch_size=256): one balanced epoch, equal class fractions

Rows/s = rows read (count, groupby) or rows delivered by the full iteration (shuffle, balance)
per second, from the call to the last batch. Each (case, size, repeat) runs in its own
process with its own local Ray, started before the timing; the anchor and ours alternate,
best of `--repeats`. Driver memory: the growth of the driver's anonymous memory (RssAnon,
sampled every 5 ms) over its value just before the case; the rows themselves live in Ray's
object store (shared memory) and worker processes, which this leaves out on both sides.

Targets at 2,000,000 rows: count >= 0.5x groupby, balance >= 0.5x shuffle, and balance's
driver memory growth at most 16 bytes per row above shuffle's.

--quick: 200,000 rows only, one repeat: a smoke run; its ratios are noisy.

Usage: python benchmarks/bench_ray.py [--quick] [--repeats 2] [--rows 500000,1000000,2000000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _memory import anon_mb  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NUM_CLASSES = 100
BATCH = 256
FEATURES = 8
ROWS_PER_FILE = 250_000
PAIRS = (("groupby", "count"), ("shuffle", "balance"))
TABLE_HEADER = ("| rows | data (Arrow / Parquet) | case | seconds | rows/s | ratio to its anchor "
                "| driver anonymous memory growth |")


def _write_parquet(folder: str, n: int) -> int:
    """N rows in files of ROWS_PER_FILE rows; returns the bytes on disk."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    p = 1.0 / np.arange(1, NUM_CLASSES + 1)
    labels = rng.choice(NUM_CLASSES, size=n, p=p / p.sum()).astype(np.int64)
    features = rng.standard_normal((n, FEATURES), dtype=np.float32)
    os.makedirs(folder)
    for i, lo in enumerate(range(0, n, ROWS_PER_FILE)):
        hi = min(lo + ROWS_PER_FILE, n)
        columns = {"id": np.arange(lo, hi, dtype=np.int64), "y": labels[lo:hi]}
        columns.update({f"x{j}": features[lo:hi, j] for j in range(FEATURES)})
        pq.write_table(pa.table(columns), os.path.join(folder, f"part-{i:04d}.parquet"))
    return sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))


class _AnonPeak:
    """The peak of RssAnon while the block runs, sampled from a thread."""

    def __enter__(self) -> _AnonPeak:
        self.base = self.peak = anon_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, anon_mb())

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, anon_mb())


def _case(name: str, folder: str) -> dict:
    sys.path.insert(0, ROOT)
    import ray

    from imbalance_core import ray_data

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        ray.data.DataContext.get_current().enable_progress_bars = False
        ds = ray.data.read_parquet(folder)
        with _AnonPeak() as memory:
            t0 = time.perf_counter()
            if name == "groupby":
                rows = sum(int(r["count()"]) for r in ds.groupby("y").count().take_all())
            elif name == "count":
                rows = int(ray_data.count_classes(ds, "y").sum())
            else:
                out = ds.random_shuffle() if name == "shuffle" else ray_data.balance(ds, "y", BATCH)
                rows = 0
                for batch in out.iter_batches(batch_size=BATCH, batch_format="numpy"):
                    rows += batch["y"].shape[0]
            seconds = time.perf_counter() - t0
        data_bytes = ds.size_bytes()
    finally:
        ray.shutdown()
    return {"seconds": seconds, "rows": rows, "anon_growth_mb": memory.peak - memory.base,
            "data_mb": data_bytes / 2**20}


def _run(name: str, folder: str) -> dict:
    env = dict(os.environ, RAY_DEDUP_LOGS="0")
    out = subprocess.run([sys.executable, __file__, "--case", name, "--folder", folder],
                         check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(next(line for line in reversed(out.splitlines()) if line.startswith("{")))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--case")
    parser.add_argument("--folder")
    parser.add_argument("--quick", action="store_true", help="200,000 rows, one repeat")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--rows", default="500000,1000000,2000000", help="comma-separated data set sizes")
    args = parser.parse_args()
    if args.case:
        print(json.dumps(_case(args.case, args.folder)))
        return
    sizes = [200_000] if args.quick else [int(n) for n in args.rows.split(",")]
    repeats = 1 if args.quick else args.repeats
    import numpy as np
    import ray

    results: dict = {}
    disk: dict = {}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            folder = os.path.join(tmp, f"rows{n}")
            disk[n] = _write_parquet(folder, n)
            for _ in range(repeats):
                for pair in PAIRS:
                    for name in pair:
                        r = _run(name, folder)
                        best = results.get((name, n))
                        if best is None or r["seconds"] < best["seconds"]:
                            results[(name, n)] = r
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"Ray {ray.__version__}, NumPy {np.__version__}; ray.init(num_cpus=2), batch {BATCH}, "
          f"{NUM_CLASSES} long-tailed classes, best of {repeats} alternating runs, "
          f"{time.perf_counter() - started:.0f} s in all")
    print()
    print(TABLE_HEADER)
    print("|---|---|---|---|---|---|---|")
    for n in sizes:
        for anchor, ours in PAIRS:
            for name in (anchor, ours):
                r, a = results[(name, n)], results[(anchor, n)]
                speedup = (r["rows"] / r["seconds"]) / (a["rows"] / a["seconds"])
                ratio = "1.00x (anchor)" if name == anchor else f"{speedup:.2f}x"
                what = {"groupby": "groupby(y).count()", "count": "count_classes",
                        "shuffle": "random_shuffle + iter_batches", "balance": "balance + iter_batches"}[name]
                print(f"| {n:,} | {r['data_mb']:.0f} MB / {disk[n] / 2**20:.0f} MB | {what} | {r['seconds']:.2f} "
                      f"| {r['rows'] / r['seconds']:,.0f} | {ratio} | {r['anon_growth_mb']:.1f} MB "
                      f"({r['anon_growth_mb'] * 2**20 / n:.1f} B/row) |")
    print()
    for n in sizes:
        extra = (results[("balance", n)]["anon_growth_mb"] - results[("shuffle", n)]["anon_growth_mb"]) * 2**20 / n
        print(f"{n:,} rows: balance's driver memory growth minus shuffle's: {extra:+.1f} bytes/row (target <= 16)")


if __name__ == "__main__":
    main()
