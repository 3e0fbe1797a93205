#!/usr/bin/python3
"""Writes PyTorch reference trajectories for Sparkgrad's optimizer tests.

Run with Debian's interpreter, which has python3-torch (1.13):

    /usr/bin/python3 scripts/gen-optim-golden.py

It writes, under engine/src/test/resources/optim-golden/:

  problem.json         the shared problem: two parameters (shapes [2, 3] and [3]) with
                       their initial values, the constant C and, for each of STEPS steps,
                       a fixed tensor G[k][i] per parameter (or null: that parameter has
                       no gradient at that step and the optimizer must skip it)
  sgd.json, adam.json, adamw.json, rmsprop.json
                       one case per hyperparameter combination: the optimizer, its
                       defaults, its parameter groups (parameter indices and per-group
                       overrides), an optional learning-rate schedule stepped after every
                       optimizer step, and the trajectory: every parameter's values after
                       each step, run once in float64 and once in float32
  schedules.json       learning rates per epoch of each schedule, for two parameter
                       groups (lr 0.1 and 0.05): index 0 is the value set when the
                       scheduler is built, index e the value after e calls to step()
  clip_grad_norm.json  torch.nn.utils.clip_grad_norm_ cases: gradients before, the
                       returned total norm and the gradients after, in float64 and float32

The gradient at step k is that of the quadratic 0.5*C*|p|^2 + <G[k], p>, written
grad = p * C + G[k]: one multiplication and one addition per element, which the Java
test computes the same way, so both sides feed the optimizer identical gradients. The
single-tensor ("for-loop") implementation is selected with foreach=False.

Numbers are Python float reprs, which round-trip doubles exactly; the JSON is strict
(no NaN or Infinity: an infinite norm type is written as the string "inf"). The script
is deterministic (one seeded generator, a fixed order of cases). The files are
committed; the Java tests only read them.
"""
import json
import math
import os
import warnings

import torch

SEED = 20240612
STEPS = 20
C = 0.3
SHAPES = [[2, 3], [3]]
# (step, parameter) pairs with no gradient: the optimizer must leave that parameter and its state alone.
NO_GRAD = {(6, 1), (11, 0), (12, 0)}

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.join(HERE, "..", "engine", "src", "test", "resources", "optim-golden")

GEN = torch.Generator().manual_seed(SEED)


def randn(shape):
    return torch.randn(shape, dtype=torch.float64, generator=GEN)


def flat(t):
    return t.detach().reshape(-1).tolist()


# ---------------------------------------------------------------------- the problem

INIT = [randn(s) for s in SHAPES]
# Gradient scales vary from step to step so second-moment estimates rise and fall (AMSGrad's max matters).
SCALES = [0.1 + 2.9 * abs(math.sin(1.7 * k)) for k in range(STEPS)]
G = [[None if (k, i) in NO_GRAD else randn(s) * SCALES[k] for i, s in enumerate(SHAPES)] for k in range(STEPS)]


def problem_json():
    return {
        "steps": STEPS,
        "c": C,
        "shapes": SHAPES,
        "init": [flat(t) for t in INIT],
        "grads": [[None if g is None else flat(g) for g in step] for step in G],
    }


# ---------------------------------------------------------------------- optimizers

OPTIMIZERS = {
    "SGD": torch.optim.SGD,
    "Adam": torch.optim.Adam,
    "AdamW": torch.optim.AdamW,
    "RMSprop": torch.optim.RMSprop,
}


def make_schedule(spec, opt):
    if spec is None:
        return None
    kind = spec["type"]
    if kind == "StepLR":
        return torch.optim.lr_scheduler.StepLR(opt, step_size=spec["step_size"], gamma=spec["gamma"])
    if kind == "CosineAnnealingLR":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=spec["T_max"], eta_min=spec["eta_min"])
    if kind == "LinearLR":
        return torch.optim.lr_scheduler.LinearLR(opt, start_factor=spec["start_factor"],
                                                 end_factor=spec["end_factor"], total_iters=spec["total_iters"])
    if kind == "SequentialLR":
        subs = [make_schedule(s, opt) for s in spec["schedulers"]]
        return torch.optim.lr_scheduler.SequentialLR(opt, schedulers=subs, milestones=spec["milestones"])
    raise ValueError(kind)


