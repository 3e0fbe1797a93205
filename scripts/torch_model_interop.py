#!/usr/bin/python3
"""Model-level interoperability between PyTorch and Sparkgrad, checked both ways.

The two networks of io.sparkgrad.examples.FashionMnist, built layer for layer in PyTorch:

    mlp: Sequential(Flatten(), Linear(784, 256), ReLU(), Linear(256, 128), ReLU(), Linear(128, 10))
    cnn: Sequential(Conv2d(1, 32, 3), ReLU(), MaxPool2d(2), Conv2d(32, 64, 3), ReLU(), MaxPool2d(2),
                    Flatten(), Linear(1600, 128), ReLU(), Linear(128, 10))

A model moves as its state dict (PyTorch's key names: "1.weight", "0.bias", ...) in a
safetensors file. Run with Debian's interpreter, which has python3-torch (1.13) and numpy; the
safetensors format is read and written by hand (the helpers of scripts/safetensors_interop.py),
no `safetensors` package is needed.

    /usr/bin/python3 scripts/torch_model_interop.py write-fixture

        PyTorch -> Sparkgrad. Rewrites the committed test resources in
        engine/src/test/resources/model-interop/:
          torch_mlp.safetensors, torch_cnn.safetensors   the state dicts PyTorch wrote
                                                         (after a few SGD steps, so no weight
                                                         is at its initial value)
          torch_logits.safetensors                       "input" [16, 1, 28, 28] and the logits
                                                         PyTorch computes from it in eval mode,
                                                         "mlp.logits" and "cnn.logits" [16, 10]
        ModelInteropTest loads each state dict into Sparkgrad's model with
        loadStateDict(strict) and checks its logits against PyTorch's. Deterministic: rerunning
        rewrites the same bytes unless the code below changes.

    /usr/bin/python3 scripts/torch_model_interop.py verify DIR

        Sparkgrad -> PyTorch. DIR holds what ModelInteropTest writes: sparkgrad_mlp.safetensors
        and sparkgrad_cnn.safetensors (state dicts saved by FashionMnist.save) and
        sparkgrad_logits.safetensors ("input" and Sparkgrad's "mlp.logits", "cnn.logits").
        Each state dict is loaded into the PyTorch model with load_state_dict(strict=True) and
        PyTorch's logits on the same input must match Sparkgrad's. Prints a line starting "OK"
        and exits 0 when they do. ModelInteropTest runs this itself when /usr/bin/python3 can
        import torch; by hand:

            cd engine && mvn test -Dtest=ModelInteropTest
            /usr/bin/python3 ../scripts/torch_model_interop.py verify target/model-interop

    /usr/bin/python3 scripts/torch_model_interop.py evaluate mlp|cnn FILE [DATA_DIR]

        Loads a model trained by `scripts/fmnist-local.sh mlp|cnn --save FILE` into PyTorch and
        prints its accuracy on the Fashion-MNIST test set (DATA_DIR, by default Debian's
        /usr/share/datasets/fashion-mnist) as "test accuracy: 0.xxxx", which should be the
        number Sparkgrad printed last.
"""
import gzip
import os
import sys

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_interop import FormatError, decode, encode  # noqa: E402  (the hand-written format)

SEED = 20240612
HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE_DIR = os.path.join(HERE, "..", "engine", "src", "test", "resources", "model-interop")
MODELS = ("mlp", "cnn")
BATCH = 16
# Logits are sums of a few thousand float32 products: the two libraries add them in different
# orders, so they agree to about 1e-6 relative; these bounds leave room without hiding a wrong layer.
RTOL = 1e-4
ATOL = 1e-4
# The training set's pixel statistics, as io.sparkgrad.examples.FashionMnist standardises with.
PIXEL_MEAN, PIXEL_STD = 0.2860, 0.3530


def build(model):
    if model == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                             nn.Linear(128, 10))
    if model == "cnn":
        return nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(),
                             nn.MaxPool2d(2), nn.Flatten(), nn.Linear(1600, 128), nn.ReLU(), nn.Linear(128, 10))
    raise ValueError("the model must be mlp or cnn, got %r" % model)


def read(path):
    with open(path, "rb") as f:
        tensors, metadata, _ = decode(f.read(), path)
    return tensors, metadata


def write(path, tensors, metadata):
    with open(path, "wb") as f:
        f.write(encode(tensors, metadata))


def logits(net, x):
    net.eval()
    with torch.no_grad():
        return net(x)


def load_strict(model, state, source):
    """The PyTorch model with `state` loaded by load_state_dict(strict=True), which raises naming
    every missing, unexpected and mis-shaped key."""
    net = build(model)
    try:
        net.load_state_dict(state, strict=True)
    except RuntimeError as e:
        raise FormatError("%s does not load into PyTorch's %s: %s" % (source, model, e))
    return net


# ---------------------------------------------------------------------- commands

