import ArgumentParser
import TTADDaemon

/// Prints every configuration key with its type, range, default and one line of description,
/// from the same declarations the loader uses (docs/configuration.md has the long form).
struct ConfigKeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config-keys",
        abstract: "Print every configuration key: type, range, default and what it does, as commented TOML.")

    func run() throws {
        print(ConfigCheck.keyReference())
    }
}
