"""MkDocs hook: the API reference lists every public module of a package.

A page under api/ that contains the line `<!-- api-modules: PACKAGE -->` gets, in its place, one
mkdocstrings entry (`::: PACKAGE.MODULE`) per public module of PACKAGE: each module whose name
does not start with an underscore and that defines `__all__`. A new public module therefore
appears in the reference without editing the page, and mkdocstrings renders every name of its
`__all__`. After the build, every exported name must have its own entry in the inventory
(objects.inv): a missing one is a warning, which fails `mkdocs build --strict`."""

from __future__ import annotations

import ast
import logging
import re
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MARKER = re.compile(r"^<!-- api-modules: (?P<package>[\w.]+) -->$", re.M)
ENTRY = re.compile(r"^::: (?P<module>[\w.]+)$", re.M)
LOG = logging.getLogger("mkdocs.hooks.api_pages")
_DOCUMENTED: set[str] = set()  # the modules the pages listed in this build


def exported_names(path: Path) -> list[str] | None:
    """The module's `__all__` (assignments and `+=` of literal lists at its top level), read
    without importing it; None when it has none."""
    names = None
    for node in ast.parse(path.read_text(), filename=str(path)).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            names = list(ast.literal_eval(node.value))
        elif (isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) and node.target.id == "__all__"
              and names is not None):
            names += list(ast.literal_eval(node.value))
    return names


def defines_all(path: Path) -> bool:
    return exported_names(path) is not None


def _module_path(module: str) -> Path:
    path = ROOT / module.replace(".", "/")
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


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
        modules = public_modules(match.group("package"))
        _DOCUMENTED.update(modules)
        return "\n\n".join(f"::: {module}" for module in modules)

    _DOCUMENTED.update(m.group("module") for m in ENTRY.finditer(markdown))
    return MARKER.sub(entries, markdown)


def inventory(site_dir: Path) -> set[str]:
    """The object names of the site's objects.inv (Sphinx inventory, version 2)."""
    data = (site_dir / "objects.inv").read_bytes()
    body = zlib.decompress(data.split(b"\n", 4)[4]).decode()
    return {line.split(" ", 1)[0] for line in body.splitlines() if line}


def on_post_build(config, **kwargs) -> None:
    """Every name of every documented module's `__all__` has its own entry."""
    found = inventory(Path(config["site_dir"]))
    for module in sorted(_DOCUMENTED):
        missing = [n for n in exported_names(_module_path(module)) or [] if f"{module}.{n}" not in found]
        if missing:
            LOG.warning("API reference: %s exports %s without an entry", module, ", ".join(missing))
