r"""SIMD vectors inside numba kernels: a register of ``LANES`` floats, and the five operations a GEMM needs.

LLVM vectorizes a plain loop by itself (im2col.py, batch_norm.py rely on it), but not every loop:
a Winograd tile row (7–28 tiles) is shorter than the 64 numbers its unrolled AVX-512 loop takes per
iteration, so all of it ran in the scalar remainder; and a register tile — the 16 accumulators of
direct_conv.py's micro-kernel, which must stay in 16 registers for a whole inner loop — written as a
2-D array becomes loads and stores of memory (a numba GEMM written that way: 5–9 GFLOP/s; with the
vectors below, 140).  So minitune spells the vectors out, the way a BLAS micro-kernel does in
assembly: a numba type whose value is one LLVM vector ``<LANES x float>`` (numba's extension API,
``numba.extending.intrinsic``, and llvmlite, the code generator numba is built on and installs),
and functions that compile to one instruction each —

    vload(a, i, j)        a[i, j : j + LANES]                 (unit stride along a's last axis)
    vstore(a, i, j, v)    a[i, j : j + LANES] = v
    vload_first(a, i, j, n), vstore_first(a, i, j, v, n)
                          the same for the first n ≤ LANES lanes only (a masked load: the other
                          lanes read 0; a masked store: the memory past them is not touched);
                          n ≥ LANES branches to a plain load or store (AVX2 has no mask registers:
                          its masked store, vmaskmovps, took ~20× a plain one on an AMD EPYC)
    vsplat(x)             (x, x, …, x)                        every lane the scalar x (a broadcast)
    vzero(a)              (0, …, 0), in a's dtype
    vfma(a, b, c)         a ⊙ b + c, lane by lane             one fused multiply-add: one rounding
    vsum(v)               v₀ + v₁ + … + v_{LANES−1}           a scalar (the lanes added pairwise)
    u + v, u - v, -v      lane by lane
    vpick(v, best, a, b)  a where v > best or v is NaN, else b, lane by lane (max pooling's rule)
    vto_int64(v)          the lanes rounded toward 0, as int64 (exact integers in a float vector)

and one helper built on them, ``copy_row`` (an image row into a padded buffer, whole vectors), which
the Winograd transforms, the direct convolution and max pooling share.
    veven(u, v), vodd(u, v)   lanes 0, 2, 4, … (1, 3, 5, …) of the 2·LANES numbers u, v (a deinterleave)
    vzip_low(e, o), vzip_high(e, o)   (e₀, o₀, e₁, o₁, …): the first (second) half of e and o
                          interleaved — the inverse of veven/vodd

``LANES`` is 16 on a CPU with AVX-512 (a 512-bit register holds 16 float32), 8 with AVX2, else 4 —
read from the CPU once, at import, with ``REGISTERS``, the number of vector registers (32 with
AVX-512, 16 with AVX2: a register tile of 16 accumulators fits only the first); float64 vectors have as many lanes (LLVM splits a vector wider
than a register into several).  No bounds are checked: a kernel using these must stay inside its
arrays (masked loads and stores for the tail of a row).  The functions work only inside ``@njit`` code.
"""
import operator
import os
import platform

import llvmlite.binding as llvm
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic, models, overload, register_model

from .jit import njit


def _lanes():
    """16 with AVX-512, 8 with AVX2 (x86), 4 otherwise (one 128-bit register: SSE, NEON); or
    ``MINITUNE_SIMD_LANES`` (4, 8 or 16: the tests run the kernels with each, in a separate numba cache)."""
    forced = os.environ.get("MINITUNE_SIMD_LANES", "")
    if forced in ("4", "8", "16"):
        return int(forced)
    features = llvm.get_host_cpu_features()
    if features.get("avx512f"):
        return 16
    if features.get("avx2"):
        return 8
    return 4


LANES = _lanes()


