"""nn.utils.rnn against torch.nn.utils.rnn: pad_sequence, pack/pad conversions (sorted or not, batch_first,
total_length), their gradients, and RNN / LSTM / GRU over a PackedSequence (outputs, final states, gradients)."""
import numpy as np
import pytest
import torch

import tinygrad_fer as tg
import tinygrad_fer.nn as nn

R = np.random.default_rng(0)
SEQS = [R.standard_normal((n, 3)) for n in (2, 5, 1, 4)]
LENGTHS = [2, 5, 1, 4]


@pytest.mark.parametrize("kw", [dict(), dict(batch_first=True, padding_value=-1.0), dict(padding_side="left")])
def test_pad_sequence_like_torch(kw):
    got = nn.utils.rnn.pad_sequence([tg.tensor(s) for s in SEQS], **kw).numpy()
    want = torch.nn.utils.rnn.pad_sequence([torch.tensor(s) for s in SEQS], **kw).numpy()
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("batch_first", [False, True])
def test_pack_and_pad_round_trip_like_torch(batch_first):
    res = []
    for lib in (tg, torch):
        u = lib.nn.utils.rnn
        padded = u.pad_sequence([lib.tensor(s) for s in SEQS], batch_first=batch_first)
        x = lib.tensor(padded.detach().numpy(), requires_grad=True)
        p = u.pack_padded_sequence(x, lib.tensor(LENGTHS), batch_first=batch_first, enforce_sorted=False)
        out, lengths = u.pad_packed_sequence(p, batch_first=batch_first, padding_value=7.0, total_length=6)
        (out * lib.tensor(np.arange(out.numel(), dtype=np.float64).reshape(tuple(out.shape)))).sum().backward()
        res.append([p.data.detach().numpy(), p.batch_sizes.numpy(), p.sorted_indices.numpy(),
                    p.unsorted_indices.numpy(), out.detach().numpy(), lengths.numpy(), x.grad.numpy()])
        seqs = u.unpack_sequence(u.pack_sequence([lib.tensor(s) for s in SEQS], enforce_sorted=False))
        res[-1] += [s.numpy() for s in seqs]
    for a, b in zip(*res):
        np.testing.assert_array_equal(a, b)


def test_pack_errors_like_torch():
    for lib in (tg, torch):
        u = lib.nn.utils.rnn
        x = lib.zeros((5, 4, 3))
        with pytest.raises(RuntimeError, match="`lengths` array must be sorted in decreasing order"):
            u.pack_padded_sequence(x, lib.tensor(LENGTHS))
        with pytest.raises(ValueError, match="Expected total_length to be at least the length of the longest"):
            u.pad_packed_sequence(u.pack_padded_sequence(x, lib.tensor([5, 4, 2, 1])), total_length=3)


@pytest.mark.parametrize("name,kw", [("RNN", dict()), ("LSTM", dict(num_layers=2, bidirectional=True)),
                                     ("GRU", dict(bidirectional=True)), ("LSTM", dict(proj_size=2))])
def test_recurrent_layers_over_packed_sequences_like_torch(name, kw):
    theirs = getattr(torch.nn, name)(3, 4, **kw).double()
    ours = getattr(nn, name)(3, 4, **kw).double()
    ours.load_state_dict({k: tg.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    res = []
    for lib, m in ((tg, ours), (torch, theirs)):
        u = lib.nn.utils.rnn
        seqs = [lib.tensor(s, requires_grad=True) for s in SEQS]
        out, state = m(u.pack_sequence(seqs, enforce_sorted=False))
        states = list(state) if isinstance(state, tuple) else [state]
        padded, lengths = u.pad_packed_sequence(out)
        loss = (padded * lib.tensor(np.random.default_rng(1).standard_normal(tuple(padded.shape)))).sum()
        for i, st in enumerate(states):
            loss = loss + (st * (i + 2)).sum()
        loss.backward()
        res.append([padded.detach().numpy(), lengths.numpy(), *(st.detach().numpy() for st in states),
                    *(s.grad.numpy() for s in seqs), *(p.grad.numpy() for p in m.parameters())])
    assert len(res[0]) == len(res[1])
    for i, (a, b) in enumerate(zip(*res)):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11, err_msg=str(i))


def test_initial_state_follows_the_original_batch_order():
    theirs = torch.nn.GRU(3, 4, bidirectional=True).double()
    ours = nn.GRU(3, 4, bidirectional=True).double()
    ours.load_state_dict({k: tg.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    h0 = np.random.default_rng(2).standard_normal((2, 4, 4))
    res = []
    for lib, m in ((tg, ours), (torch, theirs)):
        h = lib.tensor(h0, requires_grad=True)
        out, hn = m(lib.nn.utils.rnn.pack_sequence([lib.tensor(s) for s in SEQS], enforce_sorted=False), h)
        (hn * lib.tensor(np.arange(32.0).reshape(2, 4, 4))).sum().backward()
        res.append([out.data.detach().numpy(), hn.detach().numpy(), h.grad.numpy()])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
