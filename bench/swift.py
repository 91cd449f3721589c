"""The fast Swift kernels against the fast C ones (issue #22): `cnnc bench MODEL --backend swift`
and `--backend c`, alternated in one run, on the seed networks and mobilenet_v2 (from
models/torchvision/) at batch 1 and 8 on 1 and 2 threads.

    bench/swift.sh [--quick] [--networks lenet5,alexnet,resnet18,vgg16,mobilenet_v2] [--batches 1,8]
                   [--threads 1,2] [--rounds 3] [--seconds S] [--out FILE]

Each point runs `--rounds` times per backend, alternately, and takes each side's median of
its runs' median latency; ratio = Swift / C, the issue's target ≤ 1.3. Writes
bench/results-swift.md. Needs only cnnc (CNNC=path, else a release build in .build-bench);
the first run of each network compiles its Swift (about a minute for VGG-16), later runs hit
cnnc's compiler cache. Standard library only.
"""
import argparse, os, shlex, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import ROOT, add_timing_options, apply_quick, build_cnnc, cpu_name, last_json, log, median, run  # noqa: E402

NETWORKS = "lenet5,alexnet,resnet18,vgg16,mobilenet_v2"


def model_path(net):
    """models/NET.cnn, else models/torchvision/NET.cnn."""
    seed = os.path.join(ROOT, "models", net + ".cnn")
    return seed if os.path.exists(seed) else os.path.join(ROOT, "models", "torchvision", net + ".cnn")
TARGET = 1.3


def bench(cnnc, model, backend, batch, threads, seconds):
    out = run([cnnc, "bench", model, "--backend", backend, "--batch", str(batch), "--threads", str(threads),
               "--seconds", str(seconds), "--json"], stderr=subprocess.DEVNULL)
    return last_json(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--networks", default=NETWORKS)
    add_timing_options(parser, "seconds per run (default 2)")
    parser.add_argument("--out", default=os.path.join(ROOT, "bench", "results-swift.md"))
    args = parser.parse_args()
    apply_quick(args)
    args.seconds = args.seconds or 2.0
    started, load_before = time.time(), os.getloadavg()
    cnnc = build_cnnc()
    batches = [int(b) for b in args.batches.split(",")]
    threads = [int(t) for t in args.threads.split(",")]

    rows, labels = [], {}
    for net in [n for n in args.networks.split(",") if n]:
        model = model_path(net)
        for backend in ("swift", "c"):   # compile both once before timing anything
            bench(cnnc, model, backend, 1, 1, 0.1)
        for batch in batches:
            for thread_count in threads:
                times = {"swift": [], "c": []}
                for _ in range(args.rounds):
                    for backend in ("swift", "c"):
                        result = bench(cnnc, model, backend, batch, thread_count, args.seconds)
                        times[backend].append(result["median_ms"])
                        labels[backend] = result.get("backend", backend)
                swift_ms, c_ms = median(times["swift"]), median(times["c"])
                rows.append((net, batch, thread_count, c_ms, swift_ms, swift_ms / c_ms))
                log(f"{net} batch {batch} threads {thread_count}: C {c_ms:.3f} ms, Swift {swift_ms:.3f} ms, "
                    f"ratio {swift_ms / c_ms:.2f} (target {TARGET})")

    elapsed = time.time() - started
    command = "bench/swift.sh " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    load = lambda l: "/".join(f"{v:.1f}" for v in l)  # noqa: E731
    within = sum(1 for row in rows if row[5] <= TARGET)
    lines = [
        "# The fast Swift kernels against the fast C ones", "",
        f"`{command.strip()}` on {cpu_name()}, {os.cpu_count()} CPUs, finished "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; took {elapsed / 60:.1f} minutes (load average 1/5/15 min "
        f"{load(load_before)} before, {load(os.getloadavg())} after). cnnc: `{cnnc}`; Swift: {labels.get('swift', '?')}; "
        f"C: {labels.get('c', '?')}.", "",
        f"Each backend ran {args.rounds} time(s) of {args.seconds:g} s per point, alternately; the numbers are the medians "
        f"of each side's median latency per batch; ratio = Swift / C, the issue's target ≤ {TARGET}. "
        f"{within} of {len(rows)} points within it.", "",
        "| network | batch | threads | C ms | Swift ms | Swift/C | |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for net, batch, thread_count, c_ms, swift_ms, ratio in rows:
        lines.append(f"| {net} | {batch} | {thread_count} | {c_ms:.3f} | {swift_ms:.3f} | {ratio:.2f} | "
                     f"{'within' if ratio <= TARGET else 'missed'} |")
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    log(f"wrote {args.out} in {elapsed / 60:.1f} minutes")


if __name__ == "__main__":
    main()
