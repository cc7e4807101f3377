"""The packages' layout, read from their source (ast; nothing is imported):

- the twins are siblings: nothing in tf_impl imports torch_impl, nor the reverse; what both
  need lives in imbalance_core, which imports neither;
- no import cycle among the modules of tf_impl, torch_impl, imbalance_core and parity_tests,
  counting the imports inside functions too (they run as surely, only later);
- no issue number of this project in code, comments or tests (upstream ones, such as
  "torchmetrics issue #1780", are fine): the code says why, the history lives in git;
- no module of the packages over 600 lines: a module that grows past it is split along its seams.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("tf_impl", "torch_impl", "imbalance_core", "parity_tests")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))}


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """The project modules that `name` imports, anywhere in its file (functions included)."""
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            # `from package import module` imports the module; `from module import name`, the module
            targets = [f"{module}.{alias.name}" if f"{module}.{alias.name}" in MODULES else module
                       for alias in node.names]
        else:
            continue
        found.update(target for target in targets if target in MODULES and target != name)
    return found


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _package(module: str) -> str:
    return module.split(".")[0]


def test_the_graph_sees_the_imports():
    """The reader resolves absolute, relative and function-level imports (a check of the check)."""
    assert "imbalance_core.validation" in GRAPH["tf_impl._ops"]
    assert "tf_impl._ops" in GRAPH["tf_impl.metrics._confusion"]  # from .. import _ops
    assert "tf_impl.metrics._confusion" in GRAPH["tf_impl.metrics._balanced"]  # from ._confusion import ...
    assert "tf_impl.losses" in GRAPH["parity_tests.harness"] or any(
        name.startswith("tf_impl.losses") for name in GRAPH["parity_tests.harness"])  # inside a function


@pytest.mark.parametrize("package, other", [("tf_impl", "torch_impl"), ("torch_impl", "tf_impl"),
                                            ("imbalance_core", "tf_impl"), ("imbalance_core", "torch_impl")])
def test_the_twins_are_siblings(package, other):
    crossing = sorted(f"{name} imports {target}" for name, targets in GRAPH.items() if _package(name) == package
                      for target in targets if _package(target) == other)
    assert not crossing, "\n".join(crossing)


def _cycles() -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(GRAPH[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(GRAPH):
        if node not in index:
            visit(node)
    return found


MAX_LINES = 600


def test_no_module_over_600_lines():
    lengths = {name: len(path.read_text().splitlines()) for name, path in MODULES.items()}
    too_long = {name: n for name, n in lengths.items() if n > MAX_LINES}
    assert not too_long, f"modules over {MAX_LINES} lines: {too_long}"


def test_no_import_cycle():
    cycles = _cycles()
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


# "issue 13", "issues 12 and 13", "(issue 12, item 2)", "#21" after "issue": this project's; an
# upstream project's name right before it ("torchmetrics issue #1780") makes it theirs.
ISSUE = re.compile(r"\bissues? #?\d+", re.IGNORECASE)
UPSTREAM = re.compile(r"(torchmetrics|pytorch|torch|keras|tensorflow|jax|ray|numpy|mkdocs|griffe|github)\S*\s+$",
                      re.IGNORECASE)


def _project_issue_numbers(text: str) -> list[str]:
    """The lines of `text` that cite an issue number of this project, as "number: line"."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        if any(not UPSTREAM.search(line[: match.start()]) for match in ISSUE.finditer(line)):
            found.append(f"{number}: {line.strip()}")
    return found


def test_no_issue_numbers_of_this_project():
    files = [path for folder in (*PACKAGES, "tests") for path in sorted((ROOT / folder).rglob("*.py"))]
    hits = {str(path.relative_to(ROOT)): _project_issue_numbers(path.read_text()) for path in files
            if path.name != "test_layout.py"}
    found = [f"{name}:{hit}" for name, lines in hits.items() for hit in lines]
    assert not found, "cite why, not an issue number:\n" + "\n".join(found)


def test_the_issue_pattern_tells_ours_from_upstream():
    text = "# long-tail metrics (issue 13)\n# a recompile per call (torchmetrics issue #1780)\n# Issues 12 and 13\n"
    assert _project_issue_numbers(text) == ["1: # long-tail metrics (issue 13)", "3: # Issues 12 and 13"]
