#!/usr/bin/env python3
"""cnnc against ONNX Runtime on torchvision's mobile networks (issue #18), measured alternately.

    bench/mobile.sh [--quick] [--networks mobilenet_v2,...] [--batches 1,8] [--threads 1,2]
                    [--rounds 3] [--seconds S] [--layer-threads 1,2] [--label TEXT]
                    [--out bench/results-mobile.md]

For every network, once (cached in bench/out/mobile/NET/, skipped when the files exist): torchvision's
model (weights=None, torch.manual_seed(0), then tools/torchvision/tvio.randomize as check_models.py
does, in eval mode) is exported with torch.onnx.export, one static-batch model-bB.onnx per batch; its
state_dict is saved as weights.safetensors (what models/torchvision/NET.cnn loads), a random
input-bB.npy and torch's output expected-bB.npy. Both cnnc (`cnnc run models/torchvision/NET.cnn`)
and ONNX Runtime (bench/ort_onnx.py on model-bB.onnx) must match expected-bB.npy within
1e-4·max(1, max|y|). Then for each batch and thread count, `--rounds` alternating runs of
ort_onnx.py and `cnnc bench --json`, the median of each side's medians; the issue's targets are
cnnc/ORT <= 0.6 at batch 1 on two threads, <= 0.8 otherwise. Last, `cnnc bench --layers --json`
at batch 1 gives each depthwise layer's time, set against the read bandwidth bench/read_bandwidth.c
measures (DRAM and L2, compiled here with clang).

Needs: python3 with torch, torchvision, numpy, onnx and onnxscript (`pip install onnx onnxscript`)
for the export; the peer's environment with onnxruntime (bench/out/venv, made with
$CNNC_PEER/setup.sh as bench/run.py does); clang (/opt/swift/usr/bin/clang or cc). CNNC=/path/cnnc
picks the binary; otherwise a release build in .build-bench. Nothing here runs in CI."""
import argparse, os, re, shlex, shutil, subprocess, sys, time

from benchlib import OUT, ROOT, add_timing_options, apply_quick, build_cnnc, check_report, cpu_name, find_peer, last_json, log, median, python_env, run

NETWORKS = "mobilenet_v2,mobilenet_v3_large,mnasnet1_0,efficientnet_b0,shufflenet_v2_x1_0"
HERE = os.path.dirname(os.path.abspath(__file__))
MOBILE = os.path.join(OUT, "mobile")


def target(batch, threads):
    return 0.6 if (batch, threads) == (1, 2) else 0.8


def files(folder, batch):
    return {k: os.path.join(folder, f"{k}-b{batch}.{ext}") for k, ext in
            (("model", "onnx"), ("input", "npy"), ("expected", "npy"), ("cnnc", "npy"), ("ort", "npy"))}


def export(net, batches, folder):
    """torchvision's model with random weights as ONNX (one file per batch), safetensors, input and output."""
    weights = os.path.join(folder, "weights.safetensors")
    wanted = [weights] + [files(folder, b)[k] for b in batches for k in ("model", "input", "expected")]
    if all(os.path.exists(p) for p in wanted):
        return weights
    import torch  # only here, so --help and a cached run need no torch
    sys.path.insert(0, os.path.join(ROOT, "tools", "torchvision"))
    import make_models, tvio
    os.makedirs(folder, exist_ok=True)
    torch.manual_seed(0)
    model, _ = make_models.build(net)
    side = make_models.input_size(net)
    tvio.randomize(model, seed=1, side=side)  # eval mode, random batchnorm statistics
    tvio.save_safetensors(model.state_dict(), weights)
    for batch in batches:
        paths = files(folder, batch)
        x = tvio.random_input(batch, side, seed=2)
        with torch.no_grad():
            y = model(x)
        tvio.save_npy(x, paths["input"])
        tvio.save_npy(y, paths["expected"])
        log(f"exporting {net} at batch {batch} to {paths['model']}")
        torch.onnx.export(model, (x,), paths["model"], input_names=["input"], output_names=["output"])
    versions = f"torch {torch.__version__}, torchvision {make_models.torchvision.__version__}"
    with open(os.path.join(folder, "versions.txt"), "w") as f:
        f.write(versions + "\n")
    return weights


