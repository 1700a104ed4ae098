import ArgumentParser
import Dispatch
import Foundation

import Stitch

/// `stitch train`: train an algorithm offline from a dataset, or online (SAC) in an environment.
struct TrainCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "train",
    abstract: "Train an agent: offline from a D4RL-layout dataset, or online (sac; rlpd with a dataset) in an environment.",
    discussion: """
      Algorithms: \(AlgorithmRegistry.all.map { "\($0.id) (\($0.summary))" }.joined(separator: "; ")).
      Hyperparameters have the papers' defaults; change them with --config FILE (JSON or flat TOML) and
      --set key=value (snake_case keys; `--list-config` prints them). Several seeds run in parallel; each writes
      RUN/seed_K/ with config.json, metrics.jsonl, metrics.csv, checkpoint.safetensors, learning_curve.svg and
      summary.json, and RUN/learning_curve.svg shows mean and spread over seeds.
      Example:
        stitch train --algo td3bc --dataset data/pendulum-medium.hdf5 --env Pendulum-v1 --steps 20000 --seeds 0,1 --out runs/td3bc
        stitch train --algo sac --env Pendulum-v1 --steps 15000 --out runs/sac
        stitch train --algo rlpd --dataset data/hopper-medium.hdf5 --env Hopper-v4 --steps 250000 --out runs/rlpd   # online, half of each batch from the dataset
        stitch train --algo iql --dataset data/hopper-medium.hdf5 --env Hopper-v4 --preset hopper-medium --out runs/iql   # CORL's hopper-medium settings
        stitch train --resume runs/td3bc/seed_0 --dataset data/pendulum-medium.hdf5
        stitch train --resume runs/td3bc/seed_0 --dataset data/pendulum-medium.hdf5 --until 40000   # extend a finished run
        stitch train --resume runs/td3bc --dataset data/pendulum-medium.hdf5   # every unfinished seed of the run, in parallel
        stitch train --algo td3bc --dataset data/pendulum-medium.hdf5 --synthetic data/pendulum-synth.hdf5 --synthetic-ratio 0.5 --env Pendulum-v1
        stitch train --algo iql --dataset data/pendulum-medium-replay.hdf5 --env Pendulum-v1 --return-weighted 0.1
      """)

  @Option(help: ArgumentHelp("Algorithm id (\(AlgorithmRegistry.all.map { $0.id }.joined(separator: ", "))).")) var algo: String?
  @Option(help: "D4RL-layout HDF5 dataset (offline algorithms).") var dataset: String?
  @Option(help: "Evaluation environment id, e.g. Pendulum-v1.") var env: String?
  // Loop settings are optional so that `--resume`, which keeps the run's own, can tell a given one from a default
  // and refuse it; the defaults are applied in `steps` etc. below.
  @Option(name: .customLong("steps"), help: "Gradient steps (offline) or environment steps (online) (default: 1000000).") var stepsOption: Int?
  @Option(name: .customLong("seeds"), help: "Comma-separated seeds, trained in parallel up to the number of cores (default: 0).") var seedsOption: String?
  @Option(name: [.short, .customLong("out")], help: "Run folder (default: runs/run).") var outOption: String?
  @Option(name: .customLong("eval-every"), help: "Evaluate every N steps (default: 5000).") var evalEveryOption: Int?
  @Option(name: .customLong("eval-episodes"), help: "Episodes per evaluation (default: 10).") var evalEpisodesOption: Int?
  @Option(name: .customLong("checkpoint-every"), help: "Checkpoint every N steps (default: 50000).") var checkpointEveryOption: Int?
  @Option(help: ArgumentHelp("Write averaged training metrics (losses, Q, temperature) every N steps (default: min(1000, steps/20)).", valueName: "N"))
  var logEvery: Int?
  @Option(help: "Minibatch size (default: the algorithm's reference value, 256; rebrac 1024).") var batchSize: Int?
  @Option(help: ArgumentHelp("Per-dataset settings for a D4RL dataset name, e.g. hopper-medium: CORL's configs/offline/ALGO/ENV/KIND_v2.yaml, or OfflineRL-Kit's (h, λ/β) for mopo and mobile; --config and --set still override them.", valueName: "DATASET"))
  var preset: String?
  @Option(help: ArgumentHelp("Model-based agents: what the rollouts step, 'model' (the learned ensemble of dynamics_model) or 'true' (the simulator, from the dataset's infos/qpos and infos/qvel). Same as --set dynamics=…", valueName: "model|true"))
  var dynamics: String?
  @Option(name: .customLong("dynamics-mix"), help: ArgumentHelp("Model-based agents: rollouts step (1 − λ)·model + λ·simulator (the edge-of-reach paper's Figure 1). Same as --set dynamics_mix=…", valueName: "λ"))
  var dynamicsMix: Double?
  @Option(help: "Configuration file (JSON or TOML) of hyperparameters.") var config: String?
  @Option(name: .customLong("set"), help: "Override one hyperparameter: key=value (repeatable).") var overrides: [String] = []
  @Flag(inversion: .prefixedNo, help: "Normalise observations by the dataset's mean and std (default: the algorithm's reference choice; on except rebrac).")
  var normalizeObservations: Bool?
  @Flag(help: "Scale rewards by 1000/(max−min episode return) as CORL's normalize_reward.") var normalizeRewards = false
  @Flag(help: "Drop transitions with NaN/inf values instead of refusing the dataset.") var dropNonFinite = false
  @Option(help: "Synthetic transitions (stitch synth) mixed into every batch.") var synthetic: String?
  @Option(name: .customLong("synthetic-ratio"), help: "Fraction of each batch drawn from --synthetic (1 = synthetic only, as SynthER's offline runs; default: 0.5).")
  var syntheticRatioOption: Double?
  @Option(help: ArgumentHelp("Sample episodes by return (Hong et al. 2023, RW) with temperature ALPHA (paper: 0.1) instead of uniformly.", valueName: "ALPHA"))
  var returnWeighted: Double?
  @Option(help: ArgumentHelp("Sample episodes by advantage over a linear value of their first observation (Hong et al. 2023, AW) with temperature ALPHA.", valueName: "ALPHA"))
  var advantageWeighted: Double?
  @Option(help: "Resume from the last checkpoint: a seed folder (RUN/seed_K), or RUN itself for all its unfinished seeds in parallel.") var resume: String?
  @Option(help: ArgumentHelp("With --resume: continue to N steps in all instead of the run's own target (saved in its config.json). Hyperparameters keep their values, e.g. IQL's actor schedule length.", valueName: "N"))
  var until: Int?
  @Flag(help: "Print the algorithm's hyperparameters and defaults, then exit.") var listConfig = false
  @Flag(help: "Replace runs already in the --out seed folders (without it, a folder holding a run is refused: resume it with --resume).")
  var overwrite = false
  @Option(help: ArgumentHelp("Cores each seed's matrix products use: 1, 2, or auto (2 when the machine has two cores for every seed training at once, as one seed on two cores; else 1). Results are reproducible for a fixed value; a resumed run keeps its own.", valueName: "auto|1|2"))
  var lanes: String = "auto"

  var steps: Int { stepsOption ?? 1_000_000 }
  var seeds: String { seedsOption ?? "0" }
  var out: String { outOption ?? "runs/run" }
  var evalEvery: Int { evalEveryOption ?? 5000 }
  var evalEpisodes: Int { evalEpisodesOption ?? 10 }
  var checkpointEvery: Int { checkpointEveryOption ?? 50_000 }
  var syntheticRatio: Double { syntheticRatioOption ?? 0.5 }

  /// The product lanes for each of `concurrentRuns` seeds training at once.
  func productLanes(concurrentRuns: Int) throws -> Int { try ProductLanesOption.resolve(lanes, concurrentRuns: concurrentRuns) }

  func run() throws {
    BLAS.threads = 1
    if let resume { return try resumeRun(resume) }
    if until != nil { throw ValidationError("--until extends a run with --resume; a new run takes --steps") }
    guard let name = algo, let type = AlgorithmRegistry.named(name) else {
      throw ValidationError("--algo must be one of \(AlgorithmRegistry.all.map { $0.id }.joined(separator: ", "))")
    }
    if listConfig { return try withAlgorithm(type, Visitor(command: self, action: .printConfig)) }
    try withAlgorithm(type, Visitor(command: self, action: .train))
  }

  /// Calls the generic implementations with the algorithm's concrete type.
  struct Visitor: AlgorithmVisitor {
    enum Action { case train, printConfig, resume(URL), resumeAll(URL, [URL]) }
    let command: TrainCommand
    let action: Action
    func visit<A: Algorithm>(_ type: A.Type) throws {
      switch action {
      case .train: try command.train(type)
      case .printConfig: try command.printConfig(type)
      case .resume(let folder): try command.resumeTyped(type, folder: folder)
      case .resumeAll(let root, let folders): try command.resumeAll(type, root: root, folders: folders)
      }
    }
  }

  func printConfig<A: Algorithm>(_ type: A.Type) throws { print(try Self.configListing(type), terminator: "") }

  /// `--list-config`: every key with its default as flat TOML (so it can be saved and edited into a `--config`
  /// file), with the name CORL's script gives it where that differs as a comment (what a reader of the paper's
  /// code would type).
  static func configListing<A: Algorithm>(_ type: A.Type) throws -> String {
    let references = (A.Configuration.self as? any CheckedConfiguration.Type)?.referenceNames ?? [:]
    var corlNames: [String: [String]] = [:]
    for (name, key) in references { corlNames[key, default: []].append(name) }
    return try ConfigResolver.entries(of: A.defaultConfiguration).map { key, value in
      "\(key) = \(value)" + (corlNames[key].map { "   # CORL: " + $0.sorted().joined(separator: ", ") } ?? "") + "\n"
    }.joined()
  }

  /// The one-line hint that CORL's preset for a dataset file named like a D4RL dataset would change this run, or
  /// nil when there is no such preset or the run already has its values (from `--set`, `--config` or
  /// `--normalize-rewards`): a hint to add what the user already set would mislead.
  func presetNote<A: Algorithm>(_ type: A.Type, resolved: A.Configuration, runLength: [String]) throws -> String? {
    guard preset == nil, let dataset, let hint = CORLPresets.suggestion(algorithm: A.id, datasetFile: dataset) else { return nil }
    let withPreset = try ConfigResolver.resolve(A.defaultConfiguration, presets: runLength + hint.preset.overrides,
                                                file: config.map { URL(fileURLWithPath: $0) }, overrides: overrides)
    let changesConfiguration = try ConfigResolver.json(withPreset) != ConfigResolver.json(resolved)
    guard changesConfiguration || (hint.preset.normalizeRewards && !normalizeRewards) else { return nil }
    return "note: \(CORLPresets.source(algorithm: A.id)) trains \(A.id) on \(hint.name) with \(hint.preset.flags); add --preset \(hint.name) to use them\n"
  }

  func options(seed: UInt64, environment: String, defaults: TrainingDefaults, productLanes: Int, preset: TrainingPreset? = nil) -> TrainingOptions {
    var o = TrainingOptions()
    o.steps = steps
    o.batchSize = batchSize ?? defaults.batchSize
    o.evaluationInterval = evalEvery
    o.evaluationEpisodes = evalEpisodes
    o.checkpointInterval = checkpointEvery
    o.logInterval = logEvery ?? max(1, min(1000, steps / 20))
    o.seed = seed
    o.normalizeObservations = normalizeObservations ?? defaults.normalizeObservations
    o.normalizeRewards = normalizeRewards || (preset?.normalizeRewards ?? false)
    o.environment = environment
    o.syntheticRatio = syntheticRatio
    o.returnWeightTemperature = returnWeighted ?? advantageWeighted
    if advantageWeighted != nil { o.weightByAdvantage = true }
    o.randomSteps = min(5000, steps / 5)
    o.productLanes = productLanes
    o.sgemmPlan = BLAS.gemmPlan.id
    return o
  }

  /// Refuses loop settings no run can use, before anything is read or written.
  func checkLoopOptions() throws {
    guard steps > 0 else { throw ValidationError("--steps must be positive, got \(steps)") }
    guard evalEvery > 0 else { throw ValidationError("--eval-every must be positive, got \(evalEvery)") }
    guard evalEpisodes > 0 else { throw ValidationError("--eval-episodes must be positive, got \(evalEpisodes)") }
    guard checkpointEvery > 0 else { throw ValidationError("--checkpoint-every must be positive, got \(checkpointEvery)") }
    if let batchSize, batchSize <= 0 { throw ValidationError("--batch-size must be positive, got \(batchSize)") }
    if let logEvery, logEvery <= 0 { throw ValidationError("--log-every must be positive, got \(logEvery)") }
  }

  /// The seeds of `--seeds`, each once.
  func seedList() throws -> [UInt64] {
    let list = try seeds.split(separator: ",", omittingEmptySubsequences: false).map { s -> UInt64 in
      guard let v = UInt64(s.trimmingCharacters(in: .whitespaces)) else { throw ValidationError("--seeds must be comma-separated integers, got '\(seeds)'") }
      return v
    }
    var seen = Set<UInt64>()
    for seed in list where !seen.insert(seed).inserted {
      throw ValidationError("--seeds lists seed \(seed) twice; each seed trains once, into RUN/seed_\(seed)")
    }
    return list
  }

  /// The seed folders under `root` that already hold a run (a config.json or a checkpoint): training into them
  /// would replace a run that may have taken hours, so it needs `--overwrite`.
  static func occupiedSeedFolders(root: URL, seeds: [UInt64]) -> [URL] {
    seeds.map { root.appendingPathComponent("seed_\($0)") }.filter { folder in
      ["config.json", "checkpoint.safetensors"].contains { FileManager.default.fileExists(atPath: folder.appendingPathComponent($0).path) }
    }
  }

  /// Algorithms whose update reads `Batch.nextActions` (ReBRAC's critic penalty, eq. 3 of Tarasov et al. 2023):
  /// they are refused synthetic transitions, where no next action exists (`Batch.nextActionsKnown` is 0) and the
  /// row's own action would silently stand in for it.
  static let usesNextDatasetAction: Set<String> = ["rebrac"]

  /// The data options an online run cannot use (it learns from its own interaction), each named with why.
  func offlineOnlyOptionsGiven() -> [String] {
    [("--dataset", dataset != nil), ("--synthetic", synthetic != nil), ("--synthetic-ratio", syntheticRatioOption != nil),
     ("--return-weighted", returnWeighted != nil), ("--advantage-weighted", advantageWeighted != nil),
     ("--normalize-rewards", normalizeRewards), ("--drop-non-finite", dropNonFinite),
     ("--normalize-observations/--no-normalize-observations", normalizeObservations != nil)].filter(\.1).map(\.0)
  }

  func train<A: Algorithm>(_ type: A.Type) throws {
    try checkLoopOptions()
    let online = AlgorithmRegistry.isOnline(type)
    // RLPD and its kind: online, with the dataset in every batch.
    let mixesDataset = A.defaultConfiguration is any OnlineWithDataset
    if online, !mixesDataset, case let given = offlineOnlyOptionsGiven(), !given.isEmpty {
      throw ValidationError("\(A.id) trains online from its own interaction with --env; \(given.joined(separator: ", ")) apply only to offline runs from a dataset")
    }
    if mixesDataset, case let given = [("--synthetic", synthetic != nil), ("--synthetic-ratio", syntheticRatioOption != nil),
                                       ("--return-weighted", returnWeighted != nil), ("--advantage-weighted", advantageWeighted != nil)].filter(\.1).map(\.0),
       !given.isEmpty {
      throw ValidationError("\(A.id) mixes the dataset uniformly into its online batches (offline_ratio); \(given.joined(separator: ", ")) apply only to offline runs")
    }
    if synthetic != nil, Self.usesNextDatasetAction.contains(A.id) {
      throw ValidationError("\(A.id)'s critic target penalises the distance to the dataset's next action a′, which synthetic transitions (--synthetic) do not have; train \(A.id) on the real dataset alone")
    }
    if syntheticRatioOption != nil, synthetic == nil { throw ValidationError("--synthetic-ratio sets the share of --synthetic transitions in each batch; give --synthetic FILE too") }
    guard let env else { throw ValidationError("--env is required (e.g. --env Pendulum-v1)") }
    _ = try EnvironmentRegistry.make(env)
    let chosenPreset = try self.preset.map { name in
      do { return try CORLPresets.preset(algorithm: A.id, dataset: name) } catch { throw ValidationError("--preset: \(error)") }
    }
    // Keys whose reference value is the run's length come first, so a preset, the file or --set still win.
    let runLength = A.trainingDefaults.runLengthKeys.map { "\($0)=\(steps)" }
    let configuration = try ConfigResolver.resolve(A.defaultConfiguration, presets: runLength + (chosenPreset?.overrides ?? []),
                                                   file: config.map { URL(fileURLWithPath: $0) },
                                                   overrides: (dynamics.map { ["dynamics=\($0)"] } ?? []) + (dynamicsMix.map { ["dynamics_mix=\($0)"] } ?? []) + overrides)
    if let name = self.preset, let chosenPreset {
      FileHandle.standardError.write(Data("preset \(CORLPresets.canonicalName(name)) (\(CORLPresets.source(algorithm: A.id))'s \(A.id) config): \(chosenPreset.flags)\n".utf8))
    } else if let note = try presetNote(A.self, resolved: configuration, runLength: runLength) {
      FileHandle.standardError.write(Data(note.utf8))
    }
    let seedList = try seedList()
    let root = URL(fileURLWithPath: out)
    let occupied = Self.occupiedSeedFolders(root: root, seeds: seedList)
    if let first = occupied.first, !overwrite {
      let step = Self.checkpointStep(first)
      throw ValidationError("""
        \(first.path) already holds a run\(step > 0 ? " (checkpoint at step \(step))" : ""); continue it with \
        `stitch train --resume \(first.path) --dataset ...`, choose another --out, or pass --overwrite to replace \
        \(occupied.count == 1 ? "it" : "the \(occupied.count) runs there")
        """)
    }
    var data: Dataset? = nil
    var dataIdentity: DatasetIdentity? = nil
    if !online || mixesDataset {
      guard let dataset else {
        throw ValidationError(online ? "--dataset is required for \(A.id), which mixes it into its online batches" : "--dataset is required for offline algorithm \(A.id)")
      }
      let (ds, report) = try DatasetFile.read(dataset, options: LoadOptions(dropNonFinite: dropNonFinite))
      for note in report.notes { FileHandle.standardError.write(Data("dataset: \(note)\n".utf8)) }
      try Self.checkTrainable(ds, path: dataset, what: "--dataset")
      data = ds
      dataIdentity = DatasetIdentity(ds, path: dataset)
    }
    if returnWeighted != nil, advantageWeighted != nil { throw ValidationError("choose one of --return-weighted and --advantage-weighted") }
    if let alpha = returnWeighted ?? advantageWeighted, !(alpha.isFinite && alpha > 0) { throw ValidationError("--return-weighted/--advantage-weighted need a positive temperature, got \(alpha)") }
    if returnWeighted ?? advantageWeighted != nil, synthetic != nil { throw ValidationError("--return-weighted and --synthetic cannot be combined yet (synthetic transitions have no episodes)") }
    guard (0...1).contains(syntheticRatio) else { throw ValidationError("--synthetic-ratio must lie in [0, 1], got \(syntheticRatio)") }
    let extra = try synthetic.map { try DatasetFile.read($0).0 }
    if let extra, let synthetic { try Self.checkTrainable(extra, path: synthetic, what: "--synthetic") }
    if let data { try OfflineTrainer<A>.checkWidths(dataset: data, synthetic: extra, environment: env) }
    let syntheticIdentity = extra.flatMap { e in synthetic.map { DatasetIdentity(e, path: $0) } }
    let loaded = data, loadedIdentity = dataIdentity
    // Every check has passed: only now are replaced runs removed, whole, so no file of theirs lingers.
    if let busy = occupied.first(where: RunLock.isHeld) {
      throw ValidationError("\(busy.path) is still training (another stitch process holds its folder); --overwrite does not replace a run in progress")
    }
    for folder in occupied { try FileManager.default.removeItem(at: folder) }
    StopSignal.install()
    let summaries = SummaryBox(count: seedList.count)
    let reporter = ProgressReporter(label: "\(A.id) \(env) seeds \(seeds)", total: steps * seedList.count)
    let counts = SummaryBox(count: seedList.count)
    let seedLanes = try productLanes(concurrentRuns: min(seedList.count, ProcessInfo.processInfo.activeProcessorCount))
    DispatchQueue.concurrentPerform(iterations: seedList.count) { i in
      BLAS.threads = 1
      let folder = root.appendingPathComponent("seed_\(seedList[i])")
      var opts = options(seed: seedList[i], environment: env, defaults: A.trainingDefaults, productLanes: seedLanes, preset: chosenPreset)
      if let recipe = configuration as? any OnlineWithDataset {
        opts.setPhases([.online(environmentSteps: steps, updatesPerStep: recipe.updatesPerStep,
                                warmup: .random(steps: Swift.min(recipe.randomSteps, steps)), data: .mixed(datasetFraction: recipe.datasetFraction))])
      }
      if !online || mixesDataset {
        opts.dataset = loadedIdentity
        opts.synthetic = syntheticIdentity
        opts.dropNonFinite = dropNonFinite
      }
      let progress: (Int, String) -> Void = { step, note in
        counts.setCount(i, step)
        reporter.update(counts.totalCount(), note: note)
      }
      do {
        let summary: RunSummary
        if online {
          var trainer = OnlineTrainer<A>(configuration: configuration, options: opts, folder: folder)
          trainer.onEvaluation = Self.snapshotHook(env: env, folder: folder, seed: opts.seed)
          summary = try trainer.run(dataset: mixesDataset ? loaded : nil, progress: progress)
        } else {
          summary = try OfflineTrainer<A>(configuration: configuration, options: opts, folder: folder).run(dataset: loaded!, synthetic: extra, progress: progress)
        }
        summaries.set(i, .success(summary))
      } catch {
        summaries.set(i, .failure(error))
      }
    }
    reporter.finish()
    try report(summaries.results(), root: root, label: A.id, env: env)
  }

  func report(_ results: [Result<RunSummary, any Error>], root: URL, label: String, env: String) throws {
    var runs: [RunSummary] = []
    for r in results {
      switch r {
      case .success(let s): runs.append(s)
      case .failure(let e): throw e
      }
    }
    try LearningCurve.write(seeds: runs.map(\.evaluations), label: label, task: env, to: root.appendingPathComponent("learning_curve.svg"))
    for s in runs {
      let score = s.finalNormalizedScore.map { String(format: "%.1f", $0) } ?? "n/a"
      print("seed \(s.seed): \(s.steps) steps in \(String(format: "%.0f", s.seconds)) s, final return \(s.finalReturn.map { String(format: "%.1f", $0) } ?? "n/a"), normalized score \(score)\(s.stoppedEarly ? " (stopped early; resume with --resume)" : "")")
    }
    let scores = runs.compactMap(\.finalNormalizedScore)
    if !scores.isEmpty {
      let m = scores.reduce(0, +) / Double(scores.count)
      let sd = (scores.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(scores.count)).squareRoot()
      print(String(format: "\(label) on \(env): normalized score %.1f ± %.1f over %d seed(s); plot: %@", m, sd, scores.count, root.appendingPathComponent("learning_curve.svg").path))
    }
  }

  /// Keeps a policy snapshot at every evaluation of an online SAC run: behaviour policies ("medium", "expert")
  /// are chosen from these by their measured return (`stitch policy export`).
  static func snapshotHook<A: Algorithm>(env: String, folder: URL, seed: UInt64) -> (Int, Double, A) throws -> Void {
    return { step, meanReturn, agent in
      guard let sac = agent as? SAC else { return }
      let space = try EnvironmentRegistry.make(env).actionSpace
      try BehaviourPolicy.save(actor: sac.policyNetwork, task: env, kind: "snapshot", scaling: ActionScaling(low: space.low, high: space.high),
                               metadata: ["step": String(step), "eval_return": String(meanReturn), "seed": String(seed)],
                               to: folder.appendingPathComponent("snapshots/step_\(step).safetensors"))
    }
  }

  /// The step a run folder's checkpoint holds (0 when it cannot be read: the trainer then reports the error).
  static func checkpointStep(_ folder: URL) -> Int {
    (try? Checkpoint.read(from: folder.appendingPathComponent("checkpoint.safetensors")).counter("step")) ?? 0
  }

}