def run(case, dtype):
    params = [t.clone().to(dtype).requires_grad_() for t in INIT]
    groups = [dict(params=[params[i] for i in g["params"]], **g["options"]) for g in case["groups"]]
    opt = OPTIMIZERS[case["optimizer"]](groups, foreach=False, **case["defaults"])
    sched = make_schedule(case.get("schedule"), opt)
    trajectory = []
    for k in range(STEPS):
        for i, p in enumerate(params):
            g = G[k][i]
            p.grad = None if g is None else p.detach() * C + g.to(dtype)
        opt.step()
        if sched is not None:
            sched.step()
        trajectory.append([flat(p) for p in params])
    return trajectory


def one_group(**options):
    return [{"params": [0, 1], "options": options}]


def two_groups(second):
    return [{"params": [0], "options": {}}, {"params": [1], "options": second}]


WARMUP_COSINE = {"type": "SequentialLR", "milestones": [4], "schedulers": [
    {"type": "LinearLR", "start_factor": 0.1, "end_factor": 1.0, "total_iters": 4},
    {"type": "CosineAnnealingLR", "T_max": 12, "eta_min": 1e-4}]}

CASES = {
    "sgd": [
        ("plain", "SGD", {"lr": 0.1}, one_group(), None),
        ("momentum", "SGD", {"lr": 0.1, "momentum": 0.9}, one_group(), None),
        ("momentum_dampening_weight_decay", "SGD",
         {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01}, one_group(), None),
        ("nesterov_weight_decay", "SGD",
         {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.05}, one_group(), None),
        ("maximize_momentum", "SGD", {"lr": 0.02, "momentum": 0.5, "maximize": True}, one_group(), None),
        ("groups", "SGD", {"lr": 0.1, "momentum": 0.9},
         two_groups({"lr": 0.01, "momentum": 0.8, "weight_decay": 0.1}), None),
        ("momentum_steplr", "SGD", {"lr": 0.1, "momentum": 0.9}, one_group(),
         {"type": "StepLR", "step_size": 5, "gamma": 0.5}),
    ],
    "adam": [
        ("default", "Adam", {"lr": 0.01}, one_group(), None),
        ("betas_eps_weight_decay", "Adam",
         {"lr": 0.02, "betas": [0.8, 0.99], "eps": 1e-6, "weight_decay": 0.1}, one_group(), None),
        ("amsgrad", "Adam", {"lr": 0.01, "amsgrad": True}, one_group(), None),
        ("amsgrad_weight_decay_maximize", "Adam",
         {"lr": 0.01, "amsgrad": True, "weight_decay": 0.05, "maximize": True}, one_group(), None),
        ("groups", "Adam", {"lr": 0.01}, two_groups({"lr": 0.003, "betas": [0.5, 0.9], "amsgrad": True}), None),
    ],
    "adamw": [
        ("default", "AdamW", {"lr": 0.01}, one_group(), None),
        ("weight_decay_amsgrad", "AdamW", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}, one_group(), None),
        ("betas_maximize", "AdamW",
         {"lr": 0.005, "betas": [0.7, 0.95], "eps": 1e-7, "maximize": True}, one_group(), None),
        ("warmup_cosine", "AdamW", {"lr": 0.02, "weight_decay": 0.05}, one_group(), WARMUP_COSINE),
    ],
    "rmsprop": [
        ("default", "RMSprop", {"lr": 0.01}, one_group(), None),
        ("alpha_weight_decay", "RMSprop", {"lr": 0.01, "alpha": 0.9, "weight_decay": 0.05}, one_group(), None),
        ("momentum", "RMSprop", {"lr": 0.005, "momentum": 0.9}, one_group(), None),
        ("centered", "RMSprop", {"lr": 0.005, "centered": True, "eps": 1e-6}, one_group(), None),
        ("centered_momentum_weight_decay_maximize", "RMSprop",
         {"lr": 0.003, "alpha": 0.95, "momentum": 0.8, "centered": True, "weight_decay": 0.02,
          "maximize": True}, one_group(), None),
        ("groups", "RMSprop", {"lr": 0.01}, two_groups({"lr": 0.002, "momentum": 0.5, "centered": True}), None),
    ],
}


def optimizer_json(family):
    out = []
    for name, optimizer, defaults, groups, schedule in CASES[family]:
        case = {"name": name, "optimizer": optimizer, "defaults": defaults, "groups": groups,
                "schedule": schedule}
        case["float64"] = run(case, torch.float64)
        case["float32"] = run(case, torch.float32)
        out.append(case)
    return {"cases": out}


