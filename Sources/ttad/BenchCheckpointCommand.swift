import ArgumentParser
import Foundation
import Logging
import TTADDaemon

/// The newest checkpoint of a state directory, section by section: its size and encode/decode
/// time as the JSON of before state archives and as archives (docs/benchmarks.md, "Checkpoint
/// format").
struct BenchCheckpointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-checkpoint",
        abstract: "Measure a state directory's newest checkpoint in the pre-archive JSON and as state archives.")

    @Option(name: .customLong("state-dir"), help: "The state directory (read beside a running daemon, without its lock).")
    var stateDirectory: String

    @Option(help: "Timed repetitions per measurement (median reported, after one warm-up).")
    var reps: Int = 9

    func run() throws {
        let (id, rows) = try CheckpointFormatBench.measure(directory: stateDirectory, reps: reps, logger: Logger(label: "ttad-bench"))
        print("checkpoint \(id) of \(stateDirectory), median of \(reps)")
        print("section            JSON bytes  archive bytes  JSON enc ms  archive enc ms  JSON dec ms  archive dec ms")
        for r in rows {
            print(r.section.padding(toLength: 18, withPad: " ", startingAt: 0)
                  + String(format: " %10d  %13d  %11.3f  %14.3f  %11.3f  %14.3f", r.jsonBytes, r.archiveBytes,
                           r.jsonEncode * 1e3, r.archiveEncode * 1e3, r.jsonDecode * 1e3, r.archiveDecode * 1e3))
        }
    }
}
