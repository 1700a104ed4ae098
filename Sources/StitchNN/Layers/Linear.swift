/// A fully connected layer y = x·Wᵀ + b, with an optional fused activation.
///
/// Initialisation is PyTorch's default for `nn.Linear`, so published hyperparameters transfer unchanged:
/// `kaiming_uniform_(W, a=√5)` gives W ~ U(−1/√in, 1/√in), and b ~ U(−1/√in, 1/√in)
/// (torch/nn/modules/linear.py, `reset_parameters`). The weight is stored `[out, in]` as in PyTorch, so
/// safetensors checkpoints load there directly.
///
/// ```swift
/// var rng = RandomStream(seed: 0)
/// let layer = Linear(inputSize: 17, outputSize: 256, activation: .relu, rng: &rng)
/// let h = layer(observations)            // [B, 256]
/// ```
public struct Linear: Layer, Sendable {
  /// `[out, in]`.
  public var weight: Tensor
  /// `[out]`, or nil for a layer without bias.
  public var bias: Tensor?
  /// Applied to the affine output (fused into the same pass).
  public var activation: Activation

  public init(weight: Tensor, bias: Tensor?, activation: Activation = .identity) {
    self.weight = weight
    self.bias = bias
    self.activation = activation
  }

  /// A layer with PyTorch's default initialisation drawn from `rng`.
  public init(inputSize: Int, outputSize: Int, bias: Bool = true, activation: Activation = .identity, rng: inout RandomStream) {
    let bound = 1 / Float(inputSize).squareRoot()
    weight = Tensor.uniform([outputSize, inputSize], in: -bound...bound, using: &rng)
    self.bias = bias ? Tensor.uniform([outputSize], in: -bound...bound, using: &rng) : nil
    self.activation = activation
  }

  public var inputSize: Int { weight.shape[1] }
  public var outputSize: Int { weight.shape[0] }

  public func callAsFunction(_ input: Tensor) -> Tensor {
    Tensor.linear(input, weight: weight, bias: bias, activation: activation)
  }

  public mutating func visitParameters(_ prefix: String, _ visit: (String, inout Tensor) -> Void) {
    visit(prefix + "weight", &weight)
    if bias != nil { visit(prefix + "bias", &bias!) }
  }
}