# ---------------------------------------------------------------------- schedules

SCHEDULES = [
    ("step", {"type": "StepLR", "step_size": 3, "gamma": 0.5}, 12),
    ("cosine", {"type": "CosineAnnealingLR", "T_max": 10, "eta_min": 0.001}, 25),
    ("cosine_no_min", {"type": "CosineAnnealingLR", "T_max": 7, "eta_min": 0.0}, 16),
    ("linear_warmup", {"type": "LinearLR", "start_factor": 0.25, "end_factor": 1.0, "total_iters": 4}, 8),
    ("linear_decay", {"type": "LinearLR", "start_factor": 1.0, "end_factor": 0.1, "total_iters": 5}, 8),
    ("warmup_cosine", {"type": "SequentialLR", "milestones": [5], "schedulers": [
        {"type": "LinearLR", "start_factor": 0.1, "end_factor": 1.0, "total_iters": 5},
        {"type": "CosineAnnealingLR", "T_max": 15, "eta_min": 1e-4}]}, 25),
    ("warmup_step", {"type": "SequentialLR", "milestones": [3], "schedulers": [
        {"type": "LinearLR", "start_factor": 0.5, "end_factor": 1.0, "total_iters": 3},
        {"type": "StepLR", "step_size": 4, "gamma": 0.1}]}, 14),
]
SCHEDULE_GROUP_LRS = [0.1, 0.05]


def schedules_json():
    out = []
    for name, spec, epochs in SCHEDULES:
        params = [torch.zeros(1, requires_grad=True) for _ in SCHEDULE_GROUP_LRS]
        opt = torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, SCHEDULE_GROUP_LRS)], lr=1.0)
        sched = make_schedule(spec, opt)
        lrs = [list(sched.get_last_lr())]
        for _ in range(epochs):
            opt.step()
            sched.step()
            lrs.append(list(sched.get_last_lr()))
            assert lrs[-1] == [g["lr"] for g in opt.param_groups]
        out.append({"name": name, "schedule": spec, "group_lrs": SCHEDULE_GROUP_LRS, "lrs": lrs})
    return {"cases": out}


# ---------------------------------------------------------------------- clip_grad_norm_

CLIP_CASES = [
    ("l2_clipped", 1.0, 2.0, [[2, 3], [3], [4]], {1}),
    ("l2_not_clipped", 100.0, 2.0, [[2, 3], [3]], set()),
    ("l1", 2.5, 1.0, [[2, 3], [3]], set()),
    ("l3", 0.5, 3.0, [[5], [2, 2]], set()),
    ("inf", 0.25, "inf", [[2, 3], [3], [1]], set()),
    ("inf_single", 0.1, "inf", [[4]], set()),
    ("half_norm", 4.0, 0.5, [[3], [3]], set()),
]


def clip_json():
    out = []
    for name, max_norm, norm_type, shapes, no_grad in CLIP_CASES:
        grads = [None if i in no_grad else randn(s) for i, s in enumerate(shapes)]
        case = {"name": name, "max_norm": max_norm, "norm_type": norm_type, "shapes": shapes,
                "grads": [None if g is None else flat(g) for g in grads]}
        for dtype, key in ((torch.float64, "float64"), (torch.float32, "float32")):
            params = [torch.zeros(s, dtype=dtype, requires_grad=True) for s in shapes]
            for p, g in zip(params, grads):
                p.grad = None if g is None else g.to(dtype).clone()
            total = torch.nn.utils.clip_grad_norm_(params, max_norm, float(norm_type))
            case[key] = {"total_norm": total.item(),
                         "clipped": [None if p.grad is None else flat(p.grad) for p in params]}
        out.append(case)
    return {"cases": out}


# ---------------------------------------------------------------------- main

def write(name, doc):
    path = os.path.join(OUT_DIR, name)
    with open(path, "w") as f:
        json.dump(doc, f, allow_nan=False, separators=(",", ":"))
        f.write("\n")
    print("wrote", os.path.relpath(path))


def main():
    warnings.simplefilter("ignore")  # SequentialLR's step(0) warns about the deprecated epoch argument
    torch.set_num_threads(1)
    os.makedirs(OUT_DIR, exist_ok=True)
    write("problem.json", problem_json())
    for family in CASES:
        write(family + ".json", optimizer_json(family))
    write("schedules.json", schedules_json())
    write("clip_grad_norm.json", clip_json())


if __name__ == "__main__":
    main()
