import StitchData
import StitchNN

import StitchTensor

/// What an algorithm needs to know about its task: sizes and the action bounds.
///
/// Algorithms work in normalised action coordinates: every action they see or output lies in [−1, 1]; the
/// trainers map between that box and the environment's (`ActionScaling`).
public struct TaskSpec: Codable, Sendable, Equatable {
  public var id: String
  public var observationDim: Int
  public var actionDim: Int
  public init(id: String, observationDim: Int, actionDim: Int) {
    self.id = id
    self.observationDim = observationDim
    self.actionDim = actionDim
  }
}

/// Loop settings an algorithm's reference implementation uses by default (ReBRAC: batch 1024, raw states); the
/// CLI applies them unless the user sets them.
public struct TrainingDefaults: Sendable, Equatable {
  public var batchSize: Int
  public var normalizeObservations: Bool
  /// Configuration keys whose reference value is the run's own length (IQL's cosine actor schedule spans CORL's
  /// `max_timesteps`): `stitch train` sets them to `--steps` unless a preset, file or `--set` gives them.
  public var runLengthKeys: [String]
  public init(batchSize: Int = 256, normalizeObservations: Bool = true, runLengthKeys: [String] = []) {
    self.batchSize = batchSize
    self.normalizeObservations = normalizeObservations
    self.runLengthKeys = runLengthKeys
  }
}

/// Scalar metrics of one update, by stable snake_case key (CORL's `log_dict`).
public typealias Metrics = [String: Double]

/// A reinforcement-learning method: offline, online, model-based or fine-tuning. One file per algorithm holds its
/// configuration (defaults = the paper's and CORL's values, each field citing its symbol) and its update; trainers
/// own the loop, evaluation, logs, checkpoints and resume.
public protocol Algorithm {
  associatedtype Configuration: Codable & Sendable
  /// The CLI id ("td3bc"), also used in run folders and checkpoints.
  static var id: String { get }
  /// One line for `stitch train --help`.
  static var summary: String { get }
  /// Default configuration (the paper's values).
  static var defaultConfiguration: Configuration { get }
  /// Builds networks for `task` from `rng` (network initialisation and the algorithm's own noise).
  init(configuration: Configuration, task: TaskSpec, rng: RandomStream)
  /// One gradient step on a minibatch (actions in [−1, 1]); returns metrics.
  mutating func update(on batch: Batch) throws -> Metrics
  /// Actions in [−1, 1] for a batch of (normalised) observations; `exploring` samples, otherwise acts
  /// deterministically (evaluation).
  func act(_ observations: Tensor, exploring: Bool, rng: inout RandomStream) -> Tensor
  /// Saves every network, optimizer state, counter and random stream needed to resume bit-exactly.
  func store(into checkpoint: inout Checkpoint)
  /// Restores what `store(into:)` saved.
  mutating func restore(from checkpoint: Checkpoint) throws
  /// Batch size and state normalisation of the reference implementation (default: 256, normalised).
  static var trainingDefaults: TrainingDefaults { get }
  /// Whether `act(_:exploring: true, rng:)` returns the deterministic action (TD3+BC, ReBRAC, BC, IQL with its
  /// deterministic actor): the trainer then adds Gaussian exploration noise in online phases, as TD3's training
  /// loop does (default: false, the algorithm samples its own exploring actions, as SAC does).
  var actsDeterministically: Bool { get }
}

extension Algorithm {
  /// `act` for a library caller: a shape error (observations of another width than the task's) is thrown as
  /// `TensorError.shapeMismatch` naming the shapes instead of trapping (`checkingShapes`).
  public func checkedAct(_ observations: Tensor, exploring: Bool, rng: inout RandomStream) throws -> Tensor {
    try checkingShapes { act(observations, exploring: exploring, rng: &rng) }
  }

  public static var trainingDefaults: TrainingDefaults { TrainingDefaults() }
  public var actsDeterministically: Bool { false }
}

/// The configuration of an online algorithm that learns with the offline dataset in its batches (RLPD): `stitch
/// train` then needs `--dataset` and trains one online phase of `updatesPerStep` updates per environment step
/// after `randomSteps` uniformly random ones, each minibatch `datasetFraction` dataset rows and the rest from
/// the online buffer.
public protocol OnlineWithDataset {
  var datasetFraction: Double { get }
  var updatesPerStep: Int { get }
  var randomSteps: Int { get }
}

/// The configuration of an algorithm whose minibatches carry Monte-Carlo returns-to-go (`Batch.returnsToGo`,
/// Cal-QL's lower bound): the trainer computes them on the dataset as the algorithm sees it (rewards scaled),
/// discounted by `returnsToGoDiscount` within each episode, and, with `returnsToGoOnline`, for every online
/// episode when it ends (rows of an episode in progress carry −∞); without it online rows carry 0.
public protocol UsesReturnsToGo {
  /// γ of the returns-to-go, or nil when this configuration uses none (CQL without calibration).
  var returnsToGoDiscount: Float? { get }
  var returnsToGoOnline: Bool { get }
}

/// The configuration of an algorithm whose one online update is a whole environment step's work at high UTD:
/// WSRL's `update_high_utd` splits its batch into `updatesPerBatch` critic minibatches, then steps the actor once
/// on the whole batch. `stitch finetune --utd U` sets that key (not the trainer's updates per step) and the batch
/// defaults to U times the pretrained minibatch.
///
/// With `--replay mixed` such a batch holds the replay buffer's rows first and the dataset's after them, as WSRL's
/// `finetune.py` concatenates `[online_batch, offline_batch]` before `update_high_utd` slices it: the first critic
/// steps see online rows, the last ones offline rows (the other algorithms take the dataset's rows first).
public protocol SplitsBatchAcrossCriticSteps {
  var updatesPerBatch: Int { get }
}

/// An algorithm that behaves differently in online phases (CORL's Cal-QL turns its calibration off at the switch).
/// The trainer calls `phaseChanged` before the first step of each phase whose kind differs from the last one's,
/// and again before the first step after a resume; what the algorithm derives from it must not be checkpointed.
public protocol PhaseObserver {
  mutating func phaseChanged(online: Bool)
}

/// An algorithm that needs the dataset itself, not only minibatches of it (dynamics training, rollout start
/// states, returns-to-go for calibration). The trainer calls `prepare` once per process, after the algorithm is
/// built and, on resume, restored, and before its first update; the dataset is what minibatches are drawn from
/// (actions in [−1, 1], rewards times `rewardScale`, observations through `normalizer`), so raw states are
/// `normalizer`'s inverse. What `prepare` derives must depend only on its arguments, or be part of the
/// algorithm's checkpointed state, for runs to resume bit-identically.
public protocol DatasetConsumer {
  mutating func prepare(dataset: Dataset, normalizer: ObservationNormalizer, rewardScale: Float) throws
}

extension Checkpoint {
  /// Stores a random stream's state in the metadata.
  public mutating func store(_ rng: RandomStream, as key: String) {
    metadata[key] = "\(rng.state),\(rng.increment)"
  }

  /// Restores a random stream stored with `store(_:as:)`.
  public func randomStream(_ key: String) throws -> RandomStream {
    let parts = (metadata[key] ?? "").split(separator: ",").compactMap { UInt64($0) }
    guard parts.count == 2 else { throw RestoreError.badMetadata(key) }
    return RandomStream(state: parts[0], increment: parts[1])
  }

  /// An integer counter from the metadata.
  public func counter(_ key: String) throws -> Int {
    guard let v = metadata[key].flatMap({ Int($0) }) else { throw RestoreError.badMetadata(key) }
    return v
  }
}
