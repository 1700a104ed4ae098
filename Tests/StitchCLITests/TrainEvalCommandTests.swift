import ArgumentParser
import Foundation
import Testing
@testable import StitchCLI

import Stitch

/// `stitch train` refuses settings no run can use, and never replaces a run without being told to.
@Suite struct TrainCommandCheckTests {
  func trainError(_ arguments: [String]) -> String? { commandError(["train"] + arguments) }

  @Test func loopSettingsAndSeedsAreChecked() {
    let base = ["--algo", "bc", "--dataset", "/nonexistent.hdf5", "--env", "Pendulum-v1", "--out", "/nonexistent-run"]
    #expect(trainError(base + ["--steps", "0"])?.contains("--steps must be positive") == true)
    #expect(trainError(base + ["--eval-every", "0"])?.contains("--eval-every must be positive") == true)
    #expect(trainError(base + ["--eval-episodes", "0"])?.contains("--eval-episodes must be positive") == true)
    #expect(trainError(base + ["--checkpoint-every", "0"])?.contains("--checkpoint-every must be positive") == true)
    #expect(trainError(base + ["--batch-size", "0"])?.contains("--batch-size must be positive") == true)
    #expect(trainError(base + ["--log-every", "0"])?.contains("--log-every must be positive") == true)
    #expect(trainError(base + ["--seeds", "0,1,0"])?.contains("seed 0 twice") == true)
    #expect(trainError(base + ["--seeds", "0,,1"])?.contains("--seeds must be comma-separated integers") == true)
    #expect(trainError(["--resume", "/nonexistent-run/seed_0", "--set", "discount=0.9"])?.contains("--set cannot change it") == true)
    // With valid settings the next problem is the missing dataset: the checks above came first.
    #expect(trainError(base)?.contains("no such file") == true)
  }

