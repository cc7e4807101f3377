"""The conformance table: every loss and metric class, listed once.

Each `Row` names a class (the same name in `tf_impl` and `torch_impl`, the mirror rule), its
constructor keyword arguments, its family and an input generator. The machinery tests
(test_conformance_keras.py, test_conformance_torch.py, test_distributed.py) are parametrized
over `ROWS`, so a new loss or metric gets every one of them by being listed here once:

- Keras (tensorflow, torch and jax backends): compile and fit with Keras's label shapes,
  save/load without custom_objects, mixed_float16, sample_weight (B, 1), segmentation
  (softmax family), a real shape mismatch is an error, MirroredStrategy equal to one device.
- torch: eager, torch.compile(fullgraph=True) over batch sizes 32, 17, 9 (no graph break, at
  most one recompile, equal to eager), autocast, state_dict round trip, CrossEntropyLoss's
  layouts (softmax family), sample_weight (B, 1), DDP over two gloo processes equal to one.

Families:
    "sigmoid"     losses whose targets have the logits' shape (multi-hot floats), (B, C)
    "softmax"     losses with class-index targets (B,) against logits (B, C)
    "binary"      binary metrics: targets 0/1 (B,), scores (B,) (Keras: a (B, 1) output)
    "multiclass"  multi-class metrics: class indices (B,) against scores (B, C)

The loss rows come from the declarations (imbalance_core.loss_specs): a declared loss gets every
test here with nothing listed. This module imports neither framework: it holds NumPy inputs
and names only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from imbalance_core import loss_specs

K = 3  # classes / labels of every row (the tiny models' output width)
NUM_FEATURES = 4
IGNORE_INDEX = -1

# Positions (modulo 16) whose class-index target is replaced by ignore_index in the rows that
# set one: within every global batch of 16 the first half holds 1 ignored sample and the
# second half 4, so the two replicas / ranks of the distributed tests have unequal counts.
_IGNORED_POSITIONS = (0, 9, 10, 12, 14)


# ------------------------------------------------------------------------------- generators
# Each takes (rng, signal, row) and returns the target; `signal` (n, K) is correlated with the
# features, so that the tiny models learn something.


def multi_hot(rng, signal, row):
    """Sigmoid family: multi-hot float targets of the logits' shape (rare positives)."""
    return (signal > 0.6).astype("float32")


def class_indices(rng, signal, row):
    """Softmax family and multi-class metrics: int64 class indices (n,); where the row sets
    ignore_index, some of them (unequal per half of every batch of 16) are ignore_index."""
    target = np.argmax(signal + np.array([0.8, 0.0, -0.3])[: signal.shape[1]], axis=1).astype("int64")
    ignore_index = row.kwargs.get("ignore_index")
    if ignore_index is not None:
        target[np.isin(np.arange(len(target)) % 16, _IGNORED_POSITIONS)] = ignore_index
    return target


def binary_labels(rng, signal, row):
    """Binary metrics: 0/1 float labels (n,) (about a quarter positive)."""
    return (signal[:, 0] > 0.6).astype("float32")


@dataclasses.dataclass(frozen=True)
class Inputs:
    features: np.ndarray  # (n, NUM_FEATURES) float32: input of the tiny models
    logits: np.ndarray  # (n, K) float32, or (n,) for binary metrics: input of the loss-level tests
    target: np.ndarray
    sample_weight: np.ndarray | None  # (n,) float32 where the row carries sample weights


