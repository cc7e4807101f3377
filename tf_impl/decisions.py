"""Decisions after training, for Keras 3: prior correction and threshold tuning. The mirror of
torch_impl/decisions.py; the arithmetic, checks and messages come from
`imbalance_core.decisions`. keras.ops only, so every Keras backend runs them.

- `shift_prior` / `PriorShift`: a model trained on rebalanced batches (or with class weights)
  estimates probabilities under its training prior; adding log pi_target - log pi_train to the
  softmax logits (logit(pi_target) - logit(pi_train) to sigmoid logits) gives them under the
  prior of the data it will meet (Bayes' rule; Saerens et al. 2002).
- `training_prior`: the prior a balanced pipeline (`class_fractions`) or class weights imposed.
- `tune_threshold`: the exact best decision threshold for balanced accuracy, alpha TPR +
  (1 - alpha) TNR, F-beta, or the highest TNR at a minimum TPR, in O(N log N).
- `ThresholdTuner`: its streaming form, a `keras.metrics.Metric` holding two histograms.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

from imbalance_core import decisions, metrics, validation
from imbalance_core.decisions import ThresholdResult, training_prior

from . import _ops
from .metrics import _confusion

__all__ = [
    "PriorShift",
    "ThresholdResult",
    "ThresholdTuner",
    "shift_prior",
    "training_prior",
    "tune_threshold",
]


def _add_shift(x: Any, shift: np.ndarray) -> Any:
    """x + shift on the last axis, computed in float32 for half inputs, returned in x's dtype."""
    validation.check_vector_length("train_prior", shift, x.shape[-1])
    xc = ops.cast(x, _ops.compute_dtype(x))
    return ops.cast(xc + _ops.as_tensor_like(shift, xc), _ops.dtype_of(x))


def shift_prior(logits: Any, *, train_prior: Any, target_prior: Any, activation: str = "softmax") -> Any:
    """Prior correction after training on another class prior (Bayes' rule).

    softmax: x_c + log pi_target_c - log pi_train_c on the last axis (priors normalised to
    sum to 1; one per class). sigmoid: x + logit(pi_target) - logit(pi_train), priors of the
    positive class in (0, 1), a scalar or one per label (last axis). Returns the shifted
    logits, same shape and dtype.

    Args:
        logits: (..., K) softmax logits or sigmoid logits of any shape; native or NumPy.
        train_prior: the prior the model was trained on (`training_prior(...)`).
        target_prior: the prior of the data it will meet (the natural class frequencies).
        activation: "softmax" or "sigmoid". Two scalar priors can only be sigmoid priors and
            are taken as such under either; one scalar beside a per-class vector needs
            activation="sigmoid".

    Anchor: the closed form above (Saerens, Latinne and Decaestecker 2002, "Adjusting the
    outputs of a classifier to new a priori probabilities"); with a uniform target prior it is
    `losses.adjust_logits(x, train_prior)` (Menon et al. 2021, tau = 1).

    Examples:
        >>> import keras
        >>> import numpy as np
        >>> logits = np.array([[0.0, 0.0]])
        >>> out = shift_prior(logits, train_prior=[0.5, 0.5], target_prior=[0.9, 0.1])
        >>> print(keras.ops.convert_to_numpy(keras.ops.softmax(out)).round(4))
        [[0.9 0.1]]
    """
    train, target, activation = decisions.prior_args(train_prior, target_prior, activation)
    x = _ops.check_logits("logits", logits)
    return _add_shift(x, decisions.prior_shift(train, target, activation))


