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
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from typing import NamedTuple


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
