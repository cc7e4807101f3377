"""The mirror rule itself (docs/design.md): every public module of tf_impl has a twin in torch_impl,
every public name a twin of the same name, with the same keyword arguments, kinds and
defaults. What the frameworks dictate is listed once, in the tables below; everything else
must match exactly, and an entry that no longer applies fails too, so the tables stay true.

Introspection only (inspect.signature): nothing runs on a Keras backend, so the test is not
marked `keras` and runs in the first pytest process. It imports tf_impl.data (tf.data).
"""

import importlib
import inspect
import pkgutil

import pytest

keras = pytest.importorskip("keras")
torch = pytest.importorskip("torch")
torchmetrics = pytest.importorskip("torchmetrics")
pytest.importorskip("tensorflow")

import tf_impl  # noqa: E402
import torch_impl  # noqa: E402

# ------------------------------------------------------------- framework-dictated differences

# Class kinds: the Keras base class and its PyTorch twin's, and the constructor keywords that
# come from the framework. tf_only / torch_only: keywords (or "**kwargs") one side alone takes;
# defaults: keywords both take with a framework-specific default, as (tf default, torch default).
CLASS_KINDS = {  # checked in this order: a torchmetrics.Metric is an nn.Module too
    "metric": dict(
        tf_base=keras.metrics.Metric, torch_base=torchmetrics.Metric,
        tf_only={"name", "dtype"},  # keras.metrics.Metric(name, dtype)
        torch_only={"**kwargs"},  # torchmetrics.Metric(**kwargs): dist_sync_on_step, sync_on_compute, ...
        defaults={},
    ),
    "loss": dict(
        tf_base=keras.losses.Loss, torch_base=torch.nn.Module,
        tf_only={"name", "dtype"},  # keras.losses.Loss(name, dtype); `name` defaults to the snake_case name
        torch_only=set(),
        defaults={"reduction": ("sum_over_batch_size", "mean")},  # each framework's reduction names
    ),
    "layer": dict(  # decisions.PriorShift: a Keras layer, a torch module
        tf_base=keras.layers.Layer, torch_base=torch.nn.Module,
        tf_only={"**kwargs"},  # keras.layers.Layer(**kwargs): name, dtype, trainable, ...
        torch_only=set(),
        defaults={},
    ),
}

# The leading positional tensor arguments of functions: (module, tf names) -> torch names;
# the positional arguments after them match by name. Keras: fn(y_true, y_pred); torch losses:
# fn(input, target); torchmetrics: fn(preds, target).
POSITIONAL_NAMES = {
    ("losses", ("y_true", "y_pred")): ("input", "target"),
    ("losses", ("y_pred",)): ("input",),  # adjust_logits(logits, class_priors)
    ("metrics", ("y_true", "y_pred")): ("preds", "target"),
}

# Functions with framework keywords: (module, name) -> keywords one side alone takes, as in
# CLASS_KINDS (tf_only, torch_only, defaults).
FUNCTION_KEYWORDS = {
    ("data", "balanced_batches"): dict(
        tf_only=set(),
        # torch yields one DDP process's share of each global batch; tf yields the global batch and
        # tf.distribute splits it (num_replicas may be a tf.distribute.Strategy there)
        torch_only={"rank"},
        defaults={},
    ),
}

# Public names that exist in one package only: (module, name) -> (the package that has it, why).
ONE_SIDE_ONLY = {
    ("data", "BalancedBatchSampler"): ("torch_impl", "a torch.utils.data.Sampler for DataLoader(batch_sampler=...)"),
}

PACKAGES = (tf_impl, torch_impl)

# ------------------------------------------------------------------------------ introspection


def _public_modules(pkg):
    return sorted(m.name for m in pkgutil.iter_modules(pkg.__path__) if not m.name.startswith("_"))


def _family_modules(pkg):
    """The public modules of the package's public subpackages, "losses.sigmoid" and the like:
    the twins line up file for file there too."""
    names = []
    for m in pkgutil.iter_modules(pkg.__path__):
        if m.ispkg and not m.name.startswith("_"):
            sub = importlib.import_module(f"{pkg.__name__}.{m.name}")
            names += [f"{m.name}.{n}" for n in _public_modules(sub)]
    return sorted(names)


def _public_names(module):
    """`__all__`, plus any public function or class defined in the module but left out of it."""
    names = set(getattr(module, "__all__", ()))
    for name, obj in vars(module).items():
        if not name.startswith("_") and (inspect.isfunction(obj) or inspect.isclass(obj)) \
                and getattr(obj, "__module__", None) == module.__name__:
            names.add(name)
    return names


def _kind(obj, side):
    if not inspect.isclass(obj):
        return "function"
    for kind, spec in CLASS_KINDS.items():
        if issubclass(obj, spec[f"{side}_base"]):
            return kind
    return "class"


