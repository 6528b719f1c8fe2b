#!/usr/bin/env python3
"""PyTorch CPU reference for bnlab's benchmarks.

    python3 Benchmarks/pytorch_reference.py bench [--bnlab PATH] [--threads 1,2]
        [--batch-sizes 1,2,8,32,128,512] [--models all|flagship|cnn28|mlp]
        [--repetitions 5] [--quick] [--csv PATH]

`bench` times PyTorch training steps of the same three models as `bnlab bench`
(Sources/BNLabCLI/Bench/BenchModel.swift), with the same method:

    step = opt.zero_grad(); loss = F.cross_entropy(model(x), y); loss.backward(); opt.step()

in model.train(), SGD(lr=0.01, momentum=0.9), on one fixed synthetic batch (standard normal
inputs, uniform labels); per configuration, warm-up steps for >= 0.1 s, then the median
samples/s of --repetitions runs of >= 0.2 s each (--quick: 0.02 s, at most 3 runs, batch
sizes <= 32, the first thread count only). Threads: torch.set_num_threads(t).

With --bnlab PATH it also runs `PATH bench --csv ...` with the same options, then prints
both side by side with the ratio bnlab / PyTorch of samples/s and the targets of the
"Speed" issue (CNNs: >= 5x at batch 1-2, >= 3x at batch 8, >= 1.5x at batch >= 128;
MLP: >= 10x at batch 2-8, >= 1.5x at batch 512).
"""
import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time

MODELS = ["flagship", "cnn28", "mlp"]


