import Foundation
import StitchAlgorithms
import StitchData
import StitchEnvironments
import StitchNN

import StitchTensor

/// Everything a run carries from step to step, and what its checkpoint holds: the algorithm, the prepared data,
/// the random streams, the counters, the online episode in progress and the metric averages not yet logged.
/// `Trainer.run` drives it phase by phase; one step of each kind of phase is a method here.
///
/// Random streams (split from the run seed by name, so adding one changes no other): "algorithm" (the
/// algorithm's initialisation and noise), "batches" (minibatch draws), "exploration" (random warm-up actions and
/// exploration noise), "env" (episode k resets with `env.split(k).next()`).
struct RunState<A: Algorithm> {
  let options: TrainingOptions
  let phases: [Phase]
  var algorithm: A
  let scaling: ActionScaling
  let normalizer: ObservationNormalizer
  let rewardScale: Float
  /// The dataset as the algorithm sees it (actions in [−1, 1], rewards scaled, observations normalised).
  let dataset: Dataset?
  /// Offline minibatches: the dataset, trajectory-weighted, or mixed with synthetic rows.
  let offlineSource: (any BatchSource)?
  /// The dataset's uniform sampler, for online phases that mix the dataset in.
  let datasetSampler: UniformSampler?
  var batches: RandomStream
  var exploration: RandomStream
  let resets: RandomStream
  var step = 0
  var evaluations: [[Double]] = []
  var averages = MetricAverages()
  var batch: Batch
  // Online interaction.
  var env: any Environment
  var buffer: ReplayBuffer
  var episode = 0
  var episodeSteps = 0
  var episodeReturn = 0.0
  /// The environment's current observation; nil until an online phase enters (or re-enters) its episode.
  var observation: [Double]? = nil
  // Set by the trainer once the run folder is ready.
  var log: MetricsLog? = nil
  var folder: URL? = nil
  var onEvaluation: ((Int, Double, A) throws -> Void)? = nil
  /// γ of the online episodes' returns-to-go (Cal-QL with calibration online); nil: none kept.
  var onlineReturnsDiscount: Float? = nil
  /// The kind of phase the algorithm was last told about (`PhaseObserver`); nil: none yet in this process.
  var notedOnline: Bool? = nil

