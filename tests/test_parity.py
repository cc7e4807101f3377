"""The parity matrix under pytest: case x framework x device x dtype, value and gradient.

Every case: the functional table and the class-level reductions (cases.ALL_CASES).

This process runs torch_impl and tf_impl on this process's Keras backend; `make test` runs
two more processes with `-m keras`, under KERAS_BACKEND=torch and jax, for the Keras-on-torch
and Keras-on-jax columns.
GPU cells are listed everywhere and skipped, with the reason, where no GPU is visible.
"""

import pytest

from parity_tests.cases import ALL_CASES
from parity_tests.frameworks import DEVICES, in_process_frameworks
from parity_tests.harness import run_cell
from parity_tests.tolerances import DTYPES

FRAMEWORKS = {fw.name: fw for fw in in_process_frameworks()}


def _params():
    for name in FRAMEWORKS:
        marks = [pytest.mark.keras] if name.startswith("keras") else []
        for device in DEVICES:
            dev_marks = marks + ([pytest.mark.gpu] if device == "gpu" else [])
            for dtype in DTYPES:
                for case in ALL_CASES:
                    yield pytest.param(case, name, device, dtype, marks=dev_marks,
                                       id=f"{case.name}-{name}-{device}-{dtype}")


@pytest.mark.parametrize("case,framework,device,dtype", list(_params()))
def test_parity(case, framework, device, dtype):
    result = run_cell(case, FRAMEWORKS[framework], device, dtype)
    if result.skipped:
        pytest.skip(result.skipped)
    assert result.error is None, result.error
    assert result.value_ratio <= 1.0, (
        f"value: worst error {result.value_err:.3g} is {result.value_ratio:.3g}x the tolerance "
        f"(rtol={result.rtol:g}, atol={result.atol:g}): {result.diagnosis}"
    )
    assert result.grad_ratio <= 1.0, (
        f"gradient: worst error {result.grad_err:.3g} is {result.grad_ratio:.3g}x the tolerance "
        f"(rtol={result.rtol:g}, atol={result.atol:g}): {result.diagnosis}"
    )
