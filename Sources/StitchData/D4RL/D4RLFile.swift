import CHDF5

import Foundation

/// Options for loading a dataset file.
public struct LoadOptions: Sendable {
  /// Drop transitions with NaN or infinite values instead of refusing the file.
  public var dropNonFinite = false
  /// Expected observation and action widths (from the environment), checked when given.
  public var expectedObservationDim: Int? = nil
  public var expectedActionDim: Int? = nil
  public init(dropNonFinite: Bool = false, expectedObservationDim: Int? = nil, expectedActionDim: Int? = nil) {
    self.dropNonFinite = dropNonFinite
    self.expectedObservationDim = expectedObservationDim
    self.expectedActionDim = expectedActionDim
  }
}

/// What loading did besides reading: rows dropped and why, rules applied, warnings.
public struct LoadReport: Sendable {
  public var notes: [String] = []
  public var droppedNonFinite = 0
  /// The flags as the file holds them (rows flagged terminal, rows flagged timeout or truncated),
  /// before the loader's own changes: the Q-learning view moving a timeout to the row before, a dropped row
  /// ending its episode, an unfinished last episode closed. nil when the reader did not count them.
  public var fileTerminals: Int? = nil
  public var fileTimeouts: Int? = nil
  /// Episodes the file leaves unfinished (their last row neither terminal nor timeout) that the loader closed
  /// with a timeout so that every episode ends (counted in the loaded dataset's timeouts, not in `fileTimeouts`).
  public var closedUnfinishedEpisodes = 0
  /// Episodes the loader ended before a dropped non-finite row (`LoadOptions.dropNonFinite`) with a timeout.
  public var episodesCutAtDroppedRows = 0
}

/// Errors in a dataset's content, each naming the file and the problem.
public enum DatasetError: Error, CustomStringConvertible, Equatable {
  case invalid(file: String, problem: String)
  public var description: String {
    switch self { case .invalid(let file, let problem): return "\(file): \(problem)" }
  }
}

