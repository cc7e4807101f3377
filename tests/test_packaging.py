"""Packaging: one version everywhere, the license, type information, and no tests in the wheel."""

import email
import importlib
import pathlib
import shutil
import subprocess
import sys
import zipfile
from importlib import metadata

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGES = ("imbalance_core", "tf_impl", "torch_impl", "parity_tests")


@pytest.mark.parametrize("package", PACKAGES)
def test_version_is_the_installed_distributions(package):
    module = importlib.import_module(package)
    assert module.__version__ == metadata.version("classbalance")
    assert module.__version__.count(".") >= 2  # a release number, not a placeholder


@pytest.mark.parametrize("package", PACKAGES)
def test_package_is_typed(package):
    module = importlib.import_module(package)
    assert (pathlib.Path(module.__file__).parent / "py.typed").is_file()


def test_no_test_module_inside_the_packages():
    for package in PACKAGES:
        tests = sorted(p.name for p in (ROOT / package).glob("test_*.py"))
        assert not tests, (package, tests)


def test_changelog_follows_keep_a_changelog():
    text = (ROOT / "CHANGELOG.md").read_text()
    assert text.startswith("# Changelog\n") and "https://keepachangelog.com/en/1.1.0/" in text
    assert "## [Unreleased]" in text
    version = metadata.version("classbalance")
    assert f"## [{version}] - " in text


@pytest.mark.slow
def test_wheel_contents_and_metadata(tmp_path):
    """A wheel built from the source files: the four packages with py.typed, the license as an
    SPDX expression with its file, the version, and no test module."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, src / name)
    for package in PACKAGES:
        shutil.copytree(ROOT / package, src / package, ignore=shutil.ignore_patterns("__pycache__"))
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                           "--disable-pip-version-check", "-q", "-w", str(tmp_path / "dist"), str(src)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (wheel,) = (tmp_path / "dist").glob("classbalance-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for package in PACKAGES:
        assert f"{package}/py.typed" in names and f"{package}/__init__.py" in names
    # every module of the packages, subpackages (tf_impl/losses, torch_impl/metrics, ...) included
    modules = {p.relative_to(ROOT).as_posix() for package in PACKAGES for p in (ROOT / package).rglob("*.py")
               if "__pycache__" not in p.parts and not p.name.startswith("test_")}
    assert sorted(modules - set(names)) == []
    assert not [n for n in names if pathlib.PurePath(n).name.startswith("test_")]
    assert not [n for n in names if n.split("/")[0] in ("tests", "examples", "benchmarks", "docs")]
    (meta_name,) = [n for n in names if n.endswith(".dist-info/METADATA")]
    meta = email.message_from_bytes(zipfile.ZipFile(wheel).read(meta_name))
    assert meta["Version"] == metadata.version("classbalance")
    assert meta["License-Expression"] == "Apache-2.0" and meta.get_all("License-File") == ["LICENSE"]
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
