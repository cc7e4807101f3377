"""Conformance matrix, torch side: every row of tests/conformance.py through torch's own
machinery (eager, torch.compile(fullgraph=True) over batch sizes 32, 17, 9, autocast,
state_dict, CrossEntropyLoss's layouts, sample_weight (B, 1)). DDP lives in
test_distributed.py (two gloo processes).

torch.compile runs with the "aot_eager" backend: it captures the same graph (Dynamo, then
AOTAutograd for the backward) as the default inductor backend, without the C++ code
generation that would take most of a minute per row on the 2-core test machine. Compilations
are counted as Dynamo's unique graphs (a restarted analysis is no recompile).
"""

import copy
import inspect
import re

import numpy as np
import pytest
import torch
import torchmetrics
from torch._dynamo.testing import CompileCounterWithBackend
from torch._dynamo.utils import counters

from tests import conformance

BATCH_SIZES = (32, 17, 9)


def _inputs(row, n, seed=0):
    """(preds, target, sample_weight or None) as tensors."""
    i = row.inputs(n, seed)
    sw = None if i.sample_weight is None else torch.as_tensor(i.sample_weight)
    return torch.as_tensor(i.logits), torch.as_tensor(i.target), sw


def _call(row, obj, preds, target, sample_weight=None):
    """The row's value on one batch: the loss, or the metric's result after one update."""
    if row.kind == "loss":
        if sample_weight is None:
            return obj(preds, target)
        return obj(preds, target, sample_weight=sample_weight)
    obj.reset()
    obj.update(preds, target, sample_weight=sample_weight)
    return obj.compute()


def _close(actual, expected, **kw):
    kw.setdefault("rtol", 1e-5)
    kw.setdefault("atol", 1e-6)
    torch.testing.assert_close(actual, expected, check_dtype=False, **kw)


def test_table_covers_every_class():
    """A public loss or metric class without a row in tests/conformance.py fails here."""
    import torch_impl.losses
    import torch_impl.metrics

    listed = {r.name for r in conformance.ROWS}
    public = set()
    for module, base in ((torch_impl.losses, torch.nn.Module), (torch_impl.metrics, torchmetrics.Metric)):
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj) and issubclass(obj, base):
                public.add(name)
    assert public - listed == set(), f"classes without a conformance row: {sorted(public - listed)}"
    assert conformance.REQUIRED_CLASSES["losses"] | conformance.REQUIRED_CLASSES["metrics"] <= listed


# ----------------------------------------------------------------------------------- eager


@pytest.mark.parametrize("row", conformance.params(conformance.MATRIX))
def test_eager_value_and_gradient(row):
    preds, target, sw = _inputs(row, 32)
    obj = conformance.build("torch", row)
    if row.kind == "metric":
        half = 16
        obj.update(preds[:half], target[:half])
        obj.update(preds[half:], target[half:])
        streamed = obj.compute()
        assert tuple(streamed.shape) == row.result_shape and torch.isfinite(streamed).all()
        _close(streamed, _call(row, conformance.build("torch", row), preds, target))  # streaming == one batch
        return
    preds.requires_grad_(True)
    value = _call(row, obj, preds, target, sw)
    assert value.ndim == 0 and value.dtype == torch.float32 and torch.isfinite(value)
    value.backward()
    assert preds.grad.shape == preds.shape and torch.isfinite(preds.grad).all()


# ------------------------------------------------------------------------------ torch.compile


def _compiled_graphs():
    return counters["stats"]["unique_graphs"]


def _explain(fn, *args):
    torch._dynamo.reset()
    explanation = torch._dynamo.explain(fn)(*args)
    reasons = [str(b.reason).splitlines()[0] for b in explanation.break_reasons]
    return explanation.graph_break_count, reasons


