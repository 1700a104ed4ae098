import CMuJoCo

import Foundation

/// One MuJoCo model and its simulation state (`mjModel` + `mjData`), driven as Gymnasium's `MujocoEnv` drives
/// them (`gymnasium/envs/mujoco/mujoco_env.py`): `ctrl` is written, `mj_step` runs `frame_skip` times, and
/// `mj_rnePostConstraint` fills `cfrc_ext` where a task reads contact forces (MuJoCo ≥ 2.0 leaves them stale
/// otherwise).
///
/// A class: it owns C memory. Copying an environment that holds one shares the simulator.
public final class MuJoCoSimulation: @unchecked Sendable {
  let model: UnsafeMutablePointer<mjModel>
  let data: UnsafeMutablePointer<mjData>
  /// The MJCF file the model was loaded from.
  public let modelPath: String

  /// Loads an MJCF file.
  /// - Throws: `EnvironmentError.model` naming the file and quoting MuJoCo's own error text.
  public init(modelPath: String) throws {
    guard FileManager.default.fileExists(atPath: modelPath) else {
      throw EnvironmentError.model("MuJoCo model file \(modelPath) does not exist")
    }
    var error = [CChar](repeating: 0, count: 1000)
    guard let m = mj_loadXML(modelPath, nil, &error, Int32(error.count)) else {
      let text = String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
      throw EnvironmentError.model("MuJoCo could not load \(modelPath): \(text)")
    }
    guard let d = mj_makeData(m) else {
      mj_deleteModel(m)
      throw EnvironmentError.model("MuJoCo could not allocate data for \(modelPath)")
    }
    model = m
    data = d
    self.modelPath = modelPath
  }

  deinit {
    mj_deleteData(data)
    mj_deleteModel(model)
  }

  public var nq: Int { Int(model.pointee.nq) }
  public var nv: Int { Int(model.pointee.nv) }
  public var nu: Int { Int(model.pointee.nu) }
  public var nbody: Int { Int(model.pointee.nbody) }
  /// The physics time step (s).
  public var timestep: Double { model.pointee.opt.timestep }

  /// `qpos0`: the model's default pose (Gymnasium's `init_qpos`).
  public var initialQpos: [Double] { Array(UnsafeBufferPointer(start: model.pointee.qpos0, count: nq)) }
  public var qpos: [Double] { Array(UnsafeBufferPointer(start: data.pointee.qpos, count: nq)) }
  public var qvel: [Double] { Array(UnsafeBufferPointer(start: data.pointee.qvel, count: nv)) }
  @inline(__always) public func qpos(_ i: Int) -> Double { data.pointee.qpos[i] }
  @inline(__always) public func qvel(_ i: Int) -> Double { data.pointee.qvel[i] }

  /// The actuators' control ranges `[nu][low, high]`.
  public var controlRange: (low: [Double], high: [Double]) {
    let r = UnsafeBufferPointer(start: model.pointee.actuator_ctrlrange, count: 2 * nu)
    return (stride(from: 0, to: 2 * nu, by: 2).map { r[$0] }, stride(from: 1, to: 2 * nu, by: 2).map { r[$0] })
  }

  /// `mj_resetData`, then qpos and qvel set and `mj_forward` (Gymnasium `reset` + `set_state`).
  /// - Throws: `EnvironmentError.invalidState` for wrongly sized or non-finite vectors (the state is untouched).
  public func setState(qpos: [Double], qvel: [Double], resetFirst: Bool = true) throws {
    guard qpos.count == nq, qvel.count == nv else {
      throw EnvironmentError.invalidState("\(modelPath): qpos needs \(nq) values and qvel \(nv), got \(qpos.count) and \(qvel.count)")
    }
    guard qpos.allSatisfy(\.isFinite), qvel.allSatisfy(\.isFinite) else {
      throw EnvironmentError.invalidState("qpos and qvel must be finite")
    }
    if resetFirst { mj_resetData(model, data) }
    for i in 0..<nq { data.pointee.qpos[i] = qpos[i] }
    for i in 0..<nv { data.pointee.qvel[i] = qvel[i] }
    mj_forward(model, data)
  }

  /// qpos and qvel set, then `mj_forward`, after clearing only what carries over from an earlier step into the next
  /// one (time, the solver's warm start `qacc_warmstart`, `act`, `ctrl`, `qfrc_applied`, `xfrc_applied`) instead
  /// of `mj_resetData`'s zeroing of the whole data buffer, which costs more than a Hopper step. Stepping from it
  /// gives the same bits as stepping after `setState(qpos:qvel:)` (tested); for true-dynamics rollouts, which set a
  /// new state before every step.
  /// - Throws: as `setState`.
  public func placeState(qpos: [Double], qvel: [Double]) throws {
    guard qpos.count == nq, qvel.count == nv else {
      throw EnvironmentError.invalidState("\(modelPath): qpos needs \(nq) values and qvel \(nv), got \(qpos.count) and \(qvel.count)")
    }
    guard qpos.allSatisfy(\.isFinite), qvel.allSatisfy(\.isFinite) else {
      throw EnvironmentError.invalidState("qpos and qvel must be finite")
    }
    let d = data.pointee, m = model.pointee
    data.pointee.time = 0
    for i in 0..<nv { d.qacc_warmstart[i] = 0; d.qfrc_applied[i] = 0 }
    for i in 0..<Int(m.na) { d.act[i] = 0 }
    for i in 0..<nu { d.ctrl[i] = 0 }
    for i in 0..<(6 * nbody) { d.xfrc_applied[i] = 0 }
    for i in 0..<nq { d.qpos[i] = qpos[i] }
    for i in 0..<nv { d.qvel[i] = qvel[i] }
    mj_forward(model, data)
  }

  /// Writes `ctrl` and advances `frames` physics steps; fills `cfrc_ext` when `contactForces` is set.
  public func step(control: [Double], frames: Int, contactForces: Bool = false) {
    for i in 0..<nu { data.pointee.ctrl[i] = control[i] }
    for _ in 0..<frames { mj_step(model, data) }
    if contactForces { mj_rnePostConstraint(model, data) }
  }

  /// Advances `frames` physics steps with the current controls (the bare-physics benchmark loop).
  public func stepPhysics(frames: Int) {
    for _ in 0..<frames { mj_step(model, data) }
  }

  /// A body's Cartesian position (`xpos`).
  public func bodyPosition(_ body: Int) -> (x: Double, y: Double, z: Double) {
    let p = data.pointee.xpos + 3 * body
    return (p[0], p[1], p[2])
  }

  /// `cfrc_ext` `[nbody × 6]`, row-major.
  public var externalContactForces: [Double] { Array(UnsafeBufferPointer(start: data.pointee.cfrc_ext, count: 6 * nbody)) }

  /// The id of a body by name, or nil.
  public func bodyID(_ name: String) -> Int? {
    let id = mj_name2id(model, Int32(mjOBJ_BODY.rawValue), name)
    return id < 0 ? nil : Int(id)
  }
}

extension MuJoCoSimulation {
  /// The path of a bundled model ("hopper.xml").
  /// - Throws: `EnvironmentError.model` when the package resources lack it.
  public static func bundledModel(_ file: String) throws -> String {
    let name = (file as NSString).deletingPathExtension
    guard let url = Bundle.module.url(forResource: name, withExtension: "xml", subdirectory: "Resources/models") else {
      throw EnvironmentError.model("bundled MuJoCo model \(file) is missing from Stitch's resources (Resources/models)")
    }
    return url.path
  }
}
