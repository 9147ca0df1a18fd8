"""summary(model, input_shape): one row per leaf layer with output shape, parameters, activation memory and
receptive field, found by running the model once on zeros with forward hooks."""
import numpy as np

from ..ops.conv import _pair as _checked_pair

# layers that see the whole input at once: each output depends on every input pixel
_GLOBAL = ("Linear", "Flatten", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "Bilinear", "LazyLinear")


def _pair(v):
    return _checked_pair(v, "size", "summary")


def _window(m):
    """(kernel, stride, dilation) pairs for a conv/pool layer, else None."""
    k = getattr(m, "kernel_size", None)
    if k is None or type(m).__name__ in _GLOBAL:
        return None
    s = getattr(m, "stride", None)
    return _pair(k), _pair(k if s is None else s), _pair(getattr(m, "dilation", 1))


def _first_tensor(x):
    from ..tensor import Tensor
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (tuple, list)):
        return next((t for t in (_first_tensor(v) for v in x) if t is not None), None)
    return None


def _nbytes(t):
    return int(np.prod(t.shape)) * np.dtype(t.dtype.np).itemsize


class ModelSummary:
    """rows: list of dicts (name, type, output_shape, params, activation_bytes, rf, jump); rf and jump are (h, w)
    pairs, jump None once a layer sees the whole input. Totals: total_params, trainable_params, param_bytes,
    input_bytes, activation_bytes (input + every row). str() is the printed table."""

    def __init__(self, rows, input_shape, input_bytes, params):
        self.rows, self.input_shape, self.input_bytes = rows, input_shape, input_bytes
        self.total_params = sum(int(np.prod(p.shape)) for p in params)
        self.trainable_params = sum(int(np.prod(p.shape)) for p in params if p.requires_grad)
        self.param_bytes = sum(_nbytes(p) for p in params)
        self.activation_bytes = input_bytes + sum(r["activation_bytes"] for r in rows)

    def __str__(self):
        def fmt_pair(p):
            return "-" if p is None else (str(p[0]) if p[0] == p[1] else f"{p[0]}x{p[1]}")
        head = ("layer", "type", "output shape", "params", "act. bytes", "rf", "jump")
        body = [(r["name"], r["type"], str(list(r["output_shape"])), f"{r['params']:,}",
                 f"{r['activation_bytes']:,}", fmt_pair(r["rf"]), fmt_pair(r["jump"])) for r in self.rows]
        body.insert(0, ("(input)", "", str(list(self.input_shape)), "0", f"{self.input_bytes:,}", "1", "1"))
        widths = [max(len(row[i]) for row in [head] + body) for i in range(len(head))]
        line = lambda row: "  ".join(c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))
        rule = "-" * len(line(head))
        out = [line(head), rule] + [line(r) for r in body] + [rule]
        out.append(f"total params: {self.total_params:,} (trainable {self.trainable_params:,}), "
                   f"{self.param_bytes:,} bytes ({self.param_bytes / 2**20:.2f} MiB)")
        out.append(f"activation bytes kept for backward (batch {self.input_shape[0]}): {self.activation_bytes:,} "
                   f"({self.activation_bytes / 2**20:.2f} MiB)")
        return "\n".join(out)

    __repr__ = __str__


def summary(model, input_shape, batch_size=1, dtype=None, device=None, print_fn=print):
    """Run model once on zeros of shape (batch_size, *input_shape) and tabulate its leaf modules (those without
    children) in the order they run. Returns a ModelSummary (its str() is the table, also passed to print_fn
    unless print_fn is None). The model is put in eval mode for the pass and restored afterwards, so BatchNorm's
    running statistics are untouched; no graph is recorded.

    Columns:
    - output shape: the layer's output, batch dimension included.
    - params: the layer's own parameters (same count as PyTorch's numel sum).
    - activation bytes: the memory this layer adds to what training keeps alive for the backward pass at this
      batch size. Rule: the bytes of the layer's output tensor (whoever consumes it saves it or a same-sized
      derivative: conv/linear keep their input, ReLU its output, BatchNorm its normalised input), plus, for
      max-pooling, its arg-max indices (one int64 per output element). The network input is counted once, in
      the total. Temporaries an implementation may keep in addition (e.g. im2col columns) are not counted.
    - rf / jump: the receptive field of one output pixel on the input image, and the distance on the input
      between neighbouring output pixels. Starting from rf = jump = 1, a conv or pool with kernel k, stride s and
      dilation d gives rf += (k - 1) * d * jump, then jump *= s; elementwise layers (activations, BatchNorm,
      dropout) keep both; Linear, Flatten and adaptive pools see the whole input (rf = input size, jump '-').
      Each layer takes the rf of the tensor it receives; a tensor made outside any leaf module (a residual sum,
      x.view) takes the rf of the last layer that ran, which for a skip connection is the larger branch.
    """
    import tinygrad_fer as tg
    shape = (int(batch_size),) + tuple(int(s) for s in input_shape)
    x = tg.zeros(*shape, dtype=dtype or tg.float32, device=device)
    whole = _pair(shape[-2:]) if len(shape) >= 3 else None
    info = {id(x): ((1, 1), (1, 1))}   # id(tensor) -> (rf, jump)
    keep = [x]                          # keeps the ids above valid during the pass
    last = [((1, 1), (1, 1))]
    rows, handles = [], []

    def hook(m, args, out, name):
        t_in, t_out = _first_tensor(args), _first_tensor(out)
        rf, jump = info.get(id(t_in), last[0]) if t_in is not None else last[0]
        win = _window(m)
        if jump is None:
            pass
        elif type(m).__name__ in _GLOBAL:
            rf, jump = (whole or rf), None
        elif win is not None:
            (kh, kw), (sh, sw), (dh, dw) = win
            rf = (rf[0] + (kh - 1) * dh * jump[0], rf[1] + (kw - 1) * dw * jump[1])
            jump = (jump[0] * sh, jump[1] * sw)
        act = 0
        if t_out is not None:
            act = _nbytes(t_out)
            if "MaxPool" in type(m).__name__:
                act += int(np.prod(t_out.shape)) * 8
            info[id(t_out)] = (rf, jump)
            keep.append(t_out)
        last[0] = (rf, jump)
        rows.append({"name": name, "type": type(m).__name__, "module": m,
                     "output_shape": tuple(t_out.shape) if t_out is not None else (),
                     "params": sum(int(np.prod(p.shape)) for p in m.parameters(recurse=False)),
                     "activation_bytes": act, "rf": rf, "jump": jump})

    modes = {m: m.training for m in model.modules()}
    leaves = [(n, m) for n, m in model.named_modules() if not any(True for _ in m.children())]
    try:
        for name, m in leaves:
            handles.append(m.register_forward_hook(lambda m, a, o, _n=name or type(m).__name__: hook(m, a, o, _n)))
        model.eval()
        with tg.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
        for m, mode in modes.items():
            m.training = mode
    params = list(model.parameters())
    result = ModelSummary(rows, shape, _nbytes(x), params)
    if print_fn is not None:
        print_fn(str(result))
    return result
