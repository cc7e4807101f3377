"""The documentation site's API reference: the build hook (docs/_ext/api_pages.py) finds every
public module and reads each module's `__all__` exactly as Python does, so `make docs` checks
every exported name against the built inventory."""

from __future__ import annotations

import importlib
import importlib.util
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("api_pages", ROOT / "docs" / "_ext" / "api_pages.py")
api_pages = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(api_pages)


def test_the_api_pages_cover_every_package():
    pages = {path.name: path.read_text() for path in (ROOT / "docs" / "api").glob("*.md")}
    for package in ("tf_impl", "torch_impl", "imbalance_core"):
        assert f"<!-- api-modules: {package} -->" in pages[f"{package}.md"]
    assert "::: parity_tests.api" in pages["parity_tests.md"]


def test_public_modules_are_the_modules_with_all():
    found = set(api_pages.public_modules("torch_impl"))
    assert {"torch_impl.losses.sigmoid", "torch_impl.losses.softmax", "torch_impl.losses.long_tail",
            "torch_impl.metrics", "torch_impl.class_weights", "torch_impl.data",
            "torch_impl.decisions"} <= found
    assert not any(name.split(".")[-1].startswith("_") for name in found)


@pytest.mark.parametrize("package", ["tf_impl", "torch_impl", "imbalance_core"])
def test_exported_names_read_statically_equal_all(package):
    pytest.importorskip("torch")
    pytest.importorskip("keras")
    for module in api_pages.public_modules(package):
        if module == "imbalance_core.ray_data":
            pytest.importorskip("ray")
        static = api_pages.exported_names(api_pages._module_path(module))
        assert static == list(importlib.import_module(module).__all__), module


def test_inventory_check_reports_a_missing_entry(tmp_path, caplog):
    """A name of `__all__` without its own entry in objects.inv is a warning (fails --strict)."""
    import zlib

    names = ["imbalance_core.validation.check_number"]
    body = "".join(f"{name} py:function 1 api/#$ -\n" for name in names).encode()
    header = b"# Sphinx inventory version 2\n# Project: x\n# Version: 0\n# compressed\n"
    (tmp_path / "objects.inv").write_bytes(header + zlib.compress(body))
    api_pages._DOCUMENTED.clear()
    api_pages._DOCUMENTED.add("imbalance_core.validation")
    with caplog.at_level("WARNING", logger="mkdocs.hooks.api_pages"):
        api_pages.on_post_build({"site_dir": str(tmp_path)})
    missing = caplog.text.split("imbalance_core.validation exports ", 1)[1].split(" without an entry")[0].split(", ")
    assert "check_choice" in missing and "check_number" not in missing


def test_the_loss_tables_list_every_declared_loss():
    """`<!-- loss-table -->` becomes a table of every declaration, `<!-- loss-table: MODULE -->`
    of one family module's; docs/losses.md carries the first."""
    from imbalance_core import loss_specs

    assert "<!-- loss-table -->" in (ROOT / "docs" / "losses.md").read_text()
    assert api_pages.on_page_markdown("<!-- loss-table -->\n") == api_pages.loss_table() + "\n"
    everything, long_tail = api_pages.loss_table(), api_pages.loss_table("long_tail")
    for d in loss_specs.specs():
        assert f"| `{d.class_name}` / `{d.name}` | {d.family} |" in everything
        assert (f"`{d.class_name}`" in long_tail) == (d.module == "long_tail"), d.name
    assert everything.count("\n| `") == len(loss_specs.specs())


def test_the_anchor_table_lists_every_declared_loss():
    """`<!-- anchor-table -->` (docs/losses.md) becomes one row per declaration: its anchor and
    paper as declared."""
    from imbalance_core import loss_specs

    assert "<!-- anchor-table -->" in (ROOT / "docs" / "losses.md").read_text()
    table = api_pages.on_page_markdown("<!-- anchor-table -->\n")
    for d in loss_specs.specs():
        assert d.anchor, f"{d.class_name} declares no anchor"
        assert f"| `{d.class_name}` | {d.anchor} | {d.paper or '-'} |" in table
    assert table.count("\n| `") == len(loss_specs.specs())
