#!/bin/sh
# cnnc against ONNX Runtime on torchvision's five mobile networks (issue #18) at batch 1 and 8, on
# 1 and 2 threads, measured alternately, and their depthwise layers against the read bandwidth;
# writes bench/results-mobile.md. See bench/mobile.py for the options and what it needs.
# The full run takes about 10 minutes on a 2-core machine, --quick about 3; the first run also
# exports the five networks (about 2.5 minutes more).
set -e
cd "$(dirname "$0")/.."
exec python3 bench/mobile.py "$@"