/// The D4RL HDF5 layout (Fu et al. 2020; d4rl/offline_env.py `get_dataset`, docs/facts.md §2a): top-level
/// `observations` (N, obs), `actions` (N, act), `rewards` (N,) or (N, 1), `terminals`, `timeouts`, optional
/// `next_observations`; `infos/*` float columns of N rows (`infos/qpos`, `infos/qvel`, `infos/action_log_probs`,
/// `infos/goal`) are kept in `Dataset.infos` through every row filter, others are skipped with a note; string
/// metadata under `metadata/` is kept in `Dataset.metadata`.
public enum D4RLFile {
  /// Reads a D4RL-layout file.
  ///
  /// Transition rule: when `next_observations` is present it is used as is (OfflineRL-Kit's reading). When it is
  /// absent, the Q-learning view of `d4rl.qlearning_dataset` is built: next = observations[i+1], rows with
  /// `timeouts[i]` are dropped (their successor belongs to the next episode), and the last row is dropped; the row
  /// before a dropped timeout is marked as a timeout so episodes still split there. Every kept row's next action is
  /// the file's `actions[i + 1]` (`Dataset.nextActions`, CORL rebrac.py's `next_actions`), so the row before a
  /// dropped timeout keeps the action taken at its next observation. A file with `next_observations` may carry
  /// `next_actions` (as Stitch writes them when known). Old files without `timeouts` split episodes on terminals
  /// only (noted in the report). With `dropNonFinite`, a dropped row ends its episode: the kept row before it is
  /// marked as a timeout, so it is never merged with the rows after the gap.
  public static func read(_ path: String, options: LoadOptions = LoadOptions()) throws -> (Dataset, LoadReport) {
    let file = try HDF5File.open(path)
    var report = LoadReport()
    for key in ["observations", "actions", "rewards", "terminals"] where !file.exists(key) {
      throw HDF5Error.missingKey(file: path, key: key)
    }
    let obs = try file.readFloats("observations"), act = try file.readFloats("actions")
    let rew = try file.readFloats("rewards"), term = try file.readFloats("terminals")
    let timeouts: (shape: [Int], values: [Float])
    if file.exists("timeouts") { timeouts = try file.readFloats("timeouts") } else {
      timeouts = ([obs.shape.first ?? 0], [Float](repeating: 0, count: obs.shape.first ?? 0))
      report.notes.append("no 'timeouts' dataset: episodes split on terminals only")
    }
    func fail(_ problem: String) -> DatasetError { .invalid(file: path, problem: problem) }
    guard obs.shape.count == 2 else { throw fail("'observations' must have rank 2 (N, obs_dim), found shape \(obs.shape)") }
    guard act.shape.count == 2 else { throw fail("'actions' must have rank 2 (N, act_dim), found shape \(act.shape)") }
    for (name, s) in [("rewards", rew.shape), ("terminals", term.shape), ("timeouts", timeouts.shape)] {
      guard s.count == 1 || (s.count == 2 && s[1] == 1) else { throw fail("'\(name)' must have shape (N,) or (N, 1), found \(s)") }
    }
    let n = obs.shape[0], od = obs.shape[1], ad = act.shape[1]
    let lengths = [("observations", n), ("actions", act.shape[0]), ("rewards", rew.shape[0]), ("terminals", term.shape[0]), ("timeouts", timeouts.shape[0])]
    if Set(lengths.map(\.1)).count > 1 {
      throw fail("column lengths disagree: " + lengths.map { "\($0.0) \($0.1)" }.joined(separator: ", "))
    }
    if let e = options.expectedObservationDim, e != od { throw fail("observation width \(od) does not match the environment's \(e)") }
    if let e = options.expectedActionDim, e != ad { throw fail("action width \(ad) does not match the environment's \(e)") }
    var next: [Float]? = nil
    if file.exists("next_observations") {
      let nx = try file.readFloats("next_observations")
      guard nx.shape == obs.shape else { throw fail("'next_observations' has shape \(nx.shape), 'observations' \(obs.shape)") }
      next = nx.values
    }
    var ds = Dataset(observationDim: od, actionDim: ad)
    ds.metadata["source_file"] = path
    for key in file.children(of: "metadata") { if let s = file.readString("metadata/\(key)") { ds.metadata[key] = s } }
    var infos: [String: Dataset.InfoColumn] = [:]
    for key in file.children(of: "infos") {
      guard let column = try? file.readFloats("infos/\(key)"), column.shape.count == 1 || column.shape.count == 2,
            column.shape.first == n, (column.shape.count == 1 || column.shape[1] > 0) else {
        report.notes.append("skipped 'infos/\(key)': not a float column of \(n) rows")
        continue
      }
      infos[key] = Dataset.InfoColumn(width: column.shape.count == 2 ? column.shape[1] : 1, values: column.values)
    }
    let isTerminal = term.values.map { $0 != 0 }, isTimeout = timeouts.values.map { $0 != 0 }
    report.fileTerminals = isTerminal.filter { $0 }.count
    report.fileTimeouts = isTimeout.filter { $0 }.count
    if let next {
      ds.observations = obs.values
      ds.actions = act.values
      ds.rewards = rew.values
      ds.nextObservations = next
      ds.terminals = isTerminal
      ds.timeouts = zip(isTimeout, isTerminal).map { $0 && !$1 }
      ds.infos = infos
      if file.exists("next_actions") {
        let na = try file.readFloats("next_actions")
        guard na.shape == act.shape else { throw fail("'next_actions' has shape \(na.shape), 'actions' \(act.shape)") }
        ds.nextActions = na.values
      }
    } else {
      report.notes.append("no 'next_observations': built the Q-learning view as d4rl.qlearning_dataset (next = obs[i+1]; timeout rows and the last row dropped)")
      ds.observations.reserveCapacity(n * od); ds.nextObservations.reserveCapacity(n * od); ds.actions.reserveCapacity(n * ad)
      var nextActions: [Float] = []
      nextActions.reserveCapacity(n * ad)
      var kept: [Int] = []
      for i in 0..<max(n - 1, 0) {
        if isTimeout[i] {
          if ds.count > 0, !ds.terminals[ds.count - 1] { ds.timeouts[ds.count - 1] = true }
          continue
        }
        kept.append(i)
        ds.observations += obs.values[(i * od)..<((i + 1) * od)]
        ds.nextObservations += obs.values[((i + 1) * od)..<((i + 2) * od)]
        ds.actions += act.values[(i * ad)..<((i + 1) * ad)]
        nextActions += act.values[((i + 1) * ad)..<((i + 2) * ad)]
        ds.rewards.append(rew.values[i])
        ds.terminals.append(isTerminal[i])
        ds.timeouts.append(false)
      }
      ds.nextActions = nextActions
      ds.infos = Dataset.selectInfoRows(infos, kept)
    }
    try dropOrRefuseNonFinite(&ds, path: path, options: options, report: &report)
    if ds.count > 0, !ds.terminals[ds.count - 1], !ds.timeouts[ds.count - 1] {
      ds.timeouts[ds.count - 1] = true
      report.closedUnfinishedEpisodes += 1
      report.notes.append("the last episode never ends (last row neither terminal nor timeout): treated as truncated")
    }
    return (ds, report)
  }

