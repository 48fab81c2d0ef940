import Foundation
import TTADDaemon

/// What must stay the same across the parts of a resumed `ttad eval` run: the effective daemon
/// configuration and the scenario options, kept as text in the state directory
/// (`eval-run.txt`). The predictions file's ids and labels catch most scenario changes, but not
/// all (a different `--severity` or `--encoding` keeps both), and nothing in the file shows a
/// changed learning rate: without this a resumed run could silently be neither the old run nor
/// a new one.
///
/// Left out because they do not change a prediction: the state directory's path, BLAS threads,
/// the log level and the checkpoint schedule (`[state]`), and `--long` / `--limit`, which a
/// resume may raise to extend the run.
enum EvalRunIdentity {
    static let fileName = "eval-run.txt"

    static func text(config: DaemonConfig, options: ScenarioOptions) -> String {
        var c = config
        c.daemon.stateDirectory = ""
        c.daemon.blasThreads = 1
        c.daemon.logLevel = "info"
        c.state = StateSection()
        let o = options
        let scenario: [String] = [
            "scenario = \(o.scenario)", "severity = \(o.severity)", "gamma = \(o.gamma.map { "\($0)" } ?? "none")",
            "outliers = \(o.outliers)", "per_domain = \(o.perDomain.map(String.init) ?? "all")", "seed = \(o.seed)",
            "stream = \(o.stream)", "encoding = \(o.encoding)", "severity_in_id = \(o.severityInId)",
            "dataset_dir = \(o.datasetDir)",
        ] + (o.asEmbeddings.map { ["as_embeddings = \($0)"] } ?? [])   // only when set: older runs' identities stay valid
        return "# ttad eval: scenario options\n" + scenario.joined(separator: "\n")
            + "\n\n# ttad eval: effective daemon configuration\n" + ConfigCheck.describe(c)
    }

    /// Throws when `directory` holds the identity of a run that differs from `current`, naming
    /// the first line that differs. A directory without one (a run from before this check) passes.
    static func check(_ current: String, directory: String) throws {
        let path = directory + "/" + fileName
        guard let stored = try? String(contentsOfFile: path, encoding: .utf8), stored != current else { return }
        let a = stored.split(separator: "\n", omittingEmptySubsequences: false)
        let b = current.split(separator: "\n", omittingEmptySubsequences: false)
        let i = (0..<min(a.count, b.count)).first { a[$0] != b[$0] } ?? min(a.count, b.count)
        let was = i < a.count ? String(a[i]) : "(nothing)", now = i < b.count ? String(b[i]) : "(nothing)"
        throw EvalResume.Failure(description: "--resume: the run in \(directory) was made with other settings "
            + "(\(path) says '\(was)', this command '\(now)'); resume with the same --config and scenario options, "
            + "or remove the state directory and the predictions file to start over")
    }

    static func write(_ current: String, directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
        try current.write(toFile: directory + "/" + fileName, atomically: true, encoding: .utf8)
    }
}
