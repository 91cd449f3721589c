import Parser
import ShapeCheck

enum CheckCommand {
    static func run(_ words: [String], _ console: Console) -> Int32 {
        console.err("cnnc check: being written")
        return ExitCode.usage
    }
}
