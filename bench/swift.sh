#!/bin/sh
# The fast Swift kernels against the fast C ones on the seed networks (issue #22), alternated;
# writes bench/results-swift.md. See bench/swift.py for the options. The full run takes about
# 15 minutes on a 2-core machine, --quick about 5.
set -e
cd "$(dirname "$0")/.."
exec python3 bench/swift.py "$@"
