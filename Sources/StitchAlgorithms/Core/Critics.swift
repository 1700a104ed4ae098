import StitchData
import StitchNN
import StitchTensor

/// Building blocks shared by the actor-critic algorithms (kept here, not in any one algorithm file, so algorithm
/// files never import each other).

/// N Q-functions Q_i(s, a) evaluated together as one ensemble (N = 2 is TD3/SAC's twin critic): each member is
/// an independent MLP initialised like PyTorch's `nn.Linear`, exactly as N separate critics would be.
public struct CriticEnsemble: Layer {
  public var net: EnsembleMLP

  public init(members: Int, observationDim: Int, actionDim: Int, hiddenSizes: [Int], rng: inout RandomStream) {
    net = EnsembleMLP(members: members, inputSize: observationDim + actionDim, hiddenSizes: hiddenSizes, outputSize: 1, rng: &rng)
  }

  /// Q-values `[N, B]` for observations `[B, obs]` and actions `[B, act]`.
  public func callAsFunction(_ observations: Tensor, _ actions: Tensor) -> Tensor {
    let b = observations.shape[0]
    return net(Tensor.concat([observations, actions])).reshaped([net.members, b])
  }

  public func callAsFunction(_ input: Tensor) -> Tensor { net(input) }

  /// The ensemble of members `range` alone (copies of their weights, not connected to this ensemble's
  /// gradients). For losses that read some members as constants: TD3+BC's actor maximises Q₁ only, and
  /// evaluating the whole twin critic there (then dropping Q₂) spent Q₂'s forward and backward pass for nothing
  /// (benchmarks/RESULTS.md, "TD3+BC's actor reads Q₁ alone").
  /// Each member computes exactly what it computes inside the full ensemble (its own products, same shapes).
  public func members(_ range: Range<Int>) -> CriticEnsemble {
    var copy = self
    let rows = Array(range)
    copy.visitParameters("") { _, p in p = p.detached().gathering(rows: rows) }
    copy.net = EnsembleMLP(layers: copy.net.layers)
    return copy
  }

  public mutating func visitParameters(_ prefix: String, _ visit: (String, inout Tensor) -> Void) {
    net.visitParameters(prefix, visit)
  }
}

extension Tensor {
  /// Row vector `[B]` of a `[B, 1]` column.
  public var column: Tensor { reshaped([shape[0]]) }
}
