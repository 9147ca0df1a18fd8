"""Train the FER lab's convnet (or a small ResNet) on CIFAR-10 with tinygrad_fer (nets: tinygrad_fer.models).

    python examples/train_cifar.py                      # FER net, defaults below, data in ~/.cache/tinygrad_fer/cifar10
                                                        # (fetched, MD5-checked, when missing and online)
    python examples/train_cifar.py --model resnet --epochs 20 --lr 0.05
    python examples/train_cifar.py --resume             # continue from OUT/checkpoint.npz

Data: the official "python version" batches (DIR/cifar-10-batches-py/data_batch_1..5, test_batch). The 50,000
training images are split 45,000 train / 5,000 validation with a fixed seed; inputs are normalised per channel
with the mean and std of the training part only. Each epoch prints a progress bar, then loss, accuracy, the
confusion matrix and per-class precision/recall on train and validation, writes a checkpoint (resumable exactly:
model, optimizer, scheduler, history; every epoch's randomness is derived from --seed and the epoch number) and
pictures in --out: training_plot.png, filters_epoch_NNN.png, misclassified.png. The test set is evaluated at the end.
"""
import argparse
import os
import subprocess
import sys
import time

if __name__ == "__main__" and "--threads" in sys.argv[1:-1]:
    # BLAS reads these once, when numpy loads: set them before the import below
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, sys.argv[sys.argv.index("--threads") + 1])

try:   # before numpy: tinygrad_fer sets how NumPy's BLAS threads wait (read when numpy loads)
    import tinygrad_fer as tg  # noqa: E402
except ImportError:   # running from a checkout that is not pip-installed
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import tinygrad_fer as tg
import numpy as np  # noqa: E402
from tinygrad_fer import nn, optim
from tinygrad_fer.data import CIFAR10, DataLoader, DistributedSampler, Subset, transforms as T
from tinygrad_fer.data.cifar import FOLDER, TEST_FILES, TRAIN_FILES, URL
from tinygrad_fer.models import FERNet, ResNet
from tinygrad_fer.nn import functional as F
from tinygrad_fer.utils import metrics, plots, summary
from tinygrad_fer.utils.progress import progress

DEFAULT_DATA = os.path.join(os.path.expanduser("~"), ".cache", "tinygrad_fer", "cifar10")
SPLIT_SEED = 20240601       # fixed, independent of --seed, so every run validates on the same 5,000 images
CHECKPOINT = "checkpoint.npz"
N_MISCLASSIFIED = 20
MODELS = {"fer": FERNet, "resnet": ResNet}    # tinygrad_fer/models: the docs build the same nets


