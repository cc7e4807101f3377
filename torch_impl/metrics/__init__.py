"""Imbalance metrics for PyTorch. The mirror of tf_impl.metrics, file for file.

`torchmetrics.Metric` subclasses (`update(preds, target, sample_weight=None)`, `compute()`,
state synced under DDP by summation) and functional forms `fn(preds, target, **kw)`, in
torchmetrics's (preds, target) order. Formulas, checks and messages come from
`imbalance_core.metrics` (scikit-learn's definitions; imbalanced-learn's for GeometricMean,
OLTR's for ShotAccuracy); messages name `preds` and `target`. Results are scalars, except
PerClassRecall (K,) and ShotAccuracy (3,).

Each class is the streaming form of the function of the same name (`BalancedAccuracy` of
`balanced_accuracy`, ...): the function's keywords, `sample_weight` aside (an argument of
`update`), and torchmetrics's `**kwargs` (`dist_sync_on_step`, `sync_on_compute`, ...);
`compute()` is the function's formula on the confusion matrix of every batch since the last
`reset()` (0 before any sample; NaN groups for ShotAccuracy).

State: a K x K confusion matrix of summed sample weights, C[true, predicted], in float64 so
that counts stay exact over long streams (K = 2 in binary mode), registered with
`dist_reduce_fx="sum"` (under DDP, `compute()` sums it across processes first); the result
is computed from it in float64 and returned in `torch.get_default_dtype()`.

- binary (`num_classes=None`): target of 0/1, preds probabilities (or logits with
  `from_logits=True`) of exactly the same shape (torchmetrics's rule; Keras's twin also
  accepts a trailing 1 squeezed or added); predicted positive when preds > threshold
  (logit(threshold) on logits). Every element is one decision (multi-label: micro).
- multi-class (`num_classes=K`): preds (..., K) of any real scores, logits or probabilities
  (the argmax is the same), predicted class = argmax; target class indices (...) or
  (..., 1), or one-hot (..., K). `threshold`/`from_logits` do not apply.
- `sample_weight`: a scalar, or the leading axes of the per-decision shape (broadcast), with
  or without a trailing axis of size 1 (`(B,)` or `(B, 1)`).

Checks: shape and dtype checks always run (they are static, also under `torch.compile`).
Content checks (`validate_args=True`: label values, probabilities in binary mode, weights)
are torch ops, no NumPy conversion, read with one host synchronisation per call when running
eagerly (the same messages as tf_impl's), and are skipped while compiling
(`torch.compiler.is_compiling()`): the rule that keeps a compiled graph whole.
`validate_args=False` skips them eagerly too (no synchronisation at all).

torch.compile: `torch.compile(metric.update, fullgraph=True)` and
`torch.compile(metric.compute, fullgraph=True)` trace with no graph break and, over batch
sizes 32, 17, 9, compile at most twice each (the second call makes the batch dimension and
torchmetrics's update counter dynamic), with no Dynamo setting to change: torchmetrics counts
calls in an int module attribute (`_update_count`), which Dynamo would treat as a constant
(a recompile per call, torchmetrics issue #1780), so `_update_count.DynamicUpdateCount` lets Dynamo
trace that counter as a symbolic int, in these metrics' wrappers only.

Files: `_confusion` (decisions, checks, state, and the base classes the metrics configure),
`_balanced` (balanced accuracy, TPR, TNR), `_longtail` (G-mean, MCC, per-class recall, shot
accuracy).
"""

from ._balanced import (
    BalancedAccuracy,
    TrueNegativeRate,
    TruePositiveRate,
    WeightedBalancedAccuracy,
    balanced_accuracy,
    true_negative_rate,
    true_positive_rate,
    weighted_balanced_accuracy,
)
from ._longtail import (
    GeometricMean,
    MatthewsCorrelation,
    PerClassRecall,
    ShotAccuracy,
    geometric_mean,
    matthews_correlation,
    per_class_recall,
    shot_accuracy,
)

__all__ = [
    "BalancedAccuracy",
    "TruePositiveRate",
    "TrueNegativeRate",
    "WeightedBalancedAccuracy",
    "balanced_accuracy",
    "true_positive_rate",
    "true_negative_rate",
    "weighted_balanced_accuracy",
    "GeometricMean",
    "MatthewsCorrelation",
    "PerClassRecall",
    "ShotAccuracy",
    "geometric_mean",
    "matthews_correlation",
    "per_class_recall",
    "shot_accuracy",
]
