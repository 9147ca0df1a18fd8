"""tinygrad_fer.save/load: round trips of nested checkpoints, atomic writes, and refusal of pickled data."""
import os
import pickle
import signal
import subprocess
import sys
from collections import OrderedDict

import numpy as np
import pytest

import tinygrad_fer as tg
import tinygrad_fer.nn as nn
from tinygrad_fer import _atomic, serialization


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


def test_next_save_removes_temporaries_of_killed_saves(tmp_path):
    path = tmp_path / "ck.pt"
    tg.save({"v": tg.tensor([1.0])}, path)
    # what killed saves leave: this module's names and mkstemp's (the writer before the shared helper)
    stale = [".ck.pt.0123abcd.tmp", ".ck.pt.k2_zq9xw.tmp"]
    # beside them, names a careless glob would take: other targets', other suffixes, the user's own files
    kept = [".ck.pt.0123abcd.tmp.bak", ".ck.pt.0123abc.tmp", ".ck.pt.0123abcde.tmp", ".ck.pt.ABCDEFGH.tmp",
            "ck.pt.0123abcd.tmp", ".ck.pt.0123abcd.npz", ".ck.ptx.0123abcd.tmp", ".ck.0123abcd.tmp",
            ".other.pt.0123abcd.tmp", ".x.ck.pt.0123abcd.tmp", "notes.txt"]
    for name in stale + kept:
        (tmp_path / name).write_bytes(b"PK\x03\x04 half a checkpoint")
    tg.save({"v": tg.tensor([2.0])}, path)
    assert sorted(os.listdir(tmp_path)) == sorted(kept + ["ck.pt"])
    np.testing.assert_array_equal(tg.load(path)["v"].numpy(), [2.0])


_KILLED_SAVE = """
import os, sys, time
import numpy as np
import tinygrad_fer as tg
from tinygrad_fer import serialization
real_savez = serialization.np.savez
def slow_savez(fh, **members):
    real_savez(fh, **members)   # a whole archive in the temporary, never renamed into place
    fh.flush()
    print("writing", flush=True)
    time.sleep(60)
serialization.np.savez = slow_savez
tg.save({"v": tg.tensor([9.0])}, sys.argv[1])
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_save_killed_mid_write_keeps_target_and_next_save_cleans_up(tmp_path):
    path = tmp_path / "ck.pt"
    tg.save({"v": tg.tensor([1.0])}, path)
    child = subprocess.Popen([sys.executable, "-c", _KILLED_SAVE, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "writing"
    finally:
        child.kill()
        child.wait()
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    orphans = [n for n in os.listdir(tmp_path) if n != "ck.pt"]
    assert len(orphans) == 1 and orphans[0].startswith(".ck.pt.") and orphans[0].endswith(".tmp")
    np.testing.assert_array_equal(tg.load(path)["v"].numpy(), [1.0])    # the target stayed whole
    tg.save({"v": tg.tensor([2.0])}, path)
    assert os.listdir(tmp_path) == ["ck.pt"]
    np.testing.assert_array_equal(tg.load(path)["v"].numpy(), [2.0])


@pytest.mark.skipif(_atomic.fcntl is None, reason="flock: on Windows the OS refuses to delete an open file")
def test_cleanup_spares_a_temporary_still_being_written(tmp_path):
    path = tmp_path / "ck.pt"
    with _atomic.atomic_write(path) as f:     # a concurrent writer, midway
        f.write(b"first writer")
        live = os.listdir(tmp_path)
        assert len(live) == 1 and live[0].startswith(".ck.pt.")
        tg.save({"v": tg.tensor([2.0])}, path)
        assert live[0] in os.listdir(tmp_path)
        np.testing.assert_array_equal(tg.load(path)["v"].numpy(), [2.0])
    assert path.read_bytes() == b"first writer"       # the first writer finished, as the last one to rename
    assert os.listdir(tmp_path) == ["ck.pt"]


def test_plots_remove_temporaries_of_killed_saves(tmp_path):
    pytest.importorskip("matplotlib")
    from tinygrad_fer.utils import plots
    (tmp_path / ".curves.png.ab12cd34.png").write_bytes(b"\x89PNG half")     # the shared writer's pattern
    (tmp_path / ".curves.png.ab12cd34.tmp").write_bytes(b"not a plot temporary")
    hist = {"train_loss": [2.0, 1.5], "val_loss": [2.1, 1.7], "train_acc": [0.3, 0.5], "val_acc": [0.2, 0.4],
            "lr": [0.1, 0.09]}
    plots.plot_training_curves(hist, str(tmp_path / "curves.png"))
    assert sorted(os.listdir(tmp_path)) == [".curves.png.ab12cd34.tmp", "curves.png"]


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
