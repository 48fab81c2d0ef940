import XCTest
@testable import TTADDaemon
import TTADModel
import TTADProtocol

final class ConfigLoaderTests: XCTestCase {
    private let minimal = """
    [classifier]
    class_embeddings = "emb.safetensors"
    """

    func testDefaultsAndRelativePaths() throws {
        let c = try ConfigLoader.parse(minimal, baseDirectory: "/etc/ttad")
        XCTAssertEqual(c.classifier.classEmbeddings, "/etc/ttad/emb.safetensors")
        XCTAssertEqual(c.ingest.pattern, .pull)
        XCTAssertEqual(c.ingest.effectiveOverflow, .block)
        XCTAssertEqual(c.ingest.endpoints, ["tcp://127.0.0.1:7755"])
        XCTAssertEqual(c.publish.endpoints, ["tcp://127.0.0.1:7756"])
        XCTAssertEqual(c.metrics.host, "127.0.0.1")
        XCTAssertNil(c.classifier.logitScale)
    }

    func testSubDefaultsToDropOldest() throws {
        let c = try ConfigLoader.parse(minimal + "\n[ingest]\npattern = \"sub\"\ntopics = [\"cam\"]\n", baseDirectory: "/")
        XCTAssertEqual(c.ingest.effectiveOverflow, .dropOldest)
        XCTAssertEqual(c.ingest.topics, ["cam"])
    }

    func testEveryKeyParses() throws {
        let text = """
        [daemon]
        mode = "embedding"
        state_directory = "state"
        log_level = "debug"
        shutdown_timeout_s = 5
        blas_threads = 2
        [ingest]
        pattern = "sub"
        endpoints = ["tcp://127.0.0.1:9000", "ipc:///tmp/x"]
        bind = false
        topics = ["a", "b"]
        queue_capacity = 10
        overflow = "drop_newest"
        memory_budget_bytes = 1048576
        typical_message_bytes = 100
        max_message_bytes = 100000
        reconnect_interval_ms = 50
        reconnect_interval_max_ms = 1000
        heartbeat_interval_ms = 0
        heartbeat_timeout_ms = 0
        [publish]
        endpoints = ["tcp://127.0.0.1:9001"]
        bind = true
        send_high_water_mark = 5
        queue_capacity = 7
        [protocol]
        max_header_bytes = 1024
        max_payload_bytes = 2048
        max_image_side = 512
        max_image_pixels = 200000
        max_embedding_dimension = 1024
        [classifier]
        class_embeddings = "/m/e.npy"
        class_names = "names.txt"
        tensor = "t"
        logit_scale = 50.5
        top_k = 3
        max_batch = 16
        outlier_threshold = 0.7
        [metrics]
        enabled = false
        host = "0.0.0.0"
        port = 0
        max_connections = 9
        header_timeout_s = 1.5
        idle_timeout_s = 12
        [state]
        checkpoint_every_samples = 100
        checkpoint_every_s = 2.5
        keep_checkpoints = 2
        [curve]
        enabled = true
        server_secret_key_file = "curve/server_secret"
        allowed_clients_directory = "curve/clients"
        """
        let c = try ConfigLoader.parse(text, baseDirectory: "/base")
        XCTAssertEqual(c.daemon.stateDirectory, "/base/state")
        XCTAssertEqual(c.daemon.logLevel, "debug")
        XCTAssertEqual(c.daemon.shutdownTimeoutSeconds, 5)
        XCTAssertEqual(c.ingest.endpoints.count, 2)
        XCTAssertEqual(c.ingest.effectiveOverflow, .dropNewest)
        XCTAssertFalse(c.ingest.bind)
        XCTAssertEqual(c.publish.queueCapacity, 7)
        XCTAssertEqual(c.protocolLimits.maxEmbeddingDimension, 1024)
        XCTAssertEqual(c.protocolLimits.maxImagePixels, 200_000)
        XCTAssertEqual(c.classifier.classNames, "/base/names.txt")
        XCTAssertEqual(c.classifier.outlierThreshold, 0.7)
        XCTAssertEqual(c.state.checkpointEverySeconds, 2.5)
        XCTAssertEqual(c.metrics.connectionLimits, HTTPConnectionLimits(maxConnections: 9, headerTimeoutSeconds: 1.5, idleTimeoutSeconds: 12))
        XCTAssertEqual(c.curve.allowedClientsDirectory, "/base/curve/clients")
        // The printed effective configuration parses back to the same configuration.
        let again = try ConfigLoader.parse(ConfigCheck.describe(c), baseDirectory: "/elsewhere")
        XCTAssertEqual(again, c)
    }

