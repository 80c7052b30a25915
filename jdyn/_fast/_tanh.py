"""A tanh that LLVM vectorises (numba's ``np.tanh`` is a scalar libm call, ~22 ns).

``tanh a = −E / (2 + E)`` with ``E = expm1(−2a)``, ``a = |x|``: no cancellation near 0,
and exactly ±1 beyond |x| = 20 (tanh 20 rounds to 1 in float64). ``expm1(t)`` reduces
``t = k ln 2 + r`` (Cody–Waite, |r| ≤ ln2/2), takes the degree-13 Taylor polynomial of
``expm1(r)`` (truncation < 1e-17 relative) and rebuilds ``2^k (expm1 r + 1) − 1`` with
``2^k`` made from its bits. Measured against NumPy's tanh: within a few ulp.
"""

from __future__ import annotations

import math

from numba import njit, types
from numba.extending import intrinsic

_INV_LN2 = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
#: 1/n! for n = 13 … 2 (Horner order).
_C = [1.0 / math.factorial(n) for n in range(13, 1, -1)]
_C13, _C12, _C11, _C10, _C9, _C8, _C7, _C6, _C5, _C4, _C3, _C2 = _C


@intrinsic
def _bits_as_float(typingctx, bits):
    """The float64 whose IEEE bits are the int64 ``bits`` (an LLVM bitcast)."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.float64))
    return types.float64(types.int64), codegen


@njit(inline="always", error_model="numpy")
def expm1_neg(t):
    """``exp(t) − 1`` for ``−41 ≤ t ≤ 0`` (a few ulp)."""
    k = math.floor(t * _INV_LN2 + 0.5)
    r = (t - k * _LN2_HI) - k * _LN2_LO
    p = _C13
    p = p * r + _C12
    p = p * r + _C11
    p = p * r + _C10
    p = p * r + _C9
    p = p * r + _C8
    p = p * r + _C7
    p = p * r + _C6
    p = p * r + _C5
    p = p * r + _C4
    p = p * r + _C3
    p = p * r + _C2
    p = (p * r) * r + r
    scale = _bits_as_float((int(k) + 1023) << 52)
    return scale * p + (scale - 1.0)


@njit(inline="always", error_model="numpy")
def tanh(x):
    """``tanh x`` (NaN stays NaN)."""
    a = abs(x)
    a = 20.0 if a > 20.0 else a     # NaN compares false and stays NaN
    e = expm1_neg(-2.0 * a)
    return math.copysign(-e / (2.0 + e), x)
