#!/usr/bin/env python3
"""Write Tests/Fixtures/torchvision/{shufflenet,convnext,deconv,upsample}: torchvision's own
blocks for the ops shufflenet_v2 and convnext need, and torch's ConvTranspose2d and Upsample,
with torch's answers.

    python3 tools/torchvision/make_op_fixtures.py

shufflenet: torchvision's shufflenetv2.InvertedResidual at stride 2 (two branches) and at
stride 1 (x.chunk(2, dim=1), then channel_shuffle), written with `slice` and `shuffle`.
convnext: torchvision's LayerNorm2d stem and two CNBlocks (permuted nn.LayerNorm, Linear,
GELU, Linear, layer_scale), written with `layernorm`, `pointwise` and `layerscale`; tvio.randomize
draws LayerNorm's γ, β and layer_scale too (torch starts them at 1, 0 and 1e-6).
The .cnn files are written by hand here (make_models.py's fx renderer knows neither block);
each folder holds model.cnn, weights.safetensors, input.npy (a batch of 2), expected.npy.
"""
import os
import sys

import torch
from torch import nn
from torchvision.models import convnext, shufflenetv2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tvio  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "torchvision")


class Shuffle(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.s1 = shufflenetv2.InvertedResidual(8, 16, 2)
        self.s2 = shufflenetv2.InvertedResidual(16, 16, 1)

    def forward(self, x):
        return self.s2(self.s1(self.stem(x)))


SHUFFLE = """\
# shufflenet: torchvision {version}, shufflenetv2.InvertedResidual(8, 16, 2) then
# InvertedResidual(16, 16, 1) after a 3x3 stem; written by tools/torchvision/make_op_fixtures.py.
network shufflenet
input 16x16x3

stem: conv 8 3x3 pad 1
s1.branch1.0: depthwise 3x3 stride 2 pad 1 nobias   # 8x8x8
s1.branch1.1: batchnorm
s1.branch1.2: conv 8 1x1 nobias
s1.branch1.3: batchnorm
b1: relu
s1.branch2.0: conv 8 1x1 nobias from stem
s1.branch2.1: batchnorm
b2a: relu
s1.branch2.3: depthwise 3x3 stride 2 pad 1 nobias
s1.branch2.4: batchnorm
s1.branch2.5: conv 8 1x1 nobias
s1.branch2.6: batchnorm
b2: relu
s1.cat: concat b1 b2                                  # 8x8x16
s1: shuffle 2
s2.x1: slice 0 8 from s1                              # x.chunk(2, dim=1)[0]
s2.x2: slice 8 16 from s1
s2.branch2.0: conv 8 1x1 nobias
s2.branch2.1: batchnorm
c2a: relu
s2.branch2.3: depthwise 3x3 pad 1 nobias
s2.branch2.4: batchnorm
s2.branch2.5: conv 8 1x1 nobias
s2.branch2.6: batchnorm
c2: relu
s2.cat: concat s2.x1 c2
s2: shuffle 2
"""


class ConvNeXt(nn.Module):
    """torchvision's ConvNeXt layout (stem, CNBlock, downsample, CNBlock, classifier) at width 8."""

    def __init__(self):
        super().__init__()
        norm = lambda c: convnext.LayerNorm2d(c, eps=1e-6)  # noqa: E731, as ConvNeXt builds it
        self.stem = nn.Sequential(nn.Conv2d(3, 8, kernel_size=4, stride=4), norm(8))
        self.b1 = convnext.CNBlock(8, layer_scale=1e-6, stochastic_depth_prob=0.0)
        self.down = nn.Sequential(norm(8), nn.Conv2d(8, 16, kernel_size=2, stride=2))
        self.b2 = convnext.CNBlock(16, layer_scale=1e-6, stochastic_depth_prob=0.0)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(norm(16), nn.Flatten(1), nn.Linear(16, 10))

    def forward(self, x):
        x = self.b2(self.down(self.b1(self.stem(x))))
        return self.classifier(self.avgpool(x))


CONVNEXT = """\
# convnext: torchvision {version}, ConvNeXt's stem (conv 4x4 stride 4, LayerNorm2d), CNBlock(8),
# downsample (LayerNorm2d, conv 2x2 stride 2), CNBlock(16) and classifier, eps 1e-6 as ConvNeXt
# builds them; written by tools/torchvision/make_op_fixtures.py.
network convnext
input 32x32x3

stem.0: conv 8 4x4 stride 4                   # 8x8x8
stem.1: layernorm eps 1e-6                    # LayerNorm2d
b1.block.0: depthwise 7x7 pad 3
b1.block.2: layernorm eps 1e-6                # nn.LayerNorm after Permute([0, 2, 3, 1])
b1.block.3: pointwise 32 gelu                 # nn.Linear(8, 32), GELU
b1.block.5: pointwise 8
b1: layerscale                                # b1.layer_scale [8, 1, 1]
b1.add: add b1 stem.1
down.0: layernorm eps 1e-6
down.1: conv 16 2x2 stride 2                  # 4x4x16
b2.block.0: depthwise 7x7 pad 3
b2.block.2: layernorm eps 1e-6
b2.block.3: pointwise 64 gelu
b2.block.5: pointwise 16
b2: layerscale
b2.add: add b2 down.1
avgpool: globalavgpool
classifier.0: layernorm eps 1e-6              # on 1x1x16
classifier.2: fc 10
"""


class Deconv(nn.Module):
    """ConvTranspose2d at stride 2 with padding and output_padding, dilation with groups and no
    bias, rectangular everything, and output_padding below the dilation (not the stride)."""

    def __init__(self):
        super().__init__()
        self.d1 = nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1)
        self.d2 = nn.ConvTranspose2d(6, 4, 3, padding=2, dilation=2, groups=2, bias=False)
        self.d3 = nn.ConvTranspose2d(4, 3, (3, 2), stride=(2, 3), padding=(1, 0), output_padding=(1, 2))
        self.d4 = nn.ConvTranspose2d(3, 2, 3, dilation=2, output_padding=1, groups=1)

    def forward(self, x):
        return self.d4(self.d3(self.d2(torch.relu(self.d1(x)))))


