import Foundation
import StitchData
import StitchNN

import StitchTensor

/// The rollout schedule and data mix shared by the model-based agents (MBPO, MOPO, RAVL), each a configuration key
/// with OfflineRL-Kit's `run_mopo.py` default and the edge-of-reach code's (EOR) where it is the same.
public struct ModelRolloutSettings: Codable, Sendable, Equatable {
  /// Path of a dynamics model from `stitch dynamics train` (required).
  public var dynamicsModel = ""
  /// h (k in the edge-of-reach paper): steps of every model rollout.
  public var rolloutLength = 5
  /// Start states per rollout epoch (OfflineRL-Kit `rollout_batch_size`, EOR `rollouts_per_epoch`: 50,000).
  public var rolloutBatchSize = 50_000
  /// Updates between rollout epochs (`rollout_freq`: 1000).
  public var rolloutFrequency = 1000
  /// Rollout epochs the model buffer keeps (`model_retain_epochs`: 5); its capacity is
  /// rollout_batch_size · rollout_length · model_retain_epochs.
  public var modelRetainEpochs = 5
  /// Fraction of every minibatch drawn from the dataset (`real_ratio`: 0.05), the rest from the model buffer.
  public var realRatio = 0.05
  /// What the rollouts step: "model" (the learned ensemble) or "true" (the simulator, from the dataset rows'
  /// `infos/qpos`, `infos/qvel`; the edge-of-reach paper's true dynamics).
  public var dynamics = "model"
  /// λ of the paper's Figure 1: next states and rewards (1 − λ)·model + λ·simulator; 0 for the model alone.
  /// Needs `dynamics = "model"` and a dynamics model.
  public var dynamicsMix = 0.0

  public init() {}

  var kind: RolloutDynamicsKind { RolloutDynamicsKind(rawValue: dynamics) ?? .model }
  /// Whether rollouts need the simulator.
  public var needsSimulator: Bool { kind == .true || dynamicsMix > 0 }
  /// Whether rollouts need the learned model.
  public var needsModel: Bool { kind == .model }

  func check(_ checks: inout ConfigChecks) {
    checks.require(RolloutDynamicsKind(rawValue: dynamics) != nil, "dynamics", dynamics,
                   "must be one of \(RolloutDynamicsKind.allCases.map(\.rawValue).joined(separator: ", "))")
    checks.require(dynamicsMix >= 0 && dynamicsMix <= 1, "dynamics_mix", dynamicsMix, "must lie in [0, 1]")
    checks.require(dynamicsMix == 0 || kind == .model, "dynamics_mix", dynamicsMix,
                   "mixes the learned model with the simulator: it needs dynamics = model (with dynamics = true the rollouts are the simulator's alone)")
    checks.atLeast("rollout_length", rolloutLength, 1)
    checks.atLeast("rollout_batch_size", rolloutBatchSize, 1)
    checks.atLeast("rollout_frequency", rolloutFrequency, 1)
    checks.atLeast("model_retain_epochs", modelRetainEpochs, 1)
    checks.require(realRatio >= 0 && realRatio <= 1, "real_ratio", realRatio, "must lie in [0, 1]")
  }
}

