#!/bin/bash
# 2x2 average pooling, stride 2, of a 4x4 input.
# The lecture's answer:  1 5 / 6 2
set -euo pipefail
cd "$(dirname "$0")"

# A pool has no weights, but `run` takes a weights file: no-weights.safetensors holds none
# (cnnc init wrote it).
cnnc run 04-average-pooling.cnn --weights no-weights.safetensors --input 04-average-pooling-input.txt \
    --backend reference --show pool
