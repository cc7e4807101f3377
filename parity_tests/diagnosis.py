"""Why a migrated pair disagrees, in the words of the objects compared.

A reduction difference makes got / want the same everywhere: the ratio of the counts the two
means divide by. `counts` lists every count the inputs define (the samples, the positions:
pixels, tokens, the elements, the classes, the non-ignored positions, the summed class or
sample weights), each named by what it counts; `explain_factor` finds the pair of counts whose
ratio is got / want, preferring the counts each side's object is known to divide by, and says
what each side divides by and the argument that makes them agree, in each framework's own words
(`reduction="sum_over_batch_size"`, `ignore_class=`, `sample_weight` / `class_weight=` in
Keras; `reduction="mean"`, `weight=`, `ignore_index=`, `pos_weight=` in torch).
`explain_error` says which side could not run which input, and why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from .sides import Side

__all__ = ["Count", "counts", "explain_factor", "explain_formula", "explain_error", "explain_shape"]


@dataclass(frozen=True)
class Count:
    key: str  # sides.DIVISORS
    value: float
    words: str  # "the number of pixels, 32 (2 x 4 x 4)"
    noun: str  # "pixels": what a mean over it averages


def _position_noun(rank: int) -> str:
    return {3: "positions (tokens)", 4: "pixels", 5: "voxels"}.get(rank, "positions")


def _num(v: float) -> str:
    return f"{v:g}" if float(v) != int(v) else str(int(v))


def counts(logits: np.ndarray, target: np.ndarray, index_target: bool, sides: list[Side]) -> list[Count]:
    """Every count a mean over these inputs can divide by (class axis last), by priority."""
    shape = np.shape(logits)
    rank = len(shape)
    batch = shape[0] if rank else 1
    classes = shape[-1] if rank >= 2 else 1
    positions = int(np.prod(shape[:-1])) if rank >= 2 else batch
    elements = int(np.prod(shape)) if rank else 1
    spatial = " x ".join(map(str, shape[:-1]))
    out = [Count("1", 1.0, "nothing (a sum)", "")]
    out.append(Count("samples", batch, f"the number of samples (the batch size), {batch}", "samples"))
    if rank > 2:
        noun = _position_noun(rank)
        out.append(Count("positions", positions, f"the number of {noun}, {positions} ({spatial})", noun))
    if rank >= 2 and classes > 1:
        what = "positions x classes" if rank > 2 else "samples x classes"
        out.append(Count("elements", elements, f"the number of elements ({what}), {elements} "
                                               f"({' x '.join(map(str, shape))})", "elements"))
        out.append(Count("classes", classes, f"the number of classes, {classes}", "classes"))
    if index_target:
        t = np.asarray(target)
        valid = (t >= 0) & (t < classes)
        n_valid = int(valid.sum())
        if n_valid != t.size:
            out.append(Count("valid", n_valid, f"the number of non-ignored {'positions' if rank > 2 else 'samples'}, "
                                               f"{n_valid} of {t.size}", "non-ignored positions"))
        for s in sides:
            if s.class_weight is not None and s.class_weight.size:
                w = np.asarray(s.class_weight, float)
                tt = np.clip(t, 0, len(w) - 1)
                inside = valid & (t < len(w))
                total = float(np.where(inside, w[tt], 0.0).sum())
                out.append(Count("class_weights", total, f"the summed class weights of the targets, {total:.6g}",
                                 "summed class weights"))
                break
    for s in sides:
        if s.sample_weight is not None:
            total = float(np.asarray(s.sample_weight, float).sum())
            out.append(Count("sample_weights", total, f"the summed sample weights, {total:.6g}",
                             "summed sample weights"))
            break
    return out


def _close(a: float, b: float, rel: float) -> bool:
    return abs(a - b) <= rel * max(abs(b), 1e-300)


def explain_factor(r: float, got_side: Side | None, ref_side: Side | None, available: list[Count],
                   *, rel: float = 1e-3) -> str | None:
    """got / want = r everywhere: the counts behind it and the change that makes both agree."""
    if _close(r, -1.0, rel):
        return ("got / want = -1 everywhere: a sign. One side returns the log-likelihood (or a negated loss): "
                "negate it")
    dense = any(c.key == "positions" for c in available)
    ignored = any(c.key == "valid" for c in available)

    def predicted(side: Side | None) -> str | None:
        if side is None or side.divisor is None:
            return None
        keys = {c.key for c in available}
        divisor = "positions" if side.divisor == "valid" and "valid" not in keys else side.divisor
        return "samples" if divisor == "positions" and not dense else divisor

    matches = []
    for g in available:
        for w in available:
            if g.key == w.key or g.value == 0 or w.value == 0:
                continue
            if _close(r, w.value / g.value, rel):
                score = 2 * (predicted(got_side) == g.key) + 2 * (predicted(ref_side) == w.key)
                matches.append((-score, g, w))
    if not matches:
        return None
    matches.sort(key=lambda m: m[0])  # stable: equal scores keep the priority order of `counts`
    _, g, w = matches[0]
    this = f"this side ({got_side.name})" if got_side else "this side"
    ref = f"the reference ({ref_side.name})" if ref_side else "the reference"
    ratio = f"1/{_num(g.value / w.value)}" if r < 1 else _num(w.value / g.value)
    head = f"got / want = {ratio} everywhere"
    if g.key == "1":
        cause = f"{head} = {w.words}: {this} sums, {ref} averages over the {w.noun}: a sum against a mean"
    elif w.key == "1":
        cause = f"{head} = 1 / {g.words}: {this} averages over the {g.noun}, {ref} sums: a mean against a sum"
    else:
        cause = (f"{head} = {w.words} / {g.words}: {this} divides by the {g.noun} ({_num(g.value)}), {ref} by the "
                 f"{w.noun} ({_num(w.value)})")
    fixes = []
    if got_side is not None:
        fixes.append(f"on this side, {advice(got_side, w, dense=dense, ignored=ignored)}")
    if ref_side is not None and ref_side.kind != "callable":
        fixes.append(f"or on the reference side, {advice(ref_side, g, dense=dense, ignored=ignored)}")
    return cause + (". To agree: " + "; ".join(fixes) if fixes else "")


def _generic(side: Side, count: Count) -> str:
    name = side.base or "the loss"
    if count.key == "1":
        return f"{name}(..., reduction=\"sum\")"
    extra = (" (Keras's \"sum\" already averages the class axis of this loss: multiply by the classes too)"
             if side.framework == "keras" and side.family == "sigmoid" else "")
    return f"{name}(..., reduction=\"sum\") and divide by {count.words}{extra}"


def advice(side: Side, count: Count, *, dense: bool = False, ignored: bool = False) -> str:
    """The change that makes `side` divide by `count`, in its framework's own words (`dense`:
    the inputs have positions besides the samples, so a mean over positions is not one over samples;
    `ignored`: some targets are ignored, so torch's mean is not one over every position)."""
    key = count.key
    name = side.base or "the loss"
    if side.kind == "fit":
        inner = side.extra.get("inner")
        if key in ("class_weights", "sample_weights"):
            return (f"compile with {inner.base if inner else name}(..., "
                    f"reduction=\"mean_with_sample_weight\") (model.fit then divides by the summed weights)")
        if inner is not None:
            return "in model.compile, " + advice(inner, count, dense=dense, ignored=ignored)
    if side.kind == "step":
        w = "w"
        line = {"1": f"loss = (criterion(input, target) * {w}).sum()",
                "class_weights": f"loss = (criterion(input, target) * {w}).sum() / {w}.sum()",
                "sample_weights": f"loss = (criterion(input, target) * {w}).sum() / {w}.sum()",
                "positions": f"loss = (criterion(input, target) * {w}).mean()",
                "samples": (f"loss = (criterion(input, target) * {w}).sum() / input.shape[0]" if dense
                            else f"loss = (criterion(input, target) * {w}).mean()")}.get(key)
        return (f"in the training loop, {line} (criterion with reduction=\"none\")" if line
                else f"in the training loop, divide the weighted sum by {count.words}")
    if side.framework == "keras":
        if side.kind == "callable":
            return f"divide the summed loss by {count.words}"
        if key == "1" and side.family == "softmax":
            return f"{name}(..., reduction=\"sum\")"
        if key == "classes" and side.family == "sigmoid":
            return f"{name}(..., reduction=\"sum\") (it averages the class axis, then sums)"
        if key in ("positions", "samples") and side.family == "softmax" and (key == "positions" or not dense):
            return f"{name}(..., reduction=\"sum_over_batch_size\") (Keras's default: a mean over the {count.noun})"
        if key == "elements" and side.family == "sigmoid":
            return f"{name}(..., reduction=\"sum_over_batch_size\") (Keras's default: a mean over every element)"
        if key == "valid":
            return (f"{name}(..., ignore_class=<the ignored index>) with reduction=\"sum_over_batch_size\" (a mean "
                    f"over the non-ignored positions)")
        if key in ("class_weights", "sample_weights"):
            return (f"{name}(..., reduction=\"mean_with_sample_weight\") with the weights as sample_weight (model.fit: "
                    f"class_weight=)")
        return _generic(side, count)
    # torch
    if side.kind == "callable":
        return f"divide the summed loss by {count.words}"
    if key == "1":
        return f"{name}(..., reduction=\"sum\")"
    if side.family == "softmax":
        if key == "class_weights" and side.class_weight is not None:
            return f"{name}(weight=..., reduction=\"mean\") (torch's mean divides by the summed weights)"
        if key == "class_weights":
            return (f"{name}(weight=<the class weights>, reduction=\"mean\") "
                    f"(torch's mean divides by the summed weights)")
        if key == "valid":
            return f"{name}(ignore_index=<the ignored index>, reduction=\"mean\")"
        if key in ("positions", "samples") and side.class_weight is None and (
                side.divisor == "positions" or (side.divisor == "valid" and not ignored)):
            if key == "positions" or not dense:
                return f"{name}(..., reduction=\"mean\") (a mean over the {count.noun})"
        if key in ("positions", "samples", "sample_weights"):
            what = {"positions": "target.numel()", "samples": "input.shape[0]", "sample_weights": "w.sum()"}[key]
            return (f"{name}(..., reduction=\"sum\") and divide by {what} ({count.words}), or reduction=\"none\" then "
                    f"(loss * w).sum() / {what} in the training loop")
    else:
        if key == "elements":
            return f"{name}(..., reduction=\"mean\") (a mean over every element)"
        if key == "samples" and side.base == "KLDivLoss":
            return f"{name}(reduction=\"batchmean\") (the mean over samples Keras's KLDivergence takes)"
    return _generic(side, count)