/// The model side of a model-based agent: the dynamics (learned, true, or a mix), the dataset's states as
/// rollout starts, the model buffer, and the mix of dataset and model rows in each minibatch.
///
/// A rollout epoch (OfflineRL-Kit `MOPOPolicy.rollout`, EOR `generate_rollouts`): draw `rolloutBatchSize` start
/// states from the dataset (uniformly with replacement, as OfflineRL-Kit's `real_buffer.sample`); for h steps,
/// sample a ~ π(·|s) with the current stochastic policy, step the dynamics, reward r − λ·u(s, a) (MOPO; λ = 0
/// otherwise), terminal by the task's rule on the raw next state, store the transition, and continue only the
/// rows that did not terminate. The buffer is a FIFO of capacity batch · h · retain. The dynamics work in raw
/// units; stored transitions are in the agent's units (normalised observations, rewards × the run's reward scale).
///
/// Dynamics (`ModelRolloutSettings.dynamics`, `dynamicsMix`):
/// - model: `DynamicsEnsemble.step` (a random elite per row, the Gaussian sample of [Δs, r]);
/// - true: the simulator set to the row's recorded (qpos, qvel) and stepped (`TrueDynamics`); the reward and
///   termination are the task's own and the penalty is 0 (there is no model to be uncertain);
/// - mix λ: s′ = (1 − λ)·s′_model + λ·s′_true and r likewise, both from the same state and action, the penalty
///   the model's, termination by the task's rule on the mixed state; the next step's simulator state is rebuilt
///   from the mixed observation (`TrueDynamics.state(fromObservation:template:)`).
///
/// Every rollout epoch also reports the agent's value at the rollouts' last states (the states reached at step h,
/// only ever bootstrapped from: the edge-of-reach states of Sims et al. 2024): `rollout_last_q_mean`,
/// `rollout_last_q_max`.
public struct ModelRollouts: Sendable {
  public let settings: ModelRolloutSettings
  public let penaltyCoefficient: Float
  public private(set) var model: DynamicsEnsemble?
  public private(set) var simulator: (any TrueDynamics)?
  public private(set) var buffer: ReplayBuffer
  var rng: RandomStream
  /// Updates seen so far (the rollout schedule).
  public private(set) var updates = 0
  /// Raw dataset states the rollouts start from.
  var startStates: [Float] = []
  /// The simulator states of `startStates` (with a simulator).
  var startSimulatorStates: [Double] = []
  /// The last rollout epoch's states reached at step h (normalised, row-major): only ever next states, never
  /// start states of a stored transition (a diagnostic; not checkpointed).
  public private(set) var finalStates: [Float] = []
  /// What `TrueDynamics.startStates` said about the dataset's states (nil: all recorded).
  public private(set) var startStateNote: String?
  var normalizer: ObservationNormalizer
  var rewardScale: Float = 1
  var terminated: @Sendable ([Float]) -> Bool
  let environment: String
  let observationDim, actionDim: Int

  public init(settings: ModelRolloutSettings, penaltyCoefficient: Float, task: TaskSpec, rng: RandomStream) {
    self.settings = settings
    self.penaltyCoefficient = penaltyCoefficient
    environment = task.id
    observationDim = task.observationDim
    actionDim = task.actionDim
    let capacity = Swift.max(1, settings.rolloutBatchSize * settings.rolloutLength * settings.modelRetainEpochs)
    buffer = ReplayBuffer(capacity: capacity, observationDim: task.observationDim, actionDim: task.actionDim)
    self.rng = rng
    normalizer = ObservationNormalizer(identity: task.observationDim)
    terminated = Termination.rule(for: task.id)
  }

  /// Gives the rollouts the simulator (before `prepare`, when `settings.needsSimulator`).
  public mutating func attach(trueDynamics: any TrueDynamics) { simulator = trueDynamics }

  /// Loads the dynamics model and takes the dataset's states (what `DatasetConsumer.prepare` receives).
  public mutating func prepare(dataset: Dataset, normalizer: ObservationNormalizer, rewardScale: Float) throws {
    if settings.needsModel {
      guard !settings.dynamicsModel.isEmpty else { throw DynamicsError(Self.missingModel) }
      let (m, _) = try DynamicsModelFile.read(URL(fileURLWithPath: settings.dynamicsModel), expectedTask: environment,
                                               observationDim: observationDim, actionDim: actionDim)
      model = m
    }
    self.normalizer = normalizer
    self.rewardScale = rewardScale
    let d = observationDim
    var rows = Array(0..<dataset.count)
    if settings.needsSimulator {
      guard let simulator else { throw DynamicsError("dynamics = \(settings.dynamics) with dynamics_mix = \(settings.dynamicsMix) needs the simulator, and none was attached (\(environment) has no settable simulator state)") }
      let s = try simulator.startStates(of: dataset)
      startSimulatorStates = s.states
      rows = s.rows
      startStateNote = s.note
    }
    startStates = [Float](repeating: 0, count: rows.count * d)
    for (k, r) in rows.enumerated() {
      for j in 0..<d { startStates[k * d + j] = dataset.observations[r * d + j] * (normalizer.std[j] + normalizer.epsilon) + normalizer.mean[j] }
    }
  }

