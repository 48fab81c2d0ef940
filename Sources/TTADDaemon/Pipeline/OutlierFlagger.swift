import Logging
import TTADAdaptation

/// Decides the `outlier` flag of each prediction from its outlier score (1 − max cosine): never
/// (no threshold configured), against a fixed `classifier.outlier_threshold`, or against a
/// threshold calibrated on the stream itself — the `outlier_quantile` of the first
/// `outlier_calibration_samples` scores, nothing flagged until then (`ThresholdCalibrator`).
///
/// Owned by the processing thread. The calibrator is checkpointed (section `outliers`), so a
/// restart keeps its threshold instead of calibrating again on whatever the camera shows then.
struct OutlierFlagger {
    private let fixed: Float?
    private(set) var calibrator: ThresholdCalibrator?

    init(section: ClassifierSection, restored: ThresholdCalibrator?, logger: Logger) throws {
        fixed = section.outlierThreshold.map(Float.init)
        guard section.outlierCalibrationSamples > 0 else { calibrator = nil; return }
        let fresh = try ThresholdCalibrator(sampleCount: section.outlierCalibrationSamples, quantile: section.outlierQuantile)
        if let restored, restored.sampleCount == fresh.sampleCount, restored.quantile == fresh.quantile {
            calibrator = restored
        } else {
            if restored != nil { logger.notice("outlier calibration settings changed since the last checkpoint: calibrating again") }
            calibrator = fresh
        }
    }

    /// The threshold in effect; nil while calibrating or when flagging is off.
    var threshold: Float? { fixed ?? calibrator?.threshold }

    mutating func flag(score: Float, metrics: DaemonMetrics) -> Bool {
        let outlier: Bool
        if let fixed {
            outlier = score > fixed
        } else if calibrator != nil {
            let wasCalibrated = calibrator!.isCalibrated
            outlier = calibrator!.observe(score)
            if !wasCalibrated, let t = calibrator!.threshold { metrics.outlierThreshold.set(Double(t)) }
        } else {
            return false
        }
        if outlier { metrics.outliersFlagged.increment() }
        return outlier
    }
}
