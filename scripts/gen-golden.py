#!/usr/bin/python3
"""Writes PyTorch reference values for Sparkgrad's golden tests.

Run with Debian's interpreter, which has python3-torch (1.13) and numpy:

    /usr/bin/python3 scripts/gen-golden.py

It writes, under engine/src/test/resources/golden/:

  ops/index.json        the list of op files
  ops/<op>.json         one file per op: cases with inputs, parameters, the forward
                        output, the upstream gradient g and the gradient of every
                        differentiable input for backward(g), i.e. d(sum(out * g))/d(input),
                        and the grad_fn name PyTorch gives the output
  printing.json         str(tensor) for tensors of many kinds, with what is needed
                        to rebuild each tensor exactly

Tensors are written as {"dtype", "shape", "values"} with the values flat in
row-major order (Python's float repr, which round-trips doubles exactly; NaN
and Infinity appear as the bare JSON extensions Python writes). An input may add
"permute": its tensor is built contiguous from "shape"/"values" and then
permuted (not recorded), which gives a non-contiguous leaf of the permuted shape.
"requires_grad" says whether the input is a differentiable leaf.

The script is deterministic: one torch.manual_seed and a fixed order of cases.
The files are committed; the Java tests only read them.
"""
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

SEED = 20240611
F64 = torch.float64

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.join(HERE, "..", "engine", "src", "test", "resources", "golden")


# ---------------------------------------------------------------------- encoding

def enc(t):
    """A tensor as {"dtype", "shape", "values"} (logical row-major order)."""
    t = t.detach()
    return {
        "dtype": str(t.dtype).replace("torch.", ""),
        "shape": list(t.shape),
        "values": t.contiguous().reshape(-1).tolist(),
    }


def randn(*shape):
    return torch.randn(shape, dtype=F64)


def positive(*shape):
    """Values in [0.5, 2): safe for log, sqrt and fractional powers."""
    return torch.rand(shape, dtype=F64) * 1.5 + 0.5


def away_from_zero(*shape):
    """Normal values pushed at least 0.1 away from zero (for abs, relu, clamp edges)."""
    t = randn(*shape)
    return t + torch.where(t >= 0, 0.1, -0.1).to(F64)


def longs(values, shape=None):
    t = torch.tensor(values, dtype=torch.int64)
    return t if shape is None else t.reshape(shape)


class In:
    """An input: a base tensor, optionally permuted into a non-contiguous leaf."""

    def __init__(self, base, permute=None, grad=None):
        self.base = base
        self.permute = permute
        self.grad = base.dtype.is_floating_point if grad is None else grad

    def make(self):
        t = self.base.clone()
        if self.permute is not None:
            t = t.permute(*self.permute)
        t = t.detach()
        if self.grad:
            t.requires_grad_()
        return t

    def json(self):
        d = enc(self.base)
        if self.permute is not None:
            d["permute"] = list(self.permute)
        d["requires_grad"] = self.grad
        return d


def T(t, grad=None):
    return In(t, grad=grad)


def NC(base, permute, grad=None):
    """A non-contiguous input: base permuted by `permute`."""
    return In(base, permute=permute, grad=grad)


# ---------------------------------------------------------------------- cases

OPS = {}


def case(op, name, inputs, params, fn):
    """Runs fn(*leaves, in order), then backward(g) with a random g of the output's shape."""
    leaves = {k: v.make() for k, v in inputs.items()}
    out = fn(*leaves.values())
    rec = {
        "id": op + "/" + name,
        "op": op,
        "params": params,
        "inputs": {k: v.json() for k, v in inputs.items()},
        "output": enc(out),
    }
    if out.requires_grad:
        rec["grad_fn"] = out.grad_fn.name()
        g = randn(*out.shape)
        out.backward(g)
        rec["g"] = enc(g)
        grads = {}
        for k, leaf in leaves.items():
            if inputs[k].grad:
                if leaf.grad is None:
                    raise RuntimeError(rec["id"] + ": input " + k + " got no gradient")
                grads[k] = enc(leaf.grad)
        rec["grads"] = grads
    OPS.setdefault(op, []).append(rec)


