/// Network texts that tests in several targets write out.
public enum Networks {
    /// The spec's LeNet-5, as `network NAME`.
    public static func lenet5(named name: String) -> String {
        """
        network \(name)
        input 32x32x1
        c1: conv 6 5x5 relu
        s2: maxpool 2x2 stride 2
        c3: conv 16 5x5 relu
        s4: maxpool 2x2 stride 2
        f5: fc 120 relu
        f6: fc 84 relu
        out: fc 10 softmax
        """
    }
}
