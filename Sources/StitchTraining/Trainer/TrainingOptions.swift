import Foundation
import StitchAlgorithms
import StitchData
import StitchDiffusion
import StitchEnvironments
import StitchNN

import StitchTensor

/// Options of a training run that are not hyperparameters of the algorithm (CORL's `TrainConfig` loop fields).
public struct TrainingOptions: Codable, Sendable, Equatable {
  /// Gradient steps (offline) or environment steps (online).
  public var steps = 1_000_000
  /// Minibatch size.
  public var batchSize = 256
  /// Evaluate every this many steps (CORL: 5000), and at the end.
  public var evaluationInterval = 5000
  /// Episodes per evaluation (CORL: 10).
  public var evaluationEpisodes = 10
  /// Average and log training metrics every this many steps.
  public var logInterval = 1000
  /// Write a checkpoint every this many steps (and at the end and on Ctrl-C).
  public var checkpointInterval = 50_000
  /// The run seed: every random stream of the run is split from it.
  public var seed: UInt64 = 0
  /// Normalise observations with the dataset's mean and std (ε = 1e-3), as CORL's TD3+BC/IQL/CQL.
  public var normalizeObservations = true
  /// Scale rewards by 1000 / (max − min episode return), CORL's `normalize_reward`.
  public var normalizeRewards = false
  /// Fraction of each batch drawn from the synthetic dataset when one is given (SynthER).
  public var syntheticRatio = 0.5
  /// Return-weighted trajectory sampling (Hong et al. 2023) with this temperature α instead of uniform
  /// sampling; nil samples uniformly. Optional so that run folders written before it existed still resume.
  public var returnWeightTemperature: Double? = nil
  /// With `returnWeightTemperature`: weight episodes by advantage over a linear value of their initial
  /// observation (AW) instead of by return (RW). nil or false: RW.
  public var weightByAdvantage: Bool? = nil
  /// The evaluation environment's Gymnasium id.
  public var environment = ""
  /// Online only: uniformly random actions for this many first steps (SAC: 5k–10k).
  public var randomSteps = 5000
  /// Online only: capacity of the replay buffer.
  public var replayCapacity = 1_000_000
  /// Cores each update's matrix products use (`ProductLanes`: 1 or 2). Part of the run's identity: results are
  /// bit-identical run to run only with the same value, so a resumed run keeps it. nil (runs written before it
  /// existed): 1.
  public var productLanes: Int? = nil
  /// The sgemm plan (`GemmPlan.id`: which library runs which product shape) the run's products ran under. Part of
  /// the run's identity like `productLanes`: the trainer runs a resumed run under it whatever this process's
  /// default. nil when a new run starts: the process's `BLAS.gemmPlan`, recorded; nil in a run folder written
  /// before backends existed: "openblas", what it ran under.
  public var sgemmPlan: String? = nil
  /// The run's phases (offline updates, online interaction, …; `Phase`). nil: one phase of `steps`, offline or, for
  /// an online algorithm, online after `randomSteps` random steps (every run written before phases existed).
  public var phases: [Phase]? = nil
  /// σ of the Gaussian exploration noise deterministic actors (TD3+BC, ReBRAC, BC, IQL's deterministic actor) add
  /// in online phases, in the normalised action box [−1, 1] (TD3's `expl_noise` = 0.1 of `max_action`). nil: 0.1.
  public var explorationNoise: Double? = nil
  /// The dataset the run trains on (path, rows, hash of the loaded columns; `DatasetIdentity`), recorded so that a
  /// resume can refuse other data. nil: an online run, or a run folder written before it was recorded.
  public var dataset: DatasetIdentity? = nil
  /// The synthetic transitions (`--synthetic`) mixed into every batch, identified as `dataset`; nil: none, or
  /// not recorded (an old run folder).
  public var synthetic: DatasetIdentity? = nil
  /// Whether transitions with NaN or infinite values were dropped when the dataset was loaded (`--drop-non-finite`);
  /// a resume loads the dataset the same way. nil: not recorded (an old run folder).
  public var dropNonFinite: Bool? = nil
  /// A fine-tuning run's start (`stitch finetune`): the offline run whose checkpoint gives the algorithm's state,
  /// the observation normaliser and the reward scale before the first step. nil: the run starts from scratch.
  public var pretrained: PretrainedStart? = nil

