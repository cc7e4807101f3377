"""PyTorch: a training loop with BalancedBatchSampler, a classbalance loss and the
torchmetrics-based classbalance metrics. The twin of keras_fit.py (same data, same model,
same loss, same metrics).

The data: 8 features, a rare positive class (3 %) concentrated near the origin of the first two
features (a round boundary, so a small MLP rather than a linear model). Batches come from
`DataLoader(dataset, batch_sampler=torch_impl.data.BalancedBatchSampler(labels, 256))`: 50/50
batches, each class drawn without replacement from its own pool; `set_epoch` gives every
epoch its own batches, reproducibly. The loss is torch_impl.losses.BinaryFocalLoss(alpha=None)
(the sampler already balances the classes, so no alpha; gamma=2 focuses on the hard
examples), and the metrics torch_impl.metrics.BalancedAccuracy, TruePositiveRate,
TrueNegativeRate and WeightedBalancedAccuracy, torchmetrics.Metric subclasses that compose
in a torchmetrics.MetricCollection and sum their state across processes under DDP.

    python examples/torch_train.py               # defaults: a few seconds
    python examples/torch_train.py --n-train 4000 --epochs 2 --out-dir /tmp/x
"""

from __future__ import annotations

import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # the examples' shared data module
from twin_data import make_split  # noqa: E402
from twin_data import parse_args as _parse_args  # noqa: E402


def main(argv=None) -> dict:
    args = _parse_args(argv, __doc__.split("\n\n")[0])
    import torch
    import torchmetrics
    from torch.utils.data import DataLoader, TensorDataset

    from torch_impl import losses, metrics
    from torch_impl.data import BalancedBatchSampler

    os.makedirs(args.out_dir, exist_ok=True)
    torch.manual_seed(args.seed)
    x, y = make_split(args.n_train, args.pos_fraction, args.seed)
    x_test, y_test = make_split(args.n_test, args.pos_fraction, args.seed + 1)
    print(f"train: {len(y)} samples, {int(y.sum())} positive; test: {len(y_test)}, {int(y_test.sum())} positive")

    # Float (N, 1) targets for the sigmoid loss; the sampler reads the integer labels.
    train_set = TensorDataset(torch.from_numpy(x), torch.from_numpy(y[:, None].astype(np.float32)))
    sampler = BalancedBatchSampler(y, args.batch_size, class_fractions=None, seed=args.seed)
    loader = DataLoader(train_set, batch_sampler=sampler)
    x_test_t, y_test_t = torch.from_numpy(x_test), torch.from_numpy(y_test[:, None].astype(np.float32))

    model = torch.nn.Sequential(torch.nn.Linear(x.shape[1], 32), torch.nn.ReLU(), torch.nn.Linear(32, 1))
    loss_fn = losses.BinaryFocalLoss(alpha=None, gamma=2.0)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)

    def metric_set():
        return torchmetrics.MetricCollection({
            "balanced_accuracy": metrics.BalancedAccuracy(from_logits=True),
            "true_positive_rate": metrics.TruePositiveRate(from_logits=True),
            "true_negative_rate": metrics.TrueNegativeRate(from_logits=True),
            "weighted_balanced_accuracy": metrics.WeightedBalancedAccuracy(alpha=0.7, from_logits=True),
        })

    train_metrics, test_metrics = metric_set(), metric_set()
    history = []
    started = time.perf_counter()
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)  # explicit, as with DistributedSampler (iter() also advances it)
        model.train()
        total, batches = 0.0, 0
        for xb, yb in loader:
            optimizer.zero_grad()
            logits = model(xb)
            loss = loss_fn(logits, yb)
            loss.backward()
            optimizer.step()
            train_metrics.update(logits.detach(), yb)
            total, batches = total + loss.item(), batches + 1
        model.eval()
        with torch.no_grad():
            test_logits = model(x_test_t)
            test_loss = float(loss_fn(test_logits, y_test_t))
        test_metrics.update(test_logits, y_test_t)
        row = {"epoch": epoch + 1, "loss": total / batches, "test_loss": test_loss}
        row.update({k: float(v) for k, v in train_metrics.compute().items()})
        row.update({f"test_{k}": float(v) for k, v in test_metrics.compute().items()})
        train_metrics.reset()
        test_metrics.reset()
        history.append(row)
        print(f"epoch {row['epoch']}/{args.epochs}: {batches} balanced batches, loss {row['loss']:.4f}, "
              f"train balanced acc. {row['balanced_accuracy']:.4f} | test loss {test_loss:.4f}, "
              f"balanced acc. {row['test_balanced_accuracy']:.4f}, TPR {row['test_true_positive_rate']:.4f}, "
              f"TNR {row['test_true_negative_rate']:.4f}")
    fit_s = time.perf_counter() - started

    final = history[-1]
    names = ("balanced_accuracy", "true_positive_rate", "true_negative_rate", "weighted_balanced_accuracy")
    lines = ["| metric | test split |", "|---|---|", f"| loss | {final['test_loss']:.6f} |"]
    lines += [f"| {k} | {final['test_' + k]:.6f} |" for k in names]
    print(f"\nTest split after {args.epochs} epochs ({fit_s:.1f} s):\n\n" + "\n".join(lines) + "\n")
    summary = {"args": vars(args), "history": history,
               "test": {k: final["test_" + k] for k in names} | {"loss": final["test_loss"]}}
    with open(os.path.join(args.out_dir, "torch_train.json"), "w") as f:
        json.dump(summary, f, indent=1)
    return summary


if __name__ == "__main__":
    main(sys.argv[1:])
