import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import TTADDaemon
import TTADEngine

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the daemon until SIGTERM or SIGINT.")

    @OptionGroup var options: ConfigOptions

    @Option(help: "Override daemon.log_level (trace, debug, info, notice, warning, error, critical).")
    var logLevel: String?

    func run() async throws {
        BLASCoreSelection.reexecIfFasterKernelsAvailable()
        // A file-size limit (systemd's LimitFSIZE=, a quota) must fail the SQLite write, which the
        // checkpointer survives and reports, instead of killing the daemon with SIGXFSZ mid-run.
        signal(SIGXFSZ, SIG_IGN)
        // SIGHUP reloads the allow-list once the daemon runs (DaemonService); a reload that comes
        // while the model still loads must not end the process (SIGHUP's default action).
        signal(SIGHUP, SIG_IGN)
        let config: DaemonConfig
        do {
            config = try options.load()
        } catch let e as ConfigError {
            throw ExitStatus.configError(e)
        }
        let level = Logger.Level(rawValue: logLevel ?? config.daemon.logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
        }
        let logger = Logger(label: "ttad")
        logger.info("OpenBLAS kernels: \(BLAS.coreName), \(config.daemon.blasThreads) thread(s)")
        do {
            try await DaemonRunner.run(config: config, logger: logger)
        } catch let e as ConfigError {
            // Found only at start: the files it names are opened (model, keys, calibration) and
            // the connection cap is weighed against the process's descriptor limit.
            throw ExitStatus.configError(e)
        } catch let e as DaemonStopError where e.threadsStillRunning {
            // Exit handlers (OpenBLAS's among them) would free memory the busy thread is using:
            // end the process now, still with the documented status.
            logger.critical("ttad exiting: \(e)")
            fflush(nil)
            _exit(ExitStatus.forStop(e.outcome))
        } catch let e as DaemonStopError {
            logger.critical("ttad exiting: \(e)")
            throw ExitCode(ExitStatus.forStop(e.outcome))
        } catch {
            logger.critical("ttad exiting: \(error)")
            throw ExitCode(ExitStatus.failure)
        }
    }
}

struct CheckConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate a configuration file (and the files it names) and print the effective settings.")

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        do {
            let c = try options.load()
            try ConfigCheck.checkFiles(c)
            print(ConfigCheck.describe(c))
            print("ok: \(options.config)")
        } catch let e as ConfigError {
            throw ExitStatus.configError(e)
        }
    }
}
