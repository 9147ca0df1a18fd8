"""2-D convolution, its transpose, unfold and fold: im2col / col2im kernels of the backend plus one GEMM per group.

Columns are laid out (C, KH, KW, N, OH, OW) (see Backend.im2col in backend_base.py): a (C*KH*KW, N*OH*OW) matrix whose
rows split by group, so the forward pass is W_g @ cols_g, the weight gradient g_g @ cols_g.T and the input gradient
col2im(W_g.T @ g_g), each a single BLAS call per block of images (_image_blocks); only the small output-sized
arrays are ever transposed. float16 runs in float32 (half.py).
"""
from ..autograd import Function
from ..tensor import Tensor
from ..window import Window2d
from .half import float32_inside
from .unbatched import accepts_unbatched


def _pair(v, name, fn="conv2d", n=2):
    if isinstance(v, bool) or not isinstance(v, (int, tuple, list)) or \
            (not isinstance(v, int) and not all(isinstance(e, int) and not isinstance(e, bool) for e in v)):
        raise TypeError(f"{fn}(): argument '{name}' must be an int or a tuple of {n} ints, not {v!r}")
    if isinstance(v, int):
        return (v,) * n
    if len(v) == 1:
        return (v[0],) * n
    if len(v) != n:
        raise RuntimeError(f"expected {name} to be a single integer value or a list of {n} values to match the "
                           f"convolution dimensions, but got {name}={list(v)}")
    return tuple(v)


def _check_float(fn, *ts):
    for t in ts:
        if t is not None and not t.dtype.is_floating_point:
            raise RuntimeError(f"{fn}: not implemented for dtype {t.dtype.name} (floating-point tensors only)")
    dts = {t.dtype for t in ts if t is not None}
    if len(dts) > 1:
        raise RuntimeError(f"{fn}: expected input, weight and bias to have the same dtype, but got "
                           f"{', '.join(t.dtype.name for t in ts if t is not None)}")


def _check_geometry(stride, padding, dilation):
    if min(stride) <= 0:
        raise RuntimeError(f"non-positive stride is not supported (stride={list(stride)})")
    if min(padding) < 0:
        raise RuntimeError(f"negative padding is not supported (padding={list(padding)})")
    if min(dilation) <= 0:
        raise RuntimeError(f"non-positive dilation is not supported (dilation={list(dilation)})")


def _gemm(xp, a, b):
    """Batched over groups, but a plain 2-D product (one BLAS call, no batch loop) when there is one group."""
    if a.shape[0] == 1:
        return xp.matmul(a[0], b[0])[None]
    return xp.matmul(a, b)


