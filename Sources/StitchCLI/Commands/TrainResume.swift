import ArgumentParser
import Dispatch
import Foundation

import Stitch

/// `stitch train --resume`: one seed folder, or a whole run (every unfinished seed, in parallel like a new run).
extension TrainCommand {
  func resumeRun(_ folderPath: String) throws {
    if let until, until <= 0 { throw ValidationError("--until must be positive, got \(until)") }
    // A resumed run keeps the configuration saved in its folder (that is what makes it bit-identical to an
    // uninterrupted one); options that would change it are refused rather than silently ignored.
    let ignored = [("--set", !overrides.isEmpty), ("--config", config != nil), ("--preset", preset != nil),
                   ("--algo", algo != nil), ("--overwrite", overwrite)].filter(\.1).map(\.0)
    if !ignored.isEmpty {
      throw ValidationError("--resume continues a run with the configuration saved in its config.json; \(ignored.joined(separator: ", ")) cannot change it (start a new run with another --out instead)")
    }
    // Loop and data settings are the run's own too (its config.json's options); --until is the way to extend it.
    let kept = [("--steps", stepsOption != nil), ("--seeds", seedsOption != nil), ("--out", outOption != nil), ("--env", env != nil),
                ("--eval-every", evalEveryOption != nil), ("--eval-episodes", evalEpisodesOption != nil),
                ("--checkpoint-every", checkpointEveryOption != nil), ("--log-every", logEvery != nil), ("--batch-size", batchSize != nil),
                ("--synthetic-ratio", syntheticRatioOption != nil), ("--return-weighted", returnWeighted != nil),
                ("--advantage-weighted", advantageWeighted != nil), ("--normalize-rewards", normalizeRewards),
                ("--normalize-observations/--no-normalize-observations", normalizeObservations != nil), ("--list-config", listConfig)]
      .filter(\.1).map(\.0)
    if !kept.isEmpty {
      throw ValidationError("--resume keeps the run's own loop and data settings (its config.json); \(kept.joined(separator: ", ")) cannot change them (extend a run with --until N; the seeds resumed are the run's seed folders, or pass one seed folder)")
    }
    let folder = URL(fileURLWithPath: folderPath)
    if let id = Self.algorithmID(in: folder) {
      guard let type = AlgorithmRegistry.named(id) else { throw ValidationError("\(folderPath): unknown algorithm '\(id)' in config.json") }
      return try withAlgorithm(type, Visitor(command: self, action: .resume(folder)))
    }
    // RUN itself (the folder `--out` named): every seed folder in it.
    // Each seed folder's config.json is read once: (folder, algorithm id) for those that name one.
    let identified = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
      .filter { $0.hasPrefix("seed_") }.sorted { (Int($0.dropFirst(5)) ?? 0) < (Int($1.dropFirst(5)) ?? 0) }
      .compactMap { name -> (URL, String)? in
        let seed = folder.appendingPathComponent(name)
        return Self.algorithmID(in: seed).map { (seed, $0) }
      }
    guard let first = identified.first, let type = AlgorithmRegistry.named(first.1) else {
      throw ValidationError("\(folderPath) is not a Stitch run folder (no readable config.json with an algorithm, and no seed_K folders holding one)")
    }
    let seeds = identified.map(\.0), ids = Set(identified.map(\.1))
    guard ids.count == 1 else {
      throw ValidationError("the seed folders of \(folderPath) hold different algorithms (\(ids.sorted().joined(separator: ", "))); resume them one by one")
    }
    try withAlgorithm(type, Visitor(command: self, action: .resumeAll(folder, seeds)))
  }

