/// A batch of activations or a weight: a shape and contiguous float32 storage in row-major
/// (C) order, batch first: [N, D, H, W] for volumes, [N, K] for vectors, PyTorch layouts for
/// weights.
public struct Tensor: Equatable, Sendable {
    public var shape: [Int]
    public var storage: [Float]

    /// A tensor of the given shape filled with `value`.
    public init(shape: [Int], repeating value: Float = 0) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        self.shape = shape
        self.storage = [Float](repeating: value, count: shape.reduce(1, *))
    }

    public init(shape: [Int], storage: [Float]) {
        precondition(shape.reduce(1, *) == storage.count, "shape \(shape) does not hold \(storage.count) values")
        self.shape = shape
        self.storage = storage
    }

    public var elementCount: Int { storage.count }

    /// The shape as PyTorch prints it: [2, 3, 4].
    public var shapeDescription: String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }
}
