import ArgumentParser
import Foundation

import Stitch

/// `stitch report --table`: the runs as the papers print them (CORL's `results/get_offline_tables_and_plots.py`):
/// one row per dataset, one column per algorithm (per algorithm and grid point for a sweep's cells), each cell "last" (mean ± std over seeds of each seed's final
/// evaluation) and "best" (the mean over seeds of each seed's best evaluation), then an average row over the
/// datasets where every algorithm has a cell (CORL's "locomotion average"). `--published FILE` (CSV with columns
/// dataset,algorithm,score, e.g. CORL's table) adds a row of published scores under each dataset. Markdown, or CSV
/// with `--csv`, or JSON with `--json`.
extension ReportCommand {
  struct TableCell {
    var dataset, algorithm: String
    var seeds: Int
    var last: (mean: Double, std: Double)
    var best: Double
  }

  /// The dataset a run trained on: its recorded dataset file's name without the extension (hopper-medium), or the
  /// environment for a run without a dataset.
  static func datasetName(_ root: URL, summaries: [RunSummary]) -> String {
    let seedFolder = ((try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []).sorted().first { $0.hasPrefix("seed_") }
    let configURL = (seedFolder.map { root.appendingPathComponent($0) } ?? root).appendingPathComponent("config.json")
    if let data = try? Data(contentsOf: configURL),
       let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
       let options = object["options"] as? [String: Any], let dataset = options["dataset"] as? [String: Any],
       let path = dataset["path"] as? String {
      return URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
    }
    return summaries.first?.environment ?? root.lastPathComponent
  }

  static func tableCells(_ paths: [String]) throws -> [TableCell] {
    try paths.compactMap { path in
      let (root, summaries, _, _) = try load(path)
      let finals = summaries.compactMap(\.finalNormalizedScore), bests = summaries.compactMap(\.bestNormalizedScore)
      guard !finals.isEmpty, let algorithm = summaries.first?.algorithm else { return nil }
      let m = finals.reduce(0, +) / Double(finals.count)
      let sd = (finals.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(finals.count)).squareRoot()
      // A sweep's grid cell (folder "td3bc,q_weight=2.5") is its own column, labelled by its folder.
      let folder = root.lastPathComponent
      let label = folder.hasPrefix(algorithm + ",") ? folder : algorithm
      return TableCell(dataset: datasetName(root, summaries: summaries), algorithm: label, seeds: finals.count, last: (m, sd),
                       best: bests.isEmpty ? .nan : bests.reduce(0, +) / Double(bests.count))
    }
  }

  /// Reads `dataset,algorithm,score` rows (a header line naming those columns, in any order).
  static func published(_ file: String) throws -> [String: Double] {
    guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw ValidationError("--published \(file): no such file") }
    let lines = text.split(whereSeparator: \.isNewline).map { $0.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) } }
    guard let header = lines.first, let d = header.firstIndex(of: "dataset"), let a = header.firstIndex(of: "algorithm"), let s = header.firstIndex(of: "score") else {
      throw ValidationError("--published \(file): the first line must name the columns dataset,algorithm,score")
    }
    var out: [String: Double] = [:]
    for (n, row) in lines.dropFirst().enumerated() where !row.allSatisfy(\.isEmpty) {
      guard row.count == header.count, let score = Double(row[s]) else {
        throw ValidationError("--published \(file): line \(n + 2) is not dataset,algorithm,score with a number: \(row.joined(separator: ","))")
      }
      out["\(row[d])|\(row[a].lowercased())"] = score
    }
    return out
  }

  static func table(_ paths: [String], published file: String?, format: String) throws -> String {
    let cells = try tableCells(paths)
    guard !cells.isEmpty else { throw ValidationError("--table: no run has a finished seed with a normalized score") }
    var seen = Set<String>()
    for c in cells where !seen.insert("\(c.dataset)|\(c.algorithm)").inserted {
      throw ValidationError("--table: two runs are \(c.algorithm) on \(c.dataset); give each (dataset, algorithm) once")
    }
    let published = try file.map(Self.published) ?? [:]
    let datasets = Array(Set(cells.map(\.dataset))).sorted(), algorithms = Array(Set(cells.map(\.algorithm))).sorted()
    func cell(_ d: String, _ a: String) -> TableCell? { cells.first { $0.dataset == d && $0.algorithm == a } }
    let complete = datasets.filter { d in algorithms.allSatisfy { cell(d, $0) != nil } }
    func average(_ a: String, _ value: (TableCell) -> Double) -> Double? {
      complete.isEmpty ? nil : complete.map { value(cell($0, a)!) }.reduce(0, +) / Double(complete.count)
    }
    switch format {
    case "json":
      return cells.map { c in
        JSONText.object([("dataset", .string(c.dataset)), ("algorithm", .string(c.algorithm)), ("seeds", .integer(c.seeds)),
                         ("last_mean", .number(c.last.mean)), ("last_std", .number(c.last.std)), ("best_mean", .number(c.best)),
                         ("published", published["\(c.dataset)|\(c.algorithm)"].map(JSONText.number) ?? .null)]).description
      }.joined(separator: "\n")
    case "csv":
      var out = "dataset,algorithm,seeds,last_mean,last_std,best_mean,published\n"
      for c in cells.sorted(by: { ($0.dataset, $0.algorithm) < ($1.dataset, $1.algorithm) }) {
        out += "\(c.dataset),\(c.algorithm),\(c.seeds),\(String(format: "%.2f", c.last.mean)),\(String(format: "%.2f", c.last.std)),"
          + "\(c.best.isNaN ? "" : String(format: "%.2f", c.best)),\(published["\(c.dataset)|\(c.algorithm)"].map { String($0) } ?? "")\n"
      }
      return out
    default:
      var out = "| dataset | " + algorithms.joined(separator: " | ") + " |\n|---|" + String(repeating: "---|", count: algorithms.count) + "\n"
      for d in datasets {
        out += "| \(d) (last) | " + algorithms.map { a in cell(d, a).map { String(format: "%.1f ± %.1f (%d)", $0.last.mean, $0.last.std, $0.seeds) } ?? "" }.joined(separator: " | ") + " |\n"
        out += "| \(d) (best) | " + algorithms.map { a in cell(d, a).map { $0.best.isNaN ? "n/a" : String(format: "%.1f", $0.best) } ?? "" }.joined(separator: " | ") + " |\n"
        if algorithms.contains(where: { published["\(d)|\($0)"] != nil }) {
          out += "| \(d) (published) | " + algorithms.map { a in published["\(d)|\(a)"].map { String(format: "%.1f", $0) } ?? "" }.joined(separator: " | ") + " |\n"
        }
      }
      if complete.count > 1 {
        out += "| average of \(complete.count) (last) | " + algorithms.map { a in String(format: "%.1f", average(a) { $0.last.mean }!) }.joined(separator: " | ") + " |\n"
      }
      return out
    }
  }
}
