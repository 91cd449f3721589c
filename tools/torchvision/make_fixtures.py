#!/usr/bin/env python3
"""Write Tests/Fixtures/torchvision/: small torchvision networks with torch's answers.

    python3 tools/torchvision/make_fixtures.py

Each case is built from torchvision's own classes (its ResNet and _make_layer, Bottleneck with
groups, DenseNet, Fire inside SqueezeNet, MNASNet, Inception inside GoogLeNet) at a reduced
width and resolution, so `swift test` checks the .cnn that make_models.py writes, loading the
unchanged state_dict, without torch. Every folder holds model.cnn, weights.safetensors,
input.npy (a batch of 2) and expected.npy (torch's float32 output).
"""
import importlib
import os
import sys

import torch
from torch import nn
from torchvision.models import densenet, mnasnet, resnet, squeezenet

googlenet = importlib.import_module("torchvision.models.googlenet")  # the module, not the function

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_models  # noqa: E402
import tvio  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "torchvision")


def narrow_resnet(block, layers, widths, groups=1, width_per_group=64):
    """torchvision's ResNet with its stem and stages rebuilt narrower by its own _make_layer."""
    m = resnet.ResNet(block, layers, num_classes=10, groups=groups, width_per_group=width_per_group)
    m.inplanes = widths[0]
    m.conv1 = nn.Conv2d(3, widths[0], kernel_size=7, stride=2, padding=3, bias=False)
    m.bn1 = nn.BatchNorm2d(widths[0])
    m.layer1 = m._make_layer(block, widths[0], layers[0])
    m.layer2 = m._make_layer(block, widths[1], layers[1], stride=2)
    m.layer3 = m._make_layer(block, widths[2], layers[2], stride=2)
    m.layer4 = m._make_layer(block, widths[3], layers[3], stride=2)
    m.fc = nn.Linear(widths[3] * block.expansion, 10)
    return m, (f"torchvision.models.resnet.ResNet({block.__name__}, {layers}, num_classes=10, groups={groups}, "
               f"width_per_group={width_per_group}) with conv1 and layer1-4 rebuilt by its _make_layer "
               f"at widths {widths}")


def small_squeezenet():
    """SqueezeNet 1.1's forward and layout (features, classifier) around torchvision's Fire."""
    m = squeezenet.SqueezeNet("1_1", num_classes=10)
    m.features = nn.Sequential(
        nn.Conv2d(3, 16, kernel_size=3, stride=2), nn.ReLU(inplace=True),
        nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
        squeezenet.Fire(16, 4, 8, 8), squeezenet.Fire(16, 4, 8, 8),
        nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
        squeezenet.Fire(16, 6, 12, 12))
    m.classifier = nn.Sequential(nn.Dropout(p=0.5), nn.Conv2d(24, 10, kernel_size=1), nn.ReLU(inplace=True),
                                 nn.AdaptiveAvgPool2d((1, 1)))
    return m, ("torchvision.models.squeezenet.SqueezeNet('1_1', num_classes=10) with features and classifier "
               "rebuilt around its Fire(16, 4, 8, 8), Fire(16, 4, 8, 8), Fire(16, 6, 12, 12)")


def small_googlenet():
    """GoogLeNet's forward with every BasicConv2d and Inception rebuilt at 1/8 of its width."""
    m = googlenet.GoogLeNet(num_classes=10, aux_logits=False, transform_input=False, init_weights=True)
    narrow = lambda c: max(1, c // 8)  # noqa: E731
    for name in ("conv1", "conv2", "conv3"):
        old = getattr(m, name).conv
        cin = 3 if name == "conv1" else narrow(old.in_channels)
        setattr(m, name, googlenet.BasicConv2d(cin, narrow(old.out_channels), kernel_size=old.kernel_size,
                                               stride=old.stride, padding=old.padding))
    for name, block in list(m.named_children()):
        if isinstance(block, googlenet.Inception):
            c = [block.branch1.conv.in_channels, block.branch1.conv.out_channels, block.branch2[0].conv.out_channels,
                 block.branch2[1].conv.out_channels, block.branch3[0].conv.out_channels,
                 block.branch3[1].conv.out_channels, block.branch4[1].conv.out_channels]
            setattr(m, name, googlenet.Inception(*[narrow(v) for v in c]))
    m.fc = nn.Linear(narrow(1024), 10)
    return m, ("torchvision.models.googlenet.GoogLeNet(num_classes=10, aux_logits=False, transform_input=False) "
               "with its BasicConv2d and Inception modules rebuilt at 1/8 of their widths")


def cases():
    yield "resnet_basic", 32, narrow_resnet(resnet.BasicBlock, [1, 2, 1, 1], [8, 16, 24, 32])
    yield "resnext_bottleneck", 32, narrow_resnet(resnet.Bottleneck, [2, 1, 1, 1], [8, 8, 16, 16], groups=4,
                                                  width_per_group=8)
    yield "densenet", 32, (densenet.DenseNet(growth_rate=4, block_config=(3, 2), num_init_features=8, bn_size=2,
                                             num_classes=10),
                           "torchvision.models.densenet.DenseNet(growth_rate=4, block_config=(3, 2), "
                           "num_init_features=8, bn_size=2, num_classes=10)")
    yield "squeezenet", 48, small_squeezenet()
    yield "mnasnet", 32, (mnasnet.MNASNet(0.25, num_classes=10), "torchvision.models.mnasnet.MNASNet(0.25, num_classes=10)")
    yield "googlenet", 64, small_googlenet()


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, side, (model, source) in cases():
        torch.manual_seed(0)
        tvio.randomize(model, seed=1, side=side, calibration=32)  # tiny maps: more images per statistic
        text = make_models.render(name, model, side, source)
        x = tvio.random_input(2, side, seed=2)
        with torch.no_grad():
            y = model(x)
        folder = os.path.join(OUT, name)
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "model.cnn"), "w") as f:
            f.write(text)
        tvio.save_safetensors(model.state_dict(), os.path.join(folder, "weights.safetensors"))
        tvio.save_npy(x, os.path.join(folder, "input.npy"))
        tvio.save_npy(y, os.path.join(folder, "expected.npy"))
        params = sum(p.numel() for p in model.parameters())
        print(f"{name}: {side}x{side}x3, {params:,} parameters, output {tuple(y.shape)}, max |y| {y.abs().max():.3g}")


if __name__ == "__main__":
    main()
