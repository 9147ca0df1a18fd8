"""RNN, LSTM and GRU (num_layers, bidirectional, batch_first, dropout between layers, LSTM's proj_size) and their
single-step cells, composed from linear maps and activations (so every gradient, and gradients of gradients, come
from those ops). PyTorch's parameter names and shapes, gate order (LSTM: i, f, g, o; GRU: r, z, n) and its
uniform(-1/sqrt(hidden_size), 1/sqrt(hidden_size)) initialisation. Each layer's input-to-hidden products are one
matrix product over the whole sequence; the time loop does the hidden-to-hidden ones. A PackedSequence input runs
as its padded, length-sorted batch with each sequence's state frozen past its end (its reverse direction starts
at its own last step), and comes back packed."""
import math
import warnings

import numpy as np

from ..ops.dropout_extra import _keep
from ..ops.elementwise import relu, sigmoid, tanh, where
from ..ops.matmul import linear
from ..ops.movement import cat, stack
from ..tensor import Tensor, empty
from . import init
from .module import Module
from .parameter import Parameter

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _step(mode, gi, h, c, w_hh, b_hh, w_hr):
    """One time step from the precomputed input gates gi: (h', c')."""
    gh = linear(h, w_hh, b_hh)
    if mode == "LSTM":
        i, f, g, o = (gi + gh).chunk(4, -1)
        c = sigmoid(f) * c + sigmoid(i) * tanh(g)
        h = sigmoid(o) * tanh(c)
        return (h if w_hr is None else linear(h, w_hr)), c
    if mode == "GRU":
        ir, iz, inn = gi.chunk(3, -1)
        hr, hz, hn = gh.chunk(3, -1)
        r, z = sigmoid(ir + hr), sigmoid(iz + hz)
        n = tanh(inn + r * hn)
        return (1 - z) * n + z * h, None
    act = tanh if mode == "RNN_TANH" else relu
    return act(gi + gh), None


class RNNBase(Module):
    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        if not isinstance(dropout, (int, float)) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of an "
                             "element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn(f"dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and "
                          f"num_layers={num_layers}", stacklevel=3)
        if not isinstance(hidden_size, int) or hidden_size <= 0:
            raise ValueError("hidden_size must be an integer greater than zero")
        if not isinstance(num_layers, int) or num_layers <= 0:
            raise ValueError("num_layers must be an integer greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        self.mode, self.input_size, self.hidden_size, self.num_layers = mode, input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.proj_size = bidirectional, proj_size
        dirs = 2 if bidirectional else 1
        out = proj_size if proj_size > 0 else hidden_size
        gates = _GATES[mode] * hidden_size
        f = dict(device=device, dtype=dtype)
        self._flat_weights_names = []
        for layer in range(num_layers):
            for d in range(dirs):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                shapes = [("weight_ih" + sfx, (gates, input_size if layer == 0 else out * dirs)),
                          ("weight_hh" + sfx, (gates, out))]
                if bias:
                    shapes += [("bias_ih" + sfx, (gates,)), ("bias_hh" + sfx, (gates,))]
                if proj_size > 0:
                    shapes.append(("weight_hr" + sfx, (proj_size, hidden_size)))
                for name, shape in shapes:
                    setattr(self, name, Parameter(empty(shape, **f)))
                    self._flat_weights_names.append(name)
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for w in self.parameters():
            init.uniform_(w, -stdv, stdv)

    def flatten_parameters(self):
        """PyTorch compacts cuDNN weights here; ours are always usable as they are."""

    @property
    def _flat_weights(self):
        return [getattr(self, n) for n in self._flat_weights_names]

    @property
    def all_weights(self):
        per = len(self._flat_weights_names) // (self.num_layers * (2 if self.bidirectional else 1))
        ws = self._flat_weights
        return [ws[i:i + per] for i in range(0, len(ws), per)]

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    def _weights(self, layer, d):
        sfx = f"_l{layer}" + ("_reverse" if d else "")
        get = lambda n: getattr(self, n + sfx, None) if (self.bias or not n.startswith("bias")) else None  # noqa
        return get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh"), \
            (getattr(self, "weight_hr" + sfx) if self.proj_size > 0 else None)

    def forward(self, input, hx=None):
        from .utils.rnn import PackedSequence, _padded_sorted, _repack
        packed = input if isinstance(input, PackedSequence) else None
        name = "RNN" if self.mode.startswith("RNN") else self.mode
        lengths = None
        if packed is not None:     # run on the padded, length-sorted batch; a sequence's state stops at its end
            x, lengths = _padded_sorted(packed)
            batched = True
        else:
            if not isinstance(input, Tensor):
                raise TypeError(f"{name}: input must be a Tensor or a PackedSequence, not {type(input).__name__}")
            if input.ndim not in (2, 3):
                raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.ndim}D instead")
            batched = input.ndim == 3
            x = input if batched else input.unsqueeze(1)
            if batched and self.batch_first:
                x = x.transpose(0, 1)
        if x.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got "
                               f"{x.shape[-1]}")
        seq, n = x.shape[0], x.shape[1]
        dirs = 2 if self.bidirectional else 1
        out_size = self.proj_size if self.proj_size > 0 else self.hidden_size
        h_shape, c_shape = (self.num_layers * dirs, n, out_size), (self.num_layers * dirs, n, self.hidden_size)
        if hx is None:
            h0 = x.new_zeros(h_shape)
            c0 = x.new_zeros(c_shape) if self.mode == "LSTM" else None
        else:
            h0, c0 = hx if self.mode == "LSTM" else (hx, None)
            if not batched:
                h0 = h0.unsqueeze(1)
                c0 = None if c0 is None else c0.unsqueeze(1)
            for t, want, what in ((h0, h_shape, "hidden"), (c0, c_shape, "cell")):
                if t is not None and tuple(t.shape) != want:
                    raise RuntimeError(f"Expected {what} size {want}, got {list(t.shape)}")
            if packed is not None and packed.sorted_indices is not None:
                order = Tensor(x._be.xp.asarray(_np_of(packed.sorted_indices)))
                h0 = h0.index_select(1, order)
                c0 = None if c0 is None else c0.index_select(1, order)
        live = None
        if lengths is not None:    # live[t]: (n, 1) true while step t is inside the sequence
            live = [Tensor(x._be.xp.asarray((lengths > t)[:, None])) for t in range(seq)]
        hs, cs = [], []
        layer_in = x
        for layer in range(self.num_layers):
            outs = []
            for d in range(dirs):
                w_ih, w_hh, b_ih, b_hh, w_hr = self._weights(layer, d)
                k = layer * dirs + d
                h, c = h0[k], (c0[k] if c0 is not None else None)
                gi = linear(layer_in, w_ih, b_ih)        # (seq, n, gates): every step's input part at once
                steps = [None] * seq
                for t in (range(seq - 1, -1, -1) if d else range(seq)):
                    h_new, c_new = _step(self.mode, gi[t], h, c, w_hh, b_hh, w_hr)
                    if live is not None:
                        h_new = where(live[t], h_new, h)
                        c_new = None if c is None else where(live[t], c_new, c)
                    h, c = h_new, c_new
                    steps[t] = h
                outs.append(stack(steps) if seq else x.new_zeros((0, n, out_size)))
                hs.append(h)
                if c is not None:
                    cs.append(c)
            layer_in = outs[0] if dirs == 1 else cat(outs, -1)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                p = self.dropout
                keep = _keep(layer_in, tuple(layer_in.shape), p)
                layer_in = layer_in * Tensor(keep / (1 - p) if p < 1 else keep)
        out, h_n = layer_in, stack(hs)
        c_n = stack(cs) if self.mode == "LSTM" else None
        if packed is not None:
            out = _repack(out, packed.batch_sizes, packed)
            if packed.unsorted_indices is not None:
                back = Tensor(x._be.xp.asarray(_np_of(packed.unsorted_indices)))
                h_n = h_n.index_select(1, back)
                c_n = None if c_n is None else c_n.index_select(1, back)
        else:
            if batched and self.batch_first:
                out = out.transpose(0, 1)
            if not batched:
                out, h_n = out.squeeze(1), h_n.squeeze(1)
                c_n = None if c_n is None else c_n.squeeze(1)
        return (out, (h_n, c_n)) if self.mode == "LSTM" else (out, h_n)