  /// A whole small run through the command: --log-every sets the metrics rows, and --preset's reward
  /// normalisation lands in the saved options.
  @Test func logEveryAndPresetReachTheRunFolder() throws {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("stitch-cli-run-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: root) }
    try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    let file = root.appendingPathComponent("hopper-medium.hdf5").path
    try D4RLFile.write(try DatasetMaker.make("pendulum-random", size: 300, seed: 3), to: file)
    let out = root.appendingPathComponent("run").path
    #expect(trainError(["--algo", "iql", "--dataset", file, "--env", "Pendulum-v1", "--steps", "12", "--log-every", "4",
                        "--eval-every", "12", "--eval-episodes", "1", "--preset", "hopper-medium", "--out", out, "--set", "hidden_sizes=[8]"]) == nil)
    let log = try String(contentsOfFile: out + "/seed_0/metrics.jsonl", encoding: .utf8)
    let steps = log.split(separator: "\n").compactMap { line in
      (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["step"] as? Int
    }
    #expect(Set(steps) == [4, 8, 12], "\(steps)")
    let config = try String(contentsOfFile: out + "/seed_0/config.json", encoding: .utf8)
    #expect(config.contains("\"normalize_rewards\" : true") && config.contains("\"deterministic_actor\" : true"), "\(config)")
    // IQL's cosine actor schedule spans the run, as CORL's spans max_timesteps.
    #expect(config.contains("\"actor_schedule_steps\" : 12"), "\(config)")
  }

  /// `--resume RUN` (the run, not one seed) continues every unfinished seed to the target and ends where
  /// uninterrupted seeds end, bit for bit; a second call finds nothing left to do.
  @Test func resumingAWholeRunContinuesEverySeed() throws {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("stitch-cli-resume-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: root) }
    try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    let file = root.appendingPathComponent("data.hdf5").path
    try D4RLFile.write(try DatasetMaker.make("pendulum-random", size: 300, seed: 5), to: file)
    let common = ["--algo", "bc", "--dataset", file, "--env", "Pendulum-v1", "--eval-every", "6", "--eval-episodes", "1",
                  "--log-every", "1", "--set", "hidden_sizes=[8]", "--lanes", "1"]
    let whole = root.appendingPathComponent("whole").path, split = root.appendingPathComponent("split").path
    #expect(trainError(common + ["--steps", "12", "--seeds", "0,1", "--out", whole]) == nil)
    #expect(trainError(common + ["--steps", "6", "--seeds", "0,1", "--out", split]) == nil)
    // Without --dataset the run's recorded file is loaded (and checked against its recorded rows and hash).
    #expect(trainError(["--resume", split, "--until", "12"]) == nil)
    // The run recorded the sgemm plan it ran under, which a resume keeps.
    let config = try String(contentsOfFile: "\(split)/seed_0/config.json", encoding: .utf8)
    #expect(config.contains("\"sgemm_plan\" : \"\(BLAS.gemmPlan.id)\""), "\(config)")
    for seed in [0, 1] {
      let a = try Checkpoint.read(from: URL(fileURLWithPath: "\(whole)/seed_\(seed)/checkpoint.safetensors"))
      let b = try Checkpoint.read(from: URL(fileURLWithPath: "\(split)/seed_\(seed)/checkpoint.safetensors"))
      #expect(b.metadata["step"] == "12")
      #expect(!a.tensors.isEmpty && a.tensors.count == b.tensors.count)
      for (key, tensor) in a.tensors { #expect(b.tensors[key].map { tensor.isIdentical(to: $0) } == true, "seed \(seed): \(key)") }
    }
    // Nothing left: the call succeeds and changes nothing.
    let before = try Data(contentsOf: URL(fileURLWithPath: "\(split)/seed_1/checkpoint.safetensors"))
    #expect(trainError(["--resume", split, "--dataset", file, "--until", "12"]) == nil)
    #expect(try Data(contentsOf: URL(fileURLWithPath: "\(split)/seed_1/checkpoint.safetensors")) == before)
    // One seed folder extends alone.
    #expect(trainError(["--resume", "\(split)/seed_1", "--dataset", file, "--until", "14"]) == nil)
    #expect(try Checkpoint.read(from: URL(fileURLWithPath: "\(split)/seed_1/checkpoint.safetensors")).metadata["step"] == "14")
    #expect(try Checkpoint.read(from: URL(fileURLWithPath: "\(split)/seed_0/checkpoint.safetensors")).metadata["step"] == "12")
    #expect(trainError(["--resume", root.path, "--dataset", file])?.contains("is not a Stitch run folder") == true)
    // The recorded file gone and none given: the error names it.
    try FileManager.default.moveItem(atPath: file, toPath: file + ".moved")
    #expect(trainError(["--resume", "\(split)/seed_1", "--until", "16"])?.contains("the run recorded \(file), which is not there") == true)
  }

  @Test func anExistingRunIsNotReplacedWithoutOverwrite() throws {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("stitch-occupied-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: root) }
    let seed = root.appendingPathComponent("seed_3")
    try FileManager.default.createDirectory(at: seed, withIntermediateDirectories: true)
    let config = seed.appendingPathComponent("config.json")
    try Data("{\"algorithm\": \"bc\"}".utf8).write(to: config)
    let base = ["--algo", "bc", "--dataset", "/nonexistent.hdf5", "--env", "Pendulum-v1", "--out", root.path]
    let message = trainError(base + ["--seeds", "2,3"])
    #expect(message?.contains("\(seed.path) already holds a run") == true)
    #expect(message?.contains("--resume") == true && message?.contains("--overwrite") == true)
    #expect(FileManager.default.fileExists(atPath: config.path))
    #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("seed_2").path))
    // --overwrite gets past this check; the old run stays until every other check has passed (here the
    // dataset is missing, so nothing is removed).
    #expect(trainError(base + ["--seeds", "2,3", "--overwrite"])?.contains("no such file") == true)
    #expect(FileManager.default.fileExists(atPath: config.path))
    #expect(TrainCommand.occupiedSeedFolders(root: root, seeds: [2, 3]).map(\.lastPathComponent) == ["seed_3"])
  }
}

/// `stitch eval` takes a seed folder or its checkpoint file, and refuses what it cannot evaluate.
@Suite struct EvalCommandCheckTests {
  func evalOutcome(_ arguments: [String]) -> String? { commandError(["eval"] + arguments) }

  @Test func checkpointFileFolderEpisodesAndWidths() throws {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("stitch-eval-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: root) }
    let folder = root.appendingPathComponent("seed_0")
    var options = TrainingOptions()
    options.environment = "Pendulum-v1"
    options.steps = 20
    options.evaluationInterval = 20
    options.evaluationEpisodes = 1
    options.checkpointInterval = 20
    let data = try DatasetMaker.make("pendulum-random", size: 400, seed: 2)
    _ = try OfflineTrainer<BC>(configuration: BC.defaultConfiguration, options: options, folder: folder).run(dataset: data)
    let checkpoint = folder.appendingPathComponent("checkpoint.safetensors").path

    // The folder and its checkpoint file evaluate the same policy, so the same returns.
    let fromFolder = try RunEvaluation.evaluate(path: folder, environment: nil, episodes: 2, seed: 5)
    let fromFile = try RunEvaluation.evaluate(path: URL(fileURLWithPath: checkpoint), environment: nil, episodes: 2, seed: 5)
    #expect(fromFolder.returns == fromFile.returns && fromFolder.returns.count == 2)
    #expect(evalOutcome([checkpoint, "--episodes", "1"]) == nil)

    #expect(evalOutcome([folder.path, "--episodes", "0"])?.contains("--episodes must be positive") == true)
    // A Pendulum policy (3 observations) in MountainCarContinuous (2): refused with both widths, not a trap.
    let widths = evalOutcome([folder.path, "--env", "MountainCarContinuous-v0", "--episodes", "1"])
    #expect(widths?.contains("takes 3-wide observations and gives 1-wide actions; MountainCarContinuous-v0 has 2 and 1") == true)
    #expect(evalOutcome([root.appendingPathComponent("nope").path])?.contains("no such run folder or checkpoint") == true)
    #expect(evalOutcome(["--policy", "pendulum-medium", "--env", "Hopper-v4", "--episodes", "1"])?.contains("Hopper-v4 has 11 and 3") == true)
  }
}

/// `stitch train --list-config` prints flat TOML that reads back as the defaults, with CORL's names as comments.
@Suite struct ListConfigTests {
  struct RoundTrip: AlgorithmVisitor {
    func visit<A: Algorithm>(_ type: A.Type) throws -> (listing: String, same: Bool) {
      let listing = try TrainCommand.configListing(type)
      let file = FileManager.default.temporaryDirectory.appendingPathComponent("stitch-list-\(A.id)-\(UUID().uuidString).toml")
      defer { try? FileManager.default.removeItem(at: file) }
      try listing.write(to: file, atomically: true, encoding: .utf8)
      let read = try ConfigResolver.resolve(A.defaultConfiguration, file: file)
      return (listing, try ConfigResolver.json(read) == ConfigResolver.json(A.defaultConfiguration))
    }
  }

  @Test func listingIsAConfigFileOfTheDefaults() throws {
    for type in AlgorithmRegistry.all {
      let (listing, same) = try withAlgorithm(type, RoundTrip())
      #expect(same, "\(type.id): --list-config does not read back as the defaults:\n\(listing)")
    }
    let cql = try TrainCommand.configListing(CQL.self)
    #expect(cql.contains("conservative_weight = 10   # CORL: cql_alpha\n"))
    #expect(cql.contains("sampled_actions = 10   # CORL: cql_n_actions\n"))
  }
}
