"""CONTRIBUTING.md, "Adding a loss": a loss added in the four files that guide names (its
float64 reference, its declaration, its two family modules) is picked up by the parity suite,
the conformance tests and the mirror test, with nothing else edited.

The test copies the packages and the tests into a temporary directory, adds a small loss
(a scaled binary cross-entropy) to the copies of those four files exactly as the guide says,
and runs the mirror test, the parity cases and the conformance rows of the copy in a
subprocess, whose imports resolve to the copy.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]

REFERENCE = '''

def scaled_binary_crossentropy(logits, target, *, scale=1.0, validate_args=True):
    """scale x BCE: -scale [y log sigma(x) + (1 - y) log sigma(-x)]."""
    x = np.asarray(logits, dtype=np.float64)
    y = np.asarray(target, dtype=np.float64)
    return -scale * (y * log_sigmoid(x) + (1.0 - y) * log_sigmoid(-x))
'''

DECLARATION = '''

register(LossSpec(
    "scaled_binary_crossentropy", "ScaledBinaryCrossentropy", "sigmoid", "sigmoid",
    "scale x BCE", loss_reference.scaled_binary_crossentropy,
    args=(Arg("scale", loss_args.positive, 1.0, "the factor, > 0"),),
))
'''

KERAS_TWIN = '''

SCALED_BINARY_CROSSENTROPY = loss_specs.spec("scaled_binary_crossentropy")


def _scaled_binary_crossentropy(y, x, *, scale, validate_args):
    x, xc, yc = _sigmoid_inputs(x, y, True, 0.0, validate_args)
    return ops.cast(scale * (yc * ops.softplus(-xc) + (1.0 - yc) * ops.softplus(xc)), _ops.dtype_of(x))


def scaled_binary_crossentropy(y_true: Any, y_pred: Any, *, scale: float = 1.0, validate_args: bool = True) -> Any:
    """Element-wise scale x BCE."""
    return _base.functional(SCALED_BINARY_CROSSENTROPY, _scaled_binary_crossentropy, y_true, y_pred, validate_args,
                            scale=scale)


@keras.saving.register_keras_serializable("classbalance")
class ScaledBinaryCrossentropy(_base.DeclaredLoss):
    """scale x BCE as a `keras.losses.Loss`."""

    spec = SCALED_BINARY_CROSSENTROPY
    core = staticmethod(_scaled_binary_crossentropy)

    def __init__(self, *, scale: float = 1.0, validate_args: bool = True,
                 reduction: str | None = "sum_over_batch_size", name: str = "scaled_binary_crossentropy",
                 dtype: Any = None) -> None:
        super().__init__(reduction=reduction, name=name, dtype=dtype, validate_args=validate_args, scale=scale)
'''

TORCH_TWIN = '''

SCALED_BINARY_CROSSENTROPY = loss_specs.spec("scaled_binary_crossentropy")


def _scaled_binary_crossentropy(x, y, *, scale, validate_args):
    x, xc, yc = _sigmoid_inputs(x, y, True, 0.0, validate_args)
    return (scale * F.binary_cross_entropy_with_logits(xc, yc, reduction="none")).to(_ops.output_dtype(x))


def scaled_binary_crossentropy(input: torch.Tensor, target: torch.Tensor, *, scale: float = 1.0,
                               validate_args: bool = True) -> torch.Tensor:
    """Element-wise scale x BCE."""
    return _base.functional(SCALED_BINARY_CROSSENTROPY, _scaled_binary_crossentropy, input, target, validate_args,
                            scale=scale)


class ScaledBinaryCrossentropy(_base.DeclaredLoss):
    """scale x BCE as an `nn.Module`."""

    spec = SCALED_BINARY_CROSSENTROPY
    core = staticmethod(_scaled_binary_crossentropy)

    def __init__(self, *, scale: float = 1.0, validate_args: bool = True, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction, validate_args=validate_args, scale=scale)
'''


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)


def _add_to_all(path: Path, names: str) -> None:
    """The names joined to the module's `__all__` list (its first line)."""
    source = path.read_text()
    path.write_text(source.replace("__all__ = [\n", f"__all__ = [\n    {names},\n", 1))


def _copy_of_the_repository(tmp_path: Path) -> Path:
    copy = tmp_path / "repo"
    copy.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("imbalance_core", "tf_impl", "torch_impl", "parity_tests", "tests"):
        shutil.copytree(ROOT / name, copy / name, ignore=ignore)
    for name in ("conftest.py", "pyproject.toml"):
        shutil.copy(ROOT / name, copy / name)
    return copy


def test_a_declared_loss_is_picked_up_by_parity_conformance_and_mirror(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("tensorflow")
    copy = _copy_of_the_repository(tmp_path)
    # the four files of CONTRIBUTING.md, "Adding a loss"
    _append(copy / "imbalance_core" / "loss_reference.py", REFERENCE)
    _append(copy / "imbalance_core" / "loss_specs.py", DECLARATION)
    for package, twin in (("tf_impl", KERAS_TWIN), ("torch_impl", TORCH_TWIN)):
        family = copy / package / "losses" / "sigmoid.py"
        _append(family, twin)
        _add_to_all(family, '"scaled_binary_crossentropy", "ScaledBinaryCrossentropy"')

    env = dict(os.environ, KERAS_BACKEND="tensorflow", PYTHONDONTWRITEBYTECODE="1")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rA", "-k",
         "mirror_rule or scaled_binary_crossentropy or ScaledBinaryCrossentropy",
         "tests/test_mirror_rule.py", "tests/test_parity.py", "tests/test_conformance_torch.py",
         "tests/test_conformance_keras.py"],
        cwd=copy, env=env, capture_output=True, text=True, timeout=900)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-6000:]
    passed = re.findall(r"^PASSED (\S+)", out, re.M)
    picked = {test.split("::")[0] for test in passed if "caled" in test.split("::")[-1]}
    # parity cells (functional and class-level cases), the conformance rows and the mirror
    # test's check of the declaration, each made for the new loss with nothing else edited
    assert picked == {"tests/test_mirror_rule.py", "tests/test_parity.py", "tests/test_conformance_torch.py",
                      "tests/test_conformance_keras.py"}, passed
    assert any("scaled_binary_crossentropy/declared_default" in t for t in passed)
    assert any("scaled_binary_crossentropy/class_mean" in t for t in passed)


def test_the_guide_shows_the_same_files_and_declaration():
    guide = (ROOT / "CONTRIBUTING.md").read_text()
    section = guide[guide.index("## Adding a loss"):]
    for path in ("imbalance_core/loss_reference.py", "imbalance_core/loss_specs.py", "tf_impl/losses/<family>.py",
                 "torch_impl/losses/<family>.py"):
        assert f"`{path}`" in section, path
    assert DECLARATION.strip() in section
    assert REFERENCE.strip() in section
