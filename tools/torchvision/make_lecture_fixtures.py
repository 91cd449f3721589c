#!/usr/bin/env python3
"""Write Tests/Fixtures/torchvision/{padmodes,adaptivepool,maxout}: the lectures' padding
modes, adaptive average pooling and maxout, with torch's answers.

    python3 tools/torchvision/make_lecture_fixtures.py

padmodes: nn.Conv2d with padding_mode reflect, replicate (depthwise, rectangular kernel,
stride 2) and circular (a different pad per axis), and reflect with padding='same' on an
even kernel (torch's asymmetric split). adaptivepool: nn.AdaptiveAvgPool2d((h, w)) down to
5x3 from 10x10 (overlapping windows) and up to 6x7 from 5x3. maxout: torch has no module,
so x.view(N, C // k, k, ...).amax(2), after a conv and after an fc.
Each folder holds model.cnn, weights.safetensors, input.npy (a batch of 2), expected.npy.
"""
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tvio  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "torchvision")


class PadModes(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, padding=2, padding_mode="reflect")
        self.c2 = nn.Conv2d(8, 8, (3, 5), stride=2, padding=(1, 2), groups=8, padding_mode="replicate")
        self.c3 = nn.Conv2d(8, 4, 3, padding=(2, 1), padding_mode="circular")
        self.c4 = nn.Conv2d(4, 4, 4, padding="same", padding_mode="reflect", bias=False)

    def forward(self, x):
        return self.c4(self.c3(self.c2(torch.relu(self.c1(x)))))


PADMODES = """\
# padmodes: torch {version}, nn.Conv2d's padding_mode reflect, replicate and circular;
# written by tools/torchvision/make_lecture_fixtures.py.
network padmodes
input 9x9x3

c1: conv 8 3x3 pad 2 padmode reflect relu                   # 11x11x8
c2: depthwise 5x3 stride 2 pad 2x1 padmode replicate        # 6x6x8
c3: conv 4 3x3 pad 1x2 padmode circular                     # 6x8x4
c4: conv 4 4x4 pad same padmode reflect nobias              # left/top 1, right/bottom 2
"""


class AdaptivePool(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 4, 3, padding=1)
        self.p1 = nn.AdaptiveAvgPool2d((3, 5))  # (h, w)
        self.c2 = nn.Conv2d(4, 4, 1)
        self.p2 = nn.AdaptiveAvgPool2d((7, 6))

    def forward(self, x):
        return self.p2(self.c2(self.p1(self.c1(x))))


ADAPTIVE = """\
# adaptivepool: torch {version}, nn.AdaptiveAvgPool2d((3, 5)) and ((7, 6)) (torch gives h, w);
# written by tools/torchvision/make_lecture_fixtures.py.
network adaptivepool
input 10x10x3

c1: conv 4 3x3 pad 1
p1: adaptiveavgpool 5x3                                     # windows of 2 or 3 columns, 4 rows
c2: conv 4 1x1
p2: adaptiveavgpool 6x7                                     # larger than its 5x3 input
"""


class Maxout(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 12, 3, padding=1)
        self.c2 = nn.Conv2d(4, 6, 1)
        self.fc = nn.Linear(3 * 6 * 6, 8)

    def forward(self, x):
        def maxout(t, k):
            return t.view(t.shape[0], t.shape[1] // k, k, *t.shape[2:]).amax(2)
        x = maxout(self.c2(maxout(self.c1(x), 3)), 2)
        return maxout(self.fc(x.flatten(1)), 4)


MAXOUT = """\
# maxout: torch {version}, x.view(N, C // k, k, ...).amax(2) after a conv and after an fc;
# written by tools/torchvision/make_lecture_fixtures.py.
network maxout
input 6x6x3

c1: conv 12 3x3 pad 1
m1: maxout 3                                                # 6x6x4
c2: conv 6 1x1
m2: maxout 2                                                # 6x6x3
fc: fc 8
m3: maxout 4                                                # 2
"""


def cases():
    yield "padmodes", 9, PadModes(), PADMODES
    yield "adaptivepool", 10, AdaptivePool(), ADAPTIVE
    yield "maxout", 6, Maxout(), MAXOUT


def main():
    only = set(sys.argv[1:])
    for name, side, model, text in cases():
        if only and name not in only:
            continue
        torch.manual_seed(0)
        tvio.randomize(model, seed=1, side=side, calibration=4)
        x = tvio.random_input(2, side, seed=2)
        with torch.no_grad():
            y = model(x)
        folder = os.path.join(OUT, name)
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "model.cnn"), "w") as f:
            f.write(text.format(version=torch.__version__))
        tvio.save_safetensors(model.state_dict(), os.path.join(folder, "weights.safetensors"))
        tvio.save_npy(x, os.path.join(folder, "input.npy"))
        tvio.save_npy(y, os.path.join(folder, "expected.npy"))
        print(f"{name}: {side}x{side}x3, output {tuple(y.shape)}, max |y| {y.abs().max():.3g}")


if __name__ == "__main__":
    main()