  /// Prepares the data and builds the algorithm; with a checkpoint, restores the run from it. A resumed run
  /// transforms the dataset with the checkpoint's normaliser and reward scale (the ones it trained with), not
  /// with values refitted from whatever file was passed.
  ///
  /// A fine-tuning run's first start (`pretrained`, the offline run's checkpoint, with no checkpoint of its own)
  /// takes the algorithm's state, the normaliser and the reward scale from the pretrained checkpoint; its own
  /// counters, random streams and replay buffer start fresh.
  init(configuration: A.Configuration, options: TrainingOptions, phases: [Phase], dataset raw: Dataset?,
       synthetic rawSynthetic: Dataset?, checkpoint saved: Checkpoint?, pretrained: Checkpoint? = nil) throws {
    let source = saved ?? pretrained
    self.options = options
    self.phases = phases
    env = try EnvironmentRegistry.make(options.environment)
    let od = env.observationSpace.size, ad = env.actionSpace.size
    scaling = ActionScaling(low: env.actionSpace.low, high: env.actionSpace.high)
    var normalizer = ObservationNormalizer(identity: od)
    var rewardScale: Float = 1
    if let text = source?.metadata["normalizer"] {
      normalizer = try JSONDecoder().decode(ObservationNormalizer.self, from: Data(text.utf8))
    } else if let raw, options.normalizeObservations {
      normalizer = ObservationNormalizer(fitting: raw)
    }
    // The checkpoint's reward scale applies to online rewards too, with or without a dataset (a fine-tuning run
    // that keeps no offline data still scales its rewards as the pretrained run did).
    var savedScale: Float? = nil
    if let text = source?.metadata["reward_scale"] {
      guard let s = Float(text) else { throw Checkpoint.RestoreError.badMetadata("reward_scale") }
      savedScale = s
      rewardScale = s
    }
    var ds: Dataset? = nil, synthetic: Dataset? = nil
    if var data = raw {
      data.transformActions(scaling.normalize)
      if let s = savedScale {
        if s != 1 { RewardTransform.scaleAndShift(&data, scale: s, shift: 0) }
      } else if options.normalizeRewards {
        rewardScale = RewardTransform.normalizeByReturnRange(&data)
      }
      var transformed = normalizer.applied(to: data)
      if let calibrated = configuration as? any UsesReturnsToGo, let discount = calibrated.returnsToGoDiscount {
        // γ as the decimal written in the configuration (0.99, not Float 0.99's 0.9900000095...): CORL's
        // get_return_to_go sums in Python floats.
        transformed.returnsToGo = RewardTransform.returnsToGo(transformed, discount: Double("\(discount)") ?? Double(discount)).map { Float($0) }
      }
      ds = transformed
      if var extra = rawSynthetic {
        extra.transformActions(scaling.normalize)
        if rewardScale != 1 { RewardTransform.scaleAndShift(&extra, scale: rewardScale, shift: 0) }
        synthetic = normalizer.applied(to: extra)
      }
    }
    self.normalizer = normalizer
    self.rewardScale = rewardScale
    dataset = ds
    // Only the samplers this run draws from are built: each copies the dataset into its own row table.
    if let ds, phases.contains(where: { !$0.isOnline }) {
      if let synthetic {
        offlineSource = MixedSource(first: UniformSampler(ds), second: UniformSampler(synthetic), firstFraction: 1 - options.syntheticRatio)
      } else if let temperature = options.returnWeightTemperature {
        offlineSource = try TrajectoryWeightedSampler(ds, temperature: temperature, weighting: options.weightByAdvantage == true ? .advantages : .returns)
      } else {
        offlineSource = UniformSampler(ds)
      }
    } else {
      offlineSource = nil
    }
    // Online phases that mix the dataset in draw uniformly from it: the offline sampler when it is that one.
    let mixesDataset = phases.contains { $0.isOnline && $0.needsDataset }
    datasetSampler = mixesDataset ? (offlineSource as? UniformSampler ?? ds.map(UniformSampler.init)) : nil
    let task = TaskSpec(id: options.environment, observationDim: od, actionDim: ad)
    let root = RandomStream(seed: options.seed)
    algorithm = A(configuration: configuration, task: task, rng: root.child(named: "algorithm"))
    batches = root.child(named: "batches")
    exploration = root.child(named: "exploration")
    resets = root.child(named: "env")
    buffer = ReplayBuffer(capacity: options.replayCapacity, observationDim: od, actionDim: ad)
    batch = Batch(size: options.batchSize, observationDim: od, actionDim: ad)
    if let c = saved {
      try restore(from: c)
    } else if let p = pretrained {
      try algorithm.restore(from: p)
    }
    // Cal-QL as published: online episodes get their returns-to-go when they end (unknown, −∞, until then).
    if let calibrated = configuration as? any UsesReturnsToGo, let discount = calibrated.returnsToGoDiscount, calibrated.returnsToGoOnline {
      buffer.trackReturnsToGo()
      onlineReturnsDiscount = discount
    }
    if var consumer = algorithm as? any TrueDynamicsConsumer, consumer.needsTrueDynamics {
      consumer.attach(trueDynamics: try SimulatorDynamics(environment: options.environment))
      guard let attached = consumer as? A else { throw PhaseError("\(A.id)'s attach(trueDynamics:) changed its type") }
      algorithm = attached
    }
    if let ds, var consumer = algorithm as? any DatasetConsumer {
      try consumer.prepare(dataset: ds, normalizer: normalizer, rewardScale: rewardScale)
      guard let prepared = consumer as? A else { throw PhaseError("\(A.id)'s prepare(dataset:) changed its type") }
      algorithm = prepared
      if let c = prepared as? any TrueDynamicsConsumer, let note = c.trueDynamicsNote {
        FileHandle.standardError.write(Data("note: \(note)\n".utf8))
      }
    }
  }

  var hasOnlinePhase: Bool { phases.contains(where: \.isOnline) }

  /// Tells a `PhaseObserver` algorithm the kind of phase it is in, before its first step there (and again after a
  /// resume, since what it derives from the phase is not checkpointed).
  mutating func notePhase(online: Bool) throws {
    guard notedOnline != online else { return }
    notedOnline = online
    guard var observer = algorithm as? any PhaseObserver else { return }
    observer.phaseChanged(online: online)
    guard let updated = observer as? A else { throw PhaseError("\(A.id)'s phaseChanged(online:) changed its type") }
    algorithm = updated
  }

  // MARK: - One step of each kind of phase

  /// One gradient step on an offline minibatch, then its logging and evaluation.
  mutating func offlineStep(end: Int) throws {
    try notePhase(online: false)
    offlineSource!.sample(into: &batch, using: &batches)
    let m = try algorithm.update(on: batch)
    step += 1
    averages.add(m)
    if step % options.logInterval == 0 || step == end { try log!.append(step: step, averages.take()) }
    if step % options.evaluationInterval == 0 || step == end { try evaluate(online: false) }
  }

