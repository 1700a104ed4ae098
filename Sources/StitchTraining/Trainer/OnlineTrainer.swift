import Foundation
import StitchAlgorithms
import StitchData
import StitchDiffusion
import StitchEnvironments
import StitchNN
import StitchTensor

/// The online training loop (SAC): act in the environment, store transitions in a replay buffer, update once per
/// environment step after `randomSteps` uniformly random steps, evaluate every K steps, checkpoint, and export the
/// policy at given steps (how Stitch's behaviour policies are made).
///
/// Terminations stop bootstrapping; time-limit truncations do not (the transition is stored with terminal = 0),
/// as Gymnasium's terminated/truncated split intends.
public struct OnlineTrainer<A: Algorithm> {
  public let configuration: A.Configuration
  public var options: TrainingOptions
  public let folder: URL
  /// Called after each evaluation with (step, mean return); used to keep behaviour-policy snapshots.
  public var onEvaluation: ((Int, Double, A) throws -> Void)?
  /// Asked before every step whether to checkpoint and stop (default: Ctrl-C was pressed, `StopSignal`).
  public var shouldStop: () -> Bool = { StopSignal.isRequested }

  public init(configuration: A.Configuration, options: TrainingOptions, folder: URL) {
    self.configuration = configuration
    self.options = options
    self.folder = folder
  }

  /// Writes `config.json` for this run.
  public func writeConfig() throws {
    try RunConfigFile(algorithm: A.id, configuration: configuration, options: options).write(to: folder)
  }

  /// Reads a run folder's configuration (for `--resume`).
  public static func load(from folder: URL) throws -> OnlineTrainer<A> {
    let saved = try RunConfigFile<A.Configuration>.read(from: folder)
    return OnlineTrainer(configuration: saved.configuration, options: saved.options, folder: folder)
  }

  /// Stores the replay buffer's slots, cursor and count in a checkpoint (flags as 0/1 Float32 columns).
  static func store(_ buffer: ReplayBuffer, into c: inout Checkpoint) {
    let d = buffer.storage, n = d.count
    c.tensors["replay.observations"] = Tensor(shape: [n, d.observationDim], scalars: d.observations)
    c.tensors["replay.actions"] = Tensor(shape: [n, d.actionDim], scalars: d.actions)
    c.tensors["replay.rewards"] = Tensor(shape: [n], scalars: d.rewards)
    c.tensors["replay.next_observations"] = Tensor(shape: [n, d.observationDim], scalars: d.nextObservations)
    c.tensors["replay.terminals"] = Tensor(shape: [n], scalars: d.terminals.map { $0 ? 1 : 0 })
    c.tensors["replay.timeouts"] = Tensor(shape: [n], scalars: d.timeouts.map { $0 ? 1 : 0 })
    c.metadata["replay_cursor"] = String(buffer.cursor)
    c.metadata["replay_added"] = String(buffer.added)
  }

  /// The replay buffer saved in a checkpoint by `store(_:into:)`.
  public static func replayBuffer(from c: Checkpoint, capacity: Int) throws -> ReplayBuffer {
    func column(_ key: String) throws -> Tensor {
      guard let t = c.tensors["replay." + key] else { throw Checkpoint.RestoreError.missing("replay." + key) }
      return t
    }
    let obs = try column("observations"), act = try column("actions")
    guard obs.shape.count == 2, act.shape.count == 2 else {
      throw DatasetError.invalid(file: "replay buffer", problem: "observations/actions are not matrices (\(obs.shape), \(act.shape))")
    }
    let storage = Dataset(observationDim: obs.shape[1], actionDim: act.shape[1], observations: obs.scalars, actions: act.scalars,
                          rewards: try column("rewards").scalars, nextObservations: try column("next_observations").scalars,
                          terminals: try column("terminals").scalars.map { $0 != 0 }, timeouts: try column("timeouts").scalars.map { $0 != 0 })
    return try ReplayBuffer(capacity: capacity, storage: storage, cursor: try c.counter("replay_cursor"), added: try c.counter("replay_added"))
  }

  /// The reset seed of episode `k` (its own split of the run's "env" stream).
  static func seed(_ stream: RandomStream, _ k: Int) -> UInt64 {
    var s = stream.split(UInt64(k))
    return s.next()
  }

