import Foundation
import StitchTestSupport
import Testing
@testable import StitchTraining

/// The experiment's table and plots from run folders: final = mean ± population std of each seed's last
/// evaluation, best = mean of each seed's best, unfinished seeds counted with the step they reached.
@Suite struct EdgeOfReachExperimentTests {
  static func writeSeed(_ folder: URL, evaluations: [(Int, Double)], q: [(Int, Double)], finishedAt: Int?) throws {
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    var lines = q.map { "{\"step\": \($0.0), \"q_mean\": \($0.1)}" }
    lines += evaluations.map { "{\"step\": \($0.0), \"normalized_score\": \($0.1)}" }
    try lines.joined(separator: "\n").write(to: folder.appendingPathComponent("metrics.jsonl"), atomically: true, encoding: .utf8)
    if let finishedAt { try "{\"steps\": \(finishedAt)}".write(to: folder.appendingPathComponent("summary.json"), atomically: true, encoding: .utf8) }
  }

  @Test func tableFromRunFolders() throws {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("stitch-eor-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: root) }
    let run = root.appendingPathComponent("mbpo-true")
    try Self.writeSeed(run.appendingPathComponent("seed_0"), evaluations: [(5, 10), (10, 30)], q: [(5, 100), (10, 1000)], finishedAt: 10)
    try Self.writeSeed(run.appendingPathComponent("seed_1"), evaluations: [(5, 50), (10, 20)], q: [(5, 10), (10, 100)], finishedAt: 10)
    try Self.writeSeed(run.appendingPathComponent("seed_2"), evaluations: [(5, 40)], q: [(6, 10)], finishedAt: nil)
    let c = EdgeOfReachExperiment.Configuration(algorithm: "mbpo", dynamics: "true")
    let rows = EdgeOfReachExperiment.summarize(folder: root, configurations: [c], seeds: [0, 1, 2, 3], steps: 10)
    let r = try #require(rows.first)
    #expect(r.seeds == 3 && r.finishedSeeds == 2 && r.stepsReached == 6)
    #expect(abs(r.finalScore! - 30) < 1e-12)                       // 30, 20, 40
    #expect(abs(r.finalScoreStd! - (200.0 / 3).squareRoot()) < 1e-9)
    #expect(abs(r.bestScore! - (30 + 50 + 40) / 3.0) < 1e-12)
    #expect(abs(r.finalQ! - 370) < 1e-9)                           // 1000, 100, 10
    let markdown = EdgeOfReachExperiment.markdown(rows, steps: 10, dataset: "d")
    #expect(markdown.contains("| mbpo | true | 2 of 3 | 6 | 30.0 ± 8.2 | 40.0 | 370 |"))
    let plot = EdgeOfReachExperiment.qPlot(folder: root, configurations: [c], seeds: [0, 1, 2], title: "q", qStar: 323).svg()
    #expect(plot.contains("1e3") && plot.contains("Q* (score 100)"))
    #expect(abs(EdgeOfReachExperiment.qStar(environment: "Hopper-v4")! - 323.43) < 0.01)
  }
}
