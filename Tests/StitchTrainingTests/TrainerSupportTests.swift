import Foundation
import StitchData
import StitchDiffusion
import StitchEnvironments
import StitchNN
import StitchTensor
import Testing
@testable import StitchAlgorithms

@testable import StitchTraining

@Suite struct TrainerSupportTests {
  /// A fresh folder under the system temporary directory (removed by the OS; names are unique per test).
  func folder() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("stitch-metrics-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }

  @Test func metricsGoToJSONLinesAndCSVWithUnionOfColumns() throws {
    let dir = try folder()
    let log = try MetricsLog(folder: dir)
    try log.append(step: 1, ["critic_loss": 0.5])
    try log.append(step: 2, ["critic_loss": 0.25, "normalized_score": 42])
    let lines = try String(contentsOf: dir.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
    #expect(lines == [#"{"step": 1, "critic_loss": 0.5}"#, #"{"step": 2, "critic_loss": 0.25, "normalized_score": 42}"#])
    let csv = try String(contentsOf: dir.appendingPathComponent("metrics.csv"), encoding: .utf8)
    #expect(csv == "step,critic_loss,normalized_score\n1,0.5,\n2,0.25,42\n")
  }

  @Test func resumeDropsRowsAfterTheCheckpoint() throws {
    let dir = try folder()
    do {
      let log = try MetricsLog(folder: dir)
      for s in 1...5 { try log.append(step: s, ["loss": Double(s)]) }
    }
    let resumed = try MetricsLog(folder: dir, resumeStep: 3)
    try resumed.append(step: 4, ["loss": 40])
    let lines = try String(contentsOf: dir.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
    #expect(lines.count == 4)
    #expect(lines.last == #"{"step": 4, "loss": 40}"#)
  }

  @Test func atomicWriteReplacesAndLeavesNoTemporaryFiles() throws {
    let dir = try folder()
    let file = dir.appendingPathComponent("a.txt")
    try AtomicFile.write("one", to: file)
    try AtomicFile.write("two", to: file)
    #expect(try String(contentsOf: file, encoding: .utf8) == "two")
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["a.txt"])
    #expect(throws: (any Error).self) { try AtomicFile.write("x", to: URL(fileURLWithPath: "/proc/no-such-dir/file")) }
  }

  @Test func progressPrintsPlainLinesWithRateAndETAWhenNotATerminal() {
    var lines: [String] = []
    let p = ProgressReporter(label: "job", total: 100, interactive: false, lineInterval: 0, sink: { lines.append($0) })
    p.update(50)
    p.finish(note: "done")
    #expect(lines.count == 2)
    #expect(lines[0].hasPrefix("job: 50%  50/100 steps"))
    #expect(lines[0].contains("ETA"))
    #expect(lines[1].contains("done"))
    #expect(ProgressReporter.clock(3725) == "1:02:05")
    #expect(ProgressReporter.clock(.infinity) == "--:--")
  }

  @Test func resumedProgressCountsRateAndETAFromWhereItStarted() {
    // A run resumed at step 90 of 100 that does 5 steps in 5 s: 1 step/s and 5 s left (not 95 steps/s).
    let p = ProgressReporter(label: "resume", total: 100, interactive: false, lineInterval: 0, startingAt: 90, sink: { _ in })
    p.done = 95
    let line = p.render(at: p.start + 5, note: "")
    #expect(line.contains("95/100 steps  1.0 steps/s"), "\(line)")
    #expect(line.contains("ETA 0:05"), "\(line)")
  }

  /// Slow work (a sweep's cells) is counted per minute or hour, not as "0.0 cells/s".
  @Test func slowRatesAreShownPerMinuteOrHour() {
    let p = ProgressReporter(label: "sweep", total: 9, unit: "cells", interactive: false, lineInterval: 0, sink: { _ in })
    p.done = 3
    #expect(p.render(at: p.start + 600, note: "").contains("3/9 cells  0.3 cells/min"))
    #expect(p.render(at: p.start + 36_000, note: "").contains("0.3 cells/h"))
    #expect(ProgressReporter.rate(2, unit: "steps") == "2.0 steps/s" && ProgressReporter.rate(0, unit: "cells") == "0.0 cells/s")
  }
}
