/// Ends episodes after a fixed number of steps with `truncated = true` (Gymnasium's `TimeLimit` wrapper).
///
/// A step that both reaches the limit and terminates reports `terminated = true, truncated = false`: the episode
/// really ended, and bootstrapping must stop (Gymnasium sets both; Stitch keeps them exclusive so a transition is
/// never both, which D4RL's terminals/timeouts columns also assume).
public struct TimeLimit<Base: Environment>: Environment {
  public var base: Base
  public let limit: Int
  public private(set) var elapsed = 0

  public init(_ base: Base, limit: Int) {
    self.base = base
    self.limit = limit
  }

  public var id: String { base.id }
  public var observationSpace: Box { base.observationSpace }
  public var actionSpace: Box { base.actionSpace }
  public var maxEpisodeSteps: Int? { limit }

  public mutating func reset(seed: UInt64?) throws -> (observation: [Double], info: StepInfo) {
    elapsed = 0
    return try base.reset(seed: seed)
  }

  public mutating func step(_ action: [Double]) throws -> Step {
    var s = try base.step(action)
    elapsed += 1
    if elapsed >= limit && !s.terminated { s.truncated = true }
    return s
  }
}

extension TimeLimit: SimulatorStateSettable where Base: SimulatorStateSettable {
  /// Sets the base's state; the step count is left as it is (replay and rollouts step from given states).
  public mutating func setState(qpos: [Double], qvel: [Double]) throws { try base.setState(qpos: qpos, qvel: qvel) }
  public mutating func placeState(qpos: [Double], qvel: [Double]) throws { try base.placeState(qpos: qpos, qvel: qvel) }
  public var observation: [Double] { base.observation }
  public var simulatorState: (qpos: [Double], qvel: [Double]) { base.simulatorState }
}