def _image_blocks(be, n, image_bytes):
    """[(n0, n1), ...]: the batch in blocks whose im2col columns take about be.block_bytes (all of it at 0).

    A convolution works through its columns a block of images at a time: each block is made, multiplied and (for
    the input gradient) summed back while it is still in cache, and no whole-batch column matrix is ever stored:
    the backward pass makes the weight gradient's columns again instead of keeping the forward's (most of a step's
    memory), at no cost in speed (measurements in bench/README.md).
    """
    nb = max(1, n if not be.block_bytes else min(n, be.block_bytes // max(image_bytes, 1)))
    return [(n0, min(n, n0 + nb)) for n0 in range(0, max(n, 1), nb)]     # an empty batch is one empty block


def _col2im_gemm(be, wt, gT, x_shape, ohw, win):
    """col2im(wt @ gT) for wt (G, C/G*KH*KW, M/G), gT (G, M/G, N*OH*OW): the input gradient of the images in gT."""
    cols = _gemm(be.xp, wt, gT).reshape((x_shape[1], win.kh, win.kw, x_shape[0]) + tuple(ohw))
    return be.col2im(cols, x_shape, win)


def _accumulate(total, part):
    """total + part, in place into total (a fresh array of ours) after the first block."""
    if total is None:
        return part
    total += part
    return total


def _blockwise(be, blocks, shape, dtype, fn):
    """An array of `shape` whose images n0:n1 are fn(n0, n1), or fn's own result when there is one block."""
    if len(blocks) == 1:
        return fn(*blocks[0])
    out = be.xp.empty(shape, dtype=dtype)
    for n0, n1 in blocks:
        out[n0:n1] = fn(n0, n1)
    return out


@accepts_unbatched(4)
class Conv2d(Function):
    raw = True

    @staticmethod
    @float32_inside
    def forward(ctx, x, w, b, stride, padding, dilation, groups):
        be = ctx.be
        xp = be.xp
        m, cg, kh, kw = w.shape
        win = Window2d.of((kh, kw), stride, padding, dilation)
        need = ctx.needs_input_grad
        # keep only what the requested gradients read: x for the weight's (its columns made again), w for the input's
        ctx.save_for_backward(x if need[1] else None, w if need[0] else None)
        ctx.x_shape, ctx.w_shape, ctx.window, ctx.groups = x.shape, tuple(w.shape), win, groups
        ctx.direct = be.direct_conv(x, w, stride, padding, dilation, groups)
        if ctx.direct:
            return be.conv2d(x, w, b, win)
        n, c, h, wd = x.shape
        oh, ow = win.out_size(h, wd)
        g, k = groups, cg * kh * kw
        w3 = w.reshape(g, m // g, k)

        def block(n0, n1):
            cols = be.im2col(x[n0:n1], win)
            o = _gemm(xp, w3, cols.reshape(g, k, -1)).reshape(m, n1 - n0, oh, ow).transpose(1, 0, 2, 3)
            # the bias add writes the (N, M, OH, OW) copy itself: one pass, not two
            return xp.add(o, b[:, None, None], out=xp.empty(o.shape, dtype=o.dtype)) if b is not None else \
                xp.ascontiguousarray(o)
        ctx.blocks = _image_blocks(be, n, c * kh * kw * oh * ow * x.dtype.itemsize)     # backward's too
        return _blockwise(be, ctx.blocks, (n, m, oh, ow), x.dtype, block)

    @staticmethod
    @float32_inside
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        be = ctx.be
        need = ctx.needs_input_grad
        if ctx.direct:
            gx, gw, gb = _direct_backward(be, x, w, grad, ctx.x_shape, ctx.window, need)
        else:
            gx, gw, gb = _gemm_backward(be, ctx.blocks, x, w, grad, ctx.x_shape, ctx.w_shape, ctx.window, ctx.groups,
                                        need)
        return gx, gw, gb, None, None, None, None

    @staticmethod
    def backward_graph(ctx, g):
        """The same gradients from differentiable ops (Chainer's design): the input's is the weight applied to g and
        folded back (a transposed convolution), the weight's is g against the input's columns (a correlation)."""
        x, w = ctx.saved_tensors
        n, c, h, wd = ctx.x_shape
        m, cg, kh, kw = ctx.w_shape
        win, grp, need = ctx.window, ctx.groups, ctx.needs_input_grad
        k, s, p, d = _window_pairs(win)
        length = g.shape[2] * g.shape[3]
        gm = g.reshape(n, grp, m // grp, length)
        gx = gw = gb = None
        if need[0]:
            cols = w.reshape(grp, m // grp, cg * kh * kw).transpose(1, 2).matmul(gm)
            gx = fold(cols.reshape(n, c * kh * kw, length), (h, wd), k, d, p, s)
        if need[1]:
            cols = unfold(x, k, d, p, s).reshape(n, grp, cg * kh * kw, length)
            gw = gm.matmul(cols.transpose(2, 3)).sum(0).reshape(m, cg, kh, kw)
        if need[2]:
            gb = g.sum((0, 2, 3))
        return gx, gw, gb, None, None, None, None


def _direct_backward(be, x, w, grad, x_shape, win, need):
    """The three gradients through the backend's direct kernels: the input's is the convolution of the output
    gradient, padded by dilation * (K - 1) - padding, with the flipped weights, input and output channels swapped
    (for stride 1; a strided one's is the weights applied to the gradient and folded back by col2im)."""
    gx = None
    if need[0] and (win.sh, win.sw) == (1, 1):
        gx = be.conv2d(grad, w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3), None, win.transposed())
    elif need[0]:
        m = w.shape[0]
        gT = be.xp.ascontiguousarray(grad.transpose(1, 0, 2, 3)).reshape(1, m, -1)
        gx = _col2im_gemm(be, w.reshape(1, m, -1).transpose(0, 2, 1), gT, x_shape, grad.shape[2:], win)
    gw = be.conv2d_weight_grad(x, grad, win) if need[1] else None
    n, m, oh, ow = grad.shape
    gb = grad.reshape(n, m, oh * ow).sum(axis=2).sum(axis=0) if need[2] else None   # contiguous rows first: faster
    return gx, gw, gb


def _gemm_backward(be, blocks, x, w, grad, x_shape, w_shape, win, g, need):
    """The three gradients through im2col + GEMM, a block of images at a time (_image_blocks)."""
    xp = be.xp
    n, m, oh, ow = grad.shape
    _, cg, kh, kw = w_shape
    wt = w.reshape(g, m // g, cg * kh * kw).transpose(0, 2, 1) if need[0] else None
    gw = gb = None      # summed over the blocks

    def block(n0, n1):
        nonlocal gw, gb
        gT = xp.ascontiguousarray(grad[n0:n1].transpose(1, 0, 2, 3)).reshape(g, m // g, -1)
        if need[2]:
            gb = _accumulate(gb, gT.reshape(m, -1).sum(axis=1))   # contiguous rows: faster than over (0, 2, 3)
        if need[1]:
            cols = be.im2col(x[n0:n1], win)
            gw = _accumulate(gw, _gemm(xp, gT, cols.reshape(g, cg * kh * kw, -1).transpose(0, 2, 1)))
        return _col2im_gemm(be, wt, gT, (n1 - n0,) + tuple(x_shape[1:]), (oh, ow), win) if need[0] else None
    gx = None
    if need[0]:
        gx = _blockwise(be, blocks, x_shape, grad.dtype, block)
    else:
        for n0, n1 in blocks:
            block(n0, n1)
    return gx, gw.reshape(w_shape) if need[1] else None, gb


def _check_conv_args(fn, input, weight, bias, groups):
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"{fn}(): input and weight must be Tensors, got {type(input).__name__} and "
                        f"{type(weight).__name__}")
    if bias is not None and not isinstance(bias, Tensor):
        raise TypeError(f"{fn}(): bias must be a Tensor or None, got {type(bias).__name__}")
    if input.ndim not in (3, 4):
        raise RuntimeError(f"Expected 3D (unbatched) or 4D (batched) input to {fn}, but got input of size: "
                           f"{list(input.shape)}")
    if weight.ndim != 4:
        raise RuntimeError(f"{fn}: expected a 4-D weight, but got weight of size {list(weight.shape)}")
    if isinstance(groups, bool) or not isinstance(groups, int):
        raise TypeError(f"{fn}(): argument 'groups' must be int, not {type(groups).__name__}")
    if groups <= 0:
        raise RuntimeError(f"non-positive groups is not supported (groups={groups})")
    _check_float(fn, input, weight, bias)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    _check_conv_args("conv2d", input, weight, bias, groups)
    stride, dilation = _pair(stride, "stride"), _pair(dilation, "dilation")
    m, cg, kh, kw = weight.shape
    extra = (0, 0)
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0, 0)
        elif padding == "same":
            if stride != (1, 1):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            tot = (dilation[0] * (kh - 1), dilation[1] * (kw - 1))
            padding, extra = (tot[0] // 2, tot[1] // 2), (tot[0] % 2, tot[1] % 2)
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    padding = _pair(padding, "padding")
    _check_geometry(stride, padding, dilation)
    c = input.shape[-3]
    xs = list(input.shape)
    if c != cg * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {list(weight.shape)}, expected input{xs} to have "
                           f"{cg * groups} channels, but got {c} channels instead")
    if m % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but "
                           f"got weight of size {list(weight.shape)} instead")
    if bias is not None and tuple(bias.shape) != (m,):
        raise RuntimeError(f"Given weight of size {list(weight.shape)}, expected bias to be 1-dimensional with {m} "
                           f"elements, but got bias of size {list(bias.shape)} instead")
    hp, wp = xs[-2] + 2 * padding[0] + extra[0], xs[-1] + 2 * padding[1] + extra[1]
    if hp < dilation[0] * (kh - 1) + 1 or wp < dilation[1] * (kw - 1) + 1:
        raise RuntimeError(f"Calculated padded input size per channel: ({hp} x {wp}). Kernel size: "
                           f"({dilation[0] * (kh - 1) + 1} x {dilation[1] * (kw - 1) + 1}). Kernel size can't be "
                           f"greater than actual input size")
    if extra != (0, 0):   # 'same' with an even total padding puts the odd pixel at the bottom/right
        from .movement import pad
        input = pad(input, (0, extra[1], 0, extra[0]))
    return Conv2d.apply(input, weight, bias, stride, padding, dilation, groups)


@accepts_unbatched(4)
class ConvTranspose2d(Function):
    """The adjoint of Conv2d in x: forward is Conv2d's input-gradient path, backward its forward path."""
    raw = True

    @staticmethod
    @float32_inside
    def forward(ctx, x, w, b, stride, padding, out_hw, dilation, groups):
        be = ctx.be
        xp = be.xp
        n, cin, h, wd = x.shape
        _, cog, kh, kw = w.shape
        g = groups
        win = Window2d.of((kh, kw), stride, padding, dilation)
        xT = xp.ascontiguousarray(x.transpose(1, 0, 2, 3)).reshape(g, cin // g, n * h * wd)
        wt = w.reshape(g, cin // g, cog * kh * kw).transpose(0, 2, 1)
        out_shape, p = (n, cog * g) + out_hw, h * wd
        out = _blockwise(be, _image_blocks(be, n, cog * g * kh * kw * p * x.dtype.itemsize), out_shape, x.dtype,
                         lambda n0, n1: _col2im_gemm(be, wt, xT[:, :, n0 * p:n1 * p], (n1 - n0,) + out_shape[1:],
                                                     (h, wd), win))
        if b is not None:
            out += b[:, None, None]
        need = ctx.needs_input_grad
        # x itself too (alive anyway as the input): the gradients taken with create_graph differentiate through it
        ctx.save_for_backward(xT if need[1] else None, w if need[0] else None, x if need[1] else None)
        ctx.x_shape, ctx.w_shape, ctx.window, ctx.groups = x.shape, tuple(w.shape), win, groups
        return out

    @staticmethod
    @float32_inside
    def backward(ctx, grad):
        xT, w, _ = ctx.saved_tensors
        be = ctx.be
        xp = be.xp
        x_shape, w_shape, win, g = ctx.x_shape, ctx.w_shape, ctx.window, ctx.groups
        n, cin, h, wd = x_shape
        _, cog, kh, kw = w_shape
        need = ctx.needs_input_grad
        gx = gw = gb = None
        if need[2]:
            gb = grad.sum(axis=(0, 2, 3))
        if need[0] or need[1]:
            cols = be.im2col(grad, win)
            if cols.shape[4:] != (h, wd):     # output_padding >= stride (allowed when < dilation): extra windows
                cols = xp.ascontiguousarray(cols[..., :h, :wd])
            cols = cols.reshape(g, cog * kh * kw, n * h * wd)
            if need[1]:
                gw = _gemm(xp, xT, cols.transpose(0, 2, 1)).reshape(w_shape)
            if need[0]:
                gxT = _gemm(xp, w.reshape(g, cin // g, cog * kh * kw), cols)
                gx = xp.ascontiguousarray(gxT.reshape(cin, n, h, wd).transpose(1, 0, 2, 3))
        return gx, gw, gb, None, None, None, None, None

    @staticmethod
    def backward_graph(ctx, g):
        """Conv2d's forward path for the input (g's columns against the weight), a correlation for the weight."""
        _, w, x = ctx.saved_tensors
        n, cin, h, wd = ctx.x_shape
        _, cog, kh, kw = ctx.w_shape
        win, grp, need = ctx.window, ctx.groups, ctx.needs_input_grad
        k, s, p, d = _window_pairs(win)
        cols = unfold(g, k, d, p, s)
        bh, bw = win.out_size(g.shape[2], g.shape[3])
        if (bh, bw) != (h, wd):     # output_padding >= stride (allowed when < dilation): extra windows
            cols = cols.reshape(n, -1, bh, bw)[:, :, :h, :wd]
        cols = cols.reshape(n, grp, cog * kh * kw, h * wd)
        gx = gw = gb = None
        if need[0]:
            gx = w.reshape(grp, cin // grp, cog * kh * kw).matmul(cols).reshape(n, cin, h, wd)
        if need[1]:
            gw = x.reshape(n, grp, cin // grp, h * wd).matmul(cols.transpose(2, 3)).sum(0).reshape(cin, cog, kh, kw)
        if need[2]:
            gb = g.sum((0, 2, 3))
        return gx, gw, gb, None, None, None, None, None


def _window_pairs(win):
    """(kernel, stride, padding, dilation) pairs of a Window2d, as unfold/fold take them."""
    return (win.kh, win.kw), (win.sh, win.sw), (win.ph, win.pw), (win.dh, win.dw)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    _check_conv_args("conv_transpose2d", input, weight, bias, groups)
    fn = "conv_transpose2d"
    stride, padding = _pair(stride, "stride", fn), _pair(padding, "padding", fn)
    dilation, opad = _pair(dilation, "dilation", fn), _pair(output_padding, "output_padding", fn)
    _check_geometry(stride, padding, dilation)
    cin, cog, kh, kw = weight.shape
    xs = list(input.shape)
    if xs[-3] != cin:
        raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, expected input{xs} to have "
                           f"{cin} channels, but got {xs[-3]} channels instead")
    if cin % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but "
                           f"got weight of size {list(weight.shape)} instead")
    if bias is not None and tuple(bias.shape) != (cog * groups,):
        raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, expected bias to be "
                           f"1-dimensional with {cog * groups} elements, but got bias of size {list(bias.shape)} "
                           f"instead")
    for i, name in enumerate(("height", "width")):
        if opad[i] < 0 or (opad[i] >= stride[i] and opad[i] >= dilation[i]):
            raise RuntimeError(f"output padding must be smaller than either stride or dilation, but got "
                               f"output_padding_{name}: {opad[i]} stride_{name}: {stride[i]} dilation_{name}: "
                               f"{dilation[i]}")
    out_hw = tuple((xs[-2 + i] - 1) * stride[i] - 2 * padding[i] + dilation[i] * ((kh, kw)[i] - 1) + opad[i] + 1
                   for i in range(2))
    if min(out_hw) <= 0:
        raise RuntimeError(f"Given input size per channel: ({xs[-2]} x {xs[-1]}). Calculated output size per "
                           f"channel: ({out_hw[0]} x {out_hw[1]}). Output size is too small")
    return ConvTranspose2d.apply(input, weight, bias, stride, padding, out_hw, dilation, groups)


@accepts_unbatched(4)
class Unfold(Function):
    raw = True

    @staticmethod
    @float32_inside
    def forward(ctx, x, k, dilation, padding, stride):
        be = ctx.be
        n, c = x.shape[:2]
        win = Window2d.of(k, stride, padding, dilation)
        cols = be.im2col(x, win)
        ctx.x_shape, ctx.cols_shape, ctx.window = x.shape, cols.shape, win
        return be.xp.ascontiguousarray(cols.reshape(c * k[0] * k[1], n, -1).transpose(1, 0, 2))

    @staticmethod
    @float32_inside
    def backward(ctx, grad):
        cols = ctx.be.xp.ascontiguousarray(grad.transpose(1, 0, 2)).reshape(ctx.cols_shape)
        return ctx.be.col2im(cols, ctx.x_shape, ctx.window), None, None, None, None

    @staticmethod
    def backward_graph(ctx, g):   # fold and unfold are each other's adjoint
        k, s, p, d = _window_pairs(ctx.window)
        return fold(g, ctx.x_shape[2:], k, d, p, s), None, None, None, None


@accepts_unbatched(3)
class Fold(Function):
    raw = True

    @staticmethod
    @float32_inside
    def forward(ctx, x, out_hw, k, dilation, padding, stride, blocks):
        be = ctx.be
        n, ckk, _ = x.shape
        c = ckk // (k[0] * k[1])
        cols = be.xp.ascontiguousarray(x.transpose(1, 0, 2)).reshape((c, k[0], k[1], n) + blocks)
        ctx.window = win = Window2d.of(k, stride, padding, dilation)
        return be.col2im(cols, (n, c) + out_hw, win)

    @staticmethod
    @float32_inside
    def backward(ctx, grad):
        win = ctx.window
        cols = ctx.be.im2col(grad, win)
        n = grad.shape[0]
        gx = ctx.be.xp.ascontiguousarray(cols.reshape(cols.shape[0] * win.kh * win.kw, n, -1).transpose(1, 0, 2))
        return gx, None, None, None, None, None, None

    @staticmethod
    def backward_graph(ctx, g):
        k, s, p, d = _window_pairs(ctx.window)
        return unfold(g, k, d, p, s), None, None, None, None, None, None


def _blocks(fn, size, k, d, p, s):
    _check_geometry(s, p, d)
    if min(k) <= 0:
        raise RuntimeError(f"{fn}: kernel size should be greater than zero, but got kernel_size={list(k)}")
    blocks = Window2d.of(k, s, p, d).out_size(*size)
    if min(blocks) < 1:
        raise RuntimeError(f"Given input with spatial size {tuple(size)}, kernel_size={k}, dilation={d}, "
                           f"padding={p}, calculated shape of the array of sliding blocks as {blocks}, but its "
                           f"components must be at least one.")
    return blocks


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    fn = "unfold"
    k, d = _pair(kernel_size, "kernel_size", fn), _pair(dilation, "dilation", fn)
    p, s = _pair(padding, "padding", fn), _pair(stride, "stride", fn)
    if input.ndim not in (3, 4):
        raise RuntimeError(f"Input Error: Only 3D or 4D input Tensors are supported (got {input.ndim}D, "
                           f"size {list(input.shape)})")
    _check_float(fn, input)
    _blocks(fn, tuple(input.shape[-2:]), k, d, p, s)
    return Unfold.apply(input, k, d, p, s)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    fn = "fold"
    out_hw = _pair(output_size, "output_size", fn)
    k, d = _pair(kernel_size, "kernel_size", fn), _pair(dilation, "dilation", fn)
    p, s = _pair(padding, "padding", fn), _pair(stride, "stride", fn)
    if input.ndim not in (2, 3):
        raise RuntimeError(f"Input Error: Only unbatched (2D) or batched (3D) input Tensors are supported (got "
                           f"{input.ndim}D, size {list(input.shape)})")
    _check_float(fn, input)
    blocks = _blocks(fn, out_hw, k, d, p, s)
    ckk, length = input.shape[-2], input.shape[-1]
    if ckk % (k[0] * k[1]):
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product of kernel_size, "
                           f"but got input.size(1)={ckk} and kernel_size={k}.")
    if length != blocks[0] * blocks[1]:
        raise RuntimeError(f"Given output_size={out_hw}, kernel_size={k}, dilation={d}, padding={p}, stride={s}, "
                           f"expected size of input's dimension 2 to match the calculated number of sliding blocks "
                           f"{blocks[0]} * {blocks[1]} = {blocks[0] * blocks[1]}, but got input.size(2)={length}.")
    return Fold.apply(input, out_hw, k, d, p, s, blocks)