def _split(obj):
    """(leading positional names without defaults, {keyword: (kind, default)}) of a callable."""
    positional, keywords = [], {}
    for p in inspect.signature(obj).parameters.values():
        if p.kind is p.VAR_KEYWORD:
            keywords["**kwargs"] = ("VAR_KEYWORD", None)
        elif p.kind is p.VAR_POSITIONAL:
            keywords["*args"] = ("VAR_POSITIONAL", None)
        elif p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty and not keywords:
            positional.append(p.name)
        else:
            keywords[p.name] = (p.kind.name, p.default)
    return tuple(positional), keywords


def _tensor_prefix(module_name, positional):
    """The longest tf prefix of `positional` that POSITIONAL_NAMES renames, or ()."""
    for n in range(len(positional), 0, -1):
        if (module_name, positional[:n]) in POSITIONAL_NAMES:
            return positional[:n]
    return ()


def _as_torch_positional(module_name, positional):
    prefix = _tensor_prefix(module_name, positional)
    renamed = POSITIONAL_NAMES[(module_name, prefix)] if prefix else ()
    return renamed + positional[len(prefix):]


def _same_default(a, b):
    return type(a) is type(b) and a == b


def _fmt(value):
    return "<required>" if value is inspect.Parameter.empty else repr(value)


def mirror_differences(module_name):
    """Every difference between tf_impl.<module> and torch_impl.<module> that the tables do not
    allow, one readable line each."""
    tf_mod = importlib.import_module(f"tf_impl.{module_name}")
    torch_mod = importlib.import_module(f"torch_impl.{module_name}")
    tf_names, torch_names = _public_names(tf_mod), _public_names(torch_mod)
    full_name, module_name = module_name, module_name.split(".")[0]  # the tables name the top-level module
    problems = []
    for name in sorted(tf_names ^ torch_names):
        have = "tf_impl" if name in tf_names else "torch_impl"
        allowed = ONE_SIDE_ONLY.get((module_name, name))
        if allowed is None or allowed[0] != have:
            missing = "torch_impl" if have == "tf_impl" else "tf_impl"
            problems.append(f"{full_name}.{name}: in {have} only, no twin in {missing}")
    for name in sorted(tf_names & torch_names):
        if (module_name, name) in ONE_SIDE_ONLY:
            problems.append(f"{full_name}.{name}: listed in ONE_SIDE_ONLY but present in both packages")
        a, b = getattr(tf_mod, name), getattr(torch_mod, name)
        where = f"{full_name}.{name}"
        ka, kb = _kind(a, "tf"), _kind(b, "torch")
        # torch has one base, nn.Module, for losses and layers: there the tf kind decides
        same_torch_base = ka in CLASS_KINDS and kb in CLASS_KINDS and \
            CLASS_KINDS[ka]["torch_base"] is CLASS_KINDS[kb]["torch_base"]
        if ka != kb and not same_torch_base:
            problems.append(f"{where}: a {ka} in tf_impl but a {kb} in torch_impl (CLASS_KINDS pairs the "
                            f"base classes; a new pair of bases needs its row there)")
            continue
        spec = CLASS_KINDS.get(ka) or FUNCTION_KEYWORDS.get((module_name, name))
        listed = spec is not None
        spec = spec or dict(tf_only=set(), torch_only=set(), defaults={})
        (pa, kwa), (pb, kwb) = _split(a), _split(b)
        if _as_torch_positional(module_name, pa) != pb:
            problems.append(f"{where}: positional arguments {pa} in tf_impl but {pb} in torch_impl")
        for kw in sorted(set(kwa) | set(kwb)):
            if kw not in kwb:
                if kw not in spec["tf_only"]:
                    problems.append(f"{where}: keyword `{kw}` in tf_impl only")
                continue
            if kw not in kwa:
                if kw not in spec["torch_only"]:
                    problems.append(f"{where}: keyword `{kw}` in torch_impl only")
                continue
            (kind_a, da), (kind_b, db) = kwa[kw], kwb[kw]
            if kind_a != kind_b:
                problems.append(f"{where}: `{kw}` is {kind_a} in tf_impl but {kind_b} in torch_impl")
            want = spec["defaults"].get(kw, None)
            if want is not None:
                if not (_same_default(da, want[0]) and _same_default(db, want[1])):
                    problems.append(f"{where}: `{kw}` defaults to {_fmt(da)} / {_fmt(db)}; the table says "
                                    f"{want[0]!r} in tf_impl, {want[1]!r} in torch_impl")
            elif not _same_default(da, db):
                problems.append(f"{where}: `{kw}` defaults to {_fmt(da)} in tf_impl but {_fmt(db)} in torch_impl")
        for kw in sorted(spec["tf_only"] - set(kwa)) if listed else ():
            problems.append(f"{where}: framework keyword `{kw}` missing in tf_impl")
        for kw in sorted(spec["torch_only"] - set(kwb)) if listed else ():
            problems.append(f"{where}: framework keyword `{kw}` missing in torch_impl")
    return problems


