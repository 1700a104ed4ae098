/// A Gymnasium MuJoCo locomotion task (Hopper, Walker2d, HalfCheetah, Ant; v4 or v5) on libmujoco.
///
/// The step is Gymnasium's (`gymnasium/envs/mujoco/<robot>_v{4,5}.py`, facts in docs/facts.md §2d):
/// position before → ctrl = action (MuJoCo clips it to ctrlrange) → `frame_skip` × `mj_step` → position after;
/// reward = forward velocity + survival bonus − control cost (− contact cost, Ant v5), where the control cost uses
/// the unclipped action as Gymnasium does; terminated = not healthy (tasks with health only).
/// The v4/v5 difference in the survival bonus: v4 pays it on every step (`is_healthy or terminate_when_unhealthy`,
/// always true with the default termination); v5 pays it only while healthy. With termination on, the two differ
/// only on the terminating step (v4 gives +1 there, v5 gives 0).
///
/// `info` carries the reward terms (`reward_forward`, `reward_ctrl`, `reward_survive`, Ant v5 `reward_contact`)
/// for every version, plus Gymnasium's positional keys (`x_position`, `x_velocity`, ...); HalfCheetah-v4 also
/// reports the forward term under its v4 name `reward_run`.
public struct MuJoCoLocomotion<Robot: LocomotionRobot>: Environment, SimulatorStateSettable {
  public let id: String
  public let version: Int
  public let maxEpisodeSteps: Int? = 1000
  public let observationSpace: Box
  public let actionSpace: Box
  /// The simulator (shared by copies of this value).
  public let simulation: MuJoCoSimulation
  /// Seconds per environment step: timestep × frame skip.
  public let dt: Double
  let initialQpos: [Double]
  var rng = EnvironmentRandom(seed: 0)
  var started = false

  /// Loads the bundled model of `Robot` for `version` (4 or 5).
  public init(version: Int) throws {
    precondition(version == 4 || version == 5, "MuJoCo locomotion versions are 4 and 5")
    self.version = version
    id = "\(Robot.name)-v\(version)"
    simulation = try MuJoCoSimulation(modelPath: MuJoCoSimulation.bundledModel(Robot.modelFile(version: version)))
    let size = Robot.observationSize(version: version)
    observationSpace = Box(low: [Double](repeating: -.infinity, count: size), high: [Double](repeating: .infinity, count: size))
    let range = simulation.controlRange
    actionSpace = Box(low: range.low, high: range.high)
    dt = simulation.timestep * Double(Robot.frameSkip)
    initialQpos = simulation.initialQpos
  }

  public mutating func reset(seed: UInt64?) throws -> (observation: [Double], info: StepInfo) {
    if let seed { rng = EnvironmentRandom(seed: seed) }
    let s = Robot.resetNoiseScale
    let qpos = initialQpos.map { $0 + rng.uniform(-s, s) }
    let qvel = (0..<simulation.nv).map { _ in Robot.normalVelocityNoise ? s * rng.normal() : rng.uniform(-s, s) }
    try simulation.setState(qpos: qpos, qvel: qvel)
    if Robot.needsContactForces(version: version) { simulation.step(control: [Double](repeating: 0, count: simulation.nu), frames: 0, contactForces: true) }
    started = true
    return (Robot.observation(simulation, version: version), positionInfo())
  }

  /// Puts the simulator in a given state (Gymnasium `set_state`), for replay and parity checks.
  public mutating func setState(qpos: [Double], qvel: [Double]) throws {
    try simulation.setState(qpos: qpos, qvel: qvel)
    if Robot.needsContactForces(version: version) { simulation.step(control: [Double](repeating: 0, count: simulation.nu), frames: 0, contactForces: true) }
    started = true
  }

  /// The current observation.
  public var observation: [Double] { Robot.observation(simulation, version: version) }

  public mutating func step(_ action: [Double]) throws -> Step {
    try validate(action)
    guard started else { throw EnvironmentError.notReset(id) }
    let before = Robot.position(simulation)
    simulation.step(control: action, frames: Robot.frameSkip, contactForces: Robot.needsContactForces(version: version))
    let after = Robot.position(simulation)
    let xVelocity = (after.x - before.x) / dt
    let controlCost = Self.controlCost(action, weight: Robot.controlCostWeight)
    let healthy = Robot.isHealthy(simulation)
    var info = positionInfo()
    info["x_velocity"] = xVelocity
    info["reward_forward"] = xVelocity
    info["reward_ctrl"] = -controlCost
    var reward = xVelocity - controlCost
    var terminated = false
    if let bonus = Robot.healthyReward {
      let survive = version >= 5 ? (healthy ? bonus : 0) : bonus
      info["reward_survive"] = survive
      reward += survive
      terminated = !healthy
    }
    if let contact = Robot.contactCost(simulation, version: version) {
      info["reward_contact"] = -contact
      reward -= contact
    }
    if Robot.self == Ant.self {
      info["y_velocity"] = (after.y - before.y) / dt
      if version == 4 { info["forward_reward"] = xVelocity }
    }
    if Robot.self == HalfCheetah.self && version == 4 { info["reward_run"] = xVelocity }
    return Step(observation: Robot.observation(simulation, version: version), reward: reward, terminated: terminated, truncated: false, info: info)
  }

