"""Deferred content checks: how a check whose flag lives on an accelerator raises without a
host-device synchronisation.

A framework computes a check's failure flag on the device, starts an asynchronous copy of it to
the host and submits it here with a readiness probe (a CUDA event's `query()`, which never
blocks). Every later check polls the queue first: a flag whose copy has landed is read (a host
read, no device sync) and, if set, its `fail()` raises the same message as an immediate check
would. So on a GPU an invalid batch raises at a later call (usually the next step), never
silently; on the CPU the frameworks check at once and never come here.

The queue is framework-neutral (callables only). It is bounded: beyond `limit` pending checks
the oldest is waited for (the only blocking path, reached only when nothing completes).

One queue serves every caller: torch_impl, and tf_impl on Keras's torch backend, hand their
flags (0-d bool torch tensors) to `device_check`, so a failure raises at the next check of
either. This module imports torch only to copy a CUDA flag, so it stays importable without it.
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from typing import Any, NamedTuple

from . import validation


class _Pending(NamedTuple):
    ready: Callable[[], bool]  # non-blocking: has the flag's host copy landed?
    failed: Callable[[], bool]  # reads the landed host copy
    wait: Callable[[], None]  # blocks until it lands (bounded-queue fallback)
    fail: Callable[[], None]  # raises the check's ValueError


class DeferredChecks:
    """A FIFO of checks whose flags are in flight to the host; flags complete in submission
    order (one stream), so polling stops at the first one still in flight."""

    def __init__(self, limit: int = 64):
        self._queue: collections.deque[_Pending] = collections.deque()
        self._limit = limit

    def __len__(self) -> int:
        return len(self._queue)

    def submit(self, *, ready: Callable[[], bool], failed: Callable[[], bool], wait: Callable[[], None],
               fail: Callable[[], None]) -> None:
        self.poll()
        self._queue.append(_Pending(ready, failed, wait, fail))
        while len(self._queue) > self._limit:
            self._queue[0].wait()
            self._pop_and_raise()

    def poll(self) -> None:
        """Raises the first landed failure; drops landed successes."""
        while self._queue and self._queue[0].ready():
            self._pop_and_raise()

    def flush(self) -> None:
        """Waits for every pending check and raises the first failure (blocking)."""
        while self._queue:
            self._queue[0].wait()
            self._pop_and_raise()

    def _pop_and_raise(self) -> None:
        check = self._queue.popleft()
        if check.failed():
            # later checks may describe the same bad data: raise this one, keep the rest
            check.fail()


# Device types whose content checks are deferred: the failure flag is computed on the device and
# copied to pinned host memory asynchronously, and a later check reads it once a CUDA event says
# it has landed, so a validated call never waits for the device. Elsewhere (the CPU) checks run
# at once. Tests add "cpu" here to exercise the deferred path without a GPU.
DEFERRED_DEVICES = {"cuda"}
PENDING = DeferredChecks()


def _async_flag(bad: Any) -> tuple[Any, Callable[[], bool], Callable[[], None]]:
    """(host copy, ready, wait) for a 0-d bool torch flag: an asynchronous copy on CUDA."""
    if bad.device.type == "cuda":
        import torch

        host = torch.empty((), dtype=torch.bool, pin_memory=True)
        host.copy_(bad, non_blocking=True)
        event = torch.cuda.Event()
        event.record()
        return host, event.query, event.synchronize
    return bad.detach().to("cpu", copy=True), (lambda: True), (lambda: None)


def device_check(bad: Any, describe: Callable[[], None], message: str) -> None:
    """Raises ValueError when the 0-d bool torch tensor `bad` (or a Python bool, a check already
    read on the host) is true.

    `describe()` raises the detailed message (it reads the offending values back, only on a
    failure); `message` is the fallback when the values changed before a deferred read. On the
    CPU the check runs at once; on CUDA it is deferred (see DEFERRED_DEVICES) and raises at a
    later checked call, usually the next step; on the meta device there is nothing to read.
    Every check polls the pending ones first.
    """
    PENDING.poll()
    if isinstance(bad, bool):
        if bad:
            _raise(describe, message)
        return
    if bad.device.type == "meta":
        return
    if bad.device.type not in DEFERRED_DEVICES:
        if bool(bad):
            _raise(describe, message)
        return
    host, ready, wait = _async_flag(bad)
    PENDING.submit(ready=ready, failed=lambda: bool(host), wait=wait, fail=lambda: _raise(describe, message))


def flush_checks() -> None:
    """Waits for the deferred checks in flight and raises the first failure (a host sync)."""
    PENDING.flush()


def _raise(describe: Callable[[], None], message: str) -> None:
    describe()
    raise ValueError(validation.deferred_failure_message(message))
