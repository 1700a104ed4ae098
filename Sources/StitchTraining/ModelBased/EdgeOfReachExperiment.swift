import Foundation
import StitchEnvironments

/// The edge-of-reach experiment (Sims et al., NeurIPS 2024, Fig. 1, Fig. 3 and Table 1): the base procedure
/// (MBPO), MOPO and RAVL, each with the learned dynamics model and with the true dynamics, on one dataset.
/// `stitch experiment edge-of-reach` trains them as ordinary run folders `OUT/ALGO-DYNAMICS/seed_K`; this type
/// names the configurations and turns the folders into the table and the two plots (score against updates;
/// mean Q against updates on a log axis, with the line Q* of a normalized score of 100).
public enum EdgeOfReachExperiment {
  public struct Configuration: Sendable, Hashable {
    public var algorithm: String
    /// "model" or "true".
    public var dynamics: String
    public var name: String { "\(algorithm)-\(dynamics)" }
    public init(algorithm: String, dynamics: String) {
      self.algorithm = algorithm
      self.dynamics = dynamics
    }
  }

  /// The six configurations in the paper's order.
  public static let all: [Configuration] = ["mbpo", "mopo", "ravl"].flatMap { a in
    ["model", "true"].map { Configuration(algorithm: a, dynamics: $0) }
  }

  /// One configuration's results over its seeds.
  public struct Row: Codable, Sendable {
    public var configuration: String
    public var algorithm: String
    public var dynamics: String
    /// Seeds with a finished run (summary.json at the target step) and seeds found at all.
    public var finishedSeeds: Int
    public var seeds: Int
    /// The lowest step any seed's log reached.
    public var stepsReached: Int
    /// Mean and population std over seeds of each seed's last evaluation, and the mean of each seed's best.
    public var finalScore: Double?
    public var finalScoreStd: Double?
    public var bestScore: Double?
    /// Mean over seeds of the last logged `q_mean` (the critics on the training batch).
    public var finalQ: Double?
  }

  /// One seed's curves from its metrics.jsonl.
  struct SeedLog {
    var evaluations: [(step: Double, score: Double)] = []
    var q: [(step: Double, value: Double)] = []
    var lastStep = 0
  }

  static func readLog(_ seedFolder: URL) -> SeedLog? {
    guard let text = try? String(contentsOf: seedFolder.appendingPathComponent("metrics.jsonl"), encoding: .utf8) else { return nil }
    var log = SeedLog()
    for line in text.split(separator: "\n") {
      guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
            let step = (object["step"] as? NSNumber)?.doubleValue else { continue }
      log.lastStep = Swift.max(log.lastStep, Int(step))
      if let s = (object["normalized_score"] as? NSNumber)?.doubleValue { log.evaluations.append((step, s)) }
      if let q = (object["q_mean"] as? NSNumber)?.doubleValue { log.q.append((step, q)) }
    }
    return log
  }

  /// The seed folders of a configuration's run folder, by seed.
  static func seedFolders(_ run: URL, seeds: [UInt64]) -> [(seed: UInt64, folder: URL)] {
    seeds.map { ($0, run.appendingPathComponent("seed_\($0)")) }
  }

  /// Whether a seed finished its `steps` (its summary.json says so).
  public static func finished(_ seedFolder: URL, steps: Int) -> Bool {
    guard let data = try? Data(contentsOf: seedFolder.appendingPathComponent("summary.json")),
          let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
          let reached = (object["steps"] as? NSNumber)?.intValue else { return false }
    return reached >= steps
  }

  /// The last step a seed's log reached (0 when it has none).
  public static func stepReached(_ seedFolder: URL) -> Int { readLog(seedFolder)?.lastStep ?? 0 }

