#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// MountainCarContinuous-v0: drive an under-powered car up a hill (Gymnasium
/// `classic_control/continuous_mountain_car.py`; Moore 1990).
///
/// ## Description
/// A car in a valley y = sin(3x) must build momentum to reach x ≥ 0.45.
/// ## Action Space
/// Box(−1, 1, (1,)): the force (clipped to ±1), scaled by power 0.0015.
/// ## Observation Space
/// [position ∈ [−1.2, 0.6], velocity ∈ [−0.07, 0.07]], held as Float32 as in Gymnasium.
/// ## Rewards
/// −0.1·a² per step, +100 on reaching the goal.
/// ## Starting State
/// position ~ U(−0.6, −0.4), velocity 0.
/// ## Episode End
/// Terminated at position ≥ 0.45 with velocity ≥ 0; truncated at 999 steps.
/// ## Version History
/// v0 (Gymnasium).
public struct MountainCarContinuous: Environment, ClassicStateSettable {
  public let id = "MountainCarContinuous-v0"
  public let maxEpisodeSteps: Int? = 999
  public let observationSpace = Box(low: [-1.2, -0.07], high: [0.6, 0.07])
  public let actionSpace = Box(low: [-1], high: [1])
  static let minPosition = -1.2, maxPosition = 0.6, maxSpeed = 0.07, goalPosition = 0.45, power = 0.0015

  /// Position and velocity, stored as Float32 values (Gymnasium keeps `np.float32` state).
  public private(set) var state: [Double] = [0, 0]
  var rng = EnvironmentRandom(seed: 0)
  var started = false

  public init() {}

  public mutating func reset(seed: UInt64?) throws -> (observation: [Double], info: StepInfo) {
    if let seed { rng = EnvironmentRandom(seed: seed) }
    state = [Double(Float(rng.uniform(-0.6, -0.4))), 0]
    started = true
    return (state, [:])
  }

  public mutating func setState(_ values: [Double]) throws {
    guard values.count == 2, values.allSatisfy(\.isFinite) else {
      throw EnvironmentError.invalidState("MountainCarContinuous-v0 state is [position, velocity], got \(values)")
    }
    state = values.map { Double(Float($0)) }
    started = true
  }

  public mutating func step(_ action: [Double]) throws -> Step {
    try validate(action)
    guard started else { throw EnvironmentError.notReset(id) }
    // Gymnasium keeps the state as np.float32 and, under NumPy 2's promotion rules, every update below stays in
    // float32 (Python floats are "weak" scalars); only cos(3·position) is evaluated in float64 by `math.cos`.
    var position = Float(state[0]), velocity = Float(state[1])
    let force = Float(Swift.min(Swift.max(action[0], -1), 1))
    let gravityTerm = Float(0.0025 * cos(Double(Float(3) * position)))
    velocity += force * Float(Self.power) - gravityTerm
    velocity = Swift.min(Swift.max(velocity, Float(-Self.maxSpeed)), Float(Self.maxSpeed))
    position += velocity
    position = Swift.min(Swift.max(position, Float(Self.minPosition)), Float(Self.maxPosition))
    if position == Float(Self.minPosition) && velocity < 0 { velocity = 0 }
    let terminated = Double(position) >= Self.goalPosition && velocity >= 0
    var reward = terminated ? 100.0 : 0.0
    reward -= action[0] * action[0] * 0.1
    state = [Double(position), Double(velocity)]
    return Step(observation: state, reward: reward, terminated: terminated, truncated: false)
  }
}