def build_model(name):
    """The PyTorch twin of BenchModel `name`: (model, sample shape (C, H, W), classes)."""
    import torch.nn as nn

    def cnn(size, classes):
        return nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(32 * (size // 4) * (size // 4), classes))

    if name == "flagship":
        return cnn(16, 3), (1, 16, 16), 3
    if name == "cnn28":
        return cnn(28, 10), (1, 28, 28), 10
    if name == "mlp":
        model = nn.Sequential(
            nn.Flatten(),
            nn.Linear(784, 128), nn.BatchNorm1d(128), nn.ReLU(), nn.Dropout(0.5),
            nn.Linear(128, 128), nn.BatchNorm1d(128), nn.ReLU(), nn.Dropout(0.5),
            nn.Linear(128, 10))
        return model, (1, 28, 28), 10
    raise ValueError(name)


def measure(name, batch, repetitions, minimum_seconds, warmup_seconds, seed=20240601):
    """Samples/s of each repetition, or raises what PyTorch raises (e.g. BatchNorm at batch 1)."""
    import torch
    import torch.nn.functional as F

    torch.manual_seed(seed)
    model, shape, classes = build_model(name)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(batch, *shape)
    y = torch.randint(0, classes, (batch,))

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    steps, start = 0, time.perf_counter()
    while steps < 2 or time.perf_counter() - start < warmup_seconds:
        step()
        steps += 1
    per_step = (time.perf_counter() - start) / steps
    n = max(1, int(-(-minimum_seconds // per_step)))
    rates = []
    for _ in range(repetitions):
        t0 = time.perf_counter()
        for _ in range(n):
            step()
        rates.append(n * batch / (time.perf_counter() - t0))
    return rates


def int_list(text):
    values = [int(v) for v in text.split(",")]
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers >= 1, got {text!r}")
    return values


def settings(args):
    """(threads, batch sizes, repetitions, minimum seconds, warm-up seconds), --quick applied."""
    if not args.quick:
        return args.threads, args.batch_sizes, args.repetitions, 0.2, 0.1
    small = [b for b in args.batch_sizes if b <= 32] or [min(args.batch_sizes)]
    return args.threads[:1], small, min(args.repetitions, 3), 0.02, 0.01


def run_torch(args):
    import torch

    threads, batches, repetitions, minimum, warmup = settings(args)
    models = MODELS if args.models == "all" else [args.models]
    results = {}
    print(f"PyTorch {torch.__version__} (MKL: {torch.backends.mkl.is_available()}, oneDNN: {torch.backends.mkldnn.is_available()})")
    print(f"{'model':>8}  {'threads':>7}  {'batch':>5}  {'samples/s':>11}  {'spread':>6}")
    for name in models:
        for t in threads:
            torch.set_num_threads(t)
            for b in batches:
                try:
                    rates = measure(name, b, repetitions, minimum, warmup)
                except (ValueError, RuntimeError) as error:
                    results[(name, t, b)] = None
                    print(f"{name:>8}  {t:>7}  {b:>5}  n/a: {str(error).splitlines()[0]}", flush=True)
                    continue
                med = statistics.median(rates)
                results[(name, t, b)] = med
                spread = (max(rates) - min(rates)) / med
                print(f"{name:>8}  {t:>7}  {b:>5}  {med:>11.0f}  {100 * spread:>5.0f}%", flush=True)
    return results


def target(model, batch):
    """The issue's minimum ratio bnlab / PyTorch for a configuration, or None."""
    if model in ("flagship", "cnn28"):
        if batch <= 2:
            return 5.0
        if batch == 8:
            return 3.0
        if batch >= 128:
            return 1.5
    elif model == "mlp":
        if 2 <= batch <= 8:
            return 10.0
        if batch >= 512:
            return 1.5
    return None


def run_bnlab(args, csv_path):
    command = [args.bnlab, "bench", "--csv", csv_path,
               "--threads", ",".join(map(str, args.threads)),
               "--batch-sizes", ",".join(map(str, args.batch_sizes)),
               "--models", args.models, "--repetitions", str(args.repetitions)]
    if args.quick:
        command.append("--quick")
    print("$ " + " ".join(command), flush=True)
    subprocess.run(command, check=True)
    with open(csv_path, newline="") as f:
        return list(csv.DictReader(f))


def side_by_side(bnlab_rows, torch_results):
    """The comparison table (markdown), one row per configuration bnlab measured."""
    lines = ["| model | threads | batch | bnlab samples/s | PyTorch samples/s | bnlab/PyTorch | target | "
             "bnlab GFLOP/s | of sgemm peak | bnlab max RSS MiB |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in bnlab_rows:
        key = (row["model"], int(row["threads"]), int(row["batch"]))
        torch_rate = torch_results.get(key)
        ours = float(row["samples_per_s"]) if row["samples_per_s"] else None
        goal = target(key[0], key[2])
        if ours is None or torch_rate is None:
            ratio_text, verdict = "n/a", ""
        else:
            ratio = ours / torch_rate
            ratio_text = f"{ratio:.2f}x"
            verdict = "" if goal is None else (f">= {goal:g}x met" if ratio >= goal else f">= {goal:g}x MISSED")
        fraction = f"{100 * float(row['peak_fraction']):.1f}%" if row["peak_fraction"] else "n/a"
        lines.append(
            f"| {key[0]} | {key[1]} | {key[2]} | {ours:.0f} | " if ours is not None else
            f"| {key[0]} | {key[1]} | {key[2]} | n/a | ")
        lines[-1] += (f"{torch_rate:.0f} | " if torch_rate is not None else "n/a | ")
        lines[-1] += f"{ratio_text} | {verdict} | {row['gflops'] or 'n/a'} | {fraction} | {row['max_rss_mib']} |"
    return "\n".join(lines)


def bench(args):
    bnlab_rows = None
    if args.bnlab:
        with tempfile.TemporaryDirectory() as tmp:
            bnlab_rows = run_bnlab(args, args.csv or os.path.join(tmp, "bnlab-bench.csv"))
        print(flush=True)
    torch_results = run_torch(args)
    if bnlab_rows is not None:
        print()
        print(side_by_side(bnlab_rows, torch_results))


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    b = commands.add_parser("bench", help="time PyTorch training steps (and bnlab's with --bnlab)")
    b.add_argument("--bnlab", help="path of the bnlab executable to run side by side")
    b.add_argument("--threads", type=int_list, default=[1, 2])
    b.add_argument("--batch-sizes", type=int_list, default=[1, 2, 8, 32, 128, 512])
    b.add_argument("--models", choices=["all"] + MODELS, default="all")
    b.add_argument("--repetitions", type=int, default=5)
    b.add_argument("--quick", action="store_true", help="a smoke test: short runs, small batches")
    b.add_argument("--csv", help="with --bnlab: keep bnlab's CSV at this path")
    args = parser.parse_args(argv)
    if args.command == "bench":
        bench(args)


if __name__ == "__main__":
    main(sys.argv[1:])
