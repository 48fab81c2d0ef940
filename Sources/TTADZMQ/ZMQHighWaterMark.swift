/// Turning a memory budget into ZeroMQ high-water marks, which count *messages*, not bytes.
public enum ZMQHighWaterMark {
    /// The number of messages of `typicalMessageBytes` that fit in `forBudgetBytes`.
    ///
    /// Rounding: the quotient is rounded **down** (a partial message does not fit, so the budget
    /// is never exceeded by typical messages), then clamped to `minimum...maximum`. A
    /// non-positive budget yields `minimum`; a non-positive message size is treated as 1 byte.
    ///
    /// Notes for choosing inputs: libzmq applies the HWM per peer connection and separately to
    /// the sender's and the receiver's queue, so divide a total budget by the expected number of
    /// peers (and sides) first; include ~64 bytes of per-part overhead (`zmq_msg_t`) in
    /// `typicalMessageBytes` for small messages. Note that 0 means "unlimited" to libzmq, which
    /// is why `minimum` defaults to 1.
    public static func messages(forBudgetBytes budget: Int, typicalMessageBytes: Int,
                                minimum: Int32 = 1, maximum: Int32 = 100_000) -> Int32 {
        let lower = max(minimum, 0)
        let upper = max(maximum, lower)
        guard budget > 0 else { return lower }
        let quotient = budget / max(typicalMessageBytes, 1)
        return Int32(clamping: min(max(quotient, Int(lower)), Int(upper)))
    }
}
