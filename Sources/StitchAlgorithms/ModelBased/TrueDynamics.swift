import StitchData

/// The simulator standing in for the learned model in model rollouts (`dynamics = "true"`, the edge-of-reach
/// paper's "true dynamics", Sims et al. 2024 §3): rollouts start from the exact simulator states of dataset rows
/// and step the task itself, with its own reward and termination. `StitchTraining` provides the MuJoCo one
/// (`SimulatorDynamics`); the algorithms only see this protocol, so they need no simulator of their own.
public protocol TrueDynamics: Sendable {
  /// Values of one simulator state (qpos followed by qvel).
  var stateWidth: Int { get }
  /// The simulator state before each usable dataset row and the rows they belong to.
  /// - Returns: `note`, one line saying what was rebuilt or left out (nil when every row had its recorded state).
  /// - Throws: `DynamicsError` when the dataset has no usable states at all.
  func startStates(of dataset: Dataset) throws -> (states: [Double], rows: [Int], note: String?)
  /// Steps `rows` states (row-major, `stateWidth` each) with actions in [−1, 1] (row-major).
  func step(states: [Double], actions: [Float], rows: Int) throws -> TrueDynamicsStep
  /// A simulator state whose observation is `observation`, taking the coordinates the observation leaves out
  /// (the planar robots' x position) from `template` (for `dynamics_mix`, whose interpolated states exist only as
  /// observations).
  func state(fromObservation observation: [Float], template: [Double]) -> [Double]
}

/// What `TrueDynamics.step` returns, row-major.
public struct TrueDynamicsStep: Sendable {
  public var states: [Double]
  public var observations: [Float]
  public var rewards: [Float]
  public var terminals: [Bool]
  public init(states: [Double], observations: [Float], rewards: [Float], terminals: [Bool]) {
    self.states = states
    self.observations = observations
    self.rewards = rewards
    self.terminals = terminals
  }
}

/// Agents whose rollouts can run on the true dynamics: the trainer attaches the simulator before `prepare`.
public protocol TrueDynamicsConsumer {
  /// Whether the configuration asks for the simulator (`dynamics = "true"` or `dynamics_mix` > 0).
  var needsTrueDynamics: Bool { get }
  mutating func attach(trueDynamics: any TrueDynamics)
  /// What the simulator said about the dataset's start states after `prepare` (nil: all recorded).
  var trueDynamicsNote: String? { get }
}

/// Which dynamics the rollouts step: the learned model, the simulator, or a mix of the two.
public enum RolloutDynamicsKind: String, Codable, Sendable, CaseIterable {
  case model, `true`
}
