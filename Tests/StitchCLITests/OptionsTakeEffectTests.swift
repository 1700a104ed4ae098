import ArgumentParser
import Foundation
import Testing
@testable import StitchCLI
@testable import StitchData

import Stitch

/// A fresh temporary folder, removed at the end of the test that made it.
func scratchFolder(_ name: String) throws -> URL {
  let root = FileManager.default.temporaryDirectory.appendingPathComponent("stitch-\(name)-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
  return root
}

let captureLock = NSLock()

/// What `body` prints to standard output (for commands whose figures are printed). One capture at a time; what
/// tests running beside it print meanwhile lands in it too, so callers check for lines, not the whole text.
func capturedOutput(_ body: () throws -> Void) rethrows -> String {
  captureLock.lock()
  defer { captureLock.unlock() }
  let file = FileManager.default.temporaryDirectory.appendingPathComponent("stitch-stdout-\(UUID().uuidString)")
  FileManager.default.createFile(atPath: file.path, contents: nil)
  defer { try? FileManager.default.removeItem(at: file) }
  fflush(nil)
  let saved = dup(STDOUT_FILENO), target = open(file.path, O_WRONLY)
  dup2(target, STDOUT_FILENO)
  close(target)
  defer {
    fflush(nil)
    dup2(saved, STDOUT_FILENO)
    close(saved)
  }
  try body()
  fflush(nil)
  return (try? String(contentsOf: file, encoding: .utf8)) ?? ""
}

/// Trains a small BC run on Pendulum data into `root/name` and returns its seed folder and dataset path.
func tinyRun(_ root: URL, name: String = "run", dataSeed: UInt64 = 5, extra: [String] = []) throws -> (seed: URL, dataset: String) {
  let file = root.appendingPathComponent("data-\(dataSeed).hdf5").path
  if !FileManager.default.fileExists(atPath: file) { try D4RLFile.write(try DatasetMaker.make("pendulum-random", size: 300, seed: dataSeed), to: file) }
  let out = root.appendingPathComponent(name).path
  let error = commandError(["train", "--algo", "bc", "--dataset", file, "--env", "Pendulum-v1", "--steps", "6", "--eval-every", "6",
                            "--eval-episodes", "2", "--log-every", "3", "--set", "hidden_sizes=[8]", "--lanes", "1", "--seeds", "3", "--out", out] + extra)
  #expect(error == nil, "\(error ?? "")")
  return (URL(fileURLWithPath: out).appendingPathComponent("seed_3"), file)
}

/// Issue 21 §3.2: a run folder records its data, and `--resume` refuses other data before writing anything.
@Suite struct ResumeDataIdentityTests {
  @Test func resumeRefusesAnotherDatasetNamingBoth() throws {
    let root = try scratchFolder("resume-identity")
    defer { try? FileManager.default.removeItem(at: root) }
    let (seed, file) = try tinyRun(root)
    let config = try String(contentsOf: seed.appendingPathComponent("config.json"), encoding: .utf8)
    let recorded = DatasetIdentity(try DatasetFile.read(file).0, path: file)
    #expect(config.contains("\"hash\" : \"\(recorded.hash)\"") && config.contains("\"rows\" : \(recorded.rows)"), "\(config)")
    #expect(config.contains("\"drop_non_finite\" : false"), "\(config)")

    let other = root.appendingPathComponent("other.hdf5").path
    try D4RLFile.write(try DatasetMaker.make("pendulum-random", size: 300, seed: 6), to: other)
    let otherIdentity = DatasetIdentity(try DatasetFile.read(other).0, path: other)
    let files = ["checkpoint.safetensors", "metrics.jsonl", "config.json", "summary.json"]
    let before = try files.map { try Data(contentsOf: seed.appendingPathComponent($0)) }
    let message = commandError(["train", "--resume", seed.path, "--dataset", other, "--until", "8"]) ?? ""
    #expect(message.contains(recorded.description) && message.contains(otherIdentity.description), "\(message)")
    // A synthetic file the run did not have, and --drop-non-finite it did not use, are refused too.
    let synthetic = commandError(["train", "--resume", seed.path, "--dataset", file, "--synthetic", other, "--until", "8"]) ?? ""
    #expect(synthetic.contains("trained without synthetic transitions"), "\(synthetic)")
    let drop = commandError(["train", "--resume", seed.path, "--dataset", file, "--drop-non-finite", "--until", "8"]) ?? ""
    #expect(drop.contains("without --drop-non-finite"), "\(drop)")
    #expect(try files.map { try Data(contentsOf: seed.appendingPathComponent($0)) } == before, "a refused resume wrote to the run")

    // The same data under another path is the same data.
    let copy = root.appendingPathComponent("moved.hdf5").path
    try FileManager.default.copyItem(atPath: file, toPath: copy)
    #expect(commandError(["train", "--resume", seed.path, "--dataset", copy, "--until", "8"]) == nil)
    // A config.json from before the identities were recorded still resumes (nothing to compare).
    let url = seed.appendingPathComponent("config.json")
    var object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    var options = object["options"] as! [String: Any]
    options.removeValue(forKey: "dataset"); options.removeValue(forKey: "synthetic"); options.removeValue(forKey: "drop_non_finite")
    object["options"] = options
    try JSONSerialization.data(withJSONObject: object).write(to: url)
    #expect(commandError(["train", "--resume", seed.path, "--dataset", other, "--until", "10"]) == nil)
  }
}

/// Issue 21 §3.3: a dataset with no transition to draw is refused before any run folder is made.
@Suite struct EmptyDatasetTests {
  @Test func anEmptyDatasetIsRefusedBeforeAnyFolder() throws {
    let root = try scratchFolder("empty")
    defer { try? FileManager.default.removeItem(at: root) }
    // One row and no next_observations: the Q-learning view has nothing left.
    var one = Dataset(observationDim: 3, actionDim: 1)
    one.append(observation: [1, 0, 0], action: [0], reward: 0, nextObservation: [1, 0, 0], terminal: false, timeout: true)
    let file = root.appendingPathComponent("one-row.hdf5").path
    let h5 = try HDF5File.create(file)
    try one.observations.withUnsafeBufferPointer { try h5.writeFloats("observations", shape: [1, 3], values: $0) }
    try one.actions.withUnsafeBufferPointer { try h5.writeFloats("actions", shape: [1, 1], values: $0) }
    try one.rewards.withUnsafeBufferPointer { try h5.writeFloats("rewards", shape: [1], values: $0) }
    try h5.writeBools("terminals", values: [false])
    try h5.writeBools("timeouts", values: [true])
    let out = root.appendingPathComponent("run")
    let train = commandError(["train", "--algo", "bc", "--dataset", file, "--env", "Pendulum-v1", "--steps", "2", "--out", out.path]) ?? ""
    #expect(train.contains("holds no transitions once loaded"), "\(train)")
    #expect(!FileManager.default.fileExists(atPath: out.path))
    let synthOut = root.appendingPathComponent("synth.hdf5").path
    let synth = commandError(["synth", "--dataset", file, "--samples", "4", "--train-steps", "2", "-o", synthOut]) ?? ""
    #expect(synth.contains("holds no transitions once loaded"), "\(synth)")
    #expect(!FileManager.default.fileExists(atPath: synthOut + ".model.safetensors"))
    // One transition with its next observation is enough to train on.
    let single = root.appendingPathComponent("single.hdf5").path
    try D4RLFile.write(one, to: single)
    #expect(commandError(["train", "--algo", "bc", "--dataset", single, "--env", "Pendulum-v1", "--steps", "2", "--eval-every", "2",
                          "--eval-episodes", "1", "--set", "hidden_sizes=[4]", "--out", out.path]) == nil)
  }
}