def compare(got, want):
    import numpy as np
    a, b = np.load(got), np.load(want)
    if a.shape != b.shape:
        return None, None, f"shape {a.shape}, torch {b.shape}"
    return float(np.abs(a - b).max()), float(np.abs(b).max()), None


def check(cnnc, python, net, batch, folder, weights):
    """cnnc's and ONNX Runtime's output against torch's, as notes for the results file."""
    paths = files(folder, batch)
    model = os.path.join(ROOT, "models", "torchvision", net + ".cnn")
    run([cnnc, "run", model, "--weights", weights, "--input", paths["input"], "--output", paths["cnnc"]],
        stderr=subprocess.DEVNULL)
    run([python, os.path.join(HERE, "ort_onnx.py"), paths["model"], "--input", paths["input"], "--output", paths["ort"]])
    notes, ok = [], True
    for side, got in (("cnnc", paths["cnnc"]), ("ONNX Runtime", paths["ort"])):
        error, scale, problem = compare(got, paths["expected"])
        if problem:
            ok = False
            notes.append(f"- {net}, batch {batch}: {side}'s output has {problem}: FAILED.")
            continue
        within = error <= 1e-4 * max(1.0, scale)
        ok = ok and within
        notes.append(f"- {net}, batch {batch}: {side} differs from torch by at most {error:.2g} "
                     f"(max |y| {scale:.3g}): {'within' if within else 'OUTSIDE'} 1e-4·max(1, max|y|).")
    return ok, notes


def read_bandwidth():
    """{(level, threads): GB/s} from bench/read_bandwidth.c, compiled with the toolchain's clang."""
    compiler = next((c for c in ("/opt/swift/usr/bin/clang", shutil.which("clang"), shutil.which("cc")) if c and os.path.exists(c)), None)
    if compiler is None:
        log("mobile: no C compiler (clang or cc); the depthwise table goes without bandwidth shares")
        return {}
    binary = os.path.join(MOBILE, "read_bandwidth")
    os.makedirs(MOBILE, exist_ok=True)
    run([compiler, "-O2", "-march=native", "-pthread", os.path.join(HERE, "read_bandwidth.c"), "-o", binary])
    found = {}
    for line in run([binary]).splitlines():
        fields = dict(f.split("=", 1) for f in line.split()[1:] if "=" in f)
        if line.startswith("read_bandwidth") and "level" in fields:
            found[(fields["level"], int(fields["threads"]))] = float(fields["gb_per_s"])
    return found


