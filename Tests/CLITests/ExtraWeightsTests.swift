import Foundation
import Runtime
import ShapeCheck
import Testing
@testable import cnnc

/// `--ignore-extra-weights`: a weight file with tensors the network has no parameter for (a
/// state_dict saved with its auxiliary classifiers) loads, and the extras are listed on stderr;
/// without the flag they are refused, and the refusal names the flag.
@Suite struct ExtraWeightsTests {
    static let text = "network n\ninput 4x4x1\nblock1-0: conv 2 3x3\nout: fc 3\n"

    final class Scratch: ScratchFolder {
        /// n.cnn, its weights in clean.safetensors, and with `extras` added in w.safetensors.
        init(extras: [String]) throws {
            let network = try #require(checkSource(ExtraWeightsTests.text, path: "n.cnn").network)
            var file = WeightInit.weights(for: network, seed: 2)
            let weights = file
            for (i, key) in extras.enumerated() { file.tensors[key] = Tensor(shape: [i + 1], repeating: 1) }
            try super.init("extra-weights")
            try weights.write(to: self.file("clean.safetensors"))
            try file.write(to: self.file("w.safetensors"))
            try NPY.write(Tensor(shape: [1, 1, 4, 4], storage: (0..<16).map { Float($0) / 16 }), to: self.file("x.npy"))
            try write("n.cnn", ExtraWeightsTests.text)
        }
    }

    func run(_ scratch: Scratch, _ weights: String, _ extra: [String] = []) -> (code: Int32, out: String, err: String) {
        runDriver(["run", scratch.file("n.cnn"), "--weights", scratch.file(weights), "--input", scratch.file("x.npy")] + extra)
    }

    @Test func extrasAreRefusedAndTheRefusalNamesTheFlag() throws {
        let scratch = try Scratch(extras: ["aux.fc.weight", "aux.fc.bias"])
        let w = scratch.file("w.safetensors")
        let result = run(scratch, "w.safetensors")
        #expect(result.code == 1)
        #expect(result.err == """
            cnnc run: \(w): 2 tensors the network 'n' has no parameter for (--ignore-extra-weights loads the file without them)
            cnnc run: \(w): unexpected tensor 'aux.fc.bias' with shape [2] (the network 'n' has no such parameter)
            cnnc run: \(w): unexpected tensor 'aux.fc.weight' with shape [1] (the network 'n' has no such parameter)

            """)
    }

    @Test func ignoredExtrasAreListedAndTheResultIsUnchanged() throws {
        let scratch = try Scratch(extras: ["aux.fc.weight", "aux.fc.bias"])
        let w = scratch.file("w.safetensors")
        let ignored = run(scratch, "w.safetensors", ["--ignore-extra-weights"])
        let clean = run(scratch, "clean.safetensors")
        #expect(ignored.code == 0 && clean.code == 0, "\(ignored.err)")
        #expect(ignored.err == "cnnc run: \(w): warning: ignoring 2 tensors the network 'n' has no parameter for: 'aux.fc.bias', 'aux.fc.weight'\n")
        #expect(ignored.out == clean.out && !clean.out.isEmpty)
        #expect(clean.err.isEmpty)
        // With nothing to ignore, nothing is said.
        #expect(run(scratch, "clean.safetensors", ["--ignore-extra-weights"]).err.isEmpty)
    }

    /// googlenet's auxiliary heads are dozens of tensors: the count, then the first five names.
    @Test func manyExtrasShowTheCountAndTheFirstFive() throws {
        let keys = (1...7).map { "aux\($0 / 4 + 1).conv\($0).weight" }
        let scratch = try Scratch(extras: keys + ["aux1.bn.num_batches_tracked"])
        let w = scratch.file("w.safetensors")
        let result = runDriver(["compile", scratch.file("n.cnn"), "-o", scratch.file("out"), "--weights", w, "--ignore-extra-weights"])
        #expect(result.code == 0, "\(result.err)")
        #expect(result.err == "cnnc compile: \(w): warning: ignoring 8 tensors the network 'n' has no parameter for: "
                + "'aux1.bn.num_batches_tracked', 'aux1.conv1.weight', 'aux1.conv2.weight', 'aux1.conv3.weight', 'aux2.conv4.weight' and 3 more\n")
        #expect(WeightFile.ignoredExtrasWarning(["a"], path: "w", network: "n") == "w: warning: ignoring 1 tensor the network 'n' has no parameter for: 'a'")
        #expect(WeightFile.ignoredExtrasWarning([], path: "w", network: "n") == nil)
    }

    /// The flag ignores extras only: a missing or misshapen tensor is still an error, with no hint.
    @Test func missingTensorsAreStillErrors() throws {
        let scratch = try Scratch(extras: ["aux.fc.weight"])
        var file = try WeightFile.read(contentsOf: scratch.file("w.safetensors"))
        file.tensors["out.bias"] = nil
        try file.write(to: scratch.file("w.safetensors"))
        let result = run(scratch, "w.safetensors", ["--ignore-extra-weights"])
        #expect(result.code == 1)
        #expect(result.err == "cnnc run: \(scratch.file("w.safetensors")): missing tensor 'out.bias' (expected shape [3])\n")
        // Without the flag the extra is refused too, but the flag is not offered: it would not help.
        let refused = run(scratch, "w.safetensors")
        #expect(refused.err == """
            cnnc run: \(scratch.file("w.safetensors")): missing tensor 'out.bias' (expected shape [3])
            cnnc run: \(scratch.file("w.safetensors")): unexpected tensor 'aux.fc.weight' with shape [1] (the network 'n' has no such parameter)

            """)
    }

    @Test func theFlagNeedsAWeightFile() throws {
        let scratch = try Scratch(extras: [])
        for command in ["compile", "bench"] {
            let result = runDriver([command, scratch.file("n.cnn"), "--ignore-extra-weights"])
            #expect(result.code == 2)
            #expect(result.err.hasPrefix("cnnc \(command): --ignore-extra-weights needs --weights W.safetensors\nusage: cnnc \(command) "))
            #expect(result.err.contains("[--weights W] [--ignore-extra-weights]"))
        }
        let run = runDriver(["run", scratch.file("n.cnn"), "--input", scratch.file("x.npy"), "--ignore-extra-weights"])
        #expect(run.code == 2 && run.err.hasPrefix("cnnc run: --ignore-extra-weights needs --weights W.safetensors\n"))
    }
}
