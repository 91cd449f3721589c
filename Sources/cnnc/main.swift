import Foundation
import Runtime

// Before any thread exists: SIGINT, SIGTERM and SIGHUP stop the compiler's process group and
// remove temporaries (SignalCleanup.swift), then cnnc dies of the same signal.
SignalCleanup.install()

// The command line is thin: it reads arguments and files, calls the stages, prints.
exit(Driver.run(Array(CommandLine.arguments.dropFirst()), console: Console.standard))
