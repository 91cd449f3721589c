#!/usr/bin/env python3
"""Write torchvision classification models as .cnn files whose weight keys are torchvision's.

    python3 tools/torchvision/make_models.py resnet50 densenet121 ...   # -> models/torchvision/NAME.cnn
    python3 tools/torchvision/make_models.py --all                      # every model it can write

The model is traced with torch.fx, so the .cnn follows the model's real forward() (no wiring
is transcribed by hand per family, which could go wrong silently); a layer with weights is
named after its module path, so `state_dict()` loads unchanged, and a weightless step
(add, cat, flatten, functional pools) is named after the module whose forward() made it
(`layer1.0.add`, `Mixed_5b.avg_pool2d`). A model needing an op the language lacks is refused
with the list of what is missing. Needs torch and torchvision; nothing in `swift test` does.
"""
import argparse
import operator
import os
import re
import sys

import torch
import torch.fx
import torchvision
from torch import nn
from torch.fx.passes.shape_prop import ShapeProp
from torch.nn import functional as F
from torchvision.models import shufflenetv2

# The families this tool is run on; the rest of torchvision's classification models need ops
# the language lacks (make_models.py says which when asked for one).
EXPRESSIBLE = (
    ["alexnet"]
    + [f"vgg{n}{bn}" for n in (11, 13, 16, 19) for bn in ("", "_bn")]
    + [f"resnet{n}" for n in (18, 34, 50, 101, 152)]
    + ["resnext50_32x4d", "resnext101_32x8d", "resnext101_64x4d", "wide_resnet50_2", "wide_resnet101_2"]
    + ["squeezenet1_0", "squeezenet1_1", "googlenet", "inception_v3"]
    + [f"densenet{n}" for n in (121, 161, 169, 201)]
    + ["mnasnet0_5", "mnasnet0_75", "mnasnet1_0", "mnasnet1_3"]
    + [f"shufflenet_v2_x{w}" for w in ("0_5", "1_0", "1_5", "2_0")]
    + [f"convnext_{s}" for s in ("tiny", "small", "base", "large")]
    + ["mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large"]
    + [f"efficientnet_b{n}" for n in range(8)] + [f"efficientnet_v2_{s}" for s in "sml"]
    + [f"regnet_{xy}_{size}" for xy in "xy" for size in ("400mf", "800mf", "1_6gf", "3_2gf", "8gf", "16gf", "32gf")]
)

# Activation modules and functions, as the language's words; each is written on the layer
# before it when that layer takes a trailing activation.
ACTIVATIONS = {
    nn.ReLU: "relu", nn.ReLU6: "relu6", nn.Hardswish: "hardswish", nn.Hardsigmoid: "hardsigmoid",
    nn.SiLU: "silu", nn.Sigmoid: "sigmoid", nn.Tanh: "tanh",
    F.relu: "relu", torch.relu: "relu", "relu": "relu", F.relu6: "relu6", F.hardswish: "hardswish",
    F.hardsigmoid: "hardsigmoid", F.silu: "silu", torch.sigmoid: "sigmoid", "sigmoid": "sigmoid",
}
ACTIVATION_WORDS = set(ACTIVATIONS.values()) | {"gelu"}

# Modules and functions that need ops the language does not have yet (issue #17).
MISSING = {
    torch.transpose: "a transpose other than channel_shuffle's",
}
# The layers that take a trailing activation.
ACTIVATABLE = ("conv", "depthwise", "fc", "pointwise", "add", "concat", "mul")
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*\Z")


class Refused(Exception):
    pass


def build(name, **overrides):
    """torchvision's constructor, with the options issue #17 fixes for the two Inception nets."""
    kwargs = {"weights": None}
    if name in ("googlenet", "inception_v3"):
        kwargs.update(aux_logits=False, transform_input=False, init_weights=True)
    kwargs.update(overrides)
    return torchvision.models.get_model(name, **kwargs), kwargs


