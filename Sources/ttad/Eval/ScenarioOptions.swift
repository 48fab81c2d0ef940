import ArgumentParser
import Foundation
import TTADScenario

/// The scenario options shared by `ttad stream` and `ttad eval --config`: which Fashion-MNIST-C
/// stream to build, how to order and mix it, and how to encode its images.
struct ScenarioOptions: ParsableArguments {
    @Option(help: ArgumentHelp(ScenarioSpec.help))
    var scenario: String = "clean"

    @Option(help: "Severity of every domain of the continual scenario.")
    var severity: Int = 5

    @Option(help: "Label-correlated order: Dirichlet concentration γ (RoTTA uses 0.1).")
    var gamma: Double?

    @Option(help: "Fraction of samples replaced by unknown-class images (bag, ankle boot), in [0, 1).")
    var outliers: Double = 0

    @Option(help: "Cycle the scenario until it holds at least this many samples.")
    var long: Int?

    @Option(help: "Samples per domain (default: one pass over the 8,000 known-class test images).")
    var perDomain: Int?

    @Option(help: "Scenario seed.")
    var seed: UInt64 = 0

    @Option(help: "Stop after this many samples.")
    var limit: Int?

    @Option(help: "Stream id (topic frame; predictions come back on pred/<stream>).")
    var stream: String = "fmnist"

    @Option(help: "Directory of the Fashion-MNIST IDX files.")
    var datasetDir: String = FashionMNIST.defaultDirectory

    @Option(help: "Payload encoding: raw (raw-u8-hwc) or jpeg.")
    var encoding: String = "raw"

    @Option(help: ArgumentHelp(
        "Send each image as its f32-embedding, computed with this CLIP model folder (an accelerator's stand-in).",
        discussion: "The payload of --encoding is decoded and embedded exactly as the daemon's image mode would, so an "
            + "embedding-mode daemon scoring against the same model's class prompts predicts what the image mode predicts. "
            + "With `ttad eval --config` on an image-mode config, eval runs the daemon in embedding mode against that model's "
            + "class-prompt embeddings (written to the state directory).",
        valueName: "model-dir"))
    var asEmbeddings: String?

    @Flag(help: "Write ids as <domain>@<severity>|<position> so `ttad eval` reports each severity apart (gradual).")
    var severityInId = false

    mutating func validate() throws {
        _ = try ScenarioSpec(parsing: scenario)
        if !["raw", "jpeg"].contains(encoding) { throw ValidationError("--encoding must be raw or jpeg") }
        if !(0..<1).contains(outliers) { throw ValidationError("--outliers must be in [0, 1)") }
        if let limit, limit < 1 { throw ValidationError("--limit must be ≥ 1") }
        if let perDomain, perDomain < 1 { throw ValidationError("--per-domain must be ≥ 1") }
        if let long, long < 1 { throw ValidationError("--long must be ≥ 1") }
        if !Corruption.severities.contains(severity) { throw ValidationError("--severity must be 1…5") }
        if try ScenarioSpec(parsing: scenario) == .cameras, long != nil {
            throw ValidationError("--long does not apply to --scenario cameras")
        }
    }

    /// A short description for logs and report titles, e.g. "continual γ=0.1 outliers=0.1".
    var label: String {
        var s = scenario
        if let gamma { s += " γ=\(gamma)" }
        if asEmbeddings != nil { s += " as embeddings" }
        if outliers > 0 { s += " outliers=\(outliers)" }
        if let long { s += " long≥\(long)" }
        return s
    }

    /// The id a sample is sent with: `<domain>|<position>`, or `<domain>@<severity>|<position>`
    /// with --severity-in-id.
    func id(of sample: ScenarioSample) -> String {
        let domain = severityInId && sample.severity > 0 ? "\(sample.domain)@\(sample.severity)" : sample.domain
        return "\(domain)|\(sample.position)"
    }

    /// What to send: the scenario on `stream`, or the camera group on `<stream>-<camera>`.
    func makePlan() throws -> (FashionMNISTSet, StreamPlan) {
        let spec = try ScenarioSpec(parsing: scenario)
        guard spec == .cameras else {
            let (set, s) = try makeScenario()
            return (set, .single(s, stream: stream, severityInId: severityInId))
        }
        let set = try FashionMNIST.load(.test, directory: datasetDir)
        let group = try CameraScenario.standard(pool: ScenarioPool(labels: set.labels), samplesPerStep: perDomain, severity: severity, seed: seed)
        let cameras = try group.cameras.map { c in
            var s = c.scenario
            if let gamma { s = try s.labelCorrelated(gamma: gamma) }
            if outliers > 0 { s = try s.withOutliers(ratio: outliers) }
            return CameraScenario.Camera(name: c.name, scenario: s)
        }
        return (set, .cameras(CameraScenario(cameras: cameras, seed: seed), stream: stream, severityInId: severityInId))
    }

    func makeScenario() throws -> (FashionMNISTSet, Scenario) {
        let set = try FashionMNIST.load(.test, directory: datasetDir)
        let pool = ScenarioPool(labels: set.labels)
        var s = try ScenarioSpec(parsing: scenario).build(pool: pool, samplesPerStep: perDomain, severity: severity, seed: seed)
        if let gamma { s = try s.labelCorrelated(gamma: gamma) }
        if outliers > 0 { s = try s.withOutliers(ratio: outliers) }
        if let long { s = try s.long(minimumSamples: long) }
        return (set, s)
    }
}
