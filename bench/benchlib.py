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
