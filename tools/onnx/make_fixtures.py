#!/usr/bin/env python3
"""Write the small ONNX models `cnnc import` is tested on, with ONNX Runtime's answers.

    python3 -m venv /work/onnxenv && /work/onnxenv/bin/pip install onnx onnxruntime numpy
    /work/onnxenv/bin/python tools/onnx/make_fixtures.py      # -> Tests/Fixtures/onnx/

Each model is built with onnx.helper (no torch needed), checked with onnx.checker, run in
ONNX Runtime on a fixed input, and written as NAME.onnx with NAME.input.npy and
NAME.expected.npy ([N, C, H, W] float32, as `cnnc run --input` reads). The names imitate what
exporters write: torch's scope paths (`/features/features.0/Conv`) and parameter names
(`features.0.weight`), folded names (`onnx::Conv_12`), and nodes without a name. The models
that cannot be imported have no .npy files; the tests check what `cnnc import` says of them.
examples/onnx/small_cnn.onnx is the `chain` model, for the README and `cnnc import --help`.
"""
import os
import shutil

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
OUT = os.path.join(ROOT, "Tests", "Fixtures", "onnx")
rng = np.random.default_rng(21)
ort.set_default_logger_severity(3)


class Graph:
    """Nodes and initializers of one model, added in order."""

    def __init__(self):
        self.nodes, self.inits = [], []

    def weight(self, name, shape, scale=0.5):
        values = (rng.standard_normal(shape) * scale).astype(np.float32)
        self.inits.append(helper.make_tensor(name, TensorProto.FLOAT, shape, values.tobytes(), raw=True))
        return name

    def positive(self, name, shape):
        values = rng.uniform(0.5, 1.5, shape).astype(np.float32)
        self.inits.append(helper.make_tensor(name, TensorProto.FLOAT, shape, values.tobytes(), raw=True))
        return name

    def ints(self, name, values):
        self.inits.append(helper.make_tensor(name, TensorProto.INT64, [len(values)], values))
        return name

    def scalar(self, name, value):
        self.inits.append(helper.make_tensor(name, TensorProto.FLOAT, [], [value]))
        return name

    def node(self, op, inputs, outputs, name="", **attrs):
        self.nodes.append(helper.make_node(op, inputs, outputs, name=name, **attrs))
        return outputs[0]

    def conv(self, x, prefix, cin, cout, k, name, bias=True, group=1, **attrs):
        # torch names a parameter it folded (a conv with its batchnorm) onnx::Conv_N.
        folded = prefix.startswith("onnx::")
        w = self.weight(prefix if folded else prefix + ".weight", [cout, cin // group, k, k])
        inputs = [x, w] + ([self.weight(prefix + ("_bias" if folded else ".bias"), [cout], 0.1)] if bias else [])
        return self.node("Conv", inputs, [(name or prefix) + "_out"], name=name, kernel_shape=[k, k], group=group, **attrs)

    def bn(self, x, prefix, c, name, **attrs):
        inputs = [x, self.positive(prefix + ".weight", [c]), self.weight(prefix + ".bias", [c], 0.1),
                  self.weight(prefix + ".running_mean", [c], 0.1), self.positive(prefix + ".running_var", [c])]
        return self.node("BatchNormalization", inputs, [(name or prefix) + "_out"], name=name, **attrs)


def model(graph, name, input_dims, output, opset, input_name="input", inits_as_inputs=False, ir=None):
    inputs = [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, input_dims)]
    if inits_as_inputs:  # IR version 3's habit: every initializer is also a graph input
        inputs += [helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)) for t in graph.inits]
    g = helper.make_graph(graph.nodes, name, inputs, [helper.make_tensor_value_info(output, TensorProto.FLOAT, None)],
                          initializer=graph.inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], producer_name="make_fixtures.py",
                          producer_version="1")
    m.ir_version = ir or (7 if opset <= 12 else 8)
    # The output's shape as onnx infers it (exporters write it; cnnc import compares it).
    inferred = onnx.shape_inference.infer_shapes(m)
    m.graph.output[0].CopyFrom(inferred.graph.output[0])
    onnx.checker.check_model(m)
    return m


