#!/usr/bin/env python3
"""Golden learning rates of torch.optim.lr_scheduler for Tests/HarnessTests/RunScheduleTests.swift.

Each schedule is stepped once per optimizer step, as bnlab's training loop does; the printed list is
the lr in force at optimizer steps t = 0 .. T-1 (param_group["lr"] before scheduler.step()).
    python3 scripts/lr_schedule_golden.py
"""
import numpy as np
import torch


def lrs(make, total, lr=0.1):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=lr)
    sched = make(opt)
    out = []
    for _ in range(total):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


start = float(np.float32(1.0 / 3))  # bnlab's default warmup_start, the float nearest 1/3; spec numbers are floats
T, W = 12, 4
cases = {
    "cosine warmup=4 min=0.1": lambda o: torch.optim.lr_scheduler.SequentialLR(o, [
        torch.optim.lr_scheduler.LinearLR(o, start_factor=start, total_iters=W),
        torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=T - W, eta_min=float(np.float32(0.1)) * 0.1)],
        milestones=[W]),
    "step every=3 gamma=0.5": lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5),
    "constant warmup=4": lambda o: torch.optim.lr_scheduler.LinearLR(o, start_factor=start, total_iters=W),
}
print(f"torch {torch.__version__}, lr 0.1, T = {T}")
for name, make in cases.items():
    print(name, [repr(x) for x in lrs(make, T)])
