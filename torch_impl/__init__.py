"""classbalance for PyTorch: nn.Module losses, torchmetrics metrics, class weights and
DataLoader batch samplers. The mirror of tf_impl: same names, arguments and defaults.

Submodules load on first access: `torch_impl.losses`, `torch_impl.metrics`,
`torch_impl.class_weights`, `torch_impl.data`. Never imports tensorflow or keras.
"""

import importlib
import types

from imbalance_core._version import __version__ as __version__

_SUBMODULES = ("losses", "metrics", "class_weights", "data", "decisions")


def __getattr__(name: str) -> types.ModuleType:
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