def write_fixture():
    torch.manual_seed(SEED)
    x = torch.randn(BATCH, 1, 28, 28)
    outputs = {"input": x}
    os.makedirs(FIXTURE_DIR, exist_ok=True)
    for model in MODELS:
        net = build(model)
        # A few steps of SGD on random labels, so every weight and bias has moved off its initial value.
        opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
        for _ in range(5):
            opt.zero_grad()
            nn.functional.cross_entropy(net(torch.randn(32, 1, 28, 28)), torch.randint(0, 10, (32,))).backward()
            opt.step()
        state = {k: v.detach().clone() for k, v in net.state_dict().items()}
        path = os.path.join(FIXTURE_DIR, "torch_%s.safetensors" % model)
        write(path, state, {"format": "pt", "producer": "scripts/torch_model_interop.py",
                            "model": "fashion-mnist-" + model})
        back, _ = read(path)
        assert list(back) == list(state), (list(back), list(state))
        outputs[model + ".logits"] = logits(load_strict(model, back, path), x)
        print("wrote %s: %s" % (os.path.relpath(path), ", ".join("%s %s" % (k, list(v.shape)) for k, v in state.items())))
    path = os.path.join(FIXTURE_DIR, "torch_logits.safetensors")
    write(path, outputs, {"format": "pt", "producer": "scripts/torch_model_interop.py", "torch": torch.__version__})
    print("wrote %s (input %s and the logits of both models)" % (os.path.relpath(path), list(x.shape)))


def verify(directory):
    problems = []
    checked = []
    try:
        io, _ = read(os.path.join(directory, "sparkgrad_logits.safetensors"))
        x = io["input"]
        for model in MODELS:
            path = os.path.join(directory, "sparkgrad_%s.safetensors" % model)
            state, metadata = read(path)
            if metadata.get("format") != "pt":
                problems.append("%s: metadata %s lacks format=pt" % (path, metadata))
            got = logits(load_strict(model, state, path), x)
            want = io[model + ".logits"]
            if got.shape != want.shape:
                problems.append("%s: PyTorch's logits have shape %s, Sparkgrad's %s"
                                % (model, list(got.shape), list(want.shape)))
                continue
            diff = (got - want).abs()
            bound = ATOL + RTOL * want.abs()
            if not bool((diff <= bound).all()):
                worst = int(torch.argmax(diff - bound))
                problems.append("%s: logits differ, worst at flat index %d: PyTorch %r, Sparkgrad %r"
                                % (model, worst, float(got.reshape(-1)[worst]), float(want.reshape(-1)[worst])))
            if not torch.equal(got.argmax(1), want.argmax(1)):
                problems.append("%s: the predicted classes differ: PyTorch %s, Sparkgrad %s"
                                % (model, got.argmax(1).tolist(), want.argmax(1).tolist()))
            checked.append("%s (%d tensors, max |difference| %.2e)" % (model, len(state), float(diff.max())))
    except (FormatError, OSError, KeyError, ValueError) as e:
        problems.append("%s: %s" % (type(e).__name__, e))
    if problems:
        print("FAIL: Sparkgrad's models in %s:" % directory)
        for p in problems:
            print("  " + p)
        return 1
    print("OK: PyTorch %s loads Sparkgrad's state dicts strictly and computes the same logits: %s"
          % (torch.__version__, "; ".join(checked)))
    return 0


def read_idx(data_dir, name, offset):
    for path, opener in ((os.path.join(data_dir, name + ".gz"), gzip.open), (os.path.join(data_dir, name), open)):
        if os.path.exists(path):
            with opener(path, "rb") as f:
                return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)
    raise FormatError("no %s(.gz) in %s: install Debian's dataset-fashion-mnist or name the directory" % (name, data_dir))


def evaluate(model, path, data_dir):
    state, _ = read(path)
    net = load_strict(model, state, path)
    pixels = read_idx(data_dir, "t10k-images-idx3-ubyte", 16).reshape(-1, 1, 28, 28).astype(np.float32) / 255
    x = torch.from_numpy((pixels - np.float32(PIXEL_MEAN)) / np.float32(PIXEL_STD))
    y = torch.from_numpy(read_idx(data_dir, "t10k-labels-idx1-ubyte", 8).astype(np.int64))
    right = 0
    for i in range(0, len(y), 1000):
        right += int((logits(net, x[i:i + 1000]).argmax(1) == y[i:i + 1000]).sum())
    print("PyTorch %s, %s loaded from %s" % (torch.__version__, model, path))
    print("test accuracy: %.4f" % (right / len(y)))
    return 0


def main(argv):
    if len(argv) == 2 and argv[1] == "write-fixture":
        write_fixture()
        return 0
    if len(argv) == 3 and argv[1] == "verify":
        return verify(argv[2])
    if len(argv) in (4, 5) and argv[1] == "evaluate" and argv[2] in MODELS:
        try:
            return evaluate(argv[2], argv[3], argv[4] if len(argv) == 5 else "/usr/share/datasets/fashion-mnist")
        except (FormatError, OSError) as e:
            print("FAIL: %s" % e)
            return 1
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
