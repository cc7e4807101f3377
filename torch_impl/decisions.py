"""Decisions after training, for PyTorch: prior correction and threshold tuning. The mirror of
tf_impl/decisions.py; the arithmetic, checks and messages come from
`imbalance_core.decisions`.

- `shift_prior` / `PriorShift`: a model trained on rebalanced batches (or with class weights)
  estimates probabilities under its training prior; adding log pi_target - log pi_train to the
  softmax logits (logit(pi_target) - logit(pi_train) to sigmoid logits) gives them under the
  prior of the data it will meet (Bayes' rule; Saerens et al. 2002).
- `training_prior`: the prior a balanced pipeline (`class_fractions`) or class weights imposed.
- `tune_threshold`: the exact best decision threshold for balanced accuracy, alpha TPR +
  (1 - alpha) TNR, F-beta, or the highest TNR at a minimum TPR, in O(N log N).
- `ThresholdTuner`: its streaming form, a `torchmetrics.Metric` holding two histograms
  (summed across processes under DDP).

Class axis: as `losses.adjust_logits` and CrossEntropyLoss, dim 1 for inputs with more than
two dimensions ((N, C, d1, ...)), the last dim otherwise.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torchmetrics import Metric

from imbalance_core import decisions, metrics, validation
from imbalance_core.decisions import ThresholdResult, training_prior

from . import _ops, _update_count
from .metrics import _confusion

__all__ = [
    "PriorShift",
    "ThresholdResult",
    "ThresholdTuner",
    "shift_prior",
    "training_prior",
    "tune_threshold",
]


def _add_shift(x: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """x + shift on the class axis, computed in float32 for half inputs, returned in x's dtype."""
    class_dim = 1 if x.ndim > 2 else -1  # CrossEntropyLoss's layouts, as adjust_logits
    validation.check_vector_length("train_prior", shift, x.shape[class_dim] if x.ndim else None)
    xc = x.to(_ops.compute_dtype(x))
    shift = shift.to(device=x.device, dtype=xc.dtype)
    if class_dim == 1 and shift.ndim == 1:
        shift = shift.reshape((-1,) + (1,) * (x.ndim - 2))
    return (xc + shift).to(x.dtype)


def _shift_from(train: torch.Tensor, target: torch.Tensor, activation: str) -> torch.Tensor:
    """log target - log train (softmax), logit(target) - logit(train) (sigmoid), in float64."""
    train, target = train.to(torch.float64), target.to(torch.float64)
    if activation == "softmax":
        return torch.log(target) - torch.log(train)
    return torch.logit(target) - torch.logit(train)


def shift_prior(
    logits: torch.Tensor, *, train_prior: Any, target_prior: Any, activation: str = "softmax"
) -> torch.Tensor:
    """Prior correction after training on another class prior (Bayes' rule).

    softmax: x_c + log pi_target_c - log pi_train_c on the class axis (priors normalised to
    sum to 1; one per class). sigmoid: x + logit(pi_target) - logit(pi_train), priors of the
    positive class in (0, 1), a scalar or one per label. Returns the shifted logits, same
    shape and dtype.

    Args:
        logits: softmax logits (N, C) / (N, C, d1, ...) / (C), or sigmoid logits; tensor or NumPy.
        train_prior: the prior the model was trained on (`training_prior(...)`).
        target_prior: the prior of the data it will meet (the natural class frequencies).
        activation: "softmax" or "sigmoid". Two scalar priors can only be sigmoid priors and
            are taken as such under either; one scalar beside a per-class vector needs
            activation="sigmoid".

    Anchor: the closed form above (Saerens, Latinne and Decaestecker 2002, "Adjusting the
    outputs of a classifier to new a priori probabilities"); with a uniform target prior it is
    `losses.adjust_logits(x, train_prior)` (Menon et al. 2021, tau = 1).

    Examples:
        >>> import torch
        >>> logits = torch.tensor([[0.0, 0.0]])
        >>> out = shift_prior(logits, train_prior=[0.5, 0.5], target_prior=[0.9, 0.1])
        >>> print(out.softmax(-1).numpy().round(4))
        [[0.9 0.1]]
    """
    shift = _ops.static_args(_checked_prior_shift, train_prior, target_prior, activation)
    x = _ops.check_logits("logits", logits)
    return _add_shift(x, torch.as_tensor(shift, dtype=torch.float64))