  /// Runs the loop; with `resume`, continues from the folder's checkpoint exactly where it stopped: networks,
  /// optimizers, random streams, replay buffer and counters come from the checkpoint, and the episode in progress
  /// is re-entered by resetting with its seed and re-applying its actions (the buffer's last rows), which puts a
  /// deterministic environment back in the same state without saving simulator internals.
  public func run(resume: Bool = false, progress: ((Int, String) -> Void)? = nil) throws -> RunSummary {
    let start = Date()
    let savedLanes = ProductLanes.current
    ProductLanes.current = options.productLanes ?? 1
    defer { ProductLanes.current = savedLanes }
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    var env = try EnvironmentRegistry.make(options.environment)
    let scaling = ActionScaling(low: env.actionSpace.low, high: env.actionSpace.high)
    let od = env.observationSpace.size, ad = env.actionSpace.size
    let task = TaskSpec(id: options.environment, observationDim: od, actionDim: ad)
    let root = RandomStream(seed: options.seed)
    var algorithm = A(configuration: configuration, task: task, rng: root.child(named: "algorithm"))
    var batches = root.child(named: "batches"), exploration = root.child(named: "exploration")
    let resets = root.child(named: "env")
    var buffer = ReplayBuffer(capacity: options.replayCapacity, observationDim: od, actionDim: ad)
    var batch = Batch(size: options.batchSize, observationDim: od, actionDim: ad)
    let checkpointURL = folder.appendingPathComponent("checkpoint.safetensors")
    var episode = 0
    var episodeSteps = 0
    var episodeReturn = 0.0
    var evaluations: [[Double]] = []
    var averages = MetricAverages()
    var step = 0
    var stopped = false
    var obs: [Double]
    if resume {
      let c = try Checkpoint.read(from: checkpointURL)
      try algorithm.restore(from: c)
      batches = try c.randomStream("batch_rng")
      exploration = try c.randomStream("exploration_rng")
      step = try c.counter("step")
      episode = try c.counter("episode")
      episodeSteps = try c.counter("episode_steps")
      evaluations = try EvaluationRecords.decode(c.metadata["evaluations"] ?? "[]")
      buffer = try Self.replayBuffer(from: c, capacity: options.replayCapacity)
      obs = try env.reset(seed: Self.seed(resets, episode)).observation
      let stored = buffer.storage
      for slot in buffer.lastSlots(episodeSteps) {
        let s = try env.step(scaling.toEnvironment(Array(stored.actions[slot * ad ..< (slot + 1) * ad])))
        obs = s.observation
        episodeReturn += s.reward
      }
    } else {
      try writeConfig()
      obs = try env.reset(seed: Self.seed(resets, episode)).observation
    }
    let log = try MetricsLog(folder: folder, resumeStep: resume ? step : nil)

    func save() throws {
      var c = Checkpoint()
      algorithm.store(into: &c)
      c.store(batches, as: "batch_rng")
      c.store(exploration, as: "exploration_rng")
      Self.store(buffer, into: &c)
      c.metadata["step"] = String(step)
      c.metadata["episode"] = String(episode)
      c.metadata["episode_steps"] = String(episodeSteps)
      c.metadata["algorithm"] = A.id
      c.metadata["environment"] = options.environment
      c.metadata["action_scaling"] = try Checkpoint.json(scaling)
      c.metadata["normalizer"] = try Checkpoint.json(ObservationNormalizer(identity: od))
      c.metadata["evaluations"] = try EvaluationRecords.encode(evaluations)
      c.metadata["stitch_version"] = StitchVersion.string
      try c.write(to: checkpointURL)
    }

    while step < options.steps {
      if shouldStop() { stopped = true; break }
      let action: [Float]
      if step < options.randomSteps {
        action = (0..<ad).map { _ in exploration.nextFloat() * 2 - 1 }
      } else {
        action = algorithm.act(Tensor(shape: [1, od], scalars: obs.map(Float.init)), exploring: true, rng: &exploration).scalars
      }
      let s = try env.step(scaling.toEnvironment(action))
      buffer.add(observation: obs.map(Float.init), action: action, reward: Float(s.reward),
                 nextObservation: s.observation.map(Float.init), terminal: s.terminated, timeout: s.truncated)
      episodeReturn += s.reward
      obs = s.observation
      step += 1
      episodeSteps += 1
      if s.terminated || s.truncated {
        try log.append(step: step, ["train_episode_return": episodeReturn])
        episode += 1
        episodeSteps = 0
        episodeReturn = 0
        obs = try env.reset(seed: Self.seed(resets, episode)).observation
      }
      if step >= options.randomSteps {
        buffer.sample(into: &batch, using: &batches)
        averages.add(try algorithm.update(on: batch))
      }
      if step % options.logInterval == 0, !averages.isEmpty {
        try log.append(step: step, averages.take())
      }
      if step % options.evaluationInterval == 0 || step == options.steps {
        let agent = SharedValue(algorithm)
        let result = try PolicyEvaluation.run(options.environment, episodes: options.evaluationEpisodes, seed: options.seed &+ 999_983) { o in
          var unused = RandomStream(seed: 0)
          return scaling.toEnvironment(agent.value.act(Tensor(shape: [1, o.count], scalars: o.map(Float.init)), exploring: false, rng: &unused).scalars)
        }
        evaluations.append([Double(step), result.meanReturn, result.normalizedScore ?? .nan])
        var row: Metrics = ["eval_return": result.meanReturn]
        if let score = result.normalizedScore { row["normalized_score"] = score }
        try log.append(step: step, row)
        try onEvaluation?(step, result.meanReturn, algorithm)
        try LearningCurve.write(evaluations, label: A.id, task: options.environment, to: folder.appendingPathComponent("learning_curve.svg"))
      }
      if step % options.checkpointInterval == 0 || step == options.steps { try save() }
      progress?(step, evaluations.last.map { String(format: "eval return %.1f", $0[1]) } ?? "")
    }
    if stopped { try save() }
    let scores = evaluations.map { $0[2] }.filter { !$0.isNaN }
    let summary = RunSummary(algorithm: A.id, environment: options.environment, seed: options.seed, steps: step,
                             finalReturn: evaluations.last?[1], finalNormalizedScore: scores.last, bestNormalizedScore: scores.max(),
                             evaluations: evaluations, seconds: Date().timeIntervalSince(start), stoppedEarly: stopped)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try AtomicFile.write(encoder.encode(summary), to: folder.appendingPathComponent("summary.json"))
    return summary
  }
}
