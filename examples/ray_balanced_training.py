"""Ray Data: balanced batches for a data set in Parquet, trained with Ray Train (PyTorch) and
Keras, the same batches as the in-memory samplers would draw.

The script writes a Parquet directory (8 features f0..f7 and a label y, 1 % positives inside
the majority's densest region), reads it with `ray.data.read_parquet`, counts its classes on
the cluster (`imbalance_core.ray_data.count_classes`), and balances every epoch with
`imbalance_core.ray_data.balance` (50/50 batches, each class drawn without replacement from
its own pool): the rows of `split(workers, equal=True)[r]` are exactly worker r's batches of
`torch_impl.data.BalancedBatchSampler(labels, batch_size, num_replicas=workers, rank=r)`.

* PyTorch: `ray.train.torch.TorchTrainer` with `--workers` workers on CPU (DDP over gloo);
  each worker reads its own shard of each epoch through `ray.train.get_dataset_shard`.
* Keras: the same data balanced for one replica, fed through `Dataset.to_tf`.

It prints each worker's batch composition and the balanced accuracy of both models on a
held-out split with the natural 1 % prior.

    python examples/ray_balanced_training.py              # 200,000 rows, local Ray, 2 CPUs
    python examples/ray_balanced_training.py --rows 20000 --epochs 1 --out-dir /tmp/x

A running cluster: start it (`ray start --head` on one machine, `ray start
--address=HEAD:6379` on the others), then pass its address, which this script hands to
`ray.init(address=...)` instead of starting a local Ray (the Parquet directory must then be
on storage every node reads, e.g. `--out-dir s3://...` or a shared file system):

    python examples/ray_balanced_training.py --address auto
    python examples/ray_balanced_training.py --address ray://HEAD:10001 --out-dir /shared/x
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
import time

import numpy as np

FEATURES = [f"f{i}" for i in range(8)]


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=200_000, help="training rows written to Parquet")
    p.add_argument("--test-rows", type=int, default=20_000)
    p.add_argument("--pos-fraction", type=float, default=0.01)
    p.add_argument("--files", type=int, default=8, help="Parquet files")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--workers", type=int, default=2, help="Ray Train workers (replicas)")
    p.add_argument("--num-cpus", type=int, default=2, help="CPUs of the local Ray (ignored with --address)")
    p.add_argument("--address", default=None, help="a running cluster's address for ray.init(address=...)")
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out-dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "out", "ray"))
    return p.parse_args(argv)


def make_split(n: int, pos_fraction: float, seed: int):
    """x (n, 8) float32, y (n,) int64: positives N(0, I) except the first two features, N(0,
    0.35^2 I), inside the negatives N(0, I)."""
    rng = np.random.default_rng(seed)
    n_pos = max(1, int(round(n * pos_fraction)))
    x = rng.normal(size=(n, len(FEATURES)))
    x[:n_pos, :2] *= 0.35
    y = (np.arange(n) < n_pos).astype(np.int64)
    order = rng.permutation(n)
    return x[order].astype(np.float32), y[order]


def write_parquet(path: str, x: np.ndarray, y: np.ndarray, files: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    os.makedirs(path, exist_ok=True)
    cuts = np.linspace(0, y.shape[0], files + 1).astype(int)
    for i, (lo, hi) in enumerate(zip(cuts[:-1], cuts[1:])):
        columns = {name: x[lo:hi, j] for j, name in enumerate(FEATURES)}
        pq.write_table(pa.table({**columns, "y": y[lo:hi]}), os.path.join(path, f"part-{i:03d}.parquet"))


def balanced_accuracy(y: np.ndarray, predicted: np.ndarray) -> float:
    """Mean recall over the two classes (scikit-learn's balanced_accuracy_score)."""
    return float(np.mean([np.mean(predicted[y == c] == c) for c in (0, 1)]))


def train_loop_per_worker(config: dict) -> None:
    """One Ray Train worker: its own shard of each epoch's balanced rows, DDP over gloo."""
    import ray.train
    import ray.train.torch
    import torch
    import torch.distributed as dist

    torch.manual_seed(config["seed"])
    rank = ray.train.get_context().get_world_rank()
    model = torch.nn.Sequential(torch.nn.Linear(len(FEATURES), 32), torch.nn.ReLU(), torch.nn.Linear(32, 1))
    model = ray.train.torch.prepare_model(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=config["lr"])
    loss_fn = torch.nn.BCEWithLogitsLoss()
    positives = []  # per batch: rows of class 1
    for epoch in range(config["epochs"]):
        shard = ray.train.get_dataset_shard(f"epoch{epoch}_rank{rank}")
        for batch in shard.iter_torch_batches(batch_size=config["batch_size"]):
            x = torch.stack([batch[name] for name in FEATURES], dim=1).float()
            y = batch["y"].float()
            optimizer.zero_grad()
            loss = loss_fn(model(x).squeeze(1), y)
            loss.backward()
            optimizer.step()
            positives.append(int(y.sum()))
    compositions = [None] * dist.get_world_size()
    dist.all_gather_object(compositions, positives)
    if rank != 0:
        ray.train.report({})  # every worker reports; rank 0's checkpoint carries the results
        return
    with torch.no_grad():
        logits = model(torch.from_numpy(config["x_test"])).squeeze(1).numpy()
    with tempfile.TemporaryDirectory() as folder:
        torch.save(model.module.state_dict() if hasattr(model, "module") else model.state_dict(),
                   os.path.join(folder, "model.pt"))
        np.save(os.path.join(folder, "test_logits.npy"), logits)
        with open(os.path.join(folder, "compositions.json"), "w") as f:
            json.dump(compositions, f)
        ray.train.report({"batches": len(positives)}, checkpoint=ray.train.Checkpoint.from_directory(folder))


def main(argv=None) -> dict:
    args = parse_args(argv)
    import ray
    import ray.train
    from ray.train.torch import TorchTrainer

    from imbalance_core import ray_data

    started = time.perf_counter()
    x, y = make_split(args.rows, args.pos_fraction, args.seed)
    x_test, y_test = make_split(args.test_rows, args.pos_fraction, args.seed + 1)
    parquet = os.path.join(args.out_dir, "train.parquet")
    write_parquet(parquet, x, y, args.files)
    print(f"wrote {args.rows} rows ({int(y.sum())} positive) to {parquet} in {args.files} files")

    if args.address is None:
        ray.init(num_cpus=args.num_cpus, include_dashboard=False, log_to_driver=False)
    else:
        ray.init(address=args.address, log_to_driver=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    try:
        ds = ray.data.read_parquet(parquet)
        counts = ray_data.count_classes(ds, "y")
        print(f"class counts on the cluster: {counts.tolist()}")

        # PyTorch: each epoch's rows for `workers` replicas; worker r reads split r.
        shards = {}
        for epoch in range(args.epochs):
            epoch_rows = ray_data.balance(ds, "y", args.batch_size, seed=args.seed, epoch=epoch,
                                          num_replicas=args.workers)
            for rank, shard in enumerate(epoch_rows.split(args.workers, equal=True)):
                shards[f"epoch{epoch}_rank{rank}"] = shard
        trainer = TorchTrainer(
            train_loop_per_worker,
            train_loop_config={"epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr,
                               "seed": args.seed, "x_test": x_test},
            scaling_config=ray.train.ScalingConfig(num_workers=args.workers, use_gpu=False),
            datasets=shards,
            dataset_config=ray.train.DataConfig(datasets_to_split=[]),  # the shards are split already
            run_config=ray.train.RunConfig(name="ray_balanced_training",
                                           storage_path=os.path.abspath(os.path.join(args.out_dir, "ray_results"))),
        )
        with trainer.fit().checkpoint.as_directory() as folder:
            torch_logits = np.load(os.path.join(folder, "test_logits.npy"))
            with open(os.path.join(folder, "compositions.json")) as f:
                compositions = json.load(f)
        for rank, positives in enumerate(compositions):
            print(f"worker {rank}: {len(positives)} batches of {args.batch_size}; rows of class 1 per batch: "
                  f"min {min(positives)}, max {max(positives)} (class 0: the rest)")

        # Keras: the same data balanced for one replica, through to_tf.
        import keras
        import tensorflow as tf

        keras.utils.set_random_seed(args.seed)
        model = keras.Sequential([keras.Input((len(FEATURES),)), keras.layers.Dense(32, activation="relu"),
                                  keras.layers.Dense(1)])
        model.compile(optimizer=keras.optimizers.Adam(args.lr), loss=keras.losses.BinaryCrossentropy(from_logits=True))
        for epoch in range(args.epochs):
            rows = ray_data.balance(ds, "y", args.batch_size, seed=args.seed, epoch=epoch)
            batches = rows.to_tf(feature_columns=FEATURES, label_columns="y", batch_size=args.batch_size)
            batches = batches.map(lambda f, label: (tf.stack([f[name] for name in FEATURES], axis=1),
                                                    tf.cast(label, tf.float32)))
            model.fit(batches, epochs=1, steps_per_epoch=rows.count() // args.batch_size, shuffle=False, verbose=0)
        keras_logits = model.predict(x_test, batch_size=4096, verbose=0)[:, 0]
    finally:
        ray.shutdown()

    summary = {
        "class_counts": counts.tolist(),
        "compositions": compositions,
        "balanced_accuracy": {
            "torch": balanced_accuracy(y_test, (torch_logits > 0).astype(np.int64)),
            "keras": balanced_accuracy(y_test, (keras_logits > 0).astype(np.int64)),
        },
        "seconds": time.perf_counter() - started,
    }
    print(f"balanced accuracy on {args.test_rows} test rows: PyTorch (Ray Train) "
          f"{summary['balanced_accuracy']['torch']:.4f}, Keras (to_tf) {summary['balanced_accuracy']['keras']:.4f}")
    with open(os.path.join(args.out_dir, "ray_balanced_training.json"), "w") as f:
        json.dump(summary, f, indent=1)
    return summary


if __name__ == "__main__":
    main()
