#!/usr/bin/env python3
"""Check models/torchvision/NAME.cnn against torch at full size.

    python3 tools/torchvision/check_models.py                 # every model make_models.py writes
    python3 tools/torchvision/check_models.py resnet18 vgg16  # some
    options: --cnnc PATH (default .build/release/cnnc), --backend c|reference|swift, --batch N,
             --f64 (also each one's error against float64 torch, relative to max(1, max |y|)),
             --precise (cnnc run --precise: no Winograd)

For each model: torchvision's constructor, random weights and random batchnorm statistics in
eval mode (tvio.randomize: statistics scaled to a calibration batch), the state_dict saved unchanged as safetensors, a random input;
then `cnnc run --output` against torch's forward in float32. A model passes when
max |cnnc − torch| <= 1e-4 · max(1, max |torch|) and `cnnc check --json` counts the same
trainable parameters as torch. Prints a Markdown table; exit 1 if any model fails.
Needs torch, torchvision and numpy.
"""
import argparse
import copy
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_models  # noqa: E402
import tvio  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def check(name, cnnc, backend, batch, folder, workdir, f64=False, precise=False):
    path = os.path.join(folder, name + ".cnn")
    if not os.path.exists(path):
        return {"model": name, "ok": False, "note": f"{path} does not exist (run make_models.py)"}
    torch.manual_seed(0)
    model, _ = make_models.build(name)
    side = make_models.input_size(name)
    tvio.randomize(model, seed=1, side=side)
    x = tvio.random_input(batch, side, seed=2)
    with torch.no_grad():
        y = model(x)
        # float64 torch, to show how far float32 torch itself is from the exact answer
        y64 = copy.deepcopy(model).double()(x.double()).numpy() if f64 else None
    weights = os.path.join(workdir, name + ".safetensors")
    xin, yout = os.path.join(workdir, name + "-input.npy"), os.path.join(workdir, name + "-output.npy")
    tvio.save_safetensors(model.state_dict(), weights)
    tvio.save_npy(x, xin)

    checked = subprocess.run([cnnc, "check", "--json", path], capture_output=True, text=True)
    if checked.returncode != 0:
        return {"model": name, "ok": False, "note": "cnnc check failed: " + checked.stderr.strip()[:300]}
    cnnc_params = json.loads(checked.stdout)
    cnnc_params = (cnnc_params[0] if isinstance(cnnc_params, list) else cnnc_params)["totals"]["parameters"]
    torch_params = sum(p.numel() for p in model.parameters())

    start = time.monotonic()
    run = subprocess.run([cnnc, "run", path, "--weights", weights, "--input", xin, "--output", yout,
                          "--backend", backend] + (["--precise"] if precise else []), capture_output=True, text=True)
    seconds = time.monotonic() - start
    if run.returncode != 0:
        return {"model": name, "ok": False, "note": "cnnc run failed: " + (run.stderr or run.stdout).strip()[:300]}
    got = np.load(yout)
    want = y.numpy()
    for f in (weights, xin, yout):
        os.remove(f)
    if got.shape != want.shape:
        return {"model": name, "ok": False, "note": f"output shape {got.shape}, torch {want.shape}"}
    error = float(np.abs(got - want).max())
    scale = float(np.abs(want).max())
    tolerance = 1e-4 * max(1.0, scale)
    ok = error <= tolerance and cnnc_params == torch_params
    result = {"model": name, "ok": ok, "error": error, "max": scale, "relative": error / max(1.0, scale),
              "params": cnnc_params, "torch_params": torch_params, "seconds": seconds, "side": side}
    if y64 is not None:
        result["f64"] = (float(np.abs(want - y64).max()) / max(1.0, scale), float(np.abs(got - y64).max()) / max(1.0, scale))
    return result


def row(r):
    if "error" not in r:
        return f"| {r['model']} | | | | | | FAIL: {r['note']} |"
    params = f"{r['params']:,}" + ("" if r["params"] == r["torch_params"] else f" (torch {r['torch_params']:,})")
    f64 = f" {r['f64'][0]:.2e} | {r['f64'][1]:.2e} |" if "f64" in r else ""
    return (f"| {r['model']} | {r['side']} | {params} | {r['max']:.3g} | {r['error']:.2e} | {r['relative']:.2e} "
            f"| {'pass' if r['ok'] else 'FAIL'} ({r['seconds']:.0f} s) |{f64}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("names", nargs="*")
    ap.add_argument("--cnnc", default=os.path.join(ROOT, ".build", "release", "cnnc"))
    ap.add_argument("--backend", default="c", choices=["c", "reference", "swift"])
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--models", default=os.path.join(ROOT, "models", "torchvision"))
    ap.add_argument("--precise", action="store_true", help="cnnc run --precise (no Winograd convolutions)")
    ap.add_argument("--f64", action="store_true", help="also compare torch float32 and cnnc with torch float64")
    a = ap.parse_args()
    names = a.names or make_models.EXPRESSIBLE
    print(f"torch {torch.__version__}, torchvision {make_models.torchvision.__version__}, backend {a.backend}"
          f"{' --precise' if a.precise else ''}, "
          f"batch {a.batch}, tolerance 1e-4·max(1, max|y|)\n")
    extra = (" torch f32 vs f64 | cnnc vs f64 |", " ---: | ---: |") if a.f64 else ("", "")
    print("| model | input | parameters (cnnc = torch) | max abs y | max abs error | error / max(1, max abs y) "
          "| result (cnnc run time) |" + extra[0])
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |" + extra[1], flush=True)
    failed = 0
    with tempfile.TemporaryDirectory(prefix="cnnc-tv-") as workdir:
        for name in names:
            r = check(name, a.cnnc, a.backend, a.batch, a.models, workdir, a.f64, a.precise)
            failed += not r["ok"]
            print(row(r), flush=True)
    print(f"\n{len(names) - failed} of {len(names)} pass")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