def write(m, name, shape=None, run=True):
    path = os.path.join(OUT, name + ".onnx")
    onnx.save(m, path)
    if not run:
        return
    x = rng.standard_normal(shape).astype(np.float32)
    session = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    y = session.run(None, {m.graph.input[0].name: x})[0]
    np.save(os.path.join(OUT, name + ".input.npy"), x)
    np.save(os.path.join(OUT, name + ".expected.npy"), y.astype(np.float32))
    print(f"{name}: {os.path.getsize(path)} bytes, input {list(x.shape)}, output {list(y.shape)}")


def chain():
    """conv-bn-relu-pool-conv-relu-gap-flatten-gemm, torch's names, opset 13."""
    g = Graph()
    x = g.conv("input", "features.0", 3, 8, 3, "/features/features.0/Conv", bias=False, pads=[1, 1, 1, 1])
    x = g.bn(x, "features.1", 8, "/features/features.1/BatchNormalization", epsilon=1e-5)
    x = g.node("Relu", [x], ["relu1"], name="/features/features.2/Relu")
    x = g.node("MaxPool", [x], ["pool1"], name="/features/features.3/MaxPool", kernel_shape=[2, 2], strides=[2, 2])
    x = g.conv(x, "features.4", 8, 16, 3, "/features/features.4/Conv", strides=[2, 2], pads=[1, 1, 1, 1])
    x = g.node("Relu", [x], ["relu2"], name="/features/features.5/Relu")
    x = g.node("GlobalAveragePool", [x], ["gap"], name="/avgpool/GlobalAveragePool")
    x = g.node("Flatten", [x], ["flat"], name="/Flatten", axis=1)
    x = g.node("Gemm", [x, g.weight("classifier.weight", [10, 16]), g.weight("classifier.bias", [10], 0.1)], ["logits"],
               name="/classifier/Gemm", transB=1, alpha=1.0, beta=1.0)
    return model(g, "main_graph", ["batch", 3, 16, 16], x, 13)


def residual():
    """Two residual blocks (identity and 1x1 projection), Clip(0, 6) from inputs, an average
    pool counting its padding, Dropout and Identity in the chain; opset 11, unnamed nodes."""
    g = Graph()
    stem = g.conv("input", "conv1", 4, 8, 3, "", pads=[1, 1, 1, 1])
    stem = g.node("Relu", [stem], ["stem"])
    a = g.conv(stem, "layer1.0.conv1", 8, 8, 3, "", pads=[1, 1, 1, 1])
    a = g.node("Clip", [a, g.scalar("zero", 0.0), g.scalar("six", 6.0)], ["a_relu6"])
    a = g.conv(a, "layer1.0.conv2", 8, 8, 3, "", pads=[1, 1, 1, 1])
    a = g.node("Add", [a, stem], ["block1_sum"])
    a = g.node("Relu", [a], ["block1"])
    b = g.conv(a, "layer2.0.conv1", 8, 12, 3, "", strides=[2, 2], pads=[1, 1, 1, 1])
    b = g.node("Dropout", [b], ["b_drop"])
    b = g.node("Relu", [b], ["b_relu"])
    b = g.conv(b, "layer2.0.conv2", 12, 12, 3, "", pads=[1, 1, 1, 1])
    s = g.conv(a, "layer2.0.downsample.0", 8, 12, 1, "", bias=False, strides=[2, 2])
    s = g.node("Identity", [s], ["shortcut"])
    b = g.node("Add", [s, b], ["block2_sum"])
    b = g.node("Relu", [b], ["block2"])
    b = g.node("AveragePool", [b], ["pooled"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], count_include_pad=1)
    return model(g, "residual", [1, 4, 8, 8], b, 11)


