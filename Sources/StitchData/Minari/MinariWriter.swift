import CHDF5

import Foundation

/// Writes a dataset as a Minari dataset folder (minari 0.5 hdf5 storage, docs/facts.md §2b, checked against files
/// minari 0.5.4 writes): `data/main_data.hdf5` with groups `episode_N` (attributes `id`, `total_steps`) holding
/// `observations` (T + 1 rows: each step's observation, then the episode's last next observation), `actions`,
/// `rewards` (float64, as minari stores them), `terminations`, `truncations` (bool enums) and an empty `infos`
/// group; and `data/metadata.json` with the keys minari writes (spaces serialised as minari does, as JSON strings).
/// Episodes follow `Dataset.episodes`. The folder appears atomically (written beside, then renamed).
public enum MinariWriter {
  /// `datasetID` gets a "-v0" suffix when it has no version (minari's `parse_dataset_id` requires one).
  public static func write(_ ds: Dataset, to folder: String, datasetID rawID: String) throws {
    let datasetID = rawID.range(of: #"-v[0-9]+$"#, options: .regularExpression) == nil ? rawID + "-v0" : rawID
    let problems = ds.invariantViolations()
    guard problems.isEmpty else { throw DatasetError.invalid(file: folder, problem: problems.joined(separator: "; ")) }
    let fm = FileManager.default
    let target = URL(fileURLWithPath: folder)
    let temporary = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).tmp-\(getpid())")
    try? fm.removeItem(at: temporary)
    try fm.createDirectory(at: temporary.appendingPathComponent("data"), withIntermediateDirectories: true)
    do {
      let od = ds.observationDim, ad = ds.actionDim
      do {
        let file = try HDF5File.create(temporary.appendingPathComponent("data/main_data.hdf5").path)
        for (k, e) in ds.episodes.enumerated() {
          let g = "episode_\(k)"
          file.makeGroup(g)
          file.makeGroup("\(g)/infos")
          var obs = Array(ds.observations[(e.start * od)..<((e.start + e.length) * od)])
          obs += ds.nextObservations[((e.start + e.length - 1) * od)..<((e.start + e.length) * od)]
          try obs.withUnsafeBufferPointer { try file.writeFloats("\(g)/observations", shape: [e.length + 1, od], values: $0) }
          try Array(ds.actions[(e.start * ad)..<((e.start + e.length) * ad)]).withUnsafeBufferPointer {
            try file.writeFloats("\(g)/actions", shape: [e.length, ad], values: $0)
          }
          try file.writeDoubles("\(g)/rewards", shape: [e.length], values: ds.rewards[e.start..<(e.start + e.length)].map(Double.init))
          try file.writeBools("\(g)/terminations", values: Array(ds.terminals[e.start..<(e.start + e.length)]))
          try file.writeBools("\(g)/truncations", values: Array(ds.timeouts[e.start..<(e.start + e.length)]))
          try file.writeAttribute(g, "id", Int64(k))
          try file.writeAttribute(g, "total_steps", Int64(e.length))
        }
        guard H5Fflush(file.id, H5F_SCOPE_GLOBAL) >= 0 else { throw HDF5Error.writeFailed(file: folder, detail: "flush failed") }
      }
      func box(_ n: Int) -> String {
        let inf = Array(repeating: "-Infinity", count: n).joined(separator: ", "), sup = Array(repeating: "Infinity", count: n).joined(separator: ", ")
        return "{\"type\": \"Box\", \"dtype\": \"float32\", \"shape\": [\(n)], \"low\": [\(inf)], \"high\": [\(sup)]}"
      }
      var metadata: [String: Any] = [
        "total_episodes": ds.episodes.count, "total_steps": ds.count, "data_format": "hdf5", "jpeg_encoding": false,
        "observation_space": box(od), "action_space": box(ad), "dataset_id": datasetID, "author": ["Stitch"],
        "algorithm_name": ds.metadata["policy"] ?? "unknown", "description": "converted by stitch dataset convert",
        "minari_version": "0.5.4",
      ]
      if let env = ds.metadata["environment"] {
        metadata["env_spec"] = "{\"id\": \"\(env)\", \"entry_point\": null, \"reward_threshold\": null, \"nondeterministic\": false, \"max_episode_steps\": null, \"order_enforce\": true, \"disable_env_checker\": false, \"kwargs\": {}, \"additional_wrappers\": [], \"vector_entry_point\": null}"
      }
      for key in ["ref_min_score", "ref_max_score"] { if let v = ds.metadata[key].flatMap(Double.init) { metadata[key] = v } }
      let json = try JSONSerialization.data(withJSONObject: metadata, options: [.sortedKeys])
      try json.write(to: temporary.appendingPathComponent("data/metadata.json"))
      if fm.fileExists(atPath: target.path) { try fm.removeItem(at: target) }
      try fm.moveItem(at: temporary, to: target)
    } catch {
      try? fm.removeItem(at: temporary)
      throw error
    }
  }
}
