#!/bin/bash
# The lectures' convolution layer sizes and parameter counts.
# The lecture's answers: 32x32x3 with ten 5x5 filters, stride 1, pad 2 → 32x32x10 and 760
# parameters; stride 2 → 16x16x10; ten 3x3x3 filters → 280 parameters; a 1x1 convolution of
# 56x56x64 with 32 filters → 56x56x32 (2,080 parameters); a 3x3 filter with dilation 2 on
# 7x7 → 3x3.
set -euo pipefail
cd "$(dirname "$0")"

cnnc check --explain 08-conv-10-5x5-pad-2.cnn 08-conv-10-5x5-stride-2.cnn 08-conv-10-3x3.cnn \
    08-conv-1x1.cnn 08-conv-dilation-2.cnn 2>&1
