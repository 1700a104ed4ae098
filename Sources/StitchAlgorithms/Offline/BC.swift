import StitchData
import StitchNN
import StitchTensor

/// Behaviour cloning: regress the dataset's actions with a deterministic tanh policy.
///
/// Pomerleau, "Efficient Training of Artificial Neural Networks for Autonomous Navigation", Neural Computation
/// 1991: minimise E_(s,a)~D ‖π(s) − a‖² (mean over the batch and the action's entries). Reference code: CORL
/// `algorithms/offline/any_percent_bc.py` with `frac` 1.0 (every trajectory): MLP 256×256 with ReLU and tanh
/// output, Adam 3e-4, batch 256, normalised states. Differences from the reference: none known.
public struct BC: Algorithm, AlgorithmState {
  public struct Configuration: Codable, Sendable {
    /// Hidden layer sizes of the actor.
    public var hiddenSizes = [256, 256]
    /// Adam learning rate.
    public var learningRate: Float = 3e-4
  }

  public static let id = "bc"
  public static let summary = "behaviour cloning (MSE to dataset actions)"
  public var actsDeterministically: Bool { true }
  public static var defaultConfiguration: Configuration { Configuration() }

  var actor: MLP
  var optimizer: Adam
  var updates = 0

  public init(configuration: Configuration, task: TaskSpec, rng: RandomStream) {
    var initRNG = rng.child(named: "init")
    actor = MLP(inputSize: task.observationDim, hiddenSizes: configuration.hiddenSizes, outputSize: task.actionDim,
                outputActivation: .tanh, rng: &initRNG)
    optimizer = Adam(learningRate: configuration.learningRate)
  }

  public mutating func update(on batch: Batch) throws -> Metrics {
    updates += 1
    let (loss, grad) = try valueWithGradient(at: actor) { actor in
      Tensor.meanSquaredError(actor(batch.observations), batch.actions)
    }
    optimizer.update(&actor, along: grad)
    return ["actor_loss": Double(loss)]
  }

  public func act(_ observations: Tensor, exploring: Bool, rng: inout RandomStream) -> Tensor { actor(observations) }

  public mutating func visitState<V: StateVisitor>(_ v: inout V) throws(V.Failure) {
    try v.network(&actor, "actor.")
    try v.optimizer(&optimizer, "actor_optimizer.", of: actor)
    try v.counter(&updates, "updates")
  }
}

extension BC.Configuration: CheckedConfiguration {
  public func check(_ checks: inout ConfigChecks) {
    checks.layerSizes("hidden_sizes", hiddenSizes)
    checks.nonNegative("learning_rate", learningRate)
  }
  /// CORL any_percent_bc.py.
  public static var referenceNames: [String: String] { ["lr": "learning_rate", "hidden_dim": "hidden_sizes"] }
}