    private func assertError(_ text: String, key: String, contains: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try ConfigLoader.parse(text, baseDirectory: "/"), file: file, line: line) { e in
            guard let ce = e as? ConfigError else { return XCTFail("not a ConfigError: \(e)", file: file, line: line) }
            XCTAssertEqual(ce.key, key, "\(ce)", file: file, line: line)
            XCTAssertTrue(ce.description.contains(contains), "\(ce)", file: file, line: line)
        }
    }

    func testErrorsNameTheKey() {
        assertError(minimal + "\n[ingest]\nqueu_capacity = 3\n", key: "ingest.queu_capacity", contains: "unknown key")
        assertError(minimal + "\n[ingest]\nqueue_capacity = \"big\"\n", key: "ingest.queue_capacity", contains: "expected an integer")
        assertError(minimal + "\n[ingest]\nqueue_capacity = 0\n", key: "ingest.queue_capacity", contains: "must be 1 to 16777216, got 0")
        assertError(minimal + "\n[ingest]\npattern = \"req\"\n", key: "ingest.pattern", contains: "\"pull\"")
        assertError(minimal + "\n[metrics]\nmax_connections = 0\n", key: "metrics.max_connections", contains: "must be 1 to 65536, got 0")
        assertError(minimal + "\n[metrics]\nheader_timeout_s = 0\n", key: "metrics.header_timeout_s", contains: "> 0")
        assertError(minimal + "\n[ingest]\nendpoints = [\"localhost:5\"]\n", key: "ingest.endpoints[0]", contains: "not a ZeroMQ endpoint")
        assertError(minimal + "\n[ingest]\nendpoints = [3]\n", key: "ingest.endpoints[0]", contains: "expected a string")
        assertError(minimal + "\n[ingest]\nendpoints = []\n", key: "ingest.endpoints", contains: "at least one")
        assertError(minimal + "\n[ingest]\npattern = \"sub\"\ntopics = []\n", key: "ingest.topics", contains: "subscription")
        assertError(minimal + "\n[bogus]\nx = 1\n", key: "bogus", contains: "unknown key")
        assertError(minimal + "\n[daemon]\nlog_level = \"loud\"\n", key: "daemon.log_level", contains: "must be one of")
        assertError(minimal + "\n[classifier.x]\n", key: "classifier.x", contains: "unknown key")
        assertError(minimal + "\n[metrics]\nport = 70000\n", key: "metrics.port", contains: "must be 0 to 65535, got 70000")
        assertError(minimal + "\n[curve]\nenabled = true\n", key: "curve.server_secret_key_file", contains: "required")
        assertError("[daemon]\nmode = \"embedding\"\n", key: "classifier.class_embeddings", contains: "required")
        assertError(minimal + "\n[classifier]\nlogit_scale = 0\n", key: "", contains: "TOML")  // duplicate table
        assertError(minimal + "\nx = = 1\n", key: "", contains: "line 3")
        // TOMLKit asserts (aborting the process) on a header with no name; the loader refuses it first.
        assertError(minimal + "\n[\nx = 1\n", key: "", contains: "line 3, column 1: a table header needs a name")
    }

    func testMaxHeaderBytesErrorStatesTheWholeRange() throws {
        for bad in [63, 1_048_577] {
            assertError(minimal + "\n[protocol]\nmax_header_bytes = \(bad)\n", key: "protocol.max_header_bytes",
                        contains: "must be 64 to 1048576 (1 MiB), got \(bad)")
        }
        for good in [64, 1_048_576] {
            XCTAssertEqual(try ConfigLoader.parse(minimal + "\n[protocol]\nmax_header_bytes = \(good)\n", baseDirectory: "/")
                .protocolLimits.maxHeaderBytes, good)
        }
        assertError(minimal + "\n[protocol]\nmax_image_pixels = 0\n", key: "protocol.max_image_pixels", contains: "must be 1 to 4294967296, got 0")
    }

    /// The image the header's `shape` may announce and the image the decoder accepts are bounded
    /// by the same two keys: by default every image within `max_image_side` (8192²) gets through.
    func testImageSideAndPixelLimitsAreTheSameForShapesAndDecodedImages() throws {
        let defaults = try ConfigLoader.parse(minimal, baseDirectory: "/").protocolLimits
        let decode = defaults.imageDecodeLimits
        XCTAssertNoThrow(try decode.check(width: 8192, height: 8192))
        XCTAssertThrowsError(try decode.check(width: 8193, height: 1))
        let wire = SampleDecoder(limits: defaults.decoderLimits(embeddingDimension: nil))
        func shape(_ h: Int, _ w: Int, _ decoder: SampleDecoder) -> RejectReason? {
            let header = #"{"v":1,"id":"i","stream":"c","seq":1,"encoding":"jpeg","shape":[\#(h),\#(w),3]}"#
            switch decoder.decode(frames: [Array("c".utf8), Array(header.utf8), [0xFF, 0xD8, 0xFF, 0xE0]]) {
            case .success: return nil
            case .failure(let r): return r.reason
            }
        }
        XCTAssertNil(shape(8192, 8192, wire))
        XCTAssertEqual(shape(8193, 1, wire), .wrongShape)

        let small = try ConfigLoader.parse(minimal + "\n[protocol]\nmax_image_pixels = 1000000\n", baseDirectory: "/").protocolLimits
        XCTAssertNoThrow(try small.imageDecodeLimits.check(width: 1000, height: 1000))
        XCTAssertThrowsError(try small.imageDecodeLimits.check(width: 1001, height: 1000)) {
            XCTAssertEqual($0 as? ImageDecodeError, .tooLarge(width: 1001, height: 1000, maxSide: 8192, maxPixels: 1_000_000))
        }
        let smallWire = SampleDecoder(limits: small.decoderLimits(embeddingDimension: nil))
        XCTAssertNil(shape(1000, 1000, smallWire))
        XCTAssertEqual(shape(1000, 1001, smallWire), .wrongShape)
    }

    func testMissingFileIsAClearError() {
        XCTAssertThrowsError(try ConfigLoader.load(path: "/nonexistent/ttad.toml")) { e in
            XCTAssertTrue("\(e)".contains("/nonexistent/ttad.toml"))
        }
    }

    func testShippedEmbeddingConfigIsValid() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let c = try ConfigLoader.load(path: root.appendingPathComponent("deploy/ttad-embedding.toml").path)
        XCTAssertEqual(c.daemon.mode, .embedding)
        XCTAssertTrue(FileManager.default.fileExists(atPath: c.classifier.classEmbeddings), c.classifier.classEmbeddings)
        XCTAssertNoThrow(try ConfigCheck.checkFiles(c))
    }

    /// The default config runs image mode on the bundled model, which must load (files, names, template).
    func testShippedDefaultConfigRunsTheBundledModel() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let c = try ConfigLoader.load(path: root.appendingPathComponent("deploy/ttad.toml").path)
        XCTAssertEqual(c.daemon.mode, .image)
        XCTAssertEqual(c.model.folder, root.appendingPathComponent("deploy/models/fmnist-clip").standardized.path)
        XCTAssertEqual(c.model.classNames.count, 8)
        XCTAssertFalse(c.daemon.deterministic)
        XCTAssertNoThrow(try ConfigCheck.checkFiles(c))
    }

    func testDriftSectionParsesAndNamesBadKeys() throws {
        let minimal = "[classifier]\nclass_embeddings = \"x.npy\"\n"
        let c = try ConfigLoader.parse(minimal + "[drift]\nwindow = 128\npublish_every_samples = 32\npage_hinkley_threshold = 25.0\nadwin_delta = 0.01\nembedding_shift = false\n", baseDirectory: "/")
        XCTAssertEqual(c.drift.window, 128)
        XCTAssertEqual(c.drift.publishEverySamples, 32)
        XCTAssertEqual(c.drift.pageHinkleyThreshold, 25)
        XCTAssertEqual(c.drift.adwinDelta, 0.01)
        XCTAssertFalse(c.drift.embeddingShift)
        XCTAssertTrue(c.drift.enabled)
        assertError(minimal + "[drift]\nwindow = 4\n", key: "drift.window", contains: "must be 8 to 1048576, got 4")
        assertError(minimal + "[drift]\nadwin_delta = 0.0\n", key: "drift.adwin_delta", contains: "> 0")
        assertError(minimal + "[drift]\nwindwo = 64\n", key: "drift.windwo", contains: "unknown key")
        // check-config prints a [drift] table that parses back to the same settings.
        XCTAssertEqual(try ConfigLoader.parse(ConfigCheck.describe(c), baseDirectory: "/").drift, c.drift)
    }

    func testOutlierCalibrationKeys() throws {
        let minimal = "[classifier]\nclass_embeddings = \"x.npy\"\n"
        let c = try ConfigLoader.parse(minimal + "outlier_calibration_samples = 500\noutlier_quantile = 0.9\n", baseDirectory: "/")
        XCTAssertEqual(c.classifier.outlierCalibrationSamples, 500)
        XCTAssertEqual(c.classifier.outlierQuantile, 0.9)
        assertError(minimal + "outlier_quantile = 1.0\n", key: "classifier.outlier_quantile", contains: "< 1")
        assertError(minimal + "outlier_threshold = 0.5\noutlier_calibration_samples = 10\n",
                    key: "classifier.outlier_calibration_samples", contains: "not both")
        XCTAssertEqual(try ConfigLoader.parse(ConfigCheck.describe(c), baseDirectory: "/").classifier, c.classifier)
    }

    func testAdaptationSectionParsesValidatesAndNamesBadKeys() throws {
        let image = "[daemon]\nmode = \"image\"\n[model]\nfolder = \"m\"\nclass_names = [\"a\", \"b\"]\n"
        let c = try ConfigLoader.parse(image + """
            [adaptation]
            preset = "ttad"
            learning_rate = 0.0005
            anchor_weight = 2.0
            calibration_rate = 0.05
            update_every_samples = 32
            min_bank_items = 8
            worker_cpu_budget = 0.25
            [adaptation.bank]
            capacity = 32
            max_bytes = 1048576
            entropy_fraction = 0.3
            require_frozen_agreement = false
            [adaptation.guard]
            entropy_floor = 0.05
            window = 128
            collapsed_class_count = 1
            top_share_margin = 0.2
            disagreement_bound = 0.6
            cooldown_samples = 100
            periodic_reset_samples = 64000
            [adaptation.label_gate]
            window = 4096
            threshold = 0.2
            reopen_below = 0.05
            warmup_samples = 256
            mixed_below = 0.02
            mixed_classes = 4
            [adaptation.tpt]
            views = 32
            keep_fraction = 0.2
            learning_rate = 0.01
            slots = 12
            [adaptation.rotta]
            learning_rate = 0.002
            teacher_rate = 0.01
            update_every_samples = 32
            capacity = 48
            timeliness_weight = 0.5
            uncertainty_weight = 2.0
            [adaptation.stamp]
            learning_rate = 0.05
            alpha = 0.9
            rho = 0.1
            views = 8
            update_every_samples = 16
            capacity = 32
            cosine_period = 750
            """, baseDirectory: "/")
        let a = c.adaptation
        XCTAssertEqual(a.preset, .ttad)
        XCTAssertEqual(a.learningRate, 0.0005)
        XCTAssertEqual(a.anchorWeight, 2)
        XCTAssertEqual(a.calibrationRate, 0.05)
        XCTAssertEqual(a.updateEverySamples, 32)
        XCTAssertEqual(a.minBankItems, 8)
        XCTAssertEqual(a.bank.capacity, 32)
        XCTAssertEqual(a.bank.maxBytes, 1 << 20)
        XCTAssertEqual(a.bank.entropyFraction, 0.3)
        XCTAssertFalse(a.bank.requireFrozenAgreement)
        XCTAssertEqual(a.guardSettings.entropyFloor, 0.05)
        XCTAssertEqual(a.guardSettings.window, 128)
        XCTAssertEqual(a.guardSettings.collapsedClassCount, 1)
        XCTAssertEqual(a.guardSettings.topShareMargin, 0.2)
        XCTAssertEqual(a.guardSettings.disagreementBound, 0.6)
        XCTAssertEqual(a.guardSettings.cooldownSamples, 100)
        XCTAssertEqual(a.guardSettings.periodicResetSamples, 64000)
        XCTAssertEqual(a.workerCPUBudget, 0.25)
        XCTAssertEqual(a.labelGate.window, 4096)
        XCTAssertEqual(a.labelGate.threshold, 0.2)
        XCTAssertEqual(a.labelGate.reopenBelow, 0.05)
        XCTAssertEqual(a.labelGate.warmupSamples, 256)
        XCTAssertEqual(a.labelGate.mixedBelow, 0.02)
        XCTAssertEqual(a.labelGate.mixedClasses, 4)
        XCTAssertEqual([a.promptTuning.views, a.promptTuning.slots], [32, 12])
        XCTAssertEqual([a.promptTuning.keepFraction, a.promptTuning.learningRate], [0.2, 0.01])
        XCTAssertEqual([a.rotta.learningRate, a.rotta.teacherRate, a.rotta.timelinessWeight, a.rotta.uncertaintyWeight], [0.002, 0.01, 0.5, 2])
        XCTAssertEqual([a.rotta.updateEverySamples, a.rotta.capacity], [32, 48])
        XCTAssertEqual([a.stamp.learningRate, a.stamp.alpha, a.stamp.rho], [0.05, 0.9, 0.1])
        XCTAssertEqual([a.stamp.views, a.stamp.updateEverySamples, a.stamp.capacity, a.stamp.cosinePeriod], [8, 16, 32, 750])
        XCTAssertEqual(try ConfigLoader.parse(ConfigCheck.describe(c), baseDirectory: "/").adaptation, c.adaptation)
        XCTAssertEqual(try ConfigLoader.parse(minimal, baseDirectory: "/").adaptation.preset, .frozen, "frozen unless asked")

        assertError(minimal + "\n[adaptation]\npreset = \"ttad\"\n", key: "adaptation.preset", contains: "image")
        assertError(image + "[adaptation]\npreset = \"tent\"\n", key: "adaptation.preset", contains: "\"ttad\"")
        assertError(image + "[adaptation]\nmin_bank_items = 100\n", key: "adaptation.min_bank_items", contains: "capacity")
        assertError(image + "[adaptation.bank]\ncapacty = 3\n", key: "adaptation.bank.capacty", contains: "unknown key")
        assertError(image + "[adaptation.guard]\nwindow = 2\n", key: "adaptation.guard.window", contains: "must be 8 to 1048576, got 2")
        assertError(image + "[adaptation]\nlearning_rate = 0.0\n", key: "adaptation.learning_rate", contains: "> 0")
        assertError(image + "[adaptation]\nworker_cpu_budget = 0\n", key: "adaptation.worker_cpu_budget", contains: "> 0")
        assertError(image + "[adaptation]\nworker_cpu_budget = 1.5\n", key: "adaptation.worker_cpu_budget", contains: "1")
        assertError(image + "[adaptation.tpt]\nviews = 0\n", key: "adaptation.tpt.views", contains: "must be 1 to 256, got 0")
        assertError(image + "[adaptation.tpt]\nslots = 65\n", key: "adaptation.tpt.slots", contains: "64")
        assertError(image + "[adaptation.rotta]\nteacher_rate = 2\n", key: "adaptation.rotta.teacher_rate", contains: "1")
        assertError(image + "[adaptation.stamp]\nalfa = 0.5\n", key: "adaptation.stamp.alfa", contains: "unknown key")
        for preset in ["tpt", "dynaprompt", "rotta", "stamp"] {
            XCTAssertEqual(try ConfigLoader.parse(image + "[adaptation]\npreset = \"\(preset)\"\n", baseDirectory: "/").adaptation.preset.rawValue, preset)
        }
        assertError(image + "[adaptation.label_gate]\nwindow = 8\n", key: "adaptation.label_gate.window", contains: "≥ 16")
        assertError(image + "[adaptation.label_gate]\nthreshold = 1\n", key: "adaptation.label_gate.threshold", contains: "< 1")
        assertError(image + "[adaptation.label_gate]\nreopen_below = 0.2\n", key: "adaptation.label_gate.reopen_below", contains: "exceeds threshold")
        assertError(image + "[adaptation.label_gate]\nwindow = 64\nwarmup_samples = 65\n", key: "adaptation.label_gate.warmup_samples",
                    contains: "exceeds window")
        assertError(image + "[adaptation.label_gate]\nwarmup_samples = 1\n", key: "adaptation.label_gate.warmup_samples", contains: "≥ 2")
        assertError(image + "[adaptation.label_gate]\nmixed_below = 0.2\n", key: "adaptation.label_gate.mixed_below", contains: "exceeds threshold")
        assertError(image + "[adaptation]\ncalibration_rate = 2\n", key: "adaptation.calibration_rate", contains: "≤ 1")
        // Defaults the user did not set follow a smaller window and threshold.
        let small = try ConfigLoader.parse(image + "[adaptation.label_gate]\nwindow = 64\nthreshold = 0.04\nreopen_below = 0.01\n",
                                           baseDirectory: "/").adaptation.labelGate
        XCTAssertEqual(small.warmupSamples, 64)
        XCTAssertEqual(small.mixedBelow, 0.04)
        XCTAssertEqual(try ConfigLoader.parse(image + "[adaptation.label_gate]\nwindow = 0\n", baseDirectory: "/").adaptation.labelGate.window, 0,
                       "0 turns the gate off")
    }

    func testDeterministicModeNeedsLosslessIngest() throws {
        let minimal = "[classifier]\nclass_embeddings = \"x.npy\"\n"
        let c = try ConfigLoader.parse(minimal + "[daemon]\ndeterministic = true\n", baseDirectory: "/")
        XCTAssertTrue(c.daemon.deterministic)
        XCTAssertEqual(c.ingest.effectiveOverflow, .block)
        for (extra, want) in [("[ingest]\npattern = \"sub\"\n", "pattern"), ("[ingest]\noverflow = \"drop_oldest\"\n", "overflow")] {
            XCTAssertThrowsError(try ConfigLoader.parse(minimal + "[daemon]\ndeterministic = true\n" + extra, baseDirectory: "/")) { e in
                XCTAssertEqual((e as? ConfigError)?.key, "daemon.deterministic")
                XCTAssertTrue("\(e)".contains(want), "\(e)")
            }
        }
    }
}

