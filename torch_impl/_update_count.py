"""torchmetrics under torch.compile: the update counter that would recompile every call."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import torch


class DynamicUpdateCount:
    """Mixin for a `torchmetrics.Metric` (listed before it): `torch.compile` of its `update`
    and `compute` compiles at most twice over changing batch sizes, with no user setting.

    torchmetrics's `update` wrapper counts calls in `self._update_count`, an int attribute of
    the module, and `compute`'s wrapper reads it; Dynamo treats a module's int attributes as
    constants, so each call would recompile (torchmetrics issue #1780; the global switch is
    `torch._dynamo.config.allow_unspec_int_on_nn_module`). The mixin turns that switch on for
    the traced wrapper only, while Dynamo traces it (`torch._dynamo.patch_dynamo_config`, a
    config patch Dynamo applies during tracing): the counter turns symbolic at its first
    change, in the same recompile that makes the batch dimension dynamic. Run eagerly, the
    wrappers are torchmetrics's own. On a torch without `patch_dynamo_config` the wrappers are
    left as they are (set the global switch)."""

    def _wrap_update(self, update: Callable) -> Callable:
        return _traced_update(super()._wrap_update(update))  # type: ignore[misc]

    def _wrap_compute(self, compute: Callable) -> Callable:
        return _traced_compute(super()._wrap_compute(compute))  # type: ignore[misc]


def _dynamic_int_patched(wrapped: Callable) -> Callable | None:
    """`wrapped` under `allow_unspec_int_on_nn_module`, or None on a torch without the patch."""
    import torch._dynamo

    patch = getattr(torch._dynamo, "patch_dynamo_config", None)
    return None if patch is None else patch(allow_unspec_int_on_nn_module=True)(wrapped)


def _call_traced(patched: Callable | None, wrapped: Callable, args: tuple, kwargs: dict) -> Any:
    """The patched wrapper while Dynamo traces, torchmetrics's own when run eagerly."""
    if patched is not None and torch.compiler.is_compiling():
        return patched(*args, **kwargs)
    return wrapped(*args, **kwargs)


# Two functions, not one factory: Dynamo caches compiled code per code object (and limits its
# recompiles per code object), so update and compute each need a frame of their own.
def _traced_update(wrapped: Callable) -> Callable:
    patched = _dynamic_int_patched(wrapped)

    def update(*args: Any, **kwargs: Any) -> Any:
        return _call_traced(patched, wrapped, args, kwargs)

    return wrapped if patched is None else functools.wraps(wrapped)(update)


def _traced_compute(wrapped: Callable) -> Callable:
    patched = _dynamic_int_patched(wrapped)

    def compute(*args: Any, **kwargs: Any) -> Any:
        return _call_traced(patched, wrapped, args, kwargs)

    return wrapped if patched is None else functools.wraps(wrapped)(compute)
