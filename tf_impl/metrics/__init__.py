"""Imbalance metrics for Keras 3. The mirror of torch_impl.metrics, file for file.

Stateful `keras.metrics.Metric` subclasses for `model.compile(metrics=[...])` and functional
forms `fn(y_true, y_pred, **kw)`. keras.ops only, so every Keras backend runs them.
Formulas, checks and messages come from `imbalance_core.metrics` (scikit-learn's
definitions; imbalanced-learn's for GeometricMean, OLTR's for ShotAccuracy); messages name
`y_true` and `y_pred`. Results are scalars, except PerClassRecall (K,) and ShotAccuracy (3,).

Each class is the streaming form of the function of the same name (`BalancedAccuracy` of
`balanced_accuracy`, ...): the function's keywords, `sample_weight` aside (an argument of
`update_state`), and Keras's `name` (default: the function's name) and `dtype` (the result's);
`result()` is the function's formula on the confusion matrix of every batch since the last
`reset_state()` (0 before any sample; NaN groups for ShotAccuracy).

- binary (`num_classes=None`): y_true of 0/1, y_pred probabilities (or logits with
  `from_logits=True`) of the same shape, or shapes that differ by a trailing axis of size 1
  (`(B,)` labels against a `(B, 1)` output and the reverse: Keras's own rule, as in
  `keras.metrics.BinaryAccuracy`); predicted positive when y_pred > threshold
  (logit(threshold) on logits). Every element is one decision (multi-label: micro). A real
  mismatch, such as `(B,)` labels against `(B, 3)` scores, is a ValueError.
- multi-class (`num_classes=K`): y_pred (..., K) of any real scores, logits or probabilities
  (the argmax is the same), predicted class = argmax; y_true class indices (...) or (..., 1),
  or one-hot (..., K). `threshold`/`from_logits` do not apply.
- `sample_weight`: a scalar, or the leading axes of the per-decision shape (broadcast), with
  or without a trailing axis of size 1 (`(B,)` or `(B, 1)`).

State and precision: a K x K confusion matrix of summed sample weights, C[true, predicted]
(K = 2 in binary mode), held as a compensated pair of variables, `confusion` (the rounded
sum) and `confusion_residual` (its rounding error), updated with an error-free TwoSum; the
result is computed from their sum and returned in the metric dtype. The pair is float64
where the backend has float64 (tensorflow, torch, jax with `jax_enable_x64`): counts are exact
to 2^53 and beyond. On jax without `jax_enable_x64` (the usual setting) it is float32: each
batch's increment is split exactly (error-free extraction) into float32 parts whose per-cell
sums are exact, so unweighted counts (and integer weights) stay exact up to 2^48 in total
(where a single float32 count would stop at 2^24 = 16,777,216) and weighted sums keep a
relative error near 2^-40; there the result's formula is evaluated in float32 (a few ulp).

Content checks (`validate_args=True`: label values, probabilities in binary mode, weights)
run on the values whenever the inputs are concrete (eager on every backend, and Keras's
torch backend inside `fit`); inside a traced graph (`model.fit` on tensorflow or jax) the
label and probability checks run through `tf_impl._ops`'s rule (tf.debugging assertions in a
TensorFlow graph, a jax.debug.callback under jax), with the same message prefixes; there the
binary-label check is the range [0, 1]. Shape and dtype checks always run.

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
