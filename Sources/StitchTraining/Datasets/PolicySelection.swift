import Foundation
import StitchData
import StitchEnvironments

/// Chooses a behaviour policy among SAC snapshots by how D4RL-like its data are, not by return alone (issue 22):
/// each snapshot is rolled out the way `stitch dataset make` rolls out a behaviour policy (stochastic actions,
/// same seeds), and its data are compared with a D4RL dataset's published statistics (`DatasetComparison`); the
/// snapshot at the smallest summary distance wins.
///
/// D4RL's own choice (Fu et al. 2020, §4; `scripts/generation/mujoco/collect_data.py`) was an early-stopped
/// rlkit SAC snapshot whose sampled actions made the data; the stopping point is not published, so Stitch
/// measures it back from the data's statistics.
public enum PolicySelection {
  /// One snapshot's rollout compared with the reference.
  public struct Candidate: Sendable {
    public var snapshot: URL
    /// The SAC step the snapshot was taken at and its evaluation return, from its metadata (nil when absent).
    public var step: Int?
    public var evaluationReturn: Double?
    public var trainingSeed: String?
    public var comparison: DatasetComparison
    /// The normalized score of the rollout's mean complete-episode return.
    public var normalizedMean: Double?
  }

  /// Errors finding snapshots.
  public enum SelectionError: Error, CustomStringConvertible {
    case noSnapshots(String)
    case wrongTask(String)
    public var description: String {
      switch self { case .noSnapshots(let s), .wrongTask(let s): return s }
    }
  }

  /// The snapshot files a path names: a snapshot file itself, a run seed folder (RUN/seed_K/snapshots/*), a
  /// snapshots folder, or a run folder holding seed folders; sorted by seed folder, then step.
  public static func snapshots(at path: URL) throws -> [URL] {
    let fm = FileManager.default
    var isDir: ObjCBool = false
    guard fm.fileExists(atPath: path.path, isDirectory: &isDir) else {
      throw SelectionError.noSnapshots("\(path.path) does not exist")
    }
    if !isDir.boolValue { return [path] }
    func files(in folder: URL) -> [URL] {
      let names = (try? fm.contentsOfDirectory(atPath: folder.path)) ?? []
      return names.filter { $0.hasPrefix("step_") && $0.hasSuffix(".safetensors") }
        .sorted { stepNumber($0) < stepNumber($1) }.map { folder.appendingPathComponent($0) }
    }
    var found = files(in: path) + files(in: path.appendingPathComponent("snapshots"))
    if found.isEmpty {
      let seeds = ((try? fm.contentsOfDirectory(atPath: path.path)) ?? []).filter { $0.hasPrefix("seed_") }
        .sorted { (Int($0.dropFirst(5)) ?? 0) < (Int($1.dropFirst(5)) ?? 0) }
      for s in seeds { found += files(in: path.appendingPathComponent(s).appendingPathComponent("snapshots")) }
    }
    guard !found.isEmpty else {
      throw SelectionError.noSnapshots("\(path.path) holds no SAC snapshots (step_N.safetensors, written at every evaluation of `stitch train --algo sac`)")
    }
    return found
  }

  /// The step in a snapshot file name "step_N.safetensors" (Int.max when it holds none).
  public static func stepNumber(_ file: String) -> Int {
    Int(file.dropFirst("step_".count).dropLast(".safetensors".count)) ?? .max
  }

  /// Rolls out the snapshot at `url` for `transitions` steps from `seed` (as `stitch dataset make`) and compares
  /// its complete episodes with `reference`.
  /// - Throws: when the snapshot is not a behaviour-policy file, acts in another task than the reference's, or its
  ///   rollout holds no complete episode.
  /// - Parameter meanActions: roll out the mean action instead of sampling (a diagnostic; D4RL sampled).
  public static func evaluate(_ url: URL, reference: D4RLReference, transitions: Int, seed: UInt64, meanActions: Bool = false) throws -> Candidate {
    let policy = try BehaviourPolicy.load(url)
    guard NormalizedScore.family(of: policy.task) == reference.family else {
      throw SelectionError.wrongTask("\(url.path) acts in \(policy.task); d4rl:\(reference.name) is a \(reference.family) dataset")
    }
    let ds = try DatasetMaker.rollout(policy.task, policy: policy, size: transitions, seed: seed, name: reference.name,
                                      meanActions: meanActions, progress: nil)
    let c = try DatasetComparison(ds, reference: reference, label: "the rollout of \(url.lastPathComponent)")
    return Candidate(snapshot: url, step: policy.metadata["step"].flatMap { Int($0) },
                     evaluationReturn: policy.metadata["eval_return"].flatMap { Double($0) },
                     trainingSeed: policy.metadata["seed"], comparison: c,
                     normalizedMean: NormalizedScore.score(task: policy.task, return: c.returnMean))
  }

  /// Evaluates every snapshot, `concurrency` at a time (each rollout has its own seeds, so the result does not
  /// depend on the order or the concurrency), calling `progress` after each with the number done.
  public static func evaluateAll(_ urls: [URL], reference: D4RLReference, transitions: Int, seed: UInt64, meanActions: Bool = false,
                                 concurrency: Int, progress: (@Sendable (Int) -> Void)? = nil) throws -> [Candidate] {
    // Workers claim the next snapshot as they finish one (rollouts differ in length); one lock guards both counters.
    final class Results: @unchecked Sendable {
      let lock = NSLock()
      var items: [Result<Candidate, any Error>?]
      var claimed = 0, done = 0
      init(_ n: Int) { items = Array(repeating: nil, count: n) }
    }
    let results = Results(urls.count)
    DispatchQueue.concurrentPerform(iterations: max(1, min(concurrency, urls.count))) { _ in
      while true {
        results.lock.lock(); let i = results.claimed; results.claimed += 1; results.lock.unlock()
        guard i < urls.count else { return }
        let r = Result { try evaluate(urls[i], reference: reference, transitions: transitions, seed: seed, meanActions: meanActions) }
        results.lock.lock(); results.items[i] = r; results.done += 1; let d = results.done; results.lock.unlock()
        progress?(d)
      }
    }
    return try results.items.map { try $0!.get() }
  }

  /// The candidate at the smallest summary distance (the earliest one on a tie).
  public static func best(_ candidates: [Candidate]) -> Candidate? {
    candidates.enumerated().min { a, b in
      a.element.comparison.distance != b.element.comparison.distance
        ? a.element.comparison.distance < b.element.comparison.distance : a.offset < b.offset
    }?.element
  }
}
