#!/bin/bash
# 2x2 max pooling, stride 2, of a 4x4 input.
# The lecture's answer:  6 8 / 3 4
set -euo pipefail
cd "$(dirname "$0")"

# A pool has no weights, so `run` needs no --weights file.
cnnc run 03-max-pooling.cnn --input 03-max-pooling-input.txt \
    --backend reference --show pool
