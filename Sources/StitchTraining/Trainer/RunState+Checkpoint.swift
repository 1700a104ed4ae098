import Foundation
import StitchAlgorithms
import StitchData
import StitchEnvironments
import StitchNN

import StitchTensor

/// The run's checkpoint: the algorithm's state list, then the run's own state under fixed keys (a file format:
/// checkpoints written by the former offline and online trainers use the same keys and restore here).
extension RunState {
  func save(to url: URL) throws {
    var c = Checkpoint()
    algorithm.store(into: &c)
    c.store(batches, as: "batch_rng")
    c.metadata["step"] = String(step)
    c.metadata["algorithm"] = A.id
    c.metadata["environment"] = options.environment
    c.metadata["normalizer"] = try Checkpoint.json(normalizer)
    c.metadata["reward_scale"] = "\(rewardScale)"
    c.metadata["action_scaling"] = try Checkpoint.json(scaling)
    c.metadata["evaluations"] = try EvaluationRecords.encode(evaluations)
    c.metadata["metric_averages"] = averages.encoded()
    c.metadata["phases"] = try Checkpoint.json(phases)
    c.metadata["stitch_version"] = StitchVersion.string
    if hasOnlinePhase {
      c.store(exploration, as: "exploration_rng")
      Self.store(buffer, into: &c)
      c.metadata["episode"] = String(episode)
      c.metadata["episode_steps"] = String(episodeSteps)
    }
    try c.write(to: url)
  }

  /// Restores what `save` wrote. The normaliser and reward scale were read before the data were prepared (`init`).
  mutating func restore(from c: Checkpoint) throws {
    try algorithm.restore(from: c)
    batches = try c.randomStream("batch_rng")
    step = try c.counter("step")
    guard step >= 0 else { throw Checkpoint.RestoreError.badMetadata("step (\(step))") }
    evaluations = try EvaluationRecords.decode(c.metadata["evaluations"] ?? "[]")
    if let text = c.metadata["metric_averages"] {
      guard let restored = MetricAverages(encoded: text) else { throw Checkpoint.RestoreError.badMetadata("metric_averages") }
      averages = restored
    }
    guard hasOnlinePhase, c.metadata["exploration_rng"] != nil else { return }
    exploration = try c.randomStream("exploration_rng")
    episode = try c.counter("episode")
    episodeSteps = try c.counter("episode_steps")
    guard episode >= 0, episodeSteps >= 0 else {
      throw Checkpoint.RestoreError.badMetadata("episode/episode_steps (\(episode), \(episodeSteps))")
    }
    if c.tensors["replay.observations"] != nil {
      buffer = try Self.replayBuffer(from: c, capacity: options.replayCapacity)
    }
    try buffer.checkUnfinishedEpisode(steps: episodeSteps, source: "checkpoint (episode_steps)")
  }

  /// Stores the replay buffer's slots, cursor and count in a checkpoint (flags as 0/1 Float32 columns).
  static func store(_ buffer: ReplayBuffer, into c: inout Checkpoint) {
    let d = buffer.storage, n = d.count
    c.tensors["replay.observations"] = Tensor(shape: [n, d.observationDim], scalars: d.observations)
    c.tensors["replay.actions"] = Tensor(shape: [n, d.actionDim], scalars: d.actions)
    c.tensors["replay.rewards"] = Tensor(shape: [n], scalars: d.rewards)
    c.tensors["replay.next_observations"] = Tensor(shape: [n, d.observationDim], scalars: d.nextObservations)
    c.tensors["replay.terminals"] = Tensor(shape: [n], scalars: d.terminals.map { $0 ? 1 : 0 })
    c.tensors["replay.timeouts"] = Tensor(shape: [n], scalars: d.timeouts.map { $0 ? 1 : 0 })
    if let rtg = d.returnsToGo { c.tensors["replay.returns_to_go"] = Tensor(shape: [n], scalars: rtg) }
    c.metadata["replay_cursor"] = String(buffer.cursor)
    c.metadata["replay_added"] = String(buffer.added)
  }

  /// The replay buffer saved in a checkpoint by `store(_:into:)`.
  static func replayBuffer(from c: Checkpoint, capacity: Int) throws -> ReplayBuffer {
    func column(_ key: String) throws -> Tensor {
      guard let t = c.tensors["replay." + key] else { throw Checkpoint.RestoreError.missing("replay." + key) }
      return t
    }
    let obs = try column("observations"), act = try column("actions")
    guard obs.shape.count == 2, act.shape.count == 2 else {
      throw DatasetError.invalid(file: "replay buffer", problem: "observations/actions are not matrices (\(obs.shape), \(act.shape))")
    }
    var storage = Dataset(observationDim: obs.shape[1], actionDim: act.shape[1], observations: obs.scalars, actions: act.scalars,
                          rewards: try column("rewards").scalars, nextObservations: try column("next_observations").scalars,
                          terminals: try column("terminals").scalars.map { $0 != 0 }, timeouts: try column("timeouts").scalars.map { $0 != 0 })
    if let rtg = c.tensors["replay.returns_to_go"] {
      guard rtg.count == storage.count else { throw DatasetError.invalid(file: "replay buffer", problem: "returns_to_go holds \(rtg.count) values for \(storage.count) rows") }
      storage.returnsToGo = rtg.scalars
    }
    return try ReplayBuffer(capacity: capacity, storage: storage, cursor: try c.counter("replay_cursor"), added: try c.counter("replay_added"))
  }
}

extension MetricAverages {
  /// The sums (as exact bit patterns: NaN and infinities survive) and counts, as one line of text for a
  /// checkpoint's metadata: `key=sumbits:count;…`, keys sorted.
  func encoded() -> String {
    sums.keys.sorted().map { "\($0)=\(String(sums[$0]!.bitPattern, radix: 16)):\(counts[$0] ?? 0)" }.joined(separator: ";")
  }

  /// Reads `encoded()`; nil when malformed.
  init?(encoded text: String) {
    self.init()
    guard !text.isEmpty else { return }
    for entry in text.split(separator: ";") {
      let kv = entry.split(separator: "=", maxSplits: 1)
      guard kv.count == 2 else { return nil }
      let parts = kv[1].split(separator: ":")
      guard parts.count == 2, let bits = UInt64(parts[0], radix: 16), let count = Int(parts[1]), count > 0 else { return nil }
      sums[String(kv[0])] = Double(bitPattern: bits)
      counts[String(kv[0])] = count
    }
  }
}
