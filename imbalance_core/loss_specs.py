"""The losses, each declared once: name, family, arguments (default, check), summary and float64
reference.

Everything else is derived from these declarations: the argument checks of the Keras classes,
the torch modules and both functional forms (`LossSpec.check`, run once per construction or
call), their `get_config` (`LossSpec.config`), the torch modules' buffers, the parity cases, the
conformance rows, the differential test and the documentation tables. A loss declared here
(with `register`, from any module) and given its two twins in `tf_impl.losses.<module>` and
`torch_impl.losses.<module>` is picked up by all of them; see CONTRIBUTING.md, "Adding a loss".
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from . import _memo, loss_args, loss_reference, validation

__all__ = ["Arg", "LossSpec", "register", "spec", "specs", "by_class_name", "functional_arguments"]

REQUIRED = inspect.Parameter.empty  # the default of an argument that has none
FAMILIES = ("sigmoid", "softmax")
FORMS = ("functional", "class")


@dataclasses.dataclass(frozen=True)
class Arg:
    """One argument of a loss: its default, the check that returns it in canonical form, and
    (for a required argument) an example value for three classes, used by the generated tests."""

    name: str
    check: Callable[[str, Any], Any] | None  # (name, value) -> canonical value; None: checked by `derive`
    default: Any = REQUIRED
    doc: str = ""
    example: Any = None

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


@dataclasses.dataclass(frozen=True)
class LossSpec:
    """A loss's declaration.

    `args` are taken by both forms, `class_args` by the class only (`normalization`, Seesaw's
    `num_classes`), `functional_args` by the functional form only (Seesaw's `cum_samples`).
    `derive(checked) -> dict` turns the checked arguments into the keyword arguments of the
    framework's core function (constants computed once, joint checks); by default they are
    the checked arguments without the class-only ones. `buffers` names the core arguments a
    torch module registers as float64 buffers (they follow `.to(device)` and the state_dict)."""

    name: str  # the functional form, also the reference's name
    class_name: str
    family: str  # "sigmoid": targets of the logits' shape; "softmax": class indices or rows
    module: str  # the file of tf_impl/losses and torch_impl/losses that holds its twins
    summary: str
    reference: Callable
    args: tuple[Arg, ...]
    class_args: tuple[Arg, ...] = ()
    functional_args: tuple[Arg, ...] = ()
    derive: Callable[[dict], dict] | None = None
    buffers: tuple[str, ...] = ()
    paper: str = ""
    anchor: str = ""  # the existing implementations it equals, as the tests check it (Markdown)
    index_targets_only: bool = False  # softmax family: class indices only, no probability rows
    stateful: bool = False  # every training call updates the loss's state (Seesaw's counts)

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(validation.unknown_family_message(self.name, self.family, FAMILIES))

    def arguments(self, form: str) -> tuple[Arg, ...]:
        extra = self.class_args if form == "class" else self.functional_args
        return self.args + extra

    def defaults(self, form: str) -> dict:
        return {a.name: a.default for a in self.arguments(form)}

    def examples(self, form: str = "class") -> dict:
        """Valid values of the required arguments, for three classes."""
        return {a.name: a.example for a in self.arguments(form) if a.required}

    def check(self, form: str, **kwargs: Any) -> dict:
        """The arguments of `form` checked, each once, in declaration order, in canonical form."""
        checked = {}
        for a in self.arguments(form):
            value = kwargs.pop(a.name, a.default)
            if value is REQUIRED:
                raise TypeError(validation.missing_argument_message(self.name, a.name))
            checked[a.name] = value if a.check is None else a.check(a.name, value)
        if kwargs:
            raise TypeError(validation.unexpected_arguments_message(self.name, list(kwargs)))
        return checked

    def core_arguments(self, checked: Mapping[str, Any]) -> dict:
        """The core function's keyword arguments from the checked ones."""
        if self.derive is not None:
            return self.derive(dict(checked))
        class_only = {a.name for a in self.class_args}
        return {k: v for k, v in checked.items() if k not in class_only}

    def functional(self, **kwargs: Any) -> tuple:
        """A functional form's arguments checked and derived, flat: (name, value, name, value,
        ...). A flat tuple, so that torch's `static_args` folds it into a graph constant.

        An accepted set is remembered by its contents (`imbalance_core._memo.checked`): a
        training loop's repeated call costs a key and a lookup, not the NumPy checks."""
        return _memo.checked(self.name, kwargs, lambda: self._functional(kwargs))

    def _functional(self, kwargs: dict) -> tuple:
        core = self.core_arguments(self.check("functional", **kwargs))
        return tuple(item for pair in core.items() for item in pair)

    @staticmethod
    def unflatten(flat: tuple) -> dict:
        return dict(zip(flat[::2], flat[1::2]))

    def config(self, checked: Mapping[str, Any]) -> dict:
        """The checked arguments in JSON-friendly form (floats, lists, None), for get_config."""
        return {k: _to_config(v) for k, v in checked.items()}


def _to_config(value: Any) -> Any:
    if isinstance(value, (np.ndarray, np.generic)):
        value = np.asarray(value, dtype=np.float64) if value.dtype.kind in "fiu" else np.asarray(value)
        return value.item() if value.ndim == 0 else value.tolist()
    return value


SPECS: dict[str, LossSpec] = {}


def register(declaration: LossSpec) -> LossSpec:
    """Adds a declaration (by its functional name; a second one with the name replaces it)."""
    SPECS[declaration.name] = declaration
    return declaration


def spec(name: str) -> LossSpec:
    """The declaration of the loss whose functional form is `name`.

    Examples:
        >>> declaration = spec("binary_focal_loss")
        >>> declaration.class_name, declaration.family, declaration.module
        ('BinaryFocalLoss', 'sigmoid', 'sigmoid')
        >>> declaration.check("functional", gamma=1.0)
        {'alpha': 0.25, 'gamma': 1.0, 'label_smoothing': 0.0, 'from_logits': True}
        >>> declaration.check("functional", gamma=-1.0)
        Traceback (most recent call last):
        ...
        ValueError: Invalid `gamma`: received -1; expected a finite number >= 0.
    """
    return SPECS[name]


def specs(family: str | None = None) -> list[LossSpec]:
    """Every declaration (of one family), in declaration order.

    Examples:
        >>> [d.class_name for d in specs("sigmoid")][:2]
        ['WeightedBinaryCrossentropy', 'BinaryFocalLoss']
    """
    return [s for s in SPECS.values() if family is None or s.family == family]


def functional_arguments(name: str, **kwargs: Any) -> tuple:
    """`spec(name).functional(**kwargs)`: a plain function of constants, which torch.compile
    can fold (a bound method it cannot)."""
    return SPECS[name].functional(**kwargs)


def by_class_name(class_name: str) -> LossSpec:
    """The declaration of the loss class `class_name`.

    Examples:
        >>> by_class_name("LDAMLoss").name
        'ldam_loss'
    """
    return next(s for s in SPECS.values() if s.class_name == class_name)


# ---- the shared arguments

def _label_smoothing() -> Arg:
    return Arg("label_smoothing", loss_args.unit_interval, 0.0, "e in [0, 1]")


def _from_logits() -> Arg:
    return Arg("from_logits", loss_args.flag, True, "False takes probabilities (Keras's clipping)")


def _ignore_index() -> Arg:
    return Arg("ignore_index", loss_args.ignore_index, None, "a class-index value whose samples give 0")


def _normalization(default: str) -> Arg:
    return Arg("normalization", loss_args.normalization, default, '"weight" or "count": the mean\'s denominator')


def _samples_per_class(check: Callable[[str, Any], Any]) -> Arg:
    """The long-tail losses' training counts, every class with at least one sample."""
    return Arg("samples_per_class", check, doc="n_c, K positive counts", example=[200.0, 30.0, 26.0])


# ---- sigmoid family

register(LossSpec(
    "weighted_binary_crossentropy", "WeightedBinaryCrossentropy", "sigmoid", "sigmoid",
    "-[w+ y log sigma(x) + w- (1-y) log sigma(-x)]", loss_reference.weighted_binary_crossentropy,
    args=(Arg("pos_weight", loss_args.weight_vector, None, "w+, a scalar or a length-C vector"),
          Arg("neg_weight", loss_args.weight_vector, None, "w-, a scalar or a length-C vector"),
          _label_smoothing(), _from_logits()),
    derive=lambda c: dict(c, neg_weight_positive=c["neg_weight"] is None or bool(np.all(c["neg_weight"] > 0))),
    buffers=("pos_weight", "neg_weight"),
    anchor=("torch `BCEWithLogitsLoss(weight=w, pos_weight=p)` as `pos_weight=w*p, neg_weight=w`; "
            "`tf.nn.weighted_cross_entropy_with_logits`; Keras `BinaryCrossentropy(from_logits, label_smoothing)`"),
))
register(LossSpec(
    "binary_focal_loss", "BinaryFocalLoss", "sigmoid", "sigmoid",
    "a_t (1 - p_t)^gamma BCE", loss_reference.binary_focal_loss,
    args=(Arg("alpha", loss_args.alpha_scalar, 0.25, "class balance in [0, 1], or None"),
          Arg("gamma", loss_args.gamma, 2.0, "focusing parameter >= 0"),
          _label_smoothing(), _from_logits()),
    paper="Lin et al. 2017",
    anchor=("`torchvision.ops.sigmoid_focal_loss`; Keras `BinaryFocalCrossentropy(apply_class_balancing=True)` on"
            " its tensorflow backend"),
))
register(LossSpec(
    "asymmetric_loss", "AsymmetricLoss", "sigmoid", "sigmoid",
    "-[y (1-p)^g+ log p + (1-y) p_m^g- log(1-p_m)], p_m = max(p - clip, 0)", loss_reference.asymmetric_loss,
    args=(Arg("gamma_pos", loss_args.gamma, 1.0, "focusing parameter of the positives, >= 0"),
          Arg("gamma_neg", loss_args.gamma, 4.0, "focusing parameter of the negatives, >= 0"),
          Arg("clip", loss_args.probability_margin, 0.05, "probability margin in [0, 1)"),
          Arg("stop_focal_gradient", loss_args.flag, False, "the focal factors as constants"),
          _from_logits()),
    paper="Ridnik et al. 2021",
    anchor="the ASL reference `AsymmetricLoss` (a sum), value and, with `stop_focal_gradient=True`, gradient",
))


def _distribution_balanced(checked: dict) -> dict:
    constants = loss_args.distribution_balanced_constants(checked["samples_per_class"], checked["num_samples"],
                                                          checked["init_bias"], checked["neg_scale"])
    core = {k: v for k, v in checked.items() if k not in ("samples_per_class", "num_samples", "init_bias")}
    return dict(constants._asdict(), **core)


register(LossSpec(
    "distribution_balanced_loss", "DistributionBalancedLoss", "sigmoid", "sigmoid",
    "re-balanced weights and negative-tolerant regularisation, multi-label",
    loss_reference.distribution_balanced_loss,
    args=(Arg("samples_per_class", loss_args.label_counts, doc="n_c, positives per label, 0 < n_c < N",
              example=[30.0, 12.0, 5.0]),
          Arg("num_samples", loss_args.positive, doc="N, the number of training samples", example=100.0),
          Arg("gamma", loss_args.gamma, 2.0, "focal exponent >= 0"),
          Arg("balance_param", loss_args.non_negative, 2.0, "the loss's scale"),
          Arg("map_alpha", loss_args.non_negative, 0.1, "weight mapping: alpha"),
          Arg("map_beta", loss_args.non_negative, 10.0, "weight mapping: beta"),
          Arg("map_gamma", loss_args.number, 0.2, "weight mapping: gamma"),
          Arg("neg_scale", loss_args.positive, 2.0, "negative-tolerant regularisation: lambda"),
          Arg("init_bias", loss_args.number, 0.05, "negative-tolerant regularisation: kappa")),
    derive=_distribution_balanced, buffers=("freq_inv", "logit_bias"), paper="Wu et al. 2020",
    anchor=('wutong16/DistributionBalancedLoss `ResampleLoss(use_sigmoid=True, reweight_func="rebalance")`, value'
            ' and gradient, COCO and VOC configurations and with focal off'),
))

# ---- softmax family

register(LossSpec(
    "weighted_categorical_crossentropy", "WeightedCategoricalCrossentropy", "softmax", "softmax",
    "-sum_c w_c q_c log p_c (torch's CrossEntropyLoss)", loss_reference.weighted_categorical_crossentropy,
    args=(Arg("class_weight", loss_args.class_weight_vector, None, "w, a length-C non-negative vector"),
          _label_smoothing(), _ignore_index(), _from_logits()),
    class_args=(_normalization("weight"),),
    buffers=("class_weight",),
    anchor=("torch `CrossEntropyLoss(weight, label_smoothing, ignore_index)`, every reduction; Keras "
            "`CategoricalCrossentropy`"),
))
register(LossSpec(
    "categorical_focal_loss", "CategoricalFocalLoss", "softmax", "softmax",
    "-sum_c alpha_c (1 - p_c)^gamma q_c log p_c", loss_reference.categorical_focal_loss,
    args=(Arg("alpha", loss_args.alpha_vector, None, "None, a scalar or a vector of values in [0, 1]"),
          Arg("gamma", loss_args.gamma, 2.0, "focusing parameter >= 0"),
          _label_smoothing(), _ignore_index(), _from_logits()),
    class_args=(_normalization("count"),),
    buffers=("alpha",), paper="Lin et al. 2017",
    anchor="Keras `CategoricalFocalCrossentropy` (scalar and per-class alpha, smoothing)",
))


def _class_balanced(checked: dict) -> dict:
    return dict(class_weight=loss_args.class_balanced_weights(checked["samples_per_class"], checked["beta"]),
                base=checked["base"], gamma=checked["gamma"])


register(LossSpec(
    "class_balanced_loss", "ClassBalancedLoss", "softmax", "softmax",
    "effective-number class weights on a softmax, sigmoid or focal base", loss_reference.class_balanced_loss,
    args=(_samples_per_class(loss_args.weighted_counts),
          Arg("beta", loss_args.probability_margin, 0.9999, "in [0, 1)"),
          Arg("base", loss_args.cb_base, "softmax", '"softmax", "sigmoid" or "focal"'),
          Arg("gamma", loss_args.gamma, 2.0, 'focal parameter >= 0 for base="focal"')),
    derive=_class_balanced, buffers=("class_weight",), paper="Cui et al. 2019",
    anchor=("Cui et al.'s reference `CB_loss`: focal, equal; sigmoid, equal per sample, but `CB_loss` averages "
            "over the N x K elements and this loss over the N samples, so our mean = K x `CB_loss`"),
))
register(LossSpec(
    "logit_adjusted_crossentropy", "LogitAdjustedCrossentropy", "softmax", "softmax",
    "CE(x + tau log pi, t)", loss_reference.logit_adjusted_crossentropy,
    args=(Arg("class_priors", loss_args.priors, doc="pi, K positive priors (normalised)", example=[0.6, 0.25, 0.15]),
          Arg("tau", loss_args.non_negative, 1.0, "tau >= 0 (0 gives CE)"),
          _ignore_index()),
    derive=lambda c: dict(logit_shift=c["tau"] * np.log(c["class_priors"]), ignore_index=c["ignore_index"]),
    buffers=("logit_shift",), paper="Menon et al. 2021",
    anchor="cross-entropy on shifted logits; google-research `logit_adjustment` (priors >= 1e-6)",
))
register(LossSpec(
    "poly_loss", "PolyLoss", "softmax", "softmax",
    "CE + epsilon (1 - p_t), or focal + epsilon (1 - p_t)^(gamma + 1)", loss_reference.poly_loss,
    args=(Arg("epsilon", loss_args.poly_epsilon, 1.0, "the first polynomial coefficient, >= -1"),
          Arg("gamma", loss_args.gamma, 0.0, "focusing parameter >= 0"),
          _ignore_index()),
    paper="Leng et al. 2022",
    anchor="optax `poly_loss_cross_entropy`",
))

# ---- long tail: LDAM (with deferred re-weighting), balanced softmax, Seesaw (stateful)


def _ldam(checked: dict) -> dict:
    constants = loss_args.ldam_constants(checked["samples_per_class"], checked["max_margin"], checked["class_weight"])
    return dict(constants._asdict(), scale=checked["scale"], ignore_index=checked["ignore_index"])


register(LossSpec(
    "ldam_loss", "LDAMLoss", "softmax", "long_tail",
    "weighted CE of scale (x - m_c q), m_c ~ n_c^(-1/4)", loss_reference.ldam_loss,
    args=(_samples_per_class(loss_args.counts),
          Arg("max_margin", loss_args.non_negative, 0.5, "the rarest class's margin, >= 0"),
          Arg("scale", loss_args.positive, 30.0, "the logit scale s > 0"),
          Arg("class_weight", None, None, "w, a length-K non-negative vector (default 1)"),
          _ignore_index()),
    class_args=(_normalization("weight"),),
    derive=_ldam, buffers=("margins", "class_weight"), paper="Cao et al. 2019",
    anchor=('kaidic/LDAM-DRW `LDAMLoss(cls_num_list, max_m, weight, s)` (its mean = `normalization="weight"`), '
            'value and gradient'),
))
register(LossSpec(
    "balanced_softmax_crossentropy", "BalancedSoftmaxCrossentropy", "softmax", "long_tail",
    "CE(x + log n_c, t)", loss_reference.balanced_softmax_crossentropy,
    args=(_samples_per_class(loss_args.counts),
          _ignore_index()),
    derive=lambda c: dict(logit_shift=np.log(c["samples_per_class"] / c["samples_per_class"].sum()),
                          ignore_index=c["ignore_index"]),
    buffers=("logit_shift",), paper="Ren et al. 2020",
    anchor="jiawei-ren/BalancedMetaSoftmax `balanced_softmax_loss`, every reduction; logit adjustment with tau 1",
))
register(LossSpec(
    "seesaw_loss", "SeesawLoss", "softmax", "long_tail",
    "CE(x + (1 - y) log(M C), t) with mitigation M and compensation C", loss_reference.seesaw_loss,
    args=(Arg("p", loss_args.non_negative, 0.8, "mitigation exponent >= 0"),
          Arg("q", loss_args.non_negative, 2.0, "compensation exponent >= 0"),
          Arg("eps", loss_args.positive, 1e-2, "the compensation's floor, > 0")),
    class_args=(Arg("num_classes", loss_args.num_classes, doc="K, the classes counted", example=3),),
    functional_args=(Arg("cum_samples", loss_args.cum_samples, doc="N, K cumulative class counts",
                         example=[100.0, 10.0, 1.0]),),
    paper="Wang et al. 2021", index_targets_only=True, stateful=True,
    anchor=("mmdetection `seesaw_ce_loss`, value and gradient, and its `SeesawLoss` counting over a stream of "
            "batches (without the objectness branch)"),
))
