import Foundation
import StitchAlgorithms
import StitchData
import StitchDiffusion
import StitchEnvironments
import StitchNN

import StitchTensor

/// The metrics of a run: one JSON object per line in `metrics.jsonl`, the same rows in `metrics.csv`, and the same
/// values as TensorBoard scalars in an `events.out.tfevents.*` file (`TensorBoardEvents`; a resumed run starts a new
/// event file that tells TensorBoard to drop the earlier one's events after the checkpoint).
///
/// Keys are stable snake_case names (`critic_loss`, `normalized_score`): they are a file format. Each row has
/// `step`; rows written at evaluations also carry the evaluation's keys. The CSV's columns are the union of
/// keys seen, so it is rewritten from the JSON lines (atomically) whenever a new key appears.
public final class MetricsLog {
  public let folder: URL
  public private(set) var rows: [[String: Double]] = []
  var columns: [String] = ["step"]
  let jsonl: FileHandle
  let events: TensorBoardEvents

  /// Opens (or creates) the log in `folder`. When resuming, rows after `resumeStep` are dropped (they belong to
  /// the part of the run that the checkpoint does not contain) so the resumed log equals an uninterrupted one.
  public init(folder: URL, resumeStep: Int? = nil) throws {
    self.folder = folder
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let path = folder.appendingPathComponent("metrics.jsonl")
    if let resumeStep, let text = try? String(contentsOf: path, encoding: .utf8) {
      // Rows up to the checkpoint are kept verbatim (re-encoding parsed numbers could change last digits).
      var kept = ""
      for line in text.split(separator: "\n") {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { continue }
        var row: [String: Double] = [:]
        for (k, v) in object { if let x = v as? Double { row[k] = x } else if let x = v as? Int { row[k] = Double(x) } }
        if let step = row["step"], step <= Double(resumeStep) {
          rows.append(row)
          kept += line + "\n"
        }
      }
      try AtomicFile.write(kept, to: path)
    } else {
      try AtomicFile.write(Data(), to: path)
    }
    jsonl = try FileHandle(forWritingTo: path)
    try jsonl.seekToEnd()
    // TensorBoard drops the events at and after a restart marker's step; the log keeps rows up to resumeStep.
    events = try TensorBoardEvents(folder: folder, restartStep: resumeStep.map { $0 + 1 })
    for row in rows { for k in row.keys.sorted() where !columns.contains(k) { columns.append(k) } }
    try writeCSV()
  }

  deinit { try? jsonl.close() }

  /// Appends one row.
  public func append(step: Int, _ values: [String: Double]) throws {
    var row = values
    row["step"] = Double(step)
    rows.append(row)
    try jsonl.write(contentsOf: Data(MetricsLog.jsonLine(row).utf8))
    try events.scalars(step: step, values)
    var newColumn = false
    for k in row.keys.sorted() where !columns.contains(k) { columns.append(k); newColumn = true }
    if newColumn { try writeCSV() } else {
      let handle = try FileHandle(forWritingTo: folder.appendingPathComponent("metrics.csv"))
      try handle.seekToEnd()
      try handle.write(contentsOf: Data(csvLine(row).utf8))
      try handle.close()
    }
  }

  func writeCSV() throws {
    let text = columns.joined(separator: ",") + "\n" + rows.map(csvLine).joined()
    try AtomicFile.write(text, to: folder.appendingPathComponent("metrics.csv"))
  }

  func csvLine(_ row: [String: Double]) -> String {
    columns.map { row[$0].map(MetricsLog.number) ?? "" }.joined(separator: ",") + "\n"
  }

  static func jsonLine(_ row: [String: Double]) -> String {
    let keys = ["step"] + row.keys.filter { $0 != "step" }.sorted()
    return "{" + keys.compactMap { k in row[k].map { "\"\(k)\": \(number($0))" } }.joined(separator: ", ") + "}\n"
  }

  static func number(_ x: Double) -> String {
    guard x.isFinite else { return "null" }
    return x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : "\(x)"
  }
}

/// Running means of update metrics between two log rows, each key over the updates that reported it.
///
/// Algorithms with a delayed actor (TD3+BC, ReBRAC) report `actor_loss` on every second update only; dividing its
/// sum by the number of all updates would log half its value.
public struct MetricAverages: Sendable {
  var sums: Metrics = [:]
  var counts: [String: Int] = [:]

  public init() {}

  public var isEmpty: Bool { counts.isEmpty }

  public mutating func add(_ metrics: Metrics) {
    for (k, v) in metrics {
      sums[k, default: 0] += v
      counts[k, default: 0] += 1
    }
  }

  /// Each key's mean over the updates that reported it; then starts over.
  public mutating func take() -> Metrics {
    var out: Metrics = [:]
    for (k, v) in sums { out[k] = v / Double(counts[k]!) }
    sums = [:]
    counts = [:]
    return out
  }
}
