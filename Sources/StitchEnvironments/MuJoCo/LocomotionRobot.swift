/// What differs between the MuJoCo locomotion tasks: model, frame skip, observation, health and reward terms.
/// `MuJoCoLocomotion` runs the shared step of Gymnasium's `*_v4.py` / `*_v5.py` files over it.
public protocol LocomotionRobot: Sendable {
  /// Gymnasium's name without version ("Hopper").
  static var name: String { get }
  /// The bundled MJCF file for a version (4 or 5).
  static func modelFile(version: Int) -> String
  /// Physics steps per environment step.
  static var frameSkip: Int { get }
  /// Reset noise scale: qpos += U(−s, s); qvel += U(−s, s), or s·N(0, 1) where `normalVelocityNoise`.
  static var resetNoiseScale: Double { get }
  static var normalVelocityNoise: Bool { get }
  /// Weight of Σa² in the control cost.
  static var controlCostWeight: Double { get }
  /// The survival bonus, or nil for tasks without health (HalfCheetah).
  static var healthyReward: Double? { get }
  /// Observation length for a version.
  static func observationSize(version: Int) -> Int
  /// The observation from the current simulator state.
  static func observation(_ sim: MuJoCoSimulation, version: Int) -> [Double]
  /// Whether the robot is healthy (episodes end when it is not).
  static func isHealthy(_ sim: MuJoCoSimulation) -> Bool
  /// The (x, y) position whose change over a step is the forward velocity (qpos[0] for planar robots).
  static func position(_ sim: MuJoCoSimulation) -> (x: Double, y: Double)
  /// Contact cost subtracted from the reward (Ant v5), and whether `cfrc_ext` must be computed.
  static func contactCost(_ sim: MuJoCoSimulation, version: Int) -> Double?
  static func needsContactForces(version: Int) -> Bool
}

extension LocomotionRobot {
  public static var normalVelocityNoise: Bool { false }
  public static func contactCost(_ sim: MuJoCoSimulation, version: Int) -> Double? { nil }
  public static func needsContactForces(version: Int) -> Bool { false }
  public static func position(_ sim: MuJoCoSimulation) -> (x: Double, y: Double) { (sim.qpos(0), 0) }

  /// qpos[1:] followed by qvel, optionally clipped to ±10 (the planar robots' observation).
  static func planarObservation(_ sim: MuJoCoSimulation, clipVelocity: Bool) -> [Double] {
    var o = [Double]()
    o.reserveCapacity(sim.nq - 1 + sim.nv)
    for i in 1..<sim.nq { o.append(sim.qpos(i)) }
    for i in 0..<sim.nv { o.append(clipVelocity ? Swift.min(Swift.max(sim.qvel(i), -10), 10) : sim.qvel(i)) }
    return o
  }
}

/// Hopper (Gymnasium `hopper_v4.py`, `hopper_v5.py`; Erez, Tassa & Todorov 2011): a one-legged planar robot.
/// Observation (11): qpos[1:] (z, angle, 3 joint angles) and clip(qvel, −10, 10). Reward: x-velocity + 1
/// (survival) − 1e-3·Σa². Healthy while every entry of (qpos[2:], qvel) lies in (−100, 100), z > 0.7 and
/// |angle| < 0.2 (open intervals). Frame skip 4 (dt 0.008 s), reset noise U(±5e-3).
public enum Hopper: LocomotionRobot {
  public static let name = "Hopper"
  public static func modelFile(version: Int) -> String { "hopper.xml" }
  public static let frameSkip = 4
  public static let resetNoiseScale = 5e-3
  public static let controlCostWeight = 1e-3
  public static let healthyReward: Double? = 1.0
  public static func observationSize(version: Int) -> Int { 11 }
  public static func observation(_ sim: MuJoCoSimulation, version: Int) -> [Double] { planarObservation(sim, clipVelocity: true) }
  public static func isHealthy(_ sim: MuJoCoSimulation) -> Bool {
    for i in 2..<sim.nq where !(sim.qpos(i) > -100 && sim.qpos(i) < 100) { return false }
    for i in 0..<sim.nv where !(sim.qvel(i) > -100 && sim.qvel(i) < 100) { return false }
    let z = sim.qpos(1), angle = sim.qpos(2)
    return z > 0.7 && angle > -0.2 && angle < 0.2
  }
}

