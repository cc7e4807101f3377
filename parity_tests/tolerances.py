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


# Significand bits per dtype; the unit roundoff is 2^-bits (float16: 4.9e-4, bfloat16: 3.9e-3).
SIGNIFICAND_BITS = {"float64": 53, "float32": 24, "float16": 11, "bfloat16": 8}

# A loss computed natively in float16/bfloat16 (torch's own BCEWithLogitsLoss on bfloat16
# inputs, say) rounds every operation in that dtype, not once at the end. Each rounding errs by
# at most u relative to its operands, and a cancellation (sigmoid(x) - y in the gradient) turns
# that into an absolute error on the scale of the largest entry: the cell is held to
# atol = NATIVE_HALF_ROUNDINGS * u * max|oracle|, a few roundings' worth (normwise).
NATIVE_HALF_ROUNDINGS = 4


def unit_roundoff(dtype: str) -> float:
    return 2.0 ** -SIGNIFICAND_BITS[dtype]


def least_precise(*dtypes: str) -> str:
    """The dtype with the fewest significand bits (the one that bounds the accuracy)."""
    return min(dtypes, key=lambda d: SIGNIFICAND_BITS.get(d, 53))


def native_half_tolerance(dtype: str, scale: float) -> tuple[float, float]:
    """(rtol, atol) for a loss computed natively in `dtype` whose oracle's largest entry is `scale`."""
    rtol, atol = TOLERANCES[dtype]
    return rtol, max(atol, NATIVE_HALF_ROUNDINGS * unit_roundoff(dtype) * scale)


def tolerance(dtype: str, overrides: dict | None = None) -> tuple[float, float]:
    if overrides and dtype in overrides:
        return overrides[dtype]
    return TOLERANCES[dtype]