@pytest.mark.parametrize("row", conformance.params([r for r in conformance.MATRIX if r.kind == "loss"]))
def test_loss_compiles_fullgraph_over_dynamic_batch_sizes(row):
    """No graph break (torch._dynamo.explain), at most one recompile over batch sizes 32, 17, 9,
    values and gradients equal to eager."""
    module = conformance.build("torch", row)
    preds, target, sw = _inputs(row, BATCH_SIZES[0])
    breaks, reasons = _explain(module, preds, target)
    assert breaks == 0, f"{breaks} graph breaks: {reasons}"

    torch._dynamo.reset()
    counters.clear()
    compiled = torch.compile(module, backend="aot_eager", fullgraph=True)
    # a stateful loss: the eager calls on a copy, so that both see the same sequence of batches
    eager_module = copy.deepcopy(module) if row.stateful else module
    for n in BATCH_SIZES:
        preds, target, sw = _inputs(row, n, seed=n)
        xe = preds.clone().requires_grad_(True)
        xc = preds.clone().requires_grad_(True)
        eager = _call(row, eager_module, xe, target, sw)
        comp = _call(row, compiled, xc, target, sw)
        eager.backward()
        comp.backward()
        _close(comp, eager)
        _close(xc.grad, xe.grad, atol=1e-7)
    assert _compiled_graphs() <= 2, f"{_compiled_graphs()} compilations for batch sizes {BATCH_SIZES}"
    torch._dynamo.reset()


# the arguments a loss cannot do without; everything else at its default
_REQUIRED = {"ClassBalancedLoss": dict(samples_per_class=[200, 30, 26]),
             "LogitAdjustedCrossentropy": dict(class_priors=[0.6, 0.25, 0.15]),
             "SeesawLoss": dict(num_classes=3),
             "DistributionBalancedLoss": dict(samples_per_class=[30, 12, 5], num_samples=100),
             "LDAMLoss": dict(samples_per_class=[200, 30, 26]),
             "BalancedSoftmaxCrossentropy": dict(samples_per_class=[200, 30, 26])}


@pytest.mark.parametrize("row", conformance.params(conformance.LOSSES))
def test_loss_compiles_fullgraph_at_default_arguments(row):
    """The issue's promise as stated: default arguments (validate_args=True included), no
    graph break, the compiled value equal to eager."""
    from torch_impl import losses

    module = getattr(losses, row.name)(**_REQUIRED.get(row.name, {}))
    preds, target, _ = _inputs(row, BATCH_SIZES[0])
    if row.family == "softmax":  # the row's ignored targets are invalid without its ignore_index
        target = target.clamp(min=0)
    breaks, reasons = _explain(module, preds, target)
    assert breaks == 0, f"{breaks} graph breaks: {reasons}"
    torch._dynamo.reset()
    compiled = torch.compile(module, backend="aot_eager", fullgraph=True)
    eager_module = copy.deepcopy(module) if row.stateful else module  # the same state, as above
    _close(compiled(preds, target), eager_module(preds, target))
    torch._dynamo.reset()


def _functional_cases():
    """Every case of a functional loss in parity_tests' case table (its inputs and arguments
    are listed there), with NumPy arguments given as lists: the Python constants that a
    functional form's checks fold into the graph under torch.compile."""
    from parity_tests.cases import CASES

    return [pytest.param(case, id=case.name) for case in CASES if isinstance(case.fn, str) and case.reduction is None]


_BAD_HYPERPARAMETERS = (("label_smoothing", 2.0), ("gamma", -1.0), ("gamma_neg", -1.0), ("max_margin", -1.0),
                        ("p", -1.0), ("ignore_index", 1.5))


def _bad_argument(name, accepted):
    """The first of _BAD_HYPERPARAMETERS the function takes; else NaN for its first declared
    float argument (imbalance_core.loss_specs)."""
    from imbalance_core import loss_specs

    listed = next(((n, v) for n, v in _BAD_HYPERPARAMETERS if n in accepted), None)
    if listed is not None:
        return listed
    return next((a.name, float("nan")) for a in loss_specs.spec(name).arguments("functional")
                if isinstance(a.default, float))


def _as_constants(kwargs):
    return {k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}


