"""MkDocs hook: the API reference lists every public module of a package.

A page under api/ that contains the line `<!-- api-modules: PACKAGE -->` gets, in its place, one
mkdocstrings entry (`::: PACKAGE.MODULE`) per public module of PACKAGE: each module whose name
does not start with an underscore and that defines `__all__`. A new public module therefore
appears in the reference without editing the page, and mkdocstrings renders every name of its
`__all__`."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MARKER = re.compile(r"^<!-- api-modules: (?P<package>[\w.]+) -->$", re.M)


def defines_all(path: Path) -> bool:
    """Whether the module assigns `__all__` at its top level (read, not imported)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
            return True
    return False


def public_modules(package: str) -> list[str]:
    """`package.module` for each public module of the package that defines `__all__`, sorted."""
    folder = ROOT / package.replace(".", "/")
    names = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith("_"):
            continue
        if path.suffix == ".py" and defines_all(path):
            names.append(f"{package}.{path.stem}")
        elif path.is_dir() and (path / "__init__.py").exists() and defines_all(path / "__init__.py"):
            names.append(f"{package}.{path.name}")
    return names


def on_page_markdown(markdown: str, **kwargs) -> str:
    def entries(match: re.Match) -> str:
        return "\n\n".join(f"::: {module}" for module in public_modules(match.group("package")))

    return MARKER.sub(entries, markdown)
