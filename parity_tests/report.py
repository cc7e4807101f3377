"""The outcome of a migration check (`compare_losses`, `compare_metrics`, `compare_pipelines`).

One `CellResult` per cell, formatted by the parity matrix's own tables (matrix.py), so that a
migration check reads like `classbalance-parity`.
"""

from __future__ import annotations

from dataclasses import dataclass

from .harness import CellResult
from .matrix import explanations, format_results, summary

__all__ = ["ParityReport"]


@dataclass
class ParityReport:
    """The outcome of a migration check: one `CellResult` per cell, `.passed`, `.table()`, `.summary()`,
    `.explain()` (each failure in words) and `.as_json()`.

    Examples:
        >>> import torch
        >>> from parity_tests.api import compare_losses
        >>> report = compare_losses(torch_loss=torch.nn.BCEWithLogitsLoss(), dtypes=("float32",), devices=("cpu",))
        >>> report.passed, len(report.results)
        (True, 3)
        >>> print(report.summary())
        parity: ALL PASS: 3 passed, 0 failed, 0 skipped (3 cases; torch)
    """
    results: list[CellResult]

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    def table(self, fmt: str = "table", *, cells: bool = False) -> str:
        """"table" or "markdown": one row per loss x framework x device (`cells=True`: per cell),
        errors as a multiple of the tolerance, the dtype each side computed in, then each failure
        in words; "json": strict JSON, as `as_json()`."""
        return format_results(self.results, fmt, cells=cells)

    def explain(self) -> list[str]:
        """Each failure in words (value or gradient, the worst entry, the likely cause and what to
        change), then how each non-table tolerance was derived."""
        return explanations(self.results, every_cell=True)

    def summary(self) -> str:
        return summary(self.results)

    def as_json(self) -> str:
        """Strict JSON (null, never NaN), each cell with a status passed/failed/skipped."""
        return format_results(self.results, "json")
