#!/usr/bin/python3
"""Writes PyTorch reference values for Sparkgrad's nn layers, losses and their primitives.

Run with Debian's interpreter, which has python3-torch (1.13):

    /usr/bin/python3 scripts/gen-nn-golden.py

It writes engine/src/test/resources/nn-golden/<group>.json, each
{"group": ..., "cases": [...]}, and index.json listing the group files.
Every case is computed in float64 and holds:

  id            "<group>/<name>"
  module        the torch.nn class name (or "function" with "function": unfold, fold, erf)
  args          the constructor (or function) arguments, by Sparkgrad's names
  train         whether the module was in training mode
  state         the full state_dict loaded into the module before the forward pass
                (values chosen here, not PyTorch's random init), in PyTorch's key order
  inputs        the forward arguments: [input] for layers, [input, target] for losses
  requires_grad which inputs are differentiable leaves
  output        the forward result
  g             the upstream gradient given to output.backward(g)
  grads         the gradient of each differentiable input ("input0", "input1") and of
                each parameter (by its state_dict name)
  state_after   the state_dict after the forward pass (running statistics move in training)

Tensors are {"dtype", "shape", "values"} with values flat in row-major order
(Python's float repr, which round-trips doubles exactly).

The script is deterministic: one torch.manual_seed and a fixed order of cases.
The files are committed; the Java tests only read them.
"""
import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 20240612
F64 = torch.float64

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.join(HERE, "..", "engine", "src", "test", "resources", "nn-golden")


def enc(t):
    t = t.detach()
    return {
        "dtype": str(t.dtype).replace("torch.", ""),
        "shape": list(t.shape),
        "values": t.contiguous().reshape(-1).tolist(),
    }


def randn(*shape):
    return torch.randn(shape, dtype=F64)


def positive(*shape):
    return torch.rand(shape, dtype=F64) * 1.5 + 0.5


def longs(values):
    return torch.tensor(values, dtype=torch.int64)


