import ArgumentParser
import Foundation
import Testing
@testable import StitchCLI

import Stitch
#if canImport(FoundationXML)
import FoundationXML
#endif

/// `stitch report` summarises the seeds of a run folder and names the ones without a summary.
@Suite struct ReportCommandTests {
  @Test func reportsMeanAndSpreadAndMissingSeeds() throws {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("stitch-report-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: root) }
    for (seed, score) in [(0, 40.0), (1, 50.0)] {
      let folder = root.appendingPathComponent("seed_\(seed)")
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
      let json = """
        {"algorithm": "td3bc", "environment": "Hopper-v4", "seed": \(seed), "steps": 1000, "finalReturn": 1000,
         "finalNormalizedScore": \(score), "bestNormalizedScore": \(score + 5), "evaluations": [], "seconds": 120, "stoppedEarly": false}
        """
      try Data(json.utf8).write(to: folder.appendingPathComponent("summary.json"))
    }
    try FileManager.default.createDirectory(at: root.appendingPathComponent("seed_2"), withIntermediateDirectories: true)
    // A seed still training: its log and config say how far it got; it is named, not averaged.
    let running = root.appendingPathComponent("seed_3")
    try FileManager.default.createDirectory(at: running, withIntermediateDirectories: true)
    try Data(#"{"algorithm": "td3bc", "options": {"steps": 10000, "environment": "Hopper-v4"}}"#.utf8).write(to: running.appendingPathComponent("config.json"))
    try Data("""
      {"step": 1000, "critic_loss": 3.0}
      {"step": 2000, "eval_return": 900.5, "eval_return_std": 3.0, "normalized_score": 12.5}
      {"step": 3000, "critic_loss": 2.0}

      """.utf8).write(to: running.appendingPathComponent("metrics.jsonl"))
    let row = try ReportCommand.row(root.path, json: false)
    #expect(row.contains("| td3bc | Hopper-v4 | 2 | 1000 | 45.0 ± 5.0 | 50.0 | 40.0, 50.0 (unfinished: seed_2; seed_3 at step 3000 of 10000, last score 12.5 at step 2000) | 2 |"), "\(row)")
    let json = try ReportCommand.row(root.path, json: true)
    #expect(json.contains(#""missing": ["seed_2", "seed_3"]"#), "\(json)")
    // A run whose only seed is unfinished still names its algorithm and task (from config.json).
    try FileManager.default.removeItem(at: root.appendingPathComponent("seed_0"))
    try FileManager.default.removeItem(at: root.appendingPathComponent("seed_1"))
    try FileManager.default.removeItem(at: root.appendingPathComponent("seed_2"))
    let alone = try ReportCommand.row(root.path, json: false)
    #expect(alone.contains("| td3bc | Hopper-v4 | 0 | 0 | n/a | n/a |  (unfinished: seed_3 at step 3000"), "\(alone)")
    #expect(throws: (any Error).self) { _ = try ReportCommand.row(root.appendingPathComponent("nowhere").path, json: false) }
  }

  /// `report --plot` redraws a run's curve from every seed with a summary (seeds trained by separate commands).
  @Test func plotRedrawsTheCurveFromAllSeeds() throws {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("stitch-report-plot-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: root) }
    let curves: [[[Double]]] = [[[500, 900, 30], [1000, 1000, 40]], [[500, 1100, 50], [1000, 1200, 70]]]
    for (seed, evaluations) in curves.enumerated() {
      let folder = root.appendingPathComponent("seed_\(seed)")
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
      let rows = evaluations.map { "[\($0[0]), \($0[1]), \($0[2])]" }.joined(separator: ", ")
      let json = """
        {"algorithm": "rebrac", "environment": "HalfCheetah-v4", "seed": \(seed), "steps": 1000, "finalReturn": 1000,
         "finalNormalizedScore": \(evaluations[1][2]), "bestNormalizedScore": \(evaluations[1][2]), "evaluations": [\(rows)],
         "seconds": 60, "stoppedEarly": false}
        """
      try Data(json.utf8).write(to: folder.appendingPathComponent("summary.json"))
    }
    let written = try ReportCommand.drawCurve(root.path)
    #expect(written == root.appendingPathComponent("learning_curve.svg").path)
    let expected = root.appendingPathComponent("expected.svg"), single = root.appendingPathComponent("single.svg")
    try LearningCurve.write(seeds: curves, label: "rebrac", task: "HalfCheetah-v4", to: expected)
    try LearningCurve.write(seeds: [curves[0]], label: "rebrac", task: "HalfCheetah-v4", to: single)
    let drawn = try Data(contentsOf: URL(fileURLWithPath: written ?? ""))
    #expect(drawn == (try Data(contentsOf: expected)))
    #expect(drawn != (try Data(contentsOf: single)))
    // A single seed's folder has no seed folders: nothing to redraw.
    #expect(try ReportCommand.drawCurve(root.appendingPathComponent("seed_0").path) == nil)
  }

  /// `report --compare` draws one curve per run (same-named runs get their parent folder in the label) with
  /// the reference lines; a malformed reference or a mix of scores and bare returns is a clear error.
  @Test func compareDrawsOneCurvePerRunWithReferences() throws {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("stitch-report-compare-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: root) }
    func write(_ run: String, score: Double) throws {
      let folder = root.appendingPathComponent(run).appendingPathComponent("seed_0")
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
      let json = """
        {"algorithm": "td3bc", "environment": "Hopper-v4", "seed": 0, "steps": 1000, "finalReturn": 1000,
         "finalNormalizedScore": \(score), "bestNormalizedScore": \(score), "evaluations": [[500, 900, \(score - 5)], [1000, 1000, \(score)]],
         "seconds": 60, "stoppedEarly": false}
        """
      try Data(json.utf8).write(to: folder.appendingPathComponent("summary.json"))
    }
    try write("a/td3bc", score: 40)
    try write("b/td3bc", score: 50)
    try write("b/iql", score: 60)
    let paths = ["a/td3bc", "b/td3bc", "b/iql"].map { root.appendingPathComponent($0).path }
    let plot = try ReportCommand.comparisonPlot(paths, references: [try ReportCommand.parseReference("behaviour policy = 48.1")])
    #expect(plot.curves.map(\.label) == ["a/td3bc", "b/td3bc", "iql"])
    #expect(plot.curves[2].points.map(\.values) == [[55], [60]])
    let svg = plot.svg()
    #expect(svg.contains(">behaviour policy 48.1<"))
    #expect(svg.components(separatedBy: "<polyline").count - 1 == 3)
    for bad in ["48.1", "=3", "x=abc", "x=inf"] {
      #expect(throws: ValidationError.self) { _ = try ReportCommand.parseReference(bad) }
    }
    // A run without normalized scores (bare returns) cannot share the axis.
    let folder = root.appendingPathComponent("c/sac/seed_0")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    try Data(#"{"algorithm": "sac", "environment": "Custom", "seed": 0, "steps": 10, "evaluations": [[10, 5, null]], "seconds": 1, "stoppedEarly": false}"#.utf8)
      .write(to: folder.appendingPathComponent("summary.json"))
    #expect(throws: ValidationError.self) { _ = try ReportCommand.comparisonPlot(paths + [root.appendingPathComponent("c/sac").path], references: []) }
    // A seed still training (no summary.json yet) plots as far as its log goes, and its curve says so.
    let running = root.appendingPathComponent("d/wsrl/seed_0")
    try FileManager.default.createDirectory(at: running, withIntermediateDirectories: true)
    try Data(#"{"algorithm": "wsrl", "options": {"environment": "Hopper-v4", "seed": 0, "steps": 100}}"#.utf8)
      .write(to: running.appendingPathComponent("config.json"))
    try Data(("{\"step\": 0, \"eval_return\": 900, \"normalized_score\": 30}\n{\"step\": 5, \"critic_loss\": 1}\n"
      + "{\"step\": 10, \"eval_return\": 300, \"normalized_score\": 10}\n").utf8).write(to: running.appendingPathComponent("metrics.jsonl"))
    let withRunning = try ReportCommand.comparisonPlot([paths[0], root.appendingPathComponent("d/wsrl").path], references: [])
    #expect(withRunning.curves.map(\.label) == ["td3bc", "wsrl (1 of 1 in progress)"])
    #expect(withRunning.curves[1].points.sorted { $0.step < $1.step }.map(\.values) == [[30], [10]])
  }
}

/// `stitch report` on fine-tuning runs: the second table's figures are the seeds' mean ± std.
@Suite struct FineTuningReportTests {
  @Test func dipAndRegretAreAveragedOverSeeds() throws {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("stitch-report-ft-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: root) }
    let run = root.appendingPathComponent("iql-ft")
    for (seed, dip, regret) in [(0, -10.0, 0.5), (1, -4.0, 0.7)] {
      let folder = run.appendingPathComponent("seed_\(seed)")
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
      let text = #"{"algorithm": "iql", "environment": "Hopper-v4", "seed": \#(seed), "steps": 100, "evaluations": [[0, 1, 40], [100, 1, 50]], "seconds": 1, "stoppedEarly": false, "#
        + #""finalNormalizedScore": 50, "fineTuning": {"pretrainedFolder": "p", "pretrainedScore": 41, "startScore": 40, "onlineSteps": 100, "initialDip": \#(dip), "cumulativeRegret": \#(regret), "improvement": 10}}"#
      try Data(text.utf8).write(to: folder.appendingPathComponent("summary.json"))
    }
    let row = try #require(try ReportCommand.fineTuningRow(run.path, json: false))
    #expect(row == "| iql-ft | 2 | 40.0 ± 0.0 | -7.0 ± 3.0 | 0.600 ± 0.100 | 10.0 ± 0.0 |", "\(row)")
    #expect(try ReportCommand.fineTuningRow(run.path, json: true)?.contains("\"initial_dip_mean\": -7") == true)
  }
}

/// `stitch report --html`: a well-formed page (an XML parser reads it) with a table row and a curve for every run,
/// each seed's line and the mean drawn.
@Suite struct ReportHTMLTests {
  final class Counter: NSObject, XMLParserDelegate {
    var counts: [String: Int] = [:]
    var sections: [String] = []
    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
      counts[name, default: 0] += 1
      if name == "section", let id = attributes["id"] { sections.append(id) }
    }
  }

  @Test func thePageIsWellFormedAndHoldsEveryRun() throws {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("stitch-report-html-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: root) }
    for (run, seeds) in [("iql", [0, 1]), ("td3bc & co <x>", [0])] {
      for seed in seeds {
        let folder = root.appendingPathComponent(run).appendingPathComponent("seed_\(seed)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let text = #"{"algorithm": "iql", "environment": "Hopper-v4", "seed": \#(seed), "steps": 20, "evaluations": [[10, 1, \#(30 + seed)], [20, 1, \#(40 + seed)]], "seconds": 60, "stoppedEarly": false, "finalNormalizedScore": \#(40 + seed), "bestNormalizedScore": \#(40 + seed)}"#
        try Data(text.utf8).write(to: folder.appendingPathComponent("summary.json"))
      }
    }
    let paths = [root.appendingPathComponent("iql").path, root.appendingPathComponent("td3bc & co <x>").path]
    let rows = try paths.map { try ReportCommand.row($0, json: false) }
    let page = try ReportCommand.html(paths, rows: rows, fineTuning: [], references: [(label: "data", value: 37.3)])
    let parser = XMLParser(data: Data(page.utf8))
    let counter = Counter()
    parser.delegate = counter
    #expect(parser.parse(), "well-formed: \(parser.parserError.map { "\($0)" } ?? "")")
    #expect(counter.sections == ["run-0", "run-1"])
    #expect(counter.counts["svg"] == 2)
    #expect(counter.counts["tr"] == 3, "a header and one row per run")
    // iql: two seed lines and the mean; the other run: one seed line and the mean.
    #expect(counter.counts["polyline"] == 5)
    #expect(page.contains("td3bc &amp; co &lt;x&gt;"))
  }
}

/// `stitch report --table`: datasets × algorithms with last (mean ± std over seeds) and best, the average over
/// datasets every algorithm has, published rows, CSV, and its bad input.
@Suite struct ReportTableTests {
  @Test func runsBecomeAPaperStyleTable() throws {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("stitch-report-table-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: root) }
    var paths: [String] = []
    for (dataset, algorithm, finals, bests) in [("hopper-medium", "iql", [40.0, 50], [45.0, 55]), ("hopper-medium", "bc", [30.0, 30], [35.0, 37]),
                                                 ("walker2d-medium", "iql", [70.0, 80], [75.0, 85]), ("walker2d-medium", "bc", [60.0, 62], [61.0, 63])] {
      let run = root.appendingPathComponent("\(dataset)/\(algorithm)")
      for (seed, (last, best)) in zip(finals, bests).enumerated() {
        let folder = run.appendingPathComponent("seed_\(seed)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(#"{"algorithm": "\#(algorithm)", "options": {"environment": "Hopper-v4", "dataset": {"path": "data/\#(dataset).hdf5", "rows": 1, "hash": "x"}}, "configuration": {}}"#.utf8)
          .write(to: folder.appendingPathComponent("config.json"))
        try Data(#"{"algorithm": "\#(algorithm)", "environment": "Hopper-v4", "seed": \#(seed), "steps": 10, "evaluations": [[10, 1, \#(last)]], "seconds": 1, "stoppedEarly": false, "finalNormalizedScore": \#(last), "bestNormalizedScore": \#(best)}"#.utf8)
          .write(to: folder.appendingPathComponent("summary.json"))
      }
      paths.append(run.path)
    }
    let corl = root.appendingPathComponent("corl.csv")
    try Data("dataset,algorithm,score\nhopper-medium,iql,67.5\nhopper-medium,bc,53.5\n".utf8).write(to: corl)
    let markdown = try ReportCommand.table(paths, published: corl.path, format: "markdown")
    #expect(markdown.contains("| hopper-medium (last) | 30.0 ± 0.0 (2) | 45.0 ± 5.0 (2) |"), "\(markdown)")
    #expect(markdown.contains("| hopper-medium (best) | 36.0 | 50.0 |"))
    #expect(markdown.contains("| hopper-medium (published) | 53.5 | 67.5 |"))
    #expect(!markdown.contains("walker2d-medium (published)"))
    #expect(markdown.contains("| average of 2 (last) | 45.5 | 60.0 |"))
    let csv = try ReportCommand.table(paths, published: corl.path, format: "csv")
    #expect(csv.split(separator: "\n").count == 5 && csv.contains("hopper-medium,iql,2,45.00,5.00,50.00,67.5"))
    try Data("dataset,algo,score\n".utf8).write(to: corl)
    #expect { _ = try ReportCommand.table(paths, published: corl.path, format: "markdown") } throws: { "\($0)".contains("must name the columns") }
    #expect { _ = try ReportCommand.table(paths + [paths[0]], published: nil, format: "markdown") } throws: { "\($0)".contains("two runs are iql on hopper-medium") }
    #expect(commandError(["report", paths[0], "--csv"])?.contains("add --table") == true)
  }
}
