/// Layer normalization over the last axis with a learned scale and offset
/// (Ba et al. 2016, arXiv 1607.06450; PyTorch `nn.LayerNorm` defaults: ε = 1e-5, scale 1, offset 0).
public struct LayerNorm: Layer, Sendable {
  public var scale: Tensor
  public var offset: Tensor
  public var epsilon: Float

  public init(size: Int, epsilon: Float = 1e-5) {
    scale = Tensor.ones([size])
    offset = Tensor.zeros([size])
    self.epsilon = epsilon
  }

  public func callAsFunction(_ input: Tensor) -> Tensor {
    input.layerNormalized(epsilon: epsilon, scale: scale, offset: offset)
  }

  public mutating func visitParameters(_ prefix: String, _ visit: (String, inout Tensor) -> Void) {
    visit(prefix + "weight", &scale)
    visit(prefix + "bias", &offset)
  }
}

/// E independent layer normalizations over the last axis of `[E, B, d]` activations, each member with its own
/// learned scale and offset (`[E, 1, d]`): the LayerNorm of a critic ensemble whose members are vmapped copies of
/// one network (RLPD's `Ensemble(StateActionValue(MLP(use_layer_norm=True)))`, flax `nn.LayerNorm`, ε = 1e-6).
public struct EnsembleLayerNorm: Layer, Sendable {
  public var scale: Tensor
  public var offset: Tensor
  public var epsilon: Float

  public init(members: Int, size: Int, epsilon: Float = 1e-6) {
    scale = Tensor.ones([members, 1, size])
    offset = Tensor.zeros([members, 1, size])
    self.epsilon = epsilon
  }

  public func callAsFunction(_ input: Tensor) -> Tensor {
    input.layerNormalized(epsilon: epsilon, scale: scale, offset: offset)  // one fused node per member group
  }

  public mutating func visitParameters(_ prefix: String, _ visit: (String, inout Tensor) -> Void) {
    visit(prefix + "weight", &scale)
    visit(prefix + "bias", &offset)
  }
}
