import StitchData
import StitchNN

import StitchTensor

/// The rollout keys every model-based agent's configuration has (flat, as configuration files and `--set` name
/// them), and the `ModelRolloutSettings` they make.
public protocol ModelRolloutConfiguration {
  var dynamicsModel: String { get }
  var rolloutLength: Int { get }
  var rolloutBatchSize: Int { get }
  var rolloutFrequency: Int { get }
  var modelRetainEpochs: Int { get }
  var realRatio: Double { get }
  var dynamics: String { get }
  var dynamicsMix: Double { get }
}

extension ModelRolloutConfiguration {
  var rolloutSettings: ModelRolloutSettings {
    var s = ModelRolloutSettings()
    s.dynamicsModel = dynamicsModel
    s.rolloutLength = rolloutLength
    s.rolloutBatchSize = rolloutBatchSize
    s.rolloutFrequency = rolloutFrequency
    s.modelRetainEpochs = modelRetainEpochs
    s.realRatio = realRatio
    s.dynamics = dynamics
    s.dynamicsMix = dynamicsMix
    return s
  }
}

/// The SAC keys of OfflineRL-Kit's model-based scripts (`run_mopo.py`, `run_mobile.py`) and the SAC they make:
/// log σ clamped to [−5, 2], α ≤ 1, the actor's cosine schedule over `actor_schedule_epochs` rollout epochs.
public protocol OfflineRLKitSACConfiguration: ModelRolloutConfiguration {
  var discount: Float { get }
  var targetUpdateRate: Float { get }
  var actorLearningRate: Float { get }
  var criticLearningRate: Float { get }
  var temperatureLearningRate: Float { get }
  var initialTemperature: Float { get }
  var autoTemperature: Bool { get }
  var hiddenSizes: [Int] { get }
  var actorScheduleEpochs: Int { get }
}

extension OfflineRLKitSACConfiguration {
  func makeSAC(task: TaskSpec, rng: RandomStream, adjust: (inout SAC.Variant) -> Void = { _ in }) -> SAC {
    var c = SAC.Configuration()
    c.discount = discount
    c.targetUpdateRate = targetUpdateRate
    c.actorLearningRate = actorLearningRate
    c.criticLearningRate = criticLearningRate
    c.temperatureLearningRate = temperatureLearningRate
    c.initialTemperature = initialTemperature
    c.autoTemperature = autoTemperature
    c.hiddenSizes = hiddenSizes
    var variant = SAC.Variant()
    variant.logStdMin = -5
    variant.maxTemperature = 1
    variant.guardedLogDensity = true
    variant.actorScheduleEpochs = actorScheduleEpochs
    variant.epochLength = rolloutFrequency
    adjust(&variant)
    return SAC(configuration: c, variant: variant, task: task, rng: rng)
  }

  /// The checks the SAC keys share.
  func checkSAC(_ checks: inout ConfigChecks) {
    checks.bootstrapTarget(discount: discount, targetUpdateRate: targetUpdateRate)
    checks.learningRates(["actor_learning_rate": actorLearningRate, "critic_learning_rate": criticLearningRate,
                          "temperature_learning_rate": temperatureLearningRate])
    checks.positive("initial_temperature", initialTemperature)
    checks.layerSizes("hidden_sizes", hiddenSizes)
    checks.atLeast("actor_schedule_epochs", actorScheduleEpochs, 0)
    rolloutSettings.check(&checks)
  }
}

/// A model-based agent: its rollouts take the dataset and the simulator, and its checkpoint holds the model
/// buffer and the rollouts' stream beside the agent's own state.
public protocol ModelRolloutAgent: Algorithm, AlgorithmState, DatasetConsumer, TrueDynamicsConsumer {
  var rollouts: ModelRollouts { get set }
}

extension ModelRolloutAgent {
  public mutating func prepare(dataset: Dataset, normalizer: ObservationNormalizer, rewardScale: Float) throws {
    try rollouts.prepare(dataset: dataset, normalizer: normalizer, rewardScale: rewardScale)
  }

  public var needsTrueDynamics: Bool { rollouts.settings.needsSimulator }
  public mutating func attach(trueDynamics: any TrueDynamics) { rollouts.attach(trueDynamics: trueDynamics) }
  public var trueDynamicsNote: String? { rollouts.startStateNote }

  public func store(into checkpoint: inout Checkpoint) {
    storeState(into: &checkpoint)
    rollouts.store(into: &checkpoint)
  }

  public mutating func restore(from checkpoint: Checkpoint) throws {
    var copy = self
    try copy.restoreState(from: checkpoint)
    try copy.rollouts.restore(from: checkpoint)
    self = copy
  }
}
