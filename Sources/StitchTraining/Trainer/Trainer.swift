import Foundation
import StitchAlgorithms
import StitchData
import StitchEnvironments
import StitchNN

import StitchTensor

/// The one training loop of every algorithm: a run is a sequence of `Phase`s (offline updates, online interaction,
/// and what later methods add) under one trainer, one run folder, one checkpoint and one resume.
///
/// What it owns, so that an algorithm file holds only math:
/// - the data: the dataset's actions mapped into [−1, 1], rewards scaled (`normalizeRewards`), observations
///   normalised (`normalizeObservations`), with the same normaliser, reward scale and action scaling in every
///   phase, online transitions included; minibatches from `BatchSource`s (dataset sampler, synthetic mix,
///   trajectory weighting, replay buffer, dataset/replay mix);
/// - online interaction: episodes with their own reset seeds, random or policy warm-up, `updatesPerStep`
///   updates per environment step, Gaussian exploration noise for deterministic actors (TD3's σ = 0.1 of the
///   half-range of the normalised box, `TrainingOptions.explorationNoise`), terminations stop bootstrapping and
///   time-limit truncations do not (Gymnasium's terminated/truncated split);
/// - evaluation every K steps and at the end of each phase, through an `EpisodePolicy`;
/// - metrics averaged over M steps to `metrics.jsonl`/`metrics.csv`; a checkpoint every C steps, at the end of
///   each phase and on Ctrl-C, holding the algorithm's state list, every random stream, the normaliser, the reward
///   scale, the replay buffer, the episode in progress and the metric averages not yet logged; exact resume.
///
/// Run folder: `config.json` (algorithm, resolved configuration, options with the phases), `checkpoint.safetensors`,
/// `metrics.jsonl`, `metrics.csv`, `learning_curve.svg`, `summary.json`.
///
/// Runs written by the former `OfflineTrainer` (one offline phase) and `OnlineTrainer` (one online phase) are the
/// runs this trainer makes from options without `phases`, bit for bit, and their folders resume here.
public struct Trainer<A: Algorithm> {
  public let configuration: A.Configuration
  public var options: TrainingOptions
  public let folder: URL
  /// Called after each evaluation with (step, mean return, the agent); used to keep behaviour-policy snapshots.
  public var onEvaluation: ((Int, Double, A) throws -> Void)?
  /// Asked before every step whether to checkpoint and stop (default: Ctrl-C was pressed, `StopSignal`).
  public var shouldStop: () -> Bool = { StopSignal.isRequested }

  public init(configuration: A.Configuration, options: TrainingOptions, folder: URL) {
    self.configuration = configuration
    self.options = options
    self.folder = folder
  }

  /// The run's phases: `options.phases`, or for runs that name none (every run before phases existed) one offline
  /// phase of `options.steps` updates, or for an online algorithm one online phase of `options.steps` environment
  /// steps after `options.randomSteps` random ones. When `options.steps` exceeds the phases' total (`train --resume
  /// --until`), the last phase is extended to it.
  public var phases: [Phase] {
    var list = options.phases ?? [AlgorithmRegistry.isOnline(A.self)
      ? .online(environmentSteps: options.steps, updatesPerStep: 1, warmup: .random(steps: options.randomSteps), data: .replay)
      : .offline(updates: options.steps)]
    let total = list.reduce(0) { $0 + $1.length }
    if options.steps > total, let last = list.last { list[list.count - 1] = last.with(length: last.length + options.steps - total) }
    return list
  }

  /// Writes `config.json` for this run.
  public func writeConfig() throws {
    try RunConfigFile(algorithm: A.id, configuration: configuration, options: options).write(to: folder)
  }

  /// Reads a run folder's configuration (for `--resume`).
  public static func load(from folder: URL) throws -> Trainer<A> {
    let saved = try RunConfigFile<A.Configuration>.read(from: folder, defaults: A.defaultConfiguration)
    return Trainer(configuration: saved.configuration, options: saved.options, folder: folder)
  }

