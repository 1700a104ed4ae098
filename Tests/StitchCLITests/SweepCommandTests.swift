import ArgumentParser
import Foundation
import Testing
@testable import StitchCLI

import Stitch

/// `stitch sweep`: every problem of a sweep reported at once before anything runs; a real sweep of three cells
/// through `stitch train` processes, its manifest and report, a second run that skips finished cells, and a folder
/// of another sweep file refused.
@Suite(.serialized) struct SweepCommandTests {
  static let executable = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent(".build/release/stitch")

  @Test func everyProblemIsReportedBeforeAnyCellRuns() throws {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("stitch-sweep-bad-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: root) }
    try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    let spec = root.appendingPathComponent("bad.toml")
    try Data("""
      algorithms = ["bc", "nosuch"]
      seeds = [0]
      steps = 4
      colour = "red"
      [dataset.pendulum]
      file = "/nonexistent.hdf5"
      env = "NoSuchEnv-v0"
      [grid]
      "bc.no_such_key" = [1, 2]
      """.utf8).write(to: spec)
    let text = commandError(["sweep", spec.path, "--out", root.appendingPathComponent("out").path]) ?? ""
    #expect(text.contains("unknown key colour"), "\(text)")
    try Data("""
      algorithms = ["bc", "nosuch"]
      seeds = [0]
      steps = 4
      [dataset.pendulum]
      file = "/nonexistent.hdf5"
      env = "NoSuchEnv-v0"
      [grid]
      "bc.no_such_key" = [1, 2]
      """.utf8).write(to: spec)
    let all = commandError(["sweep", spec.path, "--out", root.appendingPathComponent("out").path]) ?? ""
    for part in ["unknown algorithm nosuch", "no file at /nonexistent.hdf5", "NoSuchEnv-v0", "no_such_key"] {
      #expect(all.contains(part), "\(part) missing from: \(all)")
    }
    #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("out").path), "nothing was written")
  }

  @Test func aSweepRunsItsCellsAndResumes() throws {
    guard FileManager.default.isExecutableFile(atPath: Self.executable.path) else {
      Issue.record("no stitch executable at \(Self.executable.path): build it with `swift build -c release --build-tests`")
      return
    }
    setenv("STITCH_EXECUTABLE", Self.executable.path, 1)
    let (root, data) = try Self.folderWithPendulumData("stitch-sweep")
    defer { try? FileManager.default.removeItem(at: root) }
    let spec = root.appendingPathComponent("small.toml")
    try Data("""
      algorithms = ["bc", "td3bc"]
      seeds = [0]
      steps = 4
      eval_every = 4
      eval_episodes = 1
      [dataset.pendulum-random]
      file = "\(data)"
      env = "Pendulum-v1"
      [grid]
      "td3bc.q_weight" = [1, 2.5]
      """.utf8).write(to: spec)
    let out = root.appendingPathComponent("out")
    #expect(commandError(["sweep", spec.path, "--out", out.path, "--jobs", "2"]) == nil)
    let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("sweep.json"))) as! [String: Any]
    let cells = manifest["cells"] as! [[String: Any]]
    #expect(cells.map { $0["run"] as! String } == ["pendulum-random/bc", "pendulum-random/td3bc,q_weight=1", "pendulum-random/td3bc,q_weight=2.5"])
    #expect(cells.allSatisfy { $0["status"] as? String == "finished" }, "\(cells)")
    for run in ["bc", "td3bc,q_weight=1", "td3bc,q_weight=2.5"] {
      #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("pendulum-random/\(run)/seed_0/summary.json").path))
    }
    let config = try String(contentsOf: out.appendingPathComponent("pendulum-random/td3bc,q_weight=2.5/seed_0/config.json"), encoding: .utf8)
    #expect(config.contains("\"q_weight\" : 2.5"), "the grid value reached the run")
    let report = try String(contentsOf: out.appendingPathComponent("report.md"), encoding: .utf8)
    #expect(report.split(separator: "\n").count == 5)
    // `stitch report SWEEP` stands for the sweep's runs.
    #expect(ReportCommand.expandingSweeps([out.path, "/elsewhere/run"]) == ["bc", "td3bc,q_weight=1", "td3bc,q_weight=2.5"].map { out.appendingPathComponent("pendulum-random/\($0)").path } + ["/elsewhere/run"])
    let table = try ReportCommand.table(ReportCommand.expandingSweeps([out.path]), published: nil, format: "markdown")
    #expect(table.contains("| dataset | bc | td3bc,q_weight=1 | td3bc,q_weight=2.5 |"), "grid points are columns of their own: \(table)")
    // Again: every cell is finished, none is trained again.
    let before = try FileManager.default.attributesOfItem(atPath: out.appendingPathComponent("pendulum-random/bc/seed_0/summary.json").path)[.modificationDate] as! Date
    #expect(commandError(["sweep", spec.path, "--out", out.path]) == nil)
    let after = try FileManager.default.attributesOfItem(atPath: out.appendingPathComponent("pendulum-random/bc/seed_0/summary.json").path)[.modificationDate] as! Date
    #expect(before == after)
    // Slurm: the scripts (dry run), a missing sbatch named, and what is handed to sbatch (a stand-in that records its
    // arguments: not a Slurm cluster, which scripts/slurm-local is to provide).
    #expect(commandError(["sweep", spec.path, "--out", out.path, "--executor", "slurm", "--throttle", "2", "--partition", "cpu", "--dry-run"]) == nil)
    setenv("STITCH_SBATCH", "/nonexistent/sbatch", 1)
    #expect(commandError(["sweep", spec.path, "--out", out.path, "--executor", "slurm"])?.contains("not installed") == true)
    #expect(commandError(["sweep", spec.path, "--out", out.path, "--executor", "slurm", "--jobs", "2"])?.contains("use --throttle") == true)
    let fake = root.appendingPathComponent("fake-sbatch")
    try Data("#!/bin/sh\necho \"$@\" >> \(root.path)/sbatch-calls\necho 4242\n".utf8).write(to: fake)
    chmod(fake.path, 0o755)
    setenv("STITCH_SBATCH", fake.path, 1)
    #expect(commandError(["sweep", spec.path, "--out", out.path, "--executor", "slurm", "--throttle", "2"]) == nil)
    unsetenv("STITCH_SBATCH")
    let calls = try String(contentsOf: root.appendingPathComponent("sbatch-calls"), encoding: .utf8).split(separator: "\n")
    #expect(calls.count == 2 && calls[0].hasSuffix("slurm/array.sbatch") && calls[1].contains("--dependency=afterany:4242"), "\(calls)")
    let array = try String(contentsOf: out.appendingPathComponent("slurm/array.sbatch"), encoding: .utf8)
    #expect(array.contains("#SBATCH --array=0-2%2") && array.contains("--cell \"$SLURM_ARRAY_TASK_ID\"") && array.contains("%A_%a.out"))
    // An array task: cell 1 is finished, so it is skipped.
    #expect(commandError(["sweep", spec.path, "--out", out.path, "--cell", "1"]) == nil)
    #expect(commandError(["sweep", spec.path, "--out", out.path, "--cell", "7"])?.contains("cells 0-2") == true)
    // The status: every cell finished, and the submitted (stand-in) jobs asked about.
    #expect(commandError(["sweep", "status", out.path]) == nil)
    #expect(commandError(["sweep", "status", root.path])?.contains("holds no sweep manifest") == true)
    // Another sweep file in the same folder.
    try Data(try String(contentsOf: spec, encoding: .utf8).replacingOccurrences(of: "steps = 4", with: "steps = 5").utf8).write(to: spec)
    #expect(commandError(["sweep", spec.path, "--out", out.path])?.contains("holds the cells of another sweep file") == true)
  }
}