def concat():
    """An inception module: four branches, concatenated, then LRN and a softmax over the
    channels; opset 17, folded parameter names."""
    g = Graph()
    x = g.conv("input", "onnx::Conv_1", 3, 6, 1, "stem_conv")
    x = g.node("Relu", [x], ["stem"], name="stem_relu")
    b1 = g.conv(x, "onnx::Conv_2", 6, 4, 1, "inception/b1")
    b2 = g.conv(x, "onnx::Conv_3", 6, 5, 3, "inception/b2", pads=[1, 1, 1, 1])
    b3 = g.conv(x, "onnx::Conv_4", 6, 3, 5, "inception/b3", pads=[2, 2, 2, 2], dilations=[1, 1])
    b4 = g.node("MaxPool", [x], ["b4_pool"], name="inception/b4_pool", kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1])
    b4 = g.conv(b4, "onnx::Conv_5", 6, 2, 1, "inception/b4")
    x = g.node("Concat", [b1, b2, b3, b4], ["cat"], name="inception/cat", axis=1)
    x = g.node("LRN", [x], ["norm"], name="norm", size=3, alpha=1e-3, beta=0.75, bias=2.0)
    x = g.node("Softmax", [x], ["probs"], name="probs", axis=1)
    return model(g, "inception", [1, 3, 7, 9], x, 17)


def depthwise():
    """MobileNet's pieces: depthwise (with SAME_UPPER padding and a multiplier), grouped and
    dilated convs, hardswish, and squeeze-excitation's Mul by hardsigmoid; opset 14."""
    g = Graph()
    x = g.conv("input", "dw", 4, 4, 3, "dw", group=4, strides=[2, 2], auto_pad="SAME_UPPER")
    x = g.node("HardSwish", [x], ["dw_act"], name="dw_hardswish")
    x = g.conv(x, "dw2", 4, 8, 3, "dw2", group=4, pads=[1, 1, 1, 1])
    x = g.conv(x, "grouped", 8, 6, 3, "grouped", group=2, pads=[2, 2, 2, 2], dilations=[2, 2])
    s = g.node("GlobalAveragePool", [x], ["se_pool"], name="se/pool")
    s = g.conv(s, "se.fc1", 6, 3, 1, "se/fc1")
    s = g.node("Relu", [s], ["se_relu"], name="se/relu")
    s = g.conv(s, "se.fc2", 3, 6, 1, "se/fc2")
    s = g.node("HardSigmoid", [s], ["se_gate"], name="se/gate", alpha=1.0 / 6, beta=0.5)
    x = g.node("Mul", [x, s], ["scaled"], name="se/mul")
    return model(g, "mobile", [1, 4, 9, 9], x, 14)


def activations():
    """A vector network: every activation between fc layers made three ways (Gemm with
    transB=1, Gemm with transB=0 and alpha, beta, MatMul + Add); opset 13."""
    g = Graph()
    x = g.node("Gemm", ["input", g.weight("fc1.weight", [16, 12]), g.weight("fc1.bias", [16], 0.1)], ["h1"], name="fc1", transB=1)
    x = g.node("LeakyRelu", [x], ["a1"], name="leaky", alpha=0.1)
    x = g.node("Gemm", [x, g.weight("fc2_w", [16, 16]), g.weight("fc2_b", [1, 16], 0.1)], ["h2"], name="fc2", alpha=0.5, beta=2.0)
    x = g.node("Elu", [x], ["a2"], name="elu", alpha=0.5)
    x = g.node("MatMul", [x, g.weight("fc3_w", [16, 14])], ["mm"], name="fc3")
    x = g.node("Add", [x, g.weight("fc3_b", [14], 0.1)], ["h3"], name="fc3_bias")
    x = g.node("Sigmoid", [x], ["a3"], name="sigmoid")
    x = g.node("Gemm", [x, g.weight("fc4.weight", [14, 14]), g.weight("fc4.bias", [14], 0.1)], ["h4"], name="fc4", transB=1)
    x = g.node("Tanh", [x], ["a4"], name="tanh")
    x = g.node("HardSigmoid", [x], ["a5"], name="hardsigmoid", alpha=1.0 / 6, beta=0.5)
    x = g.node("Gemm", [x, g.weight("fc5.weight", [12, 14]), g.weight("fc5.bias", [12], 0.1)], ["h5"], name="fc5", transB=1)
    x = g.node("Clip", [x, g.scalar("low", 0.0), g.scalar("high", 6.0)], ["a6"], name="relu6")
    x = g.node("Gemm", [x, g.weight("out.weight", [5, 12]), g.weight("out.bias", [5], 0.1)], ["h6"], name="out", transB=1)
    x = g.node("Softmax", [x], ["probs"], name="softmax", axis=-1)
    return model(g, "mlp", ["N", 12], x, 13)


