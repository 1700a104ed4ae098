import ArgumentParser
import Foundation
import Testing
@testable import StitchCLI

import Stitch

/// `stitch synth` refuses sizes it cannot train or sample with before reading the dataset.
@Suite struct SynthCommandCheckTests {
  @Test func nonPositiveSizesAreRefused() {
    let base = ["synth", "--dataset", "/nonexistent.hdf5", "--samples", "10", "-o", "/nonexistent-synth.hdf5"]
    #expect(commandError(base + ["--width", "0"])?.contains("--width must be positive") == true)
    #expect(commandError(base + ["--train-steps", "0"])?.contains("--train-steps must be positive") == true)
    #expect(commandError(base + ["--batch-size", "0"])?.contains("--batch-size must be positive") == true)
    #expect(commandError(base + ["--sampler", "dpm-solver-v3", "--steps", "8", "--ems-grid", "8"])?.contains("must exceed --steps") == true)
    // With valid sizes the next problem is the missing dataset.
    #expect(commandError(base)?.contains("no such file") == true)
  }
}

/// Benchmarks refuse a measurement window too short to mean anything.
@Suite struct BenchOptionTests {
  @Test func tooShortAWindowIsRefused() {
    #expect(commandError(["bench", "train", "--seconds", "0", "--algos", "bc"])?.contains("--seconds must be at least 0.1") == true)
    #expect(commandError(["bench", "sgemm", "--seconds", "0.01"])?.contains("--seconds must be at least 0.1") == true)
  }
}


/// `stitch finetune` refuses what no fine-tuning run can use, before it reads or writes anything.
@Suite struct FinetuneCommandCheckTests {
  func error(_ arguments: [String]) -> String? { commandError(["finetune"] + arguments) }

  @Test func settingsArePlainlyRefused() throws {
    let base = ["/nonexistent-run/seed_0", "--online-steps", "100", "--out", "/nonexistent-out"]
    #expect(error(base + ["--replay", "both"])?.contains("--replay must be append, mixed or none") == true)
    #expect(error(base + ["--offline-ratio", "0.3"])?.contains("add --replay mixed") == true)
    #expect(error(base + ["--replay", "mixed", "--offline-ratio", "1.5"])?.contains("must lie in [0, 1]") == true)
    #expect(error(base + ["--warmup", "10", "--random-warmup", "10"])?.contains("choose one of --warmup") == true)
    #expect(error(base + ["--warmup", "101"])?.contains("does not fit in --online-steps 100") == true)
    #expect(error(base + ["--utd", "0"])?.contains("--utd must be positive") == true)
    #expect(error(base + ["--replay", "none", "--dataset", "d.hdf5"])?.contains("--replay none keeps no offline data") == true)
    #expect(error(["/nonexistent-run", "--out", "/x"])?.contains("--online-steps is required") == true)
    #expect(error(["--resume", "/nonexistent-run", "--utd", "2"])?.contains("--utd cannot change them") == true)
    // With valid settings the next problem is the missing run.
    #expect(error(base)?.contains("is not a Stitch run folder") == true)
  }

  /// Behaviour cloning and model-based agents have no online counterpart here: refused, naming why.
  @Test func algorithmsWithoutAnOnlineCounterpartAreRefused() throws {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("stitch-finetune-bc-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: root) }
    for id in ["bc", "mopo"] {
      let folder = root.appendingPathComponent("\(id)/seed_0")
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
      try Data(#"{"algorithm": "\#(id)", "configuration": {}, "options": {"environment": "Hopper-v4"}}"#.utf8).write(to: folder.appendingPathComponent("config.json"))
      let text = error([folder.path, "--online-steps", "10", "--out", root.appendingPathComponent("out").path])
      #expect(text?.contains("\(id) cannot be fine-tuned") == true, "\(text ?? "no error")")
    }
  }
}

/// `stitch finetune`'s bad input on real runs: an environment of other widths, a run still training (its folder
/// locked), and a mixed replay whose recorded dataset moved or changed: each refused with one line naming it.
@Suite(.serialized) struct FinetuneBadInputTests {
  @Test func widthsLocksAndMissingOrChangedDataAreRefused() throws {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("stitch-finetune-bad-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: root) }
    try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    let dataPath = root.appendingPathComponent("pendulum.hdf5").path
    try D4RLFile.write(try DatasetMaker.make("pendulum-random", size: 300, seed: 3), to: dataPath)
    let run = root.appendingPathComponent("td3bc").path
    #expect(commandError(["train", "--algo", "td3bc", "--dataset", dataPath, "--env", "Pendulum-v1", "--steps", "4", "--eval-every", "4",
                          "--eval-episodes", "1", "--set", "hidden_sizes=[8,8]", "--out", run]) == nil)
    let seed = run + "/seed_0", out = root.appendingPathComponent("ft").path
    func finetune(_ extra: [String]) -> String? { commandError(["finetune", seed, "--online-steps", "5", "--eval-every", "5", "--eval-episodes", "1", "--out", out] + extra) }
    #expect(finetune(["--env", "Hopper-v4"])?.contains("observation/action widths 11/3") == true)
    do {
      let held = try RunLock.acquire(URL(fileURLWithPath: seed))
      #expect(finetune([])?.contains("is still training") == true)
      withExtendedLifetime(held) {}
    }
    #expect(finetune(["--replay", "none"]) == nil, "a released lock lets it run")
    try D4RLFile.write(try DatasetMaker.make("pendulum-random", size: 300, seed: 4), to: root.appendingPathComponent("other.hdf5").path)
    #expect(finetune(["--replay", "mixed", "--dataset", root.appendingPathComponent("other.hdf5").path, "--overwrite"])?.contains("is other data") == true)
    try FileManager.default.moveItem(atPath: dataPath, toPath: dataPath + ".moved")
    #expect(finetune(["--replay", "mixed", "--overwrite"])?.contains("does not exist; give --dataset FILE") == true)
  }
}
