/// Text built by appending bytes: reports of networks with very many layers are long, and
/// appending to a `String` piece by piece costs far more than copying bytes into an array.
package struct TextBuffer {
    package private(set) var bytes: [UInt8] = []

    package mutating func write(_ text: String) {
        var text = text
        text.withUTF8 { bytes.append(contentsOf: $0) }
    }

    package mutating func write(_ value: Int) {
        write(String(value))
    }

    package mutating func write(_ byte: UInt8) {
        bytes.append(byte)
    }

    package init() {}

    package var text: String { String(decoding: bytes, as: UTF8.self) }
}