def explain_scale(r: float, got_side: Side | None, ref_side: Side | None, *, rel: float = 1e-3) -> str | None:
    """got / want = r everywhere, not a ratio of counts: a scalar argument (alpha) one side applies."""
    for this, other, power in ((got_side, ref_side, 1.0), (ref_side, got_side, -1.0)):
        if this is None or other is None:
            continue
        alpha = this.extra.get("alpha")
        if (isinstance(alpha, (int, float)) and alpha > 0 and other.extra.get("alpha") is None
                and _close(r ** power, alpha, rel)):
            return (f"got / want = {_num(r)} everywhere = alpha: {this.base} scales every term by alpha={_num(alpha)}, "
                    f"{other.base} has alpha=None: pass alpha={_num(alpha)} to {other.base}")
    return None


def explain_formula(got_side: Side | None, ref_side: Side | None, target: np.ndarray | None = None
                    ) -> str | None:
    """got / want not constant: the argument differences the two objects show, in their words
    (`target`: the class-index targets, to tell whether an ignored index occurs)."""
    if got_side is None or ref_side is None:
        return None
    notes = []
    keras, torch = (got_side, ref_side) if got_side.framework == "keras" else (ref_side, got_side)
    if keras.framework == "keras" and torch.framework == "torch":
        if keras.from_logits is False and torch.from_logits and "activation" not in keras.extra:
            notes.append(f"{keras.base} takes probabilities (from_logits=False, Keras's default), {torch.base} takes "
                         f"logits: pass from_logits=True to {keras.base}")
        if torch.class_weight is not None and keras.class_weight is None and keras.sample_weight is None:
            dense = target is not None and np.ndim(target) > 1
            how = ("per-position weights w[y] as model.fit's sample_weight= (its class_weight= takes one label per "
                   "sample)" if dense
                   else "the class weights to model.fit (class_weight=, parity_tests.builtins.KerasFit)")
            weights = ", ".join(_num(v) for v in torch.class_weight)
            notes.append(f"{torch.base} weights each target by its class (weight=[{weights}]), "
                         f"{keras.base} does not: in Keras pass {how} and compile with "
                         f"reduction=\"mean_with_sample_weight\"")
        if keras.class_weight is not None and torch.class_weight is None:
            notes.append(f"the Keras side weights each target by its class (class_weight), {torch.base} does not: pass "
                         f"weight=<the class weights> to {torch.base}")
        if torch.base == "BCEWithLogitsLoss" and "pos_weight" in torch.name:
            notes.append("BCEWithLogitsLoss(pos_weight=) scales the positive term only; Keras's BinaryCrossentropy has "
                         "no such argument: use tf_impl.losses.WeightedBinaryCrossentropy(pos_weight=...)")
        if (torch.base == "sigmoid_focal_loss" and keras.base == "BinaryFocalCrossentropy"
                and not keras.extra.get("apply_class_balancing")):
            notes.append("torchvision's sigmoid_focal_loss always applies alpha, Keras's BinaryFocalCrossentropy only "
                         "with apply_class_balancing=True")
        ignored = target is not None and np.any(np.asarray(target) == torch.ignore_index)
        if keras.ignore_index is None and torch.ignore_index is not None and torch.family == "softmax" and ignored:
            notes.append(f"{torch.base} skips targets equal to ignore_index={torch.ignore_index}; the Keras side has "
                         f"no ignore_class: pass ignore_class={torch.ignore_index}")
    return "; ".join(notes) if notes else None


