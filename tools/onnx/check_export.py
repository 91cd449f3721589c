#!/usr/bin/env python3
"""cnnc export against ONNX Runtime: for each network, random weights (cnnc init), cnnc export,
then the same input through ONNX Runtime and through cnnc run (the C backend, which the test
suite holds to the reference interpreter); the outputs must agree within
1e-4 * max(1, max|y|). Needs onnx, onnxruntime and numpy (not used by swift test or CI):

    python3 -m venv /tmp/onnxenv && /tmp/onnxenv/bin/pip install onnx onnxruntime numpy
    /tmp/onnxenv/bin/python tools/onnx/check_export.py .build/debug/cnnc models/*.cnn models/torchvision/mobilenet_v2.cnn

Prints one line per network and exits 1 if any disagrees or fails."""
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort


def check(cnnc, network, folder):
    name = os.path.splitext(os.path.basename(network))[0]
    weights = os.path.join(folder, name + ".safetensors")
    model = os.path.join(folder, name + ".onnx")
    subprocess.run([cnnc, "init", network, "-o", weights, "--seed", "3"], check=True, capture_output=True)
    subprocess.run([cnnc, "export", network, "--weights", weights, "-o", model], check=True, capture_output=True)
    onnx.checker.check_model(onnx.load(model), full_check=True)
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    shape = [2] + list(session.get_inputs()[0].shape[1:])
    x = np.random.default_rng(5).random(shape, dtype=np.float32)
    source = os.path.join(folder, name + ".input.npy")
    np.save(source, x)
    theirs = session.run(None, {"input": x})[0]
    out = os.path.join(folder, name + ".out.npy")
    subprocess.run([cnnc, "run", network, "--weights", weights, "--input", source, "--output", out],
                   check=True, capture_output=True)
    ours = np.load(out).reshape(theirs.shape)
    error = float(np.max(np.abs(ours - theirs)))
    bound = 1e-4 * max(1.0, float(np.max(np.abs(theirs))))
    return error, bound, len(onnx.load(model).graph.node)


def main():
    cnnc, networks = sys.argv[1], sys.argv[2:]
    failed = 0
    with tempfile.TemporaryDirectory() as folder:
        for network in networks:
            try:
                error, bound, nodes = check(cnnc, network, folder)
                verdict = "ok" if error <= bound else "DIFFERS"
                failed += verdict != "ok"
                print(f"{verdict:8} {network}: {nodes} nodes, max |cnnc - ORT| {error:.3g} (bound {bound:.3g})", flush=True)
            except subprocess.CalledProcessError as e:
                failed += 1
                print(f"FAILED   {network}: {' '.join(e.cmd[:2])}: {e.stderr.decode()[-500:]}", flush=True)
            except Exception as e:  # ORT or the checker refused the model
                failed += 1
                print(f"FAILED   {network}: {type(e).__name__}: {str(e)[:500]}", flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
