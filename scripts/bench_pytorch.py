"""The PyTorch half of scripts/bench-vs-pytorch.sh.

Runs the same workloads as benchmarks/src/main/java/io/sparkgrad/bench/Workloads.java, timed the
same way as Compare.java (about 5 s of warm-up, then 40 samples of >= 5 ms each; a training
epoch, fmnist-*-epoch[:RUNS], is timed run by run after one warm-up epoch), and prints
"name<TAB>median_us<TAB>mean_us<TAB>reps" per workload. Run with Debian's /usr/bin/python3; the
thread settings come from the environment (OMP_NUM_THREADS, OPENBLAS_NUM_THREADS), set before
torch is imported, which is the only way Debian's torch honours them.
"""
import gzip
import os
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F


def sgemm(n):
    g = torch.Generator().manual_seed(1)
    a = torch.randn(n, n, generator=g)
    b = torch.randn(n, n, generator=g)
    out = {}

    def run():
        out["c"] = torch.matmul(a, b)

    def check():
        ref = float(np.dot(a[n - 1].double().numpy(), b[:, 0].double().numpy()))
        got = float(out["c"][n - 1, 0])
        assert abs(ref - got) <= 1e-3 * (n ** 0.5) * 4, (ref, got)
    return run, check


def numpy_sgemm(n):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    return (lambda: a @ b), (lambda: None)


def elementwise(op, size):
    g = torch.Generator().manual_seed(2)
    x = torch.randn(size, generator=g)
    y = torch.randn(size, generator=g)
    fns = {
        "add": lambda: x + y, "mul": lambda: x * y, "exp": lambda: x.exp(), "tanh": lambda: x.tanh(),
        "sigmoid": lambda: x.sigmoid(), "relu": lambda: x.relu(), "sum": lambda: x.sum(), "max": lambda: x.max(),
    }
    return fns[op], (lambda: None)


def tutorial():
    torch.manual_seed(0)
    x = torch.ones(5)
    y = torch.zeros(3)
    w = torch.randn(5, 3, requires_grad=True)
    b = torch.randn(3, requires_grad=True)

    def run():
        loss = F.binary_cross_entropy_with_logits(torch.matmul(x, w) + b, y)
        loss.backward()
        w.grad.zero_()
        b.grad.zero_()
    return run, (lambda: None)


def mlp(batch):
    torch.manual_seed(3)
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    x = torch.randn(batch, 784)
    target = torch.randint(0, 10, (batch,))
    last = {}

    def run():
        opt.zero_grad()
        loss = F.cross_entropy(model(x), target)
        loss.backward()
        opt.step()
        last["loss"] = float(loss)

    def check():
        assert 0 < last["loss"] < 10, last
    return run, check


FMNIST_DIR = os.environ.get("SPARKGRAD_FMNIST_DIR") or "/usr/share/datasets/fashion-mnist"
# The training set's pixel mean and standard deviation, as io.sparkgrad.examples.FashionMnist uses.
PIXEL_MEAN, PIXEL_STD = 0.2860, 0.3530


def read_idx(name, offset):
    path = os.path.join(FMNIST_DIR, name + ".gz")
    opener = gzip.open if os.path.exists(path) else open
    with opener(path if os.path.exists(path) else os.path.join(FMNIST_DIR, name), "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def fashion_mnist_model(model):
    """The example's two networks, layer for layer (io.sparkgrad.examples.FashionMnist.mlp/cnn)."""
    nn = torch.nn
    if model == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                             nn.Linear(128, 10))
    return nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(1600, 128), nn.ReLU(), nn.Linear(128, 10))


def fmnist_epoch(model, runs):
    """One training epoch over the 60,000 training images, as Workloads.fashionMnistEpoch: batch
    128 in a fresh random order each epoch, forward, cross-entropy, zero_grad, backward, SGD step
    (momentum 0.9; lr 0.1 for the MLP, 0.05 for the CNN). Batches are gathered from one in-memory
    tensor by index (no torch.utils.data.DataLoader, whose per-example collation in Python would
    cost PyTorch more than the model does)."""
    pixels = read_idx("train-images-idx3-ubyte", 16).reshape(-1, 1, 28, 28).astype(np.float32) / 255
    x = torch.from_numpy((pixels - np.float32(PIXEL_MEAN)) / np.float32(PIXEL_STD))
    y = torch.from_numpy(read_idx("train-labels-idx1-ubyte", 8).astype(np.int64))
    torch.manual_seed(1)
    net = fashion_mnist_model(model)
    opt = torch.optim.SGD(net.parameters(), lr=0.1 if model == "mlp" else 0.05, momentum=0.9)
    g = torch.Generator().manual_seed(1)
    last = {}

    def run():
        perm = torch.randperm(len(y), generator=g)
        total = 0.0
        for i in range(0, len(y), 128):
            idx = perm[i:i + 128]
            loss = F.cross_entropy(net(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss) * len(idx)
        last["loss"] = total / len(y)

    def check():
        assert 0 < last["loss"] < 0.6, last
    run.warmups = 1
    run.runs = runs
    return run, check


def parse(spec):
    p = spec.split(":")
    if p[0] == "sgemm":
        return sgemm(int(p[1]))
    if p[0] == "npsgemm":
        return numpy_sgemm(int(p[1]))
    if p[0] == "ew":
        return elementwise(p[1], int(p[2]))
    if p[0] == "tutorial":
        return tutorial()
    if p[0] == "mlp":
        return mlp(int(p[1]))
    if p[0] in ("fmnist-mlp-epoch", "fmnist-cnn-epoch"):
        return fmnist_epoch(p[0].split("-")[1], int(p[1]) if len(p) > 1 else (5 if "mlp" in p[0] else 3))
    raise ValueError("unknown workload " + spec)


def measure(run):
    end = time.perf_counter() + 5.0
    while time.perf_counter() < end:
        run()
    t0 = time.perf_counter()
    run()
    one = max(1e-9, time.perf_counter() - t0)
    per_sample = int(max(1, min(1_000_000, 0.005 / one)))
    samples = []
    for _ in range(40):
        start = time.perf_counter()
        for _ in range(per_sample):
            run()
        samples.append((time.perf_counter() - start) * 1e6 / per_sample)
    return samples


def measure_runs(run):
    """Long workloads (a training epoch): warm-up runs, then one timed sample per run."""
    for _ in range(run.warmups):
        run()
    samples = []
    for _ in range(run.runs):
        start = time.perf_counter()
        run()
        samples.append((time.perf_counter() - start) * 1e6)
    return samples


def main():
    for spec in sys.argv[1:]:
        run, check = parse(spec)
        times = measure_runs(run) if hasattr(run, "runs") else measure(run)
        check()
        print("%s\t%.3f\t%.3f\t%d" % (spec, statistics.median(times), statistics.mean(times), len(times)), flush=True)


if __name__ == "__main__":
    main()