# ---------------------------------------------------------------------------------------- tests


def test_the_same_public_modules():
    assert _public_modules(tf_impl) == _public_modules(torch_impl)
    assert _family_modules(tf_impl) == _family_modules(torch_impl)
    for pkg in PACKAGES:  # the lazy loader in __init__ lists every public module
        if hasattr(pkg, "_SUBMODULES"):
            assert sorted(pkg._SUBMODULES) == _public_modules(pkg), pkg.__name__


@pytest.mark.parametrize("module_name", _public_modules(tf_impl) + _family_modules(tf_impl))
def test_the_same_names_keywords_and_defaults(module_name):
    problems = mirror_differences(module_name)
    assert not problems, "mirror rule broken:\n  " + "\n  ".join(problems)


def test_every_table_entry_is_still_needed():
    """An exception that no public name uses any more is removed from the table."""
    modules = _public_modules(tf_impl)
    for (module_name, name), (side, _) in ONE_SIDE_ONLY.items():
        assert module_name in modules, (module_name, name)
        assert name in _public_names(importlib.import_module(f"{side}.{module_name}")), (module_name, name)
    used = set()
    for module_name in modules:
        tf_mod = importlib.import_module(f"tf_impl.{module_name}")
        for name in _public_names(tf_mod):
            obj = getattr(tf_mod, name)
            if inspect.isfunction(obj):
                used.add((module_name, _tensor_prefix(module_name, _split(obj)[0])))
            else:
                used.add(_kind(obj, "tf"))
    for module_name, name in FUNCTION_KEYWORDS:  # its keywords are checked by mirror_differences
        for pkg in PACKAGES:
            assert inspect.isfunction(getattr(importlib.import_module(f"{pkg.__name__}.{module_name}"), name, None)), (
                pkg.__name__, module_name, name)
    assert set(POSITIONAL_NAMES) <= used, set(POSITIONAL_NAMES) - used
    assert set(CLASS_KINDS) <= used, set(CLASS_KINDS) - used


@pytest.mark.parametrize("package", [tf_impl, torch_impl], ids=lambda p: p.__name__)
def test_only_the_required_data_argument_is_positional(package):
    """The documented signatures: a loss or metric class takes at most its required data (class
    counts, priors, number of classes; DeferredReweighting: the loss it acts on) positionally,
    as in `LDAMLoss(samples_per_class)`; every hyperparameter is keyword-only."""
    for module_name in ("losses", "metrics"):
        module = importlib.import_module(f"{package.__name__}.{module_name}")
        for name in module.__all__:
            cls = getattr(module, name)
            if not inspect.isclass(cls):
                continue
            params = list(inspect.signature(cls.__init__).parameters.values())[1:]
            data = [p for p in params if p.name in ("samples_per_class", "class_priors") and p.default is p.empty]
            assert all(p.kind is p.POSITIONAL_OR_KEYWORD for p in data), (name, data)  # LDAMLoss(n) works
            positional = [p for p in params if p.kind is p.POSITIONAL_OR_KEYWORD]
            assert len(positional) <= 1, (name, [p.name for p in positional])
            for p in positional:
                assert p.default is p.empty and p.name in ("samples_per_class", "class_priors", "num_classes", "loss"), (name, p)


def _declaration_params():
    from imbalance_core import loss_specs

    return [pytest.param(d, id=d.name) for d in loss_specs.specs()]


@pytest.mark.parametrize("declaration", _declaration_params())
@pytest.mark.parametrize("package", [tf_impl, torch_impl], ids=lambda p: p.__name__)
def test_every_declared_loss_has_its_twins_with_the_declared_arguments(package, declaration):
    """Each declaration (imbalance_core.loss_specs) has its class and functional form in the
    declared family module, re-exported by `losses`, taking exactly the declared arguments (plus
    `validate_args` and the framework's keywords) with the declared defaults."""
    family = importlib.import_module(f"{package.__name__}.losses.{declaration.module}")
    losses = importlib.import_module(f"{package.__name__}.losses")
    for form, name in (("class", declaration.class_name), ("functional", declaration.name)):
        obj = getattr(family, name)
        assert getattr(losses, name) is obj and name in family.__all__, (package.__name__, name)
        _, keywords = _split(obj)
        if form == "class":
            assert issubclass(obj, family._base.DeclaredLoss) and obj.spec is declaration, name
            framework = CLASS_KINDS["loss"]["tf_only" if package is tf_impl else "torch_only"] | {"reduction"}
        else:
            framework = set()
        signature = inspect.signature(obj)
        required = {p.name for p in signature.parameters.values() if p.default is p.empty}
        declared = declaration.defaults(form)
        got = {k: d for k, (_, d) in keywords.items() if k not in framework and k != "validate_args"}
        got.update({k: inspect.Parameter.empty for k in required if k in declared})
        assert got == declared, (package.__name__, name, got, declared)
