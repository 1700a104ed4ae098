#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Pendulum-v1: swing a pendulum up and keep it upright (Gymnasium `classic_control/pendulum.py`).
///
/// ## Description
/// A frictionless pendulum of mass m = 1 and length l = 1 under gravity g = 10, torque-controlled at its pivot.
/// ## Action Space
/// Box(−2, 2, (1,)): the torque (clipped to ±2).
/// ## Observation Space
/// [cos θ, sin θ, θ̇] with θ̇ ∈ [−8, 8]; rounded to Float32 as Gymnasium returns them.
/// ## Rewards
/// −(normalize(θ)² + 0.1·θ̇² + 0.001·u²), with normalize(θ) = ((θ + π) mod 2π) − π.
/// ## Starting State
/// θ ~ U(−π, π), θ̇ ~ U(−1, 1).
/// ## Episode End
/// Never terminates; truncated at 200 steps by the time limit.
/// ## Version History
/// v1 (Gymnasium): semi-implicit Euler, dt = 0.05, θ̇ clipped to ±8 before the position update.
public struct Pendulum: Environment, ClassicStateSettable {
  public let id = "Pendulum-v1"
  public let maxEpisodeSteps: Int? = 200
  public let observationSpace = Box(low: [-1, -1, -8], high: [1, 1, 8])
  public let actionSpace = Box(low: [-2], high: [2])
  static let maxSpeed = 8.0, maxTorque = 2.0, dt = 0.05, gravity = 10.0, mass = 1.0, length = 1.0

  /// θ and θ̇.
  public private(set) var state: [Double] = [0, 0]
  var rng = EnvironmentRandom(seed: 0)
  var started = false

  public init() {}

  public mutating func reset(seed: UInt64?) throws -> (observation: [Double], info: StepInfo) {
    if let seed { rng = EnvironmentRandom(seed: seed) }
    state = [rng.uniform(-Double.pi, Double.pi), rng.uniform(-1, 1)]
    started = true
    return (observation, [:])
  }

  public mutating func setState(_ values: [Double]) throws {
    guard values.count == 2, values.allSatisfy(\.isFinite) else {
      throw EnvironmentError.invalidState("Pendulum-v1 state is [theta, theta_dot], got \(values)")
    }
    state = values
    started = true
  }

  public var observation: [Double] {
    [Double(Float(cos(state[0]))), Double(Float(sin(state[0]))), Double(Float(state[1]))]
  }

  static func angleNormalize(_ x: Double) -> Double {
    let twoPi = 2 * Double.pi
    var r = fmod(x + Double.pi, twoPi)
    if r < 0 { r += twoPi }  // Python's % takes the divisor's sign
    return r - Double.pi
  }

  public mutating func step(_ action: [Double]) throws -> Step {
    try validate(action)
    guard started else { throw EnvironmentError.notReset(id) }
    let (th, thdot) = (state[0], state[1])
    let u = Swift.min(Swift.max(action[0], -Self.maxTorque), Self.maxTorque)
    // Gymnasium receives float32 actions, and under NumPy 2's promotion rules the two terms that involve u are
    // computed in float32 (a Python float times an np.float32 stays float32); they are reproduced exactly here.
    let u32 = Float(u)
    let controlCost = Double(Float(0.001) * (u32 * u32))
    let torqueTerm = Double(Float(3.0 / (Self.mass * Self.length * Self.length)) * u32)
    let costs = Self.angleNormalize(th) * Self.angleNormalize(th) + 0.1 * thdot * thdot + controlCost
    var newThdot = thdot + (3 * Self.gravity / (2 * Self.length) * sin(th) + torqueTerm) * Self.dt
    newThdot = Swift.min(Swift.max(newThdot, -Self.maxSpeed), Self.maxSpeed)
    let newTh = th + newThdot * Self.dt
    state = [newTh, newThdot]
    return Step(observation: observation, reward: -costs, terminated: false, truncated: false)
  }
}

/// Classic-control tasks whose physical state can be set directly (deterministic replay, parity tests).
public protocol ClassicStateSettable {
  mutating func setState(_ values: [Double]) throws
}
