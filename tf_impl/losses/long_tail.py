"""Long-tail losses, Keras 3 (softmax family): LDAM with deferred re-weighting
(`DeferredReweighting`, a callback), balanced softmax cross-entropy and the Seesaw loss, whose
class counts are state. Each is declared in `imbalance_core.loss_specs`; here are its core, its
functional form and its class. The mirror of torch_impl/losses/long_tail.py.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

from imbalance_core import loss_specs, validation

from .. import _ops
from . import _base
from .softmax import _logit_adjusted_crossentropy, _softmax_inputs, _softmax_loss

__all__ = [
    "ldam_loss", "LDAMLoss", "DeferredReweighting",
    "balanced_softmax_crossentropy", "BalancedSoftmaxCrossentropy",
    "seesaw_loss", "SeesawLoss",
]

LDAM_LOSS = loss_specs.spec("ldam_loss")
BALANCED_SOFTMAX_CROSSENTROPY = loss_specs.spec("balanced_softmax_crossentropy")
SEESAW_LOSS = loss_specs.spec("seesaw_loss")


def _ldam_loss(target: Any, x: Any, *, margins: Any, class_weight: Any, scale: float, ignore_index: int | None,
               validate_args: bool) -> _base.LossAndNorms:
    """Per-sample LDAM loss with the normalisers (valid, per-sample norm weight)."""
    x, xc, target = _softmax_inputs(x, target, from_logits=True, validate_args=validate_args)
    validation.check_vector_length("samples_per_class", margins, x.shape[-1])
    validation.check_vector_length("class_weight", class_weight, x.shape[-1])
    # ops.cast, not convert_to_tensor: the class passes its float64/float32 variable
    w = None if class_weight is None else ops.cast(class_weight, _ops.dtype_of(xc))
    q, valid, norm = _ops.softmax_targets(target, xc, ignore_index=ignore_index, label_smoothing=0.0,
                                          class_weight=w, validate_args=validate_args)
    # the margin comes off the target logit only (q is its one-hot row), then every logit is scaled
    z = scale * (xc - _ops.as_tensor_like(margins, xc) * q)
    loss, _, _ = _softmax_loss(q, z, class_weight=w, alpha=None, gamma=0.0, label_smoothing=0.0, ignore_index=None,
                               from_logits=True, validate_args=False)
    return ops.cast(loss, _ops.dtype_of(x)), valid, norm


def ldam_loss(y_true: Any, y_pred: Any, *, samples_per_class: Any, max_margin: float = 0.5, scale: float = 30.0,
              class_weight: Any | None = None, ignore_index: int | None = None, validate_args: bool = True) -> Any:
    """Per-sample label-distribution-aware margin loss (Cao et al. 2019, "Learning Imbalanced
    Datasets with Label-Distribution-Aware Margin Loss").

    m_c = C / n_c^(1/4), C such that max_c m_c = max_margin; z = scale (x - m q), the margin
    subtracted from the target logit only (q: the one-hot row; probability rows subtract m_c q_c);
    l_n = -sum_c w_c q_nc log softmax(z_n)_c, the weighted softmax cross-entropy of z.

    Args:
        y_true: class indices (...) or one-hot / probability rows (..., K).
        y_pred: logits (..., K).
        samples_per_class: n_c, K positive counts.
        max_margin: the rarest class's margin, >= 0 (0 gives scaled cross-entropy).
        scale: s > 0, the logit scale of the anchor.
        class_weight: w, a length-K non-negative vector (default 1), e.g. the deferred
            re-weighting weights.
        ignore_index: a class-index value whose samples give 0.

    Anchor: `LDAMLoss(cls_num_list, max_m, weight, s)` in kaidic/LDAM-DRW (losses.py), whose
    value is the mean of this with normalization="weight" (torch's weighted mean).

    Examples:
        >>> import keras
        >>> import numpy as np
        >>> # equal logits: the loss is softplus(scale * m_t), the rare class's margin (max_margin) the largest
        >>> out = ldam_loss(np.array([0, 1]), np.zeros((2, 2)), samples_per_class=[100, 1], scale=1.0)
        >>> print(keras.ops.convert_to_numpy(out).round(4))
        [0.7753 0.9741]
    """
    return _base.functional(LDAM_LOSS, _ldam_loss, y_true, y_pred, validate_args, samples_per_class=samples_per_class,
                            max_margin=max_margin, scale=scale, class_weight=class_weight, ignore_index=ignore_index)


def _state_dtype() -> str:
    """float64 for a loss's state variable wherever the backend holds it (jax: with x64 only)."""
    if keras.backend.backend() == "jax":
        import jax

        if not jax.config.read("jax_enable_x64"):  # the typed accessor of the flag
            return "float32"
    return "float64"


@keras.saving.register_keras_serializable("classbalance")
class LDAMLoss(_base.DeclaredLoss):
    """LDAM loss as a `keras.losses.Loss`; see `ldam_loss`.

    `class_weight` lives in a non-trainable `keras.Variable` (float64; float32 on jax without
    x64): `DeferredReweighting` switches it during `model.fit` without recompiling the model,
    and `get_config` (so a saved model) holds its current value. normalization="weight"
    (default): "sum_over_batch_size" divides by sum_n w_{t_n}, as the anchor (torch's weighted
    mean); "count": by the number of non-ignored samples.

    Examples:
        >>> import numpy as np
        >>> loss = LDAMLoss([100, 1], scale=1.0, class_weight=[0.5, 1.5])  # e.g. deferred re-weighting's
        >>> round(float(loss(np.array([0, 1]), np.zeros((2, 2)))), 4)  # (0.5 l_0 + 1.5 l_1) / (0.5 + 1.5)
        0.9244
    """

    spec = LDAM_LOSS
    mutable_class_weight = True  # DeferredReweighting may switch it
    core = staticmethod(_ldam_loss)

    def __init__(self, samples_per_class: Any, *, max_margin: float = 0.5, scale: float = 30.0,
                 class_weight: Any | None = None, ignore_index: int | None = None,
                 normalization: str = "weight", validate_args: bool = True,
                 reduction: str | None = "sum_over_batch_size", name: str = "ldam_loss", dtype: Any = None) -> None:
        super().__init__(reduction=reduction, name=name, dtype=dtype, validate_args=validate_args,
                         samples_per_class=samples_per_class, max_margin=max_margin, scale=scale,
                         class_weight=class_weight, ignore_index=ignore_index, normalization=normalization)
        # A variable, not a constant: a compiled train step reads its current value, so it can
        # be assigned between epochs. autocast=False: it stays in its own dtype under mixed precision.
        self.class_weight = keras.Variable(self.core_arguments["class_weight"], dtype=_state_dtype(), trainable=False,
                                           autocast=False, name="class_weight")
        self.core_arguments["class_weight"] = self.class_weight

    def get_config(self) -> dict:
        config = super().get_config()
        config["class_weight"] = np.asarray(ops.convert_to_numpy(self.class_weight), np.float64).tolist()
        return config


class DeferredReweighting(keras.callbacks.Callback):
    """Deferred re-weighting (DRW, Cao et al. 2019): from epoch `epoch` on, the loss's class
    weights are `class_weight`; before it, the ones the loss held when the callback was made.

    The switch is a function of the epoch number, as in LDAM-DRW's cifar_train.py (DRW: uniform
    weights, then effective-number weights with beta 0.9999 normalised to sum to K from epoch
    160 of 200), so resuming with `initial_epoch` picks the right weights. The loss's weights
    live in a variable (`LDAMLoss`): the compiled train step keeps running on tensorflow and
    torch; on jax, where a jitted step holds every variable outside the model's state as a
    constant, the callback rebuilds the train and test steps once at each switch.

    Args:
        loss: the compiled loss whose class weights switch (`LDAMLoss`).
        epoch: the first epoch (0-based) with the deferred weights, >= 0.
        class_weight: the deferred weights, K non-negative values, e.g.
            `compute_class_weight(counts=n, method="effective_number", beta=0.9999)`.

    Examples:
        >>> import keras
        >>> loss = LDAMLoss([100, 10, 1])
        >>> drw = DeferredReweighting(loss, epoch=2, class_weight=[0.2, 0.8, 2.0])
        >>> drw.on_epoch_begin(2)
        >>> print(keras.ops.convert_to_numpy(loss.class_weight))
        [0.2 0.8 2. ]
    """

    def __init__(self, loss: Any, *, epoch: int, class_weight: Any) -> None:
        super().__init__()
        if not getattr(type(loss), "mutable_class_weight", False):
            raise ValueError(validation.mutable_class_weight_message(loss))
        self.loss = loss
        self.epoch = validation.check_integer("epoch", epoch, low=0)
        self.class_weight = validation.check_weight_vector("class_weight", class_weight,
                                                           length=loss.class_weight.shape[0],
                                                  allow_scalar=False)
        self.initial_class_weight = np.asarray(ops.convert_to_numpy(loss.class_weight), np.float64)
        self._deferred: bool | None = None  # which weights the loss holds: unknown until the first epoch

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        deferred = epoch >= self.epoch
        if deferred == self._deferred:
            return
        self._deferred = deferred
        self.loss.class_weight.assign(self.class_weight if deferred else self.initial_class_weight)
        if keras.backend.backend() == "jax" and self.model is not None:
            # the jitted steps baked the old value in as a constant: trace them again, once per switch
            self.model.make_train_function(force=True)
            self.model.make_test_function(force=True)


def _balanced_softmax_crossentropy(target: Any, x: Any, *, logit_shift: Any, ignore_index: int | None,
                                   validate_args: bool) -> _base.LossAndNorms:
    # log n_c and log(n_c / n) differ by a constant per row: logit adjustment with tau 1
    return _logit_adjusted_crossentropy(target, x, logit_shift=logit_shift, ignore_index=ignore_index,
                                        validate_args=validate_args, vector_name="samples_per_class")


def balanced_softmax_crossentropy(y_true: Any, y_pred: Any, *, samples_per_class: Any, ignore_index: int | None = None,
                                  validate_args: bool = True) -> Any:
    """Per-sample balanced softmax cross-entropy (Ren et al. 2020, "Balanced Meta-Softmax for
    Long-Tailed Visual Recognition").

    l_n = CE(x_n + log n_c, t_n) = CE(x_n + log(n_c / n), t_n): `logit_adjusted_crossentropy`
    with priors n_c / n and tau 1.

    Args:
        y_true: class indices (...) or one-hot / probability rows (..., K).
        y_pred: logits (..., K).
        samples_per_class: n_c, K positive counts.
        ignore_index: a class-index value whose samples give 0.

    Anchor: `balanced_softmax_loss` in jiawei-ren/BalancedMetaSoftmax-Classification
    (loss/BalancedSoftmaxLoss.py).

    Examples:
        >>> import keras
        >>> import numpy as np
        >>> from tf_impl.losses import logit_adjusted_crossentropy
        >>> y_true, logits = np.array([0, 1]), np.array([[0.5, 0.0], [0.5, 0.0]])
        >>> balanced = balanced_softmax_crossentropy(y_true, logits, samples_per_class=[90, 10])
        >>> adjusted = logit_adjusted_crossentropy(y_true, logits, class_priors=[0.9, 0.1])
        >>> print(keras.ops.convert_to_numpy(balanced).round(4), np.allclose(balanced, adjusted))
        [0.0652 2.7624] True
    """
    return _base.functional(BALANCED_SOFTMAX_CROSSENTROPY, _balanced_softmax_crossentropy, y_true, y_pred,
                            validate_args, samples_per_class=samples_per_class, ignore_index=ignore_index)


@keras.saving.register_keras_serializable("classbalance")
class BalancedSoftmaxCrossentropy(_base.DeclaredLoss):
    """Balanced softmax cross-entropy as a `keras.losses.Loss`; see
    `balanced_softmax_crossentropy`. "sum_over_batch_size" divides by the number of non-ignored
    samples.

    Examples:
        >>> import numpy as np
        >>> from tf_impl.class_weights import class_counts
        >>> loss = BalancedSoftmaxCrossentropy(class_counts([0] * 9 + [1]))  # the training labels' counts
        >>> round(float(loss(np.array([0, 1]), np.zeros((2, 2)))), 4)  # the mean of -log 0.9 and -log 0.1
        1.204
    """

    spec = BALANCED_SOFTMAX_CROSSENTROPY
    core = staticmethod(_balanced_softmax_crossentropy)

    def __init__(self, samples_per_class: Any, *, ignore_index: int | None = None, validate_args: bool = True,
                 reduction: str | None = "sum_over_batch_size", name: str = "balanced_softmax_crossentropy",
                 dtype: Any = None) -> None:
        super().__init__(reduction=reduction, name=name, dtype=dtype, validate_args=validate_args,
                         samples_per_class=samples_per_class, ignore_index=ignore_index)


def _seesaw_inputs(target: Any, x: Any, validate_args: bool) -> tuple[Any, Any, Any, Any]:
    """(original logits, logits in the compute dtype, one-hot rows, valid) for the Seesaw loss:
    class indices only (the paper's labels), probability rows are an error."""
    x, xc, target = _softmax_inputs(x, target, True, validate_args)
    kind, _ = _ops._target_kind(target, xc, "y_true", "y_pred")
    if kind == "probabilities":
        raise ValueError(validation.index_targets_only_message("SeesawLoss", "y_true", target.shape, x.shape))
    onehot, valid, _ = _ops.softmax_targets(target, xc, ignore_index=None, label_smoothing=0.0, class_weight=None,
                                            validate_args=validate_args)
    return x, xc, onehot, valid


def _seesaw_core(xc: Any, onehot: Any, counts: Any, p: float, q: float, eps: float) -> Any:
    """Per-sample -log softmax(x + (1 - y) log S)_t, log S_j = p min(0, log N_j - log N_t)
    + q max(0, log s_j - max(log s_t, log eps)), in log space (class axis last, one-hot rows)."""
    zero = ops.zeros_like(xc)
    log_s = zero
    if p:  # mitigation: log (N_j / N_t)^p where N_j < N_t; counts below 1 count as 1 (mmdetection)
        counts = ops.cast(counts, _ops.dtype_of(xc))
        log_n = ops.log(ops.where(counts > 1.0, counts, ops.ones_like(counts)))
        ratio = log_n - ops.sum(onehot * log_n, axis=-1, keepdims=True)
        log_s = log_s + p * ops.where(ratio < 0.0, ratio, zero)  # where, not ops.minimum: exact float64 on torch
    if q:  # compensation: log (s_j / max(s_t, eps))^q where s_j > s_t; the scores are constants (detached)
        log_score = ops.stop_gradient(ops.log_softmax(xc, axis=-1))
        log_t = ops.sum(onehot * log_score, axis=-1, keepdims=True)
        log_floor = float(np.log(eps))
        ratio = log_score - ops.where(log_t > log_floor, log_t, ops.full_like(log_t, log_floor))
        log_s = log_s + ops.stop_gradient(q * ops.where(ratio > 0.0, ratio, zero))
    adjusted = xc + (1.0 - onehot) * log_s
    return -ops.sum(onehot * ops.log_softmax(adjusted, axis=-1), axis=-1)


def _seesaw_loss(target: Any, x: Any, *, cum_samples: Any, p: float, q: float, eps: float,
                 validate_args: bool) -> _base.LossAndNorms:
    x, xc, onehot, valid = _seesaw_inputs(target, x, validate_args)
    validation.check_vector_length("cum_samples", cum_samples, x.shape[-1])
    counts = ops.convert_to_tensor(cum_samples, dtype=_ops.dtype_of(xc)) if isinstance(cum_samples, np.ndarray) \
        else cum_samples
    return ops.cast(_seesaw_core(xc, onehot, counts, p, q, eps), _ops.dtype_of(x)), valid, valid


def seesaw_loss(y_true: Any, y_pred: Any, *, cum_samples: Any, p: float = 0.8, q: float = 2.0, eps: float = 1e-2,
                validate_args: bool = True) -> Any:
    """Per-sample Seesaw loss (Wang et al. 2021, "Seesaw Loss for Long-Tailed Instance
    Segmentation"), given the cumulative class counts.

    l_n = -log softmax(z_n)_t, z_nj = x_nj + log S_nj for j != t (z_nt = x_nt), t = y_n;
    S_nj = M_nj C_nj with the mitigation factor M_nj = (N_j / N_t)^p if N_j < N_t else 1
    (N: `cum_samples`, clamped below at 1) and the compensation factor
    C_nj = (s_nj / max(s_nt, eps))^q if s_nj > s_nt else 1, s = softmax(x) treated as a
    constant (no gradient through it). p=0 and q=0 give cross-entropy.

    Args:
        y_true: class indices (...) or (..., 1); probability rows are an error.
        y_pred: logits (..., K).
        cum_samples: N, K non-negative cumulative counts (NumPy, sequence or tensor); the
            `SeesawLoss` class keeps them as state and adds each batch first.
        p: mitigation exponent >= 0; q: compensation exponent >= 0; eps: > 0.

    Anchor: mmdetection `seesaw_ce_loss` (mmdet/models/losses/seesaw_loss.py), the classes
    branch of its `SeesawLoss` without the objectness branch.

    Examples:
        >>> import keras
        >>> import numpy as np
        >>> # class 0's sample barely pushes down the logit of the rarer class 1; class 1's sample: cross-entropy
        >>> out = seesaw_loss(np.array([0, 1]), np.zeros((2, 2)), cum_samples=[1000.0, 10.0])
        >>> print(keras.ops.convert_to_numpy(out).round(4))
        [0.0248 0.6931]
    """
    return _base.functional(SEESAW_LOSS, _seesaw_loss, y_true, y_pred, validate_args, cum_samples=cum_samples, p=p, q=q,
                            eps=eps)


def _assign_for_good(variable: Any, value: Any) -> None:
    """variable.assign(value); on the jax backend also inside a keras.StatelessScope with
    concrete values (`fit` with run_eagerly=True, `stateless_call`), where `assign` only records
    the update for the scope's owner to read back, and Keras's jax trainer reads back the
    model's and the metrics' variables only, not a loss's. (Elsewhere a stateless scope with
    concrete values is shape inference, as Keras's torch backend builds a model: nothing to
    count.)"""
    try:
        from keras.src.backend.common.stateless_scope import in_stateless_scope
    except ImportError:  # a Keras without it has no stateless scope to step out of
        in_stateless_scope = lambda: False  # noqa: E731
    if keras.backend.backend() == "jax" and in_stateless_scope():
        variable._direct_assign(ops.convert_to_tensor(value, dtype=variable.dtype))
    else:
        variable.assign(value)


@keras.saving.register_keras_serializable("classbalance")
class SeesawLoss(_base.DeclaredLoss):
    """Seesaw loss as a `keras.losses.Loss`, with the cumulative class counts as state; see
    `seesaw_loss` for the formula. Each call first adds the batch's class counts to
    `cum_samples` (a non-trainable float32 `keras.Variable` of K counts, exact up to 2^24 per
    class), then computes the loss with the updated counts, as mmdetection's `SeesawLoss`.

    - Every call counts (Keras gives a loss no training flag): `model.evaluate` and eager calls
      count too; mmdetection counts only in training forwards.
    - tf.distribute: the batch counts are summed across replicas (a replica-context all-reduce)
      before they are added, so that every replica holds the global counts; MirroredStrategy
      equals one device.
    - Saved and restored with the model (`model.save` / `keras.models.load_model`) through
      `save_own_variables` / `load_own_variables`.
    - jax backend: inside a trace (`model.fit` / `evaluate`, `jax.jit`) the counts go through
      an ordered host callback at every step (Keras's jax trainer carries the model's and the
      metrics' variables as the step's state, not a loss's): one round trip of K floats
      between device and host per step. `fit(run_eagerly=True)` and eager calls count too.

    "sum_over_batch_size" divides by the number of samples.

    Examples:
        >>> import keras
        >>> import numpy as np
        >>> loss = SeesawLoss(2)
        >>> _ = loss(np.array([0, 0, 1]), np.zeros((3, 2)))
        >>> print(keras.ops.convert_to_numpy(loss.cum_samples))  # the counts the next call starts from
        [2. 1.]
    """

    spec = SEESAW_LOSS
    core = staticmethod(_seesaw_loss)

    def __init__(self, num_classes: int, *, p: float = 0.8, q: float = 2.0, eps: float = 1e-2,
                 validate_args: bool = True, reduction: str | None = "sum_over_batch_size",
                 name: str = "seesaw_loss", dtype: Any = None) -> None:
        super().__init__(reduction=reduction, name=name, dtype=dtype, validate_args=validate_args,
                         num_classes=num_classes, p=p, q=q, eps=eps)
        # "only_first_replica": every replica assigns the same all-reduced counts
        self.cum_samples = keras.Variable(np.zeros(self.num_classes, "float32"), dtype="float32", trainable=False,
                                          aggregation="only_first_replica", name="cum_samples")

    def core_call(self, y_true: Any, y_pred: Any) -> Any:
        """Adds the batch's class counts to `cum_samples`, then the loss with the new counts."""
        x, xc, onehot, valid = _seesaw_inputs(y_true, y_pred, self.validate_args)
        validation.check_vector_length("cum_samples", self.cum_samples, x.shape[-1])
        batch = ops.sum(ops.reshape(ops.cast(onehot, "float32"), (-1, self.num_classes)), axis=0)
        _, batch = _ops.replicas_and_sum(batch)  # the global batch's counts on every replica
        if _ops._jax_tracer(batch):
            counts = self._jax_accumulate(batch)
        else:
            counts = ops.convert_to_tensor(self.cum_samples) + batch
            _assign_for_good(self.cum_samples, counts)
        loss = _seesaw_core(xc, onehot, counts, self.p, self.q, self.eps)
        return ops.cast(loss, _ops.dtype_of(x)), valid, valid

    def _jax_accumulate(self, batch: Any) -> Any:
        """Keras on jax, inside a trace (model.fit / evaluate, jax.jit): the counts plus this
        batch's, stored for good by an ordered host callback (jax.experimental.io_callback) that
        runs at every execution of the traced step, in step order, and returns the new counts
        to the trace. A jitted step takes every variable outside the model's state as a
        constant, and Keras's jax trainer carries only the model's trainable, non-trainable,
        optimizer and metric variables as state (a loss is none of them), so the counts cannot
        travel through the step's state: they go through the host, one round trip of K floats
        per step."""
        import jax
        from jax.experimental import io_callback

        variable = self.cum_samples

        def add(batch_counts: Any) -> np.ndarray:
            counts = np.asarray(variable.numpy(), np.float32) + np.asarray(batch_counts, np.float32)
            _assign_for_good(variable, counts)
            return counts

        return io_callback(add, jax.ShapeDtypeStruct((self.num_classes,), np.float32), batch, ordered=True)

    def save_own_variables(self, store: Any) -> None:
        store["cum_samples"] = ops.convert_to_numpy(self.cum_samples)

    def load_own_variables(self, store: Any) -> None:
        self.cum_samples.assign(np.asarray(store["cum_samples"], "float32"))