def shape_flatten():
    """torch's `x.view(x.size(0), -1)`: Shape → Gather → Unsqueeze → Concat → Reshape, with a
    Constant node; opset 13."""
    g = Graph()
    x = g.conv("input", "conv", 2, 3, 3, "/conv/Conv")
    x = g.node("Relu", [x], ["r"], name="/relu/Relu")
    shape = g.node("Shape", [x], ["shape"], name="/Shape")
    index = g.node("Constant", [], ["zero"], name="/Constant", value=helper.make_tensor("v", TensorProto.INT64, [], [0]))
    n = g.node("Gather", [shape, index], ["n"], name="/Gather", axis=0)
    n = g.node("Unsqueeze", [n, g.ints("axes0", [0])], ["n1"], name="/Unsqueeze")
    target = g.node("Concat", [n, g.ints("minus_one", [-1])], ["target"], name="/Concat", axis=0)
    x = g.node("Reshape", [x, target], ["flat"], name="/Reshape")
    x = g.node("Gemm", [x, g.weight("fc.weight", [4, 3 * 4 * 5]), g.weight("fc.bias", [4], 0.1)], ["y"], name="/fc/Gemm", transB=1)
    return model(g, "main_graph", ["batch", 2, 6, 7], x, 13)


def legacy():
    """Opset 10: Clip and Dropout by attributes, BatchNormalization, max pool rounding up,
    GlobalMaxPool and Squeeze by attribute, initializers listed as graph inputs (IR 3's way)."""
    g = Graph()
    x = g.conv("data", "conv0", 3, 5, 3, "conv0")
    x = g.bn(x, "bn0", 5, "bn0", epsilon=1e-3)
    x = g.node("Clip", [x], ["clip0"], name="clip0", min=0.0, max=6.0)
    x = g.node("MaxPool", [x], ["pool0"], name="pool0", kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)
    x = g.node("Dropout", [x], ["drop0"], name="drop0", ratio=0.25)
    x = g.node("GlobalMaxPool", [x], ["gmp"], name="gmp")
    x = g.node("Squeeze", [x], ["squeezed"], name="squeeze", axes=[2, 3])
    x = g.node("Gemm", [x, g.weight("fc.weight", [3, 5]), g.weight("fc.bias", [3], 0.1)], ["y"], name="fc", transB=1)
    x = g.node("Softmax", [x], ["prob"], name="prob", axis=1)
    return model(g, "legacy", [1, 3, 10, 10], x, 10, input_name="data", inits_as_inputs=True, ir=4)


def dynamic():
    """Height and width left dynamic: `cnnc import` needs --input-shape."""
    g = Graph()
    x = g.conv("input", "conv", 3, 4, 3, "conv", pads=[1, 1, 1, 1])
    x = g.node("Relu", [x], ["r"], name="relu")
    x = g.node("GlobalAveragePool", [x], ["p"], name="pool")
    x = g.node("Flatten", [x], ["f"], name="flatten")
    x = g.node("Gemm", [x, g.weight("fc.weight", [2, 4]), g.weight("fc.bias", [2], 0.1)], ["y"], name="fc", transB=1)
    return model(g, "dynamic", ["N", 3, "height", "width"], x, 13)


def unsupported():
    """Ops the language lacks (an Erf outside a GELU), a Conv whose padding it cannot say and a
    Pad no Conv can take: all listed at once."""
    g = Graph()
    x = g.conv("input", "conv", 3, 3, 2, "conv", pads=[1, 1, 0, 0])
    r = g.node("Relu", ["input"], ["r"], name="relu")
    e1 = g.node("Erf", ["input"], ["e1"], name="erf_1")
    e2 = g.node("Erf", [r], ["e2"], name="erf_2")
    s = g.node("Sub", [e1, e2], ["diff"])
    p = g.node("Pad", ["input", g.ints("pads", [0, 0, 1, 1, 0, 0, 1, 1])], ["padded"], name="pad", mode="reflect")
    p = g.node("MaxPool", [p], ["pooled"], name="pool", kernel_shape=[3, 3], strides=[1, 1])
    s = g.node("Add", [g.node("Add", [x, s], ["sum1"], name="add_1"), p], ["sum2"], name="add_2")
    y = g.node("GlobalAveragePool", [s], ["y"], name="gap")
    return model(g, "unsupported", [1, 3, 6, 6], y, 13)


