#!/usr/bin/env python3
"""Writes Tests/Fixtures/activations/torch.txt: PyTorch's float32 value of each activation
cnnc takes from it, on a grid of inputs with NaN, ±inf, ±0, denormals, huge values and the
points where the clamps and exponentials change behaviour. ReferenceInterpreterTests reads
it, so the reference interpreter (and through it every backend) is held to torch.

Needs torch (not the test suite): python3 tools/activation_fixture.py
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUTPUT = os.path.join(ROOT, "Tests", "Fixtures", "activations", "torch.txt")

# The cnnc spelling of each activation, and torch's.
ACTIVATIONS = [
    ("relu6", F.relu6),
    ("hardswish", F.hardswish),
    ("hardsigmoid", F.hardsigmoid),
    ("silu", F.silu),
    ("gelu", F.gelu),
    ("gelu tanh", lambda x: F.gelu(x, approximate="tanh")),
]


def inputs():
    magnitudes = [1e-45, 1e-38, 1e-20, 1e-7, 1e-3, 0.1, 0.5, 1, 2, 2.999, 3, 3.001, 5, 6, 6.001, 7,
                  10, 20, 50, 88, 89, 100, 1e4, 1e10, 1e13, 1e20, 3.4e38]
    values = [float("nan"), float("-inf"), float("inf"), 0.0, -0.0]
    values += [s * m for m in magnitudes for s in (1, -1)]
    values += [float(v) for v in np.linspace(-8, 8, 65)]
    return torch.tensor(values, dtype=torch.float32)


def text(v):
    # numpy prints a float32 with the fewest digits that read back to it; nan, inf, -inf as such.
    return str(np.float32(v))


def main():
    x = inputs()
    lines = [f"# torch {torch.__version__}, float32, made by tools/activation_fixture.py",
             "# activation | input | torch's output"]
    for name, function in ACTIVATIONS:
        y = function(x)
        lines += [f"{name} | {text(a)} | {text(b)}" for a, b in zip(x.tolist(), y.tolist())]
    os.makedirs(os.path.dirname(OUTPUT), exist_ok=True)
    with open(OUTPUT, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {len(lines) - 2} values to {os.path.relpath(OUTPUT, ROOT)}")


if __name__ == "__main__":
    main()
