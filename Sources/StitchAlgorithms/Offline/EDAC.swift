import StitchData
import StitchNN
import StitchTensor
/// EDAC: SAC with N critics and a diversity penalty on their action gradients (An et al., NeurIPS 2021,
/// arXiv 2110.01548, eq. 4). Defaults: CORL `algorithms/offline/edac.py` (N = 10, η = 1, lrs 3e-4, τ 5e-3,
/// γ 0.99, 3 × 256; per-dataset N and η in FACTS.md §2e, e.g. hopper N = 50). No state normalisation (CORL).
/// The math is in `EnsembleSAC`.
public struct EDAC: Algorithm {
  public struct Configuration: Codable, Sendable {
    /// N, number of critics.
    public var critics = 10
    /// η, weight of the diversity loss.
    public var eta: Float = 1.0
    public var discount: Float = 0.99
    public var targetUpdateRate: Float = 0.005
    public var actorLearningRate: Float = 3e-4
    public var criticLearningRate: Float = 3e-4
    public var temperatureLearningRate: Float = 3e-4
    public var hiddenSizes = [256, 256, 256]
  }

  public static let id = "edac"
  public static let summary = "EDAC (An et al. 2021): SAC with N critics and an ensemble-diversity penalty"
  public static var defaultConfiguration: Configuration { Configuration() }
  public static var trainingDefaults: TrainingDefaults { TrainingDefaults(batchSize: 256, normalizeObservations: false) }

  var core: EnsembleSAC
  var updates = 0

  public init(configuration c: Configuration, task: TaskSpec, rng: RandomStream) {
    core = EnsembleSAC(.init(members: c.critics, eta: c.eta, discount: c.discount, targetUpdateRate: c.targetUpdateRate,
                             actorLearningRate: c.actorLearningRate, criticLearningRate: c.criticLearningRate,
                             temperatureLearningRate: c.temperatureLearningRate, hiddenSizes: c.hiddenSizes), task: task, rng: rng)
  }

  public mutating func update(on batch: Batch) throws -> Metrics { updates += 1; return try core.update(on: batch) }
  public func act(_ observations: Tensor, exploring: Bool, rng: inout RandomStream) -> Tensor { core.act(observations, exploring: exploring, rng: &rng) }
  public func store(into c: inout Checkpoint) { core.store(into: &c); c.metadata["updates"] = String(updates) }
  public mutating func restore(from c: Checkpoint) throws { try core.restore(from: c); updates = try c.counter("updates") }
}

extension EDAC.Configuration: CheckedConfiguration {
  public func check(_ checks: inout ConfigChecks) {
    checks.atLeast("critics", critics, 2)
    checks.nonNegative("eta", eta)
    checks.bootstrapTarget(discount: discount, targetUpdateRate: targetUpdateRate)
    checks.learningRates(["actor_learning_rate": actorLearningRate, "critic_learning_rate": criticLearningRate,
                          "temperature_learning_rate": temperatureLearningRate])
    checks.layerSizes("hidden_sizes", hiddenSizes)
  }
  /// CORL edac.py's `TrainConfig` names.
  public static var referenceNames: [String: String] {
    ["num_critics": "critics", "gamma": "discount", "tau": "target_update_rate", "alpha_learning_rate": "temperature_learning_rate"]
  }
}
