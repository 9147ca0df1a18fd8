"""RNN, LSTM, GRU and their cells against torch.nn's: reprs, parameter names and shapes, initialisation range,
and with torch's parameters the outputs, final states and the gradients of the input, the initial states and
every parameter; batch_first, bidirectional, stacked layers, LSTM projections, unbatched input; errors and
warnings; dropout between layers."""
import warnings

import numpy as np
import pytest
import torch

import tinygrad_fer as tg
import tinygrad_fer.nn as nn


def _flat(out):
    if isinstance(out, tuple):
        return [t for o in out for t in _flat(o)]
    return [out]


def _compare(name, kw, shape, hx=()):
    ours, theirs = getattr(nn, name)(**kw).double(), getattr(torch.nn, name)(**kw).double()
    assert repr(ours) == repr(theirs)
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: tg.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal(shape)
    res = []
    for lib, m in ((tg, ours), (torch, theirs)):
        xt = lib.tensor(x, requires_grad=True)
        hts = [lib.tensor(a, requires_grad=True) for a in hx]
        h = None if not hts else hts[0] if len(hts) == 1 else tuple(hts)
        outs = _flat(m(xt, h))
        sum((o * lib.tensor(np.random.default_rng(i).standard_normal(tuple(o.shape)))).sum()
            for i, o in enumerate(outs)).backward()
        res.append([o.detach().numpy() for o in outs] + [xt.grad.numpy()] + [t.grad.numpy() for t in hts]
                   + [p.grad.numpy() for p in m.parameters()])
    assert len(res[0]) == len(res[1])
    for i, (a, b) in enumerate(zip(*res)):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11, err_msg=str(i))


def _h(*shape, seed=1):
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize("name,kw,shape,hx", [
    ("RNN", dict(input_size=3, hidden_size=4), (5, 2, 3), ()),
    ("RNN", dict(input_size=3, hidden_size=4, nonlinearity="relu", num_layers=2, bidirectional=True), (5, 2, 3),
     (_h(4, 2, 4),)),
    ("LSTM", dict(input_size=3, hidden_size=4), (5, 2, 3), ()),
    ("LSTM", dict(input_size=3, hidden_size=4, num_layers=2, bidirectional=True, batch_first=True), (2, 5, 3), ()),
    ("LSTM", dict(input_size=3, hidden_size=4, proj_size=2, num_layers=2, bias=False), (5, 2, 3),
     (_h(2, 2, 2), _h(2, 2, 4, seed=2))),
    ("LSTM", dict(input_size=3, hidden_size=4, bidirectional=True), (4, 3), (_h(2, 4), _h(2, 4, seed=2))),
    ("GRU", dict(input_size=3, hidden_size=4), (5, 2, 3), ()),
    ("GRU", dict(input_size=3, hidden_size=4, num_layers=3, bidirectional=True), (4, 3), ()),
    ("GRU", dict(input_size=3, hidden_size=4, batch_first=True), (2, 5, 3), (_h(1, 2, 4),)),
    ("RNNCell", dict(input_size=3, hidden_size=4), (2, 3), ()),
    ("RNNCell", dict(input_size=3, hidden_size=4, nonlinearity="relu", bias=False), (3,), (_h(4),)),
    ("LSTMCell", dict(input_size=3, hidden_size=4), (2, 3), ()),
    ("LSTMCell", dict(input_size=3, hidden_size=4), (2, 3), (_h(2, 4), _h(2, 4, seed=2))),
    ("GRUCell", dict(input_size=3, hidden_size=4), (2, 3), ()),
    ("GRUCell", dict(input_size=3, hidden_size=4, bias=False), (3,), (_h(4),)),
])
def test_recurrent_layers_like_torch(name, kw, shape, hx):
    _compare(name, kw, shape, hx)


def test_initialisation_range_and_helpers():
    tg.manual_seed(0)
    m = nn.LSTM(5, 16, num_layers=2)
    values = np.concatenate([p.detach().numpy().ravel() for p in m.parameters()])
    assert np.abs(values).max() <= 0.25 and np.abs(values).max() > 0.24     # uniform(-1/sqrt(16), 1/sqrt(16))
    m.flatten_parameters()      # PyTorch's cuDNN compaction: a no-op here, called by much user code
    assert len(m.all_weights) == 2 and [tuple(w.shape) for w in m.all_weights[1]] == \
        [tuple(w.shape) for w in torch.nn.LSTM(5, 16, num_layers=2).all_weights[1]]


def test_errors_and_warnings_like_torch():
    for lib in (tg, torch):
        with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
            lib.nn.RNN(3, 4, dropout=0.2)
        with pytest.raises(ValueError, match="Unknown nonlinearity 'bogus'"):
            lib.nn.RNN(3, 4, nonlinearity="bogus")
        with pytest.raises(ValueError, match="proj_size has to be smaller than hidden_size"):
            lib.nn.LSTM(3, 4, proj_size=4)
        m = lib.nn.GRU(3, 4)
        with pytest.raises(RuntimeError, match="input.size\\(-1\\) must be equal to input_size. Expected 3, got 5"):
            m(lib.zeros((2, 2, 5)))
        with pytest.raises(RuntimeError, match="Expected hidden size \\(1, 2, 4\\), got \\[2, 2, 4\\]"):
            m(lib.zeros((2, 2, 3)), lib.zeros((2, 2, 4)))
        with pytest.raises(ValueError, match="GRU: Expected input to be 2D or 3D, got 4D instead"):
            m(lib.zeros((2, 2, 2, 3)))
        with pytest.raises(RuntimeError, match="input has inconsistent input_size: got 5 expected 3"):
            lib.nn.LSTMCell(3, 4)(lib.zeros((2, 5)))


def test_dropout_between_layers_only_in_training():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = nn.LSTM(3, 4, num_layers=2, dropout=0.5)
    x = tg.tensor(np.random.default_rng(0).standard_normal((6, 2, 3)).astype(np.float32))
    tg.manual_seed(1)
    a = m(x)[0].detach().numpy()
    tg.manual_seed(2)
    b = m(x)[0].detach().numpy()
    assert not np.allclose(a, b)           # different masks between the layers
    m.eval()
    np.testing.assert_array_equal(m(x)[0].detach().numpy(), m(x)[0].detach().numpy())
