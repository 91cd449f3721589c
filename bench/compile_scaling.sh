#!/usr/bin/env bash
# How `cnnc compile` scales with the number of layers (issue #15): seconds for chains of 2,500 to
# 20,000 relu layers (best of 3), the 20,000/5,000 ratio (linear is 4, the bound 5), and the bytes
# of C and Swift for 3,000 `fc 16 relu`, 10,000 `fc 16` and 1,000 convolutions.
# Usage: bench/compile_scaling.sh   (builds cnnc in release first)
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product cnnc >/dev/null
cnnc="$PWD/.build/release/cnnc"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
gen() { echo "network $1"; echo "input $2"; for ((i = 0; i < $3; i++)); do echo "$4"; done; }

best_seconds() {   # FILE: the best of three `cnnc compile` wall times
  local best=""
  for _ in 1 2 3; do
    rm -rf "$work/o"; mkdir "$work/o"
    local start end t
    start=$(date +%s.%N); "$cnnc" compile "$1" -o "$work/o" >/dev/null; end=$(date +%s.%N)
    t=$(echo "$end - $start" | bc -l)
    if [ -z "$best" ] || [ "$(echo "$t < $best" | bc -l)" = 1 ]; then best=$t; fi
  done
  printf '%.3f' "$best"
}

echo "relu layers   seconds (cnnc compile, fast C, best of 3)"
declare -A took
for n in 2500 5000 10000 20000; do
  gen relus 8x8x16 "$n" relu > "$work/relu$n.cnn"
  took[$n]=$(best_seconds "$work/relu$n.cnn")
  printf '%11d   %s\n' "$n" "${took[$n]}"
done
printf 'ratio 20,000 / 5,000: %.2f (linear: 4; bound: 5)\n\n' "$(echo "${took[20000]} / ${took[5000]}" | bc -l)"

gen fcrelu 16 3000 "fc 16 relu" > "$work/fcrelu3000.cnn"
gen fc 16 10000 "fc 16" > "$work/fc10000.cnn"
gen convs 8x8x16 1000 "conv 16 3x3 pad 1 relu" > "$work/conv1000.cnn"
echo "network                 emitted                 bytes"
for f in fcrelu3000 fc10000 conv1000; do
  for how in "fast C:" "plain C:--plain" "Swift:--emit swift"; do
    rm -rf "$work/o"; mkdir "$work/o"
    # shellcheck disable=SC2086
    "$cnnc" compile "$work/$f.cnn" ${how#*:} -o "$work/o" >/dev/null
    printf '%-22s  %-22s  %s\n' "$f" "${how%%:*}" "$(cat "$work"/o/* | wc -c)"
  done
done
