"""Framework-neutral NumPy core of classbalance: argument validation and its messages,
class-weight formulas and the balanced batch schedule. Depends on NumPy alone."""

import importlib
import types

from ._version import __version__ as __version__

_SUBMODULES = ("validation", "class_weights", "schedule", "metrics")


def __getattr__(name: str) -> types.ModuleType:
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