_SAME_REDUCTION: dict[tuple[str, str | None], str] = {("torch", "mean"): "sum_over_batch_size", ("torch", "sum"): "sum",
                   ("keras", "sum_over_batch_size"): "mean", ("keras", "sum"): "sum",
                   ("keras", "mean_with_sample_weight"): "mean"}


def explain_shape(got_shape: tuple, want_shape: tuple, got_side: Side | None, ref_side: Side | None) -> str | None:
    """Different output shapes: which side reduced, and the argument that makes both alike."""
    got_shape, want_shape = tuple(got_shape), tuple(want_shape)
    if (got_shape == ()) == (want_shape == ()):
        return None
    reduced, full = (got_side, ref_side) if got_shape == () else (ref_side, got_side)
    full_shape = want_shape if got_shape == () else got_shape
    if reduced is None or full is None or "callable" in (reduced.kind, full.kind):
        return None
    same = _SAME_REDUCTION.get((reduced.framework, reduced.reduction))
    fixes = [f"pass reduction=\"none\" to {reduced.base}"]
    if same:
        fixes.append(f"reduction=\"{same}\" to {full.base} (the same reduction in {full.framework}'s words)")
    return (f"{reduced.base} (reduction={reduced.reduction!r}) returns a scalar, {full.base} (reduction="
            f"{full.reduction!r}) one loss per position {full_shape}: {', or '.join(fixes)}")


