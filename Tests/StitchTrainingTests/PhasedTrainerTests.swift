import Foundation
import StitchData
import StitchEnvironments
import StitchNN
import StitchTensor
import Testing
@testable import StitchAlgorithms

@testable import StitchTraining

/// The phased engine beyond resume (which `ResumeTwoPhaseTests` checks): what online phases take from the offline
/// phase, exploration of deterministic actors, the dataset hook, configuration files written before a key
/// existed, and phases that cannot run.
@Suite(.serialized) struct PhasedTrainerTests {
  static let dataset: Dataset = try! DatasetMaker.make("pendulum-random", size: 800, seed: 21)

  func folder(_ label: String) -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("stitch-phased-\(label)-\(UUID().uuidString)")
  }

  func options(_ phases: [Phase]) -> TrainingOptions {
    var o = TrainingOptions()
    o.setPhases(phases)
    o.batchSize = 16
    o.evaluationInterval = 1000
    o.evaluationEpisodes = 1
    o.logInterval = 5
    o.checkpointInterval = 1000
    o.seed = 7
    o.environment = "Pendulum-v1"
    return o
  }

  static var smallTD3: TD3BC.Configuration {
    var c = TD3BC.defaultConfiguration
    c.hiddenSizes = [8, 8]
    return c
  }

  /// The online phase's transitions are stored through the offline phase's normaliser and reward scale, and a
  /// deterministic actor explores with N(0, σ²) around its action: with σ = 0 the stored actions are exactly the
  /// offline-trained actor's (no update happens during the policy warm-up), with σ = 0.1 they scatter around them
  /// with a standard deviation near 0.1.
  @Test func onlinePhaseKeepsTheOfflineTransformsAndExploresWithGaussianNoise() throws {
    let offlineOnly = folder("offline")
    defer { try? FileManager.default.removeItem(at: offlineOnly) }
    var plain = options([.offline(updates: 4)])
    plain.normalizeRewards = true
    _ = try Trainer<TD3BC>(configuration: Self.smallTD3, options: plain, folder: offlineOnly).run(dataset: Self.dataset)
    let offlineCheckpoint = try Checkpoint.read(from: offlineOnly.appendingPathComponent("checkpoint.safetensors"))
    var actor = TD3BC(configuration: Self.smallTD3, task: TaskSpec(id: "Pendulum-v1", observationDim: 3, actionDim: 1), rng: RandomStream(seed: 0))
    try actor.restore(from: offlineCheckpoint)
    let normalizer = try JSONDecoder().decode(ObservationNormalizer.self, from: Data(offlineCheckpoint.metadata["normalizer"]!.utf8))
    let rewardScale = try #require(Float(offlineCheckpoint.metadata["reward_scale"]!))
    #expect(rewardScale != 1, "the reward scale of a --normalize-rewards run")

    func storedDeviations(noise: Double) throws -> (deviations: [Float], buffer: ReplayBuffer) {
      let run = folder("noise-\(noise)")
      defer { try? FileManager.default.removeItem(at: run) }
      var o = options([.offline(updates: 4), .online(environmentSteps: 150, updatesPerStep: 1, warmup: .policy(steps: 150), data: .replay)])
      o.normalizeRewards = true
      o.explorationNoise = noise
      _ = try Trainer<TD3BC>(configuration: Self.smallTD3, options: o, folder: run).run(dataset: Self.dataset)
      let c = try Checkpoint.read(from: run.appendingPathComponent("checkpoint.safetensors"))
      #expect(c.metadata["normalizer"] == offlineCheckpoint.metadata["normalizer"])
      let buffer = try Trainer<TD3BC>.replayBuffer(from: c, capacity: 1000)
      let d = buffer.storage
      var unused = RandomStream(seed: 0)
      // One row at a time, as the trainer acts: a batched product may round differently from a one-row one on
      // some BLAS kernels (OpenBLAS's Haswell kernel on Zen 5 does).
      let greedy = (0..<d.count).flatMap { i in
        actor.act(Tensor(shape: [1, 3], scalars: Array(d.observations[i * 3 ..< (i + 1) * 3])), exploring: false, rng: &unused).scalars
      }
      return (zip(d.actions, greedy).map { $0 - $1 }, buffer)
    }
    let (exact, buffer) = try storedDeviations(noise: 0)
    #expect(exact.allSatisfy { $0 == 0 }, "σ = 0 stores the actor's own actions")
    // The stored observations are normalised (Pendulum's raw cos θ, sin θ lie in [−1, 1], θ̇ in [−8, 8]): the
    // first step's observation is the normaliser applied to the reset observation of episode 0.
    var env = try EnvironmentRegistry.make("Pendulum-v1")
    let first = try env.reset(seed: RunState<TD3BC>.seed(RandomStream(seed: 7).child(named: "env"), 0)).observation
    #expect(Array(buffer.storage.observations.prefix(3)) == normalizer(first))
    // Rewards are the environment's times the offline phase's scale.
    let step = try env.step(ActionScaling(low: [-2], high: [2]).toEnvironment([buffer.storage.actions[0]]))
    #expect(buffer.storage.rewards[0] == Float(step.reward) * rewardScale)
    let (noisy, _) = try storedDeviations(noise: 0.1)
    let inside = noisy.filter { Swift.abs($0) < 0.9 }  // clipping at ±1 only shortens deviations
    let std = (inside.map { $0 * $0 }.reduce(0, +) / Float(inside.count)).squareRoot()
    #expect(std > 0.08 && std < 0.12, "exploration noise std \(std) over \(inside.count) steps, σ = 0.1")
  }

  /// An algorithm that needs the dataset gets it, transformed as its minibatches are, before its first update.
  struct DatasetRecordingBC: Algorithm, DatasetConsumer {
    typealias Configuration = BC.Configuration
    static let id = "bc"
    static let summary = "BC that records what prepare(dataset:) received"
    static var defaultConfiguration: Configuration { BC.defaultConfiguration }
    var base: BC
    var preparedRows = 0, preparedScale: Float = 0, updatesBeforePrepare = 0, updates = 0
    var firstAction: Float = .nan
    init(configuration: Configuration, task: TaskSpec, rng: RandomStream) { base = BC(configuration: configuration, task: task, rng: rng) }
    mutating func prepare(dataset: Dataset, normalizer: ObservationNormalizer, rewardScale: Float) throws {
      preparedRows = dataset.count
      preparedScale = rewardScale
      firstAction = dataset.actions[0]
      updatesBeforePrepare = updates
    }
    mutating func update(on batch: Batch) throws -> Metrics { updates += 1; return try base.update(on: batch) }
    func act(_ observations: Tensor, exploring: Bool, rng: inout RandomStream) -> Tensor { base.act(observations, exploring: exploring, rng: &rng) }
    func store(into checkpoint: inout Checkpoint) { base.store(into: &checkpoint) }
    mutating func restore(from checkpoint: Checkpoint) throws { try base.restore(from: checkpoint) }
  }

  @Test func anAlgorithmThatNeedsTheDatasetGetsItBeforeItsFirstUpdate() throws {
    let run = folder("consumer")
    defer { try? FileManager.default.removeItem(at: run) }
    var trainer = Trainer<DatasetRecordingBC>(configuration: BC.defaultConfiguration, options: options([.offline(updates: 6)]), folder: run)
    trainer.options.normalizeRewards = true
    trainer.options.evaluationInterval = 6
    var seen: DatasetRecordingBC?
    trainer.onEvaluation = { _, _, agent in seen = agent }
    _ = try trainer.run(dataset: Self.dataset)
    let agent = try #require(seen)
    #expect(agent.preparedRows == Self.dataset.count)
    #expect(agent.updatesBeforePrepare == 0 && agent.updates == 6)
    #expect(agent.preparedScale != 1 && agent.preparedScale > 0)
    // Actions arrive in [−1, 1]: Pendulum's box is [−2, 2].
    #expect(agent.firstAction == Float(Self.dataset.actions[0] / 2))
  }

  /// A run folder written before a configuration key existed resumes with the key's default; a key renamed since
  /// is read under its new name; a key this Stitch does not know is refused, naming it.
  @Test func olderConfigFilesResumeAndUnknownKeysAreRefused() throws {
    let run = folder("config")
    defer { try? FileManager.default.removeItem(at: run) }
    var config = Self.smallTD3
    config.qWeight = 1.5
    let trainer = Trainer<TD3BC>(configuration: config, options: options([.offline(updates: 2)]), folder: run)
    try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
    try trainer.writeConfig()
    let url = run.appendingPathComponent("config.json")
    func rewrite(_ edit: (inout [String: Any]) -> Void) throws {
      var object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
      var c = object["configuration"] as! [String: Any]
      edit(&c)
      object["configuration"] = c
      try JSONSerialization.data(withJSONObject: object).write(to: url)
    }
    try rewrite { $0.removeValue(forKey: "noise_clip") }
    let loaded = try Trainer<TD3BC>.load(from: run)
    #expect(loaded.configuration.noiseClip == TD3BC.defaultConfiguration.noiseClip)
    #expect(loaded.configuration.qWeight == 1.5)
    try rewrite { $0["no_such_key"] = 3 }
    #expect { _ = try Trainer<TD3BC>.load(from: run) } throws: { "\($0)".contains("no_such_key") }
    // IQL's β was saved as "temperature" before it was renamed.
    let iqlRun = folder("config-iql")
    defer { try? FileManager.default.removeItem(at: iqlRun) }
    var iql = IQL.defaultConfiguration
    iql.beta = 6
    try FileManager.default.createDirectory(at: iqlRun, withIntermediateDirectories: true)
    try Trainer<IQL>(configuration: iql, options: options([.offline(updates: 2)]), folder: iqlRun).writeConfig()
    let iqlURL = iqlRun.appendingPathComponent("config.json")
    let text = try String(contentsOf: iqlURL, encoding: .utf8)
    #expect(text.contains("\"beta\""))
    try text.replacingOccurrences(of: "\"beta\"", with: "\"temperature\"").write(to: iqlURL, atomically: true, encoding: .utf8)
    #expect(try Trainer<IQL>.load(from: iqlRun).configuration.beta == 6)
  }

  @Test func phasesThatCannotRunAreRefusedBeforeAnythingIsWritten() throws {
    let run = folder("refused")
    defer { try? FileManager.default.removeItem(at: run) }
    let bad: [([Phase], String)] = [
      ([], "at least one phase"),
      ([.offline(updates: 0)], "no steps"),
      ([.online(environmentSteps: 5, updatesPerStep: 0, warmup: .none, data: .replay)], "updates per environment step"),
      ([.online(environmentSteps: 5, updatesPerStep: 1, warmup: .random(steps: 6), data: .replay)], "does not fit"),
      ([.online(environmentSteps: 5, updatesPerStep: 1, warmup: .none, data: .mixed(datasetFraction: 1.5))], "[0, 1]"),
    ]
    for (phases, message) in bad {
      var o = options([.offline(updates: 1)])
      o.phases = phases
      #expect { _ = try Trainer<TD3BC>(configuration: Self.smallTD3, options: o, folder: run).run(dataset: Self.dataset) } throws: {
        "\($0)".contains(message)
      }
    }
    // A negative or non-finite exploration noise.
    for sigma in [-0.1, Double.nan] {
      var o = options([.offline(updates: 1), .online(environmentSteps: 2, updatesPerStep: 1, warmup: .none, data: .replay)])
      o.explorationNoise = sigma
      #expect { _ = try Trainer<TD3BC>(configuration: Self.smallTD3, options: o, folder: run).run(dataset: Self.dataset) } throws: {
        "\($0)".contains("exploration noise")
      }
    }
    // An offline phase without a dataset.
    #expect { _ = try Trainer<TD3BC>(configuration: Self.smallTD3, options: options([.offline(updates: 2)]), folder: run).run() } throws: {
      "\($0)".contains("need a dataset")
    }
    #expect(!FileManager.default.fileExists(atPath: run.path))
  }
}
