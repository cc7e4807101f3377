"""The one tolerance table of the parity suite.

(rtol, atol) per dtype at the level of `torch.testing.assert_close`'s defaults (float64
tighter, see below). A value passes
when |got - oracle| <= atol + rtol * |oracle| element-wise (NaN never passes). Half-precision
cells are computed in float32 and rounded once to the input dtype, which sits inside these
bounds (float16: half an ulp is 4.9e-4 relative; bfloat16: 3.9e-3). A case may override a cell
only with a reason, recorded in the case table.
"""

DTYPES = ("float64", "float32", "float16", "bfloat16")

TOLERANCES = {
    # float64 is tighter than torch's (1e-7, 1e-7): a float64 cell must catch a computation that
    # silently ran in float32 (relative error ~6e-8, which rtol=1e-7 would let through; Keras
    # 3.15's torch backend does this in ops.mean/logaddexp/minimum). The float64 oracle and its
    # Richardson central differences are accurate to ~2e-10 absolute on these inputs.
    "float64": (1e-9, 1e-9),
    "float32": (1.3e-6, 1e-5),
    "float16": (1e-3, 1e-5),
    "bfloat16": (1.6e-2, 1e-5),
}


def tolerance(dtype: str, overrides: dict | None = None) -> tuple[float, float]:
    if overrides and dtype in overrides:
        return overrides[dtype]
    return TOLERANCES[dtype]