  /// Throws a clear error when the dataset's (or the synthetic dataset's) observation/action widths do not fit
  /// the environment; `run` checks first, before it creates the run folder, and `stitch train` before it starts
  /// any seed, so a wrong pairing leaves nothing behind.
  public static func checkWidths(dataset raw: Dataset, synthetic: Dataset?, environment: String) throws {
    let env = try EnvironmentRegistry.make(environment)
    guard env.observationSpace.size == raw.observationDim, env.actionSpace.size == raw.actionDim else {
      throw DatasetError.invalid(file: raw.metadata["source_file"] ?? "dataset",
        problem: "observation/action widths \(raw.observationDim)/\(raw.actionDim) do not match \(environment)'s \(env.observationSpace.size)/\(env.actionSpace.size)")
    }
    if let extra = synthetic, extra.observationDim != raw.observationDim || extra.actionDim != raw.actionDim {
      throw DatasetError.invalid(file: extra.metadata["source_file"] ?? "synthetic dataset",
        problem: "observation/action widths \(extra.observationDim)/\(extra.actionDim) differ from the real dataset's \(raw.observationDim)/\(raw.actionDim)")
    }
  }

  /// Trains through the phases, resuming from the folder's checkpoint when `resume` is true.
  /// - Parameters:
  ///   - raw: the dataset as loaded (needed by offline phases and by online phases that mix it in).
  ///   - rawSynthetic: extra transitions (SynthER) mixed into every offline batch at `options.syntheticRatio`;
  ///     they get the real data's action scaling, reward scale and observation normaliser.
  ///   - progress: receives (step, note) for progress display.
  public func run(dataset raw: Dataset? = nil, synthetic rawSynthetic: Dataset? = nil, resume: Bool = false,
                  progress: ((Int, String) -> Void)? = nil) throws -> RunSummary {
    let start = Date()
    // OpenBLAS at one thread, the threading model (README): its own threads change the last bits of a product, and
    // Debian's build starts with one per core, so a library caller (or a test process) that never set it would
    // train with bits that depend on when something else in the process did.
    BLAS.threads = 1
    let savedLanes = ProductLanes.current
    ProductLanes.current = options.productLanes ?? 1
    let savedPlan = ProductLanes.plan
    // A resumed run keeps the plan it recorded (none: OpenBLAS alone, what runs before backends used); a new one
    // runs under its options' plan, else the process's, and records it below.
    let plan = resume ? options.recordedSgemmPlan : (options.sgemmPlan.flatMap(GemmPlan.init(id:)) ?? BLAS.gemmPlan)
    ProductLanes.plan = plan
    defer { ProductLanes.current = savedLanes; ProductLanes.plan = savedPlan }
    if let named = options.phases { try Phase.check(named) }
    let phases = self.phases
    try Phase.check(phases)
    if phases.contains(where: \.needsDataset), raw == nil {
      throw PhaseError("this run's phases (\(phases.map(\.description).joined(separator: "; "))) need a dataset")
    }
    if let sigma = options.explorationNoise, !(sigma.isFinite && sigma >= 0) {
      throw PhaseError("the exploration noise σ must be a finite number ≥ 0, got \(sigma)")
    }
    if rawSynthetic != nil, !phases.contains(where: { !$0.isOnline }) {
      throw PhaseError("synthetic data mixes into offline phases; this run has none")
    }
    if let raw { try Self.checkWidths(dataset: raw, synthetic: rawSynthetic, environment: options.environment) }
    var options = self.options
    func identity(_ data: Dataset?) -> DatasetIdentity? { data.map { DatasetIdentity($0, path: $0.metadata["source_file"] ?? "(in memory)") } }
    if resume {
      // Hashed only when the run recorded its data (runs written before identities were have none to compare).
      if options.dataset != nil || options.synthetic != nil {
        try options.refuseOtherData(folder: folder, dataset: identity(raw), synthetic: identity(rawSynthetic))
      }
    } else {
      // Recorded here for library callers; `stitch train` records them with the file's path before it starts.
      if options.dataset == nil { options.dataset = identity(raw) }
      if options.synthetic == nil { options.synthetic = identity(rawSynthetic) }
      options.sgemmPlan = plan.id
    }
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let lock = try RunLock.acquire(folder)
    defer { withExtendedLifetime(lock) {} }
    let checkpointURL = folder.appendingPathComponent("checkpoint.safetensors")
    let saved = resume ? try Checkpoint.read(from: checkpointURL) : nil
    let pretrained = try saved == nil ? options.pretrained.map { try Self.pretrainedCheckpoint($0) } : nil

    var state = try RunState<A>(configuration: configuration, options: options, phases: phases, dataset: raw,
                                synthetic: rawSynthetic, checkpoint: saved, pretrained: pretrained)
    if !resume { try RunConfigFile(algorithm: A.id, configuration: configuration, options: options).write(to: folder) }
    let log = try MetricsLog(folder: folder, resumeStep: resume ? state.step : nil)
    state.log = log
    state.folder = folder
    state.onEvaluation = onEvaluation

    // A fine-tuning run's curve starts with the pretrained policy, evaluated as the online phase evaluates.
    if !resume, options.pretrained != nil, state.step == 0, phases.first?.isOnline == true {
      try state.evaluate(online: true)
      try state.save(to: checkpointURL)
    }
    var stopped = false
    var phaseStart = 0
    run: for phase in phases {
      let end = phaseStart + phase.length
      defer { phaseStart = end }
      guard state.step < end else { continue }
      while state.step < end {
        if shouldStop() { stopped = true; break run }
        switch phase {
        case .offline:
          try state.offlineStep(end: end)
        case .online(_, let updates, let warmup, let data):
          try state.onlineStep(phaseStart: phaseStart, end: end, updatesPerStep: updates, warmup: warmup, data: data)
        }
        if state.step % options.checkpointInterval == 0 || state.step == end { try state.save(to: checkpointURL) }
        progress?(state.step, state.progressNote(online: phase.isOnline))
      }
    }
    if stopped { try state.save(to: checkpointURL) }
    let evaluations = state.evaluations
    let scores = evaluations.map { $0[2] }.filter { !$0.isNaN }
    var summary = RunSummary(algorithm: A.id, environment: options.environment, seed: options.seed, steps: state.step,
                             finalReturn: evaluations.last?[1], finalNormalizedScore: scores.last, bestNormalizedScore: scores.max(),
                             evaluations: evaluations, seconds: Date().timeIntervalSince(start), stoppedEarly: stopped)
    if let start = options.pretrained {
      summary.fineTuning = FineTuningSummary(pretrained: start, onlineSteps: phases.reduce(0) { $0 + $1.length }, evaluations: evaluations)
    }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try AtomicFile.write(encoder.encode(summary), to: folder.appendingPathComponent("summary.json"))
    return summary
  }

  /// A fine-tuning run's pretrained checkpoint, refused when it is another algorithm's (its state would not fit).
  static func pretrainedCheckpoint(_ start: PretrainedStart) throws -> Checkpoint {
    let c: Checkpoint
    do { c = try Checkpoint.read(from: start.checkpointURL) } catch {
      throw RunFolderError("the pretrained run \(start.folder) has no readable checkpoint.safetensors: \(error)")
    }
    if let id = c.metadata["algorithm"], id != A.id {
      throw RunFolderError("the pretrained checkpoint in \(start.folder) is \(id)'s, not \(A.id)'s")
    }
    return c
  }

  /// The replay buffer saved in a checkpoint (flags as 0/1 Float32 columns).
  public static func replayBuffer(from c: Checkpoint, capacity: Int) throws -> ReplayBuffer {
    try RunState<A>.replayBuffer(from: c, capacity: capacity)
  }
}

/// The trainer's former names, one per kind of run: every run is now a `Trainer` with phases, and a run folder
/// either of them wrote resumes under `Trainer`.
public typealias OfflineTrainer<A: Algorithm> = Trainer<A>
public typealias OnlineTrainer<A: Algorithm> = Trainer<A>
