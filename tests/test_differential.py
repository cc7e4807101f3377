"""Differential test of the losses: the same seeded random inputs, valid and invalid, go to
tf_impl and torch_impl; both must give the same outcome, equal values or the same error type
and message (argument names translated: Keras's y_true/y_pred are torch's target/input).

Inputs are drawn where both frameworks' conventions agree (class axis last: 1-D and 2-D
logits, which torch's CrossEntropyLoss layouts share with Keras). The differences that the
conventions dictate are asserted on their own at the end, so they stay documented and
deliberate (docs/conventions.md, "Errors").
"""

import os

import numpy as np
import pytest

from imbalance_core import loss_specs

pytestmark = pytest.mark.keras

NAMES = tuple(d.name for d in loss_specs.specs())  # every declared loss
# Keras's torch backend computes softplus as torch does, linear above 20 (its `threshold`): an
# absolute error up to exp(-20) = 2e-9 there, which float64 shows
FLOAT64_TOL = 1e-8 if os.environ.get("KERAS_BACKEND") == "torch" else 1e-10
# jax's eager ops compile for every new shape: a shorter stream there keeps the jax pass short
TRIALS = 96 if os.environ.get("KERAS_BACKEND") == "jax" else 240


def _kwargs(rng, name, k):
    """Hyperparameters: each drawn from its valid options, or (1 time in 12) an invalid one."""
    def pick(valid, bad=()):
        options = bad if bad and rng.random() < 1 / 12 else valid
        return options[rng.integers(len(options))]

    vec = lambda n, low=0.1: np.round(rng.uniform(low, 3.0, size=n), 3)  # noqa: E731
    if name == "weighted_binary_crossentropy":
        return dict(pos_weight=pick((None, 2.0, vec(k)), (vec(k + 1), -1.0)), neg_weight=pick((None, 0.5, vec(k))),
                    label_smoothing=pick((0.0, 0.1), (1.5,)), from_logits=pick((True, True, False)))
    if name == "binary_focal_loss":
        return dict(alpha=pick((0.25, None, 0.9), (1.2,)), gamma=pick((2.0, 0.0, 0.5), (-1.0,)),
                    label_smoothing=pick((0.0, 0.2)))
    if name == "asymmetric_loss":
        return dict(gamma_pos=pick((1.0, 0.0)), gamma_neg=pick((4.0, 2.0), (-2.0,)), clip=pick((0.05, 0.0), (1.0,)),
                    stop_focal_gradient=pick((False, True)))
    if name == "weighted_categorical_crossentropy":
        return dict(class_weight=pick((None, vec(k)), (vec(k - 1), -vec(k))), label_smoothing=pick((0.0, 0.1), (-0.1,)),
                    ignore_index=pick((None, -1, -100)), from_logits=pick((True, True, False)))
    if name == "categorical_focal_loss":
        return dict(alpha=pick((None, 0.25, np.round(rng.uniform(0, 1, size=k), 3)), (2.0,)),
                    gamma=pick((2.0, 0.5, 0.0)), ignore_index=pick((None, -1)))
    if name == "class_balanced_loss":
        return dict(samples_per_class=pick((vec(k, 1.0) * 100,), (vec(k + 2, 1.0) * 100, np.zeros(k))),
                    beta=pick((0.999, 0.0), (1.0,)), base=pick(("softmax", "sigmoid", "focal"), ("hinge",)))
    if name == "logit_adjusted_crossentropy":
        return dict(class_priors=pick((vec(k),), (vec(k - 1), np.zeros(k))), tau=pick((1.0, 0.0), (-1.0,)),
                    ignore_index=pick((None, -1)))
    if name in _LONG_TAIL_KWARGS:
        return _LONG_TAIL_KWARGS[name](rng, k, pick)
    return _declared_kwargs(name, k)


def _declared_kwargs(name, k):
    """The declaration's example values of the required arguments, vectors resized to k."""
    examples = loss_specs.spec(name).examples("functional")
    return {key: np.resize(np.asarray(v, np.float64), k) if isinstance(v, list) else v for key, v in examples.items()}