  /// A normalised observation in raw units (what the model takes).
  func raw(_ normalised: [Float]) -> [Float] {
    (0..<normalised.count).map { normalised[$0] * (normalizer.std[$0] + normalizer.epsilon) + normalizer.mean[$0] }
  }

  /// A raw observation in the agent's units.
  func normalised(_ raw: [Float]) -> [Float] {
    var x = raw
    normalizer.apply(&x)
    return x
  }

  /// The one-line error for a run without `dynamics_model`.
  public static let missingModel = "a model-based agent needs a dynamics model: make one with `stitch dynamics train --dataset D --env E -o model.safetensors`, then pass --set dynamics_model=model.safetensors (or --set dynamics=true for the simulator)"

  /// Rows of a minibatch of `size` that come from the dataset: ⌊real_ratio · size⌋ (OfflineRL-Kit
  /// `real_sample_size = int(batch_size * real_ratio)`), the first rows of the batch.
  public func realRows(of size: Int) -> Int { Int(Double(size) * settings.realRatio) }

  /// Before an update: runs a rollout epoch when one is due (every `rolloutFrequency` updates, the first before
  /// the first update), then overwrites the minibatch's model rows with draws from the model buffer.
  /// - Parameters:
  ///   - policy: the agent's exploring action for a batch of (normalised) observations.
  ///   - value: the agent's value V(s) = Q(s, π(s)) for a batch of (normalised) observations (logged at the
  ///     rollouts' last states).
  /// - Returns: the rollout's metrics when one ran.
  public mutating func mix(into batch: inout Batch, policy: (Tensor, inout RandomStream) -> Tensor,
                           value: ((Tensor) -> Tensor)? = nil) throws -> Metrics {
    var metrics: Metrics = [:]
    if updates % settings.rolloutFrequency == 0 { metrics = try rollout(policy: policy, value: value) }
    updates += 1
    let real = realRows(of: batch.size)
    if real < batch.size {
      buffer.sample(into: &batch, rows: real..<batch.size, using: &rng)
      // Model rows have no successor action (ReBRAC-style users must not read one).
      let size = batch.size
      batch.nextActionsKnown.withUnsafeMutableBufferPointer { p in for i in real..<size { p[i] = 0 } }
    }
    return metrics
  }

