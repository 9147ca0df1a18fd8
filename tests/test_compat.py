"""The torch-compatible runner (tinygrad_fer.compat): unmodified PyTorch scripts under the engine, checked against
the same script run by real PyTorch; the hook's scope (only when installed) and its error messages."""
import os
import subprocess
import sys
import textwrap

import pytest

# A PyTorch-style training script, unchanged between the two runs. Its parameters are set from fixed numbers so
# both libraries start from the same model: the printed losses must then agree.
TRAIN_SCRIPT = textwrap.dedent('''
    import argparse
    import math

    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    import torch.optim as optim
    from torch.optim.lr_scheduler import StepLR
    from torch.utils.data import DataLoader, TensorDataset

    import helper_next_to_script


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(4, 8)
            self.fc2 = nn.Linear(8, 3)

        def forward(self, x):
            return F.log_softmax(self.fc2(F.relu(self.fc1(x))), dim=1)


    def fixed(shape, k):
        n = math.prod(shape)
        return torch.tensor([math.sin(k + 0.7 * i) * 0.5 for i in range(n)]).reshape(shape)


    def main():
        parser = argparse.ArgumentParser()
        parser.add_argument("--epochs", type=int, default=1)
        parser.add_argument("--lr", type=float, default=0.1)
        args = parser.parse_args()
        torch.manual_seed(0)
        torch.backends.cudnn.benchmark = True
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        model = Net()
        with torch.no_grad():
            for k, p in enumerate(model.parameters()):
                p.copy_(fixed(p.shape, k))
        model = model.to("cpu")
        x = fixed((24, 4), 10) * 3
        y = torch.tensor([i % 3 for i in range(24)])
        loader = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=False)
        optimizer = optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
        scheduler = StepLR(optimizer, step_size=1, gamma=0.5)
        for epoch in range(1, args.epochs + 1):
            model.train()
            for data, target in loader:
                optimizer.zero_grad()
                loss = F.nll_loss(model(data), target)
                loss.backward()
                optimizer.step()
                print(f"epoch {epoch} loss {loss.item():.4f}")
            scheduler.step()
        model.eval()
        with torch.no_grad():
            correct = model(x).argmax(dim=1).eq(y).sum().item()
        print(f"accuracy {correct}/{len(y)} {helper_next_to_script.VALUE} {__name__}")


    if __name__ == "__main__":
        main()
''')


def _run(args, cwd):
    env = dict(os.environ, PYTHONPATH="")     # the real torch must not be found through the caller's path tricks
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=300, env=env)


def test_runner_runs_an_unmodified_script_as_pytorch_does(tmp_path):
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "train.py").write_text(TRAIN_SCRIPT)
    (folder / "helper_next_to_script.py").write_text("VALUE = 'helper-ok'\n")
    # run from another folder: the script's own folder must still be first on sys.path, as with `python train.py`
    ours = _run(["-m", "tinygrad_fer.compat", str(folder / "train.py"), "--epochs", "3", "--lr", "0.2"], tmp_path)
    assert ours.returncode == 0, ours.stderr
    theirs = _run([str(folder / "train.py"), "--epochs", "3", "--lr", "0.2"], tmp_path)
    assert theirs.returncode == 0, theirs.stderr
    assert ours.stdout.count("loss") == 9 and ours.stdout.endswith("helper-ok __main__\n")
    assert ours.stdout == theirs.stdout


def test_runner_passes_argv_and_exit_status(tmp_path):
    script = tmp_path / "argv.py"
    script.write_text("import sys, torch\nprint(sys.argv)\nprint(type(torch.zeros(1)).__module__)\nsys.exit(3)\n")
    r = _run(["-m", "tinygrad_fer.compat", str(script), "a", "--b=1"], tmp_path)
    assert r.returncode == 3, r.stderr
    assert r.stdout.splitlines() == [repr([str(script), "a", "--b=1"]), "tinygrad_fer.tensor"]


def test_runner_usage_and_missing_script(tmp_path):
    r = _run(["-m", "tinygrad_fer.compat"], tmp_path)
    assert r.returncode == 2 and "usage:" in r.stderr
    r = _run(["-m", "tinygrad_fer.compat", "nope.py"], tmp_path)
    assert r.returncode == 2 and "can't open file" in r.stderr


def test_runner_shows_the_scripts_traceback(tmp_path):
    script = tmp_path / "boom.py"
    script.write_text("import torch\n\ndef f():\n    raise ValueError('boom here')\n\nf()\n")
    r = _run(["-m", "tinygrad_fer.compat", str(script)], tmp_path)
    assert r.returncode == 1
    assert "boom.py\", line 4, in f" in r.stderr and "ValueError: boom here" in r.stderr


HOOK_CHECK = textwrap.dedent('''
    import sys
    import tinygrad_fer, tinygrad_fer.compat as compat
    assert not compat.installed() and not any(isinstance(f, compat.AliasFinder) for f in sys.meta_path)
    import torch
    print(torch.__file__.endswith("torch/__init__.py") and "site-packages" in torch.__file__)
    try:
        compat.install()
    except RuntimeError as e:
        print("refused:", "already imported" in str(e))
''')


