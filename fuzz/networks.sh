#!/bin/sh
# fuzz/networks.sh SECONDS [SEED] — random valid networks through every backend against the
# reference interpreter, for SECONDS; each disagreement is shrunk to a minimal .cnn.
#
#   SECONDS  how long to draw new networks (a shrink in progress at the end finishes first)
#   SEED     the first seed (default 1); seed N always draws the same network and data, so
#            `.build/release/cnnc-fuzz-networks show N` prints it again
#
# Builds cnnc-fuzz-networks in release mode (Sources/FuzzNetworks, Sources/NetworkFuzz) and
# runs it on two workers (FUZZ_JOBS to change). Every network runs in a child process
# through the fast C kernels on 1, 2 and 3 threads (the planner's batch schedule, then image
# by image on 1, 2 and 3, step by step on 2, every inverted residual fused on 1, 2 and 3),
# --precise, the plain C kernels, the other vector units' blockings, and the fast Swift
# kernels (1 and 2 threads) and plain Swift ones.
# A failure is written, minimized, to fuzz/findings/seed-N.cnn (a .cnn with a `# fuzz-case`
# header naming its batch, data seed and NaN cells); copy it to Tests/Fixtures/fuzz/ to make
# it a regression test. The exit status is 1 when anything disagreed.
set -eu

seconds=${1:-}
seed=${2:-1}
case $seconds in
    ''|*[!0-9]*) echo "usage: fuzz/networks.sh SECONDS [SEED]" >&2; exit 2 ;;
esac
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
swift build -c release --product cnnc-fuzz-networks >&2
exec .build/release/cnnc-fuzz-networks run "$seconds" --seed "$seed" --findings fuzz/findings --jobs "${FUZZ_JOBS:-2}"
