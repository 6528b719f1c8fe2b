#!/usr/bin/env python3
"""PyTorch CPU reference for bnlab: training-step benchmarks and a cross-check of a spec's grid.

    python3 Benchmarks/pytorch_reference.py bench [--bnlab PATH] [--threads 1,2]
        [--batch-sizes 1,2,8,32,128,512] [--models all|flagship|cnn28|mlp|resnet]
        [--repetitions 5] [--quick] [--csv PATH] [--rounds N] [--markdown PATH]

    python3 Benchmarks/pytorch_reference.py crosscheck --bnlab PATH SPEC [--quick]
        [--results DIR] [--out DIR] [--jobs N]

    python3 Benchmarks/pytorch_reference.py replay DIR... [--markdown PATH]

`bench` times PyTorch training steps of the same four models as `bnlab bench`
(Sources/BNLabCLI/Bench/BenchModel.swift), with the same method:

    step = opt.zero_grad(); loss = F.cross_entropy(model(x), y); loss.backward(); opt.step()

in model.train(), SGD(lr=0.01, momentum=0.9), on one fixed synthetic batch (standard normal
inputs, uniform labels); per configuration, warm-up steps for >= 0.1 s, then the median
samples/s of --repetitions runs of >= 0.2 s each (--quick: 0.02 s, at most 3 runs, batch
sizes <= 32, the first thread count only). Threads: torch.set_num_threads(t).

With --bnlab PATH it also runs `PATH bench --csv ...` with the same options, then prints
both side by side with the ratio bnlab / PyTorch of samples/s and the targets of the
speed issue #15 (flagship and cnn28: >= 5x at batch 1-2, >= 3x at batch 8, >= 2x at batch >= 128
on one thread and >= 1.5x on two; resnet: >= 3x at batch 1-8; MLP: >= 10x at batch 2-8, >= 2x at batch 512). --rounds N repeats the pair (bnlab, then
PyTorch) N times and reports the median samples/s over rounds and the median of the per-round
ratios with its range: the machines this runs on are shared and noisy.

`crosscheck` trains every cell of SPEC's grid (--quick: the grid of `bnlab run --quick`) in
PyTorch on the data bnlab trains on, and compares the accuracies with bnlab's table:

1. `PATH export-data SPEC --out TMP [--quick]` writes the cells (TMP/cells.csv) and their
   prepared splits (float32 NCHW images, int32 labels).
2. Per cell, the PyTorch twin of bnlab's model (Sources/Experiment/ModelRecipe.swift):
   cnn = [Conv2d(k, padding=k//2) -> norm -> act -> MaxPool2d(2)] per width, Flatten,
   Dropout, Linear; mlp = Flatten, [Linear -> norm -> act -> Dropout] per width, Linear;
   resnet = scripts/torch_resnet.py resnet() (torchvision's BasicBlock and names), or its
   FixupResNet (the authors' Fixup) for norm fixup; act = nn.ReLU or nn.LeakyReLU(slope) (activation).
   norm: BatchNorm2d/1d(eps, momentum (momentum_convention keras: 1 - momentum); cumulative = momentum=None; track_running_stats;
   ghost_batch_size = F.batch_norm per chunk of that many samples), GroupNorm(groups, C),
   LayerNorm(every dimension but the batch), or none. Default init after
   torch.manual_seed(seed); SGD / Adam / AdamW with the cell's settings at lr_used;
   cross-entropy; `epochs` epochs in the cell's order (shuffled: torch.randperm with a
   torch.Generator seeded by seed), drop_last as the cell says; the last frozen_bn_epochs
   epochs with BatchNorm in eval mode (FrozenBN). Training stops at a non-finite loss.
3. The columns bnlab writes (Sources/Experiment/CellRunner.swift): train_acc_running (last
   epoch, before each update), train_acc_eval_mode, test_acc_train_mode (a copy; batch
   statistics over test batches of the training batch size, dropout off),
   test_acc_eval_mode, test_acc_recalibrated (a copy in train mode, dropout on, over
   recalibrate_samples samples drawn without replacement in batches of
   recalibrate_batch_size; population = PreciseBN's mean and variance of every value seen,
   mean-of-batch-variances = torch.optim.swa_utils.update_bn; recalibrate_data test =
   AdaBN), test_acc_batch_stats (batch statistics at eval_batch_size), test_acc_mc_dropout,
   the forgot_eval and metric_bug columns, final_train_loss, status (ok; diverged at a
   non-finite loss; invalid with PyTorch's error; a batch-statistics pass PyTorch refuses
   leaves its column empty with the reason in status_detail). Eval-mode passes use batches
   of max(eval_batch_size, measurement_batch_size), as bnlab does (its
   CellRunner.measurementBatchSize, exported in cells.csv). Cells that differ only in how they
   are evaluated share one training, as in bnlab. Dropout masks of the measurement passes come
   from torch's generator reseeded per cell, so the numbers do not depend on --jobs.
4. Cells with settings the reference does not implement (norm batchrenorm, mabn, cbn, frn, evonorm_s0,
   evonorm_b0, with any model, the resnet included) are written as
   `skipped` with the reason, and listed.
5. Writes OUT/<spec>-pytorch.csv (bnlab's result-table columns, same number formats; no
   test_overlap) and OUT/<spec>-crosscheck.md: per cell key (the settings without the seed)
   and for test_acc_train_mode, test_acc_eval_mode, test_acc_recalibrated and
   test_acc_batch_stats, bnlab's and PyTorch's mean +- sample std over seeds, their
   difference, the two-sided p-value of Welch's t test of equal means, and "DISAGREES" when
   Holm's correction for the number of measures rejects it at a family-wise 5%. bnlab's table is
   RESULTS/<spec>.csv (default Results; with --quick .build/results-quick, where
   `make experiments QUICK=1` writes it). Weights and batch orders are not bit-identical to
   bnlab's (other random generators): the comparison is statistical, over seeds.

`replay` (needs torch, safetensors and numpy; `make replay` runs it) trains again, in PyTorch,
the steps of cells that `bnlab export-training SPEC --cell KEY --out DIR` recorded:

1. The twin (as in crosscheck) gets DIR/initial.safetensors with load_state_dict(strict=True),
   so every state_dict name and shape must match bnlab's; nn.Dropout is replaced by a module that
   applies bnlab's recorded masks. Then every step as bnlab took it: the batch (indices into the
   exported training split), the mode (FrozenBN epochs), cross-entropy, the cell's optimizer at
   lr_used; one thread, denormals flushed as bnlab flushes them.
2. Per step it compares the loss with bnlab's, the whole state with bnlab's over the first
   --full-state-steps steps (exact: the largest ||torch - bnlab|| / ||bnlab|| over the tensors),
   and after those the norms of every float state tensor (a norm that differs by more than a
   relative 1e-5 proves the tensor does: the first such step bounds the first differing one from
   above). At the first differing step it counts the ReLU and max-pool decisions that flip
   between the two states or are within 1e-6 of flipping, and trains the same steps in float64
   to say which side is nearer exact arithmetic.
3. bnlab's final weights (DIR/final.safetensors) and PyTorch's replayed weights are measured with
   crosscheck's passes (measure_cell; recalibration on the samples bnlab drew, in its order), and
   the four test accuracies are compared with bnlab's (DIR/measurements.csv): bnlab's weights must
   give bnlab's numbers within 0.1 point (exit status 1 otherwise). With dropout, the
   recalibration pass draws its own masks (bnlab exports the training masks only): not compared.

--jobs N (default: the number of cores) trains cells in N processes with
torch.set_num_threads(1) each. Exit status: 0 when compared (disagreements are reported, not
an error), 1 when bnlab's table is missing (the PyTorch table is still written), 2 when
export-data fails or is too old for the reference.
"""
import argparse
import csv
import decimal
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

MODELS = ["flagship", "cnn28", "mlp", "resnet"]


def torch_resnet():
    """scripts/torch_resnet.py: the residual twins shared with the goldens (resnet, FixupResNet)."""
    scripts = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts")
    if scripts not in sys.path:
        sys.path.insert(0, scripts)
    import torch_resnet as module
    return module


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
    if name == "resnet":  # ResNet-8: blocks 1,1,1, channels 16,32,64, BatchNorm, on the flagship's input
        return torch_resnet().resnet(1, 16, 16, 3, [1, 1, 1], [16, 32, 64], 16,
                                     lambda c, shape: nn.BatchNorm2d(c), nn.ReLU), (1, 16, 16), 3
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


def target(model, batch, threads):
    """The minimum ratio bnlab / PyTorch of the speed issue (#15) for a configuration, or None."""
    if model in ("flagship", "cnn28"):
        if batch <= 2:
            return 5.0
        if batch == 8:
            return 3.0
        if batch >= 128:
            return 2.0 if threads == 1 else 1.5
    elif model == "resnet":
        if batch <= 8:
            return 3.0
    elif model == "mlp":
        if 2 <= batch <= 8:
            return 10.0
        if batch >= 512:
            return 2.0
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


