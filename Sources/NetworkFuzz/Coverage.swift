import Codegen
import Parser
import ShapeCheck

/// What a network exercises, as named features, so a test can assert that a fixed set of
/// seeds reaches every op, option and graph form of the language.
public enum Coverage {
    /// Every feature the generator is meant to reach.
    public static let all: Set<String> = {
        var all: Set<String> = [
            "conv", "conv:rectangular", "conv:stride", "conv:dilation", "conv:groups", "conv:nobias", "conv:1x1",
            "depthwise", "depthwise:multiplier", "depthwise:stride", "depthwise:dilation", "depthwise:rectangular",
            "maxpool", "avgpool", "pool:ceil", "pool:stride", "pool:padded", "pool:rectangular",
            "globalmaxpool", "globalavgpool", "fc", "fc:after-volume", "fc:after-vector", "flatten", "dropout",
            "batchnorm", "batchnorm:eps", "batchnorm:vector", "lrn", "lrn:options",
            "pad:numeric", "pad:rectangular", "pad:same", "pad:valid", "pad:asymmetric",
            "from", "from:input", "inputs:several", "add:2", "add:3", "add:4", "concat:2", "concat:3",
            "add:activation", "concat:activation", "branches:unequal", "nan", "operand:repeated",
            "input:1x1", "input:rectangular", "input:vector", "input:32+", "batch:1", "batch:2-8", "batch:9",
            "leakyrelu:alpha", "elu:alpha", "name:dash", "mul:broadcast", "mul:3",
            "slice", "slice:partial", "shuffle", "shuffle:groups1",
            "layernorm", "layernorm:vector", "layerscale", "pointwise", "pointwise:nobias", "pointwise:activation",
            "padmode:reflect", "padmode:replicate", "padmode:circular", "padmode:depthwise",
            "adaptiveavgpool", "adaptiveavgpool:up", "adaptiveavgpool:uneven", "maxout", "maxout:vector", "maxout:1",
            "deconv", "deconv:stride", "deconv:outpad", "deconv:groups", "deconv:dilation",
            "upsample:nearest", "upsample:bilinear", "upsample:aligncorners", "upsample:rectangular",
        ]
        for a in ActivationSyntax.allKinds { all.insert("\(a.feature):fused"); all.insert("\(a.feature):layer") }
        for d in ["1-3", "7-9", "15-17", "31-33", "63-65"] { all.insert("depth:\(d)") }
        return all.union(mobile)
    }()

