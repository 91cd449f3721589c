import Foundation

/// Starts a program with `environment` applied over the tests' own (nil removes a variable),
/// its standard output and error into one pipe.
public func startProcess(_ executable: String, _ arguments: [String], in directory: String? = nil,
                         environment: [String: String?] = [:]) throws -> (Process, Pipe) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    if !environment.isEmpty {
        var variables = ProcessInfo.processInfo.environment
        for (name, value) in environment { variables[name] = value }
        process.environment = variables
    }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    return (process, pipe)
}

/// Runs a program to the end: its status (negative: killed by that signal) and combined output.
@discardableResult
public func shell(_ executable: String, _ arguments: [String], in directory: String? = nil,
                  environment: [String: String?] = [:]) throws -> (status: Int32, output: String) {
    try finish(startProcess(executable, arguments, in: directory, environment: environment))
}

/// Reads a started program's output to the end and waits for it: its status (negative: killed
/// by that signal) and combined output.
public func finish(_ started: (Process, Pipe)) -> (status: Int32, output: String) {
    let (process, pipe) = started
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let status = process.terminationReason == .uncaughtSignal ? -process.terminationStatus : process.terminationStatus
    return (status, String(decoding: data, as: UTF8.self))
}
