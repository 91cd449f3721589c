#!/usr/bin/env python3
"""cnnc import on torchvision models as torch.onnx exports them, against torch and ONNX Runtime: each
model (random weights, eval mode) exported by torch.onnx.export (the TorchScript exporter, or
the dynamo one with --dynamo), run in ORT on a fixed input, imported with cnnc import and run
with cnnc run (the C backend, held to the reference interpreter by the suite); the outputs must
agree within 1e-4 * max(1, max|y|), the parameters cnnc check counts must be torch's, and the
multiply-accumulates those of the hand-written models/torchvision/NAME.cnn where there is one.
Needs torch, torchvision, onnx, onnxruntime and numpy (not used by swift test or CI):

    /work/onnxenv/bin/python tools/onnx/check_import_torchvision.py .build/debug/cnnc resnet18 shufflenet_v2_x1_0 \
        convnext_tiny squeezenet1_1

Prints one line per model and exits 1 if any fails."""
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import onnxruntime as ort
import torch
import torchvision


class OutOnly(torch.nn.Module):
    """A segmentation model's "out" (the dict's other entry is the auxiliary head)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x)["out"]


def check(cnnc, name, folder, dynamo):
    torch.manual_seed(0)
    if name.startswith("segmentation."):  # fcn_resnet50, lraspp_mobilenet_v3_large: their "out" map
        model = OutOnly(getattr(torchvision.models.segmentation, name.split(".")[1])(weights=None, weights_backbone=None)).eval()
    else:
        model = getattr(torchvision.models, name)(weights=None).eval()
    # torchvision's initialisation leaves batchnorm the identity and the outputs near 0, where
    # any answer is within 1e-4: give every batchnorm statistics of its own.
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.copy_(0.1 * torch.randn(m.num_features, generator=generator))
                m.running_var.copy_(0.5 + torch.rand(m.num_features, generator=generator))
                m.weight.copy_(0.5 + torch.rand(m.num_features, generator=generator))
                m.bias.copy_(0.1 * torch.randn(m.num_features, generator=generator))
            # ConvNeXt's layer scale starts at 1e-6, which would hide every block: values of
            # their own, and for its layer norms too.
            if isinstance(m, torch.nn.LayerNorm):
                m.weight.copy_(0.5 + torch.rand(m.weight.shape, generator=generator))
                m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=generator))
            # Zero biases (torchvision's start) would be dropped by the dynamo exporter.
            if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)) and m.bias is not None:
                m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=generator))
            if hasattr(m, "layer_scale"):
                m.layer_scale.copy_(0.1 + 0.2 * torch.rand(m.layer_scale.shape, generator=generator))
    size = 299 if name == "inception_v3" else 224
    x = torch.rand(1, 3, size, size)
    path = os.path.join(folder, name + ".onnx")
    if dynamo:
        torch.onnx.export(model, (x,), path, dynamo=True)  # weights in PATH.data, which cnnc import reads
    else:
        torch.onnx.export(model, (x,), path, opset_version=17, dynamo=False, input_names=["input"])
    with torch.no_grad():
        expected = model(x).numpy()
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    theirs = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]
    net, weights = os.path.join(folder, name + ".cnn"), os.path.join(folder, name + ".safetensors")
    imported = subprocess.run([cnnc, "import", path, "-o", net, "--weights", weights], capture_output=True, text=True)
    if imported.returncode != 0:
        return "FAILED", "import: " + (imported.stderr or imported.stdout)[-1500:]
    checked = subprocess.run([cnnc, "check", net], capture_output=True, text=True)
    counted = re.search(r"trainable parameters\s+([\d,]+)", checked.stdout)
    ours_params = int(counted.group(1).replace(",", "")) if counted else -1
    # GoogLeNet's and Inception's auxiliary classifiers are not run in eval mode, so not exported.
    torch_params = sum(p.numel() for n, p in model.named_parameters() if not n.lower().startswith("aux"))
    # The TorchScript exporter folds a batchnorm into the conv before it (a bias per channel
    # instead of a weight and a bias); one after a concat or a relu (DenseNet's) stays.
    folded = torch_params - sum(m.num_features for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d))
    source, out = os.path.join(folder, name + ".in.npy"), os.path.join(folder, name + ".out.npy")
    np.save(source, x.numpy())
    ran = subprocess.run([cnnc, "run", net, "--weights", weights, "--input", source, "--output", out],
                         capture_output=True, text=True)
    if ran.returncode != 0:
        return "FAILED", "run: " + ran.stderr[-1500:]
    ours = np.load(out).reshape(theirs.shape)
    error = float(np.max(np.abs(ours - theirs)))
    bound = 1e-4 * max(1.0, float(np.max(np.abs(theirs))))
    # The measure is torch's own output; ORT's is the exported graph's.
    error_torch = float(np.max(np.abs(ours - expected.reshape(theirs.shape))))
    bound_torch = 1e-4 * max(1.0, float(np.max(np.abs(expected))))
    within = error <= bound and error_torch <= bound_torch
    # The hand-written models/torchvision/NAME.cnn, where there is one, must count the same MACs.
    shipped = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "models", "torchvision", name + ".cnn")
    macs = lambda path: re.search(r"multiply-accumulates\s+([\d,]+)",  # noqa: E731
                                  subprocess.run([cnnc, "check", path], capture_output=True, text=True).stdout)
    ours_macs, shipped_macs = macs(net), macs(shipped) if os.path.exists(shipped) else None
    same_macs = shipped_macs is None or (ours_macs is not None and ours_macs.group(1) == shipped_macs.group(1))
    verdict = "ok" if within and same_macs and folded <= ours_params <= torch_params else "DIFFERS"
    return verdict, (f"max |cnnc - torch| {error_torch:.3g} (bound {bound_torch:.3g}), "
                     + f"max |cnnc - ORT| {error:.3g} (bound {bound:.3g}, max |y| {float(np.max(np.abs(theirs))):.3g}); "
                     + (f"MACs {ours_macs.group(1) if ours_macs else '?'} "
                        + (f"(models/torchvision/{name}.cnn: {shipped_macs.group(1)}); " if shipped_macs else "; "))
                     + f"parameters cnnc {ours_params:,}, "
                     + f"torch {torch_params:,} ({folded:,} with batchnorm folded)")


def main():
    arguments = sys.argv[1:]
    dynamo = "--dynamo" in arguments
    arguments = [a for a in arguments if a != "--dynamo"]
    cnnc, names = arguments[0], arguments[1:]
    failed = 0
    with tempfile.TemporaryDirectory() as folder:
        for name in names:
            try:
                verdict, text = check(cnnc, name, folder, dynamo)
            except Exception as e:
                verdict, text = "FAILED", f"{type(e).__name__}: {str(e)[:800]}"
            failed += verdict != "ok"
            print(f"{verdict:8} {name}{' (dynamo)' if dynamo else ''}: {text}", flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
