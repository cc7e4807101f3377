"""The case table: the single place where each loss's parity inputs are listed.

A case names a functional loss (the same name in tf_impl.losses, torch_impl.losses and
imbalance_core.loss_specs, whose declaration holds its float64 reference), its keyword
arguments, an input generator and, optionally, tolerance overrides with the reason. Every
declared loss gets cases: the ones listed here (edge inputs chosen for it), or else a default
case and default class-level cases made from its declaration (random logits, its family's
targets, the example values of its required arguments). Every case runs on framework x device x
dtype x (value, gradient).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from imbalance_core import loss_specs, validation

# Cotangents for gradient checks are drawn from values exact in every dtype (bfloat16 has an
# 8-bit significand), so rounding the cotangent never enters the comparison.
COTANGENT_VALUES = np.array([0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0])


def _softmax_family(fn: Any) -> bool:
    declaration = loss_specs.SPECS.get(fn) if isinstance(fn, str) else None
    return declaration is not None and declaration.family == "softmax"


@dataclass(frozen=True)
class Case:
    name: str
    fn: Any  # a functional name; or {"torch": fn, "keras": fn} for a user's pair (parity API)
    make_inputs: Callable[[np.random.Generator], tuple[np.ndarray, np.ndarray]]
    kwargs: dict = field(default_factory=dict)
    index_target: bool = False  # class indices (int64) rather than float targets
    tol: dict | None = None  # {dtype: (rtol, atol)}; requires `reason`
    reason: str = ""
    seed: int = 0
    oracle: Callable | None = None  # parity API: a user's float64 reference (logits, target)
    # Inputs are generated class axis last (Keras's layout); torch's softmax family takes the
    # class on dim 1 (CrossEntropyLoss's layouts), so its adapter moves the axis there.
    torch_class_dim: int | None = None
    # A stop-gradient in the loss (ASL's stop_focal_gradient=True, Seesaw's detached scores): the
    # oracle keyword that holds those factors at the unperturbed logits while the central
    # differences run.
    oracle_frozen_logits: str | None = None
    # The parity API: each side computes at its own dtype (a Keras loss class in its dtype
    # policy); the report says which, and the tolerance follows the least precise of the two.
    own_dtype: bool = False
    # The parity API: a float16/bfloat16 output computed natively in that dtype (not in float32
    # and rounded once) is held to a tolerance derived from that dtype's rounding (tolerances.py).
    native_half_tolerance: bool = False
    # The parity API: the reference's own float64 gradient d/dx sum(v * loss), (logits, target,
    # v) -> array (a torch reference differentiates itself); None: central differences.
    oracle_grad: Callable | None = None
    # Class-level reductions: (Keras reduction, torch reduction) of the loss classes, with
    # `sample_weight` (one per sample) and class-only arguments (`normalization`); the oracle is
    # reference.class_loss under each framework's convention. None: the functional form.
    reduction: tuple | None = None
    sample_weight: np.ndarray | None = None
    class_kwargs: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.tol and not self.reason:
            raise ValueError(validation.tolerance_reason_message(self.name))
        if self.torch_class_dim is None and _softmax_family(self.fn):
            object.__setattr__(self, "torch_class_dim", 1)

    def inputs(self) -> tuple[np.ndarray, np.ndarray]:
        logits, target = self.make_inputs(np.random.default_rng(self.seed))
        return np.asarray(logits, np.float64), np.asarray(target)

    def cotangent(self, shape) -> np.ndarray:
        """The fixed weights v of the gradient check d/dx sum(v * loss)."""
        return np.random.default_rng(self.seed + 1).choice(COTANGENT_VALUES, size=shape)


# ---------------------------------------------------------------- input generators (sigmoid)


def _random_logits(shape, scale=3.0):
    def make(rng):
        x = rng.normal(size=shape) * scale
        return x, (rng.random(shape) < 0.3).astype(np.float64)

    return make


def _soft_labels(shape, scale=3.0):
    def make(rng):
        return rng.normal(size=shape) * scale, rng.random(shape)

    return make


def _extreme_logits(shape):
    """|x| up to 100, both right and wrong signs, plus exact zeros."""

    def make(rng):
        x = rng.choice([-100.0, -60.0, -20.0, -1.0, 0.0, 1.0, 20.0, 60.0, 100.0], size=shape)
        return x, (rng.random(shape) < 0.5).astype(np.float64)

    return make


def _probabilities(shape):
    def make(rng):
        return rng.uniform(0.02, 0.98, size=shape), (rng.random(shape) < 0.4).astype(np.float64)

    return make


# ---------------------------------------------------------------- input generators (softmax)


def _class_indices(shape, k, scale=3.0, absent=(), ignore=None, ignore_frac=0.0):
    """Logits (shape + (k,)) and class indices, optionally leaving classes out or ignoring some."""

    def make(rng):
        x = rng.normal(size=shape + (k,)) * scale
        allowed = [c for c in range(k) if c not in absent]
        t = rng.choice(allowed, size=shape)
        if ignore is not None:
            t = np.where(rng.random(shape) < ignore_frac, ignore, t)
        return x, t.astype(np.int64)

    return make


def _class_extreme(shape, k):
    """Saturated softmax rows: entries of +-100, +-50 and 0; targets on both the top class and others."""

    def make(rng):
        x = rng.choice([-100.0, -50.0, 0.0, 50.0, 100.0], size=shape + (k,))
        return x, rng.integers(0, k, size=shape).astype(np.int64)

    return make


def _one_hot(make_indices, k):
    def make(rng):
        x, t = make_indices(rng)
        return x, np.eye(k)[t]

    return make


def _soft_rows(shape, k, scale=3.0):
    def make(rng):
        return rng.normal(size=shape + (k,)) * scale, rng.dirichlet(np.ones(k), size=shape)

    return make


def _probability_rows(shape, k):
    def make(rng):
        p = rng.uniform(0.05, 1.0, size=shape + (k,))
        return p / p.sum(axis=-1, keepdims=True), rng.integers(0, k, size=shape).astype(np.int64)

    return make


W5 = np.array([1.0, 0.0, 2.5, 0.5, 4.0])  # a zero class weight included
PRIORS = np.array([0.6, 0.25, 0.1, 0.04, 0.01])
COUNTS = np.array([5000.0, 1200.0, 300.0, 40.0, 3.0])

CASES: list[Case] = [
    # weighted binary cross-entropy
    Case("wbce/plain", "weighted_binary_crossentropy", _random_logits((8, 5))),
    Case(
        "wbce/per_label_weights",
        "weighted_binary_crossentropy",
        _soft_labels((8, 5)),
        dict(pos_weight=np.array([1.0, 2.0, 5.0, 0.5, 10.0]), neg_weight=0.75),
    ),
    Case(
        "wbce/zero_weights",
        "weighted_binary_crossentropy",
        _random_logits((6, 4)),
        dict(pos_weight=np.array([0.0, 3.0, 1.0, 0.0]), neg_weight=np.array([1.0, 0.0, 2.0, 0.5])),
    ),
    Case("wbce/extreme_logits", "weighted_binary_crossentropy", _extreme_logits((8, 6)), dict(pos_weight=4.0)),
    Case(
        "wbce/label_smoothing",
        "weighted_binary_crossentropy",
        _extreme_logits((6, 5)),
        dict(label_smoothing=0.1, pos_weight=2.0),
    ),
    Case("wbce/probabilities", "weighted_binary_crossentropy", _probabilities((6, 4)), dict(from_logits=False)),
    Case("wbce/binary_1d", "weighted_binary_crossentropy", _random_logits((16,)), dict(pos_weight=9.0)),
    Case("wbce/binary_b1", "weighted_binary_crossentropy", _random_logits((16, 1)), dict(neg_weight=0.1)),
    Case("wbce/dense_pixels", "weighted_binary_crossentropy", _random_logits((2, 4, 4, 3)),
         dict(pos_weight=np.array([1.0, 4.0, 0.5]))),
    # binary focal loss
    Case("bfocal/default", "binary_focal_loss", _random_logits((8, 5))),
    Case("bfocal/gamma_0.5_extreme", "binary_focal_loss", _extreme_logits((8, 6)), dict(alpha=None, gamma=0.5)),
    Case("bfocal/gamma_0", "binary_focal_loss", _random_logits((6, 4)), dict(alpha=0.75, gamma=0.0)),
    Case("bfocal/gamma_5_smoothing", "binary_focal_loss", _extreme_logits((6, 5)), dict(gamma=5.0, label_smoothing=0.2)),
    Case("bfocal/soft_labels", "binary_focal_loss", _soft_labels((6, 4)), dict(alpha=0.4, gamma=1.0)),
    Case("bfocal/probabilities", "binary_focal_loss", _probabilities((6, 4)), dict(from_logits=False)),
    # weighted softmax cross-entropy
    Case("wcce/indices", "weighted_categorical_crossentropy", _class_indices((8,), 5), dict(class_weight=W5), index_target=True),
    Case("wcce/one_hot", "weighted_categorical_crossentropy", _one_hot(_class_indices((8,), 5), 5), dict(class_weight=W5)),
    Case("wcce/smoothing_ignore", "weighted_categorical_crossentropy",
         _class_indices((10,), 5, ignore=-100, ignore_frac=0.3),
         dict(class_weight=W5, label_smoothing=0.1, ignore_index=-100), index_target=True),
    Case("wcce/all_ignored", "weighted_categorical_crossentropy", _class_indices((4,), 5, ignore=7, ignore_frac=1.0),
         dict(ignore_index=7, label_smoothing=0.2), index_target=True),
    Case("wcce/extreme", "weighted_categorical_crossentropy", _class_extreme((8,), 5), dict(label_smoothing=0.05), index_target=True),
    Case("wcce/soft_labels_3d", "weighted_categorical_crossentropy", _soft_rows((3, 4), 5), dict(class_weight=W5, label_smoothing=0.1)),
    Case("wcce/class_absent", "weighted_categorical_crossentropy", _class_indices((8,), 5, absent=(1, 3)),
         dict(class_weight=W5), index_target=True),
    Case("wcce/probabilities", "weighted_categorical_crossentropy", _probability_rows((6,), 4), dict(from_logits=False), index_target=True),
    # dense outputs: (B, H, W, K) segmentation maps (torch takes (B, K, H, W)), ignored pixels and weights
    Case("wcce/segmentation_weights_ignore", "weighted_categorical_crossentropy",
         _class_indices((2, 4, 4), 5, ignore=-100, ignore_frac=0.2), dict(class_weight=W5, ignore_index=-100),
         index_target=True),
    # softmax focal loss
    Case("cfocal/default", "categorical_focal_loss", _class_indices((8,), 5), index_target=True),
    Case("cfocal/alpha_vector_smoothing", "categorical_focal_loss", _one_hot(_class_indices((8,), 5), 5),
         dict(alpha=np.array([0.1, 0.2, 0.3, 0.25, 0.15]), gamma=1.5, label_smoothing=0.1)),
    Case("cfocal/gamma_0.5_extreme", "categorical_focal_loss", _class_extreme((10,), 4), dict(gamma=0.5, alpha=0.25), index_target=True),
    Case("cfocal/gamma_5_ignore", "categorical_focal_loss", _class_indices((8,), 5, ignore=-1, ignore_frac=0.25),
         dict(gamma=5.0, ignore_index=-1), index_target=True),
    Case("cfocal/soft_labels", "categorical_focal_loss", _soft_rows((6,), 4), dict(gamma=2.0)),
    Case("cfocal/tokens_ignore", "categorical_focal_loss", _class_indices((3, 6), 4, ignore=-1, ignore_frac=0.25),
         dict(gamma=2.0, ignore_index=-1), index_target=True),
    Case("cfocal/probabilities", "categorical_focal_loss", _probability_rows((6,), 4), dict(from_logits=False, gamma=1.0), index_target=True),
    # asymmetric loss
    Case("asl/default", "asymmetric_loss", _random_logits((8, 6))),
    Case("asl/no_clip", "asymmetric_loss", _random_logits((8, 5)), dict(gamma_pos=2.0, gamma_neg=2.0, clip=0.0)),
    Case("asl/stop_focal_gradient", "asymmetric_loss", _random_logits((8, 5), scale=2.0), dict(stop_focal_gradient=True),
         oracle_frozen_logits="_focal_logits"),
    Case("asl/extreme_gamma_0.5", "asymmetric_loss", _extreme_logits((8, 6)), dict(gamma_pos=0.5, gamma_neg=0.5, clip=0.1)),
    Case("asl/soft_labels", "asymmetric_loss", _soft_labels((6, 4)), dict(gamma_pos=0.0, gamma_neg=3.0, clip=0.02)),
    # class-balanced loss
    Case("cb/softmax", "class_balanced_loss", _class_indices((8,), 5), dict(samples_per_class=COUNTS, beta=0.999), index_target=True),
    Case("cb/sigmoid", "class_balanced_loss", _class_indices((8,), 5), dict(samples_per_class=COUNTS, beta=0.99, base="sigmoid"),
         index_target=True),
    Case("cb/focal_one_hot", "class_balanced_loss", _one_hot(_class_extreme((8,), 5), 5),
         dict(samples_per_class=COUNTS, beta=0.9999, base="focal", gamma=0.5)),
    Case("cb/beta_0", "class_balanced_loss", _class_indices((6,), 5), dict(samples_per_class=COUNTS, beta=0.0, base="focal"),
         index_target=True),
    # logit-adjusted cross-entropy
    Case("la/default", "logit_adjusted_crossentropy", _class_indices((8,), 5), dict(class_priors=PRIORS), index_target=True),
    Case("la/tau_ignore", "logit_adjusted_crossentropy", _class_indices((8,), 5, ignore=-100, ignore_frac=0.3),
         dict(class_priors=PRIORS, tau=0.5, ignore_index=-100), index_target=True),
    Case("la/extreme_one_hot", "logit_adjusted_crossentropy", _one_hot(_class_extreme((8,), 5), 5),
         dict(class_priors=PRIORS * 7.0, tau=2.0)),
    # Seesaw (counts given to the functional form), Distribution-Balanced
    Case("seesaw/default", "seesaw_loss", _class_indices((8,), 5), dict(cum_samples=COUNTS), index_target=True,
         oracle_frozen_logits="_score_logits"),
    Case("seesaw/extreme_zero_counts", "seesaw_loss", _class_extreme((8,), 5),
         dict(cum_samples=np.array([900.0, 0.0, 40.0, 1.0, 7.0]), p=0.5, q=3.0, eps=0.05), index_target=True,
         oracle_frozen_logits="_score_logits"),
    Case("seesaw/3d_mitigation_only", "seesaw_loss", _class_indices((3, 4), 5), dict(cum_samples=COUNTS, q=0.0),
         index_target=True),
    Case("db/default", "distribution_balanced_loss", _random_logits((8, 5)),
         dict(samples_per_class=np.array([60.0, 25.0, 9.0, 3.0, 1.0]), num_samples=100.0)),
    Case("db/extreme_voc_gamma_0.5", "distribution_balanced_loss", _extreme_logits((8, 5)),
         dict(samples_per_class=np.array([60.0, 25.0, 9.0, 3.0, 1.0]), num_samples=100.0, gamma=0.5,
              map_gamma=0.3, neg_scale=5.0)),
    Case("db/soft_labels", "distribution_balanced_loss", _soft_labels((6, 4)),
         dict(samples_per_class=np.array([500.0, 40.0, 12.0, 2.0]), num_samples=1000.0, gamma=1.0, init_bias=0.1)),
]

CASES += [  # LDAM, balanced softmax, poly
    Case("ldam/default", "ldam_loss", _class_indices((8,), 5), dict(samples_per_class=COUNTS), index_target=True),
    Case("ldam/weights_ignore", "ldam_loss", _class_indices((10,), 5, ignore=-100, ignore_frac=0.3),
         dict(samples_per_class=COUNTS, max_margin=1.0, scale=10.0, class_weight=W5, ignore_index=-100),
         index_target=True),
    # scale 1 at |x| = 100: float32 holds s x - s m to ulp(s |x|) / 2 only (1e-4 at s = 30), an
    # error of the format that no implementation avoids; the default scale runs on random logits
    Case("ldam/extreme_one_hot", "ldam_loss", _one_hot(_class_extreme((8,), 5), 5),
         dict(samples_per_class=COUNTS, scale=1.0, class_weight=W5)),
    Case("bsce/default", "balanced_softmax_crossentropy", _class_indices((8,), 5, ignore=-100, ignore_frac=0.3),
         dict(samples_per_class=COUNTS, ignore_index=-100), index_target=True),
    Case("bsce/extreme_one_hot", "balanced_softmax_crossentropy", _one_hot(_class_extreme((8,), 5), 5),
         dict(samples_per_class=COUNTS)),
    Case("poly/default", "poly_loss", _class_indices((8,), 5), index_target=True),
    Case("poly/soft_labels_3d", "poly_loss", _soft_rows((3, 4), 5), dict(epsilon=2.0)),
    Case("poly/focal_extreme_ignore", "poly_loss", _class_indices((10,), 5, scale=30.0, ignore=-1, ignore_frac=0.2),
         dict(epsilon=-1.0, gamma=2.0, ignore_index=-1), index_target=True),
    Case("poly/focal_gamma_0.5_extreme", "poly_loss", _class_extreme((10,), 4), dict(gamma=0.5, epsilon=1.5),
         index_target=True),
]


# ---------------------------------------------------------------- class-level reductions
# Every loss class under each
# reduction pair of the README's migration table, Keras "none" / "sum" / "sum_over_batch_size"
# against torch "none" / "sum" / "mean", without and with one sample weight per sample (a zero
# weight included). Each framework is compared with reference.class_loss under its own
# convention, so the table's "Keras sum = torch sum / C" (sigmoid family) is checked, not assumed.

REDUCTION_PAIRS = (("none", "none"), ("sum", "sum"), ("sum_over_batch_size", "mean"))
SAMPLE_WEIGHT_6 = np.array([1.0, 0.0, 2.0, 0.5, 1.5, 0.25])  # exact in every dtype
W4 = np.array([1.0, 0.0, 2.5, 0.5])

REDUCTION_LOSSES: tuple[tuple[Any, ...], ...] = (  # (family, functional name, input generator, kwargs, index
    # targets, class-only kwargs)
    ("wbce", "weighted_binary_crossentropy", _random_logits((6, 3)), dict(pos_weight=2.0, neg_weight=np.array([1.0, 0.5, 2.0])), False, {}),
    ("bfocal", "binary_focal_loss", _random_logits((6, 3)), dict(alpha=0.25, gamma=2.0), False, {}),
    ("asl", "asymmetric_loss", _random_logits((6, 3)), {}, False, {}),
    ("wcce", "weighted_categorical_crossentropy", _class_indices((6,), 4, ignore=-100, ignore_frac=0.2),
     dict(class_weight=W4, ignore_index=-100), True, {}),
    ("wcce", "weighted_categorical_crossentropy", _soft_rows((6,), 4), dict(class_weight=W4), False, {}),  # probabilities
    ("cfocal", "categorical_focal_loss", _class_indices((6,), 4), dict(alpha=np.array([0.1, 0.2, 0.4, 0.3])), True,
     dict(normalization="weight")),
    ("cb", "class_balanced_loss", _class_indices((6,), 4), dict(samples_per_class=COUNTS[:4], beta=0.99, base="sigmoid"),
     True, {}),
    ("la", "logit_adjusted_crossentropy", _class_indices((6,), 4, ignore=-100, ignore_frac=0.2),
     dict(class_priors=PRIORS[:4], ignore_index=-100), True, {}),
    ("ldam", "ldam_loss", _class_indices((6,), 4, ignore=-100, ignore_frac=0.2),
     dict(samples_per_class=COUNTS[:4], scale=5.0, class_weight=W4, ignore_index=-100), True, {}),
    ("bsce", "balanced_softmax_crossentropy", _class_indices((6,), 4), dict(samples_per_class=COUNTS[:4]), True, {}),
    ("poly", "poly_loss", _class_indices((6,), 4, ignore=-100, ignore_frac=0.2), dict(gamma=1.0, ignore_index=-100),
     True, {}),
    ("db", "distribution_balanced_loss", _random_logits((6, 3)),
     dict(samples_per_class=np.array([60.0, 25.0, 9.0]), num_samples=100.0), False, {}),
    # stateful losses (SeesawLoss) are left out: the class counts each training call's targets
    # into its state, which a class-level case with a fixed oracle cannot follow (its state has
    # its own tests)
)


def _default_inputs(declaration: loss_specs.LossSpec):
    """Random logits (6, 3) and the family's targets (multi-hot rows, or class indices): six
    samples, one per weight of SAMPLE_WEIGHT_6."""
    if declaration.family == "sigmoid":
        return _random_logits((6, 3)), False
    return _class_indices((6,), 3), True


def _declared_cases() -> list[Case]:
    """A default case for each declared loss that the table above does not list."""
    listed = {case.fn for case in CASES}
    out = []
    for declaration in loss_specs.specs():
        if declaration.name not in listed:
            make, index_target = _default_inputs(declaration)
            out.append(Case(f"{declaration.name}/declared_default", declaration.name, make,
                            declaration.examples("functional"), index_target=index_target))
    return out


def _declared_reduction_losses() -> tuple[tuple[Any, ...], ...]:
    """A default class-level entry for each declared loss without state that REDUCTION_LOSSES
    does not list."""
    listed = {entry[1] for entry in REDUCTION_LOSSES}
    out: list[tuple[Any, ...]] = []
    for declaration in loss_specs.specs():
        if declaration.name not in listed and not declaration.stateful and declaration.functional_args == ():
            make, index_target = _default_inputs(declaration)
            out.append((declaration.name, declaration.name, make, declaration.examples("functional"), index_target, {}))
    return tuple(out)


CASES += _declared_cases()


def _reduction_cases() -> list[Case]:
    out = []
    for family, fn, make, kwargs, index_target, class_kwargs in REDUCTION_LOSSES + _declared_reduction_losses():
        soft = "_soft" if not index_target and fn == "weighted_categorical_crossentropy" else ""
        for keras_reduction, torch_reduction in REDUCTION_PAIRS:
            for sw in (None, SAMPLE_WEIGHT_6):
                name = f"{family}/class{soft}_{torch_reduction}" + ("_weighted" if sw is not None else "")
                out.append(Case(name, fn, make, kwargs, index_target=index_target, own_dtype=True,
                                reduction=(keras_reduction, torch_reduction), sample_weight=sw,
                                class_kwargs=class_kwargs))
    return out


REDUCTION_CASES: list[Case] = _reduction_cases()

# Every case the parity matrix runs: the table above, then the class-level reductions.
ALL_CASES: list[Case] = CASES + REDUCTION_CASES
