#!/usr/bin/env python3
"""Safetensors files written by Python's safetensors, for Tests/NNTests/SafeTensorsTests.swift.

    python3 scripts/make_safetensors_fixture.py [--out DIR]      (needs torch and safetensors)

Writes into Tests/NNTests/Fixtures/ (byte-identical on a rerun):

  safetensors_dtypes.safetensors   fixed small tensors of every element type bnlab reads and writes
      (F32, I64, I32, U8), with a scalar (shape []), an empty tensor, names whose sorted order differs
      from their numeric order, a name that needs JSON escapes, float32 specials, and one metadata key.
      The Swift writer must produce these bytes from the same values (TENSORS below, repeated in the
      test), and the reader must read them back.
  state_dict_cnn.safetensors       `state_dict()` of a small nn.Sequential after 3 SGD steps in train
      mode (running statistics and num_batches_tracked = 3 are not the initial ones):
      Conv2d(1, 2, 3, padding=1), BatchNorm2d(2), ReLU, MaxPool2d(2), Flatten, Dropout(0.5),
      Linear(8, 4), BatchNorm1d(4), ReLU, Linear(4, 3).
  state_dict_cnn_io.safetensors    x (4, 1, 4, 4), a fixed input, and eval_logits (4, 3), the model's
      output for it in eval mode.
"""
import argparse
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file

DEFAULT_OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "NNTests", "Fixtures")


def dtype_tensors():
    """The tensors of safetensors_dtypes.safetensors."""
    specials = torch.tensor([0x7F800000, -0x00800000, 0x00000001, 0x7FC00000], dtype=torch.int32).view(torch.float32)
    return {
        "weight": torch.tensor([[1.5, -2.25, 3.0], [0.1, -0.0, 1e-30]], dtype=torch.float32),
        "10.bias": torch.tensor([0.5, -0.5], dtype=torch.float32),
        "2.bias": torch.tensor([7.0], dtype=torch.float32),
        "specials": specials,  # inf, -inf, the smallest denormal, NaN (0x7fc00000)
        "num_batches_tracked": torch.tensor(7, dtype=torch.int64),
        "big": torch.tensor([2 ** 40, -3], dtype=torch.int64),
        "indices": torch.tensor([0, -1, 2 ** 31 - 1, -2 ** 31], dtype=torch.int32),
        "mask": torch.tensor([[0, 1, 1], [1, 0, 255]], dtype=torch.uint8),
        "empty": torch.zeros(0, 3, dtype=torch.float32),
        "na\u00efve \"quoted\"\n\t\\": torch.tensor([1.0], dtype=torch.float32),
    }


def cnn():
    return nn.Sequential(
        nn.Conv2d(1, 2, 3, padding=1), nn.BatchNorm2d(2), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Dropout(0.5), nn.Linear(8, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 3))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=DEFAULT_OUT)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(1)

    save_file(dtype_tensors(), os.path.join(args.out, "safetensors_dtypes.safetensors"), metadata={"format": "pt"})

    torch.manual_seed(0)
    model = cnn()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model.train()
    for _ in range(3):
        x = torch.randn(4, 1, 4, 4) * 2 + 1
        y = torch.randint(0, 3, (4,))
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
    save_file(model.state_dict(), os.path.join(args.out, "state_dict_cnn.safetensors"))
    x = torch.randn(4, 1, 4, 4) * 2 + 1
    model.eval()
    with torch.no_grad():
        logits = model(x)
    save_file({"x": x, "eval_logits": logits}, os.path.join(args.out, "state_dict_cnn_io.safetensors"))
    print(f"wrote 3 files to {args.out} (torch {torch.__version__})")


if __name__ == "__main__":
    main()