def test_hook_is_not_active_unless_installed(tmp_path):
    r = _run(["-c", HOOK_CHECK], tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["True", "refused: True"]


INSTALL_CHECK = textwrap.dedent('''
    import sys
    import tinygrad_fer as tf, tinygrad_fer.compat as compat
    compat.install()
    import torch, torch.nn as nn, torch.nn.functional as F, torch.optim, torch.optim.lr_scheduler
    import torch.utils.data, torch.autograd, torch.cuda, torchvision, torchvision.datasets
    import torchvision.transforms, torchvision.utils
    from torchvision import transforms as T
    assert torch.Tensor is tf.Tensor and nn.Conv2d is tf.nn.Conv2d and F.relu is tf.nn.functional.relu
    assert torch.optim.lr_scheduler.StepLR is tf.optim.lr_scheduler.StepLR
    assert torch.optim.swa_utils.AveragedModel.__module__ == "tinygrad_fer.optim.swa_utils"
    assert torch.utils.data.DataLoader is tf.data.DataLoader and T.ToTensor is tf.data.transforms.ToTensor
    assert torchvision.datasets.MNIST is tf.data.MNIST and torch.autograd.grad is tf.autograd.grad
    assert torchvision.utils.make_grid is tf.vision.utils.make_grid
    import torch.random, torch.testing, torchvision.models
    assert torch.random.manual_seed is tf.manual_seed and torch.testing.assert_close is tf.testing.assert_close
    assert torchvision.models.ResNet is tf.models.ResNet
    from torch.utils.data.sampler import SubsetRandomSampler
    from torch.utils.data.dataset import Dataset
    from torch.utils.data.dataloader import DataLoader, default_collate
    assert SubsetRandomSampler is tf.data.SubsetRandomSampler and Dataset is tf.data.Dataset
    assert DataLoader is tf.data.DataLoader and default_collate is tf.data.default_collate
    assert torch.nn.parallel.DataParallel is tf.nn.DataParallel and torch.cuda.is_available is tf.cuda.is_available
    from torch.nn.parameter import Buffer, Parameter, UninitializedBuffer, UninitializedParameter, is_lazy
    assert Parameter is tf.nn.Parameter and Buffer is tf.nn.Buffer and UninitializedBuffer is tf.nn.UninitializedBuffer
    assert UninitializedParameter is tf.nn.UninitializedParameter and torch.nn.parameter.Parameter is Parameter
    assert is_lazy(tf.nn.LazyLinear(3).weight) and not is_lazy(Parameter(tf.zeros(2)))
    torch.backends.cudnn.deterministic = True      # an assignment reaches the engine's module
    assert tf.backends.cudnn.deterministic is True
    compat.uninstall()
    assert not compat.installed() and "torch" not in sys.modules
    import torch
    assert "site-packages" in torch.__file__
    print("ok")
''')


def test_install_maps_every_module_and_uninstall_restores(tmp_path):
    r = _run(["-c", INSTALL_CHECK], tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "ok\n"


UNSUPPORTED_CHECK = textwrap.dedent('''
    import tinygrad_fer.compat as compat
    compat.install()
    import torch, torch.nn as nn
    for get in (lambda: torch.fft_not_here, lambda: nn.NotAModule, lambda: torch.nn.functional.not_a_function):
        try:
            get()
        except AttributeError as e:
            print(e)
    try:
        import torch.fx
    except ModuleNotFoundError as e:
        print(e)
    try:
        from torch import not_a_name
    except ImportError as e:
        print("tinygrad_fer" in str(e))
''')


def test_unsupported_names_say_they_are_not_implemented(tmp_path):
    r = _run(["-c", UNSUPPORTED_CHECK], tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "torch.fft_not_here is not implemented in tinygrad_fer",
        "torch.nn.NotAModule is not implemented in tinygrad_fer",
        "torch.nn.functional.not_a_function is not implemented in tinygrad_fer",
        "No module named 'torch.fx': torch.fx is not implemented in tinygrad_fer",
        "True"]


def test_alias_module_in_process():
    # the finder itself, without touching this process's sys.modules: the alias reads and writes the target
    import types

    from tinygrad_fer.compat import AliasModule
    target = types.ModuleType("target")
    target.x = 1
    m = AliasModule("torch.fake", target)
    m.x = 5
    assert target.x == 5 and m.x == 5 and "x" in dir(m)
    with pytest.raises(AttributeError, match="torch.fake.y is not implemented in tinygrad_fer"):
        m.y


def test_runner_runs_a_module_with_dash_m(tmp_path):
    pkg = tmp_path / "mypkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "train.py").write_text("import sys, torch\nprint(__name__, sys.argv[1:], torch.__version__ == "
                                  "__import__('tinygrad_fer').__version__)\n")
    r = _run(["-m", "tinygrad_fer.compat", "-m", "mypkg.train", "x", "-y"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "__main__ ['x', '-y'] True\n"


def test_alias_to_a_missing_engine_module_says_not_implemented(monkeypatch):
    from tinygrad_fer import compat
    monkeypatch.setitem(compat.ALIASES, "torch.fake_sub", "tinygrad_fer.no_such_module")
    with pytest.raises(ModuleNotFoundError, match="torch.fake_sub is not implemented in tinygrad_fer"):
        compat.AliasFinder().find_spec("torch.fake_sub")
    import tinygrad_fer
    alias = compat.AliasModule("torch", tinygrad_fer)
    assert not hasattr(alias, "fake_sub")
    with pytest.raises(AttributeError, match="torch.fake_sub is not implemented in tinygrad_fer"):
        alias.fake_sub


def test_nn_parameter_module_holds_pytorchs_public_names():
    # `torch.nn.parameter`'s public classes and helpers are all there, under the same names
    import torch.nn.parameter as torch_parameter

    import tinygrad_fer.nn.parameter as ours
    public = {n for n in dir(torch_parameter) if not n.startswith("_")} - {"Any", "OrderedDict", "torch"}
    assert public <= set(dir(ours))
    assert ours.UninitializedParameter.cls_to_become is ours.Parameter
