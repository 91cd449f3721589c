#!/bin/bash
# A 7x7 input, a 3x3 filter: the output size (N − F)/S + 1 for strides 1, 2 and 3, and with
# a padding of 1.
# The lecture's answers: stride 1 → 5x5, stride 2 → 3x3, stride 3 does not fit: (7 − 3)/3 + 1
# = 2.33 (cnnc warns and floors it to 2); stride 1 with pad 1 → 7x7, the input's size.
set -euo pipefail
cd "$(dirname "$0")"

cnnc check --explain 07-stride-1.cnn 07-stride-2.cnn 07-stride-3.cnn 07-pad-1.cnn 2>&1
