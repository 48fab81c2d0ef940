/// How a graceful stop ended. The final checkpoint failing is told apart from other trouble
/// (a drain past its deadline, a thread that would not stop) because it is the one an operator
/// must act on: the work since the last successful checkpoint is gone, and checkpoints will keep
/// failing after a restart until the disk is fixed.
public enum StopOutcome: Sendable, Equatable {
    /// Drained, checkpointed, closed.
    case clean
    /// The final checkpoint could not be written (disk full, read-only state directory).
    case stateNotSaved
    /// Something else had to be abandoned; the state was saved.
    case incomplete
}
