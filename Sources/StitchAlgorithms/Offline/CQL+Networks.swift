import StitchData
import StitchNN

import StitchTensor

/// CQL's networks as CORL's `cql.py` builds them: the actor (`TanhGaussianPolicy` with its learnable log-std
/// scale and offset) and the critics' initialisation (`init_module_weights`). The update is in CQL.swift.
extension CQL {
  /// CORL's `TanhGaussianPolicy`: an MLP giving mean and raw log-std, and two learnable scalars that scale and
  /// shift the log-std before its clamp to [−20, 2].
  public struct Policy: ParameterGroup, Sendable {
    public var network: MLP
    public var logStdMultiplier: Tensor
    public var logStdOffset: Tensor

    public func callAsFunction(_ observations: Tensor) -> TanhGaussian {
      let out = network(observations)
      let d = out.shape[1] / 2
      let raw = out.slice(lastAxis: d..<(2 * d))
      return TanhGaussian(mean: out.slice(lastAxis: 0..<d), logStd: (raw * logStdMultiplier + logStdOffset).clamped(min: -20, max: 2))
    }

    public mutating func visitParameters(_ prefix: String, _ visit: (String, inout Tensor) -> Void) {
      network.visitParameters(prefix + "base_network.", visit)
      visit(prefix + "log_std_multiplier", &logStdMultiplier)
      visit(prefix + "log_std_offset", &logStdOffset)
    }
  }

  /// CORL's `init_module_weights(network, orthogonal_init)` on each critic of the pair: orthogonal hidden
  /// weights (gain √2) and output (gain 1e-2), or PyTorch's default hidden layers and a Xavier-uniform output
  /// (gain 1e-2); zero biases wherever it sets them (every orthogonal layer, and the output either way).
  static func initializeCritics(_ critics: inout CriticEnsemble, orthogonal: Bool, rng: inout RandomStream) {
    let last = critics.net.layers.count - 1
    for l in critics.net.layers.indices where orthogonal || l == last {
      let (members, rows, cols) = (critics.net.layers[l].weight.shape[0], critics.net.layers[l].weight.shape[1], critics.net.layers[l].weight.shape[2])
      var scalars: [Float] = []
      for _ in 0..<members {
        let w = orthogonal ? Initializer.orthogonal(rows: rows, cols: cols, gain: l == last ? 1e-2 : Float(2).squareRoot(), using: &rng)
                           : Initializer.xavierUniform(rows: rows, cols: cols, gain: 1e-2, using: &rng)
        scalars += w.scalars
      }
      critics.net.layers[l].weight = Tensor(shape: [members, rows, cols], scalars: scalars)
      critics.net.layers[l].bias = Tensor.zeros([members, rows])
    }
  }
}