def dims_of(g, x, tag):
    """torch's computed shapes: Shape, then one Gather per axis, each as a [1] tensor."""
    shape = g.node("Shape", [x], [tag + "_shape"], name=f"/{tag}/Shape")
    picks = []
    for i in range(4):
        d = g.node("Gather", [shape, g.ints(f"{tag}_i{i}", [i])], [f"{tag}_d{i}"], name=f"/{tag}/Gather_{i}", axis=0)
        picks.append(d)
    return picks


def shuffle():
    """ShuffleNet v2's unit: channel shuffle with its shapes computed (Shape → Gather → Div →
    Concat), chunk as two Slices whose ends are computed, Split with a split input, ReduceMean
    over H and W without keepdims before the Gemm; opset 13."""
    g = Graph()
    x = g.conv("input", "stem", 4, 8, 1, "/stem/Conv")
    x = g.node("Relu", [x], ["stem_relu"], name="/stem/Relu")
    n, c, h, w = dims_of(g, x, "shuffle")
    per = g.node("Div", [c, g.ints("groups", [2])], ["per_group"], name="/shuffle/Div")
    five = g.node("Concat", [n, g.ints("two", [2]), per, h, w], ["five"], name="/shuffle/Concat", axis=0)
    x = g.node("Reshape", [x, five], ["grouped"], name="/shuffle/Reshape")
    x = g.node("Transpose", [x], ["swapped"], name="/shuffle/Transpose", perm=[0, 2, 1, 3, 4])
    back = g.node("Concat", [n, g.ints("minus_one", [-1]), h, w], ["back"], name="/shuffle/Concat_1", axis=0)
    x = g.node("Reshape", [x, back], ["shuffled"], name="/shuffle/Reshape_1")
    # x.chunk(2, dim=1) as torch exports it: ends (C + 1) / 2 and 2·that.
    _, c2, _, _ = dims_of(g, x, "chunk")
    half = g.node("Div", [g.node("Add", [c2, g.ints("one", [1])], ["c_plus"], name="/chunk/Add"), g.ints("two_", [2])], ["half"],
                  name="/chunk/Div")
    full = g.node("Mul", [half, g.ints("two__", [2])], ["full"], name="/chunk/Mul")
    a = g.node("Slice", [x, g.ints("zero", [0]), half, g.ints("axis1", [1])], ["x1"], name="/chunk/Slice")
    b = g.node("Slice", [x, half, full, g.ints("axis1_", [1])], ["x2"], name="/chunk/Slice_1")
    b = g.conv(b, "branch.0", 4, 4, 3, "/branch/branch.0/Conv", pads=[1, 1, 1, 1])
    b = g.node("Relu", [b], ["branch_relu"], name="/branch/branch.1/Relu")
    x = g.node("Concat", [a, b], ["cat"], name="/cat/Concat", axis=1)
    p, q = "split_a", "split_b"
    g.node("Split", [x, g.ints("split", [3, 5])], [p, q], name="/split/Split", axis=1)
    q = g.node("Relu", [q], ["split_relu"], name="/split/Relu")
    x = g.node("Concat", [q, p], ["cat2"], name="/cat2/Concat", axis=1)
    x = g.node("ReduceMean", [x], ["mean"], name="/ReduceMean", axes=[2, 3], keepdims=0)
    x = g.node("Gemm", [x, g.weight("fc.weight", [3, 8]), g.weight("fc.bias", [3], 0.1)], ["y"], name="/fc/Gemm", transB=1)
    return model(g, "main_graph", [1, 4, 6, 5], x, 13)


