#!/usr/bin/env python3
"""Writes Datasets/tabular3.csv.gz: a tabular 3-class data set for seed 004's case (case 10 of #14).

    python3 scripts/make_tabular3.py [--out PATH]

Deterministic (Python's own random.Random(4), no numpy; gzip with mtime 0): a rerun writes the same bytes.

The data: 4,500 rows, 1,500 per class, interleaved (row i has label i % 3); per row the label, then
12 features, a header line `label,x0,...,x11`. Each row is x = A z + b with z ~ N(m_label, I_12):
the class means m_0, m_1, m_2 are the corners of an equilateral triangle of side 2.5 in the first
two coordinates of z (0 in the other ten, which are noise), A is a fixed 12x12 matrix of N(0, 1)
entries and b a fixed offset of N(0, 3^2) entries, so the features are correlated, on different
scales and offsets (bnlab's `normalize train` standardizes them per feature). An invertible A keeps
the classes' overlap: the Bayes classifier (the nearest mean in z) is right about 83% of the time
(the script prints its accuracy on the file), so no model can approach 100%.
"""
import argparse
import gzip
import io
import math
import os
import random

ROWS, FEATURES, CLASSES, SIDE, SEED = 4500, 12, 3, 2.5, 4
DEFAULT_OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Datasets", "tabular3.csv.gz")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=DEFAULT_OUT)
    args = parser.parse_args()
    rng = random.Random(SEED)
    mixing = [[rng.gauss(0, 1) for _ in range(FEATURES)] for _ in range(FEATURES)]
    offset = [rng.gauss(0, 3) for _ in range(FEATURES)]
    radius = SIDE / math.sqrt(3)  # circumradius of the triangle
    means = [[radius * math.cos(2 * math.pi * k / CLASSES), radius * math.sin(2 * math.pi * k / CLASSES)]
             + [0.0] * (FEATURES - 2) for k in range(CLASSES)]
    text = io.StringIO(newline="")
    text.write(",".join(["label"] + [f"x{j}" for j in range(FEATURES)]) + "\n")
    bayes_correct = 0
    for i in range(ROWS):
        label = i % CLASSES
        z = [means[label][j] + rng.gauss(0, 1) for j in range(FEATURES)]
        x = [sum(mixing[r][j] * z[j] for j in range(FEATURES)) + offset[r] for r in range(FEATURES)]
        nearest = min(range(CLASSES), key=lambda k: sum((z[j] - means[k][j]) ** 2 for j in range(2)))
        bayes_correct += nearest == label
        text.write(",".join([str(label)] + [f"{v:.4f}" for v in x]) + "\n")
    with open(args.out, "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as f:
            f.write(text.getvalue().encode("ascii"))
    print(f"{os.path.relpath(args.out)}: {ROWS} rows, {FEATURES} features, {CLASSES} classes; "
          f"Bayes (nearest class mean) accuracy {100 * bayes_correct / ROWS:.2f}%")


if __name__ == "__main__":
    main()
