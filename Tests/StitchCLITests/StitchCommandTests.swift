import ArgumentParser
import Foundation
import Testing
@testable import StitchCLI

import Stitch

@Suite struct StitchCommandTests {
  @Test func helpListsSubcommandsWithAbstracts() {
    let help = StitchCommand.helpMessage()
    #expect(help.contains("USAGE: stitch"))
    for sub in StitchCommand.subcommands {
      let name = sub.configuration.commandName ?? ""
      #expect(help.contains(name), "root help is missing subcommand \(name)")
      #expect(!sub.configuration.abstract.isEmpty, "\(name) has no abstract")
    }
  }

  @Test func everySubcommandHelpHasAnExample() {
    func visit(_ command: any ParsableCommand.Type, path: [String]) {
      let subs = command.configuration.subcommands
      if subs.isEmpty {
        #expect(command.configuration.discussion.contains("Example"), "\(path.joined(separator: " ")) has no example in its help")
      }
      for sub in subs { visit(sub, path: path + [sub.configuration.commandName ?? "?"]) }
    }
    visit(StitchCommand.self, path: ["stitch"])
  }

  /// `--lanes`: 1 and 2 as given, auto from the cores per concurrent run, anything else a clear error.
  @Test func lanesOptionResolvesAndRejects() throws {
    #expect(try ProductLanesOption.resolve("1", concurrentRuns: 1) == 1)
    #expect(try ProductLanesOption.resolve("2", concurrentRuns: 5) == 2)
    #expect(try ProductLanesOption.resolve("auto", concurrentRuns: 10_000) == 1)
    let cores = ProcessInfo.processInfo.activeProcessorCount
    #expect(try ProductLanesOption.resolve("auto", concurrentRuns: 1) == (cores >= 2 ? 2 : 1))
    #expect(throws: ValidationError.self) { _ = try ProductLanesOption.resolve("4", concurrentRuns: 1) }
  }

  @Test func unknownSubcommandIsAnError() {
    #expect(throws: (any Error).self) { _ = try StitchCommand.parseAsRoot(["no-such-command"]) }
  }
}

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

/// Runs `stitch ARGUMENTS...` in process: nil when it succeeds, else the error's text.
func commandError(_ arguments: [String]) -> String? {
  do {
    var command = try StitchCommand.parseAsRoot(arguments)
    try command.run()
    return nil
  } catch { return "\(error)" }
}

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

#if canImport(FoundationXML)
import FoundationXML
#endif

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