    /// The features `spec` (checked as `net`) exercises.
    public static func features(_ spec: NetworkSpec, _ net: CheckedNetwork) -> Set<String> {
        var f = mobileFeatures(net)
        if spec.vectorInput { f.insert("input:vector") } else {
            if spec.width == 1 && spec.height == 1 { f.insert("input:1x1") }
            if spec.width != spec.height { f.insert("input:rectangular") }
            if max(spec.width, spec.height) >= 32 { f.insert("input:32+") }
        }
        f.insert(spec.batch == 1 ? "batch:1" : spec.batch == 9 ? "batch:9" : "batch:2-8")
        if !spec.nanCells.isEmpty { f.insert("nan") }
        for depth in [net.input.depth] + net.layers.map(\.output.depth) {
            for (range, label) in [(1...3, "1-3"), (7...9, "7-9"), (15...17, "15-17"), (31...33, "31-33"), (63...65, "63-65")]
            where range.contains(depth) { f.insert("depth:\(label)") }
        }
        if net.layers.filter({ $0.inputs.contains(.networkInput) }).count >= 2 { f.insert("inputs:several") }

        // The longest path from the input to each value, for branches of unequal length.
        var length = [Int](repeating: 0, count: net.layers.count)
        func pathLength(_ input: LayerInput) -> Int { if case .layer(let i) = input { return length[i] } else { return 0 } }
        for (i, layer) in net.layers.enumerated() {
            length[i] = 1 + (layer.inputs.map(pathLength).max() ?? 0)
            if layer.inputs.count > 1, Set(layer.inputs.map(pathLength)).count > 1 { f.insert("branches:unequal") }
        }
        for layer in spec.layers {
            if layer.name?.contains("-") == true { f.insert("name:dash") }
            if layer.op.window?.pad == .valid { f.insert("pad:valid") }
            if let from = layer.from { f.insert(from == "input" ? "from:input" : "from") }
            if let a = layer.activation {
                f.insert("\(a.feature):fused")
                if case .add = layer.op { f.insert("add:activation") }
                if case .concat = layer.op { f.insert("concat:activation") }
            }
            switch layer.op {
            case .activation(let a):
                f.insert("\(a.feature):layer")
            case .add(let s): f.insert("add:\(min(s.count, 4))"); if Set(s).count < s.count { f.insert("operand:repeated") }
            case .concat(let s): f.insert("concat:\(min(s.count, 3))"); if Set(s).count < s.count { f.insert("operand:repeated") }
            case .multiply(let s): f.insert("mul:broadcast"); if s.count > 2 { f.insert("mul:3") }
            case .slice(let from, let to): f.insert("slice"); if from > 0 && to - from < 8 { f.insert("slice:partial") }
            case .shuffle(let groups): f.insert(groups == 1 ? "shuffle:groups1" : "shuffle")
            case .layerNorm: f.insert("layernorm")
            case .layerScale: f.insert("layerscale")
            case .pointwise(_, let bias):
                f.insert(bias ? "pointwise" : "pointwise:nobias")
                if layer.activation != nil { f.insert("pointwise:activation") }
            case .deconv(_, let w, let outputPadding, let groups, _):
                f.insert("deconv")
                if w.stride.map({ $0.width > 1 || $0.height > 1 }) == true { f.insert("deconv:stride") }
                if outputPadding.map({ $0.width > 0 || $0.height > 0 }) == true { f.insert("deconv:outpad") }
                if groups.map({ $0 > 1 }) == true { f.insert("deconv:groups") }
                if w.dilation != nil { f.insert("deconv:dilation") }
            case .upsample(let scale, let bilinear, let alignCorners):
                f.insert(alignCorners ? "upsample:aligncorners" : bilinear ? "upsample:bilinear" : "upsample:nearest")
                if !scale.isSquare { f.insert("upsample:rectangular") }
            case .lrn(let size, _, _, _): f.insert("lrn"); if size != nil { f.insert("lrn:options") }
            case .batchNorm(let eps): f.insert("batchnorm"); if eps != nil { f.insert("batchnorm:eps") }
            case .dropout: f.insert("dropout")
            case .flatten: f.insert("flatten")
            case .globalPool(let max): f.insert(max ? "globalmaxpool" : "globalavgpool")
            default: break
            }
            for case .leakyRelu(_?) in [layer.activation, activationLayer(layer)] { f.insert("leakyrelu:alpha") }
            for case .elu(_?) in [layer.activation, activationLayer(layer)] { f.insert("elu:alpha") }
        }
        for layer in net.layers {
            let input = layer.inputShapes.first
            switch layer.operation {
            case .layerNorm where input?.isVector == true:
                f.insert("layernorm:vector")
            case .adaptiveAveragePool(let w, let h):
                f.insert("adaptiveavgpool")
                if let input, w > input.width || h > input.height { f.insert("adaptiveavgpool:up") }
                if let input, input.width % w != 0 || input.height % h != 0 { f.insert("adaptiveavgpool:uneven") }
            case .maxout(let k):
                f.insert(k == 1 ? "maxout:1" : input?.isVector == true ? "maxout:vector" : "maxout")
            case .convolution(let c):
                let name = c.isDepthwise ? "depthwise" : "conv"
                f.insert(name)
                window(c.window, name, &f)
                if c.isDepthwise, c.filters > c.groups { f.insert("depthwise:multiplier") }
                if c.window.paddingMode != .zeros, !c.window.padding.isZero {
                    f.insert("padmode:\(c.window.paddingMode.rawValue)")
                    if c.isDepthwise { f.insert("padmode:depthwise") }
                }
                if !c.isDepthwise, c.groups > 1 { f.insert("conv:groups") }
                if !c.isDepthwise, !c.hasBias { f.insert("conv:nobias") }
                if !c.isDepthwise, c.window.kernelWidth == 1, c.window.kernelHeight == 1 { f.insert("conv:1x1") }
            case .pooling(let p):
                f.insert(p.kind == .max ? "maxpool" : "avgpool")
                window(p.window, "pool", &f)
                if p.ceilMode { f.insert("pool:ceil") }
                if !p.window.padding.isZero { f.insert("pool:padded") }
            case .fullyConnected:
                f.insert("fc")
                f.insert(input?.isVector == true ? "fc:after-vector" : "fc:after-volume")
            case .batchNorm:
                if input?.isVector == true { f.insert("batchnorm:vector") }
            default: break
            }
        }
        return f
    }

