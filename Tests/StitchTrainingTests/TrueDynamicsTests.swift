import Foundation
@testable import StitchAlgorithms
import StitchData
import StitchEnvironments
import StitchTensor
import StitchTestSupport
import Testing
@testable import StitchTraining

/// `--set dynamics=true` (issue 23, item 5): rollouts step the simulator from the dataset rows' recorded states,
/// and `dynamics_mix` interpolates between the learned model and the simulator.
@Suite struct TrueDynamicsTests {
  static let dataset: Dataset = try! DatasetMaker.make("hopper-medium", size: 400, seed: 4)

  /// Stepping the recorded states with the recorded actions gives the recorded successors, rewards and
  /// terminals (to the float32 rounding of the stored states), in one worker or two.
  @Test(arguments: [1, 2]) func stepsReproduceTheDataset(workers: Int) throws {
    let ds = Self.dataset
    let sim = try SimulatorDynamics(environment: "Hopper-v4", workers: workers)
    #expect(sim.stateWidth == 12 && sim.clipsVelocity)
    let (states, rows, note) = try sim.startStates(of: ds)
    #expect(note == nil && rows == Array(0..<ds.count))
    let step = try sim.step(states: states, actions: ds.actions, rows: ds.count)
    var worst: Float = 0, worstReward: Float = 0
    for i in 0..<ds.count {
      for j in 0..<11 { worst = max(worst, abs(step.observations[i * 11 + j] - ds.nextObservations[i * 11 + j])) }
      worstReward = max(worstReward, abs(step.rewards[i] - ds.rewards[i]))
    }
    #expect(worst < 1e-3)
    #expect(worstReward < 1e-3)
    #expect(step.terminals == ds.terminals)
    let single = try SimulatorDynamics(environment: "Hopper-v4", workers: 1).step(states: states, actions: ds.actions, rows: ds.count)
    #expect(single.observations == step.observations && single.states == step.states)
  }

  /// Without infos the states are rebuilt from observations (x = 0); rows whose observation clipped a velocity
  /// are left out and counted in the note; the rebuilt states step to the recorded successors.
  @Test func observationFallback() throws {
    var ds = Self.dataset
    ds.infos = [:]
    // A row with a clipped velocity: its observation at the clip bound.
    ds.observations[5 * 11 + 7] = 10
    let sim = try SimulatorDynamics(environment: "Hopper-v4")
    let (states, rows, note) = try sim.startStates(of: ds)
    #expect(!rows.contains(5))
    let clipped = (0..<ds.count).filter { i in (5..<11).contains { abs(ds.observations[i * 11 + $0]) >= 10 } }.count
    #expect(rows.count == ds.count - clipped)
    #expect(note?.contains("\(clipped) of \(ds.count) rows left out") == true)
    let actions = rows.flatMap { ds.actions[($0 * 3)..<(($0 + 1) * 3)] }
    let step = try sim.step(states: states, actions: actions, rows: rows.count)
    var worst: Float = 0
    for (k, i) in rows.enumerated() where i != 5 {
      for j in 0..<11 { worst = max(worst, abs(step.observations[k * 11 + j] - ds.nextObservations[i * 11 + j])) }
    }
    #expect(worst < 1e-3)
  }

  /// A rollout on the true dynamics (and a mix with λ = 1, which is the simulator whatever the model says) stores
  /// transitions the simulator makes: rebuilding each stored state and stepping it with the stored action gives
  /// the stored successor; the rollouts' last-state values are reported.
  @Test(arguments: [("true", 0.0), ("model", 1.0)]) func rolloutsFollowTheSimulator(dynamics: String, mix: Double) throws {
    var settings = ModelRolloutSettings()
    settings.dynamics = dynamics
    settings.dynamicsMix = mix
    settings.rolloutBatchSize = 64
    settings.rolloutLength = 3
    settings.dynamicsModel = ModelBasedFixtures.modelFile(task: "Hopper-v4", observationDim: 11, actionDim: 3)
    let task = TaskSpec(id: "Hopper-v4", observationDim: 11, actionDim: 3)
    var rollouts = ModelRollouts(settings: settings, penaltyCoefficient: 1, task: task, rng: RandomStream(seed: 2))
    let sim = try SimulatorDynamics(environment: "Hopper-v4")
    rollouts.attach(trueDynamics: sim)
    try rollouts.prepare(dataset: Self.dataset, normalizer: ObservationNormalizer(identity: 11), rewardScale: 1)
    let metrics = try rollouts.rollout(policy: { obs, rng in Tensor.uniform([obs.shape[0], 3], in: -1...1, using: &rng) },
                                       value: { obs in Tensor(shape: [obs.shape[0]], scalars: [Float](repeating: 7, count: obs.shape[0])) })
    let stored = rollouts.buffer.storage
    #expect(stored.count == Int(metrics["rollout_transitions"]!) && stored.count >= 64)
    #expect(metrics["rollout_last_q_mean"] == 7 && metrics["rollout_penalty_mean"].map { mix == 0 ? $0 == 0 : true } == true)
    var states = [Double](), rows = [Int]()
    for i in 0..<stored.count {
      let o = Array(stored.observations[(i * 11)..<((i + 1) * 11)])
      if o[5...].contains(where: { abs($0) >= 10 }) { continue }
      states += [0] + o.map(Double.init)
      rows.append(i)
    }
    let actions = rows.flatMap { stored.actions[($0 * 3)..<(($0 + 1) * 3)] }
    let step = try sim.step(states: states, actions: actions, rows: rows.count)
    var worst: Float = 0
    for (k, i) in rows.enumerated() {
      for j in 0..<11 { worst = max(worst, abs(step.observations[k * 11 + j] - stored.nextObservations[i * 11 + j])) }
      #expect(stored.terminals[i] == Termination.rule(for: "Hopper-v4")(Array(stored.nextObservations[(i * 11)..<((i + 1) * 11)])))
    }
    #expect(rows.count > stored.count / 2)
    #expect(worst < 1e-4)
  }

  /// Bad input: a task without a settable simulator; a dataset of other widths and no infos; dynamics_mix with
  /// dynamics = true; an unknown dynamics name.
  @Test func badInput() throws {
    #expect(throws: DynamicsError.self) { try SimulatorDynamics(environment: "Pendulum-v1") }
    let sim = try SimulatorDynamics(environment: "Walker2d-v4")
    var ds = Self.dataset
    ds.infos = [:]
    #expect { try sim.startStates(of: ds) } throws: { "\($0)".contains("not Walker2d-v4's") }
    #expect { try sim.startStates(of: Self.dataset) } throws: { "\($0)".contains("Walker2d-v4 needs 9 and 9") }
    var settings = ModelRolloutSettings()
    settings.dynamics = "true"
    settings.dynamicsMix = 0.5
    var checks = ConfigChecks()
    settings.check(&checks)
    settings.dynamics = "perfect"
    settings.dynamicsMix = 0
    settings.check(&checks)
    #expect(checks.problems.count == 2)
    #expect(checks.problems.contains { $0.hasPrefix("dynamics_mix = 0.5") } && checks.problems.contains { $0.hasPrefix("dynamics = perfect must be one of model, true") })
  }
}
