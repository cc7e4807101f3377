"""The cross-framework parity suite of classbalance: the float64 oracle, the case table, the
tolerance table, the parity report (`classbalance-parity`) and the migration API
(`parity_tests.api`)."""

from imbalance_core._version import __version__ as __version__
