"""Float32 vectors inside Numba kernels: Numba types whose LLVM form is <8 x float> (an AVX register) or <16 x float>
(an AVX-512 one), and their few operations (the *16 spellings make 16-lane vectors; the others follow their
operands), with a vector exp inside the sigmoid.

Why: a register-blocked kernel keeps a dozen or two accumulators in vector registers across its whole reduction loop.
Written with scalars, Numba's LLVM neither vectorises that loop nor keeps 96 scalar sums in 16 registers (a direct
convolution ran some 20x slower that way: bench/README.md). Loads and stores are unaligned and unchecked: the
callers' index arithmetic keeps them in bounds. Only the kernels in simd_kernels.py and simd_conv*.py use this
(imported with Numba, on their first call).

Editing this file makes those kernels recompile: their disk cache is stamped with its hash too (_jit.py).
"""
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, models, register_model

_I32 = ir.IntType(32)


class F32xN(types.Type):
    def __init__(self, width):
        self.width = width
        super().__init__(name=f"f32x{width}")


f32x8, f32x16 = F32xN(8), F32xN(16)
_VEC = ir.VectorType(ir.FloatType(), 8)


@register_model(F32xN)
class _F32xNModel(models.PrimitiveModel):
    def __init__(self, dmm, fe_type):
        super().__init__(dmm, fe_type, ir.VectorType(ir.FloatType(), fe_type.width))


def _vec_ptr(context, builder, arr_type, arr, idx, vec=_VEC):
    data = context.make_array(arr_type)(context, builder, arr).data
    return builder.bitcast(builder.gep(data, [idx]), vec.as_pointer())


def _float32_array(arr):
    return isinstance(arr, types.Array) and arr.dtype == types.float32 and arr.ndim == 1


def _zero(ty):
    return lambda context, builder, sig, args: ir.Constant(ir.VectorType(ir.FloatType(), ty.width), [0.0] * ty.width)


def _splat_codegen(ty):
    def codegen(context, builder, sig, args):
        vec = ir.VectorType(ir.FloatType(), ty.width)
        one = builder.insert_element(ir.Constant(vec, None), args[0], ir.Constant(_I32, 0))
        return builder.shuffle_vector(one, ir.Constant(vec, None), ir.Constant(ir.VectorType(_I32, ty.width),
                                                                               [0] * ty.width))
    return codegen


def _load_codegen(ty):
    vec = ir.VectorType(ir.FloatType(), ty.width)
    return lambda context, builder, sig, args: builder.load(
        _vec_ptr(context, builder, sig.args[0], args[0], args[1], vec), align=4)


def _call(builder, name, *args):
    fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(args[0].type, [a.type for a in args]), name)
    return builder.call(fn, args)


def _splat(c):
    return ir.Constant(_VEC, [float(c)] * 8)


@intrinsic
def vzero(typingctx):
    """(0, ..., 0)"""
    return f32x8(), _zero(f32x8)


@intrinsic
def vzero16(typingctx):
    """(0, ..., 0), 16 lanes"""
    return f32x16(), _zero(f32x16)


@intrinsic
def vsplat(typingctx, v):
    """(v, ..., v) from a float32 scalar"""
    return (f32x8(v), _splat_codegen(f32x8)) if v == types.float32 else None


@intrinsic
def vsplat16(typingctx, v):
    """(v, ..., v) from a float32 scalar, 16 lanes"""
    return (f32x16(v), _splat_codegen(f32x16)) if v == types.float32 else None


@intrinsic
def vload(typingctx, arr, idx):
    """arr[idx:idx + 8] of a flat float32 array"""
    return (f32x8(arr, idx), _load_codegen(f32x8)) if _float32_array(arr) else None


@intrinsic
def vload16(typingctx, arr, idx):
    """arr[idx:idx + 16] of a flat float32 array"""
    return (f32x16(arr, idx), _load_codegen(f32x16)) if _float32_array(arr) else None


@intrinsic
def vstore(typingctx, arr, idx, v):
    """arr[idx:idx + width] = v"""
    if not _float32_array(arr) or not isinstance(v, F32xN):
        return None

    def codegen(context, builder, sig, args):
        vec = ir.VectorType(ir.FloatType(), sig.args[2].width)
        builder.store(args[2], _vec_ptr(context, builder, sig.args[0], args[0], args[1], vec), align=4)
        return context.get_dummy_value()
    return types.void(arr, idx, v), codegen


@intrinsic
def vstore_n(typingctx, arr, idx, v, count):
    """arr[idx:idx + count] = v[:count], lanes past count untouched (a masked store: nothing past them is written)"""
    if not _float32_array(arr) or not isinstance(v, F32xN):
        return None

    def codegen(context, builder, sig, args):
        width = sig.args[2].width
        vec, mask_ty = ir.VectorType(ir.FloatType(), width), ir.VectorType(ir.IntType(1), width)
        count = builder.trunc(args[3], _I32) if args[3].type.width > 32 else args[3]
        lanes = ir.Constant(ir.VectorType(_I32, width), list(range(width)))
        counts = builder.shuffle_vector(builder.insert_element(ir.Constant(ir.VectorType(_I32, width), None), count,
                                                               ir.Constant(_I32, 0)),
                                        ir.Constant(ir.VectorType(_I32, width), None),
                                        ir.Constant(ir.VectorType(_I32, width), [0] * width))
        mask = builder.icmp_signed("<", lanes, counts)
        ptr = _vec_ptr(context, builder, sig.args[0], args[0], args[1], vec)
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), [
            vec, vec.as_pointer(), _I32, mask_ty]), f"llvm.masked.store.v{width}f32.p0")
        builder.call(fn, [args[2], ptr, ir.Constant(_I32, 4), mask])
        return context.get_dummy_value()
    return types.void(arr, idx, v, count), codegen


