#!/bin/sh
# fuzz/run.sh TARGET [SECONDS] — build a libFuzzer target with AddressSanitizer and run it.
#
#   TARGET   parser (a .cnn file through parse, check and every report), safetensors
#            (WeightFile.parse), npy (NPY.parse), netpbm (NetPBM.parse) or onnx (an ONNX
#            model through `cnnc import`: ONNXImport.decode, translate, then the checker)
#   SECONDS  how long to fuzz (default 60)
#
# SwiftPM cannot build fuzz targets beside the package, so this compiles the modules a target
# needs (Parser, ShapeCheck, and for the readers the Runtime files that hold them) as static
# libraries with -sanitize=fuzzer,address, links them with fuzz/TARGET.swift, seeds a corpus
# from Tests/Fixtures and models/, and runs libFuzzer. Everything goes under .build-fuzz/
# (FUZZ_WORK to change it); the corpus grows there from run to run, and a crash is saved as
# .build-fuzz/artifacts/TARGET-crash-… (reproduce: .build-fuzz/bin/fuzz-TARGET FILE).
set -eu

target=${1:-}
seconds=${2:-60}
case $target in
    parser) max_len=16384 ;;
    safetensors) max_len=16384 ;;
    npy) max_len=8192 ;;
    netpbm) max_len=8192 ;;
    onnx) max_len=65536 ;;
    *) echo "usage: fuzz/run.sh parser|safetensors|npy|netpbm|onnx [SECONDS]" >&2; exit 2 ;;
esac

root=$(cd "$(dirname "$0")/.." && pwd)
work=${FUZZ_WORK:-$root/.build-fuzz}
modules=$work/modules
mkdir -p "$modules" "$work/bin" "$work/corpus/$target" "$work/seeds/$target" "$work/artifacts"

flags="-sanitize=fuzzer,address -parse-as-library -O -g -package-name cnnc"
# ld.gold warns about every sanitizer helper symbol; only real errors are worth showing.
quiet() { "$@" 2>&1 | grep -v -e "ld.gold: warning: Cannot export local symbol" -e "^$" >&2 || true; }

build_module() {  # NAME FILE…
    name=$1
    shift
    echo "fuzz: compiling $name" >&2
    quiet swiftc $flags -I "$modules" -emit-library -static -module-name "$name" \
        -emit-module -emit-module-path "$modules/$name.swiftmodule" "$@" -o "$modules/lib$name.a"
    test -f "$modules/lib$name.a"
}

cd "$root"
rm -f "$modules"/*.a
build_module Parser Sources/Parser/*.swift
build_module ShapeCheck Sources/ShapeCheck/*.swift
libraries="$modules/libShapeCheck.a $modules/libParser.a"
if [ "$target" != parser ]; then
    # The readers and what they use; the rest of Runtime (interpreter, compiled backends) is not needed.
    build_module Runtime Sources/Runtime/SafeTensors.swift Sources/Runtime/NPY.swift Sources/Runtime/NetPBM.swift \
        Sources/Runtime/FileIO.swift Sources/Runtime/InputFile.swift Sources/Runtime/MemoryBudget.swift \
        Sources/Runtime/OutputWriter.swift Sources/Runtime/SignalCleanup.swift Sources/Runtime/Tensor.swift
    libraries="$modules/libRuntime.a $libraries"
fi
if [ "$target" = onnx ]; then
    build_module Interchange Sources/Interchange/*.swift
    libraries="$modules/libInterchange.a $libraries"
fi
binary=$work/bin/fuzz-$target
rm -f "$binary"
echo "fuzz: linking $binary" >&2
quiet swiftc $flags -I "$modules" "fuzz/$target.swift" $libraries -o "$binary"
test -x "$binary"

# Seeds: every fixture and model of the target's kind, plus small hand-made files.
seeds=$work/seeds/$target
rm -f "$seeds"/*
n=0
seed() { n=$((n + 1)); cp "$1" "$seeds/$n-$(basename "$1")"; }
case $target in
    parser)
        for f in models/*.cnn Tests/Fixtures/diagnostics/*.cnn Tests/Fixtures/conformance/*/*.cnn; do seed "$f"; done ;;
    safetensors)
        for f in Tests/Fixtures/conformance/*/*.safetensors; do seed "$f"; done ;;
    npy)
        for f in Tests/Fixtures/conformance/*/*.npy; do seed "$f"; done ;;
    netpbm)
        printf 'P2\n# a comment\n3 2\n255\n0 128 255\n1 2 3\n' > "$seeds/p2.pgm"
        printf 'P3\n2 1\n65535\n0 1 2 65535 100 7\n' > "$seeds/p3.ppm"
        printf 'P5\n2 2\n255\n\001\002\003\004' > "$seeds/p5.pgm"
        printf 'P6 1 1 65535 \000\001\000\002\000\003' > "$seeds/p6.ppm"
        printf 'P5\n2 1\n65535\n\377\377\000\000' > "$seeds/p5-16.pgm" ;;
    onnx)
        for f in Tests/Fixtures/onnx/*.onnx; do seed "$f"; done ;;
esac

dictionary=fuzz/$target.dict
[ "$target" = parser ] && dictionary=fuzz/cnn.dict
echo "fuzz: running $target for $seconds s (corpus $work/corpus/$target)" >&2
exec "$binary" -max_total_time="$seconds" -max_len="$max_len" -timeout=10 -rss_limit_mb=4096 \
    -print_final_stats=1 -dict="$dictionary" -artifact_prefix="$work/artifacts/$target-" \
    "$work/corpus/$target" "$seeds"
