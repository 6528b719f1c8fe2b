#!/usr/bin/env python3
"""Compare two runs of one spec made under two OpenBLAS kernel sets (OPENBLAS_CORETYPE).

    python3 Benchmarks/compare_kernel_sets.py A/small-batch-collapse-summary.csv B/small-batch-collapse-summary.csv \
        --names Cooperlake Haswell > Benchmarks/KERNEL-SETS.md-part

For every row (cell of the grid) and every measure with a 95% CI in both runs, it reports the means and whether
each run's mean lies inside the other run's 95% confidence interval (mean +- ci95, Student t over seeds).
The same seeds, data and initial weights go into both runs; only the rounding of the GEMMs differs, so this
measures how far rounding alone (a flipped max-pool or ReLU decision, and the chaotic training after it)
moves the numbers, against the seed-to-seed spread the intervals describe.
"""
import argparse
import csv

MEASURES = ["train_acc_running", "test_acc_train_mode", "test_acc_eval_mode", "test_acc_recalibrated",
            "test_acc_batch_stats", "train_mode_minus_eval_mode"]


def rows(path):
    with open(path) as f:
        table = list(csv.DictReader(f))
    settings = list(table[0].keys())[1:list(table[0].keys()).index("seeds")]
    return settings, {tuple(r[s] for s in settings): r for r in table}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--names", nargs=2, default=["A", "B"])
    args = parser.parse_args()
    settings, a = rows(args.a)
    _, b = rows(args.b)
    shown = [s for s in settings if len({k[settings.index(s)] for k in a}) > 1]
    print(f"| {' | '.join(shown)} | measure | {args.names[0]} | {args.names[1]} | difference | each inside the other's CI |")
    print("|" + "---|" * (len(shown) + 5))
    total = inside = 0
    for key, ra in a.items():
        rb = b.get(key)
        if rb is None:
            continue
        for m in MEASURES:
            try:
                ma, ca = float(ra[m + "_mean"]), float(ra[m + "_ci95"])
                mb, cb = float(rb[m + "_mean"]), float(rb[m + "_ci95"])
            except (KeyError, ValueError):
                continue
            total += 1
            ok = abs(ma - mb) <= ca and abs(ma - mb) <= cb
            inside += ok
            values = [key[settings.index(s)] for s in shown]
            print(f"| {' | '.join(values)} | {m} | {ma:.2f} ± {ca:.2f} | {mb:.2f} ± {cb:.2f} | {ma - mb:+.2f} | "
                  f"{'yes' if ok else '**no**'} |")
    print()
    print(f"{inside} of {total} means lie inside the other run's 95% CI (and the other's inside this one's).")


if __name__ == "__main__":
    main()
