import ArgumentParser
import Foundation

import Stitch

/// `stitch report --html FILE`: one self-contained page (no network, no script) with the results table, the
/// fine-tuning table where there are fine-tuning runs, and every run's learning curve as inline SVG (each seed a
/// thin line, their mean a thick one over a ± 1 std band). Written as well-formed XHTML-compatible markup, so that
/// any XML parser reads it (the test does).
extension ReportCommand {
  static func html(_ paths: [String], rows: [String], fineTuning: [String], references: [(label: String, value: Double)]) throws -> String {
    func escape(_ s: String) -> String {
      s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
    /// A Markdown table row as HTML cells.
    func cells(_ markdown: String, header: Bool = false) -> String {
      let parts = markdown.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast()
      let tag = header ? "th" : "td"
      return "<tr>" + parts.map { "<\(tag)>\(escape($0.trimmingCharacters(in: .whitespaces)))</\(tag)>" }.joined() + "</tr>"
    }
    var page = """
      <!DOCTYPE html>
      <html xmlns="http://www.w3.org/1999/xhtml" lang="en">
      <head><meta charset="utf-8"/><title>Stitch report</title>
      <style>body{font-family:sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse;margin:1em 0}
      th,td{border:1px solid #ccc;padding:4px 8px;text-align:left}th{background:#f3f3f3}section{margin:2em 0}</style>
      </head>
      <body>
      <h1>Stitch report</h1>
      <p>\(escape(StitchVersion.string)), \(escape(ISO8601DateFormatter().string(from: Date()))), \(paths.count) run(s).</p>
      <table>
      \(cells("| run | algorithm | environment | seeds | steps | final score | best score | per seed | minutes |", header: true))

      """
    for row in rows { page += cells(row) + "\n" }
    page += "</table>\n"
    if !fineTuning.isEmpty {
      page += "<h2>Fine-tuning</h2>\n<table>\n" + cells("| run | seeds | start score | initial dip | cumulative regret | final − start |", header: true) + "\n"
      for row in fineTuning { page += cells(row) + "\n" }
      page += "</table>\n"
    }
    page += "<h2>Learning curves</h2>\n"
    for (k, path) in paths.enumerated() {
      let (root, summaries, missing, _) = try load(path)
      let name = root.lastPathComponent
      page += "<section id=\"run-\(k)\"><h3>\(escape(name))</h3>\n"
      let evaluated = summaries.filter { !$0.evaluations.isEmpty }
      if evaluated.isEmpty {
        page += "<p>No finished seed to plot\(missing.isEmpty ? "" : " (unfinished: " + escape(missing.map { $0.name + $0.note }.joined(separator: "; ")) + ")").</p>\n"
      } else {
        let scored = evaluated.allSatisfy { $0.evaluations.allSatisfy { !$0[2].isNaN } }
        var byStep: [Double: [Double]] = [:]
        for s in evaluated { for row in s.evaluations { byStep[row[0], default: []].append(scored ? row[2] : row[1]) } }
        var plot = LearningCurvePlot(title: "\(name): \(evaluated.first!.algorithm) on \(evaluated.first!.environment), \(evaluated.count) seed(s)",
                                     curves: [.init(label: "mean", points: byStep.map { (step: $0.key, values: $0.value) })])
        plot.seedLines = [evaluated.map { s in s.evaluations.map { (step: $0[0], value: scored ? $0[2] : $0[1]) } }]
        plot.yLabel = scored ? "normalized score" : "episode return"
        plot.xLabel = evaluated.first!.fineTuning == nil ? "steps" : "environment steps"
        plot.references = references
        page += plot.svg()
      }
      page += "</section>\n"
    }
    page += "</body>\n</html>\n"
    return page
  }
}