  /// What a run extended with `--until` to `target` steps should know about its keys whose reference value is the
  /// run's own length (IQL's cosine actor schedule, `actor_schedule_steps`): they keep their saved values (a resume
  /// changes no hyperparameter, which is what keeps it bit-identical to an uninterrupted run with the same
  /// settings), so a schedule shorter than the target has ended, and the steps past it train at its final
  /// value — for IQL's actor, learning rate 0. One line per such key.
  static func runLengthNotes<C: Encodable>(_ configuration: C, keys: [String], target: Int) throws -> [String] {
    let values = Dictionary(uniqueKeysWithValues: try ConfigResolver.entries(of: configuration).map { ($0.key, $0.value) })
    return keys.compactMap { key in
      guard case .number(let length)? = values[key], length < Double(target) else { return nil }
      return "\(key) = \(Int(length)) is kept from the run (it spans the run's original length): steps \(Int(length) + 1)-\(target) run past it, "
        + (key == "actor_schedule_steps" ? "where the cosine schedule has brought the actor's learning rate to 0, so the actor no longer changes" : "at its final value")
        + "; for a schedule that spans \(target) steps, train a new run with --steps \(target)"
    }
  }

  /// The algorithm id in a seed folder's config.json, or nil when it has none.
  static func algorithmID(in folder: URL) -> String? { RunFolderIdentity.read(folder)?.algorithm }

  /// Resumes one seed folder from its checkpoint (to `--until`, else its own target).
  func resumeTyped<A: Algorithm>(_ type: A.Type, folder: URL) throws {
    try resumeAll(type, root: folder, folders: [folder])
  }