def _np_of(t):
    a = t._array
    return np.asarray(a.get() if hasattr(a, "get") else a)


class RNN(RNNBase):
    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size, hidden_size, num_layers,
                         bias, batch_first, dropout, bidirectional, 0, device, dtype)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, device, dtype)


class GRU(RNNBase):
    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, 0,
                         device, dtype)


# ---- cells ---------------------------------------------------------------------------------------
class RNNCellBase(Module):
    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        f = dict(device=device, dtype=dtype)
        self.weight_ih = Parameter(empty((num_chunks * hidden_size, input_size), **f))
        self.weight_hh = Parameter(empty((num_chunks * hidden_size, hidden_size), **f))
        if bias:
            self.bias_ih = Parameter(empty(num_chunks * hidden_size, **f))
            self.bias_hh = Parameter(empty(num_chunks * hidden_size, **f))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    reset_parameters = RNNBase.reset_parameters

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _run(self, mode, input, hx, cx=None):
        if input.ndim not in (1, 2):
            raise ValueError(f"{type(self).__name__}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.shape[-1]} expected "
                               f"{self.input_size}")
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        n = x.shape[0]
        h = x.new_zeros((n, self.hidden_size)) if hx is None else (hx if batched else hx.unsqueeze(0))
        c = None
        if mode == "LSTM":
            c = x.new_zeros((n, self.hidden_size)) if cx is None else (cx if batched else cx.unsqueeze(0))
        h, c = _step(mode, linear(x, self.weight_ih, self.bias_ih), h, c, self.weight_hh, self.bias_hh, None)
        if not batched:
            h, c = h.squeeze(0), (None if c is None else c.squeeze(0))
        return h if mode != "LSTM" else (h, c)


class RNNCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        return self._run("RNN_TANH" if self.nonlinearity == "tanh" else "RNN_RELU", input, hx)


class LSTMCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input, hx=None):
        h, c = (None, None) if hx is None else hx
        return self._run("LSTM", input, h, c)


class GRUCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input, hx=None):
        return self._run("GRU", input, hx)
