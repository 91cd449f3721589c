#!/bin/bash
# "F = 5, S = 2, P = ? (whatever fits)", answered by cnnc with `pad fit`, which shows its search.
# The answers: on 33x33, F = 5 and S = 2 fit with P = 0 → 15x15; then F = 5, S = 3 on 15x15
# does not fit with P = 0 ((15 − 5)/3 = 3.33) but does with P = 1 ((15 − 5 + 2)/3 = 4) → 5x5.
# On 32x32 no P fits F = 5, S = 2 (32 − 5 = 27 is odd); `pad same` would pad 1 and 2.
set -euo pipefail
cd "$(dirname "$0")"

cnnc check --explain 09-pad-fit.cnn 2>&1
echo
if cnnc check 09-pad-fit-32x32.cnn 2>&1; then
    echo "09-pad-fit-32x32.cnn was expected to fail: no symmetric padding fits it" >&2
    exit 1
fi
