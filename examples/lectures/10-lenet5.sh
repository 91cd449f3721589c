#!/bin/bash
# LeNet-5's layers and parameters (models/lenet5.cnn).
# The lecture's table: C1 156 parameters, C3 2,416, F5 48,120, F6 10,164, the output 850;
# 61,706 in all.
set -euo pipefail
cd "$(dirname "$0")/../.."

cnnc check models/lenet5.cnn 2>&1