def _inputs(rng, name, k):
    """(logits, target) in NumPy: mostly valid, sometimes the wrong shape, dtype or values."""
    b = int(rng.integers(1, 7))
    shape = (b, k) if rng.random() < 0.85 else (k,)
    x = rng.normal(size=shape) * rng.choice([1.0, 5.0, 60.0])
    if rng.random() < 0.05:
        x = x.astype(np.int32)  # non-float logits: a TypeError in both
    elif rng.random() < 0.3:
        x = x.astype(np.float32)
    if loss_specs.spec(name).family == "sigmoid":
        y = (rng.random(shape) < 0.3).astype(np.float64)
        roll = rng.random()
        if roll < 0.1:
            y = y * 2.0  # targets outside [0, 1]
        elif roll < 0.2:
            y = y[..., :-1] if y.ndim and y.shape[-1] > 1 else y.reshape(-1, 1)  # a shape mismatch
        return x, y
    roll = rng.random()
    t = rng.integers(0, k, size=shape[:-1])
    if roll < 0.1:
        t = t + k  # an index out of range
    elif roll < 0.15:
        t = np.where(rng.random(t.shape) < 0.5, -1, t)  # ignore_index -1 (valid only when it is set)
    elif roll < 0.25:
        q = rng.dirichlet(np.ones(k), size=shape[:-1]) if shape[:-1] else rng.dirichlet(np.ones(k))
        return x, q  # probability rows
    elif roll < 0.3:
        return x, rng.integers(0, k, size=shape[:-1] + (k + 1,)).astype(np.float64)  # a shape mismatch
    elif roll < 0.35:
        return x, t.astype(np.float64) + 0.5  # non-integral float indices
    return x, t


def _call(framework, name, x, y, kw):
    """('value', NumPy) or ('error', type name, message with torch's argument names)."""
    try:
        if framework == "torch":
            import torch

            from torch_impl import losses

            out = getattr(losses, name)(torch.as_tensor(x), torch.as_tensor(y), **kw)
            return ("value", out.detach().double().numpy(), str(out.dtype).replace("torch.", ""))
        import keras

        from tf_impl import losses

        out = getattr(losses, name)(y, x, **kw)
        # (jax without x64 computes float64 inputs in float32: the tolerance follows the dtype)
        return ("value", np.asarray(keras.ops.convert_to_numpy(out), np.float64), keras.backend.standardize_dtype(out.dtype))
    except (ValueError, TypeError) as exc:
        message = str(exc).replace("`y_true`", "`target`").replace("`y_pred`", "`input`")
        return ("error", type(exc).__name__, message)


def _same_outcome(trial, name, x, y, kw) -> str:
    """Calls both packages and asserts the same outcome; returns its kind ("value" or "error")."""
    got_torch, got_keras = _call("torch", name, x, y, kw), _call("keras", name, x, y, kw)
    context = f"trial {trial}: {name}({kw}) on logits {x.shape} {x.dtype}, target {np.asarray(y).shape}"
    assert got_torch[0] == got_keras[0], f"{context}: torch {got_torch}, keras {got_keras}"
    if got_torch[0] == "error":
        assert got_torch[1:] == got_keras[1:], context
    else:
        tol = FLOAT64_TOL if got_torch[2] == got_keras[2] == "float64" else 1e-5
        np.testing.assert_allclose(got_keras[1], got_torch[1], rtol=tol, atol=tol, err_msg=context)
    return got_torch[0]


def test_same_outcome_on_random_valid_and_invalid_inputs():
    rng = np.random.default_rng(2026)
    outcomes = {"value": 0, "error": 0}
    for trial in range(TRIALS):
        name = NAMES[trial % len(NAMES)]
        k = int(rng.integers(2, 5))
        kw = _kwargs(rng, name, k)
        x, y = _inputs(rng, name, k)
        if kw.get("from_logits") is False:
            x = np.abs(x) / (np.abs(x).sum(-1, keepdims=True) + 1.0) if np.issubdtype(x.dtype, np.floating) else x
        outcomes[_same_outcome(trial, name, x, y, kw)] += 1
    # both kinds of outcome are exercised, so the test cannot pass vacuously
    assert outcomes["value"] > TRIALS // 5 and outcomes["error"] > TRIALS // 5, outcomes


