#!/bin/bash
# 2x2 average pooling, stride 2, of a 4x4 input.
# The lecture's answer:  1 5 / 6 2
set -euo pipefail
cd "$(dirname "$0")"

# A pool has no weights, so `run` needs no --weights file.
cnnc run 04-average-pooling.cnn --input 04-average-pooling-input.txt \
    --backend reference --show pool