@keras.saving.register_keras_serializable("classbalance")
class PriorShift(keras.layers.Layer):
    """A layer to append to a trained model: `shift_prior` with fixed priors.

    outputs = logits + log pi_target - log pi_train (softmax, last axis) or
    logits + logit(pi_target) - logit(pi_train) (sigmoid). No weights: the priors live in
    the config, so the layer is saved and loaded with the model (`model.save("m.keras")`).

    Args:
        train_prior, target_prior, activation: as `shift_prior`.
        kwargs: Keras's Layer arguments (name, dtype, ...).

    Anchor: `shift_prior`; Saerens et al. 2002.

    Examples:
        >>> import keras
        >>> import numpy as np
        >>> layer = PriorShift(train_prior=0.5, target_prior=0.05, activation="sigmoid")
        >>> print(keras.ops.convert_to_numpy(layer(np.array([[0.0], [3.0]]))).round(4))
        [[-2.9444]
         [ 0.0556]]
    """

    def __init__(self, *, train_prior: Any, target_prior: Any, activation: str = "softmax", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._train, self._target, self.activation = decisions.prior_args(train_prior, target_prior, activation)
        self._shift = decisions.prior_shift(self._train, self._target, self.activation)

    def call(self, inputs: Any) -> Any:
        return _add_shift(inputs, self._shift)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(train_prior=self._train.tolist(), target_prior=self._target.tolist(), activation=self.activation)
        return config


def _dtype_or_floatx(x: Any) -> str:
    dtype = keras.backend.standardize_dtype(x.dtype if hasattr(x, "dtype") else np.asarray(x).dtype)
    return dtype if "float" in dtype else keras.config.floatx()


def tune_threshold(y_true: Any, scores: Any, *, objective: str = "balanced_accuracy", alpha: float = 0.5,
                   beta: float = 1.0, min_tpr: float | None = None,
                   sample_weight: Any | None = None) -> ThresholdResult:
    """The exact best decision threshold: predict positive when score > threshold.

    Candidates: -inf (everything positive) and every distinct score (the highest: everything
    negative), so the result equals a search over every threshold; one sort, O(N log N).
    Objectives, with TPR = TP / P and TNR = TN / N from summed sample weights:
    "balanced_accuracy" (TPR + TNR) / 2; "weighted_balanced_accuracy" alpha TPR +
    (1 - alpha) TNR; "f_beta" (1 + b^2) TP / ((1 + b^2) TP + b^2 FN + FP);
    "tpr_at_least" the highest TNR with TPR >= min_tpr. Ties go to the lowest threshold.

    Args:
        y_true: 0/1 labels, the shape of `scores` (native tensor or NumPy).
        scores: real scores (probabilities or logits), any shape; finite.
        objective: one of the four above.
        alpha: the TPR's weight in "weighted_balanced_accuracy", in [0, 1].
        beta: F-beta's beta > 0.
        min_tpr: in [0, 1], required by "tpr_at_least" (None otherwise).
        sample_weight: None or one non-negative weight per score.

    Returns:
        ThresholdResult(threshold, score): tensors, the threshold in the scores' float dtype
        (it is one of them, or -inf), the score in keras.config.floatx().

    Anchor: a brute-force search over every threshold; scikit-learn's
    `TunedThresholdClassifierCV` does the same on scikit-learn estimators (its rule is >=).

    Examples:
        >>> import numpy as np
        >>> threshold, score = tune_threshold(np.array([0, 0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8, 0.3]))
        >>> print(round(float(threshold), 4), round(float(score), 4))
        0.4 0.75
    """
    dtype = _dtype_or_floatx(scores)
    y_true, scores = (ops.convert_to_numpy(v) if not isinstance(v, np.ndarray) else v for v in (y_true, scores))
    if sample_weight is not None and not isinstance(sample_weight, np.ndarray):
        sample_weight = ops.convert_to_numpy(sample_weight)
    found = decisions.tune_threshold(y_true, scores, objective=objective, alpha=alpha, beta=beta, min_tpr=min_tpr,
                             sample_weight=sample_weight)
    return ThresholdResult(ops.convert_to_tensor(found.threshold, dtype=dtype),
                           ops.convert_to_tensor(found.score, dtype=keras.config.floatx()))


# --------------------------------------------------------------------------------------------
# The streaming form
# --------------------------------------------------------------------------------------------


def _histogram(bins: Any, weight: Any, size: int) -> Any:
    """sum of `weight` per bin, as a two-level one-hot einsum (B x 2 sqrt(size) memory, not
    B x size); einsum, because on Keras's torch backend segment_sum and bincount compute
    float64 in float32 (Keras 3.15)."""
    side = int(np.ceil(np.sqrt(size)))
    steps = ops.arange(side, dtype="int32")
    high = ops.cast(ops.equal(ops.expand_dims(bins // side, -1), steps), weight.dtype)
    low = ops.cast(ops.equal(ops.expand_dims(bins % side, -1), steps), weight.dtype)
    table = ops.einsum("ni,nj->ij", high * ops.expand_dims(weight, -1), low)
    return ops.reshape(table, (-1,))[:size]


@keras.saving.register_keras_serializable("classbalance")
class ThresholdTuner(keras.metrics.Metric):
    """The streaming form of `tune_threshold`, for validation sets that do not fit in memory.

    State: two histograms of summed sample weights over `num_bins + 1` bins of the predicted
    probability p (sigmoid(logits) with `from_logits=True`), one for positives, one for
    negatives: bin 0 holds p <= 0, bin k holds ((k-1)/n, k/n], n = num_bins. `result()`
    searches the thresholds -inf, 0, 1/n, ..., 1 (predict positive when p > threshold) with
    `tune_threshold`'s objectives and tie rule.

    Precision: the reported score is the exact objective of the returned threshold on all
    the data seen (the counts are exact sums). The threshold is the best on the grid; when
    every p is a multiple of 1/n it is `tune_threshold`'s (threshold and score). Otherwise the
    exact optimum can be higher by at most the decisions inside one bin: for alpha TPR +
    (1 - alpha) TNR at most max_k [alpha P_k / P + (1 - alpha) N_k / N] (the heaviest bin's
    share): small when no bin holds much of either class. State dtype: float64 (float32 on jax
    without jax_enable_x64: then counts per bin are exact to 2^24).

    Args:
        objective, alpha, beta, min_tpr: as `tune_threshold`.
        num_bins: n, the grid's resolution, an integer in [1, 2^24]; a power of two
            makes p * n exact.
        from_logits: y_pred are logits (the threshold returned is still a probability).
        validate_args: check label/probability values when the inputs are concrete (eager;
            inside a traced graph they are skipped).
        name, dtype: Keras's.

    `update_state(y_true, y_pred, sample_weight=None)` takes `metrics.BalancedAccuracy`'s
    binary inputs; `result()` returns ThresholdResult(threshold, score) (tensors in the
    metric dtype), for an update/result loop over batches (not a `compile(metrics=...)`
    entry: its result is a pair; a ValueError until both classes have weight). NaN scores are a
    ValueError (with validate_args=False they are not counted).

    Anchor: `tune_threshold` on the same data.

    Examples:
        >>> import numpy as np
        >>> tuner = ThresholdTuner(num_bins=10)
        >>> tuner.update_state(np.array([0, 0, 1, 1]), np.array([0.15, 0.45, 0.35, 0.85]))
        >>> threshold, score = tuner.result()
        >>> print(round(float(threshold), 4), round(float(score), 4))
        0.2 0.75
    """

    def __init__(self, *, objective: str = "balanced_accuracy", alpha: float = 0.5, beta: float = 1.0,
                 min_tpr: float | None = None, num_bins: int = 1024, from_logits: bool = False,
                 validate_args: bool = True, name: str = "threshold_tuner", dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)
        self.objective, self.alpha, self.beta, self.min_tpr = decisions.threshold_args(objective, alpha, beta, min_tpr)
        self.num_bins = decisions.check_num_bins(num_bins)
        self.from_logits = validation.check_bool("from_logits", from_logits)
        self.validate_args = validation.check_bool("validate_args", validate_args)
        self._state_dtype = _confusion._state_dtype()
        size = self.num_bins + 1
        self.positive_counts = self.add_variable(shape=(size,), initializer="zeros", dtype=self._state_dtype,
                                                 name="positive_counts")
        self.negative_counts = self.add_variable(shape=(size,), initializer="zeros", dtype=self._state_dtype,
                                                 name="negative_counts")

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any | None = None) -> None:
        conv = metrics.KERAS
        layout, y_true, y_pred, sample_weight = _confusion.batch_inputs(y_true, y_pred, sample_weight, None)
        if self.validate_args:
            values = [None if v is None else _confusion._concrete(v) for v in (y_true, y_pred, sample_weight)]
            if values[0] is not None and values[1] is not None:
                metrics.check_metric_values(layout, None, self.from_logits, values[0], values[1], values[2], conv)
                nan = int(np.sum(np.isnan(values[1].astype(np.float64))))
                if nan:
                    raise ValueError(validation.nan_scores_message(conv.preds, nan))
        p = ops.cast(y_pred, self._state_dtype)
        if self.from_logits:
            p = ops.sigmoid(p)
        nan = ops.isnan(p)  # NaN scores (only with validate_args=False, or traced) are not counted
        p = ops.where(nan, ops.zeros_like(p), p)
        bins = ops.cast(ops.clip(ops.ceil(p * float(self.num_bins)), 0.0, float(self.num_bins)), "int32")
        positive = ops.cast(ops.greater(ops.cast(y_true, "float32"), 0.5), self._state_dtype)
        w = ops.ones_like(positive) if sample_weight is None else _confusion.decision_weights(
            sample_weight, layout, positive, self._state_dtype)
        w = ops.where(nan, ops.zeros_like(w), w)
        bins, positive, w = (ops.reshape(v, (-1,)) for v in (bins, positive, w))
        size = self.num_bins + 1
        self.positive_counts.assign(self.positive_counts + _histogram(bins, w * positive, size))
        self.negative_counts.assign(self.negative_counts + _histogram(bins, w * (1.0 - positive), size))

    def result(self) -> ThresholdResult:
        found = decisions.best_threshold(
            decisions.grid_thresholds(self.num_bins), ops.convert_to_numpy(self.positive_counts),
            ops.convert_to_numpy(self.negative_counts),
            objective=self.objective, alpha=self.alpha, beta=self.beta, min_tpr=self.min_tpr,
            target_name=metrics.KERAS.target,
        )
        return ThresholdResult(ops.convert_to_tensor(found.threshold, dtype=self.dtype),
                               ops.convert_to_tensor(found.score, dtype=self.dtype))

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(objective=self.objective, alpha=self.alpha, beta=self.beta, min_tpr=self.min_tpr,
                      num_bins=self.num_bins, from_logits=self.from_logits, validate_args=self.validate_args)
        return config