  /// One rollout epoch into the model buffer.
  /// - Throws: `DynamicsError` naming the update, step and member when the model predicts a non-finite state or
  ///   reward (the agent's state is left as it was before the epoch's first write only for the buffer rows not
  ///   yet written; the run stops, its last checkpoint intact).
  public mutating func rollout(policy: (Tensor, inout RandomStream) -> Tensor, value: ((Tensor) -> Tensor)? = nil) throws -> Metrics {
    guard model != nil || simulator != nil else { throw DynamicsError("the model-based agent was not prepared with a dataset and its dynamics") }
    guard !startStates.isEmpty else { throw DynamicsError("no start states: the dataset is empty") }
    let od = observationDim, ad = actionDim, n = startStates.count / od
    let sw = simulator?.stateWidth ?? 0
    let useSimulator = settings.needsSimulator, useModel = settings.needsModel
    let lambda = Float(settings.dynamicsMix)
    var states = [Float](repeating: 0, count: settings.rolloutBatchSize * od)
    var simStates = [Double](repeating: 0, count: useSimulator ? settings.rolloutBatchSize * sw : 0)
    for r in 0..<settings.rolloutBatchSize {
      let i = rng.nextInt(below: n)
      for k in 0..<od { states[r * od + k] = startStates[i * od + k] }
      if useSimulator { for k in 0..<sw { simStates[r * sw + k] = startSimulatorStates[i * sw + k] } }
    }
    var active = settings.rolloutBatchSize
    var transitions = 0, terminals = 0
    var rewardSum = 0.0, penaltySum = 0.0
    var lastStates: [Float] = []
    let chunk = 8192
    for t in 0..<settings.rolloutLength {
      var nextStates: [Float] = [], nextSimStates: [Double] = []
      nextStates.reserveCapacity(active * od)
      var chunkStart = 0
      while chunkStart < active {
        let b = Swift.min(chunk, active - chunkStart)
        let raw = Array(states[(chunkStart * od)..<((chunkStart + b) * od)])
        var normalised = raw
        normalizer.apply(&normalised)
        let actions = policy(Tensor(shape: [b, od], scalars: normalised), &rng)
        let a = actions.scalars
        var next: [Float], rewards: [Float], penalty = [Float](repeating: 0, count: b)
        var done = [Bool](repeating: false, count: b), members = [Int](repeating: -1, count: b)
        var truth: TrueDynamicsStep? = nil
        if useSimulator, let simulator {
          truth = try simulator.step(states: Array(simStates[(chunkStart * sw)..<((chunkStart + b) * sw)]), actions: a, rows: b)
        }
        if useModel, let model {
          let noise = Tensor.normal([model.members, b, model.targetDim], using: &rng)
          members = (0..<b).map { _ in model.elites[rng.nextInt(below: model.elites.count)] }
          (next, rewards, penalty) = model.step(observations: Tensor(shape: [b, od], scalars: raw), actions: actions,
                                               noise: noise, memberOfRow: members)
          if let truth {
            for i in 0..<(b * od) { next[i] = (1 - lambda) * next[i] + lambda * truth.observations[i] }
            for r in 0..<b { rewards[r] = (1 - lambda) * rewards[r] + lambda * truth.rewards[r] }
          }
          for r in 0..<b { done[r] = terminated(Array(next[(r * od)..<((r + 1) * od)])) }
        } else {
          guard let truth else { throw DynamicsError("rollouts have neither a model nor a simulator") }
          next = truth.observations
          rewards = truth.rewards
          done = truth.terminals
        }
        for r in 0..<b {
          let s2 = Array(next[(r * od)..<((r + 1) * od)])
          guard s2.allSatisfy(\.isFinite), rewards[r].isFinite else {
            let source = members[r] >= 0 ? "elite member \(members[r])" : "the simulator"
            throw DynamicsError("model rollout before update \(updates + 1), step \(t + 1): \(source) predicted a non-finite next state or reward; the run stops here and its last checkpoint is intact")
          }
          var s1n = Array(raw[(r * od)..<((r + 1) * od)]), s2n = s2
          normalizer.apply(&s1n)
          normalizer.apply(&s2n)
          let reward = rewards[r] - penaltyCoefficient * penalty[r]
          buffer.add(observation: s1n, action: Array(a[(r * ad)..<((r + 1) * ad)]), reward: reward * rewardScale,
                     nextObservation: s2n, terminal: done[r])
          transitions += 1
          rewardSum += Double(rewards[r])
          penaltySum += Double(penalty[r])
          if done[r] { terminals += 1; continue }
          nextStates += s2
          if t == settings.rolloutLength - 1 { lastStates += s2n }
          if let truth, let simulator {
            let template = Array(truth.states[(r * sw)..<((r + 1) * sw)])
            nextSimStates += useModel ? simulator.state(fromObservation: s2, template: template) : template
          }
        }
        chunkStart += b
      }
      states = nextStates
      simStates = nextSimStates
      active = states.count / od
      if active == 0 { break }
    }
    finalStates = lastStates
    var metrics: Metrics = ["rollout_transitions": Double(transitions), "rollout_reward_mean": rewardSum / Double(Swift.max(transitions, 1)),
                            "rollout_penalty_mean": penaltySum / Double(Swift.max(transitions, 1)),
                            "rollout_terminal_fraction": Double(terminals) / Double(Swift.max(transitions, 1)),
                            "model_buffer_size": Double(buffer.count)]
    if let value, !lastStates.isEmpty {
      let m = lastStates.count / od
      var sum = 0.0, maximum = -Double.infinity
      var start = 0
      while start < m {
        let b = Swift.min(chunk, m - start)
        let q = withoutGradients { value(Tensor(shape: [b, od], scalars: Array(lastStates[(start * od)..<((start + b) * od)]))) }.scalars
        for v in q { sum += Double(v); maximum = Swift.max(maximum, Double(v)) }
        start += b
      }
      metrics["rollout_last_q_mean"] = sum / Double(m)
      metrics["rollout_last_q_max"] = maximum
    }
    return metrics
  }

