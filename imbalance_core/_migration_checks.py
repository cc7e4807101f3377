"""The messages of the migration from the built-in losses, metrics and model.fit weights, and of
the parity harness that compares the two frameworks (`parity_tests`: compare_losses,
compare_metrics, the case matrix and its command line).

Part of `imbalance_core.validation`, which re-exports every name.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

# ---- the built-in losses, metrics and model.fit weights


def not_a_loss_message(name: str, value: Any, accepted: str) -> str:
    kind = f"{type(value).__module__}.{type(value).__qualname__}"
    return f"Invalid `{name}`: received {kind} ({value!r:.80}); expected {accepted}."


def wrong_framework_message(name: str, value: Any, framework: str, other: str) -> str:
    return (f"Invalid `{name}`: received {type(value).__module__}.{type(value).__qualname__}, a {framework} object; "
            f"pass it as `{other}`.")


def not_a_metric_message(name: str, value: Any, accepted: str) -> str:
    return (f"Invalid `{name}`: received {type(value).__module__}.{type(value).__qualname__}; expected {accepted}.")


def fit_weights_conflict_message() -> str:
    return ("Invalid arguments: received both `class_weight` and `sample_weight`; model.fit rejects the pair (\"You "
            "cannot `class_weight` and `sample_weight` at the same time\"): fold the class weights into the sample "
            "weights, or pass one of them.")


def fit_class_weight_rank_message(shape: tuple) -> str:
    return (f"Invalid `class_weight`: model.fit maps class weights to one weight per sample, from targets of shape "
            f"(B,), (B, 1) or one-hot (B, K); received targets of shape {tuple(shape)}. For dense targets pass "
            f"per-position weights of the target's shape as `sample_weight`.")


def exclusive_weights_message(first: str, second: str) -> str:
    return (f"Invalid arguments: received both `{first}` and `{second}`; expected one of them (fold the class "
            f"weights into the per-sample weights).")


# ---- compare_losses and compare_metrics


def neither_side_message(keras_name: str, torch_name: str) -> str:
    """compare_losses / compare_metrics received no object to compare.

    Examples:
        >>> neither_side_message("keras_loss", "torch_loss")
        'Invalid arguments: pass `keras_loss`, `torch_loss` or both; received neither.'
    """
    return f"Invalid arguments: pass `{keras_name}`, `{torch_name}` or both; received neither."


def missing_reference_message(torch_name: str) -> str:
    """Without its torch side, a comparison has no reference to hold the Keras side to."""
    return f"Invalid `reference`: received None; without `{torch_name}` a NumPy reference is required."


def check_devices(devices: Sequence[str], allowed: Sequence[str]) -> None:
    """Every requested device is one the harness knows (absent ones are skipped when run).

    Examples:
        >>> check_devices(["cpu", "tpu"], ("cpu", "gpu"))
        Traceback (most recent call last):
            ...
        ValueError: Invalid `devices`: received ['tpu']; allowed values are cpu, gpu.
    """
    unknown = [d for d in devices if d not in allowed]
    if unknown:
        raise ValueError(f"Invalid `devices`: received {unknown}; allowed values are {', '.join(allowed)}.")


def metric_batch_failure_message(framework: str, metric_name: str, batch_index: int, batch: tuple,
                                 exc: BaseException) -> str:
    """A metric side whose update raised on one batch `(y_true, y_pred, sample_weight)`: the
    report's explanation, with the batch's shapes and the error."""
    y, p, w = batch
    shapes = f"y_true {np.shape(y)}, y_pred {np.shape(p)}" + ("" if w is None else f", sample_weight {np.shape(w)}")
    return (f"the {framework} side ({metric_name}) could not run batch {batch_index} ({shapes}): "
            f"{type(exc).__name__}: {exc}; why: its update rejects these inputs (the target encoding, the shape of "
            f"y_pred or the argument values): pass the stream it expects (metric_stream(kind=...)) or an adapter "
            f"that reshapes them.")


def unweighted_metric_message(metric_name: str) -> str:
    """A torch metric whose update takes no sample weights, on a weighted stream."""
    return (f"the torch side ({metric_name}) cannot take the stream's sample weights: its update(preds, target) has "
            f"no sample_weight argument (torchmetrics' classification metrics have none); compare on an unweighted "
            f"stream (metric_stream(..., weighted=False), or batches with sample_weight None).")


# ---- the case matrix, its command line and the migration table


def unknown_dtype_message(dtype: str) -> str:
    return f"unknown dtype {dtype!r}"


def tolerance_reason_message(case: str) -> str:
    """A case that loosens its tolerance must say why."""
    return f"case {case}: a tolerance override needs a reason"


def unknown_case_keys_message(unknown: Sequence[str], families: Sequence[str]) -> str:
    """`--loss` keys that name no case, with the family keys that do."""
    return (f"unknown --loss {', '.join(map(repr, unknown))}; valid: a case name (see --list) "
            f"or one of {', '.join(families)}")


def flag_values_message(flag: str, bad: Sequence[str], allowed: Sequence[str]) -> str:
    """A comma-separated command-line flag (`--device`, `--dtype`) with values it does not take.

    Examples:
        >>> flag_values_message("--device", ["tpu"], ["cpu", "gpu"])
        "invalid --device ['tpu']; allowed: cpu, gpu"
    """
    return f"invalid {flag} {list(bad)}; allowed: {', '.join(allowed)}"


def pair_without_change_message(topic: str) -> str:
    """The changed form of a migration pair whose defaults already agree."""
    return f"{topic}: the pair has no change (its defaults agree)"
