import Foundation
import StitchAlgorithms
import StitchData
import StitchDiffusion
import StitchEnvironments
import StitchNN
import StitchTensor

/// The offline training loop shared by every algorithm: minibatches from a fixed dataset, evaluation every K
/// steps, metrics every M steps to `metrics.jsonl`/`metrics.csv`, a checkpoint every C steps and at the end,
/// exact resume, a clean stop on Ctrl-C, and a learning-curve plot.
///
/// Run folder: `config.json` (algorithm, resolved configuration, options), `checkpoint.safetensors` (networks,
/// optimizers, counters, random streams, normaliser), `metrics.jsonl`, `metrics.csv`, `learning_curve.svg`,
/// `summary.json`.
public struct OfflineTrainer<A: Algorithm> {
  public let configuration: A.Configuration
  public var options: TrainingOptions
  public let folder: URL
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
  public static func load(from folder: URL) throws -> OfflineTrainer<A> {
    let saved = try RunConfigFile<A.Configuration>.read(from: folder)
    return OfflineTrainer(configuration: saved.configuration, options: saved.options, folder: folder)
  }

  /// Throws a clear error when the dataset's (or the synthetic dataset's) observation/action widths do not fit
  /// the environment; run() checks first, before it creates the run folder, and `stitch train` before it starts
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