def side_by_side(rounds):
    """The comparison table (markdown), one row per configuration bnlab measured.

    `rounds` is a list of (bnlab_rows, torch_results), one per round; each round ran bnlab and then
    PyTorch. Samples/s are the medians over rounds of each round's median; the ratio is the median
    over rounds of the per-round ratio (both measured minutes apart, so a slow spell of the shared
    machine hits one round's pair rather than one side), with its range over rounds."""
    lines = ["| model | threads | batch | bnlab samples/s | PyTorch samples/s | bnlab/PyTorch | range over rounds | target | "
             "bnlab GFLOP/s | of sgemm peak | bnlab max RSS MiB |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    first_rows = rounds[0][0]
    for index, row in enumerate(first_rows):
        key = (row["model"], int(row["threads"]), int(row["batch"]))
        ours_all = [float(r[index]["samples_per_s"]) for r, _ in rounds if r[index]["samples_per_s"]]
        theirs_all = [t.get(key) for _, t in rounds if t.get(key) is not None]
        ratios = [float(r[index]["samples_per_s"]) / t[key] for r, t in rounds
                  if r[index]["samples_per_s"] and t.get(key)]
        ours = statistics.median(ours_all) if ours_all else None
        theirs = statistics.median(theirs_all) if theirs_all else None
        goal = target(key[0], key[2], key[1])
        if not ratios:
            ratio_text, spread, verdict = "n/a", "", ""
        else:
            ratio = statistics.median(ratios)
            ratio_text = f"{ratio:.2f}x"
            spread = f"{min(ratios):.2f}-{max(ratios):.2f}x" if len(ratios) > 1 else ""
            verdict = "" if goal is None else (f">= {goal:g}x met" if ratio >= goal else f">= {goal:g}x MISSED")
        fractions = [float(r[index]["peak_fraction"]) for r, _ in rounds if r[index]["peak_fraction"]]
        gflops = [float(r[index]["gflops"]) for r, _ in rounds if r[index]["gflops"]]
        rss = max(float(r[index]["max_rss_mib"]) for r, _ in rounds)
        cells = [key[0], str(key[1]), str(key[2]),
                 f"{ours:.0f}" if ours is not None else "n/a",
                 f"{theirs:.0f}" if theirs is not None else "n/a",
                 ratio_text, spread, verdict,
                 f"{statistics.median(gflops):.1f}" if gflops else "n/a",
                 f"{100 * statistics.median(fractions):.1f}%" if fractions else "n/a",
                 f"{rss:.1f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def bench(args):
    if not args.bnlab:
        run_torch(args)
        return
    rounds = []
    with tempfile.TemporaryDirectory() as tmp:
        for round_index in range(args.rounds):
            if args.rounds > 1:
                print(f"--- round {round_index + 1} of {args.rounds}", flush=True)
            csv_path = (args.csv if args.csv and round_index == args.rounds - 1
                        else os.path.join(tmp, f"bnlab-bench-{round_index}.csv"))
            bnlab_rows = run_bnlab(args, csv_path)
            print(flush=True)
            rounds.append((bnlab_rows, run_torch(args)))
            print(flush=True)
    table = side_by_side(rounds)
    print(table)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(table + "\n")


# ---------------------------------------------------------------------------------------------
# crosscheck: a spec's grid in PyTorch on bnlab's exported data, compared with bnlab's table.
# ---------------------------------------------------------------------------------------------

# The measured columns of bnlab's result table come from export-data's metric_columns.txt
# (CellRecord.metricColumns), without test_overlap (a property of the data, not measured by the
# reference), then wall_seconds: see measured_columns().
COMPARED = [("test_acc_train_mode", "train mode"), ("test_acc_eval_mode", "eval mode"),
            ("test_acc_recalibrated", "recalibrated"), ("test_acc_batch_stats", "batch stats")]
# Columns of export-data's cells.csv that are not result-table setting columns.
CELL_EXTRAS = ["index", "key", "data", "model", "optimizer", "drop_last", "eps", "forgot_eval", "metric_bug", "lr_schedule",
               "activation", "lr_used", "measurement_batch_size", "seed"]
# Settings that change only how a trained model is evaluated: cells that differ only in these
# share one training (bnlab's TrainedModelCache).
EVALUATION_SETTINGS = {"eval_batch_size", "recalibrate_samples", "recalibrate_batch_size", "recalibrate_estimator",
                       "recalibrate_data", "mc_samples", "forgot_eval", "forgot_eval_batches", "forgot_eval_shift",
                       "class_blocked_eval", "metric_bug"}
# Every value of these columns that the reference implements; anything else is skipped.
IMPLEMENTED = {
    "norm": {"batch", "group", "layer", "none", "fixup"},
    "order": {"shuffled", "sorted", "class-blocked"},
    "recalibrate_estimator": {"population", "mean-of-batch-variances"},
    "recalibrate_data": {"train", "test"},
    "validation": {"off"},
    "shared_bn": {"off"},
    "devices": {"1"},
    "drop_path": {"0"},
    "dropout_convention": {"inverted"},
    "dropout_in_eval": {"off"},
}
# Streams of the reference's random draws, all seeded by the cell's seed.
BATCH_STREAM, RECALIBRATION_STREAM, MEASUREMENT_STREAM = 0, 1, 2


def csv_number(x, decimals):
    """bnlab's CSV.number: fixed point, half-even on |x| * 10^decimals; None -> "", nan, inf, -inf."""
    if x is None:
        return ""
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    scale = 10 ** decimals
    rounded = round(abs(x) * scale)  # Python rounds half to even, as Swift's .toNearestOrEven
    if rounded >= 1e17:
        return repr(x)
    whole, fraction = divmod(int(rounded), scale)
    text = str(whole) + ("." + str(fraction).rjust(decimals, "0") if decimals > 0 else "")
    return ("-" if x < 0 and rounded != 0 else "") + text


def csv_field(text):
    """bnlab's CSV.field: quoted only when it holds a comma, a quote or a line break."""
    if any(c in text for c in ',"\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_table(header, rows):
    return "".join(",".join(csv_field(f) for f in line) + "\n" for line in [header] + rows)


def write_atomically(path, text):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path) or ".", prefix=".tmp-")
    try:
        with os.fdopen(handle, "w", newline="") as f:
            f.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def key_without_seed(key):
    """bnlab's ResultTables.cellKeyWithoutSeed: `batch_size=4 seed=1` -> `batch_size=4`."""
    at = key.rfind("seed=")
    return key if at < 0 else key[:at].strip()


def words(text):
    """`cnn channels=16,32 kernel=3` -> ("cnn", {"channels": "16,32", "kernel": "3"})."""
    head, *rest = text.split()
    return head, dict(w.split("=", 1) for w in rest)


def skip_reason(cell):
    """Why the reference cannot train `cell`, or None."""
    for column, values in IMPLEMENTED.items():
        if column in cell and cell[column] not in values:
            return f"{column} {cell[column]} is not implemented by the reference"
    if words(cell["model"])[0] not in ("cnn", "mlp", "resnet"):
        return f"model {cell['model']} is not implemented by the reference"
    if words(cell["optimizer"])[0] not in ("sgd", "adam", "adamw"):
        return f"optimizer {cell['optimizer']} is not implemented by the reference"
    return None


def setting_names(cells_header):
    """The result table's setting columns, in order: cells.csv's columns but CELL_EXTRAS."""
    return [c for c in cells_header if c not in CELL_EXTRAS]


# --- the model ---------------------------------------------------------------------------------

_ghost_classes = {}


def ghost_batch_norm_class(base):
    """A subclass of `base` (BatchNorm1d/2d) that, with `ghost_batch_size = g`, normalizes consecutive
    chunks of g samples with their own statistics (in train mode, or always without running
    statistics), each chunk updating the running statistics once: bnlab's Ghost BN."""
    import torch

    if base in _ghost_classes:
        return _ghost_classes[base]

    class GhostBatchNorm(base):
        ghost_batch_size = None

        def forward(self, x):
            if self.ghost_batch_size is None or (not self.training and self.track_running_stats):
                return super().forward(x)
            return torch.cat([super(GhostBatchNorm, self).forward(c) for c in x.split(self.ghost_batch_size)])

        def extra_repr(self):
            return super().extra_repr() + f", ghost_batch_size={self.ghost_batch_size}"
    GhostBatchNorm.__name__ = GhostBatchNorm.__qualname__ = "Ghost" + base.__name__
    _ghost_classes[base] = GhostBatchNorm
    return GhostBatchNorm


def build_twin(cell, channels, height, width, classes):
    """The PyTorch twin of bnlab's ModelRecipe.build for `cell` (draws the init from torch's global RNG)."""
    import torch.nn as nn

    architecture, options = words(cell["model"])
    eps = float(cell["eps"])
    dropout = float(cell["dropout"])
    momentum = None if cell["momentum"] == "cumulative" else float(cell["momentum"])
    if cell.get("momentum_convention", "pytorch") == "keras" and momentum is not None:
        momentum = float(1 - decimal.Decimal(cell["momentum"]))  # bnlab: 1 - m on the value as written
    track = cell["track_running_stats"] == "on"
    ghost = None if cell["ghost_batch_size"] == "off" else int(cell["ghost_batch_size"])

    def norm(c, sample_shape, two_d):
        kind = cell["norm"]
        if kind == "batch":
            base = nn.BatchNorm2d if two_d else nn.BatchNorm1d
            if ghost is None:
                return base(c, eps=eps, momentum=momentum, track_running_stats=track)
            layer = ghost_batch_norm_class(base)(c, eps=eps, momentum=momentum, track_running_stats=track)
            layer.ghost_batch_size = ghost
            return layer
        if kind == "group":
            return nn.GroupNorm(int(cell["groups"]), c, eps=eps)
        if kind == "layer":
            return nn.LayerNorm(sample_shape, eps=eps)
        return None

    activation, slope = words(cell.get("activation") or "relu")  # older exports have no activation column
    act = (lambda: nn.LeakyReLU(float(slope["slope"]))) if activation == "leaky_relu" else nn.ReLU
    if architecture == "resnet":
        blocks, widths = [int(v) for v in options["blocks"].split(",")], [int(v) for v in options["channels"].split(",")]
        stem = int(options.get("stem", widths[0]))
        if cell["norm"] == "fixup":
            return torch_resnet().FixupResNet(channels, blocks, widths, stem, classes, act, dropout)
        return torch_resnet().resnet(channels, height, width, classes, blocks, widths, stem,
                                     lambda c, shape: norm(c, shape, True), act, dropout)
    layers = []
    if architecture == "cnn":
        kernel = int(options.get("kernel", "3"))
        c, h, w = channels, height, width
        for out in [int(v) for v in options["channels"].split(",")]:
            layers.append(nn.Conv2d(c, out, kernel, padding=kernel // 2))
            h, w = h + 2 * (kernel // 2) - kernel + 1, w + 2 * (kernel // 2) - kernel + 1
            layers.append(norm(out, (out, h, w), True))
            layers.append(act())
            if h < 2 or w < 2:
                raise ValueError(f"model: pooling stages shrink {height}x{width} input below 1x1")
            layers.append(nn.MaxPool2d(2))
            h, w, c = h // 2, w // 2, out
        layers.append(nn.Flatten())
        layers.append(nn.Dropout(dropout) if dropout > 0 else None)
        layers.append(nn.Linear(c * h * w, classes))
    else:
        layers.append(nn.Flatten())
        features = channels * height * width
        for out in [int(v) for v in options["widths"].split(",")]:
            layers.append(nn.Linear(features, out))
            layers.append(norm(out, (out,), False))
            layers.append(act())
            layers.append(nn.Dropout(dropout) if dropout > 0 else None)
            features = out
        layers.append(nn.Linear(features, classes))
    return nn.Sequential(*[layer for layer in layers if layer is not None])


def schedule_factors(cell, total_steps):
    """bnlab's lr_schedule (Experiments/README.md, Sources/SpecFormat/TrainingSettings.swift LRSchedule):
    the factor of lr_used at optimizer steps t = 0 .. T-1, its warmup and step period stretched by
    budget_factor. Closed form, as bnlab evaluates it (PyTorch's LinearLR / CosineAnnealingLR / StepLR
    in SequentialLR give the same to 1e-12: RunScheduleTests)."""
    import numpy as np

    name, options = words(cell.get("lr_schedule") or "constant warmup=0")
    f32 = lambda text: float(np.float32(float(text)))  # spec numbers are floats
    factor = int(cell.get("budget_factor") or 1)
    warmup = int(options.get("warmup", "0")) * factor
    start = f32(options.get("warmup_start", "0.33333334"))
    span = max(total_steps - warmup, 1)
    out = []
    for t in range(total_steps):
        if t < warmup:
            out.append(start + (1 - start) * t / warmup)
            continue
        u = t - warmup
        if name == "cosine":
            m = f32(options.get("min", "0"))
            out.append(m + (1 - m) * (1 + math.cos(math.pi * u / span)) / 2)
        elif name == "step":
            out.append(f32(options.get("gamma", "0.1")) ** (u // (int(options["every"]) * factor)))
        else:
            out.append(1.0)
    return out


def make_optimizer(cell, parameters):
    """torch.optim.SGD / Adam / AdamW with the cell's settings and lr = lr_used."""
    import torch

    name, options = words(cell["optimizer"])
    lr = float(cell["lr_used"])
    if name == "sgd":
        return torch.optim.SGD(parameters, lr=lr, momentum=float(options["momentum"]),
                               dampening=float(options["dampening"]), weight_decay=float(options["weight_decay"]),
                               nesterov=options["nesterov"] == "on")
    beta1, beta2 = (float(v) for v in options["betas"].split(","))
    kind = torch.optim.Adam if name == "adam" else torch.optim.AdamW
    return kind(parameters, lr=lr, betas=(beta1, beta2), eps=float(options["eps"]),
                weight_decay=float(options["weight_decay"]))


def batch_norms(model, tracking_only=False):
    from torch.nn.modules.batchnorm import _BatchNorm
    return [m for m in model.modules() if isinstance(m, _BatchNorm) and (m.track_running_stats or not tracking_only)]


def set_mode(model, normalization, dropout):
    """bnlab's Mode(normalization:dropout:): BatchNorm and Dropout switched separately."""
    import torch.nn as nn
    model.train(normalization)
    for m in model.modules():
        if isinstance(m, nn.Dropout):
            m.train(dropout)


# --- data and batches ----------------------------------------------------------------------------

def load_split(folder, split):
    """(images float32 (N, C, H, W), labels int64 (N,), classes) of an exported split."""
    import numpy as np
    import torch

    with open(os.path.join(folder, f"{split}-shape.txt")) as f:
        count, channels, height, width, classes = (int(v) for v in f.read().split())
    x = np.fromfile(os.path.join(folder, f"{split}-x.f32"), dtype="<f4").reshape(count, channels, height, width)
    y = np.fromfile(os.path.join(folder, f"{split}-y.i32"), dtype="<i4")
    return torch.from_numpy(x.astype("float32")), torch.from_numpy(y.astype("int64")), classes


def generator(seed, stream):
    import torch
    return torch.Generator().manual_seed(seed * 3 + stream)


def chunks(order, batch_size, drop_last):
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)
            if not drop_last or i + batch_size <= len(order)]


def epoch_batches(order, labels, batch_size, drop_last, rng):
    """bnlab's BatchOrder.batches: lists of sample indices for one epoch."""
    import torch

    if order == "shuffled":
        return chunks(torch.randperm(len(labels), generator=rng).tolist(), batch_size, drop_last)
    if order == "sorted":
        values = labels.tolist()
        return chunks(sorted(range(len(values)), key=lambda i: (values[i], i)), batch_size, drop_last)
    batches = []  # class-blocked: every batch from one class, classes shuffled within, batches shuffled
    for c in sorted(set(labels.tolist())):
        members = (labels == c).nonzero().flatten()
        members = members[torch.randperm(len(members), generator=rng)].tolist()
        batches += chunks(members, batch_size, drop_last)
    return [batches[i] for i in torch.randperm(len(batches), generator=rng).tolist()]


# --- training and measurement ----------------------------------------------------------------------

def train_twin(cell, train, classes):
    """Builds and trains the twin; returns (model, running accuracy, final loss, divergence text or None)."""
    import torch
    import torch.nn.functional as F

    x, y, _ = train
    torch.manual_seed(int(cell["seed"]))
    model = build_twin(cell, x.shape[1], x.shape[2], x.shape[3], classes)
    optimizer = make_optimizer(cell, model.parameters())
    rng = generator(int(cell["seed"]), BATCH_STREAM)
    # The budget as bnlab's TrainingPlan: epochs or steps (the last epoch cut), all times budget_factor.
    factor = int(cell.get("budget_factor") or 1)
    batch_size, frozen = int(cell["batch_size"]), int(cell["frozen_bn_epochs"]) * factor
    steps_budget = int(cell.get("steps") or 0) * factor
    per_epoch = len(epoch_batches(cell["order"], y, batch_size, cell["drop_last"] == "on",
                                  generator(0, BATCH_STREAM)))
    if steps_budget > 0 and per_epoch > 0:
        epochs, total_steps = max(1, -(-steps_budget // per_epoch)), steps_budget
    else:
        epochs = int(cell["epochs"]) * factor
        total_steps = epochs * per_epoch
    rates = [float(cell["lr_used"]) * f for f in schedule_factors(cell, total_steps)]
    taken = 0
    running, final_loss = math.nan, math.nan
    for epoch in range(1, epochs + 1):
        model.train()
        if epoch > epochs - frozen:  # FrozenBN: BatchNorm on its running statistics, dropout on
            for m in batch_norms(model):
                m.eval()
        batches = epoch_batches(cell["order"], y, batch_size, cell["drop_last"] == "on", rng)
        batches = batches[:total_steps - taken]
        correct = seen = 0
        loss_sum = 0.0
        for step, indices in enumerate(batches):
            for group in optimizer.param_groups:
                group["lr"] = rates[taken]
            taken += 1
            index = torch.tensor(indices)
            xb, yb = x[index], y[index]
            optimizer.zero_grad()
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            value = loss.item()
            if not math.isfinite(value):
                return model, (100 * correct / seen if seen else math.nan), value, f"epoch {epoch} step {step + 1}"
            correct += int((logits.argmax(1) == yb).sum())
            seen += len(indices)
            loss_sum += value
            loss.backward()
            optimizer.step()
        running = 100 * correct / seen if seen else math.nan
        final_loss = loss_sum / len(batches) if batches else math.nan
    return model, running, final_loss, None


def passes(model, x, batch_size):
    """Logits of consecutive batches of `batch_size` (the last may be smaller), in the model's mode."""
    import torch
    with torch.no_grad():
        for start in range(0, len(x), batch_size):
            yield start, model(x[start:start + batch_size])


def accuracy(model, data, batch_size, normalization, dropout):
    """(accuracy %, the assigning bug's accuracy %) of one pass in the given mode."""
    x, y, _ = data
    set_mode(model, normalization, dropout)
    correct = last = 0
    for start, logits in passes(model, x, batch_size):
        last = int((logits.argmax(1) == y[start:start + len(logits)]).sum())
        correct += last
    return 100 * correct / len(y), 100 * last / len(y)


def predictions(model, data, batch_size, normalization, dropout):
    import torch
    set_mode(model, normalization, dropout)
    return torch.cat([logits.argmax(1) for _, logits in passes(model, data[0], batch_size)])


def recalibrate(model, data, samples, batch_size, estimator, seed, order=None):
    """bnlab's Recalibration.recalibrate on `model` (a copy): train mode (dropout on, ghost batching off)
    over `samples` samples drawn without replacement, in batches of `batch_size`; `order` (a tensor of
    sample indices) replaces the draw (replay: the samples bnlab drew, in its order)."""
    import torch

    layers = batch_norms(model, tracking_only=True)
    if not layers:
        return
    x = data[0]
    if order is None:
        order = torch.randperm(len(x), generator=generator(seed, RECALIBRATION_STREAM))[:samples]
    for m in batch_norms(model):
        if hasattr(m, "ghost_batch_size"):
            m.ghost_batch_size = None
    model.train()
    if estimator == "mean-of-batch-variances":  # torch.optim.swa_utils.update_bn
        for m in layers:
            m.reset_running_stats()
            m.momentum = None
        with torch.no_grad():
            for start in range(0, len(order), batch_size):
                model(x[order[start:start + batch_size]])
        return
    # population: PreciseBN (fvcore's _PopulationVarianceEstimator), over all m = N*H*W values per channel
    values = {}
    hooks = [m.register_forward_pre_hook(lambda m, inputs: values.__setitem__(m, inputs[0].numel() // m.num_features))
             for m in layers]
    total = {m: 0.0 for m in layers}
    mean = {m: torch.zeros(m.num_features, dtype=torch.float64) for m in layers}
    square_mean = {m: torch.zeros(m.num_features, dtype=torch.float64) for m in layers}
    for m in layers:
        m.momentum = 1.0  # running_mean = batch mean, running_var = unbiased batch variance
    with torch.no_grad():
        for start in range(0, len(order), batch_size):
            model(x[order[start:start + batch_size]])
            for m in layers:
                n = float(values[m])
                total[m] += n
                mu = m.running_mean.double()
                batch_square_mean = mu * mu + m.running_var.double() * (n - 1) / n
                mean[m] += (mu - mean[m]) * (n / total[m])
                square_mean[m] += (batch_square_mean - square_mean[m]) * (n / total[m])
    for h in hooks:
        h.remove()
    for m in layers:
        m.running_mean.copy_(mean[m].float())
        m.running_var.copy_((square_mean[m] - mean[m] * mean[m]).float())


def mc_dropout_accuracy(model, data, batch_size, passes_count, classes):
    """Softmax probabilities averaged over passes with BatchNorm on running statistics and dropout on."""
    import torch

    x, y, _ = data
    set_mode(model, False, True)
    probabilities = torch.zeros(len(x), classes, dtype=torch.float64)
    for _ in range(passes_count):
        for start, logits in passes(model, x, batch_size):
            k = min(logits.shape[1], classes)
            probabilities[start:start + len(logits), :k] += torch.softmax(logits.double(), 1)[:, :k]
    return 100 * float((probabilities.argmax(1) == y).double().mean())


def error_text(error):
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def measure_cell(cell, model, train, test, result, recalibration_order=None):
    """bnlab's CellRunner.measure: fills `result` (column -> number or None); returns the notes.
    `recalibration_order`: the recalibration pass's samples (see recalibrate)."""
    import copy
    import torch

    seed = int(cell["seed"])
    torch.manual_seed(seed * 3 + MEASUREMENT_STREAM)  # dropout masks of the passes that draw them
    notes = []
    eval_batch = int(cell["eval_batch_size"])
    # Eval mode does not depend on the batch size (running statistics): passes whose batch size is not
    # part of the measurement use batches of at least bnlab's CellRunner.measurementBatchSize.
    large = max(eval_batch, int(cell["measurement_batch_size"]))
    metric_bug = cell["metric_bug"] == "on"

    def batch_statistics(columns, body):
        try:
            body()
        except (ValueError, RuntimeError) as error:  # e.g. a last batch with one value per channel
            notes.append(f"{columns} not measured: {error_text(error)}")

    def train_mode():
        result["test_acc_train_mode"] = accuracy(copy.deepcopy(model), test, int(cell["batch_size"]), True, False)[0]
    batch_statistics("test_acc_train_mode", train_mode)
    correct, assigning = accuracy(model, test, eval_batch if metric_bug else large, False, False)
    result["test_acc_eval_mode"] = correct
    if metric_bug:
        result["test_acc_assigning_bug"] = assigning

    def batch_stats():
        result["test_acc_batch_stats"] = accuracy(copy.deepcopy(model), test, eval_batch, True, False)[0]
    batch_statistics("test_acc_batch_stats", batch_stats)
    result["train_acc_eval_mode"] = accuracy(model, train, large, False, False)[0]

    calibration = test if cell["recalibrate_data"] == "test" else train
    count = len(calibration[0])
    samples = count if cell["recalibrate_samples"] == "all" else min(int(cell["recalibrate_samples"]), count)
    result["recalibration_samples"] = samples

    def recalibrated():
        twin = copy.deepcopy(model)
        recalibrate(twin, calibration, samples, int(cell["recalibrate_batch_size"]), cell["recalibrate_estimator"],
                    seed, recalibration_order)
        result["test_acc_recalibrated"] = accuracy(twin, test, large, False, False)[0]
    batch_statistics("test_acc_recalibrated", recalibrated)

    if int(cell["mc_samples"]) > 0:
        result["test_acc_mc_dropout"] = mc_dropout_accuracy(copy.deepcopy(model), test, large, int(cell["mc_samples"]),
                                                            test[2])
    if cell["forgot_eval"] == "on":
        def forgotten():
            forgot = copy.deepcopy(model)
            values = [accuracy(forgot, test, eval_batch, True, True)[0],  # updates forgot's running statistics
                      accuracy(forgot, test, eval_batch, False, False)[0]]
            probe = copy.deepcopy(model)
            first, second = (predictions(probe, test, eval_batch, True, True) for _ in range(2))
            eval_first, eval_second = (predictions(model, test, eval_batch, False, False) for _ in range(2))
            result["test_acc_forgot_eval"], result["test_acc_eval_after_forgot_eval"] = values
            result["train_mode_disagreement"] = 100 * float((first != second).double().mean())
            result["eval_mode_disagreement"] = 100 * float((eval_first != eval_second).double().mean())
        batch_statistics("test_acc_forgot_eval, test_acc_eval_after_forgot_eval, train_mode_disagreement,"
                         " eval_mode_disagreement", forgotten)
    return notes


def measured_columns(export_dir):
    """bnlab's measured result-table columns (export-data's metric_columns.txt) but test_overlap, then
    wall_seconds; None when the file is missing (an older bnlab)."""
    path = os.path.join(export_dir, "metric_columns.txt")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        columns = f.read().strip().split(",")
    return [c for c in columns if c != "test_overlap"] + ["wall_seconds"]


def format_row(cell, result, status, detail, wall):
    """The measured columns of one cell as bnlab writes them: accuracies with 2 decimals, then the rest."""
    row = {column: csv_number(value, 2) for column, value in result.items()}
    row.update(status=status, status_detail=detail, lr_used=csv_number(float(cell["lr_used"]), 6),
               final_train_loss=csv_number(result.get("final_train_loss"), 4),
               recalibration_samples=str(result.get("recalibration_samples", 0)), wall_seconds=csv_number(wall, 2))
    return row


_loaded = {}


def split_data(folder):
    if folder not in _loaded:
        _loaded.clear()  # one data folder at a time per process
        _loaded[folder] = (load_split(folder, "train"), load_split(folder, "test"))
    return _loaded[folder]


def run_training_group(task):
    """Trains the cells of one group (same training, different evaluations) once, measures each.
    Returns [(index, row)]."""
    import torch

    torch.set_num_threads(1)
    folder, cells = task
    train, test = split_data(folder)
    classes = max(train[2], test[2])
    out = []
    start = time.perf_counter()
    try:
        trained = train_twin(cells[0], train, classes)
        failure = None
    except (ValueError, RuntimeError) as error:  # a configuration PyTorch refuses, e.g. BatchNorm1d at batch 1
        trained, failure = None, error_text(error)
    for cell in cells:
        result = {}
        if trained is None:
            out.append((int(cell["index"]), format_row(cell, result, "invalid", failure, time.perf_counter() - start)))
            start = time.perf_counter()
            continue
        model, running, final_loss, divergence = trained
        result.update(train_acc_running=running, final_train_loss=final_loss)
        status, detail = ("diverged", f"non-finite loss at {divergence}") if divergence else ("ok", "")
        try:
            notes = measure_cell(cell, model, train, test, result)
        except (ValueError, RuntimeError) as error:
            status, notes = "invalid", []
            detail = error_text(error)
        detail = "; ".join([d for d in [detail] if d] + notes)
        out.append((int(cell["index"]), format_row(cell, result, status, detail, time.perf_counter() - start)))
        start = time.perf_counter()
    return out


def training_groups(cells, names, export_dir):
    """Tasks: (data folder, cells that share one training), in grid order of their first cell."""
    identity = [n for n in names if n not in EVALUATION_SETTINGS and n != "variant"] + \
        ["data", "model", "optimizer", "drop_last", "eps", "lr_used", "seed"]
    groups = {}
    for cell in cells:
        groups.setdefault(tuple(cell[n] for n in identity), []).append(cell)
    return [(os.path.join(export_dir, members[0]["data"]), members) for members in groups.values()]


def run_grid(tasks, jobs):
    """Runs the tasks in `jobs` processes (one torch thread each); returns {index: row}."""
    rows = {}
    total = len(tasks)

    def done(k, results):
        for index, row in results:
            rows[index] = row
        print(f"  [{k}/{total}] cells {', '.join(str(i) for i, _ in results)}: "
              + ", ".join(f"{r['status']} {r['test_acc_eval_mode'] or '-'}" for _, r in results),
              file=sys.stderr, flush=True)

    if jobs == 1:
        for k, task in enumerate(tasks, 1):
            done(k, run_training_group(task))
        return rows
    import multiprocessing
    with multiprocessing.get_context("spawn").Pool(jobs) as pool:
        for k, results in enumerate(pool.imap_unordered(run_training_group, tasks), 1):
            done(k, results)
    return rows


# --- the comparison ------------------------------------------------------------------------------

def read_csv(path):
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        return reader.fieldnames, list(reader)


def values_of(rows, column):
    found = []
    for r in rows:
        try:
            v = float(r.get(column) or "nan")
        except ValueError:
            continue
        if not math.isnan(v):
            found.append(v)
    return found


def mean_std(values):
    if not values:
        return None, None
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else None)


def mean_std_text(values):
    mean, std = mean_std(values)
    if mean is None:
        return "empty"
    return f"{mean:.2f} ± {std:.2f}" if std is not None else f"{mean:.2f} (n=1)"


def regularized_incomplete_beta(x, a, b):
    """I_x(a, b) by the continued fraction (modified Lentz; Numerical Recipes 6.4), as bnlab's StudentT."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log(1 - x))

    def fraction(x, a, b):
        tiny = 1e-300
        c, d = 1.0, 1 - (a + b) * x / (a + 1)
        d = 1 / (d if abs(d) > tiny else tiny)
        h = d
        for m in range(1, 301):
            for numerator in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                              -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
                d = 1 + numerator * d
                d = 1 / (d if abs(d) > tiny else tiny)
                c = 1 + numerator / c
                c = c if abs(c) > tiny else tiny
                h *= d * c
            if abs(d * c - 1) < 1e-15:
                break
        return h

    # The fraction converges fast for x < (a + 1) / (a + b + 2); the symmetry I_x(a, b) = 1 - I_{1-x}(b, a) otherwise.
    if x < (a + 1) / (a + b + 2):
        return front * fraction(x, a, b) / a
    return 1 - front * fraction(1 - x, b, a) / b


def welch_p_value(ours, theirs):
    """Two-sided p-value of Welch's t test (unequal variances; Welch-Satterthwaite degrees of freedom)
    for equal means of the two seed samples; None when a sample has fewer than two values. Two samples
    of identical constants (a spread of 0 on both sides) give 1 when their means are equal, else 0."""
    if len(ours) < 2 or len(theirs) < 2:
        return None
    (m1, s1), (m2, s2) = mean_std(ours), mean_std(theirs)
    v1, v2 = s1 ** 2 / len(ours), s2 ** 2 / len(theirs)
    if v1 + v2 == 0:
        return 1.0 if m1 == m2 else 0.0
    t = (m2 - m1) / math.sqrt(v1 + v2)
    df = (v1 + v2) ** 2 / ((v1 ** 2 / (len(ours) - 1) if v1 else 0) + (v2 ** 2 / (len(theirs) - 1) if v2 else 0))
    return regularized_incomplete_beta(df / (df + t * t), df / 2, 0.5)


def holm(p_values, alpha=0.05):
    """Holm's step-down correction for the number of measures: the indices of the p-values rejected at
    family-wise error rate alpha (the i-th smallest of m is compared with alpha / (m - i))."""
    order = sorted((p, i) for i, p in enumerate(p_values))
    rejected = set()
    for rank, (p, i) in enumerate(order):
        if p > alpha / (len(order) - rank):
            break
        rejected.add(i)
    return rejected


def statuses(rows):
    counts = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    return ", ".join(f"{n} {s}" for s, n in counts.items()) or "none"


def comparison(spec_name, cells, names, torch_rows, bnlab_path, header_lines):
    """The markdown report (None when bnlab's table is missing): per cell key, bnlab's and PyTorch's
    mean +- std over seeds of each COMPARED column with the verdict, the skipped cells, a count line."""
    lines = [f"# {spec_name}: bnlab vs PyTorch", ""] + header_lines + [""]
    if not os.path.exists(bnlab_path):
        return None
    _, bnlab_rows = read_csv(bnlab_path)
    queue = {}  # (settings, seed) -> bnlab rows in table order: cells consume them in grid order
    for r in bnlab_rows:
        queue.setdefault((tuple(r.get(n, "") for n in names), r.get("seed", "")), []).append(r)
    groups, order = {}, []
    for cell in cells:
        group = key_without_seed(cell["key"]) or "(every cell)"
        if group not in groups:
            order.append(group)
            groups[group] = ([], [], [])
        matches = queue.get((tuple(cell[n] for n in names), cell["seed"]), [])
        if matches:
            groups[group][0].append(matches.pop(0))
        groups[group][1].append(torch_rows[int(cell["index"])])
        groups[group][2].append(cell)
    lines += ["Per measure, Welch's two-sample t test of equal means over the seeds of each side (the two sides'",
              "weights and batch orders come from different random generators); \"DISAGREES\" when its p-value",
              "is rejected by Holm's correction for the number of measures at a family-wise error rate of 5%,",
              "\"p < 0.05 uncorrected\" when only the uncorrected test would reject.", "",
              "| cell | status: bnlab / PyTorch | measure | bnlab | PyTorch | diff | p (Welch) | verdict |",
              "|---|---|---|---:|---:|---:|---:|---|"]
    compared = disagreements = undecided = 0
    disagreeing_cells = set()
    skipped, unmatched = [], []
    measured = []  # (group, status, label, ours, theirs)
    for group in order:
        ours, theirs, members = groups[group]
        reasons = sorted({r["status_detail"] for r in theirs if r["status"] == "skipped"})
        if reasons:
            skipped.append(f"- `{group}`: skipped: {'; '.join(reasons)}")
            continue
        if not ours:
            unmatched.append(f"- `{group}`: no row in {bnlab_path}")
            continue
        compared += 1
        status = f"{statuses(ours)} / {statuses(theirs)}"
        for column, label in COMPARED:
            measured.append((group, status, label, values_of(ours, column), values_of(theirs, column)))
    tested = [(k, welch_p_value(a, b)) for k, (_, _, _, a, b) in enumerate(measured)]
    tested = [(k, p) for k, p in tested if p is not None]
    rejected = {tested[i][0] for i in holm([p for _, p in tested])}
    p_of = dict(tested)
    for k, (group, status, label, a, b) in enumerate(measured):
        diff = f"{mean_std(b)[0] - mean_std(a)[0]:+.2f}" if a and b else ""
        if not a or not b:
            text = "empty in both" if not a and not b else f"DISAGREES (empty in {'bnlab' if not a else 'PyTorch'})"
            disagrees = bool(a) != bool(b)
        elif k not in p_of:
            text, disagrees = "n/a (one seed)", False
            undecided += 1
        elif k in rejected:
            text, disagrees = "DISAGREES", True
        else:
            text, disagrees = ("p < 0.05 uncorrected" if p_of[k] < 0.05 else "agrees"), False
        disagreements += disagrees
        if disagrees:
            disagreeing_cells.add(group)
        p_text = f"{p_of[k]:.3g}" if k in p_of else ""
        lines.append(f"| {group} | {status} | {label} | {mean_std_text(a)} | {mean_std_text(b)} | {diff} | "
                     f"{p_text} | {text} |")
    if skipped:
        lines += ["", "Skipped (not trained by the reference):", ""] + skipped
    if unmatched:
        lines += ["", f"Not in bnlab's table (is {bnlab_path} from another version of the spec?):", ""] + unmatched
    count = (f"{compared} cells compared, {disagreements} disagreements (of {len(COMPARED) * compared} measures, "
             f"in {len(disagreeing_cells)} cells), {len(skipped)} skipped")
    if undecided:
        count += f", {undecided} measures undecided (one seed)"
    if unmatched:
        count += f", {len(unmatched)} without a bnlab result"
    lines += ["", count + "."]
    return "\n".join(lines) + "\n"


def crosscheck(args):
    import torch

    spec_name = os.path.basename(args.spec)
    spec_name = spec_name[:-len(".spec")] if spec_name.endswith(".spec") else spec_name  # bnlab's Spec.name
    results_dir = args.results or (".build/results-quick" if args.quick else "Results")
    jobs = args.jobs or os.cpu_count() or 1
    bnlab_path = os.path.join(results_dir, f"{spec_name}.csv")
    how = (f"`make experiments QUICK=1` (or `bnlab run {args.spec} --quick --out .build/results-quick`)" if args.quick
           else f"`make experiments` (or `bnlab run {args.spec} --out Results`)")
    missing = (f"crosscheck: bnlab's table {bnlab_path} is missing: produce it with {how}, "
               "or name its folder with --results DIR")
    if not os.path.exists(bnlab_path):
        print(missing + "; training the PyTorch grid anyway", file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory(prefix="bnlab-crosscheck-") as export_dir:
        command = [args.bnlab, "export-data", args.spec, "--out", export_dir] + (["--quick"] if args.quick else [])
        print("$ " + " ".join(command), flush=True)
        if subprocess.run(command).returncode != 0:
            print("crosscheck: export-data failed", file=sys.stderr)
            return 2
        header, cells = read_csv(os.path.join(export_dir, "cells.csv"))
        absent = [c for c in CELL_EXTRAS if c not in header]
        if absent:
            print(f"crosscheck: {args.bnlab} export-data wrote no {', '.join(absent)} column: an older bnlab? "
                  "Rebuild it (make build)", file=sys.stderr)
            return 2
        measured = measured_columns(export_dir)
        if measured is None:
            print(f"crosscheck: {args.bnlab} export-data wrote no metric_columns.txt: an older bnlab? "
                  "Rebuild it (make build)", file=sys.stderr)
            return 2
        names = setting_names(header)
        runnable, torch_rows = [], {}
        for cell in cells:
            reason = skip_reason(cell)
            if reason is None:
                runnable.append(cell)
            else:
                torch_rows[int(cell["index"])] = format_row(cell, {}, "skipped", reason, 0.0)
        tasks = training_groups(runnable, names, export_dir)
        print(f"PyTorch {torch.__version__}: {len(runnable)} of {len(cells)} cells ({len(tasks)} trainings), "
              f"--jobs {jobs}, 1 thread each", flush=True)
        start = time.perf_counter()
        torch_rows.update(run_grid(tasks, jobs))
        wall = time.perf_counter() - start
    torch_path = os.path.join(args.out, f"{spec_name}-pytorch.csv")
    rows = [[spec_name] + [cell[n] for n in names] + [cell["seed"]]
            + [torch_rows[int(cell["index"])].get(c, "") for c in measured] for cell in cells]
    write_atomically(torch_path, csv_table(["spec"] + names + ["seed"] + measured, rows))
    cell_seconds = sum(float(torch_rows[int(c["index"])]["wall_seconds"]) for c in cells)
    timing = (f"PyTorch grid: {wall:.1f} s wall for {len(runnable)} cells with --jobs {jobs} "
              f"(sum of the cells' wall_seconds: {cell_seconds:.1f} s)")
    print(timing)
    print(f"wrote {torch_path}")
    bnlab_seconds = sum(values_of(read_csv(bnlab_path)[1], "wall_seconds")) if os.path.exists(bnlab_path) else 0
    header_lines = [f"- bnlab: `{bnlab_path}` (sum of the cells' wall_seconds: {bnlab_seconds:.1f} s)",
                    f"- PyTorch {torch.__version__} (CPU): `{torch_path}`; {timing}",
                    "- Weights and batch orders come from other random generators than bnlab's: compare over seeds."]
    report = comparison(spec_name, cells, names, torch_rows, bnlab_path, header_lines)
    if report is None:
        print(missing, file=sys.stderr)
        return 1
    report_path = os.path.join(args.out, f"{spec_name}-crosscheck.md")
    write_atomically(report_path, report)
    print()
    print(report, end="")
    print(f"\nwrote {report_path}")
    return 0


# ---------------------------------------------------------------------------------------------
# replay: the steps bnlab took (bnlab export-training), trained again in PyTorch.
# ---------------------------------------------------------------------------------------------

# Parameters and running statistics "differ" past this relative L2 distance, ||torch - bnlab|| / ||bnlab||.
REPLAY_THRESHOLD = 1e-5
# Steps at which the table reports the relative loss difference (and the last step).
REPLAY_LOSS_STEPS = (1, 10, 100)
# Two accuracies on the same weights and data "agree" within this many points.
REPLAY_ACCURACY_POINTS = 0.1


def replayed_dropout_class():
    """nn.Dropout that applies a given mask in train mode (bnlab's: kept values times 1/(1-p) in
    float32, dropped ones 0), and draws as nn.Dropout does when it has none."""
    import torch
    import torch.nn as nn

    class ReplayedDropout(nn.Dropout):
        mask = None  # (N, values per sample) of 0/1, set before each replayed step

        def forward(self, x):
            if not self.training or self.mask is None:
                return super().forward(x)
            one = torch.tensor(1.0, dtype=torch.float32)
            scale = one / (one - torch.tensor(self.p, dtype=torch.float32))  # bnlab: 1 / (1 - p) in Float
            return x * (self.mask.to(torch.float32) * scale).view_as(x)
    return ReplayedDropout


def relative_distance(a, b):
    """||a - b|| / ||b|| in float64 (0 when both are 0)."""
    a, b = a.double(), b.double()
    scale = float(b.norm())
    difference = float((a - b).norm())
    return difference / scale if scale > 0 else (0.0 if difference == 0 else math.inf)


def read_measurements(folder):
    """bnlab's measurements.csv: column -> float or None (status and status_detail as text)."""
    values = {}
    with open(os.path.join(folder, "measurements.csv"), newline="") as f:
        for row in csv.DictReader(f):
            text = row["value"]
            if row["column"] in ("status", "status_detail"):
                values[row["column"]] = text
            else:
                values[row["column"]] = float(text) if text else None
    return values


class ReplayedRun:
    """An export-training folder: the cell, its data, and the steps bnlab took."""

    def __init__(self, folder):
        from safetensors.torch import load_file

        self.folder = folder
        _, cells = read_csv(os.path.join(folder, "cells.csv"))
        self.cell = cells[0]
        data = os.path.join(folder, self.cell["data"])
        self.train, self.test = load_split(data, "train"), load_split(data, "test")
        self.classes = max(self.train[2], self.test[2])
        self.steps = load_file(os.path.join(folder, "steps.safetensors"))
        self.trajectory = load_file(os.path.join(folder, "trajectory.safetensors"))
        self.full_steps = next(iter(self.trajectory.values())).shape[0] if self.trajectory else 0
        self.sizes = self.steps["batch_size"].tolist()
        self.starts = [sum(self.sizes[:i]) for i in range(len(self.sizes))]

    def state(self, name):
        from safetensors.torch import load_file
        return load_file(os.path.join(self.folder, name))

    def bnlab_state_after(self, step):
        """bnlab's state after 1-based `step` (0: the initial state); step <= full_steps."""
        return self.state("initial.safetensors") if step == 0 else {k: v[step - 1] for k, v in self.trajectory.items()}

    def twin(self, state_name, dtype=None):
        """The PyTorch twin with a state loaded strictly (every name must match), Dropout replaced by
        ReplayedDropout, in `dtype` (float32 unless given)."""
        import torch.nn as nn

        x = self.train[0]
        model = build_twin(self.cell, x.shape[1], x.shape[2], x.shape[3], self.classes)
        model.load_state_dict(self.state(state_name), strict=True)
        ReplayedDropout = replayed_dropout_class()
        for name, module in model.named_children():  # bnlab's dropouts are children of the top Sequential
            if isinstance(module, nn.Dropout):
                setattr(model, name, ReplayedDropout(module.p))
        return model.to(dtype) if dtype is not None else model

    def train_steps(self, model, count, before=None, after=None):
        """Trains `model` on the first `count` steps: each step's batch, dropout masks and mode (FrozenBN in
        the last frozen_bn_epochs), cross-entropy, `make_optimizer`'s optimizer. Calls before(step, batch)
        and after(step, loss) around each 0-based step."""
        import torch.nn.functional as F

        x, y, _ = self.train
        dtype = next(model.parameters()).dtype
        optimizer = make_optimizer(self.cell, model.parameters())
        epoch_of, indices = self.steps["epoch"].tolist(), self.steps["indices"].long()
        # The epochs that ran (a step budget cuts the last) and FrozenBN's, both times budget_factor.
        epochs = max(epoch_of) if epoch_of else 0
        frozen = int(self.cell["frozen_bn_epochs"]) * int(self.cell.get("budget_factor") or 1)
        # Each update's learning rate as bnlab used it (the schedule's value; older exports: lr_used).
        rates = self.steps["lr"].tolist() if "lr" in self.steps else None
        dropouts = [(name, m) for name, m in model.named_children() if hasattr(m, "mask")]
        for step in range(count):
            model.train()
            if epoch_of[step] > epochs - frozen:  # FrozenBN, as train_twin
                for m in batch_norms(model):
                    m.eval()
            start, size = self.starts[step], self.sizes[step]
            batch = indices[start:start + size]
            for name, m in dropouts:  # dropout_mask.PATH: `9` in a cnn, `dropout` in a resnet
                m.mask = self.steps[f"dropout_mask.{name}"][start:start + size]
            if before:
                before(step, batch)
            if rates is not None:
                for group in optimizer.param_groups:
                    group["lr"] = rates[step]
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x[batch].to(dtype)), y[batch])
            loss.backward()
            optimizer.step()
            if after:
                after(step, loss.item())
        for _, m in dropouts:
            m.mask = None


def state_distance(ours, theirs, with_key=False):
    """The largest relative_distance over the tensors of two states (integers: 0 if equal, else inf), and
    with `with_key` the tensor's key."""
    import torch
    distances = {k: relative_distance(ours[k], theirs[k].to(ours[k].dtype)) if ours[k].is_floating_point()
                 else (0.0 if torch.equal(ours[k], theirs[k]) else math.inf) for k in ours}
    key = max(distances, key=distances.get)
    return (distances[key], key) if with_key else distances[key]


def replay_cell(folder):
    """Replays one export-training folder in PyTorch; returns what the report needs."""
    import torch

    torch.set_num_threads(1)
    torch.set_flush_denormal(True)  # bnlab flushes denormals (FloatingPointMode): the same arithmetic
    run = ReplayedRun(folder)
    steps, x = run.steps, run.train[0]
    norm_keys = [k[len("norm."):] for k in steps if k.startswith("norm.")]
    model = run.twin("initial.safetensors")
    found = {"losses": [], "first_exact": None, "first_norm": None, "worst_exact": 0.0, "flipped": None,
             "float64": None}
    before_state = {}

    def before(step, batch):
        if step < run.full_steps and found["first_exact"] is None:
            before_state.clear()
            before_state.update({k: v.clone() for k, v in model.state_dict().items()})
            before_state["batch"] = batch

    def after(step, loss):
        found["losses"].append(loss)
        state = model.state_dict()
        if step < run.full_steps:
            distance, key = state_distance(state, run.bnlab_state_after(step + 1), with_key=True)
            found["worst_exact"] = max(found["worst_exact"], distance)
            if found["first_exact"] is None and distance > REPLAY_THRESHOLD:
                found["first_exact"], found["first_key"] = step + 1, key
                batch = before_state.pop("batch")
                found["flipped"] = flipped_decisions(model, before_state, run.bnlab_state_after(step), x[batch])
                found["at_first"] = {k: v.clone() for k, v in state.items()}
        if found["first_norm"] is None:
            for k in norm_keys:
                ours, theirs = float(state[k].double().norm()), float(steps["norm." + k][step])
                if abs(ours - theirs) > REPLAY_THRESHOLD * abs(theirs):
                    found["first_norm"] = step + 1
                    break

    run.train_steps(model, len(run.sizes), before, after)
    final = run.state("final.safetensors")
    final_distance = state_distance(model.state_dict(), final)
    if found["first_exact"] is not None:
        # The same steps in float64 from the same initial weights: which float32 run is nearer exact arithmetic?
        exact = run.twin("initial.safetensors", torch.float64)
        run.train_steps(exact, found["first_exact"])
        reference = exact.state_dict()
        found["float64"] = (state_distance(found.pop("at_first"), reference),
                            state_distance(run.bnlab_state_after(found["first_exact"]), reference))

    order = steps["recalibration_indices"].long()
    scored = {}
    for name, scored_model in (("bnlab weights", run.twin("final.safetensors")), ("replayed weights", model)):
        result = {}
        notes = measure_cell(run.cell, scored_model, run.train, run.test, result, recalibration_order=order)
        scored[name] = (result, notes)
    return dict(found, folder=folder, cell=run.cell, steps=len(found["losses"]), bnlab_losses=steps["loss"].tolist(),
                full_steps=run.full_steps, final_distance=final_distance, bnlab=read_measurements(folder),
                scored=scored, dropout=float(run.cell["dropout"]) > 0)


# A ReLU input or a max-pool gap this close to a decision (relative) can flip by rounding alone.
NEAR_TIE = 1e-6


def flipped_decisions(model, ours, theirs, x):
    """Discrete decisions of the forward pass of the step's batch `x`: (ReLU units, max-pool windows) whose
    decision (sign; argmax) differs between the state `ours` (PyTorch's, before the step) and `theirs`
    (bnlab's), then (ReLU units, max-pool windows) of `theirs` within NEAR_TIE of flipping: |input| <=
    NEAR_TIE * RMS of the layer's input; largest minus second largest <= NEAR_TIE * largest, at a positive
    maximum. A near tie can flip between two frameworks computing the same state (other rounding), so a
    jump in the distance with neither comes from rounding alone."""
    import copy
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    def forward(state):
        twin = copy.deepcopy(model)  # the step's dropout masks included
        twin.load_state_dict(state)
        relu, pool = [], []
        # every activation's and max pool's input, also inside residual blocks (a block applies its relu twice)
        for m in twin.modules():
            if isinstance(m, (nn.ReLU, nn.LeakyReLU)):
                m.register_forward_pre_hook(lambda module, inputs: relu.append(inputs[0].clone()))
            elif isinstance(m, nn.MaxPool2d):
                m.register_forward_pre_hook(lambda module, inputs: pool.append(inputs[0].clone()))
        with torch.no_grad():
            twin(x)
        return relu, pool

    def argmax(h):  # the twin's max pools are MaxPool2d(2)
        return F.max_pool2d(h, 2, 2, return_indices=True)[1]

    (relu_a, pool_a), (relu_b, pool_b) = forward(ours), forward(theirs)
    relu_flips = sum(int(((a > 0) != (b > 0)).sum()) for a, b in zip(relu_a, relu_b))
    pool_flips = sum(int((argmax(a) != argmax(b)).sum()) for a, b in zip(pool_a, pool_b))
    relu_near = sum(int((b.abs() <= NEAR_TIE * b.pow(2).mean().sqrt()).sum()) for b in relu_b)
    pool_near = 0
    for b in pool_b:
        n, c, h, w = b.shape
        windows = b[:, :, :h // 2 * 2, :w // 2 * 2].reshape(n, c, h // 2, 2, w // 2, 2).permute(0, 1, 2, 4, 3, 5)
        top = windows.reshape(n, c, h // 2, w // 2, 4).topk(2, dim=-1).values
        pool_near += int(((top[..., 0] > 0) & (top[..., 0] - top[..., 1] <= NEAR_TIE * top[..., 0])).sum())
    return relu_flips, pool_flips, relu_near, pool_near


def loss_difference(result, step):
    """|PyTorch loss - bnlab loss| / |bnlab loss| at 1-based `step`, or None past the last step."""
    if step > result["steps"]:
        return None
    ours, theirs = result["bnlab_losses"][step - 1], result["losses"][step - 1]
    return abs(theirs - ours) / abs(ours)


def scientific(value):
    return "—" if value is None else ("0" if value == 0 else f"{value:.1e}")


def first_step_text(result):
    """Where the parameters first differ by more than REPLAY_THRESHOLD, and how that is known."""
    k, exact, by_norm = result["full_steps"], result["first_exact"], result["first_norm"]
    if exact is not None:
        return f"{exact} (`{result['first_key']}`)"
    if k >= result["steps"]:
        return f"none of {result['steps']} (max {scientific(result['worst_exact'])})"
    if by_norm is not None:
        return f"after {k}, by {by_norm} (norms)"
    return f"none in 1-{k}; norms agree to the end"


def replay_report(results, header_lines):
    """The markdown of `make replay`: a trajectory table, then an accuracy table."""
    threshold = f"{REPLAY_THRESHOLD:.0e}".replace("e-0", "e-")
    lines = header_lines + [
        "",
        "## Trajectories",
        "",
        "Relative loss difference |PyTorch - bnlab| / bnlab at a step (the loss of the batch before the update); "
        f"the first step after which some parameter or running statistic differs by more than {threshold} "
        "(||PyTorch - bnlab|| / ||bnlab||, L2 over the tensor): exact over the steps whose whole state bnlab "
        "exported (`--full-state-steps`), and after those the first step whose norms differ by more than "
        f"{threshold} relative, which proves the tensors differ by at least that much (the true first step is "
        "then at or before it). At that first step (exact case), on the step's batch: flips, the ReLU units and "
        "max-pool windows whose decision (sign, argmax) differs between PyTorch's state before the step and "
        f"bnlab's; near ties, those of bnlab's state within {NEAR_TIE:.0e}".replace("e-0", "e-") + " (relative) of "
        "flipping, which the two frameworks' rounding of the same numbers can flip. A jump in the distance with "
        "neither comes from rounding alone. From float64: "
        "the distance of each float32 run's state at that step from the same steps trained in float64 by PyTorch "
        "(same initial weights, batches and masks), i.e. which side is nearer exact arithmetic. Last column: the "
        "distance between PyTorch's and bnlab's final states.",
        "",
        "| cell | steps | loss step 1 | step 10 | step 100 | last step | first step > " + threshold
        + " | at it: flips ReLU, max-pool; near ties ReLU, max-pool | from float64 at it: PyTorch, bnlab | final state |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        flips = "—" if r["flipped"] is None else "{}, {}; {}, {}".format(*r["flipped"])
        exact = "—" if r["float64"] is None else f"{scientific(r['float64'][0])}, {scientific(r['float64'][1])}"
        lines.append(f"| {r['label']} | {r['steps']} | " + " | ".join(
            scientific(loss_difference(r, s)) for s in REPLAY_LOSS_STEPS + (r["steps"],))
            + f" | {first_step_text(r)} | {flips} | {exact} | {scientific(r['final_distance'])} |")
    lines += [
        "",
        "## Accuracies",
        "",
        "Test accuracy (%) as bnlab measured it, and as PyTorch measures it with bnlab's final weights "
        "(`final.safetensors` loaded into the twin) and with its own replayed weights, in bnlab's four "
        "passes: train mode (batch statistics over batches of the training batch size), eval mode, batch "
        "statistics at eval_batch_size, and recalibrated (PreciseBN over the samples bnlab drew, in its "
        f"order). \"agrees\": bnlab's weights give bnlab's number within {REPLAY_ACCURACY_POINTS} point in "
        "PyTorch. With dropout, recalibration runs with dropout on and PyTorch draws its own masks there "
        "(bnlab exports the training masks only), so that row is not compared.",
        "",
        "| cell | measure | bnlab | PyTorch, bnlab's weights | difference | | PyTorch, replayed weights |",
        "|---|---|---:|---:|---:|---|---:|",
    ]
    disagreements = 0
    for r in results:
        ours, _ = r["scored"]["bnlab weights"]
        replayed, _ = r["scored"]["replayed weights"]
        for column, label in COMPARED:
            a, b, c = r["bnlab"].get(column), ours.get(column), replayed.get(column)
            if a is None or b is None:
                verdict, difference = "not measured", "—"
            else:
                difference = f"{b - a:+.2f}"
                if column == "test_acc_recalibrated" and r["dropout"]:
                    verdict = "not compared (dropout masks)"
                elif abs(b - a) <= REPLAY_ACCURACY_POINTS + 1e-9:
                    verdict = "agrees"
                else:
                    verdict, disagreements = "DIFFERS", disagreements + 1
            lines.append(f"| {r['label']} | {label} | {csv_number(a, 2) or '—'} | {csv_number(b, 2) or '—'} | "
                         f"{difference} | {verdict} | {csv_number(c, 2) or '—'} |")
    lines += ["", f"{len(results)} cells replayed; {disagreements} accuracies of bnlab's weights differ by more than "
              f"{REPLAY_ACCURACY_POINTS} point between bnlab and PyTorch."]
    return "\n".join(lines[:len(header_lines)] + summary_lines(results) + lines[len(header_lines):]) + "\n", disagreements


def summary_lines(results):
    """The report's findings in numbers, computed from the results."""
    first = [loss_difference(r, 1) for r in results]
    exact = [r for r in results if r["first_exact"] is not None]
    compared = [(r["bnlab"][c], r["scored"]["bnlab weights"][0].get(c), r["scored"]["replayed weights"][0].get(c))
                for r in results for c, _ in COMPARED
                if not (c == "test_acc_recalibrated" and r["dropout"]) and r["bnlab"].get(c) is not None]
    lines = ["", "## Summary", "",
             f"- Step 1: the losses differ by at most {scientific(max(first))} relative over the {len(results)} cells."]
    if exact:
        flips = [r for r in exact if r["flipped"] and sum(r["flipped"]) > 0]  # a flip or a near tie
        nearer = sum(1 for r in exact if r["float64"] and r["float64"][1] < r["float64"][0])
        lines.append(f"- The states part (> {REPLAY_THRESHOLD:.0e}".replace("e-0", "e-") + " relative) at step "
                     + ", ".join(f"{r['first_exact']}" for r in exact) + f" in {len(exact)} of {len(results)} cells; "
                     f"at that step a ReLU or max-pool decision flipped or was within {NEAR_TIE:.0e}".replace("e-0", "e-")
                     + f" of flipping in {len(flips)} of them, the others part by rounding alone; bnlab's state is the "
                     f"nearer to float64 at that step in {nearer} of {len(exact)}.")
    if compared:
        worst = max(abs(b - a) for a, b, _ in compared if b is not None)
        replayed = max(abs(c - a) for a, _, c in compared if c is not None)
        lines.append(f"- bnlab's final weights scored by PyTorch: {len(compared)} accuracies compared, largest difference "
                     f"{worst:.2f} points. PyTorch's own replayed weights: up to {replayed:.2f} points from bnlab's, "
                     "because once the trajectories part, the two runs are two trainings from the same start.")
    return lines


def machine_lines():
    """Date, CPU model, OpenBLAS core type (the library bnlab links) and PyTorch's version."""
    import ctypes
    import datetime
    import torch

    cpu = "unknown"
    try:
        fields = dict(line.split(":", 1) for line in subprocess.run(["lscpu"], capture_output=True, text=True)
                      .stdout.splitlines() if ":" in line)
        fields = {k.strip(): v.strip() for k, v in fields.items()}
        cpu = f"{fields.get('Model name', 'unknown')} (family {fields.get('CPU family', '?')}, model " \
              f"{fields.get('Model', '?')}), {fields.get('CPU(s)', '?')} CPUs" + \
              (f", {fields['Hypervisor vendor']} guest" if "Hypervisor vendor" in fields else "")
    except OSError:
        pass
    core = "unknown"
    for name in ("libopenblas.so.0", "libopenblas.so"):
        try:
            library = ctypes.CDLL(name)
            library.openblas_get_corename.restype = ctypes.c_char_p
            core = library.openblas_get_corename().decode()
            break
        except (OSError, AttributeError):
            continue
    return [f"- date: {datetime.date.today().isoformat()}",
            f"- CPU: {cpu}; OpenBLAS core type (`openblas_get_corename`): {core}",
            f"- PyTorch {torch.__version__} on the CPU (BLAS: {'MKL' if torch.backends.mkl.is_available() else 'other'}), "
            "one thread, `torch.set_flush_denormal(True)` (bnlab flushes denormals)"]


def replay(args):
    results = []
    for folder in args.folders:
        if not os.path.exists(os.path.join(folder, "steps.safetensors")):
            print(f"replay: {folder}: no steps.safetensors: not a `bnlab export-training` folder", file=sys.stderr)
            return 2
        start = time.perf_counter()
        r = replay_cell(folder)
        from safetensors import safe_open
        with safe_open(os.path.join(folder, "steps.safetensors"), "pt") as f:
            spec = (f.metadata() or {}).get("spec", os.path.basename(os.path.normpath(folder)))
        r["label"] = f"{spec} `{r['cell']['key']}`"
        print(f"  {folder}: {r['steps']} steps replayed and scored in {time.perf_counter() - start:.1f} s; "
              f"first step > {REPLAY_THRESHOLD}: {first_step_text(r)}", file=sys.stderr, flush=True)
        results.append(r)
    header = ["# bnlab's training replayed in PyTorch", "",
              "`make replay`: `bnlab export-training` trains each cell as `bnlab run` does and writes its initial "
              "weights, every step's batch, loss and dropout masks, the whole state after the first steps, the "
              "norms of the state after every step and the final weights (safetensors, PyTorch state_dict names); "
              "`Benchmarks/pytorch_reference.py replay` loads the initial weights into the PyTorch twin and trains "
              "the same batches with the same optimizer. The cells are those of the full specs (not `--quick`). "
              "To regenerate: `make replay` (needs `pip install torch safetensors numpy`).", ""] + machine_lines()
    report, disagreements = replay_report(results, header)
    print(report, end="")
    if args.markdown:
        write_atomically(args.markdown, report)
        print(f"wrote {args.markdown}", file=sys.stderr)
    return 1 if disagreements else 0


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
    b.add_argument("--csv", help="with --bnlab: keep bnlab's CSV (of the last round) at this path")
    b.add_argument("--rounds", type=positive_int, default=1,
                   help="with --bnlab: measure both N times, alternating; report medians over rounds")
    b.add_argument("--markdown", metavar="PATH", help="with --bnlab: also write the side-by-side table to PATH")
    c = commands.add_parser(
        "crosscheck", help="train a spec's grid in PyTorch on bnlab's data and compare with bnlab's table",
        description="Train every cell of SPEC's grid in PyTorch (CPU) on the data `bnlab export-data` writes, "
                    "write OUT/<spec>-pytorch.csv, and compare test_acc_train_mode, test_acc_eval_mode, "
                    "test_acc_recalibrated and test_acc_batch_stats per cell with bnlab's RESULTS/<spec>.csv "
                    "(OUT/<spec>-crosscheck.md): Welch's t test per measure over seeds, 'DISAGREES' when Holm's "
                    "correction for the number of measures rejects equal means at a family-wise 5%.")
    c.add_argument("spec", metavar="SPEC", help="the experiment spec (Experiments/*.spec)")
    c.add_argument("--bnlab", required=True, help="path of the bnlab executable (runs its export-data)")
    c.add_argument("--quick", action="store_true", help="the grid and data of `bnlab run --quick`")
    c.add_argument("--results", metavar="DIR",
                   help="folder of bnlab's table <spec>.csv (default: Results; with --quick: .build/results-quick)")
    c.add_argument("--out", metavar="DIR", default=".build/crosscheck",
                   help="where <spec>-pytorch.csv and <spec>-crosscheck.md go (default: .build/crosscheck)")
    c.add_argument("--jobs", metavar="N", type=positive_int, default=None,
                   help="cells trained at once, one process and one torch thread each (default: the number of cores)")
    r = commands.add_parser(
        "replay", help="train the steps bnlab exported (bnlab export-training) in PyTorch and compare",
        description="For each DIR written by `bnlab export-training`: load the initial weights into the PyTorch "
                    "twin, train the same batches (and dropout masks) with the same optimizer, and report the "
                    "relative loss differences, the first step where the state differs by more than 1e-5, and "
                    "bnlab's final weights scored by PyTorch against bnlab's accuracies (exit 1 when one differs "
                    "by more than 0.1 point).")
    r.add_argument("folders", metavar="DIR", nargs="+", help="folders written by bnlab export-training")
    r.add_argument("--markdown", metavar="PATH", help="also write the report to PATH (Benchmarks/REPLAY.md)")
    args = parser.parse_args(argv)
    if args.command == "replay":
        sys.exit(replay(args))
    if args.command == "bench":
        bench(args)
    elif args.command == "crosscheck":
        sys.exit(crosscheck(args))


def positive_int(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
    return value


if __name__ == "__main__":
    main(sys.argv[1:])
