"""The version of the classbalance distribution, written here once.

pyproject.toml reads it (`dynamic = ["version"]`), so the installed metadata carries the same
string; each package exposes it as `__version__`."""

__version__ = "0.1.0"