  // MARK: Checkpoint

  /// Saves the buffer, the random stream and the schedule under `prefix`.
  public func store(into c: inout Checkpoint, prefix: String = "model_rollouts.") {
    let d = buffer.storage, n = d.count
    c.tensors[prefix + "observations"] = Tensor(shape: [n, d.observationDim], scalars: d.observations)
    c.tensors[prefix + "actions"] = Tensor(shape: [n, d.actionDim], scalars: d.actions)
    c.tensors[prefix + "rewards"] = Tensor(shape: [n], scalars: d.rewards)
    c.tensors[prefix + "next_observations"] = Tensor(shape: [n, d.observationDim], scalars: d.nextObservations)
    c.tensors[prefix + "terminals"] = Tensor(shape: [n], scalars: d.terminals.map { $0 ? 1 : 0 })
    c.metadata[prefix + "cursor"] = String(buffer.cursor)
    c.metadata[prefix + "added"] = String(buffer.added)
    c.metadata[prefix + "updates"] = String(updates)
    c.store(rng, as: prefix + "rng")
  }

  /// Restores what `store(into:prefix:)` saved.
  public mutating func restore(from c: Checkpoint, prefix: String = "model_rollouts.") throws {
    func column(_ key: String, width: Int?, rows: Int?) throws -> Tensor {
      guard let t = c.tensors[prefix + key] else { throw Checkpoint.RestoreError.missing(prefix + key) }
      let n = rows ?? t.shape.first ?? 0
      let expected = width.map { [n, $0] } ?? [n]
      guard t.shape == expected else { throw Checkpoint.RestoreError.shapeMismatch(name: prefix + key, expected: expected, found: t.shape) }
      return t
    }
    let obs = try column("observations", width: observationDim, rows: nil)
    let n = obs.shape[0]
    let act = try column("actions", width: actionDim, rows: n), next = try column("next_observations", width: observationDim, rows: n)
    let rewards = try column("rewards", width: nil, rows: n)
    let terminals = try column("terminals", width: nil, rows: n).scalars.map { $0 != 0 }
    let storage = Dataset(observationDim: observationDim, actionDim: actionDim, observations: obs.scalars, actions: act.scalars,
                          rewards: rewards.scalars, nextObservations: next.scalars, terminals: terminals,
                          timeouts: [Bool](repeating: false, count: terminals.count))
    let cursor = try c.counter(prefix + "cursor"), added = try c.counter(prefix + "added")
    guard let restored = try? ReplayBuffer(capacity: buffer.capacity, storage: storage, cursor: cursor, added: added) else {
      throw Checkpoint.RestoreError.badMetadata(prefix + "cursor")
    }
    let u = try c.counter(prefix + "updates")
    let r = try c.randomStream(prefix + "rng")
    buffer = restored
    updates = u
    rng = r
  }
}