/// Issue 21 §4: `stitch eval RUN` reproduces the run's last logged evaluation and says which seeds it used.
@Suite struct EvalReproducesTheRunTests {
  @Test func evalOfARunGivesItsLastLoggedReturn() throws {
    let root = try scratchFolder("eval-repro")
    defer { try? FileManager.default.removeItem(at: root) }
    let (seed, _) = try tinyRun(root)
    let lines = try String(contentsOf: seed.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
    let returns: [Double] = lines.compactMap { line in
      (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["eval_return"] as? Double
    }
    let logged = try #require(returns.last)
    var options = TrainingOptions()
    options.seed = 3
    #expect(options.evaluationSeed(online: false) == 3 &* 1_000_003 &+ 12_345)
    #expect(options.evaluationSeed(online: true) == 3 &+ 999_983)
    let evaluated = try RunEvaluation.evaluateAsTrained(path: seed, environment: nil, episodes: nil, seed: nil)
    #expect(evaluated.seed == options.evaluationSeed(online: false))
    #expect(evaluated.result.returns.count == 2)
    #expect(evaluated.result.meanReturn == logged, "eval gave \(evaluated.result.meanReturn), the run logged \(logged)")
    let printed = try capturedOutput { #expect(commandError(["eval", seed.path]) == nil) }
    #expect(printed.contains("episode seeds 3012354...3012355"), "\(printed)")
    let json = try capturedOutput { #expect(commandError(["eval", seed.path, "--json", "--episodes", "1", "--seed", "7"]) == nil) }
    #expect(json.contains(#""first_seed": "7""#) && json.contains(#""episodes": 1"#), "\(json)")
  }

  /// The same for an online run (SAC), whose trainer evaluates with seed + 999983.
  @Test func evalOfAnOnlineRunGivesItsLastLoggedReturn() throws {
    let root = try scratchFolder("eval-online")
    defer { try? FileManager.default.removeItem(at: root) }
    let out = root.appendingPathComponent("sac").path
    #expect(commandError(["train", "--algo", "sac", "--env", "Pendulum-v1", "--steps", "10", "--eval-every", "10", "--eval-episodes", "1",
                          "--set", "hidden_sizes=[8]", "--lanes", "1", "--seeds", "2", "--out", out]) == nil)
    let seed = URL(fileURLWithPath: out).appendingPathComponent("seed_2")
    let summary = try JSONDecoder().decode(RunSummary.self, from: Data(contentsOf: seed.appendingPathComponent("summary.json")))
    let evaluated = try RunEvaluation.evaluateAsTrained(path: seed, environment: nil, episodes: nil, seed: nil)
    #expect(evaluated.seed == 2 &+ 999_983)
    #expect(evaluated.result.meanReturn == summary.evaluations.last?[1], "eval gave \(evaluated.result.meanReturn), the run logged \(summary.evaluations)")
  }
}

/// Issue 21 §4: every option takes effect or is refused with a reason.
@Suite struct OptionsTakeEffectTests {
  @Test func onlineTrainingRefusesDatasetOptions() {
    let base = ["train", "--algo", "sac", "--env", "Pendulum-v1", "--steps", "10", "--out", "/nonexistent-sac"]
    for extra in [["--dataset", "d.hdf5"], ["--synthetic-ratio", "0.3"], ["--return-weighted", "0.1"], ["--normalize-rewards"],
                  ["--drop-non-finite"], ["--advantage-weighted", "0.1"], ["--synthetic", "s.hdf5"], ["--no-normalize-observations"]] {
      let message = commandError(base + extra) ?? ""
      #expect(message.contains("sac trains online") && message.contains(extra[0]), "\(extra): \(message)")
    }
    #expect(commandError(["train", "--algo", "bc", "--dataset", "/nonexistent.hdf5", "--env", "Pendulum-v1", "--synthetic-ratio", "0.2"])?
      .contains("give --synthetic FILE too") == true)
    #expect(commandError(["train", "--algo", "rebrac", "--dataset", "/nonexistent.hdf5", "--env", "Pendulum-v1", "--synthetic", "/s.hdf5"])?
      .contains("synthetic transitions (--synthetic) do not have") == true)
  }

  @Test func resumeRefusesTheOptionsItKeeps() {
    for extra in [["--steps", "5"], ["--seeds", "1"], ["--out", "x"], ["-o", "x"], ["--env", "Pendulum-v1"], ["--eval-every", "5"],
                  ["--eval-episodes", "3"], ["--checkpoint-every", "5"], ["--log-every", "5"], ["--batch-size", "8"],
                  ["--synthetic-ratio", "0.1"], ["--normalize-rewards"], ["--return-weighted", "0.1"]] {
      let message = commandError(["train", "--resume", "/nonexistent-run/seed_0"] + extra) ?? ""
      let name = extra[0] == "-o" ? "--out" : extra[0]
      #expect(message.contains("--resume keeps the run's own") && message.contains(name), "\(extra): \(message)")
    }
  }

  @Test func evalSynthDatasetAndBenchRefuseWhatTheyWouldIgnore() throws {
    let root = try scratchFolder("refusals")
    defer { try? FileManager.default.removeItem(at: root) }
    #expect(commandError(["eval", "runs/x/seed_0", "--stochastic"])?.contains("--stochastic samples a behaviour policy") == true)
    #expect(commandError(["eval", "--random", "--env", "Pendulum-v1", "--stochastic"])?.contains("--stochastic") == true)
    for extra in [["--width", "8"], ["--train-steps", "3"], ["--batch-size", "4"], ["--paper"], ["--lanes", "1"]] {
      let message = commandError(["synth", "--dataset", "/d.hdf5", "--model", "/m.safetensors", "-o", "/o.hdf5"] + extra) ?? ""
      #expect(message.contains("--model loads a trained denoiser") && message.contains(extra[0]), "\(message)")
    }
    let out = root.appendingPathComponent("d.hdf5").path
    #expect(commandError(["dataset", "make", "pendulum-random", "--from-run", "runs/sac/seed_0", "-o", out])?.contains("apply only to TASK-medium-replay") == true)
    #expect(commandError(["dataset", "make", "pendulum-random", "--until", "10", "-o", out])?.contains("--until") == true)
    #expect(commandError(["dataset", "make", "pendulum-medium-replay", "--size", "10", "--from-run", "r", "--until", "5", "-o", out])?
      .contains("apply only to rollouts") == true)
    #expect(commandError(["dataset", "make", "pendulum-random", "--size", "50"]) != nil)
    // The former --output spelling still works (hidden), and writes the file.
    #expect(commandError(["dataset", "make", "pendulum-random", "--size", "50", "--output", out]) == nil)
    #expect(FileManager.default.fileExists(atPath: out))
    #expect(commandError(["bench", "data", out, "--repeats", "0"])?.contains("--repeats must be positive") == true)
    #expect(commandError(["bench", "data", out, "--batch-size", "0"])?.contains("--batch-size must be positive") == true)
    #expect(commandError(["bench", "data", out, "--batch=-1"])?.contains("--batch-size must be positive") == true)
    #expect(commandError(["bench", "diffusion", "--batch", "0"])?.contains("--batch-size") == true)
  }

  /// `dataset convert` writes the layout --format names, whatever the output's suffix.
  @Test func convertFollowsFormatNotSuffix() throws {
    let root = try scratchFolder("convert")
    defer { try? FileManager.default.removeItem(at: root) }
    let file = root.appendingPathComponent("d.hdf5").path
    try D4RLFile.write(try DatasetMaker.make("pendulum-random", size: 50, seed: 1), to: file)
    #expect(commandError(["dataset", "convert", file, "-o", root.appendingPathComponent("x").path]) != nil)  // --format is required
    let minari = root.appendingPathComponent("looks-like.hdf5").path
    #expect(commandError(["dataset", "convert", file, "--format", "minari", "-o", minari]) == nil)
    #expect(FileManager.default.fileExists(atPath: minari + "/data/metadata.json"))
    let d4rl = root.appendingPathComponent("folder-name").path
    #expect(commandError(["dataset", "convert", minari, "--format", "d4rl", "-o", d4rl]) == nil)
    #expect(try D4RLFile.read(d4rl).0.count == 50)
    #expect(commandError(["dataset", "convert", file, "--format", "d4rl", "--dataset-id", "x/y-v0", "-o", d4rl])?.contains("--dataset-id") == true)
  }

  @Test func badSetValuesNameTheKeyAndTypeAndReportNeedsARun() {
    let message = commandError(["train", "--algo", "td3bc", "--dataset", "/nonexistent.hdf5", "--env", "Pendulum-v1", "--set", "actor_delay=2.5"]) ?? ""
    #expect(message.contains("configuration key 'actor_delay': cannot use '2.5' as an integer"), "\(message)")
    let list = commandError(["train", "--algo", "td3bc", "--dataset", "/nonexistent.hdf5", "--env", "Pendulum-v1", "--set", "hidden_sizes=[8.5]"]) ?? ""
    #expect(list.contains("configuration key 'hidden_sizes': cannot use '[8.5]' as a list of integers"), "\(list)")
    // A whole number for a real-valued key is fine, and a real one still reaches the range checks.
    #expect(commandError(["train", "--algo", "td3bc", "--dataset", "/nonexistent.hdf5", "--env", "Pendulum-v1", "--set", "discount=1.5"])?
      .contains("discount") == true)
    do {
      _ = try StitchCommand.parseAsRoot(["report"])
      Issue.record("`stitch report` with no run parsed")
    } catch {
      #expect(StitchCommand.exitCode(for: error) == .validationFailure, "\(error)")
      #expect(StitchCommand.message(for: error).contains("<runs>"), "\(StitchCommand.message(for: error))")
    }
  }

  /// `dataset info` reports the file's flags as they are and closing an unfinished last episode as its own field.
  @Test func datasetInfoReportsTheFilesFlags() throws {
    let root = try scratchFolder("info")
    defer { try? FileManager.default.removeItem(at: root) }
    var ds = Dataset(observationDim: 1, actionDim: 1)
    for i in 0..<20 { ds.append(observation: [Float(i)], action: [0], reward: 1, nextObservation: [Float(i + 1)], terminal: false, timeout: i % 4 == 3) }
    ds.timeouts[19] = false  // rows 16-19: an episode the file never ends; 4 timeouts in the file (rows 3, 7, 11, 15)
    let file = root.appendingPathComponent("d.hdf5").path
    try D4RLFile.write(ds, to: file)
    let json = try capturedOutput { #expect(commandError(["dataset", "info", file, "--json"]) == nil) }
    #expect(json.contains(#""timeouts": 4"#) && json.contains(#""closed_unfinished_episodes": 1"#) && json.contains(#""episodes": 5"#), "\(json)")
    let text = try capturedOutput { #expect(commandError(["dataset", "info", file]) == nil) }
    #expect(text.contains("the file flags 0 terminals, 4 timeouts") && text.contains("1 unfinished episode closed"), "\(text)")
  }

  /// `eval --policy FILE` with a malformed policy names the file and the field instead of trapping.
  @Test func aMalformedPolicyFileIsRefusedNamingTheField() throws {
    let root = try scratchFolder("policy")
    defer { try? FileManager.default.removeItem(at: root) }
    let good = try BehaviourPolicy.bundled("pendulum-expert")
    func write(_ edit: (inout Checkpoint) -> Void) throws -> String {
      let url = root.appendingPathComponent("p-\(UUID().uuidString).safetensors")
      try BehaviourPolicy.save(actor: good.actor, task: good.task, kind: good.kind, scaling: good.scaling, metadata: [:], to: url)
      var c = try Checkpoint.read(from: url)
      edit(&c)
      try c.write(to: url)
      return url.path
    }
    let rank1 = try write { $0.tensors["actor.net.0.weight"] = Tensor(shape: [4], scalars: [1, 2, 3, 4]) }
    let m1 = commandError(["eval", "--policy", rank1, "--episodes", "1"]) ?? ""
    #expect(m1.contains(rank1) && m1.contains("'actor.net.0.weight' has shape [4]"), "\(m1)")
    let inner = try write { c in
      let w = c.tensors["actor.net.2.weight"]!
      c.tensors["actor.net.2.weight"] = Tensor.zeros([w.shape[0] + 1, w.shape[1]])
    }
    #expect((commandError(["eval", "--policy", inner, "--episodes", "1"]) ?? "").contains("actor.net.2.weight"))
    let hidden = try write { $0.metadata["hidden_sizes"] = "64,x" }
    #expect((commandError(["eval", "--policy", hidden, "--episodes", "1"]) ?? "").contains("'hidden_sizes'"))
    // Metadata describing a far larger actor than the file holds is refused before the network is built (it
    // allocated 16 GB for hidden_sizes = 4000000000: found by the safetensors fuzzer, docs/fuzzing.md).
    let huge = try write { $0.metadata["hidden_sizes"] = "4000000000" }
    #expect((commandError(["eval", "--policy", huge, "--episodes", "1"]) ?? "").contains("actor parameters; the file holds"))
    let bounds = try write { $0.metadata["action_high"] = "-3" }
    #expect((commandError(["eval", "--policy", bounds, "--episodes", "1"]) ?? "").contains("do not bound a box"))
    let nan = try write { c in
      var w = c.tensors["actor.net.0.weight"]!
      w.withUnsafeMutableBufferPointer { $0[0] = .nan }
      c.tensors["actor.net.0.weight"] = w
    }
    #expect((commandError(["eval", "--policy", nan, "--episodes", "1"]) ?? "").contains("NaN or infinite"))
    // A library caller's wrong-width observation throws instead of trapping.
    var rng = RandomStream(seed: 0)
    #expect(throws: TensorError.self) { _ = try good.act([1, 0], exploring: false, rng: &rng) }
    #expect(try good.act([1, 0, 0], exploring: false, rng: &rng).count == 1)
  }

  /// `--until` past IQL's cosine actor schedule says the actor's learning rate is 0 from there.
  @Test func extendingPastARunLengthScheduleIsNoted() throws {
    var iql = IQL.defaultConfiguration
    iql.actorScheduleSteps = 12
    let notes = try TrainCommand.runLengthNotes(iql, keys: IQL.trainingDefaults.runLengthKeys, target: 20)
    #expect(notes.count == 1 && notes[0].contains("actor_schedule_steps = 12") && notes[0].contains("learning rate to 0"), "\(notes)")
    #expect(try TrainCommand.runLengthNotes(iql, keys: IQL.trainingDefaults.runLengthKeys, target: 12).isEmpty)
  }

  /// `stitch --version` prints the version a run records in its checkpoints.
  @Test func versionIsWhatRunsRecord() throws {
    let message: String
    do { _ = try StitchCommand.parseAsRoot(["--version"]); message = "" } catch { message = StitchCommand.message(for: error) }
    let root = try scratchFolder("version")
    defer { try? FileManager.default.removeItem(at: root) }
    let (seed, _) = try tinyRun(root)
    let recorded = try Checkpoint.read(from: seed.appendingPathComponent("checkpoint.safetensors")).metadata["stitch_version"]
    #expect(!message.isEmpty && message == recorded, "--version printed '\(message)', the run recorded '\(recorded ?? "nothing")'")
  }
}

/// The hint to add `--preset` appears only when CORL's preset would change the run: a user who already set the
/// preset's values with `--set` is not told to add them.
@Suite struct PresetHintTests {
  func note(_ arguments: [String]) throws -> String? {
    let command = try TrainCommand.parse(arguments)
    let runLength = ReBRAC.trainingDefaults.runLengthKeys.map { "\($0)=\(command.steps)" }
    let resolved = try ConfigResolver.resolve(ReBRAC.defaultConfiguration, presets: runLength, overrides: command.overrides)
    return try command.presetNote(ReBRAC.self, resolved: resolved, runLength: runLength)
  }

  @Test func theHintNamesOnlyWhatThePresetWouldChange() throws {
    let base = ["--algo", "rebrac", "--dataset", "data/halfcheetah-medium.hdf5", "--env", "HalfCheetah-v4"]
    let plain = try note(base)
    #expect(plain?.contains("add --preset halfcheetah-medium") == true, "\(plain ?? "no note")")
    let preset = try #require(CORLPresets.suggestion(algorithm: "rebrac", datasetFile: "halfcheetah-medium.hdf5")).preset
    #expect(try note(base + preset.overrides.flatMap { ["--set", $0] }) == nil)
    #expect(try note(base + ["--preset", "halfcheetah-medium"]) == nil)
    #expect(try note(["--algo", "rebrac", "--dataset", "data/mine.hdf5", "--env", "HalfCheetah-v4"]) == nil)
  }
}