DECONV = """\
# deconv: torch {torch} nn.ConvTranspose2d layers; written by tools/torchvision/make_op_fixtures.py.
network deconv
input 6x5x4

d1: deconv 6 3x3 stride 2 pad 1 outpad 1 relu          # 12x10x6
d2: deconv 4 3x3 pad 2 dilation 2 groups 2 nobias      # 12x10x4
d3: deconv 3 2x3 stride 3x2 pad 0x1 outpad 2x1         # kernel (3, 2), stride (2, 3): 37x20x3
d4: deconv 2 3x3 dilation 2 outpad 1                   # outpad 1 < dilation 2: 42x25x2
"""


class Resample(nn.Module):
    def __init__(self):
        super().__init__()
        self.u1 = nn.Upsample(scale_factor=2, mode="nearest")
        self.c1 = nn.Conv2d(3, 4, 3, padding=1)
        self.u2 = nn.Upsample(scale_factor=(3, 2), mode="bilinear", align_corners=False)
        self.u3 = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)
        self.u4 = nn.Upsample(scale_factor=(2, 3), mode="nearest")

    def forward(self, x):
        return self.u4(self.u3(self.u2(self.c1(self.u1(x)))))


UPSAMPLE = """\
# upsample: torch {torch} nn.Upsample (scale_factor as (height, width)); written by
# tools/torchvision/make_op_fixtures.py.
network upsample
input 5x4x3

u1: upsample 2                        # nearest: 10x8x3
c1: conv 4 3x3 pad 1
u2: upsample 2x3 bilinear             # scale_factor=(3, 2): 20x24x4
u3: upsample 2 bilinear aligncorners  # 40x48x4
u4: upsample 3x2                      # 120x96x4
"""


def cases():
    yield "shufflenet", 16, Shuffle(), SHUFFLE
    yield "convnext", 32, ConvNeXt(), CONVNEXT
    yield "deconv", (6, 5, 4), Deconv(), DECONV
    yield "upsample", (5, 4, 3), Resample(), UPSAMPLE


def main():
    import torchvision
    for name, side, model, text in cases():
        torch.manual_seed(0)
        if isinstance(side, tuple):
            # Not torchvision: no batchnorm to calibrate; torch's own initialisation, a signed bias.
            width, height, depth = side
            for module in model.modules():
                if getattr(module, "bias", None) is not None:
                    nn.init.uniform_(module.bias, -0.5, 0.5)
            x = torch.randn(2, depth, height, width, generator=torch.Generator().manual_seed(2))
        else:
            tvio.randomize(model, seed=1, side=side, calibration=32)
            x = tvio.random_input(2, side, seed=2)
        with torch.no_grad():
            y = model(x)
        folder = os.path.join(OUT, name)
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "model.cnn"), "w") as f:
            f.write(text.format(version=torchvision.__version__, torch=torch.__version__))
        tvio.save_safetensors(model.state_dict(), os.path.join(folder, "weights.safetensors"))
        tvio.save_npy(x, os.path.join(folder, "input.npy"))
        tvio.save_npy(y, os.path.join(folder, "expected.npy"))
        print(f"{name}: input {tuple(x.shape)}, output {tuple(y.shape)}, max |y| {y.abs().max():.3g}")


if __name__ == "__main__":
    main()