  static func dropOrRefuseNonFinite(_ ds: inout Dataset, path: String, options: LoadOptions, report: inout LoadReport) throws {
    var bad: [Int] = []
    for i in 0..<ds.count {
      let rowsFinite = ds.rewards[i].isFinite
        && ds.observations[(i * ds.observationDim)..<((i + 1) * ds.observationDim)].allSatisfy(\.isFinite)
        && ds.nextObservations[(i * ds.observationDim)..<((i + 1) * ds.observationDim)].allSatisfy(\.isFinite)
        && ds.actions[(i * ds.actionDim)..<((i + 1) * ds.actionDim)].allSatisfy(\.isFinite)
      if !rowsFinite { bad.append(i) }
    }
    guard let first = bad.first else { return }
    guard options.dropNonFinite else {
      throw DatasetError.invalid(file: path, problem: "\(bad.count) transitions contain NaN or infinite values (first at row \(first)); load with the option to drop them (--drop-non-finite)")
    }
    var keep = [Bool](repeating: true, count: ds.count)
    for i in bad { keep[i] = false }
    var out = Dataset(observationDim: ds.observationDim, actionDim: ds.actionDim, metadata: ds.metadata)
    let ad = ds.actionDim
    var nextActions: [Float]? = ds.nextActions.map { _ in [] }
    var kept: [Int] = []
    for i in 0..<ds.count {
      guard keep[i] else {
        // A dropped row ends its episode: the kept row before it (same episode) becomes its last, a timeout (the
        // episode was cut, not terminated), so it does not run on into the rows after the gap.
        if out.count > 0, !out.terminals[out.count - 1], !out.timeouts[out.count - 1] {
          out.timeouts[out.count - 1] = true
          report.episodesCutAtDroppedRows += 1
        }
        continue
      }
      out.append(observation: Array(ds.observations[(i * ds.observationDim)..<((i + 1) * ds.observationDim)]),
                 action: Array(ds.actions[(i * ad)..<((i + 1) * ad)]), reward: ds.rewards[i],
                 nextObservation: Array(ds.nextObservations[(i * ds.observationDim)..<((i + 1) * ds.observationDim)]),
                 terminal: ds.terminals[i], timeout: ds.timeouts[i])
      if let column = ds.nextActions { nextActions! += column[(i * ad)..<((i + 1) * ad)] }
      kept.append(i)
    }
    out.nextActions = nextActions
    out.infos = Dataset.selectInfoRows(ds.infos, kept)
    ds = out
    report.droppedNonFinite = bad.count
    report.notes.append("dropped \(bad.count) transitions with NaN or infinite values (first at row \(first)); \(report.episodesCutAtDroppedRows) episodes end before a dropped row (marked as timeouts)")
  }

  /// Writes the D4RL layout atomically (a temporary file in the same folder, renamed when complete): float32
  /// columns gzip-compressed, `terminals`/`timeouts` as HDF5 bool enums (h5py reads NumPy bool), string metadata
  /// under `metadata/`. Files load in h5py, d4rl-style loaders and d3rlpy.
  public static func write(_ ds: Dataset, to path: String) throws {
    let problems = ds.invariantViolations()
    guard problems.isEmpty else { throw DatasetError.invalid(file: path, problem: problems.joined(separator: "; ")) }
    let url = URL(fileURLWithPath: path)
    let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())").path
    do {
      let file = try HDF5File.create(temporary)
      try ds.observations.withUnsafeBufferPointer { try file.writeFloats("observations", shape: [ds.count, ds.observationDim], values: $0) }
      try ds.actions.withUnsafeBufferPointer { try file.writeFloats("actions", shape: [ds.count, ds.actionDim], values: $0) }
      try ds.rewards.withUnsafeBufferPointer { try file.writeFloats("rewards", shape: [ds.count], values: $0) }
      try ds.nextObservations.withUnsafeBufferPointer { try file.writeFloats("next_observations", shape: [ds.count, ds.observationDim], values: $0) }
      if let nextActions = ds.nextActions {
        try nextActions.withUnsafeBufferPointer { try file.writeFloats("next_actions", shape: [ds.count, ds.actionDim], values: $0) }
      }
      for (name, column) in ds.infos.sorted(by: { $0.key < $1.key }) {
        let shape = column.width == 1 ? [ds.count] : [ds.count, column.width]
        try column.values.withUnsafeBufferPointer { try file.writeFloats("infos/\(name)", shape: shape, values: $0) }
      }
      try file.writeBools("terminals", values: ds.terminals)
      try file.writeBools("timeouts", values: ds.timeouts)
      for key in ds.metadata.keys.sorted() where key != "source_file" { try file.writeString("metadata/\(key)", ds.metadata[key]!) }
      guard H5Fflush(file.id, H5F_SCOPE_GLOBAL) >= 0 else { throw HDF5Error.writeFailed(file: path, detail: "flush failed") }
    } catch {
      unlink(temporary)
      throw error
    }
    guard rename(temporary, path) == 0 else {
      let reason = String(cString: strerror(errno))
      unlink(temporary)
      throw HDF5Error.writeFailed(file: path, detail: reason)
    }
  }
}