  /// Trains on `dataset` (raw, as loaded), resuming from the folder's checkpoint when `resume` is true.
  /// - Parameter progress: receives (step, note) for progress display.
  /// - Parameter synthetic: extra transitions (SynthER) mixed into every batch at `options.syntheticRatio`; they
  ///   get the real data's action scaling, reward scale and observation normalizer.
  public func run(dataset raw: Dataset, synthetic rawSynthetic: Dataset? = nil, resume: Bool = false,
                  progress: ((Int, String) -> Void)? = nil) throws -> RunSummary {
    let start = Date()
    let savedLanes = ProductLanes.current
    ProductLanes.current = options.productLanes ?? 1
    defer { ProductLanes.current = savedLanes }
    try Self.checkWidths(dataset: raw, synthetic: rawSynthetic, environment: options.environment)
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    var env = try EnvironmentRegistry.make(options.environment)
    _ = try env.reset(seed: 0)
    let scaling = ActionScaling(low: env.actionSpace.low, high: env.actionSpace.high)
    var ds = raw
    scaling.normalize(&ds.actions)
    var rewardScale: Float = 1
    if options.normalizeRewards { rewardScale = RewardTransform.normalizeByReturnRange(&ds) }
    let normalizer = options.normalizeObservations ? ObservationNormalizer(fitting: raw) : ObservationNormalizer(identity: raw.observationDim)
    ds = normalizer.applied(to: ds)
    var synthetic: Dataset? = nil
    if var extra = rawSynthetic {
      scaling.normalize(&extra.actions)
      if rewardScale != 1 { RewardTransform.scaleAndShift(&extra, scale: rewardScale, shift: 0) }
      synthetic = normalizer.applied(to: extra)
    }
    let task = TaskSpec(id: options.environment, observationDim: ds.observationDim, actionDim: ds.actionDim)
    let root = RandomStream(seed: options.seed)
    var algorithm = A(configuration: configuration, task: task, rng: root.child(named: "algorithm"))
    var batches = root.child(named: "batches")
    var step = 0
    var evaluations: [[Double]] = []
    let checkpointURL = folder.appendingPathComponent("checkpoint.safetensors")
    if resume {
      let c = try Checkpoint.read(from: checkpointURL)
      try algorithm.restore(from: c)
      batches = try c.randomStream("batch_rng")
      step = try c.counter("step")
      evaluations = try EvaluationRecords.decode(c.metadata["evaluations"] ?? "[]")
    } else {
      try writeConfig()
    }
    let log = try MetricsLog(folder: folder, resumeStep: resume ? step : nil)
    // Only the sampler this run draws from is built: each one copies the dataset into its own row table.
    let draw: (inout Batch, inout RandomStream) -> Void
    if let synthetic {
      let mixed = MixedDatasetSampler(real: ds, synthetic: synthetic, ratio: options.syntheticRatio)
      draw = { mixed.sample(into: &$0, using: &$1) }
    } else if let temperature = options.returnWeightTemperature {
      let weighted = try TrajectoryWeightedSampler(ds, temperature: temperature, weighting: options.weightByAdvantage == true ? .advantages : .returns)
      draw = { weighted.sample(into: &$0, using: &$1) }
    } else {
      let uniform = UniformSampler(ds)
      draw = { uniform.sample(into: &$0, using: &$1) }
    }
    var batch = Batch(size: options.batchSize, observationDim: ds.observationDim, actionDim: ds.actionDim)
    var averages = MetricAverages()

    func save() throws {
      var c = Checkpoint()
      algorithm.store(into: &c)
      c.store(batches, as: "batch_rng")
      c.metadata["step"] = String(step)
      c.metadata["algorithm"] = A.id
      c.metadata["environment"] = options.environment
      c.metadata["normalizer"] = try Checkpoint.json(normalizer)
      c.metadata["action_scaling"] = try Checkpoint.json(scaling)
      c.metadata["evaluations"] = try EvaluationRecords.encode(evaluations)
      c.metadata["stitch_version"] = StitchVersion.string
      try c.write(to: checkpointURL)
    }

    func evaluate() throws {
      let agent = SharedValue(algorithm)
      let result = try PolicyEvaluation.run(options.environment, episodes: options.evaluationEpisodes,
                                            seed: options.seed &* 1_000_003 &+ 12_345) { obs in
        var unused = RandomStream(seed: 0)
        let a = agent.value.act(Tensor(shape: [1, obs.count], scalars: normalizer(obs)), exploring: false, rng: &unused)
        return scaling.toEnvironment(a.scalars)
      }
      let score = result.normalizedScore
      evaluations.append([Double(step), result.meanReturn, score ?? .nan])
      var row: [String: Double] = ["eval_return": result.meanReturn, "eval_return_std": result.returnStd]
      if let score { row["normalized_score"] = score }
      try log.append(step: step, row)
      try LearningCurve.write(evaluations, label: A.id, task: options.environment, to: folder.appendingPathComponent("learning_curve.svg"))
    }

    var stopped = false
    while step < options.steps {
      if shouldStop() { stopped = true; break }
      draw(&batch, &batches)
      let m = try algorithm.update(on: batch)
      step += 1
      averages.add(m)
      if step % options.logInterval == 0 || step == options.steps {
        try log.append(step: step, averages.take())
      }
      if step % options.evaluationInterval == 0 || step == options.steps { try evaluate() }
      if step % options.checkpointInterval == 0 || step == options.steps { try save() }
      progress?(step, evaluations.last.map { "return \(String(format: "%.1f", $0[1]))" + ($0[2].isNaN ? "" : String(format: ", score %.1f", $0[2])) } ?? "")
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

/// Writes learning-curve plots from evaluation records.
public enum LearningCurve {
  /// One curve (one seed) from [step, return, score] rows; plots the normalized score when every row has one,
  /// otherwise the return.
  public static func write(_ evaluations: [[Double]], label: String, task: String, to url: URL) throws {
    try write(seeds: [evaluations], label: label, task: task, to: url)
  }

  /// Mean and spread over seeds, aligned by step.
  public static func write(seeds: [[[Double]]], label: String, task: String, to url: URL) throws {
    let useScore = seeds.allSatisfy { $0.allSatisfy { !$0[2].isNaN } }
    var byStep: [Double: [Double]] = [:]
    for run in seeds { for row in run { byStep[row[0], default: []].append(useScore ? row[2] : row[1]) } }
    var plot = LearningCurvePlot(title: "\(label) on \(task)", curves: [
      LearningCurvePlot.Curve(label: label, points: byStep.keys.sorted().map { (step: $0, values: byStep[$0]!) }),
    ])
    plot.yLabel = useScore ? "normalized score" : "episode return"
    try AtomicFile.write(plot.svg(), to: url)
  }
}
