"""torch.nn.utils.rnn: padding a list of sequences, and PackedSequence (the steps of sequences sorted by length,
time-major, batch_sizes[t] sequences still running at step t) with pack/pad conversions; RNN, LSTM and GRU take a
PackedSequence and return one. Every conversion is a gather or a scatter-add, so gradients flow through."""
from typing import NamedTuple

import numpy as np

from ...ops.movement import pad as _pad, stack
from ...tensor import Tensor, tensor


def _np(a):
    if isinstance(a, Tensor):
        a = a._array
    return np.asarray(a.get() if hasattr(a, "get") else a)


class _PackedSequenceBase(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor = None
    unsorted_indices: Tensor = None


class PackedSequence(_PackedSequenceBase):
    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None and sorted_indices is not None:
            inv = np.empty_like(_np(sorted_indices))
            inv[_np(sorted_indices)] = np.arange(inv.size)
            unsorted_indices = tensor(inv)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        return type(self)(self.data.to(*args, **kwargs), self.batch_sizes, self.sorted_indices,
                          self.unsorted_indices)

    def cuda(self, *args, **kwargs):
        return type(self)(self.data.cuda(*args, **kwargs), self.batch_sizes, self.sorted_indices,
                          self.unsorted_indices)

    def cpu(self):
        return type(self)(self.data.cpu(), self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    @property
    def is_cuda(self):
        return self.data.is_cuda


def _positions(batch_sizes, batch):
    """Row t * batch + b of the (T * batch) padded rows for each packed row, in packed order."""
    return np.concatenate([t * batch + np.arange(n) for t, n in enumerate(batch_sizes)]) if len(batch_sizes) \
        else np.zeros(0, dtype=np.int64)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    lengths = _np(lengths).astype(np.int64).reshape(-1)
    if enforce_sorted:
        if lengths.size > 1 and bool((np.diff(lengths) > 0).any()):
            raise RuntimeError("`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. "
                               "You can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to "
                               "sidestep this requirement if you do not need ONNX exportability.")
        sorted_indices = None
    else:
        order = np.argsort(-lengths, kind="stable")
        lengths = lengths[order]
        sorted_indices = tensor(order)
        input = input.index_select(0 if batch_first else 1, Tensor(input._be.xp.asarray(order)))
    if lengths.size and lengths.min() <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' that "
                           "is <= 0")
    x = input.transpose(0, 1) if batch_first else input
    if lengths.size and lengths[0] > x.shape[0]:
        raise RuntimeError(f"Expected sequence length to be at most {x.shape[0]}, but got {int(lengths[0])}")
    batch_sizes = np.array([(lengths > t).sum() for t in range(int(lengths.max()) if lengths.size else 0)],
                           dtype=np.int64)
    rows = x.reshape(x.shape[0] * x.shape[1], *x.shape[2:])
    data = rows[Tensor(input._be.xp.asarray(_positions(batch_sizes, x.shape[1])))]
    return PackedSequence(data, tensor(batch_sizes), sorted_indices, None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    data, bs = sequence.data, _np(sequence.batch_sizes)
    steps, batch = len(bs), (int(bs[0]) if len(bs) else 0)
    if total_length is not None:
        if total_length < steps:
            raise ValueError(f"Expected total_length to be at least the length of the longest sequence in input, "
                             f"but got total_length={total_length} and max sequence length being {steps}")
        steps = total_length
    xp = data._be.xp
    pos = _positions(bs, batch)
    base = np.full((steps * batch,), float(padding_value))
    base[pos] = 0
    tail = tuple(data.shape[1:])
    out = Tensor(xp.asarray(base.reshape((-1,) + (1,) * len(tail)).astype(data._array.dtype))).expand(
        steps * batch, *tail).contiguous()
    out = out.index_add(0, Tensor(xp.asarray(pos)), data).reshape(steps, batch, *tail)
    lengths = np.array([(bs > b).sum() for b in range(batch)], dtype=np.int64)
    if sequence.unsorted_indices is not None:
        inv = _np(sequence.unsorted_indices)
        out = out.index_select(1, Tensor(xp.asarray(inv)))
        lengths = lengths[inv]
    return (out.transpose(0, 1) if batch_first else out), tensor(lengths)


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    if isinstance(sequences, Tensor):
        sequences = list(sequences.unbind(0))
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    longest = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        extra = longest - s.shape[0]
        widths = (0, 0) * (s.ndim - 1) + ((0, extra) if padding_side == "right" else (extra, 0))
        padded.append(_pad(s, widths, value=padding_value) if extra else s)
    return stack(padded, 0 if batch_first else 1)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    x = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    return [x[i, :int(n)] for i, n in enumerate(_np(lengths))]


def pack_sequence(sequences, enforce_sorted=True):
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)


def _padded_sorted(packed):
    """(T, B, *) in the packed (length-sorted) batch order, and the sorted lengths."""
    unsorted = packed._replace(sorted_indices=None, unsorted_indices=None)
    out, lengths = pad_packed_sequence(unsorted)
    return out, _np(lengths)


def _repack(padded, batch_sizes, like):
    rows = padded.reshape(padded.shape[0] * padded.shape[1], *padded.shape[2:])
    pos = _positions(_np(batch_sizes), padded.shape[1])
    data = rows[Tensor(padded._be.xp.asarray(pos))]
    return PackedSequence(data, batch_sizes, like.sorted_indices, like.unsorted_indices)
