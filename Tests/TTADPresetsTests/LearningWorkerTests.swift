import Foundation
import TTADEngine
import XCTest
@testable import TTADPresets

/// `LearningWorker`: what it is handed reaches the learner on its own thread, which runs niced
/// below the process (so a step gives way to prediction and I/O), and what the learner
/// publishes reaches the processing thread's copy.
final class LearningWorkerTests: XCTestCase {
    /// Adds each job to its one parameter and records the worker thread's nice value.
    final class Summing: BackgroundLearning {
        typealias Job = Float
        typealias Snapshot = Float
        let parameter = FloatBuffer(count: 1)
        private(set) var version = 0
        private(set) var niceSeen: Int32?
        static func samples(in job: Float) -> Int { 1 }
        func process(_ round: [Float]) {
            #if os(Linux)
            niceSeen = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
            #endif
            for j in round { parameter.pointer[0] += j }
            version += 1
        }
        var publishedParameters: [FloatBuffer] { [parameter] }
        func snapshot() -> Float { parameter.pointer[0] }
        func takeReport() -> AdaptationReport { AdaptationReport() }
    }

    func testJobsReachTheLearnerOnANicedThreadAndItsParametersComeBack() throws {
        let learner = Summing()
        let worker = LearningWorker(learner: learner, name: "test-worker", cpuBudget: 1)
        worker.start()
        for j: Float in [1, 2, 3] { worker.submit(j) }
        XCTAssertTrue(worker.finish(timeout: 10))
        XCTAssertEqual(worker.state(), 6)
        let predicting = FloatBuffer(count: 1)
        XCTAssertEqual(worker.refresh([predicting], current: 0), learner.version)
        XCTAssertEqual(predicting.pointer[0], 6)
        #if os(Linux)
        let own = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        let seen = try XCTUnwrap(learner.niceSeen)
        // Capped at 19, the lowest priority there is.
        XCTAssertEqual(seen, min(own + LearningWorker<Summing>.niceIncrement, 19), "the worker thread was not niced")
        #endif
    }
}
