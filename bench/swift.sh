#!/bin/sh
# The fast Swift kernels against the fast C ones on the seed networks and mobilenet_v2 (issue #22), alternated;
# writes bench/results-swift.md. See bench/swift.py for the options. The full run takes about
# 8 minutes on a 2-core AVX-512 machine, --quick about 3.
set -e
cd "$(dirname "$0")/.."
exec python3 bench/swift.py "$@"
