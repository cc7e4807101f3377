"""One rank of the DDP conformance run (tests/test_distributed.py): every loss row of
tests/conformance.py trained for a few SGD steps under DistributedDataParallel over gloo,
each rank on its half of every global batch, and every metric row updated with its half of
the data and computed (torchmetrics syncs across ranks). `train` and `metric_value` with
world=1 give the one-process reference on the full batches.

Run: python tests/_ddp_worker.py RANK WORLD PORT OUT.npz
"""

from __future__ import annotations

import os
import sys
import traceback

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import torch  # noqa: E402

from tests import conformance  # noqa: E402

GLOBAL_BATCH = 16
STEPS = 3
LR = 0.2
SEED = 11


def initial_weights(row):
    rng = np.random.default_rng(123)
    kernel = rng.normal(scale=0.5, size=(row.num_outputs, conformance.NUM_FEATURES)).astype("float32")
    bias = rng.normal(scale=0.1, size=row.num_outputs).astype("float32")
    return kernel, bias


def _local(a, step, rank, world):
    """This rank's contiguous part of global batch `step`."""
    if a is None:
        return None
    start = step * GLOBAL_BATCH
    per_rank = GLOBAL_BATCH // world
    return a[start + rank * per_rank: start + (rank + 1) * per_rank]


def train(row, rank=0, world=1):
    """(kernel, bias) after STEPS SGD steps; DDP when world > 1 (process group initialised)."""
    i = row.inputs(GLOBAL_BATCH * STEPS, seed=SEED)
    kernel, bias = initial_weights(row)
    model = torch.nn.Linear(conformance.NUM_FEATURES, row.num_outputs)
    with torch.no_grad():
        model.weight.copy_(torch.as_tensor(kernel))
        model.bias.copy_(torch.as_tensor(bias))
    net = model
    if world > 1:
        net = torch.nn.parallel.DistributedDataParallel(model)
    loss_fn = conformance.build("torch", row)
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    for step in range(STEPS):
        x = torch.as_tensor(_local(i.features, step, rank, world))
        t = torch.as_tensor(_local(i.target, step, rank, world))
        sw = _local(i.sample_weight, step, rank, world)
        kw = {} if sw is None else {"sample_weight": torch.as_tensor(sw)}
        opt.zero_grad()
        loss = loss_fn(net(x), t, **kw)
        loss.backward()
        opt.step()
    return model.weight.detach().numpy().copy(), model.bias.detach().numpy().copy()


def metric_value(row, rank=0, world=1):
    """The metric over all global batches, this rank updated with its halves; compute() syncs."""
    i = row.inputs(GLOBAL_BATCH * STEPS, seed=SEED)
    metric = conformance.build("torch", row)
    for step in range(STEPS):
        metric.update(torch.as_tensor(_local(i.logits, step, rank, world)),
                      torch.as_tensor(_local(i.target, step, rank, world)))
    return metric.compute().double().numpy()  # a scalar, or a vector (PerClassRecall, ShotAccuracy)


# the streaming threshold search (not a matrix row: its result is a (threshold, score) pair)
TUNER_ID = "ThresholdTuner"


def tuner_value(rank=0, world=1):
    """[threshold, score] of decisions.ThresholdTuner over all global batches, with sample
    weights, this rank updated with its halves; compute() sums the histograms across ranks."""
    from torch_impl.decisions import ThresholdTuner

    i = conformance.BY_ID["BalancedAccuracy-binary"].inputs(GLOBAL_BATCH * STEPS, seed=SEED)
    logits = 3.0 * i.features[:, 0] - 1.5  # informative scores: the target thresholds a noisy features[:, 0]
    weight = np.random.default_rng(5).uniform(0.2, 2.0, size=len(i.target)).astype("float32")
    tuner = ThresholdTuner(objective="weighted_balanced_accuracy", alpha=0.7, num_bins=64, from_logits=True)
    for step in range(STEPS):
        tuner.update(torch.as_tensor(_local(logits, step, rank, world)),
                     torch.as_tensor(_local(i.target, step, rank, world)),
                     sample_weight=torch.as_tensor(_local(weight, step, rank, world)))
    found = tuner.compute()
    return np.array([float(found.threshold), float(found.score)])


def run_all(rank=0, world=1):
    """{row id / "kernel" | "bias" | "value" | "error": array} for every distributed row, and
    TUNER_ID / "value"."""
    out = {}
    try:
        out[f"{TUNER_ID}/value"] = tuner_value(rank, world)
    except Exception:  # noqa: BLE001 - reported by the parent
        out[f"{TUNER_ID}/error"] = np.asarray(traceback.format_exc())
    for row in conformance.DISTRIBUTED_LOSSES + conformance.METRICS:
        try:
            if row.kind == "loss":
                out[f"{row.id}/kernel"], out[f"{row.id}/bias"] = train(row, rank, world)
            else:
                out[f"{row.id}/value"] = metric_value(row, rank, world)
        except Exception:  # noqa: BLE001 - reported per row by the parent
            out[f"{row.id}/error"] = np.asarray(traceback.format_exc())
    return out


def main():
    from datetime import timedelta

    import torch.distributed as dist

    rank, world, port, path = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world,
                            timeout=timedelta(seconds=60))
    try:
        out = run_all(rank, world)
        np.savez(path, **out)
        dist.barrier()  # no rank tears gloo down while its peer still reads from it
    finally:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