def _checked_prior_shift(train_prior: Any, target_prior: Any, activation: str) -> np.ndarray:
    """`shift_prior`'s arguments checked and made into its shift, in one call (one constant
    under torch.compile, so that the NumPy checks do not break the graph)."""
    return decisions.prior_shift(*decisions.prior_args(train_prior, target_prior, activation))


class PriorShift(torch.nn.Module):
    """A module to append to a trained model: `shift_prior` with fixed priors.

    forward(input) = input + log pi_target - log pi_train (softmax, class axis) or
    input + logit(pi_target) - logit(pi_train) (sigmoid). The priors are float64 buffers
    `train_prior` and `target_prior` (in `state_dict`, moved by `.to(device)`).

    Args:
        train_prior, target_prior, activation: as `shift_prior`.

    Anchor: `shift_prior`; Saerens et al. 2002.

    Examples:
        >>> import torch
        >>> layer = PriorShift(train_prior=0.5, target_prior=0.05, activation="sigmoid")
        >>> print(layer(torch.tensor([[0.0], [3.0]])).numpy().round(4))
        [[-2.9444]
         [ 0.0556]]
    """

    train_prior: torch.Tensor  # buffers, registered in __init__
    target_prior: torch.Tensor

    def __init__(self, *, train_prior: Any, target_prior: Any, activation: str = "softmax") -> None:
        super().__init__()
        train, target, self.activation = decisions.prior_args(train_prior, target_prior, activation)
        self.register_buffer("train_prior", torch.from_numpy(train))
        self.register_buffer("target_prior", torch.from_numpy(target))

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        x = _ops.check_logits("logits", input)
        return _add_shift(x, _shift_from(self.train_prior, self.target_prior, self.activation))

    def extra_repr(self) -> str:
        return f"activation={self.activation!r}"


