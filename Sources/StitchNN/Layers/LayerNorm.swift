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
