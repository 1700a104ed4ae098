/// What evaluation drives: a policy that is told when an episode starts and sees, at every step, the observation
/// and the reward of the step before (docs/architecture.md). A policy with memory (a history window, a return-to-go
/// that the rewards count down) keeps it here, not in the trainer, and evaluates through the same path as a
/// memoryless one.
///
/// Evaluation runs episodes concurrently, each on its own copy of the policy: a value type's state is per episode
/// by construction. A class conforming must not share mutable state between copies.
public protocol EpisodePolicy: Sendable {
  /// Called before the first step of every episode.
  mutating func reset()
  /// The action (environment units) for `observation`; `lastReward` is the previous step's reward (0 at the
  /// episode's first step).
  mutating func act(_ observation: [Double], lastReward: Double) throws -> [Double]
}

/// A memoryless policy: a function of the observation.
public struct StatelessPolicy: EpisodePolicy {
  public let action: @Sendable ([Double]) throws -> [Double]
  public init(_ action: @escaping @Sendable ([Double]) throws -> [Double]) { self.action = action }
  public mutating func reset() {}
  public mutating func act(_ observation: [Double], lastReward: Double) throws -> [Double] { try action(observation) }
}
