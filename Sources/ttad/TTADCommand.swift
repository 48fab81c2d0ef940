import ArgumentParser

@main
struct TTADCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ttad",
        abstract: "Streaming test-time adaptation daemon: samples in over ZeroMQ, predictions out.",
        version: "0.1.0",
        subcommands: [RunCommand.self, DemoCommand.self, CheckConfigCommand.self, ConfigKeysCommand.self, PublishCommand.self, SubscribeCommand.self,
                      KeygenCommand.self, LoadgenCommand.self, BenchClassifyCommand.self, BenchCLIPCommand.self, BenchTPTCommand.self, BenchCheckpointCommand.self,
                      StreamCommand.self, EvalCommand.self,
                      StateCommand.self],
        defaultSubcommand: nil)
}