def _error_kind(*patterns: str, why: str) -> tuple[re.Pattern, str]:
    """An error of one kind: any of `patterns` in its text (case aside), and why it happens, in words."""
    return re.compile("|".join(patterns), re.I), why


# The errors whose cause and fix can be named, by what torch, Keras and NumPy write; the first match wins.
_ERROR_KINDS = (
    _error_kind(r"expected (scalar type|m1 and m2 to have the same dtype)", r"Double but found Float",
                r"Float but found Double", r"found dtype", r"dtype mismatch", r"must have the same dtype",
                r"cannot compute .* as input #",
                why="the loss holds tensors of another dtype than the inputs (a weight built as a float32 tensor meets "
                    "float64 inputs); build its tensors in the inputs' dtype (torch.tensor(w, dtype=input.dtype)), or "
                    "pass a torch.nn.Module, whose buffers the migration check casts"),
    _error_kind(r"not implemented for '(Half|BFloat16)'",
                why="this operation has no kernel for that dtype on this device: run that dtype on another device, or "
                    "leave it out of `dtypes`"),
    _error_kind(r"expected scalar type Long", r"Long but found", r"target .* must be (Long|int)", r"0D or 1D target",
                why="the loss wants class indices (int64) where the inputs give probabilities or one-hot rows (or the "
                    "reverse): pass the other target encoding"),
    _error_kind(r"outside the valid range", r"out of bounds", r"not in \[0, \d+\)", r"indices\[.*\] = -?\d+ is not in",
                r"Target -?\d+ is out of bounds", r"index -?\d+ is out of bounds",
                why="a class index outside [0, K): an ignored index (torch's default ignore_index=-100) that this side "
                    "does not skip; pass ignore_class= (Keras) or ignore_index= (torch)"),
    _error_kind(r"on the same device", r"Expected all tensors to be on", r"device type",
                why="the loss holds tensors on another device than the inputs: build them on input.device, or pass a "
                    "torch.nn.Module, which the migration check moves"),
    _error_kind(r"shape", r"size of tensor", r"target size", r"must match", r"broadcast", r"Incompatible",
                why="the inputs' shapes do not fit this loss: check the layouts (class axis last in Keras, dim 1 in "
                    "torch: compare_losses(..., torch_class_dim=1)) and the target encoding"),
)


