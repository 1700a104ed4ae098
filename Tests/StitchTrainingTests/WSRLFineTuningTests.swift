import Foundation
import StitchData
import StitchEnvironments
import StitchNN
import StitchTensor
import StitchTestSupport
import Testing
@testable import StitchAlgorithms

@testable import StitchTraining

/// WSRL through the trainer: CQL updates offline, SAC updates online (the phase switch), its recipe's replay
/// without offline data, and exact resume of the fine-tuning run.
@Suite(.serialized) struct WSRLFineTuningTests {
  static let dataset: Dataset = try! DatasetMaker.make("pendulum-random", size: 400, seed: 7)

  static var small: WSRL.Configuration {
    var c = WSRL.defaultConfiguration
    c.critics = 3
    c.hiddenSizes = [8, 8]
    c.sampledActions = 2
    c.utd = 2
    return c
  }

  func options(_ phases: [Phase], batch: Int) -> TrainingOptions {
    var o = TrainingOptions()
    o.setPhases(phases)
    o.batchSize = batch
    o.evaluationInterval = 10
    o.evaluationEpisodes = 1
    o.logInterval = 1
    o.checkpointInterval = 1000
    o.seed = 3
    o.environment = "Pendulum-v1"
    o.normalizeObservations = false
    return o
  }

  static func metricRows(_ folder: URL) throws -> [[String: Any]] {
    try String(contentsOf: folder.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
      .compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
  }

  @Test(arguments: [5, 13]) func pretrainsWithCQLThenFineTunesWithSACAndResumesExactly(_ stopAt: Int) throws {
    let base = FileManager.default.temporaryDirectory.appendingPathComponent("stitch-wsrl-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: base) }
    let pretrained = base.appendingPathComponent("pretrained")
    _ = try Trainer<WSRL>(configuration: Self.small, options: options([.offline(updates: 4)], batch: 8), folder: pretrained).run(dataset: Self.dataset)
    let offline = try Self.metricRows(pretrained).filter { $0["critic_loss"] != nil }
    #expect(!offline.isEmpty && offline.allSatisfy { $0["cql_loss"] != nil }, "offline updates are CQL's")
    var o = options([.online(environmentSteps: 20, updatesPerStep: 1, warmup: .policy(steps: 4), data: .replay)], batch: 16)
    o.pretrained = PretrainedStart(folder: pretrained.path, algorithm: "wsrl", step: 4, score: nil)
    let whole = base.appendingPathComponent("whole"), split = base.appendingPathComponent("split")
    _ = try Trainer<WSRL>(configuration: Self.small, options: o, folder: whole).run(dataset: nil)
    let online = try Self.metricRows(whole).filter { $0["critic_loss"] != nil }
    #expect(!online.isEmpty && online.allSatisfy { $0["cql_loss"] == nil && $0["actor_loss"] != nil }, "online updates are SAC's, with an actor step each")
    var first = Trainer<WSRL>(configuration: Self.small, options: o, folder: split)
    var calls = 0
    first.shouldStop = { calls += 1; return calls > stopAt }
    #expect(try first.run(dataset: nil).steps == stopAt)
    var resumed = try Trainer<WSRL>.load(from: split)
    resumed.shouldStop = { false }
    _ = try resumed.run(dataset: nil, resume: true)
    #expect(try TestSupport.runFolderDifferences(whole, split).isEmpty)
  }

  /// WSRL with a share of the dataset in each batch (`--replay mixed`): records, per online update, whether the
  /// batch's first and last rows are dataset rows.
  struct OrderRecordingWSRL: Algorithm {
    typealias Configuration = WSRL.Configuration
    static let id = "wsrl"
    static let summary = "WSRL that records where its batch's rows come from"
    static var defaultConfiguration: Configuration { WSRL.defaultConfiguration }
    nonisolated(unsafe) static var seen: [(first: Bool, last: Bool)] = []
    var base: WSRL
    init(configuration: Configuration, task: TaskSpec, rng: RandomStream) { base = WSRL(configuration: configuration, task: task, rng: rng) }
    static func inDataset(_ row: ArraySlice<Float>) -> Bool {
      let d = WSRLFineTuningTests.dataset, od = d.observationDim
      return (0..<d.count).contains { i in zip(d.observations[(i * od)..<((i + 1) * od)], row).allSatisfy { Swift.abs($0 - $1) < 1e-6 } }
    }
    mutating func update(on batch: Batch) throws -> Metrics {
      let od = batch.observations.shape[1], scalars = batch.observations.scalars
      Self.seen.append((Self.inDataset(scalars[0..<od]), Self.inDataset(scalars[(scalars.count - od)...])))
      return try base.update(on: batch)
    }
    func act(_ observations: Tensor, exploring: Bool, rng: inout RandomStream) -> Tensor { base.act(observations, exploring: exploring, rng: &rng) }
    func store(into checkpoint: inout Checkpoint) { base.store(into: &checkpoint) }
    mutating func restore(from checkpoint: Checkpoint) throws { try base.restore(from: checkpoint) }
  }

  /// With mixed replay the batch holds the online rows first and the dataset's after them, as WSRL's
  /// `concatenate_batches([online_batch, offline_batch])` before `update_high_utd` slices it across critic steps.
  @Test func mixedReplayPutsTheOnlineRowsFirst() throws {
    let run = FileManager.default.temporaryDirectory.appendingPathComponent("stitch-wsrl-order-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: run) }
    OrderRecordingWSRL.seen = []
    let o = options([.online(environmentSteps: 8, updatesPerStep: 1, warmup: .policy(steps: 4), data: .mixed(datasetFraction: 0.5))], batch: 16)
    _ = try Trainer<OrderRecordingWSRL>(configuration: Self.small, options: o, folder: run).run(dataset: Self.dataset)
    #expect(OrderRecordingWSRL.seen.count >= 4)
    #expect(OrderRecordingWSRL.seen.allSatisfy { !$0.first && $0.last }, "\(OrderRecordingWSRL.seen)")
  }

  /// A batch the online update cannot split into `utd` minibatches is refused with the reason.
  @Test func anIndivisibleBatchIsRefused() throws {
    var agent = WSRL(configuration: Self.small, task: TaskSpec(id: "t", observationDim: 3, actionDim: 1), rng: RandomStream(seed: 0))
    agent.phaseChanged(online: true)
    var batch = Batch(size: 5, observationDim: 3, actionDim: 1)
    batch.actions = Tensor.zeros([5, 1])
    #expect(throws: WSRLError.self) { try agent.update(on: batch) }
  }
}