  public init() {}

  /// The plan `sgemmPlan` names (nil or unknown: OpenBLAS alone, what every run before it used).
  public var recordedSgemmPlan: GemmPlan { sgemmPlan.flatMap(GemmPlan.init(id:)) ?? .openblas }

  /// Sets the run's phases and `steps` to their total (the run's length, which `phases` must agree with).
  public mutating func setPhases(_ phases: [Phase]) {
    self.phases = phases
    steps = phases.reduce(0) { $0 + $1.length }
  }

  /// Refuses to resume the run in `folder` on other data than it trained on: a dataset (or synthetic file) whose
  /// rows or hash differ from those recorded, a recorded one not given, or a synthetic file added. Runs written
  /// before the identities were recorded have none to compare and resume as before. One check for `stitch train
  /// --resume` (all seeds, before any starts) and `Trainer.run(resume: true)` (library callers).
  public func refuseOtherData(folder: URL, dataset given: DatasetIdentity?, synthetic givenSynthetic: DatasetIdentity?) throws {
    guard let recorded = dataset else { return }
    guard let given else { throw RunFolderError("\(folder.path) trained on \(recorded); resume it with that dataset") }
    if !recorded.sameData(as: given) {
      throw RunFolderError("\(folder.path) trained on \(recorded); the dataset given is \(given): resuming on other data would silently change the run")
    }
    // A run folder that records its dataset records its synthetic file too (nil when it had none).
    switch (synthetic, givenSynthetic) {
    case let (recorded?, given?) where !recorded.sameData(as: given):
      throw RunFolderError("\(folder.path) mixed in synthetic transitions \(recorded); the synthetic file given is \(given): resuming on other data would silently change the run")
    case let (recorded?, nil):
      throw RunFolderError("\(folder.path) mixed in synthetic transitions \(recorded); pass --synthetic \(recorded.path) to resume it")
    case let (nil, given?):
      throw RunFolderError("\(folder.path) trained without synthetic transitions; --synthetic \(given.path) would change the run")
    default: return
    }
  }

  /// The seed of the first evaluation episode of every evaluation the trainer runs (episode i resets with this
  /// seed + i, `PolicyEvaluation.run`): offline phases `seed · 1000003 + 12345`, online phases `seed + 999983`
  /// (wrapping), the formulas the former offline and online trainers used, so that `stitch eval RUN` reproduces a
  /// run's logged evaluation.
  public func evaluationSeed(online: Bool) -> UInt64 {
    online ? seed &+ 999_983 : seed &* 1_000_003 &+ 12_345
  }
}

/// The run a fine-tuning run starts from, recorded in its `config.json` (the checkpoint is read once, when the run
/// starts; a resume restores from the fine-tuning run's own checkpoint).
public struct PretrainedStart: Codable, Sendable, Equatable {
  /// The pretrained seed folder (RUN/seed_K) as given.
  public var folder: String
  /// The pretrained run's algorithm id and step (its checkpoint's).
  public var algorithm: String
  public var step: Int
  /// The pretrained run's last normalized evaluation score (nil on tasks without reference returns): the baseline
  /// of the initial dip.
  public var score: Double?

  public init(folder: String, algorithm: String, step: Int, score: Double?) {
    self.folder = folder
    self.algorithm = algorithm
    self.step = step
    self.score = score
  }

  /// The pretrained checkpoint's file.
  public var checkpointURL: URL { URL(fileURLWithPath: folder).appendingPathComponent("checkpoint.safetensors") }
}

/// Set when the user presses Ctrl-C: trainers checkpoint and stop at the end of the current step.
public enum StopSignal {
  nonisolated(unsafe) static var requested = false

  /// Whether a stop was requested.
  public static var isRequested: Bool { requested }

  /// Installs a SIGINT handler that requests a clean stop (a second Ctrl-C exits at once).
  public static func install() {
    signal(SIGINT) { _ in
      if StopSignal.requested { _exit(130) }
      StopSignal.requested = true
    }
  }

  /// Requests a stop (for tests).
  public static func request() { requested = true }
  public static func reset() { requested = false }
}

/// A reference-type holder so values can be shared with concurrent evaluation workers that only read them.
final class SharedValue<T>: @unchecked Sendable {
  let value: T
  init(_ value: T) { self.value = value }
}
