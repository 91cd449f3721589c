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


def randomize(model, seed):
    """Random weights and random batchnorm statistics, in eval mode.

    Convolution and fc weights keep torchvision's own (random) initialisation, which keeps the
    signal's scale through deep nets; biases and every batchnorm tensor are redrawn, since
    torchvision starts them at 0 and 1, which would hide a wrong bias or statistic.
    """
    g = torch.Generator().manual_seed(seed)

    def uniform(t, lo, hi):
        with torch.no_grad():
            t.copy_(torch.rand(t.shape, generator=g) * (hi - lo) + lo)

    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            with torch.no_grad():
                # redraw the weights too (seeded), at the scale torchvision's init gives them
                std = m.weight.std().item() if m.weight.numel() > 1 else 0.1
                m.weight.copy_(torch.randn(m.weight.shape, generator=g) * (std or 0.05))
            if m.bias is not None:
                uniform(m.bias, -0.1, 0.1)
        elif isinstance(m, nn.BatchNorm2d):
            uniform(m.weight, 0.5, 1.5)
            uniform(m.bias, -0.2, 0.2)
            uniform(m.running_mean, -0.2, 0.2)
            uniform(m.running_var, 0.5, 2.0)
            m.num_batches_tracked.fill_(int(torch.randint(1, 1000, (1,), generator=g)))
    return model.eval()


def random_input(batch, side, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(batch, 3, side, side, generator=g)


def save_npy(tensor, path):
    np.save(path, tensor.detach().cpu().numpy().astype("<f4"))