@dataclasses.dataclass(frozen=True)
class Row:
    id: str
    name: str  # the class in tf_impl.<module> and torch_impl.<module>
    family: str  # "sigmoid" | "softmax" | "binary" | "multiclass"
    kwargs: Mapping[str, Any]  # for K = 3 outputs
    targets: Callable  # generator (rng, signal, row) -> target
    sample_weight: bool = False  # the inputs carry per-sample weights
    # sigmoid family with one output column ((B,) labels against a (B, 1) output): kwargs whose
    # per-label vectors have length 1 (None: `kwargs` as they are)
    single_output_kwargs: Mapping[str, Any] | None = None
    # an extra case for the distributed-exactness tests only (not the whole machinery matrix)
    distributed_only: bool = False
    functional: str | None = None  # metrics: the functional form in <impl>.metrics
    # state that every training call updates (SeesawLoss's class counts): a test that compares a
    # compiled with an eager module gives each its own copy, so both see the same batches
    stateful: bool = False
    # softmax family on class indices only (no probability rows): the probability layout is skipped
    index_targets_only: bool = False
    result_shape: tuple = ()  # metrics: the result's shape (a vector for PerClassRecall, ShotAccuracy)

    @property
    def kind(self) -> str:
        return "loss" if self.family in ("sigmoid", "softmax") else "metric"

    @property
    def module(self) -> str:
        return "losses" if self.kind == "loss" else "metrics"

    @property
    def num_outputs(self) -> int:
        return 1 if self.family == "binary" else K

    @property
    def ignore_index(self):
        return self.kwargs.get("ignore_index")

    def kwargs_for(self, num_outputs: int) -> dict:
        if num_outputs == 1 and self.single_output_kwargs is not None:
            return dict(self.single_output_kwargs)
        return dict(self.kwargs)

    def inputs(self, n: int, seed: int = 0) -> Inputs:
        """NumPy inputs for n samples, deterministic in (row, n, seed)."""
        rng = np.random.default_rng(seed)
        features = rng.normal(size=(n, NUM_FEATURES)).astype("float32")
        signal = features[:, :K] + 0.5 * rng.normal(size=(n, K))
        target = self.targets(rng, signal, self)
        logits = (2.0 * rng.normal(size=(n, K))).astype("float32")
        if self.family == "binary":
            logits = logits[:, 0]
        sample_weight = rng.uniform(0.2, 2.0, size=n).astype("float32") if self.sample_weight else None
        return Inputs(features, logits, target, sample_weight)


def _loss(id, name, family, kwargs, **kw):
    targets = multi_hot if family == "sigmoid" else class_indices
    return Row(id=id, name=name, family=family, kwargs=kwargs, targets=targets, **kw)


def _metric(id, name, family, kwargs, functional, **kw):
    targets = binary_labels if family == "binary" else class_indices
    return Row(id=id, name=name, family=family, kwargs=kwargs, targets=targets, functional=functional, **kw)


_CLASS_WEIGHT = [1.0, 4.0, 0.5]

# Non-default arguments of the loss rows, where they change the machinery (any declared loss
# not listed here gets a row with its declaration's example arguments). Keyed by class name.
LOSS_KWARGS: dict[str, dict[str, Any]] = {
    "WeightedBinaryCrossentropy": dict(pos_weight=[3.0, 1.0, 2.0], neg_weight=0.5, label_smoothing=0.1),
    "BinaryFocalLoss": dict(alpha=0.4, gamma=1.5, label_smoothing=0.05),
    "AsymmetricLoss": dict(gamma_pos=1.0, gamma_neg=3.0, clip=0.1),
    # normalization="weight" (the default) with class weights: the mean's denominator is the
    # batch's summed class weights, different on every replica
    "WeightedCategoricalCrossentropy": dict(class_weight=_CLASS_WEIGHT, label_smoothing=0.1, normalization="weight"),
    "CategoricalFocalLoss": dict(alpha=[0.2, 0.5, 0.3], gamma=2.0, normalization="weight"),
    "ClassBalancedLoss": dict(samples_per_class=[200, 30, 26], beta=0.99),
    # ignore_index: unequal non-ignored counts per replica
    "LogitAdjustedCrossentropy": dict(class_priors=[0.6, 0.25, 0.15], tau=1.0, ignore_index=IGNORE_INDEX),
    # stateful: the class counts are summed across replicas / ranks before each step uses them
    "SeesawLoss": dict(num_classes=K, p=0.8, q=2.0),
    "DistributionBalancedLoss": dict(samples_per_class=[30, 12, 5], num_samples=100),
    "LDAMLoss": dict(samples_per_class=[200, 30, 26], class_weight=[1.0, 2.0, 3.0]),
    "BalancedSoftmaxCrossentropy": dict(samples_per_class=[200, 30, 26], ignore_index=IGNORE_INDEX),
    "PolyLoss": dict(epsilon=2.0, gamma=1.0, ignore_index=IGNORE_INDEX),
}
# sigmoid family with one output column: per-label vectors of length 1
SINGLE_OUTPUT_KWARGS: dict[str, dict[str, Any]] = {
    "WeightedBinaryCrossentropy": dict(pos_weight=3.0, neg_weight=0.5, label_smoothing=0.1),
    "DistributionBalancedLoss": dict(samples_per_class=[30], num_samples=100),
}


def _declared_loss_rows() -> list[Row]:
    """One row per declared loss (imbalance_core.loss_specs), in declaration order."""
    return [_loss(d.class_name, d.class_name, d.family, LOSS_KWARGS.get(d.class_name, d.examples("class")),
                  single_output_kwargs=SINGLE_OUTPUT_KWARGS.get(d.class_name), stateful=d.stateful,
                  index_targets_only=d.index_targets_only)
            for d in loss_specs.specs()]