# ---- arguments ------------------------------------------------------------------------------------------------
def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--data-dir", default=DEFAULT_DATA, help="folder holding cifar-10-batches-py/")
    p.add_argument("--download", action=argparse.BooleanOptionalAction, default=True,
                   help="fetch the official archive (MD5-checked) when the batches are missing")
    p.add_argument("--out", default="runs/cifar", help="folder for the checkpoint and the pictures")
    p.add_argument("--model", choices=sorted(MODELS), default="fer")
    p.add_argument("--epochs", type=int, default=10, help="total epochs (a resumed run continues up to this)")
    p.add_argument("--batch-size", type=int, default=50)
    p.add_argument("--lr", type=float, default=0.01, help="initial learning rate")
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--weight-decay", type=float, default=5e-4, help="L2 penalty on weights (not biases/BN)")
    p.add_argument("--gamma", type=float, default=0.9, help="ExponentialLR decay per epoch")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--seed", type=int, default=0, help="initialisation, shuffling and augmentation seed")
    p.add_argument("--resume", nargs="?", const="", default=None, metavar="CHECKPOINT",
                   help=f"continue from CHECKPOINT (default OUT/{CHECKPOINT})")
    p.add_argument("--limit-train", type=int, default=None, metavar="N", help="use the first N training images")
    p.add_argument("--limit-val", type=int, default=None, metavar="N", help="use the first N validation images")
    p.add_argument("--limit-test", type=int, default=None, metavar="N", help="use the first N test images")
    p.add_argument("--eval-batch-size", type=int, default=500)
    p.add_argument("--train-eval", type=int, default=5000, metavar="N",
                   help="training metrics on a fixed N-image subset of the training part (0: all of it)")
    p.add_argument("--threads", type=int, default=None, help="CPU threads for Numba kernels and BLAS")
    p.add_argument("--no-plots", action="store_true", help="skip the pictures (no matplotlib needed)")
    p.add_argument("--distributed", action="store_true",
                   help="data-parallel over MPI ranks (start with python -m tinygrad_fer.distributed.run "
                        "--nproc-per-node N examples/train_cifar.py --distributed); --batch-size is per rank")
    args = p.parse_args(argv)
    for name in ("epochs", "batch_size", "eval_batch_size"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    return args


def set_threads(n):
    """Numba's pool can shrink at run time; BLAS reads its variables at start-up (set before numpy is imported
    when this file runs as a script, see the bottom)."""
    if not n:
        return
    try:
        import numba
        numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    except ImportError:
        pass


# ---- data -----------------------------------------------------------------------------------------------------
def _local_jpeg_copy():
    """(converter, archive) when the JPEG copy of CIFAR-10 and its converter sit in ../shared beside the repo."""
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    shared = os.path.join(os.path.dirname(repo), "shared")
    converter = os.path.join(shared, "tools", "cifar10_from_jpeg.py")
    archive = os.path.join(shared, "data", "cifar10-jpeg.tar.gz")
    return (converter, archive) if os.path.isfile(converter) and os.path.isfile(archive) else None


def _how_to_get_data(root):
    folder = os.path.join(root, FOLDER)
    lines = [f"CIFAR-10 not found in {folder}.",
             f"Needed: {', '.join(TRAIN_FILES + TEST_FILES)} (the official 'python version' batches).",
             "Get them with one of:",
             f"  python {os.path.relpath(__file__)} --data-dir {root}    (when online it fetches {URL}, ~163 MB)"]
    local = _local_jpeg_copy()
    if local:
        lines.append(f"  python {os.path.relpath(local[0])} --out {root}    (builds them from the JPEG copy "
                     f"{os.path.relpath(local[1])})")
    lines.append("or point --data-dir at a folder that holds cifar-10-batches-py/.")
    return "\n".join(lines)


def _convert_local_copy(root):
    """Build the python batches from the local JPEG copy (offline machines); True when it worked."""
    local = _local_jpeg_copy()
    if local is None:
        return False
    print(f"offline: building CIFAR-10 in {root} from the local JPEG copy {local[1]} (about 20 s)")
    return subprocess.run([sys.executable, local[0], "--out", root]).returncode == 0


def channel_stats(images):
    """Per-channel mean and std in [0, 1] units of uint8 images (N, C, H, W), exactly, from 256-bin histograms
    (no float copy of the whole set)."""
    levels = np.arange(256, dtype=np.float64) / 255
    mean, std = [], []
    for c in range(images.shape[1]):
        hist = np.bincount(images[:, c].ravel(), minlength=256).astype(np.float64)
        m = (hist * levels).sum() / hist.sum()
        mean.append(m)
        std.append(np.sqrt((hist * (levels - m) ** 2).sum() / hist.sum()))
    return [float(v) for v in mean], [float(v) for v in std]


def load_cifar(args):
    try:
        full = CIFAR10(args.data_dir, train=True)
    except RuntimeError as e:
        if "not found" not in str(e):
            raise
        if not args.download:
            raise SystemExit(_how_to_get_data(args.data_dir)) from None
        try:
            full = CIFAR10(args.data_dir, train=True, download=True)
        except RuntimeError as e2:  # offline, or the archive failed its checksum
            if not _convert_local_copy(args.data_dir):
                raise SystemExit(f"{e2}\n\n{_how_to_get_data(args.data_dir)}") from None
            full = CIFAR10(args.data_dir, train=True)
    test = CIFAR10(args.data_dir, train=False)
    n = len(full)
    n_val = n // 10                               # 5,000 of CIFAR-10's 50,000
    perm = np.random.default_rng(SPLIT_SEED).permutation(n)
    val_idx, train_idx = perm[:n_val], perm[n_val:]
    if args.limit_train is not None:
        train_idx = train_idx[:args.limit_train]
    if args.limit_val is not None:
        val_idx = val_idx[:args.limit_val]
    mean, std = channel_stats(full.data[train_idx])
    norm = T.Compose([T.ToTensor(), T.Normalize(mean, std)])
    full.transform = test.transform = norm
    test_set = test if args.limit_test is None else Subset(test, np.arange(min(args.limit_test, len(test))))
    # a fixed subset for the per-epoch training metrics: a full pass over 45,000 images costs a third of an epoch
    eval_idx = train_idx if not args.train_eval else train_idx[:args.train_eval]
    return {"train": Subset(full, train_idx), "val": Subset(full, val_idx), "test": test_set,
            "train_eval": Subset(full, eval_idx),
            "val_images": full.data[val_idx], "classes": list(full.classes), "mean": mean, "std": std}


def train_loader(dataset, args, epoch, augment, rank=0):
    """This epoch's loader: its shuffle and augmentation streams are seeded from (seed, epoch), so an epoch
    replays identically whether the run was resumed or not. Distributed: each rank reads its DistributedSampler
    share of the same epoch permutation, and augments with a stream of its own."""
    aug = None
    if augment:
        aug = T.Compose([T.RandomCrop(32, padding=4, generator=np.random.default_rng([args.seed, epoch, 1, rank])),
                         T.RandomHorizontalFlip(generator=np.random.default_rng([args.seed, epoch, 2, rank]))])
    if args.distributed:
        sampler = DistributedSampler(dataset, seed=args.seed)
        sampler.set_epoch(epoch)
        return DataLoader(dataset, batch_size=args.batch_size, sampler=sampler, batch_transform=aug)
    return DataLoader(dataset, batch_size=args.batch_size, shuffle=True,
                      generator=np.random.default_rng([args.seed, epoch, 0]), batch_transform=aug)


# ---- training and evaluation ----------------------------------------------------------------------------------
def _log_softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def evaluate(model, loader, num_classes, device="cpu", keep=False):
    """Average cross-entropy, accuracy, confusion matrix and per-class precision/recall over a loader, in eval mode
    without recording a graph. keep=True adds per-sample 'losses', 'probs' and 'targets' (dataset order when the
    loader does not shuffle)."""
    was_training = model.training
    model.eval()
    losses, probs, targets = [], [], []
    with tg.no_grad():
        for x, y in loader:
            logits = model(x.to(device)).cpu().numpy().astype(np.float64)
            logp = _log_softmax(logits)
            y = y.numpy()
            losses.append(-logp[np.arange(len(y)), y])
            probs.append(np.exp(logp))
            targets.append(y)
    model.train(was_training)
    losses, probs, targets = np.concatenate(losses), np.concatenate(probs), np.concatenate(targets)
    preds = probs.argmax(axis=1)
    cm = metrics.confusion_matrix(targets, preds, num_classes)
    precision, recall = metrics.precision_recall(cm)
    result = {"loss": float(losses.mean()), "acc": metrics.accuracy(cm), "cm": cm,
              "precision": precision, "recall": recall}
    if keep:
        result.update(losses=losses, probs=probs, targets=targets)
    return result


def train_one_epoch(model, loader, optimizer, epoch, epochs, device="cpu"):
    """One pass over loader; returns the mean training loss of its batches (as they were seen, with dropout/BN
    in training mode and the weights changing)."""
    model.train()
    total, count = 0.0, 0
    bar = progress(loader, desc=f"epoch {epoch}/{epochs}", mininterval=1.0, leave=True, dynamic_ncols=True)
    for x, y in bar:
        logits = model(x.to(device))
        loss = F.cross_entropy(logits, y.to(device))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        value = loss.item()
        if not np.isfinite(value):
            raise FloatingPointError(f"training loss became {value} at epoch {epoch}: lower --lr")
        total, count = total + value * len(y), count + len(y)
        bar.set_postfix(loss=f"{total / count:.4f}", refresh=False)
    bar.close()
    return total / max(count, 1)


def make_optimizer(model, args):
    """SGD with the L2 penalty on weights only: decaying biases and BatchNorm's scale/shift only constrains the
    net without regularising it."""
    decay = [p for p in model.parameters() if len(p.shape) > 1]
    plain = [p for p in model.parameters() if len(p.shape) <= 1]
    groups = [{"params": decay, "weight_decay": args.weight_decay}, {"params": plain, "weight_decay": 0.0}]
    opt = optim.SGD(groups, lr=args.lr, momentum=args.momentum)
    return opt, optim.lr_scheduler.ExponentialLR(opt, gamma=args.gamma)


def _report(name, result, classes):
    print(f"{name}: loss {result['loss']:.4f}  accuracy {result['acc']:.4f}")
    print(metrics.format_confusion_table(result["cm"], classes))


def _first_conv(model):
    return next(m for m in model.modules() if isinstance(m, nn.Conv2d))


def _plot_filters(model, out, epoch):
    path = os.path.join(out, f"filters_epoch_{epoch:03d}.png")
    title = "conv1 filters, initial" if epoch == 0 else f"conv1 filters, epoch {epoch}"
    plots.plot_filters(_first_conv(model).weight.detach().cpu().numpy(), path, title=title)


def _plot_misclassified(result, data, out):
    wrong = np.flatnonzero(result["probs"].argmax(axis=1) != result["targets"])
    worst = wrong[np.argsort(-result["losses"][wrong], kind="stable")][:N_MISCLASSIFIED]
    plots.plot_misclassified(data["val_images"][worst], result["targets"][worst], result["probs"][worst],
                             data["classes"], os.path.join(out, "misclassified.png"))


# ---- checkpoints ----------------------------------------------------------------------------------------------
def save_checkpoint(path, model, optimizer, scheduler, epoch, history, args):
    """tinygrad_fer.save writes to a temp file and renames it, so a crash never leaves half a checkpoint."""
    tg.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
             "epoch": epoch, "history": history, "model_name": args.model, "seeds": {"seed": args.seed,
             "split_seed": SPLIT_SEED}, "args": {k: v for k, v in vars(args).items() if v is None or
                                                 isinstance(v, (bool, int, float, str))}}, path)


