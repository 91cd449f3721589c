#!/bin/bash
# The 5x5 image convolved with the 3x3 "X" filter.
# The lecture's answer:  4 3 4 / 2 4 3 / 2 3 4
set -euo pipefail
cd "$(dirname "$0")"

cnnc run 01-convolution.cnn --weights 01-convolution-weights.txt --input 01-convolution-image.txt \
    --backend reference --show c1