final class ImageModeConfigTests: XCTestCase {
    func testModelSectionParsesAndResolvesPaths() throws {
        let c = try ConfigLoader.parse("""
        [daemon]
        mode = "image"
        [model]
        folder = "models/clip"
        class_names = ["cat", "ankle boot"]
        prompt_template = "a blurry photo of a {}."
        precision = "int8"
        """, baseDirectory: "/etc/ttad")
        XCTAssertEqual(c.daemon.mode, .image)
        XCTAssertEqual(c.model.folder, "/etc/ttad/models/clip")
        XCTAssertEqual(c.model.classNames, ["cat", "ankle boot"])
        XCTAssertEqual(c.model.promptTemplate, "a blurry photo of a {}.")
        XCTAssertEqual(c.model.precision, .int8)
        XCTAssertEqual(ModelSection().precision, .f32, "F32 stays the default")
        // check-config's output parses back to the same configuration.
        let again = try ConfigLoader.parse(ConfigCheck.describe(c), baseDirectory: "/")
        XCTAssertEqual(again.model, c.model)
        XCTAssertEqual(again.daemon.mode, .image)
        XCTAssertNil(again.classifier.logitScale)
    }

    func testImageModeErrorsNameTheKey() {
        let cases: [(String, String)] = [
            ("[daemon]\nmode = \"image\"\n[model]\nclass_names = [\"a\"]\n", "model.folder"),
            ("[daemon]\nmode = \"image\"\n[model]\nfolder = \"m\"\n", "model.class_names"),
            ("[daemon]\nmode = \"image\"\n[model]\nfolder = \"m\"\nclass_names = [\"a\"]\nclass_names_file = \"n.txt\"\n", "model.class_names"),
            ("[daemon]\nmode = \"image\"\n[model]\nfolder = \"m\"\nclass_names = [\"a\"]\nprompt_template = \"no placeholder\"\n", "model.prompt_template"),
            ("[daemon]\nmode = \"image\"\n[model]\nfolder = \"m\"\nclass_names = [\"a\", \"a\"]\n", "model.class_names[1]"),
            ("[daemon]\nmode = \"image\"\n[model]\nfolder = \"m\"\nclass_names = [\"a\"]\nprompt = \"x\"\n", "model.prompt"),
            ("[daemon]\nmode = \"image\"\n[model]\nfolder = \"m\"\nclass_names = [\"a\"]\nprecision = \"fp16\"\n", "model.precision"),
        ]
        for (text, key) in cases {
            XCTAssertThrowsError(try ConfigLoader.parse(text, baseDirectory: "/")) { e in
                XCTAssertEqual((e as? ConfigError)?.key, key, "\(text): \(e)")
            }
        }
    }

    func testClassNamesFileIsReadOneNamePerLine() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ttad-names-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("names.txt").path
        try "t-shirt\n\n  trouser \nbag\n".write(toFile: file, atomically: true, encoding: .utf8)
        var m = ModelSection()
        m.classNamesFile = file
        XCTAssertEqual(try PredictorFactory.classNames(m), ["t-shirt", "trouser", "bag"])
        try "a\na\n".write(toFile: file, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try PredictorFactory.classNames(m)) { XCTAssertEqual(($0 as? ConfigError)?.key, "model.class_names_file") }
    }
}
