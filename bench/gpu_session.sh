#!/usr/bin/env bash
# Issue 21's GPU run as one prepared script, for the device tool (`run`) when a session is lent a GPU: it installs
# this checkout into the machine's own Python (no network there: --no-deps, no build isolation), then runs the CUDA
# tests against the machine's PyTorch, the GPU benchmark and the CIFAR-10 example on the GPU, each step's output
# saved under $OUT (or ./gpu_out) as it goes, so a run cut short by its time limit still brings back what finished.
#
#   GPU_DATA=.gpu_data bash bench/gpu_session.sh
# with ../shared/data/cifar10-jpeg.tar.gz and ../shared/tools/cifar10_from_jpeg.py copied into that git-ignored folder
# first and the folder named in the device call's `carry` (../shared itself does not travel).
# On a machine without a GPU every step skips or says why, so the script can be checked anywhere first.
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH=$PWD     # this checkout's tinygrad_fer even if the install step fails
out=${OUT:-gpu_out}
mkdir -p "$out"
step() {    # step NAME SECONDS COMMAND...: the command's output to $out/NAME.txt, never longer than SECONDS
    local name=$1 secs=$2
    shift 2
    echo "== $name ($(date +%T), at most ${secs}s)"
    timeout "$secs" "$@" > "$out/$name.txt" 2>&1
    echo "   exit $?; last lines:"
    tail -n 5 "$out/$name.txt" | sed 's/^/   /'
}
step environment 60 bash -c 'nvidia-smi; python --version; python -c "import cupy, torch, numba, numpy;
print(\"cupy\", cupy.__version__, \"torch\", torch.__version__, torch.cuda.is_available(), \"numba\", numba.__version__)"'
step install 120 python -m pip install --no-deps --no-build-isolation -e .
step cuda_tests 240 python -m pytest -o addopts="" -q -x -p no:cacheprovider tests/test_cuda.py \
    tests/test_distributed_nccl.py tests/test_ops.py -k "cuda or gpu"
step bench_gpu 150 python bench/bench_gpu.py --batches 128 512
if [ -n "${GPU_DATA:-}" ] && [ -f "$GPU_DATA/cifar10-jpeg.tar.gz" ]; then
    step cifar_convert 60 python "$GPU_DATA/cifar10_from_jpeg.py" --archive "$GPU_DATA/cifar10-jpeg.tar.gz" \
        --out "$GPU_DATA/cifar"
    step cifar_gpu 300 python examples/train_cifar.py --data-dir "$GPU_DATA/cifar" --device cuda --no-plots \
        --no-download --out "$out/cifar_run"
else
    echo "== cifar: skipped (set GPU_DATA to a carried folder holding cifar10-jpeg.tar.gz and the converter)"
fi