def depthwise_layers(cnnc, net, weights, threads, seconds):
    """Each depthwise step of `cnnc bench --layers` at batch 1: name, shapes, MACs, ms, bytes moved.

    Bytes per image, 4 per float: the input read once, the output written once, the kernel
    (C·k·k) and one shift per channel (the bias or the folded batchnorm). A step that fused a
    batchnorm and an activation counts no extra traffic for them; the reorders around a layer
    are steps of their own and are not counted."""
    path = os.path.join(ROOT, "models", "torchvision", net + ".cnn")
    report = check_report(cnnc, path)
    shapes = {"input": report["input"]}
    layers = {}
    for layer in report["layers"]:
        shapes[layer["name"]] = layer["output"]
        layers[layer["name"]] = layer
    profile = last_json(run([cnnc, "bench", path, "--weights", weights, "--threads", str(threads), "--layers", "--json",
                             "--seconds", str(seconds)], stderr=subprocess.DEVNULL))
    rows, total_ms = [], sum(step["ms"] for step in profile.get("layers", []))
    # A fused inverted residual's depthwise never writes its output: its bytes are not this table's.
    fused_blocks = sum(1 for step in profile.get("layers", []) if step["kernel"].startswith("fused"))
    for step in profile.get("layers", []):
        layer = layers.get(step["name"].split("+")[0])
        if not layer or layer["op"] != "depthwise":
            continue
        source, out = shapes[layer["inputs"][0]], layer["output"]
        k = re.search(r"(\d+)x(\d+)", layer["description"])
        kh, kw = (int(k.group(1)), int(k.group(2))) if k else (1, 1)
        c = out["depth"]
        floats = c * source["width"] * source["height"] + c * out["width"] * out["height"] + c * kh * kw + c
        # A step that also computes another conv (a fused pointwise, say) moves more than this counts: flag it.
        fused = [n for n in step["name"].split("+")[1:] if layers.get(n, {}).get("op") in ("conv", "depthwise", "fc")]
        kernel = step["kernel"] + (f" (+ {', '.join(fused)}: bytes undercounted)" if fused else "")
        rows.append({"name": layer["name"], "kernel": kernel, "shape": f"{source['shape']} → {out['shape']}",
                     "window": f"{kh}x{kw}" + (" s2" if "stride 2" in layer["description"] else ""),
                     "macs": step["macs"], "ms": step["ms"], "bytes": 4 * floats})
    return rows, total_ms, profile.get("median_ms", 0), profile.get("peak_gflops"), fused_blocks


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--networks", default=NETWORKS)
    add_timing_options(parser, "seconds per run (default 2)")
    parser.add_argument("--layer-threads", default="1,2", help="thread counts of the depthwise table (batch 1); '' for none")
    parser.add_argument("--label", default="", help="what cnnc binary this is, for the results' title")
    parser.add_argument("--out", default=os.path.join(ROOT, "bench", "results-mobile.md"))
    args = parser.parse_args()
    apply_quick(args)
    args.seconds = args.seconds or 2.0
    started, load_before = time.time(), os.getloadavg()

    peer = find_peer()
    python = python_env(peer)
    cnnc = build_cnnc()
    networks = [n for n in args.networks.split(",") if n]
    batches = [int(b) for b in args.batches.split(",")]
    threads = [int(t) for t in args.threads.split(",")]
    layer_threads = [int(t) for t in args.layer_threads.split(",") if t]

    notes, weights, all_ok = [], {}, True
    for net in networks:
        folder = os.path.join(MOBILE, net)
        weights[net] = export(net, batches, folder)
        for batch in batches:
            ok, lines = check(cnnc, python, net, batch, folder, weights[net])
            all_ok = all_ok and ok
            notes += lines

    rows, seen = [], {}
    for net in networks:
        model = os.path.join(ROOT, "models", "torchvision", net + ".cnn")
        for batch in batches:
            onnx_file = files(os.path.join(MOBILE, net), batch)["model"]
            for thread_count in threads:
                ort_times, cnnc_times = [], []
                for _ in range(args.rounds):
                    ort = last_json(run([python, os.path.join(HERE, "ort_onnx.py"), onnx_file, "--batch", str(batch),
                                         "--threads", str(thread_count), "--seconds", str(args.seconds)]))
                    ort_times.append(ort["median_ms"])
                    seen["ort"] = ort.get("onnxruntime", "?")
                    ours = last_json(run([cnnc, "bench", model, "--weights", weights[net], "--batch", str(batch),
                                          "--threads", str(thread_count), "--seconds", str(args.seconds), "--json"],
                                         stderr=subprocess.DEVNULL))
                    cnnc_times.append(ours["median_ms"])
                    seen["cnnc"] = ours.get("backend", "?")
                ort_ms, cnnc_ms = median(ort_times), median(cnnc_times)
                rows.append((net, batch, thread_count, ort_ms, cnnc_ms, cnnc_ms / ort_ms, target(batch, thread_count)))
                log(f"{net} batch {batch} threads {thread_count}: ORT {ort_ms:.3f} ms, cnnc {cnnc_ms:.3f} ms, "
                    f"ratio {cnnc_ms / ort_ms:.2f} (target {target(batch, thread_count)})")

    bandwidth = read_bandwidth() if layer_threads else {}
    depthwise, peaks = [], {}
    for thread_count in layer_threads:
        for net in networks:
            layers, steps_ms, median_ms, peak, fused = depthwise_layers(cnnc, net, weights[net], thread_count, args.seconds)
            depthwise.append((thread_count, net, layers, steps_ms, median_ms, fused))
            if peak:
                peaks.setdefault(thread_count, []).append(peak)
    # The best ratio cnnc could reach: every MAC at the FMA peak measured beside its layers (their median).
    peak_gflops = {t: median(p) for t, p in peaks.items()}
    macs = {net: check_report(cnnc, os.path.join(ROOT, "models", "torchvision", net + ".cnn")).get("totals", {}).get("macs")
            for net in networks}
    floors = {}
    for net, batch, thread_count, ort_ms, *_ in rows:
        if macs.get(net) and thread_count in peak_gflops:
            floors[(net, batch, thread_count)] = 2 * macs[net] * batch / (peak_gflops[thread_count] * 1e6) / ort_ms

    elapsed = time.time() - started
    versions = ""
    version_file = os.path.join(MOBILE, networks[0], "versions.txt") if networks else ""
    if version_file and os.path.exists(version_file):
        versions = open(version_file).read().strip()
    write_results(args, rows, notes, depthwise, bandwidth, elapsed, seen, versions, cnnc, (load_before, os.getloadavg()),
                  floors, peak_gflops)
    log(f"wrote {args.out} in {elapsed / 60:.1f} minutes")
    if not all_ok:
        log("mobile: an output check failed; see the results' Checks")
        sys.exit(1)


