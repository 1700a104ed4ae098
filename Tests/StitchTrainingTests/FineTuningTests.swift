import Foundation
import StitchData
import StitchEnvironments
import StitchNN
import StitchTensor
import StitchTestSupport
import Testing
@testable import StitchAlgorithms

@testable import StitchTraining

/// Fine-tuning runs (`TrainingOptions.pretrained`, `stitch finetune`): what they take from the pretrained run,
/// the appended replay, exact resume, and the summary's initial dip and regret.
@Suite(.serialized) struct FineTuningTests {
  static let dataset: Dataset = try! DatasetMaker.make("pendulum-random", size: 600, seed: 5)

  func folder(_ label: String) -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("stitch-finetune-\(label)-\(UUID().uuidString)")
  }

  func options(_ phases: [Phase], seed: UInt64 = 4) -> TrainingOptions {
    var o = TrainingOptions()
    o.setPhases(phases)
    o.batchSize = 16
    o.evaluationInterval = 1000
    o.evaluationEpisodes = 1
    o.logInterval = 5
    o.checkpointInterval = 1000
    o.seed = seed
    o.environment = "Pendulum-v1"
    return o
  }

  static var smallTD3: TD3BC.Configuration {
    var c = TD3BC.defaultConfiguration
    c.hiddenSizes = [8, 8]
    return c
  }

  /// A pretrained TD3+BC run (rewards normalised, so its reward scale is not 1) and its checkpoint.
  func pretrain(_ run: URL) throws -> Checkpoint {
    var o = options([.offline(updates: 6)])
    o.normalizeRewards = true
    _ = try Trainer<TD3BC>(configuration: Self.smallTD3, options: o, folder: run).run(dataset: Self.dataset)
    return try Checkpoint.read(from: run.appendingPathComponent("checkpoint.safetensors"))
  }

  /// At step 0 (the evaluation before the first online step) the fine-tuned run's networks are the pretrained
  /// ones bit for bit; its transitions go through the pretrained normaliser and reward scale (with no dataset
  /// given: `--replay none`); during the policy warm-up the deterministic actor's stored actions are its own
  /// (σ = 0). The warm-up ends with the run's last step, which makes the first update (the engine updates from the
  /// step that completes the warm-up).
  @Test func startsFromThePretrainedStateAndKeepsItsTransforms() throws {
    let base = folder("start")
    defer { try? FileManager.default.removeItem(at: base) }
    let pretrainedRun = base.appendingPathComponent("pretrained"), tuned = base.appendingPathComponent("tuned")
    let pretrained = try pretrain(pretrainedRun)
    var o = options([.online(environmentSteps: 120, updatesPerStep: 1, warmup: .policy(steps: 120), data: .replay)], seed: 9)
    o.explorationNoise = 0
    o.pretrained = PretrainedStart(folder: pretrainedRun.path, algorithm: "td3bc", step: 6, score: nil)
    var trainer = Trainer<TD3BC>(configuration: Self.smallTD3, options: o, folder: tuned)
    var atStart = Checkpoint()
    trainer.onEvaluation = { step, _, agent in if step == 0 { agent.store(into: &atStart) } }
    let summary = try trainer.run()
    let c = try Checkpoint.read(from: tuned.appendingPathComponent("checkpoint.safetensors"))
    #expect(c.metadata["normalizer"] == pretrained.metadata["normalizer"])
    #expect(c.metadata["reward_scale"] == pretrained.metadata["reward_scale"])
    let networkKeys = pretrained.tensors.keys.filter { $0.hasPrefix("actor.") || $0.hasPrefix("critic") }
    #expect(networkKeys.count >= 6)
    for key in networkKeys {
      #expect(atStart.tensors[key].map { $0.isIdentical(to: pretrained.tensors[key]!) } == true, "\(key) differs from the pretrained one at step 0")
    }
    let scale = try #require(Float(pretrained.metadata["reward_scale"]!))
    #expect(scale != 1)
    let buffer = try Trainer<TD3BC>.replayBuffer(from: c, capacity: 1000)
    var env = try EnvironmentRegistry.make("Pendulum-v1")
    _ = try env.reset(seed: RunState<TD3BC>.seed(RandomStream(seed: 9).child(named: "env"), 0))
    let step = try env.step(ActionScaling(low: [-2], high: [2]).toEnvironment([buffer.storage.actions[0]]))
    #expect(buffer.storage.rewards[0] == Float(step.reward) * scale)
    var actor = TD3BC(configuration: Self.smallTD3, task: TaskSpec(id: "Pendulum-v1", observationDim: 3, actionDim: 1), rng: RandomStream(seed: 0))
    try actor.restore(from: pretrained)
    var unused = RandomStream(seed: 0)
    let d = buffer.storage
    let own = (0..<d.count).flatMap { i in
      actor.act(Tensor(shape: [1, 3], scalars: Array(d.observations[i * 3 ..< (i + 1) * 3])), exploring: false, rng: &unused).scalars
    }
    #expect(own == d.actions)
    #expect(summary.evaluations.first?.first == 0 && summary.evaluations.last?.first == 120)
    #expect(summary.fineTuning?.pretrainedFolder == pretrainedRun.path)
  }

  /// A pretrained checkpoint of another algorithm is refused, naming both.
  @Test func anotherAlgorithmsCheckpointIsRefused() throws {
    let base = folder("other")
    defer { try? FileManager.default.removeItem(at: base) }
    let pretrainedRun = base.appendingPathComponent("pretrained")
    _ = try pretrain(pretrainedRun)
    var o = options([.online(environmentSteps: 10, updatesPerStep: 1, warmup: .none, data: .replay)])
    o.pretrained = PretrainedStart(folder: pretrainedRun.path, algorithm: "td3bc", step: 6, score: nil)
    #expect { _ = try Trainer<IQL>(configuration: IQL.defaultConfiguration, options: o, folder: base.appendingPathComponent("t")).run() } throws: {
      "\($0)".contains("td3bc's, not iql's")
    }
  }

  /// `AppendedSource` draws a row from the first source with probability |first| / (|first| + |second|) and
  /// from each source uniformly; an empty second source gives whole batches of the first.
  @Test func appendedSourceSamplesTheUnionUniformly() throws {
    func rows(_ n: Int, reward: Float) -> Dataset {
      Dataset(observationDim: 1, actionDim: 1, observations: (0..<n).map(Float.init), actions: [Float](repeating: 0, count: n),
              rewards: [Float](repeating: reward, count: n), nextObservations: (0..<n).map(Float.init),
              terminals: [Bool](repeating: false, count: n), timeouts: [Bool](repeating: false, count: n))
    }
    let offline = UniformSampler(rows(300, reward: 0))
    var buffer = ReplayBuffer(capacity: 100, observationDim: 1, actionDim: 1)
    var empty = AppendedSource(first: offline, second: buffer)
    var batch = Batch(size: 64, observationDim: 1, actionDim: 1)
    var rng = RandomStream(seed: 1)
    empty.sample(into: &batch, using: &rng)
    #expect(batch.rewards.scalars.allSatisfy { $0 == 0 })
    for i in 0..<100 { buffer.add(observation: [Float(i)], action: [0], reward: 1, nextObservation: [Float(i)], terminal: false, timeout: false) }
    empty.second = buffer
    var online = 0, total = 0
    var seenOnline = Set<Float>()
    for _ in 0..<400 {
      empty.sample(into: &batch, using: &rng)
      let r = batch.rewards.scalars
      online += r.filter { $0 == 1 }.count
      total += r.count
      // Rows of the first source come first in the batch.
      if let firstOnline = r.firstIndex(of: 1) { #expect(r[firstOnline...].allSatisfy { $0 == 1 }) }
      for (k, reward) in r.enumerated() where reward == 1 { seenOnline.insert(batch.observations.scalars[k]) }
    }
    // Binomial(25600, 0.25): standard deviation 69, so ±5 σ is ±0.0135 of the share.
    let share = Double(online) / Double(total)
    #expect(Swift.abs(share - 0.25) < 0.0135, "online share \(share)")
    #expect(seenOnline.count == 100, "every online row is drawn")
  }

  /// A fine-tuning run with appended replay and two updates per step, stopped and resumed, equals the
  /// uninterrupted one bit for bit (checkpoint tensors, metadata, metrics).
  @Test(arguments: [7, 19]) func stoppedAndResumedEqualsUninterrupted(_ stopAt: Int) throws {
    let base = folder("resume")
    defer { try? FileManager.default.removeItem(at: base) }
    let pretrainedRun = base.appendingPathComponent("pretrained")
    _ = try pretrain(pretrainedRun)
    var o = options([.online(environmentSteps: 30, updatesPerStep: 2, warmup: .policy(steps: 4), data: .append)])
    o.evaluationInterval = 10
    o.pretrained = PretrainedStart(folder: pretrainedRun.path, algorithm: "td3bc", step: 6, score: 1)
    let whole = base.appendingPathComponent("whole"), split = base.appendingPathComponent("split")
    let summary = try Trainer<TD3BC>(configuration: Self.smallTD3, options: o, folder: whole).run(dataset: Self.dataset)
    #expect(summary.steps == 30 && summary.evaluations.map { $0[0] } == [0, 10, 20, 30])
    var first = Trainer<TD3BC>(configuration: Self.smallTD3, options: o, folder: split)
    var calls = 0
    first.shouldStop = { calls += 1; return calls > stopAt }
    #expect(try first.run(dataset: Self.dataset).steps == stopAt)
    var resumed = try Trainer<TD3BC>.load(from: split)
    #expect(resumed.options.pretrained == o.pretrained)
    resumed.shouldStop = { false }
    _ = try resumed.run(dataset: Self.dataset, resume: true)
    let c = try Checkpoint.read(from: whole.appendingPathComponent("checkpoint.safetensors"))
    #expect(c.tensors["replay.observations"]?.shape.first == 30, "the checkpoint holds the online rows only")
    #expect(try TestSupport.runFolderDifferences(whole, split).isEmpty)
  }

  /// The dip, regret and improvement from evaluation rows, by hand: start 40; first 10% of 100 steps holds steps
  /// 0, 5, 10 with scores 40, 25, 30, so the dip is 25 − 40 = −15; regret is the mean of 1 − s/100 over steps
  /// 5…100 (scores 25, 30, 60, 80): (0.75 + 0.7 + 0.4 + 0.2) / 4 = 0.5125; improvement 80 − 40.
  @Test func dipRegretAndImprovementByHand() {
    let start = PretrainedStart(folder: "p", algorithm: "iql", step: 1, score: 50)
    let rows: [[Double]] = [[0, 0, 40], [5, 0, 25], [10, 0, 30], [50, 0, 60], [100, 0, 80]]
    let s = FineTuningSummary(pretrained: start, onlineSteps: 100, evaluations: rows)
    #expect(s.startScore == 40 && s.pretrainedScore == 50)
    #expect(s.initialDip == -15)
    #expect(Swift.abs(s.cumulativeRegret! - 0.5125) < 1e-12)
    #expect(s.improvement == 40)
    // No step-0 evaluation: the pretrained score is the baseline; no score: no figures.
    let noStart = FineTuningSummary(pretrained: start, onlineSteps: 100, evaluations: Array(rows.dropFirst()))
    #expect(noStart.initialDip == -25 && noStart.improvement == 30)
    let unscored = FineTuningSummary(pretrained: PretrainedStart(folder: "p", algorithm: "iql", step: 1, score: nil), onlineSteps: 100,
                                     evaluations: rows.map { [$0[0], $0[1], .nan] })
    #expect(unscored.initialDip == nil && unscored.cumulativeRegret == nil && unscored.improvement == nil)
  }

  /// PyTorch's `CosineAnnealingLR` past `T_max` (CORL's IQL fine-tuning keeps stepping it): the closed form
  /// η_min + (η − η_min)(1 + cos(π t / T)) / 2 at t = T (η_min), 1.5 T (the midpoint), 2 T (η) and 2.5 T (the
  /// midpoint again); the stopping schedule stays at η_min past T and both agree up to T.
  @Test func periodicCosineContinuesAsPyTorchsSchedule() {
    let periodic = LearningRateSchedule.periodicCosine(steps: 100, minimum: 0), stopping = LearningRateSchedule.cosine(steps: 100, minimum: 0)
    for t in [0, 1, 37, 99, 100] { #expect(periodic.rate(base: 3e-4, at: t) == stopping.rate(base: 3e-4, at: t)) }
    #expect(periodic.rate(base: 1, at: 100) == 0)
    #expect(Swift.abs(periodic.rate(base: 1, at: 150) - 0.5) < 1e-6)
    #expect(periodic.rate(base: 1, at: 200) == 1)
    #expect(Swift.abs(periodic.rate(base: 1, at: 250) - 0.5) < 1e-6)
    #expect(stopping.rate(base: 1, at: 150) == 0)
  }
}

/// Cal-QL's returns-to-go: computed by the trainer on the dataset as the critic sees it, carried by both sampler
/// paths into `Batch.returnsToGo`, and filled in for online episodes when they end.
@Suite struct ReturnsToGoTests {
  /// G_t = r_t + γ·G_{t+1} within each episode (CORL `get_return_to_go`), by hand on a 5-row dataset of two
  /// episodes (a terminal after row 1, a timeout after row 4): rewards 1, 2 | 3, 4, 5 with γ = 0.5 give
  /// 2, 2 | 6.25, 6.5, 5; the row table and the column gather both deliver them, and rows of a source without the
  /// column get 0.
  @Test func samplersCarryTheReturnsToGo() throws {
    var ds = Dataset(observationDim: 1, actionDim: 1, observations: [0, 1, 2, 3, 4], actions: [0, 0, 0, 0, 0], rewards: [1, 2, 3, 4, 5],
                     nextObservations: [1, 2, 3, 4, 5], terminals: [false, true, false, false, false], timeouts: [false, false, false, false, true])
    ds.returnsToGo = RewardTransform.returnsToGo(ds, discount: 0.5).map { Float($0) }
    #expect(ds.returnsToGo == [2, 2, 6.25, 6.5, 5])
    var batch = Batch(size: 5, observationDim: 1, actionDim: 1)
    TransitionRows(ds).gather([0, 1, 2, 3, 4], into: &batch)
    #expect(batch.returnsToGo.scalars == [2, 2, 6.25, 6.5, 5])
    UniformSampler.gather(ds, [4, 3, 2, 1, 0], into: &batch, od: 1, ad: 1)
    #expect(batch.returnsToGo.scalars == [5, 6.5, 6.25, 2, 2])
    var plain = ds
    plain.returnsToGo = nil
    TransitionRows(plain).gather([0, 1], into: &batch, offset: 3)
    #expect(batch.returnsToGo.scalars == [5, 6.5, 6.25, 0, 0])
  }

  /// An online buffer that tracks returns holds −∞ (no bound) for an episode in progress and its returns once it
  /// ends: rewards 1, 1, 1 then a terminal 2 with γ = 0.9 give 1 + 0.9(1 + 0.9(1 + 0.9·2)) = 4.168, then 3.52, 2.8, 2.
  @Test func onlineEpisodesGetTheirReturnsWhenTheyEnd() throws {
    var buffer = ReplayBuffer(capacity: 10, observationDim: 1, actionDim: 1)
    buffer.add(observation: [0], action: [0], reward: 7, nextObservation: [0], terminal: false, timeout: true)
    buffer.trackReturnsToGo()
    for (k, r) in [Float(1), 1, 1, 2].enumerated() {
      buffer.add(observation: [Float(k)], action: [0], reward: r, nextObservation: [Float(k + 1)], terminal: k == 3, timeout: false)
    }
    #expect(buffer.storage.returnsToGo!.allSatisfy { $0 == -.infinity })
    buffer.fillReturnsToGo(episodeSteps: 4, discount: 0.9)
    let g = buffer.storage.returnsToGo!
    #expect(g[0] == -.infinity, "a row from before the tracking stays unknown")
    let expected: [Float] = [4.168, 3.52, 2.8, 2]
    for (a, b) in zip(g[1...], expected) { #expect(Swift.abs(a - b) < 1e-5, "\(g)") }
  }

  /// The trainer gives a Cal-QL run the returns-to-go of its transformed dataset (rewards scaled by
  /// `--normalize-rewards`), discounted with the critic's γ as the decimal the user wrote (0.9, not the Float
  /// 0.899999976: CORL sums in Python floats); plain CQL gets none.
  @Test func theTrainerComputesThemOnTheDatasetTheCriticSees() throws {
    var o = TrainingOptions()
    o.setPhases([.offline(updates: 1)])
    o.environment = "Pendulum-v1"
    o.normalizeRewards = true
    var c = CalQL.defaultConfiguration
    c.discount = 0.9
    let state = try RunState<CalQL>(configuration: c, options: o, phases: o.phases!, dataset: FineTuningTests.dataset, synthetic: nil, checkpoint: nil)
    let ds = try #require(state.dataset)
    #expect(state.rewardScale != 1)
    let expected = RewardTransform.returnsToGo(ds, discount: 0.9).map { Float($0) }
    #expect(expected != RewardTransform.returnsToGo(ds, discount: Double(Float(0.9))).map { Float($0) }, "the two discounts are told apart")
    #expect(ds.returnsToGo == expected)
    #expect(expected.contains { $0 != 0 })
    let plain = try RunState<CQL>(configuration: CQL.defaultConfiguration, options: o, phases: o.phases!, dataset: FineTuningTests.dataset, synthetic: nil, checkpoint: nil)
    #expect(plain.dataset?.returnsToGo == nil)
  }
}

/// Through the trainer: a Cal-QL run fine-tuned online with the paper's calibration fills each online episode's
/// returns-to-go when it ends (Pendulum's 200-step time limit), leaves the episode in progress unknown (−∞), and
/// the checkpoint keeps them.
@Suite struct CalQLOnlineReturnsTests {
  @Test func anEndedOnlineEpisodeGetsItsReturnsInTheBuffer() throws {
    let base = FileManager.default.temporaryDirectory.appendingPathComponent("stitch-calql-online-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: base) }
    var c = CalQL.defaultConfiguration
    c.actorHiddenSizes = [8, 8]
    c.criticHiddenSizes = [8, 8]
    c.sampledActions = 2
    var o = TrainingOptions()
    o.setPhases([.offline(updates: 2)])
    o.batchSize = 8
    o.evaluationInterval = 1000
    o.evaluationEpisodes = 1
    o.environment = "Pendulum-v1"
    o.normalizeRewards = true
    let pretrained = base.appendingPathComponent("pretrained")
    _ = try Trainer<CalQL>(configuration: c, options: o, folder: pretrained).run(dataset: FineTuningTests.dataset)
    var f = o
    f.normalizeRewards = false
    f.setPhases([.online(environmentSteps: 205, updatesPerStep: 1, warmup: .policy(steps: 205), data: .mixed(datasetFraction: 0.5))])
    f.pretrained = PretrainedStart(folder: pretrained.path, algorithm: "calql", step: 2, score: nil)
    let tuned = base.appendingPathComponent("tuned")
    _ = try Trainer<CalQL>(configuration: c, options: f, folder: tuned).run(dataset: FineTuningTests.dataset)
    let checkpoint = try Checkpoint.read(from: tuned.appendingPathComponent("checkpoint.safetensors"))
    let g = try #require(checkpoint.tensors["replay.returns_to_go"]).scalars
    let r = try #require(checkpoint.tensors["replay.rewards"]).scalars
    #expect(g.count == 205)
    var expected = [Float](repeating: 0, count: 200), running: Float = 0
    for i in stride(from: 199, through: 0, by: -1) { running = r[i] + c.discount * running; expected[i] = running }
    #expect(Array(g[0..<200]) == expected, "the ended episode's discounted returns")
    #expect(g[200...].allSatisfy { $0 == -.infinity }, "the episode in progress is not bounded")
    #expect(Float(checkpoint.metadata["reward_scale"]!)! != 1, "online rewards were scaled as the pretrained run's")
  }
}