  /// weight · Σa², computed as Gymnasium computes it under NumPy 2 for its float32 actions: the squares and their
  /// sum in float32 (NumPy's pairwise sum: sequential below 8 elements, an 8-way tree at 8), and the Python-float
  /// weight times that float32 sum stays float32 (NEP 50). This makes rewards match Gymnasium to the last bit
  /// instead of to ~1e-7.
  static func controlCost(_ action: [Double], weight: Double) -> Double {
    let a = action.map { Float($0) }
    var sum: Float = 0
    if a.count >= 8 && a.count <= 128 {
      var r = (0..<8).map { a[$0] * a[$0] }
      var i = 8
      while i + 8 <= a.count {
        for k in 0..<8 { r[k] += a[i + k] * a[i + k] }
        i += 8
      }
      sum = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
      while i < a.count { sum += a[i] * a[i]; i += 1 }
    } else {
      for x in a { sum += x * x }
    }
    return Double(Float(weight) * sum)
  }

  func positionInfo() -> StepInfo {
    if Robot.self == Ant.self {
      let p = version >= 5 ? (x: simulation.qpos(0), y: simulation.qpos(1)) : Robot.position(simulation)
      return ["x_position": p.x, "y_position": p.y, "distance_from_origin": (p.x * p.x + p.y * p.y).squareRoot()]
    }
    var info: StepInfo = ["x_position": simulation.qpos(0)]
    if version >= 5 && Robot.healthyReward != nil { info["z_distance_from_origin"] = simulation.qpos(1) - initialQpos[1] }
    return info
  }
}

/// Environments whose simulator state can be set from (qpos, qvel) for deterministic replay.
public protocol SimulatorStateSettable: Environment {
  mutating func setState(qpos: [Double], qvel: [Double]) throws
  /// The same state for stepping from, by the cheapest exact route (`MuJoCoSimulation.placeState`); defaults to
  /// `setState`.
  mutating func placeState(qpos: [Double], qvel: [Double]) throws
  /// The observation of the current state.
  var observation: [Double] { get }
  /// The current (qpos, qvel).
  var simulatorState: (qpos: [Double], qvel: [Double]) { get }
}

extension SimulatorStateSettable {
  public mutating func placeState(qpos: [Double], qvel: [Double]) throws { try setState(qpos: qpos, qvel: qvel) }
}

extension MuJoCoLocomotion {
  public mutating func placeState(qpos: [Double], qvel: [Double]) throws {
    try simulation.placeState(qpos: qpos, qvel: qvel)
    if Robot.needsContactForces(version: version) { simulation.step(control: [Double](repeating: 0, count: simulation.nu), frames: 0, contactForces: true) }
    started = true
  }

  public var simulatorState: (qpos: [Double], qvel: [Double]) { (simulation.qpos, simulation.qvel) }
}

extension EnvironmentRegistry {
  /// A fresh environment for `id`, put in the state (qpos, qvel) and wrapped in its time limit, for replay.
  /// Classic-control tasks take their state as qpos followed by qvel.
  /// - Throws: `EnvironmentError.unknownEnvironment`, or `.invalidState` for wrongly sized or non-finite states.
  public static func make(_ id: String, qpos: [Double], qvel: [Double]) throws -> any Environment {
    let env = try make(id)
    return try place(env, qpos: qpos, qvel: qvel)
  }

  /// A fresh environment for `id` without its time limit whose simulator state can be set and read (the MuJoCo
  /// tasks), for stepping from arbitrary states (true-dynamics rollouts); nil for tasks that cannot.
  public static func makeSettable(_ id: String) throws -> (any SimulatorStateSettable)? {
    guard let entry = entries.first(where: { $0.id == id }) ?? entries.first(where: { $0.id.lowercased() == id.lowercased() }) else {
      throw EnvironmentError.unknownEnvironment(id, known: ids)
    }
    return try entry.make() as? any SimulatorStateSettable
  }

  static func place<E: Environment>(_ env: E, qpos: [Double], qvel: [Double]) throws -> any Environment {
    var env = env
    if var limited = env as? TimeLimit<MuJoCoLocomotion<Hopper>> { try limited.base.setState(qpos: qpos, qvel: qvel); return limited }
    if var limited = env as? TimeLimit<MuJoCoLocomotion<Walker2d>> { try limited.base.setState(qpos: qpos, qvel: qvel); return limited }
    if var limited = env as? TimeLimit<MuJoCoLocomotion<HalfCheetah>> { try limited.base.setState(qpos: qpos, qvel: qvel); return limited }
    if var limited = env as? TimeLimit<MuJoCoLocomotion<Ant>> { try limited.base.setState(qpos: qpos, qvel: qvel); return limited }
    if var limited = env as? TimeLimit<Pendulum> { _ = try limited.reset(seed: 0); try limited.base.setState(qpos + qvel); return limited }
    if var limited = env as? TimeLimit<MountainCarContinuous> { _ = try limited.reset(seed: 0); try limited.base.setState(qpos + qvel); return limited }
    _ = try env.reset(seed: 0)
    throw EnvironmentError.invalidState("\(env.id) does not support setting its state")
  }
}

/// What `stitch env info` and benchmarks read from any MuJoCo task (through its time limit too).
public protocol MuJoCoTask {
  var modelFile: String { get }
  var stepDuration: Double { get }
  var frameSkip: Int { get }
  var simulation: MuJoCoSimulation { get }
}

extension MuJoCoLocomotion: MuJoCoTask {
  public var modelFile: String { Robot.modelFile(version: version) }
  public var stepDuration: Double { dt }
  public var frameSkip: Int { Robot.frameSkip }
}

extension TimeLimit: MuJoCoTask where Base: MuJoCoTask {
  public var modelFile: String { base.modelFile }
  public var stepDuration: Double { base.stepDuration }
  public var frameSkip: Int { base.frameSkip }
  public var simulation: MuJoCoSimulation { base.simulation }
}