ROWS = [
    # ---- losses: every declared class once
    *_declared_loss_rows(),
    # ---- extra distributed-exactness cases
    _loss("WeightedCategoricalCrossentropy-ignore_index", "WeightedCategoricalCrossentropy", "softmax",
          dict(class_weight=_CLASS_WEIGHT, ignore_index=IGNORE_INDEX, label_smoothing=0.05, normalization="weight"),
          distributed_only=True),
    _loss("WeightedCategoricalCrossentropy-sample_weight", "WeightedCategoricalCrossentropy", "softmax",
          dict(class_weight=_CLASS_WEIGHT, normalization="weight"), sample_weight=True, distributed_only=True),
    _loss("ClassBalancedLoss-focal", "ClassBalancedLoss", "softmax",
          dict(samples_per_class=[200, 30, 26], beta=0.99, base="focal", gamma=1.0), distributed_only=True),
    # ---- metrics
    _metric("BalancedAccuracy-binary", "BalancedAccuracy", "binary", dict(from_logits=True), "balanced_accuracy"),
    _metric("BalancedAccuracy-multiclass", "BalancedAccuracy", "multiclass",
            dict(num_classes=K, from_logits=True), "balanced_accuracy"),
    _metric("TruePositiveRate", "TruePositiveRate", "binary", dict(threshold=0.3, from_logits=True),
            "true_positive_rate"),
    _metric("TrueNegativeRate", "TrueNegativeRate", "binary", dict(from_logits=True), "true_negative_rate"),
    _metric("WeightedBalancedAccuracy", "WeightedBalancedAccuracy", "binary", dict(alpha=0.7, from_logits=True),
            "weighted_balanced_accuracy"),
    # long-tail metrics; PerClassRecall and ShotAccuracy are vectors
    _metric("GeometricMean-binary", "GeometricMean", "binary", dict(from_logits=True), "geometric_mean"),
    _metric("MatthewsCorrelation-multiclass", "MatthewsCorrelation", "multiclass", dict(num_classes=K),
            "matthews_correlation"),
    _metric("PerClassRecall-multiclass", "PerClassRecall", "multiclass", dict(num_classes=K), "per_class_recall",
            result_shape=(K,)),
    # one class per group: 200 > 100 many-shot, 50 medium-shot, 10 < 20 few-shot
    _metric("ShotAccuracy", "ShotAccuracy", "multiclass", dict(samples_per_class=[200, 50, 10]), "shot_accuracy",
            result_shape=(3,)),
]

BY_ID = {row.id: row for row in ROWS}
assert len(BY_ID) == len(ROWS), "row ids must be unique"

LOSSES = [r for r in ROWS if r.kind == "loss" and not r.distributed_only]
METRICS = [r for r in ROWS if r.kind == "metric" and not r.distributed_only]
MATRIX = LOSSES + METRICS  # the machinery matrix (every class once, metrics by mode)
DISTRIBUTED_LOSSES = [r for r in ROWS if r.kind == "loss"]  # every loss row, extra cases included
SOFTMAX = [r for r in LOSSES if r.family == "softmax"]
SIGMOID = [r for r in LOSSES if r.family == "sigmoid"]


def params(rows):
    """pytest.param per row, with the row id."""
    import pytest

    return [pytest.param(r, id=r.id) for r in rows]


def framework_class(framework: str, row: Row):
    """The row's class in "torch" (torch_impl) or "keras" (tf_impl)."""
    import importlib

    package = "torch_impl" if framework == "torch" else "tf_impl"
    return getattr(importlib.import_module(f"{package}.{row.module}"), row.name)


def build(framework: str, row: Row, num_outputs: int | None = None, **extra):
    """A fresh instance of the row's class with its kwargs (for `num_outputs` outputs)."""
    kwargs = row.kwargs_for(row.num_outputs if num_outputs is None else num_outputs)
    kwargs.update(extra)
    return framework_class(framework, row)(**kwargs)


# Classes the matrix must cover: every declared loss and the eight metrics of DESIGN.md's
# tables. A class added to a package's __all__ without a row fails `test_table_covers_every_class`.
REQUIRED_CLASSES = {
    "losses": {d.class_name for d in loss_specs.specs()},
    "metrics": {"BalancedAccuracy", "TruePositiveRate", "TrueNegativeRate", "WeightedBalancedAccuracy",
                "GeometricMean", "MatthewsCorrelation", "PerClassRecall", "ShotAccuracy"},
}
