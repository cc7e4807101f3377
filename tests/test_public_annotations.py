"""The public API is fully annotated: every function, and every public method of every class,
named in a public module's `__all__` annotates each parameter (self aside) and its return
(`__init__` aside). mypy checks the annotations themselves (`make lint`)."""

import importlib
import inspect

import pytest

PUBLIC_MODULES = [
    "imbalance_core.class_weights", "imbalance_core.decisions", "imbalance_core.metrics", "imbalance_core.schedule",
    "imbalance_core.stream", "imbalance_core.validation",
    "tf_impl.class_weights", "tf_impl.data", "tf_impl.decisions", "tf_impl.losses", "tf_impl.metrics",
    "torch_impl.class_weights", "torch_impl.data", "torch_impl.decisions", "torch_impl.losses", "torch_impl.metrics",
    "parity_tests.api",
]
PACKAGES = ("imbalance_core", "tf_impl", "torch_impl", "parity_tests")


def _unannotated(fn, is_method: bool) -> list[str]:
    sig = inspect.signature(fn)
    params = list(sig.parameters.values())[1 if is_method else 0:]
    missing = [p.name for p in params if p.annotation is inspect.Parameter.empty]
    if sig.return_annotation is inspect.Signature.empty and fn.__name__ != "__init__":
        missing.append("return")
    return missing


def _public_callables(module):
    for name in module.__all__:
        obj = getattr(module, name)
        if inspect.isclass(obj):
            for attr, fn in vars(obj).items():
                if inspect.isfunction(fn) and (attr == "__init__" or not attr.startswith("_")):
                    yield f"{name}.{attr}", fn, True
        elif inspect.isfunction(obj) and obj.__module__.startswith(PACKAGES):
            yield name, obj, False


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_public_callables_are_fully_annotated(module_name):
    pytest.importorskip("tensorflow" if module_name.startswith("tf_impl") else "numpy")
    if module_name.startswith("torch_impl"):
        pytest.importorskip("torch")
    module = importlib.import_module(module_name)
    found = list(_public_callables(module))
    assert found, f"{module_name} has no public function or class"
    incomplete = {name: missing for name, fn, is_method in found if (missing := _unannotated(fn, is_method))}
    assert not incomplete, f"{module_name}: not annotated: {incomplete}"