def split_legacy():
    """Opset 11: Split by its split attribute (and into equal parts by none), Slice by constant
    inputs with a negative end, ReduceMean keeping its dims, then Flatten."""
    g = Graph()
    x = g.conv("input", "conv", 3, 6, 3, "conv", pads=[1, 1, 1, 1])
    g.node("Split", [x], ["s0", "s1"], name="split", axis=1, split=[2, 4])
    a = g.node("Relu", ["s0"], ["a"], name="relu_a")
    g.node("Split", ["s1"], ["t0", "t1"], name="split_even", axis=-3)
    # The last channel of t1 (start -1), the height whole (its end past it, as torch's INT64_MAX).
    b = g.node("Slice", ["t1", g.ints("st", [0, -1]), g.ints("en", [2**63 - 1, 2]), g.ints("ax", [2, -3])], ["b"], name="slice_b")
    x = g.node("Concat", [a, "t0", b], ["cat"], name="cat", axis=1)
    x = g.node("ReduceMean", [x], ["mean"], name="mean", axes=[-1, -2], keepdims=1)
    x = g.node("Flatten", [x], ["flat"], name="flatten", axis=1)
    return model(g, "legacy_split", [1, 3, 5, 5], x, 11)


def scalar_node(g, name, value):
    """A float scalar as torch writes it, a Constant node."""
    return g.node("Constant", [], [name], name="/" + name, value=helper.make_tensor(name, TensorProto.FLOAT, [], [value]))


def convnext():
    """ConvNeXt's block as torch exports it: Transpose to channels-last, LayerNormalization,
    MatMul + Add (Linear), the Erf GELU in torch's order (Div √2, Erf, Add 1, Mul x, Mul 0.5),
    MatMul + Add, Transpose back, layer scale [C, 1, 1], the residual Add; a second block with
    the GELU in another order (0.5·x first, Mul by 1/√2) and the layer scale [C] before the
    Transpose back; then the head (GAP, channels-last LayerNorm, Flatten, Gemm); opset 17."""
    g = Graph()
    c = 6
    x = g.conv("input", "stem", 3, c, 2, "/stem/Conv", strides=[2, 2])
    for i in range(2):
        p = f"/b{i}"
        y = g.conv(x, f"b{i}.dw", c, c, 3, p + "/dw/Conv", group=c, pads=[1, 1, 1, 1])
        y = g.node("Transpose", [y], [f"b{i}_nhwc"], name=p + "/Transpose", perm=[0, 2, 3, 1])
        y = g.node("LayerNormalization", [y, g.positive(f"b{i}.norm.weight", [c]), g.weight(f"b{i}.norm.bias", [c], 0.1)],
                   [f"b{i}_ln"], name=p + "/norm/LayerNormalization", axis=-1, epsilon=1e-6)
        h = g.node("MatMul", [y, g.weight(f"onnx::MatMul_{i}1", [c, 4 * c])], [f"b{i}_mm1"], name=p + "/fc1/MatMul")
        h = g.node("Add", [g.weight(f"b{i}.fc1.bias", [4 * c], 0.1), h], [f"b{i}_fc1"], name=p + "/fc1/Add")
        if i == 0:
            d = g.node("Div", [h, scalar_node(g, f"b{i}_sqrt2", 2 ** 0.5)], [f"b{i}_div"], name=p + "/gelu/Div")
            e = g.node("Erf", [d], [f"b{i}_erf"], name=p + "/gelu/Erf")
            a = g.node("Add", [e, scalar_node(g, f"b{i}_one", 1.0)], [f"b{i}_add"], name=p + "/gelu/Add")
            m = g.node("Mul", [h, a], [f"b{i}_mul"], name=p + "/gelu/Mul")
            h = g.node("Mul", [m, scalar_node(g, f"b{i}_half", 0.5)], [f"b{i}_gelu"], name=p + "/gelu/Mul_1")
        else:
            half = g.node("Mul", [scalar_node(g, f"b{i}_half", 0.5), h], [f"b{i}_hx"], name=p + "/gelu/Mul")
            d = g.node("Mul", [h, scalar_node(g, f"b{i}_rsqrt2", 0.5 ** 0.5)], [f"b{i}_scaled"], name=p + "/gelu/Mul_1")
            e = g.node("Erf", [d], [f"b{i}_erf"], name=p + "/gelu/Erf")
            a = g.node("Add", [scalar_node(g, f"b{i}_one", 1.0), e], [f"b{i}_add"], name=p + "/gelu/Add")
            h = g.node("Mul", [half, a], [f"b{i}_gelu"], name=p + "/gelu/Mul_2")
        h = g.node("MatMul", [h, g.weight(f"onnx::MatMul_{i}2", [4 * c, c])], [f"b{i}_mm2"], name=p + "/fc2/MatMul")
        h = g.node("Add", [h, g.weight(f"b{i}.fc2.bias", [c], 0.1)], [f"b{i}_fc2"], name=p + "/fc2/Add")
        if i == 0:
            h = g.node("Transpose", [h], [f"b{i}_nchw"], name=p + "/Transpose_1", perm=[0, 3, 1, 2])
            h = g.node("Mul", [g.positive(f"b{i}.layer_scale", [c, 1, 1]), h], [f"b{i}_scaled_out"], name=p + "/Mul")
        else:
            h = g.node("Mul", [h, g.positive(f"b{i}.layer_scale", [c])], [f"b{i}_scaled_out"], name=p + "/Mul")
            h = g.node("Transpose", [h], [f"b{i}_nchw"], name=p + "/Transpose_1", perm=[0, 3, 1, 2])
        x = g.node("Add", [h, x], [f"b{i}_out"], name=p + "/Add")
    x = g.node("GlobalAveragePool", [x], ["gap"], name="/avgpool/GlobalAveragePool")
    x = g.node("Transpose", [x], ["head_nhwc"], name="/head/norm/Transpose", perm=[0, 2, 3, 1])
    x = g.node("LayerNormalization", [x, g.positive("head.norm.weight", [c]), g.weight("head.norm.bias", [c], 0.1)], ["head_ln"],
               name="/head/norm/LayerNormalization", axis=-1, epsilon=1e-6)
    x = g.node("Transpose", [x], ["head_nchw"], name="/head/norm/Transpose_1", perm=[0, 3, 1, 2])
    x = g.node("Flatten", [x], ["flat"], name="/head/Flatten", axis=1)
    x = g.node("Gemm", [x, g.weight("head.fc.weight", [4, c]), g.weight("head.fc.bias", [4], 0.1)], ["y"], name="/head/fc/Gemm",
               transB=1)
    return model(g, "main_graph", [1, 3, 8, 6], x, 17)