def binary_cases():
    fns = {"add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div}
    for op, fn in fns.items():
        def den(*shape):
            # keep divisors away from zero so the quotient's gradient stays tame
            return away_from_zero(*shape) if op == "div" else randn(*shape)

        case(op, "same_shape", {"a": T(randn(2, 3)), "b": T(den(2, 3))}, {}, fn)
        case(op, "broadcast_row", {"a": T(randn(3, 4)), "b": T(den(4))}, {}, fn)
        case(op, "broadcast_both", {"a": T(randn(3, 1)), "b": T(den(1, 4))}, {}, fn)
        case(op, "broadcast_rank", {"a": T(randn(2, 1, 4)), "b": T(den(3, 1))}, {}, fn)
        case(op, "zero_dim_other", {"a": T(randn(2, 3)), "b": T(den())}, {}, fn)
        case(op, "zero_dim_both", {"a": T(randn()), "b": T(den())}, {}, fn)
        case(op, "transposed", {"a": NC(randn(4, 3), [1, 0]), "b": T(den(3, 4))}, {}, fn)
        case(op, "transposed_broadcast", {"a": T(randn(2, 3, 4)), "b": NC(den(4, 3), [1, 0])}, {}, fn)
        case(op, "scalar", {"a": T(randn(2, 3))}, {"scalar": 2.5}, lambda a: fn(a, 2.5))
    case("add", "alpha", {"a": T(randn(2, 3)), "b": T(randn(3))}, {"alpha": -1.5},
         lambda a, b: torch.add(a, b, alpha=-1.5))
    case("mul", "same_tensor", {"a": T(randn(2, 3))}, {"same": True}, lambda a: a * a)
    case("add", "same_tensor", {"a": T(randn(2, 3))}, {"same": True}, lambda a: a + a)


def unary_cases():
    specs = {
        "neg": (torch.neg, randn),
        "exp": (torch.exp, randn),
        "log": (torch.log, positive),
        "sqrt": (torch.sqrt, positive),
        "abs": (torch.abs, away_from_zero),
        "relu": (torch.relu, away_from_zero),
        "sigmoid": (torch.sigmoid, randn),
        "tanh": (torch.tanh, randn),
    }
    for op, (fn, gen) in specs.items():
        case(op, "matrix", {"a": T(gen(3, 4))}, {}, fn)
        case(op, "zero_dim", {"a": T(gen())}, {}, fn)
        case(op, "transposed", {"a": NC(gen(2, 3, 4), [2, 0, 1])}, {}, fn)
    # PyTorch's convention at the kink: relu'(0) = 0, abs'(0) = sign(0) = 0
    case("relu", "with_zeros", {"a": T(torch.tensor([-1.5, 0.0, 2.0, -0.0, 0.25], dtype=F64))}, {}, torch.relu)
    case("abs", "with_zeros", {"a": T(torch.tensor([-1.5, 0.0, 2.0, -0.0, 0.25], dtype=F64))}, {}, torch.abs)
    # large magnitudes where a naive formula overflows
    case("sigmoid", "large", {"a": T(torch.tensor([-800.0, -40.0, 0.0, 40.0, 800.0], dtype=F64))}, {}, torch.sigmoid)
    case("tanh", "large", {"a": T(torch.tensor([-400.0, -20.0, 0.0, 20.0, 400.0], dtype=F64))}, {}, torch.tanh)


def pow_cases():
    for e in [2.0, 3.0, 0.5, -1.5, 1.0]:
        name = "scalar_" + str(e).replace("-", "minus_").replace(".", "_")
        gen = randn if e in (2.0, 3.0, 1.0) else positive
        case("pow", name, {"a": T(gen(3, 4))}, {"exponent": e}, lambda a, e=e: torch.pow(a, e))
    case("pow", "scalar_2_transposed", {"a": NC(randn(4, 3), [1, 0])}, {"exponent": 2.0}, lambda a: a.pow(2.0))
    case("pow", "tensor_same_shape", {"a": T(positive(2, 3)), "b": T(randn(2, 3))}, {}, torch.pow)
    case("pow", "tensor_broadcast", {"a": T(positive(3, 4)), "b": T(randn(4))}, {}, torch.pow)
    case("pow", "tensor_broadcast_base", {"a": T(positive(3, 1)), "b": T(randn(2, 3, 4))}, {}, torch.pow)
    case("pow", "tensor_transposed", {"a": NC(positive(4, 3), [1, 0]), "b": T(randn(3, 4))}, {}, torch.pow)


def clamp_cases():
    x = away_from_zero(4, 5)
    case("clamp", "min_max", {"a": T(x)}, {"min": -0.5, "max": 0.5}, lambda a: a.clamp(min=-0.5, max=0.5))
    case("clamp", "min_only", {"a": T(away_from_zero(4, 5))}, {"min": 0.2}, lambda a: a.clamp(min=0.2))
    case("clamp", "max_only", {"a": T(away_from_zero(4, 5))}, {"max": -0.3}, lambda a: a.clamp(max=-0.3))
    case("clamp", "transposed", {"a": NC(away_from_zero(5, 4), [1, 0])}, {"min": -1.0, "max": 0.75},
         lambda a: a.clamp(min=-1.0, max=0.75))
    # values exactly on a bound keep their gradient (mask is min <= x <= max)
    edge = torch.tensor([-2.0, -1.0, 0.0, 1.0, 2.0], dtype=F64)
    case("clamp", "on_bounds", {"a": T(edge)}, {"min": -1.0, "max": 1.0}, lambda a: a.clamp(min=-1.0, max=1.0))


def matmul_cases():
    mm = torch.matmul
    case("matmul", "1d_1d", {"a": T(randn(4)), "b": T(randn(4))}, {}, mm)
    case("matmul", "2d_1d", {"a": T(randn(3, 4)), "b": T(randn(4))}, {}, mm)
    case("matmul", "1d_2d", {"a": T(randn(3)), "b": T(randn(3, 4))}, {}, mm)
    case("matmul", "2d_2d", {"a": T(randn(3, 4)), "b": T(randn(4, 5))}, {}, mm)
    case("matmul", "2d_2d_transposed", {"a": NC(randn(4, 3), [1, 0]), "b": NC(randn(5, 4), [1, 0])}, {}, mm)
    case("matmul", "3d_3d", {"a": T(randn(2, 3, 4)), "b": T(randn(2, 4, 5))}, {}, mm)
    case("matmul", "3d_3d_transposed", {"a": NC(randn(2, 4, 3), [0, 2, 1]), "b": T(randn(2, 4, 5))}, {}, mm)
    case("matmul", "3d_2d", {"a": T(randn(2, 3, 4)), "b": T(randn(4, 5))}, {}, mm)
    case("matmul", "3d_1d", {"a": T(randn(2, 3, 4)), "b": T(randn(4))}, {}, mm)
    case("matmul", "1d_3d", {"a": T(randn(4)), "b": T(randn(2, 4, 3))}, {}, mm)
    case("matmul", "2d_3d", {"a": T(randn(3, 4)), "b": T(randn(2, 4, 5))}, {}, mm)
    case("matmul", "broadcast_batch", {"a": T(randn(2, 1, 3, 4)), "b": T(randn(3, 4, 2))}, {}, mm)
    case("matmul", "broadcast_batch_both", {"a": T(randn(3, 1, 2, 4)), "b": T(randn(1, 2, 4, 3))}, {}, mm)


def reduction_cases():
    for op, fn in (("sum", torch.sum), ("mean", torch.mean)):
        case(op, "all", {"a": T(randn(3, 4))}, {}, fn)
        case(op, "all_3d_transposed", {"a": NC(randn(2, 3, 4), [2, 0, 1])}, {}, fn)
        case(op, "dim0", {"a": T(randn(3, 4))}, {"dims": [0], "keepdim": False}, lambda a: fn(a, 0))
        case(op, "dim_neg_keepdim", {"a": T(randn(2, 3, 4))}, {"dims": [-1], "keepdim": True},
             lambda a: fn(a, -1, keepdim=True))
        case(op, "dim1_transposed", {"a": NC(randn(4, 3), [1, 0])}, {"dims": [1], "keepdim": False},
             lambda a: fn(a, 1))
        case(op, "dims_0_2", {"a": T(randn(2, 3, 4))}, {"dims": [0, 2], "keepdim": False},
             lambda a: fn(a, [0, 2]))
        case(op, "dims_0_2_keepdim", {"a": T(randn(2, 3, 4))}, {"dims": [0, 2], "keepdim": True},
             lambda a: fn(a, [0, 2], keepdim=True))
        case(op, "dims_all_keepdim", {"a": T(randn(2, 3))}, {"dims": [0, 1], "keepdim": True},
             lambda a: fn(a, [0, 1], keepdim=True))


def max_cases():
    case("max", "all", {"a": T(randn(3, 4))}, {}, torch.max)
    case("max", "all_transposed", {"a": NC(randn(4, 3), [1, 0])}, {}, torch.max)
    # ties: PyTorch shares the gradient evenly between the tied maxima
    tied = torch.tensor([[1.0, 3.0, -2.0], [3.0, 0.5, 3.0]], dtype=F64)
    case("max", "all_ties", {"a": T(tied)}, {}, torch.max)
    case("max", "dim1", {"a": T(randn(3, 4))}, {"dim": 1, "keepdim": False}, lambda a: a.max(1).values)
    case("max", "dim0_keepdim", {"a": T(randn(3, 4))}, {"dim": 0, "keepdim": True},
         lambda a: a.max(0, keepdim=True).values)
    case("max", "dim_neg_keepdim_3d", {"a": T(randn(2, 3, 4))}, {"dim": -1, "keepdim": True},
         lambda a: a.max(-1, keepdim=True).values)
    case("max", "dim0_transposed", {"a": NC(randn(4, 3), [1, 0])}, {"dim": 0, "keepdim": False},
         lambda a: a.max(0).values)

    case("amax", "dim1", {"a": T(randn(3, 4))}, {"dims": [1], "keepdim": False}, lambda a: a.amax(1))
    case("amax", "dims_0_2_keepdim", {"a": T(randn(2, 3, 4))}, {"dims": [0, 2], "keepdim": True},
         lambda a: a.amax([0, 2], keepdim=True))
    case("amax", "dims_neg", {"a": T(randn(2, 3, 4))}, {"dims": [-1, -2], "keepdim": False},
         lambda a: a.amax([-1, -2]))
    case("amax", "ties", {"a": T(tied)}, {"dims": [1], "keepdim": True}, lambda a: a.amax(1, keepdim=True))
    case("amax", "transposed", {"a": NC(randn(4, 3), [1, 0])}, {"dims": [1], "keepdim": False},
         lambda a: a.amax(1))


def shape_cases():
    case("reshape", "contiguous", {"a": T(randn(2, 3, 4))}, {"shape": [4, 6]}, lambda a: a.reshape(4, 6))
    case("reshape", "infer", {"a": T(randn(2, 3, 4))}, {"shape": [-1, 4]}, lambda a: a.reshape(-1, 4))
    case("reshape", "to_scalar", {"a": T(randn(1, 1))}, {"shape": []}, lambda a: a.reshape(()))
    case("reshape", "transposed_copy", {"a": NC(randn(4, 3), [1, 0])}, {"shape": [12]}, lambda a: a.reshape(12))
    case("reshape", "transposed_view", {"a": NC(randn(4, 3), [1, 0])}, {"shape": [3, 2, 2]},
         lambda a: a.reshape(3, 2, 2))
    case("view", "contiguous", {"a": T(randn(2, 3, 4))}, {"shape": [6, 4]}, lambda a: a.view(6, 4))

    case("transpose", "2d", {"a": T(randn(3, 4))}, {"dim0": 0, "dim1": 1}, lambda a: a.transpose(0, 1))
    case("transpose", "3d_neg", {"a": T(randn(2, 3, 4))}, {"dim0": -1, "dim1": 0}, lambda a: a.transpose(-1, 0))
    case("transpose", "of_transposed", {"a": NC(randn(4, 3, 2), [2, 1, 0])}, {"dim0": 1, "dim1": 2},
         lambda a: a.transpose(1, 2))

    case("permute", "3d", {"a": T(randn(2, 3, 4))}, {"dims": [2, 0, 1]}, lambda a: a.permute(2, 0, 1))
    case("permute", "neg_dims", {"a": T(randn(2, 3, 4))}, {"dims": [-1, -3, -2]}, lambda a: a.permute(-1, -3, -2))
    case("permute", "of_transposed", {"a": NC(randn(4, 3), [1, 0])}, {"dims": [1, 0]}, lambda a: a.permute(1, 0))

    case("squeeze", "all", {"a": T(randn(1, 3, 1, 2))}, {}, lambda a: a.squeeze())
    case("squeeze", "dim", {"a": T(randn(3, 1, 2))}, {"dim": 1}, lambda a: a.squeeze(1))
    case("squeeze", "dim_neg", {"a": T(randn(3, 2, 1))}, {"dim": -1}, lambda a: a.squeeze(-1))
    case("squeeze", "dim_not_one", {"a": T(randn(3, 2))}, {"dim": 0}, lambda a: a.squeeze(0))

    case("unsqueeze", "front", {"a": T(randn(3, 2))}, {"dim": 0}, lambda a: a.unsqueeze(0))
    case("unsqueeze", "middle", {"a": T(randn(3, 2))}, {"dim": 1}, lambda a: a.unsqueeze(1))
    case("unsqueeze", "neg", {"a": T(randn(3, 2))}, {"dim": -1}, lambda a: a.unsqueeze(-1))
    case("unsqueeze", "zero_dim", {"a": T(randn())}, {"dim": 0}, lambda a: a.unsqueeze(0))

    sl = torch.ops.aten.slice.Tensor
    case("slice", "dim0", {"a": T(randn(5, 3))}, {"dim": 0, "start": 1, "end": 4, "step": 1},
         lambda a: sl(a, 0, 1, 4, 1))
    case("slice", "step2", {"a": T(randn(3, 7))}, {"dim": 1, "start": 1, "end": 6, "step": 2},
         lambda a: sl(a, 1, 1, 6, 2))
    case("slice", "step3_to_end", {"a": T(randn(2, 8, 2))}, {"dim": 1, "start": 0, "end": 8, "step": 3},
         lambda a: sl(a, 1, 0, 8, 3))
    case("slice", "neg_start", {"a": T(randn(6, 2))}, {"dim": 0, "start": -4, "end": 6, "step": 2},
         lambda a: sl(a, 0, -4, 6, 2))
    case("slice", "end_clamped", {"a": T(randn(4, 3))}, {"dim": -1, "start": 1, "end": 100, "step": 1},
         lambda a: sl(a, -1, 1, 100, 1))
    case("slice", "transposed", {"a": NC(randn(6, 4), [1, 0])}, {"dim": 1, "start": 1, "end": 6, "step": 2},
         lambda a: sl(a, 1, 1, 6, 2))

    case("select", "dim0", {"a": T(randn(3, 4))}, {"dim": 0, "index": 1}, lambda a: a.select(0, 1))
    case("select", "dim1_neg_index", {"a": T(randn(2, 3, 4))}, {"dim": 1, "index": -1}, lambda a: a.select(1, -1))
    case("select", "to_scalar", {"a": T(randn(4))}, {"dim": 0, "index": 2}, lambda a: a.select(0, 2))
    case("select", "transposed", {"a": NC(randn(4, 3), [1, 0])}, {"dim": 1, "index": 2}, lambda a: a.select(1, 2))

    case("cat", "dim0", {"t0": T(randn(2, 3)), "t1": T(randn(1, 3)), "t2": T(randn(3, 3))}, {"dim": 0},
         lambda t0, t1, t2: torch.cat([t0, t1, t2], 0))
    case("cat", "dim1", {"t0": T(randn(2, 3)), "t1": T(randn(2, 1))}, {"dim": 1},
         lambda t0, t1: torch.cat([t0, t1], 1))
    case("cat", "dim_neg_3d", {"t0": T(randn(2, 3, 1)), "t1": T(randn(2, 3, 2))}, {"dim": -1},
         lambda t0, t1: torch.cat([t0, t1], -1))
    case("cat", "transposed", {"t0": NC(randn(3, 2), [1, 0]), "t1": T(randn(2, 3))}, {"dim": 0},
         lambda t0, t1: torch.cat([t0, t1], 0))
    case("cat", "1d", {"t0": T(randn(3)), "t1": T(randn(2))}, {"dim": 0}, lambda t0, t1: torch.cat([t0, t1], 0))

    case("stack", "dim0", {"t0": T(randn(2, 3)), "t1": T(randn(2, 3)), "t2": T(randn(2, 3))}, {"dim": 0},
         lambda t0, t1, t2: torch.stack([t0, t1, t2], 0))
    case("stack", "dim1", {"t0": T(randn(2, 3)), "t1": T(randn(2, 3))}, {"dim": 1},
         lambda t0, t1: torch.stack([t0, t1], 1))
    case("stack", "dim_neg", {"t0": T(randn(2, 3)), "t1": NC(randn(3, 2), [1, 0])}, {"dim": -1},
         lambda t0, t1: torch.stack([t0, t1], -1))
    case("stack", "zero_dim", {"t0": T(randn()), "t1": T(randn())}, {"dim": 0},
         lambda t0, t1: torch.stack([t0, t1], 0))

    case("expand", "row", {"a": T(randn(1, 4))}, {"sizes": [3, 4]}, lambda a: a.expand(3, 4))
    case("expand", "keep_minus_one", {"a": T(randn(3, 1))}, {"sizes": [-1, 5]}, lambda a: a.expand(-1, 5))
    case("expand", "new_leading", {"a": T(randn(3, 1))}, {"sizes": [2, 3, 4]}, lambda a: a.expand(2, 3, 4))
    case("expand", "zero_dim", {"a": T(randn())}, {"sizes": [2, 3]}, lambda a: a.expand(2, 3))
    case("expand", "transposed_new_leading", {"a": NC(randn(3, 2), [1, 0])}, {"sizes": [4, 2, 3]},
         lambda a: a.expand(4, 2, 3))


def indexing_cases():
    idx = longs([[0, 2, 2], [1, 0, 0]])
    case("gather", "dim1", {"a": T(randn(2, 3)), "index": T(idx)}, {"dim": 1},
         lambda a, index: torch.gather(a, 1, index))
    case("gather", "dim0", {"a": T(randn(3, 4)), "index": T(longs([[2, 0, 1, 2], [2, 2, 0, 1]]))}, {"dim": 0},
         lambda a, index: torch.gather(a, 0, index))
    case("gather", "smaller_index", {"a": T(randn(3, 5)), "index": T(longs([[4, 0], [3, 3]]))}, {"dim": 1},
         lambda a, index: torch.gather(a, 1, index))
    case("gather", "3d_neg_dim", {"a": T(randn(2, 3, 4)), "index": T(longs([[[3], [0], [1]], [[2], [2], [0]]]))},
         {"dim": -1}, lambda a, index: torch.gather(a, -1, index))
    case("gather", "transposed", {"a": NC(randn(3, 2), [1, 0]), "index": T(idx)}, {"dim": 1},
         lambda a, index: torch.gather(a, 1, index))

    case("indexSelect", "dim0", {"a": T(randn(4, 3)), "index": T(longs([3, 0, 3]))}, {"dim": 0},
         lambda a, index: torch.index_select(a, 0, index))
    case("indexSelect", "dim1", {"a": T(randn(2, 5)), "index": T(longs([4, 1, 1, 0]))}, {"dim": 1},
         lambda a, index: torch.index_select(a, 1, index))
    case("indexSelect", "3d_neg_dim", {"a": T(randn(2, 3, 4)), "index": T(longs([2, 0]))}, {"dim": -2},
         lambda a, index: torch.index_select(a, -2, index))
    case("indexSelect", "transposed", {"a": NC(randn(3, 4), [1, 0]), "index": T(longs([1, 1, 2]))}, {"dim": 1},
         lambda a, index: torch.index_select(a, 1, index))


def softmax_cases():
    for op, fn in (("softmax", torch.softmax), ("logSoftmax", torch.log_softmax)):
        case(op, "dim1", {"a": T(randn(3, 5))}, {"dim": 1}, lambda a: fn(a, 1))
        case(op, "dim0", {"a": T(randn(3, 5))}, {"dim": 0}, lambda a: fn(a, 0))
        case(op, "dim_neg_3d", {"a": T(randn(2, 3, 4))}, {"dim": -1}, lambda a: fn(a, -1))
        case(op, "middle_3d", {"a": T(randn(2, 3, 4))}, {"dim": 1}, lambda a: fn(a, 1))
        case(op, "1d", {"a": T(randn(6))}, {"dim": 0}, lambda a: fn(a, 0))
        case(op, "transposed", {"a": NC(randn(5, 3), [1, 0])}, {"dim": 1}, lambda a: fn(a, 1))
        case(op, "large_logits", {"a": T(torch.tensor([[1000.0, 999.0, -1000.0], [-5.0, 700.0, 710.0]],
                                                      dtype=F64))}, {"dim": 1}, lambda a: fn(a, 1))


REDUCTIONS = ("mean", "sum", "none")


def loss_cases():
    for r in REDUCTIONS:
        case("binaryCrossEntropyWithLogits", "2d_" + r,
             {"input": T(randn(3, 4)), "target": T(torch.rand(3, 4, dtype=F64))}, {"reduction": r},
             lambda input, target, r=r: F.binary_cross_entropy_with_logits(input, target, reduction=r))
        case("binaryCrossEntropyWithLogits", "1d_hard_targets_" + r,
             {"input": T(randn(5) * 4), "target": T(torch.tensor([0.0, 1.0, 1.0, 0.0, 1.0], dtype=F64))},
             {"reduction": r},
             lambda input, target, r=r: F.binary_cross_entropy_with_logits(input, target, reduction=r))
        case("binaryCrossEntropyWithLogits", "target_no_grad_large_" + r,
             {"input": T(torch.tensor([-800.0, -30.0, 0.0, 30.0, 800.0], dtype=F64)),
              "target": T(torch.tensor([1.0, 0.25, 0.5, 0.75, 0.0], dtype=F64), grad=False)},
             {"reduction": r},
             lambda input, target, r=r: F.binary_cross_entropy_with_logits(input, target, reduction=r))
        case("binaryCrossEntropyWithLogits", "transposed_" + r,
             {"input": NC(randn(4, 3), [1, 0]), "target": T(torch.rand(3, 4, dtype=F64))}, {"reduction": r},
             lambda input, target, r=r: F.binary_cross_entropy_with_logits(input, target, reduction=r))

        case("crossEntropy", "2d_" + r, {"input": T(randn(4, 5)), "target": T(longs([1, 0, 4, 1]))},
             {"reduction": r}, lambda input, target, r=r: F.cross_entropy(input, target, reduction=r))
        case("crossEntropy", "1d_" + r, {"input": T(randn(5)), "target": T(longs(3))},
             {"reduction": r}, lambda input, target, r=r: F.cross_entropy(input, target, reduction=r))
        case("crossEntropy", "transposed_" + r, {"input": NC(randn(3, 4), [1, 0]), "target": T(longs([2, 2, 0, 1]))},
             {"reduction": r}, lambda input, target, r=r: F.cross_entropy(input, target, reduction=r))
        case("crossEntropy", "ignored_rows_" + r, {"input": T(randn(4, 3)), "target": T(longs([2, -100, 0, -100]))},
             {"reduction": r}, lambda input, target, r=r: F.cross_entropy(input, target, reduction=r))

        logp = lambda *s: torch.log_softmax(randn(*s), -1)
        case("nllLoss", "plain_" + r, {"input": T(logp(4, 3)), "target": T(longs([0, 2, 1, 2]))},
             {"reduction": r}, lambda input, target, r=r: F.nll_loss(input, target, reduction=r))
        case("nllLoss", "1d_" + r, {"input": T(logp(4)), "target": T(longs(2))},
             {"reduction": r}, lambda input, target, r=r: F.nll_loss(input, target, reduction=r))
        w = torch.tensor([0.5, 2.0, 1.25], dtype=F64)
        case("nllLoss", "weight_" + r,
             {"input": T(logp(5, 3)), "target": T(longs([0, 2, 1, 1, 2])), "weight": T(w, grad=False)},
             {"reduction": r},
             lambda input, target, weight, r=r: F.nll_loss(input, target, weight=weight, reduction=r))
        case("nllLoss", "ignore_default_" + r, {"input": T(logp(4, 3)), "target": T(longs([1, -100, 2, 0]))},
             {"reduction": r}, lambda input, target, r=r: F.nll_loss(input, target, reduction=r))
        case("nllLoss", "ignore_index_" + r, {"input": T(logp(5, 3)), "target": T(longs([1, 2, 1, 0, 2]))},
             {"reduction": r, "ignore_index": 1},
             lambda input, target, r=r: F.nll_loss(input, target, reduction=r, ignore_index=1))
        case("nllLoss", "weight_ignore_" + r,
             {"input": T(logp(5, 3)), "target": T(longs([1, 2, 1, 0, 2])), "weight": T(w, grad=False)},
             {"reduction": r, "ignore_index": 2},
             lambda input, target, weight, r=r: F.nll_loss(input, target, weight=weight, reduction=r,
                                                           ignore_index=2))
        case("nllLoss", "transposed_" + r, {"input": NC(logp(3, 4), [1, 0]), "target": T(longs([2, 0, 0, 1]))},
             {"reduction": r}, lambda input, target, r=r: F.nll_loss(input, target, reduction=r))

        case("mseLoss", "2d_" + r, {"input": T(randn(3, 4)), "target": T(randn(3, 4))}, {"reduction": r},
             lambda input, target, r=r: F.mse_loss(input, target, reduction=r))
        case("mseLoss", "target_no_grad_" + r, {"input": T(randn(5)), "target": T(randn(5), grad=False)},
             {"reduction": r}, lambda input, target, r=r: F.mse_loss(input, target, reduction=r))
        case("mseLoss", "transposed_" + r, {"input": NC(randn(4, 3), [1, 0]), "target": T(randn(3, 4))},
             {"reduction": r}, lambda input, target, r=r: F.mse_loss(input, target, reduction=r))
        case("mseLoss", "zero_dim_" + r, {"input": T(randn()), "target": T(randn())}, {"reduction": r},
             lambda input, target, r=r: F.mse_loss(input, target, reduction=r))


# ---------------------------------------------------------------------- printing

PRINTS = []


def pcase(name, t, permute=None, requires_grad=False, op=None):
    """str() of t (permuted, marked requires_grad, then passed through op) and how to rebuild it."""
    base = t
    x = base.clone()
    if permute is not None:
        x = x.permute(*permute)
    if requires_grad:
        x.requires_grad_()
    rec = {"id": name, "dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape),
           "values": t.reshape(-1).tolist()}
    if permute is not None:
        rec["permute"] = list(permute)
    rec["requires_grad"] = requires_grad
    if op is not None:
        kind, arg = op
        rec["op"] = {"kind": kind, "arg": arg}
        if kind == "mul":
            x = x * arg
        elif kind == "add":
            x = x + arg
        elif kind == "sum":
            x = x.sum()
        else:
            raise ValueError(kind)
    rec["expected"] = str(x)
    PRINTS.append(rec)


def printing_cases():
    f32, f64 = torch.float32, torch.float64
    for dt in (f32, f64):
        s = "f32" if dt is f32 else "f64"
        pcase(s + "/int_values", torch.tensor([1.0, 2.0, -3.0, 40.0], dtype=dt))
        pcase(s + "/int_values_2d", torch.tensor([[0.0, 1.0, 2.0], [3.0, -4.0, 5.0]], dtype=dt))
        pcase(s + "/int_values_sci", torch.tensor([1.0, 2.0, 50000.0], dtype=dt))
        pcase(s + "/int_values_large", torch.tensor([1.0e9, 2.0, 3.0], dtype=dt))
        pcase(s + "/fixed", torch.tensor([0.1, 1.25, -2.5, 3.14159], dtype=dt))
        pcase(s + "/randn_2d", torch.randn(3, 4, dtype=dt))
        pcase(s + "/randn_3d", torch.randn(2, 3, 4, dtype=dt))
        pcase(s + "/negative", torch.tensor([-0.5, -1.0, -123.456, -0.001], dtype=dt))
        pcase(s + "/mixed_magnitudes_sci", torch.tensor([1.0e-5, 1.0, 123.0], dtype=dt))
        pcase(s + "/wide_range_sci", torch.tensor([0.5, 2000.25, -3.0], dtype=dt))
        pcase(s + "/small_sci", torch.tensor([1.5e-5, 2.5e-5, -3.0e-6], dtype=dt))
        pcase(s + "/large_sci", torch.tensor([1.5e9, 2.0e8, 3.25], dtype=dt))
        pcase(s + "/nan_inf", torch.tensor([float("nan"), float("inf"), float("-inf"), 1.5, -2.0], dtype=dt))
        pcase(s + "/nan_inf_ints", torch.tensor([float("nan"), 1.0, float("-inf"), 2.0], dtype=dt))
        pcase(s + "/all_nan", torch.tensor([float("nan"), float("nan")], dtype=dt))
        pcase(s + "/zeros", torch.zeros(2, 3, dtype=dt))
        pcase(s + "/negative_zero", torch.tensor([-0.0, 1.5, 0.0], dtype=dt))
        pcase(s + "/zero_dim", torch.tensor(1.5, dtype=dt))
        pcase(s + "/zero_dim_int", torch.tensor(-7.0, dtype=dt))
        pcase(s + "/zero_dim_small", torch.tensor(1.0e-7, dtype=dt))
        pcase(s + "/empty_1d", torch.zeros(0, dtype=dt))
        pcase(s + "/empty_2d", torch.zeros(0, 3, dtype=dt))
        pcase(s + "/empty_3d", torch.zeros(2, 0, 4, dtype=dt))
        pcase(s + "/long_row_wraps", torch.randn(30, dtype=dt))
        pcase(s + "/long_row_2d_wraps", torch.randn(2, 15, dtype=dt))
        pcase(s + "/summarized_1d", torch.randn(1200, dtype=dt))
        pcase(s + "/summarized_2d", torch.randn(40, 30, dtype=dt))
        pcase(s + "/summarized_3d", torch.arange(1100, dtype=dt).reshape(11, 10, 10))
        pcase(s + "/summarized_narrow", torch.randn(1001, 2, dtype=dt))
        pcase(s + "/transposed", torch.randn(3, 2, dtype=dt), permute=[1, 0])
        pcase(s + "/requires_grad", torch.tensor([1.0, 2.5, -3.0], dtype=dt), requires_grad=True)
        pcase(s + "/requires_grad_zero_dim", torch.tensor(2.0, dtype=dt), requires_grad=True)
        pcase(s + "/requires_grad_3d", torch.randn(2, 2, 3, dtype=dt), requires_grad=True)
        pcase(s + "/grad_fn_mul", torch.tensor([1.0, 2.5, -3.0], dtype=dt), requires_grad=True, op=("mul", 2.0))
        pcase(s + "/grad_fn_add", torch.randn(2, 3, dtype=dt), requires_grad=True, op=("add", 1.0))
        pcase(s + "/grad_fn_sum", torch.tensor([1.0, 2.5, -3.0], dtype=dt), requires_grad=True, op=("sum", None))
        pcase(s + "/grad_fn_long_row", torch.randn(20, dtype=dt), requires_grad=True, op=("mul", 0.5))
        pcase(s + "/rounding_half_even", torch.tensor([0.00005, 0.00015, 1.00025, 2.5, -0.00035], dtype=dt))
        pcase(s + "/nine_nines", torch.tensor([9.99995, 0.99999, 1.0], dtype=dt))
        pcase(s + "/summarized_wide", torch.randn(2, 600, dtype=dt))
        pcase(s + "/requires_grad_long_row", torch.randn(12, dtype=dt), requires_grad=True)
        pcase(s + "/int_values_wide", torch.tensor([[-1.0, 100.0], [7.0, -250.0]], dtype=dt))
    pcase("f64/huge_exponent", torch.tensor([1.0e100, 1.0, -2.5e-300], dtype=f64))
    for name, t in (("i64/vector", torch.tensor([1, -20, 300])), ("i64/matrix", torch.arange(12).reshape(3, 4)),
                    ("i64/zero_dim", torch.tensor(42)), ("i64/empty", torch.zeros(0, dtype=torch.int64)),
                    ("i64/summarized", torch.arange(-600, 600))):
        pcase(name, t)


# ---------------------------------------------------------------------- main

def dump(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, separators=(",", ":"))
        f.write("\n")


def main():
    torch.manual_seed(SEED)
    torch.set_printoptions(profile="default")
    binary_cases()
    unary_cases()
    pow_cases()
    clamp_cases()
    matmul_cases()
    reduction_cases()
    max_cases()
    shape_cases()
    indexing_cases()
    softmax_cases()
    loss_cases()
    printing_cases()

    meta = {"generator": "scripts/gen-golden.py", "torch": torch.__version__, "seed": SEED}
    files = []
    for op, cases in OPS.items():
        name = op + ".json"
        dump(os.path.join(OUT_DIR, "ops", name), dict(meta, op=op, cases=cases))
        files.append(name)
    dump(os.path.join(OUT_DIR, "ops", "index.json"), dict(meta, files=files))
    dump(os.path.join(OUT_DIR, "printing.json"), dict(meta, cases=PRINTS))
    n = sum(len(c) for c in OPS.values())
    print("wrote %d op cases in %d files and %d printing cases to %s"
          % (n, len(files), len(PRINTS), os.path.normpath(OUT_DIR)))


if __name__ == "__main__":
    sys.exit(main())
