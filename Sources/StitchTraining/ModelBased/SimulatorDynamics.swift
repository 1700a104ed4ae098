import Dispatch
import Foundation
import StitchAlgorithms
import StitchData
import StitchEnvironments

/// The MuJoCo task as a model rollout's dynamics (`--set dynamics=true`): each row's simulator is set to its
/// (qpos, qvel) and stepped once with the task's own reward and termination (Gymnasium's step, as
/// `stitch dataset make` recorded it). Rows are split over the machine's cores, one simulator per worker; every
/// row's step depends on its state and action only, so the result is the same for any split.
///
/// Start states come from the dataset's `infos/qpos` and `infos/qvel` (D4RL-v2's convention: the state before
/// the row's step). Without them they are rebuilt from the observation, qpos = (0, obs[0..<nq−1]) and
/// qvel = obs[nq−1...] (or qpos, qvel = obs where the observation is the whole state, as PointReach's): exact
/// for the planar robots except the x position, which no reward or termination reads
/// (only its change), and except where the observation clipped a velocity (Hopper and Walker2d clip qvel to
/// ±10): such rows are left out of the start states, and the note says how many.
public struct SimulatorDynamics: TrueDynamics {
  public let environment: String
  public let nq, nv: Int
  /// Observation width: nq − 1 + nv for the planar robots (no x), nq + nv where the observation is the state.
  public let observationDim: Int
  public let clipsVelocity: Bool
  let scaling: ActionScaling
  let workers: Int
  public var stateWidth: Int { nq + nv }

  /// - Throws: `DynamicsError` when the task has no settable simulator.
  public init(environment: String, workers: Int = ProcessInfo.processInfo.activeProcessorCount) throws {
    guard var probe = try EnvironmentRegistry.makeSettable(environment) else {
      throw DynamicsError("--set dynamics=true needs a simulator whose state can be set; \(environment) has none (the MuJoCo tasks do)")
    }
    self.environment = environment
    let state = probe.simulatorState
    nq = state.qpos.count
    nv = state.qvel.count
    observationDim = probe.observationSpace.low.count
    guard observationDim == nq - 1 + nv || observationDim == nq + nv else {
      throw DynamicsError("--set dynamics=true: \(environment)'s \(observationDim)-wide observation is neither (qpos[1:], qvel) nor (qpos, qvel)")
    }
    scaling = ActionScaling(low: probe.actionSpace.low, high: probe.actionSpace.high)
    self.workers = Swift.max(1, workers)
    // Whether observations clip velocities: put every velocity at 20 and read them back.
    try probe.setState(qpos: state.qpos, qvel: [Double](repeating: 20, count: nv))
    let o = probe.observation
    clipsVelocity = nv > 0 && o[(observationDim - nv)...].contains { $0 == 10 }
  }

  public func startStates(of ds: Dataset) throws -> (states: [Double], rows: [Int], note: String?) {
    if let qpos = ds.infos["qpos"], nv == 0 || ds.infos["qvel"] != nil {
      let qvel = ds.infos["qvel"]
      guard qpos.width == nq, (qvel?.width ?? 0) == nv else {
        throw DynamicsError("the dataset's infos/qpos and infos/qvel have \(qpos.width) and \(qvel?.width ?? 0) columns; \(environment) needs \(nq) and \(nv)")
      }
      var states = [Double]()
      states.reserveCapacity(ds.count * stateWidth)
      for i in 0..<ds.count {
        for j in 0..<nq { states.append(Double(qpos.values[i * nq + j])) }
        if let qvel { for j in 0..<nv { states.append(Double(qvel.values[i * nv + j])) } }
      }
      return (states, Array(0..<ds.count), nil)
    }
    let od = ds.observationDim
    guard od == observationDim else {
      throw DynamicsError("the dataset has no infos/qpos and infos/qvel, and its \(od)-wide observations are not \(environment)'s \(observationDim): --set dynamics=true cannot start from its states; remake it with `stitch dataset make`")
    }
    var states = [Double](), rows = [Int]()
    var clipped = 0
    for i in 0..<ds.count {
      let o = ds.observations[(i * od)..<((i + 1) * od)].map(Double.init)
      if clipsVelocity && o[(od - nv)...].contains(where: { abs($0) >= 10 }) { clipped += 1; continue }
      if od < stateWidth { states.append(0) }
      states += o
      rows.append(i)
    }
    guard !rows.isEmpty else {
      throw DynamicsError("the dataset has no infos/qpos and infos/qvel, and every row's observation clips a velocity at ±10: no simulator state can be rebuilt")
    }
    var note = "the dataset has no infos/qpos, infos/qvel: simulator states rebuilt from observations (x position 0)"
    if clipped > 0 { note += "; \(clipped) of \(ds.count) rows left out of the start states because their observation clipped a velocity at ±10" }
    return (states, rows, note)
  }

  public func step(states: [Double], actions: [Float], rows: Int) throws -> TrueDynamicsStep {
    let sw = stateWidth, ad = scaling.low.count
    let chunks = Swift.min(workers, Swift.max(1, rows / 256))
    let per = (rows + chunks - 1) / Swift.max(chunks, 1)
    let od = observationDim
    var result = TrueDynamicsStep(states: [Double](repeating: 0, count: rows * sw), observations: [Float](repeating: 0, count: rows * od),
                                  rewards: [Float](repeating: 0, count: rows), terminals: [Bool](repeating: false, count: rows))
    let failure = FailureBox()
    let environment = environment
    let scaling = scaling
    let nq = nq, nv = nv
    result.states.withUnsafeMutableBufferPointer { sp in
      result.observations.withUnsafeMutableBufferPointer { op in
        result.rewards.withUnsafeMutableBufferPointer { rp in
          result.terminals.withUnsafeMutableBufferPointer { tp in
            let (sp, op, rp, tp) = (UnsafeSendable(sp), UnsafeSendable(op), UnsafeSendable(rp), UnsafeSendable(tp))
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
              do {
                guard var env = try EnvironmentRegistry.makeSettable(environment) else { return }
                for r in (c * per)..<Swift.min(rows, (c + 1) * per) {
                  let s = Array(states[(r * sw)..<((r + 1) * sw)])
                  try env.placeState(qpos: Array(s[0..<nq]), qvel: Array(s[nq...]))
                  let step = try env.step(scaling.toEnvironment(Array(actions[(r * ad)..<((r + 1) * ad)])))
                  let next = env.simulatorState
                  for j in 0..<nq { sp.value[r * sw + j] = next.qpos[j] }
                  for j in 0..<nv { sp.value[r * sw + nq + j] = next.qvel[j] }
                  for j in 0..<od { op.value[r * od + j] = Float(step.observation[j]) }
                  rp.value[r] = Float(step.reward)
                  tp.value[r] = step.terminated
                }
              } catch {
                failure.set("the simulator failed in a true-dynamics rollout: \(error)")
              }
            }
          }
        }
      }
    }
    if let message = failure.message { throw DynamicsError(message) }
    return result
  }

  public func state(fromObservation observation: [Float], template: [Double]) -> [Double] {
    var s = template
    let skip = stateWidth - observationDim
    for j in 0..<observationDim { s[skip + j] = Double(observation[j]) }
    return s
  }
}

/// A pointer handed to concurrent workers that write disjoint rows.
struct UnsafeSendable<T>: @unchecked Sendable {
  let value: T
  init(_ value: T) { self.value = value }
}

/// The first error of concurrent workers.
final class FailureBox: @unchecked Sendable {
  private let lock = NSLock()
  private(set) var message: String?
  func set(_ m: String) { lock.lock(); if message == nil { message = m }; lock.unlock() }
}
