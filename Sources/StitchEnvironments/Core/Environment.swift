/// A simulated task with Gymnasium's semantics (Farama Gymnasium ≥ 0.26, `gymnasium/core.py`):
/// `reset(seed:)` → observation and info; `step(action)` → observation, reward, `terminated` (the task reached a
/// terminal state: falling over) and `truncated` (stopped from outside: the time limit), never folded into one
/// `done` flag, because offline RL bootstraps through truncations but not through terminations.
///
/// Observations are Float64 as in Gymnasium's MuJoCo tasks; actions are Float64 too and must lie in
/// `actionSpace` (tasks clip or reject as Gymnasium does, and reject NaN or wrongly sized actions).
public protocol Environment {
  /// Gymnasium's id, e.g. "Pendulum-v1", "Hopper-v4".
  var id: String { get }
  var observationSpace: Box { get }
  var actionSpace: Box { get }
  /// Episode length limit applied by the registry's `TimeLimit` (Gymnasium's `max_episode_steps`).
  var maxEpisodeSteps: Int? { get }
  /// Starts an episode. A seed reseeds this environment's own random stream (pass it once, then nil).
  mutating func reset(seed: UInt64?) throws -> (observation: [Double], info: StepInfo)
  /// Advances one step.
  /// - Throws: `EnvironmentError.invalidAction` for a NaN or wrongly sized action (the state is left untouched).
  mutating func step(_ action: [Double]) throws -> Step
}

/// Extra values a step reports (reward terms such as "reward_forward", "reward_ctrl"), keyed as Gymnasium does.
public typealias StepInfo = [String: Double]

/// The result of one environment step.
public struct Step: Sendable {
  public var observation: [Double]
  public var reward: Double
  public var terminated: Bool
  public var truncated: Bool
  public var info: StepInfo

  public init(observation: [Double], reward: Double, terminated: Bool, truncated: Bool, info: StepInfo = [:]) {
    self.observation = observation
    self.reward = reward
    self.terminated = terminated
    self.truncated = truncated
    self.info = info
  }
}

/// Errors from environments.
public enum EnvironmentError: Error, CustomStringConvertible, Equatable {
  case invalidAction(String)
  case unknownEnvironment(String, known: [String])
  case notReset(String)
  case model(String)
  case invalidState(String)

  public var description: String {
    switch self {
    case .invalidAction(let s): return "invalid action: \(s)"
    case .unknownEnvironment(let id, let known): return "unknown environment '\(id)'; known environments: \(known.joined(separator: ", "))"
    case .notReset(let id): return "\(id): step() called before reset()"
    case .model(let s): return s
    case .invalidState(let s): return "invalid state: \(s)"
    }
  }
}

extension Environment {
  /// Checks an action's size and finiteness (shared by every task).
  func validate(_ action: [Double]) throws {
    guard action.count == actionSpace.shape.reduce(1, *) else {
      throw EnvironmentError.invalidAction("\(id) expects \(actionSpace.shape.reduce(1, *)) action values, got \(action.count)")
    }
    if let i = action.firstIndex(where: { !$0.isFinite }) {
      throw EnvironmentError.invalidAction("\(id) action[\(i)] is \(action[i]); actions must be finite")
    }
  }
}