def input_size(name):
    """The crop size of the model's pretrained weights' transforms (224; inception_v3 299,
    efficientnet_b1-b7 and v2 240-600), read from torchvision without downloading them."""
    return torchvision.models.get_model_weights(name).DEFAULT.transforms.keywords.get("crop_size", 224)


class ScopeTracer(torch.fx.Tracer):
    """A tracer that records, on every node, the path of the module whose forward() made it
    (torch.fx keeps that path in `self.scope` while it traces a submodule)."""

    def create_node(self, *args, **kwargs):
        node = super().create_node(*args, **kwargs)
        node.meta["scope"] = self.scope.module_path
        return node


def pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def size(hw):
    """PyTorch's (h, w) as the language's WxH."""
    h, w = pair(hw)
    return f"{w}x{h}"


def step(hw):
    """A stride, padding or dilation: one number when square, as models/ writes them."""
    h, w = pair(hw)
    return str(w) if w == h else f"{w}x{h}"


def fmt(x):
    return f"{float(x):g}"  # 0.001, 0.5, 1e-05: forms the language reads


class Writer:
    def __init__(self, model, gm, side):
        self.model, self.gm, self.side = model, gm, side
        self.modules = dict(gm.named_modules())
        self.lines = []          # (name, text, comment)
        self.alias = {}          # fx node -> the .cnn name holding its value
        self.used = set()
        self.missing = {}        # op -> first place needing it
        self.concats = []        # (operand names, .cnn name), to chain densenet's growing concats
        self.channels_last = set()  # fx nodes holding a value permuted to [N, H, W, C] (convnext)
        self.chunks = {}         # fx node of x.chunk(n, dim=1) -> (its input node, channels per piece)
        self.attrs = {}          # fx get_attr node -> the parameter's path (layer_scale, LayerNorm2d's)

    def need(self, op, where):
        self.missing.setdefault(op, where)

    def unique(self, name):
        base, n = name, 1
        while name in self.used:
            n += 1
            name = f"{base}_{n}"
        self.used.add(name)
        return name

    def shape(self, node):
        return tuple(node.meta["tensor_meta"].shape)

    def ref(self, arg):
        if arg not in self.alias and self.missing:
            return "?"  # read from a step already refused: keep going, to list everything missing
        if arg in self.attrs:
            raise Refused(f"a parameter read directly ({self.attrs[arg]}) by an op other than layer scale or LayerNorm2d")
        return self.alias[arg]

    def channels_last_of(self, node, x):
        """A per-position op on a value permuted to channels-last keeps it so."""
        if x in self.channels_last:
            self.channels_last.add(node)
            return True
        return False

    def emit(self, node, name, text, inputs):
        """One layer reading `inputs` (fx nodes); `from` only when it is not the line above."""
        if not NAME.match(name):
            self.need("'-' and other characters in names", name)
        src = [self.ref(i) for i in inputs]
        previous = self.lines[-1][0] if self.lines else "input"
        if len(src) == 1 and src[0] != previous:
            text += f" from {src[0]}"
        shape = self.shape(node)
        if len(shape) == 4 and node in self.channels_last:
            shape = (shape[0], shape[3], shape[1], shape[2])  # [N, H, W, C] -> [N, C, H, W]
        comment = "x".join(map(str, (shape[3], shape[2], shape[1]))) if len(shape) == 4 else str(shape[1])
        self.lines.append([name, text, comment])
        self.alias[node] = name

    def fuse(self, node, source, word):
        """An activation right after a layer that takes a trailing one, and its only reader."""
        if not self.lines or self.lines[-1][0] != self.alias.get(source) or len(source.users) != 1:
            return False
        last = self.lines[-1][1].split()
        if last[0] not in ACTIVATABLE or last[-1] in ACTIVATION_WORDS:
            return False
        self.lines[-1][1] += " " + word
        self.alias[node] = self.lines[-1][0]
        return True

    def activation(self, node, source, word, name):
        if not self.fuse(node, source, word):
            self.emit(node, name, word, [source])

    def function_name(self, node, op):
        scope = node.meta.get("scope", "")
        return self.unique(f"{scope}.{op}" if scope else op)

    def run(self):
        for node in self.gm.graph.nodes:
            if node.op == "placeholder":
                self.alias[node] = "input"
            elif node.op == "output":
                out = node.args[0]
                if self.alias.get(out) != self.lines[-1][0]:
                    raise Refused(f"the output {out} is not the last layer")
            elif node.op == "call_module":
                self.module(node, self.modules[node.target])
            elif node.op in ("call_function", "call_method"):
                self.function(node)
            elif node.op == "get_attr":
                self.attrs[node] = node.target
        if self.missing:
            raise Refused("needs " + "; ".join(f"{op} (first at {where})" for op, where in self.missing.items()))

    def module(self, node, m):
        name, x = node.target, node.args[0]
        if type(m) in MISSING:
            return self.need(MISSING[type(m)], f"{name}, {type(m).__name__}")
        if isinstance(m, nn.Conv2d):
            return self.conv(node, name, m, x)
        if isinstance(m, nn.BatchNorm2d):
            if not (m.affine and m.track_running_stats):
                return self.need("batchnorm without affine weights or running statistics", name)
            eps = "" if m.eps == 1e-5 else f" eps {fmt(m.eps)}"
            return self.emit(node, self.unique(name), "batchnorm" + eps, [x])
        if type(m) in ACTIVATIONS:
            return self.activation(node, x, ACTIVATIONS[type(m)], self.unique(name))
        if isinstance(m, nn.MaxPool2d):
            return self.pool(node, self.unique(name), "maxpool", x, m.kernel_size, m.stride, m.padding, m.ceil_mode, m.dilation)
        if isinstance(m, nn.AvgPool2d):
            if not m.count_include_pad or m.divisor_override:
                return self.need("an average pool that does not count padding", name)
            return self.pool(node, self.unique(name), "avgpool", x, m.kernel_size, m.stride, m.padding, m.ceil_mode)
        if isinstance(m, nn.AdaptiveAvgPool2d):
            return self.adaptive(node, self.unique(name), x, m.output_size)
        if isinstance(m, nn.Dropout):
            return self.emit(node, self.unique(name), f"dropout {fmt(m.p)}", [x])
        if isinstance(m, nn.LayerNorm):
            if not self.channels_last_of(node, x) or tuple(m.normalized_shape) != (self.shape(x)[-1],) or not m.elementwise_affine:
                return self.need("a LayerNorm other than over the channels with weights", name)
            return self.emit(node, self.unique(name), f"layernorm eps {fmt(m.eps)}", [x])
        if isinstance(m, nn.GELU):
            word = "gelu tanh" if m.approximate == "tanh" else "gelu"
            self.channels_last_of(node, x)
            if not self.fuse(node, x, word):
                self.emit(node, self.unique(name), word, [x])
            return
        if isinstance(m, nn.Linear) and self.channels_last_of(node, x):
            # torch's Linear on the channels-last view: the same Linear at every position.
            return self.emit(node, self.unique(name), f"pointwise {m.out_features}" + ("" if m.bias is not None else " nobias"), [x])
        if isinstance(m, nn.Linear):
            if m.bias is None:
                return self.need("an fc without bias", name)
            return self.emit(node, self.unique(name), f"fc {m.out_features}", [x])
        if isinstance(m, (nn.Flatten,)):
            return self.emit(node, self.unique(name), "flatten", [x])
        if isinstance(m, nn.Identity):
            self.alias[node] = self.alias[x]
            return
        self.need(f"torch module {type(m).__name__}", name)

    def conv(self, node, name, m, x):
        if m.padding_mode != "zeros" or isinstance(m.padding, str):
            return self.need(f"conv padding {m.padding_mode} {m.padding}", name)
        opts = []
        if m.stride != (1, 1):
            opts.append(f"stride {step(m.stride)}")
        if m.padding != (0, 0):
            opts.append(f"pad {step(m.padding)}")
        if m.dilation != (1, 1):
            opts.append(f"dilation {step(m.dilation)}")
        if m.groups > 1 and m.groups == m.in_channels:
            op = f"depthwise {size(m.kernel_size)}"
            if m.out_channels != m.in_channels:
                opts.append(f"multiplier {m.out_channels // m.in_channels}")
        else:
            op = f"conv {m.out_channels} {size(m.kernel_size)}"
            if m.groups > 1:
                opts.append(f"groups {m.groups}")
        if m.bias is None:
            opts.append("nobias")
        self.emit(node, self.unique(name), " ".join([op] + opts), [x])

    def pool(self, node, name, op, x, kernel, stride, padding, ceil, dilation=1):
        if pair(dilation) != (1, 1):
            return self.need("a dilated pool", name)
        stride = kernel if stride is None or stride == [] else stride
        opts = [f"{op} {size(kernel)}"]
        opts.append(f"stride {step(stride)}")  # explicit: the language's default differs from none
        if pair(padding) != (0, 0):
            opts.append(f"pad {step(padding)}")
        if ceil:
            opts.append("round ceil")
        self.emit(node, name, " ".join(opts), [x])

    def adaptive(self, node, name, x, out):
        """Adaptive average pooling: global, the identity, or an even tiling; else refused."""
        _, _, h, w = self.shape(x)
        oh, ow = pair(out)
        oh, ow = oh or h, ow or w
        if (oh, ow) == (1, 1):
            return self.emit(node, name, "globalavgpool", [x])
        if (oh, ow) == (h, w):
            self.used.discard(name)
            self.alias[node] = self.alias[x]  # torchvision's pool is the identity at this size
            return
        if h % oh == 0 and w % ow == 0:
            k = (h // oh, w // ow)
            return self.emit(node, name, f"avgpool {size(k)} stride {step(k)}", [x])
        self.need("adaptive average pooling to a size that does not divide the input", name)

    def function(self, node):
        t = node.target
        args = node.args
        if self.convnext_or_shufflenet(node, t, args):
            return
        if t in MISSING:
            return self.need(MISSING[t], node.meta.get("scope") or node.name)
        if t in ACTIVATIONS:
            word = ACTIVATIONS[t]
            return self.activation(node, args[0], word, self.function_name(node, word))
        if t is F.gelu:
            word = "gelu tanh" if node.kwargs.get("approximate", "none") == "tanh" else "gelu"
            return self.activation(node, args[0], word, self.function_name(node, "gelu"))
        if t in (operator.mul, torch.mul) or t == "mul":
            a, b = args[0], args[1]
            if not all(isinstance(v, torch.fx.Node) for v in (a, b)) or node.kwargs:
                return self.need("a multiply by a constant", node.name)
            name = self.function_name(node, "mul")
            return self.emit(node, name, f"mul {self.ref(a)} {self.ref(b)}", [a, b])
        if t in (operator.add, torch.add, operator.iadd) or t in ("add", "add_"):
            a, b = args[0], args[1]
            if not all(isinstance(v, torch.fx.Node) for v in (a, b)) or node.kwargs:
                return self.need("an add of a constant", node.name)
            name = self.function_name(node, "add")
            return self.emit(node, name, f"add {self.ref(a)} {self.ref(b)}", [a, b])
        if t is torch.cat:
            parts = list(args[0])
            dim = args[1] if len(args) > 1 else node.kwargs.get("dim", 0)
            if dim != 1:
                return self.need("a concat along an axis other than depth", node.name)
            if len(parts) == 1:
                self.alias[node] = self.ref(parts[0])
                return
            names = [self.ref(p) for p in parts]
            operands = names
            # densenet concatenates every earlier output again in each layer: reuse the longest
            # earlier concat that is a prefix of this one, so each line adds one operand.
            for earlier, cname in reversed(self.concats):
                if len(earlier) < len(names) and names[: len(earlier)] == earlier:
                    operands = [cname] + names[len(earlier):]
                    break
            name = self.function_name(node, "cat")
            self.concats.append((names, name))
            return self.emit(node, name, "concat " + " ".join(operands), parts)
        if t is torch.flatten or t in ("flatten", "view", "reshape"):
            shape = self.shape(node)
            if len(shape) != 2:
                return self.need("a reshape other than flattening", node.name)
            return self.emit(node, self.function_name(node, "flatten"), "flatten", [args[0]])
        if t == "mean" or t is torch.mean:
            dims = args[1] if len(args) > 1 else node.kwargs.get("dim")
            if sorted(d % 4 for d in dims) != [2, 3]:
                return self.need("a mean over axes other than width and height", node.name)
            keep = node.kwargs.get("keepdim", False) or (len(args) > 2 and args[2])
            name = self.function_name(node, "mean")
            self.emit(node, name, "globalavgpool", [args[0]])
            channels = self.shape(args[0])[1]
            self.lines[-1][2] = f"1x1x{channels}"
            if not keep:
                # torch drops the 1x1 axes here: a flatten says so, and the output is a vector
                fl = self.function_name(node, "flatten")
                self.lines.append([fl, "flatten", str(channels)])
                self.alias[node] = fl
            return
        if t is F.max_pool2d:
            kw = dict(zip(["kernel_size", "stride", "padding", "dilation", "ceil_mode"], args[1:]), **node.kwargs)
            return self.pool(node, self.function_name(node, "max_pool2d"), "maxpool", args[0], kw["kernel_size"],
                             kw.get("stride"), kw.get("padding", 0), kw.get("ceil_mode", False), kw.get("dilation", 1))
        if t is F.avg_pool2d:
            kw = dict(zip(["kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override"],
                          args[1:]), **node.kwargs)
            if not kw.get("count_include_pad", True) or kw.get("divisor_override"):
                return self.need("an average pool that does not count padding", node.name)
            return self.pool(node, self.function_name(node, "avg_pool2d"), "avgpool", args[0], kw["kernel_size"],
                             kw.get("stride"), kw.get("padding", 0), kw.get("ceil_mode", False))
        if t is F.adaptive_avg_pool2d:
            return self.adaptive(node, self.function_name(node, "avgpool"), args[0], args[1])
        if getattr(t, "__name__", "") == "stochastic_depth":
            training = args[3] if len(args) > 3 else node.kwargs.get("training", True)
            if training is False:
                self.alias[node] = self.ref(args[0])  # the identity in eval mode
                return
        if t is F.dropout:
            p = args[1] if len(args) > 1 else node.kwargs.get("p", 0.5)
            return self.emit(node, self.function_name(node, "dropout"), f"dropout {fmt(p)}", [args[0]])
        what = t if isinstance(t, str) else getattr(t, "__name__", str(t))
        self.need(f"torch function {what}", node.meta.get("scope") or node.name)


def _convnext_or_shufflenet(self, node, t, args):
    """The steps of convnext (permutes, LayerNorm2d's F.layer_norm, layer_scale · x) and of
    shufflenet_v2 (chunk, channel_shuffle); True when `node` was one of them."""
    scope = node.meta.get("scope", "")
    if t is torch.permute or t == "permute":
        dims = list(args[1]) if len(args) == 2 and not isinstance(args[1], int) else list(args[1:])
        x = args[0]
        if dims == [0, 2, 3, 1] and x not in self.channels_last:
            self.channels_last.add(node)
        elif dims == [0, 3, 1, 2] and x in self.channels_last:
            pass
        else:
            self.need(f"a permutation of axes {dims}", scope or node.name)
            return True
        self.alias[node] = self.ref(x)
        return True
    if t is F.layer_norm:
        x, shape = args[0], args[1]
        weight, bias = (list(args[2:4]) + [node.kwargs.get("weight"), node.kwargs.get("bias")])[:2]
        eps = args[4] if len(args) > 4 else node.kwargs.get("eps", 1e-5)
        if not self.channels_last_of(node, x) or tuple(shape) != (self.shape(x)[-1],) or \
                self.attrs.get(weight) != f"{scope}.weight" or self.attrs.get(bias) != f"{scope}.bias":
            self.need("a layer_norm other than LayerNorm2d's", scope or node.name)
            return True
        self.emit(node, self.unique(scope), f"layernorm eps {fmt(eps)}", [x])
        return True
    if t in (operator.mul, torch.mul) and any(self.attrs.get(a, "").endswith(".layer_scale") for a in args[:2]):
        scale, x = (args[0], args[1]) if args[0] in self.attrs else (args[1], args[0])
        if x in self.channels_last:
            self.need("a layer scale on channels-last values", scope or node.name)
            return True
        self.emit(node, self.unique(self.attrs[scale][: -len(".layer_scale")]), "layerscale", [x])
        return True
    if t is torch.chunk or t == "chunk":
        x, pieces = args[0], args[1]
        dim = args[2] if len(args) > 2 else node.kwargs.get("dim", 0)
        channels = self.shape(x)[1]
        if dim != 1 or channels % pieces:
            self.need("a chunk other than into equal parts along depth", scope or node.name)
            return True
        self.chunks[node] = (x, channels // pieces)
        return True
    if t is operator.getitem and args[0] in self.chunks:
        x, width = self.chunks[args[0]]
        i = args[1]
        self.emit(node, self.function_name(node, "chunk"), f"slice {i * width} {(i + 1) * width}", [x])
        return True
    if t is shufflenetv2.channel_shuffle:
        groups = args[1] if len(args) > 1 else node.kwargs["groups"]
        self.emit(node, self.function_name(node, "channel_shuffle"), f"shuffle {groups}", [args[0]])
        return True
    return False


Writer.convnext_or_shufflenet = _convnext_or_shufflenet


def trace(model, side):
    model.eval()
    # channel_shuffle stays one call (the language's `shuffle`), not its view/transpose/view.
    tracer = ScopeTracer(autowrap_functions=(shufflenetv2.channel_shuffle,))
    graph = tracer.trace(model)
    gm = torch.fx.GraphModule(tracer.root, graph)
    ShapeProp(gm).propagate(torch.zeros(1, 3, side, side))
    return gm


def render(net_name, model, side, source):
    gm = trace(model, side)
    w = Writer(model, gm, side)
    w.run()
    params = sum(p.numel() for p in model.parameters())
    lengths = sorted(len(f"{n}: {t}") for n, t, _ in w.lines)
    width = min(lengths[-1], lengths[len(lengths) * 9 // 10]) + 2  # a few long concats stick out
    out = [
        f"# {net_name}: torchvision {torchvision.__version__}, {source}.",
        "# Written by tools/torchvision/make_models.py from the model's torch.fx trace: layers with",
        "# weights carry torchvision's module paths, so its state_dict (saved as safetensors) loads",
        "# unchanged; weightless steps are named after the module whose forward() made them. An",
        "# activation is written on the layer before it when that layer takes one (torchvision's",
        "# activation modules have no weights). Comments give each output as WxHxD.",
        f"# {params:,} trainable parameters (torch's count).",
        f"network {net_name}",
        f"input {side}x{side}x3",
        "",
    ]
    for n, t, c in w.lines:
        line = f"{n}: {t}"
        out.append(line.ljust(width) + f"# {c}" if len(line) < width else f"{line}  # {c}")
    return "\n".join(out) + "\n"


def constructor_text(name, kwargs):
    args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    return f"torchvision.models.{name}({args})"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("names", nargs="*")
    ap.add_argument("--all", action="store_true", help="every model in EXPRESSIBLE")
    ap.add_argument("-o", "--out", default=os.path.join(os.path.dirname(__file__), "..", "..", "models", "torchvision"))
    a = ap.parse_args()
    names = EXPRESSIBLE if a.all else a.names
    if not names:
        ap.error("name a model or give --all")
    os.makedirs(a.out, exist_ok=True)
    failed = 0
    for name in names:
        try:
            model, kwargs = build(name)
            text = render(name, model, input_size(name), constructor_text(name, kwargs))
        except Refused as e:
            print(f"make_models.py: {name}: cannot be written in the .cnn language: {e}", file=sys.stderr)
            failed += 1
            continue
        path = os.path.join(a.out, name + ".cnn")
        with open(path, "w") as f:
            f.write(text)
        print(f"wrote {os.path.normpath(path)}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
