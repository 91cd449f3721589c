#!/bin/sh
# cnnc against ONNX Runtime on LeNet-5, AlexNet, ResNet-18 and VGG-16 at batch 1 and 8, on 1 and
# 2 threads, measured alternately; writes bench/results.md. See bench/run.py for the options.
# The full run takes about 20-30 minutes on a 2-core machine; --quick about half that.
set -e
cd "$(dirname "$0")/.."
exec python3 bench/run.py "$@"