def _dtype_or_default(x: Any) -> torch.dtype:
    if isinstance(x, torch.Tensor) and x.is_floating_point():
        return x.dtype
    if isinstance(x, np.ndarray) and x.dtype.kind == "f":
        return torch.from_numpy(np.zeros(0, x.dtype)).dtype
    return torch.get_default_dtype()


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
        y_true: 0/1 labels, the shape of `scores` (tensor or NumPy).
        scores: real scores (probabilities or logits), any shape; finite.
        objective: one of the four above.
        alpha: the TPR's weight in "weighted_balanced_accuracy", in [0, 1].
        beta: F-beta's beta > 0.
        min_tpr: in [0, 1], required by "tpr_at_least" (None otherwise).
        sample_weight: None or one non-negative weight per score.

    Returns:
        ThresholdResult(threshold, score): tensors, the threshold in the scores' float dtype
        (it is one of them, or -inf), the score in torch.get_default_dtype(), on the scores'
        device.

    Anchor: a brute-force search over every threshold; scikit-learn's
    `TunedThresholdClassifierCV` does the same on scikit-learn estimators (its rule is >=).

    Examples:
        >>> import torch
        >>> threshold, score = tune_threshold(torch.tensor([0, 0, 0, 1, 1]), torch.tensor([0.1, 0.4, 0.35, 0.8, 0.3]))
        >>> print(round(float(threshold), 4), round(float(score), 4))
        0.4 0.75
    """
    dtype = _dtype_or_default(scores)
    device = scores.device if isinstance(scores, torch.Tensor) else None
    found = decisions.tune_threshold(y_true, scores, objective=objective, alpha=alpha, beta=beta, min_tpr=min_tpr,
                             sample_weight=sample_weight)
    return ThresholdResult(torch.tensor(found.threshold, dtype=dtype, device=device),
                           torch.tensor(found.score, dtype=torch.get_default_dtype(), device=device))


class ThresholdTuner(_update_count.DynamicUpdateCount, Metric):
    """The streaming form of `tune_threshold`, for validation sets that do not fit in memory.

    State: two float64 histograms of summed sample weights over `num_bins + 1` bins of the
    predicted probability p (sigmoid(logits) with `from_logits=True`), one for positives, one
    for negatives, registered with `dist_reduce_fx="sum"` (under DDP `compute()` sums them
    across processes): bin 0 holds p <= 0, bin k holds ((k-1)/n, k/n], n = num_bins.
    `compute()` searches the thresholds -inf, 0, 1/n, ..., 1 (predict positive when
    p > threshold) with `tune_threshold`'s objectives and tie rule.

    Precision: the reported score is the exact objective of the returned threshold on all
    the data seen (the counts are exact sums). The threshold is the best on the grid; when
    every p is a multiple of 1/n it is `tune_threshold`'s (threshold and score). Otherwise the
    exact optimum can be higher by at most the decisions inside one bin: for alpha TPR +
    (1 - alpha) TNR at most max_k [alpha P_k / P + (1 - alpha) N_k / N] (the heaviest bin's
    share): small when no bin holds much of either class.

    Args:
        objective, alpha, beta, min_tpr: as `tune_threshold`.
        num_bins: n, the grid's resolution, an integer in [1, 2^24]; a power of two
            makes p * n exact.
        from_logits: preds are logits (the threshold returned is still a probability).
        validate_args: check label/probability values (one host synchronisation per update;
            skipped while torch.compile traces, the rule of `metrics`).
        kwargs: torchmetrics's (`dist_sync_on_step`, `sync_on_compute`, ...).

    `update(preds, target, sample_weight=None)` takes `metrics.BalancedAccuracy`'s binary
    inputs; `compute()` returns ThresholdResult(threshold, score), tensors in
    torch.get_default_dtype() (a ValueError until both classes have weight). NaN scores are a
    ValueError (with validate_args=False they are not counted).

    Anchor: `tune_threshold` on the same data.

    Examples:
        >>> import torch
        >>> tuner = ThresholdTuner(num_bins=10)
        >>> tuner.update(torch.tensor([0.15, 0.45, 0.35, 0.85]), torch.tensor([0, 0, 1, 1]))
        >>> threshold, score = tuner.compute()
        >>> print(round(float(threshold), 4), round(float(score), 4))
        0.2 0.75
    """

    full_state_update = False
    positive_counts: torch.Tensor  # registered by add_state
    negative_counts: torch.Tensor

    def __init__(self, *, objective: str = "balanced_accuracy", alpha: float = 0.5, beta: float = 1.0,
                 min_tpr: float | None = None, num_bins: int = 1024, from_logits: bool = False,
                 validate_args: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.objective, self.alpha, self.beta, self.min_tpr = decisions.threshold_args(objective, alpha, beta, min_tpr)
        self.num_bins = decisions.check_num_bins(num_bins)
        self.from_logits = validation.check_bool("from_logits", from_logits)
        self.validate_args = validation.check_bool("validate_args", validate_args)
        size = self.num_bins + 1
        self.add_state("positive_counts", default=torch.zeros(size, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("negative_counts", default=torch.zeros(size, dtype=torch.float64), dist_reduce_fx="sum")

    def update(self, preds: torch.Tensor, target: torch.Tensor, sample_weight: Any | None = None) -> None:
        conv = metrics.TORCH
        layout, preds, target, sample_weight = _confusion.batch_inputs(preds, target, sample_weight, None)
        if self.validate_args and _ops.checking():  # skipped while torch.compile traces, as in metrics
            metrics.check_metric_values(layout, None, self.from_logits, target, preds, sample_weight, conv)
            nan_count = int(torch.isnan(preds).sum())
            if nan_count:
                raise ValueError(validation.nan_scores_message(conv.preds, nan_count))
        p = preds.to(torch.float64)
        if self.from_logits:
            p = torch.sigmoid(p)
        nan = torch.isnan(p).reshape(-1)  # only with validate_args=False: not counted
        p = torch.nan_to_num(p, nan=0.0)
        bins = torch.clamp(torch.ceil(p * self.num_bins), 0, self.num_bins).to(torch.int64).reshape(-1)
        positive = (target.to(torch.float32) > 0.5).reshape(-1)
        w = _confusion.decision_weights(sample_weight, layout, preds.shape, preds.device).reshape(-1)
        zero = torch.zeros_like(w)
        w = torch.where(nan, zero, w)
        self.positive_counts.index_add_(0, bins, torch.where(positive, w, zero))
        self.negative_counts.index_add_(0, bins, torch.where(positive, zero, w))

    def compute(self) -> ThresholdResult:
        found = decisions.best_threshold(
            decisions.grid_thresholds(self.num_bins),
            self.positive_counts.cpu().numpy(),
            self.negative_counts.cpu().numpy(),
            objective=self.objective, alpha=self.alpha, beta=self.beta, min_tpr=self.min_tpr,
            target_name=metrics.TORCH.target,
        )
        device = self.positive_counts.device
        dtype = torch.get_default_dtype()
        return ThresholdResult(torch.tensor(found.threshold, dtype=dtype, device=device),
                               torch.tensor(found.score, dtype=dtype, device=device))