def git_head():
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True, capture_output=True).stdout.strip()
        changed = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "bench"], cwd=ROOT, text=True,
                                 capture_output=True).stdout.strip()
        return head + (" with uncommitted changes in bench/" if changed else "")
    except OSError:
        return "?"


def write_results(args, rows, notes, depthwise, bandwidth, elapsed, seen, versions, cnnc, loads, floors, peak_gflops):
    command = "bench/mobile.sh " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    title = "# cnnc against ONNX Runtime on the mobile networks" + (f" ({args.label})" if args.label else "")
    load = lambda l: "/".join(f"{v:.1f}" for v in l)  # noqa: E731
    lines = [
        title, "",
        f"`{command.strip()}` on {cpu_name()}, {os.cpu_count()} CPUs, finished "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; took {elapsed / 60:.1f} minutes (load average "
        f"1/5/15 min {load(loads[0])} before, {load(loads[1])} after). cnnc: `{cnnc}` ({seen.get('cnnc', '?')}), "
        f"harness at {git_head()}; ONNX Runtime {seen.get('ort', '?')} on torch.onnx's export ({versions or 'torch ?'}), "
        "one static-batch model per batch.", "",
        f"Each side ran {args.rounds} time(s) of {args.seconds:g} s per point, alternately; the numbers are the medians "
        "of each side's median latency per batch. ratio = cnnc / ONNX Runtime; the issue's target is ≤ 0.6 at batch 1 on "
        "two threads, ≤ 0.8 otherwise. \"at peak\" is the ratio cnnc would have if every multiply-add ran at the FMA peak "
        "(2·MACs·batch / peak / ORT's time; peak " + (", ".join(f"{g:.0f} GFLOP/s on {t} thread{'s' if t > 1 else ''}"
        for t, g in sorted(peak_gflops.items())) or "not measured") + ", the median of the `--layers` runs' peaks): "
        "no kernel can go below it, so a target under it is out of reach on this machine.", "",
    ]
    if max(loads[0][0], loads[1][0]) > (os.cpu_count() or 1):
        # cnnc's pool spins at its barriers: a core taken by other work stalls every step.
        lines += [f"**Other work shared the cores** (a 1-minute load average above {os.cpu_count()}): the two-thread "
                  "points of both sides, and the layer times, are not to be trusted; run it again on an idle machine.", ""]
    lines += [
        "| network | batch | threads | ONNX Runtime ms | cnnc ms | cnnc/ORT | at peak | target | |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for net, batch, threads, ort_ms, cnnc_ms, ratio, goal in rows:
        floor = floors.get((net, batch, threads))
        lines.append(f"| {net} | {batch} | {threads} | {ort_ms:.2f} | {cnnc_ms:.2f} | {ratio:.2f} | "
                     f"{f'{floor:.2f}' if floor is not None else '?'} | ≤ {goal} | {'within' if ratio <= goal else 'missed'} |")
    if depthwise:
        lines += ["", "## Depthwise layers at batch 1 (`cnnc bench --layers --json`)", "",
                  "Read bandwidth (bench/read_bandwidth.c, best of 5, summing with AVX2 loads): "
                  + ", ".join(f"{level.upper()} {t} thread{'s' if t > 1 else ''} {gb:.1f} GB/s"
                              for (level, t), gb in sorted(bandwidth.items())) + " (L2: a 256 KiB array per thread, "
                  "the two threads' sum). Bytes per image, 4 per float: the layer's input read once, its output written "
                  "once, its C·k·k kernel and C shifts (bias or folded batchnorm); the batchnorm and activation fused into "
                  "the step move nothing more, and the reorders around it are not counted (they are steps of their own). "
                  "GB/s = bytes / the step's median time over the profiled runs; a share is that of the read bandwidth "
                  "on the same number of threads. A depthwise layer inside a fused inverted residual (its expanded "
                  "rows never leave the thread's scratch) is not a step of its own and is not counted.", "",
                  "| threads | network | depthwise steps | their ms | share of all steps | their GB/s | of DRAM | of L2 "
                  "| fused blocks, not counted |",
                  "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for threads, net, layers, steps_ms, _, fused in depthwise:
            ms, moved = sum(l["ms"] for l in layers), sum(l["bytes"] for l in layers)
            gbs = moved / (ms / 1e3) / 1e9 if ms > 0 else 0
            lines.append(f"| {threads} | {net} | {len(layers)} | {ms:.2f} | {ms / steps_ms * 100 if steps_ms else 0:.0f}% "
                         f"| {gbs:.1f} | {share(gbs, bandwidth, 'dram', threads)} | {share(gbs, bandwidth, 'l2', threads)} "
                         f"| {fused} |")
        for thread_count in sorted({d[0] for d in depthwise}):
            lines += ["", f"Per layer, {thread_count} thread{'s' if thread_count > 1 else ''}:", "",
                      "| network | layer | window | shape (H×W×C in → out) | kernel | MACs | ms | GB/s | of DRAM | of L2 |",
                      "| --- | --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: |"]
            for threads, net, layers, *_ in depthwise:
                if threads != thread_count:
                    continue
                for l in layers:
                    gbs = l["bytes"] / (l["ms"] / 1e3) / 1e9 if l["ms"] > 0 else 0
                    lines.append(f"| {net} | {l['name']} | {l['window']} | {l['shape']} | {l['kernel']} | {l['macs']:,} | "
                                 f"{l['ms']:.3f} | {gbs:.1f} | {share(gbs, bandwidth, 'dram', threads)} | "
                                 f"{share(gbs, bandwidth, 'l2', threads)} |")
    lines += ["", "## Checks", ""] + notes + [""]
    with open(args.out, "w") as f:
        f.write("\n".join(lines))


def share(gbs, bandwidth, level, threads):
    peak = bandwidth.get((level, threads))
    return f"{gbs / peak * 100:.0f}%" if peak else "?"


if __name__ == "__main__":
    main()
