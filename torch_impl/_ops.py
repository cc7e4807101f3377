"""Internal tensor helpers for torch_impl; the mirror of tf_impl/_ops.py.

Argument checks and messages come from imbalance_core.validation; this module only adds the
torch-specific parts: dtype promotion, tensor-content checks and the torch reductions. Shared
names do the same job on both sides; torch-only, and why: reduce (the one reduction of every
module; Keras reduces in its own Loss.__call__), class_last (CrossEntropyLoss's class-on-dim-1
layouts), output_dtype (float32 under autocast), checking (content checks skipped while
compiling), device_check (content checks deferred on CUDA: no host sync per call).
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from imbalance_core import _memo, deferred, validation
from imbalance_core.deferred import device_check

# float16/bfloat16 inputs are computed in float32 and returned in the input dtype.
_HALF = (torch.float16, torch.bfloat16)
EPSILON = 1e-7  # Keras's backend.epsilon(): the clip applied to probabilities.


def compute_dtype(x: torch.Tensor) -> torch.dtype:
    return torch.float32 if x.dtype in _HALF else x.dtype


def output_dtype(x: torch.Tensor) -> torch.dtype:
    """The input's dtype; float32 for half inputs under autocast, as torch's own losses return."""
    if x.dtype in _HALF and torch.is_autocast_enabled(x.device.type):
        return torch.float32
    return x.dtype


def checking() -> bool:
    """Whether tensor-content checks run: eagerly, yes; while torch.compile traces, no (a
    data-dependent check would break the graph), so compiled code trusts its inputs. Shape and
    dtype checks are static and always run."""
    return not torch.compiler.is_compiling()


@torch.compiler.assume_constant_result
def _folded(fn: Callable, args: tuple, kwargs: dict) -> tuple:
    """(result, None), or (None, (a TypeError?, message)) for a rejected argument: returned,
    not raised, so that under torch.compile the caller raises the same error as eagerly."""
    try:
        return _plain_scalars(fn(*args, **kwargs)), None
    except (TypeError, ValueError) as error:
        return None, (isinstance(error, TypeError), str(error))


def _plain_scalars(value: Any) -> Any:
    """NumPy scalars and 0-d arrays as Python numbers (tuples walked): Dynamo keeps a Python
    number as a constant, but would trace a 0-d array as a tensor (a data-dependent branch)."""
    if isinstance(value, tuple):
        return tuple(_plain_scalars(v) for v in value)
    if isinstance(value, (np.generic, np.ndarray)) and np.ndim(value) == 0:
        return value.item()
    return value


def static_args(fn: Callable, *args: Any, **kwargs: Any) -> Any:
    """`fn(*args, **kwargs)` for a functional form's argument check / normalisation (the
    hyperparameters, never the tensors). Eagerly a plain call. While torch.compile traces, with
    Python-constant arguments (numbers, bools, strings, None, lists and tuples of them) it runs
    once at trace time and its result is a constant of the graph
    (`torch.compiler.assume_constant_result`), so a NumPy-based check does not break the graph;
    dynamo guards on those constants, so another constant recompiles and is checked again (a
    changing argument of the compiled function turns symbolic on recompiling: then the call
    cannot be folded and breaks the graph).
    NumPy-array arguments (priors, class weights, samples per class) are graph inputs to
    Dynamo, not constants: `fn` then runs in the graph, on their values at every call, as one
    CPU operator (`_array_args`); see there. Tensor arguments are traced as before (a
    data-dependent check breaks the graph). A rejected argument raises the check's error type
    and message."""
    if not torch.compiler.is_compiling():
        return fn(*args, **kwargs)
    slots = [i for i, a in enumerate(args) if isinstance(a, np.ndarray)]
    names = [k for k, v in kwargs.items() if isinstance(v, np.ndarray)]
    if slots or names:
        value = _array_args(fn, args, kwargs, slots, names)
        if value is not None:
            return value
    value, error = _folded(fn, args, kwargs)
    if error is not None:  # the two types the checks raise, each spelt out (a traceable raise)
        type_error, message = error
        if type_error:
            raise TypeError(message)
        raise ValueError(message)
    return value


# NumPy hyperparameters under torch.compile. Dynamo turns a NumPy array into a graph input (it
# is mutable, so never a constant), and a NumPy check of a graph input would break the graph.
# So the check runs as a custom operator instead: `classbalance::array_args` takes the arrays
# (CPU tensors: no device synchronisation), calls `fn` on their values at every call (raising
# its error, message unchanged) and returns fn's array results. fn's other results (floats,
# strings, flags) become constants at trace time, from calls on stand-in arrays of the same
# shapes; they must not depend on the arrays' values, which is verified with two different
# stand-ins (otherwise the call is left to the constant-folding path, which breaks the graph).
_ARRAY_CALLS: list = []  # index: the operator's `key`; (fn, args, kwargs, slots, names, result spec)
_STAND_INS = (1.0, 2.0, 0.5, 0.25)  # counts, weights, probabilities: two of them pass each check
_ARRAY_RESULT = "<an array result of classbalance::array_args>"  # marks fn's array results


def _with_arrays(args: tuple, kwargs: dict, slots, names, arrays) -> tuple:
    new_args, new_kwargs = list(args), dict(kwargs)
    for i, a in zip(list(slots) + list(names), arrays):
        if isinstance(i, int):
            new_args[i] = a
        else:
            new_kwargs[i] = a
    return tuple(new_args), new_kwargs


def _array_results(result: Any) -> tuple:
    """(fn's result with each NumPy-array output replaced by _ARRAY_RESULT, the arrays in order)."""
    items = result if isinstance(result, tuple) else (result,)
    arrays = tuple(r for r in items if isinstance(r, np.ndarray))
    rest = tuple(_ARRAY_RESULT if isinstance(r, np.ndarray) else _plain_scalars(r) for r in items)
    return (rest if isinstance(result, tuple) else rest[0]), arrays


@torch.compiler.assume_constant_result
def _register_array_call(fn: Callable, args: tuple, kwargs: dict, slots: tuple, names: tuple,
                         shapes: tuple) -> tuple | None:
    """At trace time: (operator key, fn's non-array results, whether the result is a tuple), or
    None when no two stand-ins pass `fn` with the same non-array results."""
    outcomes = []
    for value in _STAND_INS:
        stand_ins = [np.full(shape, value) for shape in shapes]
        try:
            outcomes.append(_array_results(fn(*_with_arrays(args, kwargs, slots, names, stand_ins)[0],
                                              **_with_arrays(args, kwargs, slots, names, stand_ins)[1])))
        except (TypeError, ValueError):
            continue
        if len(outcomes) == 2:
            break
    if len(outcomes) < 2 or outcomes[0][0] != outcomes[1][0]:
        return None
    rest, arrays = outcomes[0]
    spec = tuple((a.shape, str(a.dtype)) for a in arrays)
    _ARRAY_CALLS.append((fn, args, kwargs, slots, names, spec))
    return len(_ARRAY_CALLS) - 1, rest


def _array_args_impl(arrays: list[torch.Tensor], key: int) -> list[torch.Tensor]:
    fn, args, kwargs, slots, names, _ = _ARRAY_CALLS[key]
    args, kwargs = _with_arrays(args, kwargs, slots, names, [a.numpy() for a in arrays])
    _, results = _array_results(fn(*args, **kwargs))
    return [torch.from_numpy(np.array(r)) for r in results]  # copies: never an alias of an input


def _array_args_fake(arrays: list[torch.Tensor], key: int) -> list[torch.Tensor]:
    spec = _ARRAY_CALLS[key][5]
    return [torch.empty(shape, dtype=torch.from_numpy(np.zeros(0, dtype)).dtype) for shape, dtype in spec]


# The operators of the `classbalance` namespace are defined at the dispatcher's level, a schema
# and one kernel for every device: `torch.library.custom_op` wraps each call in Python autograd
# and dispatch layers (the cast: 13.7 us per call through them, 5.8 us without). Their inputs are
# constants (no gradient). torch.library.register_fake: torch >= 2.4; before it, NumPy
# hyperparameters break the graph.
_LIB = torch.library.Library("classbalance", "DEF") if hasattr(torch.library, "register_fake") else None


def _define_op(name: str, schema: str, impl: Callable, fake: Callable) -> Any:
    if _LIB is None:
        return None
    _LIB.define(name + schema)
    _LIB.impl(name, impl, "CompositeExplicitAutograd")
    torch.library.register_fake(f"classbalance::{name}", fake, lib=_LIB)
    return getattr(torch.ops.classbalance, name).default


_ARRAY_OP = _define_op("array_args", "(Tensor[] arrays, int key) -> Tensor[]", _array_args_impl, _array_args_fake)


def _array_args(fn: Callable, args: tuple, kwargs: dict, slots: list, names: list) -> Any:
    """`static_args` with NumPy arrays among the arguments, while compiling (see above)."""
    if _ARRAY_OP is None:
        return None
    arrays = [args[i] for i in slots] + [kwargs[k] for k in names]
    constant_args, constant_kwargs = _with_arrays(args, kwargs, slots, names, [None] * len(arrays))
    shapes = tuple(tuple(a.shape) for a in arrays)
    registered = _register_array_call(fn, constant_args, constant_kwargs, tuple(slots), tuple(names), shapes)
    if registered is None:
        return None
    key, rest = registered
    results = iter(_ARRAY_OP([torch.as_tensor(a) for a in arrays], key))
    if not isinstance(rest, tuple):
        return next(results) if rest == _ARRAY_RESULT else rest
    return tuple(next(results) if isinstance(r, str) and r == _ARRAY_RESULT else r for r in rest)


def as_dtype(t: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """`t.to(dtype)`, skipped when `t` already has it (an eager `.to` call costs microseconds
    even when it changes nothing; the losses make several per call)."""
    return t if t.dtype == dtype else t.to(dtype)


def check_logits(name: str, x: Any) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        x = torch.as_tensor(np.asarray(x))
    if not x.dtype.is_floating_point:  # a dtype attribute, not its text: static under compile
        raise TypeError(validation.float_dtype_message(name, str(x.dtype).replace("torch.", "")))
    return x


# Device copies of the NumPy / Python weights that functional forms are given, keyed by their
# contents, so that a training loop calling `fn(x, y, class_weight=np_array)` uploads the
# weights once per device and dtype instead of once per call (an upload is a host sync on CUDA).
_DEVICE_COPIES: collections.OrderedDict[tuple, torch.Tensor] = collections.OrderedDict()
_DEVICE_COPIES_LIMIT = 64


def as_tensor_like(value: Any, like: torch.Tensor, dtype: torch.dtype | None = None, *,
                   cached: bool = True, own_kernel: bool = False) -> torch.Tensor | None:
    """Puts a weight/prior (NumPy, sequence or tensor) on `like`'s device in `dtype`. A checked
    functional argument's tensor is made once (`imbalance_core._memo.framework_copy`); other
    host values off the CPU come from a cache of device copies (see _DEVICE_COPIES) unless
    `cached=False` (per-batch values such as sample weights). `own_kernel=True`: under
    torch.compile a tensor of another dtype is cast by an operator of its own (see _cast_impl),
    for a vector added to every logit of a softmax."""
    if value is None:
        return None
    dtype = dtype or like.dtype
    if isinstance(value, torch.Tensor):
        if own_kernel and value.dtype != dtype and torch.compiler.is_compiling() and _CAST_OP is not None:
            return _CAST_OP(value.detach(), dtype, like.device)  # a module's float64 buffer, see _cast_impl
        return value.to(device=like.device, dtype=dtype)
    if not cached:  # per-batch values: nothing to reuse
        return torch.as_tensor(np.asarray(value), dtype=dtype, device=like.device)
    if not torch.compiler.is_compiling() and _memo.owned(value):  # a checked functional argument
        return _memo.framework_copy(value, ("torch", dtype, str(like.device)),
                                    lambda: _constant_tensor(value, dtype, like.device))
    if like.device.type == "cpu":  # no upload to save
        return torch.as_tensor(np.asarray(value), dtype=dtype)
    arr = np.ascontiguousarray(value)
    key = (arr.tobytes(), arr.shape, arr.dtype.str, str(like.device), dtype)
    copy = _DEVICE_COPIES.get(key)
    if copy is None:
        copy = torch.as_tensor(arr, dtype=dtype, device=like.device)
        _DEVICE_COPIES[key] = copy
        if len(_DEVICE_COPIES) > _DEVICE_COPIES_LIMIT:
            _DEVICE_COPIES.popitem(last=False)
    else:
        _DEVICE_COPIES.move_to_end(key)
    return copy


def log_prior_shift(priors: Any, tau: float, like: torch.Tensor) -> torch.Tensor:
    """tau log(priors), the logit adjustment, in `like`'s dtype on its device, computed in
    float64 (NumPy priors in NumPy; tensor priors, a compiled graph's input, by torch ops)."""
    if isinstance(priors, torch.Tensor):
        return (tau * torch.log(priors.to(device=like.device, dtype=torch.float64))).to(like.dtype)
    out = as_tensor_like(tau * np.log(np.asarray(priors, dtype=np.float64)), like)
    assert out is not None  # an array in, a tensor out
    return out


# A float64 buffer (or array argument) cast to the logits' dtype while compiling. Written as
# `.to(dtype)`, Inductor fuses the cast into every kernel that reads the vector; for a shift
# added to the logits before a softmax, the float64 load in the loop over the logits turns its
# vectorised CPU code into a far slower form (a logit-adjusted cross-entropy module compiled
# took 2.3x the anchor, 1.0x with a float32 buffer). As an operator of its own, the cast is one
# small kernel whose result the big kernels read; the operator's call (about 6 us, a Python
# kernel) costs more than the fused cast of the sigmoid family's weights, which keep `.to`.
def _cast_impl(value: torch.Tensor, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    return value.to(device=device, dtype=dtype, copy=True)


def _cast_fake(value: torch.Tensor, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    return torch.empty(value.shape, dtype=dtype, device=device)


_CAST_OP = _define_op("cast", "(Tensor value, ScalarType dtype, Device device) -> Tensor", _cast_impl, _cast_fake)


def _constant_tensor(value: np.ndarray, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """A tensor of its own (not sharing `value`'s memory) that can be reused by later calls:
    made outside inference mode, so that a copy first made in an evaluation loop can still be
    saved for backward in training."""
    with torch.inference_mode(False):
        return torch.tensor(value, dtype=dtype, device=device)


def check_same_shape(target_name: str, target: torch.Tensor, input_name: str, x: torch.Tensor) -> None:
    validation.check_same_shape(target_name, tuple(target.shape), input_name, tuple(x.shape))



def flush_checks() -> None:
    """Waits for the deferred checks in flight (torch_impl's, and tf_impl's on Keras's torch
    backend: one queue) and raises the first failure (a host sync)."""
    deferred.flush_checks()


def check_in_range(name: str, t: torch.Tensor, low: float, high: float, what: str = "values") -> None:
    """Tensor-content check on the device (see device_check); skipped by the caller when
    validate_args=False, and while compiling."""
    if t.numel() == 0 or not checking():
        return
    lo, hi = torch.aminmax(t.detach().float())
    bad: torch.Tensor | bool
    if t.device.type == "cpu" and t.device.type not in deferred.DEFERRED_DEVICES:  # read on the host: no mask ops
        bad = not (lo.item() >= low and hi.item() <= high)  # written so that NaN fails too
    else:
        bad = ~((lo >= low) & (hi <= high))
    device_check(bad, lambda: validation.check_values_in_range(name, t, low, high, what),
                 validation.range_message(name, low, high, what))


def probabilities_to_logits(p: torch.Tensor) -> torch.Tensor:
    """from_logits=False, sigmoid family: clip to [eps, 1-eps], then log p - log(1-p)."""
    p = p.clamp(EPSILON, 1.0 - EPSILON)
    return torch.log(p) - torch.log1p(-p)


def _world_size() -> int:
    """Processes in the default torch.distributed group (1 when it is not initialised)."""
    dist = torch.distributed
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def _sample_weight_like(sample_weight: Any, loss: torch.Tensor, per_sample_ndim: int) -> torch.Tensor:
    """`sample_weight` as a scalar or one weight per sample (shape loss.shape[:per_sample_ndim],
    or that with a trailing 1, Keras's (B, 1)), broadcastable against `loss`."""
    sw = as_tensor_like(sample_weight, loss, cached=False)
    assert sw is not None  # called with a sample weight
    per_sample = tuple(loss.shape[:per_sample_ndim])
    if sw.ndim == len(per_sample) + 1 and sw.shape[-1] == 1:
        sw = sw.squeeze(-1)
    if sw.ndim > 0 and tuple(sw.shape) != per_sample:
        raise ValueError(validation.sample_weight_shape_message(tuple(sw.shape), per_sample))
    return sw.reshape(sw.shape + (1,) * (loss.ndim - sw.ndim))


def reduce(loss: torch.Tensor, reduction: str, sample_weight: Any | None = None, *,
           per_sample_ndim: int | None = None, denominator: torch.Tensor | None = None) -> torch.Tensor:
    """The one reduction of every torch_impl loss module.

    `sample_weight` multiplies the per-sample losses (the first `per_sample_ndim` axes; default
    all of them). "none" returns the weighted losses, "sum" their sum. "mean" divides the sum by
    the number of elements (as torch's own losses do; with sample weights too, as Keras does),
    or, for the softmax family's normalized means, by `denominator` (the number of non-ignored
    samples or their summed class weights; 0 when it is 0, where torch gives NaN).

    Under torch.distributed (world size > 1, grad enabled: training under DDP or FSDP) the
    denominator is summed across ranks and the mean multiplied by the world size, so that
    DDP's averaging of the gradients gives exactly the one-process gradient on the union of
    the ranks' batches (the average of the ranks' values is the one-process value).
    """
    if sample_weight is not None:
        per_sample = loss.ndim if per_sample_ndim is None else per_sample_ndim
        loss = loss * _sample_weight_like(sample_weight, loss, per_sample)
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "sum":
        return total
    if denominator is None:
        return total / loss.numel() if loss.numel() else total
    denominator = denominator.detach().to(total.dtype)
    world = _world_size() if torch.is_grad_enabled() else 1
    if world > 1:
        denominator = denominator.clone()
        torch.distributed.all_reduce(denominator)
        total = total * world
    positive = denominator > 0
    return torch.where(positive, total / torch.where(positive, denominator, torch.ones_like(denominator)),
                       torch.zeros_like(total))


# -------------------------------------------------------------------- softmax-family helpers


def log_softmax_from(x: torch.Tensor, from_logits: bool) -> torch.Tensor:
    """log p over the last axis: log_softmax of logits, or (from_logits=False) the log of the
    rows divided by their sum and clipped to [eps, 1 - eps] (Keras's convention)."""
    if from_logits:
        return torch.log_softmax(x, dim=-1)
    p = x / x.sum(dim=-1, keepdim=True)
    return torch.log(p.clamp(EPSILON, 1.0 - EPSILON))


def log1m_softmax(logp: torch.Tensor) -> torch.Tensor:
    """log(1 - p_c) for every class, stable and with finite gradients when p_c -> 1.

    The row's top class gets log(sum of the others) - logsumexp (a masked logsumexp, no
    cancellation); every other class has p_c <= 1/2, where log1p(-p_c) is well conditioned.
    Both branches see safe inputs, so the unselected one never sends inf/NaN to the gradient.
    """
    top = torch.nn.functional.one_hot(logp.argmax(dim=-1), logp.shape[-1]).to(torch.bool)
    others = torch.logsumexp(logp.masked_fill(top, float("-inf")), dim=-1, keepdim=True)
    p_safe = torch.exp(logp).masked_fill(top, 0.0)
    return torch.where(top, others, torch.log1p(-p_safe))


def focal_factor(base, log_base, gamma: float) -> torch.Tensor | None:
    """base^gamma for the focal factors, given callables for base and log(base).

    gamma >= 1: the direct power (cheap; its derivative gamma base^(gamma-1) is finite even
    at base = 0). 0 < gamma < 1: exp(gamma log base), where log base is computed stably, so
    the infinite derivative 0^(gamma-1) of the power never reaches the gradient.
    """
    if gamma == 0:
        return None
    if gamma >= 1:
        return integer_power(base(), gamma)
    return torch.exp(gamma * log_base())


def integer_power(b: torch.Tensor, gamma: float) -> torch.Tensor:
    """b^gamma, by repeated squaring for whole gamma up to 8 (a multiply is far cheaper than a
    general power, which computes exp(gamma log b)); the general power otherwise."""
    if gamma != int(gamma) or gamma > 8:
        return b**gamma
    result, square, n = None, b, int(gamma)
    while n:
        if n & 1:
            result = square if result is None else result * square
        n >>= 1
        if n:
            square = square * square
    assert result is not None  # n >= 1
    return result


def sigmoid_terms(x: torch.Tensor, *, need_sigmoids: bool
                  ) -> tuple[torch.Tensor, torch.Tensor, tuple[torch.Tensor, torch.Tensor] | None]:
    """(-log sigma(x), -log sigma(-x), (sigma(-x), sigma(x)) or None), each accurate to its
    last bits at any |x| (no 1 - p cancellation), from one exp: with r = relu(x), e =
    exp(x - 2r) = exp(-|x|), softplus(x) = r + log1p(e), softplus(-x) = (r - x) + log1p(e),
    sigma(|x|) = 1 / (1 + e), sigma(-|x|) = e / (1 + e). For compiled graphs, where the
    element-wise ops fuse and the transcendental functions set the cost. At x = 0 every term
    takes the x < 0 branch, relu's derivative there (0) included, so each gradient is the
    derivative (abs would give e a zero slope at 0, and selects on x cost a second pass)."""
    r = torch.relu(x)
    e = torch.exp(x - 2.0 * r)
    log1p_e = torch.log1p(e)
    sigmoids = None
    if need_sigmoids:
        large = 1.0 / (1.0 + e)
        small = e * large
        positive = x > 0
        sigmoids = (torch.where(positive, small, large), torch.where(positive, large, small))
    return (r - x) + log1p_e, r + log1p_e, sigmoids


def class_last(x: torch.Tensor, target: torch.Tensor):
    """CrossEntropyLoss's layouts, (C), (N, C) and (N, C, d1, ..., dk) with the class on dim 1,
    as (..., C) with the class last, the layout the softmax cores compute in (a view, no copy);
    probability targets (the input's shape) move alike, index targets (N, d1, ..., dk) stay."""
    if x.ndim <= 2:
        return x, target
    if tuple(target.shape) == tuple(x.shape):
        target = target.movedim(1, -1)
    return x.movedim(1, -1), target


def _target_kind(target: torch.Tensor, logits: torch.Tensor, target_name: str, input_name: str) -> str:
    """"probabilities" (the logits' shape) or "indices" (logits.shape[:-1]); else a shape error."""
    if tuple(target.shape) == tuple(logits.shape):
        return "probabilities"
    if tuple(target.shape) == tuple(logits.shape[:-1]):
        return "indices"
    raise ValueError(validation.softmax_target_shape_message(target_name, tuple(target.shape), input_name,
                                                             tuple(logits.shape)))


def _class_indices(target: torch.Tensor, num_classes: int, ignore_index, validate_args: bool, target_name: str, *,
                   need_keep: bool = True):
    """int64 indices, the keep mask and the indices made safe (ignored -> 0) for gathering; with
    no ignore_index the mask is all true (None when not `need_keep`) and the indices are safe."""
    validate_args = validate_args and checking()
    if target.dtype.is_floating_point:
        if validate_args:
            device_check(torch.any(target != torch.round(target)),
                         lambda: validation.check_whole_numbers(target_name, target),
                         validation.whole_number_message(target_name, "non-integral values"))
        target = target.to(torch.int64)
    if validate_args:
        deferred_check = target.device.type in deferred.DEFERRED_DEVICES
        any_bad: torch.Tensor | bool
        if ignore_index is None and not deferred_check and target.numel():
            lo, hi = torch.aminmax(target)  # one pass over the indices, not three
            if target.device.type == "cpu":  # read on the host: no mask ops
                any_bad = lo.item() < 0 or hi.item() >= num_classes
            else:
                any_bad = (lo < 0) | (hi >= num_classes)
        else:
            bad = (target < 0) | (target >= num_classes)
            if ignore_index is not None:
                bad &= target != ignore_index
            any_bad = bad.any()

        def describe(t=target, i=ignore_index) -> None:
            validation.check_class_indices(target_name, t, num_classes, i)

        device_check(any_bad, describe, validation.index_message(target_name, num_classes, ignore_index))
        if deferred_check:
            # the failure is reported at a later call: until then an invalid index must not
            # reach a gather (a device-side assert on CUDA), so it reads as class 0
            target = torch.where(bad, torch.zeros_like(target), target)
    target = as_dtype(target, torch.int64)
    if ignore_index is None:
        return target, torch.ones_like(target, dtype=torch.bool) if need_keep else None, target
    keep = target != ignore_index
    return target, keep, torch.where(keep, target, torch.zeros_like(target))


def softmax_targets(target: torch.Tensor, logits: torch.Tensor, *, ignore_index: int | None,
                    label_smoothing: float, class_weight: torch.Tensor | None, validate_args: bool,
                    target_name: str = "target", input_name: str = "input"):
    """Normalises softmax-family targets to (q, valid, sample_norm_weight).

    Targets are class indices (shape logits.shape[:-1], ignore_index allowed) or one-hot /
    probability rows (the logits' shape). q: the smoothed target distribution q(1-e) + e/K,
    zero on ignored samples; valid: 1 for samples that count; sample_norm_weight: the
    per-sample weight used by normalization="weight" (w_{t_n}, or sum_c w_c q_nc before
    smoothing), 0 on ignored samples.
    """
    num_classes = logits.shape[-1]
    dtype = logits.dtype
    if _target_kind(target, logits, target_name, input_name) == "probabilities":
        if validate_args:
            check_in_range(target_name, target, 0.0, 1.0, "probability targets")
        q = target.to(dtype)
        valid = torch.ones(q.shape[:-1], dtype=dtype, device=q.device)
    else:
        _, keep, safe = _class_indices(target, num_classes, ignore_index, validate_args, target_name)
        valid = keep.to(dtype)
        q = torch.nn.functional.one_hot(safe, num_classes).to(dtype) * valid.unsqueeze(-1)
    norm = (q if class_weight is None else q * class_weight).sum(dim=-1)
    if label_smoothing:
        q = (q * (1.0 - label_smoothing) + label_smoothing / num_classes) * valid.unsqueeze(-1)
    return q, valid, norm


def take_classes(vector: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
    """`vector[indices]` for a per-class vector (a 0-d value is the same for every class), by
    `index_select` (advanced indexing costs four times as much: 24 against 6 us for 10,000)."""
    if vector.ndim == 0:
        return vector.expand(indices.shape)
    return vector.index_select(0, indices.reshape(-1)).reshape(indices.shape)


def take_target_class(values: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
    """values[..., indices] along the class axis (last): one value per sample."""
    return values.gather(-1, indices.unsqueeze(-1)).squeeze(-1)


def target_log_probs(target: torch.Tensor, logp: torch.Tensor, *, ignore_index: int | None, validate_args: bool,
                     target_name: str = "target", input_name: str = "input"
                     ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor] | None:
    """For class-index targets: (log p_t, valid or None when every sample counts, the safe
    indices); None for probability rows (the logits' shape)."""
    if _target_kind(target, logp, target_name, input_name) == "probabilities":
        return None
    _, keep, safe = _class_indices(target, logp.shape[-1], ignore_index, validate_args, target_name, need_keep=False)
    return take_target_class(logp, safe), None if keep is None else keep.to(logp.dtype), safe


def cross_entropy(logits: torch.Tensor, target: torch.Tensor, *, ignore_index: int | None,
                  label_smoothing: float, class_weight: torch.Tensor | None, validate_args: bool,
                  target_name: str = "target", input_name: str = "input"):
    """The plain weighted softmax cross-entropy through torch's fused `F.cross_entropy` (the
    same formula, smoothing included), with the (valid, sample_norm_weight) of softmax_targets;
    with class indices and no ignore_index, valid is None (every sample counts) and so is the
    norm weight without class weights (the count)."""
    num_classes = logits.shape[-1]
    dtype = logits.dtype
    channels_first = (lambda t: t.movedim(-1, 1)) if logits.ndim > 2 else (lambda t: t)  # noqa: E731
    if _target_kind(target, logits, target_name, input_name) == "probabilities":
        # unsmoothed q here: the kernel applies the smoothing itself
        q, valid, norm = softmax_targets(target, logits, ignore_index=ignore_index, label_smoothing=0.0,
                                         class_weight=class_weight, validate_args=validate_args,
                                         target_name=target_name, input_name=input_name)
        loss = torch.nn.functional.cross_entropy(channels_first(logits), channels_first(q), weight=class_weight,
                                                 label_smoothing=label_smoothing, reduction="none")
        return loss, valid, norm
    t, keep, safe = _class_indices(target, num_classes, ignore_index, validate_args, target_name, need_keep=False)
    loss = torch.nn.functional.cross_entropy(
        channels_first(logits), t, weight=class_weight, label_smoothing=label_smoothing, reduction="none",
        ignore_index=-100 if ignore_index is None else ignore_index,
    )
    if keep is None:  # every sample counts: no mask to build (the functional forms discard it)
        return loss, None, None if class_weight is None else take_classes(class_weight, safe)
    valid = keep.to(dtype)
    norm = valid if class_weight is None else take_classes(class_weight, safe) * valid
    return loss, valid, norm
