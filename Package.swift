// swift-tools-version: 6.1
import PackageDescription
import Foundation

// Vectorisation: the Swift default target CPU on x86-64 is baseline SSE2, which turns SIMD FMA
// into libm calls and Float16 conversions into compiler-rt calls. Haswell (AVX2, FMA, F16C) is the
// floor we build for on x86-64; set TTAD_TARGET_CPU=x86-64 for older boxes (e.g. Atom/Celeron
// without AVX) or `native` for a box-specific build. aarch64 builds use the toolchain default.
var cpuFlags: [String] = []
#if arch(x86_64)
let targetCPU = ProcessInfo.processInfo.environment["TTAD_TARGET_CPU"] ?? "haswell"
if targetCPU != "x86-64" {
    cpuFlags = ["-target-cpu", targetCPU]
}
#endif
let numericSettings: [SwiftSetting] = cpuFlags.isEmpty ? [] : [.unsafeFlags(cpuFlags)]

let package = Package(
    name: "ttad",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "ttad", targets: ["ttad"]),
        // For the libFuzzer package in tools/fuzz, which reaches the parsers through these
        // (a dependency's targets are visible only as products). Nothing else links them.
        .library(name: "TTADProtocol", targets: ["TTADProtocol"]),
        .library(name: "TTADEngine", targets: ["TTADEngine"]),
        .library(name: "TTADModel", targets: ["TTADModel"]),
        .library(name: "TTADAdaptation", targets: ["TTADAdaptation"]),
        .library(name: "TTADPresets", targets: ["TTADPresets"]),
        .library(name: "TTADDaemon", targets: ["TTADDaemon"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        // Already in the graph through Hummingbird; named for the metrics port's connection guard.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
    ],
    targets: [
        // C libraries, each behind its own thin system-library shim.
        .systemLibrary(name: "CZMQ", pkgConfig: "libzmq", providers: [.apt(["libzmq3-dev"])]),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CTurboJPEG", pkgConfig: "libturbojpeg", providers: [.apt(["libturbojpeg0-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),

        // Int8 GEMM kernels for the reduced-precision image tower: portable C, AVX2 and
        // AVX-512 VNNI chosen at run time (per-function target attributes, so the target builds
        // for any x86-64 or aarch64 CPU). -O2 even in debug builds: the kernels' register tiles
        // need it, and the tests that run them would otherwise crawl.
        .target(name: "CInt8", cSettings: [.unsafeFlags(["-O2"])]),

        // Engine: tensors, BLAS-backed ops, weight files. Knows nothing of models or sockets.
        .target(name: "TTADEngine", dependencies: ["COpenBLAS", "CInt8"], swiftSettings: numericSettings),
        // Models built on the engine: the frozen embedding classifier, CLIP's tokenizer, image
        // preprocessing, and the CLIP towers with their training (backward) path.
        .target(name: "TTADModel", dependencies: ["TTADEngine", "CTurboJPEG", "CPNG"], swiftSettings: numericSettings),
        // Adaptation logic without model math: memory bank and admission, prompt buffer, collapse
        // guard, outlier scores, drift detectors. Pure, deterministic, every state Codable.
        .target(name: "TTADAdaptation", dependencies: ["TTADEngine"], swiftSettings: numericSettings),
        // Small concurrency pieces shared by the service and the adaptation worker.
        .target(name: "TTADSupport"),
        // The adaptation layer: every preset behind one protocol (`AdaptationPreset`) and one
        // registry, for image and embedding mode, with its settings, checkpoint state and worker.
        // Composes the model (towers, learners) with the adaptation parts; knows no sockets.
        .target(name: "TTADPresets", dependencies: [
            "TTADEngine", "TTADModel", "TTADAdaptation", "TTADProtocol", "TTADSupport",
        ], swiftSettings: numericSettings),
        // Fashion-MNIST IDX reader, ImageNet-C corruptions in Swift, seeded drifting-stream scenarios.
        .target(name: "TTADScenario", dependencies: ["TTADEngine", "CTurboJPEG"], swiftSettings: numericSettings),
        // Wire protocol v1: frames, headers, validation, output messages. Pure Swift.
        .target(name: "TTADProtocol"),
        // Evaluation of a prediction stream: accuracy per domain and window, AUROC, H-score, reports.
        .target(name: "TTADEvaluation"),
        // Thin, careful wrapper over libzmq.
        .target(name: "TTADZMQ", dependencies: ["CZMQ"]),
        // SQLite state through GRDB.
        .target(name: "TTADState", dependencies: [
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The service: config, I/O thread, pipeline, metrics, HTTP, lifecycle, sd_notify.
        .target(name: "TTADDaemon", dependencies: [
            "TTADEngine", "TTADModel", "TTADAdaptation", "TTADPresets", "TTADProtocol", "TTADSupport", "TTADZMQ", "TTADState",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            .product(name: "TOMLKit", package: "TOMLKit"),
            .product(name: "Crypto", package: "swift-crypto"),
        ], swiftSettings: numericSettings),
        // The command-line interface.
        .executableTarget(name: "ttad", dependencies: [
            "TTADDaemon", "TTADAdaptation", "TTADPresets", "TTADProtocol", "TTADZMQ", "TTADEngine", "TTADModel", "TTADScenario", "TTADEvaluation", "CTurboJPEG",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .testTarget(name: "TTADEngineTests", dependencies: ["TTADEngine"]),
        .testTarget(name: "TTADAdaptationTests", dependencies: ["TTADAdaptation", "TTADEngine"]),
        .testTarget(name: "TTADScenarioTests", dependencies: ["TTADScenario"]),
        .testTarget(name: "TTADEvaluationTests", dependencies: ["TTADEvaluation"]),
        .testTarget(name: "TTADModelTests", dependencies: ["TTADModel", "TTADEngine"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "TTADProtocolTests", dependencies: ["TTADProtocol"]),
        .testTarget(name: "TTADZMQTests", dependencies: ["TTADZMQ"]),
        .testTarget(name: "TTADStateTests", dependencies: [
            "TTADState",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "TTADSupportTests", dependencies: ["TTADSupport"]),
        .testTarget(name: "TTADPresetsTests", dependencies: [
            "TTADPresets", "TTADModel", "TTADEngine", "TTADAdaptation", "TTADProtocol",
        ], exclude: ["Fixtures"]),
        .testTarget(name: "TTADDaemonTests", dependencies: [
            "TTADDaemon", "TTADPresets", "TTADProtocol", "TTADZMQ", "TTADState", "TTADModel", "TTADEngine",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
        ], exclude: ["Python", "Fixtures"]),
    ]
)
