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

  public init() {}

  func check(_ checks: inout ConfigChecks) {
    checks.atLeast("rollout_length", rolloutLength, 1)
    checks.atLeast("rollout_batch_size", rolloutBatchSize, 1)
    checks.atLeast("rollout_frequency", rolloutFrequency, 1)
    checks.atLeast("model_retain_epochs", modelRetainEpochs, 1)
    checks.require(realRatio >= 0 && realRatio <= 1, "real_ratio", realRatio, "must lie in [0, 1]")
  }
}

/// The model side of a model-based agent: the learned dynamics, the dataset's states as rollout starts, the
/// model buffer, and the mix of dataset and model rows in each minibatch.
///
/// A rollout epoch (OfflineRL-Kit `MOPOPolicy.rollout`, EOR `generate_rollouts`): draw `rolloutBatchSize` start
/// states from the dataset (uniformly with replacement, as OfflineRL-Kit's `real_buffer.sample`); for h steps,
/// sample a ~ π(·|s) with the current stochastic policy, step the model (`DynamicsEnsemble.step`: a random elite
/// per row, the Gaussian sample of [Δs, r]), reward r − λ·u(s, a) (MOPO; λ = 0 otherwise), terminal by the task's
/// rule on the raw next state, store the transition, and continue only the rows that did not terminate. The
/// buffer is a FIFO of capacity batch · h · retain. The model works in raw units; stored transitions are in the
/// agent's units (normalised observations, rewards × the run's reward scale).
public struct ModelRollouts: Sendable {
  public let settings: ModelRolloutSettings
  public let penaltyCoefficient: Float
  public private(set) var model: DynamicsEnsemble?
  public private(set) var buffer: ReplayBuffer
  var rng: RandomStream
  /// Updates seen so far (the rollout schedule).
  public private(set) var updates = 0
  /// Raw dataset states the rollouts start from.
  var startStates: [Float] = []
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

  /// Loads the dynamics model and takes the dataset's states (what `DatasetConsumer.prepare` receives).
  public mutating func prepare(dataset: Dataset, normalizer: ObservationNormalizer, rewardScale: Float) throws {
    guard !settings.dynamicsModel.isEmpty else { throw DynamicsError(Self.missingModel) }
    let (m, _) = try DynamicsModelFile.read(URL(fileURLWithPath: settings.dynamicsModel), expectedTask: environment,
                                             observationDim: observationDim, actionDim: actionDim)
    model = m
    self.normalizer = normalizer
    self.rewardScale = rewardScale
    startStates = dataset.observations
    let d = observationDim
    for i in 0..<startStates.count { startStates[i] = startStates[i] * (normalizer.std[i % d] + normalizer.epsilon) + normalizer.mean[i % d] }
  }

  /// The one-line error for a run without `dynamics_model`.
  public static let missingModel = "a model-based agent needs a dynamics model: make one with `stitch dynamics train --dataset D --env E -o model.safetensors`, then pass --set dynamics_model=model.safetensors"

  /// Rows of a minibatch of `size` that come from the dataset: ⌊real_ratio · size⌋ (OfflineRL-Kit
  /// `real_sample_size = int(batch_size * real_ratio)`), the first rows of the batch.
  public func realRows(of size: Int) -> Int { Int(Double(size) * settings.realRatio) }

  /// Before an update: runs a rollout epoch when one is due (every `rolloutFrequency` updates, the first before
  /// the first update), then overwrites the minibatch's model rows with draws from the model buffer.
  /// - Parameter policy: the agent's exploring action for a batch of (normalised) observations.
  /// - Returns: the rollout's metrics when one ran.
  public mutating func mix(into batch: inout Batch, policy: (Tensor, inout RandomStream) -> Tensor) throws -> Metrics {
    var metrics: Metrics = [:]
    if updates % settings.rolloutFrequency == 0 { metrics = try rollout(policy: policy) }
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
  public mutating func rollout(policy: (Tensor, inout RandomStream) -> Tensor) throws -> Metrics {
    guard let model else { throw DynamicsError("the model-based agent was not prepared with a dataset and a dynamics model") }
    guard !startStates.isEmpty else { throw DynamicsError("no start states: the dataset is empty") }
    let od = observationDim, ad = actionDim, n = startStates.count / od
    var states = [Float](repeating: 0, count: settings.rolloutBatchSize * od)
    for r in 0..<settings.rolloutBatchSize {
      let i = rng.nextInt(below: n)
      for k in 0..<od { states[r * od + k] = startStates[i * od + k] }
    }
    var active = settings.rolloutBatchSize
    var transitions = 0, terminals = 0
    var rewardSum = 0.0, penaltySum = 0.0
    let chunk = 8192
    for t in 0..<settings.rolloutLength {
      var nextStates: [Float] = []
      nextStates.reserveCapacity(active * od)
      var chunkStart = 0
      while chunkStart < active {
        let b = Swift.min(chunk, active - chunkStart)
        let raw = Array(states[(chunkStart * od)..<((chunkStart + b) * od)])
        var normalised = raw
        normalizer.apply(&normalised)
        let actions = policy(Tensor(shape: [b, od], scalars: normalised), &rng)
        let noise = Tensor.normal([model.members, b, model.targetDim], using: &rng)
        let members = (0..<b).map { _ in model.elites[rng.nextInt(below: model.elites.count)] }
        let (next, rewards, penalty) = model.step(observations: Tensor(shape: [b, od], scalars: raw), actions: actions,
                                                  noise: noise, memberOfRow: members)
        let a = actions.scalars
        for r in 0..<b {
          let s2 = Array(next[(r * od)..<((r + 1) * od)])
          guard s2.allSatisfy(\.isFinite), rewards[r].isFinite else {
            throw DynamicsError("model rollout before update \(updates + 1), step \(t + 1): elite member \(members[r]) predicted a non-finite next state or reward; the run stops here and its last checkpoint is intact")
          }
          let done = terminated(s2)
          var s1n = Array(raw[(r * od)..<((r + 1) * od)]), s2n = s2
          normalizer.apply(&s1n)
          normalizer.apply(&s2n)
          let reward = rewards[r] - penaltyCoefficient * penalty[r]
          buffer.add(observation: s1n, action: Array(a[(r * ad)..<((r + 1) * ad)]), reward: reward * rewardScale,
                     nextObservation: s2n, terminal: done)
          transitions += 1
          rewardSum += Double(rewards[r])
          penaltySum += Double(penalty[r])
          if done { terminals += 1 } else { nextStates += s2 }
        }
        chunkStart += b
      }
      states = nextStates
      active = states.count / od
      if active == 0 { break }
    }
    return ["rollout_transitions": Double(transitions), "rollout_reward_mean": rewardSum / Double(Swift.max(transitions, 1)),
            "rollout_penalty_mean": penaltySum / Double(Swift.max(transitions, 1)),
            "rollout_terminal_fraction": Double(terminals) / Double(Swift.max(transitions, 1)),
            "model_buffer_size": Double(buffer.count)]
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
