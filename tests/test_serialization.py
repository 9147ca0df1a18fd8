"""tinygrad_fer.save/load: round trips of nested checkpoints, atomic writes, and refusal of pickled data."""
import os
import pickle
from collections import OrderedDict

import numpy as np
import pytest

import tinygrad_fer as tg
import tinygrad_fer.nn as nn
from tinygrad_fer import serialization


def _model():
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))


def test_round_trip_of_a_training_checkpoint(tmp_path):
    tg.manual_seed(0)
    m = _model()
    m(tg.randn(5, 3))  # moves the running stats
    ckpt = {"model": m.state_dict(), "epoch": 7, "best": 0.93, "name": "fer", "none": None, "flag": True,
            "optimizer": {"state": {0: {"step": tg.tensor(3.0), "exp_avg": tg.randn(4, 3)}},
                          "param_groups": [{"params": [0, 1], "lr": 1e-3, "betas": (0.9, 0.999)}]},
            "ints": tg.tensor([1, 2, 3]), "f64": tg.randn(2, dtype=tg.float64), "nan": float("nan")}
    path = tmp_path / "ck.pt"
    tg.save(ckpt, path)
    back = tg.load(path)
    assert isinstance(back["model"], OrderedDict) and list(back["model"]) == list(ckpt["model"])
    for k, v in ckpt["model"].items():
        assert back["model"][k].dtype == v.dtype
        np.testing.assert_array_equal(back["model"][k].numpy(), v.numpy())
    assert back["epoch"] == 7 and back["best"] == 0.93 and back["name"] == "fer" and back["none"] is None
    assert back["flag"] is True and np.isnan(back["nan"])
    assert list(back["optimizer"]["state"]) == [0]  # int keys stay ints
    assert back["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)
    assert back["ints"].dtype == tg.int64 and back["f64"].dtype == tg.float64
    m2 = _model()
    m2.load_state_dict(back["model"])
    m.eval(), m2.eval()
    x = tg.randn(4, 3)
    np.testing.assert_array_equal(m(x).detach().numpy(), m2(x).detach().numpy())


def test_load_map_location_and_file_objects(tmp_path):
    import io
    buf = io.BytesIO()
    tg.save({"w": tg.ones(2)}, buf)
    buf.seek(0)
    assert tg.load(buf, map_location="cpu")["w"].tolist() == [1.0, 1.0]
    tg.save([tg.zeros(1), (1, "a")], str(tmp_path / "x.pt"))
    assert tg.load(str(tmp_path / "x.pt"), map_location={"cpu": "cpu"})[1] == (1, "a")


def test_unsupported_objects_raise_and_write_nothing(tmp_path):
    path = tmp_path / "bad.pt"
    with pytest.raises(TypeError, match="can't save"):
        tg.save({"fn": lambda: 0}, path)
    assert os.listdir(tmp_path) == []


def test_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "ck.pt"
    tg.save({"v": tg.tensor([1.0])}, path)
    before = path.read_bytes()

    def broken_savez(fh, **members):
        fh.write(b"PK\x03\x04 partial")
        raise OSError("disk full")
    monkeypatch.setattr(serialization.np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        tg.save({"v": tg.tensor([2.0])}, path)
    assert path.read_bytes() == before  # the old checkpoint is intact
    assert os.listdir(tmp_path) == ["ck.pt"]  # and no temporary file is left behind


def test_refuses_pickle(tmp_path):
    p = tmp_path / "evil.pt"
    with open(p, "wb") as f:
        pickle.dump({"a": 1}, f)
    with pytest.raises(ValueError, match="pickle"):
        tg.load(p)
    q = tmp_path / "obj.npz"
    np.savez(q, __structure__=np.frombuffer(b"{}", np.uint8), t0=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="pickle"):
        tg.load(q)
    r = tmp_path / "plain.npz"
    np.savez(r, a=np.zeros(2))
    with pytest.raises(ValueError, match="not a tinygrad_fer checkpoint"):
        tg.load(r)
