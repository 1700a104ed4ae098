import Foundation
import Stitch
import StitchTestSupport

import Testing

/// A `stitch train` process killed with SIGKILL (no chance to checkpoint) and resumed with `--resume` ends
/// bit-identical to an uninterrupted run, offline and online: the resumed run starts from the last periodic
/// checkpoint, drops the log rows written after it, and replays the online episode in progress. Checkpoints fall
/// between log rows (every 60 steps, logs every 7), so the metric averages in progress at a checkpoint are part of
/// what must survive.
@Suite(.serialized) struct KillAndResumeTests {
  /// The `stitch` executable SwiftPM built beside the test bundle.
  static func stitchExecutable() throws -> URL {
    let here = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    for folder in [here.deletingLastPathComponent(), here.deletingLastPathComponent().deletingLastPathComponent()] {
      let candidate = folder.appendingPathComponent("stitch")
      if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
    }
    throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: "no stitch executable beside \(here.path): build with --build-tests"])
  }

  @discardableResult
  static func stitch(_ arguments: [String], killWhen condition: (() -> Bool)? = nil) throws -> Int32 {
    let process = Process()
    process.executableURL = try stitchExecutable()
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    if let condition {
      while process.isRunning && !condition() { usleep(2_000) }
      if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
    process.waitUntilExit()
    return process.terminationStatus
  }

  /// The step of the checkpoint in `seed`, or nil before the first one.
  static func checkpointStep(_ seed: URL) -> Int? {
    guard let c = try? Checkpoint.read(from: seed.appendingPathComponent("checkpoint.safetensors")) else { return nil }
    return c.metadata["step"].flatMap { Int($0) }
  }

  func killedAndResumedEqualsUninterrupted(_ common: [String], dataset: [String], steps: Int) throws {
    let base = FileManager.default.temporaryDirectory.appendingPathComponent("stitch-kill-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: base) }
    let whole = base.appendingPathComponent("whole"), killed = base.appendingPathComponent("killed")
    #expect(try Self.stitch(common + dataset + ["--out", whole.path]) == 0)
    let seed = killed.appendingPathComponent("seed_0")
    // Killed as soon as its first checkpoint (step 60) is seen, usually before the second: the rows logged after
    // the last checkpoint are lost and written again on resume.
    try Self.stitch(common + dataset + ["--out", killed.path], killWhen: { Self.checkpointStep(seed) != nil })
    let reached = try #require(Self.checkpointStep(seed), "no checkpoint before the kill")
    #expect(reached < steps, "the run ended (step \(reached)) before it could be killed")
    #expect(try Self.stitch(["train", "--resume", seed.path] + dataset) == 0)
    let differences = try TestSupport.runFolderDifferences(whole.appendingPathComponent("seed_0"), seed)
    #expect(differences.isEmpty, "\(common): \(differences)")
  }

  @Test func offlineRunKilledAndResumedEqualsUninterrupted() throws {
    let data = FileManager.default.temporaryDirectory.appendingPathComponent("stitch-kill-data-\(UUID().uuidString).hdf5")
    defer { try? FileManager.default.removeItem(at: data) }
    #expect(try Self.stitch(["dataset", "make", "pendulum-random", "--size", "2000", "-o", data.path]) == 0)
    try killedAndResumedEqualsUninterrupted(
      ["train", "--algo", "td3bc", "--env", "Pendulum-v1", "--steps", "3000", "--eval-every", "1000", "--eval-episodes", "1",
       "--checkpoint-every", "60", "--log-every", "7", "--batch-size", "32", "--set", "hidden_sizes=[32,32]", "--lanes", "1"],
      dataset: ["--dataset", data.path], steps: 3000)
  }

  @Test func onlineRunKilledAndResumedEqualsUninterrupted() throws {
    try killedAndResumedEqualsUninterrupted(
      ["train", "--algo", "sac", "--env", "Pendulum-v1", "--steps", "1500", "--eval-every", "1000", "--eval-episodes", "1",
       "--checkpoint-every", "60", "--log-every", "7", "--batch-size", "32", "--set", "hidden_sizes=[32,32]", "--lanes", "1"],
      dataset: [], steps: 1500)
  }
}