def _registers():
    """The CPU's vector registers, which bound a micro-kernel's register tile: 32 with AVX-512 (zmm0–31)
    and on 64-bit ARM (NEON's v0–v31), else 16 (AVX2's ymm0–15, SSE's xmm0–15)."""
    if LANES == 16 or platform.machine().lower() in ("arm64", "aarch64"):
        return 32
    return 16


REGISTERS = _registers()


class Vector(types.Type):
    """The numba type of a vector of ``LANES`` values of one dtype (an LLVM ``<n x float>``; int64 for
    ``vto_int64``'s arg-max indices)."""

    def __init__(self, dtype):
        self.dtype = dtype
        super().__init__(name=f"vector({dtype}, {LANES})")


@register_model(Vector)
class _VectorModel(models.PrimitiveModel):
    def __init__(self, dmm, fe_type):
        super().__init__(dmm, fe_type, ir.VectorType(dmm.lookup(fe_type.dtype).get_value_type(), LANES))


def _vector_llvm_type(context, dtype):
    return ir.VectorType(context.get_value_type(dtype), LANES)


def _lanes_list(values):
    """An LLVM constant <LANES x i32>: a shuffle's lane selection."""
    return ir.Constant(ir.VectorType(ir.IntType(32), LANES), list(values))


def _suffix(dtype):
    """LLVM's name for a vector of LANES dtype in an intrinsic's name: v16f32, v16i64, …"""
    return f"v{LANES}{'f' if isinstance(dtype, types.Float) else 'i'}{dtype.bitwidth}"


def _vector_pointer(context, builder, array_type, array, i, j):
    """A pointer to a[i, j], as a pointer to a vector of a's dtype."""
    a = context.make_array(array_type)(context, builder, array)
    p = cgutils.get_item_pointer(context, builder, array_type, a, [i, j])
    return builder.bitcast(p, _vector_llvm_type(context, array_type.dtype).as_pointer())


