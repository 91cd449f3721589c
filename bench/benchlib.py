"""What bench/run.py and bench/mobile.py share: running commands, the peer's Python environment,
the cnnc binary, medians and the machine's name. Standard library only."""
import json, os, platform, shlex, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "bench", "out")


def log(text):
    print(text, file=sys.stderr, flush=True)


def run(command, **kwargs):
    log("$ " + " ".join(shlex.quote(c) for c in command))
    return subprocess.run(command, check=True, text=True, stdout=subprocess.PIPE, **kwargs).stdout


def last_json(text):
    try:
        return json.loads(text)
    except ValueError:
        pass
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError("no JSON object in output:\n" + text)


def find_peer():
    for candidate in [os.environ.get("CNNC_PEER"), os.path.join(ROOT, "..", "shared", "peer"), "/work/shared/peer"]:
        if candidate and os.path.exists(os.path.join(candidate, "ort_bench.py")):
            return os.path.abspath(candidate)
    log("bench: the ONNX Runtime peer (ort_bench.py, networks.py, netbuild.py, setup.sh) was not found.\n"
        "Set CNNC_PEER to its folder (it is not part of this repository).")
    sys.exit(1)


def python_env(peer):
    venv = os.path.join(OUT, "venv")
    python = os.path.join(venv, "bin", "python")
    if not os.path.exists(python):
        os.makedirs(OUT, exist_ok=True)
        run(["sh", os.path.join(peer, "setup.sh"), venv])
    return python


def build_cnnc():
    explicit = os.environ.get("CNNC")
    if explicit:
        return explicit
    scratch = os.path.join(ROOT, ".build-bench")
    run(["swift", "build", "-c", "release", "--scratch-path", scratch], cwd=ROOT)
    return os.path.join(scratch, "release", "cnnc")


def check_report(cnnc, path):
    """`cnnc check PATH --json`: the network's report (the first, if it prints a list)."""
    report = last_json(run([cnnc, "check", path, "--json"], stderr=subprocess.DEVNULL))
    return report[0] if isinstance(report, list) else report


def check_totals(cnnc, path):
    report = check_report(cnnc, path)
    totals = report.get("totals", report)
    return totals.get("macs"), totals.get("parameters")


def median(values):
    values = sorted(values)
    n = len(values)
    return values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2


def cpu_name():
    name, flags = None, set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and name is None:
                    name = line.split(":", 1)[1].strip()
                if line.startswith("flags") and not flags:
                    flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    name = name or platform.processor() or platform.machine()
    unit = "AVX-512" if "avx512f" in flags else ("AVX2 + FMA, no AVX-512" if "avx2" in flags else None)
    return f"{name} ({unit})" if unit else name


def add_timing_options(parser, seconds_help):
    """The batch, thread and round options both harnesses take; `apply_quick` reads --quick."""
    parser.add_argument("--batches", default="1,8")
    parser.add_argument("--threads", default="1,2")
    # Three, not two: the median of two runs is their mean, and one run in a slow stretch of
    # this shared machine (LeNet-5 on two threads: 0.018 ms against 0.013) then moves the point.
    parser.add_argument("--rounds", type=int, default=3, help="alternating runs of each side per point")
    parser.add_argument("--seconds", type=float, default=None, help=seconds_help)
    parser.add_argument("--quick", action="store_true", help="one round, 1 second per run")


def apply_quick(args):
    if args.quick:
        args.rounds = 1
        args.seconds = args.seconds or 1.0
