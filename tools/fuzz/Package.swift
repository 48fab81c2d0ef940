// swift-tools-version: 6.1
import PackageDescription

// libFuzzer targets for the parsers the daemon runs on untrusted bytes. A package of its own so
// the root package's `swift build --build-tests` never compiles with sanitizers. Build through
// tools/fuzz.sh, which passes `-sanitize=fuzzer,address` for every Swift module (the parsers in
// the root package must carry the coverage instrumentation, not only these entry points).
// docs/testing.md says how to run them.


let package = Package(
    name: "ttad-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        // `ttad` is a committed symlink to the repository root (../..): a path dependency's
        // identity is its directory's name, which for the root itself would be whatever the
        // clone happens to be called.
        .package(path: "ttad"),
    ],
    targets: [
        // Frame splitting and fixture paths shared by the targets.
        // Declares libFuzzer's LLVMFuzzerRunDriver: SwiftPM owns each executable's `main`.
        .target(name: "CFuzzerDriver", path: "Sources/CFuzzerDriver"),
        .target(name: "FuzzSupport", dependencies: ["CFuzzerDriver", .product(name: "TTADProtocol", package: "ttad")],
                path: "Sources/FuzzSupport"),
        // Header JSON: SampleDecoder's header scanner and JSONReader, with a round-trip check.
        .executableTarget(name: "fuzz-header", dependencies: [
            "FuzzSupport", .product(name: "TTADProtocol", package: "ttad"),
        ], path: "Sources/fuzz-header"),
        // Whole input messages [topic][header][payload] with every encoding, as Pipeline.admit runs them.
        .executableTarget(name: "fuzz-sample", dependencies: [
            "FuzzSupport", .product(name: "TTADProtocol", package: "ttad"),
        ], path: "Sources/fuzz-sample"),
        // JPEG/PNG/raw decoding and CLIP preprocessing, as ImagePredictor.append runs them.
        .executableTarget(name: "fuzz-image", dependencies: [
            "FuzzSupport", .product(name: "TTADModel", package: "ttad"),
        ], path: "Sources/fuzz-image"),
        // The TOML configuration loader and its whole-config checks.
        .executableTarget(name: "fuzz-config", dependencies: [
            "FuzzSupport", .product(name: "TTADDaemon", package: "ttad"),
        ], path: "Sources/fuzz-config"),
        // Checkpoint sections as Checkpointer.restore decodes them, then restored into presets.
        .executableTarget(name: "fuzz-checkpoint", dependencies: [
            "FuzzSupport",
            .product(name: "TTADDaemon", package: "ttad"),
            .product(name: "TTADPresets", package: "ttad"),
            .product(name: "TTADAdaptation", package: "ttad"),
            .product(name: "TTADProtocol", package: "ttad"),
            .product(name: "TTADModel", package: "ttad"),
            .product(name: "TTADEngine", package: "ttad"),
        ], path: "Sources/fuzz-checkpoint"),
    ]
)
