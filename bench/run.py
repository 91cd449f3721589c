#!/usr/bin/env python3
"""cnnc against ONNX Runtime on the seed networks, measured alternately in one session.

    bench/run.sh [--quick] [--networks lenet5,alexnet,vgg16,resnet18] [--batches 1,8]
                 [--threads 1,2] [--rounds 3] [--seconds S] [--out bench/results.md]

For every network the peer's own description is written once (`ort_bench.py NET --write`):
model.cnn, weights.safetensors, input.npy and ONNX Runtime's expected.npy. The harness checks
that model.cnn has the MACs and parameters of cnnc's models/NET.cnn, runs cnnc on the very
same weights and input and compares with expected.npy, then for each batch and thread count
alternates `ort_bench.py` and `cnnc bench --json` runs (`--rounds` of each) and takes the median
of each side's medians. It also measures the peak FMA rate and VGG-16's direct (--precise)
3x3 layers against it, and writes a markdown table to bench/results.md.

The peer (ort_bench.py, networks.py, netbuild.py, setup.sh) lives outside this repository, in
$CNNC_PEER or ../shared/peer; the Python environment with onnxruntime is made on first use
with the peer's setup.sh in bench/out/venv. Nothing here runs in CI."""
import argparse, os, shlex, subprocess, sys, time

from benchlib import OUT, ROOT, add_timing_options, apply_quick, build_cnnc, check_totals, cpu_name, find_peer, last_json, log, median, python_env, run

TARGETS = {  # (batch, threads) -> the largest cnnc/ORT ratio the issue asks for
    ("lenet5", 1, 2): 0.33, ("alexnet", 1, 2): 1.0, ("resnet18", 1, 2): 1.0, ("vgg16", 1, 2): 0.85,
}
DEFAULT_TARGET = 1.1
DIRECT_TRIALS = 5  # VGG-16's direct layers measured this many times per thread count; the middle one counts


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--networks", default="lenet5,alexnet,resnet18,vgg16")
    add_timing_options(parser, "seconds per run (default 2, 1 for VGG-16 at batch 8)")
    parser.add_argument("--out", default=os.path.join(ROOT, "bench", "results.md"))
    args = parser.parse_args()
    apply_quick(args)
    started = time.time()

    peer = find_peer()
    python = python_env(peer)
    cnnc = build_cnnc()
    networks = [n for n in args.networks.split(",") if n]
    batches = [int(b) for b in args.batches.split(",")]
    threads = [int(t) for t in args.threads.split(",")]
    nets = os.path.join(OUT, "nets")

    # The very networks ONNX Runtime runs, and a correctness check of cnnc on them.
    notes = []
    for net in networks:
        folder = os.path.join(nets, net)
        if not os.path.exists(os.path.join(folder, "weights.safetensors")):
            run([python, os.path.join(peer, "ort_bench.py"), net, "--write", nets, "--seconds", "0"], cwd=peer)
        ours = os.path.join(ROOT, "models", net + ".cnn")
        if os.path.exists(ours):
            theirs_totals, our_totals = check_totals(cnnc, os.path.join(folder, "model.cnn")), check_totals(cnnc, ours)
            same = theirs_totals == our_totals
            notes.append(f"- {net}: the peer's model.cnn has {theirs_totals[0]:,} MACs and {theirs_totals[1]:,} parameters; "
                         f"models/{net}.cnn {'the same' if same else f'{our_totals[0]:,} and {our_totals[1]:,}'}.")
        out = os.path.join(folder, "cnnc-output.npy")
        run([cnnc, "run", os.path.join(folder, "model.cnn"), "--weights", os.path.join(folder, "weights.safetensors"),
             "--input", os.path.join(folder, "input.npy"), "--output", out], stderr=subprocess.DEVNULL)
        diff = run([python, "-c", "import numpy as np, sys; a = np.load(sys.argv[1]); b = np.load(sys.argv[2]); "
                    "print(float(np.abs(a - b).max()), float(np.abs(b).max()))", out, os.path.join(folder, "expected.npy")])
        error, scale = map(float, diff.split())
        ok = error <= 1e-4 * max(1.0, scale)
        notes.append(f"- {net}: cnnc's output on the peer's weights and input differs from ONNX Runtime's by at most "
                     f"{error:.2g} (max |output| {scale:.3g}): {'within' if ok else 'OUTSIDE'} 1e-4·max(1, max|y|).")

    rows, seen = [], {}
    for net in networks:
        folder = os.path.join(nets, net)
        for batch in batches:
            for thread_count in threads:
                seconds = args.seconds or (1.0 if net == "vgg16" and batch >= 8 else 2.0)
                min_runs = "3" if net in ("vgg16", "alexnet") and batch >= 8 else "10"
                ort_times, cnnc_times, cnnc_runs, ort_runs = [], [], 0, 0
                for _ in range(args.rounds):
                    ort = last_json(run([python, os.path.join(peer, "ort_bench.py"), net, "--batch", str(batch),
                                         "--threads", str(thread_count), "--seconds", str(seconds)], cwd=peer))
                    ort_times.append(ort["median_ms"])
                    seen["ort"] = ort.get("onnxruntime", "?")
                    ort_runs += ort["runs"]
                    ours = last_json(run([cnnc, "bench", os.path.join(folder, "model.cnn"), "--weights",
                                          os.path.join(folder, "weights.safetensors"), "--batch", str(batch), "--threads",
                                          str(thread_count), "--seconds", str(seconds), "--min-runs", min_runs, "--json"],
                                         stderr=subprocess.DEVNULL))
                    cnnc_times.append(ours["median_ms"])
                    seen["cnnc"] = ours.get("backend", "?")
                    cnnc_runs += ours["runs"]
                ort_ms, cnnc_ms = median(ort_times), median(cnnc_times)
                target = TARGETS.get((net, batch, thread_count), DEFAULT_TARGET)
                rows.append((net, batch, thread_count, ort_ms, cnnc_ms, cnnc_ms / ort_ms, target, ort_runs, cnnc_runs))
                log(f"{net} batch {batch} threads {thread_count}: ORT {ort_ms:.3f} ms, cnnc {cnnc_ms:.3f} ms, "
                    f"ratio {cnnc_ms / ort_ms:.2f} (target {target})")

    # Peak and VGG-16's direct 3x3 layers, DIRECT_TRIALS times per thread count: the machine is shared,
    # and one measurement can land in a window where other work slows the cores.
    direct = []
    if "vgg16" in networks:
        for thread_count in threads:
            trials = []
            for _ in range(DIRECT_TRIALS):
                report = last_json(run([cnnc, "bench", os.path.join(nets, "vgg16", "model.cnn"), "--weights",
                                        os.path.join(nets, "vgg16", "weights.safetensors"), "--threads", str(thread_count),
                                        "--precise", "--layers", "--json", "--seconds", "2", "--min-runs", "7"],
                                       stderr=subprocess.DEVNULL))
                convs = [l for l in report.get("layers", []) if l["kernel"].startswith("direct") and l["macs"] > 0]
                dense = [l for l in convs if l["name"] != convs[0]["name"]] if convs else []  # the 3-channel first layer aside
                flops = sum(2 * l["macs"] for l in dense)
                seconds = sum(l["ms"] for l in dense) / 1e3
                achieved = flops / seconds / 1e9 if seconds > 0 else 0
                peak, best = report.get("peak_gflops", 0), report.get("peak_best_gflops", 0)
                trials.append((achieved / peak if peak else 0, peak, achieved, dense, achieved / best if best else 0))
            trials.sort(key=lambda t: t[0])
            direct.append((thread_count, trials))

    elapsed = time.time() - started
    write_results(args, rows, direct, notes, elapsed, seen)
    log(f"wrote {args.out} in {elapsed / 60:.1f} minutes")


