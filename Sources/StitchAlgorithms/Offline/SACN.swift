import StitchData
import StitchNN

import StitchTensor

/// SAC-N: soft actor-critic with N critics and the minimum over all N of them in the target and the actor loss.
///
/// An, Moon, Kim & Song, "Uncertainty-Based Offline Reinforcement Learning with Diversified Q-Ensemble",
/// NeurIPS 2021, arXiv 2110.01548, §3 (the ensemble baseline EDAC builds on): critic target
/// y = r + γ(1 − d)(minᵢ₌₁..N Q'ᵢ(s', a') − α log π(a'|s')), a' ~ π(·|s'), loss Σᵢ mean (Qᵢ(s, a) − y)²; actor loss
/// E[α log π(a|s) − minᵢ Qᵢ(s, a)]; SAC's temperature loss. The losses, CORL's update order and the networks are
/// `EnsembleSAC` (shared with EDAC) without a diversity term. Defaults: CORL `algorithms/offline/sac_n.py`
/// (N = 10, lrs 3e-4, τ 5e-3, γ 0.99, 3 × 256; per-dataset N in docs/facts.md §2e: halfcheetah 10, walker2d 20,
/// hopper-medium 500). No state normalisation (CORL). Differences from the reference: those of `EnsembleSAC`.
public struct SACN: Algorithm, AlgorithmState {
  public struct Configuration: Codable, Sendable {
    /// N, number of critics.
    public var critics = 10
    public var discount: Float = 0.99
    public var targetUpdateRate: Float = 0.005
    public var actorLearningRate: Float = 3e-4
    public var criticLearningRate: Float = 3e-4
    public var temperatureLearningRate: Float = 3e-4
    public var hiddenSizes = [256, 256, 256]
  }

  public static let id = "sacn"
  public static let summary = "SAC-N (An et al. 2021): SAC with the minimum over N critics"
  public static var defaultConfiguration: Configuration { Configuration() }
  public static var trainingDefaults: TrainingDefaults { TrainingDefaults(batchSize: 256, normalizeObservations: false) }

  var core: EnsembleSAC
  var updates = 0

  public init(configuration c: Configuration, task: TaskSpec, rng: RandomStream) {
    core = EnsembleSAC(.init(members: c.critics, eta: 0, discount: c.discount, targetUpdateRate: c.targetUpdateRate,
                             actorLearningRate: c.actorLearningRate, criticLearningRate: c.criticLearningRate,
                             temperatureLearningRate: c.temperatureLearningRate, hiddenSizes: c.hiddenSizes), task: task, rng: rng)
  }

  public mutating func update(on batch: Batch) throws -> Metrics { updates += 1; return try core.update(on: batch) }
  public func act(_ observations: Tensor, exploring: Bool, rng: inout RandomStream) -> Tensor { core.act(observations, exploring: exploring, rng: &rng) }
  public mutating func visitState<V: StateVisitor>(_ v: inout V) throws(V.Failure) {
    try core.visitState(&v)
    try v.counter(&updates, "updates")
  }
}

extension SACN.Configuration: CheckedConfiguration {
  public func check(_ checks: inout ConfigChecks) {
    checks.atLeast("critics", critics, 1)
    checks.bootstrapTarget(discount: discount, targetUpdateRate: targetUpdateRate)
    checks.learningRates(["actor_learning_rate": actorLearningRate, "critic_learning_rate": criticLearningRate,
                          "temperature_learning_rate": temperatureLearningRate])
    checks.layerSizes("hidden_sizes", hiddenSizes)
  }
  /// CORL sac_n.py's `TrainConfig` names.
  public static var referenceNames: [String: String] {
    ["num_critics": "critics", "gamma": "discount", "tau": "target_update_rate", "alpha_learning_rate": "temperature_learning_rate"]
  }
}
