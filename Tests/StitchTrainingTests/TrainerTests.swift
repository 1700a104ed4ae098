import Foundation
import StitchData
import StitchDiffusion
import StitchEnvironments
import StitchNN
import StitchTensor
import Testing
@testable import StitchAlgorithms

@testable import StitchTraining

@Suite(.serialized) struct TrainerTests {
  func folder(_ label: String) -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("stitch-\(label)-\(UUID().uuidString)")
  }

  /// A small Pendulum dataset from a uniformly random policy.
  static let dataset: Dataset = try! DatasetMaker.make("pendulum-random", size: 1000, seed: 4)

  func options(steps: Int) -> TrainingOptions {
    var o = TrainingOptions()
    o.steps = steps
    o.batchSize = 32
    o.evaluationInterval = 20
    o.evaluationEpisodes = 2
    o.logInterval = 10
    o.checkpointInterval = 1000
    o.seed = 11
    o.environment = "Pendulum-v1"
    return o
  }

  @Test func resumedRunIsBitIdenticalToAnUninterruptedOne() throws {
    var config = TD3BC.defaultConfiguration
    config.hiddenSizes = [16, 16]
    let whole = folder("whole"), split = folder("split")
    defer { try? FileManager.default.removeItem(at: whole); try? FileManager.default.removeItem(at: split) }
    _ = try OfflineTrainer<TD3BC>(configuration: config, options: options(steps: 40), folder: whole).run(dataset: Self.dataset)
    _ = try OfflineTrainer<TD3BC>(configuration: config, options: options(steps: 20), folder: split).run(dataset: Self.dataset)
    var resumed = try OfflineTrainer<TD3BC>.load(from: split)
    resumed.options.steps = 40
    _ = try resumed.run(dataset: Self.dataset, resume: true)
    let a = try Checkpoint.read(from: whole.appendingPathComponent("checkpoint.safetensors"))
    let b = try Checkpoint.read(from: split.appendingPathComponent("checkpoint.safetensors"))
    #expect(a.metadata["step"] == "40" && b.metadata["step"] == "40")
    #expect(a.tensors.count == b.tensors.count && !a.tensors.isEmpty)
    for (k, t) in a.tensors { #expect(t.isIdentical(to: b.tensors[k]!), "\(k) differs after resume") }
    // The resumed log equals the uninterrupted one.
    let la = try String(contentsOf: whole.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
    let lb = try String(contentsOf: split.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
    #expect(la == lb)
  }

  /// With two product lanes (products split over two cores; layers wide enough that they do split) a run is
  /// reproducible and resumes bit-identically: the setting is saved with the run and restored on load.
  @Test func twoLaneRunResumesBitIdentically() throws {
    var config = TD3BC.defaultConfiguration
    config.hiddenSizes = [128, 128]
    var opts = options(steps: 30)
    opts.batchSize = 64  // 64×128×128 products: 2.1 MFLOP, above ProductLanes.minimumFlops, split by rows
    opts.productLanes = 2
    let whole = folder("lanes-whole"), split = folder("lanes-split")
    defer { try? FileManager.default.removeItem(at: whole); try? FileManager.default.removeItem(at: split) }
    _ = try OfflineTrainer<TD3BC>(configuration: config, options: opts, folder: whole).run(dataset: Self.dataset)
    #expect(ProductLanes.current == 1, "the trainer restores the thread's lanes")
    var first = opts
    first.steps = 15
    _ = try OfflineTrainer<TD3BC>(configuration: config, options: first, folder: split).run(dataset: Self.dataset)
    var resumed = try OfflineTrainer<TD3BC>.load(from: split)
    #expect(resumed.options.productLanes == 2)
    resumed.options.steps = 30
    _ = try resumed.run(dataset: Self.dataset, resume: true)
    let a = try Checkpoint.read(from: whole.appendingPathComponent("checkpoint.safetensors"))
    let b = try Checkpoint.read(from: split.appendingPathComponent("checkpoint.safetensors"))
    #expect(a.tensors.count == b.tensors.count && !a.tensors.isEmpty)
    for (k, t) in a.tensors { #expect(t.isIdentical(to: b.tensors[k]!), "\(k) differs after a two-lane resume") }
  }

  @Test func datasetOfAnotherTaskIsRefusedBeforeTheRunFolderExists() throws {
    var config = TD3BC.defaultConfiguration
    config.hiddenSizes = [8]
    var opts = options(steps: 5)
    opts.environment = "MountainCarContinuous-v0"  // 2 observations, Pendulum's dataset has 3
    let run = folder("mismatch")
    defer { try? FileManager.default.removeItem(at: run) }
    do {
      _ = try OfflineTrainer<TD3BC>(configuration: config, options: opts, folder: run).run(dataset: Self.dataset)
      Issue.record("a Pendulum dataset trained against MountainCarContinuous-v0")
    } catch {
      #expect("\(error)".contains("3/1 do not match MountainCarContinuous-v0's 2/1"), "\(error)")
    }
    #expect(!FileManager.default.fileExists(atPath: run.path))
    // A synthetic file of other widths is refused the same way.
    var other = Self.dataset
    other.observationDim = 2
    other.observations = [Float](repeating: 0, count: other.count * 2)
    other.nextObservations = other.observations
    #expect(throws: (any Error).self) {
      try OfflineTrainer<TD3BC>.checkWidths(dataset: Self.dataset, synthetic: other, environment: "Pendulum-v1")
    }
  }

  /// MountainCarContinuous has no reference returns, so its evaluations carry no normalized score (NaN): the
  /// run must still checkpoint, finish, write `summary.json` (score as null) and resume.
  @Test func taskWithoutReferenceScoresTrainsCheckpointsAndResumes() throws {
    var config = TD3BC.defaultConfiguration
    config.hiddenSizes = [8]
    let data = try DatasetMaker.make("mountaincarcontinuous-random", size: 600, seed: 1)
    var opts = options(steps: 20)
    opts.environment = "MountainCarContinuous-v0"
    opts.evaluationInterval = 10
    opts.evaluationEpisodes = 1
    opts.checkpointInterval = 10
    let run = folder("noref")
    defer { try? FileManager.default.removeItem(at: run) }
    let summary = try OfflineTrainer<TD3BC>(configuration: config, options: opts, folder: run).run(dataset: data)
    #expect(summary.evaluations.count == 2 && summary.evaluations.allSatisfy { $0[2].isNaN })
    #expect(summary.finalNormalizedScore == nil)
    let written = try String(contentsOf: run.appendingPathComponent("summary.json"), encoding: .utf8)
    #expect(written.contains("null"), "\(written)")
    let read = try JSONDecoder().decode(RunSummary.self, from: Data(written.utf8))
    #expect(read.evaluations.count == 2 && read.evaluations[1][2].isNaN && read.evaluations[1][1] == summary.evaluations[1][1])
    var longer = try OfflineTrainer<TD3BC>.load(from: run)
    longer.options.steps = 30
    let resumed = try longer.run(dataset: data, resume: true)
    #expect(resumed.evaluations.count == 3 && resumed.evaluations[0][1] == summary.evaluations[0][1])
  }

  @Test func runFolderHasEveryArtifact() throws {
    let dir = folder("artifacts")
    defer { try? FileManager.default.removeItem(at: dir) }
    var config = BC.defaultConfiguration
    config.hiddenSizes = [8]
    let s = try OfflineTrainer<BC>(configuration: config, options: options(steps: 40), folder: dir).run(dataset: Self.dataset)
    #expect(s.evaluations.count == 2 && s.finalNormalizedScore != nil)
    let files = Set(try FileManager.default.contentsOfDirectory(atPath: dir.path))
    #expect(files.isSuperset(of: ["config.json", "checkpoint.safetensors", "metrics.jsonl", "metrics.csv", "learning_curve.svg", "summary.json"]))
    let config2 = try String(contentsOf: dir.appendingPathComponent("config.json"), encoding: .utf8)
    #expect(config2.contains("\"hidden_sizes\""))
  }

  @Test func ctrlCStopsCleanlyWithACheckpoint() throws {
    let dir = folder("stop")
    defer { try? FileManager.default.removeItem(at: dir) }
    var config = BC.defaultConfiguration
    config.hiddenSizes = [8]
    // The trainer's stop hook stands for Ctrl-C (the process-wide StopSignal would stop tests running beside it).
    var trainer = OfflineTrainer<BC>(configuration: config, options: options(steps: 40), folder: dir)
    trainer.shouldStop = { true }
    let s = try trainer.run(dataset: Self.dataset)
    #expect(s.stoppedEarly && s.steps == 0)
    #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("checkpoint.safetensors").path))
  }

  @Test func datasetMakingIsDeterministicAndCutsEpisodesLikeD4RL() throws {
    let a = try DatasetMaker.make("pendulum-random", size: 450, seed: 9)
    let b = try DatasetMaker.make("pendulum-random", size: 450, seed: 9)
    #expect(a.observations == b.observations && a.actions == b.actions && a.rewards == b.rewards)
    // Pendulum never terminates: 200-step time limit → timeouts at rows 199 and 399, and the cut at the end.
    #expect(a.terminals.allSatisfy { !$0 })
    #expect(a.timeouts.indices.filter { a.timeouts[$0] } == [199, 399, 449])
    #expect(a.invariantViolations().isEmpty)
    let dir = folder("make")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    try D4RLFile.write(a, to: dir.appendingPathComponent("a.hdf5").path)
    try D4RLFile.write(b, to: dir.appendingPathComponent("b.hdf5").path)
    let (back, _) = try D4RLFile.read(dir.appendingPathComponent("a.hdf5").path)
    #expect(back.rewards == a.rewards && back.metadata["policy"] == "uniform random")
    #expect(throws: DatasetMaker.MakeError.self) { try DatasetMaker.make("pendulum-great", size: 10, seed: 0) }
    #expect(throws: DatasetMaker.MakeError.self) { try DatasetMaker.make("hopper-mediun", size: 10, seed: 0) }
    do { _ = try DatasetMaker.parse("hopper-mediun") } catch { #expect("\(error)".contains("Did you mean 'hopper-medium'?")) }
    #expect(throws: DatasetMaker.MakeError.self) { try DatasetMaker.make("cartpole-medium", size: 10, seed: 0) }
    // MuJoCo families roll out in the v4 tasks; a kind without a bundled policy names the ones there are.
    let hopper = try DatasetMaker.make("hopper-random", size: 30, seed: 0)
    #expect(hopper.observationDim == 11 && hopper.metadata["environment"] == "Hopper-v4")
    do {
      _ = try DatasetMaker.make("ant-expert", size: 10, seed: 0)
      Issue.record("ant-expert has no bundled policy")
    } catch {
      #expect("\(error)".contains("ant-expert") && "\(error)".contains("available"))
    }
  }
}

extension TrainerTests {
  /// A finished 20-step run extended to 40 steps (the CLI's `--resume --until 40`) ends where a 40-step run
  /// ends: evaluations use their own seeds, so the extra evaluation at step 20 changes nothing in training.
  @Test func extendingAFinishedRunMatchesALongerRun() throws {
    var config = TD3BC.defaultConfiguration
    config.hiddenSizes = [16, 16]
    let whole = folder("long"), short = folder("short")
    defer { try? FileManager.default.removeItem(at: whole); try? FileManager.default.removeItem(at: short) }
    var o = options(steps: 40)
    o.evaluationInterval = 1000
    _ = try OfflineTrainer<TD3BC>(configuration: config, options: o, folder: whole).run(dataset: Self.dataset)
    o.steps = 20
    _ = try OfflineTrainer<TD3BC>(configuration: config, options: o, folder: short).run(dataset: Self.dataset)
    var extended = try OfflineTrainer<TD3BC>.load(from: short)
    extended.options.steps = 40
    try extended.writeConfig()
    _ = try OfflineTrainer<TD3BC>.load(from: short).run(dataset: Self.dataset, resume: true)
    let a = try Checkpoint.read(from: whole.appendingPathComponent("checkpoint.safetensors"))
    let b = try Checkpoint.read(from: short.appendingPathComponent("checkpoint.safetensors"))
    #expect(b.metadata["step"] == "40")
    for (k, t) in a.tensors { #expect(t.isIdentical(to: b.tensors[k]!), "\(k) differs after extending") }
  }
}
