import Foundation
import StitchData
import StitchDiffusion
import StitchEnvironments
import StitchNN
import StitchTensor
import Testing
@testable import StitchAlgorithms

@testable import StitchTraining

/// Online SAC resumes exactly (networks, optimizers, streams, replay buffer, the episode in progress), and
/// medium-replay datasets are cut from the replay buffer it saves.
@Suite(.serialized) struct OnlineResumeTests {
  func folder(_ label: String) -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("stitch-online-\(label)-\(UUID().uuidString)")
  }

  func options(steps: Int) -> TrainingOptions {
    var o = TrainingOptions()
    o.steps = steps
    o.randomSteps = 50
    o.batchSize = 32
    o.evaluationInterval = 150
    o.evaluationEpisodes = 1
    o.logInterval = 50
    o.checkpointInterval = 150
    o.seed = 5
    o.environment = "Pendulum-v1"
    return o
  }

  static var config: SAC.Configuration {
    var c = SAC.defaultConfiguration
    c.hiddenSizes = [16, 16]
    return c
  }

  /// 300 steps straight against 150 + 150 resumed. Pendulum episodes last 200 steps, so the stop at 150 falls
  /// inside an episode, which the resume must re-enter.
  @Test func resumedOnlineRunIsBitIdentical() throws {
    let whole = folder("whole"), split = folder("split")
    defer { try? FileManager.default.removeItem(at: whole); try? FileManager.default.removeItem(at: split) }
    _ = try OnlineTrainer<SAC>(configuration: Self.config, options: options(steps: 300), folder: whole).run()
    _ = try OnlineTrainer<SAC>(configuration: Self.config, options: options(steps: 150), folder: split).run()
    var resumed = try OnlineTrainer<SAC>.load(from: split)
    resumed.options.steps = 300
    _ = try resumed.run(resume: true)
    let a = try Checkpoint.read(from: whole.appendingPathComponent("checkpoint.safetensors"))
    let b = try Checkpoint.read(from: split.appendingPathComponent("checkpoint.safetensors"))
    #expect(a.metadata["step"] == "300" && b.metadata["step"] == "300")
    #expect(a.metadata["episode"] == b.metadata["episode"] && a.metadata["episode_steps"] == b.metadata["episode_steps"])
    #expect(a.tensors["replay.rewards"]?.shape == [300])
    #expect(a.tensors.count == b.tensors.count)
    for (k, t) in a.tensors { #expect(t.isIdentical(to: b.tensors[k]!), "\(k) differs after resume") }
    let la = try String(contentsOf: whole.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
    let lb = try String(contentsOf: split.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
    #expect(la == lb)
  }

  @Test func mediumReplayIsTheBuffersFirstRowsInTheEnvironmentsActionRange() throws {
    let run = folder("replay")
    defer { try? FileManager.default.removeItem(at: run) }
    _ = try OnlineTrainer<SAC>(configuration: Self.config, options: options(steps: 300), folder: run).run()
    let ds = try DatasetMaker.mediumReplay("pendulum-medium-replay", run: run, until: 250)
    #expect(ds.count == 250 && ds.invariantViolations().isEmpty)
    let c = try Checkpoint.read(from: run.appendingPathComponent("checkpoint.safetensors"))
    let stored = c.tensors["replay.actions"]!.scalars
    // Pendulum's torque range is [-2, 2]; the buffer holds actions in [-1, 1].
    for i in 0..<250 { #expect(ds.actions[i] == 2 * stored[i]) }
    #expect(ds.rewards == Array(c.tensors["replay.rewards"]!.scalars.prefix(250)))
    // The time limit ends the first episode at row 199; the cut at 250 falls inside the second and is a timeout.
    #expect(ds.timeouts[199] && ds.timeouts[249] && ds.timeouts.filter { $0 }.count == 2 && !ds.terminals.contains(true))
    #expect(ds.episodes.map(\.length) == [200, 50])
    #expect { _ = try DatasetMaker.mediumReplay("pendulum-medium-replay", run: run, until: 301) } throws: { "\($0)".contains("holds 300 transitions") }
    #expect { _ = try DatasetMaker.mediumReplay("hopper-medium-replay", run: run, until: 10) } throws: { "\($0)".contains("not Hopper-v4") }
    // Not a run folder: a clear error naming the folder, not a Foundation file error.
    let empty = folder("not-a-run")
    try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: empty) }
    #expect { _ = try DatasetMaker.mediumReplay("pendulum-medium-replay", run: empty, until: 10) } throws: { "\($0)".contains("has no config.json") }
    #expect { _ = try DatasetMaker.mediumReplay("pendulum-medium-replay", run: empty.appendingPathComponent("missing"), until: 10) } throws: { "\($0)".contains("no such run folder") }
  }
}
