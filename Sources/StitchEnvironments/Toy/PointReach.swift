#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// PointReach-v0: a point in the plane moving toward a goal, Stitch's analogue of the simple environment of the
/// edge-of-reach paper (Sims et al., NeurIPS 2024, §4 and Fig. 4: "a 2-D point moving toward a reward"; the
/// paper does not give its exact definition, so this one is Stitch's and is defined here in full).
///
/// ## Definition
/// - State and observation: the position s ∈ ℝ² (no velocity; `simulatorState` is qpos = s, qvel = []).
/// - Action: a ∈ [−1, 1]², projected onto the unit disk (a / max(1, ‖a‖₂)); s′ = s + δ·a with δ = 0.1.
/// - Reward: r = −‖s′ − g‖₂ with the goal g = (1, 0). Never terminates; truncated after 30 steps.
/// - Start: s₀ ~ U([−0.1, 0.1]²).
/// ## Optimal values, in closed form
/// Every trajectory has ‖sₜ − g‖ ≥ max(0, d − δt) with d = ‖s₀ − g‖ (each step moves at most δ), and moving
/// straight at g at full speed attains the bound at every t at once, so without a time limit
/// V*(s) = −Σ_{t≥0} γᵗ·max(0, d − δ(t + 1)) and Q*(s, a) = r(s, a) + γ·V*(s′) (`optimalValue`). No value can
/// exceed 0 (every reward is ≤ 0). Data collected near the start (e.g. `stitch dataset make pointreach-random`)
/// never come near the goal, so k-step rollouts from it reach states ("edge of reach") that appear only as next
/// states, which is the edge-of-reach problem in a form whose true values are known exactly.
public struct PointReach: Environment, SimulatorStateSettable {
  public let id = "PointReach-v0"
  public let maxEpisodeSteps: Int? = 30
  public let observationSpace = Box(low: [-.infinity, -.infinity], high: [.infinity, .infinity])
  public let actionSpace = Box(low: [-1, -1], high: [1, 1])
  public static let stepSize = 0.1
  public static let goal = (x: 1.0, y: 0.0)

  public private(set) var position: [Double] = [0, 0]
  var rng = EnvironmentRandom(seed: 0)
  var started = false

  public init() {}

  public mutating func reset(seed: UInt64?) throws -> (observation: [Double], info: StepInfo) {
    if let seed { rng = EnvironmentRandom(seed: seed) }
    position = [rng.uniform(-0.1, 0.1), rng.uniform(-0.1, 0.1)]
    started = true
    return (position, [:])
  }

  public var observation: [Double] { position }
  public var simulatorState: (qpos: [Double], qvel: [Double]) { (position, []) }

  public mutating func setState(qpos: [Double], qvel: [Double]) throws {
    guard qpos.count == 2, qvel.isEmpty, qpos.allSatisfy(\.isFinite) else {
      throw EnvironmentError.invalidState("PointReach-v0's state is qpos = (x, y) and no qvel, got \(qpos.count) and \(qvel.count) finite-checked values")
    }
    position = qpos
    started = true
  }

  public mutating func step(_ action: [Double]) throws -> Step {
    try validate(action)
    guard started else { throw EnvironmentError.notReset(id) }
    let a = Self.projected(action)
    position = [position[0] + Self.stepSize * a[0], position[1] + Self.stepSize * a[1]]
    return Step(observation: position, reward: -Self.distanceToGoal(position), terminated: false, truncated: false)
  }

  public static func projected(_ a: [Double]) -> [Double] {
    let n = (a[0] * a[0] + a[1] * a[1]).squareRoot()
    return n > 1 ? [a[0] / n, a[1] / n] : a
  }

  public static func distanceToGoal(_ s: [Double]) -> Double {
    let dx = s[0] - goal.x, dy = s[1] - goal.y
    return (dx * dx + dy * dy).squareRoot()
  }

  /// V*(s) at discount γ (no time limit), from the closed form above.
  public static func optimalValue(_ s: [Double], discount: Double) -> Double {
    let d = distanceToGoal(s)
    var v = 0.0, weight = 1.0, t = 1.0
    while d - stepSize * t > 0 {
      v -= weight * (d - stepSize * t)
      weight *= discount
      t += 1
    }
    return v
  }
}