def load_checkpoint(path, model, optimizer, scheduler, args):
    if not os.path.isfile(path):
        raise SystemExit(f"--resume: no checkpoint at {path}")
    ckpt = tg.load(path)
    if ckpt.get("model_name") != args.model:
        raise SystemExit(f"--resume: {path} holds a '{ckpt.get('model_name')}' model, not '{args.model}' "
                         f"(pass --model {ckpt.get('model_name')})")
    if ckpt["seeds"]["seed"] != args.seed:
        print(f"note: checkpoint was trained with --seed {ckpt['seeds']['seed']}; continuing with it")
        args.seed = ckpt["seeds"]["seed"]
    model.load_state_dict(ckpt["model"])
    optimizer.load_state_dict(ckpt["optimizer"])
    scheduler.load_state_dict(ckpt["scheduler"])
    return int(ckpt["epoch"]), {k: list(v) for k, v in ckpt["history"].items()}


# ---- main -----------------------------------------------------------------------------------------------------
def main(argv=None):
    args = parse_args(argv)
    set_threads(args.threads)
    rank = 0
    if args.distributed:
        from tinygrad_fer import distributed as dist
        dist.init_process_group("mpi")
        rank = dist.get_rank()
        if rank:     # the other ranks train silently; rank 0 reports, saves and plots
            sys.stdout = open(os.devnull, "w")
    data = load_cifar(args)
    classes = data["classes"]
    print(f"CIFAR-10 from {args.data_dir}: {len(data['train'])} train / {len(data['val'])} validation / "
          f"{len(data['test'])} test images; per-channel mean {np.round(data['mean'], 4).tolist()} "
          f"std {np.round(data['std'], 4).tolist()} (training part)")

    tg.manual_seed(args.seed)
    net = MODELS[args.model]().to(args.device)
    summary(net, (3, 32, 32), batch_size=args.batch_size)
    # DDP broadcasts rank 0's weights and averages the gradients; checkpoints and plots use the bare module
    model = tg.nn.parallel.DistributedDataParallel(net) if args.distributed else net
    optimizer, scheduler = make_optimizer(net, args)
    history = {k: [] for k in ("train_loss", "train_acc", "val_loss", "val_acc", "lr", "epoch_time",
                               "train_batch_loss")}
    start = 0
    ckpt_path = os.path.join(args.out, CHECKPOINT)
    if args.resume is not None:
        start, history = load_checkpoint(args.resume or ckpt_path, net, optimizer, scheduler, args)
        print(f"resumed from {args.resume or ckpt_path} after epoch {start}")
    os.makedirs(args.out, exist_ok=True)
    if not args.no_plots and start == 0 and rank == 0:
        _plot_filters(net, args.out, 0)

    eval_loader = {k: DataLoader(data[k], batch_size=args.eval_batch_size) for k in ("train_eval", "val", "test")}
    train_name = "train" if len(data["train_eval"]) == len(data["train"]) else \
        f"train ({len(data['train_eval'])}-image subset)"
    for epoch in range(start + 1, args.epochs + 1):
        tg.manual_seed(args.seed * 100003 + epoch)        # any draw inside the epoch (dropout...) replays on resume
        lr = optimizer.param_groups[0]["lr"]
        t0 = time.perf_counter()
        batch_loss = train_one_epoch(model, train_loader(data["train"], args, epoch, args.model == "resnet", rank),
                                     optimizer, epoch, args.epochs, args.device)
        scheduler.step()
        train_time = time.perf_counter() - t0
        tr = evaluate(model, eval_loader["train_eval"], len(classes), args.device)
        va = evaluate(model, eval_loader["val"], len(classes), args.device, keep=True)
        elapsed = time.perf_counter() - t0
        for key, value in (("train_loss", tr["loss"]), ("train_acc", tr["acc"]), ("val_loss", va["loss"]),
                           ("val_acc", va["acc"]), ("lr", lr), ("epoch_time", elapsed),
                           ("train_batch_loss", batch_loss)):
            history[key].append(value)
        speed = len(data["train"]) / train_time    # every rank's share: the whole set per epoch
        print(f"\nepoch {epoch}/{args.epochs}  lr {lr:.4g}  training {train_time:.1f}s ({speed:.0f} img/s), "
              f"with evaluation {elapsed:.1f}s")
        _report(train_name, tr, classes)
        _report("valid", va, classes)
        if rank == 0:
            save_checkpoint(ckpt_path, net, optimizer, scheduler, epoch, history, args)
        if not args.no_plots and rank == 0:
            plots.plot_training_curves(history, os.path.join(args.out, "training_plot.png"))
            _plot_filters(net, args.out, epoch)
            _plot_misclassified(va, data, args.out)
        sys.stdout.flush()

    te = evaluate(model, eval_loader["test"], len(classes), args.device)
    print()
    _report("test", te, classes)
    print(f"summary: epochs {len(history['val_acc'])}, best valid accuracy "
          f"{max(history['val_acc'], default=float('nan')):.4f}, test accuracy {te['acc']:.4f}; outputs in {args.out}")
    return {"history": history, "test": te}


if __name__ == "__main__":
    main()
