#!/bin/bash
# Edge detection, sharpen, emboss, box blur and Gaussian blur on a 64x64 picture, written as
# pictures (open DIR/index.html), and on a single bright dot, where each kernel shows itself.
# Usage: 06-image-kernels.sh [DIR]   (default ./06-pictures)
# The lecture's answer is the pictures; the dot's answers are the kernels, mirrored:
#   edge      −1 −1 −1 / −1 8 −1 / −1 −1 −1 (times the dot's 16)
#   sharpen    0 −1 0 / −1 5 −1 / 0 −1 0 (times 16)
#   emboss     2 1 0 / 1 1 −1 / 0 −1 −2 (the kernel turned half a turn, times 16)
#   box blur   16/9 = 1.78 in all nine cells
#   Gaussian   1 2 1 / 2 4 2 / 1 2 1
set -euo pipefail
pictures="${1:-06-pictures}"
case "$pictures" in /*) ;; *) pictures="$PWD/$pictures" ;; esac     # relative to where it is run
cd "$(dirname "$0")"

cnnc run 06-image-kernels.cnn --weights 06-image-kernels-weights.txt --input 06-picture.pgm \
    --backend reference --pictures "$pictures"
echo "pictures of every layer: $pictures/index.html"
echo
cnnc run 06-image-kernels-dot.cnn --weights 06-image-kernels-weights.txt --input 06-image-kernels-dot.txt \
    --backend reference --show edge,sharpen,emboss,boxblur,gaussian
