"""Memory readings for the benchmarks (Linux /proc): the current resident set, and the peak
of this address space."""

from __future__ import annotations


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def rss_mb() -> float:
    """Current resident memory: the baseline a case's peak is measured from."""
    return _status_mb("VmRSS")


def peak_mb() -> float:
    """Peak resident memory of this address space (VmHWM). `getrusage`'s ru_maxrss would carry
    over the parent's peak, which survives fork and exec on Linux."""
    return _status_mb("VmHWM")


def anon_mb() -> float:
    """Current anonymous resident memory (RssAnon): the heap, leaving out shared memory (such as
    Ray's object store mapped into the process) and mapped files."""
    return _status_mb("RssAnon")
