import Foundation

/// The Minari dataset layout (Farama Minari 0.5, `minari/dataset/_storages/hdf5_storage.py`, docs/facts.md §2b):
/// a dataset folder whose `data/` holds `metadata.json` and `main_data.hdf5` with one group per episode
/// (`episode_0`, `episode_1`, ...: HDF5 lists them lexicographically, so they are ordered by their number here),
/// each with `observations` (T + 1 rows: the reset observation, then one per step), `actions` (T), `rewards` (T),
/// `terminations` (T), `truncations` (T).
///
/// Transitions: (observations[t], actions[t], rewards[t], observations[t + 1]), terminal = terminations[t],
/// timeout = truncations[t] and not terminal — so next observations never cross an episode boundary. (d3rlpy's
/// `get_minari` concatenates all T + 1 observation rows against T actions; Stitch does not.) An episode whose last
/// step neither terminates nor truncates is treated as truncated, with a note. Minari's reference scores
/// (`ref_min_score`, `ref_max_score` in metadata.json) are kept in `Dataset.metadata` for the normalized score.
public enum MinariFile {
  /// Reads a Minari dataset from its folder (the one holding `data/`), from `data/` itself, or from
  /// `data/main_data.hdf5`.
  public static func read(_ path: String, options: LoadOptions = LoadOptions()) throws -> (Dataset, LoadReport) {
    let dataDir = try locate(path)
    let metadataURL = URL(fileURLWithPath: dataDir).appendingPathComponent("metadata.json")
    let hdf5Path = URL(fileURLWithPath: dataDir).appendingPathComponent("main_data.hdf5").path
    func fail(_ problem: String) -> DatasetError { .invalid(file: path, problem: problem) }
    guard let data = FileManager.default.contents(atPath: metadataURL.path),
          let metadata = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
      throw fail("data/metadata.json is missing or is not a JSON object")
    }
    if let format = metadata["data_format"] as? String, format != "hdf5" {
      throw fail("data_format '\(format)' is not supported yet (only Minari's hdf5 storage)")
    }
    let file = try HDF5File.open(hdf5Path)
    var report = LoadReport()
    let episodes = file.children(of: "/").compactMap { name -> (Int, String)? in
      guard name.hasPrefix("episode_"), let id = Int(name.dropFirst("episode_".count)) else { return nil }
      return (id, name)
    }.sorted { $0.0 < $1.0 }
    guard !episodes.isEmpty else { throw fail("main_data.hdf5 holds no episode_N groups") }
    var ds: Dataset? = nil
    for (id, group) in episodes {
      let keys = file.children(of: "\(group)/observations")
      if !keys.isEmpty {
        throw fail("observation space is a Dict (keys: \(keys.sorted().joined(separator: ", "))): not supported yet; only flat Box observations are")
      }
      for key in ["observations", "actions", "rewards", "terminations", "truncations"] where !file.exists("\(group)/\(key)") {
        throw HDF5Error.missingKey(file: hdf5Path, key: "\(group)/\(key)")
      }
      let obs = try file.readFloats("\(group)/observations"), act = try file.readFloats("\(group)/actions")
      let rew = try file.readFloats("\(group)/rewards"), term = try file.readFloats("\(group)/terminations")
      let trunc = try file.readFloats("\(group)/truncations")
      let t = act.shape.first ?? 0
      let od = obs.shape.count == 1 ? 1 : obs.shape.dropFirst().reduce(1, *)
      let ad = act.shape.count == 1 ? 1 : act.shape.dropFirst().reduce(1, *)
      guard obs.shape.first == t + 1 else {
        throw fail("\(group): observations has \(obs.shape.first ?? 0) rows and actions \(t); Minari stores T + 1 observations for T actions")
      }
      guard rew.shape.first == t, term.shape.first == t, trunc.shape.first == t else {
        throw fail("\(group): rewards/terminations/truncations have \(rew.shape.first ?? 0)/\(term.shape.first ?? 0)/\(trunc.shape.first ?? 0) rows, actions \(t)")
      }
      if ds == nil {
        if let e = options.expectedObservationDim, e != od { throw fail("observation width \(od) does not match the environment's \(e)") }
        if let e = options.expectedActionDim, e != ad { throw fail("action width \(ad) does not match the environment's \(e)") }
        ds = Dataset(observationDim: od, actionDim: ad)
      }
      guard ds!.observationDim == od, ds!.actionDim == ad else { throw fail("\(group): widths \(od)/\(ad) differ from earlier episodes") }
      for s in 0..<t {
        let terminal = term.values[s] != 0
        var timeout = trunc.values[s] != 0 && !terminal
        report.fileTerminals = (report.fileTerminals ?? 0) + (terminal ? 1 : 0)
        report.fileTimeouts = (report.fileTimeouts ?? 0) + (trunc.values[s] != 0 ? 1 : 0)
        if s == t - 1 && !terminal && !timeout {
          timeout = true
          report.closedUnfinishedEpisodes += 1
          report.notes.append("episode \(id) never ends (last step neither terminated nor truncated): treated as truncated")
        }
        ds!.append(observation: Array(obs.values[(s * od)..<((s + 1) * od)]), action: Array(act.values[(s * ad)..<((s + 1) * ad)]),
                   reward: rew.values[s], nextObservation: Array(obs.values[((s + 1) * od)..<((s + 2) * od)]),
                   terminal: terminal, timeout: timeout)
      }
    }
    var out = ds!
    out.metadata["source_file"] = path
    out.metadata["format"] = "minari"
    if let id = metadata["dataset_id"] as? String { out.metadata["dataset"] = id }
    if let spec = metadata["env_spec"] as? String, let specData = spec.data(using: .utf8),
       let specObject = (try? JSONSerialization.jsonObject(with: specData)) as? [String: Any], let envID = specObject["id"] as? String {
      out.metadata["environment"] = envID
    } else if let spec = metadata["env_spec"] as? [String: Any], let envID = spec["id"] as? String {
      out.metadata["environment"] = envID
    }
    for key in ["ref_min_score", "ref_max_score"] {
      if let v = metadata[key] as? Double { out.metadata[key] = String(v) } else if let v = metadata[key] as? Int { out.metadata[key] = String(v) }
    }
    if let v = metadata["minari_version"] as? String { out.metadata["minari_version"] = v }
    if let total = metadata["total_steps"] as? Int, total != out.count {
      report.notes.append("metadata.json says total_steps \(total), the episodes hold \(out.count) steps")
    }
    try D4RLFile.dropOrRefuseNonFinite(&out, path: path, options: options, report: &report)
    return (out, report)
  }

  /// Whether `path` looks like a Minari dataset (folder, data/ folder or main_data.hdf5).
  public static func isMinari(_ path: String) -> Bool { (try? locate(path)) != nil }

  static func locate(_ path: String) throws -> String {
    let fm = FileManager.default
    var isDir: ObjCBool = false
    if path.hasSuffix("main_data.hdf5") { return (path as NSString).deletingLastPathComponent }
    if fm.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
      let data = (path as NSString).appendingPathComponent("data")
      if fm.fileExists(atPath: (data as NSString).appendingPathComponent("main_data.hdf5")) { return data }
      if fm.fileExists(atPath: (path as NSString).appendingPathComponent("main_data.hdf5")) { return path }
      throw DatasetError.invalid(file: path, problem: "not a Minari dataset folder: expected data/metadata.json and data/main_data.hdf5")
    }
    throw DatasetError.invalid(file: path, problem: fm.fileExists(atPath: path) ? "not a Minari dataset folder" : "no such file or folder")
  }
}

/// Reads either layout: a Minari dataset folder, or a D4RL HDF5 file.
public enum DatasetFile {
  public static func read(_ path: String, options: LoadOptions = LoadOptions()) throws -> (Dataset, LoadReport) {
    var isDir: ObjCBool = false
    if path.hasSuffix("main_data.hdf5") || (FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue) {
      return try MinariFile.read(path, options: options)
    }
    return try D4RLFile.read(path, options: options)
  }
}