@intrinsic
def vfma(typingctx, a, b, c):
    """a * b + c, fused where the CPU has FMA"""
    if not (isinstance(a, F32xN) and a == b == c):
        return None

    def codegen(context, builder, sig, args):
        return _call(builder, f"llvm.fmuladd.v{a.width}f32", *args)
    return a(a, b, c), codegen


@intrinsic
def vget(typingctx, v, i):
    """v[i]"""
    return types.float32(v, i), lambda context, builder, sig, args: builder.extract_element(
        args[0], builder.trunc(args[1], _I32) if args[1].type.width > 32 else args[1])


@intrinsic
def vadd(typingctx, a, b):
    """a + b"""
    return (a(a, b), lambda context, builder, sig, args: builder.fadd(args[0], args[1])) \
        if isinstance(a, F32xN) and a == b else None


@intrinsic
def vramp(typingctx, base, step):
    """(base, base + step, ..., base + 7 step) from float32 scalars"""
    def codegen(context, builder, sig, args):
        vec = ir.Constant(_VEC, None)
        for i in range(8):
            lane = builder.fadd(args[0], builder.fmul(args[1], ir.Constant(ir.FloatType(), float(i))))
            vec = builder.insert_element(vec, lane, ir.Constant(_I32, i))
        return vec
    return f32x8(base, step), codegen


@intrinsic
def vgather(typingctx, arr, idx, stride, count):
    """(arr[idx], arr[idx + stride], ...): lanes at and past count repeat lane 0 (so they stay in bounds)"""
    if not _float32_array(arr):
        return None

    def codegen(context, builder, sig, args):
        data = context.make_array(sig.args[0])(context, builder, args[0]).data
        idx, stride, count = args[1], args[2], args[3]
        vec = ir.Constant(_VEC, None)
        for i in range(8):
            lane = ir.Constant(idx.type, i)
            off = builder.select(builder.icmp_signed("<", lane, count), builder.mul(lane, stride),
                                 ir.Constant(idx.type, 0))
            value = builder.load(builder.gep(data, [builder.add(idx, off)]))
            vec = builder.insert_element(vec, value, ir.Constant(_I32, i))
        return vec
    return f32x8(arr, idx, stride, count), codegen


@intrinsic
def vmaxarg(typingctx, best, arg, v, a):
    """(best, arg) where v wins lane by lane: v > best or v is NaN (the first maximum, the last NaN), else unchanged"""
    def codegen(context, builder, sig, args):
        best, arg, v, a = args
        win = builder.or_(builder.fcmp_ordered(">", v, best), builder.fcmp_unordered("uno", v, v))
        return context.make_tuple(builder, sig.return_type,
                                  [builder.select(win, v, best), builder.select(win, a, arg)])
    return types.UniTuple(f32x8, 2)(best, arg, v, a), codegen


def _exp_ir(builder, x):
    # Cody-Waite reduction x = n ln2 + r and Cephes' degree-6 polynomial for e^r on |r| <= ln2/2 (about 1 ulp);
    # 2^n is built from its exponent bits in two halves, so n from -150 to 128 gives denormals and inf without a
    # test. Clamping keeps the float-to-int conversion defined; NaN is put back at the end (minnum drops it).
    vi = ir.VectorType(_I32, 8)
    xc = _call(builder, "llvm.maxnum.v8f32", _call(builder, "llvm.minnum.v8f32", x, _splat(89.0)), _splat(-104.0))
    n = _call(builder, "llvm.floor.v8f32", _call(builder, "llvm.fmuladd.v8f32", xc, _splat(1.44269504088896341),
                                                 _splat(0.5)))
    r = _call(builder, "llvm.fmuladd.v8f32", n, _splat(-0.693359375), xc)
    r = _call(builder, "llvm.fmuladd.v8f32", n, _splat(2.12194440e-4), r)
    p = _splat(1.9875691500e-4)
    for c in (1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1):
        p = _call(builder, "llvm.fmuladd.v8f32", p, r, _splat(c))
    y = builder.fadd(_call(builder, "llvm.fmuladd.v8f32", p, builder.fmul(r, r), r), _splat(1.0))
    ni = builder.fptosi(n, vi)
    n1 = builder.ashr(ni, ir.Constant(vi, [1] * 8))
    bias, shift = ir.Constant(vi, [127] * 8), ir.Constant(vi, [23] * 8)
    s1 = builder.bitcast(builder.shl(builder.add(n1, bias), shift), _VEC)
    s2 = builder.bitcast(builder.shl(builder.add(builder.sub(ni, n1), bias), shift), _VEC)
    return builder.select(builder.fcmp_unordered("uno", x, x), x, builder.fmul(builder.fmul(y, s1), s2))


@intrinsic
def vsigmoid(typingctx, v):
    """1 / (1 + e^-v) lane by lane (e^-v = inf below -89 gives 0: no sign split needed, unlike NumPy's warnings)"""
    def codegen(context, builder, sig, args):
        e = _exp_ir(builder, builder.fneg(args[0]))
        return builder.fdiv(_splat(1.0), builder.fadd(_splat(1.0), e))
    return f32x8(v), codegen