def randomize(module):
    """Replaces every floating parameter and buffer with fresh values (variances stay positive)."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            p.copy_(randn(*p.shape))
        for name, b in module.named_buffers():
            if name.endswith("running_var"):
                b.copy_(positive(*b.shape))
            elif name.endswith("running_mean"):
                b.copy_(randn(*b.shape))
            elif name.endswith("num_batches_tracked"):
                b.fill_(3)


def run(group, name, module, args, inputs, requires_grad=None, train=True, fn=None):
    """Runs one case: forward, backward with a random g, and records everything."""
    if requires_grad is None:
        requires_grad = [True] + [False] * (len(inputs) - 1)
    leaves = []
    for t, rg in zip(inputs, requires_grad):
        leaf = t.clone().detach()
        if rg:
            leaf.requires_grad_(True)
        leaves.append(leaf)
    case = {"id": group + "/" + name, "args": args}
    if module is not None:
        module.train(train)
        case["module"] = type(module).__name__
        case["train"] = train
        case["state"] = {k: enc(v) for k, v in module.state_dict().items()}
        out = module(*leaves)
        case["state_after"] = {k: enc(v) for k, v in module.state_dict().items()}
    else:
        case["module"] = "function"
        case["function"] = group
        out = fn(*leaves)
    g = randn(*out.shape)
    out.backward(g)
    grads = {}
    for i, leaf in enumerate(leaves):
        if leaf.requires_grad and leaf.grad is not None:
            grads["input%d" % i] = enc(leaf.grad)
    if module is not None:
        for pname, p in module.named_parameters():
            if p.grad is not None:
                grads[pname] = enc(p.grad)
    case.update({
        "inputs": [enc(t) for t in inputs],
        "requires_grad": requires_grad,
        "output": enc(out),
        "g": enc(g),
        "grads": grads,
    })
    return case


# ---------------------------------------------------------------------- layers

def linear():
    cases = []
    for name, (i, o, bias), shape in [
        ("basic", (4, 3, True), (5, 4)),
        ("no_bias", (4, 3, False), (5, 4)),
        ("batched_3d", (4, 2, True), (2, 3, 4)),
        ("vector_1d", (4, 2, True), (4,)),
    ]:
        m = nn.Linear(i, o, bias=bias)
        randomize(m)
        cases.append(run("linear", name, m, {"in": i, "out": o, "bias": bias}, [randn(*shape)]))
    return cases


def conv2d():
    cases = []
    for name, (c, o, k, s, p, bias), shape in [
        ("k3", (2, 3, (3, 3), (1, 1), (0, 0), True), (2, 2, 5, 6)),
        ("stride2_pad1", (2, 4, (3, 3), (2, 2), (1, 1), True), (2, 2, 7, 6)),
        ("rect_kernel_no_bias", (3, 2, (2, 3), (2, 1), (1, 0), False), (1, 3, 5, 7)),
        ("k1", (3, 2, (1, 1), (1, 1), (0, 0), True), (2, 3, 4, 4)),
        ("unbatched_pad1", (2, 2, (3, 3), (1, 1), (1, 1), True), (2, 4, 5)),
    ]:
        m = nn.Conv2d(c, o, k, stride=s, padding=p, bias=bias)
        randomize(m)
        args = {"in": c, "out": o, "kernel": list(k), "stride": list(s), "padding": list(p), "bias": bias}
        cases.append(run("conv2d", name, m, args, [randn(*shape)]))
    return cases


POOL_CASES = [
    ("k2", (2, 2), (2, 2), (0, 0), (2, 3, 4, 6)),
    ("k3_s2_p1", (3, 3), (2, 2), (1, 1), (2, 2, 7, 7)),
    ("k3_s1_overlapping", (3, 3), (1, 1), (0, 0), (1, 2, 5, 5)),
    ("rect", (2, 3), (1, 2), (1, 1), (1, 1, 5, 6)),
    ("odd_size_floors", (2, 2), (2, 2), (0, 0), (1, 2, 5, 7)),
    ("unbatched", (2, 2), (2, 2), (0, 0), (3, 4, 4)),
]


def maxpool2d():
    cases = []
    for name, k, s, p, shape in POOL_CASES:
        m = nn.MaxPool2d(k, stride=s, padding=p)
        # Shifted down so most values are negative: padding (which counts as -inf) must never win.
        x = randn(*shape) - 2.0
        cases.append(run("maxpool2d", name, m, {"kernel": list(k), "stride": list(s), "padding": list(p)}, [x]))
    return cases


def avgpool2d():
    cases = []
    for name, k, s, p, shape in POOL_CASES:
        m = nn.AvgPool2d(k, stride=s, padding=p)
        cases.append(run("avgpool2d", name, m, {"kernel": list(k), "stride": list(s), "padding": list(p)},
                         [randn(*shape)]))
    return cases


def layernorm():
    cases = []
    for name, shape_, eps, affine, x in [
        ("last_dim", [5], 1e-5, True, (3, 5)),
        ("two_dims", [4, 5], 1e-5, True, (2, 4, 5)),
        ("no_affine_eps", [6], 1e-3, False, (2, 3, 6)),
    ]:
        m = nn.LayerNorm(shape_, eps=eps, elementwise_affine=affine)
        randomize(m)
        cases.append(run("layernorm", name, m, {"shape": shape_, "eps": eps, "affine": affine}, [randn(*x)]))
    return cases


def batchnorm(cls, group, shapes):
    cases = []
    configs = [
        ("train", True, dict()),
        ("eval", False, dict()),
        ("train_momentum_0.3", True, dict(momentum=0.3)),
        ("train_cumulative_average", True, dict(momentum=None)),
        ("train_no_affine", True, dict(affine=False)),
        ("train_no_running_stats", True, dict(track_running_stats=False)),
        ("eval_no_running_stats", False, dict(track_running_stats=False)),
        ("eval_eps", False, dict(eps=0.1)),
    ]
    for sname, shape in shapes:
        for cname, train, kw in configs:
            m = cls(shape[1], **kw)
            randomize(m)
            args = {
                "features": shape[1],
                "eps": kw.get("eps", 1e-5),
                "momentum": kw.get("momentum", 0.1),
                "affine": kw.get("affine", True),
                "track": kw.get("track_running_stats", True),
            }
            cases.append(run(group, cname + sname, m, args, [randn(*shape) * 2 + 0.5], train=train))
    return cases


def gelu():
    x = torch.linspace(-7, 7, 57, dtype=F64).reshape(3, 19)
    return [
        run("gelu", "exact", nn.GELU(), {"approximate": "none"}, [x]),
        run("gelu", "tanh", nn.GELU(approximate="tanh"), {"approximate": "tanh"}, [x]),
        run("gelu", "random", nn.GELU(), {"approximate": "none"}, [randn(4, 5)]),
    ]


def embedding():
    cases = []
    m = nn.Embedding(10, 4)
    randomize(m)
    cases.append(run("embedding", "basic", m, {"num": 10, "dim": 4, "padding_idx": -1},
                     [longs([[1, 3, 1], [9, 0, 3]])], requires_grad=[False]))
    m = nn.Embedding(6, 3, padding_idx=2)
    randomize(m)
    cases.append(run("embedding", "padding_idx", m, {"num": 6, "dim": 3, "padding_idx": 2},
                     [longs([2, 0, 2, 5, 1])], requires_grad=[False]))
    return cases


def activations():
    x = randn(3, 4)
    return [
        run("activations", "relu", nn.ReLU(), {}, [x]),
        run("activations", "tanh", nn.Tanh(), {}, [x]),
        run("activations", "sigmoid", nn.Sigmoid(), {}, [x]),
        run("activations", "softmax_dim1", nn.Softmax(dim=1), {"dim": 1}, [x]),
        run("activations", "softmax_dim0", nn.Softmax(dim=0), {"dim": 0}, [x]),
        run("activations", "flatten", nn.Flatten(), {"start": 1, "end": -1}, [randn(2, 3, 2, 2)]),
        run("activations", "flatten_middle", nn.Flatten(0, 1), {"start": 0, "end": 1}, [randn(2, 3, 2)]),
    ]


def sequential():
    """A small CNN end to end: conv, batchnorm, relu, pool, flatten, linear (state keys and gradients)."""
    m = nn.Sequential(
        nn.Conv2d(1, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(3 * 3 * 3, 4), nn.GELU(), nn.LayerNorm(4), nn.Linear(4, 2))
    randomize(m)
    return [run("sequential", "small_cnn", m, {}, [randn(2, 1, 6, 6)])]


# ---------------------------------------------------------------------- losses

def cross_entropy():
    cases = []
    n, c = 5, 4
    x = randn(n, c)
    t = longs([0, 3, 1, 3, 2])
    t_ign = longs([0, -100, 1, 3, -100])
    t_ign7 = longs([0, 7, 1, 7, 2])
    w = positive(c)
    for red in ["mean", "sum", "none"]:
        for name, weight, target, ign, ls in [
            ("plain", None, t, -100, 0.0),
            ("weight", w, t, -100, 0.0),
            ("ignore", None, t_ign, -100, 0.0),
            ("smoothing", None, t, -100, 0.1),
            ("smoothing_weight", w, t, -100, 0.25),
            ("smoothing_ignore", None, t_ign, -100, 0.2),
            ("smoothing_weight_ignore7", w, t_ign7, 7, 0.3),
        ]:
            m = nn.CrossEntropyLoss(weight=weight, ignore_index=ign, reduction=red, label_smoothing=ls)
            args = {"weight": None if weight is None else enc(weight), "ignore_index": ign, "reduction": red,
                    "label_smoothing": ls}
            cases.append(run("cross_entropy", name + "_" + red, m, args, [x, target]))
    xk = randn(2, 3, 2, 2)
    tk = longs([[[0, 2], [1, 1]], [[2, 0], [-100, 1]]])
    wk = positive(3)
    for red in ["mean", "none"]:
        m = nn.CrossEntropyLoss(weight=wk, reduction=red, label_smoothing=0.15)
        args = {"weight": enc(wk), "ignore_index": -100, "reduction": red, "label_smoothing": 0.15}
        cases.append(run("cross_entropy", "kdim_smoothing_weight_" + red, m, args, [xk, tk]))
    x1 = randn(4)
    for ls in [0.0, 0.2]:
        m = nn.CrossEntropyLoss(label_smoothing=ls)
        args = {"weight": None, "ignore_index": -100, "reduction": "mean", "label_smoothing": ls}
        cases.append(run("cross_entropy", "single_sample_ls%g" % ls, m, args, [x1, torch.tensor(2)]))
    return cases


def nll():
    cases = []
    x = F.log_softmax(randn(5, 3), 1)
    t = longs([0, 2, 1, -100, 2])
    w = positive(3)
    for red in ["mean", "sum", "none"]:
        for name, weight in [("plain", None), ("weight", w)]:
            m = nn.NLLLoss(weight=weight, reduction=red)
            args = {"weight": None if weight is None else enc(weight), "ignore_index": -100, "reduction": red}
            cases.append(run("nll", name + "_" + red, m, args, [x, t]))
    return cases


def bce_with_logits():
    cases = []
    x = randn(4, 3) * 3
    y = torch.rand(4, 3, dtype=F64)
    pw = positive(3) * 2
    w = positive(4, 3)
    for red in ["mean", "sum", "none"]:
        for name, weight, pos in [("plain", None, None), ("pos_weight", None, pw), ("weight", w, None),
                                  ("weight_pos_weight", w, pw)]:
            m = nn.BCEWithLogitsLoss(weight=weight, reduction=red, pos_weight=pos)
            args = {"weight": None if weight is None else enc(weight), "reduction": red,
                    "pos_weight": None if pos is None else enc(pos)}
            cases.append(run("bce_with_logits", name + "_" + red, m, args, [x, y], requires_grad=[True, True]))
    return cases


def regression(group, cls, extra):
    cases = []
    x = randn(3, 4) * 2
    y = randn(3, 4)
    for red in ["mean", "sum", "none"]:
        for suffix, kw in extra:
            m = cls(reduction=red, **kw)
            args = dict(kw)
            args["reduction"] = red
            cases.append(run(group, suffix + red, m, args, [x, y], requires_grad=[True, True]))
    return cases


# ---------------------------------------------------------------------- primitives

def unfold():
    cases = []
    for name, k, s, p, shape in [
        ("k2", (2, 2), (1, 1), (0, 0), (2, 2, 3, 4)),
        ("k3_s2_p1", (3, 3), (2, 2), (1, 1), (1, 2, 5, 6)),
        ("rect", (2, 3), (2, 1), (1, 0), (2, 1, 4, 5)),
    ]:
        args = {"kernel": list(k), "stride": list(s), "padding": list(p)}
        cases.append(run("unfold", name, None, args, [randn(*shape)],
                         fn=lambda x, k=k, s=s, p=p: F.unfold(x, k, padding=p, stride=s)))
    return cases


def fold():
    cases = []
    for name, out, k, s, p, shape in [
        ("k2", (3, 4), (2, 2), (1, 1), (0, 0), (2, 8, 6)),
        ("k3_s2_p1", (5, 6), (3, 3), (2, 2), (1, 1), (1, 18, 9)),
        ("rect", (4, 5), (2, 3), (2, 1), (1, 0), (2, 6, 9)),
    ]:
        args = {"output": list(out), "kernel": list(k), "stride": list(s), "padding": list(p)}
        cases.append(run("fold", name, None, args, [randn(*shape)],
                         fn=lambda x, out=out, k=k, s=s, p=p: F.fold(x, out, k, padding=p, stride=s)))
    return cases


def erf():
    grid = torch.cat([torch.linspace(-7, 7, 141, dtype=F64),
                      torch.tensor([0.0, 1e-300, -1e-10, 2.4999, 2.5, 2.5001, 5.999, 6.0, 6.5, 30.0], dtype=F64)])
    return [run("erf", "grid", None, {}, [grid], fn=torch.erf),
            run("erf", "random", None, {}, [randn(5, 6) * 2], fn=torch.erf)]


def main():
    torch.manual_seed(SEED)
    torch.set_default_dtype(F64)
    groups = [
        ("linear", linear), ("conv2d", conv2d), ("maxpool2d", maxpool2d), ("avgpool2d", avgpool2d),
        ("layernorm", layernorm),
        ("batchnorm1d", lambda: batchnorm(nn.BatchNorm1d, "batchnorm1d", [("_2d", (6, 3)), ("_3d", (4, 3, 5))])),
        ("batchnorm2d", lambda: batchnorm(nn.BatchNorm2d, "batchnorm2d", [("", (3, 2, 4, 3))])),
        ("gelu", gelu), ("embedding", embedding), ("activations", activations), ("sequential", sequential),
        ("cross_entropy", cross_entropy), ("nll", nll), ("bce_with_logits", bce_with_logits),
        ("mse", lambda: regression("mse", nn.MSELoss, [("", {})])),
        ("l1", lambda: regression("l1", nn.L1Loss, [("", {})])),
        ("huber", lambda: regression("huber", nn.HuberLoss,
                                     [("delta1_", {"delta": 1.0}), ("delta0.5_", {"delta": 0.5}),
                                      ("delta2_", {"delta": 2.0})])),
        ("unfold", unfold), ("fold", fold), ("erf", erf),
    ]
    os.makedirs(OUT_DIR, exist_ok=True)
    files = []
    for name, make in groups:
        cases = make()
        fname = name + ".json"
        with open(os.path.join(OUT_DIR, fname), "w") as f:
            json.dump({"group": name, "torch": torch.__version__, "cases": cases}, f, separators=(",", ":"))
            f.write("\n")
        files.append(fname)
        print("%-16s %3d cases" % (name, len(cases)))
    with open(os.path.join(OUT_DIR, "index.json"), "w") as f:
        json.dump({"files": files}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
