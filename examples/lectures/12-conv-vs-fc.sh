#!/bin/bash
# Why convolutions: the same 4,704 outputs from a 32x32x3 image, as a conv layer and as an fc layer.
# The lecture's answer: the CONV layer has 456 parameters; the FC layer 3,072 × 4,704 ≈ 14
# million weights (14,455,392 parameters with its 4,704 biases).
set -euo pipefail
cd "$(dirname "$0")"

cnnc check --explain 12-conv-layer.cnn 12-fc-layer.cnn 2>&1
