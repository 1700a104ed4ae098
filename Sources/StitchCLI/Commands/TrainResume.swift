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
    var data: Dataset? = nil
    if !online {
      guard let dataset else { throw ValidationError("--dataset is required to resume an offline run") }
      data = try DatasetFile.read(dataset, options: LoadOptions(dropNonFinite: dropNonFinite)).0
    }
    let extra = try synthetic.map { try DatasetFile.read($0).0 }
    // Each seed's start (its checkpoint) and target.
    var pending: [(folder: URL, start: Int, target: Int)] = []
    var finished: [URL] = []
    var environment = ""
    for folder in folders {
      let options = online ? try OnlineTrainer<A>.load(from: folder).options : try OfflineTrainer<A>.load(from: folder).options
      environment = options.environment
      let start = Self.checkpointStep(folder), target = until ?? options.steps
      let done = FileManager.default.fileExists(atPath: folder.appendingPathComponent("summary.json").path)
      if start >= target && done { finished.append(folder) } else { pending.append((folder, start, target)) }
    }
    if pending.isEmpty {
      FileHandle.standardError.write(Data("\(folders.count == 1 ? root.path : "every seed of \(root.path)") has reached its target; extend it with --until N\n".utf8))
    }
    let seedNames = pending.map { $0.folder.lastPathComponent.replacingOccurrences(of: "seed_", with: "") }.joined(separator: ",")
    let laneCount: Int? = lanes == "auto" ? nil : try productLanes(concurrentRuns: min(max(1, pending.count), ProcessInfo.processInfo.activeProcessorCount))
    let loaded = data, work = pending
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
          summary = try trainer.run(resume: true, progress: progress)
        } else {
          var trainer = try OfflineTrainer<A>.load(from: folder)
          if let laneCount { trainer.options.productLanes = laneCount }
          trainer.options.steps = target
          if until != nil || laneCount != nil { try trainer.writeConfig() }
          summary = try trainer.run(dataset: loaded!, synthetic: extra, resume: true, progress: progress)
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