def write_results(args, rows, direct, notes, elapsed, seen):
    command = "bench/run.sh " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    lines = [
        "# cnnc against ONNX Runtime",
        "",
        f"`{command.strip()}` on {cpu_name()}, {os.cpu_count()} CPUs, finished {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
        f"took {elapsed / 60:.1f} minutes. Each side ran {args.rounds} time(s) per point, alternately; the numbers are "
        "the medians of each side's median latency per batch. ratio = cnnc / ONNX Runtime (below 1: cnnc is faster). "
        f"ONNX Runtime {seen.get('ort', '?')}; cnnc: {seen.get('cnnc', '?')}.",
        "",
        "| network | batch | threads | ONNX Runtime ms | cnnc ms | ratio | target |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for net, batch, threads, ort_ms, cnnc_ms, ratio, target, _, _ in rows:
        mark = "" if ratio <= target else " (missed)"
        lines.append(f"| {net} | {batch} | {threads} | {ort_ms:.3f} | {cnnc_ms:.3f} | {ratio:.2f}{mark} | ≤ {target} |")
    if direct:
        lines += ["", "## VGG-16's 3x3 layers computed directly (`cnnc bench --precise --layers`)", "",
                  f"{DIRECT_TRIALS} runs per thread count. In each, the profiled network runs at least 7 times, each run "
                  "followed by a window of the FMA loop on the same threads; a layer's time is its median over the runs, the "
                  "peak the median of the windows (the clock of this shared machine wanders by 10% and more over seconds, so "
                  "the two are sampled over the same stretch of time). The middle run is the one that counts; the last "
                  "column holds the same runs against their best window instead.", "",
                  "| threads | peak GFLOP/s (middle run) | direct 3x3 layers GFLOP/s (middle run) | share of peak: middle run | every run | every run, of the best window |",
                  "| ---: | ---: | ---: | ---: | --- | --- |"]
        for threads, trials in direct:
            share, peak, achieved, _, _ = trials[len(trials) // 2]
            every = ", ".join(f"{t[0] * 100:.0f}%" for t in trials)
            of_best = ", ".join(f"{t[4] * 100:.0f}%" for t in trials)
            lines.append(f"| {threads} | {peak:.1f} | {achieved:.1f} | {share * 100:.0f}% | {every} | {of_best} |")
        threads, trials = direct[-1]
        _, peak, _, layers, _ = trials[len(trials) // 2]
        lines += ["", f"Per layer ({threads} threads, middle run):", "", "| layer | ms | GFLOP/s | share of peak |", "| --- | ---: | ---: | ---: |"]
        for layer in layers:
            lines.append(f"| {layer['name']} | {layer['ms']:.3f} | {layer['gflops']:.1f} | {layer['gflops'] / peak * 100 if peak else 0:.0f}% |")
    lines += ["", "## Checks", ""] + notes + [""]
    with open(args.out, "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main()