def floats(g, name, values):
    g.inits.append(helper.make_tensor(name, TensorProto.FLOAT, [len(values)], values))
    return name


def decoder():
    """The decoder ops, each made 10x8 from the 5x4 map: ConvTranspose with symmetric pads and
    output_padding, and grouped with asymmetric pads; Resize nearest as torch exports it
    (asymmetric, floor), nearest by default rounding with sizes, linear half_pixel and
    align_corners; then Pad folded into what reads it: reflect before a Conv, zeros on the
    right and bottom before a stride-2 Conv ('pad same'), zeros before an AveragePool; opset 13."""
    g = Graph()
    x = g.conv("input", "stem", 3, 4, 3, "/stem/Conv", pads=[1, 1, 1, 1])
    x = g.node("Relu", [x], ["stem_relu"], name="/stem/Relu")
    a = g.node("ConvTranspose", [x, g.weight("up1.weight", [4, 3, 3, 3]), g.weight("up1.bias", [3], 0.1)], ["a"], name="/up1/ConvTranspose",
               kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1])
    b = g.node("ConvTranspose", [x, g.weight("up2.weight", [4, 2, 3, 3])], ["b"], name="/up2/ConvTranspose", group=2,
               strides=[2, 2], pads=[1, 1, 0, 0])
    c = g.node("Resize", [x, "", floats(g, "scales2", [1, 1, 2, 2])], ["c"], name="/up3/Resize", mode="nearest",
               coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    d = g.node("Resize", [x, "", "", g.ints("sizes", [1, 4, 10, 8])], ["d"], name="/up4/Resize", mode="nearest")
    e = g.node("Resize", [x, "", floats(g, "scales2_", [1, 1, 2, 2])], ["e"], name="/up5/Resize", mode="linear",
               coordinate_transformation_mode="pytorch_half_pixel")
    f = g.node("Resize", [x, "", floats(g, "scales2__", [1, 1, 2, 2])], ["f"], name="/up6/Resize", mode="linear",
               coordinate_transformation_mode="align_corners")
    x = g.node("Concat", [a, b, c, d, e, f], ["cat"], name="/cat/Concat", axis=1)
    x = g.node("Pad", [x, g.ints("reflect_pads", [0, 0, 1, 1, 0, 0, 1, 1])], ["reflected"], name="/pad1/Pad", mode="reflect")
    x = g.conv(x, "mix", 23, 6, 3, "/mix/Conv")
    x = g.node("Pad", [x, g.ints("same_pads", [0, 0, 0, 0, 0, 0, 1, 1])], ["padded"], name="/pad2/Pad")
    x = g.conv(x, "down", 6, 5, 3, "/down/Conv", strides=[2, 2])
    x = g.node("Pad", [x, g.ints("pool_pads", [0, 0, 1, 1, 0, 0, 1, 1]), g.scalar("zero_value", 0.0)], ["pool_in"], name="/pad3/Pad")
    x = g.node("AveragePool", [x], ["y"], name="/pool/AveragePool", kernel_shape=[3, 3])
    return model(g, "decoder", [1, 3, 5, 4], x, 13)


def external():
    """The chain model with its weights in external.onnx.data, as the dynamo exporter writes
    them (every initializer, offsets and lengths given); the same input and answers."""
    m = onnx.load(os.path.join(OUT, "chain.onnx"))
    data = os.path.join(OUT, "external.onnx.data")
    if os.path.exists(data):  # onnx appends to it
        os.remove(data)
    onnx.save_model(m, os.path.join(OUT, "external.onnx"), save_as_external_data=True, all_tensors_to_one_file=True,
                    location="external.onnx.data", size_threshold=0)
    os.chmod(os.path.join(OUT, "external.onnx.data"), 0o644)
    for suffix in ["input.npy", "expected.npy"]:
        shutil.copy(os.path.join(OUT, "chain." + suffix), os.path.join(OUT, "external." + suffix))


def upsample_legacy():
    """Opset 9's Upsample, nearest, by a scales input of 2 and 3: torch's nearest."""
    g = Graph()
    x = g.conv("input", "conv", 2, 3, 3, "conv", pads=[1, 1, 1, 1])
    x = g.node("Upsample", [x, floats(g, "scales", [1, 1, 2, 3])], ["up"], name="up", mode="nearest")
    x = g.conv(x, "out", 3, 2, 3, "out")
    return model(g, "upsample", [1, 2, 3, 4], x, 9)


def main():
    os.makedirs(OUT, exist_ok=True)
    write(chain(), "chain", [1, 3, 16, 16])
    write(residual(), "residual", [1, 4, 8, 8])
    write(concat(), "concat", [1, 3, 7, 9])
    write(depthwise(), "depthwise", [1, 4, 9, 9])
    write(activations(), "activations", [2, 12])
    write(shape_flatten(), "shape_flatten", [1, 2, 6, 7])
    write(legacy(), "legacy", [1, 3, 10, 10])
    write(dynamic(), "dynamic", [1, 3, 12, 10])
    write(unsupported(), "unsupported", run=False)
    # New models go last, so that the random weights of the ones before stay as committed.
    write(shuffle(), "shuffle", [1, 4, 6, 5])
    write(split_legacy(), "split_legacy", [1, 3, 5, 5])
    write(convnext(), "convnext", [1, 3, 8, 6])
    write(decoder(), "decoder", [1, 3, 5, 4])
    external()
    write(upsample_legacy(), "upsample_legacy", [1, 2, 3, 4])
    examples = os.path.join(ROOT, "examples", "onnx")
    os.makedirs(examples, exist_ok=True)
    shutil.copy(os.path.join(OUT, "chain.onnx"), os.path.join(examples, "small_cnn.onnx"))
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"{len(os.listdir(OUT))} files, {total} bytes in all")


if __name__ == "__main__":
    main()
