#!/bin/bash
# AlexNet's shapes layer by layer (models/alexnet.cnn, the single-tower network of the lectures).
# The lecture's answers: 227x227x3 → CONV1 55x55x96 → POOL1 27x27x96 → CONV2 27x27x256 →
# POOL2 13x13x256 → CONV3 13x13x384 → CONV4 13x13x384 → CONV5 13x13x256 → POOL3 6x6x256 →
# FC6 4096 → FC7 4096 → FC8 1000; CONV1 has (11·11·3 + 1)·96 = 34,944 parameters.
set -euo pipefail
cd "$(dirname "$0")/../.."

cnnc check models/alexnet.cnn 2>&1
