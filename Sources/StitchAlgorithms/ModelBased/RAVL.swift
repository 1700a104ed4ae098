import Foundation
import StitchData
import StitchNN

import StitchTensor

/// RAVL, Reach-Aware Value Learning (Sims, Lu, Foerster & Teh, "The Edge-of-Reach Problem in Offline Model-Based
/// Reinforcement Learning", NeurIPS 2024, arXiv 2402.12527, §5): the base procedure's model rollouts with no
/// dynamics-uncertainty penalty, and an EDAC critic ensemble instead of SAC's two critics, so that the value of
/// edge-of-reach states (reached only at a rollout's last step, never updated) is pessimistic through the
/// ensemble's disagreement: target min over all N critics, EDAC's diversity loss η·L_div on the data's actions
/// (`EnsembleSAC` with `EDAC.diversity`), update order α → actor → critics as the edge-of-reach code
/// (`agent_training/agent.py`). Its four hyperparameters (README of anyasims/edge-of-reach): N = 10 critics,
/// k = 5 rollout steps, r = 0.05 real ratio, η = 1; α from 0.1, learning rates 3e-4, γ 0.99, τ 5e-3, 3 × 256,
/// 50,000 rollouts per epoch of 1000 updates, 5 epochs kept (docs/facts-2.md §1d). Differences from the
/// reference: start states are drawn with replacement (EOR: without) and networks are initialised as CORL's EDAC.
public struct RAVL: Algorithm, ModelRolloutAgent {
  public struct Configuration: Codable, Sendable, ModelRolloutConfiguration {
    /// N, critics in the ensemble.
    public var critics = 10
    /// η, weight of EDAC's diversity loss.
    public var eta: Float = 1.0
    public var discount: Float = 0.99
    public var targetUpdateRate: Float = 0.005
    public var actorLearningRate: Float = 3e-4
    public var criticLearningRate: Float = 3e-4
    public var temperatureLearningRate: Float = 3e-4
    public var initialTemperature: Float = 0.1
    public var hiddenSizes = [256, 256, 256]
    public var dynamicsModel = ""
    /// k, steps of every model rollout.
    public var rolloutLength = 5
    public var rolloutBatchSize = 50_000
    public var rolloutFrequency = 1000
    public var modelRetainEpochs = 5
    /// r, the fraction of every minibatch from the dataset.
    public var realRatio = 0.05
    /// "model" (the learned ensemble of `dynamics_model`) or "true" (the simulator; docs/model-based.md).
    public var dynamics = "model"
    /// λ ∈ [0, 1]: rollouts step (1 − λ)·model + λ·simulator (the edge-of-reach paper's Figure 1).
    public var dynamicsMix = 0.0
  }

  public static let id = "ravl"
  public static let summary = "RAVL (Sims et al. 2024): EDAC critic ensemble on learned-model rollouts, no dynamics penalty"
  public static var defaultConfiguration: Configuration { Configuration() }
  public static var trainingDefaults: TrainingDefaults { TrainingDefaults(batchSize: 256, normalizeObservations: false) }

  var core: EnsembleSAC
  public var rollouts: ModelRollouts
  var updates = 0

  public init(configuration c: Configuration, task: TaskSpec, rng: RandomStream) {
    var settings = EnsembleSAC.Settings(members: c.critics, eta: c.eta, discount: c.discount, targetUpdateRate: c.targetUpdateRate,
                                        actorLearningRate: c.actorLearningRate, criticLearningRate: c.criticLearningRate,
                                        temperatureLearningRate: c.temperatureLearningRate, hiddenSizes: c.hiddenSizes,
                                        diversity: { EDAC.diversity($0, $1, $2) })
    settings.initialTemperature = c.initialTemperature
    core = EnsembleSAC(settings, task: task, rng: rng.child(named: "agent"))
    rollouts = ModelRollouts(settings: c.rolloutSettings, penaltyCoefficient: 0, task: task, rng: rng.child(named: "rollouts"))
  }


  public mutating func update(on batch: Batch) throws -> Metrics {
    updates += 1
    var mixed = batch
    let core = self.core
    let rolloutMetrics = try rollouts.mix(into: &mixed, policy: { obs, rng in core.act(obs, exploring: true, rng: &rng) },
                                          value: { core.value($0) })
    var metrics = try self.core.update(on: mixed)
    metrics.merge(rolloutMetrics) { $1 }
    return metrics
  }


  public func act(_ observations: Tensor, exploring: Bool, rng: inout RandomStream) -> Tensor {
    core.act(observations, exploring: exploring, rng: &rng)
  }

  public mutating func visitState<V: StateVisitor>(_ v: inout V) throws(V.Failure) {
    try core.visitState(&v)
    try v.counter(&updates, "updates")
  }

}

extension RAVL.Configuration: CheckedConfiguration {
  public func check(_ checks: inout ConfigChecks) {
    checks.atLeast("critics", critics, 2)
    checks.nonNegative("eta", eta)
    checks.bootstrapTarget(discount: discount, targetUpdateRate: targetUpdateRate)
    checks.learningRates(["actor_learning_rate": actorLearningRate, "critic_learning_rate": criticLearningRate,
                          "temperature_learning_rate": temperatureLearningRate])
    checks.positive("initial_temperature", initialTemperature)
    checks.layerSizes("hidden_sizes", hiddenSizes)
    rolloutSettings.check(&checks)
  }
  /// The edge-of-reach code's names (`train_ravl_agent.py`).
  public static var referenceNames: [String: String] {
    ["num_critics": "critics", "steps_k": "rollout_length", "dataset_ratio": "real_ratio", "gamma": "discount", "tau": "target_update_rate"]
  }
}
