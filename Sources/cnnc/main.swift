import Foundation

// The command line is thin: it reads arguments and files, calls the stages, prints.
exit(Driver.run(Array(CommandLine.arguments.dropFirst()), console: Console.standard))
