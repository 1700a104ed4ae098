import ArgumentParser
import Foundation

import Stitch

/// `stitch report`: one results-table row per run folder, from the `summary.json` of each seed.
struct ReportCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "report",
    abstract: "Summarise training runs as a Markdown table (final normalized score mean ± std over seeds).",
    discussion: """
      Each RUN is a folder made by `stitch train --out RUN` (holding seed_K/summary.json), one seed's folder, or
      a sweep's folder (`stitch sweep --out DIR`), which stands for every run of the sweep.
      Columns: run, algorithm, environment, seeds, steps reached (minimum over seeds), final normalized score
      (mean ± population std over seeds, the last evaluation of each), best evaluation's score (mean over seeds),
      the per-seed final scores, and wall-clock minutes (mean per seed). A seed without a summary (still
      running, or stopped) is listed as unfinished with the step its log reached, its target and its last
      evaluation, never silently dropped; it does not enter the mean.
      With --plot, each RUN's learning_curve.svg (mean and spread over its seeds) is drawn again from the seeds'
      summaries: for seeds trained or resumed by separate `stitch train` commands into one RUN, where each
      command draws only its own seeds.
      With --compare FILE.svg, every RUN becomes one curve of a single plot (mean and ± 1 std band over its
      seeds, labelled with the run folder's name), with dashed horizontal lines for each --reference, e.g. the
      behaviour policy's score: the picture behind a results table.
      Fine-tuning runs (`stitch finetune`) get a second table: the score at step 0, the initial dip (lowest
      score in the first 10% of the online steps minus the start), the cumulative regret (mean of 1 − score/100)
      and the final score minus the start, each mean ± std over seeds.
      Example:
        stitch report runs/table/hopper-medium/*
        stitch report runs/sweeps/hopper-table --table --csv        # every run of a sweep, as the papers print it
        stitch report --plot runs/table/halfcheetah-medium/rebrac
        stitch report runs/table/halfcheetah-medium/* --compare halfcheetah-medium.svg --reference "behaviour policy=41.1"
        stitch report runs/table/hopper-medium/* --html hopper-medium.html   # one page: tables and every curve
        stitch report runs/table/*/* --table --published corl.csv            # datasets × algorithms, last and best, beside CORL's
        stitch report runs/table/hopper-medium/* --rank-against "bc=53.5,td3bc=60.4,iql=67.5,cql=59.1,rebrac=102.3"   # CORL's order
      """)

  @Argument(help: ArgumentHelp("Run folders, or sweep folders (made by `stitch sweep`: each stands for all its runs).", valueName: "runs")) var folders: [String]

  /// The run folders: each sweep folder (one holding sweep.json) replaced by its cells' runs, in manifest order.
  var runs: [String] { Self.expandingSweeps(folders) }

  static func expandingSweeps(_ folders: [String]) -> [String] {
    folders.flatMap { folder -> [String] in
      guard let manifest = try? SweepManifest.load(URL(fileURLWithPath: folder)) else { return [folder] }
      var seen = Set<String>()
      return manifest.cells.map(\.run).filter { seen.insert($0).inserted }.map { URL(fileURLWithPath: folder).appendingPathComponent($0).path }
    }
  }
  @Flag(help: "Print one JSON object per run instead of a Markdown table.") var json = false
  @Flag(help: "Also redraw RUN/learning_curve.svg from all of the run's seeds.") var plot = false
  @Flag(help: "Print the runs as the papers do instead: one row per dataset (last and best), one column per algorithm, and the average over datasets.") var table = false
  @Flag(help: "With --table: CSV instead of Markdown.") var csv = false
  @Option(help: ArgumentHelp("With --table: published scores to print beside Stitch's (CSV with columns dataset,algorithm,score, e.g. CORL's table). (The issue's `--reference FILE`; --reference already draws reference lines on --compare plots.)", valueName: "FILE"))
  var published: String?
  @Option(help: ArgumentHelp("Also write one self-contained HTML page to FILE: the tables and every run's learning curve (seeds thin, mean thick).", valueName: "FILE"))
  var html: String?
  @Option(help: ArgumentHelp("Also draw every RUN as one curve of a single SVG plot written to FILE.", valueName: "FILE")) var compare: String?
  @Option(help: ArgumentHelp("With --compare: a dashed horizontal line at VALUE labelled LABEL (repeatable).", valueName: "LABEL=VALUE"))
  var reference: [String] = []
  @Option(help: ArgumentHelp("A paper's scores to rank against, e.g. \"bc=53.5,td3bc=60.4,iql=67.5,cql=59.1,rebrac=102.3\" (CORL, hopper-medium-v2): prints Kendall's τ between its order and the runs' final scores, matched by algorithm.", valueName: "ALGO=SCORE,..."))
  var rankAgainst: String?

  func run() throws {
    if csv, !table { throw ValidationError("--csv prints the --table as CSV; add --table") }
    if published != nil, !table { throw ValidationError("--published adds published rows to the --table; add --table") }
    if table {
      print(try Self.table(runs, published: published, format: json ? "json" : csv ? "csv" : "markdown"), terminator: "")
      if !json, !csv { print("") }
      return
    }
    // Every run is read before anything is printed, so a bad folder gives its error alone, not half a table.
    let rows = try runs.map { try Self.row($0, json: json) }
    let references = try reference.map(Self.parseReference)
    if compare == nil, html == nil, !references.isEmpty { throw ValidationError("--reference draws a line on the --compare plot or the --html curves; add --compare FILE.svg or --html FILE") }
    let comparison = try compare.map { _ in try Self.comparisonPlot(runs, references: references) }
    let ranking = try rankAgainst.map { try Self.ranking(runs, against: $0) }
    if !json {
      print("| run | algorithm | environment | seeds | steps | final score | best score | per seed | minutes |")
      print("|---|---|---|---|---|---|---|---|---|")
    }
    for row in rows { print(row) }
    // Fine-tuning runs (stitch finetune) get a second table: where they started, the dip and the regret.
    let tuned = try runs.compactMap { try Self.fineTuningRow($0, json: json) }
    if !tuned.isEmpty, !json {
      print("")
      print("| run | seeds | start score | initial dip | cumulative regret | final − start |")
      print("|---|---|---|---|---|---|")
    }
    for row in tuned { print(row) }
    if let html {
      let markdown = json ? try runs.map { try Self.row($0, json: false) } : rows
      let tunedMarkdown = json ? try runs.compactMap { try Self.fineTuningRow($0, json: false) } : tuned
      try AtomicFile.write(try Self.html(runs, rows: markdown, fineTuning: tunedMarkdown, references: references), to: URL(fileURLWithPath: html))
      FileHandle.standardError.write(Data("report: \(html)\n".utf8))
    }
    if let ranking { print(ranking.text(json: json)) }
    var drawn: [String] = []
    for path in runs where plot {
      if let file = try Self.drawCurve(path) { drawn.append(file) }
    }
    if let compare, let comparison {
      try AtomicFile.write(comparison.svg(), to: URL(fileURLWithPath: compare))
      drawn.append(compare)
    }
    for file in drawn { FileHandle.standardError.write(Data("plot: \(file)\n".utf8)) }
  }

  /// The runs' order by final score beside a paper's, and Kendall's τ between them.
  struct Ranking {
    var algorithms: [String]
    var ours: [Double]
    var theirs: [Double]
    var tau: KendallTau
    func text(json: Bool) -> String {
      func order(_ v: [Double]) -> String {
        algorithms.indices.sorted { v[$0] > v[$1] }.map { algorithms[$0] }.joined(separator: " > ")
      }
      if json {
        return JSONText.object([
          ("kendall_tau", .number(tau.tau)), ("concordant", .integer(tau.concordant)), ("discordant", .integer(tau.discordant)),
          ("order", .string(order(ours))), ("reference_order", .string(order(theirs))),
        ]).description
      }
      return String(format: "Kendall τ = %.2f against the given scores (%d of %d pairs concordant, %d discordant): here %@; given %@",
                    tau.tau, tau.concordant, tau.pairs, tau.discordant, order(ours), order(theirs))
    }
  }

  /// Kendall's τ between the runs' final mean scores and `text` ("algo=score,...").
  static func ranking(_ paths: [String], against text: String) throws -> Ranking {
    var given: [String: Double] = [:]
    for part in text.split(separator: ",") {
      guard let (label, value) = try? parseReference(String(part)) else {
        throw ValidationError("--rank-against takes ALGO=SCORE pairs separated by commas, e.g. \"bc=53.5,iql=67.5\"; got '\(part)'")
      }
      guard given[label] == nil else { throw ValidationError("--rank-against names \(label) twice") }
      given[label] = value
    }
    var algorithms: [String] = [], ours: [Double] = [], theirs: [Double] = []
    for path in paths {
      let (_, summaries, _, _) = try load(path)
      let finals = summaries.compactMap(\.finalNormalizedScore)
      guard let algorithm = summaries.first?.algorithm, !finals.isEmpty else {
        throw ValidationError("--rank-against: \(path) has no finished seed with a normalized score")
      }
      guard !algorithms.contains(algorithm) else { throw ValidationError("--rank-against: two runs of \(algorithm); rank one run per algorithm") }
      guard let score = given[algorithm] else {
        throw ValidationError("--rank-against gives no score for \(algorithm) (\(path)); it names \(given.keys.sorted().joined(separator: ", "))")
      }
      algorithms.append(algorithm)
      ours.append(finals.reduce(0, +) / Double(finals.count))
      theirs.append(score)
    }
    guard algorithms.count >= 2 else { throw ValidationError("--rank-against needs runs of at least two algorithms") }
    return Ranking(algorithms: algorithms, ours: ours, theirs: theirs, tau: KendallTau(ours, theirs))
  }

  /// `LABEL=VALUE` of --reference.
  static func parseReference(_ text: String) throws -> (label: String, value: Double) {
    guard let eq = text.lastIndex(of: "="), let value = Double(text[text.index(after: eq)...].trimmingCharacters(in: .whitespaces)),
          value.isFinite, !text[..<eq].trimmingCharacters(in: .whitespaces).isEmpty else {
      throw ValidationError("--reference takes LABEL=VALUE with a finite number, e.g. \"behaviour policy=41.1\"; got '\(text)'")
    }
    return (String(text[..<eq]).trimmingCharacters(in: .whitespaces), value)
  }

  /// One plot with a curve per run (mean and spread over its seeds' evaluations). Curves are labelled with the
  /// run folder's name, or with its last two path components where two runs share a name. Normalized scores
  /// are plotted when every evaluation of every run has one, returns when none has; a mixture is an error
  /// (the two scales cannot share an axis).
  static func comparisonPlot(_ paths: [String], references: [(label: String, value: Double)]) throws -> LearningCurvePlot {
    var unfinished: [Int] = []
    let loaded = try paths.map { path -> (name: String, summaries: [RunSummary]) in
      let (root, finished, missing, hasSeeds) = try load(path)
      // Seeds still training plot as far as their logs go, so runs in progress can be compared.
      let running = missing.compactMap { inProgressSummary(hasSeeds ? root.appendingPathComponent($0.name) : root) }
      unfinished.append(running.count)
      let summaries = finished + running
      guard summaries.contains(where: { !$0.evaluations.isEmpty }) else {
        throw ValidationError("\(path): no evaluations to plot (no seed has finished its first evaluation)")
      }
      return (root.standardizedFileURL.pathComponents.suffix(2).joined(separator: "/"), summaries)
    }
    let rows = loaded.flatMap { $0.summaries.flatMap(\.evaluations) }
    let withScore = rows.filter { !$0[2].isNaN }.count
    guard withScore == 0 || withScore == rows.count else {
      throw ValidationError("--compare: some runs have normalized scores and some only returns; plot them separately")
    }
    let short = loaded.map { String($0.name.split(separator: "/").last ?? "") }
    let curves = loaded.enumerated().map { i, run -> LearningCurvePlot.Curve in
      var byStep: [Double: [Double]] = [:]
      for row in run.summaries.flatMap(\.evaluations) { byStep[row[0], default: []].append(withScore > 0 ? row[2] : row[1]) }
      let label = (short.filter { $0 == short[i] }.count > 1 ? run.name : short[i])
        + (unfinished[i] > 0 ? " (\(unfinished[i]) of \(run.summaries.count) in progress)" : "")
      return LearningCurvePlot.Curve(label: label, points: byStep.map { (step: $0.key, values: $0.value) })
    }
    let environments = Set(loaded.flatMap { $0.summaries.map(\.environment) })
    var plot = LearningCurvePlot(title: environments.count == 1 ? "\(environments.first!): mean over seeds" : "mean over seeds", curves: curves)
    plot.yLabel = withScore > 0 ? "normalized score" : "episode return"
    plot.references = references
    return plot
  }

  /// Redraws `path/learning_curve.svg` from its seeds' evaluations; nil (nothing written) for a folder without
  /// seed folders or without any finished seed.
  static func drawCurve(_ path: String) throws -> String? {
    let (root, summaries, _, hasSeeds) = try load(path)
    guard hasSeeds, let first = summaries.first else { return nil }
    let file = root.appendingPathComponent("learning_curve.svg")
    try LearningCurve.write(seeds: summaries.map(\.evaluations), label: first.algorithm, task: first.environment, to: file)
    return file.path
  }

  /// The summaries of a run folder's seeds (or of the folder itself when it is one seed's), the seed folders
  /// without one, and whether the folder holds seed folders.
  static func load(_ path: String) throws -> (root: URL, summaries: [RunSummary], missing: [(name: String, note: String)], hasSeeds: Bool) {
      let decoder = JSONDecoder()
      let root = URL(fileURLWithPath: path)
      var isDirectory: ObjCBool = false
      guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
        throw ValidationError("\(path): not a run folder")
      }
      let seedFolders = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [])
        .filter { $0.hasPrefix("seed_") }.sorted { (Int($0.dropFirst(5)) ?? 0) < (Int($1.dropFirst(5)) ?? 0) }
      let folders = seedFolders.isEmpty ? [root] : seedFolders.map { root.appendingPathComponent($0) }
      var summaries: [RunSummary] = [], missing: [(name: String, note: String)] = []
      for f in folders {
        let file = f.appendingPathComponent("summary.json")
        if let data = try? Data(contentsOf: file) {
          do { summaries.append(try decoder.decode(RunSummary.self, from: data)) } catch {
            throw ValidationError("\(file.path): not a Stitch run summary (\(error))")
          }
        } else {
          missing.append((f.lastPathComponent, unfinishedNote(f)))
        }
      }
      return (root, summaries, missing, !seedFolders.isEmpty)
  }

  /// The last step a seed's metrics.jsonl logged and its evaluations so far as [step, return, score (NaN when
  /// none)], or nil when it has no log or no row with a step.
  static func loggedEvaluations(_ folder: URL) -> (lastStep: Int, evaluations: [[Double]])? {
    guard let text = try? String(contentsOf: folder.appendingPathComponent("metrics.jsonl"), encoding: .utf8) else { return nil }
    var step: Int?, evaluations: [[Double]] = []
    for line in text.split(separator: "\n") {
      guard let row = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
            let s = (row["step"] as? NSNumber)?.intValue else { continue }
      step = max(step ?? s, s)
      if let value = (row["eval_return"] as? NSNumber)?.doubleValue {
        evaluations.append([Double(s), value, (row["normalized_score"] as? NSNumber)?.doubleValue ?? .nan])
      }
    }
    return step.map { ($0, evaluations) }
  }

  /// A seed still training (no summary.json) as a summary of the evaluations its metrics.jsonl holds so far, or
  /// nil when it has logged none or has no config.json.
  static func inProgressSummary(_ folder: URL) -> RunSummary? {
    guard let identity = RunFolderIdentity.read(folder), let (last, evaluations) = loggedEvaluations(folder),
          !evaluations.isEmpty else { return nil }
    let scores = evaluations.map { $0[2] }.filter { !$0.isNaN }
    return RunSummary(algorithm: identity.algorithm, environment: identity.environment ?? "?", seed: 0, steps: last,
                      finalReturn: evaluations.last?[1], finalNormalizedScore: scores.last, bestNormalizedScore: scores.max(),
                      evaluations: evaluations, seconds: 0, stoppedEarly: true)
  }

  /// How far a seed without a summary got, from its own files: " at step S of N, last score X at step E"
  /// (metrics.jsonl's last row and last evaluation, config.json's target); empty when it wrote no log.
  static func unfinishedNote(_ folder: URL) -> String {
    guard let (step, evaluations) = loggedEvaluations(folder) else { return "" }
    let lastEvaluation = evaluations.last.map { (step: Int($0[0]), score: $0[2].isNaN ? nil : $0[2], value: $0[1]) }
    var target = ""
    if let data = try? Data(contentsOf: folder.appendingPathComponent("config.json")),
       let config = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
       let options = config["options"] as? [String: Any], let steps = (options["steps"] as? NSNumber)?.intValue {
      target = " of \(steps)"
    }
    let evaluation = lastEvaluation.map { e in
      ", last " + (e.score.map { String(format: "score %.1f", $0) } ?? String(format: "return %.1f", e.value)) + " at step \(e.step)"
    } ?? ""
    return " at step \(step)\(target)\(evaluation)"
  }

  /// Algorithm and environment from the config.json of the first of `seeds` that has one (for runs where no
  /// seed has finished); "?" where none says.
  static func configIdentity(_ root: URL, seeds: [String]) -> (String, String) {
    for folder in [root] + seeds.map({ root.appendingPathComponent($0) }) {
      if let identity = RunFolderIdentity.read(folder) { return (identity.algorithm, identity.environment ?? "?") }
    }
    return ("?", "?")
  }

  /// One run folder's line: a Markdown table row, or a JSON object.
  static func row(_ path: String, json: Bool) throws -> String {
      let (root, summaries, missing, _) = try load(path)
      let finals = summaries.compactMap(\.finalNormalizedScore), bests = summaries.compactMap(\.bestNormalizedScore)
      let mean = finals.isEmpty ? Double.nan : finals.reduce(0, +) / Double(finals.count)
      let std = finals.isEmpty ? Double.nan : (finals.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(finals.count)).squareRoot()
      let best = bests.isEmpty ? Double.nan : bests.reduce(0, +) / Double(bests.count)
      let steps = summaries.map(\.steps).min() ?? 0
      let minutes = summaries.isEmpty ? 0 : summaries.map(\.seconds).reduce(0, +) / Double(summaries.count) / 60
      let name = root.lastPathComponent
      let (algorithm, environment) = summaries.first.map { ($0.algorithm, $0.environment) } ?? configIdentity(root, seeds: missing.map(\.name))
      if json {
        let object = JSONText.object([
          ("run", .string(path)), ("algorithm", .string(algorithm == "?" ? "" : algorithm)),
          ("environment", .string(environment == "?" ? "" : environment)), ("seeds", .integer(summaries.count)),
          ("missing", .array(missing.map { JSONText.string($0.name) })),
          ("unfinished", .array(missing.map { JSONText.string($0.name + $0.note) })), ("steps", .integer(steps)),
          ("final_score_mean", finals.isEmpty ? .null : .number(mean)), ("final_score_std", finals.isEmpty ? .null : .number(std)),
          ("best_score_mean", bests.isEmpty ? .null : .number(best)), ("final_scores", .array(finals.map(JSONText.number))),
          ("minutes_per_seed", .number(minutes)),
        ])
        return "\(object)"
      }
      let perSeed = finals.map { String(format: "%.1f", $0) }.joined(separator: ", ") + (missing.isEmpty ? "" : " (unfinished: \(missing.map { $0.name + $0.note }.joined(separator: "; ")))")
      let stopped = summaries.contains(where: \.stoppedEarly) ? " (stopped early)" : ""
      return ("| \(name) | \(algorithm) | \(environment) | \(summaries.count) | \(steps)\(stopped) | "
            + (finals.isEmpty ? "n/a" : String(format: "%.1f ± %.1f", mean, std)) + " | "
            + (bests.isEmpty ? "n/a" : String(format: "%.1f", best)) + " | \(perSeed) | " + String(format: "%.0f", minutes) + " |")
  }

  /// A fine-tuning run's start score, initial dip, cumulative regret and improvement (mean ± std over the seeds that
  /// have them); nil for other runs.
  static func fineTuningRow(_ path: String, json: Bool) throws -> String? {
    let summaries = try load(path).1.compactMap(\.fineTuning)
    guard !summaries.isEmpty else { return nil }
    func stats(_ values: [Double?]) -> (mean: Double, std: Double)? {
      let v = values.compactMap { $0 }
      guard !v.isEmpty else { return nil }
      let m = v.reduce(0, +) / Double(v.count)
      return (m, (v.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(v.count)).squareRoot())
    }
    let start = stats(summaries.map(\.startScore)), dip = stats(summaries.map(\.initialDip))
    let regret = stats(summaries.map(\.cumulativeRegret)), gain = stats(summaries.map(\.improvement))
    if json {
      func number(_ x: Double?) -> JSONText { x.map { .number($0) } ?? .null }
      let object = JSONText.object([("run", .string(path)), ("fine_tuning_seeds", .integer(summaries.count)),
                                    ("start_score_mean", number(start?.mean)), ("initial_dip_mean", number(dip?.mean)),
                                    ("initial_dip_std", number(dip?.std)), ("cumulative_regret_mean", number(regret?.mean)),
                                    ("cumulative_regret_std", number(regret?.std)), ("improvement_mean", number(gain?.mean))])
      return object.description
    }
    func cell(_ s: (mean: Double, std: Double)?, _ format: String) -> String {
      s.map { String(format: "\(format) ± \(format)", $0.mean, $0.std) } ?? "n/a"
    }
    return "| \(URL(fileURLWithPath: path).lastPathComponent) | \(summaries.count) | \(cell(start, "%.1f")) | \(cell(dip, "%.1f")) | \(cell(regret, "%.3f")) | \(cell(gain, "%.1f")) |"
  }
}