@pytest.mark.parametrize("case", _functional_cases())
def test_functional_form_compiles_fullgraph(case):
    """Every functional loss case with Python-constant arguments: no graph break (its argument
    checks run once while tracing, _ops.static_args), the compiled value and gradient equal to
    eager on two batch sizes, and a rejected argument raises eager's error and message."""
    from torch_impl import losses

    fn, kwargs = getattr(losses, case.fn), _as_constants(case.kwargs)
    logits, target = case.make_inputs(np.random.default_rng(case.seed))
    x, t = torch.as_tensor(logits, dtype=torch.float32), torch.as_tensor(target)
    if case.torch_class_dim is not None and x.ndim > 2:  # the case's class-last layout -> torch's
        x = x.movedim(-1, case.torch_class_dim)
        t = t if case.index_target else t.movedim(-1, case.torch_class_dim)

    def loss(x, t):
        return fn(x, t, **kwargs).sum()

    breaks, reasons = _explain(loss, x, t)
    assert breaks == 0, f"{breaks} graph breaks: {reasons}"
    torch._dynamo.reset()
    compiled = torch.compile(loss, backend="aot_eager", fullgraph=True)
    for n in sorted({len(x), max(len(x) // 2, 1)}, reverse=True):
        xe, xc = (x[:n].clone().requires_grad_(True) for _ in range(2))
        eager, comp = loss(xe, t[:n]), compiled(xc, t[:n])
        eager.backward()
        comp.backward()
        _close(comp, eager)
        _close(xc.grad, xe.grad, atol=1e-7)
    torch._dynamo.reset()


@pytest.mark.parametrize("name", sorted({c.fn for c in (p.values[0] for p in _functional_cases())}))
def test_functional_form_compiled_rejects_an_argument_as_eager(name):
    """A rejected hyperparameter (the first of _BAD_HYPERPARAMETERS the function takes), on the
    function's first case: compiled, eager's error type and message; with fullgraph=True torch's
    wrapper, which quotes the message."""
    from torch_impl import losses

    case = next(p.values[0] for p in _functional_cases() if p.values[0].fn == name)
    fn = getattr(losses, name)
    logits, target = case.make_inputs(np.random.default_rng(case.seed))
    x, t = torch.as_tensor(logits, dtype=torch.float32), torch.as_tensor(target)
    accepted = inspect.signature(fn).parameters
    arg, value = _bad_argument(name, accepted)
    bad = dict(_as_constants(case.kwargs), **{arg: value})
    with pytest.raises(ValueError) as eager_error:
        fn(x, t, **bad)
    torch._dynamo.reset()
    with pytest.raises(ValueError) as compiled_error:
        torch.compile(lambda x, t: fn(x, t, **bad).sum(), backend="aot_eager")(x, t)
    assert str(compiled_error.value) == str(eager_error.value)
    torch._dynamo.reset()
    with pytest.raises(Exception, match=re.escape(str(eager_error.value))):
        torch.compile(lambda x, t: fn(x, t, **bad).sum(), backend="aot_eager", fullgraph=True)(x, t)
    torch._dynamo.reset()


def _numpy_cases():
    """The functional cases with a NumPy-array hyperparameter (priors, class weights, samples
    per class)."""
    return [p for p in _functional_cases() if any(isinstance(v, np.ndarray) for v in p.values[0].kwargs.values())]


@pytest.mark.parametrize("case", _numpy_cases())
def test_functional_form_with_numpy_hyperparameters_compiles_fullgraph(case):
    """NumPy-array hyperparameters passed as they are: no graph break; their checks and
    derived constants run on the array's values at every call (_ops.static_args), so the
    compiled value and gradient equal eager's on two batch sizes and, with the array an
    argument of the compiled function, after its values change (reversed), without a
    recompile for the new values."""
    from torch_impl import losses

    fn = getattr(losses, case.fn)
    name = next(k for k, v in case.kwargs.items() if isinstance(v, np.ndarray))
    others = {k: v for k, v in case.kwargs.items() if k != name}
    logits, target = case.make_inputs(np.random.default_rng(case.seed))
    x, t = torch.as_tensor(logits, dtype=torch.float32), torch.as_tensor(target)
    if case.torch_class_dim is not None and x.ndim > 2:  # the case's class-last layout -> torch's
        x = x.movedim(-1, case.torch_class_dim)
        t = t if case.index_target else t.movedim(-1, case.torch_class_dim)

    def loss(x, t, array):
        return fn(x, t, **others, **{name: array}).sum()

    array = case.kwargs[name]
    breaks, reasons = _explain(loss, x, t, array)
    assert breaks == 0, f"{breaks} graph breaks: {reasons}"
    torch._dynamo.reset()
    frames = CompileCounterWithBackend("aot_eager")
    compiled = torch.compile(loss, backend=frames, fullgraph=True)
    for n, values in ((len(x), array), (len(x), array[::-1].copy()), (max(len(x) // 2, 1), array)):
        xe, xc = (x[:n].clone().requires_grad_(True) for _ in range(2))
        eager, comp = loss(xe, t[:n], values), compiled(xc, t[:n], values)
        eager.backward()
        comp.backward()
        _close(comp, eager)
        _close(xc.grad, xe.grad, atol=1e-7)
        if n == len(x):
            assert frames.frame_count == 1, "new values of a NumPy hyperparameter recompiled"
    torch._dynamo.reset()


def test_adjust_logits_and_shot_accuracy_with_numpy_arguments_compile_fullgraph():
    """The other functional forms taking NumPy priors / samples per class: no graph break,
    compiled equal to eager (decisions.shift_prior: tests/test_decisions.py)."""
    from torch_impl import losses, metrics

    priors, counts = np.array([0.6, 0.3, 0.1]), np.array([500, 40, 3])
    x, t = torch.randn(9, 3, dtype=torch.float64), torch.tensor([0, 1, 2] * 3)
    calls = [(lambda x, t: losses.adjust_logits(x, priors, tau=1.5), 1e-12),
             # float32 result of float64 counts: exact either way (ratios of small integers)
             (lambda x, t: metrics.shot_accuracy(x, t, samples_per_class=counts, many_threshold=100, few_threshold=20), 0)]
    for fn, tol in calls:
        breaks, reasons = _explain(fn, x, t)
        assert breaks == 0, f"{breaks} graph breaks: {reasons}"
        torch._dynamo.reset()
        compiled = torch.compile(fn, backend="aot_eager", fullgraph=True)
        torch.testing.assert_close(compiled(x, t), fn(x, t), rtol=tol, atol=tol, equal_nan=True)
    torch._dynamo.reset()


_BAD_ARRAYS = [
    ("weighted_categorical_crossentropy", "class_weight", np.array([1.0, -2.0, 1.0])),
    ("class_balanced_loss", "samples_per_class", np.array([10.0, 0.0, 5.0])),
    ("logit_adjusted_crossentropy", "class_priors", np.array([0.5, np.nan, 0.2])),
    ("ldam_loss", "samples_per_class", np.array([10.0, -1.0, 5.0])),
]


@pytest.mark.parametrize("name, arg, array", _BAD_ARRAYS, ids=[b[0] for b in _BAD_ARRAYS])
def test_functional_form_compiled_rejects_a_numpy_hyperparameter_as_eager(name, arg, array):
    """A rejected NumPy-array hyperparameter raises eager's error and message from the
    compiled call (fullgraph=True): its check runs on the values at every call."""
    from torch_impl import losses

    fn = getattr(losses, name)
    x, t = torch.randn(4, 3), torch.tensor([0, 1, 2, 1])
    with pytest.raises(ValueError) as eager_error:
        fn(x, t, **{arg: array})
    torch._dynamo.reset()
    compiled = torch.compile(lambda x, t, a: fn(x, t, **{arg: a}).sum(), backend="aot_eager", fullgraph=True)
    with pytest.raises(ValueError) as compiled_error:
        compiled(x, t, array)
    assert str(compiled_error.value) == str(eager_error.value)
    torch._dynamo.reset()


@pytest.mark.parametrize("row", conformance.params(conformance.METRICS))
def test_metric_update_compiles_fullgraph_over_dynamic_batch_sizes(row):
    """metric.update and metric.compute compile without graph break (torchmetrics's own
    wrappers included) and with at most one recompile each over the batch sizes, under
    Dynamo's default settings (torchmetrics's int update counter is the metric's to make
    dynamic); the streamed result equals eager."""
    preds, target, _ = _inputs(row, BATCH_SIZES[0])
    probe = conformance.build("torch", row)
    breaks, reasons = _explain(probe.update, preds, target)
    assert breaks == 0, f"{breaks} graph breaks: {reasons}"

    torch._dynamo.reset()
    counters.clear()
    eager, streamed = conformance.build("torch", row), conformance.build("torch", row)
    update_frames, compute_frames = CompileCounterWithBackend("aot_eager"), CompileCounterWithBackend("aot_eager")
    step = torch.compile(streamed.update, backend=update_frames, fullgraph=True)
    result = torch.compile(streamed.compute, backend=compute_frames, fullgraph=True)
    for n in BATCH_SIZES * 2:
        preds, target, _ = _inputs(row, n, seed=n)
        eager.update(preds, target)
        step(preds, target)
        _close(result(), eager.compute())
    sizes = BATCH_SIZES * 2
    assert update_frames.frame_count <= 2, f"update: {update_frames.frame_count} compilations for batch sizes {sizes}"
    assert compute_frames.frame_count <= 2, f"compute: {compute_frames.frame_count} compilations for batch sizes {sizes}"
    assert _compiled_graphs() == update_frames.frame_count + compute_frames.frame_count
    torch._dynamo.reset()


@pytest.mark.parametrize("row", conformance.params(conformance.METRICS))
def test_metric_functional_form_compiles_fullgraph(row):
    """The row's functional metric (one batch, no state) with the row's arguments: no graph
    break, the compiled value equal to eager over two batch sizes."""
    from torch_impl import metrics

    fn = getattr(metrics, row.functional)

    def metric(preds, target):
        return fn(preds, target, **row.kwargs)

    preds, target, _ = _inputs(row, BATCH_SIZES[0])
    breaks, reasons = _explain(metric, preds, target)
    assert breaks == 0, f"{breaks} graph breaks: {reasons}"
    torch._dynamo.reset()
    compiled = torch.compile(metric, backend="aot_eager", fullgraph=True)
    for n in BATCH_SIZES[:2]:
        preds, target, _ = _inputs(row, n, seed=n)
        _close(compiled(preds, target), metric(preds, target))
    torch._dynamo.reset()


# ---------------------------------------------------------------------------------- autocast


def _linear(row):
    torch.manual_seed(0)
    return torch.nn.Linear(conformance.NUM_FEATURES, row.num_outputs)


def _forward(row, model, features):
    out = model(features)
    return out.squeeze(-1) if row.family == "binary" else out


@pytest.mark.parametrize("row", conformance.params(conformance.MATRIX))
def test_autocast_bfloat16(row):
    """Under torch.autocast the losses return float32, as torch's own losses do, with a finite
    gradient; the metrics take the bfloat16 scores."""
    i = row.inputs(32)
    features, target = torch.as_tensor(i.features), torch.as_tensor(i.target)
    model = _linear(row)
    obj = conformance.build("torch", row)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        preds = _forward(row, model, features)
        assert preds.dtype == torch.bfloat16
        value = _call(row, obj, preds, target)
        # torch's own loss under autocast, the reference behaviour: float32
        assert torch.nn.functional.binary_cross_entropy_with_logits(preds, torch.rand_like(preds)).dtype == torch.float32
    assert torch.isfinite(value).all()
    if row.kind == "metric":
        _close(value, _call(row, conformance.build("torch", row), preds.float(), target))
        return
    assert value.dtype == torch.float32, f"autocast: {value.dtype}, torch's own losses give float32"
    value.backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters())


# -------------------------------------------------------------------------------- state_dict


@pytest.mark.parametrize("row", conformance.params(conformance.MATRIX))
def test_state_dict_round_trip(row):
    """Loading the state_dict into a fresh module (its float buffers overwritten first) gives
    the same value: everything the value depends on beyond the constructor travels."""
    preds, target, sw = _inputs(row, 32)
    obj = conformance.build("torch", row)
    fresh = conformance.build("torch", row)
    if row.kind == "metric":
        obj.persistent(True)
        fresh.persistent(True)
        obj.update(preds, target)
        fresh.update(preds[:3], target[:3])
        fresh.load_state_dict(obj.state_dict())
        _close(fresh.compute(), obj.compute())
        return
    with torch.no_grad():
        for buffer in fresh.buffers():
            if buffer.is_floating_point():
                buffer.fill_(7.0)
    assert set(fresh.state_dict()) == set(obj.state_dict())
    fresh.load_state_dict(obj.state_dict())
    _close(_call(row, fresh, preds, target, sw), _call(row, obj, preds, target, sw))


# ---------------------------------------------------------------------------- sample weights


@pytest.mark.parametrize("row", conformance.params(conformance.MATRIX))
def test_sample_weight_b1_equals_b(row):
    preds, target, _ = _inputs(row, 32, seed=2)
    sw = torch.as_tensor(np.random.default_rng(0).uniform(0.2, 2.0, size=32).astype("float32"))
    obj = conformance.build("torch", row)
    _close(_call(row, obj, preds, target, sw[:, None]), _call(row, obj, preds, target, sw))


@pytest.mark.parametrize("row", conformance.params(conformance.SIGMOID))
def test_sigmoid_family_takes_exact_shapes_like_bce_with_logits(row):
    """torch's rule for the sigmoid family: target of the input's shape, no squeezing."""
    preds, target, _ = _inputs(row, 8)
    with pytest.raises(ValueError):
        torch.nn.BCEWithLogitsLoss()(preds[:, :1], target[:, 0])
    with pytest.raises(ValueError, match=r"(?i)shape"):
        conformance.build("torch", row, 1)(preds[:, :1], target[:, 0])
    with pytest.raises(ValueError, match=r"(?i)shape"):
        conformance.build("torch", row)(preds, target[:, 0])


# ------------------------------------------------------------- CrossEntropyLoss's layouts

D1, D2 = 3, 2


def _probabilities(shape, dim, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.softmax(2.0 * torch.randn(shape, generator=g), dim=dim)


def _layouts(row, seed=0):
    """(name, input, target, flat input (M, C), flat target (M,) or (M, C), unreduced shape) in
    CrossEntropyLoss's layouts: (C) with a () target, (N, C), (N, C, d1, d2) with (N, d1, d2)
    indices or probabilities of the input's shape."""
    n = 4
    i = row.inputs(n * D1 * D2, seed)
    logits = torch.as_tensor(i.logits)  # (M, C), M = n d1 d2
    target = torch.as_tensor(i.target)
    spatial = logits.reshape(n, D1, D2, conformance.K).permute(0, 3, 1, 2).contiguous()  # (N, C, d1, d2)
    probs = _probabilities((n, conformance.K, D1, D2), 1, seed)
    flat_probs = probs.permute(0, 2, 3, 1).reshape(-1, conformance.K)
    first = int(np.flatnonzero(i.target != (row.ignore_index if row.ignore_index is not None else -10**9))[0])
    return [
        ("unbatched", logits[first], target[first], logits[first:first + 1], target[first:first + 1], ()),
        ("batched", logits, target, logits, target, (n * D1 * D2,)),
        ("spatial-indices", spatial, target.reshape(n, D1, D2), logits, target, (n, D1, D2)),
        ("spatial-probabilities", spatial, probs, logits, flat_probs, (n, D1, D2)),
    ]


@pytest.mark.parametrize("row", conformance.params(conformance.SOFTMAX))
def test_softmax_family_takes_cross_entropy_layouts(row):
    """(C), (N, C), (N, C, d1, d2): the class on dim 1, as CrossEntropyLoss; the mean equals
    the call on the flattened (M, C) rows, "none" has CrossEntropyLoss's output shape."""
    for name, x, t, flat_x, flat_t, shape in _layouts(row):
        if row.index_targets_only and name == "spatial-probabilities":
            continue
        # one instance per call: a stateful loss (row.stateful) then sees each batch alone
        _close(conformance.build("torch", row)(x, t), conformance.build("torch", row)(flat_x, flat_t), msg=lambda m, name=name: f"{name}: {m}")
        none = conformance.build("torch", row, reduction="none")(x, t)
        assert tuple(none.shape) == shape, f"{name}: reduction='none' gives {tuple(none.shape)}, expected {shape}"
        flat_none = conformance.build("torch", row, reduction="none")(flat_x, flat_t)
        _close(none, flat_none.reshape(shape), msg=lambda m, name=name: f"{name}: {m}")


WCCE = [r for r in conformance.ROWS if r.name == "WeightedCategoricalCrossentropy"]


@pytest.mark.parametrize("row", conformance.params(WCCE))
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_weighted_cce_equals_cross_entropy_loss_in_every_layout(row, reduction):
    """Exactly CrossEntropyLoss(weight, label_smoothing, ignore_index), value and gradient, in
    each of its layouts. Probability targets with class weights: torch's mean divides by the
    number of samples, ours by the summed weights (normalization="weight"), so that mean is
    compared without class weights."""
    for name, x, t, _, _, _ in _layouts(row, seed=1):
        kwargs = dict(row.kwargs)
        if name == "spatial-probabilities" and reduction == "mean":
            kwargs["class_weight"] = None
        weight = kwargs.get("class_weight")
        ref = torch.nn.CrossEntropyLoss(
            weight=None if weight is None else torch.tensor(weight, dtype=torch.float32),
            label_smoothing=kwargs.get("label_smoothing", 0.0),
            ignore_index=-100 if kwargs.get("ignore_index") is None else kwargs["ignore_index"],
            reduction=reduction,
        )
        ours = conformance.framework_class("torch", row)(**kwargs, reduction=reduction)
        xr = x.clone().requires_grad_(True)
        xo = x.clone().requires_grad_(True)
        want, got = ref(xr, t), ours(xo, t)
        _close(got, want, msg=lambda m, name=name: f"{name}: {m}")
        want.sum().backward()
        got.sum().backward()
        _close(xo.grad, xr.grad, atol=1e-7, msg=lambda m, name=name: f"{name} gradient: {m}")
