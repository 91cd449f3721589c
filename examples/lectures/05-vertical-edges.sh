#!/bin/bash
# The vertical edge filter [1 0 −1] (three rows) on two images.
# The lecture's answers: on the 5x5 image the map's first row is 6 −9 −8; on the 8x8 image
# of 10s and 0s the 6x6 map is 0 0 30 30 0 0 in every row: the edge is the two middle columns.
set -euo pipefail
cd "$(dirname "$0")"

cnnc run 05-vertical-edges.cnn --weights 05-vertical-edges-weights.txt --input 05-vertical-edges-5x5.txt \
    --backend reference --show edge
echo
cnnc run 05-vertical-edges-8x8.cnn --weights 05-vertical-edges-weights.txt --input 05-vertical-edges-8x8.txt \
    --backend reference --show edge