  /// One environment step (random during a random warm-up, else the exploring policy), its transition into the
  /// replay buffer, then `updatesPerStep` updates once the warm-up is over.
  mutating func onlineStep(phaseStart: Int, end: Int, updatesPerStep: Int, warmup: Phase.Warmup, data: Phase.OnlineData) throws {
    try notePhase(online: true)
    try enterEpisode()
    let obs = observation!
    let local = step - phaseStart
    let ad = env.actionSpace.size
    let action: [Float]
    if case .random(let k) = warmup, local < k {
      action = (0..<ad).map { _ in exploration.nextFloat() * 2 - 1 }
    } else {
      action = explore(normalizer(obs))
    }
    let s = try env.step(scaling.toEnvironment(action))
    buffer.add(observation: normalizer(obs), action: action, reward: Float(s.reward) * rewardScale,
               nextObservation: normalizer(s.observation), terminal: s.terminated, timeout: s.truncated)
    episodeReturn += s.reward
    observation = s.observation
    step += 1
    episodeSteps += 1
    if s.terminated || s.truncated {
      if let discount = onlineReturnsDiscount { buffer.fillReturnsToGo(episodeSteps: episodeSteps, discount: discount) }
      try log!.append(step: step, ["train_episode_return": episodeReturn])
      episode += 1
      episodeSteps = 0
      episodeReturn = 0
      observation = try env.reset(seed: Self.seed(resets, episode)).observation
    }
    if local + 1 >= warmup.steps {
      for _ in 0..<updatesPerStep {
        switch data {
        case .replay: buffer.sample(into: &batch, using: &batches)
        case .mixed(let fraction) where A.defaultConfiguration is any SplitsBatchAcrossCriticSteps:
          // Online rows first, as WSRL slices its batch across critic steps (`SplitsBatchAcrossCriticSteps`).
          MixedSource(first: buffer, second: datasetSampler!, firstFraction: 1 - fraction).sample(into: &batch, using: &batches)
        case .mixed(let fraction):
          MixedSource(first: datasetSampler!, second: buffer, firstFraction: fraction).sample(into: &batch, using: &batches)
        case .append:
          AppendedSource(first: datasetSampler!, second: buffer).sample(into: &batch, using: &batches)
        }
        averages.add(try algorithm.update(on: batch))
      }
    }
    if step % options.logInterval == 0, !averages.isEmpty { try log!.append(step: step, averages.take()) }
    if step % options.evaluationInterval == 0 || step == end { try evaluate(online: true) }
  }

  /// The exploring action in [−1, 1] for a normalised observation: the algorithm's own sample, plus clipped-box
  /// Gaussian noise N(0, σ²) for deterministic actors (TD3's `expl_noise`, σ = `options.explorationNoise`, 0.1 by
  /// default, in the normalised box whose half-range is 1: TD3's `max_action · expl_noise`).
  mutating func explore(_ normalized: [Float]) -> [Float] {
    let a = algorithm.act(Tensor(shape: [1, normalized.count], scalars: normalized), exploring: true, rng: &exploration).scalars
    guard algorithm.actsDeterministically else { return a }
    let sigma = Float(options.explorationNoise ?? 0.1)
    return a.map { Swift.min(Swift.max($0 + sigma * Float(exploration.nextNormal()), -1), 1) }
  }

  /// Puts the environment in the episode in progress: a reset with the episode's seed, then the actions of its
  /// steps so far (the buffer's last rows) applied again, which puts a deterministic environment back in the same
  /// state without saving simulator internals. A no-op while an episode is running.
  mutating func enterEpisode() throws {
    guard observation == nil else { return }
    var obs = try env.reset(seed: Self.seed(resets, episode)).observation
    let stored = buffer.storage, ad = env.actionSpace.size
    guard episodeSteps <= buffer.count else {
      throw Checkpoint.RestoreError.badMetadata("episode_steps (\(episodeSteps) steps in progress, the replay buffer holds \(buffer.count))")
    }
    for slot in buffer.lastSlots(episodeSteps) {
      let s = try env.step(scaling.toEnvironment(Array(stored.actions[slot * ad ..< (slot + 1) * ad])))
      obs = s.observation
      episodeReturn += s.reward
    }
    observation = obs
  }

  /// The reset seed of episode `k` (its own split of the run's "env" stream).
  static func seed(_ stream: RandomStream, _ k: Int) -> UInt64 {
    var s = stream.split(UInt64(k))
    return s.next()
  }

  // MARK: - Evaluation

  /// Evaluates the deterministic policy (offline and online phases keep the seeds their former trainers used,
  /// so earlier runs' evaluations reproduce).
  mutating func evaluate(online: Bool) throws {
    let seed = options.evaluationSeed(online: online)
    let result = try PolicyEvaluation.run(options.environment, episodes: options.evaluationEpisodes, seed: seed,
                                          policy: AgentPolicy(algorithm, normalizer: normalizer, scaling: scaling))
    let score = result.normalizedScore
    evaluations.append([Double(step), result.meanReturn, score ?? .nan])
    var row: Metrics = ["eval_return": result.meanReturn, "eval_return_std": result.returnStd]
    if let score { row["normalized_score"] = score }
    try log!.append(step: step, row)
    try onEvaluation?(step, result.meanReturn, algorithm)
    try LearningCurve.write(evaluations, label: A.id, task: options.environment, to: folder!.appendingPathComponent("learning_curve.svg"))
  }

  func progressNote(online: Bool) -> String {
    guard let last = evaluations.last else { return "" }
    if online { return String(format: "eval return %.1f", last[1]) }
    return "return \(String(format: "%.1f", last[1]))" + (last[2].isNaN ? "" : String(format: ", score %.1f", last[2]))
  }
}
