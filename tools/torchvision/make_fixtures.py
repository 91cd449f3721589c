#!/usr/bin/env python3
"""Write Tests/Fixtures/torchvision/: small torchvision networks with torch's answers.

    python3 tools/torchvision/make_fixtures.py

Each case is built from torchvision's own classes (its ResNet and _make_layer, Bottleneck with
groups, DenseNet, Fire inside SqueezeNet, MNASNet, Inception inside GoogLeNet, MobileNetV2,
MobileNetV3 from its own configuration, EfficientNet from MBConv and FusedMBConv
configurations, RegNet from BlockParams with squeeze-excitation) at a reduced
width and resolution, so `swift test` checks the .cnn that make_models.py writes, loading the
unchanged state_dict, without torch. Every folder holds model.cnn, weights.safetensors,
input.npy (a batch of 2) and expected.npy (torch's float32 output).
"""
import functools
import importlib
import os
import sys

import torch
from torch import nn
from torchvision.models import densenet, efficientnet, mnasnet, mobilenetv2, mobilenetv3, regnet, resnet, squeezenet

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


def small_efficientnets():
    """EfficientNet's MBConv (SiLU, squeeze-excitation, stochastic depth) at a quarter of b0's
    width, and v2's FusedMBConv then MBConv with its batchnorm eps of 1e-3."""
    mb = functools.partial(efficientnet.MBConvConfig, width_mult=0.25, depth_mult=0.5)
    b0 = [mb(1, 3, 1, 32, 16, 1), mb(6, 3, 2, 16, 24, 2), mb(6, 5, 2, 24, 40, 2), mb(6, 3, 2, 40, 80, 3)]
    yield "efficientnet_b0", 32, (efficientnet.EfficientNet(b0, 0.2, num_classes=10),
                                  "torchvision.models.efficientnet.EfficientNet(b0's first four MBConvConfig stages "
                                  "with width_mult=0.25, depth_mult=0.5, dropout 0.2, num_classes=10)")
    fused, mbconv = efficientnet.FusedMBConvConfig, efficientnet.MBConvConfig
    v2 = [fused(1, 3, 1, 8, 8, 1), fused(4, 3, 2, 8, 16, 2), mbconv(4, 3, 2, 16, 24, 2)]
    yield "efficientnet_v2", 32, (efficientnet.EfficientNet(v2, 0.2, num_classes=10, last_channel=64,
                                                            norm_layer=functools.partial(nn.BatchNorm2d, eps=1e-3)),
                                  "torchvision.models.efficientnet.EfficientNet([FusedMBConvConfig(1, 3, 1, 8, 8, 1), "
                                  "FusedMBConvConfig(4, 3, 2, 8, 16, 2), MBConvConfig(4, 3, 2, 16, 24, 2)], 0.2, "
                                  "num_classes=10, last_channel=64, norm_layer=BatchNorm2d(eps=1e-3))")


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
    v2 = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 2, 2]]
    yield "mobilenet_v2", 32, (mobilenetv2.MobileNetV2(num_classes=10, width_mult=0.5, inverted_residual_setting=v2),
                               f"torchvision.models.mobilenetv2.MobileNetV2(num_classes=10, width_mult=0.5, "
                               f"inverted_residual_setting={v2})")
    setting, last = mobilenetv3._mobilenet_v3_conf("mobilenet_v3_small", width_mult=0.25, reduced_tail=True)
    yield "mobilenet_v3", 64, (mobilenetv3.MobileNetV3(setting, last, num_classes=10),
                               "torchvision.models.mobilenetv3.MobileNetV3(*_mobilenet_v3_conf('mobilenet_v3_small', "
                               "width_mult=0.25, reduced_tail=True), num_classes=10)")
    yield from small_efficientnets()
    params = regnet.BlockParams.from_init_params(depth=4, w_0=8, w_a=8.0, w_m=2.0, group_width=8, se_ratio=0.25)
    yield "regnet_y", 32, (regnet.RegNet(params, num_classes=10, stem_width=8),
                           "torchvision.models.regnet.RegNet(BlockParams.from_init_params(depth=4, w_0=8, w_a=8.0, "
                           "w_m=2.0, group_width=8, se_ratio=0.25), num_classes=10, stem_width=8)")


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