  /// Resumes every seed of `root` that has not reached its target (`--until`, else its own), in parallel up to
  /// the number of cores like a new run, with one progress line; seeds already there are reported as they are.
  /// The run's curve over all seeds is drawn again at the end.
  func resumeAll<A: Algorithm>(_ type: A.Type, root: URL, folders: [URL]) throws {
    let online = AlgorithmRegistry.isOnline(type)
    let mixesDataset = A.defaultConfiguration is any OnlineWithDataset
    if online, !mixesDataset, case let given = offlineOnlyOptionsGiven(), !given.isEmpty {
      throw ValidationError("\(A.id) trains online from its own interaction; \(given.joined(separator: ", ")) apply only to offline runs from a dataset")
    }
    let savedOptions = try folders.map { online ? try OnlineTrainer<A>.load(from: $0).options : try OfflineTrainer<A>.load(from: $0).options }
    if let unknown = savedOptions.compactMap(\.sgemmPlan).first(where: { GemmPlan(id: $0) == nil }) {
      throw ValidationError("\(folders[0].path) ran under sgemm plan '\(unknown)', which this Stitch does not have (a newer version's?); resuming under another would change its bits")
    }
    for plan in Set(savedOptions.map(\.recordedSgemmPlan.id)) where plan != BLAS.gemmPlan.id {
      FileHandle.standardError.write(Data("note: resuming under the run's own sgemm plan (\(plan)), not this process's (\(BLAS.gemmPlan.id)): the run's products keep their bits\n".utf8))
    }
    var data: Dataset? = nil
    var extra: Dataset? = nil
    if !online || mixesDataset {
      // Without --dataset, the file the run recorded (its rows and hash are checked below like a given one).
      let recordedPath = savedOptions.compactMap { $0.dataset?.path }.first.flatMap { FileManager.default.fileExists(atPath: $0) ? $0 : nil }
      guard let dataset = dataset ?? recordedPath else {
        let recorded = savedOptions.compactMap { $0.dataset?.path }.first
        throw ValidationError("--dataset is required to resume \(online ? "a run that mixes it into its batches" : "an offline run")"
          + (recorded.map { " (the run recorded \($0), which is not there)" } ?? ""))
      }
      // The dataset loads as the run loaded it: with its own --drop-non-finite (recorded since it was; older runs
      // take the flag as given).
      let recordedDrop = savedOptions.compactMap(\.dropNonFinite)
      if let drop = recordedDrop.first, dropNonFinite, !drop {
        throw ValidationError("\(folders[0].path) loaded its dataset without --drop-non-finite; resuming with it would train on other rows")
      }
      let drop = recordedDrop.first ?? dropNonFinite
      let loaded = try DatasetFile.read(dataset, options: LoadOptions(dropNonFinite: drop)).0
      try Self.checkTrainable(loaded, path: dataset, what: "--dataset")
      data = loaded
      extra = try synthetic.map { try DatasetFile.read($0).0 }
      let given = DatasetIdentity(loaded, path: dataset)
      let givenSynthetic = extra.flatMap { e in synthetic.map { DatasetIdentity(e, path: $0) } }
      for (folder, options) in zip(folders, savedOptions) {
        try options.refuseOtherData(folder: folder, dataset: given, synthetic: givenSynthetic)
      }
    }
    // Each seed's start (its checkpoint) and target.
    var pending: [(folder: URL, start: Int, target: Int)] = []
    var finished: [URL] = []
    var environment = ""
    for (folder, options) in zip(folders, savedOptions) {
      environment = options.environment
      let start = Self.checkpointStep(folder), target = until ?? options.steps
      let done = FileManager.default.fileExists(atPath: folder.appendingPathComponent("summary.json").path)
      if start >= target && done { finished.append(folder) } else { pending.append((folder, start, target)) }
    }
    if until != nil, let (folder, _, target) = pending.max(by: { $0.target < $1.target }) {
      for note in try Self.runLengthNotes(try OfflineTrainer<A>.load(from: folder).configuration, keys: A.trainingDefaults.runLengthKeys, target: target) {
        FileHandle.standardError.write(Data("note: \(note)\n".utf8))
      }
    }
    if pending.isEmpty {
      FileHandle.standardError.write(Data("\(folders.count == 1 ? root.path : "every seed of \(root.path)") has reached its target; extend it with --until N\n".utf8))
    }
    let seedNames = pending.map { $0.folder.lastPathComponent.replacingOccurrences(of: "seed_", with: "") }.joined(separator: ",")
    let laneCount: Int? = lanes == "auto" ? nil : try productLanes(concurrentRuns: min(max(1, pending.count), ProcessInfo.processInfo.activeProcessorCount))
    let loaded = data, work = pending, extraData = extra
    StopSignal.install()
    let reporter = ProgressReporter(label: "\(A.id) resume seeds \(seedNames)", total: pending.map(\.target).reduce(0, +),
                                    startingAt: pending.map(\.start).reduce(0, +))
    let counts = SummaryBox(count: pending.count)
    for (i, p) in pending.enumerated() { counts.setCount(i, p.start) }
    let results = SummaryBox(count: pending.count)
    DispatchQueue.concurrentPerform(iterations: pending.count) { i in
      BLAS.threads = 1
      let (folder, _, target) = work[i]
      let progress: (Int, String) -> Void = { step, note in
        counts.setCount(i, step)
        reporter.update(counts.totalCount(), note: note)
      }
      do {
        let summary: RunSummary
        if online {
          var trainer = try OnlineTrainer<A>.load(from: folder)
          if let laneCount { trainer.options.productLanes = laneCount }
          trainer.options.steps = target
          if until != nil || laneCount != nil { try trainer.writeConfig() }
          trainer.onEvaluation = Self.snapshotHook(env: trainer.options.environment, folder: folder, seed: trainer.options.seed)
          summary = try trainer.run(dataset: mixesDataset ? loaded : nil, resume: true, progress: progress)
        } else {
          var trainer = try OfflineTrainer<A>.load(from: folder)
          if let laneCount { trainer.options.productLanes = laneCount }
          trainer.options.steps = target
          if until != nil || laneCount != nil { try trainer.writeConfig() }
          summary = try trainer.run(dataset: loaded!, synthetic: extraData, resume: true, progress: progress)
        }
        results.set(i, .success(summary))
      } catch {
        results.set(i, .failure(error))
      }
    }
    reporter.finish()
    let decoder = JSONDecoder()
    let earlier = try finished.map { folder -> Result<RunSummary, any Error> in
      .success(try decoder.decode(RunSummary.self, from: Data(contentsOf: folder.appendingPathComponent("summary.json"))))
    }
    try report(earlier + results.results(), root: root, label: A.id, env: environment)
  }
}
