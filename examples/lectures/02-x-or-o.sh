#!/bin/bash
# The X-or-O toy network on a picture of an X, every step shown, then on a picture of an O.
# The lecture's answers: the "\" feature's map starts 0.77 −0.11 0.11 0.33 0.55 −0.11 0.33
# (7/9, −1/9, 1/9, 3/9, 5/9, −1/9, 3/9; cnnc rounds 7/9 to 0.78 and 5/9 to 0.56 where the
# lecture cuts them), ReLU turns the negatives into 0, and pooling 7x7 → 4x4 starts
# 1.00 0.33 0.55 0.33. The votes: X gets 1.00 from the X picture and O 0.39; the O picture
# votes the other way round.
set -euo pipefail
cd "$(dirname "$0")"

echo "The X picture, layer by layer:"
cnnc run 02-x-or-o.cnn --weights 02-x-or-o-weights.txt --input 02-x-or-o-x.txt \
    --backend reference --show all --top 2
echo
echo "The O picture's votes:"
cnnc run 02-x-or-o.cnn --weights 02-x-or-o-weights.txt --input 02-x-or-o-o.txt --backend reference --top 2
