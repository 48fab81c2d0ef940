/// A first-order optimizer over a fixed list of parameters, each paired with a gradient buffer
/// of the same size (the backward kernels accumulate into those; the optimizer only reads them).
///
/// Semantics follow `torch.optim` exactly (see each type), including its mixed precision:
/// hyperparameters and bias corrections are Double (Python floats), each is rounded to Float
/// once, and the per-element update runs in Float in the order PyTorch's kernels use. The
/// element-wise loops are SIMD8 with a scalar tail doing the identical operations, so an
/// element's result does not depend on where it sits.
///
/// Not thread-safe: the adaptation worker that owns the parameters owns the optimizer. A
/// `step()` never allocates; state buffers are allocated in `init`.
public protocol Optimizer: AnyObject {
    var parameters: [FloatBuffer] { get }
    var gradients: [FloatBuffer] { get }
    /// `lr` of the (single) parameter group; a scheduler may change it between steps.
    var learningRate: Double { get set }
    /// Steps taken since creation or the last `reset()`, as PyTorch's `state["step"]`.
    var stepCount: Int { get }

    /// One update from the current gradients.
    func step()
    /// Back to the freshly constructed state (moments and step count cleared; the learning rate
    /// is left as it is). TPT calls this before every sample.
    func reset()
    /// The mutable state (step count, learning rate, moment buffers) plus the hyperparameters
    /// for the record, as plain values the daemon can checkpoint.
    func snapshot() -> OptimizerSnapshot
    /// Restores `step`, `lr` and the buffers from a snapshot of the same kind over parameters of
    /// the same sizes, like `optimizer.load_state_dict` (which also restores `lr`). The other
    /// hyperparameters stay those this optimizer was built with: changing, say, the weight decay
    /// in the config and restarting keeps the new value. Validates everything before changing
    /// anything, so a bad snapshot leaves the optimizer untouched.
    func restore(from snapshot: OptimizerSnapshot) throws
}

extension Optimizer {
    /// Zeroes every gradient buffer (`optimizer.zero_grad()`, with zeros rather than None).
    public func zeroGradients() {
        for g in gradients { g.fill(0) }
    }
}

/// Optimizer state as plain values. `tensors` keys are `"<state name>.<parameter index>"`,
/// e.g. `"exp_avg.0"`, mirroring the per-parameter `state` of a PyTorch `state_dict`.
public struct OptimizerSnapshot: Sendable, Equatable, Codable {
    /// Which optimizer wrote it (`AdamW.kind`, `SGD.kind`).
    public var kind: String
    public var scalars: [String: Double]
    public var tensors: [String: [Float]]

    public init(kind: String, scalars: [String: Double] = [:], tensors: [String: [Float]] = [:]) {
        self.kind = kind
        self.scalars = scalars
        self.tensors = tensors
    }

    /// `scalars[key]`, or a `missingScalar` error.
    public func scalar(_ key: String) throws(OptimizerStateError) -> Double {
        guard let v = scalars[key] else { throw .missingScalar(key) }
        return v
    }

    /// `tensors[key]` checked to hold `count` values, or a `missingTensor`/`sizeMismatch` error.
    public func tensor(_ key: String, count: Int) throws(OptimizerStateError) -> [Float] {
        guard let v = tensors[key] else { throw .missingTensor(key) }
        guard v.count == count else { throw .sizeMismatch(key: key, expected: count, found: v.count) }
        return v
    }

    /// The step counter, checked to be a non-negative whole number.
    func stepValue() throws(OptimizerStateError) -> Int {
        let v = try scalar("step")
        guard v >= 0, v == v.rounded(), v < 9.0e15 else { throw .invalidScalar(key: "step", value: v) }
        return Int(v)
    }

    /// The learning rate, checked to be finite and non-negative.
    func learningRateValue() throws(OptimizerStateError) -> Double {
        let v = try scalar("lr")
        guard v.isFinite, v >= 0 else { throw .invalidScalar(key: "lr", value: v) }
        return v
    }

    func checkKind(_ expected: String) throws(OptimizerStateError) {
        guard kind == expected else { throw .wrongKind(expected: expected, found: kind) }
    }
}

public enum OptimizerStateError: Error, Equatable, CustomStringConvertible {
    case wrongKind(expected: String, found: String)
    case missingScalar(String)
    case invalidScalar(key: String, value: Double)
    case missingTensor(String)
    case sizeMismatch(key: String, expected: Int, found: Int)
    /// Some parameters have a state tensor and others not (only SGD's momentum buffers may be
    /// absent, and then for all parameters at once: before the first step).
    case partialState(String)

    public var description: String {
        switch self {
        case .wrongKind(let e, let f): return "optimizer snapshot is for '\(f)', expected '\(e)'"
        case .missingScalar(let k): return "optimizer snapshot lacks scalar '\(k)'"
        case .invalidScalar(let k, let v): return "optimizer snapshot has invalid '\(k)' = \(v)"
        case .missingTensor(let k): return "optimizer snapshot lacks tensor '\(k)'"
        case .sizeMismatch(let k, let e, let f): return "optimizer snapshot tensor '\(k)' has \(f) values, expected \(e)"
        case .partialState(let name): return "optimizer snapshot has '\(name)' for some parameters but not all"
        }
    }
}

/// Shared checks for the optimizer initialisers.
func checkParameterPairs(_ parameters: [FloatBuffer], _ gradients: [FloatBuffer], _ who: String) {
    precondition(parameters.count == gradients.count,
                 "\(who): \(parameters.count) parameters but \(gradients.count) gradients")
    for (i, (p, g)) in zip(parameters, gradients).enumerated() {
        precondition(p.count == g.count, "\(who): parameter \(i) has \(p.count) values, its gradient \(g.count)")
        precondition(p !== g, "\(who): parameter \(i) is its own gradient buffer")
    }
}

/// Copies `values` (already size-checked) into `buffer`.
func copyState(_ values: [Float], into buffer: FloatBuffer) {
    values.withUnsafeBufferPointer { src in
        if let b = src.baseAddress { buffer.pointer.update(from: b, count: buffer.count) }
    }
}
