"""Random torchvision weights and the files cnnc reads, shared by check_models.py and make_fixtures.py.

safetensors is written here (a JSON header and the raw little-endian data) so the scripts need
torch and numpy only, not the safetensors package.
"""
import json
import struct

import numpy as np
import torch
from torch import nn

DTYPES = {torch.float32: "F32", torch.int64: "I64", torch.float64: "F64", torch.float16: "F16"}


def save_safetensors(state_dict, path):
    """The state_dict exactly as torch holds it (num_batches_tracked included, as I64)."""
    header, chunks, offset = {}, [], 0
    for key, tensor in state_dict.items():
        data = tensor.detach().contiguous().cpu().numpy().astype(tensor.detach().cpu().numpy().dtype.newbyteorder("<"))
        raw = data.tobytes()
        header[key] = {"dtype": DTYPES[tensor.dtype], "shape": list(tensor.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in chunks:
            f.write(raw)


def randomize(model, seed, side, calibration=4):
    """Random weights and random batchnorm statistics, in eval mode.

    Convolution and fc weights are drawn at He's scale, sqrt(2 / fan-in); biases and batchnorm's
    affine terms are drawn too (torchvision starts them at 0 and 1, which would hide a wrong
    one). Each batchnorm's running statistics are drawn from its input's root mean square r
    over a random calibration batch, set layer by layer in one eval pass: variance r²·(0.5…2),
    mean r·(−0.2…0.2). So every batchnorm scales its channels to about 1 and deep residual
    nets stay O(10) (with statistics drawn as constants, resnet152's output reaches 1e10),
    while no channel subtracts a mean close to its own: calibrating the mean too made a
    difference of nearly equal numbers of every batchnorm, and float32 torch itself then
    missed float64 torch by 7e-5·max|y| on resnet101.
    """
    g = torch.Generator().manual_seed(seed)

    def uniform(shape, lo, hi):
        return torch.rand(shape, generator=g) * (hi - lo) + lo

    def calibrate(bn, args):
        rms = args[0].detach().pow(2).mean(dim=(0, 2, 3)).sqrt() + 1e-3
        bn.running_mean.copy_(rms * uniform(rms.shape, -0.2, 0.2))
        bn.running_var.copy_(rms.pow(2) * uniform(rms.shape, 0.5, 2.0))

    hooks = []
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                m.weight.copy_(torch.randn(m.weight.shape, generator=g) * (2.0 / m.weight[0].numel()) ** 0.5)
                if m.bias is not None:
                    m.bias.copy_(uniform(m.bias.shape, -0.1, 0.1))
            elif isinstance(m, nn.LayerNorm):
                m.weight.copy_(uniform(m.weight.shape, 0.5, 1.5))
                m.bias.copy_(uniform(m.bias.shape, -0.2, 0.2))
            elif hasattr(m, "layer_scale"):  # torchvision's CNBlock; 1e-6 would hide its branch
                m.layer_scale.copy_(uniform(m.layer_scale.shape, 0.5, 1.5))
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.copy_(uniform(m.weight.shape, 0.5, 1.5))
                m.bias.copy_(uniform(m.bias.shape, -0.2, 0.2))
                m.num_batches_tracked.fill_(int(torch.randint(1, 1000, (1,), generator=g)))
                hooks.append(m.register_forward_pre_hook(calibrate))
        model.eval()
        model(random_input(calibration, side, seed + 1000))
    for h in hooks:
        h.remove()
    return model


def random_input(batch, side, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(batch, 3, side, side, generator=g)


def save_npy(tensor, path):
    np.save(path, tensor.detach().cpu().numpy().astype("<f4"))