/// `--lanes auto|1|2` (train, synth): how many cores one run's matrix products use (`ProductLanes`).
enum ProductLanesOption {
  /// auto: 2 when the machine has two cores for each of `concurrentRuns` runs training at once, else 1.
  static func resolve(_ value: String, concurrentRuns: Int) throws -> Int {
    switch value {
    case "auto": return ProcessInfo.processInfo.activeProcessorCount >= 2 * max(1, concurrentRuns) ? 2 : 1
    case "1": return 1
    case "2": return 2
    default: throw ValidationError("--lanes must be auto, 1 or 2, got '\(value)'")
    }
  }
}

/// Results written by concurrent seed workers, one slot each.
final class SummaryBox: @unchecked Sendable {
  private var slots: [Result<RunSummary, any Error>?]
  private var counts: [Int]
  private let lock = NSLock()
  init(count: Int) {
    slots = Array(repeating: nil, count: count)
    counts = Array(repeating: 0, count: count)
  }
  func set(_ i: Int, _ r: Result<RunSummary, any Error>) { lock.lock(); slots[i] = r; lock.unlock() }
  func setCount(_ i: Int, _ c: Int) { lock.lock(); counts[i] = c; lock.unlock() }
  func totalCount() -> Int { lock.lock(); defer { lock.unlock() }; return counts.reduce(0, +) }
  func results() -> [Result<RunSummary, any Error>] { slots.map { $0! } }
}