/// Walker2d (Gymnasium `walker2d_v4.py`, `walker2d_v5.py`): a two-legged planar robot. Observation (17): qpos[1:]
/// and clip(qvel, −10, 10). Reward: x-velocity + 1 − 1e-3·Σa². Healthy while 0.8 < z < 2 and −1 < angle < 1.
/// Frame skip 4, reset noise U(±5e-3). v5 differs in its model (both feet friction 1.9; v4 right foot 0.9).
public enum Walker2d: LocomotionRobot {
  public static let name = "Walker2d"
  public static func modelFile(version: Int) -> String { version >= 5 ? "walker2d_v5.xml" : "walker2d_v4.xml" }
  public static let frameSkip = 4
  public static let resetNoiseScale = 5e-3
  public static let controlCostWeight = 1e-3
  public static let healthyReward: Double? = 1.0
  public static func observationSize(version: Int) -> Int { 17 }
  public static func observation(_ sim: MuJoCoSimulation, version: Int) -> [Double] { planarObservation(sim, clipVelocity: true) }
  public static func isHealthy(_ sim: MuJoCoSimulation) -> Bool {
    let z = sim.qpos(1), angle = sim.qpos(2)
    return z > 0.8 && z < 2.0 && angle > -1 && angle < 1
  }
}

/// HalfCheetah (Gymnasium `half_cheetah_v4.py`, `half_cheetah_v5.py`; Wawrzyński 2009): a planar running robot
/// that never terminates. Observation (17): qpos[1:] and qvel (not clipped). Reward: x-velocity − 0.1·Σa².
/// Frame skip 5 (dt 0.05 s), reset noise qpos U(±0.1), qvel 0.1·N(0, 1).
public enum HalfCheetah: LocomotionRobot {
  public static let name = "HalfCheetah"
  public static func modelFile(version: Int) -> String { "half_cheetah.xml" }
  public static let frameSkip = 5
  public static let resetNoiseScale = 0.1
  public static let normalVelocityNoise = true
  public static let controlCostWeight = 0.1
  public static let healthyReward: Double? = nil
  public static func observationSize(version: Int) -> Int { 17 }
  public static func observation(_ sim: MuJoCoSimulation, version: Int) -> [Double] { planarObservation(sim, clipVelocity: false) }
  public static func isHealthy(_ sim: MuJoCoSimulation) -> Bool { true }
}

/// Ant (Gymnasium `ant_v4.py`, `ant_v5.py`; Schulman et al. 2016): a four-legged robot in 3-D. Forward velocity
/// from the torso body's x position. Reward: x-velocity + 1 − 0.5·Σa² (v5 also − 5e-4·Σ clip(cfrc_ext, −1, 1)²).
/// Healthy while every state entry is finite and 0.2 ≤ torso z ≤ 1.0 (closed interval). Observation: qpos[2:]
/// (13) and qvel (14) = 27 for v4 (default `use_contact_forces=False`); v5 adds clip(cfrc_ext[1:], −1, 1)
/// flattened (13 bodies × 6 = 78) = 105. Frame skip 5 (dt 0.05 s), reset noise qpos U(±0.1), qvel 0.1·N(0, 1).
public enum Ant: LocomotionRobot {
  public static let name = "Ant"
  public static func modelFile(version: Int) -> String { "ant.xml" }
  public static let frameSkip = 5
  public static let resetNoiseScale = 0.1
  public static let normalVelocityNoise = true
  public static let controlCostWeight = 0.5
  public static let healthyReward: Double? = 1.0
  static let contactCostWeight = 5e-4
  public static func observationSize(version: Int) -> Int { version >= 5 ? 105 : 27 }
  public static func needsContactForces(version: Int) -> Bool { version >= 5 }

  public static func observation(_ sim: MuJoCoSimulation, version: Int) -> [Double] {
    var o = Array(sim.qpos.dropFirst(2)) + sim.qvel
    if version >= 5 { o += sim.externalContactForces.dropFirst(6).map { Swift.min(Swift.max($0, -1), 1) } }
    return o
  }

  public static func isHealthy(_ sim: MuJoCoSimulation) -> Bool {
    guard sim.qpos.allSatisfy(\.isFinite), sim.qvel.allSatisfy(\.isFinite) else { return false }
    let z = sim.qpos(2)
    return z >= 0.2 && z <= 1.0
  }

  public static func position(_ sim: MuJoCoSimulation) -> (x: Double, y: Double) {
    let p = sim.bodyPosition(1)
    return (p.x, p.y)
  }

  public static func contactCost(_ sim: MuJoCoSimulation, version: Int) -> Double? {
    guard version >= 5 else { return nil }
    return contactCostWeight * sim.externalContactForces.reduce(0) { let c = Swift.min(Swift.max($1, -1), 1); return $0 + c * c }
  }
}