  /// The table's rows, from whatever the folders hold now (unfinished seeds count with the step they reached).
  public static func summarize(folder: URL, configurations: [Configuration], seeds: [UInt64], steps: Int) -> [Row] {
    configurations.map { c in
      let run = folder.appendingPathComponent(c.name)
      var finals: [Double] = [], bests: [Double] = [], qs: [Double] = [], reached: [Int] = []
      var finishedCount = 0, found = 0
      for (_, seedFolder) in seedFolders(run, seeds: seeds) {
        guard let log = readLog(seedFolder) else { continue }
        found += 1
        if finished(seedFolder, steps: steps) { finishedCount += 1 }
        reached.append(log.lastStep)
        if let last = log.evaluations.last { finals.append(last.score) }
        if let best = log.evaluations.map(\.score).max() { bests.append(best) }
        if let q = log.q.last { qs.append(q.value) }
      }
      func mean(_ v: [Double]) -> Double? { v.isEmpty ? nil : v.reduce(0, +) / Double(v.count) }
      let m = mean(finals)
      let sd = m.map { m in (finals.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(finals.count)).squareRoot() }
      return Row(configuration: c.name, algorithm: c.algorithm, dynamics: c.dynamics, finishedSeeds: finishedCount, seeds: found,
                 stepsReached: reached.min() ?? 0, finalScore: m, finalScoreStd: sd, bestScore: mean(bests), finalQ: mean(qs))
    }
  }

  /// The table as Markdown.
  public static func markdown(_ rows: [Row], steps: Int, dataset: String) -> String {
    func f(_ x: Double?) -> String { x.map { String(format: "%.1f", $0) } ?? "–" }
    var s = "Edge-of-reach experiment on \(dataset), \(steps) updates per run (normalized score; Q: the critics' mean on the last logged batches)\n\n"
    s += "| configuration | dynamics | seeds finished | steps reached | final score | best score | final mean Q |\n|---|---|---|---|---|---|---|\n"
    for r in rows {
      let final = r.finalScore.map { "\(f($0)) ± \(f(r.finalScoreStd))" } ?? "–"
      s += "| \(r.algorithm) | \(r.dynamics) | \(r.finishedSeeds) of \(r.seeds) | \(r.stepsReached) | \(final) | \(f(r.bestScore)) | \(r.finalQ.map { String(format: "%.3g", $0) } ?? "–") |\n"
    }
    return s
  }

  /// Q* for a normalized score of 100 at discount γ: the expert reference return spread evenly over a
  /// 1000-step episode, r̄ = R_expert / 1000, and Q* = r̄ / (1 − γ) (the paper's "Approx Q*" line, Fig. 3).
  public static func qStar(environment: String, discount: Double = 0.99) -> Double? {
    guard let r = NormalizedScore.references(for: environment) else { return nil }
    return r.expert / 1000 / (1 - discount)
  }

  /// Score against updates, one curve per configuration (mean and spread over seeds).
  public static func scorePlot(folder: URL, configurations: [Configuration], seeds: [UInt64], title: String) -> LearningCurvePlot {
    LearningCurvePlot(title: title, curves: configurations.map { c in
      curve(label: c.name, logs: seedFolders(folder.appendingPathComponent(c.name), seeds: seeds).compactMap { readLog($0.folder) }) { $0.evaluations.map { ($0.step, $0.score) } }
    })
  }

  /// Mean Q against updates on a log axis, with Q*.
  public static func qPlot(folder: URL, configurations: [Configuration], seeds: [UInt64], title: String, qStar: Double?) -> LearningCurvePlot {
    var plot = LearningCurvePlot(title: title, curves: configurations.map { c in
      curve(label: c.name, logs: seedFolders(folder.appendingPathComponent(c.name), seeds: seeds).compactMap { readLog($0.folder) }) { $0.q.map { ($0.step, $0.value) } }
    })
    plot.yLabel = "mean Q on the batch (log scale)"
    plot.logarithmicY = true
    if let qStar { plot.references = [(label: "Q* (score 100)", value: qStar)] }
    return plot
  }

  static func curve(label: String, logs: [SeedLog], points: (SeedLog) -> [(Double, Double)]) -> LearningCurvePlot.Curve {
    var byStep: [Double: [Double]] = [:]
    for log in logs { for (step, v) in points(log) { byStep[step, default: []].append(v) } }
    return LearningCurvePlot.Curve(label: label, points: byStep.map { (step: $0.key, values: $0.value) })
  }
}
