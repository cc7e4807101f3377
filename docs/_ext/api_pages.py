"""MkDocs hook: the API reference lists every public module of a package, and the loss tables
come from the loss declarations.

A page under api/ that contains the line `<!-- api-modules: PACKAGE -->` gets, in its place, one
mkdocstrings entry (`::: PACKAGE.MODULE`) per public module of PACKAGE: each module whose name
does not start with an underscore and that defines `__all__`. A new public module therefore
appears in the reference without editing the page, and mkdocstrings renders every name of its
`__all__`. After the build, every exported name must have its own entry in the inventory
(objects.inv): a missing one is a warning, which fails `mkdocs build --strict`.

A page line `<!-- loss-table -->` (every declared loss) or `<!-- loss-table: MODULE -->` (the
losses of tf_impl/losses/MODULE.py and torch_impl/losses/MODULE.py) becomes a table made from the
declarations in `imbalance_core.loss_specs`, and `<!-- anchor-table -->` the table of every
declared loss's anchors and paper: a declared loss is listed with nothing edited here."""

from __future__ import annotations

import ast
import logging
import re
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MARKER = re.compile(r"^<!-- api-modules: (?P<package>[\w.]+) -->$", re.M)
ENTRY = re.compile(r"^::: (?P<module>[\w.]+)$", re.M)
LOSS_TABLE = re.compile(r"^<!-- loss-table(?:: (?P<module>\w+))? -->$", re.M)
ANCHOR_TABLE = re.compile(r"^<!-- anchor-table -->$", re.M)
LOG = logging.getLogger("mkdocs.hooks.api_pages")
_DOCUMENTED: set[str] = set()  # the modules the pages listed in this build


def _names(value: ast.expr, path: Path) -> list[str]:
    """A literal list of names; its `*module.__all__` items (a package re-exporting its
    modules' names) read from the sibling module's file."""
    if isinstance(value, (ast.List, ast.Tuple)) and any(isinstance(e, ast.Starred) for e in value.elts):
        names: list[str] = []
        for element in value.elts:
            if isinstance(element, ast.Starred):
                module = ast.unparse(element.value).removesuffix(".__all__")
                names += exported_names(path.parent / f"{module.replace('.', '/')}.py") or []
            else:
                names.append(ast.literal_eval(element))
        return names
    return list(ast.literal_eval(value))


def exported_names(path: Path) -> list[str] | None:
    """The module's `__all__` (assignments and `+=` of literal lists at its top level, where
    `*module.__all__` stands for a sibling module's), read without importing it; None when it
    has none."""
    names = None
    for node in ast.parse(path.read_text(), filename=str(path)).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            names = _names(node.value, path)
        elif (isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) and node.target.id == "__all__"
              and names is not None):
            names += _names(node.value, path)
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
            if _reexports_modules(path / "__init__.py"):  # documented module by module, where the names live
                names += public_modules(f"{package}.{path.name}")
            else:
                names.append(f"{package}.{path.name}")
    return names


def _reexports_modules(path: Path) -> bool:
    """Whether the package's `__all__` is its modules' (`[*module.__all__, ...]`)."""
    for node in ast.parse(path.read_text(), filename=str(path)).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            return isinstance(node.value, ast.List) and any(isinstance(e, ast.Starred) for e in node.value.elts)
    return False


def _default(value) -> str:
    import inspect

    return "required" if value is inspect.Parameter.empty else f"`{value!r}`"


def loss_table(module: str | None = None) -> str:
    """The declared losses (of one family module, or all) as a Markdown table."""
    from imbalance_core import loss_specs

    rows = ["| class / functional | family | arguments (default) | computes | paper |", "|---|---|---|---|---|"]
    for d in loss_specs.specs():
        if module is not None and d.module != module:
            continue
        arguments = ", ".join(f"`{a.name}` {_default(a.default)}" for a in d.arguments("class"))
        rows.append(f"| `{d.class_name}` / `{d.name}` | {d.family} | {arguments} | {d.summary} | {d.paper or '-'} |")
    return "\n".join(rows)


def anchor_table() -> str:
    """Every declared loss with the existing implementations it equals (its declaration's
    `anchor`) and its paper, as a Markdown table."""
    from imbalance_core import loss_specs

    rows = ["| loss | anchor it equals (tested) | paper |", "|---|---|---|"]
    rows += [f"| `{d.class_name}` | {d.anchor or '-'} | {d.paper or '-'} |" for d in loss_specs.specs()]
    return "\n".join(rows)


def on_page_markdown(markdown: str, **kwargs) -> str:
    def entries(match: re.Match) -> str:
        modules = public_modules(match.group("package"))
        _DOCUMENTED.update(modules)
        return "\n\n".join(f"::: {module}" for module in modules)

    _DOCUMENTED.update(m.group("module") for m in ENTRY.finditer(markdown))
    markdown = LOSS_TABLE.sub(lambda match: loss_table(match.group("module")), markdown)
    markdown = ANCHOR_TABLE.sub(lambda match: anchor_table(), markdown)
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
