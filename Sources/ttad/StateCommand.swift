import ArgumentParser
import Foundation
import Logging
import TTADDaemon

/// `ttad state export` / `ttad state import`: adapted state that moves between boxes
/// (`StateTransfer`; docs/operations.md, "Moving adapted state").
struct StateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "state",
        abstract: "Move adapted state between daemons: export a state directory's, import it into a fresh one.",
        subcommands: [Export.self, Import.self])

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the newest checkpoint's adapted state of a state directory (a stopped or a running daemon's) to one safetensors file.")

        @Option(name: .customLong("state-dir"), help: "The state directory (daemon.state_directory), or pass --config.")
        var stateDirectory: String?

        @Option(name: .shortAndLong, help: "A configuration whose daemon.state_directory to read.")
        var config: String?

        @Option(name: .shortAndLong, help: "The file to write (safetensors).")
        var output: String

        func run() throws {
            let directory: String
            if let stateDirectory { directory = stateDirectory } else if let config {
                do { directory = try ConfigLoader.load(path: config).daemon.stateDirectory } catch let e as ConfigError {
                    throw ExitStatus.configError(e)
                }
            } else {
                throw ValidationError("pass --state-dir or --config")
            }
            do {
                let s = try StateTransfer.export(directory: directory, to: output, logger: Logger(label: "ttad-state"))
                print("exported preset \(s.preset) (scope \(s.scope.rawValue), \(s.states) state\(s.states == 1 ? "" : "s"), "
                      + "prompt version \(s.promptVersion), \(s.tensors) tensors) from \(directory) to \(output)")
            } catch {
                FileHandle.standardError.write(Data("ttad state export: \(error)\n".utf8))
                throw ExitCode.failure
            }
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make an exported state the starting point of this configuration's (fresh) state directory; refused, with the reason, when model, classes, preset or scope differ.")

        @OptionGroup var options: ConfigOptions

        @Option(name: .shortAndLong, help: "The file `ttad state export` wrote.")
        var input: String

        func run() throws {
            let config: DaemonConfig
            do { config = try options.load() } catch let e as ConfigError { throw ExitStatus.configError(e) }
            do {
                let s = try StateTransfer.importState(from: input, config: config, logger: Logger(label: "ttad-state"))
                print("imported preset \(s.preset) (scope \(s.scope.rawValue), \(s.states) state\(s.states == 1 ? "" : "s"), "
                      + "prompt version \(s.promptVersion)) into \(config.daemon.stateDirectory); the daemon continues from it at its next start")
            } catch {
                FileHandle.standardError.write(Data("ttad state import: \(error)\n".utf8))
                throw ExitCode.failure
            }
        }
    }
}
