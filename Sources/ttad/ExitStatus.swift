import ArgumentParser
import Foundation
import TTADDaemon

/// The exit statuses of `ttad run` and `ttad check-config` (table in docs/operations.md), taken
/// from sysexits.h where one fits, so that systemd's journal line (`status=78/CONFIG`,
/// `status=74/IOERR`) already names the cause.
enum ExitStatus {
    /// EX_CONFIG: the configuration (or a file it names) is wrong; retrying cannot help, so the
    /// unit lists it in RestartPreventExitStatus=.
    static let config: Int32 = 78
    /// EX_IOERR: stopped on request, but the final checkpoint could not be written (disk full,
    /// read-only state directory); what came after the last successful checkpoint is lost.
    static let stateNotSaved: Int32 = 74
    /// Any other failed start or unclean stop (the log says which).
    static let failure: Int32 = 1

    /// A configuration error is the whole message: the command line was fine, so argument-parser's
    /// usage text would only bury the key that is wrong.
    static func configError(_ error: ConfigError) -> ExitCode {
        FileHandle.standardError.write(Data((error.description + "\n").utf8))
        return ExitCode(config)
    }

    static func forStop(_ outcome: StopOutcome) -> Int32 {
        switch outcome {
        case .clean: return 0
        case .stateNotSaved: return stateNotSaved
        case .incomplete: return failure
        }
    }
}