def explain_error(framework: str, side: Side | None, input_name: str, shapes: str, dtype: str, error: str,
                  *, who: str | None = None) -> str:
    """A side that could not run an input: which side (`who` overrides the words), which input, and why."""
    who = who or (f"the {framework} side ({side.name})" if side else f"the {framework} side")
    why = next((words for pattern, words in _ERROR_KINDS if pattern.search(error)), None)
    text = f"{who} could not run input {input_name!r} ({shapes}) in {dtype}: {error}"
    return text + (f"; why: {why}" if why else "; why: the loss raised on these inputs (see the error)") + "."


def explain_metric(keras_metric: Any, torch_metric: Any) -> str | None:
    """Known argument differences between a Keras metric and a torchmetrics metric, in their words."""
    if keras_metric is None or torch_metric is None:
        return None
    k, t = type(keras_metric).__name__, type(torch_metric).__name__
    notes = []
    average = getattr(torch_metric, "average", None)
    if average in ("macro", "weighted") and k in ("SparseCategoricalAccuracy", "CategoricalAccuracy", "Accuracy"):
        notes.append(f"torchmetrics' {t} averages per-class values (average={average!r}, its default), Keras's {k} "
                     f"counts every sample: pass average=\"micro\" to {t}")
    if k == "AUC" and t in ("BinaryAUROC", "AUROC") and getattr(torch_metric, "thresholds", None) is None:
        n = getattr(keras_metric, "num_thresholds", 200)
        notes.append(f"Keras's AUC integrates over num_thresholds={n} fixed thresholds, torchmetrics' {t} over every "
                     f"score (thresholds=None): pass thresholds={n} to {t}")
    is_f1 = any(c.__name__ == "F1Score" for c in type(keras_metric).__mro__)
    if is_f1 and getattr(keras_metric, "average", None) is None:
        notes.append("Keras's F1Score returns one value per class (average=None, its default): pass average=\"micro\" "
                     "(binary) or \"macro\"")
    threshold = getattr(torch_metric, "threshold", None)
    k_threshold = getattr(keras_metric, "threshold", None) or getattr(keras_metric, "thresholds", None)
    if threshold is not None and isinstance(k_threshold, float) and abs(threshold - k_threshold) > 0:
        notes.append(f"thresholds differ: Keras {k_threshold}, torchmetrics {threshold}")
    return "; ".join(notes) if notes else None