def test_the_differences_the_conventions_dictate():
    """Listed in docs/conventions.md, "Errors"; each side follows its framework."""
    import keras
    import torch

    import tf_impl.losses
    import torch_impl.losses

    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 3))
    t = np.array([[0], [2], [1], [1]])
    # (B, 1) class indices: Keras's sparse losses take them; torch's CrossEntropyLoss does not
    keras_value = keras.ops.convert_to_numpy(tf_impl.losses.weighted_categorical_crossentropy(t, x))
    np.testing.assert_allclose(keras_value, keras.ops.convert_to_numpy(tf_impl.losses.weighted_categorical_crossentropy(t[:, 0], x)))
    with pytest.raises(ValueError, match=r"Shape mismatch: `target` has shape \(4, 1\)"):
        torch_impl.losses.weighted_categorical_crossentropy(torch.as_tensor(x), torch.as_tensor(t))
    # (N, C, d) logits: torch's class axis is dim 1, Keras's the last
    x3 = rng.normal(size=(2, 3, 5)).astype(np.float32)  # float32: what jax computes without x64
    t3 = rng.integers(0, 3, size=(2, 5))
    torch_value = torch_impl.losses.weighted_categorical_crossentropy(torch.as_tensor(x3), torch.as_tensor(t3)).numpy()
    keras_value = keras.ops.convert_to_numpy(tf_impl.losses.weighted_categorical_crossentropy(t3, np.moveaxis(x3, 1, -1)))
    np.testing.assert_allclose(torch_value, keras_value, rtol=1e-6)
    # integer logits: a Keras loss class casts them to its dtype (Loss.__call__); torch refuses
    xi = rng.integers(-3, 3, size=(4, 3)).astype(np.int32)
    assert np.isfinite(keras.ops.convert_to_numpy(tf_impl.losses.WeightedCategoricalCrossentropy()(t[:, 0], xi)))
    with pytest.raises(TypeError, match=r"Invalid `input` dtype: received int32"):
        torch_impl.losses.WeightedCategoricalCrossentropy()(torch.as_tensor(xi), torch.as_tensor(t[:, 0]))
    # (B,) labels against (B, 1) logits: the Keras classes add the trailing 1 (Keras's rule);
    # torch's sigmoid family takes exact shapes, as BCEWithLogitsLoss does
    x1, y1 = rng.normal(size=(4, 1)), np.array([0.0, 1.0, 1.0, 0.0])
    assert np.isfinite(keras.ops.convert_to_numpy(tf_impl.losses.WeightedBinaryCrossentropy()(y1, x1)))
    with pytest.raises(ValueError, match=r"Shape mismatch: `target` has shape \(4,\) but `input` has shape \(4, 1\)"):
        torch_impl.losses.WeightedBinaryCrossentropy()(torch.as_tensor(x1), torch.as_tensor(y1))


# Long-tail losses: hyperparameters drawn from their valid options, or (1 time in 12) an invalid one.

def _ldam_kwargs(rng, k, pick):
    counts = np.round(rng.uniform(1.0, 500.0, size=k))
    return dict(samples_per_class=pick((counts,), (np.round(rng.uniform(1.0, 500.0, size=k + 1)), np.zeros(k))),
                max_margin=pick((0.5, 0.0, 1.0), (-0.5,)), scale=pick((30.0, 1.0), (0.0,)),
                class_weight=pick((None, np.round(rng.uniform(0.1, 3.0, size=k), 3)), (np.ones(k + 1),)),
                ignore_index=pick((None, -1)))


def _balanced_softmax_kwargs(rng, k, pick):
    counts = np.round(rng.uniform(1.0, 500.0, size=k))
    return dict(samples_per_class=pick((counts,), (np.round(rng.uniform(1.0, 500.0, size=k - 1)), np.zeros(k))),
                ignore_index=pick((None, -1)))


def _poly_kwargs(rng, k, pick):
    return dict(epsilon=pick((1.0, 2.0, -1.0, 0.0), (-2.0,)), gamma=pick((0.0, 0.5, 2.0), (-1.0,)),
                ignore_index=pick((None, -1)))


_LONG_TAIL_KWARGS = {"ldam_loss": _ldam_kwargs, "balanced_softmax_crossentropy": _balanced_softmax_kwargs,
                     "poly_loss": _poly_kwargs}
LONG_TAIL = tuple(d.name for d in loss_specs.specs() if d.module == "long_tail" or d.name in _LONG_TAIL_KWARGS)


def test_long_tail_losses_same_outcome_on_random_valid_and_invalid_inputs():
    rng = np.random.default_rng(2027)
    trials = TRIALS // 4
    outcomes = {"value": 0, "error": 0}
    for trial in range(trials):
        k = int(rng.integers(2, 5))
        name = LONG_TAIL[rng.integers(len(LONG_TAIL))]
        kw = _kwargs(rng, name, k)
        x, y = _inputs(rng, name, k)
        outcomes[_same_outcome(trial, name, x, y, kw)] += 1
    assert outcomes["value"] > trials // 5 and outcomes["error"] > trials // 5, outcomes


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("validate_args", ["yes", None, 1])
def test_functional_forms_reject_a_validate_args_that_is_not_a_bool(name, validate_args):
    """validate_args is checked like every other flag (never truthiness), with the same message
    in both packages."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 3))
    declaration = loss_specs.spec(name)
    y = (rng.random((4, 3)) < 0.3).astype(np.float64) if declaration.family == "sigmoid" else np.array([0, 1, 2, 1])
    kw = dict(declaration.examples("functional"), validate_args=validate_args)
    got_torch, got_keras = _call("torch", name, x, y, kw), _call("keras", name, x, y, kw)
    assert got_torch == got_keras == (
        "error", "ValueError", f"Invalid `validate_args`: received {validate_args!r}; expected True or False."), name
