import ArgumentParser
import Dispatch
import Foundation

import Stitch

/// `stitch finetune`: continue a trained run online in its environment (offline-to-online fine-tuning).
///
/// A fine-tuning run is an ordinary run folder with one online phase: the pretrained checkpoint gives the
/// algorithm's networks, optimizers and counters (IQL's actor schedule goes on where it was), the observation
/// normaliser and the reward scale; its own step counter counts environment steps from 0.
struct FinetuneCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "finetune",
    abstract: "Fine-tune a trained agent online in its environment (offline-to-online).",
    discussion: """
      PRETRAINED is a seed folder written by `stitch train` (RUN/seed_K) or RUN itself for every seed in it (in
      parallel up to the cores); each fine-tuned seed goes to OUT/seed_K, an ordinary run folder (config.json,
      metrics, checkpoints, learning_curve.svg, summary.json), resumable with `stitch finetune --resume OUT`.
      Replay: 'append' (default) appends online rows to the dataset and samples the union uniformly (CORL's
      IQL/CQL/AWAC/SPOT fine-tuning); 'mixed' draws --offline-ratio of each batch from the dataset and the rest
      from the online buffer (Cal-QL's and RLPD's 50/50); 'none' keeps no offline data (WSRL). --warmup K collects
      K steps with the pretrained policy before any update (WSRL: 5000); --random-warmup K takes random actions
      instead (RLPD). --utd U makes U updates per environment step. Deterministic actors (TD3+BC, ReBRAC) explore
      with Gaussian noise (--exploration-noise, default 0.1 of the action half-range).
      The run evaluates the pretrained policy at step 0; summary.json and the printed summary add the initial dip
      (lowest score in the first 10% of the online steps minus the step-0 score) and the cumulative regret (mean
      of 1 − score/100 over the evaluations after step 0); `stitch report` tabulates both.
      Algorithms: td3bc, iql, cql, calql, rebrac, sacn, edac, sac, wsrl. WSRL's recipe is its default (--replay
      none, --warmup 5000, --utd 4 critic steps per environment step on a batch of 4 × the pretrained 256); Cal-QL keeps its calibration online, each
      online episode bounded by its own returns-to-go (the paper's code); --set calibrate_online=false switches it
      off at the first online step (CORL).
      Example:
        stitch train --algo iql --dataset data/hopper-medium.hdf5 --env Hopper-v4 --steps 100000 --out runs/iql
        stitch finetune runs/iql --online-steps 100000 --out runs/iql-finetune
        stitch finetune runs/cql/seed_0 --online-steps 100000 --replay none --warmup 5000 --utd 4 --out runs/cql-wsrl-style
        stitch train --algo wsrl --dataset data/hopper-medium.hdf5 --env Hopper-v4 --steps 250000 --out runs/wsrl
        stitch finetune runs/wsrl --online-steps 100000 --out runs/wsrl-finetune   # WSRL as published
        stitch finetune --resume runs/iql-finetune
      """)

  @Argument(help: "The pretrained run: a seed folder (RUN/seed_K) or RUN for all its seeds.") var pretrained: String?
  @Option(name: .customLong("online-steps"), help: "Environment steps of fine-tuning.") var onlineSteps: Int?
  @Option(name: [.short, .customLong("out")], help: "Output run folder (OUT/seed_K per seed).") var out: String?
  @Option(help: "Environment id (default: the pretrained run's).") var env: String?
  @Option(help: "The dataset for --replay append|mixed (default: the one the pretrained run recorded).") var dataset: String?
  @Option(help: ArgumentHelp("Where minibatches come from: append, mixed or none (default: append).", valueName: "append|mixed|none"))
  var replay: String?
  @Option(name: .customLong("offline-ratio"), help: "With --replay mixed: the dataset's share of each batch (default: 0.5).") var offlineRatio: Double?
  @Option(help: ArgumentHelp("Steps collected by the pretrained policy before the first update (WSRL: 5000).", valueName: "K")) var warmup: Int?
  @Option(name: .customLong("random-warmup"), help: ArgumentHelp("Steps with uniformly random actions before the first update (RLPD).", valueName: "K"))
  var randomWarmup: Int?
  @Option(help: "Updates per environment step (default: 1).") var utd: Int?
  @Option(name: .customLong("batch-size"), help: "Minibatch size (default: the pretrained run's).") var batchSize: Int?
  @Option(name: .customLong("eval-every"), help: "Evaluate every N environment steps (default: 5000).") var evalEvery: Int?
  @Option(name: .customLong("eval-episodes"), help: "Episodes per evaluation (default: 10).") var evalEpisodes: Int?
  @Option(name: .customLong("checkpoint-every"), help: "Checkpoint every N steps (default: 10000).") var checkpointEvery: Int?
  @Option(name: .customLong("log-every"), help: "Average and log training metrics every N steps (default: min(1000, steps/20)).") var logEvery: Int?
  @Option(name: .customLong("exploration-noise"), help: "σ of the Gaussian exploration noise of deterministic actors (default: 0.1).") var explorationNoise: Double?
  @Option(name: .customLong("replay-capacity"), help: "Capacity of the online replay buffer (default: --online-steps).") var replayCapacity: Int?
  @Option(name: .customLong("set"), help: "Change one hyperparameter for the online phase: key=value (repeatable; shapes cannot change).")
  var overrides: [String] = []
  @Option(help: ArgumentHelp("Cores each seed's matrix products use: 1, 2, or auto.", valueName: "auto|1|2")) var lanes = "auto"
  @Flag(help: "Replace runs already in the OUT seed folders.") var overwrite = false
  @Option(help: "Resume a fine-tuning run: OUT/seed_K, or OUT for all its unfinished seeds.") var resume: String?
  @Flag(help: "Print one JSON object per seed instead of text.") var json = false

  /// Algorithms with an online counterpart: their update learns from any transitions, so it goes on online.
  static let fineTunable: Set<String> = ["td3bc", "iql", "cql", "calql", "rebrac", "sacn", "edac", "sac", "wsrl"]

  /// A method's published fine-tuning recipe: the defaults of the options it sets (any option given wins).
  struct Recipe {
    var replay: String
    var warmup: Int
  }

  /// WSRL (`launch_wsrl_finetune.sh`): no offline data, 5000 warm-up steps with the pretrained policy; its UTD 4 on
  /// batches of 1024 is the algorithm's own `utd` key and the batch default (`SplitsBatchAcrossCriticSteps`).
  static let recipes: [String: Recipe] = ["wsrl": Recipe(replay: "none", warmup: 5000)]

  /// Settings the reference fine-tuning scripts change at the switch, applied before --set: CORL's IQL steps its
  /// offline cosine actor schedule on through the online phase (PyTorch's schedule is periodic past its end).
  static let onlineSettings: [String: [String]] = ["iql": ["actor_schedule_periodic=true"]]

  func run() throws {
    BLAS.threads = 1
    if let resume {
      let given = [("PRETRAINED", pretrained != nil), ("--online-steps", onlineSteps != nil), ("--out", out != nil), ("--env", env != nil),
                   ("--replay", replay != nil), ("--offline-ratio", offlineRatio != nil), ("--warmup", warmup != nil),
                   ("--random-warmup", randomWarmup != nil), ("--utd", utd != nil), ("--batch-size", batchSize != nil),
                   ("--eval-every", evalEvery != nil), ("--eval-episodes", evalEpisodes != nil), ("--checkpoint-every", checkpointEvery != nil),
                   ("--log-every", logEvery != nil), ("--exploration-noise", explorationNoise != nil), ("--replay-capacity", replayCapacity != nil),
                   ("--set", !overrides.isEmpty), ("--overwrite", overwrite)].filter(\.1).map(\.0)
      guard given.isEmpty else {
        throw ValidationError("--resume continues a fine-tuning run with the settings in its config.json; \(given.joined(separator: ", ")) cannot change them")
      }
      let folders = try Self.seedFolders(resume, role: "--resume")
      let type = try Self.algorithm(of: folders, role: "--resume")
      return try withAlgorithm(type, Visitor(command: self, folders: folders, resuming: true))
    }
    guard let pretrained else { throw ValidationError("give the pretrained run (RUN/seed_K or RUN), or --resume OUT") }
    guard let onlineSteps else { throw ValidationError("--online-steps is required (e.g. --online-steps 100000)") }
    guard out != nil else { throw ValidationError("--out is required: the folder the fine-tuned run goes to") }
    try checkOptions(onlineSteps: onlineSteps)
    let folders = try Self.seedFolders(pretrained, role: "PRETRAINED")
    let type = try Self.algorithm(of: folders, role: "PRETRAINED")
    if let recipe = Self.recipes[type.id] {
      var command = self
      if command.replay == nil { command.replay = recipe.replay }
      if command.warmup == nil && command.randomWarmup == nil { command.warmup = min(recipe.warmup, onlineSteps) }
      try command.checkOptions(onlineSteps: onlineSteps)
      return try withAlgorithm(type, Visitor(command: command, folders: folders, resuming: false))
    }
    guard Self.fineTunable.contains(type.id) else {
      let why = type.id == "bc" ? "behaviour cloning has no critic or reward to learn from online"
        : "\(type.id)'s updates learn from model rollouts; fine-tuning model-based agents online is not built yet"
      throw ValidationError("\(type.id) cannot be fine-tuned: \(why) (fine-tunable: \(Self.fineTunable.sorted().joined(separator: ", ")))")
    }
    try withAlgorithm(type, Visitor(command: self, folders: folders, resuming: false))
  }

  struct Visitor: AlgorithmVisitor {
    let command: FinetuneCommand
    let folders: [URL]
    let resuming: Bool
    func visit<A: Algorithm>(_ type: A.Type) throws {
      if resuming { try command.resumeRuns(type, folders: folders) } else { try command.fineTune(type, pretrained: folders) }
    }
  }

  /// Refuses settings no fine-tuning run can use, before anything is read or written.
  func checkOptions(onlineSteps: Int) throws {
    guard onlineSteps > 0 else { throw ValidationError("--online-steps must be positive, got \(onlineSteps)") }
    for (name, value) in [("--eval-every", evalEvery), ("--eval-episodes", evalEpisodes), ("--checkpoint-every", checkpointEvery),
                          ("--log-every", logEvery), ("--utd", utd), ("--batch-size", batchSize), ("--replay-capacity", replayCapacity)] {
      if let value, value <= 0 { throw ValidationError("\(name) must be positive, got \(value)") }
    }
    if warmup != nil, randomWarmup != nil { throw ValidationError("choose one of --warmup (pretrained policy) and --random-warmup (random actions)") }
    if let k = warmup ?? randomWarmup, !(0...onlineSteps).contains(k) {
      throw ValidationError("a warm-up of \(k) steps does not fit in --online-steps \(onlineSteps)")
    }
    if let r = offlineRatio {
      guard replayMode == "mixed" else { throw ValidationError("--offline-ratio sets the dataset's share of a --replay mixed batch; add --replay mixed") }
      guard (0...1).contains(r) else { throw ValidationError("--offline-ratio must lie in [0, 1], got \(r)") }
    }
    if dataset != nil, replayMode == "none" {
      throw ValidationError("--dataset is read by --replay append or mixed; --replay none keeps no offline data")
    }
    if let sigma = explorationNoise, !(sigma.isFinite && sigma >= 0) { throw ValidationError("--exploration-noise must be a finite number ≥ 0, got \(sigma)") }
    _ = try onlineData()
  }

  var replayMode: String { (replay ?? "append").lowercased() }

  func onlineData() throws -> Phase.OnlineData {
    switch replayMode {
    case "append": return .append
    case "mixed": return .mixed(datasetFraction: offlineRatio ?? 0.5)
    case "none": return .replay
    default: throw ValidationError("--replay must be append, mixed or none, got '\(replay ?? "")'")
    }
  }

  /// The seed folders of `path`: the folder itself when it holds a config.json, else its seed_K folders that do.
  static func seedFolders(_ path: String, role: String) throws -> [URL] {
    let folder = URL(fileURLWithPath: path)
    if RunFolderIdentity.read(folder) != nil { return [folder] }
    let seeds = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
      .filter { $0.hasPrefix("seed_") }.sorted { (Int($0.dropFirst(5)) ?? 0) < (Int($1.dropFirst(5)) ?? 0) }
      .map { folder.appendingPathComponent($0) }.filter { RunFolderIdentity.read($0) != nil }
    guard !seeds.isEmpty else {
      throw ValidationError("\(role) \(path) is not a Stitch run folder (no readable config.json, and no seed_K folders holding one)")
    }
    return seeds
  }

  /// The one algorithm the seed folders hold.
  static func algorithm(of folders: [URL], role: String) throws -> any Algorithm.Type {
    let ids = Set(folders.compactMap { RunFolderIdentity.read($0)?.algorithm })
    guard ids.count == 1, let id = ids.first else {
      throw ValidationError("the seed folders of \(role) hold different algorithms (\(ids.sorted().joined(separator: ", "))); fine-tune them one by one")
    }
    guard let type = AlgorithmRegistry.named(id) else { throw ValidationError("\(folders[0].path): unknown algorithm '\(id)' in config.json") }
    return type
  }

  /// Loads the dataset a fine-tuning run mixes in, refusing another than the pretrained run trained on (its
  /// normaliser and reward scale were fitted to that one).
  func loadDataset(recorded: DatasetIdentity?, dropNonFinite: Bool, folder: URL) throws -> (Dataset, DatasetIdentity) {
    guard let path = dataset ?? recorded?.path else {
      throw ValidationError("\(folder.path) records no dataset; --replay \(replayMode) needs one: give --dataset FILE (or --replay none)")
    }
    guard FileManager.default.fileExists(atPath: path) else {
      throw ValidationError("the dataset \(path)\(dataset == nil ? " that \(folder.path) recorded" : "") does not exist; give --dataset FILE")
    }
    let loaded = try DatasetFile.read(path, options: LoadOptions(dropNonFinite: dropNonFinite)).0
    try TrainCommand.checkTrainable(loaded, path: path, what: "--dataset")
    let identity = DatasetIdentity(loaded, path: path)
    if let recorded, !recorded.sameData(as: identity) {
      throw ValidationError("\(folder.path) trained on \(recorded); \(identity) is other data, and the run's normaliser and reward scale were fitted to its own")
    }
    return (loaded, identity)
  }

  /// Fine-tunes every pretrained seed folder, in parallel up to the cores.
  func fineTune<A: Algorithm>(_ type: A.Type, pretrained folders: [URL]) throws {
    let steps = onlineSteps!
    let data = try onlineData()
    // WSRL's UTD is its own key: one update per environment step, U critic steps inside it.
    let splitsBatch = A.defaultConfiguration is any SplitsBatchAcrossCriticSteps
    let phase = Phase.online(environmentSteps: steps, updatesPerStep: splitsBatch ? 1 : utd ?? 1,
                             warmup: warmup.map { .policy(steps: $0) } ?? randomWarmup.map { .random(steps: $0) } ?? Phase.Warmup.none, data: data)
    let root = URL(fileURLWithPath: out!)
    var plans: [(folder: URL, configuration: A.Configuration, options: TrainingOptions)] = []
    var loaded: (data: Dataset, identity: DatasetIdentity)? = nil
    var environment = ""
    for folder in folders {
      guard !RunLock.isHeld(folder) else {
        throw ValidationError("the pretrained run \(folder.path) is still training (another stitch process holds its folder); fine-tune it once it has finished or been stopped")
      }
      let base = try Trainer<A>.load(from: folder)
      let checkpointURL = folder.appendingPathComponent("checkpoint.safetensors")
      guard let checkpoint = try? Checkpoint.read(from: checkpointURL) else {
        throw ValidationError("\(folder.path) has no readable checkpoint.safetensors to start from")
      }
      let step = try checkpoint.counter("step")
      if step < base.options.steps {
        FileHandle.standardError.write(Data("note: \(folder.path) stopped at step \(step) of \(base.options.steps); fine-tuning starts from there\n".utf8))
      }
      let score = try EvaluationRecords.decode(checkpoint.metadata["evaluations"] ?? "[]").last.flatMap { $0.count >= 3 && $0[2].isFinite ? $0[2] : nil }
      var options = base.options
      let envID = env ?? base.options.environment
      if envID != base.options.environment {
        let a = try EnvironmentRegistry.make(envID), b = try EnvironmentRegistry.make(base.options.environment)
        guard a.observationSpace.size == b.observationSpace.size, a.actionSpace.size == b.actionSpace.size else {
          throw ValidationError("--env \(envID) has observation/action widths \(a.observationSpace.size)/\(a.actionSpace.size); \(folder.path) was trained for \(base.options.environment)'s \(b.observationSpace.size)/\(b.actionSpace.size)")
        }
        FileHandle.standardError.write(Data("note: \(folder.path) was trained for \(base.options.environment); fine-tuning in \(envID)\n".utf8))
      } else {
        _ = try EnvironmentRegistry.make(envID)
      }
      environment = envID
      options.environment = envID
      options.setPhases([phase])
      options.batchSize = batchSize ?? base.options.batchSize
      var overrides = self.overrides
      if splitsBatch, let utd {
        if overrides.contains(where: { $0.split(separator: "=").first.map { $0.trimmingCharacters(in: .whitespaces) } == "utd" }) {
          throw ValidationError("--utd \(utd) and --set utd=… both set \(A.id)'s critic steps per update; give one")
        }
        overrides.append("utd=\(utd)")
      }
      options.evaluationInterval = evalEvery ?? 5000
      options.evaluationEpisodes = evalEpisodes ?? 10
      options.checkpointInterval = checkpointEvery ?? 10_000
      options.logInterval = logEvery ?? max(1, min(1000, steps / 20))
      options.explorationNoise = explorationNoise
      options.replayCapacity = replayCapacity ?? steps
      options.returnWeightTemperature = nil
      options.weightByAdvantage = nil
      options.synthetic = nil
      options.pretrained = PretrainedStart(folder: folder.path, algorithm: A.id, step: step, score: score)
      if phase.needsDataset {
        // Loaded once; every other seed must have trained on the same rows.
        if let loaded {
          if let recorded = base.options.dataset, !recorded.sameData(as: loaded.identity) {
            throw ValidationError("\(folder.path) trained on \(recorded), another seed on \(loaded.identity); fine-tune them one by one")
          }
        } else {
          loaded = try loadDataset(recorded: base.options.dataset, dropNonFinite: base.options.dropNonFinite ?? false, folder: folder)
        }
        options.dataset = loaded!.identity
      } else {
        options.dataset = nil
      }
      let configuration = try ConfigResolver.resolve(base.configuration, presets: Self.onlineSettings[A.id] ?? [], overrides: overrides)
      if let split = configuration as? any SplitsBatchAcrossCriticSteps {
        let u = split.updatesPerBatch
        options.batchSize = batchSize ?? base.options.batchSize * u
        guard options.batchSize % u == 0 else {
          throw ValidationError("\(A.id) splits each batch into utd = \(u) critic minibatches; --batch-size \(options.batchSize) is not a multiple of \(u)")
        }
      }
      let seedFolder = root.appendingPathComponent("seed_\(options.seed)")
      guard !plans.contains(where: { $0.folder == seedFolder }) else {
        throw ValidationError("two pretrained folders have seed \(options.seed); fine-tune them into different --out folders")
      }
      plans.append((seedFolder, configuration, options))
    }
    let occupied = TrainCommand.occupiedSeedFolders(root: root, seeds: plans.map(\.options.seed))
    if let first = occupied.first, !overwrite {
      throw ValidationError("\(first.path) already holds a run; continue it with `stitch finetune --resume \(first.path)`, choose another --out, or pass --overwrite")
    }
    if let busy = occupied.first(where: RunLock.isHeld) {
      throw ValidationError("\(busy.path) is still training (another stitch process holds its folder); --overwrite does not replace a run in progress")
    }
    for folder in occupied { try FileManager.default.removeItem(at: folder) }
    let lanesPerSeed = try ProductLanesOption.resolve(lanes, concurrentRuns: min(plans.count, ProcessInfo.processInfo.activeProcessorCount))
    for i in plans.indices { plans[i].options.productLanes = lanesPerSeed; plans[i].options.sgemmPlan = BLAS.gemmPlan.id }
    let work = plans, dataset = loaded?.data
    try execute(A.self, count: work.count, label: "\(A.id) finetune \(environment)", total: steps * work.count, start: 0, curveFolder: root) { i, progress in
      try Trainer<A>(configuration: work[i].configuration, options: work[i].options, folder: work[i].folder).run(dataset: dataset, progress: progress)
    }
  }

  /// Resumes fine-tuning runs from their own checkpoints.
  func resumeRuns<A: Algorithm>(_ type: A.Type, folders: [URL]) throws {
    var trainers: [Trainer<A>] = []
    var loaded: Dataset? = nil
    for folder in folders {
      let trainer = try Trainer<A>.load(from: folder)
      guard trainer.options.pretrained != nil else {
        throw ValidationError("\(folder.path) is not a fine-tuning run (its config.json names no pretrained run); resume it with `stitch train --resume`")
      }
      if trainer.phases.contains(where: \.needsDataset), loaded == nil {
        loaded = try loadDataset(recorded: trainer.options.dataset, dropNonFinite: trainer.options.dropNonFinite ?? false, folder: folder).0
      }
      trainers.append(trainer)
    }
    let pending = trainers.filter { !FileManager.default.fileExists(atPath: $0.folder.appendingPathComponent("summary.json").path)
                                    || TrainCommand.checkpointStep($0.folder) < $0.options.steps }
    if pending.isEmpty { FileHandle.standardError.write(Data("every seed of \(resume!) has finished its fine-tuning\n".utf8)) }
    let starts = pending.map { TrainCommand.checkpointStep($0.folder) }
    let dataset = loaded
    let curveFolder = folders.count == 1 ? nil : folders[0].deletingLastPathComponent()
    try execute(A.self, count: pending.count, label: "\(A.id) finetune resume", total: pending.map(\.options.steps).reduce(0, +),
                start: starts.reduce(0, +), curveFolder: curveFolder, initial: starts) { i, progress in
      try pending[i].run(dataset: pending[i].phases.contains(where: \.needsDataset) ? dataset : nil, resume: true, progress: progress)
    }
  }

  /// Runs `count` fine-tuning seeds in parallel with one progress line, then prints their summaries.
  /// `curveFolder` (the OUT folder of several seeds) gets learning_curve.svg over the seeds.
  func execute<A: Algorithm>(_ type: A.Type, count: Int, label: String, total: Int, start: Int, curveFolder: URL?, initial: [Int]? = nil,
                             _ body: @escaping (Int, @escaping (Int, String) -> Void) throws -> RunSummary) throws {
    StopSignal.install()
    let reporter = ProgressReporter(label: label, total: max(total, 1), startingAt: start)
    let counts = SummaryBox(count: count), results = SummaryBox(count: count)
    for (i, s) in (initial ?? []).enumerated() { counts.setCount(i, s) }
    // Each worker calls `body` for its own seed only (as `stitch train`'s seed workers).
    nonisolated(unsafe) let body = body
    DispatchQueue.concurrentPerform(iterations: count) { i in
      BLAS.threads = 1
      do {
        results.set(i, .success(try body(i) { step, note in
          counts.setCount(i, step)
          reporter.update(counts.totalCount(), note: note)
        }))
      } catch {
        results.set(i, .failure(error))
      }
    }
    reporter.finish()
    var summaries: [RunSummary] = []
    for r in results.results() {
      switch r {
      case .success(let s): summaries.append(s)
      case .failure(let e): throw e
      }
    }
    if let curveFolder, let env = summaries.first?.environment {
      try LearningCurve.write(seeds: summaries.map(\.evaluations), label: "\(A.id) fine-tuned", task: env, to: curveFolder.appendingPathComponent("learning_curve.svg"))
    }
    for s in summaries { print(json ? Self.json(s).description : Self.text(s)) }
  }

  static func format(_ x: Double?, _ spec: String = "%.1f") -> String { x.map { String(format: spec, $0) } ?? "n/a" }

  static func text(_ s: RunSummary) -> String {
    let f = s.fineTuning
    return "seed \(s.seed): \(s.steps) environment steps in \(String(format: "%.0f", s.seconds)) s, pretrained score \(format(f?.pretrainedScore)), at step 0 \(format(f?.startScore)) → final \(format(s.finalNormalizedScore))"
      + " (best \(format(s.bestNormalizedScore))), initial dip \(format(f?.initialDip)), cumulative regret \(format(f?.cumulativeRegret, "%.3f"))"
      + (s.stoppedEarly ? " (stopped early; resume with --resume)" : "")
  }

  static func json(_ s: RunSummary) -> JSONText {
    func number(_ x: Double?) -> JSONText { x.map { .number($0) } ?? .null }
    let f = s.fineTuning
    return .object([
      ("algorithm", .string(s.algorithm)), ("environment", .string(s.environment)), ("seed", .integer(Int(s.seed))),
      ("online_steps", .integer(s.steps)), ("pretrained", f.map { .string($0.pretrainedFolder) } ?? .null),
      ("pretrained_score", number(f?.pretrainedScore)), ("start_score", number(f?.startScore)), ("final_score", number(s.finalNormalizedScore)),
      ("best_score", number(s.bestNormalizedScore)), ("initial_dip", number(f?.initialDip)),
      ("cumulative_regret", number(f?.cumulativeRegret)), ("improvement", number(f?.improvement)),
      ("seconds", .number(s.seconds)), ("stopped_early", .bool(s.stoppedEarly)),
    ])
  }
}
