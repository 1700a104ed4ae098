/// E independent linear layers evaluated together: input `[E, B, in]` → output `[E, B, out]`, as E matrix
/// products (one sgemm each). Used for critic ensembles (SAC-N, EDAC) and dynamics ensembles.
///
/// Each member is initialised as PyTorch's `nn.Linear` (W, b ~ U(−1/√in, 1/√in)), as CORL's `VectorizedLinear`
/// does (algorithms/offline/edac.py, `reset_parameters`). Weight `[E, out, in]`, bias `[E, out]`.
public struct EnsembleLinear: Layer, Sendable {
  public var weight: Tensor
  public var bias: Tensor
  public var activation: Activation

  public init(members: Int, inputSize: Int, outputSize: Int, activation: Activation = .identity, rng: inout RandomStream) {
    let bound = 1 / Float(inputSize).squareRoot()
    weight = Tensor.uniform([members, outputSize, inputSize], in: -bound...bound, using: &rng)
    bias = Tensor.uniform([members, outputSize], in: -bound...bound, using: &rng)
    self.activation = activation
  }

  public var members: Int { weight.shape[0] }

  public func callAsFunction(_ input: Tensor) -> Tensor {
    Tensor.linear(input, weight: weight, bias: bias, activation: activation)
  }

  public mutating func visitParameters(_ prefix: String, _ visit: (String, inout Tensor) -> Void) {
    visit(prefix + "weight", &weight)
    visit(prefix + "bias", &bias)
  }
}