@intrinsic
def vload(typingctx, a, i, j):
    """a[i, j : j + LANES] of a 2-D float array (the last axis contiguous)."""
    def codegen(context, builder, sig, args):
        p = _vector_pointer(context, builder, sig.args[0], args[0], args[1], args[2])
        return builder.load(p, align=sig.args[0].dtype.bitwidth // 8)
    return Vector(a.dtype)(a, i, j), codegen


@intrinsic
def vstore(typingctx, a, i, j, v):
    """a[i, j : j + LANES] = v."""
    def codegen(context, builder, sig, args):
        p = _vector_pointer(context, builder, sig.args[0], args[0], args[1], args[2])
        builder.store(args[3], p, align=sig.args[0].dtype.bitwidth // 8)
        return context.get_dummy_value()
    return types.void(a, i, j, v), codegen


def _splat(builder, value, vector_type):
    """``value`` in every lane of a vector of ``vector_type`` (an insert, then a broadcast shuffle)."""
    one = builder.insert_element(ir.Constant(vector_type, ir.Undefined), value, ir.Constant(ir.IntType(32), 0))
    return builder.shuffle_vector(one, ir.Constant(vector_type, ir.Undefined), _lanes_list([0] * LANES))


def _first_lanes(builder, n):
    """The mask (lane < n) of the first n lanes."""
    it = ir.VectorType(ir.IntType(64), LANES)
    return builder.icmp_signed("<", ir.Constant(it, list(range(LANES))), _splat(builder, n, it))


def _all_lanes(builder, n):
    """n ≥ LANES: the whole vector (a plain load or store; AVX2's masked stores are slow, see vstore_first)."""
    return builder.icmp_signed(">=", n, ir.Constant(ir.IntType(64), LANES))


@intrinsic
def vload_first(typingctx, a, i, j, n):
    """a[i, j : j + n] in the first n lanes (n ≤ LANES), 0 in the others; nothing past j + n is read."""
    def codegen(context, builder, sig, args):
        p = _vector_pointer(context, builder, sig.args[0], args[0], args[1], args[2])
        vt, bits = _vector_llvm_type(context, sig.args[0].dtype), sig.args[0].dtype.bitwidth
        mask_type = ir.VectorType(ir.IntType(1), LANES)
        signature = ir.FunctionType(vt, [p.type, ir.IntType(32), mask_type, vt])
        fn = cgutils.get_or_insert_function(builder.module, signature, f"llvm.masked.load.{_suffix(sig.args[0].dtype)}.p0")
        n = context.cast(builder, args[3], sig.args[3], types.int64)
        with builder.if_else(_all_lanes(builder, n)) as (whole, part):
            with whole:
                full, full_block = builder.load(p, align=bits // 8), builder.block
            with part:
                masked = builder.call(fn, [p, ir.Constant(ir.IntType(32), bits // 8), _first_lanes(builder, n),
                                           ir.Constant(vt, [0.0] * LANES)])
                masked_block = builder.block
        v = builder.phi(vt)
        v.add_incoming(full, full_block)
        v.add_incoming(masked, masked_block)
        return v
    return Vector(a.dtype)(a, i, j, n), codegen


@intrinsic
def vstore_first(typingctx, a, i, j, v, n):
    """a[i, j : j + n] = the first n lanes of v (n ≤ LANES); nothing past j + n is written.  A whole vector
    (n ≥ LANES) is a plain store: a masked one is microcoded on AVX2 (AMD EPYC: the Winograd input
    transform 6.5 → 3.1 ms per two layer1 samples, its output transform 3.9 → 0.4, when whole vectors
    were stored plainly)."""
    def codegen(context, builder, sig, args):
        p = _vector_pointer(context, builder, sig.args[0], args[0], args[1], args[2])
        vt, bits = _vector_llvm_type(context, sig.args[0].dtype), sig.args[0].dtype.bitwidth
        mask_type = ir.VectorType(ir.IntType(1), LANES)
        signature = ir.FunctionType(ir.VoidType(), [vt, p.type, ir.IntType(32), mask_type])
        fn = cgutils.get_or_insert_function(builder.module, signature, f"llvm.masked.store.{_suffix(sig.args[0].dtype)}.p0")
        n = context.cast(builder, args[4], sig.args[4], types.int64)
        with builder.if_else(_all_lanes(builder, n)) as (whole, part):
            with whole:
                builder.store(args[3], p, align=bits // 8)
            with part:
                builder.call(fn, [args[3], p, ir.Constant(ir.IntType(32), bits // 8), _first_lanes(builder, n)])
        return context.get_dummy_value()
    return types.void(a, i, j, v, n), codegen


@intrinsic
def vsplat(typingctx, x):
    """(x, x, …, x): the scalar x in every lane."""
    def codegen(context, builder, sig, args):
        return _splat(builder, args[0], _vector_llvm_type(context, sig.args[0]))
    return Vector(x)(x), codegen


@intrinsic
def vzero(typingctx, a):
    """A vector of zeros in the dtype of the array a."""
    def codegen(context, builder, sig, args):
        return ir.Constant(_vector_llvm_type(context, sig.args[0].dtype), [0.0] * LANES)
    return Vector(a.dtype)(a), codegen


@intrinsic
def vfma(typingctx, a, b, c):
    """a ⊙ b + c, each lane one fused multiply-add (LLVM's ``llvm.fma``: rounded once)."""
    def codegen(context, builder, sig, args):
        vt = _vector_llvm_type(context, sig.args[0].dtype)
        name = f"llvm.fma.v{LANES}f{sig.args[0].dtype.bitwidth}"
        return builder.call(cgutils.get_or_insert_function(builder.module, ir.FunctionType(vt, [vt] * 3), name), args)
    return a(a, b, c), codegen


@intrinsic
def vsum(typingctx, v):
    """v₀ + v₁ + … + v_{LANES−1}: LLVM's ``llvm.vector.reduce.fadd`` without an order (pairwise)."""
    def codegen(context, builder, sig, args):
        st = context.get_value_type(sig.args[0].dtype)
        vt = _vector_llvm_type(context, sig.args[0].dtype)
        name = f"llvm.vector.reduce.fadd.v{LANES}f{sig.args[0].dtype.bitwidth}"
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(st, [st, vt]), name)
        # "reassoc": without it LLVM adds the lanes one after another, in order
        return builder.call(fn, [ir.Constant(st, -0.0), args[0]], fastmath=("reassoc",))
    return v.dtype(v), codegen


@intrinsic
def _vadd(typingctx, u, v):
    return u(u, v), lambda context, builder, sig, args: builder.fadd(args[0], args[1])


@intrinsic
def _vsub(typingctx, u, v):
    return u(u, v), lambda context, builder, sig, args: builder.fsub(args[0], args[1])


@intrinsic
def _vneg(typingctx, v):
    return v(v), lambda context, builder, sig, args: builder.fneg(args[0])


@overload(operator.add)
def _add(u, v):
    if isinstance(u, Vector) and isinstance(v, Vector):
        return lambda u, v: _vadd(u, v)


@overload(operator.sub)
def _sub(u, v):
    if isinstance(u, Vector) and isinstance(v, Vector):
        return lambda u, v: _vsub(u, v)


@overload(operator.neg)
def _neg(v):
    if isinstance(v, Vector):
        return lambda v: _vneg(v)


@intrinsic
def veven(typingctx, u, v):
    """(u₀, u₂, …, u_{LANES−2}, v₀, v₂, …): the even lanes of u followed by v's."""
    def codegen(context, builder, sig, args):
        return builder.shuffle_vector(args[0], args[1], _lanes_list(range(0, 2 * LANES, 2)))
    return u(u, v), codegen


@intrinsic
def vodd(typingctx, u, v):
    """(u₁, u₃, …, v₁, v₃, …): the odd lanes of u followed by v's."""
    def codegen(context, builder, sig, args):
        return builder.shuffle_vector(args[0], args[1], _lanes_list(range(1, 2 * LANES, 2)))
    return u(u, v), codegen


@intrinsic
def vzip_low(typingctx, e, o):
    """(e₀, o₀, e₁, o₁, …, e_{LANES/2−1}, o_{LANES/2−1})."""
    def codegen(context, builder, sig, args):
        lanes = [k // 2 + (LANES if k % 2 else 0) for k in range(LANES)]
        return builder.shuffle_vector(args[0], args[1], _lanes_list(lanes))
    return e(e, o), codegen


@intrinsic
def vzip_high(typingctx, e, o):
    """(e_{LANES/2}, o_{LANES/2}, …, e_{LANES−1}, o_{LANES−1})."""
    def codegen(context, builder, sig, args):
        lanes = [LANES // 2 + k // 2 + (LANES if k % 2 else 0) for k in range(LANES)]
        return builder.shuffle_vector(args[0], args[1], _lanes_list(lanes))
    return e(e, o), codegen


@intrinsic
def vpick(typingctx, v, best, a, b):
    """a_l where v_l > best_l or v_l is NaN, else b_l (torch's max-pooling comparison, lane by lane)."""
    def codegen(context, builder, sig, args):
        greater = builder.fcmp_ordered(">", args[0], args[1])
        nan = builder.fcmp_unordered("uno", args[0], args[0])
        return builder.select(builder.or_(greater, nan), args[2], args[3])
    return a(v, best, a, b), codegen


@intrinsic
def vto_int64(typingctx, v):
    """The lanes of a float vector converted to int64 (toward 0)."""
    def codegen(context, builder, sig, args):
        return builder.fptosi(args[0], ir.VectorType(ir.IntType(64), LANES))
    return Vector(types.int64)(v), codegen


@njit(inline=True)
def copy_row(image, h, W, pad, row):
    """row[0, pad + w] = image[h, w] for 0 ≤ w < W, in whole vectors: the lanes past W write 0 (masked
    loads read nothing past the row), up to row[0, pad + ⌈W/LANES⌉·LANES)."""
    for w0 in range(0, W, LANES):
        vstore(row, 0, pad + w0, vload_first(image, h, w0, W - w0 if W - w0 < LANES else LANES))
