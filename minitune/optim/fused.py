"""``fma(x, y, z) = x·y + z`` rounded once, the way torch's CPU kernels compute ``add(alpha=)``, ``lerp``, ``addcmul``.

Why an optimizer needs it: torch's vectorised CPU kernels evaluate ``a.add_(b, alpha=α)`` as a fused
multiply-add, fmadd(b, α, a), with a single rounding.  numpy rounds the product and then the sum,
which in float32 differs from torch in the last bit for a few percent of elements; through a momentum
buffer or Adam's moments those bits add up to relative differences of 1e-5 after 25 steps.

How: in float32 the product of two float32 numbers is exact in float64 (24 + 24 < 53 significant
bits), so ``float32(float64(x)·float64(y) + float64(z))`` is the fused result except in rare
double-rounding ties.  In float64 numpy has no fused multiply-add, so ``x·y + z`` is used and results
differ from torch by at most about one ulp per operation (1e-16 relative).
Scalars are rounded to the arrays' dtype first, as torch converts ``alpha``/``value``/``weight``.
The computation lives in ``minitune/kernels/fma.py`` (a numpy twin and a one-pass numba kernel).
"""
from ..kernels.fma import fma  # noqa: F401  (the kernel: one pass, same bits as the numpy twin)
