import Foundation
@testable import StitchData
import StitchEnvironments
import StitchTensor
import StitchTestSupport
import Testing
@testable import StitchTraining

/// `dataset make` records D4RL's `infos/qpos`, `infos/qvel` (the state before each step) and
/// `infos/action_log_probs`, and the reader keeps them row-aligned (issue 23, item 4).
@Suite struct DatasetInfosTests {
  /// Hopper's observation is qpos[1:] followed by clip(qvel, ±10) (Gymnasium hopper_v4 `_get_obs`): every row's
  /// recorded state must reproduce its observation, and setting that state and taking the row's action must give
  /// the row's next observation and reward (up to the float32 the file stores the state in).
  @Test func recordedStatesReproduceObservationsAndSteps() throws {
    let ds = try DatasetMaker.make("hopper-medium", size: 300, seed: 3)
    let qpos = try #require(ds.infos["qpos"]), qvel = try #require(ds.infos["qvel"])
    #expect(qpos.width == 6 && qvel.width == 6)
    #expect(ds.invariantViolations().isEmpty)
    var worstObservation: Float = 0, worstNext = 0.0, worstReward = 0.0
    for i in 0..<ds.count {
      let p = qpos.row(i), v = qvel.row(i)
      let expected = Array(p.dropFirst()) + v.map { min(max($0, -10), 10) }
      let observed = ds.observations[(i * 11)..<((i + 1) * 11)]
      worstObservation = max(worstObservation, zip(expected, observed).map { Swift.abs($0 - $1) }.max()!)
      guard i % 37 == 0 else { continue }
      let (q, w) = try #require(ds.simulatorState(i))
      var env = try EnvironmentRegistry.make("Hopper-v4", qpos: q, qvel: w)
      let step = try env.step(ds.actions[(i * 3)..<((i + 1) * 3)].map(Double.init))
      let next = ds.nextObservations[(i * 11)..<((i + 1) * 11)].map(Double.init)
      worstNext = max(worstNext, zip(step.observation, next).map { Swift.abs($0 - $1) }.max()!)
      worstReward = max(worstReward, Swift.abs(step.reward - Double(ds.rewards[i])))
    }
    #expect(worstObservation == 0)
    // float32 states: the step from a rounded state differs from the recorded one by rounding, not by more.
    #expect(worstNext < 1e-3)
    #expect(worstReward < 1e-3)
  }

  /// A uniform random action on Hopper's [−1, 1]³ has log-density −3 log 2; a policy's sampled actions carry the
  /// tanh-Gaussian density of the very draw `act` makes.
  @Test func actionLogProbabilities() throws {
    let random = try DatasetMaker.make("hopper-random", size: 50, seed: 0)
    let lp = try #require(random.infos["action_log_probs"])
    #expect(lp.width == 1 && lp.values.count == 50)
    let uniform = lp.values.allSatisfy { Swift.abs(Double($0) + 3 * log(2.0)) < 1e-6 }
    #expect(uniform)
    let policy = try BehaviourPolicy.bundled("hopper-medium")
    let obs = [Double](repeating: 0.1, count: 11)
    var a = RandomStream(seed: 5), b = RandomStream(seed: 5)
    let plain = try policy.act(obs, exploring: true, rng: &a)
    let (withDensity, logProbability) = try policy.actWithLogProbability(obs, exploring: true, rng: &b)
    #expect(plain == withDensity)
    #expect(a.state == b.state)
    #expect(logProbability.isFinite)
    let medium = try DatasetMaker.make("hopper-medium", size: 50, seed: 0)
    let mediumFinite = medium.infos["action_log_probs"]!.values.allSatisfy { $0.isFinite }
    #expect(mediumFinite)
  }

  /// Written and read back, the columns survive; in the Q-learning view (no next_observations) they follow the
  /// kept rows; with --drop-non-finite they follow the surviving rows.
  @Test func readersKeepInfosAligned() throws {
    let dir = try TestSupport.temporaryDirectory("infos")
    defer { try? FileManager.default.removeItem(at: dir) }
    var ds = try DatasetMaker.make("hopper-random", size: 120, seed: 1)
    let path = dir.appendingPathComponent("h.hdf5").path
    try D4RLFile.write(ds, to: path)
    let back = try D4RLFile.read(path).0
    #expect(back.infos == ds.infos)
    // Q-learning view: a file without next_observations whose row 2 is a timeout (dropped, as d4rl does).
    let plain = dir.appendingPathComponent("q.hdf5").path
    do {
      let f = try HDF5File.create(plain)
      let n = 6
      try ds.observations.prefix(n * 11).withUnsafeBufferPointer { try f.writeFloats("observations", shape: [n, 11], values: UnsafeBufferPointer(rebasing: $0[...])) }
      try ds.actions.prefix(n * 3).withUnsafeBufferPointer { try f.writeFloats("actions", shape: [n, 3], values: UnsafeBufferPointer(rebasing: $0[...])) }
      try ds.rewards.prefix(n).withUnsafeBufferPointer { try f.writeFloats("rewards", shape: [n], values: UnsafeBufferPointer(rebasing: $0[...])) }
      try f.writeBools("terminals", values: [Bool](repeating: false, count: n))
      try f.writeBools("timeouts", values: [false, false, true, false, false, false])
      try ds.infos["qvel"]!.values.prefix(n * 6).withUnsafeBufferPointer { try f.writeFloats("infos/qvel", shape: [n, 6], values: UnsafeBufferPointer(rebasing: $0[...])) }
    }
    let view = try D4RLFile.read(plain).0
    #expect(view.count == 4)  // rows 0, 1, 3, 4 (the timeout row 2 and the last row dropped)
    let v = try #require(view.infos["qvel"])
    #expect(v.row(2) == ds.infos["qvel"]!.row(3))
    #expect(v.values.count == 4 * 6)
    // --drop-non-finite: row 5 goes, the columns follow.
    ds.observations[5 * 11] = .nan
    try D4RLFile.write(ds, to: path)
    let dropped = try D4RLFile.read(path, options: LoadOptions(dropNonFinite: true)).0
    #expect(dropped.count == ds.count - 1)
    let q = dropped.infos["qpos"]!
    #expect(q.row(4) == ds.infos["qpos"]!.row(4))
    #expect(q.row(5) == ds.infos["qpos"]!.row(6))
    #expect(dropped.infos["action_log_probs"]!.values.count == dropped.count)
  }

  /// medium-expert concatenates both halves' columns.
  @Test func mediumExpertKeepsBothHalves() throws {
    let ds = try DatasetMaker.make("hopper-medium-expert", size: 40, seed: 0)
    #expect(ds.count == 80)
    #expect(ds.infos["qpos"]?.values.count == 80 * 6)
    #expect(ds.invariantViolations().isEmpty)
  }
}