    static func activationLayer(_ layer: LayerSpec) -> ActivationSyntax? {
        if case .activation(let a) = layer.op { return a }
        return nil
    }

    static func window(_ w: Window, _ name: String, _ f: inout Set<String>) {
        if w.kernelWidth != w.kernelHeight { f.insert("\(name):rectangular") }
        if w.strideWidth > 1 || w.strideHeight > 1 { f.insert("\(name):stride") }
        if w.dilationWidth > 1 || w.dilationHeight > 1 { f.insert("\(name):dilation") }
        let p = w.padding
        if p.left != p.right || p.top != p.bottom { f.insert("pad:asymmetric") }
        if w.paddingIsSame { f.insert("pad:same") } else if !p.isZero {
            f.insert("pad:numeric")
            if p.left != p.top { f.insert("pad:rectangular") }
        }
    }
}

/// Which fast kernels a network's plan uses (C or Swift, as `options.language` says), so a fuzz run can say what it reached
/// (Winograd, the paired first layer, strips across rows…), not only which ops it drew.
public enum KernelCoverage {
    /// The fast C kernels the runner's C variants reach on this machine: the default plan's and
    /// the fused blocks `c-fused` forces (the default fuses only large ones), each once.
    public static func fastCFeatures(_ net: CheckedNetwork) -> Set<String> {
        let fused = features(net, options: KernelOptions(target: .host, fusion: .always)).filter { $0.hasPrefix("fused") }
        return features(net, options: KernelOptions(target: .host)).union(fused)
    }

    public static func features(_ net: CheckedNetwork, options: KernelOptions) -> Set<String> {
        guard let plan = lowerForC(net, options: options).kernelPlan else { return [] }
        var f: Set<String> = []
        for step in plan.steps {
            let residual = step.residualInput != nil ? "+residual" : ""
            switch step.kernel {
            case .directConvolution(let d):
                let kind = d.pairs ? "paired" : "direct"
                f.insert(kind + residual)
                if d.flat { f.insert("direct:across-rows") }
                if d.rows > 1 { f.insert("direct:multi-row") }
                if d.prepadded { f.insert("direct:prepadded") }
                if d.planarInput { f.insert("\(kind):planar-input") }
                if d.inputBlocksPerPass != nil { f.insert("direct:sliced") }
                if d.grouped != nil { f.insert("direct:grouped") }
                if d.scaledInput { f.insert("direct:scaled-input") }
            case .winogradConvolution(let w): f.insert("winograd F(\(w.tile),\(w.taps))" + residual)
            case .depthwiseConvolution(let d):
                f.insert(d.multiplier > 1 ? "depthwise:multiplier" : "depthwise")
                if !d.edges.isEmpty { f.insert("depthwise:edges") }
            case .fullyConnected: f.insert("fc")
            case .invertedResidual(let fused):
                f.insert("fused-inverted-residual" + residual)
                if case .depthwiseConvolution(let d) = fused.depthwise.kernel, !d.edges.isEmpty { f.insert("fused-inverted-residual:edges") }
            case .blocked: f.insert("blocked")
            case .reference: f.insert("reference")
            case .toBlocked: f.insert("to-blocked")
            case .toPlanar: f.insert("to-planar")
            case .pad: f.insert("pad")
            }
        }
        return f
    }
}
